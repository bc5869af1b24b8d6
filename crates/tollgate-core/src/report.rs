//! The scan report: the one structure every output format renders. Its JSON form is the public
//! interface of `tollgate scan --format json` (DESIGN §2), field for field.

use serde::Serialize;

use crate::engine::{Finding, Outcome, Skipped, Suppressed, SuppressedBy};
use crate::inventory::Inventory;
use crate::manifest::InputError;
use crate::object::ObjectRef;
use crate::rules::Severity;

/// The tool that made the report.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// `tollgate`.
    pub name: &'static str,
    /// The version.
    pub version: &'static str,
}

impl Tool {
    /// This build.
    #[must_use]
    pub fn current() -> Tool {
        Tool {
            name: "tollgate",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// Findings per severity, most severe first.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct BySeverity {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl BySeverity {
    fn add(&mut self, s: Severity) {
        match s {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Info => self.info += 1,
        }
    }

    /// The count for one severity.
    #[must_use]
    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }
}

/// Counts for the top of a report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Documents read (files) or objects listed (cluster).
    pub documents: usize,
    /// Objects of kinds Tollgate reads.
    pub objects: usize,
    /// Ingresses among them.
    pub ingresses: usize,
    /// Findings in force.
    pub findings: usize,
    /// Findings per severity.
    pub by_severity: BySeverity,
    /// Findings hidden by suppressions.
    pub suppressed: usize,
    /// Annotation suppressions refused by strict mode.
    #[serde(skip_serializing_if = "is_zero")]
    pub refused_suppressions: usize,
    /// With `--baseline-findings`: findings already in the baseline (they do not fail the run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<usize>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One finding as reports print it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportFinding {
    /// Rule name.
    pub rule: &'static str,
    /// Rule code.
    pub code: &'static str,
    /// Severity in force.
    pub severity: Severity,
    /// Rule category.
    pub category: &'static str,
    /// The object.
    pub resource: ObjectRef,
    /// Pointer to the field.
    pub path: String,
    /// File, for manifest input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line, for manifest input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column, for manifest input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
    /// Index of the source file, for renderers that quote it.
    #[serde(skip)]
    pub source: Option<usize>,
    /// Whether the finding is in the `--baseline-findings` report: reported, but not failing.
    #[serde(skip_serializing_if = "is_false")]
    pub known: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl From<&Finding> for ReportFinding {
    fn from(f: &Finding) -> Self {
        ReportFinding {
            rule: f.rule.name,
            code: f.rule.code,
            severity: f.severity,
            category: f.rule.category.as_str(),
            resource: f.resource.clone(),
            path: f.pointer.clone(),
            file: f.location.as_ref().map(|l| l.file.clone()),
            line: f.location.as_ref().map(|l| l.line),
            column: f.location.as_ref().map(|l| l.column),
            message: f.message.clone(),
            help: f.help.clone(),
            source: f.location.as_ref().map(|l| l.source),
            known: false,
        }
    }
}

/// A suppressed finding as reports list it: the finding itself (so it can still be placed in
/// its file) and the suppression that hides it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSuppression {
    /// The hidden finding.
    #[serde(flatten)]
    pub finding: ReportFinding,
    /// The stated reason.
    pub reason: String,
    /// Last day it applies, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// `config` or `annotation`.
    pub source: &'static str,
}

impl From<&Suppressed> for ReportSuppression {
    fn from(s: &Suppressed) -> Self {
        ReportSuppression {
            finding: ReportFinding::from(&s.finding),
            reason: s.reason.clone(),
            expires: s.expires.map(|d| d.to_string()),
            source: match s.by {
                SuppressedBy::Config { .. } => "config",
                SuppressedBy::Annotation => "annotation",
            },
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Which tool.
    pub tool: Tool,
    /// Counts.
    pub summary: Summary,
    /// Findings in force, in file order.
    pub findings: Vec<ReportFinding>,
    /// Suppressed findings.
    pub suppressed: Vec<ReportSuppression>,
    /// Input that could not be read.
    pub errors: Vec<InputError>,
    /// Things that did not stop the run but deserve attention (a kind that could not be listed,
    /// an expired suppression).
    pub warnings: Vec<InputError>,
    /// Rules that could not run on this input, and why.
    pub skipped: Vec<Skipped>,
}

impl Report {
    /// Marks the findings that a baseline already holds, and counts them.
    pub fn apply_baseline(&mut self, baseline: &crate::baseline::Baseline) {
        let mut known = 0;
        for f in &mut self.findings {
            f.known = baseline.contains(f);
            known += usize::from(f.known);
        }
        self.summary.known = Some(known);
    }

    /// Whether a finding not in the baseline is at or above `fail_on`.
    #[must_use]
    pub fn fails(&self, fail_on: Option<Severity>) -> bool {
        fail_on.is_some_and(|t| self.findings.iter().any(|f| !f.known && f.severity >= t))
    }

    /// Assembles a report.
    #[must_use]
    pub fn new(
        outcome: &Outcome,
        inv: &Inventory,
        documents: usize,
        errors: Vec<InputError>,
        mut warnings: Vec<InputError>,
    ) -> Report {
        let mut by_severity = BySeverity::default();
        for f in &outcome.findings {
            by_severity.add(f.severity);
        }
        warnings.extend(outcome.warnings.iter().cloned());
        Report {
            tool: Tool::current(),
            summary: Summary {
                documents,
                objects: inv.objects.len(),
                ingresses: inv.ingresses.len(),
                findings: outcome.findings.len(),
                by_severity,
                suppressed: outcome.suppressed.len(),
                refused_suppressions: outcome.refused_suppressions,
                known: None,
            },
            findings: outcome.findings.iter().map(ReportFinding::from).collect(),
            suppressed: outcome
                .suppressed
                .iter()
                .map(ReportSuppression::from)
                .collect(),
            errors,
            warnings,
            skipped: outcome.skipped.clone(),
        }
    }
}
