//! `tollgate certs`: the certificate inventory, and `--probe` against a real TLS server (rustls
//! on 127.0.0.1) serving a certificate of the test suite's own PKI.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::thread::JoinHandle;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const AT: &str = "2026-11-22T00:00:00Z";

fn certs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tollgate-core/tests/fixtures/certs")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(certs_dir().join(name)).expect("fixture")
}

fn tollgate(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .current_dir(cwd)
        .env_remove("TOLLGATE_CONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("tollgate runs")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// An Ingress serving `host` with Secret `name`, and the Secret holding `crt`/`key`.
fn manifest(host: &str, name: &str, crt: &str, key: &str) -> String {
    let indent = |s: &str| s.lines().map(|l| format!("    {l}\n")).collect::<String>();
    format!(
        "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: web, namespace: shop}}
spec:
  ingressClassName: nginx
  tls:
    - hosts: [{host}]
      secretName: {name}
  rules:
    - host: {host}
      http:
        paths:
          - {{path: /, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: {name}, namespace: shop}}
type: kubernetes.io/tls
stringData:
  tls.crt: |
{}  tls.key: |
{}",
        indent(crt),
        indent(key)
    )
}

fn dir_with(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut f = std::fs::File::create(dir.path().join(name)).expect("create");
    f.write_all(text.as_bytes()).expect("write");
    dir
}

/// A TLS server on 127.0.0.1 presenting `name`.crt for `connections` handshakes.
fn tls_server(name: &str, connections: usize) -> (String, JoinHandle<()>) {
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(fixture(&format!("{name}.crt")).as_bytes())
            .collect::<Result<_, _>>()
            .expect("certificates");
    let key = PrivateKeyDer::from_pem_slice(fixture(&format!("{name}.key")).as_bytes())
        .expect("private key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config"),
    );
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let handle = std::thread::spawn(move || {
        for _ in 0..connections {
            let Ok((mut sock, _)) = listener.accept() else {
                return;
            };
            let mut conn = rustls::ServerConnection::new(Arc::clone(&config)).expect("conn");
            while conn.is_handshaking() {
                if conn.complete_io(&mut sock).is_err() {
                    break;
                }
            }
            // Flush the last handshake messages before closing.
            let _ = conn.complete_io(&mut sock);
        }
    });
    (address, handle)
}

#[test]
fn examples_list_every_tls_secret_with_days_left() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tollgate(
        &["certs", "examples/", "--format", "json", "--at", AT],
        &root,
    );
    let v = json(&out);
    let rows = v["certificates"].as_array().expect("rows");
    let names: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}/{}",
                r["namespace"].as_str().unwrap(),
                r["secret"].as_str().unwrap()
            )
        })
        .collect();
    // Every Secret that an Ingress of the examples names in `spec.tls`, and the one the
    // catalog's Gateway listener names (written by cert-manager, so not among the files).
    for expected in [
        "gateway/catalog-shop-tls",
        "payments/shop-tls",
        "storefront/wildcard-shop-tls",
        "storefront/api-shop-tls",
        "payments/pay-dashboard-tls",
        "payments/pay-tls",
        "storefront/shop-tls",
    ] {
        assert!(
            names.contains(&expected.to_owned()),
            "{expected} in {names:?}"
        );
    }
    assert_eq!(rows.len(), 7, "{names:?}");
    let gateway = &rows[names
        .iter()
        .position(|n| n == "gateway/catalog-shop-tls")
        .unwrap()];
    assert_eq!(gateway["status"], "not-in-scope");
    assert_eq!(
        gateway["ingresses"],
        serde_json::json!(["Gateway gateway/shop"])
    );
    assert_eq!(
        gateway["hosts"],
        serde_json::json!(["catalog.shop.example.com"])
    );
    // Sorted by days left: the Secrets without a certificate first (the missing one, the
    // one not in the files), then by days left.
    assert_eq!(rows[0]["status"], "not-in-scope");
    assert_eq!(rows[1]["status"], "missing");
    let days: Vec<i64> = rows[2..]
        .iter()
        .map(|r| r["leaf"]["days_left"].as_i64().expect("days left"))
        .collect();
    assert!(days.windows(2).all(|w| w[0] <= w[1]), "{days:?}");
    assert_eq!(days[0], -22, "the wildcard expired on 2026-10-31");
    let rules: Vec<&str> = rows
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap())
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"certificate-expired"), "{rules:?}");
    assert!(rules.contains(&"certificate-expiring"), "{rules:?}");
    assert_eq!(out.status.code(), Some(1), "an expired certificate fails");
    // The table says the same for people, and never shows key material.
    let table = tollgate(&["certs", "examples/", "--at", AT], &root);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("storefront/wildcard-shop-tls"), "{text}");
    assert!(text.contains("7 TLS secrets served by routes"), "{text}");
    assert!(
        !text.contains("PRIVATE KEY") && !text.contains("FAKE-KEY"),
        "{text}"
    );
}

