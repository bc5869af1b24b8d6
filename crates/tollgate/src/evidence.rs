//! Evidence for compliance reports that the core crate cannot gather itself: the change history
//! summarised from the store (async SQL) and the access logs run through the log analyser.
//! `tollgate report` calls these; `tollgate serve` can call them with its own store and then
//! `tollgate_core::compliance::build`, without the command line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::bail;
use jiff::Timestamp;
use tollgate_core::compliance::evidence::{ALERT_LIMIT, NOTABLE_LIMIT, ROUTE_LIMIT};
use tollgate_core::compliance::{
    AccessAlert, AccessEvidence, ActorCount, ChainStatus, ChangeEntry, HistoryEvidence, LogFile,
    RouteTraffic,
};
use tollgate_core::config::Config;
use tollgate_core::inventory::Inventory;
use tollgate_logs::analyze::{Analyzer, Run, Settings};
use tollgate_logs::detectors::{Classifier, Detectors};
use tollgate_logs::report::{Location, Report};
use tollgate_logs::time::format_rfc3339;
use tollgate_store::{Actor, Attribution, HistoryFilter, HistoryRecord, Outcome, Store};

use crate::cmd::logs;
use crate::render_logs::target_text;
use crate::tracking::Judge;

/// Records read per query.
const PAGE: u32 = 500;

/// Which part of the history a report covers.
#[derive(Debug, Clone)]
pub struct HistoryPeriod<'a> {
    /// The store's URL as given (a password in it is never printed).
    pub url: &'a str,
    /// Only this cluster, when the store holds several and one was named.
    pub cluster: Option<&'a str>,
    /// From this time (`--since`); `None`: from the first record.
    pub since: Option<Timestamp>,
    /// Up to and including this time (the report's `--at`).
    pub until: Timestamp,
    /// The key that signs retention checkpoints, to verify the chain's start.
    pub checkpoint_key: Option<&'a [u8]>,
}

/// Summarises the changes of the period: counts by action, kind and actor; the out-of-band,
/// risky and refused changes with their actors; and the hash chain check. Actors are joined to
/// audit events as `tollgate history` joins them.
///
/// # Errors
/// When the store cannot be read.
pub async fn history(
    store: &Store,
    judge: &Judge,
    period: &HistoryPeriod<'_>,
) -> anyhow::Result<HistoryEvidence> {
    let mut filter = HistoryFilter {
        cluster: period.cluster.map(str::to_owned),
        since_ms: period.since.map(Timestamp::as_millisecond),
        // The filter's end is exclusive; the report's instant is part of its period.
        until_ms: Some(period.until.as_millisecond().saturating_add(1)),
        limit: Some(PAGE),
        ..HistoryFilter::default()
    };
    let mut summary = HistoryEvidence {
        store: redact_store_url(period.url),
        cluster: period.cluster.map(str::to_owned),
        since: period.since,
        until: period.until,
        first: None,
        last: None,
        changes: 0,
        by_action: BTreeMap::new(),
        by_kind: BTreeMap::new(),
        by_actor: Vec::new(),
        gitops_configured: !judge.config.history.gitops.is_empty(),
        out_of_band: 0,
        risky: 0,
        risky_out_of_band: 0,
        denied: 0,
        managed_fields_only: 0,
        unknown_actor: 0,
        notable: Vec::new(),
        notable_omitted: 0,
        chain: ChainStatus {
            intact: true,
            records: 0,
            first_broken: None,
        },
    };
    let mut actors: BTreeMap<String, ActorCount> = BTreeMap::new();
    loop {
        let page = store.history(&filter).await?;
        let done = page.len() < PAGE as usize;
        for mut record in page {
            judge.resolve(store, &mut record).await?;
            count(&mut summary, &mut actors, &record);
        }
        if done {
            break;
        }
        filter.offset += PAGE;
    }
    let mut by_actor: Vec<ActorCount> = actors.into_values().collect();
    by_actor.sort_by(|a, b| {
        b.changes
            .cmp(&a.changes)
            .then_with(|| a.actor.cmp(&b.actor))
    });
    summary.by_actor = by_actor;
    let verified = store.verify(period.checkpoint_key).await?;
    summary.chain = ChainStatus {
        intact: verified.ok,
        records: verified.records,
        first_broken: verified
            .first_broken
            .map(|(seq, why)| format!("record #{seq}: {why}")),
    };
    Ok(summary)
}

