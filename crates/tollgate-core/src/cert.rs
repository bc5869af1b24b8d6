//! Certificate analysis: what a `kubernetes.io/tls` Secret's `tls.crt` holds, judged the way
//! a TLS client and an x509 exporter would.
//!
//! [`analyze`] runs once per Secret, when the Secret is loaded. It parses the PEM chain, works
//! out the path from the leaf to an anchor, and checks that `tls.key` belongs to the leaf. The
//! private key is read only to derive its public half and compare that with the leaf's; the
//! result ([`KeyCheck`]) is all that is kept. Time-dependent judgements (expiry) are left to the
//! rules, which know the instant the report is for.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::IpAddr;

use jiff::Timestamp;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde::Serialize;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::X509Name;

/// The most certificates read from one `tls.crt`; real chains have two to four.
const MAX_CERTIFICATES: usize = 16;

/// One certificate of a chain, as reports show it.
#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    /// Subject distinguished name, RFC 4514 style.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// The subject's common name, when it has one.
    pub common_name: Option<String>,
    /// The serial number, hex with colons.
    pub serial: String,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
    /// DNS names of the subjectAltName extension.
    pub dns_names: Vec<String>,
    /// IP addresses of the subjectAltName extension.
    pub ip_addresses: Vec<String>,
    /// Key algorithm: `RSA`, `EC P-256`, `Ed25519`, …
    pub key_algorithm: String,
    /// Key size in bits (the curve's size for EC).
    pub key_bits: u32,
    /// Signature algorithm by name, e.g. `sha256WithRSAEncryption`.
    pub signature_algorithm: String,
    /// SHA-256 of the DER encoding, hex with colons: what `openssl x509 -fingerprint -sha256` prints.
    pub sha256: String,
    /// Whether basicConstraints says CA.
    pub is_ca: bool,
    /// Subject equals issuer and the certificate's signature verifies with its own key.
    pub self_signed: bool,
}

impl Certificate {
    /// Why the key is too weak, if it is: RSA and DSA under 2048 bits, EC under 256.
    #[must_use]
    pub fn weak_key(&self) -> Option<String> {
        let min = if self.key_algorithm.starts_with("EC") {
            256
        } else if self.key_algorithm == "RSA" || self.key_algorithm == "DSA" {
            2048
        } else {
            return None;
        };
        (self.key_bits < min).then(|| {
            format!(
                "{} key of {} bits (at least {min} needed)",
                self.key_algorithm, self.key_bits
            )
        })
    }

    /// Whether the signature uses a broken hash (MD2, MD5, SHA-1).
    #[must_use]
    pub fn weak_signature(&self) -> bool {
        let s = self.signature_algorithm.to_ascii_lowercase();
        s.contains("md5") || s.contains("md2") || s.contains("sha1")
    }

    /// Whether the certificate names `host` in its subjectAltName, with RFC 6125 wildcard
    /// semantics: `*.example.com` covers exactly one label (`a.example.com`, not
    /// `a.b.example.com`, not `example.com`). The common name is not consulted, as browsers do not.
    #[must_use]
    pub fn covers(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self
                .ip_addresses
                .iter()
                .any(|a| a.parse::<IpAddr>().is_ok_and(|x| x == ip));
        }
        self.dns_names.iter().any(|n| san_covers(n, &host))
    }

    /// Whole days from `at` to the end of validity, rounded towards zero: negative once
    /// expired by a day or more, `0` on the last (or first expired) day.
    #[must_use]
    pub fn days_left(&self, at: Timestamp) -> i64 {
        (self.not_after.as_second() - at.as_second()) / 86_400
    }
}

/// Whether the SAN DNS name `pattern` covers the (lowercase) `host`.
fn san_covers(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    if pattern == host {
        return true;
    }
    // A wildcard Ingress host (`*.shop.example.com`) is covered only by the same wildcard.
    if host.starts_with('*') {
        return false;
    }
    let Some(suffix) = pattern.strip_prefix("*.") else {
        return false;
    };
    // RFC 6125 §6.4.3: the wildcard is the whole left-most label and stands for one label.
    // A suffix of a single label (`*.com`) is refused, as clients refuse it.
    if !suffix.contains('.') {
        return false;
    }
    host.split_once('.')
        .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix)
}

