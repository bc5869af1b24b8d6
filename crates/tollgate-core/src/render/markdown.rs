//! `--format markdown`: the report as GitHub-flavoured Markdown, for pull-request comments and
//! the Actions step summary (`>> $GITHUB_STEP_SUMMARY`).
//!
//! A heading and a one-line summary, a table of counts by severity, the findings in one table
//! per severity (most severe first), then suppressed findings, input errors, warnings and
//! skipped rules. Everything that comes from the input (names, paths, messages quoting field
//! values) is escaped so it cannot break a table row or inject markup.

use std::fmt::Write as _;

use crate::manifest::InputError;
use crate::report::{Report, ReportFinding};
use crate::rules::Severity;

use super::text::summary_line;

/// Renders the report as Markdown.
#[must_use]
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    out.push_str("## Tollgate report\n\n");
    let _ = writeln!(out, "{}\n", text(&summary_line(report)));
    severity_table(&mut out, report);
    if report.findings.is_empty() {
        out.push_str("No findings.\n\n");
    }
    for severity in Severity::ALL_DESC {
        let findings: Vec<&ReportFinding> = report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .collect();
        if findings.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "### {} ({})\n",
            title_case(severity.as_str()),
            findings.len()
        );
        out.push_str("| Severity | Rule | Resource | Location | Message |\n");
        out.push_str("| --- | --- | --- | --- | --- |\n");
        for f in findings {
            let _ = writeln!(
                out,
                "| {} | {} {} | {} | {} | {} |",
                f.severity,
                code(f.code),
                f.rule,
                code(&f.resource.to_string()),
                location(f),
                message(&f.message),
            );
        }
        out.push('\n');
    }
    if !report.suppressed.is_empty() {
        let _ = writeln!(out, "### Suppressed ({})\n", report.suppressed.len());
        out.push_str("| Rule | Resource | By | Reason | Expires | Message |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- |\n");
        for s in &report.suppressed {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                s.finding.rule,
                code(&s.finding.resource.to_string()),
                s.source,
                text(&s.reason),
                s.expires.as_deref().unwrap_or("never"),
                message(&s.finding.message),
            );
        }
        out.push('\n');
    }
    errors_table(&mut out, "Input errors", &report.errors);
    errors_table(&mut out, "Warnings", &report.warnings);
    if !report.skipped.is_empty() {
        let _ = writeln!(out, "### Rules skipped ({})\n", report.skipped.len());
        out.push_str("| Rule | Reason |\n| --- | --- |\n");
        for s in &report.skipped {
            let _ = writeln!(out, "| {} | {} |", s.rule, text(&s.reason));
        }
        out.push('\n');
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

fn severity_table(out: &mut String, report: &Report) {
    out.push_str("| Severity | Findings |\n| --- | ---: |\n");
    for severity in Severity::ALL_DESC {
        let _ = writeln!(
            out,
            "| {severity} | {} |",
            report.summary.by_severity.get(severity)
        );
    }
    if report.summary.suppressed > 0 {
        let _ = writeln!(out, "| suppressed | {} |", report.summary.suppressed);
    }
    out.push('\n');
}

fn errors_table(out: &mut String, title: &str, errors: &[InputError]) {
    if errors.is_empty() {
        return;
    }
    let _ = writeln!(out, "### {title} ({})\n", errors.len());
    out.push_str("| Location | Message |\n| --- | --- |\n");
    for e in errors {
        let at = match (&e.file, e.line) {
            (Some(file), Some(line)) => code(&format!("{file}:{line}")),
            (Some(file), None) => code(file),
            (None, _) => String::new(),
        };
        let _ = writeln!(out, "| {at} | {} |", text(&e.message));
    }
    out.push('\n');
}

fn title_case(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `file:line` for findings from files; the JSON pointer for objects read from a cluster,
/// which have no file.
fn location(f: &ReportFinding) -> String {
    match (&f.file, f.line) {
        (Some(file), Some(line)) => code(&format!("{file}:{line}")),
        (Some(file), None) => code(file),
        (None, _) => code(&f.path),
    }
}

/// A finding message. Rules quote field values in backticks (``host `*.example.com` …``), and
/// those quotes render as code; the text between them is escaped. A message with an unpaired
/// backtick (a value that itself contains one) cannot be split reliably and is escaped whole.
fn message(m: &str) -> String {
    let parts: Vec<&str> = m.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return text(m);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { code(part) } else { text(part) })
        .collect()
}

/// Plain text for a table cell: every character that can start inline markup is escaped with a
/// backslash, HTML and entities are neutralised, and line breaks become `<br>` so the row stays
/// one line. Characters that only mean something at the start of a line (`#`, `-`, `1.`) are
/// left alone, since a cell is never the start of a line.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => {}
            '\n' => out.push_str("<br>"),
            _ => out.push(c),
        }
    }
    out
}

