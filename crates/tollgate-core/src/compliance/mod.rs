//! Compliance and review reports: one document that maps what Tollgate knows (the exposure map,
//! rule findings, certificates, RBAC, change history, access logs, suppressions) to the controls
//! of a framework, each control `pass`, `fail` or `not assessed` with the reason.
//!
//! [`build`] assembles a [`ComplianceReport`] from an inventory, the config, the instant the
//! report speaks for, and the history and access evidence the caller gathered; the renderers in
//! [`crate::render::compliance`] print it as JSON (the model itself), Markdown and HTML. Nothing
//! here reads a clock, a random source or the file system: the same inputs give the same report.
//!
//! How a control is judged:
//! - a mapped rule **fails** the control when it has a finding in force (suppressed findings and
//!   `info` notes do not fail it); it is **not assessed** when it could not run or had nothing to
//!   judge (disabled by the config, skipped because the cluster refused a kind, or none of the
//!   kinds it reads were in the input);
//! - a mapped evidence kind is assessed when it was gathered (a store was given, logs were
//!   given, RBAC objects were read, ...); a check on evidence (the history's hash chain, risky
//!   out-of-band changes, changes without an actor) fails the control when it fails. Evidence a
//!   control judges through checks counts as assessed only when one of those checks could run;
//! - the control **fails** when a rule or check fails, is **not assessed** when none of its rules
//!   and none of its evidence could be assessed, and **passes** otherwise. A passing control
//!   lists the parts that could not be assessed as gaps: `pass` means "the evidence Tollgate has
//!   shows no failure", not "certified".

pub mod evidence;
pub mod framework;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

pub use evidence::{
    AccessAlert, AccessEvidence, ActorCount, ChainStatus, ChangeEntry, Evidence, HistoryEvidence,
    InputScope, InputSource, LogFile, RouteTraffic,
};
pub use framework::{CheckKind, EvidenceKind, Framework};

use crate::config::Config;
use crate::engine::{self, Outcome, RunOptions};
use crate::inventory::{Control, Inventory, PathType};
use crate::object::Kind;
use crate::rbac::review;
use crate::render::certs::{self, CertRow};
use crate::render::map;
use crate::report::{BySeverity, ReportSuppression, Tool};
use crate::rules::{RuleMeta, Severity, registry};

/// What [`build`] reads.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// The framework to map to.
    pub framework: &'a Framework,
    /// The objects (empty when none were given).
    pub inventory: &'a Inventory,
    /// The validated config: rule selection, severities, suppressions, rule options.
    pub config: &'a Config,
    /// What was read, for the scope section.
    pub input: InputScope,
    /// The instant the report speaks for: certificate expiry and suppression expiry are judged
    /// at it, and the history period ends at it.
    pub at: Timestamp,
    /// The change history of the period, or why there is none.
    pub history: Evidence<HistoryEvidence>,
    /// The access logs, or why there are none.
    pub access: Evidence<AccessEvidence>,
}

/// The whole report. Its JSON form is the public interface of `tollgate report --format json`.
#[derive(Debug, Serialize)]
pub struct ComplianceReport {
    /// Which tool made it.
    pub tool: Tool,
    /// The framework and the document it is mapped against.
    pub framework: FrameworkInfo,
    /// The instant the report speaks for (`--at`, default the time it was made).
    pub at: Timestamp,
    /// What the evidence covers.
    pub scope: Scope,
    /// Control and finding counts.
    pub summary: Summary,
    /// Hosts and routes with their TLS and access posture.
    pub exposure: Evidence<Exposure>,
    /// Every control of the framework, in the document's order.
    pub controls: Vec<ControlResult>,
    /// The TLS Secrets routes serve.
    pub certificates: Evidence<Certificates>,
    /// Who can change what is exposed.
    pub rbac: Evidence<RbacMatrix>,
    /// The change history of the period.
    pub history: Evidence<HistoryEvidence>,
    /// The access logs.
    pub access: Evidence<AccessEvidence>,
    /// Suppressed findings with their reasons and expiry.
    pub suppressions: Evidence<Suppressions>,
}

