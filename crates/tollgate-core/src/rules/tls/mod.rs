//! TLS: whether routes are encrypted, and with which certificate.

/// `backend-tls-unverified` (TG212).
pub mod backend_tls_unverified;
/// `certificate-chain-incomplete` (TG211).
pub mod certificate_chain_incomplete;
/// `certificate-expired` (TG205).
pub mod certificate_expired;
/// `certificate-expiring` (TG206).
pub mod certificate_expiring;
/// `certificate-host-mismatch` (TG207).
pub mod certificate_host_mismatch;
/// `certificate-self-signed` (TG210).
pub mod certificate_self_signed;
/// `certificate-weak-key` (TG208).
pub mod certificate_weak_key;
/// `certificate-weak-signature` (TG209).
pub mod certificate_weak_signature;
/// `plain-http-allowed` (TG202).
pub mod plain_http_allowed;
/// `tls-host-not-covered` (TG203).
pub mod tls_host_not_covered;
/// `tls-missing` (TG201).
pub mod tls_missing;
/// `tls-secret-missing` (TG204).
pub mod tls_secret_missing;

use crate::cert::{Certificate, Chain};
use crate::controller::Controller;
use crate::inventory::{Inventory, TlsUse};
use crate::object::{CertManagerCertificate, Object, Resource};

/// A TLS Secret that routes serve and whose `tls.crt` was read.
pub(crate) struct Served<'a> {
    /// Who names it.
    pub(crate) tls_use: &'a TlsUse,
    /// Index of the Secret.
    pub(crate) object: usize,
    /// Its certificates.
    pub(crate) chain: &'a Chain,
    /// Pointer to `tls.crt`.
    pub(crate) pointer: &'a str,
}

impl Served<'_> {
    /// The certificates a client judges: the leaf and the intermediates, without a self-signed
    /// root the chain carries (clients use their own copy of a root), with their position.
    pub(crate) fn judged(&self) -> impl Iterator<Item = (usize, &Certificate)> {
        self.chain
            .certificates
            .iter()
            .enumerate()
            .filter(|(i, c)| *i == 0 || !(c.self_signed && c.is_ca))
    }

    /// `ns/name`, e.g. for messages.
    pub(crate) fn secret_name(&self) -> String {
        format!("{}/{}", self.tls_use.namespace, self.tls_use.name)
    }

    /// Every host the Secret serves, from the naming `tls[].hosts`, deduplicated.
    pub(crate) fn hosts(&self) -> Vec<&str> {
        let mut hosts: Vec<&str> = self
            .tls_use
            .users
            .iter()
            .flat_map(|u| u.hosts.iter().map(String::as_str))
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        hosts
    }

    /// Who serves it, for messages: "`a.example.com`, `b.example.com` (Ingress ns/x)".
    pub(crate) fn served_by(&self, inv: &Inventory) -> String {
        let mut ingresses: Vec<&str> = self
            .tls_use
            .users
            .iter()
            .map(|u| inv.objects[u.object].name.as_str())
            .collect();
        ingresses.sort_unstable();
        ingresses.dedup();
        let hosts = self.hosts();
        let gateways = self
            .tls_use
            .users
            .iter()
            .all(|u| inv.objects[u.object].kind == crate::object::Kind::Gateway);
        let what = match (gateways, ingresses.len()) {
            (true, 1) => "Gateway",
            (true, _) => "Gateways",
            (false, 1) => "Ingress",
            (false, _) => "Ingresses",
        };
        let list = ingresses.join(", ");
        if hosts.is_empty() {
            format!("served by {what} {list}")
        } else {
            let hosts: Vec<String> = hosts.iter().map(|h| format!("`{h}`")).collect();
            format!("serves {} ({what} {list})", hosts.join(", "))
        }
    }

    /// Reports `problems` (if any) on `tls.crt`: "problem; problem; secret `ns/x` serves …".
    pub(crate) fn report(
        &self,
        cx: &crate::rules::Context<'_>,
        out: &mut crate::rules::Diagnostics,
        problems: &[String],
    ) {
        if problems.is_empty() {
            return;
        }
        let message = format!(
            "{}; secret `{}` {}",
            problems.join("; "),
            self.secret_name(),
            self.served_by(cx.inventory)
        );
        let d = out.report(self.object, self.pointer, message);
        if let Some(h) = self.hosts().first() {
            d.host(*h);
        }
    }

    /// The cert-manager Certificate writing this Secret, when it is not Ready: "; cert-manager
    /// Certificate `x` is not Ready: reason: message".
    pub(crate) fn cert_manager_note(&self, inv: &Inventory) -> String {
        cert_manager_note(inv, self.tls_use)
    }
}

