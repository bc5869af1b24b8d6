use std::collections::HashMap;

use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::support::{governs_ingress, selector_is_empty, selects};
use crate::inventory::{Inventory, pod_labels};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags an ingress rule of a NetworkPolicy that admits every source:
    ///
    /// - a rule with no `from` (or an empty one), e.g. `ingress: [{}]`: every pod of every
    ///   namespace and every external address;
    /// - a `from` peer with `namespaceSelector: {}` and no (or an empty) `podSelector`: every
    ///   pod of every namespace;
    /// - a `from` peer with `ipBlock.cidr` `0.0.0.0/0` or `::/0`: every address, whatever the
    ///   `except` list carves out.
    ///
    /// The finding points at the rule, or at the peer. A rule limited to `ports` is still
    /// reported (the message names the ports), except on pods that a `LoadBalancer` or
    /// `NodePort` Service of the namespace exposes, such as an ingress controller: those must
    /// accept the world on their public ports, and `service-bypasses-ingress` judges whether
    /// they should be exposed. Policies that only govern egress are not judged.
    ///
    /// ## Why is this bad?
    /// NetworkPolicies add up: one allow-all rule admits everything to the pods it selects,
    /// whatever any default deny or narrower policy says. For a routed backend this re-opens
    /// the direct path around the ingress controller (and its TLS, authentication and
    /// allow-lists); elsewhere it usually marks a policy written to make something work.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {matchLabels: {app: api}}
    ///   ingress:
    ///     - {}                              # every source, every port
    ///     - from:
    ///         - namespaceSelector: {}       # every pod of every namespace
    ///         - ipBlock: {cidr: 0.0.0.0/0}  # every address
    /// ```
    ///
    /// ## How to fix
    /// Name the sources: the ingress controller's namespace and pods, the calling workloads, or the CIDRs of the load balancer or office network.
    ///
    /// ## References
    /// - rule-anchors NET-03: kubeaudit `AllowAllIngressNetworkPolicyExists`, Popeye `POP-1203`
    /// - Kubernetes documentation, "Network Policies", section "Allow all ingress traffic"
    pub struct AllowAllIngressPolicy {
        code: "TG603",
        name: "allow-all-ingress-policy",
        category: NetworkPolicy,
        severity: Medium,
        summary: "A NetworkPolicy ingress rule admits traffic from every source",
        needs: [NetworkPolicy],
        since: "0.1.0",
    }
}

impl Rule for AllowAllIngressPolicy {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let edge = edge_workloads(inv);
        for (i, o) in inv.of_kind(Kind::NetworkPolicy) {
            let Resource::NetworkPolicy(np) = &o.resource else {
                continue;
            };
            if !governs_ingress(np) {
                continue;
            }
            let rules = np.spec.as_ref().and_then(|s| s.ingress.as_ref());
            for (r, rule) in rules.into_iter().flatten().enumerate() {
                let ports = rule.ports.as_deref().unwrap_or_default();
                if !ports.is_empty() && selects_edge_workload(inv, &edge, o, np) {
                    continue;
                }
                let on_ports = describe_ports(ports);
                let peers = rule.from.as_deref().unwrap_or_default();
                if peers.is_empty() {
                    out.report(
                        i,
                        format!("/spec/ingress/{r}"),
                        format!(
                            "ingress rule {r} has no `from`: it admits every pod of every \
                             namespace and every external address {on_ports}"
                        ),
                    );
                    continue;
                }
                for (p, peer) in peers.iter().enumerate() {
                    if let Some(block) = &peer.ip_block {
                        let cidr = block.cidr.trim();
                        if cidr == "0.0.0.0/0" || cidr == "::/0" {
                            let except = match block.except.as_deref() {
                                Some(e) if !e.is_empty() => {
                                    format!(" (except {})", e.join(", "))
                                }
                                _ => String::new(),
                            };
                            out.report(
                                i,
                                format!("/spec/ingress/{r}/from/{p}/ipBlock/cidr"),
                                format!(
                                    "ingress rule {r} admits every address, `{cidr}`{except}, \
                                     {on_ports}"
                                ),
                            );
                        }
                    }
                    let every_namespace = peer
                        .namespace_selector
                        .as_ref()
                        .is_some_and(|s| selector_is_empty(Some(s)));
                    if every_namespace && selector_is_empty(peer.pod_selector.as_ref()) {
                        out.report(
                            i,
                            format!("/spec/ingress/{r}/from/{p}/namespaceSelector"),
                            format!(
                                "ingress rule {r} admits every pod of every namespace \
                                 (`namespaceSelector: {{}}` without a `podSelector`) {on_ports}"
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// The workloads of each namespace that a `LoadBalancer` or `NodePort` Service exposes: such
/// pods face the outside by design.
fn edge_workloads(inv: &Inventory) -> HashMap<&str, Vec<usize>> {
    let mut by_ns: HashMap<&str, Vec<usize>> = HashMap::new();
    for (_, o) in inv.of_kind(Kind::Service) {
        let Resource::Service(s) = &o.resource else {
            continue;
        };
        let edge = s
            .spec
            .as_ref()
            .and_then(|sp| sp.type_.as_deref())
            .is_some_and(|t| t == "LoadBalancer" || t == "NodePort");
        if edge {
            by_ns
                .entry(o.ns())
                .or_default()
                .extend(inv.selected_workloads(o.ns(), s));
        }
    }
    by_ns
}

/// Whether the policy selects the pods of an edge workload of its namespace.
fn selects_edge_workload(
    inv: &Inventory,
    edge: &HashMap<&str, Vec<usize>>,
    policy: &Object,
    np: &NetworkPolicy,
) -> bool {
    edge.get(policy.ns())
        .into_iter()
        .flatten()
        .any(|&w| pod_labels(&inv.objects[w]).is_some_and(|labels| selects(np, labels)))
}

/// `on every port`, or `on port 8080/TCP, http`.
fn describe_ports(ports: &[NetworkPolicyPort]) -> String {
    if ports.is_empty() {
        return "on every port".to_owned();
    }
    let list: Vec<String> = ports
        .iter()
        .map(|p| {
            let port = match &p.port {
                Some(IntOrString::Int(n)) => match p.end_port {
                    Some(end) => format!("{n}-{end}"),
                    None => n.to_string(),
                },
                Some(IntOrString::String(name)) => name.clone(),
                None => "all".to_owned(),
            };
            format!("{port}/{}", p.protocol.as_deref().unwrap_or("TCP"))
        })
        .collect();
    let noun = if list.len() == 1 { "port" } else { "ports" };
    format!("on {noun} {}", list.join(", "))
}