/// Adds one record (newest first) to the summary.
fn count(
    summary: &mut HistoryEvidence,
    actors: &mut BTreeMap<String, ActorCount>,
    record: &HistoryRecord,
) {
    let change = &record.change;
    let time = Timestamp::from_millisecond(change.time_ms).ok();
    if let Some(time) = time {
        summary.first = Some(summary.first.map_or(time, |t| t.min(time)));
        summary.last = Some(summary.last.map_or(time, |t| t.max(time)));
    }
    summary.changes += 1;
    *summary
        .by_action
        .entry(change.action.as_str().to_owned())
        .or_default() += 1;
    *summary
        .by_kind
        .entry(change.resource.kind.clone())
        .or_default() += 1;
    let applied = change.outcome == Outcome::Applied;
    let denied = change.outcome == Outcome::Denied;
    let out_of_band = applied && change.out_of_band;
    let risky = applied && change.risk.is_risky();
    summary.out_of_band += u64::from(out_of_band);
    summary.risky += u64::from(risky);
    summary.risky_out_of_band += u64::from(out_of_band && risky);
    summary.denied += u64::from(denied);
    if applied {
        match change.actor.attribution {
            Attribution::Audit => {}
            Attribution::ManagedFields => summary.managed_fields_only += 1,
            Attribution::Unknown => summary.unknown_actor += 1,
        }
    }
    let actor = actor_text(&change.actor);
    let entry = actors.entry(actor.clone()).or_insert_with(|| ActorCount {
        actor: actor.clone(),
        changes: 0,
        out_of_band: 0,
        risky: 0,
        denied: 0,
    });
    entry.changes += 1;
    entry.out_of_band += u64::from(out_of_band);
    entry.risky += u64::from(risky);
    entry.denied += u64::from(denied);
    if !(out_of_band || risky || denied) {
        return;
    }
    if summary.notable.len() >= NOTABLE_LIMIT {
        summary.notable_omitted += 1;
        return;
    }
    let resource = &change.resource;
    summary.notable.push(ChangeEntry {
        id: record.seq,
        time: time.unwrap_or(Timestamp::UNIX_EPOCH),
        action: change.action.as_str().to_owned(),
        outcome: change.outcome.as_str().to_owned(),
        resource: if resource.namespace.is_empty() {
            format!("{} {}", resource.kind, resource.name)
        } else {
            format!("{} {}/{}", resource.kind, resource.namespace, resource.name)
        },
        actor,
        attribution: match change.actor.attribution {
            Attribution::Audit => "audit",
            Attribution::ManagedFields => "managed-fields",
            Attribution::Unknown => "unknown",
        }
        .to_owned(),
        source_ips: change.actor.source_ips.clone(),
        out_of_band,
        introduced: change.risk.introduced.clone(),
        fixed: change.risk.fixed.clone(),
    });
}

/// The actor in one line: `bob (impersonated by admin)`, `manager kubectl-edit`, `unknown`.
fn actor_text(actor: &Actor) -> String {
    let mut text = match (&actor.user, &actor.field_manager) {
        (Some(user), _) => user.clone(),
        (None, Some(manager)) => format!("manager {manager}"),
        (None, None) => "unknown".to_owned(),
    };
    if let Some(by) = &actor.impersonated_by {
        text.push_str(&format!(" (impersonated by {by})"));
    }
    if actor.shared {
        text.push_str(" [shared identity]");
    }
    text
}

/// The URL without a password: `postgres://user:secret@db/x?password=y` becomes
/// `postgres://user@db/x`. A report is shared; the store's credentials must not travel with it.
#[must_use]
pub fn redact_store_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    if scheme.starts_with("sqlite") {
        return url.to_owned();
    }
    // The query may carry a password too; the report does not need any of it.
    let rest = rest.split_once('?').map_or(rest, |(before, _)| before);
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split_once(':').map_or(user_info, |(u, _)| u);
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    if path.is_empty() && !rest.contains('/') {
        format!("{scheme}://{authority}")
    } else {
        format!("{scheme}://{authority}/{path}")
    }
}