/// Where the path from the leaf ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Anchor {
    /// The leaf itself is self-signed.
    SelfSigned,
    /// The chain ends in a self-signed root that it carries.
    RootInChain,
    /// The last certificate is issued by a root of the Mozilla programme (webpki-roots).
    KnownRoot {
        /// The root's name.
        issuer: String,
    },
    /// The last certificate is issued by a certificate of the Secret's `ca.crt`.
    CaCrt {
        /// The CA's name.
        issuer: String,
    },
    /// Nobody in the Secret issued the last certificate, and it is not a well-known root:
    /// either an intermediate is missing or the issuer is a private CA the clients must hold.
    Missing {
        /// The issuer's name.
        issuer: String,
        /// Whether the last certificate of the path is a CA (an intermediate whose issuer is a
        /// root the clients hold, as it should be) rather than the leaf.
        last_is_ca: bool,
    },
}

/// Whether `tls.key` belongs to the leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "kebab-case")]
pub enum KeyCheck {
    /// The Secret has no `tls.key`.
    Absent,
    /// The key's public half is the leaf's public key.
    Matches,
    /// The key is another key than the leaf's.
    Mismatch,
    /// `tls.key` holds no PEM private key at all: garbage, or in manifests a placeholder or an
    /// encrypted value (SOPS) that is replaced at deploy time.
    NotPem,
    /// `tls.key` is a PEM private key Tollgate cannot read; why.
    Unreadable(String),
    /// The key was read but cannot be compared (an algorithm Tollgate does not derive).
    Unknown(String),
}

/// What a Secret's `tls.crt` holds.
#[derive(Debug, Clone, Serialize)]
pub struct Chain {
    /// The certificates in the order written; the first is the leaf.
    pub certificates: Vec<Certificate>,
    /// Blocks or data that are not certificates (what is wrong with each).
    pub errors: Vec<String>,
    /// Certificates that are not in issuing order, described; empty when the order is right.
    pub order_problems: Vec<String>,
    /// Where the path from the leaf ends.
    pub anchor: Option<Anchor>,
    /// Whether `tls.key` belongs to the leaf.
    pub key: KeyCheck,
}

impl Chain {
    /// The leaf, when `tls.crt` holds at least one certificate.
    #[must_use]
    pub fn leaf(&self) -> Option<&Certificate> {
        self.certificates.first()
    }

    /// Why the chain is unusable as a whole (no certificate at all), if it is.
    #[must_use]
    pub fn unusable(&self) -> Option<String> {
        if !self.certificates.is_empty() {
            return None;
        }
        Some(match self.errors.first() {
            Some(e) => format!("`tls.crt` holds no readable certificate: {e}"),
            None => "`tls.crt` holds no PEM certificate".to_owned(),
        })
    }
}

/// Analyses `tls.crt` (PEM), with the Secret's `ca.crt` and `tls.key` when present. Never panics;
/// whatever is wrong is in the result.
#[must_use]
pub fn analyze(tls_crt: &[u8], ca_crt: Option<&[u8]>, tls_key: Option<&[u8]>) -> Chain {
    let (ders, mut errors) = pem_certificates(tls_crt);
    let mut parsed: Vec<X509Certificate<'_>> = Vec::with_capacity(ders.len());
    for (i, der) in ders.iter().enumerate() {
        match X509Certificate::from_der(der) {
            Ok((_, c)) => parsed.push(c),
            Err(e) => errors.push(format!("certificate {} is not valid DER: {e}", i + 1)),
        }
    }
    let certificates: Vec<Certificate> = parsed
        .iter()
        .zip(&ders)
        .map(|(c, der)| describe(c, der))
        .collect();
    let (order_problems, anchor) = if parsed.is_empty() {
        (Vec::new(), None)
    } else {
        let (ca_ders, _) = ca_crt.map(pem_certificates).unwrap_or_default();
        let ca: Vec<X509Certificate<'_>> = ca_ders
            .iter()
            .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
            .collect();
        let self_signed: Vec<bool> = certificates.iter().map(|c| c.self_signed).collect();
        let (order, anchor) = path(&parsed, &self_signed, &ca);
        (order, Some(anchor))
    };
    let key = match (tls_key, parsed.first()) {
        (None, _) => KeyCheck::Absent,
        (Some(_), None) => KeyCheck::Unknown("no certificate to compare with".into()),
        (Some(pem), Some(leaf)) => compare_key(pem, leaf),
    };
    Chain {
        certificates,
        errors,
        order_problems,
        anchor,
        key,
    }
}

