//! Change history end to end: the real binary watching the fake API server (list and watch over
//! HTTP) into a SQLite store, killed and restarted between changes, pushed through a 410 Gone;
//! then audit events imported and joined to the changes; the chain verified and broken by hand;
//! and drift from a saved baseline.

#[path = "support/fake_apiserver.rs"]
mod fake_apiserver;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use fake_apiserver::FakeApiServer;
use serde_json::{Value, json};
use tempfile::TempDir;

const TOKEN: &str = "history-token";
/// How long the watch may take to record a change before the test fails.
const WAIT: Duration = Duration::from_secs(40);

/// A temporary HOME with a kubeconfig for the fake server and a SQLite store.
struct Desk {
    home: TempDir,
    kubeconfig: PathBuf,
    store: String,
}

impl Desk {
    fn new(server: &str) -> Desk {
        let home = tempfile::tempdir().expect("temporary HOME");
        let kubeconfig = home.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n  - name: fake\n    cluster:\n      \
                 server: {server}\nusers:\n  - name: u\n    user:\n      token: {TOKEN}\n\
                 contexts:\n  - name: fake\n    context:\n      cluster: fake\n      user: u\n\
                 current-context: fake\n"
            ),
        )
        .expect("writing the kubeconfig");
        let store = format!("sqlite://{}", home.path().join("history.db").display());
        // Found in the working folder, as `tollgate.yaml` is.
        std::fs::write(
            home.path().join("tollgate.yaml"),
            "history:\n  cluster: prod-eu\n  gitops:\n    users:\n      - \
             system:serviceaccount:argocd:*\n  sharedIdentities:\n    - kubernetes-admin\n",
        )
        .expect("writing the config");
        Desk {
            home,
            kubeconfig,
            store,
        }
    }

    fn db_path(&self) -> PathBuf {
        self.home.path().join("history.db")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
        command
            .args(args)
            .current_dir(self.home.path())
            .env("HOME", self.home.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("TOLLGATE_STORE", &self.store)
            .env("NO_COLOR", "1")
            .env_remove("TOLLGATE_CONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("HTTPS_PROXY")
            .env_remove("HTTP_PROXY")
            .env_remove("https_proxy")
            .env_remove("http_proxy")
            .stdin(Stdio::null());
        command
    }

    /// Runs a command to completion (bounded by the test harness's own timeout on `WAIT`).
    fn run(&self, args: &[&str]) -> Output {
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting tollgate");
        let started = Instant::now();
        loop {
            if child.try_wait().expect("waiting").is_some() {
                return child.wait_with_output().expect("output");
            }
            if started.elapsed() > WAIT {
                let _ = child.kill();
                panic!("`tollgate {}` did not finish in {WAIT:?}", args.join(" "));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `tollgate watch --cluster` in the background, its messages in a file.
    fn watch(&self, log: &str) -> Child {
        let log = File::create(self.home.path().join(log)).expect("log file");
        self.command(&["watch", "--cluster"])
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("starting tollgate watch")
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.home.path().join(name)).unwrap_or_default()
    }

    /// The history, oldest first.
    fn history(&self) -> Vec<Value> {
        let out = self.run(&["history", "--format", "json", "--limit", "1000"]);
        assert!(
            out.status.success(),
            "history failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let value: Value = serde_json::from_slice(&out.stdout).expect("history JSON");
        let mut events = value["events"].as_array().cloned().unwrap_or_default();
        events.reverse();
        events
    }

    fn ingress_events(&self) -> Vec<Value> {
        self.history()
            .into_iter()
            .filter(|e| e["resource"]["kind"] == "Ingress")
            .collect()
    }

    /// Waits until the Ingress history has `count` events.
    fn wait_for_ingress_events(&self, count: usize, log: &str) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let events = self.ingress_events();
            if events.len() >= count {
                return events;
            }
            assert!(
                started.elapsed() < WAIT,
                "waited {WAIT:?} for {count} Ingress events, have {}: {events:#?}\nwatch log:\n{}",
                events.len(),
                self.log(log)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn service() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    })
}

fn ingress(tls: bool) -> Value {
    let mut ingress = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{"host": "shop.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": "web", "port": {"number": 80}}}}
            ]}}]
        }
    });
    if tls {
        ingress["spec"]["tls"] = json!([{"hosts": ["shop.example.com"], "secretName": "shop-tls"}]);
    }
    ingress
}

