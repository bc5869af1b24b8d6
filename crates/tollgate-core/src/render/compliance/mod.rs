//! `tollgate report`: the compliance report as JSON (the model, field for field), Markdown and
//! one self-contained HTML page.
//!
//! Markdown and HTML print the same content: every table of both is built here once, as plain
//! text cells, and each renderer only lays the cells out and escapes them for its format. A test
//! holds the two to the same controls, statuses and counts.

mod html;
mod markdown;

use std::fmt::Write as _;

pub use html::render as html;
pub use markdown::render as markdown;

use crate::compliance::{
    AccessEvidence, Certificates, ComplianceReport, ControlResult, Evidence, Exposure,
    HistoryEvidence, InputSource, RbacMatrix, Status, Suppressions,
};
use crate::rules::Severity;

/// The report as pretty-printed JSON with a trailing newline.
///
/// # Panics
/// Never: the report holds only strings, numbers, booleans and maps with string keys.
#[must_use]
pub fn json(report: &ComplianceReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("the report serializes");
    s.push('\n');
    s
}

/// The sections of the document, in order: anchor and heading.
pub(crate) const SECTIONS: [(&str, &str); 8] = [
    ("scope", "Scope and time of the evidence"),
    ("exposure", "Exposure map"),
    ("controls", "Controls"),
    ("certificates", "Certificate inventory"),
    ("rbac", "Who can change what is exposed"),
    ("history", "Change history"),
    ("access", "Access summary and alerts"),
    ("suppressions", "Suppressions"),
];

/// A table as both renderers print it: a cell is one or more lines of plain text.
pub(crate) struct Table {
    pub headers: Vec<&'static str>,
    /// Columns printed right-aligned (counts).
    pub numeric: Vec<usize>,
    /// The column holding a control status, a severity, or neither.
    pub status_column: Option<usize>,
    pub severity_column: Option<usize>,
    pub rows: Vec<Vec<Vec<String>>>,
}

