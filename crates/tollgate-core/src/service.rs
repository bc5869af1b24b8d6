//! The `serve:` section of tollgate.yaml: what `tollgate serve` runs, where it listens, who may
//! call it and where its alerts go. Every part can be switched off; every default is written here.

use serde::Deserialize;

use crate::rules::Severity;

/// `serve:` in tollgate.yaml.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServeConfig {
    /// The HTTP listener (API, dashboard, metrics, intake): `127.0.0.1:8080` when unset.
    pub listen: Option<String>,
    /// The address people reach the dashboard at, for the links in alerts
    /// (`https://tollgate.example.com`); `http://` + the listener when unset.
    pub public_url: Option<String>,
    /// Tokens and who may read.
    #[serde(default)]
    pub auth: ServeAuth,
    /// Request size and time limits.
    #[serde(default)]
    pub limits: ServeLimits,
    /// Change tracking from the cluster (the watch of `tollgate watch`).
    #[serde(default)]
    pub watch: WatchSection,
    /// The periodic full scan.
    #[serde(default)]
    pub scan: ScanSection,
    /// The Kubernetes audit webhook endpoint.
    #[serde(default)]
    pub audit: Toggle,
    /// The access-log intake endpoint.
    #[serde(default)]
    pub logs: LogsSection,
    /// Alert triggers and delivery.
    #[serde(default)]
    pub alerts: AlertsConfig,
    /// The validating admission webhook, on its own TLS listener.
    #[serde(default)]
    pub admission: AdmissionSection,
    /// Compliance reports generated on a schedule, kept in the store and listed on the
    /// dashboard.
    #[serde(default)]
    pub reports: Vec<ReportSchedule>,
    /// The audit and log intake also on a TLS listener that requires a client certificate
    /// (mTLS: the API server's `--audit-webhook-config-file` can present one); no token there.
    pub intake_tls: Option<IntakeTls>,
}

/// One scheduled report (`serve.reports[]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReportSchedule {
    /// The framework (`tollgate report --framework`).
    pub framework: String,
    /// `html` (default), `markdown` or `json`.
    pub format: Option<String>,
    /// Hours between reports: 24 when unset. Each covers the changes since the one before.
    pub every_hours: Option<u64>,
    /// Reports kept per framework and format: 30 when unset.
    pub keep: Option<u32>,
}

impl ReportSchedule {
    /// The format.
    #[must_use]
    pub fn format(&self) -> &str {
        self.format.as_deref().unwrap_or("html")
    }

    /// The period, in hours.
    #[must_use]
    pub fn hours(&self) -> u64 {
        self.every_hours.unwrap_or(24).max(1)
    }
}

/// `serve.intakeTls`: the intake over mutual TLS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IntakeTls {
    /// The listener: `0.0.0.0:8444` when unset.
    pub listen: Option<String>,
    /// The server's PEM certificate chain.
    pub cert_file: String,
    /// The server's PEM private key.
    pub key_file: String,
    /// The CA (PEM) client certificates must chain to: a client without one is refused during
    /// the handshake.
    pub client_ca_file: String,
}

/// `serve.admission`: `POST /admission/validate` on its own TLS port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdmissionSection {
    /// On only when `true` (it needs a certificate).
    pub enabled: Option<bool>,
    /// The TLS listener: `0.0.0.0:8443` when unset.
    pub listen: Option<String>,
    /// The PEM certificate chain (reloaded when the file changes: cert-manager renews it in place).
    pub cert_file: Option<String>,
    /// The PEM private key.
    pub key_file: Option<String>,
    /// Largest AdmissionReview body: 1 MiB when unset.
    pub body_bytes: Option<usize>,
    /// The answer is given within this many milliseconds whatever happens (below the webhook's
    /// `timeoutSeconds`, 10 s by default in Kubernetes): 2000 when unset. A review not judged in
    /// time is allowed, with a warning and an audit annotation (the `failurePolicy: Ignore`
    /// behaviour, made explicit).
    pub budget_millis: Option<u64>,
    /// What each finding does: per rule, else by severity (`denyAt` high, `warnAt` low).
    #[serde(default)]
    pub actions: crate::admission::ActionPolicy,
    /// The webhook's name in the ValidatingWebhookConfiguration: an audit event saying the API
    /// server failed open on it raises an alert. `validate.tollgate.io` when unset.
    pub webhook_name: Option<String>,
}

impl AdmissionSection {
    /// Whether the webhook runs.
    #[must_use]
    pub fn on(&self) -> bool {
        self.enabled.unwrap_or(false)
    }

    /// The body limit.
    #[must_use]
    pub fn body_limit(&self) -> usize {
        self.body_bytes.unwrap_or(1 << 20)
    }

    /// The answer budget.
    #[must_use]
    pub fn budget(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.budget_millis.unwrap_or(2_000).max(50))
    }

    /// The webhook's name.
    #[must_use]
    pub fn webhook(&self) -> &str {
        self.webhook_name
            .as_deref()
            .unwrap_or("validate.tollgate.io")
    }
}

