//! The hash chain over the change history, and its verification.
//!
//! Every history record stores `prev_hash`, the hash of the record before it (the all-zero
//! [`GENESIS_HASH`] for the first), and `hash`, a SHA-256 over its own content and `prev_hash`.
//! Editing a record's content makes its stored hash wrong; deleting a record leaves a gap in `seq`
//! and a `prev_hash` that links to nothing; deleting the last records leaves the chain shorter than
//! `chain_head` says. [`Store::verify`] finds the first of these.
//!
//! What a chain cannot do on its own: someone with write access who rewrites a record *and every
//! hash after it* leaves a consistent chain. Comparing [`VerifyReport::head`] with a copy kept
//! elsewhere (a log line, an alert, a second store) catches that.
//!
//! The hashed encoding, version 1: the fields below, in this order, each written as its length in
//! bytes (8 bytes, big-endian) followed by its UTF-8 bytes; integers as decimal text, booleans as
//! `0`/`1`, absent strings as the empty string:
//! `tollgate-history-v1`, seq, cluster, time_ms, action, api_version, kind, namespace, name, uid,
//! resource_version, object_json, diff_json, actor_json, risk_json, outcome, out_of_band,
//! prev_hash. The JSON columns are hashed exactly as stored, so verification never re-serializes.

use ring::{digest, hmac};
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::history::{Actor, Risk};
use crate::retention::{self, Checkpoint};
use crate::{Backend, Result, Store, hex};

/// The `prev_hash` of the first record ever appended.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Domain separation for the two things this crate hashes or signs.
const RECORD_ENCODING: &str = "tollgate-history-v1";
const CHECKPOINT_ENCODING: &str = "tollgate-checkpoint-v1";

/// Records read per query while walking the chain.
const WALK_PAGE: i64 = 1_000;

/// A history row's columns exactly as stored: what is hashed, and what is checked.
#[derive(Debug, Clone)]
pub(crate) struct RecordColumns {
    pub seq: i64,
    pub cluster: String,
    pub time_ms: i64,
    pub action: String,
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    pub object_json: String,
    pub diff_json: String,
    pub actor_json: String,
    pub risk_json: String,
    pub outcome: String,
    pub out_of_band: i64,
    /// Derived from `actor_json`, for the actor filter.
    pub actor_user: String,
    /// Derived from `risk_json`, for the risky-only filter.
    pub risky: i64,
    pub hash: String,
    pub prev_hash: String,
}

/// The column list every history query reads, in [`RecordColumns::from_row`]'s order.
macro_rules! record_columns {
    () => {
        "seq, cluster, time_ms, action, api_version, kind, namespace, name, uid, resource_version, \
         object_json, diff_json, actor_json, risk_json, outcome, out_of_band, actor_user, risky, \
         hash, prev_hash"
    };
}
pub(crate) use record_columns;

impl RecordColumns {
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(RecordColumns {
            seq: row.try_get("seq")?,
            cluster: row.try_get("cluster")?,
            time_ms: row.try_get("time_ms")?,
            action: row.try_get("action")?,
            api_version: row.try_get("api_version")?,
            kind: row.try_get("kind")?,
            namespace: row.try_get("namespace")?,
            name: row.try_get("name")?,
            uid: row.try_get("uid")?,
            resource_version: row.try_get("resource_version")?,
            object_json: row.try_get("object_json")?,
            diff_json: row.try_get("diff_json")?,
            actor_json: row.try_get("actor_json")?,
            risk_json: row.try_get("risk_json")?,
            outcome: row.try_get("outcome")?,
            out_of_band: row.try_get("out_of_band")?,
            actor_user: row.try_get("actor_user")?,
            risky: row.try_get("risky")?,
            hash: row.try_get("hash")?,
            prev_hash: row.try_get("prev_hash")?,
        })
    }

    /// SHA-256 (hex) over the content columns and `prev_hash`, in the encoding the module
    /// documentation gives.
    pub(crate) fn content_hash(&self) -> String {
        let seq = self.seq.to_string();
        let time_ms = self.time_ms.to_string();
        let out_of_band = self.out_of_band.to_string();
        let fields: [&str; 18] = [
            RECORD_ENCODING,
            &seq,
            &self.cluster,
            &time_ms,
            &self.action,
            &self.api_version,
            &self.kind,
            &self.namespace,
            &self.name,
            &self.uid,
            &self.resource_version,
            &self.object_json,
            &self.diff_json,
            &self.actor_json,
            &self.risk_json,
            &self.outcome,
            &out_of_band,
            &self.prev_hash,
        ];
        hex(digest::digest(&digest::SHA256, &encode_fields(&fields)).as_ref())
    }

    /// Why the derived filter columns no longer agree with the hashed JSON, if they do not.
    fn derived_columns_disagree(&self) -> Option<&'static str> {
        let Ok(actor) = serde_json::from_str::<Actor>(&self.actor_json) else {
            return Some("actor_json is not a valid actor");
        };
        if actor.user.unwrap_or_default() != self.actor_user {
            return Some("the actor_user column does not match actor_json");
        }
        let Ok(risk) = serde_json::from_str::<Risk>(&self.risk_json) else {
            return Some("risk_json is not a valid risk");
        };
        if i64::from(risk.is_risky()) != self.risky {
            return Some("the risky column does not match risk_json");
        }
        None
    }
}

