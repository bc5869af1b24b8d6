//! What the dashboard's templates show: one struct per page (askama, auto-escaped) and the rows
//! they list, each built from the JSON the REST API returns for the same data, so the two never
//! disagree. Building a row never fails: a field missing from the JSON shows as empty.

use askama::Template;
use serde_json::Value;

use super::charts::Svg;

/// The CSS file, embedded in the binary.
pub const STYLE: &str = include_str!("../../../assets/style.css");
/// The JS file, embedded in the binary.
pub const SCRIPT: &str = include_str!("../../../assets/app.js");
/// Changes to the CSS give it a new URL, so a long cache lifetime never serves a stale file.
pub const STYLE_VERSION: u64 = fnv1a(STYLE.as_bytes());
/// The same for the JS file.
pub const SCRIPT_VERSION: u64 = fnv1a(SCRIPT.as_bytes());

/// FNV-1a, 64 bits: a content hash computed at compile time for the asset URLs.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The URL of the CSS file, versioned by its content.
pub fn style_href() -> String {
    format!("/assets/style.css?v={STYLE_VERSION:016x}")
}

/// The URL of the JS file, versioned by its content.
pub fn script_href() -> String {
    format!("/assets/app.js?v={SCRIPT_VERSION:016x}")
}

// ---------------------------------------------------------------------------------------------
// Small pieces

/// A link with query parameters: empty values are left out, and every value is
/// percent-encoded (route keys hold `/` and `|`).
pub fn href(path: &str, params: &[(&str, &str)]) -> String {
    let mut out = path.to_owned();
    let mut first = true;
    for (name, value) in params {
        if value.is_empty() {
            continue;
        }
        out.push(if first { '?' } else { '&' });
        first = false;
        out.push_str(name);
        out.push('=');
        out.push_str(&encode(value));
    }
    out
}

/// Percent-encoding of everything but RFC 3986's unreserved characters.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A time as the API gives it (RFC 3339), shown in UTC; the JS adds how long ago.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Time {
    /// RFC 3339, for the `datetime` attribute.
    pub iso: String,
    /// `2026-11-22 09:42:25 UTC`.
    pub text: String,
}

impl Time {
    /// A time from RFC 3339 text; text that does not parse is shown as it is.
    pub fn parse(text: &str) -> Time {
        match text.parse::<jiff::Timestamp>() {
            Ok(t) => Time {
                iso: t.to_string(),
                text: t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
            },
            Err(_) => Time {
                iso: String::new(),
                text: text.to_owned(),
            },
        }
    }

    /// A time in milliseconds since the epoch.
    pub fn from_ms(ms: i64) -> Time {
        Time::parse(&crate::output::rfc3339_ms(ms))
    }

    /// The time at a JSON pointer, when there is one.
    fn at(value: &Value, pointer: &str) -> Option<Time> {
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(Time::parse)
    }
}

/// One line of a unified diff, with the class that colours it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// `diff-add`, `diff-del`, `diff-hunk`, `diff-file` or `diff-context`.
    pub class: &'static str,
    /// The line, without its newline.
    pub text: String,
}

/// The lines of a unified diff, classified by their first character.
pub fn diff_lines(diff: &str) -> Vec<DiffLine> {
    diff.lines()
        .map(|line| DiffLine {
            class: if line.starts_with("+++") || line.starts_with("---") {
                "diff-file"
            } else if line.starts_with("@@") {
                "diff-hunk"
            } else if line.starts_with('+') {
                "diff-add"
            } else if line.starts_with('-') {
                "diff-del"
            } else {
                "diff-context"
            },
            text: line.to_owned(),
        })
        .collect()
}

/// The class of a severity badge (unknown severities get a neutral one).
pub fn severity_class(severity: &str) -> &'static str {
    match severity {
        "critical" => "sev-critical",
        "high" => "sev-high",
        "medium" => "sev-medium",
        "low" => "sev-low",
        "info" => "sev-info",
        _ => "sev-unknown",
    }
}

/// Severities, worst first.
pub const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

/// The alert triggers, for the filter.
pub const TRIGGERS: [&str; 5] = [
    "finding",
    "risky-change",
    "denied-change",
    "access",
    "certificate",
];

fn text(value: &Value, pointer: &str) -> String {
    match value.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn number(value: &Value, pointer: &str) -> u64 {
    value.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}

fn strings(value: &Value, pointer: &str) -> Vec<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `Kind namespace/name` (or `Kind name` when cluster-scoped).
fn place(kind: &str, namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {namespace}/{name}")
    }
}

// ---------------------------------------------------------------------------------------------
// Layout

/// The part of the dashboard a page belongs to (it is highlighted in the nav).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Section {
    /// `/`.
    #[default]
    Overview,
    /// `/routes`.
    Routes,
    /// `/findings`.
    Findings,
    /// `/history`.
    History,
    /// `/alerts`.
    Alerts,
    /// `/certificates`.
    Certificates,
    /// `/reports`.
    Reports,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Overview,
        Section::Routes,
        Section::Findings,
        Section::History,
        Section::Alerts,
        Section::Certificates,
        Section::Reports,
    ];

    /// The section's list page.
    pub fn path(self) -> &'static str {
        match self {
            Section::Overview => "/",
            Section::Routes => "/routes",
            Section::Findings => "/findings",
            Section::History => "/history",
            Section::Alerts => "/alerts",
            Section::Certificates => "/certificates",
            Section::Reports => "/reports",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Section::Overview => "Overview",
            Section::Routes => "Routes",
            Section::Findings => "Findings",
            Section::History => "History",
            Section::Alerts => "Alerts",
            Section::Certificates => "Certificates",
            Section::Reports => "Reports",
        }
    }
}

/// A link in the nav.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavLink {
    /// Where it goes (with the selected cluster).
    pub href: String,
    /// Its text.
    pub label: &'static str,
    /// Whether it is the current page or choice.
    pub current: bool,
}

/// What every page shows around its content: title, nav, cluster select.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// The page title.
    pub title: String,
    /// The section, highlighted in the nav.
    pub section: Section,
    /// Every cluster the store knows.
    pub clusters: Vec<String>,
    /// The selected cluster ('' for all).
    pub cluster: String,
}

impl Layout {
    /// The nav links, carrying the selected cluster.
    pub fn nav(&self) -> Vec<NavLink> {
        Section::ALL
            .iter()
            .map(|&section| NavLink {
                href: self.link(section.path(), &[]),
                label: section.label(),
                current: section == self.section,
            })
            .collect()
    }

    /// A link within the dashboard that keeps the selected cluster.
    pub fn link(&self, path: &str, params: &[(&str, &str)]) -> String {
        let mut all = vec![("cluster", self.cluster.as_str())];
        all.extend_from_slice(params);
        href(path, &all)
    }

    /// Where the cluster select goes: the section's list page.
    pub fn form_action(&self) -> &'static str {
        self.section.path()
    }

    /// Whether `cluster` is the selected one.
    pub fn is_selected(&self, cluster: &str) -> bool {
        self.cluster == cluster
    }

    /// The stylesheet URL.
    pub fn style_href(&self) -> String {
        style_href()
    }

    /// The script URL.
    pub fn script_href(&self) -> String {
        script_href()
    }

    /// Tollgate's version, for the footer.
    pub fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
}

// ---------------------------------------------------------------------------------------------
// Rows

/// One posture control of a route as a badge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    /// The text: a mark (configured, not configured, unknown) and the control.
    pub text: String,
    /// The detail (`auth: basic`), as a tooltip.
    pub title: String,
    /// `ok`, `bad` or `unknown`.
    pub class: &'static str,
}