/// An HTTPRoute sending `shop.example.com` to the Service `backend` (as `kubectl apply`
/// would create it, attached to a Gateway in `edge`).
fn httproute(backend: &str) -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "parentRefs": [{"name": "eg", "namespace": "edge", "sectionName": "https"}],
            "hostnames": ["shop.example.com"],
            "rules": [{
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "backendRefs": [{"name": backend, "port": 80}]
            }]
        },
        "status": {"parents": [{
            "parentRef": {"name": "eg", "namespace": "edge", "sectionName": "https"},
            "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
            "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted",
                            "message": "Route is accepted", "observedGeneration": 1,
                            "lastTransitionTime": "2026-11-22T09:00:00Z"}]
        }]}
    })
}

/// An audit event for a write to `shop/web`.
fn audit_event(
    id: &str,
    verb: &str,
    user: &str,
    impersonated: Option<&str>,
    code: u16,
    time: &str,
    response_version: Option<&str>,
) -> String {
    let mut event = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": id, "stage": "ResponseComplete",
        "requestURI": "/apis/networking.k8s.io/v1/namespaces/shop/ingresses/web?fieldManager=kubectl-edit",
        "verb": verb,
        "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": ["203.0.113.9"], "userAgent": "kubectl/v1.33.1",
        "objectRef": {"resource": "ingresses", "namespace": "shop", "name": "web",
                      "apiGroup": "networking.k8s.io", "apiVersion": "v1"},
        "responseStatus": {"code": code},
        "requestReceivedTimestamp": time, "stageTimestamp": time
    });
    if let Some(who) = impersonated {
        event["impersonatedUser"] = json!({"username": who, "groups": ["shop-oncall"]});
    }
    if let Some(version) = response_version {
        let mut object = ingress(false);
        object["metadata"]["resourceVersion"] = json!(version);
        event["responseObject"] = object;
    }
    if code >= 400 {
        event["responseStatus"] = json!({"code": code, "status": "Failure", "reason": "Forbidden",
            "message": "ingresses.networking.k8s.io \"web\" is forbidden"});
        let mut attempted = ingress(false);
        attempted["metadata"]["annotations"] = json!({
            "nginx.ingress.kubernetes.io/configuration-snippet": "more_set_headers \"X: y\";"
        });
        event["requestObject"] = attempted;
        event["verb"] = json!("update");
    }
    event.to_string()
}

