//! `tollgate serve` end to end: the real binary against the fake API server, with a local alert
//! receiver. TLS is removed from an Ingress, the audit webhook names who did it, and a burst of
//! failed logins hits the route: the API shows a risky-change alert with the actor and a
//! brute-force alert carrying that change, and the receiver gets each exactly once. Then the
//! intake's guards: no token, a wrong token, oversized bodies; the service stays up.

#[path = "support/fake_apiserver.rs"]
mod fake_apiserver;
#[path = "support/serve.rs"]
mod serve;

use std::time::Duration;

use serde_json::json;
use serve::{INTAKE_TOKEN, brute_force_lines, get, http, post_intake, scenario, wait_for};

#[test]
fn a_risky_change_and_the_attack_right_after_alert_once_each_with_actor_and_correlation() {
    let mut scenario = scenario();
    let base = scenario.base_url.clone();
    let log = {
        let path = scenario.home.path().join("serve.log");
        move || std::fs::read_to_string(&path).unwrap_or_default()
    };

    // The risky change: who, what, the diff, the link back.
    let risky = get(
        &base,
        &format!("/api/v1/alerts/{}", scenario.alert_risky_change_id),
    )
    .json();
    assert_eq!(risky["trigger"], "risky-change");
    assert_eq!(risky["severity"], "high", "{risky:#}");
    assert_eq!(risky["body"]["who"]["actor"]["user"], "alice", "{risky:#}");
    assert_eq!(risky["body"]["who"]["actor"]["attribution"], "audit");
    assert_eq!(
        risky["body"]["who"]["actor"]["matched_by"],
        "resource-version"
    );
    assert!(
        risky["body"]["risk"]["introduced"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r == "tls-missing")),
        "{risky:#}"
    );
    assert!(
        risky["body"]["yaml_diff"]
            .as_str()
            .is_some_and(|d| d.contains("-  tls:")),
        "{risky:#}"
    );
    assert_eq!(risky["change_seq"], json!(scenario.change_id));
    assert_eq!(
        risky["url"],
        format!(
            "https://tollgate.example.com/alerts/{}",
            scenario.alert_risky_change_id
        )
    );

    // The attack, carrying the change made just before on its route.
    let attack = get(
        &base,
        &format!("/api/v1/alerts/{}", scenario.alert_brute_force_id),
    )
    .json();
    assert_eq!(attack["body"]["detector"], "brute-force");
    assert_eq!(attack["body"]["who"]["source"], "198.51.100.23");
    assert_eq!(scenario.route_key, "shop/storefront|shop.example.com|/");
    assert_eq!(attack["namespace"], "shop");
    assert_eq!(attack["name"], "storefront");
    let correlated = &attack["body"]["correlated_change"];
    assert_eq!(correlated["id"], json!(scenario.change_id), "{attack:#}");
    assert_eq!(correlated["actor"]["user"], "alice");
    assert!(
        attack["title"]
            .as_str()
            .is_some_and(|t| t.contains("right after a change"))
    );
    assert_eq!(
        attack["severity"], "critical",
        "a correlated brute force is raised a level"
    );

    // The API server redelivers the batch (its webhook retries whole batches): stored once, no
    // new alert. The same burst again finds the source's bucket blackholed: no new alert either.
    let risky_before = get(&base, "/api/v1/alerts").json()["items"]
        .as_array()
        .map_or(0, Vec::len);
    let again = post_intake(
        &base,
        "/api/v1/logs?format=ingress-nginx",
        "text/plain",
        brute_force_lines(60).as_bytes(),
    );
    assert_eq!(again.status, 200);
    let redelivered = post_intake(
        &base,
        "/api/v1/audit/events",
        "application/json",
        scenario.audit_batch.as_bytes(),
    )
    .json();
    assert_eq!(
        (
            redelivered["inserted"].as_u64(),
            redelivered["duplicates"].as_u64()
        ),
        (Some(0), Some(1))
    );

    // The receiver got each alert exactly once.
    let delivered = wait_for(&log, "both deliveries", || {
        let received = scenario.receiver.received();
        (received.len() >= 2).then_some(received)
    });
    std::thread::sleep(Duration::from_millis(1_500));
    let delivered_later = scenario.receiver.received();
    assert_eq!(
        delivered.len(),
        delivered_later.len(),
        "nothing more arrives: {delivered_later:#?}"
    );
    let risky_after = get(&base, "/api/v1/alerts").json()["items"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(risky_before, risky_after, "no new alert");
    let ids: Vec<&str> = delivered_later
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(
        ids.iter()
            .filter(|id| **id == scenario.alert_risky_change_id)
            .count(),
        1,
        "{delivered_later:#?}"
    );
    assert_eq!(
        ids.iter()
            .filter(|id| **id == scenario.alert_brute_force_id)
            .count(),
        1,
        "{delivered_later:#?}"
    );
    let webhook = delivered_later
        .iter()
        .find(|a| a["id"] == scenario.alert_risky_change_id.as_str())
        .expect("the risky change delivered");
    assert_eq!(webhook["who"]["actor"]["user"], "alice");
    assert!(
        webhook["url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&scenario.alert_risky_change_id))
    );
    // Delivery is recorded on the alert.
    let attack = get(
        &base,
        &format!("/api/v1/alerts/{}", scenario.alert_brute_force_id),
    )
    .json();
    assert_eq!(attack["deliveries"][0]["status"], "delivered", "{attack:#}");

    // Slack got the risky change with its diff; Alertmanager the attack, as API v2 alerts.
    let slack = wait_for(&log, "the Slack message", || {
        scenario.receiver.received_at("/slack").into_iter().next()
    });
    let text = slack["blocks"][0]["text"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains("*Who:* alice from 203.0.113.7"), "{slack:#}");
    assert!(
        slack["blocks"][1]["text"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("tls")),
        "{slack:#}"
    );
    let am = wait_for(&log, "the Alertmanager alert", || {
        scenario
            .receiver
            .received_at("/api/v2/alerts")
            .into_iter()
            .next()
    });
    assert_eq!(
        am[0]["labels"]["alertname"], "TollgateAccessAlert",
        "{am:#}"
    );
    assert_eq!(
        am[0]["labels"]["route"],
        "shop/storefront|shop.example.com|/"
    );
    assert_eq!(scenario.receiver.received_at("/slack").len(), 1);
    assert_eq!(scenario.receiver.received_at("/api/v2/alerts").len(), 1);

    // A receiver that cannot be reached: retried, then failed, and it shows.
    let failed = wait_for(&log, "the broken sink to fail", || {
        let alert = get(
            &base,
            &format!("/api/v1/alerts/{}", scenario.alert_risky_change_id),
        )
        .json();
        let broken = alert["deliveries"]
            .as_array()?
            .iter()
            .find(|d| d["sink"] == "broken")?
            .clone();
        (broken["status"] == "failed").then_some(broken)
    });
    assert_eq!(failed["attempts"], 2);
    assert!(!failed["last_error"].as_str().unwrap_or_default().is_empty());

    // The intake counted exactly what it acknowledged.
    let status = get(&base, "/api/v1/status").json();
    assert_eq!(status["store"]["log_lines"], 120);
    assert_eq!(status["store"]["audit_events"], 1);
    let access = get(
        &base,
        "/api/v1/access/summary?route=shop%2Fstorefront%7Cshop.example.com%7C%2F",
    )
    .json();
    assert_eq!(access["routes"][0]["status"]["4xx"], 120, "{access:#}");
    assert_eq!(access["sources"][0]["source"], "198.51.100.23");

    // Metrics carry the change, the alerts and the deliveries.
    let metrics = get(&base, "/metrics").body;
    assert!(metrics.contains("tollgate_changes_total{cluster=\"prod-eu\",kind=\"Ingress\",actor_kind=\"unknown\",risky=\"true\"} 1")
        || metrics.contains("kind=\"Ingress\",actor_kind=\"user\",risky=\"true\"} 1"), "{metrics}");
    assert!(
        metrics.contains("tollgate_alert_deliveries_total{sink=\"hook\",outcome=\"delivered\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("tollgate_access_alerts_total{cluster=\"prod-eu\",route=\"shop/storefront|shop.example.com|/\",detector=\"brute-force\"}"), "{metrics}");
    assert!(scenario.running(), "{}", scenario.log());
}

#[test]
fn the_intake_refuses_strangers_and_oversized_bodies_and_stays_up() {
    let mut scenario = scenario();
    let base = scenario.base_url.clone();
    let events = json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1",
                        "items": [serve::audit_event("5d1f2b8e-0000-4000-8000-0000000000ff", "1")]})
    .to_string();

    // No token, a wrong token: refused, nothing stored.
    for headers in [
        vec![("Content-Type", "application/json")],
        vec![
            ("Content-Type", "application/json"),
            ("Authorization", "Bearer not-the-intake-token-at-all"),
        ],
    ] {
        let answer = http(
            "POST",
            &base,
            "/api/v1/audit/events",
            &headers,
            events.as_bytes(),
        );
        assert_eq!(answer.status, 401, "{}", answer.body);
        let answer = http("POST", &base, "/api/v1/logs", &headers, b"a line\n");
        assert_eq!(answer.status, 401, "{}", answer.body);
    }
    let status = get(&base, "/api/v1/status").json();
    assert_eq!(
        status["store"]["audit_events"], 1,
        "only the scenario's event"
    );

    // Over the limits (256 KiB here): 413, and nothing stored.
    let big = "x".repeat(300 * 1024);
    let answer = post_intake(&base, "/api/v1/logs", "text/plain", big.as_bytes());
    assert_eq!(answer.status, 413, "{}", answer.body);
    let answer = post_intake(
        &base,
        "/api/v1/audit/events",
        "application/json",
        big.as_bytes(),
    );
    assert_eq!(answer.status, 413, "{}", answer.body);
    // A gzip body that expands past eight times the limit: 413 too.
    let bomb = {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b'\n'; 3 << 20]).expect("gzip");
        encoder.finish().expect("gzip")
    };
    let auth = format!("Bearer {INTAKE_TOKEN}");
    let answer = http(
        "POST",
        &base,
        "/api/v1/logs",
        &[("Authorization", &auth), ("Content-Encoding", "gzip")],
        &bomb,
    );
    assert_eq!(answer.status, 413, "{}", answer.body);
    // Bad input is a 400 that says why.
    let answer = post_intake(
        &base,
        "/api/v1/audit/events",
        "application/json",
        b"{not json",
    );
    assert_eq!(answer.status, 400, "{}", answer.body);
    let answer = post_intake(&base, "/api/v1/logs?format=klingon", "text/plain", b"x\n");
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("klingon"));

    // Still up and still counting right.
    assert_eq!(get(&base, "/healthz").status, 200);
    let status = get(&base, "/api/v1/status").json();
    assert_eq!(status["store"]["log_lines"], 60);
    let metrics = get(&base, "/metrics").body;
    assert!(
        metrics.contains("tollgate_requests_refused_total{endpoint=\"intake\"} 4"),
        "{metrics}"
    );
    assert!(scenario.running(), "{}", scenario.log());
}