impl Table {
    fn new(headers: &[&'static str]) -> Table {
        Table {
            headers: headers.to_vec(),
            numeric: Vec::new(),
            status_column: None,
            severity_column: None,
            rows: Vec::new(),
        }
    }

    fn numeric(mut self, columns: &[usize]) -> Table {
        self.numeric = columns.to_vec();
        self
    }

    fn row(&mut self, cells: Vec<Vec<String>>) {
        self.rows.push(cells);
    }
}

/// One line.
fn one(text: impl Into<String>) -> Vec<String> {
    vec![text.into()]
}

fn or_dash(text: Option<&str>) -> Vec<String> {
    one(text.filter(|t| !t.is_empty()).unwrap_or("-"))
}

/// The title line.
pub(crate) fn title(report: &ComplianceReport) -> String {
    format!("{} compliance report", report.framework.title)
}

/// The source document, as one line.
pub(crate) fn source_line(report: &ComplianceReport) -> String {
    let s = &report.framework.source;
    format!(
        "Mapped against {} version {} ({}).",
        s.document, s.version, s.publisher
    )
}

/// `28 controls: 5 pass, 12 fail, 11 not assessed.`
pub(crate) fn status_line(report: &ComplianceReport) -> String {
    let s = &report.summary;
    format!(
        "{} controls: {} pass, {} fail, {} not assessed.",
        s.controls, s.pass, s.fail, s.not_assessed
    )
}

/// `61 findings in force (2 critical, ...); 5 suppressed.`
pub(crate) fn findings_line(report: &ComplianceReport) -> String {
    let s = &report.summary;
    let parts: Vec<String> = Severity::ALL_DESC
        .iter()
        .filter(|sev| **sev != Severity::Info)
        .map(|sev| format!("{} {sev}", s.by_severity.get(*sev)))
        .collect();
    format!(
        "{} finding{} in force ({}); {} suppressed.",
        s.findings,
        if s.findings == 1 { "" } else { "s" },
        parts.join(", "),
        s.suppressed
    )
}

/// The scope section as label/value rows.
pub(crate) fn scope_rows(report: &ComplianceReport) -> Table {
    let mut t = Table::new(&["", ""]);
    let scope = &report.scope;
    t.row(vec![one("Report as of"), one(report.at.to_string())]);
    let input = &scope.input;
    let what = match input.source {
        InputSource::Manifests => format!(
            "manifests: {} ({} documents, {} objects, {} Ingresses)",
            input.paths.join(", "),
            input.documents,
            scope.objects,
            scope.ingresses
        ),
        InputSource::Cluster => format!(
            "live cluster{}{} ({} objects listed, {} Ingresses)",
            input
                .context
                .as_deref()
                .map(|c| format!(", context {c}"))
                .unwrap_or_default(),
            input.namespace.as_deref().map_or_else(
                || ", all namespaces".to_owned(),
                |n| format!(", namespace {n}")
            ),
            scope.objects,
            scope.ingresses
        ),
        InputSource::None => "no manifests or cluster: objects were not assessed".to_owned(),
    };
    t.row(vec![one("Objects"), one(what)]);
    t.row(vec![
        one("Config"),
        one(input
            .config
            .clone()
            .unwrap_or_else(|| "none (built-in defaults)".to_owned())),
    ]);
    if !input.errors.is_empty() {
        t.row(vec![one("Input errors"), input.errors.clone()]);
    }
    if !input.warnings.is_empty() || !scope.denied.is_empty() {
        let mut lines = input.warnings.clone();
        lines.extend(scope.denied.iter().map(|d| format!("not listed: {d}")));
        t.row(vec![one("Input warnings"), lines]);
    }
    let history = match &report.history {
        Evidence::Assessed(h) => {
            let mut lines = vec![format!(
                "{}{}",
                h.store,
                h.cluster
                    .as_deref()
                    .map(|c| format!(", cluster {c}"))
                    .unwrap_or_default()
            )];
            lines.push(format!(
                "period {} to {}",
                h.since
                    .map_or_else(|| "the first record".to_owned(), |t| t.to_string()),
                h.until
            ));
            lines.push(match (h.first, h.last) {
                (Some(first), Some(last)) => {
                    format!("{} change(s), from {first} to {last}", h.changes)
                }
                _ => "no change recorded in the period".to_owned(),
            });
            lines
        }
        Evidence::NotAssessed { reason } => one(format!("not assessed: {reason}")),
    };
    t.row(vec![one("Change history"), history]);
    let logs = match &report.access {
        Evidence::Assessed(a) => {
            let mut lines: Vec<String> = a
                .files
                .iter()
                .map(|f| {
                    format!(
                        "{}: {} lines, {} to {}",
                        f.file,
                        f.lines,
                        f.first.as_deref().unwrap_or("-"),
                        f.last.as_deref().unwrap_or("-")
                    )
                })
                .collect();
            lines.push(format!(
                "{} requests from {} to {}",
                a.requests,
                a.first.as_deref().unwrap_or("-"),
                a.last.as_deref().unwrap_or("-")
            ));
            lines
        }
        Evidence::NotAssessed { reason } => one(format!("not assessed: {reason}")),
    };
    t.row(vec![one("Access logs"), logs]);
    t.row(vec![one("Mapping"), one(report.framework.scope.clone())]);
    t
}

pub(crate) fn exposure_table(e: &Exposure) -> Table {
    let mut t = Table::new(&[
        "Host",
        "Path",
        "Ingress",
        "Class",
        "Backend",
        "Ready",
        "TLS",
        "Auth",
        "Allow-list",
        "Rate limit",
        "WAF",
    ])
    .numeric(&[5]);
    for r in &e.routes {
        t.row(vec![
            one(r.host.clone()),
            one(r.path.clone()),
            one(r.ingress.clone()),
            one(match (&r.class, &r.controller) {
                (Some(c), Some(ctl)) if c != ctl => format!("{c} ({ctl})"),
                (Some(c), _) => c.clone(),
                (None, _) => "-".to_owned(),
            }),
            one(r.backend.clone()),
            one(r
                .ready_endpoints
                .map_or_else(|| "?".to_owned(), |n| n.to_string())),
            one(match &r.tls_secret {
                Some(s) if s.is_empty() => "default certificate".to_owned(),
                Some(s) => s.clone(),
                None => "none".to_owned(),
            }),
            one(r.auth.clone()),
            one(r.allowlist.clone()),
            one(r.rate_limit.clone()),
            one(r.waf.clone()),
        ]);
    }
    t
}

pub(crate) fn exposure_line(e: &Exposure) -> String {
    format!(
        "{} host(s), {} route(s), {} without TLS. Auth, allow-list, rate limit and WAF: \
         `unknown` when the objects cannot tell (a controller Tollgate does not model, or a \
         setting kept elsewhere).",
        e.hosts,
        e.routes.len(),
        e.routes_without_tls
    )
}

/// The overview of every control: one row each.
pub(crate) fn controls_table(controls: &[ControlResult]) -> Table {
    let mut t = Table::new(&["Control", "Title", "Status", "Findings", "Why"]).numeric(&[3]);
    t.status_column = Some(2);
    for c in controls {
        t.row(vec![
            one(c.id.clone()),
            one(c.title.clone()),
            one(c.status.label()),
            one(c.findings.len().to_string()),
            if c.reasons.is_empty() {
                one("-")
            } else {
                c.reasons.clone()
            },
        ]);
    }
    t
}

/// The parts of a control: rules, evidence and checks, each with its state.
pub(crate) fn control_parts(c: &ControlResult) -> Table {
    let mut t = Table::new(&["Part", "Status", "Detail"]);
    t.status_column = Some(1);
    for r in &c.rules {
        let detail = match (&r.reason, r.findings, r.suppressed) {
            (Some(reason), ..) => reason.clone(),
            (None, n, 0) => format!("{n} finding{}", if n == 1 { "" } else { "s" }),
            (None, n, s) => format!(
                "{n} finding{} in force, {s} suppressed",
                if n == 1 { "" } else { "s" }
            ),
        };
        t.row(vec![
            one(format!("rule {} ({})", r.rule, r.code)),
            one(r.status.label()),
            one(detail),
        ]);
    }
    for e in &c.evidence {
        t.row(vec![
            one(format!("evidence {}", e.kind.as_str())),
            one(if e.assessed {
                "assessed"
            } else {
                Status::NotAssessed.label()
            }),
            one(e
                .reason
                .clone()
                .unwrap_or_else(|| "gathered; see its section".to_owned())),
        ]);
    }
    for k in &c.checks {
        t.row(vec![
            one(format!("check {}", k.check.as_str())),
            one(k.status.label()),
            one(k.detail.clone()),
        ]);
    }
    t
}

pub(crate) fn findings_table(c: &ControlResult) -> Table {
    let mut t = Table::new(&["Severity", "Rule", "Resource", "Where", "Message"]);
    t.severity_column = Some(0);
    for f in &c.findings {
        t.row(vec![
            one(f.severity.as_str()),
            one(format!("{} ({})", f.rule, f.code)),
            one(f.resource.clone()),
            or_dash(f.location.as_deref()),
            one(f.message.clone()),
        ]);
    }
    t
}

pub(crate) fn certificates_table(c: &Certificates) -> Table {
    let mut t = Table::new(&[
        "Secret",
        "Status",
        "Hosts",
        "Subject and issuer",
        "Not after",
        "Days left",
        "Key and signature",
        "Findings",
    ])
    .numeric(&[5]);
    for row in &c.certificates {
        let leaf = row.leaf.as_ref();
        t.row(vec![
            one(format!("{}/{}", row.namespace, row.secret)),
            one(row.status),
            if row.hosts.is_empty() {
                one("-")
            } else {
                row.hosts.clone()
            },
            leaf.map_or_else(
                || one("-"),
                |l| vec![l.subject.clone(), format!("issued by {}", l.issuer)],
            ),
            one(leaf.map_or_else(|| "-".to_owned(), |l| l.not_after.to_string())),
            one(leaf.map_or_else(|| "-".to_owned(), |l| l.days_left.to_string())),
            leaf.map_or_else(|| one("-"), |l| vec![l.key.clone(), l.signature.clone()]),
            if row.findings.is_empty() {
                one("-")
            } else {
                row.findings
                    .iter()
                    .map(|f| format!("{} {}: {}", f.severity, f.rule, f.message))
                    .collect()
            },
        ]);
    }
    t
}

pub(crate) fn rbac_table(m: &RbacMatrix) -> Table {
    let mut headers = vec!["Subject"];
    headers.extend(m.columns.iter().map(|c| c.title));
    let mut t = Table::new(&headers);
    for s in &m.subjects {
        let mut who = vec![s.subject.clone()];
        if let Some(controller) = &s.ingress_controller {
            who.push(format!("ingress controller: {controller}"));
        }
        let mut row = vec![who];
        for cell in &s.cells {
            row.push(if cell.is_empty() {
                one("-")
            } else {
                cell.clone()
            });
        }
        t.row(row);
    }
    t
}

pub(crate) fn rbac_notes(m: &RbacMatrix) -> Vec<String> {
    let mut notes = vec![format!(
        "{} subject(s) can change something that is exposed.",
        m.subjects.len()
    )];
    if m.builtin_subjects > 0 {
        notes.push(format!(
            "{} built-in Kubernetes identities are left out (`tollgate rbac review` lists them).",
            m.builtin_subjects
        ));
    }
    notes.extend(
        m.always_allowed
            .iter()
            .map(|a| format!("Always allowed: {a}")),
    );
    if m.latent_bindings > 0 {
        notes.push(format!(
            "{} binding(s) name a role that does not exist: they grant nothing until it does.",
            m.latent_bindings
        ));
    }
    notes.extend(m.limits.iter().map(|l| format!("Limit: {l}")));
    notes
}

/// The history summary as lines, then its tables.
pub(crate) fn history_lines(h: &HistoryEvidence) -> Vec<String> {
    let applied = h.changes.saturating_sub(h.denied);
    let mut lines = vec![format!(
        "{} recorded change(s) in the period ({}): {applied} applied, {} refused by the API \
         server.",
        h.changes,
        if h.by_action.is_empty() {
            "none".to_owned()
        } else {
            h.by_action
                .iter()
                .map(|(action, n)| format!("{n} {action}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
        h.denied,
    )];
    lines.push(format!(
        "Of the applied changes, {} introduced a rule violation and {} were made outside the \
         GitOps identities{}; {} were both.",
        h.risky,
        h.out_of_band,
        if h.gitops_configured {
            ""
        } else {
            " (none are configured in `history.gitops`, so none count as out-of-band)"
        },
        h.risky_out_of_band
    ));
    lines.push(format!(
        "Actors: {} applied change(s) named only by a field manager, {} with no actor.",
        h.managed_fields_only, h.unknown_actor
    ));
    lines.push(if h.chain.intact {
        format!(
            "Hash chain: intact over {} record(s) (`tollgate history verify`).",
            h.chain.records
        )
    } else {
        format!(
            "Hash chain: BROKEN at {} after {} verified record(s).",
            h.chain
                .first_broken
                .as_deref()
                .unwrap_or("an unknown record"),
            h.chain.records
        )
    });
    lines
}

pub(crate) fn history_kinds_table(h: &HistoryEvidence) -> Table {
    let mut t = Table::new(&["Kind", "Changes"]).numeric(&[1]);
    for (kind, n) in &h.by_kind {
        t.row(vec![one(kind.clone()), one(n.to_string())]);
    }
    t
}

pub(crate) fn history_actors_table(h: &HistoryEvidence) -> Table {
    let mut t =
        Table::new(&["Actor", "Changes", "Out-of-band", "Risky", "Refused"]).numeric(&[1, 2, 3, 4]);
    for a in &h.by_actor {
        t.row(vec![
            one(a.actor.clone()),
            one(a.changes.to_string()),
            one(a.out_of_band.to_string()),
            one(a.risky.to_string()),
            one(a.denied.to_string()),
        ]);
    }
    t
}

pub(crate) fn history_notable_table(h: &HistoryEvidence) -> Table {
    let mut t = Table::new(&[
        "#",
        "Time",
        "Change",
        "Resource",
        "Actor",
        "From",
        "Rules broken",
    ])
    .numeric(&[0]);
    for c in &h.notable {
        let mut change = format!("{} ({})", c.action, c.outcome);
        if c.out_of_band {
            change.push_str(", out-of-band");
        }
        t.row(vec![
            one(c.id.to_string()),
            one(c.time.to_string()),
            one(change),
            one(c.resource.clone()),
            one(format!("{} [{}]", c.actor, c.attribution)),
            if c.source_ips.is_empty() {
                one("-")
            } else {
                c.source_ips.clone()
            },
            if c.introduced.is_empty() {
                one("-")
            } else {
                c.introduced.clone()
            },
        ]);
    }
    t
}

pub(crate) fn access_lines(a: &AccessEvidence) -> Vec<String> {
    let status: Vec<String> = a
        .responses
        .iter()
        .map(|(class, n)| format!("{n} {class}"))
        .collect();
    vec![
        format!(
            "{} request(s) from {} client(s) between {} and {}; {} line(s) could not be read.",
            a.requests,
            a.unique_clients,
            a.first.as_deref().unwrap_or("-"),
            a.last.as_deref().unwrap_or("-"),
            a.malformed
        ),
        format!(
            "{} attributed to a route, {} to hosts no route defines; responses: {}.",
            a.attributed,
            a.unrouted,
            if status.is_empty() {
                "-".to_owned()
            } else {
                status.join(", ")
            }
        ),
        format!(
            "{} failed login(s) on authenticated routes; {} alert(s).",
            a.failed_logins,
            a.alerts.len() as u64 + a.alerts_omitted
        ),
    ]
}

pub(crate) fn access_files_table(a: &AccessEvidence) -> Table {
    let mut t = Table::new(&["File", "Lines", "First", "Last", "Problem"]).numeric(&[1]);
    for f in &a.files {
        t.row(vec![
            one(f.file.clone()),
            one(f.lines.to_string()),
            or_dash(f.first.as_deref()),
            or_dash(f.last.as_deref()),
            or_dash(f.error.as_deref()),
        ]);
    }
    t
}

pub(crate) fn access_routes_table(a: &AccessEvidence) -> Table {
    let mut t = Table::new(&["Route", "Requests", "4xx", "5xx", "Clients"]).numeric(&[1, 2, 3, 4]);
    for r in &a.routes {
        t.row(vec![
            one(r.route.clone()),
            one(r.requests.to_string()),
            one(r.errors_4xx.to_string()),
            one(r.errors_5xx.to_string()),
            one(r.clients.to_string()),
        ]);
    }
    t
}

pub(crate) fn access_detectors_table(a: &AccessEvidence) -> Table {
    let mut t = Table::new(&["Detector", "Alerts"]).numeric(&[1]);
    for (detector, n) in &a.alerts_by_detector {
        t.row(vec![one(detector.clone()), one(n.to_string())]);
    }
    t
}

pub(crate) fn access_alerts_table(a: &AccessEvidence) -> Table {
    let mut t = Table::new(&[
        "Detector", "Source", "Route", "Requests", "First", "Last", "Detail",
    ])
    .numeric(&[3]);
    for alert in &a.alerts {
        t.row(vec![
            one(alert.detector.clone()),
            one(alert.source.clone()),
            or_dash(alert.route.as_deref()),
            one(alert.count.to_string()),
            one(alert.first.clone()),
            one(alert.last.clone()),
            or_dash(alert.detail.as_deref()),
        ]);
    }
    t
}

pub(crate) fn suppressions_table(s: &Suppressions) -> Table {
    let mut t = Table::new(&["Rule", "Resource", "Where", "Reason", "Expires", "By"]);
    for e in &s.entries {
        let f = &e.finding;
        t.row(vec![
            one(format!("{} ({})", f.rule, f.code)),
            one(f.resource.to_string()),
            one(match (&f.file, f.line) {
                (Some(file), Some(line)) => format!("{file}:{line}"),
                (Some(file), None) => file.clone(),
                _ => "-".to_owned(),
            }),
            one(e.reason.clone()),
            or_dash(e.expires.as_deref()),
            one(e.source),
        ]);
    }
    t
}

pub(crate) fn suppression_notes(s: &Suppressions) -> Vec<String> {
    let mut notes = Vec::new();
    for expired in &s.expired {
        notes.push(format!("Expired, no longer applied: {expired}"));
    }
    if s.refused > 0 {
        notes.push(format!(
            "{} annotation suppression(s) refused by strict mode: their findings are in force.",
            s.refused
        ));
    }
    notes
}

/// The last line: how the document was made, so a reader can make it again.
pub(crate) fn colophon(report: &ComplianceReport) -> String {
    let mut line = format!(
        "Made by {} {} as of {}. The same inputs and `--at` give the same document.",
        report.tool.name, report.tool.version, report.at
    );
    let _ = write!(
        line,
        " A control passes when the evidence Tollgate has shows no failure; it is evidence for \
         an assessor, not a certification."
    );
    line
}
