//! `tollgate rbac who-can` and `tollgate rbac review`: who may change what is exposed.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::anyhow;
use comfy_table::{Attribute, Cell, ContentArrangement, Table, presets};
use tollgate_core::rbac::review::{self, Holder, Review};
use tollgate_core::rbac::{Answer, Grant, Latent, Policy, Query};

use crate::cli::{GlobalArgs, RbacArgs, RbacCommand, RbacReviewArgs, RulesFormat, WhoCanArgs};
use crate::input::Loaded;
use crate::{input, output};

pub fn run(args: &RbacArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        RbacCommand::WhoCan(a) => who_can(a, global),
        RbacCommand::Review(a) => review(a, global),
    }
}

fn load(input: &crate::cli::RbacInputArgs, global: &GlobalArgs) -> anyhow::Result<Loaded> {
    let loaded = input::load(&input.input(), global.quiet)?;
    for e in loaded.errors.iter().chain(&loaded.warnings) {
        if !global.quiet {
            eprintln!("tollgate: {e}");
        }
    }
    Ok(loaded)
}

fn who_can(args: &WhoCanArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    // Parse the question before reading anything: a typo is a usage error, not a slow one.
    let mut query = Query::parse(&args.verb, &args.resource).map_err(|e| anyhow!(e))?;
    if let Some(ns) = &args.namespace {
        query = query.in_namespace(ns);
    }
    if let Some(name) = &args.name {
        query = query.named(name);
    }
    let loaded = load(&args.input, global)?;
    let mut answer = Policy::new(&loaded.inventory).who_can(&query);
    if args.hide_builtin {
        answer.grants.retain(|g| !g.builtin);
    }
    let color = output::use_color(global.color, global.output.as_deref());
    let text = match args.format {
        RulesFormat::Json => serde_json::to_string_pretty(&answer)? + "\n",
        RulesFormat::Table => who_can_table(&answer, color),
    };
    output::write(global.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

fn review(args: &RbacReviewArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let loaded = load(&args.input, global)?;
    let mut review = review::review(&loaded.inventory);
    if args.hide_builtin {
        for row in &mut review.rows {
            row.holders.retain(|h| !h.builtin);
        }
    }
    let color = output::use_color(global.color, global.output.as_deref());
    let text = match args.format {
        RulesFormat::Json => serde_json::to_string_pretty(&review)? + "\n",
        RulesFormat::Table => review_table(&review, color),
    };
    output::write(global.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

fn new_table(color: bool, header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .force_no_tty();
    if color {
        table.enforce_styling();
    }
    table.set_header(
        header
            .iter()
            .map(|h| Cell::new(h).add_attribute(Attribute::Bold)),
    );
    // Two spaces between columns and none before the first, as `tollgate map` prints.
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    table
}

/// A row's cells, dimmed when they are Kubernetes' own.
fn cells<const N: usize>(values: [String; N], dim: bool) -> Vec<Cell> {
    values
        .into_iter()
        .map(|v| {
            let c = Cell::new(v);
            if dim {
                c.add_attribute(Attribute::Dim)
            } else {
                c
            }
        })
        .collect()
}

fn class_text(class: tollgate_core::rbac::SubjectClass, builtin: bool) -> String {
    if builtin {
        "built-in".into()
    } else {
        class.as_str().into()
    }
}

fn subject_text(g: &Grant) -> String {
    match g.subject.reach() {
        Some(reach) => format!("{} ({reach})", g.subject),
        None => g.subject.to_string(),
    }
}

fn rule_text(g: &Grant) -> String {
    let mut s = format!("{} → {}", g.binding, g.role);
    if g.rule.role != g.role {
        let _ = write!(s, " (from {})", g.rule.role.name);
    }
    let _ = write!(s, " rules[{}]: {}", g.rule.index, g.rule.text);
    if g.assumed {
        s.push_str(" [Kubernetes default, assumed]");
    }
    s
}

fn who_can_table(answer: &Answer, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Who can {}\n", answer.query.describe());
    if answer.grants.is_empty() {
        out.push_str("No binding allows it.\n\n");
    } else {
        let mut table = new_table(color, &["SUBJECT", "KIND", "WHERE", "GRANTED BY"]);
        for g in &answer.grants {
            table.add_row(cells(
                [
                    subject_text(g),
                    class_text(g.class, g.builtin),
                    g.scope.to_string(),
                    rule_text(g),
                ],
                g.builtin,
            ));
        }
        for line in table.to_string().lines() {
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out.push('\n');
    }
    footer(
        &mut out,
        answer.always_allowed.first(),
        &answer.latent,
        &answer.limits,
    );
    let outside = answer.grants.iter().filter(|g| !g.builtin).count();
    let _ = writeln!(
        out,
        "\n{} grant{} ({} outside Kubernetes' own components).",
        answer.grants.len(),
        if answer.grants.len() == 1 { "" } else { "s" },
        outside
    );
    out
}

fn holder_where(h: &Holder) -> String {
    let mut places: Vec<String> = h.grants.iter().map(|g| g.scope.to_string()).collect();
    places.dedup();
    places.join(", ")
}

/// The verbs a holder has; with the resources too when the row asks about several.
fn holder_verbs(h: &Holder, several_resources: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    for g in &h.grants {
        let verbs = g.verbs.join(", ");
        let part = if several_resources {
            let resources: Vec<&str> = g
                .resources
                .iter()
                .map(|r| r.split(' ').next().unwrap_or(r))
                .collect();
            format!("{verbs} on {}", resources.join(", "))
        } else {
            verbs
        };
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    parts.join("; ")
}

fn holder_via(h: &Holder) -> String {
    h.grants
        .iter()
        .map(|g| {
            let mut s = format!("{} → {}", g.binding, g.role);
            if g.assumed {
                s.push_str(" (default)");
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn review_table(review: &Review, color: bool) -> String {
    let mut out = String::new();
    out.push_str("Who can change what is exposed\n");
    for row in &review.rows {
        let _ = writeln!(out, "\n== {} ==\n   {}", row.title, row.why);
        if row.holders.is_empty() {
            out.push_str("   nobody but system:masters\n");
            continue;
        }
        let mut table = new_table(color, &["SUBJECT", "KIND", "WHERE", "VERBS", "GRANTED BY"]);
        for h in &row.holders {
            let subject = match &h.reach {
                Some(reach) => format!("{} ({reach})", h.subject),
                None => h.subject.to_string(),
            };
            let kind = match &h.ingress_controller {
                Some(c) => format!(
                    "{} (ingress controller: {c})",
                    class_text(h.class, h.builtin)
                ),
                None => class_text(h.class, h.builtin),
            };
            table.add_row(cells(
                [
                    subject,
                    kind,
                    holder_where(h),
                    holder_verbs(h, row.checks.len() > 1),
                    holder_via(h),
                ],
                h.builtin,
            ));
        }
        for line in table.to_string().lines() {
            let _ = writeln!(out, "   {}", line.trim_end());
        }
    }
    out.push('\n');
    footer(
        &mut out,
        review.always_allowed.first(),
        &review.latent,
        &review.limits,
    );
    let people: std::collections::BTreeSet<String> = review
        .rows
        .iter()
        .flat_map(|r| r.holders.iter())
        .filter(|h| !h.builtin)
        .map(|h| h.subject.to_string())
        .collect();
    let _ = writeln!(
        out,
        "\n{} permissions reviewed; {} subject{} outside Kubernetes' own components hold at least one.",
        review.rows.len(),
        people.len(),
        if people.len() == 1 { "" } else { "s" }
    );
    out
}

fn footer(
    out: &mut String,
    always: Option<&tollgate_core::rbac::AlwaysAllowed>,
    latent: &[Latent],
    limits: &[String],
) {
    if let Some(a) = always {
        let _ = writeln!(out, "Always allowed: {} ({}).", a.subject, a.reason);
    }
    if !latent.is_empty() {
        let _ = writeln!(
            out,
            "\nLatent: bindings to roles that do not exist grant nothing until a role of that name is created:"
        );
        for l in latent {
            let _ = writeln!(
                out,
                "  {} ({}): {} → {}: {}",
                l.subject, l.scope, l.binding, l.role, l.reason
            );
        }
    }
    let _ = writeln!(out, "\nLimits:");
    for l in limits {
        let _ = writeln!(out, "  - {l}");
    }
}
