//! `tollgate certs`: the inventory of TLS Secrets that routes serve, one row per Secret, with
//! what the certificate says, how long it has left, and the findings about it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use crate::cert::{Anchor, Chain, KeyCheck};
use crate::engine::Finding;
use crate::inventory::{Inventory, TlsUse};
use crate::object::{Kind, Resource};
use crate::rules::Severity;

/// One TLS Secret as `certs --format json` prints it.
#[derive(Debug, Serialize)]
pub struct CertRow {
    /// Namespace.
    pub namespace: String,
    /// Secret name.
    pub secret: String,
    /// `ok` (read, with a certificate), `missing`, `not-in-scope` (Secrets of that namespace
    /// were not read), `no-certificate` (no `tls.crt`, wrong type, or unreadable).
    pub status: &'static str,
    /// Hosts served with it (`tls[].hosts` of the Ingresses naming it).
    pub hosts: Vec<String>,
    /// Ingresses naming it, `namespace/name`, and Gateways whose listeners name it,
    /// `Gateway namespace/name`.
    pub ingresses: Vec<String>,
    /// The leaf, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf: Option<LeafSummary>,
    /// Certificates in `tls.crt`.
    pub chain_length: usize,
    /// Where the chain ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_anchor: Option<Anchor>,
    /// Whether `tls.key` belongs to the leaf.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_check: Option<KeyCheck>,
    /// The cert-manager Certificate writing it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_manager: Option<CertManagerSummary>,
    /// Findings about the Secret or its use.
    pub findings: Vec<CertFinding>,
    /// What the hosts actually serve, with `--probe`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<Probe>,
}

/// The leaf certificate's facts.
#[derive(Debug, Serialize)]
pub struct LeafSummary {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Subject alternative names (DNS and IP).
    pub sans: Vec<String>,
    /// Serial number.
    pub serial: String,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
    /// Whole days left at the report's instant; negative once expired.
    pub days_left: i64,
    /// `RSA 2048`, `EC P-256 256`, …
    pub key: String,
    /// Signature algorithm.
    pub signature: String,
    /// SHA-256 fingerprint.
    pub sha256: String,
}

/// The cert-manager Certificate behind a Secret.
#[derive(Debug, Serialize)]
pub struct CertManagerSummary {
    /// Its name.
    pub certificate: String,
    /// `True`, `False`, `Unknown`, or absent when no status was read (manifests).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<String>,
    /// The Ready condition's reason, when not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A finding as the certificate inventory lists it.
#[derive(Debug, Serialize)]
pub struct CertFinding {
    /// Rule name.
    pub rule: &'static str,
    /// Rule code.
    pub code: &'static str,
    /// Severity in force.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
}

/// What a host served when probed.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    /// The host (SNI).
    pub host: String,
    /// The address connected to.
    pub address: String,
    /// `match` (the Secret's leaf), `differs`, `default-certificate` (the controller's own), or
    /// `error`.
    pub status: &'static str,
    /// The served leaf's subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served_subject: Option<String>,
    /// The served leaf's SHA-256 fingerprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served_sha256: Option<String>,
    /// The served leaf's end of validity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served_not_after: Option<Timestamp>,
    /// Why the probe failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Probe {
    /// Whether the host serves something else than its Secret.
    #[must_use]
    pub fn differs(&self) -> bool {
        matches!(self.status, "differs" | "default-certificate")
    }
}

