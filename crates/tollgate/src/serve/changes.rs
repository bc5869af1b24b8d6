//! What the service does with each change the watch records: count it, refresh the inventory
//! when it touches routing, and alert on it when it is risky, with who made it and the diff.
//!
//! The watch sees a change before the API server's audit webhook delivers the event naming who
//! made it (the webhook batches for up to 30 s by default). So a risky change waits, up to
//! `serve.alerts.attributionWaitSeconds`, for its audit event; it is sent as soon as the event
//! arrives, or at the deadline with what the managed fields say.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;
use tollgate_core::config::identity_matches;
use tollgate_core::object::Kind;
use tollgate_core::service::Trigger;
use tollgate_store::{Action, Attribution, HistoryRecord, NewAlert, Outcome};

use super::App;
use super::alerts::change_summary;

/// Whether changes of `kind` alter the route map or the findings: a rescan follows them. The
/// Gateway API kinds and the implementations' access policies are all such kinds.
fn rescans(kind: &str) -> bool {
    Kind::ALL
        .into_iter()
        .find(|k| k.as_str() == kind)
        .is_some_and(|k| {
            matches!(
                k,
                Kind::Ingress
                    | Kind::IngressClass
                    | Kind::Service
                    | Kind::Secret
                    | Kind::NetworkPolicy
                    | Kind::ConfigMap
            ) || k.gateway_api()
                || k.access_policy()
        })
}

/// Handles recorded changes until the watch stops.
pub async fn run(
    app: Arc<App>,
    mut recorded: mpsc::UnboundedReceiver<HistoryRecord>,
) -> anyhow::Result<()> {
    while let Some(record) = recorded.recv().await {
        let change = &record.change;
        app.metrics.change(
            &app.cluster,
            &change.resource.kind,
            actor_kind(&app, &change.actor),
            change.risk.is_risky(),
        );
        if rescans(&change.resource.kind) {
            app.rescan.notify_one();
        }
        if change.risk.is_risky() && change.outcome == Outcome::Applied {
            let app = Arc::clone(&app);
            tokio::spawn(async move {
                if let Err(error) = alert_when_attributed(&app, record).await {
                    tracing::warn!("alerting on a risky change: {error:#}");
                }
            });
        }
    }
    Ok(())
}

/// `gitops`, `serviceaccount`, `system`, `user` or `unknown`, for the changes metric.
pub fn actor_kind(app: &App, actor: &tollgate_store::Actor) -> &'static str {
    let gitops = &app.config.history.gitops;
    if let Some(user) = &actor.user {
        if gitops.users.iter().any(|p| identity_matches(p, user)) {
            return "gitops";
        }
        if user.starts_with("system:serviceaccount:") {
            return "serviceaccount";
        }
        if user.starts_with("system:") {
            return "system";
        }
        return "user";
    }
    match &actor.field_manager {
        Some(manager)
            if gitops
                .field_managers
                .iter()
                .any(|p| identity_matches(p, manager)) =>
        {
            "gitops"
        }
        _ => "unknown",
    }
}

async fn alert_when_attributed(app: &App, mut record: HistoryRecord) -> anyhow::Result<()> {
    let wait = Duration::from_secs(app.config.serve.alerts.attribution_wait());
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        app.judge.resolve(&app.store, &mut record).await?;
        if record.change.actor.attribution == Attribution::Audit
            || tokio::time::Instant::now() >= deadline
        {
            break;
        }
        tokio::select! {
            () = app.audit_arrived.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
            () = tokio::time::sleep_until(deadline) => {}
        }
    }
    let change = &record.change;
    let severities = crate::tracking::severities();
    let severity = crate::tracking::worst_severity(&change.risk, &severities);
    let resource = &change.resource;
    let place = if resource.namespace.is_empty() {
        format!("{} {}", resource.kind, resource.name)
    } else {
        format!("{} {}/{}", resource.kind, resource.namespace, resource.name)
    };
    let summary = change_summary(app, &record).await?;
    let who = super::alerts::who(&change.actor);
    let verb = match change.action {
        Action::Created => "created",
        Action::Updated => "changed",
        Action::Deleted => "deleted",
    };
    let alert = NewAlert {
        cluster: app.cluster.clone(),
        dedup_key: format!(
            "risky-change|{}|{}|{}|{}",
            resource.kind, resource.namespace, resource.name, change.resource_version
        ),
        trigger: Trigger::RiskyChange.as_str().to_owned(),
        severity: severity.as_str().to_owned(),
        title: format!(
            "{place}: {} introduced by {who}",
            change.risk.introduced.join(", ")
        ),
        route: String::new(),
        namespace: resource.namespace.clone(),
        name: resource.name.clone(),
        change_seq: Some(record.seq),
        body: json!({
            "what": format!("{who} {verb} {place}; it now violates {}", change.risk.introduced.join(", ")),
            "who": {
                "summary": who,
                "actor": change.actor,
                "out_of_band": change.out_of_band,
            },
            "where": {"summary": place, "kind": resource.kind, "namespace": resource.namespace, "name": resource.name},
            "risk": change.risk,
            "yaml_diff": summary["yaml_diff"],
            "change": summary,
        }),
    };
    app.alerts
        .raise(app, Trigger::RiskyChange, severity, alert)
        .await?;
    Ok(())
}
