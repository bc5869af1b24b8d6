//! The periodic full scan: list the cluster (or read the manifests), run the whole catalog, and
//! keep what it saw: findings with first-seen and resolved times, the route map and certificate
//! inventory for the dashboard and API, the route table for the log intake, and the metrics.
//! New findings at or above `serve.alerts.findingSeverity` alert, except on a cluster's very first
//! scan (it sets the baseline; its findings are on the dashboard), and certificates close to
//! expiry alert while they stay so (deduplicated, so once per dedup window at most).
//!
//! Every replica scans (its dashboard and log intake need the inventory); only the leader
//! stores findings and raises alerts.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tollgate_core::config::Config;
use tollgate_core::engine::{self, RunOptions};
use tollgate_core::render;
use tollgate_core::rules::Severity;
use tollgate_core::service::Trigger;
use tollgate_logs::routes::RouteTable;
use tollgate_store::{NewAlert, NewFinding, ScanRecord};

use super::App;
use super::access::route_key;
use crate::cli::InputArgs;

/// How long after a watched change the rescan starts, so a burst of changes costs one scan.
const DEBOUNCE: Duration = Duration::from_secs(2);

/// Where scans read from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The cluster of the kubeconfig or in-cluster config.
    Cluster {
        /// The kubeconfig context.
        context: Option<String>,
    },
    /// Manifest files and folders.
    Paths(Vec<PathBuf>),
}

/// What the latest scan saw.
#[derive(Debug, Clone)]
pub struct Scanned {
    /// When it finished (ms).
    pub time_ms: i64,
    /// Input errors.
    pub errors: Vec<String>,
    /// Open findings.
    pub findings: usize,
    /// The objects read, for the admission webhook's cross-object rules.
    pub objects: Arc<Vec<tollgate_core::object::Object>>,
    /// What the read covered.
    pub scope: tollgate_core::inventory::Scope,
}

/// What the blocking part of a scan computes.
struct Computed {
    findings: Vec<NewFinding>,
    routes: Value,
    certificates: Value,
    certificate_gauges: Vec<(String, String, String, f64)>,
    expiring: Vec<Value>,
    table: RouteTable,
    objects: Vec<tollgate_core::object::Object>,
    scope: tollgate_core::inventory::Scope,
    errors: Vec<String>,
}

/// Scans at the configured interval, and soon after a watched change, until the service stops.
pub async fn run(app: Arc<App>, source: Source) -> anyhow::Result<()> {
    let interval = Duration::from_secs(app.config.serve.scan.interval());
    loop {
        match scan_once(&app, &source).await {
            Ok(()) => {}
            Err(error) => tracing::warn!("scan failed: {error:#}"),
        }
        // Ready once the first scan was tried: an unreachable API server must not keep the
        // intake (which stores regardless) out of the Service.
        app.ready.store(true, Ordering::SeqCst);
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = app.rescan.notified() => tokio::time::sleep(DEBOUNCE).await,
        }
    }
}

