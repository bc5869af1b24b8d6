use super::is_alb_action;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Ingress backends (rule paths and `defaultBackend`) that name a Service which does
    /// not exist in the Ingress's namespace. AWS ALB action backends (`use-annotation`) and
    /// `resource` backends are not Services and are not flagged. When no Service of the
    /// Ingress's namespace is among the scanned files, the Service may simply not have been
    /// given: the finding then says "not in scope", at `info`.
    ///
    /// ## Why is this bad?
    /// Requests to the route fail with 503. A dangling route is also a takeover risk: whoever
    /// can create a Service of that name in the namespace receives the traffic, cookies and
    /// credentials meant for the original backend.
    ///
    /// ## Example
    /// ```yaml
    /// backend:
    ///   service:
    ///     name: web-v2      # no such Service
    ///     port: {number: 80}
    /// ```
    ///
    /// ## How to fix
    /// Point the backend at an existing Service, or remove the route.
    ///
    /// ## References
    /// - kube-linter `dangling-ingress`, kube-score `ingress-targets-service`, Popeye POP-1401
    pub struct BackendServiceMissing {
        code: "TG304",
        name: "backend-service-missing",
        category: Routing,
        severity: High,
        summary: "An Ingress backend names a Service that does not exist",
        needs: [Service],
        since: "0.1.0",
    }
}

impl Rule for BackendServiceMissing {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for route in &cx.inventory.routes {
            let Backend::Service { name, .. } = &route.backend else {
                continue;
            };
            // A Gateway API backendRef is judged by `route-backend-missing`.
            let Some(ingress) = route.ingress else {
                continue;
            };
            let entry = &cx.inventory.ingresses[ingress];
            let object = &cx.inventory.objects[entry.object];
            if route.service.is_some() || is_alb_action(object, route) {
                continue;
            }
            let pointer = format!("{}/service/name", route.backend_pointer);
            let d = if cx.inventory.in_scope(Kind::Service, object.ns()) {
                out.report(
                    entry.object,
                    pointer,
                    format!(
                        "Service `{name}` does not exist in namespace `{}`",
                        object.ns()
                    ),
                )
            } else {
                out.report(
                    entry.object,
                    pointer,
                    not_in_scope(Kind::Service, name, object.ns()),
                )
                .severity(Severity::Info)
                .help("scan the Service's manifests with the Ingress, or scan the cluster")
            };
            if let Some(h) = &route.host {
                d.host(h.clone());
            }
        }
    }
}
