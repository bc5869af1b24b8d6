use crate::cert::internal_host;
use crate::rules::prelude::*;
use crate::rules::tls::served;

declare_rule! {
    /// ## What it does
    /// Flags each host of an Ingress's `tls[].hosts` that the certificate of that entry's
    /// Secret does not name in its subjectAltName. Wildcards follow RFC 6125: `*.example.com`
    /// covers `shop.example.com` but neither `example.com` nor `a.shop.example.com`. The
    /// subject's common name is not consulted, as browsers have not for years.
    ///
    /// ## Why is this bad?
    /// Clients reject the connection with a name mismatch (`NET::ERR_CERT_COMMON_NAME_INVALID`,
    /// `curl: (60) SSL: no alternative certificate subject name matches`). The Ingress looks
    /// configured for TLS while the host is unusable over HTTPS.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   tls:
    ///     - hosts: [api.shop.example.com]   # the certificate names only shop.example.com
    ///       secretName: shop-tls
    /// ```
    ///
    /// ## How to fix
    /// Reissue the certificate with the host among its DNS names (with cert-manager, add it to
    /// the Certificate's `dnsNames`, or to `tls[].hosts` when ingress-shim makes the
    /// Certificate), or point the entry at a Secret whose certificate covers it.
    ///
    /// ## References
    /// - RFC 6125 §6.4; sslyze path validation; testssl.sh `cert_subjectAltName`
    pub struct CertificateHostMismatch {
        code: "TG207",
        name: "certificate-host-mismatch",
        category: Tls,
        severity: High,
        summary: "A TLS host is not named by the certificate that serves it",
        needs: [Secret],
        since: "0.1.0",
    }
}

impl Rule for CertificateHostMismatch {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for s in served(cx.inventory) {
            let leaf = s.chain.leaf().expect("served chains have a leaf");
            for user in &s.tls_use.users {
                for (j, host) in user.hosts.iter().enumerate() {
                    if leaf.covers(host) {
                        continue;
                    }
                    let names = if leaf.dns_names.is_empty() && leaf.ip_addresses.is_empty() {
                        "has no subjectAltName (clients ignore the common name)".to_owned()
                    } else {
                        let all: Vec<String> = leaf
                            .dns_names
                            .iter()
                            .chain(&leaf.ip_addresses)
                            .map(|n| format!("`{n}`"))
                            .collect();
                        format!("names only {}", all.join(", "))
                    };
                    let d = out.report(
                        user.object,
                        user.host_pointers[j].clone(),
                        format!(
                            "host `{host}` is served with secret `{}`, whose certificate {names}",
                            s.secret_name()
                        ),
                    );
                    d.host(host.clone());
                    if internal_host(host) {
                        d.help(
                            "an internal name still needs to be in the certificate's DNS names; \
                             reissue it with the host",
                        );
                    }
                }
            }
        }
    }
}