/// HMAC-SHA256 (hex) over a checkpoint's fields with `key`.
pub(crate) fn checkpoint_signature(key: &[u8], checkpoint: &Checkpoint) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hex(hmac::sign(&key, &checkpoint_message(checkpoint)).as_ref())
}

/// Whether `signature` (hex) is the HMAC-SHA256 of the checkpoint with `key`, compared in
/// constant time so a forger learns nothing from how long a wrong guess took.
fn checkpoint_signature_matches(key: &[u8], checkpoint: &Checkpoint, signature: &str) -> bool {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    unhex(signature)
        .is_some_and(|tag| hmac::verify(&key, &checkpoint_message(checkpoint), &tag).is_ok())
}

/// The signed bytes, in the record encoding's style with its own domain tag:
/// `tollgate-checkpoint-v1`, id, created_ms, first_seq, prev_hash, records_pruned, records_kept,
/// audit_events_pruned.
fn checkpoint_message(checkpoint: &Checkpoint) -> Vec<u8> {
    let fields = [
        CHECKPOINT_ENCODING.to_owned(),
        checkpoint.id.to_string(),
        checkpoint.created_ms.to_string(),
        checkpoint.first_seq.to_string(),
        checkpoint.prev_hash.clone(),
        checkpoint.records_pruned.to_string(),
        checkpoint.records_kept.to_string(),
        checkpoint.audit_events_pruned.to_string(),
    ];
    encode_fields(&fields.each_ref().map(String::as_str))
}

/// Each field as its length in bytes (8 bytes, big-endian) followed by its bytes: unambiguous
/// however the fields' text looks.
fn encode_fields(fields: &[&str]) -> Vec<u8> {
    let total: usize = fields.iter().map(|field| 8 + field.len()).sum();
    let mut encoded = Vec::with_capacity(total);
    for field in fields {
        encoded.extend_from_slice(&(field.len() as u64).to_be_bytes());
        encoded.extend_from_slice(field.as_bytes());
    }
    encoded
}

/// The bytes of lower- or upper-case hexadecimal text; `None` when it is not hexadecimal.
fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |byte: u8| {
        char::from(byte)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let pairs = text.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs
        .map(|pair| match pair {
            [high, low] => Some(digit(*high)? << 4 | digit(*low)?),
            _ => None,
        })
        .collect()
}

/// Whether a checkpoint's signature holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureCheck {
    /// Signed, and the signature matches the key given.
    Valid,
    /// Signed, but the signature does not match the key given: the checkpoint was altered or
    /// written with another key. The chain does not verify.
    Invalid,
    /// Signed, but no key was given to check it with.
    NotChecked,
    /// Written without a key. Anyone who can write the database could have written it; when a
    /// key is given, the chain does not verify.
    Unsigned,
}

/// The checkpoint a verification started from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointStatus {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Whether its signature holds.
    pub signature: SignatureCheck,
}

/// The result of [`Store::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Records read before the first break (all of them when the chain is intact).
    pub records: u64,
    /// True when the chain is intact.
    pub ok: bool,
    /// The first broken record (`seq`) and what is wrong with it: an edited record is named
    /// itself, a deleted one by the record after it.
    pub first_broken: Option<(i64, String)>,
    /// The checkpoint the walk started from, when retention has pruned the chain.
    pub checkpoint: Option<CheckpointStatus>,
    /// `seq` and hash of the last record: keep a copy elsewhere to detect a rewritten chain.
    pub head: (i64, String),
}

/// Where the chain starts: after the latest checkpoint, or at the beginning.
struct ChainStart {
    seq: i64,
    prev_hash: String,
    checkpoint: Option<CheckpointStatus>,
    /// A checkpoint that cannot be trusted breaks the chain at its first record.
    broken: Option<(i64, String)>,
}

/// What walking a stretch of the chain found.
struct Walk {
    records: u64,
    broken: Option<(i64, String)>,
    /// The seq the next record should have, and the prev_hash it should carry.
    next_seq: i64,
    next_prev_hash: String,
}

/// The end of the chain as `chain_head` records it.
struct Head {
    seq: i64,
    hash: String,
}

