//! `--format junit`: the report as JUnit XML, for CI systems that show test results (GitLab,
//! Jenkins, Azure Pipelines, Buildkite) but not SARIF.
//!
//! The mapping (DESIGN §2): one test suite per rule, named `TG101 wildcard-host`, and one test
//! case per rule and resource. A resource the rule flagged is a failing case that lists every
//! finding of that rule on it; a rule that flagged nothing is one passing case named after the
//! rule, so a dashboard shows what was checked and not only what failed. A rule that could not
//! run is one skipped case with the reason. Input errors go in a last suite, `input`, one
//! erroring case each.

use std::fmt::Write as _;

use quick_junit::{NonSuccessKind, Report as JunitReport, TestCase, TestCaseStatus, TestSuite};

use crate::manifest::InputError;
use crate::object::ObjectRef;
use crate::report::{Report, ReportFinding};
use crate::rules::{RuleMeta, registry};

/// The name of the suite that holds input errors.
pub const INPUT_SUITE: &str = "input";

/// Renders the report as JUnit XML, taking every rule of the catalog that was not skipped as
/// having run, which is true of a run without `--select` or `--ignore`. Use [`render_selected`]
/// when the run selected rules, so unselected rules do not show as passing.
#[must_use]
pub fn render(report: &Report) -> String {
    render_selected(report, |_| true)
}

/// Renders the report as JUnit XML for a run that enabled only some rules.
///
/// The report records which rules were skipped but not which were selected, so the caller says
/// which rules the run enabled: `ran` is typically
/// `|m| run_options.enables(m)` with the run's [`crate::engine::RunOptions`]. A rule
/// with findings is shown whatever `ran` says.
#[must_use]
pub fn render_selected(report: &Report, ran: impl Fn(&RuleMeta) -> bool) -> String {
    let mut junit = JunitReport::new("tollgate");
    for rule in registry::all() {
        let meta = rule.meta();
        if let Some(skipped) = report.skipped.iter().find(|s| s.rule == meta.name) {
            let mut status = TestCaseStatus::skipped();
            status.set_message(skipped.reason.as_str());
            let mut suite = rule_suite(meta);
            suite.add_test_case(rule_case(meta, meta.name, status));
            junit.add_test_suite(suite);
            continue;
        }
        let findings: Vec<&ReportFinding> = report
            .findings
            .iter()
            .filter(|f| f.rule == meta.name)
            .collect();
        if findings.is_empty() && !ran(meta) {
            continue;
        }
        let mut suite = rule_suite(meta);
        if findings.is_empty() {
            suite.add_test_case(rule_case(meta, meta.name, TestCaseStatus::success()));
        }
        for (resource, group) in by_resource(&findings) {
            suite.add_test_case(rule_case(meta, &resource.to_string(), failure(&group)));
        }
        junit.add_test_suite(suite);
    }
    if !report.errors.is_empty() {
        let mut suite = TestSuite::new(INPUT_SUITE);
        for (i, e) in report.errors.iter().enumerate() {
            suite.add_test_case(input_case(i, e));
        }
        junit.add_test_suite(suite);
    }
    let mut xml = junit.to_string().expect("the JUnit report serializes");
    if !xml.ends_with('\n') {
        xml.push('\n');
    }
    xml
}

fn rule_suite(meta: &RuleMeta) -> TestSuite {
    let mut suite = TestSuite::new(format!("{} {}", meta.code, meta.name));
    suite.add_property(("category", meta.category.as_str()));
    suite.add_property(("default-severity", meta.severity.as_str()));
    suite
}

fn rule_case(meta: &RuleMeta, name: &str, status: TestCaseStatus) -> TestCase {
    let mut case = TestCase::new(name, status);
    // Dashboards group cases by class name; the rule name keeps each rule's cases together
    // when suites are flattened.
    case.set_classname(meta.name);
    case
}

/// Findings grouped by resource, in the order the resources first appear in the report.
fn by_resource<'a>(findings: &[&'a ReportFinding]) -> Vec<(&'a ObjectRef, Vec<&'a ReportFinding>)> {
    let mut groups: Vec<(&ObjectRef, Vec<&ReportFinding>)> = Vec::new();
    for f in findings {
        match groups.iter_mut().find(|(r, _)| **r == f.resource) {
            Some((_, group)) => group.push(f),
            None => groups.push((&f.resource, vec![f])),
        }
    }
    groups
}

/// A failure holding every finding of one rule on one resource: the type is the highest
/// severity among them, the message the first finding's, and the text one line per finding.
fn failure(group: &[&ReportFinding]) -> TestCaseStatus {
    let severity = group
        .iter()
        .map(|f| f.severity)
        .max()
        .expect("a group is never empty");
    let mut text = String::new();
    for f in group {
        let at = match (&f.file, f.line, f.column) {
            (Some(file), Some(line), Some(col)) => format!("{file}:{line}:{col}"),
            (Some(file), Some(line), None) => format!("{file}:{line}"),
            (Some(file), None, _) => file.clone(),
            (None, ..) => f.resource.to_string(),
        };
        let _ = writeln!(text, "{at}: {} {}: {}", f.severity, f.path, f.message);
        let _ = writeln!(text, "  help: {}", f.help);
    }
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status
        .set_type(severity.as_str())
        .set_message(group[0].message.as_str())
        .set_description(text);
    status
}

