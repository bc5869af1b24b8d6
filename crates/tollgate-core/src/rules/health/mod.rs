//! Backend health: whether the workloads behind a route can serve it reliably.
//!
//! These rules judge only routed workloads: those a routed Service's selector matches, not
//! every Deployment of the input. A workload scaled to zero runs no pods and is left to
//! `backend-no-endpoints`.

/// `backend-without-readiness-probe` (TG701).
pub mod backend_without_readiness_probe;
/// `backend-without-resource-limits` (TG702).
pub mod backend_without_resource_limits;
/// `single-replica-backend` (TG703).
pub mod single_replica_backend;

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::network_policy::support::target_port;
use crate::inventory::Inventory;

/// The indices of the containers that serve the routes: the containers declaring the port the
/// route's Service forwards to (`targetPort`, by name or number). When a route does not
/// resolve to a Service port, or no container declares the target port (declaring ports is
/// optional), every container may be the one serving, and all are returned.
pub(crate) fn serving_containers(inv: &Inventory, spec: &PodSpec, routes: &[usize]) -> Vec<usize> {
    let all = || (0..spec.containers.len()).collect();
    let mut serving = BTreeSet::new();
    for &r in routes {
        let Some(target) = target_port(inv, &inv.routes[r]) else {
            return all();
        };
        let matching: Vec<usize> = spec
            .containers
            .iter()
            .enumerate()
            .filter(|(_, c)| declares_port(c, &target))
            .map(|(i, _)| i)
            .collect();
        if matching.is_empty() {
            return all();
        }
        serving.extend(matching);
    }
    serving.into_iter().collect()
}

fn declares_port(c: &Container, target: &IntOrString) -> bool {
    c.ports.iter().flatten().any(|p| match target {
        IntOrString::Int(n) => p.container_port == *n,
        IntOrString::String(name) => p.name.as_deref() == Some(name.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::fixture_tests;

    fixture_tests! {
        backend_without_readiness_probe => "backend-without-readiness-probe",
        backend_without_resource_limits => "backend-without-resource-limits",
        single_replica_backend => "single-replica-backend",
    }
}