async fn read_head(connection: &mut AnyConnection) -> Result<Head> {
    let row = sqlx::query("SELECT seq, hash FROM chain_head WHERE id = 1")
        .fetch_one(&mut *connection)
        .await?;
    Ok(Head {
        seq: row.try_get("seq")?,
        hash: row.try_get("hash")?,
    })
}

async fn chain_start(connection: &mut AnyConnection, key: Option<&[u8]>) -> Result<ChainStart> {
    let Some(checkpoint) = retention::latest_checkpoint(connection).await? else {
        return Ok(ChainStart {
            seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            checkpoint: None,
            broken: None,
        });
    };
    let signature = match (checkpoint.signature.as_deref(), key) {
        (None, _) => SignatureCheck::Unsigned,
        (Some(_), None) => SignatureCheck::NotChecked,
        (Some(stored), Some(key)) => {
            if checkpoint_signature_matches(key, &checkpoint, stored) {
                SignatureCheck::Valid
            } else {
                SignatureCheck::Invalid
            }
        }
    };
    let broken = match signature {
        SignatureCheck::Invalid => Some((
            checkpoint.first_seq,
            format!(
                "checkpoint {} has a bad signature: it was altered or written with another key",
                checkpoint.id
            ),
        )),
        SignatureCheck::Unsigned if key.is_some() => Some((
            checkpoint.first_seq,
            format!(
                "checkpoint {} is unsigned although a checkpoint key was given",
                checkpoint.id
            ),
        )),
        _ => None,
    };
    Ok(ChainStart {
        seq: checkpoint.first_seq,
        prev_hash: checkpoint.prev_hash.clone(),
        checkpoint: Some(CheckpointStatus {
            checkpoint,
            signature,
        }),
        broken,
    })
}

/// Walks the records with `seq <= last_seq` in order, from the chain's start, and stops at the
/// first broken one.
async fn walk(
    connection: &mut AnyConnection,
    start_seq: i64,
    start_prev_hash: String,
    last_seq: i64,
) -> Result<Walk> {
    let mut walk = Walk {
        records: 0,
        broken: None,
        next_seq: start_seq,
        next_prev_hash: start_prev_hash,
    };
    // Records before the start must not exist: retention removed them.
    let stray = sqlx::query("SELECT MIN(seq) AS seq FROM history WHERE seq < $1")
        .bind(start_seq)
        .fetch_one(&mut *connection)
        .await?
        .try_get::<Option<i64>, _>("seq")?;
    if let Some(seq) = stray {
        walk.broken = Some((
            seq,
            format!("the record lies before the chain's start (seq {start_seq})"),
        ));
        return Ok(walk);
    }
    let mut after = start_seq - 1;
    loop {
        let rows = sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " FROM history WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
        ))
        .bind(after)
        .bind(last_seq)
        .bind(WALK_PAGE)
        .fetch_all(&mut *connection)
        .await?;
        for row in &rows {
            let record = RecordColumns::from_row(row)?;
            if let Some(reason) = check_record(&record, walk.next_seq, &walk.next_prev_hash) {
                walk.broken = Some((record.seq, reason));
                return Ok(walk);
            }
            walk.records += 1;
            walk.next_seq = record.seq + 1;
            walk.next_prev_hash = record.hash;
            after = record.seq;
        }
        if i64::try_from(rows.len()).unwrap_or(0) < WALK_PAGE {
            return Ok(walk);
        }
    }
}

/// What is wrong with one record, given the seq and prev_hash it should have.
fn check_record(record: &RecordColumns, expected_seq: i64, expected_prev: &str) -> Option<String> {
    if record.content_hash() != record.hash {
        return Some("the record's content does not match its hash: it was altered".to_owned());
    }
    if record.seq != expected_seq {
        return Some(format!(
            "{} before this record",
            missing(expected_seq, record.seq - 1)
        ));
    }
    if record.prev_hash != expected_prev {
        return Some(format!(
            "prev_hash does not match the hash of the record before (seq {})",
            record.seq - 1
        ));
    }
    record.derived_columns_disagree().map(str::to_owned)
}

/// "record 4 is missing" or "records 4 to 6 are missing".
fn missing(first: i64, last: i64) -> String {
    if first == last {
        format!("record {first} is missing")
    } else {
        format!("records {first} to {last} are missing")
    }
}

/// Checks the chain from its start through `last_seq`; the first break found, if any. Retention
/// calls this on the stretch it is about to remove, under its write lock.
pub(crate) async fn first_break_through(
    connection: &mut AnyConnection,
    key: Option<&[u8]>,
    last_seq: i64,
) -> Result<Option<(i64, String)>> {
    let start = chain_start(connection, key).await?;
    if start.broken.is_some() {
        return Ok(start.broken);
    }
    let walk = walk(connection, start.seq, start.prev_hash, last_seq).await?;
    if walk.broken.is_some() {
        return Ok(walk.broken);
    }
    if walk.next_seq <= last_seq {
        return Ok(Some((walk.next_seq, missing(walk.next_seq, last_seq))));
    }
    Ok(None)
}