/// Describes one DER certificate (e.g. one a server presented), or `None` if it is not one.
#[must_use]
pub fn describe_der(der: &[u8]) -> Option<Certificate> {
    let (_, c) = X509Certificate::from_der(der).ok()?;
    Some(describe(&c, der))
}

/// The subject ingress-nginx gives the certificate it makes up when a route has no usable one.
pub const FAKE_CERTIFICATE_CN: &str = "Kubernetes Ingress Controller Fake Certificate";

/// The DER of every `CERTIFICATE` block, and what is wrong with the rest.
fn pem_certificates(pem: &[u8]) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut ders = Vec::new();
    let mut errors = Vec::new();
    for (i, block) in x509_parser::pem::Pem::iter_from_buffer(pem).enumerate() {
        match block {
            Ok(p) if p.label == "CERTIFICATE" => {
                if ders.len() == MAX_CERTIFICATES {
                    errors.push(format!(
                        "more than {MAX_CERTIFICATES} certificates; the rest are ignored"
                    ));
                    break;
                }
                ders.push(p.contents);
            }
            Ok(p) => errors.push(format!(
                "PEM block {} is `{}`, not `CERTIFICATE`",
                i + 1,
                p.label
            )),
            Err(e) => {
                // The iterator ends at the first block it cannot read; a file with no PEM
                // at all ends here too.
                if ders.is_empty() || !matches!(e, x509_parser::error::PEMError::MissingHeader) {
                    errors.push(format!("PEM block {}: {e}", i + 1));
                }
                break;
            }
        }
    }
    (ders, errors)
}

/// What reports show of one certificate.
fn describe(c: &X509Certificate<'_>, der: &[u8]) -> Certificate {
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Ok(Some(san)) = c.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(n) => dns_names.push((*n).to_owned()),
                GeneralName::IPAddress(b) => {
                    if let Some(ip) = ip_from_bytes(b) {
                        ip_addresses.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    let (key_algorithm, key_bits) = key_description(c);
    let sig_oid = c.signature_algorithm.algorithm.to_id_string();
    Certificate {
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
        common_name: common_name(c.subject()),
        serial: c.raw_serial_as_string(),
        not_before: timestamp(c.validity().not_before.timestamp()),
        not_after: timestamp(c.validity().not_after.timestamp()),
        dns_names,
        ip_addresses,
        key_algorithm,
        key_bits,
        signature_algorithm: signature_name(&sig_oid).map_or(sig_oid, str::to_owned),
        sha256: fingerprint(der),
        is_ca: c.is_ca(),
        self_signed: self_signed(c),
    }
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => <[u8; 4]>::try_from(b).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(b).ok().map(IpAddr::from),
        _ => None,
    }
}

fn timestamp(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap_or(if secs < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

fn common_name(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned)
}

/// SHA-256 of `der`, uppercase hex with colons.
#[must_use]
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = String::with_capacity(95);
    for (i, b) in digest.as_ref().iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02X}");
    }
    out
}

fn self_signed(c: &X509Certificate<'_>) -> bool {
    c.subject().as_raw() == c.issuer().as_raw() && c.verify_signature(None).is_ok()
}

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_DSA: &str = "1.2.840.10040.4.1";
const OID_ED25519: &str = "1.3.101.112";
const OID_ED448: &str = "1.3.101.113";

