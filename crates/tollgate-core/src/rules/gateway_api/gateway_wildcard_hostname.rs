use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a Gateway listener whose `hostname` is a wildcard (`*.example.com`).
    ///
    /// ## Why is this bad?
    /// A wildcard listener admits routes for every name under the domain, at any depth (the
    /// Gateway API matches `*.example.com` against `a.example.com` and `a.b.example.com`). With
    /// `allowedRoutes` open to other namespaces, any team that may create an HTTPRoute can claim
    /// a name under the company's domain on this Gateway, and with a wildcard certificate the
    /// claim is served over trusted HTTPS. Subdomain takeover and phishing on the company's own
    /// domain begin here.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Gateway
    /// spec:
    ///   listeners:
    ///     - {name: https, protocol: HTTPS, port: 443, hostname: "*.example.com",
    ///        allowedRoutes: {namespaces: {from: All}}}
    /// ```
    ///
    /// ## How to fix
    /// Give each listener the hostname it serves, or restrict `allowedRoutes` to the namespaces
    /// that own the domain.
    /// ```yaml
    ///     - {name: shop, protocol: HTTPS, port: 443, hostname: shop.example.com}
    /// ```
    ///
    /// ## References
    /// - Gateway API `Listener.hostname` (wildcard semantics); rule-anchors EXP-01 (wildcard
    ///   hosts on Ingress: Kyverno, Gatekeeper)
    pub struct GatewayWildcardHostname {
        code: "TG903",
        name: "gateway-wildcard-hostname",
        category: GatewayApi,
        severity: Medium,
        summary: "A Gateway listener serves a wildcard hostname",
        needs: [],
        since: "0.2.0",
    }
}

impl Rule for GatewayWildcardHostname {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for entry in &inv.gateways {
            let (object, gw) = inv.gateway(entry);
            for (l, listener) in gw.spec.listeners.iter().enumerate() {
                let Some(host) = listener.hostname.as_deref().filter(|h| h.starts_with('*')) else {
                    continue;
                };
                let from = listener
                    .allowed_routes
                    .as_ref()
                    .and_then(|a| a.namespaces.as_ref())
                    .and_then(|n| n.from.as_deref())
                    .unwrap_or("Same");
                let reach = match from {
                    "All" => " and routes from every namespace may attach",
                    "Selector" => " and routes from the selected namespaces may attach",
                    _ => "",
                };
                out.report(
                    entry.object,
                    format!("/spec/listeners/{l}/hostname"),
                    format!(
                        "listener `{}` of Gateway `{}` serves `{host}`: every name under it, at \
                         any depth{reach}",
                        listener.name, object.name
                    ),
                )
                .host(host.to_owned());
            }
        }
    }
}
