//! The service scenario the dashboard's browser test drives: `tollgate serve` over a small
//! manifest folder (Ingress `shop/storefront`, now without TLS), with a history in which `alice`
//! removed the Ingress's `tls` minutes ago, the risky-change alert that change raised, and a
//! brute-force burst of 401s posted to the log intake, which the service's detector turns into an
//! alert correlated with alice's change.
//!
//! Without a cluster there is no watch, so the two history records and the risky-change alert
//! are written to the store before the service starts, in the shapes the service writes them;
//! the brute-force alert is raised by the service itself from the posted lines.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;
use tollgate_store::{
    Action, Actor, Attribution, NewAlert, NewRecord, Outcome, Raised, ResourceRef, Risk, Store,
};

/// The intake token the scenario's service is started with.
const INTAKE_TOKEN: &str = "scenario-intake-token-0123456789";
/// The cluster everything is recorded under.
const CLUSTER: &str = "prod";
/// How long the service may take to start, scan, and raise the brute-force alert.
const WAIT: Duration = Duration::from_secs(60);

/// A running scenario. Dropping it stops the service and removes its files.
pub struct Scenario {
    /// Where the service listens (`http://127.0.0.1:PORT`, no trailing slash).
    pub base_url: String,
    /// The brute-force alert on the route of `shop/storefront`, correlated to the change.
    pub alert_brute_force_id: String,
    /// The risky-change alert on `shop/storefront`.
    pub alert_risky_change_id: String,
    /// The history record of alice's change (TLS removed).
    pub change_id: i64,
    /// The route key of `shop.example.com/` served by `shop/storefront`.
    pub route_key: String,
    /// Keeps the service running and its files in place.
    _server: Server,
}

struct Server {
    child: Child,
    log: Arc<Mutex<String>>,
    _home: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A failing test is easier to read with what the service said.
        if std::thread::panicking()
            && let Ok(log) = self.log.lock()
        {
            eprintln!("--- tollgate serve ---\n{log}");
        }
    }
}

const MANIFESTS: &str = r"apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: k8s.io/ingress-nginx
---
apiVersion: v1
kind: Service
metadata:
  name: storefront
  namespace: shop
spec:
  selector:
    app: storefront
  ports:
    - name: http
      port: 80
      targetPort: 8080
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: storefront
  namespace: shop
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: storefront
                port:
                  number: 80
";

/// The Ingress as it was created (with TLS) and as alice left it.
fn ingress(with_tls: bool) -> Value {
    let mut object = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "storefront", "namespace": "shop"},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": "shop.example.com", "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "storefront", "port": {"number": 80}}}
            }]}}]
        }
    });
    if with_tls {
        object["spec"]["tls"] = json!([{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]);
    }
    object
}

fn resource() -> ResourceRef {
    ResourceRef {
        api_version: "networking.k8s.io/v1".to_owned(),
        kind: "Ingress".to_owned(),
        namespace: "shop".to_owned(),
        name: "storefront".to_owned(),
        uid: "5f0c2a8e-storefront".to_owned(),
    }
}

