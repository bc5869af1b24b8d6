//! `--format github`: GitHub Actions workflow commands, one line per finding, which the runner
//! turns into annotations on the pull request's changed files:
//!
//! ```text
//! ::error file=deploy/web.yaml,line=12,col=11,title=TG101 wildcard-host::host `*.example.com` matches every subdomain%0AIngress shop/web at /spec/rules/0/host%0Ahelp: name each host explicitly
//! ```
//!
//! Critical and high findings are errors, medium ones warnings, low and info notices. Findings
//! from a live cluster have no file and become annotations on the run itself. Input errors are
//! errors and warnings are warnings; suppressed findings are left out, since they were accepted.
//!
//! Escaping follows the Actions toolkit (`@actions/core`, `command.ts`): in the message `%`,
//! CR and LF are percent-encoded, and in property values `:` and `,` as well, since those
//! delimit properties.

use std::fmt::Write as _;

use crate::manifest::InputError;
use crate::report::{Report, ReportFinding};
use crate::rules::Severity;

/// Renders the report as workflow commands, one per line.
#[must_use]
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        command(
            &mut out,
            command_name(f.severity),
            &finding_properties(f),
            &finding_message(f),
        );
    }
    for e in &report.errors {
        command(
            &mut out,
            "error",
            &error_properties(e, "Tollgate input error"),
            &e.message,
        );
    }
    for e in &report.warnings {
        command(
            &mut out,
            "warning",
            &error_properties(e, "Tollgate warning"),
            &e.message,
        );
    }
    out
}

/// The workflow command for a severity.
#[must_use]
pub fn command_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    }
}

fn finding_properties(f: &ReportFinding) -> Vec<(&'static str, String)> {
    let mut props = position(f.file.as_deref(), f.line, f.column);
    props.push(("title", format!("{} {}", f.code, f.rule)));
    props
}

/// The message, then the object and field, then the advice: an annotation without a file (a
/// finding from a cluster) must say on its own which object it is about.
fn finding_message(f: &ReportFinding) -> String {
    format!(
        "{}\n{} at {}\nhelp: {}",
        f.message, f.resource, f.path, f.help
    )
}

fn error_properties(e: &InputError, title: &str) -> Vec<(&'static str, String)> {
    let mut props = position(e.file.as_deref(), e.line, e.column);
    props.push(("title", title.to_owned()));
    props
}

/// `file`, `line` and `col` as far as they are known. GitHub resolves `file` against the
/// checkout, which wants forward slashes.
fn position(
    file: Option<&str>,
    line: Option<usize>,
    column: Option<usize>,
) -> Vec<(&'static str, String)> {
    let Some(file) = file else {
        return Vec::new();
    };
    let mut props = vec![("file", file.replace('\\', "/"))];
    if let Some(line) = line {
        props.push(("line", line.to_string()));
        if let Some(col) = column {
            props.push(("col", col.to_string()));
        }
    }
    props
}

fn command(out: &mut String, name: &str, props: &[(&str, String)], message: &str) {
    out.push_str("::");
    out.push_str(name);
    for (i, (key, value)) in props.iter().enumerate() {
        out.push(if i == 0 { ' ' } else { ',' });
        let _ = write!(out, "{key}={}", escape_property(value));
    }
    out.push_str("::");
    out.push_str(&escape_data(message));
    out.push('\n');
}

/// Escapes the message part of a workflow command.
#[must_use]
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
#[must_use]
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sarif::tests::{empty_report, sample_report};

    #[test]
    fn the_message_escapes_percent_and_line_breaks_but_not_colons_or_commas() {
        assert_eq!(escape_data("50% of a:b, c\r\nd"), "50%25 of a:b, c%0D%0Ad");
    }

    #[test]
    fn property_values_also_escape_colons_and_commas() {
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn one_line_per_finding_and_input_error_whatever_the_messages_contain() {
        let mut report = sample_report();
        let i = report
            .findings
            .iter()
            .position(|f| f.line.is_some())
            .expect("a file finding");
        report.findings[i].message = "100% wrong\nsecond line\r\nthird".to_owned();
        report.findings[i].file = Some("deploy/a,b:c.yaml".to_owned());
        let out = render(&report);
        assert_eq!(
            out.lines().count(),
            report.findings.len() + report.errors.len()
        );
        let first = out.lines().nth(i).expect("the edited finding's line");
        let (head, data) = first[2..].split_once("::").expect("a command");
        assert!(head.contains("file=deploy/a%2Cb%3Ac.yaml,line="), "{head}");
        assert!(
            data.starts_with("100%25 wrong%0Asecond line%0D%0Athird%0A"),
            "{data}"
        );
        // The data part may keep `:` and `,`; only the properties must not contain them raw.
        let props: Vec<&str> = head
            .split_once(' ')
            .expect("properties")
            .1
            .split(',')
            .collect();
        assert!(
            props
                .iter()
                .all(|p| p.split_once('=').is_some_and(|(_, v)| !v.contains(':')))
        );
    }

    #[test]
    fn findings_from_files_carry_file_line_and_column_and_cluster_findings_none() {
        let report = sample_report();
        let out = render(&report);
        for (f, line) in report.findings.iter().zip(out.lines()) {
            assert!(
                line.starts_with(&format!("::{} ", command_name(f.severity))),
                "{line}"
            );
            match (&f.file, f.line, f.column) {
                (Some(file), Some(l), Some(c)) => {
                    assert!(
                        line.contains(&format!("file={file},line={l},col={c},title=")),
                        "{line}"
                    );
                }
                _ => assert!(!line.contains("file=") && line.contains(&f.resource.to_string())),
            }
            assert!(
                line.contains(&format!("title={} {}::", f.code, f.rule)),
                "{line}"
            );
        }
    }

    #[test]
    fn input_errors_are_error_commands_pointing_at_the_file() {
        let report = sample_report();
        let out = render(&report);
        let e = &report.errors[0];
        let expected = format!(
            "::error file=deploy/broken.yaml,line={},",
            e.line.expect("a line")
        );
        assert!(out.lines().any(|l| l.starts_with(&expected)), "{out}");
    }

    #[test]
    fn severities_map_to_error_warning_and_notice() {
        assert_eq!(command_name(Severity::Critical), "error");
        assert_eq!(command_name(Severity::High), "error");
        assert_eq!(command_name(Severity::Medium), "warning");
        assert_eq!(command_name(Severity::Low), "notice");
        assert_eq!(command_name(Severity::Info), "notice");
    }

    #[test]
    fn an_empty_report_prints_nothing() {
        assert_eq!(render(&empty_report()), "");
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(&sample_report()));
    }
}
