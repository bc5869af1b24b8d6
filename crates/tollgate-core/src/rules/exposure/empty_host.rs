use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Ingress rules with HTTP paths but no `host`.
    ///
    /// ## Why is this bad?
    /// A rule without a host matches requests for *any* Host header, including the load
    /// balancer's bare IP address and every name pointed at it. Scanners that sweep IP ranges
    /// reach the backend directly, and one such rule shadows the catch-all behaviour of the
    /// whole controller.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   rules:
    ///     - http:
    ///         paths:
    ///           - path: /
    ///             pathType: Prefix
    ///             backend: {service: {name: web, port: {number: 80}}}
    /// ```
    ///
    /// ## How to fix
    /// Give the rule the host it is meant to serve.
    /// ```yaml
    /// spec:
    ///   rules:
    ///     - host: shop.example.com
    ///       http: ...
    /// ```
    ///
    /// ## References
    /// - Kyverno `disallow-empty-ingress-host`, Gatekeeper `K8sBlockWildcardIngress`
    pub struct EmptyHost {
        code: "TG102",
        name: "empty-host",
        category: Exposure,
        severity: Medium,
        summary: "An Ingress rule has no host and answers for any Host header",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for EmptyHost {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for entry in &cx.inventory.ingresses {
            let (_, ing) = cx.inventory.ingress(entry);
            let rules = ing.spec.iter().flat_map(|s| s.rules.iter().flatten());
            for (i, rule) in rules.enumerate() {
                let has_host = rule.host.as_deref().is_some_and(|h| !h.is_empty());
                if has_host || rule.http.is_none() {
                    continue;
                }
                out.report(
                    entry.object,
                    format!("/spec/rules/{i}"),
                    "rule has no host, so it answers for any Host header",
                );
            }
        }
    }
}