/// The rows, sorted by days left (Secrets without a readable certificate first).
#[must_use]
pub fn rows(inv: &Inventory, findings: &[Finding], at: Timestamp) -> Vec<CertRow> {
    let uses = &inv.tls_uses;
    // Which Secret a finding is about: the Secret itself, or a `spec.tls[i]` entry naming it.
    let mut by_entry: BTreeMap<(usize, String), usize> = BTreeMap::new();
    let mut by_secret: BTreeMap<usize, usize> = BTreeMap::new();
    for (row, u) in uses.iter().enumerate() {
        if let Some(o) = u.object {
            by_secret.insert(o, row);
        }
        for user in &u.users {
            by_entry.insert((user.object, user.pointer.clone()), row);
        }
    }
    let mut attached: Vec<Vec<CertFinding>> = uses.iter().map(|_| Vec::new()).collect();
    for f in findings {
        let row = if inv.objects[f.object].kind == Kind::Secret {
            by_secret.get(&f.object)
        } else {
            entry_pointer(&f.pointer).and_then(|p| by_entry.get(&(f.object, p)))
        };
        if let Some(&row) = row {
            attached[row].push(CertFinding {
                rule: f.rule.name,
                code: f.rule.code,
                severity: f.severity,
                message: f.message.clone(),
            });
        }
    }
    let mut rows: Vec<CertRow> = uses
        .iter()
        .zip(attached)
        .map(|(u, findings)| row(inv, u, findings, at))
        .collect();
    rows.sort_by(|a, b| {
        let days = |r: &CertRow| r.leaf.as_ref().map_or(i64::MIN, |l| l.days_left);
        days(a)
            .cmp(&days(b))
            .then_with(|| (&a.namespace, &a.secret).cmp(&(&b.namespace, &b.secret)))
    });
    rows
}

/// The `spec.tls` index a pointer is under.
/// The `spec.tls` entry (`/spec/tls/0`) or listener (`/spec/listeners/1`) a pointer is under.
fn entry_pointer(pointer: &str) -> Option<String> {
    ["/spec/tls/", "/spec/listeners/"]
        .iter()
        .find_map(|prefix| {
            let index = pointer.strip_prefix(prefix)?.split('/').next()?;
            index
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| format!("{prefix}{index}"))
        })
}

fn row(inv: &Inventory, u: &TlsUse, findings: Vec<CertFinding>, at: Timestamp) -> CertRow {
    let mut hosts: Vec<String> = u.users.iter().flat_map(|x| x.hosts.clone()).collect();
    hosts.sort();
    hosts.dedup();
    let mut ingresses: Vec<String> = u
        .users
        .iter()
        .map(|x| {
            let o = &inv.objects[x.object];
            // Ingresses keep the `ns/name` form of this column; Gateways say what they are.
            if o.kind == Kind::Ingress {
                format!("{}/{}", o.ns(), o.name)
            } else {
                o.object_ref().to_string()
            }
        })
        .collect();
    ingresses.dedup();
    let secret = u.object.and_then(|i| match &inv.objects[i].resource {
        Resource::Secret(s) => Some(s),
        _ => None,
    });
    let chain: Option<&Chain> = secret.and_then(|s| s.tls.as_deref());
    let status = match (u.object, chain.and_then(Chain::leaf)) {
        (Some(_), Some(_)) => "ok",
        (Some(_), None) => "no-certificate",
        (None, _) if !inv.in_scope(Kind::Secret, &u.namespace) => "not-in-scope",
        (None, _) => "missing",
    };
    let leaf = chain.and_then(Chain::leaf).map(|c| LeafSummary {
        subject: c.subject.clone(),
        issuer: c.issuer.clone(),
        sans: c.dns_names.iter().chain(&c.ip_addresses).cloned().collect(),
        serial: c.serial.clone(),
        not_before: c.not_before,
        not_after: c.not_after,
        days_left: c.days_left(at),
        key: format!("{} {}", c.key_algorithm, c.key_bits),
        signature: c.signature_algorithm.clone(),
        sha256: c.sha256.clone(),
    });
    let cert_manager = u.certificate.and_then(|i| {
        let Resource::Certificate(c) = &inv.objects[i].resource else {
            return None;
        };
        let ready = c
            .status
            .as_ref()
            .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"));
        Some(CertManagerSummary {
            certificate: inv.objects[i].name.clone(),
            ready: ready.map(|r| r.status.clone()),
            reason: c.not_ready().and_then(|r| r.reason.clone()),
        })
    });
    CertRow {
        namespace: u.namespace.clone(),
        secret: u.name.clone(),
        status,
        hosts,
        ingresses,
        leaf,
        chain_length: chain.map_or(0, |c| c.certificates.len()),
        chain_anchor: chain.and_then(|c| c.anchor.clone()),
        key_check: chain.map(|c| c.key.clone()),
        cert_manager,
        findings,
        probes: Vec::new(),
    }
}