fn key_description(c: &X509Certificate<'_>) -> (String, u32) {
    let spki = c.public_key();
    let oid = spki.algorithm.algorithm.to_id_string();
    match oid.as_str() {
        OID_RSA => {
            let bits = match spki.parsed() {
                Ok(PublicKey::RSA(rsa)) => bit_length(rsa.modulus),
                _ => 0,
            };
            ("RSA".to_owned(), bits)
        }
        OID_EC => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            let (name, bits) = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => ("P-256", 256),
                Some("1.3.132.0.34") => ("P-384", 384),
                Some("1.3.132.0.35") => ("P-521", 521),
                Some("1.3.132.0.33") => ("P-224", 224),
                Some("1.2.840.10045.3.1.1") => ("P-192", 192),
                Some("1.3.132.0.10") => ("secp256k1", 256),
                _ => ("", 0),
            };
            if name.is_empty() {
                let bits = match spki.parsed() {
                    Ok(PublicKey::EC(p)) => u32::try_from(p.key_size()).unwrap_or(0),
                    _ => 0,
                };
                ("EC".to_owned(), bits)
            } else {
                (format!("EC {name}"), bits)
            }
        }
        OID_DSA => {
            let bits = match spki.parsed() {
                Ok(PublicKey::DSA(y)) => bit_length(y),
                _ => 0,
            };
            ("DSA".to_owned(), bits)
        }
        OID_ED25519 => ("Ed25519".to_owned(), 256),
        OID_ED448 => ("Ed448".to_owned(), 456),
        other => (other.to_owned(), 0),
    }
}

/// Bits in a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> u32 {
    let bytes = strip_zeros(bytes);
    match bytes.first() {
        None => 0,
        Some(first) => u32::try_from(bytes.len() * 8).unwrap_or(u32::MAX) - first.leading_zeros(),
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Names of the signature algorithms seen in practice.
fn signature_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10040.4.3" => "dsa-with-sha1",
        "2.16.840.1.101.3.4.3.2" => "dsa-with-sha256",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        _ => return None,
    })
}

/// Whether `issuer` signed `c`: names chain and the signature verifies.
fn issued_by(c: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    c.issuer().as_raw() == issuer.subject().as_raw()
        && c.verify_signature(Some(issuer.public_key())).is_ok()
}

