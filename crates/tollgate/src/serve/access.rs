//! The detector thread behind the log intake. The access-log analyzer is synchronous and keeps
//! its state (detector buckets, per-minute counts) in one place, so it runs on a thread of its
//! own that takes one posted batch at a time: it parses and attributes the lines, feeds the
//! detectors, and answers with the batch's counts, which the handler stores before it
//! acknowledges. Alerts go to [`raise_alerts`], which correlates them with recent changes.
//!
//! Each batch is counted in an aggregate of its own, then merged into the long-lived one the
//! rate detectors read minute by minute; so the stored counts are exactly the batch's, and the
//! detectors see one continuous stream. A new inventory (after a scan) replaces the route table;
//! the detector state starts afresh with it, since route numbers change.

use std::sync::Arc;

use anyhow::Context as _;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tollgate_core::config::Config;
use tollgate_core::rules::Severity;
use tollgate_core::service::Trigger;
use tollgate_logs::Format;
use tollgate_logs::aggregate::Aggregate;
use tollgate_logs::analyze::{Analyzer, Run, Settings};
use tollgate_logs::detectors::{Alert, Classifier, DetectorConfig, Detectors};
use tollgate_logs::routes::{INGRESS, RouteTable};
use tollgate_store::{AccessBatch, MinuteCount, NewAlert, RouteCount, SourceCount};

use super::App;

/// Sources per batch whose counts are stored per route.
const SOURCES_PER_BATCH: usize = 20;
/// Status classes as stored and exported.
pub const STATUS_CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

/// A route as alerts and the dashboard name it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteRef {
    /// The key the counts are stored under.
    pub key: String,
    /// Namespace.
    pub namespace: String,
    /// The Ingress, when the request was attributed to one.
    pub ingress: Option<String>,
    /// The kind of the Gateway API route object, when the request was attributed to one.
    pub kind: Option<String>,
    /// The name of that Gateway API route object.
    pub name: Option<String>,
    /// Host, when known.
    pub host: Option<String>,
    /// Path, when known.
    pub path: Option<String>,
    /// The backend Service.
    pub service: Option<String>,
}

impl RouteRef {
    /// The kind and name of the object that defines the route: the Ingress, or the Gateway API
    /// route object.
    pub fn object(&self) -> Option<(&str, &str)> {
        match (&self.ingress, &self.kind, &self.name) {
            (Some(ingress), _, _) => Some((INGRESS, ingress)),
            (None, Some(kind), Some(name)) => Some((kind, name)),
            _ => None,
        }
    }
}

/// The key of a route: `namespace/ingress|host|path` for an Ingress route,
/// `namespace/Kind:name|host|path` for a Gateway API one (`*` for any host or the default
/// backend), or `namespace/service:name` for requests only known to have reached a Service. A
/// Kubernetes name holds no `:`, so the forms cannot be taken for one another.
pub fn route_key(
    namespace: &str,
    object: Option<(&str, &str)>,
    host: Option<&str>,
    path: Option<&str>,
    service: Option<&str>,
) -> String {
    let place = |object: String| {
        format!(
            "{namespace}/{object}|{}|{}",
            host.unwrap_or("*"),
            path.unwrap_or("*")
        )
    };
    match object {
        Some((INGRESS, ingress)) => place(ingress.to_owned()),
        Some((kind, name)) => place(format!("{kind}:{name}")),
        None => format!("{namespace}/service:{}", service.unwrap_or("?")),
    }
}

/// The object a route key names (see [`route_key`]): `(kind, namespace, name)`; `None` for a key
/// naming a Service alone, or no route.
pub fn object_of_key(key: &str) -> Option<(&str, &str, &str)> {
    let (namespace, rest) = key.split_once('/')?;
    let object = rest.split('|').next()?;
    if object.starts_with("service:") || object.is_empty() || namespace.is_empty() {
        return None;
    }
    match object.split_once(':') {
        Some((kind, name)) if !kind.is_empty() && !name.is_empty() => Some((kind, namespace, name)),
        Some(_) => None,
        None => Some((INGRESS, namespace, object)),
    }
}

/// A detector alert with its route resolved.
#[derive(Debug, Clone)]
pub struct AccessAlert {
    /// The alert.
    pub alert: Alert,
    /// Its route, when it has one.
    pub route: Option<RouteRef>,
}

enum Work {
    Batch {
        lines: Vec<u8>,
        format: Option<Format>,
        reply: oneshot::Sender<AccessBatch>,
    },
    Routes(Box<RouteTable>),
}

/// The handle on the detector thread.
pub struct Intake {
    work: mpsc::Sender<Work>,
    alerts: std::sync::Mutex<Option<mpsc::UnboundedReceiver<AccessAlert>>>,
}

