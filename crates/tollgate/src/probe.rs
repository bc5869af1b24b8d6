//! `certs --probe`: what a host really serves. Connects with rustls, sends the host as SNI,
//! and keeps the certificate chain the server presents. Nothing is verified on purpose: the
//! point is to see the certificate, valid or not, and compare it with the Secret's.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};

/// At most this many probes run at once.
const PARALLEL: usize = 16;

/// One host to probe.
#[derive(Debug, Clone)]
pub struct Target {
    /// The name sent as SNI.
    pub host: String,
    /// Where to connect, `HOST:PORT`.
    pub address: String,
}

/// Probes every target, a few at a time. Returns the leaf's DER, or why there is none, in the
/// order of `targets`.
pub fn probe_all(targets: &[Target], timeout: Duration) -> Vec<Result<Vec<u8>, String>> {
    let config = match client_config() {
        Ok(c) => c,
        Err(e) => return targets.iter().map(|_| Err(e.clone())).collect(),
    };
    let mut out = Vec::with_capacity(targets.len());
    for chunk in targets.chunks(PARALLEL) {
        let results: Vec<Result<Vec<u8>, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|t| {
                    let config = Arc::clone(&config);
                    s.spawn(move || probe(t, timeout, config))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("probe thread failed".into()))
                })
                .collect()
        });
        out.extend(results);
    }
    out
}

fn probe(t: &Target, timeout: Duration, config: Arc<ClientConfig>) -> Result<Vec<u8>, String> {
    let addr = t
        .address
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", t.address))?
        .next()
        .ok_or_else(|| format!("{} resolves to no address", t.address))?;
    let mut sock = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    sock.set_read_timeout(Some(timeout))
        .and_then(|()| sock.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from(t.host.clone())
        .map_err(|e| format!("`{}` is not a server name: {e}", t.host))?;
    let mut conn = ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                format!("no TLS handshake from {addr} within {}s", timeout.as_secs())
            }
            _ => format!("TLS handshake with {addr} failed: {e}"),
        })?;
    }
    conn.peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec())
        .ok_or_else(|| format!("{addr} presented no certificate"))
}

fn client_config() -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Observe(provider)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Accepts any certificate (it is only observed) but still checks the handshake signatures, so
/// the certificate seen is the one whose key the server holds.
#[derive(Debug)]
struct Observe(Arc<CryptoProvider>);

impl ServerCertVerifier for Observe {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