/// One row of the route map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteRow {
    /// The cluster.
    pub cluster: String,
    /// The route key (what access counts are stored under).
    pub key: String,
    /// The route's access view.
    pub href: String,
    /// The host, `*` when the rule has none.
    pub host: String,
    /// The path, `(default backend)` for the Ingress's default backend.
    pub path: String,
    /// The kind of the object that defines the route: `Ingress`, or a Gateway API route kind.
    pub kind: String,
    /// The namespace of that object.
    pub namespace: String,
    /// The name of that object.
    pub name: String,
    /// The IngressClass ('' when none is in force).
    pub class: String,
    /// The controller ('' when unknown).
    pub controller: String,
    /// `Service:port`, or the resource backend.
    pub backend: String,
    /// Whether the backend Service is among the scanned objects.
    pub service_found: bool,
    /// Ready endpoints, `?` when not in scope.
    pub ready: String,
    /// Whether no endpoint is ready (highlighted).
    pub none_ready: bool,
    /// The TLS secret, '' when the host has no TLS.
    pub tls_secret: String,
    /// Auth, allow-list, rate limit and WAF.
    pub posture: Vec<Badge>,
}

impl RouteRow {
    /// A row from one item of `routes_of`.
    pub fn from_json(route: &Value) -> RouteRow {
        let cluster = text(route, "/cluster");
        let key = text(route, "/key");
        let host = route
            .get("host")
            .and_then(Value::as_str)
            .unwrap_or("*")
            .to_owned();
        let path = if route["default_backend"].as_bool() == Some(true) {
            "(default backend)".to_owned()
        } else {
            route
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("(any)")
                .to_owned()
        };
        // `route` names the defining object of any kind; a map stored before Gateway API routes
        // has only `ingress`.
        let object = |field: &str| match route.pointer(&format!("/route/{field}")) {
            Some(Value::String(value)) => value.clone(),
            _ => text(route, &format!("/ingress/{field}")),
        };
        let class = text(route, "/class");
        let controller = text(route, "/controller");
        let backend = match text(route, "/backend/type").as_str() {
            "service" => {
                let port = match route.pointer("/service_port/port") {
                    Some(port) => port.to_string(),
                    None => text(route, "/backend/port"),
                };
                let name = text(route, "/backend/name");
                if port.is_empty() {
                    name
                } else {
                    format!("{name}:{port}")
                }
            }
            "resource" => format!(
                "{} {}",
                text(route, "/backend/kind"),
                text(route, "/backend/name")
            ),
            _ => "-".to_owned(),
        };
        let ready_endpoints = route.get("ready_endpoints").and_then(Value::as_u64);
        let posture = [
            ("auth", "/posture/auth"),
            ("allow-list", "/posture/allowlist"),
            ("rate-limit", "/posture/rate_limit"),
            ("WAF", "/posture/waf"),
        ]
        .iter()
        .map(|(label, pointer)| {
            let control = route.pointer(pointer).unwrap_or(&Value::Null);
            match text(control, "/state").as_str() {
                "yes" => {
                    let detail = text(control, "/detail");
                    Badge {
                        text: format!("\u{2713} {label}"),
                        title: if detail.is_empty() {
                            format!("{label}: configured")
                        } else {
                            format!("{label}: {detail}")
                        },
                        class: "ok",
                    }
                }
                "no" => Badge {
                    text: format!("\u{2717} {label}"),
                    title: format!("{label}: not configured"),
                    class: "bad",
                },
                _ => Badge {
                    text: format!("? {label}"),
                    title: format!("{label}: cannot be told from the scanned objects"),
                    class: "unknown",
                },
            }
        })
        .collect();
        RouteRow {
            href: href(
                "/routes/view",
                &[("cluster", cluster.as_str()), ("key", key.as_str())],
            ),
            cluster,
            key,
            host,
            path,
            kind: object("kind"),
            namespace: object("namespace"),
            name: object("name"),
            class,
            controller,
            backend,
            service_found: route["service_found"].as_bool().unwrap_or(false),
            ready: ready_endpoints.map_or_else(|| "?".to_owned(), |n| n.to_string()),
            none_ready: ready_endpoints == Some(0),
            tls_secret: text(route, "/tls_secret"),
            posture,
        }
    }
}

/// One stored finding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingRow {
    /// The cluster.
    pub cluster: String,
    /// Severity.
    pub severity: String,
    /// Its badge class.
    pub severity_class: &'static str,
    /// Rule name.
    pub rule: String,
    /// Rule code.
    pub code: String,
    /// `Kind namespace/name`.
    pub resource: String,
    /// JSON pointer in the resource.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
    /// First reported.
    pub first_seen: Time,
    /// Last reported.
    pub last_seen: Time,
    /// When it stopped being reported.
    pub resolved: Option<Time>,
}

impl FindingRow {
    /// A row from one item of `findings`.
    pub fn from_json(finding: &Value) -> FindingRow {
        let severity = text(finding, "/severity");
        FindingRow {
            cluster: text(finding, "/cluster"),
            severity_class: severity_class(&severity),
            severity,
            rule: text(finding, "/rule"),
            code: text(finding, "/code"),
            resource: place(
                &text(finding, "/kind"),
                &text(finding, "/namespace"),
                &text(finding, "/name"),
            ),
            path: text(finding, "/path"),
            message: text(finding, "/message"),
            help: text(finding, "/help"),
            first_seen: Time::at(finding, "/first_seen").unwrap_or_default(),
            last_seen: Time::at(finding, "/last_seen").unwrap_or_default(),
            resolved: Time::at(finding, "/resolved"),
        }
    }
}

/// One history event in a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeRow {
    /// The record's id.
    pub id: i64,
    /// Its page.
    pub href: String,
    /// When.
    pub time: Time,
    /// `created`, `updated` or `deleted`.
    pub action: String,
    /// `Kind namespace/name`.
    pub resource: String,
    /// The actor in one line.
    pub who: String,
    /// Rules it newly violates.
    pub introduced: Vec<String>,
    /// Rules it fixes.
    pub fixed: Vec<String>,
    /// The actor is not a GitOps identity.
    pub out_of_band: bool,
    /// The API server refused it.
    pub denied: bool,
    /// The cluster.
    pub cluster: String,
}

impl ChangeRow {
    /// A row from one history event (`history` or `change`).
    pub fn from_json(event: &Value) -> ChangeRow {
        let id = event["id"].as_i64().unwrap_or(0);
        let actor: tollgate_store::Actor =
            serde_json::from_value(event["actor"].clone()).unwrap_or_default();
        ChangeRow {
            id,
            href: format!("/history/{id}"),
            time: Time::at(event, "/time").unwrap_or_default(),
            action: text(event, "/action"),
            resource: place(
                &text(event, "/resource/kind"),
                &text(event, "/resource/namespace"),
                &text(event, "/resource/name"),
            ),
            who: crate::serve::alerts::who(&actor),
            introduced: strings(event, "/risk/introduced"),
            fixed: strings(event, "/risk/fixed"),
            out_of_band: event["out_of_band"].as_bool().unwrap_or(false),
            denied: text(event, "/outcome") == "denied",
            cluster: text(event, "/cluster"),
        }
    }
}

/// Who made a change, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActorView {
    /// The effective user.
    pub user: String,
    /// Its groups.
    pub groups: Vec<String>,
    /// Who impersonated it.
    pub impersonated_by: String,
    /// Source addresses.
    pub source_ips: Vec<String>,
    /// User-Agent.
    pub user_agent: String,
    /// Field manager.
    pub field_manager: String,
    /// `audit`, `managed-fields` or `unknown`.
    pub attribution: String,
    /// How the audit event was matched.
    pub matched_by: String,
    /// The audit event's ID.
    pub audit_id: String,
    /// A shared identity (a GitOps controller, a gateway).
    pub shared: bool,
}

