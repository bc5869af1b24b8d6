//! Alerts: raised by the scanner (new findings, expiring certificates), by the change tracker
//! (risky and denied changes) and by the log detectors; stored first, deduplicated per key within
//! the dedup window (a repeat is counted on the first alert and not sent again), then delivered
//! to each sink that takes its trigger and severity, with retries and backoff. Delivery state is
//! stored per alert and sink, so failures show on the dashboard and in the metrics, and pending
//! deliveries resume after a restart.
//!
//! Every alert says what happened, who did it (when known), where (cluster, namespace, object,
//! route), and links back to the dashboard.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tollgate_core::rules::Severity;
use tollgate_core::service::{AlertsConfig, SinkConfig, SinkKind, Trigger};
use tollgate_store::{HistoryFilter, NewAlert, Raised, StoredAlert};

use super::App;

/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// One delivery to do: an alert to one sink.
#[derive(Debug, Clone)]
pub struct Job {
    alert: StoredAlert,
    sink: usize,
    attempts: u32,
}

/// A sink with its secrets resolved.
#[derive(Debug, Clone)]
struct Sink {
    config: SinkConfig,
    url: Option<String>,
    token: Option<String>,
}

/// Raises alerts and queues their deliveries.
pub struct Hub {
    sinks: Vec<Sink>,
    sender: mpsc::UnboundedSender<Job>,
    dedup_ms: i64,
    max_attempts: u32,
}

impl Hub {
    /// The hub and the queue [`deliver`] drains.
    pub fn new(config: &AlertsConfig) -> (Hub, mpsc::UnboundedReceiver<Job>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let sinks = config
            .sinks
            .iter()
            .map(|sink| Sink {
                url: sink
                    .url
                    .clone()
                    .or_else(|| sink.url_env.as_ref().and_then(|v| std::env::var(v).ok())),
                token: sink
                    .bearer_token_env
                    .as_ref()
                    .and_then(|v| std::env::var(v).ok()),
                config: sink.clone(),
            })
            .collect();
        let hub = Hub {
            sinks,
            sender,
            dedup_ms: i64::try_from(config.dedup()).unwrap_or(3600) * 1_000,
            max_attempts: config.attempts(),
        };
        (hub, receiver)
    }

    /// The names of the sinks, for the dashboard.
    pub fn sink_names(&self) -> Vec<String> {
        self.sinks
            .iter()
            .map(|s| s.config.label().to_owned())
            .collect()
    }

    /// Stores an alert (or counts it on the same key's recent alert) and queues its deliveries.
    /// Returns the alert when it is new.
    ///
    /// # Errors
    /// The store failed.
    pub async fn raise(
        &self,
        app: &App,
        trigger: Trigger,
        severity: Severity,
        alert: NewAlert,
    ) -> anyhow::Result<Option<StoredAlert>> {
        let takers: Vec<usize> = (0..self.sinks.len())
            .filter(|&i| self.sinks[i].config.takes(trigger, severity))
            .collect();
        let names: Vec<String> = takers
            .iter()
            .map(|&i| self.sinks[i].config.label().to_owned())
            .collect();
        let now_ms = jiff::Timestamp::now().as_millisecond();
        let raised = {
            let _guard = app.raise_lock.lock().await;
            app.store
                .raise_alert(&alert, now_ms, self.dedup_ms, &names)
                .await?
        };
        let Raised::New(stored) = raised else {
            return Ok(None);
        };
        app.metrics
            .alert(&alert.cluster, trigger.as_str(), severity.as_str());
        tracing::info!("alert {}: {}", stored.id, stored.alert.title);
        let stored = *stored;
        for sink in takers {
            let _ = self.sender.send(Job {
                alert: stored.clone(),
                sink,
                attempts: 0,
            });
        }
        Ok(Some(stored))
    }
}

