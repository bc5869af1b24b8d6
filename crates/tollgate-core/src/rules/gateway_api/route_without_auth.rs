use crate::inventory::Control;
use crate::rules::access_control::{
    auth_required_host, authentication, backend_name, describe, first_under, literal_path,
    sensitive,
};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// The Gateway API counterpart of `public-route-without-auth`: flags an HTTPRoute or
    /// GRPCRoute route that must be protected and is known to have neither authentication nor
    /// an IP allow-list. A route must be protected when its path lies under the config's
    /// `sensitivePaths` (`/admin`, `/actuator`, `/metrics`, …), or its hostname matches
    /// `authRequiredHosts` and not `publicHosts`; `authExemptPaths` are never flagged.
    ///
    /// The Gateway API has no authentication of its own; implementations attach it with policy
    /// objects, which Tollgate recognises where they are common:
    /// - Envoy Gateway `SecurityPolicy` (`basicAuth`, `jwt`, `oidc`, `extAuth`, `apiKeyAuth`;
    ///   `authorization` with a `Deny` default and `clientCIDRs` as an allow-list) targeting
    ///   the route or its Gateway;
    /// - Istio `AuthorizationPolicy` with `action: CUSTOM` (external authorization) or an
    ///   `ALLOW` rule requiring `requestPrincipals`/`principals` (or on `ipBlocks`, an
    ///   allow-list), on the Gateway (by `targetRefs` or the `gateway.networking.k8s.io/
    ///   gateway-name` selector), the backends' workloads, their namespace, or the mesh.
    ///   `RequestAuthentication` alone does not count: it rejects bad tokens, not missing ones.
    /// - a backend that is oauth2-proxy itself.
    ///
    /// A rule with an `ExtensionRef` filter (an implementation's own filter, which Tollgate does
    /// not read) is not reported. Because policies live in objects of their own that may not
    /// be among the files scanned, this rule is `medium`, where the Ingress rule, which reads
    /// the Ingress's own annotations, is `high`.
    ///
    /// ## Why is this bad?
    /// Administration consoles, management and metrics endpoints published without
    /// authentication are the first thing scanners find. Moving from ingress-nginx to a Gateway
    /// API implementation drops every `auth-url` and `auth-type` annotation: unless each is
    /// replaced by a policy, the migration quietly publishes what was protected.
    ///
    /// ## Example
    /// ```yaml
    /// kind: HTTPRoute
    /// metadata: {name: admin, namespace: shop}
    /// spec:
    ///   hostnames: [shop.example.com]
    ///   rules:
    ///     - matches: [{path: {type: PathPrefix, value: /admin}}]
    ///       backendRefs: [{name: shop-admin, port: 80}]
    /// ```
    ///
    /// ## How to fix
    /// Attach your implementation's authentication policy to the route, e.g. Envoy Gateway:
    /// ```yaml
    /// apiVersion: gateway.envoyproxy.io/v1alpha1
    /// kind: SecurityPolicy
    /// metadata: {name: admin-auth, namespace: shop}
    /// spec:
    ///   targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: admin}]
    ///   extAuth: {http: {backendRefs: [{name: oauth2-proxy, port: 4180}]}}
    /// ```
    ///
    /// ## References
    /// - Envoy Gateway "SecurityPolicy"; Istio "Authorization Policy" and "Request
    ///   Authentication"; rule-anchors ACC-01 (no Gateway-level auth filter)
    pub struct RouteWithoutAuth {
        code: "TG908",
        name: "route-without-auth",
        category: GatewayApi,
        severity: Medium,
        summary: "A sensitive Gateway API route has neither authentication nor an allow-list",
        needs: [],
        since: "0.2.0",
    }
}

impl Rule for RouteWithoutAuth {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let options = cx.options;
        for route in &inv.routes {
            if route.gateway.is_none() || !matches!(route.backend, Backend::Service { .. }) {
                continue;
            }
            let path = literal_path(route);
            if first_under(path, &options.auth_exempt_paths).is_some() {
                continue;
            }
            let host = route.host.as_deref().unwrap_or("");
            let why = if let Some(prefix) = sensitive(options, path) {
                format!("sensitive path `{prefix}`")
            } else if let Some(glob) = auth_required_host(options, host) {
                format!("`authRequiredHosts` has `{glob}`")
            } else {
                continue;
            };
            if authentication(inv, route) != Control::No || route.posture.allowlist != Control::No {
                continue;
            }
            let object = &inv.objects[route.object];
            let d = out.report(
                route.object,
                route.backend_pointer.clone(),
                format!(
                    "{} ({} `{}`) reaches {} with no authentication and no IP allow-list ({why}): \
                     no SecurityPolicy or AuthorizationPolicy among the objects scanned covers it",
                    describe(route),
                    object.kind,
                    object.name,
                    backend_name(route),
                ),
            );
            d.help(
                "Attach your implementation's authentication policy to the route or its \
                 Gateway (Envoy Gateway SecurityPolicy `extAuth`/`oidc`/`jwt`/`basicAuth`; Istio \
                 AuthorizationPolicy `CUSTOM`, or `ALLOW` requiring `requestPrincipals`), or \
                 restrict its sources.",
            );
            if let Some(h) = &route.host {
                d.host(h.clone());
            }
        }
    }
}
