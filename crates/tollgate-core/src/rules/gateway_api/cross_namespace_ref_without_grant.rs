use super::route_name;
use crate::inventory::RefState;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a route's `backendRefs` entry that names a Service in another namespace when no
    /// ReferenceGrant in that namespace lets routes of this kind and namespace refer to it. A
    /// grant is known to be absent when the target namespace's ReferenceGrants were read, or
    /// when its Service was given (whoever gave a namespace's objects gave its grants); a
    /// cluster listing always knows. Certificates across namespaces are
    /// `gateway-certificate-ref-invalid`'s.
    ///
    /// ## Why is this bad?
    /// Without the grant the implementation refuses the reference (`RefNotPermitted`) and the
    /// rule's traffic fails. Worse, the reference shows an attempt to route to a namespace the
    /// route's owner does not control: the ReferenceGrant is how the Service's owners consent
    /// to being exposed through someone else's route, and its absence means they have not.
    ///
    /// ## Example
    /// ```yaml
    /// kind: HTTPRoute
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   rules:
    ///     - backendRefs: [{name: payments, namespace: payments, port: 80}]
    /// ```
    ///
    /// ## How to fix
    /// Have the target namespace grant the reference, naming the Service:
    /// ```yaml
    /// kind: ReferenceGrant
    /// metadata: {name: shop-routes, namespace: payments}
    /// spec:
    ///   from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
    ///   to: [{group: "", kind: Service, name: payments}]
    /// ```
    ///
    /// ## References
    /// - Gateway API "ReferenceGrant" and `RouteConditionReason` `RefNotPermitted`;
    ///   rule-anchors XNS-01 (cross-namespace references on Ingress controllers)
    pub struct CrossNamespaceRefWithoutGrant {
        code: "TG906",
        name: "cross-namespace-ref-without-grant",
        category: GatewayApi,
        severity: High,
        summary: "A route refers to a Service in another namespace without a ReferenceGrant",
        needs: [ReferenceGrant],
        since: "0.2.0",
    }
}

impl Rule for CrossNamespaceRefWithoutGrant {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for entry in &inv.gateway_routes {
            let (object, route) = inv.gateway_route(entry);
            for b in &entry.backends {
                if b.check.state != RefState::NotPermitted {
                    continue;
                }
                let d = out.report(
                    entry.object,
                    format!("{}/namespace", b.check.pointer),
                    format!(
                        "{} rule {} sends traffic to Service `{}/{}`, but no ReferenceGrant in \
                         `{}` lets {}s of `{}` refer to it",
                        route_name(inv, entry),
                        b.rule,
                        b.check.namespace,
                        b.check.name,
                        b.check.namespace,
                        object.kind,
                        object.ns()
                    ),
                );
                if let Some(h) = route.spec.hostnames.first() {
                    d.host(h.clone());
                }
            }
        }
    }
}