#[test]
fn the_probe_matches_the_served_certificate_with_the_secret() {
    let (address, server) = tls_server("good", 1);
    let dir = dir_with(
        "web.yaml",
        &manifest(
            "shop.example.com",
            "shop-tls",
            &fixture("good.crt"),
            &fixture("good.key"),
        ),
    );
    let out = tollgate(
        &[
            "certs",
            "web.yaml",
            "--at",
            AT,
            "--format",
            "json",
            "--probe",
            "--probe-address",
            &address,
        ],
        dir.path(),
    );
    server.join().expect("server");
    let v = json(&out);
    let probe = &v["certificates"][0]["probes"][0];
    assert_eq!(probe["status"], "match", "{v}");
    assert_eq!(probe["host"], "shop.example.com");
    assert_eq!(
        probe["served_sha256"],
        v["certificates"][0]["leaf"]["sha256"]
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
}

#[test]
fn the_probe_reports_a_host_serving_another_certificate() {
    let (address, server) = tls_server("wildcard", 1);
    let dir = dir_with(
        "web.yaml",
        &manifest(
            "shop.example.com",
            "shop-tls",
            &fixture("good.crt"),
            &fixture("good.key"),
        ),
    );
    let out = tollgate(
        &[
            "certs",
            "web.yaml",
            "--at",
            AT,
            "--probe",
            "--probe-address",
            &address,
        ],
        dir.path(),
    );
    server.join().expect("server");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("differs"), "{text}");
    assert!(
        text.contains("wild.example.org"),
        "the served subject is named: {text}"
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
}

#[test]
fn the_probe_names_the_controllers_default_certificate() {
    let (address, server) = tls_server("fake", 1);
    // The Secret is missing: the controller falls back to its made-up certificate.
    let dir = dir_with(
        "web.yaml",
        "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  tls:
    - hosts: [shop.example.com]
      secretName: shop-tls
",
    );
    let out = tollgate(
        &[
            "certs",
            "web.yaml",
            "--format",
            "json",
            "--probe",
            "--probe-address",
            &address,
        ],
        dir.path(),
    );
    server.join().expect("server");
    let v = json(&out);
    assert_eq!(
        v["certificates"][0]["probes"][0]["status"], "default-certificate",
        "{v}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_probe_that_cannot_connect_is_an_error_not_a_hang() {
    // A port nobody listens on: bind, note it, close.
    let address = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("address").to_string()
    };
    let dir = dir_with(
        "web.yaml",
        &manifest(
            "shop.example.com",
            "shop-tls",
            &fixture("good.crt"),
            &fixture("good.key"),
        ),
    );
    let out = tollgate(
        &[
            "certs",
            "web.yaml",
            "--at",
            AT,
            "--format",
            "json",
            "--probe",
            "--probe-address",
            &address,
            "--probe-timeout",
            "2",
        ],
        dir.path(),
    );
    let v = json(&out);
    let probe = &v["certificates"][0]["probes"][0];
    assert_eq!(probe["status"], "error", "{v}");
    assert!(probe["error"].as_str().unwrap().contains("connect"), "{v}");
    // An unreachable host is no evidence of a wrong certificate.
    assert_eq!(out.status.code(), Some(0), "{v}");
}

#[test]
fn a_secret_with_garbage_or_a_foreign_key_is_reported_not_a_panic() {
    let garbage = manifest(
        "shop.example.com",
        "shop-tls",
        "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----",
        &fixture("good.key"),
    );
    let foreign = manifest(
        "www.example.com",
        "www-tls",
        &fixture("good.crt"),
        &fixture("wrong-key.key"),
    )
    .replace("name: web,", "name: www,");
    let dir = dir_with("web.yaml", &format!("{garbage}---\n{foreign}"));
    let out = tollgate(
        &["certs", "web.yaml", "--at", AT, "--format", "json"],
        dir.path(),
    );
    let v = json(&out);
    let messages: Vec<&str> = v["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap())
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("holds no readable certificate")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("is not the private key")),
        "{messages:?}"
    );
    assert_eq!(out.status.code(), Some(1));
}
