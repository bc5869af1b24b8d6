use crate::cert::{Anchor, internal_host};
use crate::rules::prelude::*;
use crate::rules::tls::served;

declare_rule! {
    /// ## What it does
    /// Flags a TLS Secret whose `tls.crt` is not a usable chain: certificates out of order
    /// (the leaf must come first, each followed by its issuer), or the leaf's issuer missing.
    /// The leaf's issuer counts as present when a certificate of `tls.crt` or of the Secret's
    /// `ca.crt` signed it, or when it is a root of the Mozilla programme. A chain that ends in
    /// an intermediate is complete: its issuer is a root, which clients hold and servers should
    /// not send. A leaf whose issuer is missing is reported when `tls.crt` carries more than
    /// the leaf (someone meant to include the chain) or when it serves a public host; a lone
    /// leaf on internal hosts is taken to come from a private CA that the clients hold.
    ///
    /// ## Why is this bad?
    /// Browsers often hide the problem by fetching or caching intermediates, but curl, Java,
    /// Go, mobile apps and webhooks do not: the route works in the browser and fails for
    /// every API client. A chain out of order is refused by stricter clients.
    ///
    /// ## Example
    /// ```text
    /// tls.crt: the leaf for shop.example.com only; its issuer, "R11", is not included
    /// ```
    ///
    /// ## How to fix
    /// Put the leaf first, then each intermediate up to (not including) the root; most CAs
    /// ship this as `fullchain.pem`. cert-manager writes the full chain itself.
    ///
    /// ## References
    /// - sslyze `received_chain_has_valid_order`; testssl.sh `cert_chain_of_trust`,
    ///   `certs_list_ordering_problem`; check_ssl_cert `--check-chain`
    pub struct CertificateChainIncomplete {
        code: "TG211",
        name: "certificate-chain-incomplete",
        category: Tls,
        severity: High,
        summary: "A served certificate chain lacks an intermediate or is out of order",
        needs: [Secret],
        since: "0.1.0",
    }
}

impl Rule for CertificateChainIncomplete {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for s in served(cx.inventory) {
            let public = s.hosts().iter().any(|h| !internal_host(h));
            let missing = match &s.chain.anchor {
                Some(Anchor::Missing {
                    issuer,
                    last_is_ca: false,
                }) if public || s.chain.certificates.len() > 1 => Some(format!(
                    "nothing in `tls.crt` or `ca.crt` issued `{}`, and its issuer \
                         `{issuer}` is not a well-known root: the intermediate is missing",
                    last_name(&s)
                )),
                _ => None,
            };
            if s.chain.order_problems.is_empty() && missing.is_none() {
                continue;
            }
            let mut problems = s.chain.order_problems.clone();
            problems.extend(missing.clone());
            let d = out.report(
                s.object,
                s.pointer,
                format!(
                    "secret `{}`: {}; it {}",
                    s.secret_name(),
                    problems.join("; "),
                    s.served_by(cx.inventory)
                ),
            );
            if missing.is_none() {
                d.severity(Severity::Medium);
            }
            if let Some(h) = s.hosts().first() {
                d.host(*h);
            }
        }
    }
}

/// The name of the certificate whose issuer is missing: the leaf, the first certificate that
/// is not a CA (it may not be written first).
fn last_name(s: &crate::rules::tls::Served<'_>) -> String {
    let c = s
        .chain
        .certificates
        .iter()
        .find(|c| !c.is_ca)
        .or(s.chain.leaf())
        .expect("served chains have a leaf");
    c.common_name.clone().unwrap_or_else(|| c.subject.clone())
}
