//! `tollgate.yaml`: which rules run, at what severity, with which options, and what is suppressed.
//!
//! The file is read as raw YAML, then validated into a [`Config`] that cannot hold an unknown
//! rule, a bad severity or a suppression without a reason. Every error points at the line of the
//! config that caused it.
//!
//! ```yaml
//! select: [all]                   # names, codes, categories, or `all`
//! ignore: [ingress-in-default-namespace]
//! failOn: high
//! severity: {wildcard-host: critical}
//! allowedDomains: [example.com]   # host-outside-allowed-domains
//! strict: false                   # true: refuse `tollgate.io/ignore` annotations
//! # access control (TG501-TG506); every key is optional
//! sensitivePaths: [/admin, /metrics]           # replaces the default list (below)
//! authExemptPaths: [/.well-known/, /healthz]   # replaces the default list (below)
//! authRequiredHosts: ["*.internal.example.com"] # every path of these hosts needs auth
//! publicHosts: [status.internal.example.com]   # exceptions to authRequiredHosts
//! trustedCidrs: ["2001:db8::/28"]              # broad ranges an allow-list may hold
//! rateLimitedPaths: [/login, /api/token]       # replaces the default list (below)
//! wafRequiredHosts: ["*.shop.example.com"]     # missing-waf reports only these hosts
//! suppressions:
//!   - rule: tls-missing
//!     namespace: shop
//!     name: "web-*"
//!     reason: TLS terminates at the cloud load balancer
//!     expires: 2027-01-31
//! ```
//!
//! ## Access-control options
//!
//! Paths are prefixes matched segment by segment and without regard to ASCII case: `/admin`
//! covers `/admin`, `/admin/` and `/Admin/users` but not `/administrator`; a trailing `/` changes
//! nothing, and `*` in an entry matches within one segment (`/api/*/admin`). Hosts are
//! shell-style globs (`*.example.com`, `*` for every host, including rules without a host).
//!
//! - `sensitivePaths`: paths that must be protected whatever host serves them
//!   (`public-route-without-auth`, `sensitive-path-without-allowlist`, `missing-rate-limit`).
//!   Default: [`DEFAULT_SENSITIVE_PATHS`]. Setting the key replaces the default list.
//! - `authExemptPaths`: paths meant for anyone, carved out of `sensitivePaths` and of
//!   `authRequiredHosts`: ACME HTTP-01 challenges and `security.txt` under `/.well-known/`,
//!   health endpoints that external monitors call, and oauth2-proxy's own `/oauth2/` sign-in
//!   endpoints (which must be reachable to log in). Default: [`DEFAULT_AUTH_EXEMPT_PATHS`].
//! - `authRequiredHosts`: hosts of which every path needs authentication or an allow-list.
//!   Default: none, so that only sensitive paths do; a host that is internal by design (say
//!   `*.internal.example.com`) belongs here.
//! - `publicHosts`: hosts that are public on purpose, exceptions to `authRequiredHosts`
//!   (`authRequiredHosts: ["*"]` with `publicHosts: [www.example.com]`). Sensitive paths on a
//!   public host still need protection. Default: none.
//! - `trustedCidrs`: networks an IP allow-list may contain however broad they are. Without it,
//!   `allowlist-too-broad` reports any IPv4 range broader than /8, any IPv6 range broader than
//!   /32 outside `fc00::/7`, and `0.0.0.0/0` or `::/0`. An entry that is not a valid CIDR (or
//!   bare address) is a config error. Default: none.
//! - `rateLimitedPaths`: login and token endpoints that need a rate limit (`missing-rate-limit`,
//!   which also judges `sensitivePaths`). Default: [`DEFAULT_RATE_LIMITED_PATHS`].
//! - `wafRequiredHosts`: hosts that must be behind a WAF the controller applies
//!   (`missing-waf`). Default: none, and the rule reports nothing: most estates put their WAF
//!   in front of the cluster (a CDN or cloud load balancer), where Tollgate cannot see it.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::Deserialize;

use crate::manifest::InputError;
use crate::rules::Severity;
use crate::rules::registry;
use crate::yaml::{self, DocumentText};