async fn scan_once(app: &Arc<App>, source: &Source) -> anyhow::Result<()> {
    let started = Instant::now();
    let loaded = match source {
        Source::Cluster { context } => {
            let config_maps = app.config.history.config_maps.clone().unwrap_or_else(|| {
                crate::cluster::DEFAULT_CONFIG_MAPS
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            });
            crate::cluster::load_with(
                &InputArgs {
                    paths: Vec::new(),
                    cluster: true,
                    context: context.clone(),
                    namespace: None,
                    all_namespaces: true,
                },
                &config_maps,
            )
            .await?
        }
        Source::Paths(paths) => {
            let args = InputArgs {
                paths: paths.clone(),
                cluster: false,
                context: None,
                namespace: None,
                all_namespaces: false,
            };
            tokio::task::spawn_blocking(move || crate::input::load(&args, true)).await??
        }
    };
    let config = app.config.clone();
    let horizon = app.config.serve.alerts.certificate_horizon_days();
    let computed = tokio::task::spawn_blocking(move || compute(loaded, &config, horizon)).await?;
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let elapsed = started.elapsed();

    if let Some(intake) = &app.logs {
        intake.set_routes(computed.table).await;
    }
    let mut counts = std::collections::BTreeMap::new();
    for finding in &computed.findings {
        *counts
            .entry((
                finding.rule.clone(),
                finding.severity.clone(),
                finding.namespace.clone(),
            ))
            .or_insert(0) += 1;
    }
    app.metrics.set_findings(&app.cluster, &counts);
    app.metrics
        .set_certificates(&app.cluster, &computed.certificate_gauges);
    app.metrics.scan(
        &app.cluster,
        elapsed.as_secs_f64(),
        now_ms.div_euclid(1_000),
    );

    if app.is_leader() {
        let sync = app
            .store
            .sync_findings(&app.cluster, &computed.findings, now_ms)
            .await?;
        app.store
            .put_scan(&ScanRecord {
                cluster: app.cluster.clone(),
                time_ms: now_ms,
                duration_ms: i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX),
                objects: computed.objects.len() as u64,
                errors: computed.errors.len() as u64,
                routes: computed.routes,
                certificates: computed.certificates,
            })
            .await?;
        if !sync.first_scan {
            let threshold = app.config.serve.alerts.finding_threshold();
            for finding in &sync.new {
                let severity = finding.severity.parse().unwrap_or(Severity::Info);
                if severity >= threshold {
                    alert_finding(app, finding, severity).await?;
                }
            }
        }
        for certificate in &computed.expiring {
            alert_certificate(app, certificate).await?;
        }
        // What the service keeps goes by the history's retention days.
        if let Some(days) = app.config.history.retention.days {
            let pruned = app.store.prune_service(days, now_ms).await?;
            if pruned != tollgate_store::ServicePruned::default() {
                tracing::info!("pruned {pruned:?}");
            }
        }
    }
    *app.scanned.write().await = Some(Arc::new(Scanned {
        time_ms: now_ms,
        objects: Arc::new(computed.objects),
        scope: computed.scope,
        errors: computed.errors,
        findings: computed.findings.len(),
    }));
    Ok(())
}

