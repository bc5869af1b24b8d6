//! `tollgate what-if`: what ingress-nginx would refuse if its validation were raised, so a
//! platform team can harden the controller without breaking routes by surprise.

use std::fmt::Write as _;
use std::process::ExitCode;

use serde_json::json;
use tollgate_core::installation::{rejected_at_level, rejected_by_strict_paths};

use crate::cli::{GlobalArgs, RulesFormat, WhatIfArgs};
use crate::{input, output};

pub fn run(args: &WhatIfArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    if args.risk_level.is_none() && !args.strict_paths {
        anyhow::bail!("say what to try: --risk-level LEVEL and/or --strict-paths");
    }
    let loaded = input::load(&args.input, global.quiet)?;
    let inv = &loaded.inventory;
    let name = |ingress: usize| {
        let o = &inv.objects[inv.ingresses[ingress].object];
        format!("{}/{}", o.ns(), o.name)
    };
    let risky = args
        .risk_level
        .map(|level| rejected_at_level(inv, level))
        .unwrap_or_default();
    let paths = if args.strict_paths {
        rejected_by_strict_paths(inv)
    } else {
        Vec::new()
    };
    let text = match args.format {
        RulesFormat::Json => {
            let doc = json!({
                "risk_level": args.risk_level.map(|l| l.as_str()),
                "strict_paths": args.strict_paths,
                "annotations": risky.iter().map(|r| json!({
                    "ingress": name(r.ingress), "annotation": r.key, "risk": r.risk.as_str(),
                })).collect::<Vec<_>>(),
                "paths": paths.iter().map(|p| json!({
                    "ingress": name(p.ingress), "path": p.path, "pointer": p.pointer,
                    "reason": p.reason,
                })).collect::<Vec<_>>(),
            });
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        RulesFormat::Table => {
            let mut out = String::new();
            if let Some(level) = args.risk_level {
                let _ = writeln!(
                    out,
                    "At annotations-risk-level {level}, ingress-nginx would refuse {} annotation{}:",
                    risky.len(),
                    if risky.len() == 1 { "" } else { "s" }
                );
                for r in &risky {
                    let _ = writeln!(out, "  {:<40} {:<60} {}", name(r.ingress), r.key, r.risk);
                }
            }
            if args.strict_paths {
                let _ = writeln!(
                    out,
                    "With strict-validate-path-type, ingress-nginx would refuse {} path{}:",
                    paths.len(),
                    if paths.len() == 1 { "" } else { "s" }
                );
                for p in &paths {
                    let _ = writeln!(out, "  {:<40} {:<30} {}", name(p.ingress), p.path, p.reason);
                }
            }
            out
        }
    };
    output::write(global.output.as_deref(), &text)?;
    let breaks = !risky.is_empty() || !paths.is_empty();
    Ok(ExitCode::from(u8::from(breaks)))
}
