//! `tollgate scan`: audit manifests or a live cluster against the rule catalog.

use std::process::ExitCode;

use anyhow::Context as _;
use tollgate_core::baseline::Baseline;
use tollgate_core::engine::{self, RunOptions};
use tollgate_core::render;
use tollgate_core::report::Report;
use tollgate_core::rules::{Severity, registry};

use crate::cli::{GlobalArgs, ScanArgs, ScanFormat};
use crate::{input, output};

pub fn run(args: &ScanArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let mut config = input::config(global.config.as_deref())?;
    for selector in args.select.iter().chain(&args.ignore) {
        if !registry::all()
            .iter()
            .any(|r| r.meta().selected_by(selector))
        {
            anyhow::bail!("unknown rule, code or category `{selector}` (see `tollgate rules`)");
        }
    }
    config.strict |= args.strict;
    let loaded = input::load(&args.input, global.quiet)?;
    let now = args.at.unwrap_or_else(jiff::Timestamp::now);
    let run_options = RunOptions {
        config: &config,
        select: &args.select,
        ignore: &args.ignore,
        now,
    };
    let outcome = engine::run(&loaded.inventory, &run_options);
    let fail_on = match args.fail_on {
        Some(f) => f.0,
        None => config.fail_on.unwrap_or(Some(Severity::High)),
    };
    let mut report = Report::new(
        &outcome,
        &loaded.inventory,
        loaded.documents,
        loaded.errors,
        loaded.warnings,
    );
    if let Some(path) = &args.baseline_findings {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the baseline {}", path.display()))?;
        let baseline = Baseline::from_report_json(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        report.apply_baseline(&baseline);
    }
    let failed = report.fails(fail_on);
    let text = match args.format {
        ScanFormat::Table => render::text::render(
            &report,
            &loaded.inventory.sources,
            render::text::TextOptions {
                color: output::use_color(global.color, global.output.as_deref()),
                no_snippets: false,
            },
        ),
        ScanFormat::Json => render::json::render(&report),
        ScanFormat::Sarif => render::sarif::render(&report),
        ScanFormat::Junit => render::junit::render_selected(&report, |m| run_options.enables(m)),
        ScanFormat::Markdown => render::markdown::render(&report),
        ScanFormat::Github => render::github::render(&report),
    };
    output::write(global.output.as_deref(), &text)?;
    if !global.quiet && args.format != ScanFormat::Table && !report.errors.is_empty() {
        // Machine formats carry the errors inside; say so on the terminal too.
        eprintln!(
            "tollgate: {} input error(s); see the report's `errors`",
            report.errors.len()
        );
    }
    Ok(ExitCode::from(u8::from(failed)))
}
