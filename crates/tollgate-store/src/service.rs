//! What `tollgate serve` keeps beside the history: findings with first-seen and resolved times,
//! alerts with their deliveries, access counts from the log intake, and each cluster's latest scan.
//!
//! Every row carries its cluster, so several services (one per cluster) can share one PostgreSQL
//! and any of them can show the fleet.

use std::collections::HashMap;

use ring::digest;
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Conditions, Error, Result, Store, count};

/// A finding as a scan reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewFinding {
    /// Rule name.
    pub rule: String,
    /// Rule code.
    pub code: String,
    /// Severity (lower-case).
    pub severity: String,
    /// Rule category.
    pub category: String,
    /// Resource apiVersion.
    pub api_version: String,
    /// Resource kind.
    pub kind: String,
    /// Resource namespace ('' when cluster-scoped).
    pub namespace: String,
    /// Resource name.
    pub name: String,
    /// JSON pointer in the resource ('' when none).
    pub path: String,
    /// The message.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

impl NewFinding {
    /// What makes it the same finding from scan to scan.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.rule, self.kind, self.namespace, self.name, self.path
        )
    }
}

/// A stored finding with its lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFinding {
    /// The cluster.
    pub cluster: String,
    /// The finding.
    #[serde(flatten)]
    pub finding: NewFinding,
    /// When a scan first reported it (since it last reopened).
    pub first_seen_ms: i64,
    /// The last scan that reported it.
    pub last_seen_ms: i64,
    /// When a scan stopped reporting it; `None` while open.
    pub resolved_ms: Option<i64>,
}

/// What [`Store::sync_findings`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingsSync {
    /// Findings reported for the first time (or again after being resolved).
    pub new: Vec<NewFinding>,
    /// Findings no longer reported.
    pub resolved: u64,
    /// Findings open after the scan.
    pub open: u64,
    /// Whether the cluster had no findings stored before (its first scan).
    pub first_scan: bool,
}

/// Which findings to read.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    /// Only this cluster.
    pub cluster: Option<String>,
    /// Only open ones (`Some(true)`), only resolved ones (`Some(false)`).
    pub open: Option<bool>,
    /// Only these severities.
    pub severities: Vec<String>,
    /// Only this rule (name or code).
    pub rule: Option<String>,
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Skip this many (pagination).
    pub offset: u64,
    /// At most this many.
    pub limit: u64,
}

/// An alert to raise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewAlert {
    /// The cluster.
    pub cluster: String,
    /// Alerts with the same key within the dedup window are one alert.
    pub dedup_key: String,
    /// What raised it (`risky-change`, `access`, ...).
    pub trigger: String,
    /// Severity (lower-case).
    pub severity: String,
    /// One line: what happened where.
    pub title: String,
    /// The route key, '' when none.
    pub route: String,
    /// The namespace of the resource it is about.
    pub namespace: String,
    /// The name of the resource it is about.
    pub name: String,
    /// The history record it is about or correlated with.
    pub change_seq: Option<i64>,
    /// What, who, where, evidence, diff.
    pub body: Value,
}

/// One sink's delivery of an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The sink's name.
    pub sink: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: u64,
    /// The last error ('' when none).
    pub last_error: String,
    /// When the status last changed.
    pub updated_ms: i64,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredAlert {
    /// Its id.
    pub id: String,
    /// The alert.
    #[serde(flatten)]
    pub alert: NewAlert,
    /// When it was first raised.
    pub created_ms: i64,
    /// When it was last raised again (deduplicated).
    pub last_seen_ms: i64,
    /// How often it was raised within the dedup window.
    pub occurrences: u64,
    /// Its deliveries.
    pub deliveries: Vec<Delivery>,
}

/// What [`Store::raise_alert`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Raised {
    /// A new alert, to be delivered.
    New(Box<StoredAlert>),
    /// The same key was raised within the dedup window: counted on that alert.
    Repeat(String),
}

/// Which alerts to read.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only this cluster.
    pub cluster: Option<String>,
    /// Only this trigger.
    pub trigger: Option<String>,
    /// Only this route key.
    pub route: Option<String>,
    /// Only alerts created at or after this time.
    pub since_ms: Option<i64>,
    /// Skip this many.
    pub offset: u64,
    /// At most this many.
    pub limit: u64,
}

