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

use crate::inventory::{GatewayRouteEntry, Inventory};

/// `HTTPRoute shop/web`, for messages.
pub(crate) fn route_name(inv: &Inventory, entry: &GatewayRouteEntry) -> String {
    let o = &inv.objects[entry.object];
    format!("{} {}/{}", o.kind, o.ns(), o.name)
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