/// Delivers queued alerts until the service stops; each delivery runs on its own, so a slow
/// receiver delays nobody else. Pending deliveries from before a restart are resumed first.
pub async fn deliver(app: Arc<App>, mut queue: mpsc::UnboundedReceiver<Job>) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let hub = &app.alerts;
    for (id, sink_name, attempts) in app.store.pending_deliveries(&app.cluster).await? {
        let Some(sink) = hub.sinks.iter().position(|s| s.config.label() == sink_name) else {
            continue;
        };
        if let Some(alert) = app.store.alert(&id).await? {
            let _ = hub.sender.send(Job {
                alert,
                sink,
                attempts,
            });
        }
    }
    while let Some(job) = queue.recv().await {
        let app = Arc::clone(&app);
        let client = client.clone();
        tokio::spawn(async move {
            if let Err(error) = deliver_one(&app, &client, job).await {
                tracing::warn!("recording a delivery: {error:#}");
            }
        });
    }
    Ok(())
}

async fn deliver_one(app: &App, client: &reqwest::Client, mut job: Job) -> anyhow::Result<()> {
    let hub = &app.alerts;
    let Some(sink) = hub.sinks.get(job.sink) else {
        return Ok(());
    };
    let name = sink.config.label().to_owned();
    let mut backoff = Duration::from_secs(1);
    loop {
        job.attempts += 1;
        let now = || jiff::Timestamp::now().as_millisecond();
        match send(client, sink, &job.alert, &app.public_url).await {
            Ok(()) => {
                app.metrics.delivery(&name, "delivered");
                app.store
                    .set_delivery(&job.alert.id, &name, "delivered", job.attempts, "", now())
                    .await?;
                return Ok(());
            }
            Err(failure) => {
                let last = job.attempts >= hub.max_attempts || !failure.retry;
                app.metrics
                    .delivery(&name, if last { "failed" } else { "retried" });
                let status = if last { "failed" } else { "pending" };
                app.store
                    .set_delivery(
                        &job.alert.id,
                        &name,
                        status,
                        job.attempts,
                        &failure.message,
                        now(),
                    )
                    .await?;
                if last {
                    tracing::warn!(
                        "alert {} to {name} failed after {} attempt(s): {}",
                        job.alert.id,
                        job.attempts,
                        failure.message
                    );
                    return Ok(());
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

struct Failure {
    message: String,
    /// False when trying again cannot help (the receiver refused the request itself).
    retry: bool,
}

async fn send(
    client: &reqwest::Client,
    sink: &Sink,
    alert: &StoredAlert,
    public_url: &str,
) -> Result<(), Failure> {
    let Some(base) = &sink.url else {
        return Err(Failure {
            message: "no URL (its urlEnv variable is not set)".to_owned(),
            retry: false,
        });
    };
    let (url, body) = match sink.config.kind {
        SinkKind::Webhook => (base.clone(), webhook_payload(alert, public_url)),
        SinkKind::Slack => (base.clone(), slack_payload(alert, public_url)),
        SinkKind::Alertmanager => (
            format!("{}/api/v2/alerts", base.trim_end_matches('/')),
            alertmanager_payload(alert, public_url),
        ),
    };
    let mut request = client
        .post(&url)
        .timeout(Duration::from_secs(
            sink.config.timeout_seconds.unwrap_or(10),
        ))
        .json(&body);
    if let Some(token) = &sink.token {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => {
            let status = response.status();
            Err(Failure {
                message: format!("HTTP {status}"),
                retry: status.is_server_error()
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || status == reqwest::StatusCode::REQUEST_TIMEOUT,
            })
        }
        Err(error) => Err(Failure {
            // Without the URL: a Slack webhook URL is a secret.
            message: error.without_url().to_string(),
            retry: true,
        }),
    }
}

/// The dashboard page of an alert.
pub fn link(alert: &StoredAlert, public_url: &str) -> String {
    format!("{public_url}/alerts/{}", alert.id)
}

/// The `webhook` sink's body: the alert as stored, with its link.
pub fn webhook_payload(alert: &StoredAlert, public_url: &str) -> Value {
    let a = &alert.alert;
    json!({
        "id": alert.id,
        "cluster": a.cluster,
        "trigger": a.trigger,
        "severity": a.severity,
        "title": a.title,
        "what": a.body.get("what"),
        "who": a.body.get("who"),
        "where": a.body.get("where"),
        "details": a.body,
        "change_id": a.change_seq,
        "created": crate::output::rfc3339_ms(alert.created_ms),
        "url": link(alert, public_url),
    })
}

/// The one-line summary of the body's `who` or `where`.
fn summary<'a>(body: &'a Value, part: &str, otherwise: &'a str) -> &'a str {
    body.get(part)
        .and_then(|w| w.get("summary"))
        .and_then(Value::as_str)
        .unwrap_or(otherwise)
}

/// The `slack` sink's body: an incoming-webhook message with the diff or the evidence.
pub fn slack_payload(alert: &StoredAlert, public_url: &str) -> Value {
    let a = &alert.alert;
    let who = summary(&a.body, "who", "unknown");
    let place = summary(&a.body, "where", "");
    let what = a.body.get("what").and_then(Value::as_str).unwrap_or("");
    let mut detail = String::new();
    if let Some(diff) = a.body.get("yaml_diff").and_then(Value::as_str) {
        detail = diff.to_owned();
    } else if let Some(evidence) = a.body.get("evidence").and_then(Value::as_array) {
        detail = evidence
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n");
    }
    if let Some(change) = a.body.get("correlated_change")
        && let Some(diff) = change.get("yaml_diff").and_then(Value::as_str)
    {
        detail.push_str("\n--- changed shortly before ---\n");
        detail.push_str(diff);
    }
    // Slack's section text is limited to 3,000 characters.
    let detail: String = detail.chars().take(2_800).collect();
    let mut blocks = vec![json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": format!(
            "*[{}] {}*\n{what}\n*Who:* {who}\n*Where:* {place} (cluster `{}`)\n<{}|Open in Tollgate>",
            a.severity.to_uppercase(), a.title, a.cluster, link(alert, public_url)
        )}
    })];
    if !detail.trim().is_empty() {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("```{detail}```")}
        }));
    }
    json!({"text": format!("[{}] {}", a.severity.to_uppercase(), a.title), "blocks": blocks})
}

