use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::NetworkPolicy;

use super::support::{
    Policies, governs_ingress, list_names, pod_selector, policies_known, routed_workloads,
    selector_is_empty,
};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a namespace that runs workloads behind routes but has no default-deny ingress
    /// NetworkPolicy: a policy that selects every pod (`podSelector: {}`), governs ingress
    /// (`policyTypes` with `Ingress`, or no `policyTypes`) and has no ingress rules. A
    /// namespace-wide policy *with* rules isolates the pods too, but is not counted: its allow
    /// rules apply to every pod, present and future, which is the opposite of a default deny.
    ///
    /// The finding is on the Namespace object when it was scanned, otherwise on the namespace's
    /// first NetworkPolicy. As for `backend-not-isolated`, a namespace is judged only when its
    /// policies are known: always for a cluster, and for files only when at least one
    /// NetworkPolicy of that namespace was given.
    ///
    /// ## Why is this bad?
    /// NetworkPolicies are allow-lists that only apply to the pods they select. Without a
    /// default deny, every new workload, and every workload whose labels drift from the
    /// policies' selectors, accepts traffic from the whole cluster, bypassing the controls the
    /// ingress tier enforces. A default deny makes isolation the state a mistake falls back to.
    ///
    /// ## Example
    /// ```yaml
    /// # Namespace storefront: routed Deployments web, api; one policy, for some pods only.
    /// kind: NetworkPolicy
    /// metadata: {name: allow-from-ingress-nginx, namespace: storefront}
    /// spec:
    ///   podSelector: {matchLabels: {app.kubernetes.io/part-of: storefront}}
    ///   ingress: [...]
    /// ```
    ///
    /// ## How to fix
    /// Add a default-deny ingress policy to the namespace, then allow each workload's callers explicitly.
    ///
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny-ingress, namespace: storefront}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Ingress]
    /// ```
    ///
    /// ## References
    /// - rule-anchors NET-02: kubeaudit `MissingDefaultDenyIngressNetworkPolicy`, kubescape
    ///   `C-0206`, Kyverno `add-network-policy`
    /// - Kubernetes documentation, "Network Policies", section "Default deny all ingress traffic"
    pub struct NamespaceWithoutDefaultDeny {
        code: "TG602",
        name: "namespace-without-default-deny",
        category: NetworkPolicy,
        severity: Medium,
        summary: "A namespace with routed workloads has no default-deny ingress NetworkPolicy",
        needs: [NetworkPolicy, Service],
        since: "0.1.0",
    }
}

/// Whether a policy denies all ingress to every pod of its namespace.
fn is_default_deny(np: &NetworkPolicy) -> bool {
    governs_ingress(np)
        && selector_is_empty(pod_selector(np))
        && np
            .spec
            .as_ref()
            .and_then(|s| s.ingress.as_ref())
            .is_none_or(Vec::is_empty)
}

impl Rule for NamespaceWithoutDefaultDeny {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let policies = Policies::new(inv);
        let mut by_ns: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for routed in routed_workloads(inv) {
            by_ns
                .entry(inv.objects[routed.object].ns())
                .or_default()
                .push(routed.object);
        }
        for (ns, workloads) in by_ns {
            if !policies_known(inv, ns) {
                continue;
            }
            if policies.in_ns(ns).iter().any(|(_, np)| is_default_deny(np)) {
                continue;
            }
            // Where to say it: the Namespace, else a NetworkPolicy of it (there is one for
            // files, which is why the namespace is judged), else the first routed workload.
            let (object, pointer) = match inv
                .of_kind(Kind::Namespace)
                .find(|(_, o)| o.name == ns)
                .map(|(i, _)| i)
            {
                Some(i) => (i, "/metadata/name"),
                None => match policies.in_ns(ns).first() {
                    Some(&(i, _)) => (i, "/metadata/namespace"),
                    None => (workloads[0], "/metadata/namespace"),
                },
            };
            let names = list_names(workloads.iter().map(|&w| inv.objects[w].name.as_str()), 5);
            out.report(
                object,
                pointer,
                format!(
                    "namespace `{ns}` runs routed workloads ({names}) but has no default-deny \
                     ingress NetworkPolicy: a pod that no policy selects accepts traffic from \
                     the whole cluster"
                ),
            );
        }
    }
}
