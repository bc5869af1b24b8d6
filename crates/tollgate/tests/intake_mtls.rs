//! The intake over mutual TLS: a client with a certificate from the configured CA posts audit
//! events without a token; a client without one, or with one from another CA, is refused in the
//! handshake and nothing is stored.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A CA: its certificate PEM and its issuer.
fn ca(name: &str) -> (String, rcgen::Issuer<'static, rcgen::KeyPair>) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("CA");
    (cert.pem(), rcgen::Issuer::new(params, key))
}

/// A leaf for `names` signed by `issuer`: (cert PEM, key PEM).
fn leaf(names: &[&str], issuer: &rcgen::Issuer<'static, rcgen::KeyPair>) -> (String, String) {
    let params =
        rcgen::CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
            .expect("params");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, issuer).expect("leaf");
    (cert.pem(), key.serialize_pem())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

fn client(ca_pem: &str, identity: Option<(&str, &str)>) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA")])
        .timeout(Duration::from_secs(10));
    if let Some((cert, key)) = identity {
        builder = builder.identity(
            reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).expect("identity"),
        );
    }
    builder.build().expect("client")
}

fn events(id: &str) -> serde_json::Value {
    json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [{
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": id, "stage": "ResponseComplete",
        "requestURI": "/apis/networking.k8s.io/v1/namespaces/shop/ingresses/web", "verb": "get",
        "user": {"username": "alice"}, "sourceIPs": ["10.0.0.1"],
        "objectRef": {"resource": "ingresses", "namespace": "shop", "name": "web", "apiGroup": "networking.k8s.io"},
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": "2026-11-22T09:00:00.000000Z", "stageTimestamp": "2026-11-22T09:00:00.000000Z"
    }]})
}

#[tokio::test]
async fn only_clients_with_a_certificate_from_the_ca_reach_the_intake() {
    let home = tempfile::tempdir().expect("home");
    let (server_ca, server_issuer) = ca("tollgate serving CA");
    let (server_cert, server_key) = leaf(&["localhost"], &server_issuer);
    let (client_ca, client_issuer) = ca("kube-apiserver audit clients");
    let (client_cert, client_key) = leaf(&["kube-apiserver"], &client_issuer);
    let (_, stranger_issuer) = ca("someone else");
    let (stranger_cert, stranger_key) = leaf(&["kube-apiserver"], &stranger_issuer);
    for (name, text) in [
        ("tls.crt", &server_cert),
        ("tls.key", &server_key),
        ("clients.crt", &client_ca),
    ] {
        std::fs::write(home.path().join(name), text).expect("write");
    }
    let (port, tls_port) = (free_port(), free_port());
    let path = |name: &str| home.path().join(name).display().to_string();
    std::fs::write(
        home.path().join("tollgate.yaml"),
        format!(
            "serve:\n  listen: 127.0.0.1:{port}\n  scan:\n    enabled: false\n  intakeTls:\n    \
             listen: 127.0.0.1:{tls_port}\n    certFile: {}\n    keyFile: {}\n    clientCaFile: {}\n",
            path("tls.crt"),
            path("tls.key"),
            path("clients.crt")
        ),
    )
    .expect("config");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let _service = Service(
        Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .args(["serve", "--no-cluster"])
            .arg(&examples)
            .current_dir(home.path())
            .env("TOLLGATE_STORE", format!("sqlite://{}", path("t.db")))
            .env_remove("TOLLGATE_INTAKE_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting tollgate serve"),
    );
    let url = format!("https://localhost:{tls_port}/api/v1/audit/events");
    let trusted = client(&server_ca, Some((&client_cert, &client_key)));
    let started = Instant::now();
    let answer = loop {
        match trusted.post(&url).json(&events("mtls-1")).send().await {
            Ok(answer) => break answer,
            Err(_) if started.elapsed() < Duration::from_secs(60) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the mTLS intake never answered: {e}"),
        }
    };
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.expect("JSON");
    assert_eq!(body["inserted"], 1);

    // No client certificate, or one from another CA: refused in the handshake.
    for refused in [
        client(&server_ca, None),
        client(&server_ca, Some((&stranger_cert, &stranger_key))),
    ] {
        let result = refused.post(&url).json(&events("mtls-2")).send().await;
        assert!(
            result.as_ref().map_or(true, |r| !r.status().is_success()),
            "a client without a trusted certificate got in: {result:?}"
        );
    }
    let status: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/api/v1/status"))
        .await
        .expect("status")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        status["store"]["audit_events"], 1,
        "only the trusted client's event"
    );
}
