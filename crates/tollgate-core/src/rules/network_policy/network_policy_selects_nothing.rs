use super::support::{
    describe_selector, list_names, pod_selector, selector_is_empty, selects, workloads_by_ns,
    workloads_known,
};
use crate::inventory::pod_labels;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a NetworkPolicy whose `podSelector` matches the pods of no workload
    /// (Deployment, StatefulSet, DaemonSet or Pod) of its namespace.
    ///
    /// A namespace is judged only when its workloads are known: for a cluster, when every
    /// workload kind could be listed; for files, when at least one workload of that namespace
    /// was given. An empty `podSelector` selects every pod, so it is only reported in a
    /// namespace known to run no workload at all (which only a cluster listing can show).
    /// Workloads of kinds Tollgate does not read (Jobs, CronJobs, Argo Rollouts, operators'
    /// custom resources) are not seen in files; in a cluster their running Pods are.
    ///
    /// ## Why is this bad?
    /// The policy protects nothing while looking like protection. The usual cause is a label
    /// that changed on one side (a Helm chart upgrade renaming `app` to
    /// `app.kubernetes.io/name`, a typo, a workload moved to another namespace): the pods the
    /// policy was written for are no longer isolated, and nobody notices until they are
    /// reached from where they should not be.
    ///
    /// ## Example
    /// ```yaml
    /// # Deployment checkout's pods carry app.kubernetes.io/name=checkout
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {matchLabels: {app: checkout}}   # the chart's old label
    /// ```
    ///
    /// ## How to fix
    /// Make the `podSelector` match the labels of the pods it is meant for, or delete the policy if those pods are gone.
    ///
    /// ## References
    /// - rule-anchors NET-04: kube-linter `dangling-networkpolicy`, kube-score
    ///   `networkpolicy-targets-pod`, kubescape `C-0299`, Popeye `POP-1200`
    pub struct NetworkPolicySelectsNothing {
        code: "TG604",
        name: "network-policy-selects-nothing",
        category: NetworkPolicy,
        severity: Medium,
        summary: "A NetworkPolicy's podSelector matches no workload of its namespace",
        needs: [NetworkPolicy, Deployment, StatefulSet, DaemonSet, Pod],
        since: "0.1.0",
    }
}

impl Rule for NetworkPolicySelectsNothing {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let workloads_by_ns = workloads_by_ns(inv);
        for (i, o) in inv.of_kind(Kind::NetworkPolicy) {
            let Resource::NetworkPolicy(np) = &o.resource else {
                continue;
            };
            let ns = o.ns();
            if !workloads_known(inv, ns) {
                continue;
            }
            let workloads = workloads_by_ns.get(ns).map_or(&[][..], Vec::as_slice);
            let selector = pod_selector(np);
            let message = if workloads.is_empty() {
                // Files that hold a workload of the namespace without pod labels do not show
                // an empty namespace; only a complete listing does.
                if !inv.scope.complete {
                    continue;
                }
                format!("namespace `{ns}` runs no workload, so this policy selects no pod")
            } else if selector_is_empty(selector)
                || workloads
                    .iter()
                    .any(|&w| pod_labels(&inv.objects[w]).is_some_and(|labels| selects(np, labels)))
            {
                continue;
            } else {
                let names = list_names(workloads.iter().map(|&w| inv.objects[w].name.as_str()), 5);
                format!(
                    "podSelector `{}` matches none of the workloads of namespace `{ns}` ({names})",
                    describe_selector(selector)
                )
            };
            out.report(i, "/spec/podSelector", message);
        }
    }
}