/// The `alertmanager` sink's body: one alert for `POST /api/v2/alerts`.
pub fn alertmanager_payload(alert: &StoredAlert, public_url: &str) -> Value {
    let a = &alert.alert;
    let alertname = match a.trigger.as_str() {
        "finding" => "TollgateFinding",
        "risky-change" => "TollgateRiskyChange",
        "denied-change" => "TollgateDeniedChange",
        "access" => "TollgateAccessAlert",
        "certificate" => "TollgateCertificateExpiring",
        "admission-failed-open" => "TollgateAdmissionFailedOpen",
        _ => "TollgateAlert",
    };
    let mut labels = json!({
        "alertname": alertname,
        "severity": a.severity,
        "cluster": a.cluster,
        "trigger": a.trigger,
        "tollgate_id": alert.id,
    });
    for (key, value) in [
        ("namespace", &a.namespace),
        ("name", &a.name),
        ("route", &a.route),
    ] {
        if !value.is_empty() {
            labels[key] = json!(value);
        }
    }
    let who = summary(&a.body, "who", "unknown");
    json!([{
        "labels": labels,
        "annotations": {
            "summary": a.title,
            "description": a.body.get("what").and_then(Value::as_str).unwrap_or(""),
            "who": who,
        },
        "startsAt": crate::output::rfc3339_ms(alert.created_ms),
        "generatorURL": link(alert, public_url),
    }])
}

