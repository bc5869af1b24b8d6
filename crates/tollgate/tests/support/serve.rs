//! The `tollgate serve` scenario the service tests and the browser test share: the real binary
//! against the fake API server, a local webhook receiver for alerts, and the story of issue 8 —
//! someone removes TLS from an Ingress, the audit webhook names them, and a password-guessing burst
//! hits the route right after.
//!
//! HTTP here is a few lines over `TcpStream` (HTTP/1.1, `Connection: close`): the tests need no
//! client library, and what they send is exactly what is written.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use super::fake_apiserver::FakeApiServer;

/// The intake token the scenario's service is started with.
pub const INTAKE_TOKEN: &str = "intake-token-for-the-scenario-0123456789";
const API_TOKEN: &str = "scenario-api-token";
/// How long any step may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(60);

/// A response: status and body.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body as text.
    pub body: String,
}

impl Response {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP/1.1 request to `base` (`http://host:port`).
pub fn http(
    method: &str,
    base: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let authority = base.trim_start_matches("http://");
    let mut stream = match TcpStream::connect(authority) {
        Ok(stream) => stream,
        // Not up yet, or gone: callers poll, or assert on the status.
        Err(error) => {
            return Response {
                status: 0,
                body: error.to_string(),
            };
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .expect("writing the request");
    // A server that refuses a large body early may close before all of it is written.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Response { status, body }
}

fn dechunk(mut text: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = text.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        text = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// GET with no token (reads are open on loopback).
pub fn get(base: &str, path: &str) -> Response {
    http("GET", base, path, &[], b"")
}

/// A POST to the intake with the token.
pub fn post_intake(base: &str, path: &str, content_type: &str, body: &[u8]) -> Response {
    let auth = format!("Bearer {INTAKE_TOKEN}");
    http(
        "POST",
        base,
        path,
        &[("Authorization", &auth), ("Content-Type", content_type)],
        body,
    )
}

/// A local alert receiver: every JSON body POSTed to it, with its path, in arrival order.
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its `/hook` URL.
    pub url: String,
    received: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Receiver {
    /// Starts one on a free loopback port.
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("receiver port");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let url = format!("{base}/hook");
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                let path = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                line.clear();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_ok()
                    && let Ok(value) = serde_json::from_slice(&body)
                {
                    sink.lock().expect("lock").push((path, value));
                }
                let mut stream = reader.into_inner();
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Receiver {
            base,
            url,
            received,
        }
    }

    /// The bodies received at `/hook` so far.
    pub fn received(&self) -> Vec<Value> {
        self.received_at("/hook")
    }

    /// The bodies received at `path` so far.
    pub fn received_at(&self, path: &str) -> Vec<Value> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The running scenario. Dropping it stops the service.
pub struct Scenario {
    /// The service's base URL.
    pub base_url: String,
    /// The fake API server.
    pub server: FakeApiServer,
    /// The alert receiver.
    pub receiver: Receiver,
    /// The risky-change alert (TLS removed by alice).
    pub alert_risky_change_id: String,
    /// The brute-force alert on the route, correlated to that change.
    pub alert_brute_force_id: String,
    /// The history record of the change.
    pub change_id: i64,
    /// The key of the route attacked.
    pub route_key: String,
    /// The audit EventList posted (to post again).
    pub audit_batch: String,
    /// The working folder (config, store, the service's log).
    pub home: TempDir,
    child: Child,
}

impl Drop for Scenario {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Scenario {
    /// The service's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("serve.log")).unwrap_or_default()
    }

    /// Whether the service process still runs.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }
}

/// The Service `shop/storefront`.
pub fn service() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "storefront", "namespace": "shop"},
        "spec": {"selector": {"app": "storefront"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    })
}

/// The Ingress `shop/storefront`, with or without TLS.
pub fn ingress(tls: bool) -> Value {
    let mut ingress = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "storefront", "namespace": "shop"},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": "shop.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": "storefront", "port": {"number": 80}}}}
            ]}}]
        }
    });
    if tls {
        ingress["spec"]["tls"] = json!([{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]);
    }
    ingress
}

/// The audit event of alice's update that removed TLS, answered with `resource_version`.
pub fn audit_event(audit_id: &str, resource_version: &str) -> Value {
    let time = jiff::Timestamp::now().to_string();
    let mut object = ingress(false);
    object["metadata"]["resourceVersion"] = json!(resource_version);
    json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": audit_id, "stage": "ResponseComplete",
        "requestURI": "/apis/networking.k8s.io/v1/namespaces/shop/ingresses/storefront?fieldManager=kubectl-edit",
        "verb": "update",
        "user": {"username": "alice", "groups": ["shop-devs", "system:authenticated"]},
        "sourceIPs": ["203.0.113.7"], "userAgent": "kubectl/v1.33.1",
        "objectRef": {"resource": "ingresses", "namespace": "shop", "name": "storefront",
                      "apiGroup": "networking.k8s.io", "apiVersion": "v1"},
        "responseStatus": {"code": 200},
        "responseObject": object,
        "requestReceivedTimestamp": time, "stageTimestamp": time
    })
}

/// `count` ingress-nginx lines of failed logins to the storefront from one address, now.
pub fn brute_force_lines(count: usize) -> String {
    let now = jiff::Timestamp::now()
        .strftime("%d/%b/%Y:%H:%M:%S +0000")
        .to_string();
    (0..count)
        .map(|i| {
            format!(
                "198.51.100.23 - - [{now}] \"POST /login HTTP/1.1\" 401 52 \"-\" \"python-requests/2.32.3\" 310 0.004 [shop-storefront-80] [] 10.244.1.20:8080 52 0.004 401 {i:032x}\n"
            )
        })
        .collect()
}