/// Options that rules read.
#[derive(Debug, Clone)]
pub struct RuleOptions {
    /// Domains hosts must be under (`example.com` allows `example.com` and `*.example.com`).
    pub allowed_domains: Vec<String>,
    /// Path prefixes that must be protected on any host (`sensitivePaths`).
    pub sensitive_paths: Vec<String>,
    /// Path prefixes meant for anyone, carved out of the other access-control options
    /// (`authExemptPaths`).
    pub auth_exempt_paths: Vec<String>,
    /// Host globs of which every path needs authentication or an allow-list
    /// (`authRequiredHosts`).
    pub auth_required_hosts: Vec<String>,
    /// Host globs that are public on purpose: exceptions to `auth_required_hosts`
    /// (`publicHosts`).
    pub public_hosts: Vec<String>,
    /// Networks an IP allow-list may contain however broad they are (`trustedCidrs`).
    pub trusted_cidrs: Vec<Cidr>,
    /// Login and token path prefixes that need a rate limit (`rateLimitedPaths`).
    pub rate_limited_paths: Vec<String>,
    /// Host globs that must be behind a WAF the controller applies (`wafRequiredHosts`).
    pub waf_required_hosts: Vec<String>,
    /// Days before expiry from which `certificate-expiring` reports (`certificateExpiry.warnDays`,
    /// default 30).
    pub certificate_warn_days: i64,
    /// Days before expiry from which `certificate-expiring` reports at `high`
    /// (`certificateExpiry.highDays`, default 7).
    pub certificate_high_days: i64,
}

/// Default of `certificateExpiry.warnDays`.
pub const DEFAULT_CERTIFICATE_WARN_DAYS: i64 = 30;
/// Default of `certificateExpiry.highDays`.
pub const DEFAULT_CERTIFICATE_HIGH_DAYS: i64 = 7;

/// Paths that count as sensitive when the config does not say: administration consoles,
/// framework management endpoints, metrics and debug handlers.
pub const DEFAULT_SENSITIVE_PATHS: &[&str] = &[
    "/admin",
    "/administrator",
    "/wp-admin",
    "/phpmyadmin",
    "/console",
    "/manage",
    "/management",
    "/internal",
    "/actuator",
    "/jolokia",
    "/metrics",
    "/debug",
    "/server-status",
];

/// Paths meant for anyone when the config does not say: ACME challenges and `security.txt`,
/// health endpoints, Spring Boot's health endpoint, and oauth2-proxy's sign-in endpoints.
pub const DEFAULT_AUTH_EXEMPT_PATHS: &[&str] = &[
    "/.well-known/",
    "/healthz",
    "/readyz",
    "/livez",
    "/actuator/health",
    "/oauth2/",
];

/// Login and token endpoints that need a rate limit when the config does not say.
pub const DEFAULT_RATE_LIMITED_PATHS: &[&str] = &[
    "/login",
    "/signin",
    "/sign-in",
    "/auth",
    "/oauth",
    "/oauth2",
    "/token",
    "/api/login",
    "/api/auth",
    "/api/token",
];

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|&s| s.to_owned()).collect()
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            allowed_domains: Vec::new(),
            sensitive_paths: owned(DEFAULT_SENSITIVE_PATHS),
            auth_exempt_paths: owned(DEFAULT_AUTH_EXEMPT_PATHS),
            auth_required_hosts: Vec::new(),
            public_hosts: Vec::new(),
            trusted_cidrs: Vec::new(),
            rate_limited_paths: owned(DEFAULT_RATE_LIMITED_PATHS),
            waf_required_hosts: Vec::new(),
            certificate_warn_days: DEFAULT_CERTIFICATE_WARN_DAYS,
            certificate_high_days: DEFAULT_CERTIFICATE_HIGH_DAYS,
        }
    }
}

/// An IP network: `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). Host bits
/// are cleared, as nginx does (`10.0.0.1/8` is `10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The network address.
    #[must_use]
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length.
    #[must_use]
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether every address of `other` is in this network (both of one family).
    #[must_use]
    pub fn contains(&self, other: &Cidr) -> bool {
        if self.prefix > other.prefix {
            return false;
        }
        match (self.network, other.network) {
            (IpAddr::V4(a), IpAddr::V4(b)) => mask_v4(u32::from(b), self.prefix) == u32::from(a),
            (IpAddr::V6(a), IpAddr::V6(b)) => mask_v6(u128::from(b), self.prefix) == u128::from(a),
            _ => false,
        }
    }

    /// Whether this is every address of its family: `0.0.0.0/0` or `::/0`.
    #[must_use]
    pub fn is_everything(&self) -> bool {
        self.prefix == 0
    }
}

