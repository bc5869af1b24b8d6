//! The intake over mutual TLS: the audit webhook and log intake on a listener of their own that
//! requires a client certificate chaining to the configured CA, checked during the handshake, so
//! a client without one never reaches a handler. There the certificate is the credential and no
//! bearer token is asked. The files are read again when they change (renewals in place).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use axum_server::tls_rustls::RustlsConfig;
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tollgate_core::service::IntakeTls;

use super::App;

/// How often the files are checked for a renewal.
const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// The server configuration: our certificate, and client certificates required.
fn server_config(tls: &IntakeTls) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(&tls.cert_file)
        .with_context(|| format!("reading {}", tls.cert_file))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", tls.cert_file))?;
    let key = PrivateKeyDer::from_pem_file(&tls.key_file)
        .with_context(|| format!("reading the key {}", tls.key_file))?;
    let mut roots = RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(&tls.client_ca_file)
        .with_context(|| format!("reading {}", tls.client_ca_file))?
    {
        roots
            .add(ca.with_context(|| format!("parsing {}", tls.client_ca_file))?)
            .with_context(|| format!("a CA of {}", tls.client_ca_file))?;
    }
    let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
        .build()
        .context("the client certificate verifier")?;
    let mut config = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .context("the intake certificate and key")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves the intake routes over mTLS until the process stops.
///
/// # Errors
/// The files cannot be read or the port cannot be bound.
pub async fn run(app: Arc<App>, tls: IntakeTls) -> anyhow::Result<()> {
    let listen: SocketAddr = tls
        .listen
        .as_deref()
        .unwrap_or("0.0.0.0:8444")
        .parse()
        .context("serve.intakeTls.listen")?;
    let rustls = RustlsConfig::from_config(server_config(&tls)?);
    tokio::spawn(reload(rustls.clone(), tls));
    let timeout = Duration::from_secs(app.config.serve.limits.timeout_seconds());
    let router = super::intake_routes(&app)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .with_state(app);
    eprintln!("tollgate: intake over mTLS on https://{listen}");
    axum_server::bind_rustls(listen, rustls)
        .serve(router.into_make_service_with_connect_info::<SocketAddr>())
        .await
        .context("the mTLS intake listener failed")
}

async fn reload(rustls: RustlsConfig, tls: IntakeTls) {
    let stamp = |path: &str| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let stamps = |tls: &IntakeTls| -> [Option<SystemTime>; 3] {
        [
            stamp(&tls.cert_file),
            stamp(&tls.key_file),
            stamp(&tls.client_ca_file),
        ]
    };
    let mut seen = stamps(&tls);
    loop {
        tokio::time::sleep(RELOAD_EVERY).await;
        let now = stamps(&tls);
        if now == seen {
            continue;
        }
        match server_config(&tls) {
            Ok(config) => {
                rustls.reload_from_config(config);
                tracing::info!("reloaded the mTLS intake certificates");
                seen = now;
            }
            Err(e) => tracing::warn!("reloading the mTLS intake certificates: {e:#}"),
        }
    }
}