/// The framework as the report names it.
#[derive(Debug, Serialize)]
pub struct FrameworkInfo {
    /// `--framework` name.
    pub name: String,
    /// Its usual name.
    pub title: String,
    /// The document mapped against.
    pub source: framework::Source,
    /// What is mapped and how to read it.
    pub scope: String,
}

/// What the evidence covers.
#[derive(Debug, Serialize)]
pub struct Scope {
    /// What was read.
    #[serde(flatten)]
    pub input: InputScope,
    /// Objects read.
    pub objects: usize,
    /// Ingresses among them.
    pub ingresses: usize,
    /// Kinds the cluster refused to list, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub denied: Vec<String>,
}

/// Counts for the top of the report.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Controls in the framework mapping.
    pub controls: usize,
    /// Controls that pass.
    pub pass: usize,
    /// Controls that fail.
    pub fail: usize,
    /// Controls not assessed.
    pub not_assessed: usize,
    /// Findings in force (any rule, `info` notes excluded).
    pub findings: usize,
    /// Findings in force per severity.
    pub by_severity: BySeverity,
    /// Findings hidden by suppressions.
    pub suppressed: usize,
}

/// A control's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The evidence shows no failure.
    Pass,
    /// A rule or check fails.
    Fail,
    /// Nothing that bears on it could be assessed.
    NotAssessed,
}

impl Status {
    /// The JSON name: `pass`, `fail`, `not-assessed`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotAssessed => "not-assessed",
        }
    }

    /// For people: `pass`, `fail`, `not assessed`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotAssessed => "not assessed",
        }
    }
}

/// One control, judged.
#[derive(Debug, Serialize)]
pub struct ControlResult {
    /// Its identifier in the standard.
    pub id: String,
    /// The section it belongs to.
    pub section: String,
    /// Its title.
    pub title: String,
    /// What it asks for, paraphrased.
    pub summary: String,
    /// The verdict.
    pub status: Status,
    /// Why it fails, or why it is not assessed; empty for a pass.
    pub reasons: Vec<String>,
    /// For a judged control, the parts that could not be assessed.
    pub gaps: Vec<String>,
    /// The mapped rules.
    pub rules: Vec<RuleResult>,
    /// The mapped evidence.
    pub evidence: Vec<EvidenceResult>,
    /// The evidence checks.
    pub checks: Vec<CheckResult>,
    /// Findings in force of the mapped rules, in file order.
    pub findings: Vec<ControlFinding>,
    /// Findings of the mapped rules hidden by suppressions.
    pub suppressed: usize,
}

/// A mapped rule's part in a control.
#[derive(Debug, Clone, Serialize)]
pub struct RuleResult {
    /// Rule name.
    pub rule: &'static str,
    /// Rule code.
    pub code: &'static str,
    /// `fail` with findings in force, `pass`, or `not-assessed`.
    pub status: Status,
    /// Findings in force (`info` notes excluded).
    pub findings: usize,
    /// Suppressed findings.
    pub suppressed: usize,
    /// Why it is not assessed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A mapped evidence kind's part in a control.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceResult {
    /// The kind.
    pub kind: EvidenceKind,
    /// Whether it was gathered.
    pub assessed: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An evidence check's result.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The check.
    pub check: CheckKind,
    /// Its verdict.
    pub status: Status,
    /// What it found, or why it could not run.
    pub detail: String,
}

/// A finding as a control lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ControlFinding {
    /// Rule name.
    pub rule: &'static str,
    /// Rule code.
    pub code: &'static str,
    /// Severity in force.
    pub severity: Severity,
    /// `Kind namespace/name`.
    pub resource: String,
    /// `file:line`, for manifest input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Hosts and routes.
