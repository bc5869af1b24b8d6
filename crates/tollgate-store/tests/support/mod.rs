//! Test databases: every store test runs on SQLite (a fresh temporary file) and, when
//! `TOLLGATE_TEST_POSTGRES_URL` names a PostgreSQL server, on a fresh database there that is
//! dropped afterwards. Tests run in parallel, so each gets its own database.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::json;
use sqlx::{Connection, Executor};
use tollgate_store::{Action, Actor, Attribution, NewRecord, Outcome, ResourceRef, Risk, Store};

/// One database a test runs against.
pub struct TestDatabase {
    /// `sqlite` or `postgres`, for assertion messages.
    pub label: &'static str,
    /// The URL `Store::connect` is given.
    pub url: String,
    _directory: Option<tempfile::TempDir>,
    /// The server URL and the database to drop at the end.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A store on this database.
    pub async fn store(&self) -> Store {
        Store::connect(&self.url)
            .await
            .unwrap_or_else(|error| panic!("{}: connect: {error}", self.label))
    }

    /// A plain connection, for editing the database behind the store's back.
    pub async fn raw(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        sqlx::AnyConnection::connect(&self.url)
            .await
            .unwrap_or_else(|error| panic!("{}: raw connect: {error}", self.label))
    }

    /// Runs one statement behind the store's back.
    pub async fn execute(&self, sql: &'static str) {
        let mut connection = self.raw().await;
        connection
            .execute(sql)
            .await
            .unwrap_or_else(|error| panic!("{}: {sql}: {error}", self.label));
        connection.close().await.ok();
    }

    /// Closes `store`, then drops the PostgreSQL database (the SQLite file goes with its
    /// directory).
    pub async fn finish(self, store: Store) {
        store.close().await;
        self.drop_database().await;
    }

    /// Drops the PostgreSQL database (the SQLite file goes with its directory).
    pub async fn drop_database(self) {
        if let Some((server, name)) = &self.postgres {
            let mut admin = sqlx::AnyConnection::connect(server)
                .await
                .expect("admin connect");
            admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await
                .expect("drop test database");
        }
    }
}

static DATABASES_MADE: AtomicU32 = AtomicU32::new(0);

/// A fresh SQLite database, and a fresh PostgreSQL one when the server is configured.
pub async fn databases(test: &str) -> Vec<TestDatabase> {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("store.db");
    let mut databases = vec![TestDatabase {
        label: "sqlite",
        url: format!("sqlite://{}", path.display()),
        _directory: Some(directory),
        postgres: None,
    }];
    match std::env::var("TOLLGATE_TEST_POSTGRES_URL") {
        Ok(server) if !server.trim().is_empty() => {
            databases.push(postgres_database(server.trim(), test).await);
        }
        _ => eprintln!("PostgreSQL variant skipped: TOLLGATE_TEST_POSTGRES_URL not set"),
    }
    databases
}

async fn postgres_database(server: &str, test: &str) -> TestDatabase {
    sqlx::any::install_default_drivers();
    let serial = DATABASES_MADE.fetch_add(1, Ordering::Relaxed);
    let short_test: String = test
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(30)
        .collect::<String>()
        .to_ascii_lowercase();
    let name = format!("tg_{short_test}_{}_{serial}", std::process::id());
    let mut admin = sqlx::AnyConnection::connect(server)
        .await
        .unwrap_or_else(|error| panic!("cannot reach TOLLGATE_TEST_POSTGRES_URL: {error}"));
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create test database");
    admin.close().await.ok();
    TestDatabase {
        label: "postgres",
        url: with_database(server, &name),
        _directory: None,
        postgres: Some((server.to_owned(), name)),
    }
}

/// `postgres://user@host:port/other?x=y` with `other` replaced by `database`.
fn with_database(server: &str, database: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |at| at + 3);
    let path_start = base
        .get(authority_start..)
        .and_then(|rest| rest.find('/'))
        .map_or(base.len(), |at| authority_start + at);
    format!(
        "{}/{database}{query}",
        base.get(..path_start).unwrap_or(base)
    )
}

/// A change to an Ingress (or any kind) by `user` at `time_ms`.
pub fn change(kind: &str, namespace: &str, name: &str, time_ms: i64, user: &str) -> NewRecord {
    NewRecord {
        cluster: "prod".to_owned(),
        time_ms,
        action: Action::Updated,
        resource: ResourceRef {
            api_version: "networking.k8s.io/v1".to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            uid: format!("uid-{namespace}-{name}"),
        },
        resource_version: time_ms.to_string(),
        object: Some(json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"rules": [{"host": format!("{name}.example.com")}]}
        })),
        diff: json!([{"op": "replace", "path": "/spec/rules/0/host", "value": format!("{name}.example.com")}]),
        actor: Actor {
            user: Some(user.to_owned()),
            groups: vec!["developers".to_owned()],
            source_ips: vec!["203.0.113.7".to_owned()],
            user_agent: Some("kubectl/v1.33.1".to_owned()),
            field_manager: Some("kubectl-edit".to_owned()),
            attribution: Attribution::Audit,
            ..Actor::default()
        },
        risk: Risk::default(),
        outcome: Outcome::Applied,
        out_of_band: true,
    }
}

#[test]
fn the_database_is_replaced_in_a_server_url() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:54329/postgres", "tg_x"),
        "postgres://postgres@127.0.0.1:54329/tg_x"
    );
    assert_eq!(
        with_database("postgres://u:p@db:5432?sslmode=disable", "tg_x"),
        "postgres://u:p@db:5432/tg_x?sslmode=disable"
    );
}
