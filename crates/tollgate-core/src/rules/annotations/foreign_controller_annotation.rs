use super::annotation_pointer;
use crate::controller::Controller;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a security annotation that belongs to one ingress controller on an Ingress served
    /// by another: ingress-nginx authentication, allow-lists, HTTPS redirects, rate limits or
    /// WAF on a Traefik Ingress; `kubernetes.io/ingress.allow-http: "false"` (GKE) on an
    /// ingress-nginx Ingress; ALB `auth-type` or `wafv2-acl-arn` on an nginx Ingress; and so on
    /// for NGINX Inc, Traefik, HAProxy, AWS ALB, GKE, Contour and Kong. Only annotations whose
    /// value asks for the control are flagged (`ssl-redirect: "false"` asks for nothing).
    ///
    /// The serving controller must be known: an Ingress whose class resolves to no controller,
    /// or to one Tollgate does not model, is not judged.
    ///
    /// ## Why is this bad?
    /// A controller ignores annotations it does not read, without a warning. The author
    /// believes the route is authenticated, allow-listed, rate limited or HTTPS-only, and it is
    /// not. This happens when an Ingress is moved to another class, or copied from an example
    /// written for another controller.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/whitelist-source-range: 10.0.0.0/8   # read by ingress-nginx only
    /// spec:
    ///   ingressClassName: traefik
    /// ```
    ///
    /// ## How to fix
    /// Express the control the way the serving controller reads it (for Traefik a Middleware referenced by `traefik.ingress.kubernetes.io/router.middlewares`), then remove the foreign annotation.
    ///
    /// ## References
    /// - open-policy-agent/gatekeeper-library#77; Azure/azure-policy#719;
    ///   research/rule-anchors.md ANN-17 (no peer checks this)
    pub struct ForeignControllerAnnotation {
        code: "TG410",
        name: "foreign-controller-annotation",
        category: Annotations,
        severity: High,
        summary: "A security annotation is written for a controller that does not serve the Ingress",
        needs: [],
        since: "0.1.0",
    }
}

/// When an annotation's value asks for its control.
#[derive(Clone, Copy)]
enum Asks {
    /// Any non-empty value.
    Always,
    /// A boolean that enables the control when true.
    WhenTrue,
    /// A boolean that enables the control when false (GKE `allow-http`).
    WhenFalse,
}

impl Asks {
    fn by(self, value: &str) -> bool {
        let v = value.trim();
        match self {
            Asks::Always => !v.is_empty(),
            Asks::WhenTrue => v.eq_ignore_ascii_case("true"),
            Asks::WhenFalse => v.eq_ignore_ascii_case("false"),
        }
    }
}