/// One change with everything the history knows about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeDetail {
    /// What the list shows.
    pub row: ChangeRow,
    /// `networking.k8s.io/v1`.
    pub api_version: String,
    /// The object's uid.
    pub uid: String,
    /// The resourceVersion.
    pub resource_version: String,
    /// `applied` or `denied`.
    pub outcome: String,
    /// The actor.
    pub actor: ActorView,
    /// The YAML diff.
    pub diff: Vec<DiffLine>,
    /// The JSON Patch, pretty-printed.
    pub patch: String,
    /// The record's hash.
    pub hash: String,
    /// The previous record's hash.
    pub prev_hash: String,
    /// Every change of the same object.
    pub object_history_href: String,
}

impl ChangeDetail {
    /// The detail of one `change`.
    pub fn from_json(event: &Value) -> ChangeDetail {
        let row = ChangeRow::from_json(event);
        let actor = event.get("actor").unwrap_or(&Value::Null);
        ChangeDetail {
            api_version: text(event, "/resource/api_version"),
            uid: text(event, "/resource/uid"),
            resource_version: text(event, "/resource_version"),
            outcome: text(event, "/outcome"),
            actor: ActorView {
                user: text(actor, "/user"),
                groups: strings(actor, "/groups"),
                impersonated_by: text(actor, "/impersonated_by"),
                source_ips: strings(actor, "/source_ips"),
                user_agent: text(actor, "/user_agent"),
                field_manager: text(actor, "/field_manager"),
                attribution: text(actor, "/attribution"),
                matched_by: text(actor, "/matched_by"),
                audit_id: text(actor, "/audit_id"),
                shared: actor["shared"].as_bool().unwrap_or(false),
            },
            diff: diff_lines(event["yaml_diff"].as_str().unwrap_or("")),
            patch: serde_json::to_string_pretty(&event["diff"]).unwrap_or_default(),
            hash: text(event, "/hash"),
            prev_hash: text(event, "/prev_hash"),
            object_history_href: href(
                "/history",
                &[
                    ("cluster", &row.cluster),
                    ("kind", &text(event, "/resource/kind")),
                    ("namespace", &text(event, "/resource/namespace")),
                    ("name", &text(event, "/resource/name")),
                ],
            ),
            row,
        }
    }
}

/// One alert in a list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertRow {
    /// Its id.
    pub id: String,
    /// Its page.
    pub href: String,
    /// The cluster.
    pub cluster: String,
    /// First raised.
    pub created: Time,
    /// Last raised (deduplicated repeats).
    pub last_seen: Time,
    /// Severity.
    pub severity: String,
    /// Its badge class.
    pub severity_class: &'static str,
    /// What raised it.
    pub trigger: String,
    /// One line.
    pub title: String,
    /// How often it was raised within the dedup window.
    pub occurrences: u64,
    /// Deliveries that failed for good.
    pub failed: usize,
    /// Deliveries still being tried.
    pub pending: usize,
    /// Deliveries done.
    pub delivered: usize,
}

impl AlertRow {
    /// A row from `alert_json`.
    pub fn from_json(alert: &Value) -> AlertRow {
        let id = text(alert, "/id");
        let severity = text(alert, "/severity");
        let deliveries = alert["deliveries"].as_array().cloned().unwrap_or_default();
        let count = |status: &str| {
            deliveries
                .iter()
                .filter(|d| d["status"].as_str() == Some(status))
                .count()
        };
        AlertRow {
            href: format!("/alerts/{}", encode(&id)),
            id,
            cluster: text(alert, "/cluster"),
            created: Time::at(alert, "/created").unwrap_or_default(),
            last_seen: Time::at(alert, "/last_seen").unwrap_or_default(),
            severity_class: severity_class(&severity),
            severity,
            trigger: text(alert, "/trigger"),
            title: text(alert, "/title"),
            occurrences: number(alert, "/occurrences"),
            failed: count("failed"),
            pending: count("pending"),
            delivered: count("delivered"),
        }
    }
}

/// A change an alert carries (its own, or one made shortly before on its route).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkedChange {
    /// The record's id.
    pub id: i64,
    /// Its page.
    pub href: String,
    /// When.
    pub time: Option<Time>,
    /// Who.
    pub who: String,
    /// `Kind namespace/name`.
    pub resource: String,
    /// The YAML diff.
    pub diff: Vec<DiffLine>,
}

impl LinkedChange {
    /// From a change summary (`alerts::change_summary`).
    fn from_summary(summary: &Value) -> Option<LinkedChange> {
        let id = summary.get("id")?.as_i64()?;
        Some(LinkedChange {
            id,
            href: format!("/history/{id}"),
            time: Time::at(summary, "/time"),
            who: text(summary, "/who"),
            resource: place(
                &text(summary, "/resource/kind"),
                &text(summary, "/resource/namespace"),
                &text(summary, "/resource/name"),
            ),
            diff: diff_lines(summary["yaml_diff"].as_str().unwrap_or("")),
        })
    }
}

/// One delivery of an alert to a sink.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryRow {
    /// The sink.
    pub sink: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// `ok`, `warn` or `bad`.
    pub class: &'static str,
    /// Attempts so far.
    pub attempts: u64,
    /// The last error.
    pub last_error: String,
    /// When the status last changed.
    pub updated: Time,
}

/// One alert with its evidence, change and deliveries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertDetail {
    /// What the list shows.
    pub row: AlertRow,
    /// What happened.
    pub what: String,
    /// Who.
    pub who: String,
    /// Where.
    pub place: String,
    /// The detector's detail.
    pub detail: String,
    /// How to fix it (finding alerts).
    pub help: String,
    /// Log lines (access alerts).
    pub evidence: Vec<String>,
    /// The diff the alert carries (risky changes).
    pub diff: Vec<DiffLine>,
    /// A change to the route's Ingress made shortly before (access alerts).
    pub correlated: Option<LinkedChange>,
    /// The change the alert is about (risky changes).
    pub change: Option<LinkedChange>,
    /// The history record it names when neither carries a summary.
    pub change_href: Option<String>,
    /// The route key, '' when none.
    pub route: String,
    /// The route's access view.
    pub route_href: Option<String>,
    /// Deliveries.
    pub deliveries: Vec<DeliveryRow>,
}