/// Reads the access logs against the inventory's routes with the configured detectors and
/// summarises them: per file its lines and time range (to the minute), the totals, the busiest
/// routes and the alerts.
///
/// # Errors
/// A bad `detectors` config section, or when no file could be read at all.
pub fn access(
    files: &[PathBuf],
    inventory: &Inventory,
    config: &Config,
    quiet: bool,
) -> anyhow::Result<AccessEvidence> {
    let detector_config = logs::detector_config(config.detectors.as_ref(), config.path.as_deref())?;
    let mut table = logs::route_table(inventory);
    table.prepare();
    let classifier = Classifier::new(&detector_config)
        .map_err(|e| anyhow::anyhow!("config `detectors`: {e}"))?;
    let analyzer = Analyzer::new(&table, classifier, None, Settings::default());
    let mut run = Run::new(&analyzer, Detectors::new(&detector_config));
    let mut read = Vec::new();
    for file in files {
        let lines_before = run.aggregate.lines;
        let errors_before = run.input_errors.len();
        let minutes_before = requests_per_minute(&run);
        logs::read_one(&analyzer, file, &mut run, quiet, &mut |_| {});
        // A file's time range: the minutes whose request count it raised.
        let minutes: Vec<i64> = requests_per_minute(&run)
            .into_iter()
            .filter(|(minute, n)| minutes_before.get(minute).copied().unwrap_or(0) < *n)
            .map(|(minute, _)| minute)
            .collect();
        read.push(LogFile {
            file: file.display().to_string(),
            lines: run.aggregate.lines.saturating_sub(lines_before),
            first: minutes
                .first()
                .map(|m| format_rfc3339(m.saturating_mul(60_000_000))),
            last: minutes
                .last()
                .map(|m| format_rfc3339(m.saturating_mul(60_000_000))),
            error: run
                .input_errors
                .get(errors_before..)
                .and_then(|new| new.first())
                .map(|(_, error)| error.clone()),
        });
    }
    if run.aggregate.lines == 0 && !run.input_errors.is_empty() {
        let problems: Vec<String> = run
            .input_errors
            .iter()
            .map(|(file, error)| format!("{file}: {error}"))
            .collect();
        bail!("no access log could be read: {}", problems.join("; "));
    }
    let _ = run.flush_minutes(None);
    let detectors = std::mem::replace(&mut run.detectors, Detectors::new(&detector_config));
    let alerts = detectors.finish();
    let report = Report::build(&run, &table, &alerts, &|_| Location::default());
    Ok(summarise(&report, read))
}

/// Requests per minute so far: the minutes handed to the detectors and those still open.
fn requests_per_minute(run: &Run) -> BTreeMap<i64, u64> {
    let mut out: BTreeMap<i64, u64> = run
        .timeline
        .iter()
        .map(|(minute, (requests, _))| (*minute, *requests))
        .collect();
    for ((_, minute), slot) in &run.aggregate.minutes {
        *out.entry(*minute).or_default() += slot.requests;
    }
    out
}

fn summarise(report: &Report, files: Vec<LogFile>) -> AccessEvidence {
    let s = &report.summary;
    let mut status: BTreeMap<String, u64> = BTreeMap::new();
    for traffic in report
        .routes
        .iter()
        .map(|r| &r.traffic)
        .chain(report.unattributed.as_ref())
    {
        for (class, n) in &traffic.status {
            *status.entry((*class).to_owned()).or_default() += n;
        }
    }
    let class =
        |t: &tollgate_logs::report::TrafficReport, c: &str| t.status.get(c).copied().unwrap_or(0);
    let routes = report
        .routes
        .iter()
        .take(ROUTE_LIMIT)
        .map(|r| RouteTraffic {
            route: target_text(&r.route),
            requests: r.traffic.requests,
            errors_4xx: class(&r.traffic, "4xx"),
            errors_5xx: class(&r.traffic, "5xx"),
            clients: r.traffic.unique_clients,
        })
        .collect();
    let mut alerts_by_detector: BTreeMap<String, u64> = BTreeMap::new();
    for alert in &report.alerts {
        *alerts_by_detector
            .entry(alert.detector.to_owned())
            .or_default() += 1;
    }
    let alerts = report
        .alerts
        .iter()
        .take(ALERT_LIMIT)
        .map(|a| AccessAlert {
            detector: a.detector.to_owned(),
            source: a.source.clone(),
            route: a.route.as_ref().map(target_text),
            count: a.count,
            first: a.first.clone(),
            last: a.last.clone(),
            detail: a.detail.clone(),
        })
        .collect();
    AccessEvidence {
        files,
        first: s.first.clone(),
        last: s.last.clone(),
        lines: s.lines,
        requests: s.parsed,
        malformed: s.malformed,
        unique_clients: s.unique_clients,
        attributed: s.attributed,
        unrouted: s.unrouted,
        responses: status,
        failed_logins: report.authentication.iter().map(|a| a.failed).sum(),
        routes,
        routes_omitted: report.routes.len().saturating_sub(ROUTE_LIMIT) as u64,
        alerts_by_detector,
        alerts,
        alerts_omitted: report.alerts.len().saturating_sub(ALERT_LIMIT) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_lose_their_passwords() {
        assert_eq!(
            redact_store_url(
                "postgres://tollgate:s3cret@db:5432/tollgate?sslmode=require&password=x"
            ),
            "postgres://tollgate@db:5432/tollgate"
        );
        assert_eq!(
            redact_store_url("postgresql://db.example.com/tollgate"),
            "postgresql://db.example.com/tollgate"
        );
        assert_eq!(redact_store_url("postgres://u:p@db"), "postgres://u@db");
        assert_eq!(
            redact_store_url("sqlite://tollgate.db"),
            "sqlite://tollgate.db"
        );
        assert_eq!(redact_store_url("sqlite::memory:"), "sqlite::memory:");
    }
}