/// The counts of one log intake batch, stored in one transaction before it is acknowledged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessBatch {
    /// The cluster.
    pub cluster: String,
    /// Lines received (parsed + malformed).
    pub lines: u64,
    /// Lines parsed into requests.
    pub parsed: u64,
    /// Lines that could not be read.
    pub malformed: u64,
    /// Requests per route and minute.
    pub minutes: Vec<MinuteCount>,
    /// Responses per route.
    pub routes: Vec<RouteCount>,
    /// The batch's heaviest sources per route.
    pub sources: Vec<SourceCount>,
}

/// Requests of one route in one minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinuteCount {
    /// The route key ('' for requests no route took).
    pub route: String,
    /// Minutes since the epoch.
    pub minute: i64,
    /// Requests.
    pub requests: u64,
    /// 5xx responses.
    pub errors_5xx: u64,
}

/// Responses of one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteCount {
    /// The route key.
    pub route: String,
    /// Requests.
    pub requests: u64,
    /// Responses by class: 1xx, 2xx, 3xx, 4xx, 5xx, other.
    pub status: [u64; 6],
    /// Bytes sent.
    pub bytes: u64,
    /// Time of the last request (ms).
    pub last_ms: i64,
}

/// Requests of one source to one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceCount {
    /// The route key.
    pub route: String,
    /// The client address.
    pub source: String,
    /// Requests.
    pub requests: u64,
    /// 4xx responses.
    pub errors_4xx: u64,
    /// Time of the last request (ms).
    pub last_ms: i64,
}

/// Totals of the log intake.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IntakeTotals {
    /// Batches acknowledged.
    pub batches: u64,
    /// Lines acknowledged.
    pub lines: u64,
    /// Of which parsed.
    pub parsed: u64,
    /// Of which malformed.
    pub malformed: u64,
}

/// A cluster's latest scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanRecord {
    /// The cluster.
    pub cluster: String,
    /// When it finished.
    pub time_ms: i64,
    /// How long it took.
    pub duration_ms: i64,
    /// Objects scanned.
    pub objects: u64,
    /// Input errors.
    pub errors: u64,
    /// The route map (`tollgate map --format json` rows).
    pub routes: Value,
    /// The certificate inventory (`tollgate certs --format json` rows).
    pub certificates: Value,
}

const FINDING_COLUMNS: &str = "cluster, fingerprint, rule, code, severity, category, api_version, \
     kind, namespace, name, path, message, help, first_seen_ms, last_seen_ms, resolved_ms";

const ALERT_COLUMNS: &str = "id, cluster, dedup_key, trigger_kind, severity, title, route, \
     namespace, name, change_seq, body_json, created_ms, last_seen_ms, occurrences";