impl AlertDetail {
    /// The detail of one `alert_json`.
    pub fn from_json(alert: &Value) -> AlertDetail {
        let row = AlertRow::from_json(alert);
        let body = alert.get("body").unwrap_or(&Value::Null);
        let correlated = body
            .get("correlated_change")
            .and_then(LinkedChange::from_summary);
        let change = body.get("change").and_then(LinkedChange::from_summary);
        let change_href = match (&correlated, &change, alert["change_seq"].as_i64()) {
            (None, None, Some(seq)) => Some(format!("/history/{seq}")),
            _ => None,
        };
        let route = text(alert, "/route");
        let route_href = (!route.is_empty()).then(|| {
            href(
                "/routes/view",
                &[("cluster", row.cluster.as_str()), ("key", route.as_str())],
            )
        });
        let deliveries = alert["deliveries"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|d| {
                        let status = text(d, "/status");
                        DeliveryRow {
                            sink: text(d, "/sink"),
                            class: match status.as_str() {
                                "delivered" => "ok",
                                "failed" => "bad",
                                _ => "warn",
                            },
                            status,
                            attempts: number(d, "/attempts"),
                            last_error: text(d, "/last_error"),
                            updated: d["updated_ms"]
                                .as_i64()
                                .map(Time::from_ms)
                                .unwrap_or_default(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        AlertDetail {
            what: text(body, "/what"),
            who: text(body, "/who/summary"),
            place: text(body, "/where/summary"),
            detail: text(body, "/detail"),
            help: text(body, "/help"),
            evidence: strings(body, "/evidence"),
            diff: diff_lines(body["yaml_diff"].as_str().unwrap_or("")),
            correlated,
            change,
            change_href,
            route,
            route_href,
            deliveries,
            row,
        }
    }
}

/// One TLS Secret of the certificate inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertRow {
    /// The cluster.
    pub cluster: String,
    /// `namespace/secret`.
    pub secret: String,
    /// `ok`, `missing`, `not-in-scope`, `no-certificate`.
    pub status: String,
    /// Whole days left; `None` without a readable certificate.
    pub days_left: Option<i64>,
    /// `12 days`, `expired 3 days ago`, `-`.
    pub days_text: String,
    /// `expired`, `expiring`, `valid` or `unknown`, for the highlight.
    pub state: &'static str,
    /// Hosts served with it.
    pub hosts: Vec<String>,
    /// Ingresses naming it.
    pub ingresses: Vec<String>,
    /// The leaf's subject.
    pub subject: String,
    /// The leaf's end of validity.
    pub not_after: Option<Time>,
    /// What is wrong with it.
    pub findings: Vec<String>,
}

/// Certificates expiring within this many days are highlighted.
pub const EXPIRING_DAYS: i64 = 30;

impl CertRow {
    /// A row from one item of `certificates`.
    pub fn from_json(row: &Value) -> CertRow {
        let days_left = row.pointer("/leaf/days_left").and_then(Value::as_i64);
        let (days_text, state) = match days_left {
            None => ("-".to_owned(), "unknown"),
            Some(d) if d < 0 => (format!("expired {} day(s) ago", -d), "expired"),
            Some(d) if d <= EXPIRING_DAYS => (format!("{d} day(s)"), "expiring"),
            Some(d) => (format!("{d} days"), "valid"),
        };
        CertRow {
            cluster: text(row, "/cluster"),
            secret: format!("{}/{}", text(row, "/namespace"), text(row, "/secret")),
            status: text(row, "/status"),
            days_left,
            days_text,
            state,
            hosts: strings(row, "/hosts"),
            ingresses: strings(row, "/ingresses"),
            subject: text(row, "/leaf/subject"),
            not_after: Time::at(row, "/leaf/not_after"),
            findings: row["findings"]
                .as_array()
                .map(|items| items.iter().map(|f| text(f, "/message")).collect())
                .unwrap_or_default(),
        }
    }
}

/// Certificates expiring in one month.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertGroup {
    /// `October 2026`, or `No readable certificate`.
    pub label: String,
    /// Its rows, soonest first.
    pub rows: Vec<CertRow>,
}

/// Rows grouped by the month their certificate expires, in the order given (soonest first);
/// rows without a certificate form their own group.
pub fn group_by_month(rows: Vec<CertRow>) -> Vec<CertGroup> {
    let mut groups: Vec<CertGroup> = Vec::new();
    for row in rows {
        let label = row
            .not_after
            .as_ref()
            .and_then(|t| t.iso.parse::<jiff::Timestamp>().ok())
            .map_or_else(
                || "No readable certificate".to_owned(),
                |t| t.strftime("%B %Y").to_string(),
            );
        match groups.iter_mut().find(|g| g.label == label) {
            Some(group) => group.rows.push(row),
            None => groups.push(CertGroup {
                label,
                rows: vec![row],
            }),
        }
    }
    groups
}

/// One source of requests to a route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceRow {
    /// The client address.
    pub source: String,
    /// Requests.
    pub requests: u64,
    /// 4xx responses.
    pub errors_4xx: u64,
    /// The last request.
    pub last: Time,
}

impl SourceRow {
    /// A row from one item of `access(..)["sources"]`.
    pub fn from_json(source: &Value) -> SourceRow {
        SourceRow {
            source: text(source, "/source"),
            requests: number(source, "/requests"),
            errors_4xx: number(source, "/errors_4xx"),
            last: source["last_ms"]
                .as_i64()
                .map(Time::from_ms)
                .unwrap_or_default(),
        }
    }
}

/// A distinct exposed host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostRow {
    /// The host (`*` for rules without one).
    pub host: String,
    /// How many routes serve it.
    pub routes: usize,
    /// The route map filtered to it.
    pub href: String,
}

/// A count in a legend, with its colour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Legend {
    /// What it counts.
    pub label: String,
    /// How many.
    pub value: u64,
    /// The colour class.
    pub class: String,
    /// Where it leads ('' for nowhere).
    pub href: String,
}

/// A page link (`Next page`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageLinks {
    /// The newer or first page.
    pub previous: Option<String>,
    /// Its text.
    pub previous_label: &'static str,
    /// The next or older page.
    pub next: Option<String>,
    /// Its text.
    pub next_label: &'static str,
}

impl PageLinks {
    /// Links back to the first page (when not on it) and on to the next (when there is one):
    /// `cursor` is this page's, `next` the API's `next_cursor`, `link` makes a URL for a cursor
    /// (`""` for the first page).
    pub fn new(
        cursor: Option<&str>,
        next: Option<&str>,
        link: impl Fn(&str) -> String,
        labels: (&'static str, &'static str),
    ) -> PageLinks {
        PageLinks {
            previous: cursor.map(|_| link("")),
            previous_label: labels.0,
            next: next.map(&link),
            next_label: labels.1,
        }
    }
}

/// A choice in a filter select.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choice {
    /// The submitted value.
    pub value: String,
    /// Its text.
    pub label: String,
    /// Whether it is selected.
    pub selected: bool,
}

/// Choices of a select, with an "any" first.
pub fn choices(values: &[&str], any: &str, current: &str) -> Vec<Choice> {
    std::iter::once(("", any))
        .chain(values.iter().map(|v| (*v, *v)))
        .map(|(value, label)| Choice {
            value: value.to_owned(),
            label: label.to_owned(),
            selected: value == current,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Pages

/// What the latest scan of this replica saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanSummary {
    /// When it finished.
    pub time: Time,
    /// Objects read.
    pub objects: u64,
    /// Findings.
    pub findings: u64,
    /// Input errors.
    pub errors: Vec<String>,
}

/// The log intake and audit webhook totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntakeSummary {
    /// Log batches acknowledged.
    pub batches: u64,
    /// Log lines acknowledged.
    pub lines: u64,
    /// Of which parsed.
    pub parsed: u64,
    /// Of which malformed.
    pub malformed: u64,
    /// Audit events stored.
    pub audit_events: u64,
}

/// `/`.
#[derive(Debug, Template)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    /// Title, nav, cluster.
    pub layout: Layout,
    /// The latest scan, when one has run.
    pub scan: Option<ScanSummary>,
    /// Whether the store holds no scan at all.
    pub no_scan: bool,
    /// Distinct exposed hosts.
    pub hosts: Vec<HostRow>,
    /// Routes in the map.
    pub route_count: usize,
    /// Open findings by severity.
    pub severity_chart: Svg,
    /// The same counts, as links.
    pub severity_legend: Vec<Legend>,
    /// Open findings.
    pub findings_total: u64,
    /// Certificates expiring within 30 days (or expired).
    pub expiring: Vec<CertRow>,
    /// The newest risky changes.
    pub risky: Vec<ChangeRow>,
    /// Alerts of the last 24 hours, newest first.
    pub alerts: Vec<AlertRow>,
    /// Intake totals.
    pub intake: IntakeSummary,
}

/// `/routes`.
#[derive(Debug, Template)]
#[template(path = "routes.html")]
pub struct RoutesPage {
    /// Title, nav, cluster.
    pub layout: Layout,
    /// The routes.
    pub routes: Vec<RouteRow>,
    /// Whether the store holds no scan.
    pub no_scan: bool,
    /// The namespace filter.
    pub namespace: String,
    /// The host filter.
    pub host: String,
}