#[derive(Debug, Serialize)]
pub struct Exposure {
    /// Distinct hosts (`*` for rules without one).
    pub hosts: usize,
    /// Routes without TLS.
    pub routes_without_tls: usize,
    /// Every route, sorted by host, path and Ingress.
    pub routes: Vec<ExposedRoute>,
}

/// One route.
#[derive(Debug, Clone, Serialize)]
pub struct ExposedRoute {
    /// The host; `*` when the rule has none.
    pub host: String,
    /// The path; `(default)` for a default backend.
    pub path: String,
    /// `Exact`, `Prefix` or `ImplementationSpecific`.
    pub path_type: PathType,
    /// `namespace/name` of the Ingress.
    pub ingress: String,
    /// The IngressClass, when one applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// The controller serving it, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<String>,
    /// `service:port`, marked `(missing)` when the Service is absent.
    pub backend: String,
    /// Ready endpoints; absent when endpoints were not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_endpoints: Option<usize>,
    /// The TLS Secret; absent without TLS, empty for the controller's default certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_secret: Option<String>,
    /// Authentication: its kind, `none`, or `unknown`.
    pub auth: String,
    /// Source allow-list.
    pub allowlist: String,
    /// Rate limit.
    pub rate_limit: String,
    /// Web application firewall.
    pub waf: String,
}

/// The certificate inventory (the rows of `tollgate certs --format json`).
#[derive(Debug, Serialize)]
pub struct Certificates {
    /// One row per TLS Secret, soonest expiry first.
    pub certificates: Vec<CertRow>,
}

/// Who can change what is exposed, as a matrix: one row per subject, one column per group of
/// permissions. Kubernetes' own identities are counted, not listed.
#[derive(Debug, Serialize)]
pub struct RbacMatrix {
    /// The column groups.
    pub columns: Vec<RbacColumn>,
    /// The subjects that hold at least one permission, widest first.
    pub subjects: Vec<RbacSubject>,
    /// Built-in subjects left out of the matrix (`tollgate rbac review` lists them).
    pub builtin_subjects: usize,
    /// Subjects allowed everything whatever RBAC says.
    pub always_allowed: Vec<String>,
    /// Bindings whose role does not exist.
    pub latent_bindings: usize,
    /// What the review cannot see.
    pub limits: Vec<String>,
}

/// A column of the RBAC matrix.
#[derive(Debug, Clone, Serialize)]
pub struct RbacColumn {
    /// Stable key (`routes`, `services`, `tls`, ...).
    pub id: &'static str,
    /// Heading.
    pub title: &'static str,
}

/// A subject's row of the RBAC matrix.
#[derive(Debug, Clone, Serialize)]
pub struct RbacSubject {
    /// `Group deployers`, `ServiceAccount ns/name`.
    pub subject: String,
    /// `user`, `group`, `service-account`, `everyone`.
    pub class: &'static str,
    /// For an ingress controller's own account: which.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress_controller: Option<String>,
    /// One list per column: the permissions held, each with where.
    pub cells: Vec<Vec<String>>,
}

/// Suppressed findings.
#[derive(Debug, Serialize)]
pub struct Suppressions {
    /// Every suppressed finding, with the reason and expiry of its suppression.
    pub entries: Vec<ReportSuppression>,
    /// Config suppressions that expired and no longer apply.
    pub expired: Vec<String>,
    /// Annotation suppressions refused in strict mode.
    pub refused: usize,
}