/// Security annotations and the controllers that read them. Keys are listed one by one rather
/// than by prefix: some prefixes are shared (`ingress.kubernetes.io/` by HAProxy Ingress and
/// Contour) and `kubernetes.io/ingress.class` is no controller's own.
const SECURITY_ANNOTATIONS: &[(&str, &[&str], &str, Asks)] = {
    use Asks::{Always, WhenFalse, WhenTrue};
    const NGINX: &[&str] = &["ingress-nginx"];
    const NGINX_INC: &[&str] = &["nginx-inc"];
    const TRAEFIK: &[&str] = &["traefik"];
    const HAPROXY: &[&str] = &["haproxy"];
    const ALB: &[&str] = &["aws-alb"];
    const GCE: &[&str] = &["gce"];
    const CONTOUR_HAPROXY: &[&str] = &["contour", "haproxy"];
    const KONG: &[&str] = &["kong"];
    &[
        (
            "nginx.ingress.kubernetes.io/auth-type",
            NGINX,
            "authentication",
            Always,
        ),
        (
            "nginx.ingress.kubernetes.io/auth-url",
            NGINX,
            "authentication",
            Always,
        ),
        (
            "nginx.ingress.kubernetes.io/auth-tls-verify-client",
            NGINX,
            "client-certificate authentication",
            Always,
        ),
        (
            "nginx.ingress.kubernetes.io/auth-tls-secret",
            NGINX,
            "client-certificate authentication",
            Always,
        ),
        (
            "nginx.ingress.kubernetes.io/allowlist-source-range",
            NGINX,
            "IP allow-list",
            Always,
        ),
        (
            "nginx.ingress.kubernetes.io/whitelist-source-range",
            NGINX,
            "IP allow-list",
            Always,
        ),
        (
            "nginx.ingress.kubernetes.io/denylist-source-range",
            NGINX,
            "IP deny-list",
            Always,
        ),
        (
            "nginx.ingress.kubernetes.io/force-ssl-redirect",
            NGINX,
            "HTTPS redirect",
            WhenTrue,
        ),
        (
            "nginx.ingress.kubernetes.io/ssl-redirect",
            NGINX,
            "HTTPS redirect",
            WhenTrue,
        ),
        (
            "nginx.ingress.kubernetes.io/limit-rps",
            NGINX,
            "rate limit",
            Always,
        ),
        (
            "nginx.ingress.kubernetes.io/limit-rpm",
            NGINX,
            "rate limit",
            Always,
        ),
        (
            "nginx.ingress.kubernetes.io/limit-connections",
            NGINX,
            "connection limit",
            Always,
        ),
        (
            "nginx.ingress.kubernetes.io/enable-modsecurity",
            NGINX,
            "WAF",
            WhenTrue,
        ),
        (
            "nginx.ingress.kubernetes.io/enable-owasp-core-rules",
            NGINX,
            "WAF rule set",
            WhenTrue,
        ),
        (
            "nginx.ingress.kubernetes.io/proxy-ssl-verify",
            NGINX,
            "backend certificate verification",
            Always,
        ),
        (
            "nginx.org/redirect-to-https",
            NGINX_INC,
            "HTTPS redirect",
            WhenTrue,
        ),
        (
            "nginx.org/ssl-redirect",
            NGINX_INC,
            "HTTPS redirect",
            WhenTrue,
        ),
        ("nginx.org/hsts", NGINX_INC, "HSTS", WhenTrue),
        (
            "nginx.org/basic-auth-secret",
            NGINX_INC,
            "authentication",
            Always,
        ),
        ("nginx.com/jwt-key", NGINX_INC, "JWT authentication", Always),
        (
            "traefik.ingress.kubernetes.io/router.middlewares",
            TRAEFIK,
            "Traefik middleware chain (authentication, allow-lists, redirects)",
            Always,
        ),
        (
            "traefik.ingress.kubernetes.io/router.tls",
            TRAEFIK,
            "router TLS",
            WhenTrue,
        ),
        ("haproxy.org/auth-type", HAPROXY, "authentication", Always),
        ("haproxy.org/auth-secret", HAPROXY, "authentication", Always),
        ("haproxy.org/allow-list", HAPROXY, "IP allow-list", Always),
        ("haproxy.org/whitelist", HAPROXY, "IP allow-list", Always),
        ("haproxy.org/deny-list", HAPROXY, "IP deny-list", Always),
        (
            "haproxy.org/ssl-redirect",
            HAPROXY,
            "HTTPS redirect",
            WhenTrue,
        ),
        (
            "haproxy.org/rate-limit-requests",
            HAPROXY,
            "rate limit",
            Always,
        ),
        (
            "haproxy-ingress.github.io/auth-url",
            HAPROXY,
            "authentication",
            Always,
        ),
        (
            "haproxy-ingress.github.io/allowlist-source-range",
            HAPROXY,
            "IP allow-list",
            Always,
        ),
        (
            "haproxy-ingress.github.io/ssl-redirect",
            HAPROXY,
            "HTTPS redirect",
            WhenTrue,
        ),
        (
            "ingress.kubernetes.io/force-ssl-redirect",
            CONTOUR_HAPROXY,
            "HTTPS redirect",
            WhenTrue,
        ),
        (
            "alb.ingress.kubernetes.io/auth-type",
            ALB,
            "authentication",
            Always,
        ),
        (
            "alb.ingress.kubernetes.io/auth-idp-cognito",
            ALB,
            "authentication",
            Always,
        ),
        (
            "alb.ingress.kubernetes.io/auth-idp-oidc",
            ALB,
            "authentication",
            Always,
        ),
        (
            "alb.ingress.kubernetes.io/inbound-cidrs",
            ALB,
            "IP allow-list",
            Always,
        ),
        (
            "alb.ingress.kubernetes.io/ssl-redirect",
            ALB,
            "HTTPS redirect",
            Always,
        ),
        (
            "alb.ingress.kubernetes.io/wafv2-acl-arn",
            ALB,
            "WAF",
            Always,
        ),
        ("alb.ingress.kubernetes.io/waf-acl-id", ALB, "WAF", Always),
        (
            "kubernetes.io/ingress.allow-http",
            GCE,
            "refusal of plain HTTP",
            WhenFalse,
        ),
        (
            "networking.gke.io/v1beta1.FrontendConfig",
            GCE,
            "FrontendConfig (HTTPS redirect, SSL policy)",
            Always,
        ),
        (
            "projectcontour.io/tls-minimum-protocol-version",
            &["contour"],
            "TLS minimum version",
            Always,
        ),
        (
            "konghq.com/plugins",
            KONG,
            "Kong plugin chain (authentication, rate limits)",
            Always,
        ),
        ("konghq.com/protocols", KONG, "protocol restriction", Always),
    ]
};

