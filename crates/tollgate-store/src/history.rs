//! The change history: one record per observed change of a tracked object (or per refused attempt
//! kept from the audit log), appended to the hash chain described in [`crate::chain`].
//!
//! Records are never updated. Their JSON fields are stored as serialized at append time and hashed
//! exactly as stored.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::AssertSqlSafe;
use sqlx::Row;

use crate::chain::{RecordColumns, record_columns};
use crate::{Conditions, Error, Result, Store};

/// What happened to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The object appeared.
    Created,
    /// The object changed.
    Updated,
    /// The object went away.
    Deleted,
}

impl Action {
    /// The action as stored and shown.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "created" => Some(Action::Created),
            "updated" => Some(Action::Updated),
            "deleted" => Some(Action::Deleted),
            _ => None,
        }
    }
}

/// Whether the change took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The change was applied.
    Applied,
    /// The API server refused it; the attempt is kept from the audit log.
    Denied,
}

impl Outcome {
    /// The outcome as stored and shown.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Denied => "denied",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "applied" => Some(Outcome::Applied),
            "denied" => Some(Outcome::Denied),
            _ => None,
        }
    }
}

/// Where the actor of a change was learned from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attribution {
    /// An audit event matched the change: the user is the authenticated identity.
    Audit,
    /// Only the object's managedFields named a manager: a client-chosen string, not an identity.
    ManagedFields,
    /// Nothing named the actor.
    #[default]
    Unknown,
}

/// Who made a change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The effective user (the impersonated one, when the request impersonated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The effective user's groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The authenticated user who impersonated `user`, when there was impersonation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonated_by: Option<String>,
    /// The request's source addresses (all but the last are client-supplied).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<String>,
    /// The client's User-Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The field manager of the write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_manager: Option<String>,
    /// The auditID of the audit event the actor was taken from, as evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_id: Option<String>,
    /// Where the actor was learned from.
    #[serde(default)]
    pub attribution: Attribution,
    /// How the audit event was matched to the change: `resource-version` (exact: the event's
    /// response carries the version observed), `field-manager-and-time` or `time` (the nearest
    /// write of the right verb within the attribution window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_by: Option<String>,
    /// True when `user` is a shared identity (a GitOps controller or an access gateway's service
    /// account): the person behind the change is not known from the cluster alone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

/// The rules a change newly violates or newly satisfies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    /// Rules the object violates after the change and did not before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub introduced: Vec<String>,
    /// Rules the object violated before the change and no longer does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed: Vec<String>,
}

impl Risk {
    /// True when the change introduced a violation: what `risky_only` filters on.
    #[must_use]
    pub fn is_risky(&self) -> bool {
        !self.introduced.is_empty()
    }
}

impl From<tollgate_core::change::ChangeRisk> for Risk {
    fn from(risk: tollgate_core::change::ChangeRisk) -> Self {
        Risk {
            introduced: risk.introduced,
            fixed: risk.fixed,
        }
    }
}

/// The object a record is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ResourceRef {
    /// `networking.k8s.io/v1`, `v1`, ...
    pub api_version: String,
    /// `Ingress`, `Service`, ...
    pub kind: String,
    /// The namespace; empty for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// The name.
    pub name: String,
    /// The uid (it tells a re-created object from the one deleted before it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
}

/// A change to record: everything but the chain fields, which [`Store::append`] assigns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRecord {
    /// The cluster the object lives in.
    pub cluster: String,
    /// When the change happened, in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// What happened.
    pub action: Action,
    /// The object.
    pub resource: ResourceRef,
    /// The object's resourceVersion after the change (before it, for a denied attempt).
    pub resource_version: String,
    /// The normalized object after the change; `None` after a delete.
    pub object: Option<Value>,
    /// JSON Patch against the previous version (server-managed fields normalized away).
    pub diff: Value,
    /// Who made the change.
    pub actor: Actor,
    /// Rules the change newly violates or fixes.
    pub risk: Risk,
    /// Whether it took effect.
    pub outcome: Outcome,
    /// True when the actor is not one of the configured GitOps identities.
    pub out_of_band: bool,
}

/// A record of the history chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRecord {
    /// Position in the chain: 1, 2, 3, ...
    pub seq: i64,
    /// The change.
    #[serde(flatten)]
    pub change: NewRecord,
    /// SHA-256 (hex) over the change and `prev_hash`.
    pub hash: String,
    /// The hash of the record before (the genesis hash for the first).
    pub prev_hash: String,
}