/// An on/off switch, on unless set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Toggle {
    /// Off only when `false`.
    pub enabled: Option<bool>,
}

impl Toggle {
    /// Whether the part runs.
    #[must_use]
    pub fn on(&self) -> bool {
        self.enabled.unwrap_or(true)
    }
}

/// Tokens are read from environment variables (mounted from a Secret), never from the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServeAuth {
    /// The variable holding the bearer token for reads (API, dashboard, metrics):
    /// `TOLLGATE_READ_TOKEN` when unset.
    pub read_token_env: Option<String>,
    /// The variable holding the bearer token for the audit and log intake:
    /// `TOLLGATE_INTAKE_TOKEN` when unset.
    pub intake_token_env: Option<String>,
    /// Let clients on a loopback address read without a token (`kubectl port-forward` arrives
    /// on loopback): true when unset.
    pub open_reads_on_loopback: Option<bool>,
    /// Let clients on a loopback address post to the intake without a token: false when unset.
    pub open_intake_on_loopback: Option<bool>,
}

impl ServeAuth {
    /// The read token's variable.
    #[must_use]
    pub fn read_env(&self) -> &str {
        self.read_token_env
            .as_deref()
            .unwrap_or("TOLLGATE_READ_TOKEN")
    }

    /// The intake token's variable.
    #[must_use]
    pub fn intake_env(&self) -> &str {
        self.intake_token_env
            .as_deref()
            .unwrap_or("TOLLGATE_INTAKE_TOKEN")
    }
}

/// Limits on what one request may cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServeLimits {
    /// Largest audit webhook body: 12 MiB when unset (the API server's batches stay under
    /// 10 MiB when it truncates).
    pub audit_body_bytes: Option<usize>,
    /// Largest log intake body: 8 MiB when unset.
    pub log_body_bytes: Option<usize>,
    /// Requests taking longer are answered 503: 30 s when unset.
    pub request_timeout_seconds: Option<u64>,
}

impl ServeLimits {
    /// The audit body limit.
    #[must_use]
    pub fn audit_body(&self) -> usize {
        self.audit_body_bytes.unwrap_or(12 << 20)
    }

    /// The log body limit.
    #[must_use]
    pub fn log_body(&self) -> usize {
        self.log_body_bytes.unwrap_or(8 << 20)
    }

    /// The request timeout.
    #[must_use]
    pub fn timeout_seconds(&self) -> u64 {
        self.request_timeout_seconds.unwrap_or(30)
    }
}

/// `serve.watch`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WatchSection {
    /// On when a cluster is reachable, unless `false`.
    pub enabled: Option<bool>,
    /// The Lease (`namespace/name`) replicas elect the one writer with; every replica records
    /// when unset (fine for one replica).
    pub lease: Option<String>,
    /// The Lease duration: 15 s when unset.
    pub lease_seconds: Option<u32>,
}

/// `serve.scan`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScanSection {
    /// Off only when `false`.
    pub enabled: Option<bool>,
    /// Seconds between full scans: 300 when unset. A watched change to an Ingress, Service,
    /// Secret, NetworkPolicy, or a Gateway API or access-policy object also starts one
    /// (debounced).
    pub interval_seconds: Option<u64>,
    /// Manifest files or folders to scan instead of the cluster (and `tollgate serve PATH...`).
    #[serde(default)]
    pub paths: Vec<String>,
}

impl ScanSection {
    /// The scan interval.
    #[must_use]
    pub fn interval(&self) -> u64 {
        self.interval_seconds.unwrap_or(300).max(5)
    }
}

/// `serve.logs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogsSection {
    /// Off only when `false`.
    pub enabled: Option<bool>,
    /// The format posted lines are in when a request names none: detected per line when unset.
    pub format: Option<String>,
}

/// `serve.alerts`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AlertsConfig {
    /// Where alerts go; they are stored and shown on the dashboard either way.
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
    /// New findings at or above this severity alert: `high` when unset.
    pub finding_severity: Option<Severity>,
    /// An alert with the same key within this many seconds is counted on the first, not sent
    /// again: 3600 when unset.
    pub dedup_seconds: Option<u64>,
    /// An access alert on a route changed within this many minutes carries the change: 30 when
    /// unset.
    pub correlation_minutes: Option<u64>,
    /// How long a risky change waits for its audit event (to name who made it) before it is
    /// sent with what the managed fields say: 15 s when unset.
    pub attribution_wait_seconds: Option<u64>,
    /// Certificates expiring within this many days alert (once per certificate and day
    /// count): 14 when unset.
    pub certificate_days: Option<i64>,
    /// Delivery attempts per sink before an alert is marked failed: 5 when unset (backoff 1 s,
    /// 2 s, 4 s, ... up to 60 s).
    pub max_attempts: Option<u32>,
}

