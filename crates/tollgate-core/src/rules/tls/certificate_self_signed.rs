use crate::cert::{FAKE_CERTIFICATE_CN, internal_host};
use crate::config::glob_matches;
use crate::rules::prelude::*;
use crate::rules::tls::served;

declare_rule! {
    /// ## What it does
    /// Flags a TLS Secret whose leaf certificate is self-signed (issuer equals subject and the
    /// signature verifies with its own key) when it serves a public host. Hosts that look
    /// internal (single labels, `.local`, `.internal`, `.svc`, `.cluster.local`, `.corp`, an
    /// `internal` label, private IPs) are left alone unless `publicHosts` lists them.
    /// ingress-nginx's made-up "Kubernetes Ingress Controller Fake Certificate" is named as such.
    ///
    /// ## Why is this bad?
    /// No client trusts it: browsers warn, API clients fail unless verification is switched
    /// off, and users learn to accept any certificate, which is exactly what an interception
    /// attack needs.
    ///
    /// ## Example
    /// ```text
    /// subject=CN = selfsigned.example.com
    /// issuer=CN = selfsigned.example.com
    /// ```
    ///
    /// ## How to fix
    /// Use a certificate from a public CA (cert-manager with an ACME issuer):
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     cert-manager.io/cluster-issuer: letsencrypt
    /// ```
    ///
    /// ## References
    /// - testssl.sh `cert_chain_of_trust`; sslyze path validation
    pub struct CertificateSelfSigned {
        code: "TG210",
        name: "certificate-self-signed",
        category: Tls,
        severity: High,
        summary: "A public host is served with a self-signed certificate",
        needs: [Secret],
        since: "0.1.0",
    }
}

impl Rule for CertificateSelfSigned {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for s in served(cx.inventory) {
            let leaf = s.chain.leaf().expect("served chains have a leaf");
            if !leaf.self_signed {
                continue;
            }
            let public: Vec<&str> = s
                .hosts()
                .into_iter()
                .filter(|h| {
                    !internal_host(h)
                        || cx
                            .options
                            .public_hosts
                            .iter()
                            .any(|g| glob_matches(g, &h.to_ascii_lowercase()))
                })
                .collect();
            let Some(first) = public.first() else {
                continue;
            };
            let what = if leaf.common_name.as_deref() == Some(FAKE_CERTIFICATE_CN) {
                "holds ingress-nginx's self-signed \"Kubernetes Ingress Controller Fake \
                 Certificate\""
                    .to_owned()
            } else {
                format!(
                    "holds a self-signed certificate (`{}`)",
                    leaf.common_name.as_deref().unwrap_or(&leaf.subject)
                )
            };
            let hosts: Vec<String> = public.iter().map(|h| format!("`{h}`")).collect();
            out.report(
                s.object,
                s.pointer,
                format!(
                    "secret `{}` {what} and serves public host{} {}",
                    s.secret_name(),
                    if public.len() == 1 { "" } else { "s" },
                    hosts.join(", ")
                ),
            )
            .host(*first);
        }
    }
}
