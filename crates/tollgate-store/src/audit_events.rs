//! Audit events as received: idempotent batched intake, and the candidates for joining an
//! observed change to the request that made it.
//!
//! The webhook backend delivers at least once (a failed POST is retried whole), so intake is
//! idempotent on `(auditID, stage)`: a redelivered event is counted as a duplicate and stored once.
//! An event's bodies are never stored when it is about Secret-like material
//! ([`AuditEvent::to_json_without_secrets`]).

use serde::Serialize;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe, Row};
use tollgate_core::audit::AuditEvent;

use crate::{Backend, Error, Result, Store, count};

/// Events per INSERT statement: 500 rows of 19 values stay well under SQLite's 32,766 and
/// PostgreSQL's 65,535 bound parameters, and match the webhook's batches (400 by default).
const ROWS_PER_STATEMENT: usize = 500;

/// The columns of one stored event, in insert order.
const INSERT_COLUMNS: &str = "audit_id, stage, cluster, time_ms, verb, username, \
     impersonated_user, groups_json, source_ips_json, user_agent, api_group, resource, \
     subresource, namespace, name, response_code, field_manager, response_resource_version, \
     event_json";
const VALUES_PER_ROW: usize = 19;

/// What one intake did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InsertStats {
    /// Events stored for the first time.
    pub inserted: u64,
    /// Events already stored (same auditID and stage), including repeats within the batch.
    pub duplicates: u64,
}

/// A stored audit event and the cluster it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredAuditEvent {
    /// The cluster that sent it.
    pub cluster: String,
    /// The event as received (without the bodies of Secret-like events).
    pub event: AuditEvent,
}

/// The audit events that may have made an observed change: see [`Store::audit_candidates`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditQuery<'a> {
    /// The cluster the change was observed in.
    pub cluster: &'a str,
    /// The object's API group (`""` for the core group).
    pub api_group: &'a str,
    /// The plural resource (`ingresses`).
    pub resource: &'a str,
    /// The namespace (`""` for cluster-scoped objects).
    pub namespace: &'a str,
    /// The object's name.
    pub name: &'a str,
    /// When the change was made (the managedFields time), ms since the epoch.
    pub around_ms: i64,
    /// How far from `around_ms` an event's stageTimestamp may be, in ms.
    pub window_ms: i64,
    /// The object's new resourceVersion: an event whose response carries it matches whatever its
    /// time.
    pub resource_version: Option<&'a str>,
}

/// One event's column values.
struct EventRow {
    audit_id: String,
    stage: &'static str,
    time_ms: i64,
    verb: String,
    username: String,
    impersonated_user: String,
    groups_json: String,
    source_ips_json: String,
    user_agent: String,
    api_group: String,
    resource: String,
    subresource: String,
    namespace: String,
    name: String,
    response_code: Option<i64>,
    field_manager: String,
    response_resource_version: String,
    event_json: String,
}

impl EventRow {
    fn new(event: &AuditEvent) -> Result<Self> {
        let json = |what: &'static str, value: &[String]| {
            serde_json::to_string(value).map_err(|source| Error::Serialize { what, source })
        };
        let object = event.object_ref.as_ref();
        let object_field = |field: fn(&tollgate_core::audit::ObjectRef) -> &Option<String>| {
            object
                .and_then(|object| field(object).clone())
                .unwrap_or_default()
        };
        Ok(EventRow {
            audit_id: event.audit_id.clone(),
            stage: event.stage.as_str(),
            time_ms: event.stage_time_ms(),
            verb: event.verb.clone(),
            username: event.user.username.clone(),
            impersonated_user: event
                .impersonated_user
                .as_ref()
                .map(|user| user.username.clone())
                .unwrap_or_default(),
            groups_json: json("the groups", &event.effective_user().groups)?,
            source_ips_json: json("the source IPs", &event.source_ips)?,
            user_agent: event.user_agent.clone().unwrap_or_default(),
            api_group: object_field(|object| &object.api_group),
            resource: object_field(|object| &object.resource),
            subresource: object_field(|object| &object.subresource),
            namespace: object_field(|object| &object.namespace),
            name: object_field(|object| &object.name),
            response_code: event.response_code().map(i64::from),
            field_manager: event.field_manager().unwrap_or_default().into_owned(),
            response_resource_version: event
                .response_resource_version()
                .unwrap_or_default()
                .to_owned(),
            event_json: event.to_json_without_secrets(),
        })
    }

    fn bind<'q>(
        self,
        query: Query<'q, Any, AnyArguments>,
        cluster: &str,
    ) -> Query<'q, Any, AnyArguments> {
        query
            .bind(self.audit_id)
            .bind(self.stage)
            .bind(cluster.to_owned())
            .bind(self.time_ms)
            .bind(self.verb)
            .bind(self.username)
            .bind(self.impersonated_user)
            .bind(self.groups_json)
            .bind(self.source_ips_json)
            .bind(self.user_agent)
            .bind(self.api_group)
            .bind(self.resource)
            .bind(self.subresource)
            .bind(self.namespace)
            .bind(self.name)
            .bind(self.response_code)
            .bind(self.field_manager)
            .bind(self.response_resource_version)
            .bind(self.event_json)
    }
}