impl Intake {
    /// Starts the thread with the config's detector settings.
    ///
    /// # Errors
    /// The `detectors` section is invalid.
    pub fn start(config: &Config, cluster: String) -> anyhow::Result<Intake> {
        let detector_config =
            crate::cmd::logs::detector_config(config.detectors.as_ref(), config.path.as_deref())?;
        let classifier = Classifier::new(&detector_config)
            .map_err(|e| anyhow::anyhow!("config `detectors`: {e}"))?;
        // A short queue: a burst waits in the handlers (bounded by their timeout), not here.
        let (work, receiver) = mpsc::channel(64);
        let (alert_sender, alert_receiver) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("tollgate-logs".into())
            .spawn(move || worker(receiver, classifier, detector_config, alert_sender, cluster))
            .context("starting the log intake thread")?;
        Ok(Intake {
            work,
            alerts: std::sync::Mutex::new(Some(alert_receiver)),
        })
    }

    /// The alerts the detectors fire (taken once, by [`raise_alerts`]).
    pub fn alerts(&self) -> mpsc::UnboundedReceiver<AccessAlert> {
        self.alerts
            .lock()
            .ok()
            .and_then(|mut slot| slot.take())
            .unwrap_or_else(|| mpsc::unbounded_channel().1)
    }

    /// Counts and analyzes one batch of lines.
    ///
    /// # Errors
    /// The detector thread has stopped.
    pub async fn submit(
        &self,
        lines: Vec<u8>,
        format: Option<Format>,
    ) -> anyhow::Result<AccessBatch> {
        let (reply, answer) = oneshot::channel();
        self.work
            .send(Work::Batch {
                lines,
                format,
                reply,
            })
            .await
            .map_err(|_| anyhow::anyhow!("the log intake thread has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the log intake thread has stopped"))
    }

    /// Replaces the route table (after a scan).
    pub async fn set_routes(&self, table: RouteTable) {
        let _ = self.work.send(Work::Routes(Box::new(table))).await;
    }
}

fn worker(
    mut receiver: mpsc::Receiver<Work>,
    classifier: Classifier,
    detector_config: DetectorConfig,
    alerts: mpsc::UnboundedSender<AccessAlert>,
    cluster: String,
) {
    let mut table = RouteTable::default();
    table.prepare();
    loop {
        let analyzer = Analyzer::new(&table, classifier.clone(), None, Settings::default());
        let mut run = Run::new(&analyzer, Detectors::new(&detector_config));
        let keys = route_refs(&table);
        let send = |fired: &Alert| {
            let route = fired
                .route
                .and_then(|r| keys.get(usize::try_from(r).ok()?).cloned());
            let _ = alerts.send(AccessAlert {
                alert: fired.clone(),
                route,
            });
        };
        let next = loop {
            let Some(work) = receiver.blocking_recv() else {
                return;
            };
            match work {
                Work::Routes(table) => break *table,
                Work::Batch {
                    lines,
                    format,
                    reply,
                } => {
                    let batch =
                        analyze(&analyzer, &mut run, &lines, format, &keys, &cluster, &send);
                    let _ = reply.send(batch);
                }
            }
        };
        for fired in run.flush_minutes(None) {
            send(&fired);
        }
        table = next;
        table.prepare();
    }
}

/// Every target's route, by target number.
fn route_refs(table: &RouteTable) -> Vec<RouteRef> {
    table
        .targets()
        .iter()
        .map(|target| {
            let object = match (&target.ingress, &target.kind, &target.name) {
                (Some(ingress), _, _) => Some((INGRESS, ingress.as_str())),
                (None, Some(kind), Some(name)) => Some((kind.as_str(), name.as_str())),
                _ => None,
            };
            RouteRef {
                key: route_key(
                    &target.namespace,
                    object,
                    target.host.as_deref(),
                    target.path.as_deref(),
                    target.service.as_deref(),
                ),
                namespace: target.namespace.clone(),
                ingress: target.ingress.clone(),
                kind: target.kind.clone(),
                name: target.name.clone(),
                host: target.host.clone(),
                path: target.path.clone(),
                service: target.service.clone(),
            }
        })
        .collect()
}

