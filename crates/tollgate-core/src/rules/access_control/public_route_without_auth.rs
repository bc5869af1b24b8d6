use super::{
    auth_required_host, authentication, backend_name, controller_of, describe, first_under,
    literal_path, network_restriction, path_pointer, protect_help, sensitive,
};
use crate::inventory::Control;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a route that must be protected and is known to have neither authentication nor an
    /// IP allow-list. A route must be protected when its path lies under one of the config's
    /// `sensitivePaths` (by default `/admin`, `/actuator`, `/metrics`, `/debug`, `/console`,
    /// `/internal`, `/manage`, `/phpmyadmin`, … — paths are matched segment by segment and
    /// without regard to case, and a regex path by its literal prefix), or when its host
    /// matches `authRequiredHosts` and not `publicHosts` (then every path does). Paths under
    /// `authExemptPaths` (by default `/.well-known/`, `/healthz`, `/readyz`, `/livez`,
    /// `/actuator/health` and oauth2-proxy's `/oauth2/`) are never flagged. A catch-all route
    /// such as `/` is not a sensitive path by itself: list a host that is private as a whole in
    /// `authRequiredHosts`.
    ///
    /// Authentication is recognised per controller: ingress-nginx `auth-type`, `auth-url`
    /// (oauth2-proxy and other external auth), client certificates (`auth-tls-secret`) and the
    /// controller ConfigMap's `global-auth-url` (unless the Ingress sets
    /// `enable-global-auth: "false"`); Traefik Middlewares named like an auth middleware
    /// (assumed from the name, since Middleware objects are not read); AWS ALB
    /// `auth-type: oidc|cognito`; and a route whose backend is oauth2-proxy itself. An
    /// allow-list counts unless it admits every address (`0.0.0.0/0`, `::/0`). When the
    /// posture cannot be known (a controller Tollgate does not model, GKE's IAP in a
    /// BackendConfig, a Traefik middleware with a name that says nothing, a canary Ingress)
    /// nothing is reported. `sensitive-path-without-allowlist` may report the same route: it
    /// asks for an allow-list even when there is authentication.
    ///
    /// ## Why is this bad?
    /// Administration consoles, framework management endpoints (Spring Boot Actuator's `/env`
    /// and `/heapdump`, Jolokia) and metrics or debug handlers are the first paths scanners
    /// probe. Published without authentication on a public host they hand out configuration,
    /// secrets and sometimes code execution to anyone who asks.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   ingressClassName: nginx
    ///   rules:
    ///     - host: shop.example.com
    ///       http:
    ///         paths:
    ///           - path: /admin
    ///             pathType: Prefix
    ///             backend: {service: {name: shop-admin, port: {name: http}}}
    /// ```
    ///
    /// ## How to fix
    /// Put authentication in front of the route (ingress-nginx `auth-url` to oauth2-proxy or `auth-type` with `auth-secret`; a Traefik ForwardAuth middleware; ALB `auth-type: oidc`), or restrict its source addresses, or move it to an internal-only Ingress class.
    ///
    /// ## References
    /// - ingress-nginx annotations: Authentication, External Authentication, Client Certificate
    ///   Authentication, `global-auth-url`
    /// - kubescape C-0274 (unauthenticated service, runtime only); OWASP API Security Top 10
    ///   API2:2023 Broken Authentication
    pub struct PublicRouteWithoutAuth {
        code: "TG501",
        name: "public-route-without-auth",
        category: AccessControl,
        severity: High,
        summary: "A sensitive route has neither authentication nor an IP allow-list",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for PublicRouteWithoutAuth {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let options = cx.options;
        for route in &inv.routes {
            // Gateway API routes are judged by `route-without-auth`: their controls live in
            // implementation policies, not in annotations this rule reads.
            if route.ingress.is_none() {
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
            if authentication(inv, route) != Control::No {
                continue;
            }
            let allowlist = match network_restriction(inv, route) {
                Control::No if route.posture.allowlist == Control::No => "no IP allow-list",
                Control::No => "an allow-list that admits every address",
                _ => continue,
            };
            let d = out.report(
                route.object,
                path_pointer(route),
                format!(
                    "{} reaches {} with no authentication and {allowlist} ({why})",
                    describe(route),
                    backend_name(route),
                ),
            );
            d.help(format!(
                "Protect it: {}.",
                protect_help(controller_of(inv, route))
            ));
            if let Some(h) = &route.host {
                d.host(h.clone());
            }
        }
    }
}