fn time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Writes the history and the risky-change alert; returns (change id, alert id).
async fn seed(store_url: &str, now_ms: i64) -> (i64, String) {
    let store = Store::connect(store_url).await.expect("creating the store");
    let created = ingress(true);
    let updated = ingress(false);
    store
        .append(NewRecord {
            cluster: CLUSTER.to_owned(),
            time_ms: now_ms - 40 * 60_000,
            action: Action::Created,
            resource: resource(),
            resource_version: "1001".to_owned(),
            object: Some(created.clone()),
            diff: json!([{"op": "add", "path": "", "value": created}]),
            actor: Actor {
                user: Some("system:serviceaccount:argocd:argocd-application-controller".to_owned()),
                groups: vec!["system:serviceaccounts".to_owned()],
                source_ips: vec!["10.0.3.9".to_owned()],
                user_agent: Some("argocd-application-controller/v2.13".to_owned()),
                field_manager: Some("argocd-controller".to_owned()),
                audit_id: Some("7c1e7d1a-0001-4c4e-9b7e-2f4f6a1c0001".to_owned()),
                attribution: Attribution::Audit,
                matched_by: Some("resource-version".to_owned()),
                ..Actor::default()
            },
            risk: Risk::default(),
            outcome: Outcome::Applied,
            out_of_band: false,
        })
        .await
        .expect("recording the creation");
    let alice = Actor {
        user: Some("alice".to_owned()),
        groups: vec!["shop-devs".to_owned(), "system:authenticated".to_owned()],
        source_ips: vec!["203.0.113.7".to_owned()],
        user_agent: Some("kubectl/v1.33.1 (linux/amd64)".to_owned()),
        field_manager: Some("kubectl-edit".to_owned()),
        audit_id: Some("7c1e7d1a-0002-4c4e-9b7e-2f4f6a1c0002".to_owned()),
        attribution: Attribution::Audit,
        matched_by: Some("resource-version".to_owned()),
        ..Actor::default()
    };
    let change_ms = now_ms - 2 * 60_000;
    let risk = Risk {
        introduced: vec!["tls-missing".to_owned()],
        fixed: Vec::new(),
    };
    let record = store
        .append(NewRecord {
            cluster: CLUSTER.to_owned(),
            time_ms: change_ms,
            action: Action::Updated,
            resource: resource(),
            resource_version: "1042".to_owned(),
            object: Some(updated.clone()),
            diff: json!([{"op": "remove", "path": "/spec/tls"}]),
            actor: alice.clone(),
            risk: risk.clone(),
            outcome: Outcome::Applied,
            out_of_band: true,
        })
        .await
        .expect("recording alice's change");

    // The alert as `serve::changes` raises it for a risky change.
    let yaml_diff = tollgate_core::change::yaml_diff(Some(&ingress(true)), Some(&updated), 3);
    let who = "alice from 203.0.113.7";
    let summary = json!({
        "id": record.seq,
        "time": time(change_ms),
        "action": "updated",
        "resource": resource(),
        "actor": alice,
        "who": who,
        "out_of_band": true,
        "risk": risk,
        "diff": [{"op": "remove", "path": "/spec/tls"}],
        "yaml_diff": yaml_diff,
    });
    let alert = NewAlert {
        cluster: CLUSTER.to_owned(),
        dedup_key: "risky-change|Ingress|shop|storefront|1042".to_owned(),
        trigger: "risky-change".to_owned(),
        severity: "high".to_owned(),
        title: format!("Ingress shop/storefront: tls-missing introduced by {who}"),
        route: String::new(),
        namespace: "shop".to_owned(),
        name: "storefront".to_owned(),
        change_seq: Some(record.seq),
        body: json!({
            "what": format!("{who} changed Ingress shop/storefront; it now violates tls-missing"),
            "who": {"summary": who, "actor": summary["actor"], "out_of_band": true},
            "where": {"summary": "Ingress shop/storefront", "kind": "Ingress",
                      "namespace": "shop", "name": "storefront"},
            "risk": summary["risk"],
            "yaml_diff": summary["yaml_diff"],
            "change": summary,
        }),
    };
    let raised = store
        .raise_alert(
            &alert,
            change_ms + 15_000,
            3_600_000,
            &["ops-webhook".to_owned()],
        )
        .await
        .expect("raising the risky-change alert");
    let Raised::New(stored) = raised else {
        panic!("the risky-change alert was counted as a repeat");
    };
    // Its delivery gave up, as it does when the receiver keeps failing.
    store
        .set_delivery(
            &stored.id,
            "ops-webhook",
            "failed",
            5,
            "HTTP 503 Service Unavailable",
            change_ms + 75_000,
        )
        .await
        .expect("recording the failed delivery");
    store.close().await;
    (record.seq, stored.id)
}

