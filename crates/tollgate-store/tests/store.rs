//! The store's behaviour on SQLite and, when `TOLLGATE_TEST_POSTGRES_URL` is set, on PostgreSQL:
//! idempotent audit intake, the hash chain and what breaks it, history queries, retention with
//! checkpoints, and watch resume versions.

mod support;

use serde_json::json;
use sqlx::Row;
use support::{change, databases};
use tollgate_core::audit::{AuditEvent, read_events};
use tollgate_store::chain::GENESIS_HASH;
use tollgate_store::{
    Action, AuditQuery, Error, HistoryFilter, InsertStats, Retention, Risk, SignatureCheck, Store,
};

const DAY_MS: i64 = 86_400_000;
/// 2026-07-01T00:00:00Z.
const JULY_1: i64 = 1_782_864_000_000;

/// An audit event line for a write to `ingresses/<name>` in `shop`.
fn audit_line(
    audit_id: &str,
    verb: &str,
    name: &str,
    time: &str,
    resource_version: &str,
) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"{audit_id}","stage":"ResponseComplete","requestURI":"/apis/networking.k8s.io/v1/namespaces/shop/ingresses/{name}?fieldManager=kubectl-edit","verb":"{verb}","user":{{"username":"kubernetes-admin","groups":["system:masters"]}},"impersonatedUser":{{"username":"bob","groups":["shop-oncall"]}},"sourceIPs":["203.0.113.7"],"userAgent":"kubectl/v1.33.1","objectRef":{{"resource":"ingresses","namespace":"shop","name":"{name}","apiGroup":"networking.k8s.io","apiVersion":"v1"}},"responseStatus":{{"code":200}},"responseObject":{{"kind":"Ingress","metadata":{{"name":"{name}","namespace":"shop","resourceVersion":"{resource_version}"}}}},"requestReceivedTimestamp":"{time}","stageTimestamp":"{time}"}}"#
    )
}

fn events(lines: &[String]) -> Vec<AuditEvent> {
    let (events, errors) = read_events(&lines.join("\n"), "test");
    assert_eq!(errors, vec![]);
    events
}

/// `count` realistic events with distinct audit IDs.
fn many_events(count: usize) -> Vec<AuditEvent> {
    let lines: Vec<String> = (0..count)
        .map(|i| {
            audit_line(
                &format!("00000000-0000-4000-8000-{i:012}"),
                "patch",
                &format!("web-{}", i % 37),
                "2026-07-01T10:00:00.000000Z",
                &(100_000 + i).to_string(),
            )
        })
        .collect();
    events(&lines)
}

