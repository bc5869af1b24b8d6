use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Ingress hosts (in `rules` and in `tls`) that are not under one of the domains the
    /// config allows (`allowedDomains: [example.com]` allows `example.com` and any name under
    /// it). Without `allowedDomains` in the config the rule has nothing to compare against and
    /// reports nothing.
    ///
    /// Gateway API route `hostnames` and Gateway listener `hostname`s are judged too.
    ///
    /// ## Why is this bad?
    /// A host outside the organisation's domains is either a mistake that will never resolve, or
    /// a route published under a name nobody controls: traffic for a look-alike or expired
    /// domain, or a tenant claiming another tenant's name in a shared cluster.
    ///
    /// ## Example
    /// ```yaml
    /// # tollgate.yaml: allowedDomains: [example.com]
    /// spec:
    ///   rules:
    ///     - host: shop.example.net
    /// ```
    ///
    /// ## How to fix
    /// Use a host under an allowed domain, or add the domain to `allowedDomains` if it is yours.
    pub struct HostOutsideAllowedDomains {
        code: "TG106",
        name: "host-outside-allowed-domains",
        category: Exposure,
        severity: Medium,
        summary: "An Ingress host is outside the configured allowed domains",
        needs: [],
        since: "0.1.0",
    }
}

/// Whether `host` is `domain` or a name under it (case-insensitive, wildcards included).
fn under(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let domain = domain
        .trim_start_matches("*.")
        .trim_matches('.')
        .to_ascii_lowercase();
    host == domain || host.ends_with(&format!(".{domain}"))
}

impl Rule for HostOutsideAllowedDomains {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let allowed = &cx.options.allowed_domains;
        if allowed.is_empty() {
            return;
        }
        let outside = |h: &str| !allowed.iter().any(|d| under(h, d));
        for entry in &cx.inventory.ingresses {
            let (_, ing) = cx.inventory.ingress(entry);
            let Some(spec) = &ing.spec else { continue };
            let rule_hosts = spec
                .rules
                .iter()
                .flatten()
                .enumerate()
                .filter_map(|(i, r)| Some((format!("/spec/rules/{i}/host"), r.host.as_deref()?)));
            let tls_hosts = spec.tls.iter().flatten().enumerate().flat_map(|(i, t)| {
                t.hosts
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(move |(j, h)| (format!("/spec/tls/{i}/hosts/{j}"), h.as_str()))
            });
            for (pointer, host) in rule_hosts.chain(tls_hosts) {
                if host.is_empty() || !outside(host) {
                    continue;
                }
                out.report(
                    entry.object,
                    pointer,
                    format!("host `{host}` is not under {}", allowed.join(", ")),
                )
                .host(host);
            }
        }
        // Gateway API: route hostnames and listener hostnames.
        let inv = cx.inventory;
        let route_hosts = inv.gateway_routes.iter().flat_map(|entry| {
            let (_, route) = inv.gateway_route(entry);
            route
                .spec
                .hostnames
                .iter()
                .enumerate()
                .map(move |(i, h)| (entry.object, format!("/spec/hostnames/{i}"), h.as_str()))
        });
        let listener_hosts = inv.gateways.iter().flat_map(|entry| {
            let (_, gw) = inv.gateway(entry);
            gw.spec
                .listeners
                .iter()
                .enumerate()
                .filter_map(move |(l, x)| {
                    Some((
                        entry.object,
                        format!("/spec/listeners/{l}/hostname"),
                        x.hostname.as_deref()?,
                    ))
                })
        });
        for (object, pointer, host) in route_hosts.chain(listener_hosts) {
            if host.is_empty() || !outside(host) {
                continue;
            }
            out.report(
                object,
                pointer,
                format!("host `{host}` is not under {}", allowed.join(", ")),
            )
            .host(host);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::under;

    #[test]
    fn a_host_is_under_its_domain_and_not_under_a_lookalike() {
        assert!(under("shop.example.com", "example.com"));
        assert!(under("example.com", "example.com"));
        assert!(under("*.example.com", "example.com"));
        assert!(under("A.Example.COM.", "example.com"));
        assert!(!under("badexample.com", "example.com"));
        assert!(!under("example.com.evil.net", "example.com"));
    }
}
