use k8s_openapi::api::core::v1::{Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::is_alb_action;
use super::target_port_mismatch::container_ports;
use crate::inventory::Inventory;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Ingress backends whose Service and port exist but have no ready endpoint: no
    /// EndpointSlice (or Endpoints object) of the Service lists a ready address on that port.
    /// The finding says why when the scanned objects tell: a workload scaled to zero, a selector
    /// that matches no workload, a named `targetPort` no container declares, a Service without
    /// a selector.
    ///
    /// The rule speaks only where endpoints are known. EndpointSlices are created by the
    /// cluster, so manifest repositories rarely hold them; when no EndpointSlice (or Endpoints)
    /// of the Ingress's namespace was scanned, nothing is reported at all, not even "not in
    /// scope": every route of every manifest-only scan would otherwise carry such a note. Scan
    /// the cluster (or include `kubectl get endpointslices -o yaml` output) to judge it.
    /// `ExternalName` Services have no endpoints by design and are not flagged; nor are AWS ALB
    /// action backends.
    ///
    /// ## Why is this bad?
    /// Every request to the route fails with 503 (ingress-nginx) or 404/502 (other
    /// controllers); some controllers drop the route altogether. A route left pointing at a
    /// decommissioned or scaled-down workload is also an invitation: whoever can start pods with
    /// matching labels in the namespace receives its traffic.
    ///
    /// ## Example
    /// ```yaml
    /// # Deployment wiki: replicas: 0; Service wiki selects it; Ingress wiki routes to it
    /// backend:
    ///   service:
    ///     name: wiki
    ///     port: {number: 80}
    /// ```
    ///
    /// ## How to fix
    /// Scale the workload up or fix the Service's selector; if the application is gone, remove the route.
    ///
    /// ## References
    /// - kube-linter `dangling-service`, kube-score `service-targets-pod`, Popeye POP-1100 /
    ///   POP-1105, kubescape C-0293, k8sgpt Service analyzer
    pub struct BackendNoEndpoints {
        code: "TG306",
        name: "backend-no-endpoints",
        category: Routing,
        severity: High,
        summary: "An Ingress backend's Service has no ready endpoints",
        needs: [Service],
        since: "0.1.0",
    }
}

impl Rule for BackendNoEndpoints {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for route in &inv.routes {
            let Backend::Service { name, .. } = &route.backend else {
                continue;
            };
            let (Some(s), Some(p), Some(0)) =
                (route.service, route.service_port, route.ready_endpoints)
            else {
                continue;
            };
            let object = &inv.objects[route.object];
            let ns = route.namespace.as_str();
            if is_alb_action(object, route) || !endpoints_known(inv, ns) {
                continue;
            }
            let Resource::Service(svc) = &inv.objects[s].resource else {
                continue;
            };
            let Some(spec) = &svc.spec else { continue };
            if spec.type_.as_deref() == Some("ExternalName") {
                continue;
            }
            let port = &spec.ports.as_deref().unwrap_or_default()[p];
            let port_text = match port.name.as_deref().filter(|n| !n.is_empty()) {
                Some(n) => format!("{} ({n})", port.port),
                None => port.port.to_string(),
            };
            let why = reason(inv, ns, svc, port, &route.workloads);
            // An Ingress names the Service under `service/name`; a backendRef is the reference.
            let pointer = if route.ingress.is_some() {
                format!("{}/service/name", route.backend_pointer)
            } else {
                format!("{}/name", route.backend_pointer)
            };
            let d = out.report(
                route.object,
                pointer,
                format!("Service `{name}` port {port_text} has no ready endpoints{why}"),
            );
            if let Some(h) = &route.host {
                d.host(h.clone());
            }
        }
    }
}

/// Whether the inventory's endpoint count for a Service of `ns` means something. The inventory
/// counts EndpointSlices when any were read, else Endpoints; the count is trusted only when that
/// kind was read for this namespace (or listed from a cluster).
fn endpoints_known(inv: &Inventory, ns: &str) -> bool {
    if inv.scope.has(Kind::EndpointSlice) {
        inv.in_scope(Kind::EndpointSlice, ns)
    } else {
        inv.scope.has(Kind::Endpoints) && inv.in_scope(Kind::Endpoints, ns)
    }
}

/// Why there are no endpoints, when the scanned objects say.
fn reason(
    inv: &Inventory,
    ns: &str,
    svc: &Service,
    port: &ServicePort,
    workloads: &[usize],
) -> String {
    let selector = svc.spec.as_ref().and_then(|s| s.selector.as_ref());
    let Some(selector) = selector.filter(|s| !s.is_empty()) else {
        return ": it has no selector, and no EndpointSlice for it lists a ready address".into();
    };
    if workloads.is_empty() {
        let workloads_scanned = [
            Kind::Deployment,
            Kind::StatefulSet,
            Kind::DaemonSet,
            Kind::Pod,
        ]
        .into_iter()
        .any(|k| inv.in_scope(k, ns));
        if !workloads_scanned {
            return String::new();
        }
        let labels: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
        return format!(
            ": its selector `{}` matches no workload among those scanned",
            labels.join(",")
        );
    }
    let scaled_down: Vec<String> = workloads
        .iter()
        .map(|&w| &inv.objects[w])
        .filter(|o| replicas(o) == Some(0))
        .map(|o| format!("{} `{}`", o.kind, o.name))
        .collect();
    if scaled_down.len() == workloads.len() {
        let verb = if scaled_down.len() == 1 { "is" } else { "are" };
        return format!(": {} {verb} scaled to 0", scaled_down.join(", "));
    }
    if let Some(IntOrString::String(name)) = &port.target_port {
        let provided = workloads.iter().any(|&w| {
            inv.objects[w]
                .pod_spec()
                .map(|(s, _)| s)
                .is_some_and(|pod| container_ports(pod).iter().any(|(n, _, _)| n == name))
        });
        if !provided {
            return format!(
                ": its targetPort `{name}` is not the name of any container port of the pods it \
                 selects"
            );
        }
    }
    ": the pods it selects are not ready".into()
}

/// The desired replicas of a workload (`None` for DaemonSets).
fn replicas(o: &Object) -> Option<i32> {
    match &o.resource {
        Resource::Deployment(d) => Some(d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)),
        Resource::StatefulSet(d) => Some(d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)),
        Resource::Pod(_) => Some(1),
        _ => None,
    }
}
