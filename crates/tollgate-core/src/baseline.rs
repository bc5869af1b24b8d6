//! Baselines: adopting Tollgate on a large estate without fixing everything first.
//!
//! `tollgate scan --baseline-findings old.json` reads a previous `--format json` report. Findings
//! already in it are *known*: still reported, but they no longer fail the run; only new ones do.
//! A finding is the same as a baseline finding when the rule and the object are the same and
//! either the field pointer or the message is: so a finding survives its file being re-ordered or
//! re-indented, and survives a list growing in front of it as long as its message is unchanged.

use std::collections::HashSet;

use serde::Deserialize;

use crate::report::ReportFinding;

/// The findings of a previous report.
#[derive(Debug, Default)]
pub struct Baseline {
    by_path: HashSet<(String, String, String, String, String)>,
    by_message: HashSet<(String, String, String, String, String)>,
}

#[derive(Deserialize)]
struct OldReport {
    findings: Vec<OldFinding>,
}

#[derive(Deserialize)]
struct OldFinding {
    rule: String,
    resource: OldResource,
    path: String,
    message: String,
}

#[derive(Deserialize)]
struct OldResource {
    kind: String,
    #[serde(default)]
    namespace: Option<String>,
    name: String,
}

impl Baseline {
    /// Reads a report written by `tollgate scan --format json`.
    ///
    /// # Errors
    /// When the text is not such a report.
    pub fn from_report_json(text: &str) -> Result<Baseline, String> {
        let old: OldReport = serde_json::from_str(text)
            .map_err(|e| format!("not a `tollgate scan --format json` report: {e}"))?;
        let mut baseline = Baseline::default();
        for f in old.findings {
            let ns = f.resource.namespace.unwrap_or_default();
            baseline.by_path.insert((
                f.rule.clone(),
                f.resource.kind.clone(),
                ns.clone(),
                f.resource.name.clone(),
                f.path,
            ));
            baseline
                .by_message
                .insert((f.rule, f.resource.kind, ns, f.resource.name, f.message));
        }
        Ok(baseline)
    }

    /// Whether the finding was already in the baseline.
    #[must_use]
    pub fn contains(&self, f: &ReportFinding) -> bool {
        let key = |last: &str| {
            (
                f.rule.to_owned(),
                f.resource.kind.clone(),
                f.resource.namespace.clone().unwrap_or_default(),
                f.resource.name.clone(),
                last.to_owned(),
            )
        };
        self.by_path.contains(&key(&f.path)) || self.by_message.contains(&key(&f.message))
    }

    /// How many findings the baseline holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    /// Whether the baseline holds no findings.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::ObjectRef;
    use crate::rules::Severity;

    fn finding(path: &str, message: &str) -> ReportFinding {
        ReportFinding {
            rule: "wildcard-host",
            code: "TG101",
            severity: Severity::High,
            category: "exposure",
            resource: ObjectRef {
                api_version: "networking.k8s.io/v1".into(),
                kind: "Ingress".into(),
                namespace: Some("shop".into()),
                name: "web".into(),
            },
            path: path.into(),
            file: None,
            line: None,
            column: None,
            message: message.into(),
            help: String::new(),
            source: None,
            known: false,
        }
    }

    const OLD: &str = r#"{"findings": [{"rule": "wildcard-host",
        "resource": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "namespace": "shop", "name": "web"},
        "path": "/spec/rules/0/host", "message": "host `*.a.com` matches every subdomain"}]}"#;

    #[test]
    fn a_finding_is_known_by_its_pointer_or_by_its_message() {
        let b = Baseline::from_report_json(OLD).unwrap();
        assert!(b.contains(&finding("/spec/rules/0/host", "changed wording")));
        assert!(b.contains(&finding(
            "/spec/rules/3/host",
            "host `*.a.com` matches every subdomain"
        )));
        assert!(!b.contains(&finding(
            "/spec/rules/1/host",
            "host `*.b.com` matches every subdomain"
        )));
    }

    #[test]
    fn other_objects_and_rules_are_new() {
        let b = Baseline::from_report_json(OLD).unwrap();
        let mut other = finding("/spec/rules/0/host", "x");
        other.resource.name = "api".into();
        assert!(!b.contains(&other));
        let mut rule = finding("/spec/rules/0/host", "x");
        rule.rule = "empty-host";
        assert!(!b.contains(&rule));
    }

    #[test]
    fn something_else_is_an_error() {
        assert!(Baseline::from_report_json("[1, 2]").is_err());
        assert!(Baseline::from_report_json("{\"runs\": []}").is_err());
    }
}