impl AlertsConfig {
    /// The finding severity that alerts.
    #[must_use]
    pub fn finding_threshold(&self) -> Severity {
        self.finding_severity.unwrap_or(Severity::High)
    }

    /// The dedup window.
    #[must_use]
    pub fn dedup(&self) -> u64 {
        self.dedup_seconds.unwrap_or(3600)
    }

    /// The correlation window.
    #[must_use]
    pub fn correlation(&self) -> u64 {
        self.correlation_minutes.unwrap_or(30)
    }

    /// The attribution wait.
    #[must_use]
    pub fn attribution_wait(&self) -> u64 {
        self.attribution_wait_seconds.unwrap_or(15)
    }

    /// The certificate horizon.
    #[must_use]
    pub fn certificate_horizon_days(&self) -> i64 {
        self.certificate_days.unwrap_or(14)
    }

    /// Delivery attempts.
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.max_attempts.unwrap_or(5).max(1)
    }
}

/// What kind of receiver a sink is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    /// POST the alert as JSON.
    Webhook,
    /// A Slack incoming webhook.
    Slack,
    /// Alertmanager's API v2 (`POST /api/v2/alerts`).
    Alertmanager,
}

impl SinkKind {
    /// The config spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SinkKind::Webhook => "webhook",
            SinkKind::Slack => "slack",
            SinkKind::Alertmanager => "alertmanager",
        }
    }
}

/// The alert triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// A new finding at or above `findingSeverity`.
    Finding,
    /// A change that newly violates a rule (with actor and diff).
    RiskyChange,
    /// A refused write that would have violated a rule.
    DeniedChange,
    /// An access-log detector fired.
    Access,
    /// A certificate expires soon.
    Certificate,
    /// The API server let a request through without asking the admission webhook
    /// (`failurePolicy: Ignore` and the webhook unreachable): the `failed-open` audit annotation.
    AdmissionFailedOpen,
}

impl Trigger {
    /// Every trigger.
    pub const ALL: [Trigger; 6] = [
        Trigger::Finding,
        Trigger::RiskyChange,
        Trigger::DeniedChange,
        Trigger::Access,
        Trigger::Certificate,
        Trigger::AdmissionFailedOpen,
    ];

    /// The config and API spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Finding => "finding",
            Trigger::RiskyChange => "risky-change",
            Trigger::DeniedChange => "denied-change",
            Trigger::Access => "access",
            Trigger::Certificate => "certificate",
            Trigger::AdmissionFailedOpen => "admission-failed-open",
        }
    }

    /// The trigger spelled `text`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// One alert receiver.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SinkConfig {
    /// A name for metrics and the dashboard: the type when unset.
    pub name: Option<String>,
    /// The receiver kind.
    #[serde(rename = "type")]
    pub kind: SinkKind,
    /// The receiver URL (for Alertmanager, its base URL: `/api/v2/alerts` is appended).
    pub url: Option<String>,
    /// The variable holding the URL instead (a Slack webhook URL is a secret).
    pub url_env: Option<String>,
    /// The variable holding a bearer token sent as `Authorization`.
    pub bearer_token_env: Option<String>,
    /// Only these triggers (every trigger when unset).
    pub triggers: Option<Vec<Trigger>>,
    /// Only alerts at or above this severity: every alert when unset.
    pub min_severity: Option<Severity>,
    /// Seconds per delivery attempt: 10 when unset.
    pub timeout_seconds: Option<u64>,
}

impl SinkConfig {
    /// The sink's name.
    #[must_use]
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(self.kind.as_str())
    }

    /// Whether this sink takes an alert of `trigger` at `severity`.
    #[must_use]
    pub fn takes(&self, trigger: Trigger, severity: Severity) -> bool {
        self.triggers
            .as_ref()
            .is_none_or(|triggers| triggers.contains(&trigger))
            && self.min_severity.is_none_or(|min| severity >= min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = ServeConfig::default();
        assert_eq!(config.auth.read_env(), "TOLLGATE_READ_TOKEN");
        assert_eq!(config.limits.audit_body(), 12 << 20);
        assert_eq!(config.scan.interval(), 300);
        assert_eq!(config.alerts.finding_threshold(), Severity::High);
        assert!(config.audit.on());
    }

    #[test]
    fn sinks_filter_by_trigger_and_severity() {
        let sink: SinkConfig = serde_json::from_value(serde_json::json!({
            "type": "slack", "urlEnv": "SLACK_URL", "triggers": ["risky-change", "access"],
            "minSeverity": "high"
        }))
        .unwrap();
        assert_eq!(sink.label(), "slack");
        assert!(sink.takes(Trigger::Access, Severity::Critical));
        assert!(!sink.takes(Trigger::Access, Severity::Medium));
        assert!(!sink.takes(Trigger::Finding, Severity::Critical));
        let bad = serde_json::from_value::<SinkConfig>(serde_json::json!({"type": "pager"}));
        assert!(bad.is_err());
    }
}