/// `/routes/view`.
#[derive(Debug, Template)]
#[template(path = "route.html")]
pub struct RoutePage {
    /// Title, nav, cluster.
    pub layout: Layout,
    /// The key asked for.
    pub key: String,
    /// The route, when the latest scan has it.
    pub route: Option<RouteRow>,
    /// Requests per minute.
    pub timeline: Svg,
    /// Requests in the window.
    pub window_requests: u64,
    /// 5xx in the window.
    pub window_errors: u64,
    /// The window's choices.
    pub windows: Vec<NavLink>,
    /// Whether any request was counted.
    pub has_traffic: bool,
    /// The status mix.
    pub status_chart: Svg,
    /// Its legend.
    pub status_legend: Vec<Legend>,
    /// Top sources.
    pub sources: Vec<SourceRow>,
    /// Alerts on this route.
    pub alerts: Vec<AlertRow>,
    /// The kind of the object that defines the route (`Ingress`, `HTTPRoute`, ...), whose
    /// changes are listed; empty when the key names none.
    pub object_kind: String,
    /// Recent changes of that object, newest first.
    pub changes: Vec<ChangeRow>,
    /// All changes of that object.
    pub changes_href: String,
}

/// `/findings`.
#[derive(Debug, Template)]
#[template(path = "findings.html")]
pub struct FindingsPage {
    /// Title, nav, cluster.
    pub layout: Layout,
    /// The findings.
    pub findings: Vec<FindingRow>,
    /// Severity choices.
    pub severities: Vec<Choice>,
    /// Status choices.
    pub statuses: Vec<Choice>,
    /// The rule filter.
    pub rule: String,
    /// The namespace filter.
    pub namespace: String,
    /// Paging.
    pub pages: PageLinks,
}

/// `/history`.
#[derive(Debug, Template)]
#[template(path = "history.html")]
pub struct HistoryPage {
    /// Title, nav, cluster.
    pub layout: Layout,
    /// The changes, newest first.
    pub changes: Vec<ChangeRow>,
    /// The kind filter.
    pub kind: String,
    /// The namespace filter.
    pub namespace: String,
    /// The name filter.
    pub name: String,
    /// The actor filter.
    pub actor: String,
    /// Only risky changes.
    pub risky: bool,
    /// Paging.
    pub pages: PageLinks,
}

/// `/history/{id}`.
#[derive(Debug, Template)]
#[template(path = "change.html")]
pub struct ChangePage {
    /// Title, nav, cluster.
    pub layout: Layout,
    /// The change.
    pub change: ChangeDetail,
}

/// `/alerts`.
#[derive(Debug, Template)]
#[template(path = "alerts.html")]
pub struct AlertsPage {
    /// Title, nav, cluster.
    pub layout: Layout,
    /// The alerts, newest first.
    pub alerts: Vec<AlertRow>,
    /// Trigger choices.
    pub triggers: Vec<Choice>,
    /// Paging.
    pub pages: PageLinks,
}

/// `/alerts/{id}`.
#[derive(Debug, Template)]
#[template(path = "alert.html")]
pub struct AlertPage {
    /// Title, nav, cluster.
    pub layout: Layout,
    /// The alert.
    pub alert: AlertDetail,
}

/// `/certificates`.
#[derive(Debug, Template)]
#[template(path = "certificates.html")]
pub struct CertificatesPage {
    /// Title, nav, cluster.
    pub layout: Layout,
    /// Rows by expiry month.
    pub groups: Vec<CertGroup>,
    /// Whether the store holds no scan.
    pub no_scan: bool,
}

/// One stored report in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// Its id (the document is at `/reports/{id}`).
    pub id: String,
    /// The cluster.
    pub cluster: String,
    /// The framework.
    pub framework: String,
    /// `html`, `markdown` or `json`.
    pub format: String,
    /// The instant it speaks for.
    pub time: Time,
    /// Controls passing.
    pub pass: u64,
    /// Controls failing.
    pub fail: u64,
    /// Controls not assessed.
    pub not_assessed: u64,
}

impl ReportRow {
    /// A row of `GET /api/v1/reports`.
    pub fn from_json(value: &Value) -> ReportRow {
        let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
        let count = |key: &str| value["summary"][key].as_u64().unwrap_or(0);
        ReportRow {
            id: text("id"),
            cluster: text("cluster"),
            framework: text("framework"),
            format: text("format"),
            time: Time::parse(&text("time")),
            pass: count("pass"),
            fail: count("fail"),
            not_assessed: count("not_assessed"),
        }
    }
}

/// `/reports`.
#[derive(Debug, Template)]
#[template(path = "reports.html")]
pub struct ReportsPage {
    /// Title, nav, cluster.
    pub layout: Layout,
    /// Newest first.
    pub reports: Vec<ReportRow>,
}

/// Any error: not found, a bad filter, a store failure.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Title, nav, cluster.
    pub layout: Layout,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong.
    pub message: String,
}

