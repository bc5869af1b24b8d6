//! `--format table` (the default for people): findings grouped by resource, each with the line it
//! is about and a caret under the field, then input errors, warnings, skipped rules and a
//! one-line summary. Colour only when the caller says the output is a terminal.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::manifest::{InputError, SourceFile};
use crate::object::ObjectRef;
use crate::report::{Report, ReportFinding};
use crate::rules::Severity;

/// Options for the text renderer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Emit ANSI colour.
    pub color: bool,
    /// Omit source snippets (for very long reports).
    pub no_snippets: bool,
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.wrap("2", t)
    }
    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Critical => "1;35",
            Severity::High => "1;31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.wrap(code, &format!("{:<8}", s.as_str()))
    }
}

/// Renders the report for a person.
#[must_use]
pub fn render(report: &Report, sources: &[SourceFile], opts: TextOptions) -> String {
    let paint = Paint { on: opts.color };
    let mut out = String::new();
    // Group by resource, in the order each resource first appears.
    let mut order: BTreeMap<&ObjectRef, usize> = BTreeMap::new();
    let mut groups: Vec<(&ObjectRef, Vec<&ReportFinding>)> = Vec::new();
    for f in &report.findings {
        let i = *order.entry(&f.resource).or_insert_with(|| {
            groups.push((&f.resource, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(f);
    }
    for (resource, findings) in &groups {
        let file = findings[0]
            .file
            .as_deref()
            .map(|f| format!("  {}", paint.dim(f)))
            .unwrap_or_default();
        let _ = writeln!(out, "{}{file}", paint.bold(&resource.to_string()));
        for f in findings {
            let at = match (f.line, f.column) {
                (Some(l), Some(c)) => format!("{l}:{c}"),
                _ => f.path.clone(),
            };
            let known = if f.known { " (in baseline)" } else { "" };
            let _ = writeln!(
                out,
                "  {} {} {}  {}{}",
                paint.severity(f.severity),
                paint.bold(f.code),
                f.rule,
                f.message,
                paint.dim(known)
            );
            let _ = writeln!(out, "           {} {at}", paint.dim("at"));
            if !opts.no_snippets
                && let (Some(src), Some(line), Some(col)) = (f.source, f.line, f.column)
                && let Some(text) = sources.get(src).and_then(|s| s.line(line))
            {
                let gutter = line.to_string().len();
                let _ = writeln!(
                    out,
                    "           {} {}",
                    paint.dim(&format!("{line} |")),
                    text.trim_end()
                );
                let caret_pad = " ".repeat(gutter + 3 + col.saturating_sub(1));
                let _ = writeln!(out, "           {caret_pad}{}", paint.wrap("1;31", "^"));
            }
            let _ = writeln!(out, "           {} {}", paint.dim("help:"), f.help);
        }
        out.push('\n');
    }
    if !report.errors.is_empty() {
        let _ = writeln!(out, "{}", paint.bold("Input errors"));
        for e in &report.errors {
            let _ = writeln!(out, "  {}", plain_error(e));
        }
        out.push('\n');
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(out, "{}", paint.bold("Warnings"));
        for e in &report.warnings {
            let _ = writeln!(out, "  {}", plain_error(e));
        }
        out.push('\n');
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(out, "{}", paint.bold("Rules skipped"));
        for s in &report.skipped {
            let _ = writeln!(out, "  {}: {}", s.rule, s.reason);
        }
        out.push('\n');
    }
    if !report.suppressed.is_empty() {
        let _ = writeln!(out, "{}", paint.bold("Suppressed"));
        for s in &report.suppressed {
            let expires = s
                .expires
                .as_deref()
                .map(|d| format!(", until {d}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} on {} ({}{expires}): {}",
                s.finding.rule, s.finding.resource, s.source, s.reason
            );
        }
        out.push('\n');
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

fn plain_error(e: &InputError) -> String {
    e.to_string()
}

/// "17 findings (1 critical, 6 high, …) in 40 Ingresses, 118 objects; …"
#[must_use]
pub fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let mut parts: Vec<String> = Severity::ALL_DESC
        .iter()
        .filter(|sev| s.by_severity.get(**sev) > 0)
        .map(|sev| format!("{} {sev}", s.by_severity.get(*sev)))
        .collect();
    if parts.is_empty() {
        parts.push("none".into());
    }
    let mut line = format!(
        "{} finding{} ({}) in {} Ingress{} and {} other objects from {} document{}",
        s.findings,
        if s.findings == 1 { "" } else { "s" },
        parts.join(", "),
        s.ingresses,
        if s.ingresses == 1 { "" } else { "es" },
        s.objects - s.ingresses,
        s.documents,
        if s.documents == 1 { "" } else { "s" },
    );
    if s.suppressed > 0 {
        let _ = write!(line, "; {} suppressed", s.suppressed);
    }
    if !report.errors.is_empty() {
        let _ = write!(
            line,
            "; {} input error{}",
            report.errors.len(),
            if report.errors.len() == 1 { "" } else { "s" }
        );
    }
    line
}
