//! The compliance report as GitHub-flavoured Markdown: the same sections and tables as the HTML
//! page, for a repository, a ticket or a review thread. Every cell is escaped with the scan
//! report's Markdown escaping, so input cannot break a table or inject markup.

use std::fmt::Write as _;

use super::{SECTIONS, Table};
use crate::compliance::{ComplianceReport, Evidence};
use crate::render::markdown::text;

/// Renders the report as Markdown.
#[must_use]
pub fn render(report: &ComplianceReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", text(&super::title(report)));
    let _ = writeln!(
        out,
        "{} {}\n",
        inline(&super::source_line(report)),
        link(&report.framework.source.url)
    );
    let _ = writeln!(out, "**{}**\n", text(&super::status_line(report)));
    let _ = writeln!(out, "{}\n", text(&super::findings_line(report)));

    for (number, (_, heading)) in SECTIONS.iter().enumerate() {
        let _ = writeln!(out, "## {}. {heading}\n", number + 1);
        match number {
            0 => table(&mut out, &super::scope_rows(report)),
            1 => match &report.exposure {
                Evidence::Assessed(e) => {
                    paragraph(&mut out, &super::exposure_line(e));
                    table(&mut out, &super::exposure_table(e));
                }
                Evidence::NotAssessed { reason } => not_assessed(&mut out, reason),
            },
            2 => controls(&mut out, report),
            3 => match &report.certificates {
                Evidence::Assessed(c) => table(&mut out, &super::certificates_table(c)),
                Evidence::NotAssessed { reason } => not_assessed(&mut out, reason),
            },
            4 => match &report.rbac {
                Evidence::Assessed(m) => {
                    table(&mut out, &super::rbac_table(m));
                    bullets(&mut out, &super::rbac_notes(m));
                }
                Evidence::NotAssessed { reason } => not_assessed(&mut out, reason),
            },
            5 => match &report.history {
                Evidence::Assessed(h) => {
                    bullets(&mut out, &super::history_lines(h));
                    out.push_str("### Changes by kind\n\n");
                    table(&mut out, &super::history_kinds_table(h));
                    out.push_str("### Changes by actor\n\n");
                    table(&mut out, &super::history_actors_table(h));
                    out.push_str("### Out-of-band, risky and refused changes\n\n");
                    table(&mut out, &super::history_notable_table(h));
                    if h.notable_omitted > 0 {
                        paragraph(&mut out, &format!("{} more not listed.", h.notable_omitted));
                    }
                }
                Evidence::NotAssessed { reason } => not_assessed(&mut out, reason),
            },
            6 => match &report.access {
                Evidence::Assessed(a) => {
                    bullets(&mut out, &super::access_lines(a));
                    out.push_str("### Files\n\n");
                    table(&mut out, &super::access_files_table(a));
                    out.push_str("### Busiest routes\n\n");
                    table(&mut out, &super::access_routes_table(a));
                    out.push_str("### Alerts by detector\n\n");
                    table(&mut out, &super::access_detectors_table(a));
                    out.push_str("### Alerts\n\n");
                    table(&mut out, &super::access_alerts_table(a));
                    if a.alerts_omitted > 0 {
                        paragraph(&mut out, &format!("{} more not listed.", a.alerts_omitted));
                    }
                }
                Evidence::NotAssessed { reason } => not_assessed(&mut out, reason),
            },
            _ => match &report.suppressions {
                Evidence::Assessed(s) => {
                    table(&mut out, &super::suppressions_table(s));
                    bullets(&mut out, &super::suppression_notes(s));
                }
                Evidence::NotAssessed { reason } => not_assessed(&mut out, reason),
            },
        }
    }
    let _ = writeln!(out, "---\n\n{}", inline(&super::colophon(report)));
    out
}