/// The sign-in form.
#[derive(Debug, Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    /// The stylesheet URL.
    pub style_href: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::serve::dashboard::charts::{self, Part};

    fn layout(section: Section) -> Layout {
        Layout {
            title: "Test".to_owned(),
            section,
            clusters: vec!["prod".to_owned(), "staging".to_owned()],
            cluster: "prod".to_owned(),
        }
    }

    /// Pages must pass the CSP: no inline style or script, only the script file.
    fn assert_csp_clean(html: &str) {
        assert!(!html.contains("style="), "an inline style attribute");
        assert!(!html.contains("<style"), "an inline style element");
        assert_eq!(html.matches("<script").count(), 1, "one script element");
        assert!(
            html.contains("<script src=\"/assets/app.js?v="),
            "the script is the file"
        );
        assert!(!html.contains(" onclick=") && !html.contains(" onchange="));
    }

    fn route_json(host: &str) -> Value {
        json!({
            "cluster": "prod",
            "key": format!("shop/storefront|{host}|/"),
            "host": host,
            "path": "/",
            "path_type": "Prefix",
            "default_backend": false,
            "ingress": {"kind": "Ingress", "namespace": "shop", "name": "storefront"},
            "class": "nginx",
            "controller": "ingress-nginx",
            "backend": {"type": "service", "name": "web", "port": "http"},
            "service_found": true,
            "service_port": {"port": 80, "name": "http", "target_port": "8080"},
            "ready_endpoints": 0,
            "workloads": [],
            "network_policies": [],
            "posture": {
                "auth": {"state": "yes", "detail": "basic"},
                "allowlist": {"state": "no"},
                "rate_limit": {"state": "unknown"},
                "waf": {"state": "no"}
            }
        })
    }

    fn change_json() -> Value {
        json!({
            "id": 7,
            "time": "2026-11-22T09:40:00Z",
            "action": "updated",
            "resource": {"api_version": "networking.k8s.io/v1", "kind": "Ingress",
                         "namespace": "shop", "name": "storefront", "uid": "u-1"},
            "resource_version": "1042",
            "actor": {"user": "alice", "groups": ["shop-devs", "system:authenticated"],
                      "impersonated_by": "admin", "source_ips": ["203.0.113.7"],
                      "user_agent": "kubectl/v1.33.1", "field_manager": "kubectl-edit",
                      "audit_id": "a-1", "attribution": "audit", "matched_by": "resource-version"},
            "diff": [{"op": "remove", "path": "/spec/tls"}],
            "risk": {"introduced": ["tls-missing"]},
            "outcome": "applied",
            "out_of_band": true,
            "cluster": "prod",
            "hash": "h7",
            "prev_hash": "h6",
            "yaml_diff": "--- before\n+++ after\n@@ -1,3 +1,1 @@\n spec:\n-  tls:\n-  - secretName: shop-tls\n",
            "who": "alice (impersonated by admin) from 203.0.113.7"
        })
    }

    fn alert_json() -> Value {
        json!({
            "id": "00ff00ff00ff00ff",
            "cluster": "prod",
            "trigger": "access",
            "severity": "critical",
            "title": "brute-force from 198.51.100.23 on shop.example.com/ (Ingress shop/storefront), right after a change",
            "route": "shop/storefront|shop.example.com|/",
            "namespace": "shop",
            "name": "storefront",
            "change_seq": 7,
            "created": "2026-11-22T09:41:00Z",
            "last_seen": "2026-11-22T09:43:00Z",
            "occurrences": 3,
            "body": {
                "what": "repeated POSTs answered 401: 8 matching request(s)",
                "who": {"summary": "198.51.100.23"},
                "where": {"summary": "shop.example.com/ (Ingress shop/storefront)"},
                "evidence": ["198.51.100.23 - - \"POST /login <b> HTTP/1.1\" 401"],
                "correlated_change": {
                    "id": 7, "time": "2026-11-22T09:40:00Z", "who": "alice from 203.0.113.7",
                    "resource": {"kind": "Ingress", "namespace": "shop", "name": "storefront"},
                    "yaml_diff": "-  tls:\n"
                }
            },
            "deliveries": [
                {"sink": "slack", "status": "failed", "attempts": 5, "last_error": "HTTP 500 Internal Server Error", "updated_ms": 1_795_340_550_000_i64},
                {"sink": "pager", "status": "delivered", "attempts": 1, "last_error": "", "updated_ms": 1_795_340_550_000_i64}
            ]
        })
    }

    #[test]
    fn links_keep_the_cluster_and_encode_route_keys() {
        let layout = layout(Section::Routes);
        assert_eq!(
            layout.link("/routes/view", &[("key", "shop/web|a.example.com|/x y")]),
            "/routes/view?cluster=prod&key=shop%2Fweb%7Ca.example.com%7C%2Fx%20y"
        );
        assert_eq!(href("/history", &[("kind", ""), ("name", "")]), "/history");
        let nav = layout.nav();
        assert_eq!(nav.len(), 7);
        assert_eq!(nav[1].href, "/routes?cluster=prod");
        assert!(nav[1].current && !nav[0].current);
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn diff_lines_are_classified_by_their_first_character() {
        let lines = diff_lines("--- before\n+++ after\n@@ -1 +1 @@\n spec:\n-  tls:\n+  rules:\n");
        let classes: Vec<&str> = lines.iter().map(|l| l.class).collect();
        assert_eq!(
            classes,
            [
                "diff-file",
                "diff-file",
                "diff-hunk",
                "diff-context",
                "diff-del",
                "diff-add"
            ]
        );
        assert_eq!(lines[4].text, "-  tls:");
        assert!(diff_lines("").is_empty());
    }

    #[test]
    fn times_show_in_utc_and_keep_bad_text_as_it_is() {
        let time = Time::parse("2026-11-22T09:42:25.161Z");
        assert_eq!(time.text, "2026-11-22 09:42:25 UTC");
        assert_eq!(time.iso, "2026-11-22T09:42:25.161Z");
        let bad = Time::parse("yesterday");
        assert_eq!(bad.text, "yesterday");
        assert_eq!(bad.iso, "");
        assert_eq!(
            Time::from_ms(1_782_864_000_000).text,
            "2026-07-01 00:00:00 UTC"
        );
    }

    #[test]
    fn a_route_row_reads_the_route_map_json() {
        let row = RouteRow::from_json(&route_json("shop.example.com"));
        assert_eq!(row.key, "shop/storefront|shop.example.com|/");
        assert_eq!(
            row.href,
            "/routes/view?cluster=prod&key=shop%2Fstorefront%7Cshop.example.com%7C%2F"
        );
        assert_eq!(row.backend, "web:80");
        assert_eq!(row.ready, "0");
        assert!(row.none_ready);
        assert_eq!(row.tls_secret, "");
        let badges: Vec<(&str, &str)> = row
            .posture
            .iter()
            .map(|b| (b.text.as_str(), b.class))
            .collect();
        assert_eq!(
            badges,
            [
                ("\u{2713} auth", "ok"),
                ("\u{2717} allow-list", "bad"),
                ("? rate-limit", "unknown"),
                ("\u{2717} WAF", "bad")
            ]
        );
        assert_eq!(row.posture[0].title, "auth: basic");

        // A default backend with no host, and JSON missing everything else.
        let fallback = RouteRow::from_json(&json!({"default_backend": true}));
        assert_eq!(fallback.host, "*");
        assert_eq!(fallback.path, "(default backend)");
        assert_eq!(fallback.backend, "-");
        assert_eq!(fallback.ready, "?");
        assert!(!fallback.none_ready);
        assert_eq!(RouteRow::from_json(&Value::Null).posture.len(), 4);
    }

    #[test]
    fn the_routes_page_escapes_a_host_named_script() {
        let page = RoutesPage {
            layout: layout(Section::Routes),
            routes: vec![
                RouteRow::from_json(&route_json("<script>alert(1)</script>")),
                RouteRow::from_json(&route_json("shop.example.com")),
            ],
            no_scan: false,
            namespace: "shop".to_owned(),
            host: String::new(),
        };
        let html = page.render().unwrap();
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{html}"
        );
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("<h1>Routes</h1>"));
        assert!(html.contains("2 route(s)"));
        assert!(html.contains(
            "href=\"/routes/view?cluster=prod&#38;key=shop%2Fstorefront%7Cshop.example.com%7C%2F\""
        ));
        assert!(html.contains("<span class=\"badge bad\">no TLS</span>"));
        assert!(html.contains("title=\"auth: basic\">\u{2713} auth</span>"));
        assert!(
            html.contains("<td>nginx<br><span class=\"muted small\">ingress-nginx</span></td>")
        );
        assert!(html.contains("<option value=\"prod\" selected>prod</option>"));
        assert!(html.contains("<option value=\"staging\">staging</option>"));
        assert!(!html.contains("No scan has finished yet"));
        assert_csp_clean(&html);
    }

    #[test]
    fn the_overview_shows_counts_hosts_and_the_no_scan_notice() {
        let parts = [Part::new("high", 3, "sev-high")];
        let page = OverviewPage {
            layout: layout(Section::Overview),
            scan: None,
            no_scan: true,
            hosts: vec![HostRow {
                host: "<script>x</script>".to_owned(),
                routes: 2,
                href: "/routes?host=x".to_owned(),
            }],
            route_count: 2,
            severity_chart: charts::bars(&parts, 480, 160, "open findings by severity"),
            severity_legend: vec![Legend {
                label: "high".to_owned(),
                value: 3,
                class: "sev-high".to_owned(),
                href: "/findings?severity=high".to_owned(),
            }],
            findings_total: 3,
            expiring: vec![CertRow::from_json(&json!({
                "namespace": "shop", "secret": "shop-tls", "status": "ok", "hosts": ["shop.example.com"],
                "leaf": {"days_left": 5, "not_after": "2026-11-27T00:00:00Z", "subject": "CN=shop"}
            }))],
            risky: vec![ChangeRow::from_json(&change_json())],
            alerts: vec![AlertRow::from_json(&alert_json())],
            intake: IntakeSummary {
                batches: 2,
                lines: 948,
                parsed: 940,
                malformed: 8,
                audit_events: 4,
            },
        };
        let html = page.render().unwrap();
        assert!(html.contains("<h1>Overview</h1>"));
        assert!(html.contains("No scan has finished yet"));
        assert!(html.contains("&#60;script&#62;x&#60;/script&#62;"));
        assert!(!html.contains("<script>x"));
        assert!(html.contains("948 log line(s) in 2 batch(es)"));
        assert!(html.contains("940 parsed, 8 malformed; 4 audit event(s)"));
        assert!(
            html.contains("<svg "),
            "the chart is markup, not escaped text"
        );
        assert!(html.contains("high: 3"));
        assert!(html.contains("5 day(s)"));
        assert!(html.contains("<tr class=\"cert-expiring\">"));
        assert!(html.contains("href=\"/history/7\">Ingress shop/storefront</a>"));
        assert!(html.contains("href=\"/alerts/00ff00ff00ff00ff\""));
        assert!(html.contains("No scan by this replica yet."));
        assert_csp_clean(&html);
    }

    #[test]
    fn the_route_page_shows_traffic_alerts_and_changes_or_says_the_route_is_unknown() {
        let page = RoutePage {
            layout: layout(Section::Routes),
            key: "shop/service:web".to_owned(),
            route: None,
            timeline: charts::line(&[], "", "", 960, 200, "requests per minute"),
            window_requests: 0,
            window_errors: 0,
            windows: vec![NavLink {
                href: "/routes/view?key=k&minutes=60".to_owned(),
                label: "1 hour",
                current: true,
            }],
            has_traffic: false,
            status_chart: charts::stacked(&[], 960, 24, "status"),
            status_legend: Vec::new(),
            sources: vec![SourceRow::from_json(&json!({
                "source": "198.51.100.23", "requests": 8, "errors_4xx": 8, "last_ms": 1_795_340_550_000_i64
            }))],
            alerts: vec![AlertRow::from_json(&alert_json())],
            changes: vec![ChangeRow::from_json(&change_json())],
            object_kind: "Ingress".to_owned(),
            changes_href: "/history?kind=Ingress".to_owned(),
        };
        let html = page.render().unwrap();
        assert!(html.contains("<h1>Route shop/service:web</h1>"), "{html}");
        assert!(html.contains("not in the latest route map"));
        assert!(html.contains("No request to this route has been counted."));
        assert!(html.contains("<td>198.51.100.23</td><td>8</td><td>8</td>"));
        assert!(html.contains("brute-force from 198.51.100.23"));
        assert!(html.contains("<span class=\"badge bad\">1 failed</span>"));
        assert!(html.contains(
            "<a href=\"/routes/view?key=k&#38;minutes=60\" aria-current=\"page\">1 hour</a>"
        ));
        assert_csp_clean(&html);

        let page = RoutePage {
            route: Some(RouteRow::from_json(&route_json("shop.example.com"))),
            key: "shop/storefront|shop.example.com|/".to_owned(),
            has_traffic: true,
            window_requests: 12,
            window_errors: 1,
            ..page
        };
        let html = page.render().unwrap();
        assert!(html.contains("<h1>Route shop.example.com/</h1>"));
        assert!(html.contains("<dt>Ingress</dt><dd>shop/storefront</dd>"));
        assert!(html.contains("12 request(s), 1 5xx in the window"));
        assert!(!html.contains("not in the latest route map"));
    }

    #[test]
    fn gateway_api_routes_are_named_by_their_kind_on_the_routes_and_route_pages() {
        let mut gateway = route_json("catalog.example.com");
        gateway["key"] = json!("shop/HTTPRoute:catalog|catalog.example.com|/");
        gateway["route"] = json!({"kind": "HTTPRoute", "namespace": "shop", "name": "catalog"});
        gateway
            .as_object_mut()
            .expect("an object")
            .remove("ingress");
        let row = RouteRow::from_json(&gateway);
        assert_eq!(
            (row.kind.as_str(), row.namespace.as_str(), row.name.as_str()),
            ("HTTPRoute", "shop", "catalog")
        );
        // A map stored before Gateway API routes names only the Ingress.
        let old = RouteRow::from_json(&route_json("shop.example.com"));
        assert_eq!(
            (old.kind.as_str(), old.namespace.as_str(), old.name.as_str()),
            ("Ingress", "shop", "storefront")
        );
        let html = RoutesPage {
            layout: layout(Section::Routes),
            routes: vec![row.clone(), old],
            no_scan: false,
            namespace: String::new(),
            host: String::new(),
        }
        .render()
        .unwrap();
        assert!(html.contains("<td>HTTPRoute shop/catalog</td>"), "{html}");
        assert!(html.contains("<td>shop/storefront</td>"), "{html}");
        let html = RoutePage {
            layout: layout(Section::Routes),
            key: row.key.clone(),
            route: Some(row),
            timeline: charts::line(&[], "", "", 960, 200, "requests per minute"),
            window_requests: 0,
            window_errors: 0,
            windows: Vec::new(),
            has_traffic: false,
            status_chart: charts::stacked(&[], 960, 24, "status"),
            status_legend: Vec::new(),
            sources: Vec::new(),
            alerts: Vec::new(),
            object_kind: "HTTPRoute".to_owned(),
            changes: vec![ChangeRow::from_json(&change_json())],
            changes_href: "/history?kind=HTTPRoute&namespace=shop&name=catalog".to_owned(),
        }
        .render()
        .unwrap();
        assert!(
            html.contains("<dt>HTTPRoute</dt><dd>shop/catalog</dd>"),
            "{html}"
        );
        assert!(html.contains("Recent changes of its HTTPRoute"), "{html}");
        assert!(html.contains("Every change of this HTTPRoute"), "{html}");
        assert_csp_clean(&html);
    }

    #[test]
    fn the_findings_page_shows_lifetimes_and_pages_on() {
        let finding = json!({
            "cluster": "prod", "rule": "tls-missing", "code": "TG201", "severity": "high",
            "kind": "Ingress", "namespace": "shop", "name": "storefront", "path": "/spec",
            "message": "no <tls>", "help": "add tls",
            "first_seen": "2026-11-20T00:00:00Z", "last_seen": "2026-11-22T00:00:00Z",
            "resolved": "2026-11-22T01:00:00Z"
        });
        let row = FindingRow::from_json(&finding);
        assert_eq!(row.resource, "Ingress shop/storefront");
        assert_eq!(row.severity_class, "sev-high");
        assert_eq!(
            row.resolved.as_ref().unwrap().text,
            "2026-11-22 01:00:00 UTC"
        );
        let open = FindingRow::from_json(&json!({"severity": "bogus", "resolved": null}));
        assert_eq!(open.resolved, None);
        assert_eq!(open.severity_class, "sev-unknown");
        let page = FindingsPage {
            layout: layout(Section::Findings),
            findings: vec![row, open],
            severities: choices(&SEVERITIES, "any", "high"),
            statuses: choices(&["open", "resolved", "all"], "any", "all"),
            rule: String::new(),
            namespace: String::new(),
            pages: PageLinks {
                previous: Some("/findings?cluster=prod".to_owned()),
                previous_label: "First page",
                next: Some("/findings?cluster=prod&cursor=50".to_owned()),
                next_label: "Next page",
            },
        };
        let html = page.render().unwrap();
        assert!(html.contains("<h1>Findings</h1>"));
        assert!(html.contains("no &#60;tls&#62;"));
        assert!(html.contains("<option value=\"high\" selected>high</option>"));
        assert!(html.contains("<span class=\"badge ok\">resolved</span>"));
        assert!(html.contains("<span class=\"badge warn\">open</span>"));
        assert!(html.contains("datetime=\"2026-11-20T00:00:00Z\">2026-11-20 00:00:00 UTC</time>"));
        assert!(
            html.contains(
                "href=\"/findings?cluster=prod&#38;cursor=50\" rel=\"next\">Next page</a>"
            )
        );
        assert_csp_clean(&html);
    }

    #[test]
    fn the_history_page_marks_denied_and_out_of_band_changes() {
        let mut denied = change_json();
        denied["outcome"] = json!("denied");
        denied["out_of_band"] = json!(false);
        denied["id"] = json!(6);
        let page = HistoryPage {
            layout: layout(Section::History),
            changes: vec![
                ChangeRow::from_json(&change_json()),
                ChangeRow::from_json(&denied),
            ],
            kind: "Ingress".to_owned(),
            namespace: String::new(),
            name: String::new(),
            actor: "<alice>".to_owned(),
            risky: true,
            pages: PageLinks::default(),
        };
        let html = page.render().unwrap();
        assert!(html.contains("<h1>History</h1>"));
        assert!(html.contains("Newest first."));
        assert_eq!(html.matches("<tr class=\"denied\">").count(), 1);
        assert_eq!(html.matches(">denied</span>").count(), 1);
        assert_eq!(html.matches(">out-of-band</span>").count(), 1);
        assert!(html.contains("alice (impersonated by admin) from 203.0.113.7"));
        assert!(html.contains("<span class=\"badge bad\">tls-missing</span>"));
        assert!(html.contains("value=\"&#60;alice&#62;\""));
        assert!(html.contains("name=\"risky\" value=\"true\" checked"));
        assert!(
            !html.contains("class=\"pages\""),
            "one page needs no page links"
        );
        assert_csp_clean(&html);
    }

    #[test]
    fn the_change_page_shows_the_actor_the_coloured_diff_and_the_chain() {
        let change = ChangeDetail::from_json(&change_json());
        assert_eq!(
            change.object_history_href,
            "/history?cluster=prod&kind=Ingress&namespace=shop&name=storefront"
        );
        let page = ChangePage {
            layout: layout(Section::History),
            change,
        };
        let html = page.render().unwrap();
        assert!(html.contains("<h1>Change #7: updated Ingress shop/storefront</h1>"));
        assert!(html.contains("<dd class=\"actor-user\">alice</dd>"));
        assert!(html.contains("<dt>Impersonated by</dt><dd>admin</dd>"));
        assert!(html.contains("shop-devs, system:authenticated"));
        assert!(html.contains("203.0.113.7"));
        assert!(html.contains("kubectl/v1.33.1"));
        assert!(html.contains("kubectl-edit"));
        assert!(html.contains("<code>a-1</code>"));
        assert!(html.contains("<span class=\"diff-del\">-  tls:</span>"));
        assert!(html.contains("<span class=\"diff-del\">-  - secretName: shop-tls</span>"));
        assert!(html.contains("<span class=\"diff-context\"> spec:</span>"));
        assert!(html.contains("&#34;op&#34;: &#34;remove&#34;"));
        assert!(html.contains("<span class=\"badge bad\">introduced tls-missing</span>"));
        assert!(html.contains("<code class=\"hash\">h7</code>"));
        assert!(html.contains("<code class=\"hash\">h6</code>"));
        assert_csp_clean(&html);
    }

    #[test]
    fn the_alert_page_shows_evidence_the_correlated_change_and_failed_deliveries() {
        let alert = AlertDetail::from_json(&alert_json());
        assert_eq!(alert.row.failed, 1);
        assert_eq!(alert.row.delivered, 1);
        assert_eq!(
            alert.change_href, None,
            "the correlated change has the link"
        );
        assert_eq!(
            alert.route_href.as_deref(),
            Some("/routes/view?cluster=prod&key=shop%2Fstorefront%7Cshop.example.com%7C%2F")
        );
        let page = AlertPage {
            layout: layout(Section::Alerts),
            alert,
        };
        let html = page.render().unwrap();
        assert!(html.contains("<h1>Alert: brute-force from 198.51.100.23"));
        assert!(html.contains("<span class=\"badge sev-critical\">critical</span>"));
        assert!(html.contains("3 times"));
        assert!(html.contains("repeated POSTs answered 401: 8 matching request(s)"));
        assert!(html.contains("POST /login &#60;b&#62; HTTP/1.1"));
        assert!(html.contains("<h2>Changed shortly before</h2>"));
        assert!(html.contains("<a href=\"/history/7\" class=\"change-link\">Change #7</a>: Ingress shop/storefront by alice from 203.0.113.7"));
        assert!(html.contains("<span class=\"diff-del\">-  tls:</span>"));
        assert!(html.contains("class=\"route-link\">route traffic</a>"));
        assert!(html.contains("<tr class=\"delivery-bad\">"));
        assert!(html.contains("<span class=\"badge bad\">failed</span>"));
        assert!(html.contains("<td>HTTP 500 Internal Server Error</td>"));
        assert!(html.contains("<span class=\"badge ok\">delivered</span>"));
        assert_csp_clean(&html);

        // An alert about a change without its summary links the record.
        let bare = AlertDetail::from_json(&json!({"change_seq": 3, "route": ""}));
        assert_eq!(bare.change_href.as_deref(), Some("/history/3"));
        assert_eq!(bare.route_href, None);
    }

    #[test]
    fn the_alerts_page_lists_with_a_trigger_filter() {
        let page = AlertsPage {
            layout: layout(Section::Alerts),
            alerts: vec![AlertRow::from_json(&alert_json())],
            triggers: choices(&TRIGGERS, "any", "access"),
            pages: PageLinks::default(),
        };
        let html = page.render().unwrap();
        assert!(html.contains("<h1>Alerts</h1>"));
        assert!(html.contains("<option value=\"access\" selected>access</option>"));
        assert!(html.contains("<option value=\"\">any</option>"));
        assert!(html.contains("3×"));
        assert_csp_clean(&html);
    }

    #[test]
    fn certificates_are_grouped_by_expiry_month_and_highlighted() {
        let rows: Vec<CertRow> = [
            json!({"namespace": "pay", "secret": "gone", "status": "missing", "hosts": ["pay.example.com"]}),
            json!({"namespace": "shop", "secret": "old", "status": "ok", "hosts": ["<old>.example.com"],
                   "leaf": {"days_left": -3, "not_after": "2026-11-19T00:00:00Z", "subject": "CN=old"}}),
            json!({"namespace": "shop", "secret": "soon", "status": "ok", "hosts": ["a", "b"],
                   "leaf": {"days_left": 8, "not_after": "2026-11-30T00:00:00Z", "subject": "CN=soon"}}),
            json!({"namespace": "shop", "secret": "later", "status": "ok", "hosts": [],
                   "leaf": {"days_left": 200, "not_after": "2027-06-10T00:00:00Z", "subject": "CN=later"}}),
        ]
        .iter()
        .map(CertRow::from_json)
        .collect();
        assert_eq!(rows[1].days_text, "expired 3 day(s) ago");
        assert_eq!(rows[1].state, "expired");
        assert_eq!(rows[2].state, "expiring");
        assert_eq!(rows[3].state, "valid");
        assert_eq!(rows[0].state, "unknown");
        let groups = group_by_month(rows);
        let labels: Vec<&str> = groups.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(
            labels,
            ["No readable certificate", "November 2026", "June 2027"]
        );
        assert_eq!(groups[1].rows.len(), 2);
        let page = CertificatesPage {
            layout: layout(Section::Certificates),
            groups,
            no_scan: false,
        };
        let html = page.render().unwrap();
        assert!(html.contains("<h1>Certificates</h1>"));
        assert!(html.contains("<h2>November 2026</h2>"));
        assert!(html.contains("<tr class=\"cert-expired\">"));
        assert!(html.contains("<tr class=\"cert-expiring\">"));
        assert!(html.contains("&#60;old&#62;.example.com"));
        assert!(html.contains("<td>a, b</td>"));
        assert_csp_clean(&html);
    }

    #[test]
    fn the_error_page_names_the_problem_and_escapes_the_message() {
        let page = ErrorPage {
            layout: layout(Section::Alerts),
            status: 404,
            message: "There is no alert `<x>`.".to_owned(),
        };
        let html = page.render().unwrap();
        assert!(html.contains("<h1>Not found</h1>"));
        assert!(html.contains("There is no alert `&#60;x&#62;`."));
        let page = ErrorPage {
            status: 400,
            ..page
        };
        assert!(page.render().unwrap().contains("<h1>Bad request</h1>"));
    }

    #[test]
    fn the_login_page_posts_the_token_and_uses_the_stylesheet() {
        let html = LoginPage {
            style_href: style_href(),
        }
        .render()
        .unwrap();
        assert!(html.contains("<form method=\"post\" action=\"/login\">"));
        assert!(html.contains("name=\"token\" type=\"password\""));
        assert!(html.contains(&format!(
            "href=\"/assets/style.css?v={STYLE_VERSION:016x}\""
        )));
        assert!(!html.contains("style=") && !html.contains("<script"));
    }

    #[test]
    fn asset_versions_follow_their_content() {
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert!(style_href().starts_with("/assets/style.css?v="));
        assert_eq!(script_href().len(), "/assets/app.js?v=".len() + 16);
    }
}
