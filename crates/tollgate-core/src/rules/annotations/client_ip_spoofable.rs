use super::nginx_ingresses;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags an ingress-nginx ConfigMap that takes the client address from request headers —
    /// `use-forwarded-headers: "true"` or `enable-real-ip: "true"` — while `proxy-real-ip-cidr`
    /// is unset (its default is `0.0.0.0/0`) or contains a `/0` range. The message counts the
    /// Ingresses of that installation whose IP allow-list is thereby bypassable.
    /// `compute-full-forwarded-for: "true"` alone is reported at `medium`: the controller's own
    /// address check is intact, but backends receive a client-supplied `X-Forwarded-For` chain.
    ///
    /// ## Why is this bad?
    /// With `proxy-real-ip-cidr` at `0.0.0.0/0` every client is a trusted proxy: a request that
    /// sends `X-Forwarded-For: 10.0.0.1` is seen as coming from 10.0.0.1. IP allow-lists
    /// (`allowlist-source-range`), deny-lists, rate limits keyed on the address and the access
    /// log all believe it. The setting is only safe behind a load balancer that overwrites the
    /// header, with `proxy-real-ip-cidr` set to that load balancer's addresses.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ConfigMap
    /// data:
    ///   use-forwarded-headers: "true"      # and no proxy-real-ip-cidr
    /// ```
    ///
    /// ## How to fix
    /// Set `proxy-real-ip-cidr` to the addresses of the proxies in front of the controller, or turn `use-forwarded-headers` off (use the PROXY protocol or `externalTrafficPolicy: Local` to keep client addresses).
    ///
    /// ## References
    /// - ingress-nginx `docs/user-guide/nginx-configuration/configmap.md` (use-forwarded-headers,
    ///   proxy-real-ip-cidr, compute-full-forwarded-for); no peer checks this
    pub struct ClientIpSpoofable {
        code: "TG413",
        name: "client-ip-spoofable",
        category: Annotations,
        severity: High,
        summary: "ingress-nginx trusts client-supplied X-Forwarded-For from any address",
        needs: [],
        since: "0.1.0",
    }
}

impl Rule for ClientIpSpoofable {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let installations = &inv.installations;
        let ingresses = nginx_ingresses(inv, installations);
        for inst in installations {
            let Some(cm) = inst.configmap.object else {
                continue;
            };
            let trusting = ["use-forwarded-headers", "enable-real-ip"]
                .into_iter()
                .find(|k| inst.flag(inv, k, false));
            let forwarding = inst.flag(inv, "compute-full-forwarded-for", false);
            let Some(key) = trusting.or(forwarding.then_some("compute-full-forwarded-for")) else {
                continue;
            };
            let cidrs = inst.setting(inv, "proxy-real-ip-cidr").map(str::trim);
            let open = match cidrs {
                None | Some("") => Some("unset, so `0.0.0.0/0`".to_owned()),
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .find(|c| c.ends_with("/0"))
                    .map(|c| format!("`{c}`")),
            };
            let Some(open) = open else {
                continue;
            };
            let allowlisted = ingresses
                .iter()
                .filter(|i| i.installation.is_some_and(|s| s.workload == inst.workload))
                .filter(|i| {
                    i.annotation("allowlist-source-range")
                        .or_else(|| i.annotation("whitelist-source-range"))
                        .is_some()
                })
                .count();
            let who = inst.describe(inv);
            if trusting.is_some() {
                let reach = match allowlisted {
                    0 => String::new(),
                    1 => "; 1 Ingress it serves relies on an IP allow-list".to_owned(),
                    n => format!("; {n} Ingresses it serves rely on IP allow-lists"),
                };
                out.report(
                    cm,
                    format!("/data/{key}"),
                    format!(
                        "`{key}: \"true\"` with `proxy-real-ip-cidr` {open}: {who} takes the \
                         client address from an X-Forwarded-For header anyone can send, so \
                         allow-lists, deny-lists and address-keyed rate limits can be bypassed{reach}"
                    ),
                );
            } else {
                out.report(
                    cm,
                    format!("/data/{key}"),
                    format!(
                        "`{key}: \"true\"` with `proxy-real-ip-cidr` {open}: {who} passes the \
                         client's own X-Forwarded-For chain to the backends, which may trust its \
                         first address"
                    ),
                )
                .severity(Severity::Medium);
            }
        }
    }
}
