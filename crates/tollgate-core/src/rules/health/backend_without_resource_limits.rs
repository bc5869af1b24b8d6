use k8s_openapi::api::core::v1::Container;

use crate::rules::network_policy::support::{
    describe_routes, first_host, routed_workloads, scaled_to_zero,
};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a container of a workload behind a route that lacks a **memory limit**
    /// (`resources.limits.memory`) or a **CPU request** (`resources.requests.cpu`; a
    /// `limits.cpu` alone counts, since the API server then sets the request to the limit).
    /// These two are the ones that decide how the pod fares under pressure:
    ///
    /// - a memory request without a limit is not asked for (an absent memory request defaults
    ///   to the limit), and a CPU limit is not asked for either (it throttles latency-sensitive
    ///   servers, and many teams leave it out on purpose);
    /// - every container of the pod is judged, native sidecars (init containers with
    ///   `restartPolicy: Always`) included, since they share its fate; other init containers
    ///   are not.
    ///
    /// A `LimitRange` of the namespace may supply defaults at admission; Tollgate does not read
    /// LimitRanges, so a container relying on one is reported (suppress it with that reason).
    /// A workload scaled to zero is not judged.
    ///
    /// ## Why is this bad?
    /// Without a memory limit one leaking or attacked backend (a large request body, a
    /// decompression bomb) grows until the node runs out of memory and the kernel kills
    /// processes, its neighbours' included. Without a CPU request the scheduler reserves no CPU
    /// for it, so under contention it is starved, and a pod with no requests at all is
    /// `BestEffort`: the first evicted when the node is under pressure. Either way the route
    /// fails at the moment it is busiest.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: admin
    ///     image: ghcr.io/example-shop/shop-admin:3.2.0
    ///     resources: {}   # no memory limit, no CPU request
    /// ```
    ///
    /// ## How to fix
    /// Set `resources.requests.cpu` and `resources.limits.memory` on every container of the pod.
    ///
    /// ```yaml
    ///     resources:
    ///       requests: {cpu: 100m, memory: 256Mi}
    ///       limits: {memory: 256Mi}
    /// ```
    ///
    /// ## References
    /// - kube-linter `unset-cpu-requirements`, `unset-memory-requirements`; Polaris
    ///   `cpuRequestsMissing`, `memoryLimitsMissing`; Checkov `CKV_K8S_10` (CPU requests),
    ///   `CKV_K8S_13` (memory limits); kube-score `container-resources`
    /// - Kubernetes documentation, "Resource Management for Pods and Containers" and
    ///   "Pod Quality of Service Classes"
    pub struct BackendWithoutResourceLimits {
        code: "TG702",
        name: "backend-without-resource-limits",
        category: Health,
        severity: Low,
        summary: "A container behind a route has no memory limit or no CPU request",
        needs: [Service],
        since: "0.1.0",
    }
}

/// What a container lacks, in words: `no memory limit`, `no CPU request`, or both.
fn missing(c: &Container) -> Option<String> {
    let has = |map: Option<&std::collections::BTreeMap<String, _>>, key: &str| {
        map.is_some_and(|m| m.contains_key(key))
    };
    let resources = c.resources.as_ref();
    let limits = resources.and_then(|r| r.limits.as_ref());
    let requests = resources.and_then(|r| r.requests.as_ref());
    let memory_limit = has(limits, "memory");
    let cpu_request = has(requests, "cpu") || has(limits, "cpu");
    match (memory_limit, cpu_request) {
        (true, true) => None,
        (false, true) => Some("no memory limit".to_owned()),
        (true, false) => Some("no CPU request".to_owned()),
        (false, false) => Some("no memory limit and no CPU request".to_owned()),
    }
}

impl Rule for BackendWithoutResourceLimits {
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
            let sidecars = spec
                .init_containers
                .iter()
                .flatten()
                .enumerate()
                .filter(|(_, c)| c.restart_policy.as_deref() == Some("Always"))
                .map(|(i, c)| (format!("{prefix}/initContainers/{i}"), "sidecar", c));
            let containers = spec
                .containers
                .iter()
                .enumerate()
                .map(|(i, c)| (format!("{prefix}/containers/{i}"), "container", c));
            for (pointer, role, container) in containers.chain(sidecars) {
                let Some(lacks) = missing(container) else {
                    continue;
                };
                let d = out.report(
                    routed.object,
                    format!("{pointer}/resources"),
                    format!(
                        "{role} `{}` of {} `{}` has {lacks}; the workload serves {}",
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
