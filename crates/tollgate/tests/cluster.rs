//! `--cluster` end to end: the real binary, a kubeconfig in a temporary HOME, and an in-process
//! fake API server that speaks the list protocol (see `support/fake_apiserver.rs`). The objects it
//! serves are the fixture manifests in `tests/fixtures/cluster/`, so a cluster scan can be held
//! against a file scan of the very same objects.

#[path = "support/fake_apiserver.rs"]
mod fake_apiserver;

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_apiserver::{Builder, FakeApiServer};
use serde_json::{Value, json};
use tempfile::TempDir;
use tollgate_core::object::Kind;

/// The bearer token the kubeconfig's user presents.
const TOKEN: &str = "test-token";
/// `tls.key` of the Secret `shop/shop-tls`, as stored (base64) ...
const KEY_BASE64: &str = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tClRPTExHQVRFLUZJWFRVUkUtS0VZLVpxOHZXM3hLLU5PVC1BLVJFQUwtS0VZCi0tLS0tRU5EIFBSSVZBVEUgS0VZLS0tLS0K";
/// ... and the distinctive line of its decoded text.
const KEY_TEXT: &str = "TOLLGATE-FIXTURE-KEY-Zq8vW3xK-NOT-A-REAL-KEY";
/// No run may take longer than this; a hung client fails the test instead of the CI job.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster")
}

/// A fake API server serving the fixture objects to holders of [`TOKEN`].
fn fixture_cluster() -> Builder {
    FakeApiServer::builder()
        .token(TOKEN)
        .objects_from_dir(&fixtures())
}

/// A temporary HOME with a kubeconfig whose current context points at `server`.
struct Workstation {
    home: TempDir,
    kubeconfig: PathBuf,
}

impl Workstation {
    fn new(server: &str) -> Workstation {
        let home = tempfile::tempdir().expect("temporary HOME");
        let kubeconfig = home.path().join("kubeconfig");
        let text = format!(
            "apiVersion: v1
kind: Config
preferences: {{}}
clusters:
  - name: fake
    cluster:
      server: {server}
users:
  - name: scanner
    user:
      token: {TOKEN}
contexts:
  - name: fake
    context:
      cluster: fake
      user: scanner
      namespace: default
current-context: fake
"
        );
        std::fs::write(&kubeconfig, text).expect("writing the kubeconfig");
        Workstation { home, kubeconfig }
    }

    /// Runs `tollgate ARGS` with only this workstation's kubeconfig in reach.
    fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
        command
            .args(args)
            .current_dir(self.home.path())
            .env("HOME", self.home.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in [
            "KUBERNETES_SERVICE_HOST",
            "KUBERNETES_SERVICE_PORT",
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
            "KUBE_RS_DEBUG_IMPERSONATE_USER",
            "KUBE_RS_DEBUG_IMPERSONATE_GROUP",
            "KUBE_RS_DEBUG_OVERRIDE_URL",
            "TOLLGATE_CONFIG",
            "RUST_LOG",
            "TOLLGATE_LOG",
        ] {
            command.env_remove(var);
        }
        run_bounded(command, args)
    }
}

/// What one run of the binary did.
struct Run {
    args: String,
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`tollgate {}` did not print JSON ({e}):\n{}\nstderr:\n{}",
                self.args, self.stdout, self.stderr
            )
        })
    }
}

fn run_bounded(mut command: Command, args: &[&str]) -> Run {
    let started = Instant::now();
    let mut child = command.spawn().expect("starting tollgate");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    // Read both pipes while waiting, so a large report cannot block the child.
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).map(|_| s)
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).map(|_| s)
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for tollgate") {
            break status;
        }
        if started.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`tollgate {}` ran longer than {RUN_TIMEOUT:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        args: args.join(" "),
        code: status
            .code()
            .expect("tollgate exited, not killed by a signal"),
        stdout: out.join().expect("stdout reader").expect("UTF-8 stdout"),
        stderr: err.join().expect("stderr reader").expect("UTF-8 stderr"),
        elapsed: started.elapsed(),
    }
}