/// "; cert-manager Certificate `x` is not Ready (Reason: message)", or "" when no Certificate
/// writes the Secret or it is Ready or its status is unknown.
pub(crate) fn cert_manager_note(inv: &Inventory, tls_use: &TlsUse) -> String {
    let Some(i) = tls_use.certificate else {
        return String::new();
    };
    let Resource::Certificate(c) = &inv.objects[i].resource else {
        return String::new();
    };
    not_ready_note(inv.objects[i].name.as_str(), c).unwrap_or_default()
}

/// "; cert-manager Certificate `name` is not Ready (Reason: message)" when it is not Ready.
pub(crate) fn not_ready_note(name: &str, c: &CertManagerCertificate) -> Option<String> {
    let cond = c.not_ready()?;
    let mut out = format!("; cert-manager Certificate `{name}` is not Ready");
    match (cond.reason.as_deref(), cond.message.as_deref()) {
        (Some(r), Some(m)) => out.push_str(&format!(" ({r}: {m})")),
        (Some(r), None) => out.push_str(&format!(" ({r})")),
        (None, Some(m)) => out.push_str(&format!(" ({m})")),
        (None, None) => {}
    }
    Some(out)
}

/// Every TLS Secret routes serve whose `tls.crt` holds at least one certificate.
pub(crate) fn served(inv: &Inventory) -> Vec<Served<'_>> {
    inv.tls_uses
        .iter()
        .filter_map(|tls_use| {
            let object = tls_use.object?;
            let Resource::Secret(secret) = &inv.objects[object].resource else {
                return None;
            };
            let chain = secret.tls.as_deref()?;
            chain.leaf()?;
            let pointer = secret.tls_crt_pointer.as_deref()?;
            Some(Served {
                tls_use,
                object,
                chain,
                pointer,
            })
        })
        .collect()
}

/// How a certificate is named in messages: its CN, else its subject; "the leaf" or
/// "intermediate" by position.
pub(crate) fn describe(position: usize, c: &Certificate) -> String {
    let name = c.common_name.as_deref().unwrap_or(&c.subject);
    if position == 0 {
        format!("certificate `{name}`")
    } else {
        format!(
            "intermediate `{name}` (certificate {} of the chain)",
            position + 1
        )
    }
}

/// Whether the controller terminates TLS from its own annotations rather than `spec.tls`
/// (a certificate held by the cloud load balancer). Such Ingresses are not missing TLS.
pub(crate) fn tls_from_annotations(
    o: &Object,
    controller: Option<&Controller>,
) -> Option<&'static str> {
    match controller? {
        Controller::AwsAlb => o
            .annotation("alb.ingress.kubernetes.io/certificate-arn")
            .map(|_| "alb.ingress.kubernetes.io/certificate-arn"),
        Controller::Gce => [
            "ingress.gcp.kubernetes.io/pre-shared-cert",
            "networking.gke.io/managed-certificates",
        ]
        .into_iter()
        .find(|k| o.annotation(k).is_some()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::fixture_tests;

    fixture_tests! {
        tls_missing => "tls-missing",
        tls_host_not_covered => "tls-host-not-covered",
        tls_secret_missing => "tls-secret-missing",
        plain_http_allowed => "plain-http-allowed",
        backend_tls_unverified => "backend-tls-unverified",
        certificate_expired => "certificate-expired",
        certificate_expiring => "certificate-expiring",
        certificate_host_mismatch => "certificate-host-mismatch",
        certificate_weak_key => "certificate-weak-key",
        certificate_weak_signature => "certificate-weak-signature",
        certificate_self_signed => "certificate-self-signed",
        certificate_chain_incomplete => "certificate-chain-incomplete",
    }
}
