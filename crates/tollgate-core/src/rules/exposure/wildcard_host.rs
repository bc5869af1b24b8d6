use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Ingress rules whose `host` is a wildcard (`*.example.com`, or `*`).
    ///
    /// Gateway API route `hostnames` starting with `*` are reported too (a Gateway listener's
    /// wildcard is `gateway-wildcard-hostname`'s).
    ///
    /// ## Why is this bad?
    /// A wildcard host answers for every subdomain, including ones nobody meant to publish:
    /// a forgotten `staging.example.com` DNS record, or a name another team creates later,
    /// lands on this backend. In a shared cluster it also lets one namespace claim traffic
    /// for a whole domain.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   rules:
    ///     - host: "*.example.com"
    /// ```
    ///
    /// ## How to fix
    /// Name each host explicitly.
    /// ```yaml
    /// spec:
    ///   rules:
    ///     - host: shop.example.com
    ///     - host: api.example.com
    /// ```
    ///
    /// ## References
    /// - Kyverno `restrict-ingress-wildcard`, Gatekeeper `K8sBlockWildcardIngress`
    pub struct WildcardHost {
        code: "TG101",
        name: "wildcard-host",
        category: Exposure,
        severity: High,
        summary: "An Ingress rule's host is a wildcard",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for WildcardHost {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for entry in &cx.inventory.ingresses {
            let (_, ing) = cx.inventory.ingress(entry);
            let rules = ing.spec.iter().flat_map(|s| s.rules.iter().flatten());
            for (i, rule) in rules.enumerate() {
                let Some(host) = rule.host.as_deref().filter(|h| h.starts_with('*')) else {
                    continue;
                };
                let what = if host == "*" {
                    "every host"
                } else {
                    "every subdomain"
                };
                out.report(
                    entry.object,
                    format!("/spec/rules/{i}/host"),
                    format!("host `{host}` matches {what}"),
                )
                .host(host);
            }
        }
        // Gateway API routes' hostnames (a listener's are `gateway-wildcard-hostname`'s).
        for entry in &cx.inventory.gateway_routes {
            let (_, route) = cx.inventory.gateway_route(entry);
            for (i, host) in route.spec.hostnames.iter().enumerate() {
                if !host.starts_with('*') {
                    continue;
                }
                out.report(
                    entry.object,
                    format!("/spec/hostnames/{i}"),
                    format!("hostname `{host}` matches every subdomain, at any depth"),
                )
                .host(host.clone());
            }
        }
    }
}
