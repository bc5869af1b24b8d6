//! Tollgate's store: the tamper-evident change history, the received Kubernetes audit events, and
//! where each watch resumes, on SQLite or PostgreSQL.
//!
//! One code path serves both databases: sqlx's `Any` driver, runtime-checked queries with `$1`
//! placeholders, and one set of portable migrations (`migrations/`) embedded in the binary and run
//! by [`Store::connect`].
//!
//! - [`history`]: the change records, appended to a SHA-256 hash chain.
//! - [`chain`]: how a record is hashed, and [`Store::verify`], which walks the chain.
//! - [`audit_events`]: idempotent batched intake of audit events, and the candidates for the
//!   attribution join.
//! - [`retention`]: pruning old records without breaking verification (checkpoints).
//! - [`service`]: what `tollgate serve` keeps: findings over time, alerts and deliveries, access
//!   counts, each cluster's latest scan.
//! - [`watch_state`]: the resourceVersion each watch resumes from.

pub mod audit_events;
pub mod chain;
pub mod history;
pub mod retention;
pub mod service;
pub mod watch_state;

use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, Executor};

pub use audit_events::{AuditQuery, InsertStats, StoredAuditEvent};
pub use chain::{CheckpointStatus, SignatureCheck, VerifyReport};
pub use history::{
    Action, Actor, Attribution, HistoryFilter, HistoryRecord, NewRecord, Outcome, ResourceRef, Risk,
};
pub use retention::{Checkpoint, PruneReport, Retention};
pub use service::{
    AccessBatch, AlertFilter, Delivery, FindingFilter, FindingsSync, IntakeTotals, MinuteCount,
    NewAlert, NewFinding, Raised, ReportRecord, RouteCount, ScanRecord, ServicePruned, SourceCount,
    StoredAlert, StoredFinding,
};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused or failed a query, or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The embedded migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The URL names no database this store supports. Only the scheme is kept, so a password in
    /// the URL never reaches a log.
    #[error(
        "unsupported database URL scheme {0:?}: use sqlite://PATH, sqlite::memory: or postgres://..."
    )]
    UnsupportedUrl(String),
    /// A value could not be serialized to JSON for storage.
    #[error("cannot serialize {what} to JSON: {source}")]
    Serialize {
        /// What was being serialized.
        what: &'static str,
        /// Why it failed.
        source: serde_json::Error,
    },
    /// A stored JSON column does not parse: the database was edited outside Tollgate.
    #[error("{table} row {key}: column {column} is not valid JSON: {source}")]
    CorruptRow {
        /// The table.
        table: &'static str,
        /// The row's key (`seq` for history, `auditID/stage` for audit events).
        key: String,
        /// The column.
        column: &'static str,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A stored enumeration column holds a value Tollgate never writes.
    #[error("{table} row {key}: column {column} holds the unknown value {value:?}")]
    UnknownValue {
        /// The table.
        table: &'static str,
        /// The row's key.
        key: String,
        /// The column.
        column: &'static str,
        /// The value found.
        value: String,
    },
    /// Retention refused to remove records because the part of the chain it would remove does not
    /// verify: removing it would destroy the evidence.
    #[error("the history chain is broken at record {seq} ({reason}); nothing was pruned")]
    ChainBroken {
        /// The first broken record.
        seq: i64,
        /// What is wrong with it.
        reason: String,
    },
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The database behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, a file or in memory.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A handle on the store: a connection pool. Cheap to clone; clones share the pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

impl Store {
    /// Connects to `url` and brings its schema up to date.
    ///
    /// - `sqlite://PATH` (relative) or `sqlite:///PATH` (absolute): the file is created when
    ///   missing, and put in WAL mode so readers never block the writer;
    /// - `sqlite::memory:`: a private in-memory database (one connection, for tests);
    /// - `postgres://user:password@host:port/database` (or `postgresql://`).
    ///
    /// # Errors
    /// [`Error::UnsupportedUrl`] for any other scheme; [`Error::Database`] when the database cannot
    /// be reached or opened; [`Error::Migration`] when its schema cannot be brought up to date.
    pub async fn connect(url: &str) -> Result<Store> {
        // Idempotent: only the first call installs the drivers.
        sqlx::any::install_default_drivers();

        let target = DatabaseUrl::parse(url)?;
        let options = match target {
            DatabaseUrl::SqliteMemory => AnyPoolOptions::new()
                // Every connection to `sqlite::memory:` opens its own empty database, so the pool
                // must hold exactly one, for ever.
                .min_connections(1)
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .after_connect(|connection, _| Box::pin(configure_sqlite(connection))),
            DatabaseUrl::SqliteFile(_) => AnyPoolOptions::new()
                .max_connections(4)
                .after_connect(|connection, _| Box::pin(configure_sqlite(connection))),
            DatabaseUrl::Postgres(_) => AnyPoolOptions::new().max_connections(8),
        };
        let backend = match target {
            DatabaseUrl::SqliteMemory | DatabaseUrl::SqliteFile(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        };
        let pool = options
            .acquire_timeout(Duration::from_secs(30))
            .connect(&target.connect_url())
            .await?;
        // Two processes opening a fresh SQLite file at once (replicas on one volume, or a
        // service and a CLI) can both find the schema missing, and the slower one then fails on
        // a table the faster just made; PostgreSQL serializes migrations with a lock, SQLite has
        // none. Running again sees the other's migrations applied and skips them.
        let mut attempt = 0;
        loop {
            match MIGRATOR.run(&pool).await {
                Ok(()) => break,
                Err(_) if backend == Backend::Sqlite && attempt < 5 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
        Ok(Store { pool, backend })
    }

    /// Which database this store is on.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; pending operations finish first.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A WHERE clause built at run time, with the values bound in order (`$1`, `$2`, ...): what
/// the filtered reads (history, findings, alerts) share.
#[derive(Default)]
pub(crate) struct Conditions {
    conditions: Vec<String>,
    parameters: Vec<Parameter>,
}

/// A value bound to a query built at run time.
enum Parameter {
    Text(String),
    Integer(i64),
}

impl Conditions {
    fn placeholder(&mut self, parameter: Parameter) -> String {
        self.parameters.push(parameter);
        format!("${}", self.parameters.len())
    }

    /// `{sql} $n` with `value` bound (`sql` ends with its operator: `cluster =`).
    pub(crate) fn text(&mut self, sql: &str, value: &str) {
        let at = self.placeholder(Parameter::Text(value.to_owned()));
        self.conditions.push(format!("{sql} {at}"));
    }

    /// `{sql} $n` with the integer `value` bound.
    pub(crate) fn integer(&mut self, sql: &str, value: i64) {
        let at = self.placeholder(Parameter::Integer(value));
        self.conditions.push(format!("{sql} {at}"));
    }

    /// `(column = $n OR column = $m ...)` over `values`; nothing when there are none.
    pub(crate) fn any_of(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let alternatives: Vec<String> = values
            .iter()
            .map(|v| {
                let at = self.placeholder(Parameter::Text(v.clone()));
                format!("{column} = {at}")
            })
            .collect();
        self.conditions
            .push(format!("({})", alternatives.join(" OR ")));
    }

    /// A condition without a value (`resolved_ms IS NULL`).
    pub(crate) fn raw(&mut self, sql: &'static str) {
        self.conditions.push(sql.to_owned());
    }

    /// ` WHERE ...`, or nothing.
    pub(crate) fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// The next placeholder number (for LIMIT and OFFSET after the conditions).
    pub(crate) fn next(&self) -> usize {
        self.parameters.len() + 1
    }

    /// Binds the values to `query`, in order.
    pub(crate) fn bind<'q>(
        self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        for parameter in self.parameters {
            query = match parameter {
                Parameter::Text(text) => query.bind(text),
                Parameter::Integer(number) => query.bind(number),
            };
        }
        query
    }
}

/// Per-connection SQLite settings: wait for other writers instead of failing at once, WAL so
/// readers do not block the writer, and full fsync at commit so an acknowledged audit batch
/// survives a power cut.
async fn configure_sqlite(connection: &mut AnyConnection) -> Result<(), sqlx::Error> {
    let busy_timeout = format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}");
    connection
        .execute(sqlx::AssertSqlSafe(busy_timeout))
        .await?;
    connection.execute("PRAGMA journal_mode = WAL").await?;
    connection.execute("PRAGMA synchronous = FULL").await?;
    Ok(())
}

/// A database URL, classified.
enum DatabaseUrl<'a> {
    SqliteMemory,
    SqliteFile(&'a str),
    Postgres(&'a str),
}

impl<'a> DatabaseUrl<'a> {
    fn parse(url: &'a str) -> Result<Self> {
        let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
        match scheme {
            "sqlite" if matches!(url, "sqlite::memory:" | "sqlite://:memory:") => {
                Ok(DatabaseUrl::SqliteMemory)
            }
            "sqlite" => Ok(DatabaseUrl::SqliteFile(url)),
            "postgres" | "postgresql" => Ok(DatabaseUrl::Postgres(url)),
            _ => Err(Error::UnsupportedUrl(scheme.to_owned())),
        }
    }

    /// The URL sqlx is given: a SQLite file is opened read-write-create unless the URL says
    /// otherwise.
    fn connect_url(&self) -> String {
        match self {
            DatabaseUrl::SqliteMemory => "sqlite::memory:".to_owned(),
            DatabaseUrl::SqliteFile(url) if url.contains("mode=") => (*url).to_owned(),
            DatabaseUrl::SqliteFile(url) if url.contains('?') => format!("{url}&mode=rwc"),
            DatabaseUrl::SqliteFile(url) => format!("{url}?mode=rwc"),
            DatabaseUrl::Postgres(url) => (*url).to_owned(),
        }
    }
}

/// Lower-case hexadecimal of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// Converts a row count from the database (never negative) to `u64`.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_classified_by_scheme_and_files_are_created() {
        assert!(matches!(
            DatabaseUrl::parse("sqlite::memory:"),
            Ok(DatabaseUrl::SqliteMemory)
        ));
        let file = DatabaseUrl::parse("sqlite:///var/lib/tollgate/store.db").unwrap();
        assert_eq!(
            file.connect_url(),
            "sqlite:///var/lib/tollgate/store.db?mode=rwc"
        );
        let with_query = DatabaseUrl::parse("sqlite://store.db?cache=shared").unwrap();
        assert_eq!(
            with_query.connect_url(),
            "sqlite://store.db?cache=shared&mode=rwc"
        );
        let read_only = DatabaseUrl::parse("sqlite://store.db?mode=ro").unwrap();
        assert_eq!(read_only.connect_url(), "sqlite://store.db?mode=ro");
        assert!(matches!(
            DatabaseUrl::parse("postgresql://tollgate@db/tollgate"),
            Ok(DatabaseUrl::Postgres(_))
        ));
    }

    #[test]
    fn an_unsupported_url_does_not_repeat_its_password() {
        let Err(error) = DatabaseUrl::parse("mysql://root:hunter2@db/tollgate") else {
            panic!("mysql is not supported");
        };
        assert_eq!(
            error.to_string(),
            "unsupported database URL scheme \"mysql\": use sqlite://PATH, sqlite::memory: or postgres://..."
        );
        assert!(!error.to_string().contains("hunter2"));
    }

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
    }
}