/// Which records [`Store::history`] returns. Every field narrows; the default returns everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    /// Only this cluster.
    pub cluster: Option<String>,
    /// Only this kind (`Ingress`).
    pub kind: Option<String>,
    /// Only this namespace (`""` for cluster-scoped objects).
    pub namespace: Option<String>,
    /// Only objects of this name.
    pub name: Option<String>,
    /// Only changes whose effective user is this one.
    pub actor: Option<String>,
    /// Only changes at or after this time (ms since the epoch).
    pub since_ms: Option<i64>,
    /// Only changes before this time (ms since the epoch).
    pub until_ms: Option<i64>,
    /// Only changes that introduced a rule violation.
    pub risky_only: bool,
    /// At most this many records.
    pub limit: Option<u32>,
    /// Skip this many records first (for paging).
    pub offset: u32,
}

impl RecordColumns {
    /// The columns a new record is stored with, at `seq` after `prev_hash`.
    pub(crate) fn new(change: &NewRecord, seq: i64, prev_hash: String) -> Result<Self> {
        let mut columns = RecordColumns {
            seq,
            cluster: change.cluster.clone(),
            time_ms: change.time_ms,
            action: change.action.as_str().to_owned(),
            api_version: change.resource.api_version.clone(),
            kind: change.resource.kind.clone(),
            namespace: change.resource.namespace.clone(),
            name: change.resource.name.clone(),
            uid: change.resource.uid.clone(),
            resource_version: change.resource_version.clone(),
            object_json: match &change.object {
                Some(object) => to_json("the object", object)?,
                None => String::new(),
            },
            diff_json: to_json("the diff", &change.diff)?,
            actor_json: to_json("the actor", &change.actor)?,
            risk_json: to_json("the risk", &change.risk)?,
            outcome: change.outcome.as_str().to_owned(),
            out_of_band: i64::from(change.out_of_band),
            actor_user: change.actor.user.clone().unwrap_or_default(),
            risky: i64::from(change.risk.is_risky()),
            hash: String::new(),
            prev_hash,
        };
        columns.hash = columns.content_hash();
        Ok(columns)
    }

    /// The record these columns store.
    pub(crate) fn into_record(self) -> Result<HistoryRecord> {
        let key = || self.seq.to_string();
        let corrupt = |column: &'static str| {
            move |source| Error::CorruptRow {
                table: "history",
                key: key(),
                column,
                source,
            }
        };
        let unknown = |column: &'static str, value: &str| Error::UnknownValue {
            table: "history",
            key: key(),
            column,
            value: value.to_owned(),
        };
        let object = if self.object_json.is_empty() {
            None
        } else {
            Some(serde_json::from_str(&self.object_json).map_err(corrupt("object_json"))?)
        };
        let change = NewRecord {
            time_ms: self.time_ms,
            action: Action::parse(&self.action).ok_or_else(|| unknown("action", &self.action))?,
            resource_version: self.resource_version,
            object,
            diff: serde_json::from_str(&self.diff_json).map_err(corrupt("diff_json"))?,
            actor: serde_json::from_str(&self.actor_json).map_err(corrupt("actor_json"))?,
            risk: serde_json::from_str(&self.risk_json).map_err(corrupt("risk_json"))?,
            outcome: Outcome::parse(&self.outcome)
                .ok_or_else(|| unknown("outcome", &self.outcome))?,
            out_of_band: self.out_of_band != 0,
            resource: ResourceRef {
                api_version: self.api_version,
                kind: self.kind,
                namespace: self.namespace,
                name: self.name,
                uid: self.uid,
            },
            cluster: self.cluster,
        };
        Ok(HistoryRecord {
            seq: self.seq,
            change,
            hash: self.hash,
            prev_hash: self.prev_hash,
        })
    }
}

/// `value` as JSON text; `what` names it in the error.
fn to_json<T: Serialize>(what: &'static str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|source| Error::Serialize { what, source })
}

impl Store {
    /// Appends a change to the history chain and returns the stored record with its `seq`,
    /// `hash` and `prev_hash`.
    ///
    /// The append runs in one transaction that first updates the one-row `chain_head` table. That
    /// write takes the row lock on PostgreSQL and the database write lock on SQLite (a deferred
    /// transaction whose first statement writes behaves as `BEGIN IMMEDIATE`), so concurrent
    /// appenders, in this process or another, queue up and each links to the record the previous
    /// one committed: the chain never forks.
    ///
    /// # Errors
    /// [`Error::Database`] when the transaction fails (nothing is stored then);
    /// [`Error::Serialize`] when the object or diff cannot be serialized.
    pub async fn append(&self, change: NewRecord) -> Result<HistoryRecord> {
        let mut transaction = self.pool.begin().await?;
        let head =
            sqlx::query("UPDATE chain_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *transaction)
                .await?;
        let seq: i64 = head.try_get("seq")?;
        let prev_hash: String = head.try_get("hash")?;
        let columns = RecordColumns::new(&change, seq, prev_hash)?;
        sqlx::query(concat!(
            "INSERT INTO history (",
            record_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20)"
        ))
        .bind(columns.seq)
        .bind(&columns.cluster)
        .bind(columns.time_ms)
        .bind(&columns.action)
        .bind(&columns.api_version)
        .bind(&columns.kind)
        .bind(&columns.namespace)
        .bind(&columns.name)
        .bind(&columns.uid)
        .bind(&columns.resource_version)
        .bind(&columns.object_json)
        .bind(&columns.diff_json)
        .bind(&columns.actor_json)
        .bind(&columns.risk_json)
        .bind(&columns.outcome)
        .bind(columns.out_of_band)
        .bind(&columns.actor_user)
        .bind(columns.risky)
        .bind(&columns.hash)
        .bind(&columns.prev_hash)
        .execute(&mut *transaction)
        .await?;
        sqlx::query("UPDATE chain_head SET hash = $1 WHERE id = 1")
            .bind(&columns.hash)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(HistoryRecord {
            seq,
            hash: columns.hash,
            prev_hash: columns.prev_hash,
            change,
        })
    }

