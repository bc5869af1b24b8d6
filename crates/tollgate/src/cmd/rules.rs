//! `tollgate rules`: the catalog, or one rule explained.

use std::process::ExitCode;

use anyhow::anyhow;
use comfy_table::{ContentArrangement, Table, presets};
use serde_json::json;
use tollgate_core::rules::registry;

use crate::cli::{GlobalArgs, RulesArgs, RulesFormat};
use crate::output;

pub fn run(args: &RulesArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let text = match &args.rule {
        Some(name) => {
            let rule = registry::find(name).ok_or_else(|| {
                anyhow!("no rule named `{name}` (see `tollgate rules` for the catalog)")
            })?;
            let m = rule.meta();
            match args.format {
                RulesFormat::Json => serde_json::to_string_pretty(&rule_json(m))? + "\n",
                RulesFormat::Table => format!(
                    "{} ({}) · {} · default severity {}\n\n{}",
                    m.name,
                    m.code,
                    m.category,
                    m.severity,
                    m.docs()
                ),
            }
        }
        None => match args.format {
            RulesFormat::Json => {
                let all: Vec<_> = registry::all()
                    .iter()
                    .map(|r| rule_json(r.meta()))
                    .collect();
                serde_json::to_string_pretty(&all)? + "\n"
            }
            RulesFormat::Table => {
                let mut table = Table::new();
                table
                    .load_style(presets::NOTHING)
                    .set_content_arrangement(ContentArrangement::Dynamic)
                    .set_header(["Code", "Name", "Category", "Severity", "Summary"]);
                for r in registry::all() {
                    let m = r.meta();
                    table.add_row([
                        m.code,
                        m.name,
                        m.category.as_str(),
                        m.severity.as_str(),
                        m.summary,
                    ]);
                }
                format!(
                    "{table}\n{} rules. `tollgate rules NAME` explains one.\n",
                    registry::all().len()
                )
            }
        },
    };
    output::write(global.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

fn rule_json(m: &tollgate_core::rules::RuleMeta) -> serde_json::Value {
    json!({
        "code": m.code,
        "name": m.name,
        "category": m.category,
        "severity": m.severity,
        "summary": m.summary,
        "since": m.since,
        "needs": m.needs,
        "docs": m.docs(),
    })
}