fn mask_v4(addr: u32, prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        addr & (u32::MAX << (32 - u32::from(prefix)))
    }
}

fn mask_v6(addr: u128, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        addr & (u128::MAX << (128 - u32::from(prefix)))
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{s}` is not a CIDR: `{addr}` is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max && !p.starts_with('+') => n,
                _ => {
                    return Err(format!(
                        "`{s}` is not a CIDR: the prefix length must be 0 to {max}"
                    ));
                }
            },
        };
        let network = match addr {
            IpAddr::V4(a) => IpAddr::V4(mask_v4(u32::from(a), prefix).into()),
            IpAddr::V6(a) => IpAddr::V6(mask_v6(u128::from(a), prefix).into()),
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// A suppression from the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Rule name (a code in the file is normalised to the name).
    pub rule: String,
    /// Namespace glob.
    pub namespace: Option<String>,
    /// Object name glob.
    pub name: Option<String>,
    /// Host glob (matches findings about that host).
    pub host: Option<String>,
    /// Why it is acceptable.
    pub reason: String,
    /// Last day (UTC) on which it applies.
    pub expires: Option<jiff::civil::Date>,
    /// Where it is written.
    pub line: Option<usize>,
}

/// A validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from, if any.
    pub path: Option<String>,
    /// Rule selectors to run (empty: all).
    pub select: Vec<String>,
    /// Rule selectors not to run.
    pub ignore: Vec<String>,
    /// Severity overrides by rule name.
    pub severity: BTreeMap<String, Severity>,
    /// Default `--fail-on`; `None` means "never fail".
    pub fail_on: Option<Option<Severity>>,
    /// Refuse annotation suppressions.
    pub strict: bool,
    /// Config suppressions.
    pub suppressions: Vec<Suppression>,
    /// Options for rules.
    pub options: RuleOptions,
    /// The `detectors` section (access-log detector thresholds and lists), validated by
    /// `tollgate logs`, which owns its schema.
    pub detectors: Option<serde_json::Value>,
    /// The `history` section: change tracking, attribution and retention.
    pub history: HistoryConfig,
    /// The `serve` section: the continuous service.
    pub serve: crate::service::ServeConfig,
}

/// How changes are recorded and judged (`history:` in tollgate.yaml).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HistoryConfig {
    /// The cluster name recorded with every change and audit event; the kubeconfig context, or
    /// `default`, when unset.
    pub cluster: Option<String>,
    /// The store URL (`sqlite://tollgate.db` when unset; `--store` and `TOLLGATE_STORE` win).
    pub store: Option<String>,
    /// The identities that deploy through pipelines: a change by anyone else is out-of-band.
    #[serde(default)]
    pub gitops: GitopsIdentities,
    /// What to keep; nothing is pruned when unset.
    #[serde(default)]
    pub retention: RetentionConfig,
    /// The environment variable holding the key that signs retention checkpoints.
    pub checkpoint_key_env: Option<String>,
    /// How far (seconds) an audit event's time may be from a change for the time-based join.
    pub attribution_window_seconds: Option<u32>,
    /// Identities several people act through (an access gateway's service account): changes by
    /// them are attributed to the shared identity and marked as such.
    #[serde(default)]
    pub shared_identities: Vec<String>,
    /// Controller ConfigMaps to watch (`namespace/name`); the ingress-nginx default when unset.
    pub config_maps: Option<Vec<String>>,
}

/// GitOps identities: authenticated users (service accounts) and field managers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitopsIdentities {
    /// Usernames, e.g. `system:serviceaccount:argocd:argocd-application-controller`; a trailing
    /// `*` matches a prefix (`system:serviceaccount:flux-system:*`).
    #[serde(default)]
    pub users: Vec<String>,
    /// Field managers (`argocd-controller`, `helm`, `kustomize-controller`), used when no audit
    /// event names the user.
    #[serde(default)]
    pub field_managers: Vec<String>,
}

