use crate::controller::Controller;
use crate::inventory::host_matches;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags rule hosts of an Ingress that has `spec.tls` but lists none of its `tls[].hosts`
    /// covering that host. GKE Ingresses are exempt: GCE load balancers pick certificates by
    /// their names, not by `tls[].hosts`.
    ///
    /// ## Why is this bad?
    /// The controller serves that host without a matching certificate: clients get its default
    /// (often self-signed) certificate and a browser warning, or plain HTTP, while the Ingress
    /// looks like it has TLS. Usually a host was added to `rules` and forgotten in `tls`.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   tls:
    ///     - hosts: [shop.example.com]
    ///       secretName: shop-tls
    ///   rules:
    ///     - host: shop.example.com
    ///     - host: api.example.com     # not covered
    /// ```
    ///
    /// ## How to fix
    /// Add the host to a `tls` entry whose certificate covers it.
    ///
    /// ## References
    /// - Kyverno `ingress-host-match-tls`
    pub struct TlsHostNotCovered {
        code: "TG203",
        name: "tls-host-not-covered",
        category: Tls,
        severity: Medium,
        summary: "A host of an Ingress with TLS is not listed in any TLS entry",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for TlsHostNotCovered {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for entry in &cx.inventory.ingresses {
            let (_, ing) = cx.inventory.ingress(entry);
            let Some(spec) = &ing.spec else { continue };
            let Some(tls) = spec.tls.as_ref().filter(|t| !t.is_empty()) else {
                continue;
            };
            if entry.class.controller == Some(Controller::Gce) {
                continue;
            }
            let covered: Vec<&str> = tls
                .iter()
                .flat_map(|t| t.hosts.iter().flatten())
                .map(String::as_str)
                .collect();
            for (i, rule) in spec.rules.iter().flatten().enumerate() {
                let Some(host) = rule.host.as_deref().filter(|h| !h.is_empty()) else {
                    continue;
                };
                if covered.iter().any(|c| host_matches(c, host)) {
                    continue;
                }
                out.report(
                    entry.object,
                    format!("/spec/rules/{i}/host"),
                    format!("host `{host}` is not listed in any spec.tls entry"),
                )
                .host(host);
            }
        }
    }
}
