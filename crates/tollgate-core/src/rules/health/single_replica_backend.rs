use crate::rules::network_policy::support::{
    describe_routes, first_host, replicas, routed_workloads,
};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a Deployment or StatefulSet behind a route that runs one replica: `replicas: 1`,
    /// or no `replicas` (the API server defaults it to 1). DaemonSets and bare Pods are not
    /// judged; a workload scaled to zero is left to `backend-no-endpoints`.
    ///
    /// Tollgate does not read HorizontalPodAutoscalers (or KEDA ScaledObjects). A workload an
    /// autoscaler manages often leaves `replicas` unset and is reported; suppress the finding
    /// with that reason, or set `replicas` to the autoscaler's minimum.
    ///
    /// ## Why is this bad?
    /// With one pod, every rollout, node drain, eviction or crash leaves the route without a
    /// backend for as long as the pod takes to come back: the controller answers 503. Nothing
    /// spreads load, and a PodDisruptionBudget cannot protect a single replica without
    /// blocking node maintenance.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// metadata: {name: shop-admin}
    /// spec:
    ///   replicas: 1   # Ingress storefront routes /admin here
    /// ```
    ///
    /// ## How to fix
    /// Run at least two replicas (spread over nodes, with a PodDisruptionBudget), or an autoscaler with `minReplicas: 2`.
    ///
    /// ## References
    /// - rule-anchors HLT-03: Popeye `POP-1109`, kube-score `deployment-replicas`,
    ///   kube-linter `minimum-three-replicas`; Polaris `deploymentMissingReplicas`
    pub struct SingleReplicaBackend {
        code: "TG703",
        name: "single-replica-backend",
        category: Health,
        severity: Low,
        summary: "A Deployment or StatefulSet behind a route runs a single replica",
        needs: [Service],
        since: "0.1.0",
    }
}

impl Rule for SingleReplicaBackend {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for routed in routed_workloads(inv) {
            let workload = &inv.objects[routed.object];
            if !matches!(workload.kind, Kind::Deployment | Kind::StatefulSet) {
                continue;
            }
            let how = match replicas(workload) {
                Some(Some(1)) => "runs 1 replica",
                Some(None) => "runs 1 replica (`replicas` is unset)",
                _ => continue,
            };
            let d = out.report(
                routed.object,
                "/spec/replicas",
                format!(
                    "{} `{}` {how} and serves {}: any restart, rollout or node drain takes \
                     the route down (HorizontalPodAutoscalers are not read)",
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