/// Follows issuers from the leaf through the chain (`self_signed[i]` says whether `chain[i]`
/// is, as [`describe`] found). Returns what is out of order, and where the path ends.
fn path(
    chain: &[X509Certificate<'_>],
    self_signed: &[bool],
    ca: &[X509Certificate<'_>],
) -> (Vec<String>, Anchor) {
    let mut problems = Vec::new();
    let mut visited = BTreeSet::from([0usize]);
    let mut current = 0usize;
    if chain.len() > 1
        && chain[0].is_ca()
        && let Some(leaf) = chain.iter().position(|c| !c.is_ca())
    {
        problems.push(format!(
            "the first certificate is a CA (`{}`); the leaf (`{}`) must come first",
            chain[0].subject(),
            chain[leaf].subject()
        ));
        current = leaf;
        visited = BTreeSet::from([leaf]);
    }
    loop {
        let c = &chain[current];
        if self_signed[current] {
            return (
                problems,
                if current == 0 {
                    Anchor::SelfSigned
                } else {
                    Anchor::RootInChain
                },
            );
        }
        let next = (0..chain.len()).find(|&j| j != current && issued_by(c, &chain[j]));
        match next {
            Some(j) if visited.contains(&j) => {
                problems.push(format!("certificate {} issues a loop", j + 1));
                return (
                    problems,
                    Anchor::Missing {
                        issuer: c.issuer().to_string(),
                        last_is_ca: c.is_ca(),
                    },
                );
            }
            Some(j) => {
                // Once the leaf is not first, one message says the order is wrong.
                if j != current + 1 && problems.is_empty() {
                    problems.push(format!(
                        "`{}` (certificate {}) issues `{}` (certificate {}) and must come right \
                         after it",
                        chain[j].subject(),
                        j + 1,
                        c.subject(),
                        current + 1
                    ));
                }
                visited.insert(j);
                current = j;
            }
            None => {
                let issuer = c.issuer().to_string();
                if ca.iter().any(|a| issued_by(c, a)) {
                    return (problems, Anchor::CaCrt { issuer });
                }
                if known_root(c) {
                    return (problems, Anchor::KnownRoot { issuer });
                }
                return (
                    problems,
                    Anchor::Missing {
                        issuer,
                        last_is_ca: c.is_ca(),
                    },
                );
            }
        }
    }
}

/// Whether `c` is issued by a root of the Mozilla programme. Names are compared, as a client
/// looking for a path does; the signature is not checked against the root.
fn known_root(c: &X509Certificate<'_>) -> bool {
    let raw = c.issuer().as_raw();
    // Trust anchors keep the subject's contents without the outer SEQUENCE header.
    let inner = der_contents(raw).unwrap_or(raw);
    webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .any(|a| a.subject.as_ref() == inner || a.subject.as_ref() == raw)
}

/// The contents of one DER TLV.
fn der_contents(der: &[u8]) -> Option<&[u8]> {
    tlv(der).map(|(_, content, _)| content)
}

/// Splits one DER TLV off `der`: (tag, contents, rest).
fn tlv(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The elements of a DER SEQUENCE's contents.
fn elements(mut contents: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !contents.is_empty() {
        let (tag, value, rest) = tlv(contents)?;
        out.push((tag, value));
        contents = rest;
    }
    Some(out)
}

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

/// A public key in the form it is compared: the RSA modulus, or the EC or EdDSA point.
#[derive(Debug, PartialEq, Eq)]
enum PublicHalf {
    Rsa(Vec<u8>),
    Point(Vec<u8>),
}

/// The leaf's public key in comparable form.
fn leaf_public(leaf: &X509Certificate<'_>) -> Option<PublicHalf> {
    let spki = leaf.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => Some(PublicHalf::Rsa(strip_zeros(rsa.modulus).to_vec())),
        Ok(PublicKey::EC(p)) => Some(PublicHalf::Point(p.data().to_vec())),
        _ if spki.algorithm.algorithm.to_id_string() == OID_ED25519 => {
            Some(PublicHalf::Point(spki.subject_public_key.data.to_vec()))
        }
        _ => None,
    }
}

/// Compares the public half of the private key in `pem` with the leaf's public key.
fn compare_key(pem: &[u8], leaf: &X509Certificate<'_>) -> KeyCheck {
    let key = match PrivateKeyDer::from_pem_slice(pem) {
        Ok(k) => k,
        Err(e) => {
            // PEM of another kind (a certificate where the key should be) and a broken private
            // key are mistakes even in manifests; no private-key PEM at all may be a
            // placeholder.
            return match x509_parser::pem::Pem::iter_from_buffer(pem).find_map(Result::ok) {
                Some(p) => KeyCheck::Unreadable(format!(
                    "`tls.key` holds `{}` PEM, not a private key",
                    p.label
                )),
                None if contains(pem, b"PRIVATE KEY-----") => {
                    let why = match e {
                        rustls_pki_types::pem::Error::MissingSectionEnd { .. } => {
                            "no END line".to_owned()
                        }
                        rustls_pki_types::pem::Error::Base64Decode(_) => "bad base64".to_owned(),
                        // Other errors may quote the offending line: key material.
                        _ => "unreadable".to_owned(),
                    };
                    KeyCheck::Unreadable(format!("`tls.key` is a broken PEM private key ({why})"))
                }
                None => KeyCheck::NotPem,
            };
        }
    };
    let public = match &key {
        PrivateKeyDer::Pkcs1(k) => rsa_public(k.secret_pkcs1_der()),
        PrivateKeyDer::Sec1(k) => sec1_public(k.secret_sec1_der()),
        PrivateKeyDer::Pkcs8(k) => pkcs8_public(k.secret_pkcs8_der()),
        _ => Err("an unknown private key encoding".to_owned()),
    };
    drop(key);
    let public = match public {
        Ok(Some(p)) => p,
        Ok(None) => {
            return KeyCheck::Unknown("the key's public half cannot be derived".into());
        }
        Err(e) => return KeyCheck::Unreadable(format!("`tls.key` is malformed: {e}")),
    };
    match leaf_public(leaf) {
        Some(l) if l == public => KeyCheck::Matches,
        Some(_) => KeyCheck::Mismatch,
        None => KeyCheck::Unknown("the certificate's key algorithm is not compared".into()),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `RSAPrivateKey ::= SEQUENCE { version, modulus, publicExponent, … }` (PKCS #1).
fn rsa_public(der: &[u8]) -> Result<Option<PublicHalf>, String> {
    let (tag, contents, _) = tlv(der).ok_or("truncated RSA key")?;
    let items = elements(contents).ok_or("truncated RSA key")?;
    match (tag, items.get(1)) {
        (TAG_SEQUENCE, Some((TAG_INTEGER, n))) => {
            Ok(Some(PublicHalf::Rsa(strip_zeros(n).to_vec())))
        }
        _ => Err("not an RSA private key".into()),
    }
}

/// `ECPrivateKey ::= SEQUENCE { version, privateKey, [0] parameters, [1] publicKey }` (SEC 1).
fn sec1_public(der: &[u8]) -> Result<Option<PublicHalf>, String> {
    let (tag, contents, _) = tlv(der).ok_or("truncated EC key")?;
    if tag != TAG_SEQUENCE {
        return Err("not an EC private key".into());
    }
    let items = elements(contents).ok_or("truncated EC key")?;
    for (tag, value) in items {
        if tag == 0xa1 {
            let (t, bits, _) = tlv(value).ok_or("truncated EC public key")?;
            if t == TAG_BIT_STRING && !bits.is_empty() {
                return Ok(Some(PublicHalf::Point(bits[1..].to_vec())));
            }
        }
    }
    Ok(None)
}

/// `PrivateKeyInfo ::= SEQUENCE { version, algorithm, privateKey OCTET STRING, … }` (PKCS #8).
fn pkcs8_public(der: &[u8]) -> Result<Option<PublicHalf>, String> {
    let (tag, contents, _) = tlv(der).ok_or("truncated PKCS #8 key")?;
    let items = elements(contents).ok_or("truncated PKCS #8 key")?;
    let (Some((TAG_SEQUENCE, alg)), Some((TAG_OCTET_STRING, inner))) = (items.get(1), items.get(2))
    else {
        return Err("not a PKCS #8 private key".into());
    };
    if tag != TAG_SEQUENCE {
        return Err("not a PKCS #8 private key".into());
    }
    let alg = elements(alg).ok_or("truncated algorithm identifier")?;
    let Some((TAG_OID, oid)) = alg.first() else {
        return Err("no key algorithm".into());
    };
    match *oid {
        // rsaEncryption
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01] => rsa_public(inner),
        // id-ecPublicKey
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01] => sec1_public(inner),
        // id-Ed25519: the private key is an OCTET STRING holding the 32-byte seed.
        [0x2b, 0x65, 0x70] => {
            let (t, seed, _) = tlv(inner).ok_or("truncated Ed25519 key")?;
            if t != TAG_OCTET_STRING {
                return Err("not an Ed25519 key".into());
            }
            let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed)
                .map_err(|_| "not an Ed25519 seed".to_owned())?;
            Ok(Some(PublicHalf::Point(
                ring::signature::KeyPair::public_key(&pair)
                    .as_ref()
                    .to_vec(),
            )))
        }
        _ => Ok(None),
    }
}

/// Whether `host` looks internal: a single label, a reserved or conventional private suffix
/// (`.local`, `.internal`, `.svc`, `.cluster.local`, `.lan`, `.home.arpa`, `.corp`, `.test`,
/// `.localhost`), an `internal` label anywhere (`grafana.internal.example.com`), or a private
/// IP address. Certificates from a private CA are expected on such hosts.
#[must_use]
pub fn internal_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if let Ok(ip) = host.parse::<IpAddr>() {
        return match ip {
            IpAddr::V4(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
            IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
        };
    }
    if !host.contains('.') {
        return true;
    }
    const SUFFIXES: &[&str] = &[
        "local",
        "internal",
        "svc",
        "lan",
        "home.arpa",
        "corp",
        "test",
        "localhost",
        "intranet",
        "private",
    ];
    SUFFIXES
        .iter()
        .any(|s| host.ends_with(&format!(".{s}")) || host == *s)
        || host.split('.').any(|l| l == "internal" || l == "intranet")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/certs/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn chain(name: &str) -> Chain {
        analyze(
            &fixture(&format!("{name}.crt")),
            None,
            Some(&fixture(&format!("{name}.key"))),
        )
    }

    #[test]
    fn a_good_chain_reads_completely() {
        let c = chain("good");
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(c.certificates.len(), 2);
        let leaf = c.leaf().unwrap();
        assert_eq!(leaf.common_name.as_deref(), Some("shop.example.com"));
        assert_eq!(leaf.dns_names, ["shop.example.com", "www.shop.example.com"]);
        assert_eq!(leaf.key_algorithm, "EC P-256");
        assert_eq!(leaf.key_bits, 256);
        assert_eq!(leaf.signature_algorithm, "sha256WithRSAEncryption");
        assert_eq!(leaf.not_after.to_string(), "2036-01-01T00:00:00Z");
        assert!(!leaf.is_ca && !leaf.self_signed && leaf.weak_key().is_none());
        assert!(!leaf.weak_signature());
        assert_eq!(leaf.sha256.len(), 95);
        assert!(c.order_problems.is_empty());
        // The chain ends at the intermediate, issued by a private root not in the Secret.
        assert_eq!(
            c.anchor,
            Some(Anchor::Missing {
                issuer: "CN=Tollgate Test Root CA, O=Tollgate tests".into(),
                last_is_ca: true,
            })
        );
        assert_eq!(c.key, KeyCheck::Matches);
    }

    #[test]
    fn ca_crt_anchors_the_chain() {
        let c = analyze(&fixture("good.crt"), Some(&fixture("root.crt")), None);
        assert!(matches!(c.anchor, Some(Anchor::CaCrt { .. })), "{c:?}");
        assert_eq!(c.key, KeyCheck::Absent);
        // Without the intermediate, the root in ca.crt does not issue the leaf.
        let c = analyze(
            &fixture("missing-intermediate.crt"),
            Some(&fixture("root.crt")),
            None,
        );
        assert!(
            matches!(c.anchor, Some(Anchor::Missing { ref issuer, last_is_ca: false })
                if issuer.contains("Intermediate"))
        );
    }

    #[test]
    fn key_encodings_are_all_compared() {
        // PKCS#1 RSA, SEC1 EC, PKCS#8 EC and RSA.
        for name in ["expired", "p224", "good", "rsa1024"] {
            assert_eq!(chain(name).key, KeyCheck::Matches, "{name}");
        }
        assert_eq!(chain("wrong-key").key, KeyCheck::Mismatch);
        let c = analyze(&fixture("good.crt"), None, Some(b"not a key"));
        assert_eq!(c.key, KeyCheck::NotPem);
        let c = analyze(&fixture("good.crt"), None, Some(&fixture("good.crt")));
        assert_eq!(
            c.key,
            KeyCheck::Unreadable("`tls.key` holds `CERTIFICATE` PEM, not a private key".into())
        );
        let broken = b"-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n";
        let c = analyze(&fixture("good.crt"), None, Some(broken));
        assert!(matches!(c.key, KeyCheck::Unreadable(_)), "{:?}", c.key);
        // An RSA key against an EC certificate.
        let c = analyze(&fixture("good.crt"), None, Some(&fixture("rsa1024.key")));
        assert_eq!(c.key, KeyCheck::Mismatch);
    }

    #[test]
    fn weak_keys_and_signatures() {
        let c = chain("rsa1024");
        assert_eq!(c.leaf().unwrap().key_bits, 1024);
        assert!(c.leaf().unwrap().weak_key().unwrap().contains("1024"));
        let c = chain("p224");
        assert_eq!(c.leaf().unwrap().key_algorithm, "EC P-224");
        assert!(c.leaf().unwrap().weak_key().is_some());
        let c = chain("sha1");
        assert_eq!(
            c.leaf().unwrap().signature_algorithm,
            "sha1WithRSAEncryption"
        );
        assert!(c.leaf().unwrap().weak_signature());
        assert!(!c.certificates[1].weak_signature());
    }

    #[test]
    fn self_signed_and_order() {
        let c = chain("selfsigned");
        assert!(c.leaf().unwrap().self_signed);
        assert_eq!(c.anchor, Some(Anchor::SelfSigned));
        let c = chain("out-of-order");
        assert_eq!(c.order_problems.len(), 1, "{:?}", c.order_problems);
        assert!(c.order_problems[0].contains("must come first"));
        assert_eq!(
            c.leaf().unwrap().common_name.as_deref(),
            Some("Tollgate Test Intermediate CA")
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in [
            &b""[..],
            b"garbage",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            let c = analyze(input, Some(input), Some(input));
            assert!(c.certificates.is_empty());
            assert!(c.unusable().is_some(), "{input:?}");
        }
        // Truncated DER inside a key never panics either.
        for n in 0..40 {
            let der: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
            let _ = rsa_public(&der);
            let _ = sec1_public(&der);
            let _ = pkcs8_public(&der);
        }
    }

    /// Every byte of real certificates and keys flipped, and every truncation: never a panic.
    #[test]
    fn mutated_der_never_panics() {
        let pem = |label: &str, der: &[u8]| {
            let b64 = serde_json::to_value(k8s_openapi::ByteString(der.to_vec())).unwrap();
            format!(
                "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
                b64.as_str().unwrap()
            )
        };
        let (ders, _) = pem_certificates(&fixture("sha1.crt"));
        let key = PrivateKeyDer::from_pem_slice(&fixture("expired.key")).unwrap();
        let PrivateKeyDer::Pkcs1(key) = key else {
            panic!("expired.key is PKCS #1")
        };
        let key = key.secret_pkcs1_der().to_vec();
        for (label, der) in [("CERTIFICATE", &ders[0]), ("RSA PRIVATE KEY", &key)] {
            for i in (0..der.len()).step_by(3) {
                let mut flipped = der.clone();
                flipped[i] ^= 0x5a;
                for bytes in [&flipped[..], &der[..i]] {
                    let text = pem(label, bytes);
                    let c = analyze(
                        text.as_bytes(),
                        Some(text.as_bytes()),
                        Some(text.as_bytes()),
                    );
                    let _ = c.leaf().map(|l| (l.covers("a.example.com"), l.weak_key()));
                    let _ = describe_der(bytes);
                    let _ = analyze(&fixture("expired.crt"), None, Some(text.as_bytes()));
                }
            }
        }
    }

    #[test]
    fn rfc_6125_wildcards_cover_one_label() {
        let c = chain("wildcard");
        let leaf = c.leaf().unwrap();
        assert!(leaf.covers("a.example.org"));
        assert!(leaf.covers("A.Example.Org."));
        assert!(!leaf.covers("example.org"));
        assert!(!leaf.covers("a.b.example.org"));
        assert!(!leaf.covers("*.example.org") || leaf.dns_names == ["*.example.org"]);
        assert!(!san_covers("*.com", "example.com"));
        assert!(!san_covers("f*.example.com", "foo.example.com"));
        assert!(!san_covers("*.example.com", "*.b.example.com"));
        // No CN fallback.
        assert!(
            !chain("cn-only")
                .leaf()
                .unwrap()
                .covers("cn-only.example.com")
        );
    }

    #[test]
    fn days_left_counts_whole_days() {
        let c = chain("expiring-soon");
        let leaf = c.leaf().unwrap();
        let at: Timestamp = "2026-11-22T00:00:00Z".parse().unwrap();
        assert_eq!(leaf.days_left(at), 20);
        let at: Timestamp = "2026-12-11T00:00:01Z".parse().unwrap();
        assert_eq!(leaf.days_left(at), 0);
        let at: Timestamp = "2026-12-13T00:00:01Z".parse().unwrap();
        assert_eq!(leaf.days_left(at), -1);
    }

    #[test]
    fn internal_hosts() {
        for h in [
            "grafana.internal.example.com",
            "svc.ns.svc.cluster.local",
            "intranet",
            "10.1.2.3",
            "app.corp",
        ] {
            assert!(internal_host(h), "{h}");
        }
        for h in ["shop.example.com", "8.8.8.8", "internals.example.com"] {
            assert!(!internal_host(h), "{h}");
        }
    }
}