/// Builds the report.
#[must_use]
pub fn build(inputs: Inputs<'_>) -> ComplianceReport {
    let inv = inputs.inventory;
    let run_options = RunOptions {
        config: inputs.config,
        select: &[],
        ignore: &[],
        now: inputs.at,
    };
    let outcome = engine::run(inv, &run_options);
    let has_input = inputs.input.source != InputSource::None;
    let rule_states = rule_states(inv, &outcome, &run_options, has_input);
    let available = evidence_availability(inv, has_input, &inputs.history, &inputs.access);

    let exposure = match &available[&EvidenceKind::ExposureMap] {
        Ok(()) => Evidence::Assessed(exposure(inv)),
        Err(reason) => Evidence::missing(reason.clone()),
    };
    let certificates = match &available[&EvidenceKind::Certificates] {
        Ok(()) => Evidence::Assessed(Certificates {
            certificates: certs::rows(inv, &outcome.findings, inputs.at),
        }),
        Err(reason) => Evidence::missing(reason.clone()),
    };
    let rbac = match &available[&EvidenceKind::RbacReview] {
        Ok(()) => Evidence::Assessed(rbac_matrix(inv)),
        Err(reason) => Evidence::missing(reason.clone()),
    };
    let suppressions = match &available[&EvidenceKind::Suppressions] {
        Ok(()) => Evidence::Assessed(Suppressions {
            entries: outcome
                .suppressed
                .iter()
                .map(ReportSuppression::from)
                .collect(),
            expired: outcome.warnings.iter().map(ToString::to_string).collect(),
            refused: outcome.refused_suppressions,
        }),
        Err(reason) => Evidence::missing(reason.clone()),
    };

    let controls: Vec<ControlResult> = inputs
        .framework
        .controls
        .iter()
        .map(|c| judge(c, &rule_states, &available, &inputs.history, &outcome))
        .collect();

    let mut summary = Summary {
        controls: controls.len(),
        suppressed: outcome.suppressed.len(),
        ..Summary::default()
    };
    for c in &controls {
        match c.status {
            Status::Pass => summary.pass += 1,
            Status::Fail => summary.fail += 1,
            Status::NotAssessed => summary.not_assessed += 1,
        }
    }
    for f in outcome
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
    {
        summary.findings += 1;
        let count = match f.severity {
            Severity::Critical => &mut summary.by_severity.critical,
            Severity::High => &mut summary.by_severity.high,
            Severity::Medium => &mut summary.by_severity.medium,
            Severity::Low => &mut summary.by_severity.low,
            Severity::Info => &mut summary.by_severity.info,
        };
        *count += 1;
    }

    let framework = inputs.framework;
    ComplianceReport {
        tool: Tool::current(),
        framework: FrameworkInfo {
            name: framework.name.clone(),
            title: framework.title.clone(),
            source: framework.source.clone(),
            scope: framework.scope.clone(),
        },
        at: inputs.at,
        scope: Scope {
            input: inputs.input,
            objects: inv.objects.len(),
            ingresses: inv.ingresses.len(),
            denied: inv
                .scope
                .denied
                .iter()
                .map(|(kind, why)| format!("{kind}: {why}"))
                .collect(),
        },
        summary,
        exposure,
        controls,
        certificates,
        rbac,
        history: inputs.history,
        access: inputs.access,
        suppressions,
    }
}

/// A rule's standing in this run.
#[derive(Debug, Clone)]
struct RuleState {
    meta: &'static RuleMeta,
    status: Status,
    findings: usize,
    suppressed: usize,
    reason: Option<String>,
}

fn rule_states(
    inv: &Inventory,
    outcome: &Outcome,
    run_options: &RunOptions<'_>,
    has_input: bool,
) -> BTreeMap<&'static str, RuleState> {
    let mut states = BTreeMap::new();
    for rule in registry::all() {
        let meta = rule.meta();
        let findings = outcome
            .findings
            .iter()
            .filter(|f| f.rule.name == meta.name && f.severity > Severity::Info)
            .count();
        let suppressed = outcome
            .suppressed
            .iter()
            .filter(|s| s.finding.rule.name == meta.name)
            .count();
        let skipped = outcome.skipped.iter().find(|s| s.rule == meta.name);
        let reason = if !has_input {
            Some(NO_INPUT.to_owned())
        } else if !run_options.enables(meta) {
            Some("disabled by the config's `select` or `ignore`".to_owned())
        } else if let Some(why) = unconfigured(meta.name, &run_options.config.options) {
            Some(why.to_owned())
        } else if let Some(skipped) = skipped {
            Some(format!("skipped: {}", skipped.reason))
        } else if findings == 0
            && !meta.needs.is_empty()
            && !meta.needs.iter().any(|k| inv.scope.has(*k))
        {
            // A rule that found something judged something, whatever the scope says; one that
            // found nothing had nothing to judge.
            Some(format!(
                "no {} objects in the input",
                kinds_text(meta.needs)
            ))
        } else {
            None
        };
        let status = match (&reason, findings) {
            (Some(_), _) => Status::NotAssessed,
            (None, 0) => Status::Pass,
            (None, _) => Status::Fail,
        };
        states.insert(
            meta.name,
            RuleState {
                meta,
                status,
                findings,
                suppressed,
                reason,
            },
        );
    }
    states
}

