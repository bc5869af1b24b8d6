//! `/metrics`: the Prometheus families of the service, in one explicit registry (no global
//! state, so tests can run services side by side). The names are a public interface: the chart's
//! Grafana dashboard and PrometheusRule use them.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::App;

type Labels<const N: usize> = [(&'static str, String); N];
type HistogramFamily = Family<Labels<1>, Histogram, fn() -> Histogram>;

/// Every family the service exports.
pub struct Metrics {
    registry: Registry,
    findings: Family<Labels<4>, Gauge>,
    certificate_expiry: Family<Labels<4>, Gauge<f64, AtomicU64>>,
    changes: Family<Labels<4>, Counter>,
    access_requests: Family<Labels<3>, Counter>,
    access_alerts: Family<Labels<3>, Counter>,
    log_lines: Family<Labels<2>, Counter>,
    audit_received: Family<Labels<1>, Counter>,
    audit_duplicates: Family<Labels<1>, Counter>,
    alerts: Family<Labels<3>, Counter>,
    deliveries: Family<Labels<2>, Counter>,
    scan_duration: HistogramFamily,
    scan_last_success: Family<Labels<1>, Gauge>,
    leader: Family<Labels<1>, Gauge>,
    refused: Family<Labels<1>, Counter>,
    admission: Family<Labels<3>, Counter>,
    admission_seconds: Histogram,
}

fn scan_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.05, 2.0, 12))
}

impl Metrics {
    /// The registry with every family registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tollgate");
        let findings = Family::default();
        registry.register(
            "findings",
            "Open findings of the latest scan by rule, severity and namespace",
            findings.clone(),
        );
        let certificate_expiry = Family::default();
        registry.register(
            "certificate_expiry_seconds",
            "Seconds until the certificate of a TLS Secret expires (negative once expired), with the hosts it serves",
            certificate_expiry.clone(),
        );
        let changes = Family::default();
        registry.register(
            "changes",
            "Changes recorded, by kind, kind of actor (gitops, user, serviceaccount, system, unknown) and whether risky",
            changes.clone(),
        );
        let access_requests = Family::default();
        registry.register(
            "access_requests",
            "Requests received by the log intake, by route and status class",
            access_requests.clone(),
        );
        let access_alerts = Family::default();
        registry.register(
            "access_alerts",
            "Access-log detector alerts, by route and detector",
            access_alerts.clone(),
        );
        let log_lines = Family::default();
        registry.register(
            "log_lines",
            "Access-log lines acknowledged by the intake, parsed or malformed",
            log_lines.clone(),
        );
        let audit_received = Family::default();
        registry.register(
            "audit_events_received",
            "Kubernetes audit events received by the webhook",
            audit_received.clone(),
        );
        let audit_duplicates = Family::default();
        registry.register(
            "audit_events_duplicate",
            "Audit events received again (redelivered) and stored once",
            audit_duplicates.clone(),
        );
        let alerts = Family::default();
        registry.register(
            "alerts",
            "Alerts raised (after dedup), by trigger and severity",
            alerts.clone(),
        );
        let deliveries = Family::default();
        registry.register(
            "alert_deliveries",
            "Alert delivery attempts by sink and outcome (delivered, retried, failed)",
            deliveries.clone(),
        );
        let scan_duration = HistogramFamily::new_with_constructor(scan_histogram);
        registry.register(
            "scan_duration_seconds",
            "How long a full scan took",
            scan_duration.clone(),
        );
        let scan_last_success = Family::default();
        registry.register(
            "scan_last_success_timestamp_seconds",
            "When the latest scan finished",
            scan_last_success.clone(),
        );
        let leader = Family::default();
        registry.register(
            "leader",
            "1 on the replica that records changes and raises alerts",
            leader.clone(),
        );
        let refused = Family::default();
        registry.register(
            "requests_refused",
            "Requests refused for want of a valid token, by endpoint group",
            refused.clone(),
        );
        let admission = Family::default();
        registry.register(
            "admission_reviews",
            "AdmissionReviews answered, by cluster, operation and verdict (allowed, warned, denied, timed-out, error)",
            admission.clone(),
        );
        let admission_seconds = Histogram::new(exponential_buckets(0.000_5, 2.0, 14));
        registry.register(
            "admission_review_seconds",
            "Time to answer an AdmissionReview",
            admission_seconds.clone(),
        );
        Metrics {
            admission,
            admission_seconds,
            registry,
            findings,
            certificate_expiry,
            changes,
            access_requests,
            access_alerts,
            log_lines,
            audit_received,
            audit_duplicates,
            alerts,
            deliveries,
            scan_duration,
            scan_last_success,
            leader,
            refused,
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }

    /// Replaces the findings gauges with a scan's counts: (rule, severity, namespace) → count.
    pub fn set_findings(
        &self,
        cluster: &str,
        counts: &std::collections::BTreeMap<(String, String, String), i64>,
    ) {
        self.findings.clear();
        for ((rule, severity, namespace), count) in counts {
            self.findings
                .get_or_create(&[
                    ("cluster", cluster.to_owned()),
                    ("rule", rule.clone()),
                    ("severity", severity.clone()),
                    ("namespace", namespace.clone()),
                ])
                .set(*count);
        }
    }