/// A code span holding `s` verbatim in a table cell. The fence is one backtick longer than
/// the longest run of backticks inside, and padded with spaces when `s` starts or ends with a
/// backtick, as CommonMark requires. A pipe must still be escaped: GFM splits table cells
/// before it parses code spans, and turns `\|` back into `|` inside the span.
pub(crate) fn code(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let s = s.replace(['\r', '\n'], " ");
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", s.replace('|', "\\|"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sarif::tests::{empty_report, sample_report};

    /// The cells of a GFM table row, split the way GitHub splits them: on pipes that are not
    /// escaped with a backslash.
    fn cells(row: &str) -> Vec<String> {
        let inner = row.trim().trim_start_matches('|').trim_end_matches('|');
        let mut cells = vec![String::new()];
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'|') => {
                    cells.last_mut().expect("a cell").push('|');
                    chars.next();
                }
                '|' => cells.push(String::new()),
                _ => cells.last_mut().expect("a cell").push(c),
            }
        }
        cells.into_iter().map(|c| c.trim().to_owned()).collect()
    }

    fn finding_rows(md: &str) -> Vec<&str> {
        md.lines()
            .filter(|l| l.starts_with("| ") && (l.contains("`TG") || l.contains("``TG")))
            .collect()
    }

    #[test]
    fn a_pipe_in_a_message_does_not_split_the_row() {
        let mut report = sample_report();
        report.findings[0].message = "host `a|b.example.com` is odd | really".to_owned();
        let md = render(&report);
        for row in finding_rows(&md) {
            assert_eq!(cells(row).len(), 5, "{row}");
        }
        let row = finding_rows(&md)
            .into_iter()
            .find(|r| r.contains("a\\|b"))
            .expect("the row of the edited finding");
        assert_eq!(cells(row)[4], "host `a|b.example.com` is odd | really");
    }

    #[test]
    fn a_pipe_in_a_suppression_reason_does_not_split_the_row() {
        let report = sample_report();
        assert!(report.suppressed[0].reason.contains('|'));
        let md = render(&report);
        let row = md
            .lines()
            .find(|l| l.contains("retired with the old shop"))
            .expect("the suppression row");
        assert_eq!(cells(row).len(), 6, "{row}");
    }

    #[test]
    fn backticks_inside_values_keep_the_code_span_closed() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code("a|b"), "`a\\|b`");
        // An unpaired backtick cannot mark a code span, so the whole message is plain text.
        assert_eq!(
            message("host `a` and ` stray"),
            "host \\`a\\` and \\` stray"
        );
        assert_eq!(message("host `a*b` is *bad*"), "host `a*b` is \\*bad\\*");
    }

    #[test]
    fn markup_and_line_breaks_in_text_are_neutralised() {
        assert_eq!(text("<script>x</script>"), "&lt;script&gt;x&lt;/script&gt;");
        assert_eq!(text("one\ntwo"), "one<br>two");
        assert_eq!(text("[link](http://x)"), "\\[link\\](http://x)");
    }

    #[test]
    fn findings_are_grouped_by_severity_most_severe_first() {
        let report = sample_report();
        let md = render(&report);
        let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("### ")).collect();
        let positions: Vec<usize> = Severity::ALL_DESC
            .iter()
            .filter_map(|s| {
                let heading = format!("### {} (", title_case(s.as_str()));
                headings.iter().position(|h| h.starts_with(&heading))
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{headings:?}");
        assert_eq!(finding_rows(&md).len(), report.findings.len());
    }

    #[test]
    fn an_empty_report_says_so() {
        let md = render(&empty_report());
        assert!(md.contains("No findings."));
        assert!(!md.contains("### "));
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&sample_report()));
    }
}