#[test]
fn watch_records_create_update_delete_across_restarts_and_a_410_then_audit_events_name_the_actors()
{
    let server = FakeApiServer::builder()
        .token(TOKEN)
        .object(service())
        .start();
    let desk = Desk::new(&server.url());

    // First run: the Service already exists; the Ingress is created while the watch runs.
    let watch = desk.watch("watch-1.log");
    let started = Instant::now();
    while !desk
        .history()
        .iter()
        .any(|e| e["resource"]["kind"] == "Service")
    {
        assert!(
            started.elapsed() < WAIT,
            "Service never recorded:\n{}",
            desk.log("watch-1.log")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let created_version = server.create(ingress(true));
    let events = desk.wait_for_ingress_events(1, "watch-1.log");
    assert_eq!(events[0]["action"], "created");
    assert_eq!(events[0]["resource_version"], json!(created_version));
    stop(watch);

    // While nothing watches, TLS is removed. The restarted watch resumes from the stored
    // resourceVersion and records the update, with its diff and its risk.
    let updated_version = server.update_with_manager(ingress(false), "kubectl-edit");
    let watch = desk.watch("watch-2.log");
    let events = desk.wait_for_ingress_events(2, "watch-2.log");
    let update = &events[1];
    assert_eq!(update["action"], "updated");
    assert_eq!(update["resource_version"], json!(updated_version));
    let diff = update["diff"].as_array().expect("a JSON Patch");
    assert!(
        diff.iter()
            .any(|op| op["op"] == "remove" && op["path"] == "/spec/tls"),
        "the diff removes spec.tls: {diff:#?}"
    );
    assert!(
        update["risk"]["introduced"]
            .as_array()
            .is_some_and(|rules| rules.iter().any(|r| r == "tls-missing")),
        "risk names tls-missing: {update:#}"
    );
    assert_eq!(update["actor"]["field_manager"], "kubectl-edit");
    assert_eq!(update["actor"]["attribution"], "managed-fields");
    stop(watch);

    // While nothing watches, the Ingress is deleted and the server forgets old versions: the
    // restarted watch gets 410 Gone, lists again, and records the deletion from the comparison.
    server.delete("Ingress", "shop", "web");
    server.compact();
    let watch = desk.watch("watch-3.log");
    let events = desk.wait_for_ingress_events(3, "watch-3.log");
    assert_eq!(events[2]["action"], "deleted");
    // A quiet moment: nothing more is recorded, nothing is recorded twice.
    std::thread::sleep(Duration::from_millis(1_500));
    stop(watch);
    let history = desk.history();
    // Lists of Ingresses: the first run's initial one and the relist after the 410; the second
    // run resumed without listing.
    let lists = server
        .requests_for("ingresses")
        .iter()
        .filter(|r| r.method == "GET" && !r.is_watch())
        .count();
    assert_eq!(lists, 2, "{:#?}", server.requests_for("ingresses"));
    let ingress_actions: Vec<&str> = history
        .iter()
        .filter(|e| e["resource"]["kind"] == "Ingress")
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ingress_actions, ["created", "updated", "deleted"]);
    assert_eq!(
        history
            .iter()
            .filter(|e| e["resource"]["kind"] == "Service")
            .count(),
        1,
        "the Service was recorded once across three runs"
    );

    // Audit events: the create by alice (joined by time and field manager), the update by bob
    // impersonated by the admin (joined on resourceVersion), and a refused attempt by mallory.
    let create_time = jiff::Timestamp::from_millisecond(
        events[0]["time"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .expect("time")
            .as_millisecond(),
    )
    .expect("time")
    .to_string();
    let lines = [
        audit_event(
            "a-create",
            "create",
            "alice@example.com",
            None,
            201,
            &create_time,
            None,
        ),
        audit_event(
            "a-update",
            "patch",
            "kubernetes-admin",
            Some("bob@example.com"),
            200,
            "2026-11-22T10:00:00Z",
            Some(&updated_version),
        ),
        audit_event(
            "a-denied",
            "update",
            "mallory@example.com",
            None,
            403,
            "2026-11-22T10:05:00Z",
            None,
        ),
    ];
    let audit_file = desk.home.path().join("audit.log");
    std::fs::write(&audit_file, lines.join("\n")).expect("audit log");
    let import = desk.run(&[
        "audit",
        "import",
        audit_file.to_str().expect("path"),
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&import.stdout).unwrap_or_else(|e| {
        panic!(
            "import JSON: {e}\n{}",
            String::from_utf8_lossy(&import.stderr)
        )
    });
    assert_eq!(report["inserted"], 3);
    assert_eq!(report["attempted_changes_recorded"], 1);
    // The refused attempt added a snippet: a risky change, listed, and the exit code says so.
    assert!(
        report["risky_changes"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["user"] == "mallory@example.com"
                && c["risk"]["introduced"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r == "snippet-annotation")))),
        "{report:#}"
    );
    assert_eq!(import.status.code(), Some(1));
    // Importing the same file again stores nothing new and records no second attempt.
    let again = desk.run(&[
        "audit",
        "import",
        audit_file.to_str().expect("path"),
        "--format",
        "json",
    ]);
    let again: Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(again["inserted"], 0);
    assert_eq!(again["duplicates"], 3);
    assert_eq!(again["attempted_changes_recorded"], 0);

    let events = desk.ingress_events();
    assert_eq!(events.len(), 4, "{events:#?}");
    assert_eq!(events[0]["actor"]["user"], "alice@example.com");
    assert_eq!(events[0]["actor"]["attribution"], "audit");
    assert_eq!(events[0]["cluster"], "prod-eu");
    // Not a GitOps identity: the config makes these changes out-of-band.
    assert_eq!(events[0]["out_of_band"], true);
    assert_eq!(events[1]["out_of_band"], true);
    // The deletion nobody can be named for is not marked.
    assert_eq!(events[2]["out_of_band"], false);
    assert_eq!(events[2]["actor"]["attribution"], "unknown");
    assert_eq!(events[1]["actor"]["user"], "bob@example.com");
    assert_eq!(events[1]["actor"]["impersonated_by"], "kubernetes-admin");
    assert_eq!(events[1]["actor"]["matched_by"], "resource-version");
    assert_eq!(events[1]["actor"]["source_ips"], json!(["203.0.113.9"]));
    let denied = events
        .iter()
        .find(|e| e["outcome"] == "denied")
        .expect("the refused attempt is in the history");
    assert_eq!(denied["actor"]["user"], "mallory@example.com");

    // Filters: by actor (the impersonator matches too), risky only.
    let by_bob = desk.run(&["history", "--actor", "bob@example.com", "--format", "json"]);
    let by_bob: Value = serde_json::from_slice(&by_bob.stdout).expect("JSON");
    assert_eq!(by_bob["events"].as_array().map(Vec::len), Some(1));
    let risky = desk.run(&["history", "--risky", "--format", "json"]);
    let risky: Value = serde_json::from_slice(&risky.stdout).expect("JSON");
    assert!(risky["events"].as_array().is_some_and(|e| {
        !e.is_empty()
            && e.iter()
                .all(|e| !e["risk"]["introduced"].as_array().is_none_or(Vec::is_empty))
    }));

    // The version before the update, as an applyable manifest, still has its TLS.
    let created_id = events[0]["id"].as_i64().expect("id").to_string();
    let manifest = desk.run(&["history", "show", &created_id, "--manifest"]);
    assert!(manifest.status.success());
    let text = String::from_utf8_lossy(&manifest.stdout);
    assert!(text.contains("secretName: shop-tls"), "{text}");
    assert!(
        !text.contains("resourceVersion") && !text.contains("managedFields"),
        "{text}"
    );
    // The update, for people: who, risk and a YAML diff.
    let update_id = events[1]["id"].as_i64().expect("id").to_string();
    let shown = desk.run(&["history", "show", &update_id]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    eprintln!("{shown}");
    assert!(
        shown.contains("bob@example.com (impersonated by kubernetes-admin)"),
        "{shown}"
    );
    assert!(shown.contains("tls-missing"), "{shown}");
    assert!(
        shown.contains("-  tls:")
            || shown.contains("-   tls:")
            || shown.contains("- tls")
            || shown
                .lines()
                .any(|l| l.trim_start().starts_with('-') && l.contains("tls:")),
        "{shown}"
    );

    // The chain verifies; a record edited by hand breaks it at that record.
    let verify = desk.run(&["history", "verify"]);
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    tamper(&desk.db_path(), update_id.parse().expect("id"));
    let verify = desk.run(&["history", "verify", "--format", "json"]);
    assert_eq!(verify.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&verify.stdout).expect("JSON");
    assert_eq!(
        report["first_broken"][0],
        json!(update_id.parse::<i64>().expect("id"))
    );
}

#[test]
fn watch_records_gateway_api_changes_and_says_nothing_of_policy_crds_not_installed() {
    // Envoy Gateway's and Istio's CRDs are not installed: the server does not serve them.
    let server = FakeApiServer::builder()
        .token(TOKEN)
        .object(service())
        .unserve("securitypolicies")
        .unserve("backendtrafficpolicies")
        .unserve("authorizationpolicies")
        .unserve("requestauthentications")
        .start();
    let desk = Desk::new(&server.url());
    let watch = desk.watch("watch.log");
    let route_events = |count: usize| {
        let started = Instant::now();
        loop {
            let events: Vec<Value> = desk
                .history()
                .into_iter()
                .filter(|e| e["resource"]["kind"] == "HTTPRoute")
                .collect();
            if events.len() >= count {
                return events;
            }
            assert!(
                started.elapsed() < WAIT,
                "waited {WAIT:?} for {count} HTTPRoute events: {events:#?}\nwatch log:\n{}",
                desk.log("watch.log")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    // The first list of every kind is the baseline; the Service shows it was taken.
    let started = Instant::now();
    while !desk
        .history()
        .iter()
        .any(|e| e["resource"]["kind"] == "Service")
    {
        assert!(
            started.elapsed() < WAIT,
            "Service never recorded:\n{}",
            desk.log("watch.log")
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let created_version = server.create(httproute("web"));
    let events = route_events(1);
    assert_eq!(events[0]["action"], "created");
    assert_eq!(events[0]["resource_version"], json!(created_version));
    assert_eq!(
        events[0]["resource"]["api_version"],
        "gateway.networking.k8s.io/v1"
    );
    assert_eq!(events[0]["resource"]["namespace"], "shop");
    assert_eq!(events[0]["resource"]["name"], "web");

    // Someone points the route at another backend.
    let updated_version = server.update_with_manager(httproute("web-canary"), "kubectl-edit");
    let events = route_events(2);
    assert_eq!(events[1]["action"], "updated");
    assert_eq!(events[1]["resource_version"], json!(updated_version));
    assert_eq!(events[1]["actor"]["field_manager"], "kubectl-edit");
    assert_eq!(
        events[1]["diff"],
        json!([{"op": "replace", "path": "/spec/rules/0/backendRefs/0/name", "value": "web-canary"}])
    );

    server.delete("HTTPRoute", "shop", "web");
    let events = route_events(3);
    assert_eq!(events[2]["action"], "deleted");
    stop(watch);

    // The policy kinds were asked for and, not being installed, left no warning.
    let log = desk.log("watch.log");
    for plural in [
        "securitypolicies",
        "backendtrafficpolicies",
        "authorizationpolicies",
        "requestauthentications",
    ] {
        assert!(
            !server.requests_for(plural).is_empty(),
            "{plural} never listed"
        );
        assert!(!log.contains(plural), "{plural} in the watch log:\n{log}");
    }
    assert!(!log.contains("warning"), "{log}");

    // A baseline of the same cluster holds the Gateway API kinds and misses nothing.
    server.create(httproute("web"));
    let saved = desk.run(&["baseline", "save", "-o", "baseline", "--cluster"]);
    let stderr = String::from_utf8_lossy(&saved.stderr);
    assert!(saved.status.success(), "{stderr}");
    assert!(!stderr.contains("securitypolicies"), "{stderr}");
    let text = std::fs::read_to_string(desk.home.path().join("baseline/shop/httproute-web.yaml"))
        .expect("the HTTPRoute is in the baseline");
    assert!(text.contains("name: web"), "{text}");
    assert!(!text.contains("status"), "{text}");
}

/// Empties one record's diff, the way someone covering their tracks would.
fn tamper(db: &Path, seq: i64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection as _;
        let url = format!("sqlite://{}", db.display());
        let mut connection = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("open db");
        let changed = sqlx::query("UPDATE history SET diff_json = '[]' WHERE seq = ?")
            .bind(seq)
            .execute(&mut connection)
            .await
            .expect("update");
        assert_eq!(changed.rows_affected(), 1);
    });
}

#[test]
fn drift_from_a_saved_baseline_reports_a_hand_added_configuration_snippet() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let manifests = dir.path().join("deploy");
    std::fs::create_dir_all(&manifests).expect("folder");
    let write = |object: &Value| {
        let mut text = String::new();
        for o in [service(), object.clone()] {
            text.push_str(&serde_json::to_string(&o).expect("json"));
            text.push_str("\n---\n");
        }
        std::fs::write(manifests.join("app.yaml"), text).expect("manifest");
    };
    write(&ingress(true));
    let baseline = dir.path().join("baseline");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(args)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env_remove("TOLLGATE_CONFIG")
            .output()
            .expect("run tollgate")
    };
    let saved = run(&["baseline", "save", "-o", "baseline", "deploy"]);
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    let files: Vec<_> = walk(&baseline);
    assert_eq!(files.len(), 2, "one file per object: {files:?}");

    let same = run(&["drift", "--baseline", "baseline", "deploy"]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stdout)
    );

    let mut edited = ingress(true);
    edited["metadata"]["annotations"] = json!({
        "nginx.ingress.kubernetes.io/configuration-snippet": "more_set_headers \"X-Debug: 1\";"
    });
    write(&edited);
    let drift = run(&[
        "drift",
        "--baseline",
        "baseline",
        "deploy",
        "--format",
        "json",
    ]);
    assert_eq!(drift.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&drift.stdout).expect("JSON");
    let changed = report["changed"].as_array().expect("changed");
    assert_eq!(changed.len(), 1, "{report:#}");
    assert_eq!(changed[0]["kind"], "Ingress");
    assert!(
        changed[0]["fields"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["change"] == "added"
                && f["path"]
                    == "/metadata/annotations/nginx.ingress.kubernetes.io~1configuration-snippet")),
        "{report:#}"
    );
    assert!(
        changed[0]["risk"]["introduced"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r == "snippet-annotation")),
        "{report:#}"
    );
    let table = run(&["drift", "--baseline", "baseline", "deploy"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("configuration-snippet"), "{table}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn of_two_watch_replicas_holding_a_lease_only_one_records_and_the_other_takes_over() {
    let server = FakeApiServer::builder()
        .token(TOKEN)
        .object(service())
        .start();
    let desk = Desk::new(&server.url());
    let replica = |identity: &str| {
        let log = File::create(desk.home.path().join(format!("{identity}.log"))).expect("log");
        desk.command(&[
            "watch",
            "--cluster",
            "--lease",
            "tollgate/history",
            "--identity",
            identity,
            "--lease-seconds",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("starting a replica")
    };
    let first = replica("replica-a");
    let started = Instant::now();
    while server.lease("tollgate", "history").is_none() {
        assert!(
            started.elapsed() < WAIT,
            "no Lease taken:\n{}",
            desk.log("replica-a.log")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = replica("replica-b");
    server.create(ingress(true));
    desk.wait_for_ingress_events(1, "replica-a.log");
    // Give the second replica time to (wrongly) record too.
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(desk.ingress_events().len(), 1);
    assert!(
        desk.log("replica-b.log").contains("held by replica-a"),
        "{}",
        desk.log("replica-b.log")
    );
    assert_eq!(
        server.lease("tollgate", "history").expect("lease")["spec"]["holderIdentity"],
        "replica-a"
    );

    // The holder dies; once its Lease lapses the other replica takes over and records the next
    // change exactly once.
    stop(first);
    server.update(ingress(false));
    let events = desk.wait_for_ingress_events(2, "replica-b.log");
    std::thread::sleep(Duration::from_millis(1_000));
    stop(second);
    assert_eq!(desk.ingress_events().len(), 2, "{events:#?}");
    assert_eq!(
        server.lease("tollgate", "history").expect("lease")["spec"]["holderIdentity"],
        "replica-b"
    );
}

#[test]
fn prune_keeps_the_chain_verifiable_with_a_signed_checkpoint() {
    let dir = tempfile::tempdir().expect("temporary folder");
    std::fs::write(
        dir.path().join("tollgate.yaml"),
        "history:\n  checkpointKeyEnv: TEST_CHECKPOINT_KEY\n",
    )
    .expect("config");
    let store = format!("sqlite://{}", dir.path().join("h.db").display());
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/audit/audit.log");
    let run = |args: &[&str], key: &str| {
        Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(args)
            .current_dir(dir.path())
            .env("TOLLGATE_STORE", &store)
            .env("TEST_CHECKPOINT_KEY", key)
            .env_remove("TOLLGATE_CONFIG")
            .output()
            .expect("run tollgate")
    };
    let import = run(&["audit", "import", example.to_str().expect("path")], "k1");
    assert_eq!(import.status.code(), Some(1), "risky changes listed");
    let listed = run(&["history", "--format", "json"], "k1");
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(
        listed["events"].as_array().map(Vec::len),
        Some(1),
        "{listed:#}"
    );

    // The refused attempt of 2026-11-20 is older than zero days: pruned, with a checkpoint.
    let pruned = run(&["history", "prune", "--days", "0"], "k1");
    assert!(
        pruned.status.success(),
        "{}",
        String::from_utf8_lossy(&pruned.stderr)
    );
    assert!(
        String::from_utf8_lossy(&pruned.stdout).contains("Pruned 1 record(s)"),
        "{}",
        String::from_utf8_lossy(&pruned.stdout)
    );
    let verify = run(&["history", "verify", "--format", "json"], "k1");
    assert_eq!(verify.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&verify.stdout).expect("JSON");
    assert_eq!(report["checkpoint"]["signature"], "valid");
    // Under another key the checkpoint is not trusted.
    let forged = run(&["history", "verify"], "k2");
    assert_eq!(forged.status.code(), Some(1));
}

#[test]
fn baseline_of_the_live_cluster_then_drift_after_a_kubectl_edit() {
    let server = FakeApiServer::builder()
        .token(TOKEN)
        .object(service())
        .object(ingress(true))
        .start();
    let desk = Desk::new(&server.url());
    let saved = desk.run(&["baseline", "save", "-o", "baseline", "--cluster"]);
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    let text = std::fs::read_to_string(desk.home.path().join("baseline/shop/ingress-web.yaml"))
        .expect("one file per object");
    assert!(
        !text.contains("resourceVersion") && !text.contains("managedFields"),
        "{text}"
    );

    let same = desk.run(&["drift", "--baseline", "baseline", "--cluster"]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stdout)
    );

    let mut edited = ingress(true);
    edited["metadata"]["annotations"] =
        json!({"nginx.ingress.kubernetes.io/configuration-snippet": "return 200;"});
    server.update_with_manager(edited, "kubectl-edit");
    let drift = desk.run(&["drift", "--baseline", "baseline", "--cluster"]);
    assert_eq!(drift.status.code(), Some(1));
    let text = String::from_utf8_lossy(&drift.stdout);
    assert!(
        text.contains(
            "added    /metadata/annotations/nginx.ingress.kubernetes.io~1configuration-snippet"
        ),
        "{text}"
    );
    assert!(text.contains("snippet-annotation"), "{text}");
}