impl Store {
    /// Records a scan's findings for `cluster`: new ones are inserted (or reopened), reported
    /// ones touched, and open ones no longer reported resolved, in one transaction.
    ///
    /// # Errors
    /// [`Error::Database`] when a query fails.
    pub async fn sync_findings(
        &self,
        cluster: &str,
        findings: &[NewFinding],
        now_ms: i64,
    ) -> Result<FindingsSync> {
        let mut tx = self.pool.begin().await?;
        // A write first, so SQLite takes the write lock now rather than failing to upgrade later.
        sqlx::query("UPDATE findings SET last_seen_ms = last_seen_ms WHERE cluster = $1")
            .bind(cluster)
            .execute(&mut *tx)
            .await?;
        let rows = sqlx::query("SELECT fingerprint, resolved_ms FROM findings WHERE cluster = $1")
            .bind(cluster)
            .fetch_all(&mut *tx)
            .await?;
        let mut stored: HashMap<String, Option<i64>> = HashMap::with_capacity(rows.len());
        for row in &rows {
            stored.insert(row.try_get(0)?, row.try_get(1)?);
        }
        let mut sync = FindingsSync {
            first_scan: stored.is_empty(),
            ..FindingsSync::default()
        };
        let mut seen = std::collections::HashSet::new();
        for finding in findings {
            let fingerprint = finding.fingerprint();
            if !seen.insert(fingerprint.clone()) {
                continue;
            }
            match stored.get(&fingerprint) {
                Some(None) => {
                    sqlx::query(
                        "UPDATE findings SET last_seen_ms = $3, severity = $4, message = $5, \
                         help = $6 WHERE cluster = $1 AND fingerprint = $2",
                    )
                    .bind(cluster)
                    .bind(&fingerprint)
                    .bind(now_ms)
                    .bind(&finding.severity)
                    .bind(&finding.message)
                    .bind(&finding.help)
                    .execute(&mut *tx)
                    .await?;
                }
                Some(Some(_)) => {
                    sqlx::query(
                        "UPDATE findings SET first_seen_ms = $3, last_seen_ms = $3, \
                         resolved_ms = NULL, severity = $4, message = $5, help = $6 \
                         WHERE cluster = $1 AND fingerprint = $2",
                    )
                    .bind(cluster)
                    .bind(&fingerprint)
                    .bind(now_ms)
                    .bind(&finding.severity)
                    .bind(&finding.message)
                    .bind(&finding.help)
                    .execute(&mut *tx)
                    .await?;
                    sync.new.push(finding.clone());
                }
                None => {
                    let sql = format!(
                        "INSERT INTO findings ({FINDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, \
                         $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, NULL)"
                    );
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(cluster)
                        .bind(&fingerprint)
                        .bind(&finding.rule)
                        .bind(&finding.code)
                        .bind(&finding.severity)
                        .bind(&finding.category)
                        .bind(&finding.api_version)
                        .bind(&finding.kind)
                        .bind(&finding.namespace)
                        .bind(&finding.name)
                        .bind(&finding.path)
                        .bind(&finding.message)
                        .bind(&finding.help)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                    sync.new.push(finding.clone());
                }
            }
        }
        for (fingerprint, resolved) in &stored {
            if resolved.is_none() && !seen.contains(fingerprint) {
                sqlx::query(
                    "UPDATE findings SET resolved_ms = $3 WHERE cluster = $1 AND fingerprint = $2",
                )
                .bind(cluster)
                .bind(fingerprint)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                sync.resolved += 1;
            }
        }
        tx.commit().await?;
        sync.open = seen.len() as u64;
        Ok(sync)
    }

    /// Stored findings, most severe and newest first.
    ///
    /// # Errors
    /// [`Error::Database`] when the query fails.
    pub async fn findings(&self, filter: &FindingFilter) -> Result<Vec<StoredFinding>> {
        let mut conditions = Conditions::default();
        if let Some(cluster) = &filter.cluster {
            conditions.text("cluster =", cluster);
        }
        if let Some(rule) = &filter.rule {
            let column = if rule.starts_with("TG") {
                "code ="
            } else {
                "rule ="
            };
            conditions.text(column, rule);
        }
        if let Some(namespace) = &filter.namespace {
            conditions.text("namespace =", namespace);
        }
        match filter.open {
            Some(true) => conditions.raw("resolved_ms IS NULL"),
            Some(false) => conditions.raw("resolved_ms IS NOT NULL"),
            None => {}
        }
        conditions.any_of("severity", &filter.severities);
        let sql = format!(
            "SELECT {FINDING_COLUMNS} FROM findings{} ORDER BY CASE severity WHEN 'critical' \
             THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END, \
             first_seen_ms DESC, fingerprint LIMIT {} OFFSET {}",
            conditions.where_clause(),
            filter.limit.max(1),
            filter.offset
        );
        let query = conditions.bind(sqlx::query(sqlx::AssertSqlSafe(sql)));
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(finding_from_row).collect()
    }

