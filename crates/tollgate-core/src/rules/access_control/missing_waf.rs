use std::collections::BTreeSet;

use super::controller_of;
use crate::config::glob_matches;
use crate::controller::Controller;
use crate::inventory::Control;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a host that the config's `wafRequiredHosts` (host globs; `"*"` for every host)
    /// says must be behind a web application firewall, on an Ingress known to apply none. The
    /// rule is opt-in: without `wafRequiredHosts` it reports nothing, because most estates put
    /// their WAF in front of the cluster (a CDN, a cloud load balancer, AWS Firewall Manager),
    /// where Tollgate cannot see it.
    ///
    /// A WAF is read per controller: ingress-nginx `enable-modsecurity` (on the Ingress, or
    /// `enable-modsecurity` in the controller ConfigMap unless the Ingress turns it off);
    /// AWS ALB `wafv2-acl-arn` or `waf-acl-id`; Traefik Middlewares named like a WAF plugin
    /// (`waf`, `coraza`, `modsec`; assumed). When it cannot be known (GKE's Cloud Armor lives
    /// in a BackendConfig) nothing is reported. Note that ingress-nginx's ModSecurity only
    /// detects by default (`SecRuleEngine DetectionOnly`): this rule does not check that it
    /// blocks.
    ///
    /// ## Why is this bad?
    /// A host the organisation decided must be behind a WAF (a payment page, a public API
    /// under compliance scope) loses that protection when one of its Ingresses is added or
    /// rewritten without it, and nothing else notices.
    ///
    /// ## Example
    /// ```yaml
    /// # tollgate.yaml: wafRequiredHosts: ["*.pay.example.com"]
    /// spec:
    ///   ingressClassName: nginx
    ///   rules:
    ///     - host: checkout.pay.example.com
    /// ```
    ///
    /// ## How to fix
    /// Apply the WAF on this Ingress (ingress-nginx `enable-modsecurity` and `enable-owasp-core-rules`, with `SecRuleEngine On` in the controller's ModSecurity configuration; ALB `wafv2-acl-arn`), or narrow `wafRequiredHosts` if the WAF sits in front of the cluster.
    ///
    /// ## References
    /// - ingress-nginx: ModSecurity annotations and the `enable-modsecurity` ConfigMap key
    /// - AWS Load Balancer Controller annotations: `wafv2-acl-arn`; PCI DSS v4.0 requirement 6.4.2
    pub struct MissingWaf {
        code: "TG505",
        name: "missing-waf",
        category: AccessControl,
        severity: Low,
        summary: "A host that must be behind a WAF is routed without one",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for MissingWaf {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let globs = &cx.options.waf_required_hosts;
        if globs.is_empty() {
            return;
        }
        // One finding per host of an Ingress rule (or per default backend).
        let mut seen = BTreeSet::new();
        for route in &inv.routes {
            // Gateway API routes are judged by `route-without-auth`: their controls live in
            // implementation policies, not in annotations this rule reads.
            if route.ingress.is_none() {
                continue;
            }
            if route.posture.waf != Control::No {
                continue;
            }
            let host = route.host.as_deref().unwrap_or("");
            let Some(glob) = globs
                .iter()
                .find(|g| glob_matches(g, &host.to_ascii_lowercase()))
            else {
                continue;
            };
            let pointer = match route.backend_pointer.split_once("/http/") {
                Some((rule, _)) => format!("{rule}/host"),
                None => route.backend_pointer.clone(),
            };
            if !seen.insert((route.ingress, pointer.clone())) {
                continue;
            }
            let help = match controller_of(inv, route) {
                Some(Controller::AwsAlb) => {
                    "Attach a WAF web ACL with `alb.ingress.kubernetes.io/wafv2-acl-arn`."
                }
                Some(Controller::Traefik) => {
                    "Attach a WAF plugin middleware (e.g. Coraza) with `traefik.ingress.kubernetes.io/router.middlewares`."
                }
                _ => {
                    "Set `nginx.ingress.kubernetes.io/enable-modsecurity` and `enable-owasp-core-rules` to \"true\", with `SecRuleEngine On` in the controller's ModSecurity configuration."
                }
            };
            let name = if host.is_empty() { "any host" } else { host };
            let d = out.report(
                route.object,
                pointer,
                format!("`{name}` must be behind a WAF (`wafRequiredHosts` has `{glob}`) and this Ingress applies none"),
            );
            d.help(help);
            if !host.is_empty() {
                d.host(host);
            }
        }
    }
}
