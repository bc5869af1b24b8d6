use super::{
    backend_name, controller_of, describe, first_under, literal_path, path_pointer, sensitive,
};
use crate::controller::Controller;
use crate::inventory::Control;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a route to a login or token endpoint (the config's `rateLimitedPaths`, by default
    /// `/login`, `/signin`, `/sign-in`, `/auth`, `/oauth`, `/oauth2`, `/token`, `/api/login`,
    /// `/api/auth`, `/api/token`) or to a sensitive path (`sensitivePaths` less
    /// `authExemptPaths`) that is known to have no rate limit. Rate limits are read per
    /// controller: ingress-nginx `limit-rps`, `limit-rpm`, `limit-connections` and
    /// `global-rate-limit`; Traefik RateLimit Middlewares (assumed from their name); an AWS ALB
    /// has none of its own, and one with a WAF web ACL (which may hold rate-based rules) is
    /// not judged. When the rate limit cannot be known nothing is reported.
    ///
    /// ## Why is this bad?
    /// Without a limit, a login or token endpoint takes credential stuffing and password
    /// spraying at whatever rate the attacker can send, and an expensive endpoint takes a
    /// denial of service from a single client. ingress-nginx limits are per controller replica,
    /// so they are approximate, but they still cut an attack by orders of magnitude.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   ingressClassName: nginx
    ///   rules:
    ///     - host: shop.example.com
    ///       http:
    ///         paths:
    ///           - {path: /login, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
    /// ```
    ///
    /// ## How to fix
    /// Rate-limit the route per client (ingress-nginx `limit-rps` or `limit-rpm`; a Traefik RateLimit middleware; a rate-based rule in the ALB's WAF web ACL), in a separate Ingress if the rest of the host needs other limits.
    ///
    /// ## References
    /// - ingress-nginx annotations: Rate Limiting, Global Rate Limiting
    /// - OWASP API Security Top 10 API4:2023 Unrestricted Resource Consumption; OWASP ASVS V2.2.1
    pub struct MissingRateLimit {
        code: "TG504",
        name: "missing-rate-limit",
        category: AccessControl,
        severity: Low,
        summary: "A login, token or sensitive route has no rate limit",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for MissingRateLimit {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for route in &inv.routes {
            // Gateway API routes are judged by `route-without-auth`: their controls live in
            // implementation policies, not in annotations this rule reads.
            if route.ingress.is_none() {
                continue;
            }
            if route.posture.rate_limit != Control::No {
                continue;
            }
            let path = literal_path(route);
            let why = if let Some(p) = first_under(path, &cx.options.rate_limited_paths) {
                format!("login path `{p}`")
            } else if let Some(p) = sensitive(cx.options, path) {
                format!("sensitive path `{p}`")
            } else {
                continue;
            };
            let help = match controller_of(inv, route) {
                Some(Controller::Traefik) => {
                    "Attach a RateLimit Middleware (`traefik.ingress.kubernetes.io/router.middlewares`)."
                }
                Some(Controller::AwsAlb) => {
                    "Attach a WAF web ACL with a rate-based rule (`alb.ingress.kubernetes.io/wafv2-acl-arn`)."
                }
                _ => {
                    "Set `nginx.ingress.kubernetes.io/limit-rps` (or `limit-rpm`) on this route's Ingress."
                }
            };
            let d = out.report(
                route.object,
                path_pointer(route),
                format!(
                    "{} ({why}, to {}) has no rate limit",
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
