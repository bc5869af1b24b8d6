use super::route_name;
use crate::inventory::RefState;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a `backendRefs` entry of an HTTPRoute, GRPCRoute, TLSRoute or TCPRoute that names a
    /// Service which does not exist (Services of its namespace were read, or listed from the
    /// cluster), names no `port`, or names a port the Service does not have. Backends of other
    /// kinds (an implementation's own backend resources) are not judged.
    ///
    /// ## Why is this bad?
    /// The implementation marks the route `ResolvedRefs: False` (`BackendNotFound`) and answers
    /// the requests of that rule with a 500, or, for a weighted rule, the share of traffic
    /// meant for the missing backend fails. It is usually a typo, a Service renamed in one place
    /// and not the other, or the Ingress's named port carried over where a Gateway API
    /// backendRef needs the number.
    ///
    /// ## Example
    /// ```yaml
    /// kind: HTTPRoute
    /// spec:
    ///   rules:
    ///     - backendRefs: [{name: web, port: 8080}]   # Service web exposes 80
    /// ```
    ///
    /// ## How to fix
    /// Name an existing Service and one of its ports (`spec.ports[].port`, not the target port).
    /// ```yaml
    ///     - backendRefs: [{name: web, port: 80}]
    /// ```
    ///
    /// ## References
    /// - Gateway API `RouteConditionReason` `BackendNotFound`; `BackendRef.port` ("required
    ///   when the referent is a Kubernetes Service"); rule-anchors DNG-01 for Ingress backends
    pub struct RouteBackendMissing {
        code: "TG905",
        name: "route-backend-missing",
        category: GatewayApi,
        severity: High,
        summary: "A Gateway API route sends traffic to a Service or port that does not exist",
        needs: [Service],
        since: "0.2.0",
    }
}

impl Rule for RouteBackendMissing {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for entry in &inv.gateway_routes {
            let (_, route) = inv.gateway_route(entry);
            for b in &entry.backends {
                let service = format!("Service `{}/{}`", b.check.namespace, b.check.name);
                let (pointer, why) = match (&b.check.state, b.target.port) {
                    (RefState::Missing, _) => (
                        format!("{}/name", b.check.pointer),
                        format!("{service} does not exist"),
                    ),
                    (RefState::PortMissing, None) => (
                        b.check.pointer.clone(),
                        format!("the reference to {service} names no port"),
                    ),
                    (RefState::PortMissing, Some(p)) => (
                        format!("{}/port", b.check.pointer),
                        format!("{service} has no port {p}{}", ports_of(inv, b)),
                    ),
                    _ => continue,
                };
                let d = out.report(
                    entry.object,
                    pointer,
                    format!("{} rule {}: {why}", route_name(inv, entry), b.rule),
                );
                if let Some(h) = route.spec.hostnames.first() {
                    d.host(h.clone());
                }
            }
        }
    }
}

/// " (it has 80, 443)" from the Service the backend names, when it is in the inventory.
fn ports_of(inv: &crate::inventory::Inventory, b: &crate::inventory::BackendEntry) -> String {
    let Some(svc) = inv.service(&b.check.namespace, &b.check.name) else {
        return String::new();
    };
    let ports: Vec<String> = svc
        .spec
        .iter()
        .flat_map(|s| s.ports.iter().flatten())
        .map(|p| p.port.to_string())
        .collect();
    if ports.is_empty() {
        " (it has no ports)".to_owned()
    } else {
        format!(" (it has {})", ports.join(", "))
    }
}
