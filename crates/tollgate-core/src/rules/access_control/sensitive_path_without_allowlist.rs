use super::{
    backend_name, controller_of, describe, literal_path, network_restriction, path_pointer,
    sensitive,
};
use crate::controller::Controller;
use crate::inventory::Control;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a route to a sensitive path (the config's `sensitivePaths`, less `authExemptPaths`;
    /// see `public-route-without-auth` for the defaults and how paths match) that is known to
    /// have no IP allow-list, or one that admits every address (`0.0.0.0/0`, `::/0`). Allow-lists
    /// are read per controller: ingress-nginx `allowlist-source-range` (or the legacy
    /// `whitelist-source-range`, or the controller ConfigMap's `whitelist-source-range`),
    /// Traefik IPAllowList Middlewares (assumed from their name), AWS ALB `inbound-cidrs` or the
    /// `internal` scheme. When the allow-list cannot be known nothing is reported.
    ///
    /// The rule asks for an allow-list whether or not the route has authentication: defence in
    /// depth for the paths that matter most. A sensitive route with neither is also reported,
    /// at high, by `public-route-without-auth`; one with authentication only by this rule, at
    /// medium.
    ///
    /// ## Why is this bad?
    /// Authentication alone leaves an administration or management endpoint open to password
    /// spraying, session theft and every authentication-bypass bug of the application (or of
    /// the auth proxy) from the whole internet. Restricting it to the networks its operators
    /// use removes most of that exposure at no cost to them.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/auth-url: https://sso.example.com/oauth2/auth
    /// spec:
    ///   rules:
    ///     - host: shop.example.com
    ///       http:
    ///         paths:
    ///           - {path: /actuator, pathType: Prefix, backend: {service: {name: api, port: {number: 8080}}}}
    /// ```
    ///
    /// ## How to fix
    /// Restrict the route to the networks that need it (ingress-nginx `allowlist-source-range`, a Traefik IPAllowList middleware, ALB `inbound-cidrs` or the `internal` scheme), or serve it from an internal-only Ingress class.
    ///
    /// ## References
    /// - ingress-nginx annotations: `allowlist-source-range` (Medium risk, `ValidateCIDRs`)
    /// - OWASP ASVS V1.14 (configuration architecture: segregation of administrative interfaces)
    pub struct SensitivePathWithoutAllowlist {
        code: "TG502",
        name: "sensitive-path-without-allowlist",
        category: AccessControl,
        severity: Medium,
        summary: "A sensitive path is reachable from any source address",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for SensitivePathWithoutAllowlist {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for route in &inv.routes {
            // Gateway API routes are judged by `route-without-auth`: their controls live in
            // implementation policies, not in annotations this rule reads.
            if route.ingress.is_none() {
                continue;
            }
            let Some(prefix) = sensitive(cx.options, literal_path(route)) else {
                continue;
            };
            let what = match network_restriction(inv, route) {
                Control::No if route.posture.allowlist == Control::No => "has no IP allow-list",
                Control::No => "has an allow-list that admits every address",
                _ => continue,
            };
            let help = match controller_of(inv, route) {
                Some(Controller::Traefik) => {
                    "Attach an IPAllowList Middleware with the networks that need it (`traefik.ingress.kubernetes.io/router.middlewares`)."
                }
                Some(Controller::AwsAlb) => {
                    "Restrict `alb.ingress.kubernetes.io/inbound-cidrs` to the networks that need it, or use the `internal` scheme."
                }
                _ => {
                    "Set `nginx.ingress.kubernetes.io/allowlist-source-range` to the networks that need it (office, VPN, CI)."
                }
            };
            let d = out.report(
                route.object,
                path_pointer(route),
                format!(
                    "{} (sensitive path `{prefix}`, to {}) {what}",
                    describe(route),
                    backend_name(route)
                ),
            );
            d.help(help);
            if let Some(h) = &route.host {
                d.host(h.clone());
            }
        }
    }
}