/// Polls `check` until it returns something, or fails with `what` and the service log.
pub fn wait_for<T>(
    scenario_log: &dyn Fn() -> String,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            started.elapsed() < WAIT,
            "waited {WAIT:?} for {what}\nservice log:\n{}",
            scenario_log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Starts the service on a free port with `extra` appended under `serve:`, storing into
/// `home/tollgate.db` unless `store` names another store.
pub fn start_service(
    home: &TempDir,
    server: &FakeApiServer,
    receiver: &Receiver,
    extra: &str,
    store: Option<&str>,
) -> (Child, String) {
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n  - name: fake\n    cluster:\n      \
             server: {}\nusers:\n  - name: u\n    user:\n      token: {API_TOKEN}\n\
             contexts:\n  - name: fake\n    context:\n      cluster: fake\n      user: u\n\
             current-context: fake\n",
            server.url()
        ),
    )
    .expect("kubeconfig");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    std::fs::write(
        home.path().join("tollgate.yaml"),
        format!(
            "history:\n  cluster: prod-eu\n  configMaps: []\nserve:\n  listen: 127.0.0.1:{port}\n  \
             publicUrl: https://tollgate.example.com\n  limits:\n    logBodyBytes: 262144\n    \
             auditBodyBytes: 262144\n  alerts:\n    attributionWaitSeconds: 45\n    maxAttempts: 2\n    \
             sinks:\n      - type: webhook\n        name: hook\n        url: {url}\n      \
             - type: slack\n        url: {base}/slack\n        triggers: [risky-change]\n      \
             - type: alertmanager\n        url: {base}\n        triggers: [access]\n      \
             - type: webhook\n        name: broken\n        url: http://127.0.0.1:9/nowhere\n        \
             triggers: [risky-change]\n  reports:\n    - framework: pci-dss\n{extra}",
            url = receiver.url,
            base = receiver.base,
        ),
    )
    .expect("config");
    let log = std::fs::File::create(home.path().join("serve.log")).expect("log");
    let store = store.map_or_else(
        || format!("sqlite://{}", home.path().join("tollgate.db").display()),
        str::to_owned,
    );
    let child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["serve"])
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("KUBECONFIG", &kubeconfig)
        .env("TOLLGATE_STORE", &store)
        .env("TOLLGATE_INTAKE_TOKEN", INTAKE_TOKEN)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "tollgate=info")
        .env_remove("TOLLGATE_READ_TOKEN")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("http_proxy")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("starting tollgate serve");
    (child, base)
}

/// Runs the whole story and returns when both alerts are stored.
pub fn scenario() -> Scenario {
    let server = FakeApiServer::builder()
        .token(API_TOKEN)
        .object(service())
        .object(ingress(true))
        .start();
    let receiver = Receiver::start();
    let home = tempfile::tempdir().expect("temporary folder");
    let (child, base_url) = start_service(&home, &server, &receiver, "", None);
    let log_path: PathBuf = home.path().join("serve.log");
    let log = move || std::fs::read_to_string(&log_path).unwrap_or_default();

    // Up, scanned, and the watch has recorded the Ingress as it is.
    wait_for(&log, "the first scan", || {
        let status = get(&base_url, "/api/v1/status");
        (status.status == 200 && !status.json()["last_scan"].is_null()).then_some(())
    });
    wait_for(&log, "the Ingress recorded", || {
        let page = get(&base_url, "/api/v1/history?kind=Ingress");
        (page.status == 200 && page.json()["items"].as_array()?.len() == 1).then_some(())
    });

    // alice removes TLS.
    let version = server.update_with_manager(ingress(false), "kubectl-edit");
    let change_id = wait_for(&log, "the update recorded", || {
        let page = get(&base_url, "/api/v1/history?kind=Ingress").json();
        let items = page["items"].as_array()?.clone();
        items
            .iter()
            .find(|e| e["action"] == "updated")
            .and_then(|e| e["id"].as_i64())
    });
    // The API server's webhook delivers the event naming her.
    let events = json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1",
                        "items": [audit_event("5d1f2b8e-0000-4000-8000-000000000001", &version)]});
    let audit_batch = events.to_string();
    let answer = post_intake(
        &base_url,
        "/api/v1/audit/events",
        "application/json",
        audit_batch.as_bytes(),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let alert_risky_change_id = wait_for(&log, "the risky-change alert", || {
        let page = get(&base_url, "/api/v1/alerts?trigger=risky-change").json();
        page["items"].as_array()?.first()?["id"]
            .as_str()
            .map(str::to_owned)
    });

    // Right after, a burst of failed logins on the route.
    let answer = post_intake(
        &base_url,
        "/api/v1/logs?format=ingress-nginx",
        "text/plain",
        brute_force_lines(60).as_bytes(),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let (alert_brute_force_id, route_key) = wait_for(&log, "the brute-force alert", || {
        let page = get(&base_url, "/api/v1/alerts?trigger=access").json();
        let alert = page["items"]
            .as_array()?
            .iter()
            .find(|a| a["body"]["detector"] == "brute-force")?
            .clone();
        Some((
            alert["id"].as_str()?.to_owned(),
            alert["route"].as_str()?.to_owned(),
        ))
    });
    Scenario {
        base_url,
        server,
        receiver,
        alert_risky_change_id,
        alert_brute_force_id,
        change_id,
        route_key,
        audit_batch,
        home,
        child,
    }
}