/// The rows as JSON: `{"at": …, "certificates": [...]}`.
#[must_use]
pub fn json(rows: &[CertRow], at: Timestamp) -> String {
    let v = serde_json::json!({ "at": at, "certificates": rows });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// The rows as a table, then one line per finding and probe under it.
#[must_use]
pub fn table(rows: &[CertRow], at: Timestamp, color: bool) -> String {
    let header = [
        "SECRET",
        "HOSTS",
        "SUBJECT",
        "ISSUER",
        "NOT AFTER",
        "DAYS",
        "KEY",
        "SIG",
        "CHAIN",
        "FINDINGS",
    ]
    .map(str::to_owned);
    let mut cells: Vec<[String; 10]> = Vec::new();
    for r in rows {
        let l = r.leaf.as_ref();
        cells.push([
            format!("{}/{}", r.namespace, r.secret),
            abbreviate(&r.hosts),
            l.map_or_else(|| format!("({})", r.status), |l| short_dn(&l.subject)),
            l.map_or_else(String::new, |l| short_dn(&l.issuer)),
            l.map_or_else(String::new, |l| {
                l.not_after.strftime("%Y-%m-%d").to_string()
            }),
            l.map_or_else(String::new, |l| l.days_left.to_string()),
            l.map_or_else(String::new, |l| l.key.clone()),
            l.map_or_else(String::new, |l| short_signature(&l.signature)),
            if r.chain_length == 0 {
                String::new()
            } else {
                r.chain_length.to_string()
            },
            r.findings.len().to_string(),
        ]);
    }
    let paint = |text: &str, code: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let mut table = vec![header];
    table.extend(cells);
    // Row 0 is the header; a row's colour says how soon its certificate expires.
    let row_style = |row: usize| match row.checked_sub(1).map(|i| rows[i].leaf.as_ref()) {
        None => Some("1"),
        Some(None) => Some("31"),
        Some(Some(l)) if l.days_left < 0 => Some("31"),
        Some(Some(l)) if l.days_left < 30 => Some("33"),
        Some(Some(_)) => None,
    };
    let mut lines = super::columns(&table, color, |row, _, _| row_style(row)).into_iter();
    let mut out = String::new();
    let push = |out: &mut String, line: String| {
        out.push_str(line.trim_end());
        out.push('\n');
    };
    push(&mut out, lines.next().unwrap_or_default());
    for (r, line) in rows.iter().zip(lines) {
        push(&mut out, line);
        for f in &r.findings {
            let _ = writeln!(
                out,
                "    {} {} {}: {}",
                paint(
                    &format!("{:<8}", f.severity.as_str()),
                    severity_color(f.severity)
                ),
                f.code,
                f.rule,
                f.message
            );
        }
        for p in &r.probes {
            let what = match (p.status, &p.served_subject, &p.error) {
                ("error", _, Some(e)) => format!("probe failed: {e}"),
                (status, Some(subject), _) => format!(
                    "serves {} ({status}, sha256 {})",
                    short_dn(subject),
                    p.served_sha256
                        .as_deref()
                        .map_or("", |s| &s[..s.len().min(23)])
                ),
                (status, _, _) => status.to_owned(),
            };
            let mark = if p.differs() {
                paint("differs ", "31")
            } else if p.status == "error" {
                paint("error   ", "33")
            } else {
                "match   ".to_owned()
            };
            let _ = writeln!(out, "    {mark} {} via {}: {what}", p.host, p.address);
        }
    }
    let expired = rows
        .iter()
        .filter(|r| r.leaf.as_ref().is_some_and(|l| l.days_left < 0))
        .count();
    let without = rows.iter().filter(|r| r.leaf.is_none()).count();
    let _ = writeln!(
        out,
        "\n{} TLS secret{} served by routes as of {}: {expired} expired, {without} without a readable certificate.",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        at.strftime("%Y-%m-%d %H:%M UTC"),
    );
    out
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low | Severity::Info => "36",
    }
}

/// The CN of a DN, else the DN.
fn short_dn(dn: &str) -> String {
    dn.split(", ")
        .find_map(|p| p.strip_prefix("CN="))
        .unwrap_or(dn)
        .to_owned()
}

fn short_signature(s: &str) -> String {
    s.replace("WithRSAEncryption", "-RSA")
        .replace("ecdsa-with-", "ECDSA-")
}

fn abbreviate(hosts: &[String]) -> String {
    match hosts {
        [] => "-".into(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} +{}", rest.len()),
    }
}