/// A scan of the fixture files, the reference a cluster scan is held against.
fn file_scan(extra: &[&str]) -> Run {
    let dir = fixtures();
    let dir = dir.to_str().expect("UTF-8 path");
    let mut args = vec!["scan", dir, "--format", "json"];
    args.extend_from_slice(extra);
    // No server is involved; the kubeconfig only keeps the run hermetic.
    Workstation::new("http://127.0.0.1:9").run(&args)
}

/// A finding as both inputs must agree on it: rule, resource, pointer and message.
type FindingKey = (String, String, String, String);

fn finding_keys(report: &Value) -> Vec<FindingKey> {
    let mut keys: Vec<FindingKey> = findings(report)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_owned(),
                f["resource"].to_string(),
                f["path"].as_str().expect("path").to_owned(),
                f["message"].as_str().expect("message").to_owned(),
            )
        })
        .collect();
    keys.sort();
    keys
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings array")
}

/// The plural a request listed, mapped back to the kind.
fn kind_of_plural(plural: &str) -> Kind {
    Kind::ALL
        .into_iter()
        .find(|k| k.api_path().plural == plural)
        .unwrap_or_else(|| panic!("request for an unknown resource `{plural}`"))
}

#[test]
fn cluster_scan_matches_file_scan() {
    let fake = fixture_cluster().start();
    let ws = Workstation::new(&fake.url());

    let cluster = ws.run(&[
        "scan",
        "--cluster",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let files = file_scan(&["--fail-on", "never"]);

    assert_eq!(
        cluster.code, files.code,
        "cluster stderr:\n{}",
        cluster.stderr
    );
    assert_eq!(cluster.code, 0, "cluster stderr:\n{}", cluster.stderr);
    let (cluster_report, file_report) = (cluster.json(), files.json());
    assert_eq!(cluster_report["errors"], json!([]), "{}", cluster.stdout);
    assert_eq!(cluster_report["warnings"], json!([]), "{}", cluster.stdout);
    let keys = finding_keys(&cluster_report);
    assert_eq!(keys, finding_keys(&file_report));
    let rules: BTreeSet<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    assert!(
        keys.len() >= 6 && rules.len() >= 4,
        "too few findings to compare: {keys:#?}"
    );
    for field in ["objects", "ingresses", "findings"] {
        assert_eq!(
            cluster_report["summary"][field], file_report["summary"][field],
            "summary.{field}"
        );
    }
    for f in findings(&cluster_report) {
        for field in ["file", "line", "column"] {
            assert!(f.get(field).is_none(), "cluster finding has `{field}`: {f}");
        }
    }
    for f in findings(&file_report) {
        assert!(
            f["file"].as_str().is_some_and(|p| p.ends_with(".yaml")),
            "{f}"
        );
        assert!(f["line"].as_u64().is_some_and(|l| l > 0), "{f}");
        assert!(f["column"].as_u64().is_some_and(|c| c > 0), "{f}");
    }

    // Under the default --fail-on (high) both inputs fail the same way.
    let cluster = ws.run(&["scan", "--cluster", "--format", "json"]);
    let files = file_scan(&[]);
    assert_eq!(
        (cluster.code, files.code),
        (1, 1),
        "cluster stderr:\n{}",
        cluster.stderr
    );
}

#[test]
fn every_request_carries_the_kubeconfig_token_and_a_page_limit() {
    let fake = fixture_cluster().start();
    let ws = Workstation::new(&fake.url());

    let run = ws.run(&[
        "scan",
        "--cluster",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    let requests = fake.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(r.method, "GET", "{r:?}");
        assert_eq!(
            r.authorization.as_deref(),
            Some("Bearer test-token"),
            "{r:?}"
        );
        assert_eq!(r.query("limit"), Some("500"), "{r:?}");
    }
    let listed: BTreeSet<&str> = requests.iter().map(|r| r.plural()).collect();
    let expected: BTreeSet<&str> = Kind::ALL.iter().map(|k| k.api_path().plural).collect();
    assert_eq!(listed, expected);
    assert_eq!(
        requests.len(),
        Kind::ALL.len(),
        "one page per kind: {requests:#?}"
    );
}

#[test]
fn forbidden_kind_degrades_to_a_warning() {
    let fake = fixture_cluster().forbid("secrets").start();
    let ws = Workstation::new(&fake.url());

    let run = ws.run(&[
        "scan",
        "--cluster",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);

    assert_ne!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    let warnings = report["warnings"].as_array().expect("warnings array");
    assert!(
        warnings.iter().any(|w| {
            let m = w["message"].as_str().unwrap_or_default();
            m.contains("secrets") && m.contains("403")
        }),
        "no warning names secrets: {warnings:#?}"
    );
    let skipped = report["skipped"].as_array().expect("skipped array");
    let skip = skipped
        .iter()
        .find(|s| s["rule"] == "tls-secret-missing")
        .unwrap_or_else(|| panic!("tls-secret-missing not skipped: {skipped:#?}"));
    assert!(
        skip["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("forbidden"),
        "{skip}"
    );

    // Everything else is judged as usual.
    let expected: Vec<FindingKey> = finding_keys(&file_scan(&["--fail-on", "never"]).json())
        .into_iter()
        .filter(|k| k.0 != "tls-secret-missing")
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(finding_keys(&report), expected);

    // The remaining findings still fail the run; a denied kind alone does not make it an error.
    let run = ws.run(&["scan", "--cluster", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[test]
fn pagination_is_followed() {
    let fake = fixture_cluster().page_size(2).start();
    let ws = Workstation::new(&fake.url());

    let run = ws.run(&[
        "scan",
        "--cluster",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    let served: usize = Kind::ALL
        .iter()
        .map(|k| fake.stored(k.api_path().plural).len())
        .sum();
    assert_eq!(report["summary"]["objects"], served);
    assert_eq!(report["summary"]["documents"], served);
    assert_eq!(
        report["summary"]["ingresses"],
        fake.stored("ingresses").len()
    );
    assert_eq!(
        finding_keys(&report),
        finding_keys(&file_scan(&["--fail-on", "never"]).json())
    );
    for kind in Kind::ALL {
        let plural = kind.api_path().plural;
        let requests = fake.requests_for(plural);
        let pages = fake.stored(plural).len().div_ceil(2).max(1);
        assert_eq!(requests.len(), pages, "pages of {plural}: {requests:#?}");
        let continued = requests
            .iter()
            .filter(|r| r.query("continue").is_some())
            .count();
        assert_eq!(continued, pages - 1, "{plural}: {requests:#?}");
    }
    assert!(
        fake.stored("ingresses").len() > 2,
        "the fixture must need several pages"
    );
}

#[test]
fn large_lists_are_read_in_pages_of_500() {
    const BULK: usize = 1001;
    let mut builder = FakeApiServer::builder().token(TOKEN);
    for i in 0..BULK {
        builder = builder.object(json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": format!("app-{i:04}"), "namespace": "bulk"},
            "spec": {
                "ingressClassName": "nginx",
                "rules": [{
                    "host": format!("app-{i:04}.bulk.example.com"),
                    "http": {"paths": [{
                        "path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": "app", "port": {"number": 80}}},
                    }]},
                }],
            },
        }));
    }
    let fake = builder.start();
    let ws = Workstation::new(&fake.url());

    let run = ws.run(&[
        "scan",
        "--cluster",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["summary"]["ingresses"], BULK);
    let requests = fake.requests_for("ingresses");
    assert_eq!(requests.len(), 3, "{requests:#?}");
    assert!(requests.iter().all(|r| r.query("limit") == Some("500")));
    assert!(requests[0].query("continue").is_none());
    assert!(requests[1..].iter().all(|r| r.query("continue").is_some()));
}

#[test]
fn namespace_flag_lists_only_that_namespace() {
    let fake = fixture_cluster().start();
    let ws = Workstation::new(&fake.url());

    let run = ws.run(&[
        "scan",
        "--cluster",
        "-n",
        "shop",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    let requests = fake.requests();
    assert_eq!(requests.len(), Kind::ALL.len(), "{requests:#?}");
    for r in &requests {
        let kind = kind_of_plural(r.plural());
        if kind.namespaced() {
            assert_eq!(
                r.namespace(),
                Some("shop"),
                "{kind} listed beyond shop: {r:?}"
            );
        } else {
            assert_eq!(r.namespace(), None, "{kind} is cluster-scoped: {r:?}");
        }
    }
    let report = run.json();
    assert_eq!(report["warnings"], json!([]), "{}", run.stdout);
    let shop_ingresses = fake
        .stored("ingresses")
        .iter()
        .filter(|i| i["metadata"]["namespace"] == "shop")
        .count();
    assert_eq!(report["summary"]["ingresses"], shop_ingresses);
    let expected: Vec<FindingKey> = finding_keys(&file_scan(&["--fail-on", "never"]).json())
        .into_iter()
        .filter(|k| k.1.contains(r#""namespace":"shop""#))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(finding_keys(&report), expected);
    assert!(
        findings(&report)
            .iter()
            .all(|f| f["resource"]["namespace"] == "shop"),
        "{}",
        run.stdout
    );
}

#[test]
fn unreachable_cluster_is_a_clear_error() {
    // A port that was just free: nothing listens on it.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a port");
        listener.local_addr().expect("bound address").port()
    };
    let ws = Workstation::new(&format!("http://127.0.0.1:{port}"));

    let run = ws.run(&["scan", "--cluster", "--format", "json"]);

    assert_eq!(
        run.code, 2,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let error = run.stderr.lines().last().unwrap_or_default();
    assert!(
        error.contains("cannot reach the cluster of fake")
            && error.to_lowercase().contains("connect"),
        "{}",
        run.stderr
    );
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?} to give up:\n{}",
        run.elapsed,
        run.stderr
    );
}

#[test]
#[ignore = "waits out the 30 s read timeout"]
fn unresponsive_cluster_times_out() {
    // Accepts connections and never answers, like a stuck load balancer in front of the API.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding a port");
    let port = listener.local_addr().expect("bound address").port();
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let silent = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        })
    };
    let ws = Workstation::new(&format!("http://127.0.0.1:{port}"));

    let run = ws.run(&["scan", "--cluster", "--format", "json"]);

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    silent.join().expect("silent server");
    assert_eq!(
        run.code, 2,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains("cannot reach the cluster of fake"),
        "{}",
        run.stderr
    );
    assert!(
        run.elapsed < Duration::from_secs(45),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn map_cluster_lists_routes() {
    let fake = fixture_cluster().start();
    let ws = Workstation::new(&fake.url());

    let run = ws.run(&["map", "--cluster", "--format", "json"]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    let map = run.json();
    let routes = map["routes"].as_array().expect("routes array");
    let route = |host: &str, path: &str| {
        routes
            .iter()
            .find(|r| r["host"] == host && r["path"] == path)
            .unwrap_or_else(|| panic!("no route {host}{path}: {routes:#?}"))
    };
    let storefront = route("shop.example.com", "/");
    assert_eq!(
        storefront["ingress"],
        json!({"kind": "Ingress", "namespace": "shop", "name": "storefront"})
    );
    assert_eq!(storefront["class"], "nginx");
    assert_eq!(storefront["service_found"], true);
    assert_eq!(storefront["service_port"]["port"], 80);
    // Two of the three endpoints in the EndpointSlice are ready.
    assert_eq!(storefront["ready_endpoints"], 2);
    assert_eq!(storefront["tls_secret"], "shop-tls");
    assert_eq!(
        storefront["workloads"],
        json!([{"kind": "Deployment", "namespace": "shop", "name": "web"}])
    );
    let refunds = route("pay.example.com", "/refunds");
    assert_eq!(refunds["service_found"], false);
    assert_eq!(refunds["ready_endpoints"], 0);

    // The same routes as a map of the fixture files.
    let dir = fixtures();
    let files = Workstation::new("http://127.0.0.1:9").run(&[
        "map",
        dir.to_str().expect("UTF-8 path"),
        "--format",
        "json",
    ]);
    assert_eq!(files.code, 0, "{}", files.stderr);
    let sorted = |v: &Value| {
        let mut rows: Vec<String> = v["routes"]
            .as_array()
            .expect("routes array")
            .iter()
            .map(Value::to_string)
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(sorted(&map), sorted(&files.json()));
}

/// The Gateway API and implementation-policy resources, which a cluster serves only when their
/// CRDs are installed.
const ADD_ON_ROUTING_PLURALS: [&str; 11] = [
    "gatewayclasses",
    "gateways",
    "httproutes",
    "grpcroutes",
    "tlsroutes",
    "tcproutes",
    "referencegrants",
    "securitypolicies",
    "backendtrafficpolicies",
    "authorizationpolicies",
    "requestauthentications",
];

/// What `kubectl get gatewayclass,gateway,httproute,service -A -o json` printed on a cluster
/// with Envoy Gateway: a GatewayClass, a Gateway with an HTTP and an HTTPS listener, an HTTPRoute
/// in another namespace attached to the HTTPS one, and its Service, with server fields and
/// status.
fn envoy_gateway_objects() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gateway/envoy-gateway-cluster.json");
    let text = std::fs::read_to_string(&path).expect("the fixture is readable");
    let list: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    list["items"].as_array().expect("a List").clone()
}

#[test]
fn map_cluster_lists_gateway_api_routes_with_their_listeners_next_to_ingress_routes() {
    let fake = envoy_gateway_objects()
        .into_iter()
        .fold(fixture_cluster(), Builder::object)
        .start();
    let ws = Workstation::new(&fake.url());

    let run = ws.run(&["map", "--cluster", "--format", "json"]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("cannot list"), "{}", run.stderr);
    let map = run.json();
    let routes = map["routes"].as_array().expect("routes array");
    let route = |host: &str, path: &str| {
        routes
            .iter()
            .find(|r| r["host"] == host && r["path"] == path)
            .unwrap_or_else(|| panic!("no route {host}{path}: {routes:#?}"))
    };
    let catalog = route("catalog.example.com", "/api");
    assert_eq!(
        catalog["route"],
        json!({"kind": "HTTPRoute", "namespace": "shop", "name": "catalog"})
    );
    assert!(catalog.get("ingress").is_none(), "{catalog:#}");
    assert_eq!(
        catalog["listeners"],
        json!([{
            "gateway": {"kind": "Gateway", "namespace": "edge", "name": "eg"},
            "listener": "https", "protocol": "HTTPS", "port": 443
        }])
    );
    assert_eq!(catalog["class"], "eg");
    assert_eq!(catalog["controller"], "envoy-gateway");
    assert_eq!(
        catalog["backend"],
        json!({"type": "service", "name": "catalog", "port": 8080})
    );
    assert_eq!(catalog["backend_namespace"], "shop");
    assert_eq!(catalog["service_found"], true);
    assert_eq!(catalog["tls_secret"], "example-com-tls");
    // The HTTP listener has no hostname, but the route attaches to the HTTPS one only.
    assert_eq!(
        routes
            .iter()
            .filter(|r| r["route"]["name"] == "catalog")
            .count(),
        1,
        "{routes:#?}"
    );
    // The Ingress routes are in the same map, as before.
    let storefront = route("shop.example.com", "/");
    assert_eq!(
        storefront["route"],
        json!({"kind": "Ingress", "namespace": "shop", "name": "storefront"})
    );
    assert_eq!(storefront["ingress"], storefront["route"]);

    // Each Gateway API and policy kind was listed once, across namespaces, at the version
    // `Kind::api_path` names.
    for plural in ADD_ON_ROUTING_PLURALS {
        let kind = kind_of_plural(plural);
        let api = kind.api_path();
        let requests = fake.requests_for(plural);
        assert_eq!(requests.len(), 1, "{plural}: {requests:#?}");
        assert_eq!(
            requests[0].path(),
            format!("/apis/{}/{}/{plural}", api.group, api.version)
        );
    }
    assert_eq!(
        fake.requests_for("tlsroutes")[0].path(),
        "/apis/gateway.networking.k8s.io/v1alpha2/tlsroutes"
    );
    assert_eq!(
        fake.requests_for("httproutes")[0].path(),
        "/apis/gateway.networking.k8s.io/v1/httproutes"
    );
}

#[test]
fn gateway_api_and_policy_crds_that_are_not_installed_are_no_gap() {
    // A cluster without the Gateway API, Envoy Gateway or Istio: the server answers 404.
    let fake = ADD_ON_ROUTING_PLURALS
        .iter()
        .fold(fixture_cluster(), |builder, plural| builder.unserve(plural))
        .start();
    let ws = Workstation::new(&fake.url());

    let run = ws.run(&[
        "scan",
        "--cluster",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    for plural in ADD_ON_ROUTING_PLURALS {
        assert!(!run.stderr.contains(plural), "{plural}: {}", run.stderr);
        assert!(
            !report["warnings"].to_string().contains(plural),
            "{plural}: {:#}",
            report["warnings"]
        );
        assert_eq!(fake.requests_for(plural).len(), 1, "{plural} was asked for");
    }
    assert_eq!(report["warnings"], json!([]));
    // Nothing is judged differently from the same objects as files.
    assert_eq!(
        finding_keys(&report),
        finding_keys(&file_scan(&["--fail-on", "never"]).json())
    );

    // A kind the server refuses is still a warning: 404 is "not installed" only for add-ons.
    let fake = fixture_cluster().forbid("httproutes").start();
    let run = Workstation::new(&fake.url()).run(&[
        "scan",
        "--cluster",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let warnings = run.json()["warnings"].to_string();
    assert!(
        warnings.contains("httproutes") && warnings.contains("403"),
        "{warnings}"
    );
}

#[test]
fn secret_data_never_reaches_the_output() {
    let fake = fixture_cluster().start();
    // The key is really served, in `data` and in kubectl's last-applied annotation.
    let secret = fake
        .stored("secrets")
        .into_iter()
        .find(|s| s["metadata"]["name"] == "shop-tls")
        .expect("shop-tls is served");
    assert_eq!(secret["data"]["tls.key"], KEY_BASE64);
    assert!(
        secret["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .is_some_and(|a| a.contains(KEY_BASE64))
    );
    let ws = Workstation::new(&fake.url());

    for args in [
        &[
            "scan",
            "--cluster",
            "--format",
            "json",
            "--fail-on",
            "never",
        ][..],
        &[
            "scan",
            "--cluster",
            "--format",
            "table",
            "--fail-on",
            "never",
        ],
        &["map", "--cluster", "--format", "json"],
        &["map", "--cluster", "--format", "table"],
        &[
            "scan",
            "--cluster",
            "-v",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    ] {
        let run = ws.run(args);
        assert_eq!(run.code, 0, "`{}`: {}", run.args, run.stderr);
        assert!(
            !run.stdout.trim().is_empty(),
            "`{}` printed nothing",
            run.args
        );
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            for secret in [KEY_BASE64, KEY_TEXT, "PRIVATE KEY"] {
                assert!(
                    !text.contains(secret),
                    "`tollgate {}` printed `{secret}` on {stream}",
                    run.args
                );
            }
        }
    }
}

#[test]
fn certs_cluster_quotes_cert_manager_and_a_missing_crd_is_no_gap() {
    // ingress-shim's Certificate for a new host has failed: the Secret was never written.
    let fake = fixture_cluster()
        .object(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "promo", "namespace": "shop",
                         "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"}},
            "spec": {"ingressClassName": "nginx",
                     "tls": [{"hosts": ["promo.example.com"], "secretName": "promo-tls"}],
                     "rules": [{"host": "promo.example.com", "http": {"paths": [{"path": "/",
                        "pathType": "Prefix",
                        "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}
        }))
        .object(json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": "promo-tls", "namespace": "shop"},
            "spec": {"secretName": "promo-tls", "dnsNames": ["promo.example.com"],
                     "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"}},
            "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Failed",
                "message": "Failed to wait for order resource \"promo-tls-1-1\" to become ready"}]}
        }))
        .start();
    let ws = Workstation::new(&fake.url());
    let run = ws.run(&["certs", "--cluster", "--format", "json"]);
    let report = run.json();
    let promo = report["certificates"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["secret"] == "promo-tls")
        .unwrap_or_else(|| panic!("no promo-tls row: {report:#}"));
    assert_eq!(promo["status"], "missing");
    assert_eq!(promo["cert_manager"]["ready"], "False");
    let message = promo["findings"][0]["message"].as_str().expect("a finding");
    assert!(
        message
            .contains("cert-manager Certificate `promo-tls` is not Ready (Failed: Failed to wait"),
        "{message}"
    );
    assert_eq!(run.code, 1);

    // Without cert-manager the server does not serve `certificates` at all: that is no gap in
    // what Tollgate sees, so no warning and no skipped rule.
    let fake = fixture_cluster().unserve("certificates").start();
    let ws = Workstation::new(&fake.url());
    let run = ws.run(&["scan", "--cluster", "--format", "json"]);
    assert!(!run.stderr.contains("certificates"), "{}", run.stderr);
    assert!(
        !run.json()["warnings"].to_string().contains("certificates"),
        "{}",
        run.stdout
    );
    assert!(
        !fake.requests_for("certificates").is_empty(),
        "Certificates were asked for"
    );
}

/// RBAC objects on top of the fixture cluster: a cluster-wide grant, a namespaced one, and a
/// binding to Kubernetes' default `edit`, which this fake cluster does not have.
fn rbac_cluster() -> Builder {
    let rbac = "rbac.authorization.k8s.io/v1";
    fixture_cluster()
        .object(json!({
            "apiVersion": rbac, "kind": "ClusterRole", "metadata": {"name": "ingress-writer"},
            "rules": [{"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"],
                       "verbs": ["create", "update"]}]
        }))
        .object(json!({
            "apiVersion": rbac, "kind": "ClusterRoleBinding", "metadata": {"name": "deployers"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "ingress-writer"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                          "name": "deployers"}]
        }))
        .object(json!({
            "apiVersion": rbac, "kind": "RoleBinding",
            "metadata": {"name": "alice", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "ingress-writer"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]
        }))
        .object(json!({
            "apiVersion": rbac, "kind": "RoleBinding",
            "metadata": {"name": "shop-developers", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "edit"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                          "name": "shop-developers"}]
        }))
}

#[test]
fn rbac_who_can_reads_the_cluster_roles_and_bindings() {
    let fake = rbac_cluster().start();
    let ws = Workstation::new(&fake.url());

    let run = ws.run(&[
        "rbac",
        "who-can",
        "create",
        "ingresses",
        "-n",
        "shop",
        "--cluster",
        "--format",
        "json",
    ]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    let answer = run.json();
    let grants: Vec<(String, String)> = answer["grants"]
        .as_array()
        .expect("grants array")
        .iter()
        .map(|g| {
            (
                g["subject"]["name"].as_str().unwrap_or_default().to_owned(),
                g["scope"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        grants,
        [
            ("deployers".to_owned(), "cluster-wide".to_owned()),
            ("alice".to_owned(), "namespace".to_owned()),
        ]
    );
    // A live cluster is read as it is: the absent `edit` role is not assumed, the binding is
    // latent.
    assert_eq!(answer["latent"][0]["subject"]["name"], "shop-developers");
    assert_eq!(
        answer["latent"][0]["reason"],
        "ClusterRole `edit` does not exist"
    );
    for plural in [
        "roles",
        "clusterroles",
        "rolebindings",
        "clusterrolebindings",
    ] {
        let requests = fake.requests_for(plural);
        assert!(!requests.is_empty(), "{plural} were listed");
        assert!(
            requests.iter().all(|r| r.namespace().is_none()),
            "{plural} are listed in every namespace: {requests:?}"
        );
    }

    // Bindings the scanner may not list make the answer say what it is missing.
    let denied = rbac_cluster().forbid("rolebindings").start();
    let ws = Workstation::new(&denied.url());
    let run = ws.run(&[
        "rbac",
        "who-can",
        "create",
        "ingresses",
        "-n",
        "shop",
        "--cluster",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let answer = run.json();
    assert_eq!(answer["grants"].as_array().map(Vec::len), Some(1));
    let limits = answer["limits"].to_string();
    assert!(
        limits.contains("rolebindings could not be listed"),
        "{limits}"
    );
    assert!(
        run.stderr.contains("cannot list rolebindings"),
        "{}",
        run.stderr
    );
}

#[test]
fn logs_attribute_requests_to_the_clusters_ingresses() {
    let fake = fixture_cluster().start();
    let ws = Workstation::new(&fake.url());
    let dir = TempDir::new().expect("temp dir");
    let log = dir.path().join("access.log");
    // ingress-nginx names the upstream `<namespace>-<service>-<port as the Ingress names it>`.
    std::fs::write(
        &log,
        "10.0.0.7 - - [21/Nov/2026:09:00:00 +0000] \"GET /cart HTTP/1.1\" 200 512 \"-\" \"curl/8.5.0\" 95 0.012 [shop-web-http] [] 10.244.0.12:8080 512 0.011 200 5c1fd0a6a2b04b4a6a5d3c6f3b6d2e11\n",
    )
    .expect("log written");

    let run = ws.run(&[
        "logs",
        log.to_str().expect("UTF-8 path"),
        "--cluster",
        "--records",
    ]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    let record: Value = serde_json::from_str(run.stdout.trim()).expect("one JSON record");
    assert_eq!(record["route"]["namespace"], "shop");
    assert_eq!(record["route"]["service"], "web");
    assert_eq!(record["upstream_name"], "shop-web-http");
}

#[test]
fn configmaps_granted_only_by_name_are_read_by_name() {
    // The chart's least-privilege Role: the controller ConfigMap by name, no other ConfigMap.
    let fake = fixture_cluster()
        .object(serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "ingress-nginx-controller", "namespace": "ingress-nginx"},
            "data": {"allow-snippet-annotations": "true"}
        }))
        .allow_only_named("configmaps", "ingress-nginx", "ingress-nginx-controller")
        .start();
    let ws = Workstation::new(&fake.url());
    let run = ws.run(&[
        "scan",
        "--cluster",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_ne!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    let warnings = report["warnings"].as_array().cloned().unwrap_or_default();
    assert!(
        !warnings.iter().any(|w| w["message"]
            .as_str()
            .unwrap_or_default()
            .contains("configmaps")),
        "the named ConfigMap was read: {warnings:#?}"
    );
    let requests = fake.requests_for("configmaps");
    assert!(
        requests
            .iter()
            .any(|r| r.namespace() == Some("ingress-nginx")
                && r.query("fieldSelector").map(|v| v.replace("%3D", "="))
                    == Some("metadata.name=ingress-nginx-controller".to_owned())),
        "{requests:#?}"
    );
}
