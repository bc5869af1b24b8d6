//! What `tollgate serve` stores, on SQLite and (when `TOLLGATE_TEST_POSTGRES_URL` is set)
//! PostgreSQL: finding lifetimes across scans, alert dedup and deliveries, access counts that add
//! up to what was acknowledged, and the latest scan per cluster.

mod support;

use serde_json::json;
use support::databases;
use tollgate_store::{
    AccessBatch, AlertFilter, FindingFilter, MinuteCount, NewAlert, NewFinding, Raised, RouteCount,
    ScanRecord, SourceCount,
};

fn finding(rule: &str, name: &str, severity: &str) -> NewFinding {
    NewFinding {
        rule: rule.to_owned(),
        code: "TG101".to_owned(),
        severity: severity.to_owned(),
        category: "exposure".to_owned(),
        api_version: "networking.k8s.io/v1".to_owned(),
        kind: "Ingress".to_owned(),
        namespace: "shop".to_owned(),
        name: name.to_owned(),
        path: "/spec/rules/0/host".to_owned(),
        message: format!("{rule} on {name}"),
        help: "fix it".to_owned(),
    }
}

#[tokio::test]
async fn findings_open_resolve_and_reopen_across_scans() {
    for db in databases("findings_open_resolve_and_reopen_across_scans").await {
        let store = db.store().await;
        let first = store
            .sync_findings(
                "prod",
                &[
                    finding("wildcard-host", "web", "high"),
                    finding("tls-missing", "api", "high"),
                ],
                1_000,
            )
            .await
            .unwrap();
        assert!(first.first_scan, "{}", db.label);
        assert_eq!(first.new.len(), 2);

        // The second scan: web still there, api fixed, a new medium one.
        let second = store
            .sync_findings(
                "prod",
                &[
                    finding("wildcard-host", "web", "high"),
                    finding("missing-waf", "web", "medium"),
                ],
                2_000,
            )
            .await
            .unwrap();
        assert!(!second.first_scan);
        assert_eq!(
            second
                .new
                .iter()
                .map(|f| f.rule.as_str())
                .collect::<Vec<_>>(),
            ["missing-waf"]
        );
        assert_eq!((second.resolved, second.open), (1, 2));

        let open = store
            .findings(&FindingFilter {
                open: Some(true),
                limit: 10,
                ..FindingFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            open.iter()
                .map(|f| (f.finding.rule.as_str(), f.first_seen_ms, f.last_seen_ms))
                .collect::<Vec<_>>(),
            [
                ("wildcard-host", 1_000, 2_000),
                ("missing-waf", 2_000, 2_000)
            ],
            "{}: most severe first",
            db.label
        );
        let resolved = store
            .findings(&FindingFilter {
                open: Some(false),
                limit: 10,
                ..FindingFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].resolved_ms, Some(2_000));

        // api breaks again: reopened as new, with a new first-seen time.
        let third = store
            .sync_findings("prod", &[finding("tls-missing", "api", "high")], 3_000)
            .await
            .unwrap();
        assert_eq!(third.new.len(), 1);
        let api = store
            .findings(&FindingFilter {
                rule: Some("tls-missing".into()),
                limit: 10,
                ..FindingFilter::default()
            })
            .await
            .unwrap();
        assert_eq!((api[0].first_seen_ms, api[0].resolved_ms), (3_000, None));
        // Other clusters are their own.
        let other = store.sync_findings("staging", &[], 3_000).await.unwrap();
        assert!(other.first_scan);
        db.finish(store).await;
    }
}

fn alert(key: &str) -> NewAlert {
    NewAlert {
        cluster: "prod".into(),
        dedup_key: key.into(),
        trigger: "access".into(),
        severity: "high".into(),
        title: "brute-force on shop/web".into(),
        route: "shop/web|shop.example.com|/".into(),
        namespace: "shop".into(),
        name: "web".into(),
        change_seq: Some(7),
        body: json!({"detector": "brute-force", "count": 20}),
    }
}

#[tokio::test]
async fn alerts_deduplicate_within_the_window_and_track_deliveries() {
    for db in databases("alerts_deduplicate_within_the_window_and_track_deliveries").await {
        let store = db.store().await;
        let sinks = vec!["hook".to_owned(), "slack".to_owned()];
        let Raised::New(first) = store
            .raise_alert(&alert("k1"), 10_000, 5_000, &sinks)
            .await
            .unwrap()
        else {
            panic!("{}: the first raise is new", db.label);
        };
        assert_eq!(first.deliveries.len(), 2);
        assert_eq!(
            store
                .raise_alert(&alert("k1"), 12_000, 5_000, &sinks)
                .await
                .unwrap(),
            Raised::Repeat(first.id.clone())
        );
        // Another key, and the same key after the window, are new alerts.
        assert!(matches!(
            store
                .raise_alert(&alert("k2"), 12_000, 5_000, &sinks)
                .await
                .unwrap(),
            Raised::New(_)
        ));
        assert!(matches!(
            store
                .raise_alert(&alert("k1"), 30_000, 5_000, &sinks)
                .await
                .unwrap(),
            Raised::New(_)
        ));

        store
            .set_delivery(&first.id, "hook", "delivered", 1, "", 10_500)
            .await
            .unwrap();
        store
            .set_delivery(&first.id, "slack", "failed", 5, "HTTP 500", 11_000)
            .await
            .unwrap();
        let stored = store.alert(&first.id).await.unwrap().unwrap();
        assert_eq!(stored.occurrences, 2);
        assert_eq!(stored.last_seen_ms, 12_000);
        assert_eq!(stored.alert.body["count"], 20);
        assert_eq!(stored.alert.change_seq, Some(7));
        assert_eq!(
            stored
                .deliveries
                .iter()
                .map(|d| (d.sink.as_str(), d.status.as_str(), d.attempts))
                .collect::<Vec<_>>(),
            [("hook", "delivered", 1), ("slack", "failed", 5)]
        );
        // Pending: the two later alerts' deliveries, oldest first.
        assert_eq!(store.pending_deliveries("prod").await.unwrap().len(), 4);
        let listed = store
            .alerts(&AlertFilter {
                route: Some("shop/web|shop.example.com|/".into()),
                limit: 2,
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(listed.len(), 2, "{}: limit", db.label);
        assert!(listed[0].created_ms >= listed[1].created_ms, "newest first");
        db.finish(store).await;
    }
}

#[tokio::test]
async fn access_batches_add_up() {
    for db in databases("access_batches_add_up").await {
        let store = db.store().await;
        let route = "shop/web|shop.example.com|/login";
        let batch = |requests: u64, status_4xx: u64| AccessBatch {
            cluster: "prod".into(),
            lines: requests + 1,
            parsed: requests,
            malformed: 1,
            minutes: vec![MinuteCount {
                route: route.into(),
                minute: 29_000_000,
                requests,
                errors_5xx: 0,
            }],
            routes: vec![RouteCount {
                route: route.into(),
                requests,
                status: [0, requests - status_4xx, 0, status_4xx, 0, 0],
                bytes: 100,
                last_ms: 5,
            }],
            sources: vec![SourceCount {
                route: route.into(),
                source: "198.51.100.9".into(),
                requests,
                errors_4xx: status_4xx,
                last_ms: 5,
            }],
        };
        store.add_access(&batch(10, 8)).await.unwrap();
        store.add_access(&batch(5, 5)).await.unwrap();
        let totals = store.access_intake(Some("prod")).await.unwrap();
        assert_eq!(
            (
                totals.batches,
                totals.lines,
                totals.parsed,
                totals.malformed
            ),
            (2, 17, 15, 2),
            "{}",
            db.label
        );
        let routes = store.access_routes(None).await.unwrap();
        assert_eq!(routes[0].1.status, [0, 2, 0, 13, 0, 0]);
        assert_eq!(routes[0].1.bytes, 200);
        let minutes = store.access_minutes("prod", route, 0).await.unwrap();
        assert_eq!(minutes[0].requests, 15);
        let sources = store.access_sources("prod", route, 5).await.unwrap();
        assert_eq!((sources[0].requests, sources[0].errors_4xx), (15, 13));
        assert_eq!(store.access_intake(Some("staging")).await.unwrap().lines, 0);
        db.finish(store).await;
    }
}

#[tokio::test]
async fn the_latest_scan_replaces_the_one_before() {
    for db in databases("the_latest_scan_replaces_the_one_before").await {
        let store = db.store().await;
        for (time, routes) in [(1, 3), (2, 4)] {
            store
                .put_scan(&ScanRecord {
                    cluster: "prod".into(),
                    time_ms: time,
                    duration_ms: 40,
                    objects: 12,
                    errors: 0,
                    routes: json!((0..routes).collect::<Vec<_>>()),
                    certificates: json!([]),
                })
                .await
                .unwrap();
        }
        let scans = store.scans().await.unwrap();
        assert_eq!(scans.len(), 1, "{}", db.label);
        assert_eq!(
            (scans[0].time_ms, scans[0].routes.as_array().unwrap().len()),
            (2, 4)
        );
        assert_eq!(store.clusters().await.unwrap(), ["prod"]);
        db.finish(store).await;
    }
}

#[tokio::test]
async fn processes_opening_a_fresh_sqlite_file_at_once_all_get_the_schema() {
    for round in 0..5 {
        let directory = tempfile::tempdir().expect("folder");
        let url = format!("sqlite://{}", directory.path().join("fresh.db").display());
        let opened = futures_join(&url).await;
        for (i, result) in opened.into_iter().enumerate() {
            let store = result.unwrap_or_else(|e| panic!("round {round}, store {i}: {e}"));
            assert_eq!(store.clusters().await.unwrap(), Vec::<String>::new());
        }
    }
}

async fn futures_join(url: &str) -> Vec<tollgate_store::Result<tollgate_store::Store>> {
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let url = url.to_owned();
            tokio::spawn(async move { tollgate_store::Store::connect(&url).await })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn pruning_keeps_what_is_recent_open_or_acknowledged() {
    for db in databases("pruning_keeps_what_is_recent_open_or_acknowledged").await {
        let store = db.store().await;
        let day = 86_400_000_i64;
        let now = 100 * day;
        store
            .sync_findings(
                "prod",
                &[finding("tls-missing", "old", "high")],
                now - 50 * day,
            )
            .await
            .unwrap();
        store
            .sync_findings(
                "prod",
                &[finding("wildcard-host", "open", "high")],
                now - 40 * day,
            )
            .await
            .unwrap();
        let sinks = vec!["hook".to_owned()];
        store
            .raise_alert(&alert("old"), now - 40 * day, 1_000, &sinks)
            .await
            .unwrap();
        store
            .raise_alert(&alert("new"), now - day, 1_000, &sinks)
            .await
            .unwrap();
        let route = "shop/web|*|*";
        for minute in [(now - 40 * day) / 60_000, (now - day) / 60_000] {
            store
                .add_access(&AccessBatch {
                    cluster: "prod".into(),
                    lines: 1,
                    parsed: 1,
                    minutes: vec![MinuteCount {
                        route: route.into(),
                        minute,
                        requests: 1,
                        errors_5xx: 0,
                    }],
                    ..AccessBatch::default()
                })
                .await
                .unwrap();
        }
        let pruned = store.prune_service(30, now).await.unwrap();
        assert_eq!(
            (pruned.access_minutes, pruned.alerts, pruned.findings),
            (1, 1, 1),
            "{}",
            db.label
        );
        let left = store
            .findings(&FindingFilter {
                limit: 10,
                ..FindingFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            left.iter()
                .map(|f| f.finding.name.as_str())
                .collect::<Vec<_>>(),
            ["open"]
        );
        assert_eq!(
            store
                .alerts(&AlertFilter {
                    limit: 10,
                    ..AlertFilter::default()
                })
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store.access_minutes("prod", route, 0).await.unwrap().len(),
            1
        );
        assert_eq!(
            store.access_intake(None).await.unwrap().lines,
            2,
            "acknowledged lines stay counted"
        );
        db.finish(store).await;
    }
}

#[tokio::test]
async fn reports_keep_the_newest_per_framework_and_format() {
    for db in databases("reports_keep_the_newest_per_framework_and_format").await {
        let store = db.store().await;
        for time in 1..=4 {
            store
                .put_report(
                    &tollgate_store::ReportRecord {
                        id: String::new(),
                        cluster: "prod".into(),
                        framework: "pci-dss".into(),
                        format: "html".into(),
                        time_ms: time,
                        summary: json!({"fail": time}),
                        body: format!("<html>{time}</html>"),
                    },
                    2,
                )
                .await
                .unwrap();
        }
        let listed = store.reports(Some("prod")).await.unwrap();
        assert_eq!(
            listed.iter().map(|r| r.time_ms).collect::<Vec<_>>(),
            [4, 3],
            "{}",
            db.label
        );
        assert!(listed[0].body.is_empty(), "lists carry no bodies");
        let newest = store.report(&listed[0].id).await.unwrap().unwrap();
        assert_eq!(
            (newest.body.as_str(), &newest.summary),
            ("<html>4</html>", &json!({"fail": 4}))
        );
        assert!(store.reports(Some("staging")).await.unwrap().is_empty());
        db.finish(store).await;
    }
}
