//! Retention: removing old history records (and old audit events) without losing the ability to
//! verify what is kept.
//!
//! Only a *prefix* of the chain is ever removed. Removing records from the middle would leave a
//! `prev_hash` pointing at nothing, and proving such a gap legitimate needs one signed note per
//! gap; a prefix needs one. So [`Store::prune`] walks from the oldest record and stops at the first
//! one that must be kept — because it is newer than the cutoff, or because it is among the last N
//! versions of its object. Records behind that one stay too, even when they are old: a busy
//! object's old versions wait until everything before them can go.
//!
//! Each prune writes a checkpoint: the first kept `seq`, the hash it links to, the counts, the
//! time, and an HMAC-SHA256 over those with the caller's key. [`Store::verify`] starts from the
//! latest checkpoint. An unsigned checkpoint (no key) is reported as such: anyone able to write the
//! database could have written it.

use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::Row;

use crate::chain::{self, checkpoint_signature};
use crate::{Error, Result, Store, count};

const MS_PER_DAY: i64 = 86_400_000;

/// What to keep. A record is removed only when every rule set here allows it; with neither set,
/// nothing is removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Keep records (and audit events) younger than this many days.
    pub keep_days: Option<u32>,
    /// Keep at least the last this many versions of every object, however old.
    pub keep_versions_per_object: Option<u32>,
}

/// A note left by retention: the chain now starts at `first_seq`, which links to `prev_hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    /// 1, 2, 3, ...: verification starts from the highest.
    pub id: i64,
    /// When the prune ran, ms since the epoch.
    pub created_ms: i64,
    /// The first record kept (one past the chain's end when nothing was kept).
    pub first_seq: i64,
    /// The hash of the last record removed, which the first kept record's `prev_hash` must equal.
    pub prev_hash: String,
    /// Records this prune removed.
    pub records_pruned: u64,
    /// Records left after it.
    pub records_kept: u64,
    /// Audit events this prune removed.
    pub audit_events_pruned: u64,
    /// HMAC-SHA256 (hex) over the fields above; `None` when pruned without a key.
    pub signature: Option<String>,
}

/// What a prune did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// History records removed.
    pub records_pruned: u64,
    /// History records left.
    pub records_kept: u64,
    /// Audit events removed (older than `keep_days`).
    pub audit_events_pruned: u64,
    /// The checkpoint written; `None` when no history record was removed.
    pub checkpoint: Option<Checkpoint>,
}