    /// Raises an alert: when one with the same cluster and key was raised within `dedup_ms`,
    /// that one is counted again and nothing new is delivered; otherwise the alert is stored with
    /// a pending delivery for each of `sinks`.
    ///
    /// # Errors
    /// [`Error::Database`] when a query fails.
    pub async fn raise_alert(
        &self,
        alert: &NewAlert,
        now_ms: i64,
        dedup_ms: i64,
        sinks: &[String],
    ) -> Result<Raised> {
        let mut tx = self.pool.begin().await?;
        let repeated = sqlx::query(
            "UPDATE alerts SET occurrences = occurrences + 1, last_seen_ms = $3 WHERE id = \
             (SELECT id FROM alerts WHERE cluster = $1 AND dedup_key = $2 AND last_seen_ms >= $4 \
             ORDER BY last_seen_ms DESC LIMIT 1) RETURNING id",
        )
        .bind(&alert.cluster)
        .bind(&alert.dedup_key)
        .bind(now_ms)
        .bind(now_ms.saturating_sub(dedup_ms))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = repeated {
            let id: String = row.try_get(0)?;
            tx.commit().await?;
            return Ok(Raised::Repeat(id));
        }
        let id = alert_id(&alert.cluster, &alert.dedup_key, now_ms);
        let body = serde_json::to_string(&alert.body).map_err(|source| Error::Serialize {
            what: "the alert body",
            source,
        })?;
        let sql = format!(
            "INSERT INTO alerts ({ALERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, $12, 1)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&id)
            .bind(&alert.cluster)
            .bind(&alert.dedup_key)
            .bind(&alert.trigger)
            .bind(&alert.severity)
            .bind(&alert.title)
            .bind(&alert.route)
            .bind(&alert.namespace)
            .bind(&alert.name)
            .bind(alert.change_seq)
            .bind(&body)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        let mut deliveries = Vec::new();
        for sink in sinks {
            sqlx::query(
                "INSERT INTO alert_deliveries (alert_id, sink, status, attempts, last_error, \
                 updated_ms) VALUES ($1, $2, 'pending', 0, '', $3)",
            )
            .bind(&id)
            .bind(sink)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            deliveries.push(Delivery {
                sink: sink.clone(),
                status: "pending".to_owned(),
                attempts: 0,
                last_error: String::new(),
                updated_ms: now_ms,
            });
        }
        tx.commit().await?;
        Ok(Raised::New(Box::new(StoredAlert {
            id,
            alert: alert.clone(),
            created_ms: now_ms,
            last_seen_ms: now_ms,
            occurrences: 1,
            deliveries,
        })))
    }

    /// Records the state of one delivery.
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn set_delivery(
        &self,
        alert_id: &str,
        sink: &str,
        status: &str,
        attempts: u32,
        last_error: &str,
        now_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE alert_deliveries SET status = $3, attempts = $4, last_error = $5, \
             updated_ms = $6 WHERE alert_id = $1 AND sink = $2",
        )
        .bind(alert_id)
        .bind(sink)
        .bind(status)
        .bind(i64::from(attempts))
        .bind(last_error)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deliveries still pending (after a restart), oldest first: (alert id, sink, attempts).
    ///
    /// # Errors
    /// [`Error::Database`] when the query fails.
    pub async fn pending_deliveries(&self, cluster: &str) -> Result<Vec<(String, String, u32)>> {
        let rows = sqlx::query(
            "SELECT d.alert_id, d.sink, d.attempts FROM alert_deliveries d JOIN alerts a ON \
             a.id = d.alert_id WHERE d.status = 'pending' AND a.cluster = $1 ORDER BY \
             a.created_ms",
        )
        .bind(cluster)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let attempts: i64 = row.try_get(2)?;
                Ok((
                    row.try_get(0)?,
                    row.try_get(1)?,
                    u32::try_from(attempts).unwrap_or(u32::MAX),
                ))
            })
            .collect()
    }

    /// Stored alerts, newest first, with their deliveries.
    ///
    /// # Errors
    /// [`Error::Database`] when a query fails; [`Error::CorruptRow`] for an unreadable body.
    pub async fn alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>> {
        let mut conditions = Conditions::default();
        for (sql, value) in [
            ("cluster =", &filter.cluster),
            ("trigger_kind =", &filter.trigger),
            ("route =", &filter.route),
        ] {
            if let Some(value) = value {
                conditions.text(sql, value);
            }
        }
        if let Some(since) = filter.since_ms {
            conditions.integer("created_ms >=", since);
        }
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts{} ORDER BY created_ms DESC, id LIMIT {} OFFSET {}",
            conditions.where_clause(),
            filter.limit.max(1),
            filter.offset
        );
        let query = conditions.bind(sqlx::query(sqlx::AssertSqlSafe(sql)));
        let rows = query.fetch_all(&self.pool).await?;
        let mut alerts = rows
            .iter()
            .map(alert_from_row)
            .collect::<Result<Vec<_>>>()?;
        for alert in &mut alerts {
            alert.deliveries = self.deliveries(&alert.id).await?;
        }
        Ok(alerts)
    }

    /// One alert by id.
    ///
    /// # Errors
    /// [`Error::Database`] when a query fails.
    pub async fn alert(&self, id: &str) -> Result<Option<StoredAlert>> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut alert = alert_from_row(&row)?;
        alert.deliveries = self.deliveries(&alert.id).await?;
        Ok(Some(alert))
    }

    async fn deliveries(&self, alert_id: &str) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT sink, status, attempts, last_error, updated_ms FROM alert_deliveries WHERE \
             alert_id = $1 ORDER BY sink",
        )
        .bind(alert_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Delivery {
                    sink: row.try_get(0)?,
                    status: row.try_get(1)?,
                    attempts: count(row.try_get(2)?),
                    last_error: row.try_get(3)?,
                    updated_ms: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// Adds one log intake batch's counts, in one transaction: once this returns, the batch's
    /// lines are counted and may be acknowledged.
    ///
    /// # Errors
    /// [`Error::Database`] when a query fails (nothing of the batch is then stored).
    pub async fn add_access(&self, batch: &AccessBatch) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO access_intake (cluster, batches, lines, parsed, malformed) VALUES \
             ($1, 1, $2, $3, $4) ON CONFLICT (cluster) DO UPDATE SET batches = \
             access_intake.batches + 1, lines = access_intake.lines + excluded.lines, parsed = \
             access_intake.parsed + excluded.parsed, malformed = access_intake.malformed + \
             excluded.malformed",
        )
        .bind(&batch.cluster)
        .bind(to_i64(batch.lines))
        .bind(to_i64(batch.parsed))
        .bind(to_i64(batch.malformed))
        .execute(&mut *tx)
        .await?;
        for minute in &batch.minutes {
            sqlx::query(
                "INSERT INTO access_minutes (cluster, route, minute, requests, errors_5xx) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cluster, route, minute) DO UPDATE SET \
                 requests = access_minutes.requests + excluded.requests, errors_5xx = \
                 access_minutes.errors_5xx + excluded.errors_5xx",
            )
            .bind(&batch.cluster)
            .bind(&minute.route)
            .bind(minute.minute)
            .bind(to_i64(minute.requests))
            .bind(to_i64(minute.errors_5xx))
            .execute(&mut *tx)
            .await?;
        }
        for route in &batch.routes {
            let [s1, s2, s3, s4, s5, other] = route.status.map(to_i64);
            sqlx::query(
                "INSERT INTO access_routes (cluster, route, requests, status_1xx, status_2xx, \
                 status_3xx, status_4xx, status_5xx, status_other, bytes, last_ms) VALUES ($1, \
                 $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (cluster, route) DO UPDATE \
                 SET requests = access_routes.requests + excluded.requests, status_1xx = \
                 access_routes.status_1xx + excluded.status_1xx, status_2xx = \
                 access_routes.status_2xx + excluded.status_2xx, status_3xx = \
                 access_routes.status_3xx + excluded.status_3xx, status_4xx = \
                 access_routes.status_4xx + excluded.status_4xx, status_5xx = \
                 access_routes.status_5xx + excluded.status_5xx, status_other = \
                 access_routes.status_other + excluded.status_other, bytes = access_routes.bytes \
                 + excluded.bytes, last_ms = CASE WHEN excluded.last_ms > access_routes.last_ms \
                 THEN excluded.last_ms ELSE access_routes.last_ms END",
            )
            .bind(&batch.cluster)
            .bind(&route.route)
            .bind(to_i64(route.requests))
            .bind(s1)
            .bind(s2)
            .bind(s3)
            .bind(s4)
            .bind(s5)
            .bind(other)
            .bind(to_i64(route.bytes))
            .bind(route.last_ms)
            .execute(&mut *tx)
            .await?;
        }
        for source in &batch.sources {
            sqlx::query(
                "INSERT INTO access_sources (cluster, route, source, requests, errors_4xx, \
                 last_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (cluster, route, source) \
                 DO UPDATE SET requests = access_sources.requests + excluded.requests, \
                 errors_4xx = access_sources.errors_4xx + excluded.errors_4xx, last_ms = CASE \
                 WHEN excluded.last_ms > access_sources.last_ms THEN excluded.last_ms ELSE \
                 access_sources.last_ms END",
            )
            .bind(&batch.cluster)
            .bind(&source.route)
            .bind(&source.source)
            .bind(to_i64(source.requests))
            .bind(to_i64(source.errors_4xx))
            .bind(source.last_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The log intake's totals (over every cluster when `cluster` is `None`).
    ///
    /// # Errors
    /// [`Error::Database`] when the query fails.
    pub async fn access_intake(&self, cluster: Option<&str>) -> Result<IntakeTotals> {
        let rows =
            sqlx::query("SELECT cluster, batches, lines, parsed, malformed FROM access_intake")
                .fetch_all(&self.pool)
                .await?;
        let mut totals = IntakeTotals::default();
        for row in &rows {
            let name: String = row.try_get(0)?;
            if cluster.is_some_and(|c| c != name) {
                continue;
            }
            totals.batches += count(row.try_get(1)?);
            totals.lines += count(row.try_get(2)?);
            totals.parsed += count(row.try_get(3)?);
            totals.malformed += count(row.try_get(4)?);
        }
        Ok(totals)
    }

    /// Responses per route, busiest first: (cluster, counts).
    ///
    /// # Errors
    /// [`Error::Database`] when the query fails.
    pub async fn access_routes(&self, cluster: Option<&str>) -> Result<Vec<(String, RouteCount)>> {
        let rows = sqlx::query(
            "SELECT cluster, route, requests, status_1xx, status_2xx, status_3xx, status_4xx, \
             status_5xx, status_other, bytes, last_ms FROM access_routes ORDER BY requests DESC, \
             cluster, route",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let name: String = row.try_get(0)?;
            if cluster.is_some_and(|c| c != name) {
                continue;
            }
            let mut status = [0u64; 6];
            for (i, slot) in status.iter_mut().enumerate() {
                *slot = count(row.try_get(3 + i)?);
            }
            out.push((
                name,
                RouteCount {
                    route: row.try_get(1)?,
                    requests: count(row.try_get(2)?),
                    status,
                    bytes: count(row.try_get(9)?),
                    last_ms: row.try_get(10)?,
                },
            ));
        }
        Ok(out)
    }

    /// Requests per minute of one route since `since_minute`, oldest first.
    ///
    /// # Errors
    /// [`Error::Database`] when the query fails.
    pub async fn access_minutes(
        &self,
        cluster: &str,
        route: &str,
        since_minute: i64,
    ) -> Result<Vec<MinuteCount>> {
        let rows = sqlx::query(
            "SELECT minute, requests, errors_5xx FROM access_minutes WHERE cluster = $1 AND \
             route = $2 AND minute >= $3 ORDER BY minute",
        )
        .bind(cluster)
        .bind(route)
        .bind(since_minute)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MinuteCount {
                    route: route.to_owned(),
                    minute: row.try_get(0)?,
                    requests: count(row.try_get(1)?),
                    errors_5xx: count(row.try_get(2)?),
                })
            })
            .collect()
    }

    /// The heaviest sources of one route.
    ///
    /// # Errors
    /// [`Error::Database`] when the query fails.
    pub async fn access_sources(
        &self,
        cluster: &str,
        route: &str,
        limit: u64,
    ) -> Result<Vec<SourceCount>> {
        let sql = format!(
            "SELECT source, requests, errors_4xx, last_ms FROM access_sources WHERE cluster = $1 \
             AND route = $2 ORDER BY requests DESC, source LIMIT {}",
            limit.max(1)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cluster)
            .bind(route)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(SourceCount {
                    route: route.to_owned(),
                    source: row.try_get(0)?,
                    requests: count(row.try_get(1)?),
                    errors_4xx: count(row.try_get(2)?),
                    last_ms: row.try_get(3)?,
                })
            })
            .collect()
    }

    /// Stores a cluster's latest scan (replacing the one before).
    ///
    /// # Errors
    /// [`Error::Database`] when the write fails.
    pub async fn put_scan(&self, scan: &ScanRecord) -> Result<()> {
        let json = |what, value: &Value| {
            serde_json::to_string(value).map_err(|source| Error::Serialize { what, source })
        };
        sqlx::query(
            "INSERT INTO scans (cluster, time_ms, duration_ms, objects, errors, routes_json, \
             certificates_json) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (cluster) DO \
             UPDATE SET time_ms = excluded.time_ms, duration_ms = excluded.duration_ms, objects \
             = excluded.objects, errors = excluded.errors, routes_json = excluded.routes_json, \
             certificates_json = excluded.certificates_json",
        )
        .bind(&scan.cluster)
        .bind(scan.time_ms)
        .bind(scan.duration_ms)
        .bind(to_i64(scan.objects))
        .bind(to_i64(scan.errors))
        .bind(json("the route map", &scan.routes)?)
        .bind(json("the certificates", &scan.certificates)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every cluster's latest scan, by cluster name.
    ///
    /// # Errors
    /// [`Error::Database`] when the query fails; [`Error::CorruptRow`] for unreadable JSON.
    pub async fn scans(&self) -> Result<Vec<ScanRecord>> {
        let rows = sqlx::query(
            "SELECT cluster, time_ms, duration_ms, objects, errors, routes_json, \
             certificates_json FROM scans ORDER BY cluster",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let cluster: String = row.try_get(0)?;
                let parse = |column: &'static str, index: usize| -> Result<Value> {
                    let text: String = row.try_get(index)?;
                    serde_json::from_str(&text).map_err(|source| Error::CorruptRow {
                        table: "scans",
                        key: cluster.clone(),
                        column,
                        source,
                    })
                };
                Ok(ScanRecord {
                    routes: parse("routes_json", 5)?,
                    certificates: parse("certificates_json", 6)?,
                    time_ms: row.try_get(1)?,
                    duration_ms: row.try_get(2)?,
                    objects: count(row.try_get(3)?),
                    errors: count(row.try_get(4)?),
                    cluster,
                })
            })
            .collect()
    }

    /// Removes what the service keeps beyond `keep_days`: access minutes, alerts raised and
    /// last seen before the cutoff, and findings resolved before it (open ones stay). The
    /// per-route totals and the intake counters are kept: they are what was acknowledged.
    ///
    /// # Errors
    /// [`Error::Database`] when the transaction fails (nothing is then removed).
    pub async fn prune_service(&self, keep_days: u32, now_ms: i64) -> Result<ServicePruned> {
        let cutoff = now_ms - i64::from(keep_days) * 86_400_000;
        let mut tx = self.pool.begin().await?;
        let access_minutes = sqlx::query("DELETE FROM access_minutes WHERE minute < $1")
            .bind(cutoff.div_euclid(60_000))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(
            "DELETE FROM alert_deliveries WHERE alert_id IN (SELECT id FROM alerts WHERE \
             last_seen_ms < $1)",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
        let alerts = sqlx::query("DELETE FROM alerts WHERE last_seen_ms < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let findings = sqlx::query("DELETE FROM findings WHERE resolved_ms < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(ServicePruned {
            access_minutes,
            alerts,
            findings,
        })
    }

    /// Stores a report and keeps only the newest `keep` of its cluster, framework and format.
    ///
    /// # Errors
    /// [`Error::Database`] when the transaction fails.
    pub async fn put_report(&self, report: &ReportRecord, keep: u32) -> Result<String> {
        let id = alert_id(
            &report.cluster,
            &format!("report|{}|{}", report.framework, report.format),
            report.time_ms,
        );
        let summary =
            serde_json::to_string(&report.summary).map_err(|source| Error::Serialize {
                what: "the report summary",
                source,
            })?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO reports (id, cluster, framework, format, time_ms, summary_json, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET summary_json = \
             excluded.summary_json, body = excluded.body",
        )
        .bind(&id)
        .bind(&report.cluster)
        .bind(&report.framework)
        .bind(&report.format)
        .bind(report.time_ms)
        .bind(&summary)
        .bind(&report.body)
        .execute(&mut *tx)
        .await?;
        let old = sqlx::query(
            "SELECT id FROM reports WHERE cluster = $1 AND framework = $2 AND format = $3 \
             ORDER BY time_ms DESC, id",
        )
        .bind(&report.cluster)
        .bind(&report.framework)
        .bind(&report.format)
        .fetch_all(&mut *tx)
        .await?;
        for row in old
            .iter()
            .skip(usize::try_from(keep.max(1)).unwrap_or(usize::MAX))
        {
            let stale: String = row.try_get(0)?;
            sqlx::query("DELETE FROM reports WHERE id = $1")
                .bind(&stale)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Stored reports, newest first, without their bodies.
    ///
    /// # Errors
    /// [`Error::Database`] when the query fails; [`Error::CorruptRow`] for an unreadable summary.
    pub async fn reports(&self, cluster: Option<&str>) -> Result<Vec<ReportRecord>> {
        let rows = sqlx::query(
            "SELECT id, cluster, framework, format, time_ms, summary_json FROM reports ORDER BY \
             time_ms DESC, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let record = report_from_row(row, String::new())?;
            if cluster.is_none_or(|c| c == record.cluster) {
                out.push(record);
            }
        }
        Ok(out)
    }

    /// One report with its body.
    ///
    /// # Errors
    /// [`Error::Database`] when the query fails.
    pub async fn report(&self, id: &str) -> Result<Option<ReportRecord>> {
        let row = sqlx::query(
            "SELECT id, cluster, framework, format, time_ms, summary_json, body FROM reports \
             WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let body: String = row.try_get(6)?;
            report_from_row(&row, body)
        })
        .transpose()
    }

    /// Every cluster anything is stored for.
    ///
    /// # Errors
    /// [`Error::Database`] when the query fails.
    pub async fn clusters(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT cluster FROM scans UNION SELECT cluster FROM history UNION SELECT cluster \
             FROM alerts UNION SELECT cluster FROM access_intake ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| row.try_get(0).map_err(Error::from))
            .collect()
    }
}

/// A stored compliance report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRecord {
    /// Its id.
    pub id: String,
    /// The cluster it is about.
    pub cluster: String,
    /// The framework.
    pub framework: String,
    /// `html`, `markdown` or `json`.
    pub format: String,
    /// The instant it speaks for (ms).
    pub time_ms: i64,
    /// Its summary (control and finding counts).
    pub summary: Value,
    /// The document (empty in lists).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub body: String,
}

