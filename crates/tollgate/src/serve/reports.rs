//! Compliance reports on a schedule (`serve.reports`): the leader writes each configured
//! framework's report every `everyHours`, from the latest scan and the history since the report
//! before, keeps the newest `keep` in the store, and the API and dashboard serve them.
//!
//! Access evidence is left "not assessed" here: the intake keeps per-route counts, not the
//! requests the report's access section reads; `tollgate report --logs` covers it from files.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tollgate_core::compliance::evidence::{Evidence, InputScope, InputSource};
use tollgate_core::compliance::{self, Inputs, framework};
use tollgate_core::inventory::Inventory;
use tollgate_core::render::compliance as render;
use tollgate_core::service::ReportSchedule;
use tollgate_store::ReportRecord;

use super::App;
use crate::evidence::{self, HistoryPeriod};

/// How often the schedule is looked at.
const TICK: Duration = Duration::from_secs(60);

/// Writes the reports that are due, until the service stops.
pub async fn run(app: Arc<App>) -> anyhow::Result<()> {
    loop {
        let scanned = app.scanned.read().await.is_some();
        if app.is_leader() && scanned {
            for schedule in &app.config.serve.reports {
                if let Err(error) = due(&app, schedule).await {
                    tracing::warn!("report {}: {error:#}", schedule.framework);
                }
            }
        }
        // Until the first scan, look again soon: the first reports follow it.
        tokio::time::sleep(if scanned {
            TICK
        } else {
            Duration::from_secs(1)
        })
        .await;
    }
}

/// Writes `schedule`'s report when the newest stored one is older than its period.
async fn due(app: &App, schedule: &ReportSchedule) -> anyhow::Result<()> {
    let now = jiff::Timestamp::now();
    let period_ms = i64::try_from(schedule.hours()).unwrap_or(24) * 3_600_000;
    let last = app
        .store
        .reports(Some(&app.cluster))
        .await?
        .into_iter()
        .find(|r| r.framework == schedule.framework && r.format == schedule.format());
    if last
        .as_ref()
        .is_some_and(|r| now.as_millisecond() - r.time_ms < period_ms)
    {
        return Ok(());
    }
    let since = last.and_then(|r| jiff::Timestamp::from_millisecond(r.time_ms).ok());
    let record = generate(app, schedule, now, since).await?;
    let id = app
        .store
        .put_report(&record, schedule.keep.unwrap_or(30))
        .await?;
    tracing::info!("wrote the {} report {id}", schedule.framework);
    Ok(())
}

/// One report of `schedule` as of `at`, with the history since `since`.
pub async fn generate(
    app: &App,
    schedule: &ReportSchedule,
    at: jiff::Timestamp,
    since: Option<jiff::Timestamp>,
) -> anyhow::Result<ReportRecord> {
    let framework = framework::find(&schedule.framework)
        .ok_or_else(|| anyhow::anyhow!("unknown framework `{}`", schedule.framework))?;
    let Some(scanned) = app.scanned.read().await.clone() else {
        anyhow::bail!("no scan yet");
    };
    let key = crate::cmd::history::checkpoint_key(&app.config)?;
    let history = evidence::history(
        &app.store,
        &app.judge,
        &HistoryPeriod {
            url: &app.store_url,
            cluster: Some(&app.cluster),
            since,
            until: at,
            checkpoint_key: key.as_deref(),
        },
    )
    .await
    .map_or_else(
        |e| Evidence::missing(format!("the history could not be read: {e:#}")),
        Evidence::Assessed,
    );
    let config = app.config.clone();
    let format = schedule.format().to_owned();
    let cluster = app.cluster.clone();
    let (body, summary) = tokio::task::spawn_blocking(move || {
        let inventory = Inventory::build(
            scanned.objects.iter().cloned().collect(),
            Vec::new(),
            Some(scanned.scope.clone()),
        );
        let report = compliance::build(Inputs {
            framework,
            inventory: &inventory,
            config: &config,
            input: InputScope {
                source: if scanned.scope.complete {
                    InputSource::Cluster
                } else {
                    InputSource::Manifests
                },
                paths: Vec::new(),
                context: None,
                namespace: None,
                config: config.path.clone(),
                documents: scanned.objects.len(),
                errors: scanned.errors.clone(),
                warnings: Vec::new(),
            },
            at,
            history,
            access: Evidence::missing(
                "the service counts requests per route; give access logs to `tollgate report \
                 --logs` for the access section",
            ),
        });
        let body = match format.as_str() {
            "markdown" => render::markdown(&report),
            "json" => render::json(&report),
            _ => render::html(&report),
        };
        let s = &report.summary;
        let summary = json!({
            "controls": s.controls, "pass": s.pass, "fail": s.fail,
            "not_assessed": s.not_assessed, "findings": s.findings,
        });
        (body, summary)
    })
    .await?;
    Ok(ReportRecord {
        id: String::new(),
        cluster,
        framework: schedule.framework.clone(),
        format: schedule.format().to_owned(),
        time_ms: at.as_millisecond(),
        summary,
        body,
    })
}