/// A validator for one schema of the OpenAPI document (its references rewritten to `$defs`).
fn schema_validator(document: &serde_json::Value, name: &str) -> jsonschema::Validator {
    let text = document["components"]["schemas"]
        .to_string()
        .replace("#/components/schemas/", "#/$defs/");
    let defs: serde_json::Value = serde_json::from_str(&text).expect("schemas");
    let schema = json!({"$defs": defs, "$ref": format!("#/$defs/{name}")});
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .expect("the schema compiles")
}

#[test]
fn every_read_endpoint_answers_in_the_shape_its_openapi_document_gives() {
    let scenario = scenario();
    let base = scenario.base_url.clone();
    let document = get(&base, "/api/v1/openapi.json").json();
    let route = "shop%2Fstorefront%7Cshop.example.com%7C%2F";
    let cases = [
        ("/api/v1/status".to_owned(), "Status"),
        ("/api/v1/clusters".to_owned(), "Clusters"),
        ("/api/v1/inventory?limit=1".to_owned(), "RoutePage"),
        ("/api/v1/findings?status=all".to_owned(), "FindingPage"),
        ("/api/v1/history".to_owned(), "HistoryPage"),
        (format!("/api/v1/history/{}", scenario.change_id), "Change"),
        ("/api/v1/alerts".to_owned(), "AlertPage"),
        (
            format!("/api/v1/alerts/{}", scenario.alert_brute_force_id),
            "Alert",
        ),
        ("/api/v1/certificates".to_owned(), "CertificatePage"),
        (
            format!("/api/v1/access/summary?route={route}"),
            "AccessSummary",
        ),
        ("/api/v1/reports".to_owned(), "ReportPage"),
        ("/api/v1/alerts/nope".to_owned(), "Error"),
        ("/api/v1/findings?limit=900".to_owned(), "Error"),
    ];
    for (path, schema) in cases {
        let answer = get(&base, &path);
        let value = answer.json();
        let validator = schema_validator(&document, schema);
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{path} ({}) is not a {schema}: {errors:#?}\n{value:#}",
            answer.status
        );
    }
    // Paging walks the whole history without repeats.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = get(&base, &format!("/api/v1/history?limit=1{cursor}")).json();
        seen.extend(
            page["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e["id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    let all = get(&base, "/api/v1/history").json()["items"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(seen.len(), all);
    assert!(seen.len() >= 3, "{seen:?}");
}

#[test]
fn services_of_two_clusters_share_one_store_and_reads_can_require_a_token() {
    let scenario = scenario();
    let home = scenario.home.path();
    // A second service, for another cluster, over manifests, on the same store; its reads need a
    // token even from loopback.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let config = home.join("staging.yaml");
    std::fs::write(
        &config,
        format!(
            "history:\n  cluster: staging\nserve:\n  listen: 127.0.0.1:{port}\n  auth:\n    \
             openReadsOnLoopback: false\n  reports:\n    - framework: pci-dss\n"
        ),
    )
    .expect("config");
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let read_token = "staging-read-token-0123456789";
    let mut staging = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .arg("--no-cluster")
        .arg(&examples)
        .env(
            "TOLLGATE_STORE",
            format!("sqlite://{}", home.join("tollgate.db").display()),
        )
        .env("TOLLGATE_READ_TOKEN", read_token)
        .env_remove("TOLLGATE_INTAKE_TOKEN")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starting the second service");
    let base = format!("http://127.0.0.1:{port}");
    let auth = format!("Bearer {read_token}");
    let read = |path: &str| http("GET", &base, path, &[("Authorization", &auth)], b"");
    let log = || String::new();
    wait_for(&log, "the staging scan", || {
        let status = read("/api/v1/status");
        (status.status == 200 && !status.json()["last_scan"].is_null()).then_some(())
    });

    // Reads need the token; the dashboard asks for it.
    assert_eq!(get(&base, "/api/v1/status").status, 401);
    assert_eq!(
        http(
            "GET",
            &base,
            "/api/v1/status",
            &[("Authorization", "Bearer wrong-token-0123456789")],
            b""
        )
        .status,
        401
    );
    let page = http(
        "GET",
        &base,
        "/api/v1/findings",
        &[("Accept", "text/html")],
        b"",
    );
    assert_eq!(page.status, 401);
    assert!(page.body.contains("<form"), "{}", page.body);
    assert_eq!(get(&base, "/healthz").status, 200, "health needs no token");
    let login = http(
        "POST",
        &base,
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("token={read_token}").as_bytes(),
    );
    assert_eq!(login.status, 303, "{}", login.body);

    // The fleet: both clusters, each filterable.
    let clusters = read("/api/v1/clusters").json();
    assert_eq!(clusters["items"], json!(["prod-eu", "staging"]));
    let prod = read("/api/v1/inventory?cluster=prod-eu").json();
    let keys: Vec<&str> = prod["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|r| r["key"].as_str())
        .collect();
    assert_eq!(keys, ["shop/storefront|shop.example.com|/"]);
    let staging_routes = read("/api/v1/inventory?cluster=staging&limit=500").json();
    let items = staging_routes["items"].as_array().expect("items");
    assert!(items.len() > 5 && items.iter().all(|r| r["cluster"] == "staging"));
    let findings = read("/api/v1/findings?cluster=staging&limit=500").json();
    assert!(
        findings["items"]
            .as_array()
            .is_some_and(|f| f.iter().all(|f| f["cluster"] == "staging"))
    );
    // History of the other cluster is there too (the fleet view), and filterable.
    let history = read("/api/v1/history?cluster=prod-eu").json();
    assert!(history["items"].as_array().is_some_and(|h| !h.is_empty()));
    assert_eq!(
        read("/api/v1/history?cluster=staging").json()["items"],
        json!([])
    );
    // The expired certificate of the examples alerts, once, as critical.
    let certificates = wait_for(&log, "the certificate alert", || {
        let page = read("/api/v1/alerts?cluster=staging&trigger=certificate").json();
        let items = page["items"].as_array()?.clone();
        (!items.is_empty()).then_some(items)
    });
    let expired = certificates
        .iter()
        .find(|a| a["name"] == "wildcard-shop-tls")
        .unwrap_or_else(|| panic!("{certificates:#?}"));
    assert_eq!(expired["severity"], "critical");
    assert!(
        expired["title"]
            .as_str()
            .is_some_and(|t| t.contains("expired")),
        "{expired:#}"
    );

    // The scheduled report: written after the first scan, listed, served as its own document.
    let reports = wait_for(&log, "the scheduled report", || {
        let page = read("/api/v1/reports?cluster=staging").json();
        let items = page["items"].as_array()?.clone();
        (!items.is_empty()).then_some(items)
    });
    assert_eq!(reports[0]["framework"], "pci-dss");
    assert!(
        reports[0]["summary"]["fail"]
            .as_u64()
            .is_some_and(|f| f > 0),
        "{reports:#?}"
    );
    let document = read(reports[0]["url"].as_str().expect("url"));
    assert_eq!(document.status, 200);
    assert!(
        document
            .body
            .contains(r#"data-control="4.2.1" data-status="fail""#)
    );
    let listed = http("GET", &base, "/reports", &[("Authorization", &auth)], b"");
    assert!(listed.body.contains("pci-dss"), "{}", listed.body);

    // The intake of a service without an intake token refuses even loopback.
    let answer = http("POST", &base, "/api/v1/logs", &[], b"x\n");
    assert_eq!(answer.status, 401);
    let _ = staging.kill();
    let _ = staging.wait();
}

#[test]
fn replicas_elect_one_writer_and_the_other_takes_over_when_it_stops() {
    let server = fake_apiserver::FakeApiServer::builder()
        .token("scenario-api-token")
        .object(serve::service())
        .object(serve::ingress(true))
        .start();
    let receiver = serve::Receiver::start();
    let shared = tempfile::tempdir().expect("store folder");
    let store = format!("sqlite://{}", shared.path().join("shared.db").display());
    let lease = "  watch:\n    lease: tollgate/tollgate-leader\n    leaseSeconds: 3\n";
    let (home_a, home_b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let (mut a, base_a) = serve::start_service(&home_a, &server, &receiver, lease, Some(&store));
    let (mut b, base_b) = serve::start_service(&home_b, &server, &receiver, lease, Some(&store));
    let log = || {
        format!(
            "a: {}\nb: {}",
            std::fs::read_to_string(home_a.path().join("serve.log")).unwrap_or_default(),
            std::fs::read_to_string(home_b.path().join("serve.log")).unwrap_or_default()
        )
    };
    let leader_of = |base: &str| -> Option<bool> {
        let status = get(base, "/api/v1/status");
        (status.status == 200).then(|| status.json()["leader"] == true)
    };
    let a_leads = wait_for(&log, "one leader", || {
        match (leader_of(&base_a)?, leader_of(&base_b)?) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            _ => None,
        }
    });
    let (leader, follower, leader_child, follower_child) = if a_leads {
        (base_a, base_b, &mut a, &mut b)
    } else {
        (base_b, base_a, &mut b, &mut a)
    };
    // Both serve reads; only the leader recorded, once.
    wait_for(&log, "the Ingress recorded", || {
        let page = get(&follower, "/api/v1/history?kind=Ingress").json();
        (page["items"].as_array()?.len() == 1).then_some(())
    });
    assert!(
        get(&leader, "/metrics")
            .body
            .contains("tollgate_leader{cluster=\"prod-eu\"} 1")
    );
    assert!(
        get(&follower, "/metrics")
            .body
            .contains("tollgate_leader{cluster=\"prod-eu\"} 0")
    );

    // The leader stops: the other takes the Lease and records the next change.
    let _ = leader_child.kill();
    let _ = leader_child.wait();
    wait_for(&log, "the follower to lead", || {
        leader_of(&follower)?.then_some(())
    });
    server.update_with_manager(serve::ingress(false), "kubectl-edit");
    wait_for(&log, "the update recorded by the new leader", || {
        let page = get(&follower, "/api/v1/history?kind=Ingress").json();
        (page["items"].as_array()?.len() == 2).then_some(())
    });
    let lease = server
        .lease("tollgate", "tollgate-leader")
        .expect("the Lease");
    assert!(lease["spec"]["holderIdentity"].is_string());
    let _ = follower_child.kill();
    let _ = follower_child.wait();
}
