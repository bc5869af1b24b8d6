use super::is_alb_action;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Ingress backends whose Service exists but has no port matching the backend:
    /// `port.number` is compared with the Service's `spec.ports[].port` and `port.name` with
    /// `spec.ports[].name`. A Service with one unnamed port is still checked by number. A
    /// backend that names no port at all is flagged too.
    ///
    /// ## Why is this bad?
    /// The controller has no upstream for the route and answers 503, or (for some controllers)
    /// drops the whole Ingress from its configuration. A port number that matches the
    /// container's `targetPort` instead of the Service port is the usual mistake.
    ///
    /// ## Example
    /// ```yaml
    /// # Service web: ports: [{port: 80, targetPort: 8080}]
    /// backend:
    ///   service:
    ///     name: web
    ///     port: {number: 8080}   # the targetPort, not the Service port
    /// ```
    ///
    /// ## How to fix
    /// Use a `port.number` from the Service's `spec.ports[].port`, or a `port.name` it defines.
    ///
    /// ## References
    /// - kube-linter `dangling-ingress`, kube-score `ingress-targets-service`, Popeye POP-1402
    pub struct BackendPortMissing {
        code: "TG305",
        name: "backend-port-missing",
        category: Routing,
        severity: High,
        summary: "An Ingress backend names a port its Service does not have",
        needs: [Service],
        since: "0.1.0",
    }
}

impl Rule for BackendPortMissing {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for route in &cx.inventory.routes {
            let Backend::Service { name, port } = &route.backend else {
                continue;
            };
            let (Some(service), None) = (route.service, route.service_port) else {
                continue;
            };
            // A Gateway API backendRef's port is judged by `route-backend-missing`.
            let Some(ingress) = route.ingress else {
                continue;
            };
            let entry = &cx.inventory.ingresses[ingress];
            if is_alb_action(&cx.inventory.objects[entry.object], route) {
                continue;
            }
            let Resource::Service(svc) = &cx.inventory.objects[service].resource else {
                continue;
            };
            let offered: Vec<String> = svc
                .spec
                .iter()
                .flat_map(|s| s.ports.iter().flatten())
                .map(|p| match &p.name {
                    Some(n) if !n.is_empty() => format!("{} ({n})", p.port),
                    _ => p.port.to_string(),
                })
                .collect();
            let offered = if offered.is_empty() {
                "it has no ports".to_owned()
            } else {
                format!("it has {}", offered.join(", "))
            };
            let (pointer, message) = match port {
                Some(PortRef::Number(n)) => (
                    format!("{}/service/port/number", route.backend_pointer),
                    format!("Service `{name}` has no port {n}; {offered}"),
                ),
                Some(PortRef::Name(n)) => (
                    format!("{}/service/port/name", route.backend_pointer),
                    format!("Service `{name}` has no port named `{n}`; {offered}"),
                ),
                None => (
                    format!("{}/service", route.backend_pointer),
                    format!("backend names no port of Service `{name}`; {offered}"),
                ),
            };
            let d = out.report(entry.object, pointer, message);
            if let Some(h) = &route.host {
                d.host(h.clone());
            }
        }
    }
}