/// The latest applied change to `kind namespace/name` within the correlation window, with its
/// actor joined from the audit events: what an access alert on a freshly edited route carries.
///
/// # Errors
/// The store failed.
pub async fn correlated_change(
    app: &App,
    kind: &str,
    namespace: &str,
    name: &str,
    around_ms: i64,
) -> anyhow::Result<Option<(i64, Value)>> {
    let window_ms = i64::try_from(app.config.serve.alerts.correlation()).unwrap_or(30) * 60_000;
    let records = app
        .store
        .history(&HistoryFilter {
            cluster: Some(app.cluster.clone()),
            kind: Some(kind.to_owned()),
            namespace: Some(namespace.to_owned()),
            name: Some(name.to_owned()),
            since_ms: Some(around_ms - window_ms),
            // A change made after the traffic did not cause it (a minute of slack for clocks).
            until_ms: Some(around_ms + 60_000),
            ..HistoryFilter::default()
        })
        .await?;
    // The store answers newest first: the first applied record is the latest change.
    let Some(mut record) = records
        .into_iter()
        .find(|r| r.change.outcome == tollgate_store::Outcome::Applied)
    else {
        return Ok(None);
    };
    app.judge.resolve(&app.store, &mut record).await?;
    Ok(Some((record.seq, change_summary(app, &record).await?)))
}

/// A change as alerts carry it: time, actor, diff (JSON Patch and YAML), risk, link.
pub async fn change_summary(
    app: &App,
    record: &tollgate_store::HistoryRecord,
) -> anyhow::Result<Value> {
    let change = &record.change;
    let before = app
        .store
        .applied_before(
            &change.cluster,
            &change.resource.kind,
            &change.resource.namespace,
            &change.resource.name,
            record.seq,
            i64::MAX,
        )
        .await?
        .and_then(|r| r.change.object);
    let yaml_diff = tollgate_core::change::yaml_diff(before.as_ref(), change.object.as_ref(), 3);
    Ok(json!({
        "id": record.seq,
        "time": crate::output::rfc3339_ms(change.time_ms),
        "action": change.action.as_str(),
        "resource": change.resource,
        "actor": change.actor,
        "who": who(&change.actor),
        "out_of_band": change.out_of_band,
        "risk": change.risk,
        "diff": change.diff,
        "yaml_diff": yaml_diff,
        "url": format!("{}/history/{}", app.public_url, record.seq),
    }))
}

/// The actor in one line.
pub fn who(actor: &tollgate_store::Actor) -> String {
    let mut text = crate::tracking::actor_name(actor);
    if let Some(ip) = actor.source_ips.first() {
        text.push_str(&format!(" from {ip}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> StoredAlert {
        StoredAlert {
            id: "0123456789abcdef".into(),
            alert: NewAlert {
                cluster: "prod".into(),
                dedup_key: "k".into(),
                trigger: "risky-change".into(),
                severity: "high".into(),
                title: "Ingress shop/web: tls-missing introduced".into(),
                route: String::new(),
                namespace: "shop".into(),
                name: "web".into(),
                change_seq: Some(3),
                body: json!({
                    "what": "TLS removed",
                    "who": {"summary": "alice from 203.0.113.7"},
                    "where": {"summary": "Ingress shop/web"},
                    "yaml_diff": "-  tls:\n"
                }),
            },
            created_ms: 1_782_864_000_000,
            last_seen_ms: 1_782_864_000_000,
            occurrences: 1,
            deliveries: Vec::new(),
        }
    }

    #[test]
    fn payloads_say_what_who_where_and_link_back() {
        let alert = stored();
        let hook = webhook_payload(&alert, "https://tg.example.com");
        assert_eq!(
            hook["url"],
            "https://tg.example.com/alerts/0123456789abcdef"
        );
        assert_eq!(hook["who"]["summary"], "alice from 203.0.113.7");
        assert_eq!(hook["change_id"], 3);
        let slack = slack_payload(&alert, "https://tg.example.com");
        let text = slack["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(text.contains("*Who:* alice from 203.0.113.7"), "{text}");
        assert!(text.contains("<https://tg.example.com/alerts/0123456789abcdef|Open in Tollgate>"));
        assert_eq!(slack["blocks"][1]["text"]["text"], "```-  tls:\n```");
        let am = alertmanager_payload(&alert, "https://tg.example.com");
        assert_eq!(am[0]["labels"]["alertname"], "TollgateRiskyChange");
        assert_eq!(am[0]["labels"]["namespace"], "shop");
        assert!(
            am[0]["labels"].get("route").is_none(),
            "empty labels are left out"
        );
        assert_eq!(am[0]["startsAt"], "2026-07-01T00:00:00Z");
    }
}