fn analyze(
    analyzer: &Analyzer<'_>,
    run: &mut Run,
    lines: &[u8],
    format: Option<Format>,
    keys: &[RouteRef],
    cluster: &str,
    send: &dyn Fn(&Alert),
) -> AccessBatch {
    let total = std::mem::replace(&mut run.aggregate, Aggregate::new(4_096));
    let mut stream = analyzer.start_as("intake", format);
    let mut fire = |alert: &Alert| send(alert);
    analyzer.feed(&mut stream, lines, run, &mut fire);
    analyzer.finish(&mut stream, run, &mut fire);
    let batch = std::mem::replace(&mut run.aggregate, total);
    let key = |target: Option<u32>| -> String {
        target
            .and_then(|t| keys.get(usize::try_from(t).ok()?))
            .map(|r| r.key.clone())
            .unwrap_or_default()
    };
    let mut counts = AccessBatch {
        cluster: cluster.to_owned(),
        lines: batch.lines,
        parsed: batch.parsed,
        malformed: batch.malformed,
        ..AccessBatch::default()
    };
    for ((target, minute), slot) in &batch.minutes {
        counts.minutes.push(MinuteCount {
            route: key(*target),
            minute: *minute,
            requests: slot.requests,
            errors_5xx: slot.errors_5xx,
        });
    }
    counts
        .minutes
        .sort_by(|a, b| (&a.route, a.minute).cmp(&(&b.route, b.minute)));
    let targets = batch
        .targets
        .iter()
        .enumerate()
        .filter_map(|(i, stats)| Some((u32::try_from(i).ok(), stats.as_deref()?)))
        .chain(std::iter::once((None, &batch.unattributed)));
    for (target, stats) in targets {
        if stats.requests == 0 {
            continue;
        }
        counts.routes.push(RouteCount {
            route: key(target),
            requests: stats.requests,
            status: stats.status,
            bytes: stats.bytes,
            last_ms: stats.last_us.unwrap_or(0).div_euclid(1_000),
        });
    }
    for (ip, source) in batch.sources.top(SOURCES_PER_BATCH) {
        let reached: Vec<Option<u32>> = if source.targets().is_empty() {
            vec![None]
        } else {
            source.targets().iter().copied().map(Some).collect()
        };
        for target in reached {
            counts.sources.push(SourceCount {
                route: key(target),
                source: ip.to_string(),
                requests: source.requests,
                errors_4xx: source.errors_4xx,
                last_ms: source.last_us.unwrap_or(0).div_euclid(1_000),
            });
        }
    }
    run.aggregate.merge(batch);
    // Minutes before the newest one are complete: hand them to the rate detectors.
    if let Some(last) = run.aggregate.last_us {
        for fired in run.flush_minutes(Some(last.div_euclid(60_000_000) - 1)) {
            send(&fired);
        }
    }
    counts
}

/// Raises each detector alert, with the change that touched its route shortly before, when
/// there is one (the "unusual traffic right after someone edited the Ingress" case).
pub async fn raise_alerts(
    app: Arc<App>,
    mut alerts: mpsc::UnboundedReceiver<AccessAlert>,
) -> anyhow::Result<()> {
    while let Some(access) = alerts.recv().await {
        if let Err(error) = raise(&app, access).await {
            tracing::warn!("raising an access alert: {error:#}");
        }
    }
    Ok(())
}

async fn raise(app: &App, access: AccessAlert) -> anyhow::Result<()> {
    let alert = &access.alert;
    let detector = alert.detector.name();
    let route = access.route.clone().unwrap_or_default();
    app.metrics.access_alert(&app.cluster, &route.key, detector);
    let last_ms = alert.last_us.div_euclid(1_000);
    let correlated = match route.object() {
        Some((kind, name)) => {
            super::alerts::correlated_change(app, kind, &route.namespace, name, last_ms).await?
        }
        None => None,
    };
    let mut severity = detector_severity(detector);
    if correlated.is_some() && severity < Severity::Critical {
        // Attack traffic on a route someone just changed is worth more than either alone.
        severity = match severity {
            Severity::Medium => Severity::High,
            Severity::High => Severity::Critical,
            other => other,
        };
    }
    let place = if route.key.is_empty() {
        "no known route".to_owned()
    } else {
        format!(
            "{}{}{}",
            route.host.as_deref().unwrap_or("*"),
            route.path.as_deref().unwrap_or(""),
            route
                .object()
                .map(|(kind, name)| format!(" ({kind} {}/{name})", route.namespace))
                .unwrap_or_default()
        )
    };
    let mut title = format!("{detector} from {} on {place}", alert.source);
    if correlated.is_some() {
        title.push_str(", right after a change");
    }
    let mut body = json!({
        "what": format!("{}: {} matching request(s){}", alert.detector.summary(), alert.count,
            alert.detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()),
        "who": {"summary": alert.source, "source": alert.source},
        "where": {
            "summary": place,
            "route": route.key,
            "namespace": route.namespace,
            "ingress": route.ingress,
            "host": route.host,
            "path": route.path,
            "service": route.service,
        },
        "detector": detector,
        "count": alert.count,
        "first": time_us(alert.first_us),
        "last": time_us(alert.last_us),
        "evidence": alert.evidence,
        "detail": alert.detail,
    });
    if let (Some(kind), Some(name)) = (&route.kind, &route.name) {
        body["where"]["kind"] = json!(kind);
        body["where"]["name"] = json!(name);
    }
    let mut change_seq = None;
    if let Some((seq, change)) = correlated {
        change_seq = Some(seq);
        body["correlated_change"] = change;
    }
    let new = NewAlert {
        cluster: app.cluster.clone(),
        dedup_key: format!("access|{detector}|{}|{}", alert.source, route.key),
        trigger: Trigger::Access.as_str().to_owned(),
        severity: severity.as_str().to_owned(),
        title,
        route: route.key.clone(),
        namespace: route.namespace.clone(),
        name: route
            .object()
            .map(|(_, name)| name.to_owned())
            .unwrap_or_default(),
        change_seq,
        body,
    };
    app.alerts
        .raise(app, Trigger::Access, severity, new)
        .await?;
    Ok(())
}

