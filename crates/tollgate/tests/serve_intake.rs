//! The audit intake of `tollgate serve`, through the real process on loopback: more concurrent
//! EventLists than the judge may hold at once are all stored and acknowledged (the bound on
//! batches waiting to be judged makes requests wait, never hang), a redelivered batch is counted
//! as duplicates, and a post without the intake token is refused.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// The service, stopped when dropped.
struct Service {
    child: Child,
    address: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Service {
    let dir = tempfile::tempdir().unwrap();
    // A free port: the listener is dropped just before the service binds it.
    let address = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/shop");
    let store = format!("sqlite://{}", dir.path().join("serve.db").display());
    let child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["serve", examples, "--listen", &address.to_string()])
        .args(["--store", &store])
        .env("TOLLGATE_INTAKE_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let service = Service {
        child,
        address,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while request(address, "GET", "/readyz", None, "").0 != 200 {
        assert!(Instant::now() < deadline, "the service did not get ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    service
}

/// One HTTP/1.1 request on its own connection: (status, body). Status 0 when the service is
/// not answering yet.
fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(address) else {
        return (0, String::new());
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let authorization = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{authorization}Content-Type: \
         application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if stream.write_all(head.as_bytes()).is_err() || stream.write_all(body.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut answer = String::new();
    if stream.read_to_string(&mut answer).is_err() {
        return (0, String::new());
    }
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// An `EventList` of `count` Ingress patches with auditIDs `{prefix}-{n}`.
fn event_list(prefix: &str, count: usize) -> String {
    let items: Vec<String> = (0..count)
        .map(|n| {
            format!(
                r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"{prefix}-{n}","stage":"ResponseComplete","requestURI":"/apis/networking.k8s.io/v1/namespaces/storefront/ingresses/web-{n}?fieldManager=kubectl-edit","verb":"patch","user":{{"username":"alice@example.com","groups":["system:authenticated"]}},"sourceIPs":["203.0.113.7"],"userAgent":"kubectl/v1.33.1","objectRef":{{"resource":"ingresses","namespace":"storefront","name":"web-{n}","apiGroup":"networking.k8s.io","apiVersion":"v1"}},"responseStatus":{{"code":200}},"responseObject":{{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{{"name":"web-{n}","namespace":"storefront","resourceVersion":"{}"}},"spec":{{"ingressClassName":"nginx","rules":[{{"host":"web-{n}.shop.example.com","http":{{"paths":[{{"path":"/","pathType":"Prefix","backend":{{"service":{{"name":"web","port":{{"number":80}}}}}}}}]}}}}]}}}},"requestReceivedTimestamp":"2026-11-22T10:00:00.000000Z","stageTimestamp":"2026-11-22T10:00:00.010000Z"}}"#,
                100_000 + n
            )
        })
        .collect();
    format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{}]}}"#,
        items.join(",")
    )
}

fn stored_audit_events(address: SocketAddr) -> u64 {
    let (status, body) = request(address, "GET", "/api/v1/status", None, "");
    assert_eq!(status, 200, "{body}");
    let status: Value = serde_json::from_str(&body).unwrap();
    status["store"]["audit_events"].as_u64().unwrap()
}

#[test]
fn concurrent_audit_batches_are_all_stored_and_acknowledged() {
    let service = start();
    let address = service.address;
    assert_eq!(stored_audit_events(address), 0);

    // Three times as many batches at once as may wait to be judged.
    let posts: Vec<_> = (0..24)
        .map(|batch| {
            std::thread::spawn(move || {
                let body = event_list(&format!("batch-{batch}"), 25);
                request(address, "POST", "/api/v1/audit/events", Some(TOKEN), &body)
            })
        })
        .collect();
    for post in posts {
        let (status, body) = post.join().unwrap();
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["inserted"], 25, "{body}");
        assert_eq!(answer["duplicates"], 0, "{body}");
    }
    assert_eq!(stored_audit_events(address), 600);

    // A redelivery stores nothing new.
    let (status, body) = request(
        address,
        "POST",
        "/api/v1/audit/events",
        Some(TOKEN),
        &event_list("batch-3", 25),
    );
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (answer["inserted"].as_u64(), answer["duplicates"].as_u64()),
        (Some(0), Some(25))
    );
    assert_eq!(stored_audit_events(address), 600);

    // Without the token, or with another one, nothing is stored.
    for token in [None, Some("fedcba9876543210fedcba9876543210")] {
        let (status, _) = request(
            address,
            "POST",
            "/api/v1/audit/events",
            token,
            &event_list("intruder", 5),
        );
        assert_eq!(status, 401);
    }
    assert_eq!(stored_audit_events(address), 600);
}
