use super::tls_from_annotations;
use crate::rules::prelude::*;
use crate::rules::routing::support::is_acme_solver;

declare_rule! {
    /// ## What it does
    /// Flags Ingresses that route named hosts but have no `spec.tls`, unless their controller
    /// terminates TLS by its own means (an AWS ALB `certificate-arn`, a GKE pre-shared or
    /// managed certificate). cert-manager's temporary HTTP-01 solver Ingresses are exempt.
    ///
    /// A Gateway API HTTPRoute or GRPCRoute is reported when it sends traffic to a backend only
    /// through plain `HTTP` listeners (an HTTPS listener without a certificate is
    /// `gateway-listener-without-tls`'s).
    ///
    /// ## Why is this bad?
    /// Without TLS, requests, cookies and credentials cross the network in clear text and can
    /// be read or altered by anyone on the path. Browsers mark the site as not secure.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   rules:
    ///     - host: shop.example.com
    /// ```
    ///
    /// ## How to fix
    /// Add a `tls` entry with the hosts and a `kubernetes.io/tls` Secret (cert-manager can issue it).
    /// ```yaml
    /// spec:
    ///   tls:
    ///     - hosts: [shop.example.com]
    ///       secretName: shop-tls
    /// ```
    /// If TLS terminates in front of the cluster, suppress the rule for that Ingress with a reason.
    ///
    /// ## References
    /// - Polaris `tlsSettingsMissing`, kubescape C-0263, Gatekeeper `K8sHttpsOnly`
    pub struct TlsMissing {
        code: "TG201",
        name: "tls-missing",
        category: Tls,
        severity: High,
        summary: "An Ingress serves named hosts without TLS",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for TlsMissing {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for entry in &cx.inventory.ingresses {
            let (object, ing) = cx.inventory.ingress(entry);
            let Some(spec) = &ing.spec else { continue };
            if spec.tls.as_ref().is_some_and(|t| !t.is_empty()) {
                continue;
            }
            let hosts: Vec<&str> = spec
                .rules
                .iter()
                .flatten()
                .filter_map(|r| r.host.as_deref())
                .filter(|h| !h.is_empty())
                .collect();
            if hosts.is_empty() || is_acme_solver(object) {
                continue;
            }
            if tls_from_annotations(object, entry.class.controller.as_ref()).is_some() {
                continue;
            }
            let shown = if hosts.len() > 3 {
                format!("{} and {} more", hosts[..3].join(", "), hosts.len() - 3)
            } else {
                hosts.join(", ")
            };
            out.report(entry.object, "/spec/rules", format!("no TLS for {shown}"))
                .host(hosts[0]);
        }
        // Gateway API routes served only by plain HTTP listeners.
        let inv = cx.inventory;
        for s in crate::rules::gateway_api::served_routes(inv) {
            if !s.https.is_empty() || s.hosts.is_empty() {
                continue;
            }
            let entry = &inv.gateway_routes[s.route];
            let (_, route) = inv.gateway_route(entry);
            let pointer = if route.spec.hostnames.is_empty() {
                "/spec/parentRefs"
            } else {
                "/spec/hostnames"
            };
            let first = s.hosts.iter().next().cloned().unwrap_or_default();
            out.report(
                entry.object,
                pointer,
                format!(
                    "no TLS for {}: served only on HTTP listener {}",
                    crate::rules::gateway_api::list(&s.hosts),
                    crate::rules::gateway_api::list(&s.http)
                ),
            )
            .host(first)
            .help(
                "Attach the route to an HTTPS listener that names a certificate (`sectionName`), \
                 and redirect the HTTP listener with a `RequestRedirect` route.",
            );
        }
    }
}