impl Rule for ForeignControllerAnnotation {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for entry in &inv.ingresses {
            let Some(controller) = entry.class.controller.as_ref() else {
                continue;
            };
            if matches!(controller, Controller::Other(_)) {
                continue;
            }
            let serving = controller.name();
            let object = &inv.objects[entry.object];
            for (key, value) in object.metadata().annotations.iter().flatten() {
                let Some((_, owners, control, asks)) = SECURITY_ANNOTATIONS
                    .iter()
                    .find(|(k, ..)| *k == key.as_str())
                else {
                    continue;
                };
                if owners.contains(&serving) || !asks.by(value) {
                    continue;
                }
                let help = match controller {
                    Controller::Traefik => {
                        "express it as a Traefik Middleware (ForwardAuth, BasicAuth, IPAllowList, \
                         RedirectScheme) referenced by `traefik.ingress.kubernetes.io/router.middlewares`"
                    }
                    Controller::IngressNginx => {
                        "express it with the matching `nginx.ingress.kubernetes.io/` annotation \
                         (`auth-url`, `allowlist-source-range`, `force-ssl-redirect`, `limit-rps`, ...)"
                    }
                    _ => {
                        "express it the way the serving controller reads it (its own annotation or CRD)"
                    }
                };
                out.report(
                    entry.object,
                    annotation_pointer(key),
                    format!(
                        "`{key}` is read by {} only, and this Ingress is served by {serving}: the \
                         {control} it asks for is not in force",
                        owners.join(" and ")
                    ),
                )
                .help(format!("{help}, then remove `{key}`"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SECURITY_ANNOTATIONS;
    use crate::controller::Controller;

    #[test]
    fn every_owner_is_a_controller_tollgate_knows() {
        let known = [
            Controller::IngressNginx,
            Controller::NginxInc,
            Controller::Traefik,
            Controller::Haproxy,
            Controller::AwsAlb,
            Controller::Gce,
            Controller::Contour,
            Controller::Kong,
        ]
        .map(|c| c.name().to_owned());
        for (key, owners, ..) in SECURITY_ANNOTATIONS {
            for owner in *owners {
                assert!(known.iter().any(|k| k == owner), "{key}: {owner}");
            }
        }
    }
}