    /// The records `filter` selects, newest first.
    ///
    /// # Errors
    /// [`Error::Database`] when the query fails; [`Error::CorruptRow`] or
    /// [`Error::UnknownValue`] when a stored record was edited into something unreadable.
    pub async fn history(&self, filter: &HistoryFilter) -> Result<Vec<HistoryRecord>> {
        let mut conditions = Conditions::default();
        let text_filters = [
            ("cluster =", &filter.cluster),
            ("kind =", &filter.kind),
            ("namespace =", &filter.namespace),
            ("name =", &filter.name),
            ("actor_user =", &filter.actor),
        ];
        for (sql, value) in text_filters {
            if let Some(value) = value {
                conditions.text(sql, value);
            }
        }
        if let Some(since) = filter.since_ms {
            conditions.integer("time_ms >=", since);
        }
        if let Some(until) = filter.until_ms {
            conditions.integer("time_ms <", until);
        }
        if filter.risky_only {
            conditions.integer("risky =", 1);
        }
        let limit = filter.limit.map_or(i64::MAX, i64::from);
        let sql = format!(
            "SELECT {} FROM history{} ORDER BY seq DESC LIMIT ${} OFFSET ${}",
            record_columns!(),
            conditions.where_clause(),
            conditions.next(),
            conditions.next() + 1,
        );
        let query = conditions.bind(sqlx::query(AssertSqlSafe(sql)));
        let rows = query
            .bind(limit)
            .bind(i64::from(filter.offset))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| RecordColumns::from_row(row)?.into_record())
            .collect()
    }

    /// The record at `seq`, if the chain has it (it may have been pruned).
    ///
    /// # Errors
    /// As [`Store::history`].
    pub async fn record(&self, seq: i64) -> Result<Option<HistoryRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " FROM history WHERE seq = $1"
        ))
        .bind(seq)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| RecordColumns::from_row(&row)?.into_record())
            .transpose()
    }

    /// The last applied record of an object (`namespace` empty for cluster-scoped ones): its
    /// current version, to diff the next one against and to compare with after a relist. Denied
    /// attempts are skipped: they changed nothing.
    ///
    /// # Errors
    /// As [`Store::history`].
    pub async fn latest(
        &self,
        cluster: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<HistoryRecord>> {
        self.applied_before(cluster, kind, namespace, name, i64::MAX, i64::MAX)
            .await
    }

    /// The last applied record of an object before record `before_seq` and before the time
    /// `before_ms`: the version a change or an audit event is compared with.
    ///
    /// # Errors
    /// As [`Store::history`].
    pub async fn applied_before(
        &self,
        cluster: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        before_seq: i64,
        before_ms: i64,
    ) -> Result<Option<HistoryRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " FROM history WHERE cluster = $1 AND kind = $2 AND namespace = $3 AND name = $4 \
             AND outcome = 'applied' AND seq < $5 AND time_ms < $6 ORDER BY seq DESC LIMIT 1"
        ))
        .bind(cluster)
        .bind(kind)
        .bind(namespace)
        .bind(name)
        .bind(before_seq)
        .bind(before_ms)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| RecordColumns::from_row(&row)?.into_record())
            .transpose()
    }

    /// The current version of every object of `kind` in `cluster` that the history knows as
    /// existing: the last applied record of each object, unless that record is a deletion. A
    /// relist compares against these, so an object deleted while no watch ran is noticed.
    ///
    /// # Errors
    /// As [`Store::history`].
    pub async fn current_objects(&self, cluster: &str, kind: &str) -> Result<Vec<HistoryRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " FROM history WHERE seq IN (SELECT MAX(seq) FROM history \
             WHERE cluster = $1 AND kind = $2 AND outcome = 'applied' \
             GROUP BY namespace, name) AND action <> 'deleted' ORDER BY namespace, name"
        ))
        .bind(cluster)
        .bind(kind)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| RecordColumns::from_row(row)?.into_record())
            .collect()
    }
}