impl GitopsIdentities {
    /// True when no identity is configured: out-of-band marking is off.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.field_managers.is_empty()
    }

    /// Whether `user` is one of the configured users.
    #[must_use]
    pub fn has_user(&self, user: &str) -> bool {
        self.users
            .iter()
            .any(|pattern| identity_matches(pattern, user))
    }

    /// Whether `manager` is one of the configured field managers.
    #[must_use]
    pub fn has_field_manager(&self, manager: &str) -> bool {
        self.field_managers.iter().any(|m| m == manager)
    }
}

/// Whether `user` matches an identity pattern of the config: the name itself, or a prefix ending
/// in `*` (`system:serviceaccount:flux-system:*`).
#[must_use]
pub fn identity_matches(pattern: &str, user: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => user.starts_with(prefix),
        None => pattern == user,
    }
}

/// Retention of history records and audit events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RetentionConfig {
    /// Keep records younger than this many days.
    pub days: Option<u32>,
    /// Keep at least this many versions of every object.
    pub versions: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    #[serde(default)]
    select: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    fail_on: Option<String>,
    #[serde(default)]
    allowed_domains: Vec<String>,
    #[serde(default)]
    strict: bool,
    sensitive_paths: Option<Vec<String>>,
    auth_exempt_paths: Option<Vec<String>>,
    #[serde(default)]
    auth_required_hosts: Vec<String>,
    #[serde(default)]
    public_hosts: Vec<String>,
    #[serde(default)]
    trusted_cidrs: Vec<String>,
    rate_limited_paths: Option<Vec<String>>,
    #[serde(default)]
    waf_required_hosts: Vec<String>,
    certificate_expiry: Option<RawCertificateExpiry>,
    #[serde(default)]
    suppressions: Vec<RawSuppression>,
    detectors: Option<serde_json::Value>,
    #[serde(default)]
    history: HistoryConfig,
    #[serde(default)]
    serve: crate::service::ServeConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawCertificateExpiry {
    warn_days: Option<i64>,
    high_days: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSuppression {
    rule: String,
    namespace: Option<String>,
    name: Option<String>,
    host: Option<String>,
    reason: Option<String>,
    expires: Option<String>,
}

impl Config {
    /// Parses and validates a config file's text. All problems are returned, each with its line.
    ///
    /// # Errors
    /// Invalid YAML, unknown keys, unknown rules, bad severities or dates, suppressions without a
    /// reason.
    pub fn parse(path: &str, text: &str) -> Result<Config, Vec<InputError>> {
        let doc = DocumentText {
            text,
            first_line: 1,
            offset: 0,
        };
        let at = |pointer: &str, message: String| {
            let pos = yaml::locate(doc, &[pointer])[0];
            InputError {
                file: Some(path.to_owned()),
                line: pos.map(|p| p.line),
                column: pos.map(|p| p.column),
                message,
            }
        };
        let value = match yaml::parse_document(doc) {
            Ok(v) => v.unwrap_or(serde_json::Value::Object(serde_json::Map::new())),
            Err(e) => {
                return Err(vec![InputError {
                    file: Some(path.to_owned()),
                    line: e.position.map(|p| p.line),
                    column: e.position.map(|p| p.column),
                    message: e.message,
                }]);
            }
        };
        let raw: RawConfig = match serde_path_to_error::deserialize(&value) {
            Ok(r) => r,
            Err(e) => {
                let pointer = e.path().iter().map(|s| format!("/{s}")).collect::<String>();
                return Err(vec![at(&pointer, format!("config: {}", e.into_inner()))]);
            }
        };
        let mut errors = Vec::new();
        let known = |sel: &str| registry::all().iter().any(|r| r.meta().selected_by(sel));
        for (field, list) in [("select", &raw.select), ("ignore", &raw.ignore)] {
            for (i, sel) in list.iter().enumerate() {
                if !known(sel) {
                    errors.push(at(
                        &format!("/{field}/{i}"),
                        format!("unknown rule, code or category `{sel}`"),
                    ));
                }
            }
        }
        let mut severity = BTreeMap::new();
        for (rule, sev) in &raw.severity {
            let pointer = format!("/severity/{}", yaml::escape_segment(rule));
            match (registry::find(rule), sev.parse::<Severity>()) {
                (Some(r), Ok(s)) => {
                    severity.insert(r.meta().name.to_owned(), s);
                }
                (None, _) => errors.push(at(&pointer, format!("unknown rule `{rule}`"))),
                (_, Err(e)) => errors.push(at(&pointer, e)),
            }
        }
        let fail_on = match raw.fail_on.as_deref() {
            None => None,
            Some("never") => Some(None),
            Some(s) => match s.parse::<Severity>() {
                Ok(s) => Some(Some(s)),
                Err(e) => {
                    errors.push(at("/failOn", e));
                    None
                }
            },
        };
        let mut suppressions = Vec::new();
        for (i, s) in raw.suppressions.iter().enumerate() {
            let base = format!("/suppressions/{i}");
            let Some(rule) = registry::find(&s.rule) else {
                errors.push(at(
                    &format!("{base}/rule"),
                    format!("unknown rule `{}`", s.rule),
                ));
                continue;
            };
            let Some(reason) = s.reason.clone().filter(|r| !r.trim().is_empty()) else {
                errors.push(at(&base, "a suppression needs a `reason`".to_owned()));
                continue;
            };
            let expires = match s.expires.as_deref().map(str::parse::<jiff::civil::Date>) {
                None => None,
                Some(Ok(d)) => Some(d),
                Some(Err(_)) => {
                    errors.push(at(
                        &format!("{base}/expires"),
                        "`expires` must be a date like 2027-01-31".to_owned(),
                    ));
                    continue;
                }
            };
            suppressions.push(Suppression {
                rule: rule.meta().name.to_owned(),
                namespace: s.namespace.clone(),
                name: s.name.clone(),
                host: s.host.clone(),
                reason,
                expires,
                line: yaml::locate(doc, &[base.as_str()])[0].map(|p| p.line),
            });
        }
        let mut paths = |field: &str, given: &Option<Vec<String>>, default: &[&str]| {
            let Some(list) = given else {
                return owned(default);
            };
            for (i, p) in list.iter().enumerate() {
                if !p.starts_with('/') {
                    errors.push(at(
                        &format!("/{field}/{i}"),
                        format!("`{p}` is not a path: paths start with `/`"),
                    ));
                }
            }
            list.clone()
        };
        let sensitive_paths = paths(
            "sensitivePaths",
            &raw.sensitive_paths,
            DEFAULT_SENSITIVE_PATHS,
        );
        let auth_exempt_paths = paths(
            "authExemptPaths",
            &raw.auth_exempt_paths,
            DEFAULT_AUTH_EXEMPT_PATHS,
        );
        let rate_limited_paths = paths(
            "rateLimitedPaths",
            &raw.rate_limited_paths,
            DEFAULT_RATE_LIMITED_PATHS,
        );
        let mut hosts = |field: &str, list: &[String]| {
            for (i, h) in list.iter().enumerate() {
                if h.trim().is_empty() {
                    errors.push(at(
                        &format!("/{field}/{i}"),
                        "a host glob cannot be empty (`*` matches every host)".to_owned(),
                    ));
                }
            }
            list.iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        };
        let auth_required_hosts = hosts("authRequiredHosts", &raw.auth_required_hosts);
        let public_hosts = hosts("publicHosts", &raw.public_hosts);
        let waf_required_hosts = hosts("wafRequiredHosts", &raw.waf_required_hosts);
        let mut trusted_cidrs = Vec::new();
        for (i, c) in raw.trusted_cidrs.iter().enumerate() {
            match c.parse::<Cidr>() {
                Ok(c) => trusted_cidrs.push(c),
                Err(e) => errors.push(at(&format!("/trustedCidrs/{i}"), e)),
            }
        }
        let expiry = raw.certificate_expiry.as_ref();
        let warn_days = expiry
            .and_then(|e| e.warn_days)
            .unwrap_or(DEFAULT_CERTIFICATE_WARN_DAYS);
        let high_days = expiry
            .and_then(|e| e.high_days)
            .unwrap_or(DEFAULT_CERTIFICATE_HIGH_DAYS);
        if warn_days < 0 || high_days < 0 || high_days > warn_days {
            errors.push(at(
                "/certificateExpiry",
                format!(
                    "need 0 <= highDays <= warnDays (got warnDays {warn_days}, highDays \
                     {high_days})"
                ),
            ));
        }
        if let Some(maps) = &raw.history.config_maps {
            for (i, m) in maps.iter().enumerate() {
                if m.split_once('/')
                    .is_none_or(|(ns, name)| ns.is_empty() || name.is_empty())
                {
                    errors.push(at(
                        &format!("/history/configMaps/{i}"),
                        format!("`{m}` is not `namespace/name`"),
                    ));
                }
            }
        }
        if let Some(listen) = &raw.serve.listen
            && listen.parse::<std::net::SocketAddr>().is_err()
        {
            errors.push(at(
                "/serve/listen",
                format!("`{listen}` is not an address and port (`0.0.0.0:8080`)"),
            ));
        }
        if raw.serve.admission.on()
            && (raw.serve.admission.cert_file.is_none() || raw.serve.admission.key_file.is_none())
        {
            errors.push(at(
                "/serve/admission",
                "the admission webhook needs `certFile` and `keyFile` (the API server calls it \
                 over TLS only)"
                    .to_owned(),
            ));
        }
        if let Some(listen) = &raw.serve.admission.listen
            && listen.parse::<std::net::SocketAddr>().is_err()
        {
            errors.push(at(
                "/serve/admission/listen",
                format!("`{listen}` is not an address and port (`0.0.0.0:8443`)"),
            ));
        }
        for (i, report) in raw.serve.reports.iter().enumerate() {
            if crate::compliance::framework::find(&report.framework).is_none() {
                errors.push(at(
                    &format!("/serve/reports/{i}/framework"),
                    format!(
                        "unknown framework `{}` (one of {})",
                        report.framework,
                        crate::compliance::framework::names().join(", ")
                    ),
                ));
            }
            if !matches!(report.format(), "html" | "markdown" | "json") {
                errors.push(at(
                    &format!("/serve/reports/{i}/format"),
                    "the format is `html`, `markdown` or `json`".to_owned(),
                ));
            }
        }
        for (i, sink) in raw.serve.alerts.sinks.iter().enumerate() {
            if sink.url.is_some() == sink.url_env.is_some() {
                errors.push(at(
                    &format!("/serve/alerts/sinks/{i}"),
                    "give the receiver as exactly one of `url` or `urlEnv`".to_owned(),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config {
            path: Some(path.to_owned()),
            select: raw.select,
            ignore: raw.ignore,
            severity,
            fail_on,
            strict: raw.strict,
            suppressions,
            options: RuleOptions {
                allowed_domains: raw.allowed_domains,
                sensitive_paths,
                auth_exempt_paths,
                auth_required_hosts,
                public_hosts,
                trusted_cidrs,
                rate_limited_paths,
                waf_required_hosts,
                certificate_warn_days: warn_days,
                certificate_high_days: high_days,
            },
            detectors: raw.detectors,
            history: raw.history,
            serve: raw.serve,
        })
    }
}

/// Shell-style glob: `*` any run of characters, `?` one character. Case-sensitive.
#[must_use]
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_config_is_read() {
        let c = Config::parse(
            "tollgate.yaml",
            "select: [all]\nignore: [TG101]\nseverity: {tls-missing: critical}\nfailOn: medium\nallowedDomains: [example.com]\nsuppressions:\n  - rule: tls-missing\n    namespace: shop\n    reason: LB terminates TLS\n    expires: 2027-01-31\n",
        )
        .unwrap();
        assert_eq!(c.severity.get("tls-missing"), Some(&Severity::Critical));
        assert_eq!(c.fail_on, Some(Some(Severity::Medium)));
        assert_eq!(c.suppressions[0].line, Some(7));
        assert_eq!(c.options.allowed_domains, ["example.com"]);
    }

    #[test]
    fn errors_point_into_the_config() {
        let errs = Config::parse(
            "tollgate.yaml",
            "select:\n  - wildcard-host\n  - no-such-rule\nseverity: {tls-missing: urgent}\nsuppressions:\n  - rule: tls-missing\n",
        )
        .unwrap_err();
        let lines: Vec<_> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, [Some(3), Some(4), Some(6)], "{errs:?}");
        assert!(errs[2].message.contains("reason"));
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let errs = Config::parse("c.yaml", "select: [all]\nfailon: high\n").unwrap_err();
        assert!(
            errs[0].message.contains("unknown field `failon`"),
            "{errs:?}"
        );
    }

    #[test]
    fn access_control_options_have_documented_defaults() {
        let c = Config::parse("c.yaml", "select: [all]\n").unwrap();
        let o = &c.options;
        assert!(o.sensitive_paths.iter().any(|p| p == "/admin"));
        assert!(o.auth_exempt_paths.iter().any(|p| p == "/.well-known/"));
        assert!(o.rate_limited_paths.iter().any(|p| p == "/login"));
        assert!(o.auth_required_hosts.is_empty() && o.public_hosts.is_empty());
        assert!(o.trusted_cidrs.is_empty() && o.waf_required_hosts.is_empty());
        assert_eq!(
            Config::default().options.sensitive_paths,
            o.sensitive_paths,
            "no config file means the same defaults"
        );
    }

    #[test]
    fn access_control_options_replace_the_defaults() {
        let c = Config::parse(
            "c.yaml",
            "sensitivePaths: [/ops]\nauthExemptPaths: []\nauthRequiredHosts: [\"*.Internal.example.com\"]\npublicHosts: [status.internal.example.com]\ntrustedCidrs: [100.64.0.0/10, \"2001:db8::/16\", 10.1.2.3]\nrateLimitedPaths: [/api/session]\nwafRequiredHosts: [\"*\"]\n",
        )
        .unwrap();
        let o = &c.options;
        assert_eq!(o.sensitive_paths, ["/ops"]);
        assert!(o.auth_exempt_paths.is_empty());
        assert_eq!(o.auth_required_hosts, ["*.internal.example.com"]);
        assert_eq!(o.public_hosts, ["status.internal.example.com"]);
        let cidrs: Vec<String> = o.trusted_cidrs.iter().map(ToString::to_string).collect();
        assert_eq!(cidrs, ["100.64.0.0/10", "2001::/16", "10.1.2.3/32"]);
        assert_eq!(o.rate_limited_paths, ["/api/session"]);
        assert_eq!(o.waf_required_hosts, ["*"]);
    }

    #[test]
    fn invalid_cidrs_and_paths_are_errors_at_their_line() {
        let errs = Config::parse(
            "c.yaml",
            "trustedCidrs:\n  - 10.0.0.0/8\n  - 10.0.0.0/33\n  - corp-vpn\nsensitivePaths: [admin]\npublicHosts: [\"\"]\n",
        )
        .unwrap_err();
        let lines: Vec<_> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, [Some(5), Some(6), Some(3), Some(4)], "{errs:?}");
        assert!(errs[0].message.contains("start with `/`"), "{errs:?}");
        assert!(errs[2].message.contains("0 to 32"), "{errs:?}");
        assert!(errs[3].message.contains("not an IP address"), "{errs:?}");
    }

    #[test]
    fn cidrs_parse_by_hand_and_contain_their_subnets() {
        let c = |s: &str| s.parse::<Cidr>().unwrap();
        assert_eq!(c("10.1.2.3/8"), c("10.0.0.0/8"), "host bits are cleared");
        assert_eq!(c("192.0.2.7").prefix(), 32);
        assert_eq!(c("2001:db8::1").prefix(), 128);
        assert!(c("0.0.0.0/0").is_everything() && c("::/0").is_everything());
        assert!(c("10.0.0.0/8").contains(&c("10.20.0.0/16")));
        assert!(!c("10.20.0.0/16").contains(&c("10.0.0.0/8")));
        assert!(!c("10.0.0.0/8").contains(&c("11.0.0.0/16")));
        assert!(c("0.0.0.0/0").contains(&c("203.0.113.0/24")));
        assert!(!c("0.0.0.0/0").contains(&c("::/0")), "families do not mix");
        assert!(c("fc00::/7").contains(&c("fd12:3456::/48")));
        for bad in [
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "::/129",
            "10.0.0/8",
            "",
            "a/8",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn globs_match_like_a_shell() {
        assert!(glob_matches("web-*", "web-frontend"));
        assert!(glob_matches("*.example.com", "a.example.com"));
        assert!(!glob_matches("web-?", "web-12"));
        assert!(glob_matches("*", ""));
        assert!(!glob_matches("shop", "shops"));
    }
}
