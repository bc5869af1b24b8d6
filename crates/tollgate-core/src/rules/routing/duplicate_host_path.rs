use std::collections::HashMap;

use super::support::is_acme_solver;
use crate::controller::Controller;
use crate::inventory::PathType;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a host and path that more than one Ingress (or one Ingress twice) routes, under
    /// the same IngressClass. Paths are compared with their matching semantics: `Prefix` paths
    /// ignore a trailing slash, and for ingress-nginx `ImplementationSpecific` is a prefix
    /// unless `use-regex` is on. An ingress-nginx canary Ingress paired with its main Ingress
    /// is not a conflict, and cert-manager's HTTP-01 solver Ingresses (label
    /// `acme.cert-manager.io/http01-solver`) are left out: they route a challenge path for a
    /// few minutes by design. The first definition in input order is the one others are
    /// reported against.
    ///
    /// ## Why is this bad?
    /// Only one backend can win, and which one depends on the controller (oldest Ingress,
    /// alphabetical order, or whichever was synced last). Traffic can silently move between
    /// services on a controller restart, and a team can capture another team's path by
    /// declaring the same route in its own namespace.
    ///
    /// ## Example
    /// ```yaml
    /// # Ingress shop/web:    host shop.example.com, path /api (Prefix) → api
    /// # Ingress shop/legacy: host shop.example.com, path /api/ (Prefix) → legacy-api
    /// ```
    ///
    /// ## How to fix
    /// Keep each host and path in exactly one Ingress; use a canary annotation for deliberate traffic splits.
    ///
    /// ## References
    /// - Kyverno `unique-ingress-host-and-path`; ingress-nginx admission `checkOverlap`
    pub struct DuplicateHostPath {
        code: "TG301",
        name: "duplicate-host-path",
        category: Routing,
        severity: High,
        summary: "The same host and path is routed more than once",
        needs: [],
        since: "0.1.0",
    }
}

const CANARY: &str = "nginx.ingress.kubernetes.io/canary";

impl Rule for DuplicateHostPath {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        // (class, host, type, path) → first route index holding it.
        let mut first: HashMap<(String, String, PathType, String), usize> = HashMap::new();
        for (i, route) in inv.routes.iter().enumerate() {
            let Some(path) = &route.path else { continue };
            // Gateway API routes have `duplicate-route-hostname-path`, with their own precedence.
            let Some(ingress) = route.ingress else {
                continue;
            };
            let entry = &inv.ingresses[ingress];
            let object = &inv.objects[entry.object];
            if is_acme_solver(object) {
                continue;
            }
            let nginx = entry.class.controller == Some(Controller::IngressNginx);
            let regex = object.annotation("nginx.ingress.kubernetes.io/use-regex") == Some("true");
            let kind = match route.path_type {
                PathType::ImplementationSpecific if nginx && !regex => PathType::Prefix,
                t => t,
            };
            let path = if kind == PathType::Prefix && path.len() > 1 {
                path.trim_end_matches('/').to_owned()
            } else {
                path.clone()
            };
            let key = (
                entry.class.class.clone().unwrap_or_default(),
                route.host.clone().unwrap_or_default().to_ascii_lowercase(),
                kind,
                path,
            );
            let Some(&j) = first.get(&key) else {
                first.insert(key, i);
                continue;
            };
            let other = &inv.objects[inv.routes[j].object];
            let canary = |o: &Object| o.annotation(CANARY) == Some("true");
            if nginx && canary(object) != canary(other) {
                continue;
            }
            let host = route.host.as_deref().unwrap_or("*");
            let where_ = if std::ptr::eq(other, object) {
                "earlier in the same Ingress".to_owned()
            } else {
                format!("by Ingress {}/{}", other.ns(), other.name)
            };
            let d = out.report(
                entry.object,
                format!(
                    "{}/path",
                    route.backend_pointer.trim_end_matches("/backend")
                ),
                format!(
                    "`{host}{}` ({}) is already routed {where_}",
                    key.3,
                    kind.as_str()
                ),
            );
            if let Some(h) = &route.host {
                d.host(h.clone());
            }
        }
    }
}