/// Starts the service and returns it with its base URL, once it answers `/readyz`.
async fn start(home: &Path, store_url: &str) -> (Child, Arc<Mutex<String>>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args([
            "serve",
            "manifests",
            "--no-cluster",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--cluster-name", CLUSTER, "--store", store_url])
        .args(["--config", "tollgate.yaml"])
        .current_dir(home)
        .env("TOLLGATE_INTAKE_TOKEN", INTAKE_TOKEN)
        .env_remove("TOLLGATE_READ_TOKEN")
        .env_remove("TOLLGATE_STORE")
        .env_remove("TOLLGATE_CONFIG")
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting tollgate serve");
    let log = Arc::new(Mutex::new(String::new()));
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().expect("the service's stderr");
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("serving on http://").nth(1)
                && let Some(address) = rest.split_whitespace().next()
            {
                let _ = address_tx.send(address.to_owned());
            }
            if let Ok(mut log) = sink.lock() {
                log.push_str(&line);
                log.push('\n');
            }
        }
    });
    let Ok(address) = address_rx.recv_timeout(WAIT) else {
        let _ = child.kill();
        panic!(
            "tollgate serve did not start:\n{}",
            log.lock().map(|l| l.clone()).unwrap_or_default()
        );
    };
    let base_url = format!("http://{address}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + WAIT;
    loop {
        let ready = client
            .get(format!("{base_url}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        assert!(Instant::now() < deadline, "the service never became ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (child, log, base_url)
}

/// Eight failed logins from one address in ingress-nginx's log format, a second apart, ending
/// now, sent to the Ingress's Service (`[shop-storefront-80]`).
fn brute_force_lines(now_ms: i64) -> String {
    let mut lines = String::new();
    for i in 0..8i64 {
        let at = jiff::Timestamp::from_millisecond(now_ms - (8 - i) * 1_000)
            .expect("a valid time")
            .to_zoned(jiff::tz::TimeZone::UTC);
        lines.push_str(&format!(
            "198.51.100.23 - - [{}] \"POST /login HTTP/1.1\" 401 512 \"-\" \"python-requests/2.32\" \
             310 0.004 [shop-storefront-80] [] 10.244.1.5:8080 512 0.004 401 {:032x}\n",
            at.strftime("%d/%b/%Y:%H:%M:%S %z"),
            i + 1
        ));
    }
    lines
}

/// Starts the scenario; panics (failing the test) when a step does not happen.
pub async fn scenario() -> Scenario {
    // reqwest is built without a default crypto provider (the binary installs ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let home = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir(home.path().join("manifests")).expect("the manifest folder");
    std::fs::write(home.path().join("manifests/shop.yaml"), MANIFESTS).expect("the manifests");
    // Nothing listens on the discard port: every delivery fails, visibly.
    std::fs::write(
        home.path().join("tollgate.yaml"),
        "serve:\n  alerts:\n    maxAttempts: 2\n    sinks:\n      - name: ops-webhook\n        \
         type: webhook\n        url: http://127.0.0.1:9/hook\n        timeoutSeconds: 2\n",
    )
    .expect("the config");
    let store_url = format!("sqlite://{}", home.path().join("tollgate.db").display());
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let (change_id, alert_risky_change_id) = seed(&store_url, now_ms).await;
    let (child, log, base_url) = start(home.path(), &store_url).await;
    let server = Server {
        child,
        log,
        _home: home,
    };

    let client = reqwest::Client::new();
    let posted = client
        .post(format!("{base_url}/api/v1/logs?format=nginx"))
        .bearer_auth(INTAKE_TOKEN)
        .body(brute_force_lines(jiff::Timestamp::now().as_millisecond()))
        .send()
        .await
        .expect("posting the log lines");
    assert!(
        posted.status().is_success(),
        "the log intake refused the lines: {}",
        posted.status()
    );

    let route_key = "shop/storefront|shop.example.com|/".to_owned();
    let deadline = Instant::now() + WAIT;
    let alert_brute_force_id = loop {
        let alerts: Value = client
            .get(format!("{base_url}/api/v1/alerts?trigger=access"))
            .send()
            .await
            .expect("listing alerts")
            .json()
            .await
            .expect("alerts as JSON");
        let found = alerts["items"].as_array().and_then(|items| {
            items
                .iter()
                .find(|a| a.pointer("/body/detector") == Some(&json!("brute-force")))
        });
        if let Some(alert) = found {
            assert_eq!(alert["route"], json!(route_key), "{alert:#}");
            assert_eq!(
                alert.pointer("/body/correlated_change/id"),
                Some(&json!(change_id)),
                "the brute-force alert is not correlated with alice's change: {alert:#}"
            );
            break alert["id"].as_str().unwrap_or_default().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no brute-force alert was raised; service log:\n{}",
            server.log.lock().map(|l| l.clone()).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };

    Scenario {
        base_url,
        alert_brute_force_id,
        alert_risky_change_id,
        change_id,
        route_key,
        _server: server,
    }
}