const NO_INPUT: &str = "no manifests or cluster given";

/// Opt-in rules judge nothing until the config says what to judge; their silence then is not a
/// pass (PCI 6.4.2 must not pass because nobody listed the hosts that need a WAF).
fn unconfigured(rule: &str, options: &crate::config::RuleOptions) -> Option<&'static str> {
    match rule {
        "missing-waf" if options.waf_required_hosts.is_empty() => {
            Some("opt-in, and the config's `wafRequiredHosts` names no host")
        }
        "host-outside-allowed-domains" if options.allowed_domains.is_empty() => {
            Some("opt-in, and the config's `allowedDomains` names no domain")
        }
        _ => None,
    }
}

/// `Role, ClusterRole or RoleBinding`.
fn kinds_text(kinds: &[Kind]) -> String {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_owned(),
        None => String::new(),
    }
}

/// Whether each evidence kind was gathered, or why not.
fn evidence_availability(
    inv: &Inventory,
    has_input: bool,
    history: &Evidence<HistoryEvidence>,
    access: &Evidence<AccessEvidence>,
) -> BTreeMap<EvidenceKind, Result<(), String>> {
    let denied = |kind: Kind| {
        inv.scope
            .denied
            .get(&kind)
            .map(|why| format!("the cluster refused to list {kind} objects: {why}"))
    };
    let objects = |kinds: &[Kind]| -> Result<(), String> {
        if !has_input {
            return Err(NO_INPUT.to_owned());
        }
        if kinds.iter().all(|k| inv.scope.denied.contains_key(k)) {
            return Err(kinds.iter().find_map(|k| denied(*k)).unwrap_or_default());
        }
        if kinds.iter().any(|k| inv.scope.has(*k)) {
            Ok(())
        } else {
            Err(format!("no {} objects in the input", kinds_text(kinds)))
        }
    };
    let mut out = BTreeMap::new();
    out.insert(
        EvidenceKind::ExposureMap,
        if !has_input {
            Err(NO_INPUT.to_owned())
        } else if let Some(why) = denied(Kind::Ingress) {
            Err(why)
        } else {
            Ok(())
        },
    );
    out.insert(EvidenceKind::Certificates, objects(&[Kind::Secret]));
    out.insert(
        EvidenceKind::RbacReview,
        objects(&[
            Kind::Role,
            Kind::ClusterRole,
            Kind::RoleBinding,
            Kind::ClusterRoleBinding,
        ]),
    );
    out.insert(
        EvidenceKind::ChangeHistory,
        history.reason().map_or(Ok(()), |r| Err(r.to_owned())),
    );
    out.insert(
        EvidenceKind::AccessLogs,
        access.reason().map_or(Ok(()), |r| Err(r.to_owned())),
    );
    out.insert(
        EvidenceKind::Suppressions,
        if has_input {
            Ok(())
        } else {
            Err(NO_INPUT.to_owned())
        },
    );
    out
}

