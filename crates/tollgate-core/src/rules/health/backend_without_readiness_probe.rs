use super::serving_containers;
use crate::rules::network_policy::support::{
    describe_routes, first_host, routed_workloads, scaled_to_zero,
};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a container without a `readinessProbe` in a workload behind a route. Only the
    /// containers that serve the route are judged: those declaring the port the Service
    /// forwards to (`targetPort`, by name or number). When that cannot be told (the backend
    /// port does not resolve, or no container declares the target port), every container is
    /// judged. Init containers and sidecars on other ports are not. A workload scaled to zero
    /// runs no pods and is not judged (`backend-no-endpoints` reports its route).
    ///
    /// ## Why is this bad?
    /// Without a readiness probe a pod counts as ready as soon as its containers have started.
    /// The Service's endpoints, and so the ingress controller, send it requests while the
    /// application is still starting, warming caches or migrating, and keep sending them when
    /// it is overloaded or stuck: users get 502s and timeouts on every rollout, scale-up and
    /// restart. A liveness probe does not help: it restarts the container, it does not take
    /// the pod out of rotation.
    ///
    /// ## Example
    /// ```yaml
    /// # Ingress dashboard → Service dashboard (targetPort: http) → this Deployment
    /// containers:
    ///   - name: dashboard
    ///     ports: [{name: http, containerPort: 8080}]
    ///     livenessProbe: {httpGet: {path: /healthz, port: http}}   # liveness only
    /// ```
    ///
    /// ## How to fix
    /// Add a `readinessProbe` to the serving container that checks the application can answer requests (an HTTP endpoint on the served port).
    ///
    /// ```yaml
    ///     readinessProbe:
    ///       httpGet: {path: /ready, port: http}
    ///       periodSeconds: 5
    /// ```
    ///
    /// ## References
    /// - rule-anchors HLT-04: kube-linter `no-readiness-probe`, Checkov `CKV_K8S_9`,
    ///   Polaris `readinessProbeMissing`, kube-score `pod-probes`
    /// - Kubernetes documentation, "Liveness, Readiness, and Startup Probes"
    pub struct BackendWithoutReadinessProbe {
        code: "TG701",
        name: "backend-without-readiness-probe",
        category: Health,
        severity: Medium,
        summary: "A container behind a route has no readiness probe",
        needs: [Service],
        since: "0.1.0",
    }
}

impl Rule for BackendWithoutReadinessProbe {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for routed in routed_workloads(inv) {
            let workload = &inv.objects[routed.object];
            if scaled_to_zero(workload) {
                continue;
            }
            let Some((spec, prefix)) = workload.pod_spec() else {
                continue;
            };
            for c in serving_containers(inv, spec, &routed.routes) {
                let container = &spec.containers[c];
                if container.readiness_probe.is_some() {
                    continue;
                }
                let d = out.report(
                    routed.object,
                    format!("{prefix}/containers/{c}"),
                    format!(
                        "container `{}` of {} `{}` has no readinessProbe, yet serves {}: its \
                         pods receive requests as soon as they start, and keep receiving them \
                         when they cannot answer",
                        container.name,
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
}