pub(crate) async fn latest_checkpoint(
    connection: &mut AnyConnection,
) -> Result<Option<Checkpoint>> {
    let row = sqlx::query(
        "SELECT id, created_ms, first_seq, prev_hash, records_pruned, records_kept, \
         audit_events_pruned, signature FROM checkpoints ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(&mut *connection)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let signature: String = row.try_get("signature")?;
    Ok(Some(Checkpoint {
        id: row.try_get("id")?,
        created_ms: row.try_get("created_ms")?,
        first_seq: row.try_get("first_seq")?,
        prev_hash: row.try_get("prev_hash")?,
        records_pruned: count(row.try_get("records_pruned")?),
        records_kept: count(row.try_get("records_kept")?),
        audit_events_pruned: count(row.try_get("audit_events_pruned")?),
        signature: (!signature.is_empty()).then_some(signature),
    }))
}

/// `$1`-numbered SQL that is true for a record retention may remove, and its parameters.
fn removable_condition(retention: &Retention, now_ms: i64) -> Option<(String, Vec<i64>)> {
    let mut conditions = Vec::new();
    let mut parameters = Vec::new();
    if let Some(days) = retention.keep_days {
        parameters.push(now_ms.saturating_sub(i64::from(days).saturating_mul(MS_PER_DAY)));
        conditions.push(format!("time_ms < ${}", parameters.len()));
    }
    if let Some(versions) = retention.keep_versions_per_object {
        parameters.push(i64::from(versions));
        conditions.push(format!("newer_versions >= ${}", parameters.len()));
    }
    (!conditions.is_empty()).then(|| (conditions.join(" AND "), parameters))
}

impl Store {
    /// Removes the oldest history records that `retention` lets go (a prefix of the chain: see
    /// the module documentation), and audit events older than `keep_days`, in one transaction;
    /// then writes a checkpoint signed with `checkpoint_key` (unsigned when `None`).
    ///
    /// The stretch to be removed is verified first, under the same lock appends take: retention
    /// never destroys the evidence of tampering.
    ///
    /// # Errors
    /// [`Error::ChainBroken`] when the records to be removed do not verify (nothing is removed);
    /// [`Error::Database`] when the transaction fails.
    pub async fn prune(
        &self,
        retention: &Retention,
        now_ms: i64,
        checkpoint_key: Option<&[u8]>,
    ) -> Result<PruneReport> {
        let Some((removable, parameters)) = removable_condition(retention, now_ms) else {
            return Ok(PruneReport {
                records_pruned: 0,
                records_kept: history_count(&mut *self.pool.acquire().await?).await?,
                audit_events_pruned: 0,
                checkpoint: None,
            });
        };
        let mut transaction = self.pool.begin().await?;
        // Take the appenders' lock first, so the chain cannot grow or change while it is cut.
        let head = sqlx::query("UPDATE chain_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *transaction)
            .await?;
        let head_seq: i64 = head.try_get("seq")?;
        let head_hash: String = head.try_get("hash")?;

        // The first record that must stay; everything before it goes.
        let sql = format!(
            "SELECT MIN(seq) AS first_kept FROM (SELECT seq, time_ms, \
             ROW_NUMBER() OVER (PARTITION BY cluster, kind, namespace, name ORDER BY seq DESC) - 1 \
             AS newer_versions FROM history) AS ranked WHERE NOT ({removable})"
        );
        let mut first_kept_query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for parameter in &parameters {
            first_kept_query = first_kept_query.bind(*parameter);
        }
        let first_kept: i64 = first_kept_query
            .fetch_one(&mut *transaction)
            .await?
            .try_get::<Option<i64>, _>("first_kept")?
            .unwrap_or(head_seq + 1);
        let oldest: Option<i64> = sqlx::query("SELECT MIN(seq) AS oldest FROM history")
            .fetch_one(&mut *transaction)
            .await?
            .try_get("oldest")?;

        let audit_events_pruned = match retention.keep_days {
            Some(_) => {
                let cutoff = parameters.first().copied().unwrap_or(i64::MIN);
                sqlx::query("DELETE FROM audit_events WHERE time_ms < $1")
                    .bind(cutoff)
                    .execute(&mut *transaction)
                    .await?
                    .rows_affected()
            }
            None => 0,
        };

        let mut report = PruneReport {
            records_pruned: 0,
            records_kept: 0,
            audit_events_pruned,
            checkpoint: None,
        };
        if oldest.is_some_and(|oldest| oldest < first_kept) {
            let through = first_kept.min(head_seq);
            if let Some((seq, reason)) =
                chain::first_break_through(&mut transaction, checkpoint_key, through).await?
            {
                return Err(Error::ChainBroken { seq, reason });
            }
            let prev_hash: String = if first_kept > head_seq {
                head_hash
            } else {
                sqlx::query("SELECT prev_hash FROM history WHERE seq = $1")
                    .bind(first_kept)
                    .fetch_one(&mut *transaction)
                    .await?
                    .try_get("prev_hash")?
            };
            report.records_pruned = sqlx::query("DELETE FROM history WHERE seq < $1")
                .bind(first_kept)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
            let next_id: i64 =
                sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 AS next_id FROM checkpoints")
                    .fetch_one(&mut *transaction)
                    .await?
                    .try_get("next_id")?;
            report.records_kept = history_count(&mut transaction).await?;
            let mut checkpoint = Checkpoint {
                id: next_id,
                created_ms: now_ms,
                first_seq: first_kept,
                prev_hash,
                records_pruned: report.records_pruned,
                records_kept: report.records_kept,
                audit_events_pruned,
                signature: None,
            };
            checkpoint.signature = checkpoint_key.map(|key| checkpoint_signature(key, &checkpoint));
            insert_checkpoint(&mut transaction, &checkpoint).await?;
            report.checkpoint = Some(checkpoint);
        } else {
            report.records_kept = history_count(&mut transaction).await?;
        }
        transaction.commit().await?;
        Ok(report)
    }
}

async fn history_count(connection: &mut AnyConnection) -> Result<u64> {
    let total: i64 = sqlx::query("SELECT COUNT(*) AS total FROM history")
        .fetch_one(&mut *connection)
        .await?
        .try_get("total")?;
    Ok(count(total))
}

async fn insert_checkpoint(connection: &mut AnyConnection, checkpoint: &Checkpoint) -> Result<()> {
    let as_i64 = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO checkpoints (id, created_ms, first_seq, prev_hash, records_pruned, \
         records_kept, audit_events_pruned, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(checkpoint.id)
    .bind(checkpoint.created_ms)
    .bind(checkpoint.first_seq)
    .bind(&checkpoint.prev_hash)
    .bind(as_i64(checkpoint.records_pruned))
    .bind(as_i64(checkpoint.records_kept))
    .bind(as_i64(checkpoint.audit_events_pruned))
    .bind(checkpoint.signature.clone().unwrap_or_default())
    .execute(&mut *connection)
    .await?;
    Ok(())
}