fn judge(
    control: &framework::Control,
    states: &BTreeMap<&'static str, RuleState>,
    available: &BTreeMap<EvidenceKind, Result<(), String>>,
    history: &Evidence<HistoryEvidence>,
    outcome: &Outcome,
) -> ControlResult {
    // The data files are checked against the catalog by a unit test; a name that is not in it
    // (a rule removed without updating the mapping) is skipped rather than invented.
    let rules: Vec<RuleResult> = control
        .rules
        .iter()
        .filter_map(|name| states.get(name.as_str()))
        .map(|s| RuleResult {
            rule: s.meta.name,
            code: s.meta.code,
            status: s.status,
            findings: s.findings,
            suppressed: s.suppressed,
            reason: s.reason.clone(),
        })
        .collect();
    let evidence: Vec<EvidenceResult> = control
        .evidence
        .iter()
        .map(|&kind| {
            let state = available.get(&kind).cloned().unwrap_or(Ok(()));
            EvidenceResult {
                kind,
                assessed: state.is_ok(),
                reason: state.err(),
            }
        })
        .collect();
    let checks: Vec<CheckResult> = control
        .checks
        .iter()
        .map(|&check| run_check(check, history))
        .collect();
    let findings: Vec<ControlFinding> = outcome
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Info && control.rules.iter().any(|r| r == f.rule.name))
        .map(|f| ControlFinding {
            rule: f.rule.name,
            code: f.rule.code,
            severity: f.severity,
            resource: f.resource.to_string(),
            location: f
                .location
                .as_ref()
                .map(|l| format!("{}:{}", l.file, l.line)),
            message: f.message.clone(),
        })
        .collect();
    let suppressed = rules.iter().map(|r| r.suppressed).sum();

    let mut failures = Vec::new();
    for r in rules.iter().filter(|r| r.status == Status::Fail) {
        failures.push(format!(
            "{} ({}): {} finding{}",
            r.rule,
            r.code,
            r.findings,
            plural(r.findings)
        ));
    }
    for c in checks.iter().filter(|c| c.status == Status::Fail) {
        failures.push(format!("{}: {}", c.check.as_str(), c.detail));
    }
    // Reasons for what could not be assessed, one line per reason naming what it applies to.
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &rules {
        if let Some(reason) = &r.reason {
            missing
                .entry(reason.clone())
                .or_default()
                .push(format!("rule {}", r.rule));
        }
    }
    for e in &evidence {
        if let Some(reason) = &e.reason {
            missing
                .entry(reason.clone())
                .or_default()
                .push(e.kind.as_str().to_owned());
        }
    }
    for c in checks.iter().filter(|c| c.status == Status::NotAssessed) {
        missing
            .entry(c.detail.clone())
            .or_default()
            .push(format!("check {}", c.check.as_str()));
    }
    let missing: Vec<String> = missing
        .into_iter()
        .map(|(reason, what)| format!("{}: {reason}", what.join(", ")))
        .collect();

    // Evidence that a control judges through checks counts only when one of those checks ran:
    // a history without GitOps identities says nothing about out-of-band changes.
    let evidence_judged = |e: &EvidenceResult| {
        let mut own_checks = checks
            .iter()
            .filter(|c| c.check.needs() == e.kind)
            .peekable();
        e.assessed
            && (own_checks.peek().is_none() || own_checks.any(|c| c.status != Status::NotAssessed))
    };
    let anything_assessed = rules.iter().any(|r| r.status != Status::NotAssessed)
        || evidence.iter().any(evidence_judged);
    let (status, reasons, gaps) = if let Some(why) = &control.not_covered {
        (Status::NotAssessed, vec![why.clone()], Vec::new())
    } else if !failures.is_empty() {
        (Status::Fail, failures, missing)
    } else if !anything_assessed {
        (Status::NotAssessed, missing, Vec::new())
    } else {
        (Status::Pass, Vec::new(), missing)
    };
    ControlResult {
        id: control.id.clone(),
        section: control.section.clone(),
        title: control.title.clone(),
        summary: control.summary.clone(),
        status,
        reasons,
        gaps,
        rules,
        evidence,
        checks,
        findings,
        suppressed,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn run_check(check: CheckKind, history: &Evidence<HistoryEvidence>) -> CheckResult {
    let result = |status, detail: String| CheckResult {
        check,
        status,
        detail,
    };
    let Some(h) = history.assessed() else {
        return result(
            Status::NotAssessed,
            history.reason().unwrap_or_default().to_owned(),
        );
    };
    match check {
        CheckKind::HistoryChainIntact => match (&h.chain.first_broken, h.chain.intact) {
            (_, true) => result(
                Status::Pass,
                format!("the hash chain verifies over {} record(s)", h.chain.records),
            ),
            (Some(broken), false) => result(
                Status::Fail,
                format!("the hash chain is broken at {broken}"),
            ),
            (None, false) => result(Status::Fail, "the hash chain does not verify".to_owned()),
        },
        CheckKind::NoRiskyOutOfBandChanges if !h.gitops_configured => result(
            Status::NotAssessed,
            "no GitOps identities are configured (`history.gitops`), so out-of-band changes \
             cannot be told apart"
                .to_owned(),
        ),
        CheckKind::NoRiskyOutOfBandChanges if h.risky_out_of_band == 0 => result(
            Status::Pass,
            format!(
                "none of the {} change(s) made outside the GitOps identities introduced a rule \
                 violation",
                h.out_of_band
            ),
        ),
        CheckKind::NoRiskyOutOfBandChanges => {
            let examples: Vec<String> = h
                .notable
                .iter()
                .filter(|c| c.out_of_band && !c.introduced.is_empty() && c.outcome == "applied")
                .take(3)
                .map(|c| {
                    format!(
                        "#{} {} by {} ({})",
                        c.id,
                        c.resource,
                        c.actor,
                        c.introduced.join(", ")
                    )
                })
                .collect();
            result(
                Status::Fail,
                format!(
                    "{} change(s) made outside the GitOps identities introduced rule violations: {}",
                    h.risky_out_of_band,
                    examples.join("; ")
                ),
            )
        }
        CheckKind::ChangesAttributed => {
            let unattributed = h.managed_fields_only + h.unknown_actor;
            let applied = h.changes.saturating_sub(h.denied);
            if applied == 0 {
                result(
                    Status::Pass,
                    "no applied change was recorded in the period".to_owned(),
                )
            } else if unattributed == 0 {
                result(
                    Status::Pass,
                    format!(
                        "all {applied} applied change(s) have an authenticated actor from the \
                         audit log"
                    ),
                )
            } else {
                result(
                    Status::Fail,
                    format!(
                        "{unattributed} of {applied} applied change(s) have no authenticated actor \
                         from the audit log ({} named only by a field manager, {} with no actor); \
                         import the API server's audit log or send it to `tollgate serve`",
                        h.managed_fields_only, h.unknown_actor
                    ),
                )
            }
        }
    }
}

fn posture_text(control: &Control) -> String {
    match control {
        Control::Yes(d) => d.clone(),
        Control::No => "none".to_owned(),
        Control::Unknown => "unknown".to_owned(),
    }
}

fn exposure(inv: &Inventory) -> Exposure {
    let mut routes: Vec<ExposedRoute> = map::routes(inv)
        .iter()
        .map(|r| ExposedRoute {
            host: r.host.clone().unwrap_or_else(|| "*".to_owned()),
            path: r.path.clone().unwrap_or_else(|| "(default)".to_owned()),
            path_type: r.path_type,
            ingress: crate::render::map::route_label(&r.route),
            class: r.class.clone(),
            controller: r.controller.clone(),
            backend: map::backend_text(r),
            ready_endpoints: r.ready_endpoints,
            tls_secret: r.tls_secret.clone(),
            auth: posture_text(&r.posture.auth),
            allowlist: posture_text(&r.posture.allowlist),
            rate_limit: posture_text(&r.posture.rate_limit),
            waf: posture_text(&r.posture.waf),
        })
        .collect();
    routes.sort_by(|a, b| {
        (&a.host, &a.path, &a.ingress, &a.backend).cmp(&(&b.host, &b.path, &b.ingress, &b.backend))
    });
    let mut hosts: Vec<&str> = routes.iter().map(|r| r.host.as_str()).collect();
    hosts.dedup();
    Exposure {
        hosts: hosts.len(),
        routes_without_tls: routes.iter().filter(|r| r.tls_secret.is_none()).count(),
        routes,
    }
}

/// The matrix columns, and which review rows each gathers.
const RBAC_COLUMNS: [(RbacColumn, &[&str]); 7] = [
    (
        RbacColumn {
            id: "routes",
            title: "Routes",
        },
        &[
            "ingresses",
            "ingress-status",
            "ingressclasses",
            "gateway-routes",
            "gateways",
            "referencegrants",
        ],
    ),
    (
        RbacColumn {
            id: "services",
            title: "Services and endpoints",
        },
        &["services", "service-status", "endpoints", "endpointslices"],
    ),
    (
        RbacColumn {
            id: "tls",
            title: "TLS Secrets and certificates",
        },
        &[
            "tls-secrets",
            "cert-manager-certificates",
            "cert-manager-issuers",
            "cert-manager-clusterissuers",
        ],
    ),
    (
        RbacColumn {
            id: "network",
            title: "Network policies",
        },
        &["networkpolicies"],
    ),
    (
        RbacColumn {
            id: "controller",
            title: "Ingress controller",
        },
        &[
            "controller-configmap",
            "controller-workload",
            "controller-pods",
        ],
    ),
    (
        RbacColumn {
            id: "admission",
            title: "Admission checks",
        },
        &["admission-webhooks", "admission-policies"],
    ),
    (
        RbacColumn {
            id: "escalation",
            title: "Escalation",
        },
        // The last column also takes any row a newer review adds.
        &["escalate", "bind", "impersonate"],
    ),
];

fn rbac_matrix(inv: &Inventory) -> RbacMatrix {
    let review = review::review(inv);
    let column_of = |row_id: &str| {
        RBAC_COLUMNS
            .iter()
            .position(|(_, ids)| ids.contains(&row_id))
            .unwrap_or(RBAC_COLUMNS.len() - 1)
    };
    // (class rank, subject text) → the subject's row.
    let mut subjects: BTreeMap<(u8, String), RbacSubject> = BTreeMap::new();
    let mut builtin: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for row in &review.rows {
        let column = column_of(row.id);
        for holder in &row.holders {
            let subject = holder.subject.to_string();
            if holder.builtin {
                builtin.insert(subject);
                continue;
            }
            let mut scopes: Vec<String> =
                holder.grants.iter().map(|g| g.scope.to_string()).collect();
            scopes.sort();
            scopes.dedup();
            let entry = subjects
                .entry((review::class_rank(holder.class), subject.clone()))
                .or_insert_with(|| RbacSubject {
                    subject,
                    class: holder.class.as_str(),
                    ingress_controller: holder.ingress_controller.clone(),
                    cells: vec![Vec::new(); RBAC_COLUMNS.len()],
                });
            if let Some(cell) = entry.cells.get_mut(column) {
                cell.push(format!(
                    "{} ({})",
                    short_title(&row.title),
                    scopes.join(", ")
                ));
            }
        }
    }
    RbacMatrix {
        columns: RBAC_COLUMNS.iter().map(|(c, _)| c.clone()).collect(),
        subjects: subjects.into_values().collect(),
        builtin_subjects: builtin.len(),
        always_allowed: review
            .always_allowed
            .iter()
            .map(|a| format!("{}: {}", a.subject, a.reason))
            .collect(),
        latent_bindings: review.latent.len(),
        limits: review.limits,
    }
}

/// A review row's title without the verbs and explanations the matrix does not need:
/// `Ingresses: create, change, delete` becomes `Ingresses`, `escalate (write roles ...)` becomes
/// `escalate`.
fn short_title(title: &str) -> &str {
    let title = title.split(" (").next().unwrap_or(title);
    title
        .strip_suffix(": create, change, delete")
        .unwrap_or(title)
}

#[cfg(test)]
mod tests;