/// `INSERT ... VALUES ($1, ...), ($20, ...) ON CONFLICT (audit_id, stage) DO NOTHING` for `rows`
/// rows: the same text for every full batch, so the database prepares it once per connection.
///
/// SQLite gets anonymous `?` placeholders instead: it looks a numbered parameter's name up in a
/// list, once per parameter per execution, which made a 500-row insert quadratic (measured: 2,700
/// events/s with `$n`, see bench/README.md).
fn insert_statement(rows: usize, backend: Backend) -> String {
    let mut sql = format!("INSERT INTO audit_events ({INSERT_COLUMNS}) VALUES ");
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for value in 0..VALUES_PER_ROW {
            if value > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(row * VALUES_PER_ROW + value + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (audit_id, stage) DO NOTHING");
    sql
}

impl Store {
    /// Stores audit events received from `cluster`, in one transaction: all of them or, on error,
    /// none. Events already stored (same auditID and stage) are skipped and counted as duplicates,
    /// so a redelivered batch changes nothing.
    ///
    /// # Errors
    /// [`Error::Database`] when the transaction fails (nothing is stored then).
    pub async fn insert_audit_events(
        &self,
        cluster: &str,
        events: &[AuditEvent],
    ) -> Result<InsertStats> {
        let mut stats = InsertStats::default();
        if events.is_empty() {
            return Ok(stats);
        }
        let mut transaction = self.pool.begin().await?;
        let mut full_batch_sql = None;
        for batch in events.chunks(ROWS_PER_STATEMENT) {
            let sql = if batch.len() == ROWS_PER_STATEMENT {
                full_batch_sql
                    .get_or_insert_with(|| insert_statement(ROWS_PER_STATEMENT, self.backend))
                    .clone()
            } else {
                insert_statement(batch.len(), self.backend)
            };
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for event in batch {
                query = EventRow::new(event)?.bind(query, cluster);
            }
            let inserted = query.execute(&mut *transaction).await?.rows_affected();
            stats.inserted += inserted;
            stats.duplicates += (batch.len() as u64).saturating_sub(inserted);
        }
        transaction.commit().await?;
        Ok(stats)
    }

    /// The writes (create, update, patch, delete, deletecollection, refused ones included) to one
    /// object that may have made an observed change: those whose response carries
    /// `query.resource_version`, and those whose stageTimestamp lies within `window_ms` of
    /// `around_ms`. Exact resourceVersion matches come first, then the rest by distance in time.
    ///
    /// Requests that named no object (a create with `generateName`, a `deletecollection`) are
    /// candidates too; their verb and response resourceVersion tell them apart.
    ///
    /// # Errors
    /// [`Error::Database`] when the query fails; [`Error::CorruptRow`] when a stored event does not
    /// parse.
    pub async fn audit_candidates(&self, query: &AuditQuery<'_>) -> Result<Vec<StoredAuditEvent>> {
        let from = query.around_ms.saturating_sub(query.window_ms);
        let to = query.around_ms.saturating_add(query.window_ms);
        let (time_or_version, version_first) = if query.resource_version.is_some() {
            (
                "((time_ms >= $6 AND time_ms <= $7) OR response_resource_version = $9)",
                "CASE WHEN response_resource_version = $9 THEN 0 ELSE 1 END, ",
            )
        } else {
            ("time_ms >= $6 AND time_ms <= $7", "")
        };
        let sql = format!(
            "SELECT cluster, audit_id, stage, event_json FROM audit_events \
             WHERE cluster = $1 AND api_group = $2 AND resource = $3 AND namespace = $4 \
             AND (name = $5 OR name = '') \
             AND verb IN ('create', 'update', 'patch', 'delete', 'deletecollection') \
             AND {time_or_version} \
             ORDER BY {version_first}ABS(time_ms - $8), audit_id, stage"
        );
        let mut select = sqlx::query(AssertSqlSafe(sql))
            .bind(query.cluster)
            .bind(query.api_group)
            .bind(query.resource)
            .bind(query.namespace)
            .bind(query.name)
            .bind(from)
            .bind(to)
            .bind(query.around_ms);
        if let Some(version) = query.resource_version {
            select = select.bind(version);
        }
        let rows = select.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let event_json: String = row.try_get("event_json")?;
                let event = serde_json::from_str(&event_json).map_err(|source| {
                    let audit_id: String = row.try_get("audit_id").unwrap_or_default();
                    let stage: String = row.try_get("stage").unwrap_or_default();
                    Error::CorruptRow {
                        table: "audit_events",
                        key: format!("{audit_id}/{stage}"),
                        column: "event_json",
                        source,
                    }
                })?;
                Ok(StoredAuditEvent {
                    cluster: row.try_get("cluster")?,
                    event,
                })
            })
            .collect()
    }

    /// How many audit events are stored (from every cluster).
    ///
    /// # Errors
    /// [`Error::Database`] when the query fails.
    pub async fn audit_event_count(&self) -> Result<u64> {
        let total: i64 = sqlx::query("SELECT COUNT(*) AS total FROM audit_events")
            .fetch_one(&self.pool)
            .await?
            .try_get("total")?;
        Ok(count(total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_insert_statement_numbers_every_value_once() {
        let sql = insert_statement(2, Backend::Postgres);
        assert!(sql.contains("VALUES ($1, $2, $3,"), "{sql}");
        assert!(sql.contains("$19), ($20, $21,"), "{sql}");
        assert!(
            sql.ends_with("$38) ON CONFLICT (audit_id, stage) DO NOTHING"),
            "{sql}"
        );
        let sqlite = insert_statement(2, Backend::Sqlite);
        assert_eq!(sqlite.matches('?').count(), 2 * VALUES_PER_ROW, "{sqlite}");
        assert!(!sqlite.contains('$'), "{sqlite}");
        assert_eq!(INSERT_COLUMNS.split(", ").count(), VALUES_PER_ROW);
    }
}
