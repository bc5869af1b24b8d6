//! Routing: conflicts between routes, and routes to backends that are not there.

/// `backend-no-endpoints` (TG306).
pub mod backend_no_endpoints;
/// `backend-port-missing` (TG305).
pub mod backend_port_missing;
/// `backend-service-missing` (TG304).
pub mod backend_service_missing;
/// `deprecated-ingress-api` (TG308).
pub mod deprecated_ingress_api;
/// `duplicate-host-path` (TG301).
pub mod duplicate_host_path;
/// `host-claimed-across-namespaces` (TG302).
pub mod host_claimed_across_namespaces;
/// `path-shadowed` (TG303).
pub mod path_shadowed;
/// `target-port-mismatch` (TG307).
pub mod target_port_mismatch;

pub(crate) mod support;

use crate::inventory::{Backend, PortRef, Route};
use crate::object::Object;

/// AWS Load Balancer Controller "actions": a backend whose port is `use-annotation` names an
/// action annotation, not a Service. Treating it as a Service is a classic false positive.
pub(crate) fn is_alb_action(o: &Object, route: &Route) -> bool {
    match &route.backend {
        Backend::Service { name, port } => {
            matches!(port, Some(PortRef::Name(p)) if p == "use-annotation")
                || o.annotation(&format!("alb.ingress.kubernetes.io/actions.{name}"))
                    .is_some()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::fixture_tests;

    fixture_tests! {
        duplicate_host_path => "duplicate-host-path",
        backend_service_missing => "backend-service-missing",
        backend_port_missing => "backend-port-missing",
        deprecated_ingress_api => "deprecated-ingress-api",
        host_claimed_across_namespaces => "host-claimed-across-namespaces",
        path_shadowed => "path-shadowed",
        backend_no_endpoints => "backend-no-endpoints",
        target_port_mismatch => "target-port-mismatch",
    }
}