fn controls(out: &mut String, report: &ComplianceReport) {
    table(out, &super::controls_table(&report.controls));
    let mut section = "";
    for c in &report.controls {
        if c.section != section {
            section = &c.section;
            let _ = writeln!(out, "### {}\n", text(section));
        }
        let _ = writeln!(
            out,
            "#### {} {}: {}\n",
            text(&c.id),
            text(&c.title),
            c.status.label()
        );
        paragraph(out, &c.summary);
        if !c.reasons.is_empty() {
            let label = match c.status {
                crate::compliance::Status::Fail => "Fails on",
                _ => "Not assessed",
            };
            let _ = writeln!(out, "{label}:\n");
            bullets(out, &c.reasons);
        }
        if !c.gaps.is_empty() {
            out.push_str("Not assessed within it:\n\n");
            bullets(out, &c.gaps);
        }
        table(out, &super::control_parts(c));
        if !c.findings.is_empty() {
            table(out, &super::findings_table(c));
        }
    }
}

fn paragraph(out: &mut String, line: &str) {
    let _ = writeln!(out, "{}\n", inline(line));
}

fn not_assessed(out: &mut String, reason: &str) {
    let _ = writeln!(out, "Not assessed: {}.\n", inline(reason));
}

fn bullets(out: &mut String, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    for line in lines {
        let _ = writeln!(out, "- {}", inline(line));
    }
    out.push('\n');
}

/// A pipe table; a table without rows is the word "None.".
fn table(out: &mut String, t: &Table) {
    if t.rows.is_empty() {
        out.push_str("None.\n\n");
        return;
    }
    out.push('|');
    for h in &t.headers {
        let _ = write!(out, " {} |", text(h));
    }
    out.push_str("\n|");
    for i in 0..t.headers.len() {
        out.push_str(if t.numeric.contains(&i) {
            "---:|"
        } else {
            "---|"
        });
    }
    out.push('\n');
    for row in &t.rows {
        out.push('|');
        for cell in row {
            let lines: Vec<String> = cell.iter().map(|l| inline(l)).collect();
            let _ = write!(out, " {} |", lines.join("<br>"));
        }
        out.push('\n');
    }
    out.push('\n');
}

/// Escapes text, keeping `quoted` words as code spans. The backticks are Tollgate's own; one in
/// the input pairs only with another, and a code span's content is literal in Markdown, so
/// nothing in it becomes markup (a `|` is still escaped, as tables require).
fn inline(line: &str) -> String {
    let ticks = line.matches('`').count();
    if ticks < 2 {
        return text(line);
    }
    // With an odd count the last backtick has no partner and stays text.
    let pairs = ticks / 2;
    let mut out = String::with_capacity(line.len() + 8);
    let mut opened = 0;
    let mut in_code = false;
    let mut segment = String::new();
    for c in line.chars() {
        if c == '`' && (in_code || opened < pairs) {
            if in_code {
                let _ = write!(out, "`{}`", code_span(&segment));
            } else {
                out.push_str(&text(&segment));
                opened += 1;
            }
            segment.clear();
            in_code = !in_code;
        } else {
            segment.push(c);
        }
    }
    out.push_str(&text(&segment));
    out
}

fn code_span(content: &str) -> String {
    content.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// A URL as an autolink when it is plain (no spaces or angle brackets), else as escaped text.
fn link(url: &str) -> String {
    if url.starts_with("https://")
        && url
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '`' | '\\'))
    {
        format!("<{url}>")
    } else {
        text(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_keeps_paired_backticks_as_code_and_escapes_the_rest() {
        assert_eq!(
            inline("set `history.store` or_not"),
            "set `history.store` or\\_not"
        );
        assert_eq!(inline("a ` alone *x*"), "a \\` alone \\*x\\*");
        assert_eq!(inline("`a|b` <c> `d"), "`a\\|b` &lt;c&gt; \\`d");
    }

    #[test]
    fn only_plain_https_urls_become_autolinks() {
        assert_eq!(link("https://example.com/a_b"), "<https://example.com/a_b>");
        assert_eq!(link("javascript:alert(1)"), "javascript:alert(1)");
        assert_eq!(link("https://x/<y>"), "https://x/&lt;y&gt;");
    }
}
