//! Gateway API: listeners, certificates, route attachment, references across namespaces, route
//! conflicts and access control on HTTPRoutes and their kin.
//!
//! The rules read what the inventory resolved (`inventory/gateway.rs`): which listeners a route
//! attaches to and why not, what each certificateRef and backendRef points at, and the access
//! posture from implementation policies. Where the objects needed to decide were not given, the
//! inventory says so and the rules stay quiet.

/// `cross-namespace-ref-without-grant` (TG906).
pub mod cross_namespace_ref_without_grant;
/// `duplicate-route-hostname-path` (TG907).
pub mod duplicate_route_hostname_path;
/// `gateway-backend-not-isolated` (TG909).
pub mod gateway_backend_not_isolated;
/// `gateway-certificate-ref-invalid` (TG902).
pub mod gateway_certificate_ref_invalid;
/// `gateway-listener-without-tls` (TG901).
pub mod gateway_listener_without_tls;
/// `gateway-wildcard-hostname` (TG903).
pub mod gateway_wildcard_hostname;
/// `route-backend-missing` (TG905).
pub mod route_backend_missing;
/// `route-not-accepted` (TG904).
pub mod route_not_accepted;
/// `route-without-auth` (TG908).
pub mod route_without_auth;

use std::collections::BTreeSet;

use crate::inventory::{Backend, GatewayRouteEntry, Inventory};

/// How a Gateway API route object is served, for the TLS rules: the hostnames its rules with
/// backends answer for, and the listeners (name, Gateway `ns/name`) by protocol.
pub(crate) struct ServedRoute {
    /// Index into [`Inventory::gateway_routes`].
    pub(crate) route: usize,
    /// Hostnames of its rules that send traffic to a backend (not redirects).
    pub(crate) hosts: BTreeSet<String>,
    /// HTTP listeners it is attached to.
    pub(crate) http: BTreeSet<String>,
    /// HTTPS (or terminating TLS) listeners it is attached to.
    pub(crate) https: BTreeSet<String>,
}

/// Every HTTPRoute and GRPCRoute whose listeners are known and that sends traffic somewhere.
pub(crate) fn served_routes(inv: &Inventory) -> Vec<ServedRoute> {
    let mut out: Vec<ServedRoute> = Vec::new();
    for route in &inv.routes {
        let Some(g) = &route.gateway else { continue };
        let kind = inv.objects[route.object].kind;
        if !matches!(
            kind,
            crate::object::Kind::HTTPRoute | crate::object::Kind::GRPCRoute
        ) || g.listeners.is_empty()
            || !matches!(route.backend, Backend::Service { .. })
        {
            continue;
        }
        if out.last().is_none_or(|s| s.route != g.route) {
            let mut s = ServedRoute {
                route: g.route,
                hosts: BTreeSet::new(),
                http: BTreeSet::new(),
                https: BTreeSet::new(),
            };
            for &(gw, l) in &g.listeners {
                let (o, body) = inv.gateway(&inv.gateways[gw]);
                let Some(listener) = body.spec.listeners.get(l) else {
                    continue;
                };
                let name = format!("`{}` of Gateway `{}/{}`", listener.name, o.ns(), o.name);
                match listener.protocol.as_str() {
                    "HTTP" => s.http.insert(name),
                    "HTTPS" | "TLS" => s.https.insert(name),
                    _ => false,
                };
            }
            out.push(s);
        }
        if let (Some(s), Some(h)) = (out.last_mut(), &route.host) {
            s.hosts.insert(h.clone());
        }
    }
    out
}

/// `a`, `b` and `c`.
pub(crate) fn list(items: &BTreeSet<String>) -> String {
    items.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// `HTTPRoute shop/web`, for messages.
pub(crate) fn route_name(inv: &Inventory, entry: &GatewayRouteEntry) -> String {
    inv.objects[entry.object].object_ref().to_string()
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::fixture_tests;

    fixture_tests! {
        gateway_listener_without_tls => "gateway-listener-without-tls",
        gateway_certificate_ref_invalid => "gateway-certificate-ref-invalid",
        gateway_wildcard_hostname => "gateway-wildcard-hostname",
        route_not_accepted => "route-not-accepted",
        route_backend_missing => "route-backend-missing",
        cross_namespace_ref_without_grant => "cross-namespace-ref-without-grant",
        duplicate_route_hostname_path => "duplicate-route-hostname-path",
        route_without_auth => "route-without-auth",
        gateway_backend_not_isolated => "gateway-backend-not-isolated",
    }
}