/// `count` versions of `shop/web` by `user`, a millisecond apart.
async fn append_versions(store: &Store, count: i64, user: &str) {
    for i in 0..count {
        store
            .append(change("Ingress", "shop", "web", JULY_1 + i, user))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_same_audit_batch_twice_is_stored_once_and_counted_as_duplicates() {
    for db in databases("audit_idempotent").await {
        let store = db.store().await;
        // 1,200 events: more than two INSERT statements' worth.
        let batch = many_events(1_200);
        let first = store.insert_audit_events("prod", &batch).await.unwrap();
        assert_eq!(
            first,
            InsertStats {
                inserted: 1_200,
                duplicates: 0
            },
            "{}",
            db.label
        );
        let again = store.insert_audit_events("prod", &batch).await.unwrap();
        assert_eq!(
            again,
            InsertStats {
                inserted: 0,
                duplicates: 1_200
            },
            "{}",
            db.label
        );
        assert_eq!(
            store.audit_event_count().await.unwrap(),
            1_200,
            "{}",
            db.label
        );

        // A redelivery overlapping new events, with a repeat inside the batch itself.
        let mut overlap = many_events(1_210);
        overlap.push(overlap[1_205].clone());
        let mixed = store.insert_audit_events("prod", &overlap).await.unwrap();
        assert_eq!(
            mixed,
            InsertStats {
                inserted: 10,
                duplicates: 1_201
            },
            "{}",
            db.label
        );
        assert_eq!(
            store.audit_event_count().await.unwrap(),
            1_210,
            "{}",
            db.label
        );

        // The same auditID at another stage is another event.
        let mut received = batch[0].clone();
        received.stage = tollgate_core::audit::AuditStage::RequestReceived;
        let stats = store
            .insert_audit_events("prod", &[received])
            .await
            .unwrap();
        assert_eq!(stats.inserted, 1, "{}", db.label);
        assert_eq!(
            store.insert_audit_events("prod", &[]).await.unwrap(),
            InsertStats::default()
        );
        db.finish(store).await;
    }
}

#[tokio::test]
async fn stored_audit_events_keep_no_secret_bodies() {
    for db in databases("audit_secrets").await {
        let store = db.store().await;
        // An event read without the reader's help: built in memory with the Secret's data.
        let mut secret = events(&[audit_line(
            "a1",
            "create",
            "shop-tls",
            "2026-07-01T10:00:00Z",
            "7",
        )])
        .remove(0);
        if let Some(object) = secret.object_ref.as_mut() {
            object.resource = Some("secrets".to_owned());
            object.api_group = Some(String::new());
        }
        secret.request_object = Some(json!({"data": {"tls.key": "U1VQRVJTRUNSRVQ="}}));
        store.insert_audit_events("prod", &[secret]).await.unwrap();
        let mut raw = db.raw().await;
        let row =
            sqlx::query("SELECT event_json, resource, response_resource_version FROM audit_events")
                .fetch_one(&mut raw)
                .await
                .unwrap();
        let stored: String = row.get("event_json");
        assert!(
            !stored.contains("U1VQRVJTRUNSRVQ="),
            "{}: {stored}",
            db.label
        );
        assert!(!stored.contains("requestObject"), "{}: {stored}", db.label);
        assert_eq!(row.get::<String, _>("resource"), "secrets");
        // The join column is still filled from the event as received.
        assert_eq!(row.get::<String, _>("response_resource_version"), "7");
        db.finish(store).await;
    }
}

#[tokio::test]
async fn audit_candidates_match_the_object_by_resource_version_first_then_by_time() {
    for db in databases("audit_candidates").await {
        let store = db.store().await;
        let batch = events(&[
            audit_line("near", "patch", "web", "2026-07-01T10:00:02Z", "500"),
            audit_line("exact", "update", "web", "2026-07-01T09:00:00Z", "777"),
            audit_line("nearer", "patch", "web", "2026-07-01T10:00:00.500Z", "501"),
            audit_line("too-late", "patch", "web", "2026-07-01T10:01:00Z", "502"),
            audit_line(
                "other-object",
                "patch",
                "api",
                "2026-07-01T10:00:00Z",
                "503",
            ),
            audit_line("a-read", "get", "web", "2026-07-01T10:00:00Z", "504"),
            audit_line(
                "collection",
                "deletecollection",
                "",
                "2026-07-01T10:00:01Z",
                "505",
            ),
        ]);
        store.insert_audit_events("prod", &batch).await.unwrap();
        store
            .insert_audit_events(
                "staging",
                &events(&[audit_line(
                    "other-cluster",
                    "patch",
                    "web",
                    "2026-07-01T10:00:00Z",
                    "506",
                )]),
            )
            .await
            .unwrap();
        let around_ms = JULY_1 + 10 * 3_600_000;
        let mut query = AuditQuery {
            cluster: "prod",
            api_group: "networking.k8s.io",
            resource: "ingresses",
            namespace: "shop",
            name: "web",
            around_ms,
            window_ms: 5_000,
            resource_version: Some("777"),
        };
        let ids = |found: Vec<tollgate_store::StoredAuditEvent>| -> Vec<String> {
            found
                .into_iter()
                .map(|stored| stored.event.audit_id)
                .collect()
        };
        assert_eq!(
            ids(store.audit_candidates(&query).await.unwrap()),
            ["exact", "nearer", "collection", "near"],
            "{}",
            db.label
        );
        query.resource_version = None;
        let found = store.audit_candidates(&query).await.unwrap();
        assert_eq!(
            found.first().map(|stored| stored.cluster.as_str()),
            Some("prod")
        );
        let first = &found[0].event;
        assert_eq!(first.effective_user().username, "bob");
        assert_eq!(
            first.impersonated_by().map(|u| u.username.as_str()),
            Some("kubernetes-admin")
        );
        assert_eq!(ids(found), ["nearer", "collection", "near"], "{}", db.label);
        query.cluster = "nowhere";
        assert_eq!(
            store.audit_candidates(&query).await.unwrap(),
            vec![],
            "{}",
            db.label
        );
        db.finish(store).await;
    }
}

#[tokio::test]
async fn appended_records_form_a_chain_that_verifies() {
    for db in databases("chain_verifies").await {
        let store = db.store().await;
        let empty = store.verify(None).await.unwrap();
        assert!(empty.ok, "{}: {empty:?}", db.label);
        assert_eq!(empty.records, 0);
        assert_eq!(empty.head, (0, GENESIS_HASH.to_owned()));

        let mut appended = Vec::new();
        for i in 0..5 {
            appended.push(
                store
                    .append(change("Ingress", "shop", "web", JULY_1 + i, "alice"))
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(
            appended.iter().map(|r| r.seq).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(appended[0].prev_hash, GENESIS_HASH);
        for pair in appended.windows(2) {
            assert_eq!(pair[1].prev_hash, pair[0].hash, "{}", db.label);
            assert_ne!(pair[1].hash, pair[0].hash);
        }
        assert_eq!(appended[4].hash.len(), 64);

        let report = store.verify(None).await.unwrap();
        assert!(report.ok, "{}: {report:?}", db.label);
        assert_eq!(report.records, 5);
        assert_eq!(report.first_broken, None);
        assert_eq!(report.head, (5, appended[4].hash.clone()));
        assert_eq!(report.checkpoint, None);

        // What is read back is what was appended.
        assert_eq!(
            store.record(3).await.unwrap().as_ref(),
            Some(&appended[2]),
            "{}",
            db.label
        );
        assert_eq!(store.record(99).await.unwrap(), None);
        db.finish(store).await;
    }
}

#[tokio::test]
async fn a_record_edited_in_the_database_is_named_by_verify() {
    for db in databases("chain_edited").await {
        let store = db.store().await;
        append_versions(&store, 5, "alice").await;
        db.execute(
            r#"UPDATE history SET object_json = '{"kind":"Ingress","spec":{}}' WHERE seq = 3"#,
        )
        .await;
        let report = store.verify(None).await.unwrap();
        assert!(!report.ok, "{}", db.label);
        assert_eq!(report.records, 2);
        let (seq, reason) = report.first_broken.expect("broken");
        assert_eq!(seq, 3, "{}", db.label);
        assert_eq!(
            reason,
            "the record's content does not match its hash: it was altered"
        );
        db.finish(store).await;
    }
}

#[tokio::test]
async fn a_filter_column_edited_to_hide_an_actor_is_named_by_verify() {
    for db in databases("chain_actor_hidden").await {
        let store = db.store().await;
        append_versions(&store, 3, "mallory").await;
        db.execute("UPDATE history SET actor_user = 'argocd' WHERE seq = 2")
            .await;
        let report = store.verify(None).await.unwrap();
        assert_eq!(
            report.first_broken,
            Some((
                2,
                "the actor_user column does not match actor_json".to_owned()
            )),
            "{}",
            db.label
        );
        db.finish(store).await;
    }
}

#[tokio::test]
async fn a_deleted_record_is_named_by_the_record_after_it() {
    for db in databases("chain_deleted").await {
        let store = db.store().await;
        append_versions(&store, 5, "alice").await;
        db.execute("DELETE FROM history WHERE seq = 3").await;
        let report = store.verify(None).await.unwrap();
        assert!(!report.ok);
        assert_eq!(
            report.first_broken,
            Some((4, "record 3 is missing before this record".to_owned())),
            "{}",
            db.label
        );
        db.finish(store).await;
    }
}

#[tokio::test]
async fn deleting_the_last_records_is_noticed_against_the_chain_head() {
    for db in databases("chain_truncated").await {
        let store = db.store().await;
        append_versions(&store, 5, "alice").await;
        db.execute("DELETE FROM history WHERE seq >= 4").await;
        let report = store.verify(None).await.unwrap();
        assert_eq!(report.records, 3);
        assert_eq!(
            report.first_broken,
            Some((
                4,
                "records 4 to 5 are missing at the end of the chain".to_owned()
            )),
            "{}",
            db.label
        );
        db.finish(store).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_from_two_handles_never_fork_the_chain() {
    for db in databases("chain_concurrent").await {
        let first = db.store().await;
        let second = db.store().await;
        let append_many = |store: Store, user: &'static str| async move {
            for i in 0..40 {
                store
                    .append(change("Ingress", "shop", user, JULY_1 + i, user))
                    .await
                    .unwrap();
            }
        };
        let (a, b) = tokio::join!(
            tokio::spawn(append_many(first.clone(), "alice")),
            tokio::spawn(append_many(second.clone(), "bob"))
        );
        a.unwrap();
        b.unwrap();
        let report = first.verify(None).await.unwrap();
        assert!(report.ok, "{}: {report:?}", db.label);
        assert_eq!(report.records, 80, "{}", db.label);
        assert_eq!(report.head.0, 80);
        let all = second.history(&HistoryFilter::default()).await.unwrap();
        let mut seqs: Vec<i64> = all.iter().map(|record| record.seq).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=80).collect::<Vec<_>>(), "{}", db.label);
        first.close().await;
        second.close().await;
        db.drop_database().await;
    }
}

#[tokio::test]
async fn history_filters_narrow_and_page_newest_first() {
    for db in databases("history_filters").await {
        let store = db.store().await;
        let mut risky = change("Ingress", "shop", "web", JULY_1 + 3 * DAY_MS, "mallory");
        risky.risk = Risk {
            introduced: vec!["snippet-annotation".to_owned()],
            fixed: vec![],
        };
        let mut fixed = change("Ingress", "shop", "web", JULY_1 + 4 * DAY_MS, "alice");
        fixed.risk = Risk {
            introduced: vec![],
            fixed: vec!["snippet-annotation".to_owned()],
        };
        let mut staging = change("Ingress", "shop", "web", JULY_1 + 5 * DAY_MS, "alice");
        staging.cluster = "staging".to_owned();
        let mut deleted = change("Service", "shop", "web", JULY_1 + 6 * DAY_MS, "bob");
        deleted.action = Action::Deleted;
        deleted.object = None;
        for record in [
            change("Ingress", "shop", "web", JULY_1, "alice"),
            change("Ingress", "shop", "api", JULY_1 + DAY_MS, "bob"),
            change("Ingress", "blog", "web", JULY_1 + 2 * DAY_MS, "alice"),
            risky,
            fixed,
            staging,
            deleted,
        ] {
            store.append(record).await.unwrap();
        }
        let seqs = |filter: HistoryFilter| {
            let store = store.clone();
            async move {
                store
                    .history(&filter)
                    .await
                    .unwrap()
                    .iter()
                    .map(|record| record.seq)
                    .collect::<Vec<i64>>()
            }
        };
        assert_eq!(
            seqs(HistoryFilter::default()).await,
            [7, 6, 5, 4, 3, 2, 1],
            "{}",
            db.label
        );
        let prod = |filter: HistoryFilter| HistoryFilter {
            cluster: Some("prod".to_owned()),
            ..filter
        };
        assert_eq!(
            seqs(prod(HistoryFilter::default())).await,
            [7, 5, 4, 3, 2, 1]
        );
        assert_eq!(
            seqs(prod(HistoryFilter {
                kind: Some("Ingress".to_owned()),
                namespace: Some("shop".to_owned()),
                name: Some("web".to_owned()),
                ..HistoryFilter::default()
            }))
            .await,
            [5, 4, 1],
            "{}",
            db.label
        );
        assert_eq!(
            seqs(HistoryFilter {
                actor: Some("bob".to_owned()),
                ..HistoryFilter::default()
            })
            .await,
            [7, 2]
        );
        assert_eq!(
            seqs(HistoryFilter {
                since_ms: Some(JULY_1 + DAY_MS),
                until_ms: Some(JULY_1 + 4 * DAY_MS),
                ..HistoryFilter::default()
            })
            .await,
            [4, 3, 2],
            "since is inclusive, until exclusive ({})",
            db.label
        );
        assert_eq!(
            seqs(HistoryFilter {
                risky_only: true,
                ..HistoryFilter::default()
            })
            .await,
            [4],
            "a fix is not risky ({})",
            db.label
        );
        assert_eq!(
            seqs(HistoryFilter {
                limit: Some(2),
                offset: 1,
                ..HistoryFilter::default()
            })
            .await,
            [6, 5]
        );
        assert_eq!(
            seqs(HistoryFilter {
                name: Some("nothing".to_owned()),
                ..HistoryFilter::default()
            })
            .await,
            Vec::<i64>::new()
        );

        // The last version of an object, and the fields read back.
        let latest = store
            .latest("prod", "Ingress", "shop", "web")
            .await
            .unwrap()
            .expect("latest");
        assert_eq!(latest.seq, 5, "{}", db.label);
        assert_eq!(latest.change.risk.fixed, ["snippet-annotation"]);
        assert_eq!(latest.change.actor.user.as_deref(), Some("alice"));
        let service = store
            .latest("prod", "Service", "shop", "web")
            .await
            .unwrap()
            .expect("service");
        assert_eq!(service.change.action, Action::Deleted);
        assert_eq!(service.change.object, None, "{}", db.label);
        assert_eq!(
            store
                .latest("prod", "Ingress", "shop", "gone")
                .await
                .unwrap(),
            None
        );
        db.finish(store).await;
    }
}

/// Appends, over ten days, four versions of `shop/web`, then one of `shop/api`, then two more of
/// `shop/web`: seq 1-4 web (days 0-3), 5 api (day 4), 6-7 web (days 8-9).
async fn ten_days_of_changes(store: &Store) {
    for day in [0, 1, 2, 3] {
        store
            .append(change(
                "Ingress",
                "shop",
                "web",
                JULY_1 + day * DAY_MS,
                "alice",
            ))
            .await
            .unwrap();
    }
    store
        .append(change("Ingress", "shop", "api", JULY_1 + 4 * DAY_MS, "bob"))
        .await
        .unwrap();
    for day in [8, 9] {
        store
            .append(change(
                "Ingress",
                "shop",
                "web",
                JULY_1 + day * DAY_MS,
                "alice",
            ))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn pruning_leaves_a_signed_checkpoint_and_the_rest_still_verifies() {
    const KEY: &[u8] = b"checkpoint key from the config";
    for db in databases("prune_checkpoint").await {
        let store = db.store().await;
        ten_days_of_changes(&store).await;
        let old_audit = events(&[audit_line(
            "old",
            "patch",
            "web",
            "2026-07-01T10:00:00Z",
            "1",
        )]);
        let new_audit = events(&[audit_line(
            "new",
            "patch",
            "web",
            "2026-07-10T10:00:00Z",
            "2",
        )]);
        store.insert_audit_events("prod", &old_audit).await.unwrap();
        store.insert_audit_events("prod", &new_audit).await.unwrap();
        let before = store.record(3).await.unwrap().expect("record 3");

        // Keep 7 days (cutoff: day 3 of 10) and the last 2 versions of each object: web's day 0-2
        // versions go; day 3 is not old enough, and stops the prefix.
        let now = JULY_1 + 10 * DAY_MS;
        let retention = Retention {
            keep_days: Some(7),
            keep_versions_per_object: Some(2),
        };
        let report = store.prune(&retention, now, Some(KEY)).await.unwrap();
        assert_eq!(report.records_pruned, 3, "{}: {report:?}", db.label);
        assert_eq!(report.records_kept, 4);
        assert_eq!(report.audit_events_pruned, 1, "{}", db.label);
        let checkpoint = report.checkpoint.clone().expect("checkpoint");
        assert_eq!(checkpoint.id, 1);
        assert_eq!(checkpoint.first_seq, 4);
        assert_eq!(
            checkpoint.prev_hash, before.hash,
            "links to the last record removed"
        );
        assert_eq!(checkpoint.created_ms, now);
        assert_eq!(checkpoint.signature.as_ref().map(String::len), Some(64));
        assert_eq!(store.record(3).await.unwrap(), None);
        assert!(store.record(4).await.unwrap().is_some());
        assert_eq!(store.audit_event_count().await.unwrap(), 1);

        let verified = store.verify(Some(KEY)).await.unwrap();
        assert!(verified.ok, "{}: {verified:?}", db.label);
        assert_eq!(verified.records, 4);
        assert_eq!(
            verified.checkpoint.as_ref().map(|c| c.signature),
            Some(SignatureCheck::Valid)
        );
        let without_key = store.verify(None).await.unwrap();
        assert!(without_key.ok);
        assert_eq!(
            without_key.checkpoint.map(|c| c.signature),
            Some(SignatureCheck::NotChecked)
        );
        let wrong_key = store.verify(Some(b"another key")).await.unwrap();
        assert!(!wrong_key.ok);
        assert_eq!(
            wrong_key.checkpoint.map(|c| c.signature),
            Some(SignatureCheck::Invalid)
        );
        assert_eq!(
            wrong_key.first_broken,
            Some((
                4,
                "checkpoint 1 has a bad signature: it was altered or written with another key"
                    .to_owned()
            ))
        );

        // The chain goes on after the checkpoint, and a second prune stacks a second checkpoint.
        store
            .append(change("Ingress", "shop", "web", now, "alice"))
            .await
            .unwrap();
        assert!(store.verify(Some(KEY)).await.unwrap().ok, "{}", db.label);
        let later = JULY_1 + 30 * DAY_MS;
        let second = store
            .prune(
                &Retention {
                    keep_days: Some(7),
                    keep_versions_per_object: None,
                },
                later,
                Some(KEY),
            )
            .await
            .unwrap();
        assert_eq!(second.records_pruned, 5, "{}", db.label);
        assert_eq!(second.records_kept, 0);
        assert_eq!(
            second.checkpoint.as_ref().map(|c| (c.id, c.first_seq)),
            Some((2, 9))
        );
        let empty = store.verify(Some(KEY)).await.unwrap();
        assert!(empty.ok, "{}: {empty:?}", db.label);
        assert_eq!(empty.records, 0);
        store
            .append(change("Ingress", "shop", "web", later, "alice"))
            .await
            .unwrap();
        let resumed = store.verify(Some(KEY)).await.unwrap();
        assert!(resumed.ok, "{}: {resumed:?}", db.label);
        assert_eq!(resumed.records, 1);
        db.finish(store).await;
    }
}

#[tokio::test]
async fn an_edited_checkpoint_fails_its_signature() {
    const KEY: &[u8] = b"k";
    for db in databases("prune_checkpoint_edited").await {
        let store = db.store().await;
        ten_days_of_changes(&store).await;
        let retention = Retention {
            keep_days: Some(7),
            keep_versions_per_object: None,
        };
        store
            .prune(&retention, JULY_1 + 10 * DAY_MS, Some(KEY))
            .await
            .unwrap();
        // Hiding more history: records 4 and 5 deleted, the checkpoint moved past them.
        db.execute("DELETE FROM history WHERE seq < 6").await;
        db.execute("UPDATE checkpoints SET first_seq = 6, prev_hash = (SELECT prev_hash FROM history WHERE seq = 6)").await;
        let report = store.verify(Some(KEY)).await.unwrap();
        assert_eq!(
            report.checkpoint.map(|c| c.signature),
            Some(SignatureCheck::Invalid),
            "{}",
            db.label
        );
        assert_eq!(report.first_broken.map(|(seq, _)| seq), Some(6));
        db.finish(store).await;
    }
}

#[tokio::test]
async fn an_unsigned_checkpoint_is_reported_and_fails_when_a_key_is_expected() {
    for db in databases("prune_unsigned").await {
        let store = db.store().await;
        ten_days_of_changes(&store).await;
        let retention = Retention {
            keep_days: None,
            keep_versions_per_object: Some(1),
        };
        let report = store
            .prune(&retention, JULY_1 + 10 * DAY_MS, None)
            .await
            .unwrap();
        // Only web's first versions form a prefix: api (seq 5) is its object's last version.
        assert_eq!(report.records_pruned, 4, "{}: {report:?}", db.label);
        assert_eq!(
            report.checkpoint.as_ref().and_then(|c| c.signature.clone()),
            None
        );
        let unsigned = store.verify(None).await.unwrap();
        assert!(unsigned.ok, "{}: {unsigned:?}", db.label);
        assert_eq!(
            unsigned.checkpoint.map(|c| c.signature),
            Some(SignatureCheck::Unsigned)
        );
        let expected = store.verify(Some(b"k")).await.unwrap();
        assert!(!expected.ok);
        assert_eq!(
            expected.first_broken,
            Some((
                5,
                "checkpoint 1 is unsigned although a checkpoint key was given".to_owned()
            ))
        );
        db.finish(store).await;
    }
}

#[tokio::test]
async fn pruning_refuses_to_remove_a_tampered_stretch_of_the_chain() {
    for db in databases("prune_refuses").await {
        let store = db.store().await;
        ten_days_of_changes(&store).await;
        db.execute(r#"UPDATE history SET actor_json = '{"user":"alice","attribution":"unknown"}' WHERE seq = 2"#).await;
        let retention = Retention {
            keep_days: Some(7),
            keep_versions_per_object: None,
        };
        let refused = store.prune(&retention, JULY_1 + 10 * DAY_MS, None).await;
        match refused {
            Err(Error::ChainBroken { seq, .. }) => assert_eq!(seq, 2, "{}", db.label),
            other => panic!("{}: expected ChainBroken, got {other:?}", db.label),
        }
        assert!(
            store.record(1).await.unwrap().is_some(),
            "nothing was removed"
        );
        assert_eq!(
            store
                .verify(None)
                .await
                .unwrap()
                .first_broken
                .map(|(seq, _)| seq),
            Some(2)
        );
        db.finish(store).await;
    }
}

#[tokio::test]
async fn retention_with_no_rule_removes_nothing() {
    for db in databases("prune_nothing").await {
        let store = db.store().await;
        ten_days_of_changes(&store).await;
        let report = store
            .prune(&Retention::default(), JULY_1 + 100 * DAY_MS, None)
            .await
            .unwrap();
        assert_eq!(
            (report.records_pruned, report.records_kept),
            (0, 7),
            "{}",
            db.label
        );
        assert_eq!(report.checkpoint, None);
        // Nothing old enough: no checkpoint either.
        let young = Retention {
            keep_days: Some(365),
            keep_versions_per_object: None,
        };
        let report = store
            .prune(&young, JULY_1 + 10 * DAY_MS, None)
            .await
            .unwrap();
        assert_eq!(
            (report.records_pruned, report.records_kept),
            (0, 7),
            "{}",
            db.label
        );
        assert_eq!(report.checkpoint, None);
        assert_eq!(store.verify(None).await.unwrap().checkpoint, None);
        db.finish(store).await;
    }
}

#[tokio::test]
async fn a_resume_version_round_trips_per_cluster_and_kind() {
    for db in databases("resume_version").await {
        let store = db.store().await;
        let kind = "networking.k8s.io/v1/Ingress";
        assert_eq!(store.resume_version("prod", kind).await.unwrap(), None);
        store
            .set_resume_version("prod", kind, "184467")
            .await
            .unwrap();
        assert_eq!(
            store.resume_version("prod", kind).await.unwrap().as_deref(),
            Some("184467")
        );
        store
            .set_resume_version("prod", kind, "184500")
            .await
            .unwrap();
        assert_eq!(
            store.resume_version("prod", kind).await.unwrap().as_deref(),
            Some("184500"),
            "{}",
            db.label
        );
        assert_eq!(store.resume_version("staging", kind).await.unwrap(), None);
        assert_eq!(
            store.resume_version("prod", "v1/Service").await.unwrap(),
            None
        );
        db.finish(store).await;
    }
}

#[tokio::test]
async fn reconnecting_keeps_the_data_and_runs_no_migration_twice() {
    for db in databases("reconnect").await {
        let store = db.store().await;
        store
            .append(change("Ingress", "shop", "web", JULY_1, "alice"))
            .await
            .unwrap();
        store.close().await;
        let again = db.store().await;
        assert_eq!(
            again
                .history(&HistoryFilter::default())
                .await
                .unwrap()
                .len(),
            1,
            "{}",
            db.label
        );
        assert!(again.verify(None).await.unwrap().ok);
        again.close().await;
        db.drop_database().await;
    }
}

#[tokio::test]
async fn an_in_memory_store_works_and_other_schemes_are_refused() {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    store
        .append(change("Ingress", "shop", "web", JULY_1, "alice"))
        .await
        .unwrap();
    store
        .set_resume_version("prod", "Ingress", "1")
        .await
        .unwrap();
    assert!(store.verify(None).await.unwrap().ok);
    assert_eq!(
        store
            .history(&HistoryFilter::default())
            .await
            .unwrap()
            .len(),
        1
    );
    match Store::connect("mysql://root:secret@db/tollgate").await {
        Err(Error::UnsupportedUrl(scheme)) => assert_eq!(scheme, "mysql"),
        other => panic!("expected UnsupportedUrl, got {other:?}"),
    }
}

#[tokio::test]
async fn current_objects_are_the_last_applied_versions_of_objects_not_deleted() {
    for db in databases("current_objects").await {
        let store = db.store().await;
        store
            .append(change("Ingress", "shop", "web", JULY_1, "alice"))
            .await
            .unwrap();
        store
            .append(change("Ingress", "shop", "web", JULY_1 + 1, "bob"))
            .await
            .unwrap();
        store
            .append(change("Ingress", "shop", "gone", JULY_1 + 2, "alice"))
            .await
            .unwrap();
        let mut deleted = change("Ingress", "shop", "gone", JULY_1 + 3, "alice");
        deleted.action = Action::Deleted;
        deleted.object = None;
        store.append(deleted).await.unwrap();
        // A refused attempt on `web` is kept but is not the current version.
        let mut denied = change("Ingress", "shop", "web", JULY_1 + 4, "mallory");
        denied.outcome = tollgate_store::Outcome::Denied;
        store.append(denied).await.unwrap();
        store
            .append(change("Service", "shop", "web", JULY_1 + 5, "alice"))
            .await
            .unwrap();

        let current = store.current_objects("prod", "Ingress").await.unwrap();
        let names: Vec<(&str, &str)> = current
            .iter()
            .map(|r| {
                (
                    r.change.resource.name.as_str(),
                    r.change.actor.user.as_deref().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(names, vec![("web", "bob")], "{}", db.label);
        let latest = store
            .latest("prod", "Ingress", "shop", "web")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            latest.change.actor.user.as_deref(),
            Some("bob"),
            "{}",
            db.label
        );
        assert!(
            store
                .current_objects("other", "Ingress")
                .await
                .unwrap()
                .is_empty()
        );
        db.finish(store).await;
    }
}