/// How bad each detector's alert is on its own.
fn detector_severity(detector: &str) -> Severity {
    match detector {
        "cve-probe" | "backdoor-probe" | "path-traversal-probe" | "sqli-probe" => Severity::High,
        "brute-force" | "disallowed-country" | "untrusted-source" | "request-flood" => {
            Severity::High
        }
        "error-burst"
        | "xss-probe"
        | "sensitive-file-probe"
        | "admin-interface-probe"
        | "open-proxy-probe"
        | "unrouted-host" => Severity::Medium,
        _ => Severity::Low,
    }
}

fn time_us(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us).map_or_else(|_| us.to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_name_ingress_routes_and_services() {
        assert_eq!(
            route_key(
                "shop",
                Some(("Ingress", "web")),
                Some("shop.example.com"),
                Some("/login"),
                Some("web")
            ),
            "shop/web|shop.example.com|/login"
        );
        assert_eq!(
            route_key("shop", Some(("Ingress", "web")), None, None, None),
            "shop/web|*|*"
        );
        assert_eq!(
            route_key("shop", None, None, None, Some("api")),
            "shop/service:api"
        );
    }

    #[test]
    fn route_refs_key_ingress_and_gateway_api_targets_apart() {
        use tollgate_logs::routes::{PathMatch, Route};
        let route = |kind: &str, name: &str, rule: Option<u32>| Route {
            namespace: "shop".into(),
            kind: kind.into(),
            name: name.into(),
            rule,
            service_namespace: None,
            host: Some("shop.example.com".into()),
            path: Some("/".into()),
            path_match: PathMatch::Prefix,
            service: Some("web".into()),
            port_number: Some(80),
            port_name: None,
            authenticated: false,
            ready_endpoints: None,
        };
        let mut table = RouteTable::new(vec![
            route("Ingress", "web", None),
            route("HTTPRoute", "web", Some(0)),
        ]);
        table.prepare();
        let refs = route_refs(&table);
        assert_eq!(refs[0].key, "shop/web|shop.example.com|/");
        assert_eq!(refs[0].object(), Some(("Ingress", "web")));
        assert_eq!(refs[1].key, "shop/HTTPRoute:web|shop.example.com|/");
        assert_eq!(refs[1].object(), Some(("HTTPRoute", "web")));
        assert_eq!(refs[1].ingress, None);
        // The two share the Service `web`: requests that fit both are counted under it.
        assert!(
            refs[2..]
                .iter()
                .any(|r| r.key == "shop/service:web" && r.object().is_none()),
            "{refs:#?}"
        );
    }

    #[test]
    fn route_keys_name_gateway_api_routes_by_kind_and_read_back() {
        let key = route_key(
            "catalog",
            Some(("HTTPRoute", "catalog")),
            Some("catalog.example.com"),
            Some("/api"),
            Some("catalog-api"),
        );
        assert_eq!(key, "catalog/HTTPRoute:catalog|catalog.example.com|/api");
        assert_eq!(
            object_of_key(&key),
            Some(("HTTPRoute", "catalog", "catalog"))
        );
        assert_eq!(
            object_of_key("shop/storefront|shop.example.com|/"),
            Some(("Ingress", "shop", "storefront"))
        );
        assert_eq!(
            object_of_key("shop/web|*|*"),
            Some(("Ingress", "shop", "web"))
        );
        for key in [
            "shop/service:web",
            "",
            "/x|y",
            "shop/:web|*|*",
            "shop/HTTPRoute:|*|*",
        ] {
            assert_eq!(object_of_key(key), None, "{key}");
        }
    }
}