    /// Replaces the certificate gauges: (namespace, secret, hosts, seconds left).
    pub fn set_certificates(&self, cluster: &str, rows: &[(String, String, String, f64)]) {
        self.certificate_expiry.clear();
        for (namespace, secret, hosts, seconds) in rows {
            self.certificate_expiry
                .get_or_create(&[
                    ("cluster", cluster.to_owned()),
                    ("namespace", namespace.clone()),
                    ("secret", secret.clone()),
                    ("hosts", hosts.clone()),
                ])
                .set(*seconds);
        }
    }

    /// Counts a recorded change.
    pub fn change(&self, cluster: &str, kind: &str, actor_kind: &str, risky: bool) {
        self.changes
            .get_or_create(&[
                ("cluster", cluster.to_owned()),
                ("kind", kind.to_owned()),
                ("actor_kind", actor_kind.to_owned()),
                ("risky", risky.to_string()),
            ])
            .inc();
    }

    /// Counts requests of one route and status class.
    pub fn requests(&self, cluster: &str, route: &str, status_class: &str, count: u64) {
        self.access_requests
            .get_or_create(&[
                ("cluster", cluster.to_owned()),
                ("route", route.to_owned()),
                ("status_class", status_class.to_owned()),
            ])
            .inc_by(count);
    }

    /// Counts a detector alert.
    pub fn access_alert(&self, cluster: &str, route: &str, detector: &str) {
        self.access_alerts
            .get_or_create(&[
                ("cluster", cluster.to_owned()),
                ("route", route.to_owned()),
                ("detector", detector.to_owned()),
            ])
            .inc();
    }

    /// Counts acknowledged log lines.
    pub fn log_lines(&self, cluster: &str, parsed: u64, malformed: u64) {
        for (outcome, count) in [("parsed", parsed), ("malformed", malformed)] {
            self.log_lines
                .get_or_create(&[
                    ("cluster", cluster.to_owned()),
                    ("outcome", outcome.to_owned()),
                ])
                .inc_by(count);
        }
    }

    /// Counts received and duplicate audit events.
    pub fn audit(&self, cluster: &str, received: u64, duplicates: u64) {
        self.audit_received
            .get_or_create(&[("cluster", cluster.to_owned())])
            .inc_by(received);
        self.audit_duplicates
            .get_or_create(&[("cluster", cluster.to_owned())])
            .inc_by(duplicates);
    }

    /// Counts a raised alert.
    pub fn alert(&self, cluster: &str, trigger: &str, severity: &str) {
        self.alerts
            .get_or_create(&[
                ("cluster", cluster.to_owned()),
                ("trigger", trigger.to_owned()),
                ("severity", severity.to_owned()),
            ])
            .inc();
    }

    /// Counts a delivery attempt's outcome.
    pub fn delivery(&self, sink: &str, outcome: &str) {
        self.deliveries
            .get_or_create(&[("sink", sink.to_owned()), ("outcome", outcome.to_owned())])
            .inc();
    }

    /// Records a finished scan.
    pub fn scan(&self, cluster: &str, seconds: f64, finished_unix: i64) {
        self.scan_duration
            .get_or_create(&[("cluster", cluster.to_owned())])
            .observe(seconds);
        self.scan_last_success
            .get_or_create(&[("cluster", cluster.to_owned())])
            .set(finished_unix);
    }

    /// Whether this replica leads.
    pub fn set_leader(&self, cluster: &str, leader: bool) {
        self.leader
            .get_or_create(&[("cluster", cluster.to_owned())])
            .set(i64::from(leader));
    }

    /// Counts an answered AdmissionReview.
    pub fn admission(
        &self,
        cluster: &str,
        operation: &str,
        verdict: &str,
        took: std::time::Duration,
    ) {
        self.admission
            .get_or_create(&[
                ("cluster", cluster.to_owned()),
                ("operation", operation.to_owned()),
                ("verdict", verdict.to_owned()),
            ])
            .inc();
        self.admission_seconds.observe(took.as_secs_f64());
    }

    /// Counts a refused request.
    pub fn refused(&self, group: &str) {
        self.refused
            .get_or_create(&[("endpoint", group.to_owned())])
            .inc();
    }
}

/// `GET /metrics`.
pub async fn handler(State(app): State<Arc<App>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_render_with_their_labels() {
        let metrics = Metrics::new();
        metrics.change("prod", "Ingress", "user", true);
        metrics.requests("prod", "shop/web|shop.example.com|/", "4xx", 20);
        metrics.delivery("hook", "failed");
        let text = metrics.render();
        assert!(text.contains(
            "tollgate_changes_total{cluster=\"prod\",kind=\"Ingress\",actor_kind=\"user\",risky=\"true\"} 1"
        ), "{text}");
        assert!(text.contains("tollgate_access_requests_total{cluster=\"prod\",route=\"shop/web|shop.example.com|/\",status_class=\"4xx\"} 20"));
        assert!(
            text.contains("tollgate_alert_deliveries_total{sink=\"hook\",outcome=\"failed\"} 1")
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