fn compute(mut loaded: crate::input::Loaded, config: &Config, horizon_days: i64) -> Computed {
    let now = jiff::Timestamp::now();
    let inventory = &loaded.inventory;
    let outcome = engine::run(
        inventory,
        &RunOptions {
            config,
            select: &[],
            ignore: &[],
            now,
        },
    );
    let findings = outcome
        .findings
        .iter()
        .map(|f| NewFinding {
            rule: f.rule.name.to_owned(),
            code: f.rule.code.to_owned(),
            severity: f.severity.to_string(),
            category: f.rule.category.as_str().to_owned(),
            api_version: f.resource.api_version.clone(),
            kind: f.resource.kind.clone(),
            namespace: f.resource.namespace.clone().unwrap_or_default(),
            name: f.resource.name.clone(),
            path: f.pointer.clone(),
            message: f.message.clone(),
            help: f.help.clone(),
        })
        .collect();
    let mut routes = serde_json::to_value(render::map::routes(inventory)).unwrap_or(Value::Null);
    if let Value::Array(items) = &mut routes {
        for item in items {
            let text = |pointer: &str| {
                item.pointer(pointer)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            // `route` names the defining object: an Ingress or a Gateway API route object.
            let kind = text("/route/kind");
            let name = text("/route/name");
            let key = route_key(
                &text("/route/namespace").unwrap_or_default(),
                kind.as_deref().zip(name.as_deref()),
                text("/host").as_deref(),
                text("/path").as_deref(),
                None,
            );
            item["key"] = json!(key);
        }
    }
    let rows = render::certs::rows(inventory, &outcome.findings, now);
    let mut certificate_gauges = Vec::new();
    let mut expiring = Vec::new();
    for row in &rows {
        let Some(leaf) = &row.leaf else {
            continue;
        };
        let seconds = leaf.not_after.as_second().saturating_sub(now.as_second());
        certificate_gauges.push((
            row.namespace.clone(),
            row.secret.clone(),
            row.hosts.join(","),
            seconds as f64,
        ));
        if leaf.days_left <= horizon_days {
            expiring.push(json!({
                "namespace": row.namespace,
                "secret": row.secret,
                "hosts": row.hosts,
                "ingresses": row.ingresses,
                "days_left": leaf.days_left,
                "not_after": leaf.not_after.to_string(),
                "subject": leaf.subject,
                "sha256": leaf.sha256,
            }));
        }
    }
    let certificates = serde_json::to_value(&rows).unwrap_or(Value::Null);
    let mut table = crate::cmd::logs::route_table(inventory);
    table.prepare();
    let errors = loaded.errors.iter().map(ToString::to_string).collect();
    let scope = loaded.inventory.scope.clone();
    Computed {
        findings,
        routes,
        certificates,
        certificate_gauges,
        expiring,
        table,
        objects: std::mem::take(&mut loaded.inventory.objects),
        scope,
        errors,
    }
}

async fn alert_finding(app: &App, finding: &NewFinding, severity: Severity) -> anyhow::Result<()> {
    let place = if finding.namespace.is_empty() {
        format!("{} {}", finding.kind, finding.name)
    } else {
        format!("{} {}/{}", finding.kind, finding.namespace, finding.name)
    };
    // Who last changed the object, when the history knows.
    let mut who = json!({"summary": "unknown (no recorded change)"});
    let mut change_seq = None;
    if let Some(mut record) = app
        .store
        .latest(
            &app.cluster,
            &finding.kind,
            &finding.namespace,
            &finding.name,
        )
        .await?
    {
        // The latest change introduced this very rule: it raised its own risky-change alert
        // (with the actor and the diff). One event, one alert.
        if record.change.risk.introduced.contains(&finding.rule) {
            return Ok(());
        }
        app.judge.resolve(&app.store, &mut record).await?;
        who = json!({
            "summary": format!("last changed by {}", super::alerts::who(&record.change.actor)),
            "actor": record.change.actor,
        });
        change_seq = Some(record.seq);
    }
    let alert = NewAlert {
        cluster: app.cluster.clone(),
        dedup_key: format!("finding|{}", finding.fingerprint()),
        trigger: Trigger::Finding.as_str().to_owned(),
        severity: severity.as_str().to_owned(),
        title: format!("{} on {place}", finding.rule),
        route: String::new(),
        namespace: finding.namespace.clone(),
        name: finding.name.clone(),
        change_seq,
        body: json!({
            "what": finding.message,
            "who": who,
            "where": {"summary": place, "kind": finding.kind, "namespace": finding.namespace,
                      "name": finding.name, "path": finding.path},
            "rule": finding.rule,
            "code": finding.code,
            "help": finding.help,
        }),
    };
    app.alerts
        .raise(app, Trigger::Finding, severity, alert)
        .await?;
    Ok(())
}

async fn alert_certificate(app: &App, certificate: &Value) -> anyhow::Result<()> {
    let days = certificate["days_left"].as_i64().unwrap_or(0);
    let severity = match days {
        ..0 => Severity::Critical,
        0..=7 => Severity::High,
        _ => Severity::Medium,
    };
    let namespace = certificate["namespace"].as_str().unwrap_or_default();
    let secret = certificate["secret"].as_str().unwrap_or_default();
    let hosts: Vec<&str> = certificate["hosts"]
        .as_array()
        .map(|h| h.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let when = if days < 0 {
        format!("expired {} day(s) ago", -days)
    } else {
        format!("expires in {days} day(s)")
    };
    let alert = NewAlert {
        cluster: app.cluster.clone(),
        dedup_key: format!(
            "certificate|{namespace}/{secret}|{}",
            certificate["sha256"].as_str().unwrap_or_default()
        ),
        trigger: Trigger::Certificate.as_str().to_owned(),
        severity: severity.as_str().to_owned(),
        title: format!("certificate {namespace}/{secret} {when}"),
        route: String::new(),
        namespace: namespace.to_owned(),
        name: secret.to_owned(),
        change_seq: None,
        body: json!({
            "what": format!("the certificate in Secret {namespace}/{secret} {when} ({})",
                certificate["not_after"].as_str().unwrap_or_default()),
            "who": {"summary": "nobody renewed it"},
            "where": {"summary": format!("{} ({})", hosts.join(", "), format_args!("Secret {namespace}/{secret}")),
                      "namespace": namespace, "secret": secret, "hosts": hosts},
            "certificate": certificate,
        }),
    };
    app.alerts
        .raise(app, Trigger::Certificate, severity, alert)
        .await?;
    Ok(())
}
