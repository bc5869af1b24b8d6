use std::collections::BTreeSet;

use crate::inventory::{GatewayEntry, Inventory, implementation_name};
use crate::rules::network_policy::support::{Policies, policies_known};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a Gateway exposed through a load balancer whose routes reach workloads that no
    /// NetworkPolicy selects for ingress traffic. A Gateway counts as exposed when a Service of
    /// type `LoadBalancer` provisioned for it is among the objects (found by the
    /// `gateway.networking.k8s.io/gateway-name` label, or Envoy Gateway's
    /// `gateway.envoyproxy.io/owning-gateway-name`/`-namespace` labels), when its status has
    /// addresses, or when its class belongs to an implementation that provisions a
    /// `LoadBalancer` Service by default (Envoy Gateway, Istio, Cilium, NGINX Gateway Fabric,
    /// Contour, Kong, Traefik). Namespaces whose NetworkPolicies Tollgate cannot know (files
    /// without any policy of that namespace) are left out, as `backend-not-isolated` does; that
    /// rule also reports each workload on its own.
    ///
    /// ## Why is this bad?
    /// The Gateway is the one door from the internet; every control it enforces (TLS,
    /// authentication policies, rate limits) applies only to traffic that goes through it.
    /// Backends that accept connections from any pod can be reached around the door by anyone
    /// who runs or compromises a pod, and a Gateway API migration often adds a new gateway
    /// namespace that existing policies, written for the ingress-nginx namespace, do not admit
    /// — tempting teams to drop the policies rather than fix them.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Gateway
    /// metadata: {name: shop, namespace: edge}
    /// spec: {gatewayClassName: eg, listeners: [{name: http, port: 80, protocol: HTTP}]}
    /// # HTTPRoute → Service web → Deployment web, and no NetworkPolicy selects app=web
    /// ```
    ///
    /// ## How to fix
    /// Select the backends with a NetworkPolicy that admits the Gateway's data-plane pods only.
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {matchLabels: {app: web}}
    ///   policyTypes: [Ingress]
    ///   ingress:
    ///     - from:
    ///         - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: envoy-gateway-system}}
    /// ```
    ///
    /// ## References
    /// - rule-anchors NET-01 (non-isolated pods); Envoy Gateway and Istio "Gateway
    ///   infrastructure" (a `LoadBalancer` Service per Gateway by default)
    pub struct GatewayBackendNotIsolated {
        code: "TG909",
        name: "gateway-backend-not-isolated",
        category: GatewayApi,
        severity: Medium,
        summary: "A load-balanced Gateway routes to workloads no NetworkPolicy isolates",
        needs: [NetworkPolicy],
        since: "0.2.0",
    }
}

impl Rule for GatewayBackendNotIsolated {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let policies = Policies::new(inv);
        // The workloads behind each Gateway, from one pass over the routes.
        let mut behind: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); inv.gateways.len()];
        for r in &inv.routes {
            let Some(g) = &r.gateway else { continue };
            for &(gw, _) in &g.listeners {
                behind[gw].extend(r.workloads.iter().copied());
            }
        }
        for (g, entry) in inv.gateways.iter().enumerate() {
            let Some(exposure) = exposure(inv, entry) else {
                continue;
            };
            let workloads: BTreeSet<(String, String, usize)> = behind[g]
                .iter()
                .copied()
                .map(|w| {
                    let o = &inv.objects[w];
                    (o.ns().to_owned(), o.name.clone(), w)
                })
                .filter(|(ns, _, w)| {
                    policies_known(inv, ns)
                        && policies.selecting_for_ingress(&inv.objects[*w]).is_empty()
                })
                .collect();
            if workloads.is_empty() {
                continue;
            }
            let names: Vec<String> = workloads
                .iter()
                .take(5)
                .map(|(ns, name, w)| format!("{} `{ns}/{name}`", inv.objects[*w].kind))
                .collect();
            let more = workloads.len().saturating_sub(names.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            let (object, _) = inv.gateway(entry);
            out.report(
                entry.object,
                "/spec/listeners",
                format!(
                    "Gateway `{}` is exposed ({exposure}) and routes to {}{more}, which no \
                     NetworkPolicy isolates: they can be reached without passing the Gateway",
                    object.name,
                    names.join(", ")
                ),
            );
        }
    }
}

/// How a Gateway is exposed, if it is: a LoadBalancer Service, status addresses, or its
/// implementation's default.
fn exposure(inv: &Inventory, entry: &GatewayEntry) -> Option<String> {
    if let Some(&s) = entry.load_balancers.first() {
        return Some(format!(
            "Service `{}` of type LoadBalancer",
            inv.objects[s].name
        ));
    }
    let (_, gw) = inv.gateway(entry);
    if let Some(a) = gw.status.as_ref().and_then(|s| s.addresses.first()) {
        return Some(format!("address `{}`", a.value));
    }
    let implementation = entry.controller.as_deref().and_then(implementation_name)?;
    matches!(
        implementation,
        "envoy-gateway"
            | "istio"
            | "cilium"
            | "nginx-gateway-fabric"
            | "contour"
            | "kong"
            | "traefik"
    )
    .then(|| format!("{implementation} provisions a LoadBalancer Service by default"))
}
