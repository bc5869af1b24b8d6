use std::collections::HashMap;

use super::{allowlist_annotation, annotation_pointer, is_nginx_canary};
use crate::config::Cidr;
use crate::controller::Controller;
use crate::inventory::Control;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags an IP allow-list that does not restrict much, at the annotation:
    /// - an entry that admits every address, `0.0.0.0/0` or `::/0`;
    /// - an IPv4 range broader than /8, or an IPv6 range broader than /32 outside the
    ///   unique-local `fc00::/7`,
    ///
    /// unless the config's `trustedCidrs` holds a network that contains the entry (entries
    /// there are accepted however broad). Allow-lists are read from ingress-nginx
    /// `allowlist-source-range` (or the legacy `whitelist-source-range` when the first is
    /// absent; an Ingress whose controller is unknown is read as ingress-nginx's) and AWS ALB
    /// `inbound-cidrs`. An ALB `inbound-cidrs` made only of `0.0.0.0/0` and `::/0` is the
    /// documented way of publishing an internet-facing load balancer and is not reported. The
    /// controller ConfigMap's global `whitelist-source-range` and Traefik IPAllowList
    /// Middlewares (not read) are not judged.
    ///
    /// It also flags ingress-nginx `satisfy: "any"` on an Ingress with both authentication
    /// (basic, digest or external; client certificates are not affected by `satisfy`) and an
    /// allow-list: either one then lets a client in, so every address on the allow-list skips
    /// authentication. With an allow-list that admits every address, authentication is
    /// skipped for everyone, and the finding is high.
    ///
    /// ## Why is this bad?
    /// An allow-list is meant to confine a route to known networks. One broad entry, often
    /// added "temporarily" while debugging, silently turns it into a public route while the
    /// Ingress still reads as restricted to reviewers and to `tollgate map`.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/whitelist-source-range: 10.20.0.0/16,0.0.0.0/0
    /// ```
    ///
    /// ## How to fix
    /// Remove the broad entry and list only the networks that need access; add a deliberately broad network to `trustedCidrs`; drop `satisfy: "any"` unless skipping authentication from the allow-listed networks is intended.
    ///
    /// ## References
    /// - ingress-nginx annotations: `allowlist-source-range`, `satisfy` (Low risk);
    ///   ingress-nginx#7354
    /// - AWS Load Balancer Controller annotations: `inbound-cidrs`
    pub struct AllowlistTooBroad {
        code: "TG503",
        name: "allowlist-too-broad",
        category: AccessControl,
        severity: Medium,
        summary: "An IP allow-list admits far more addresses than it should",
        needs: [],
        since: "0.1.0",
    }
}

/// The unique-local IPv6 range, private like 10.0.0.0/8.
const IPV6_UNIQUE_LOCAL: &str = "fc00::/7";

/// Why an allow-list entry is too broad, if it is.
fn too_broad(cidr: &Cidr, trusted: &[Cidr]) -> Option<&'static str> {
    if trusted.iter().any(|t| t.contains(cidr)) {
        return None;
    }
    if cidr.is_everything() {
        return Some("every address");
    }
    let unique_local: Cidr = IPV6_UNIQUE_LOCAL.parse().expect("a valid CIDR");
    match cidr.network() {
        std::net::IpAddr::V4(_) if cidr.prefix() < 8 => Some("broader than /8"),
        std::net::IpAddr::V6(_) if cidr.prefix() < 32 && !unique_local.contains(cidr) => {
            Some("broader than /32")
        }
        _ => None,
    }
}

const SATISFY: &str = "nginx.ingress.kubernetes.io/satisfy";

impl Rule for AllowlistTooBroad {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let trusted = &cx.options.trusted_cidrs;
        // The posture is per Ingress; any route of it will do.
        let mut posture_of = HashMap::new();
        for route in &inv.routes {
            posture_of.entry(route.ingress).or_insert(&route.posture);
        }
        for (index, entry) in inv.ingresses.iter().enumerate() {
            let object = &inv.objects[entry.object];
            let controller = entry.class.controller.as_ref();
            let nginx = matches!(controller, None | Some(Controller::IngressNginx));
            if nginx && is_nginx_canary(object) {
                continue;
            }
            let list = allowlist_annotation(object, controller);
            if let Some(list) = &list {
                let broad: Vec<String> = list
                    .entries
                    .iter()
                    .filter_map(|(text, cidr)| {
                        let why = too_broad(cidr.as_ref().ok()?, trusted)?;
                        Some(format!("`{text}` ({why})"))
                    })
                    .collect();
                let only_everything = list
                    .entries
                    .iter()
                    .all(|(_, c)| c.as_ref().is_ok_and(Cidr::is_everything));
                let alb_public = controller == Some(&Controller::AwsAlb) && only_everything;
                if !broad.is_empty() && !alb_public {
                    out.report(
                        entry.object,
                        annotation_pointer(&list.key),
                        format!(
                            "`{}` admits {}",
                            list.key.rsplit('/').next().unwrap_or(&list.key),
                            broad.join(", ")
                        ),
                    )
                    .help(
                        "Remove the broad entries and list only the networks that need access, or add a deliberately broad network to `trustedCidrs`.",
                    );
                }
            }
            if !nginx || object.annotation(SATISFY).map(str::trim) != Some("any") {
                continue;
            }
            let Some(posture) = posture_of.get(&Some(index)) else {
                continue;
            };
            let password_or_external =
                matches!(&posture.auth, Control::Yes(d) if !d.starts_with("client-cert"));
            if !password_or_external || !matches!(posture.allowlist, Control::Yes(_)) {
                continue;
            }
            let Control::Yes(sources) = &posture.allowlist else {
                continue;
            };
            if list.as_ref().is_some_and(|l| l.admits_everyone()) {
                out.report(
                    entry.object,
                    annotation_pointer(SATISFY),
                    "`satisfy: any` with an allow-list that admits every address: every client skips authentication",
                )
                .severity(Severity::High)
                .help("Remove `satisfy: \"any\"`, and `0.0.0.0/0` from the allow-list: as written, authentication is never asked for.");
            } else {
                out.report(
                    entry.object,
                    annotation_pointer(SATISFY),
                    format!(
                        "`satisfy: any`: a client from the allow-list ({sources}) skips authentication"
                    ),
                )
                .help("Remove `satisfy: \"any\"` unless clients from the allow-listed networks are meant to skip authentication.");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broad_ranges_are_too_broad_unless_trusted() {
        let c = |s: &str| s.parse::<Cidr>().unwrap();
        assert_eq!(too_broad(&c("0.0.0.0/0"), &[]), Some("every address"));
        assert_eq!(too_broad(&c("::/0"), &[]), Some("every address"));
        assert_eq!(too_broad(&c("8.0.0.0/7"), &[]), Some("broader than /8"));
        assert_eq!(too_broad(&c("10.0.0.0/8"), &[]), None);
        assert_eq!(too_broad(&c("2001::/16"), &[]), Some("broader than /32"));
        assert_eq!(too_broad(&c("2001:db8::/32"), &[]), None);
        assert_eq!(too_broad(&c("fc00::/7"), &[]), None, "unique-local");
        assert_eq!(too_broad(&c("8.0.0.0/7"), &[c("8.0.0.0/6")]), None);
        assert_eq!(
            too_broad(&c("0.0.0.0/0"), &[c("0.0.0.0/0")]),
            None,
            "trusted on purpose"
        );
    }
}