/// An input error is an `<error>`, not a `<failure>`: nothing was judged, the input could not
/// be read.
fn input_case(i: usize, e: &InputError) -> TestCase {
    let name = match (&e.file, e.line) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        (Some(file), None) => file.clone(),
        (None, _) => format!("input error {}", i + 1),
    };
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status
        .set_type("input-error")
        .set_message(e.message.as_str())
        .set_description(e.to_string());
    let mut case = TestCase::new(name, status);
    case.set_classname(INPUT_SUITE);
    case
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::render::sarif::tests::{SAMPLE_RULES, empty_report, sample_report};

    fn sample_ran(meta: &RuleMeta) -> bool {
        SAMPLE_RULES.iter().any(|s| meta.selected_by(s))
    }

    fn count(xml: &str, needle: &str) -> usize {
        xml.matches(needle).count()
    }

    #[test]
    fn one_failing_case_per_rule_and_resource_and_one_passing_case_per_clean_rule() {
        let report = sample_report();
        let xml = render_selected(&report, sample_ran);
        let flagged: BTreeSet<(&str, &ObjectRef)> = report
            .findings
            .iter()
            .map(|f| (f.rule, &f.resource))
            .collect();
        let rules_with_findings: BTreeSet<&str> = flagged.iter().map(|(r, _)| *r).collect();
        let clean_rules = SAMPLE_RULES
            .iter()
            .filter(|r| !rules_with_findings.contains(*r))
            .count();
        assert!(
            flagged.len() < report.findings.len(),
            "the sample has a resource with two findings"
        );
        assert!(clean_rules > 0, "the sample has a rule that found nothing");
        assert_eq!(count(&xml, "<failure"), flagged.len());
        assert_eq!(count(&xml, "<error"), report.errors.len());
        assert_eq!(count(&xml, "<skipped"), report.skipped.len());
        assert_eq!(
            count(&xml, "<testcase"),
            flagged.len() + clean_rules + report.errors.len() + report.skipped.len()
        );
        assert_eq!(
            count(&xml, "<testsuite "),
            SAMPLE_RULES.len() + report.skipped.len() + 1,
            "one suite per rule that ran or was skipped, and the input suite"
        );
    }

    #[test]
    fn a_failing_case_lists_every_finding_of_its_rule_on_its_resource_with_file_and_line() {
        let report = sample_report();
        let xml = render_selected(&report, sample_ran);
        let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
        for f in report.findings.iter().filter(|f| f.file.is_some()) {
            let suite = parsed
                .test_suites
                .iter()
                .find(|s| s.name.as_str() == format!("{} {}", f.code, f.rule))
                .expect("a suite for the rule");
            let case = suite
                .test_cases
                .iter()
                .find(|c| c.name.as_str() == f.resource.to_string())
                .expect("a case for the resource");
            let TestCaseStatus::NonSuccess {
                description, ty, ..
            } = &case.status
            else {
                panic!("{} fails", case.name.as_str());
            };
            let text = description.as_ref().expect("a description").as_str();
            let at = format!(
                "{}:{}:{}",
                f.file.as_deref().expect("a file"),
                f.line.expect("a line"),
                f.column.expect("a column")
            );
            assert!(
                text.contains(&format!("{at}: {} {}: {}", f.severity, f.path, f.message)),
                "{text}"
            );
            assert!(ty.is_some());
        }
    }

    #[test]
    fn rules_that_did_not_run_are_left_out() {
        let xml = render_selected(&empty_report(), |m| m.name == "wildcard-host");
        assert_eq!(count(&xml, "<testsuite "), 1);
        assert_eq!(count(&xml, "<testcase"), 1);
        assert_eq!(count(&xml, "<failure"), 0);
    }

    #[test]
    fn without_a_selection_every_rule_not_skipped_is_a_suite() {
        let report = sample_report();
        let xml = render(&report);
        let catalog = registry::all().len();
        assert!(report.skipped.len() < catalog);
        assert_eq!(
            count(&xml, "<testsuite "),
            catalog + 1,
            "the catalog and the input suite"
        );
        assert_eq!(count(&xml, "<skipped"), report.skipped.len());
    }

    #[test]
    fn xml_special_characters_in_messages_are_escaped() {
        let mut report = sample_report();
        report.findings[0].message = r#"host `<a&b>` is "quoted" & 'odd'"#.to_owned();
        let xml = render_selected(&report, sample_ran);
        assert!(!xml.contains("<a&b>"), "raw markup leaked into the XML");
        assert!(xml.contains("&lt;a&amp;b&gt;"));
        let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
        let messages: Vec<&str> = parsed
            .test_suites
            .iter()
            .flat_map(|s| &s.test_cases)
            .filter_map(|c| match &c.status {
                TestCaseStatus::NonSuccess { message, .. } => message.as_ref().map(|m| m.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            messages.contains(&report.findings[0].message.as_str()),
            "{messages:?}"
        );
    }

    #[test]
    fn snapshot() {
        let xml = render_selected(&sample_report(), sample_ran);
        insta::assert_snapshot!(xml);
    }
}