/// What [`Store::prune_service`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServicePruned {
    /// Per-route, per-minute access counts.
    pub access_minutes: u64,
    /// Alerts (with their deliveries).
    pub alerts: u64,
    /// Findings resolved before the cutoff.
    pub findings: u64,
}

/// A stable id for an alert: the first 16 hex digits of SHA-256 over its cluster, key and time.
fn alert_id(cluster: &str, key: &str, created_ms: i64) -> String {
    let input = format!("{cluster}\n{key}\n{created_ms}");
    let hash = digest::digest(&digest::SHA256, input.as_bytes());
    hash.as_ref()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn report_from_row(row: &AnyRow, body: String) -> Result<ReportRecord> {
    let id: String = row.try_get(0)?;
    let summary: String = row.try_get(5)?;
    let summary = serde_json::from_str(&summary).map_err(|source| Error::CorruptRow {
        table: "reports",
        key: id.clone(),
        column: "summary_json",
        source,
    })?;
    Ok(ReportRecord {
        cluster: row.try_get(1)?,
        framework: row.try_get(2)?,
        format: row.try_get(3)?,
        time_ms: row.try_get(4)?,
        summary,
        body,
        id,
    })
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn finding_from_row(row: &AnyRow) -> Result<StoredFinding> {
    Ok(StoredFinding {
        cluster: row.try_get(0)?,
        finding: NewFinding {
            rule: row.try_get(2)?,
            code: row.try_get(3)?,
            severity: row.try_get(4)?,
            category: row.try_get(5)?,
            api_version: row.try_get(6)?,
            kind: row.try_get(7)?,
            namespace: row.try_get(8)?,
            name: row.try_get(9)?,
            path: row.try_get(10)?,
            message: row.try_get(11)?,
            help: row.try_get(12)?,
        },
        first_seen_ms: row.try_get(13)?,
        last_seen_ms: row.try_get(14)?,
        resolved_ms: row.try_get(15)?,
    })
}

fn alert_from_row(row: &AnyRow) -> Result<StoredAlert> {
    let id: String = row.try_get(0)?;
    let body: String = row.try_get(10)?;
    let body = serde_json::from_str(&body).map_err(|source| Error::CorruptRow {
        table: "alerts",
        key: id.clone(),
        column: "body_json",
        source,
    })?;
    Ok(StoredAlert {
        alert: NewAlert {
            cluster: row.try_get(1)?,
            dedup_key: row.try_get(2)?,
            trigger: row.try_get(3)?,
            severity: row.try_get(4)?,
            title: row.try_get(5)?,
            route: row.try_get(6)?,
            namespace: row.try_get(7)?,
            name: row.try_get(8)?,
            change_seq: row.try_get(9)?,
            body,
        },
        id,
        created_ms: row.try_get(11)?,
        last_seen_ms: row.try_get(12)?,
        occurrences: count(row.try_get(13)?),
        deliveries: Vec::new(),
    })
}
