use super::support::{
    Policies, describe_routes, first_host, pod_labels_pointer, policies_known, routed_workloads,
};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a workload behind a route (a Deployment, StatefulSet, DaemonSet or Pod that a
    /// routed Service selects) whose pods no NetworkPolicy selects for ingress traffic
    /// (`policyTypes` with `Ingress`, or no `policyTypes`). It is reported once per workload, at
    /// its pod labels, whatever the number of routes.
    ///
    /// A namespace is judged only when Tollgate can know its policies: for a cluster, always;
    /// for files, only when at least one NetworkPolicy of that namespace was among them. A
    /// namespace whose policies were not given is not reported: they may well exist elsewhere.
    ///
    /// ## Why is this bad?
    /// Without a policy selecting them, the pods accept connections from every pod in the
    /// cluster. Whatever the Ingress enforces (TLS, authentication, IP allow-lists, rate limits,
    /// a WAF) is bypassed by anyone who can run a pod, or who has compromised one, by calling
    /// the pod or its Service directly.
    ///
    /// ## Example
    /// ```yaml
    /// # Ingress grafana → Service grafana → Deployment grafana (labels app=grafana).
    /// # The namespace's only policy selects other pods:
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {matchLabels: {app: wiki}}
    /// ```
    ///
    /// ## How to fix
    /// Select the pods with a NetworkPolicy that admits only the ingress controller's pods (and the callers that need them), or add a namespace default-deny.
    ///
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {matchLabels: {app: grafana}}
    ///   policyTypes: [Ingress]
    ///   ingress:
    ///     - from:
    ///         - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}
    ///           podSelector: {matchLabels: {app.kubernetes.io/name: ingress-nginx}}
    /// ```
    ///
    /// ## References
    /// - rule-anchors NET-01: kube-linter `non-isolated-pod`, kube-score `pod-networkpolicy`,
    ///   Polaris `missingNetworkPolicy`, Checkov `CKV2_K8S_6`, kubescape `C-0030`,
    ///   Popeye `POP-1204`/`POP-1205`
    /// - Kubernetes documentation, "Network Policies": pods are non-isolated for ingress until
    ///   a policy selects them
    pub struct BackendNotIsolated {
        code: "TG601",
        name: "backend-not-isolated",
        category: NetworkPolicy,
        severity: Medium,
        summary: "A workload behind a route is selected by no ingress NetworkPolicy",
        needs: [NetworkPolicy, Service],
        since: "0.1.0",
    }
}

impl Rule for BackendNotIsolated {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let policies = Policies::new(inv);
        for routed in routed_workloads(inv) {
            let workload = &inv.objects[routed.object];
            if !policies_known(inv, workload.ns()) {
                continue;
            }
            if !policies.selecting_for_ingress(workload).is_empty() {
                continue;
            }
            let d = out.report(
                routed.object,
                pod_labels_pointer(workload),
                format!(
                    "{} `{}` serves {}, but no NetworkPolicy selects its pods for ingress \
                     traffic: any pod in the cluster can reach it without passing the ingress \
                     controller",
                    workload.kind,
                    workload.name,
                    describe_routes(inv, &routed.routes),
                ),
            );
            if let Some(host) = first_host(inv, &routed.routes) {
                d.host(host);
            }
        }
    }
}