impl Store {
    /// Walks the whole history chain in `seq` order: recomputes every record's hash, checks every
    /// `prev_hash` link and `seq` step, and compares the end with `chain_head`. When retention has
    /// pruned the chain, the walk starts from the latest checkpoint, whose signature is checked
    /// with `checkpoint_key` (the key [`Store::prune`] was given).
    ///
    /// The walk reads one consistent snapshot, so appends running meanwhile are neither seen nor
    /// blocked.
    ///
    /// # Errors
    /// [`Error::Database`] when the database cannot be read. A broken chain is not an error: it is
    /// the report's `first_broken`.
    pub async fn verify(&self, checkpoint_key: Option<&[u8]>) -> Result<VerifyReport> {
        let mut transaction = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            // PostgreSQL's default (read committed) takes a new snapshot per statement; a SQLite
            // read transaction keeps its first snapshot anyway.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *transaction)
                .await?;
        }
        let connection: &mut AnyConnection = &mut transaction;
        let head = read_head(connection).await?;
        let start = chain_start(connection, checkpoint_key).await?;
        let mut report = VerifyReport {
            records: 0,
            ok: false,
            first_broken: start.broken,
            checkpoint: start.checkpoint,
            head: (head.seq, head.hash.clone()),
        };
        if report.first_broken.is_none() {
            let walk = walk(connection, start.seq, start.prev_hash, head.seq).await?;
            report.records = walk.records;
            report.first_broken = walk.broken.or_else(|| {
                if walk.next_seq <= head.seq {
                    Some((
                        walk.next_seq,
                        format!(
                            "{} at the end of the chain",
                            missing(walk.next_seq, head.seq)
                        ),
                    ))
                } else if walk.next_prev_hash != head.hash {
                    Some((
                        head.seq,
                        "the chain head's hash differs from the last record's".to_owned(),
                    ))
                } else {
                    None
                }
            });
        }
        report.ok = report.first_broken.is_none();
        transaction.rollback().await?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> RecordColumns {
        RecordColumns {
            seq: 1,
            cluster: "prod".to_owned(),
            time_ms: 1_782_864_000_000,
            action: "created".to_owned(),
            api_version: "networking.k8s.io/v1".to_owned(),
            kind: "Ingress".to_owned(),
            namespace: "shop".to_owned(),
            name: "web".to_owned(),
            uid: "u1".to_owned(),
            resource_version: "184467".to_owned(),
            object_json: r#"{"kind":"Ingress"}"#.to_owned(),
            diff_json: "[]".to_owned(),
            actor_json: r#"{"user":"alice","attribution":"audit"}"#.to_owned(),
            risk_json: "{}".to_owned(),
            outcome: "applied".to_owned(),
            out_of_band: 1,
            actor_user: "alice".to_owned(),
            risky: 0,
            hash: String::new(),
            prev_hash: GENESIS_HASH.to_owned(),
        }
    }

    #[test]
    fn the_record_encoding_is_length_prefixed() {
        assert_eq!(
            encode_fields(&["ab", ""]),
            [0, 0, 0, 0, 0, 0, 0, 2, b'a', b'b', 0, 0, 0, 0, 0, 0, 0, 0]
        );
        // Moving a byte across a field boundary changes the hash.
        let mut moved = columns();
        moved.namespace = "shopw".to_owned();
        moved.name = "eb".to_owned();
        assert_ne!(moved.content_hash(), columns().content_hash());
    }

    #[test]
    fn the_record_hash_is_stable_across_releases() {
        // Changing the encoding would make every stored chain fail verification: this pins it.
        // The value was computed independently (Python hashlib over the documented encoding).
        assert_eq!(
            columns().content_hash(),
            "2f66e1dfe5f559e87965e952cce140ac9ea03ff8ac24c92e9dd9eef91b0a892c"
        );
    }

    #[test]
    fn the_derived_filter_columns_are_checked_against_the_hashed_json() {
        assert_eq!(columns().derived_columns_disagree(), None);
        let mut hidden = columns();
        hidden.actor_user = "argocd".to_owned();
        assert_eq!(
            hidden.derived_columns_disagree(),
            Some("the actor_user column does not match actor_json")
        );
        let mut unrisky = columns();
        unrisky.risk_json = r#"{"introduced":["snippet-annotation"]}"#.to_owned();
        assert_eq!(
            unrisky.derived_columns_disagree(),
            Some("the risky column does not match risk_json")
        );
    }

    #[test]
    fn hex_text_decodes_and_anything_else_does_not() {
        assert_eq!(unhex("00ffA5"), Some(vec![0x00, 0xff, 0xa5]));
        assert_eq!(unhex(""), Some(vec![]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é0"), None);
    }
}
