use std::collections::{BTreeMap, BTreeSet};

use super::route_name;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a match (hostname, path, and any header, query or method conditions) that two or
    /// more Gateway API route objects claim on the same Gateway listener. Hostnames are the
    /// routes' effective hostnames on that listener (a route without hostnames takes the
    /// listener's). The Gateway API resolves such a tie in favour of the oldest route
    /// (`creationTimestamp`), then the first in `namespace/name` order; the routes that lose
    /// are reported, naming the one that wins. Manifests carry no creation time, so there the
    /// name order decides, as it would for objects created together.
    ///
    /// ## Why is this bad?
    /// The losing route is accepted and looks healthy, but none of its traffic for that match
    /// reaches its backend. Which team's route wins depends on creation order, so a redeploy
    /// (deleting and recreating a route) silently flips the traffic to the other team's
    /// Service. Across namespaces it is also a way to hijack another team's path.
    ///
    /// ## Example
    /// ```yaml
    /// kind: HTTPRoute
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   hostnames: [shop.example.com]
    ///   rules: [{matches: [{path: {value: /api}}], backendRefs: [{name: api, port: 80}]}]
    /// ---
    /// kind: HTTPRoute
    /// metadata: {name: web-v2, namespace: shop}
    /// spec:
    ///   hostnames: [shop.example.com]
    ///   rules: [{matches: [{path: {value: /api}}], backendRefs: [{name: api-v2, port: 80}]}]
    /// ```
    ///
    /// ## How to fix
    /// Keep one route per hostname and path; to split traffic between two backends, use one
    /// rule with weighted `backendRefs`, or tell them apart with a header match.
    ///
    /// ## References
    /// - Gateway API `HTTPRouteRule` "Precedence" (oldest route, then alphabetical);
    ///   rule-anchors RTE-01 (duplicate host and path on Ingress)
    pub struct DuplicateRouteHostnamePath {
        code: "TG907",
        name: "duplicate-route-hostname-path",
        category: GatewayApi,
        severity: Medium,
        summary: "Two Gateway API routes claim the same hostname and match on a listener",
        needs: [],
        since: "0.2.0",
    }
}

/// A match on a listener: (gateway, listener, hostname, kind family, canonical match).
type Key = (usize, usize, String, &'static str, String);

/// The hostnames a route object serves and the `(gateway, listener)` pairs it is served on.
type Served = (BTreeSet<String>, BTreeSet<(usize, usize)>);

impl Rule for DuplicateRouteHostnamePath {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        // Hostnames and listeners per route object, from its routes in the inventory.
        let mut served: BTreeMap<usize, Served> = BTreeMap::new();
        for route in &inv.routes {
            let Some(g) = &route.gateway else { continue };
            let e = served.entry(g.route).or_default();
            e.0.insert(route.host.clone().unwrap_or_else(|| "*".into()));
            e.1.extend(g.listeners.iter().copied());
        }
        // Key → every (route entry, rule, match) claiming it.
        let mut claims: BTreeMap<Key, Vec<(usize, usize, Option<usize>)>> = BTreeMap::new();
        for (r, (hosts, listeners)) in &served {
            let entry = &inv.gateway_routes[*r];
            let (object, route) = inv.gateway_route(entry);
            let family = match object.kind {
                Kind::HTTPRoute | Kind::GRPCRoute => "http",
                _ => "stream",
            };
            for (ri, rule) in route.spec.rules.iter().enumerate() {
                let matches: Vec<(Option<usize>, String)> = if rule.matches.is_empty() {
                    vec![(None, canonical(object.kind, None))]
                } else {
                    rule.matches
                        .iter()
                        .enumerate()
                        .map(|(mi, m)| (Some(mi), canonical(object.kind, Some(m))))
                        .collect()
                };
                for &(g, l) in listeners {
                    for host in hosts {
                        for (mi, key) in &matches {
                            claims
                                .entry((g, l, host.clone(), family, key.clone()))
                                .or_default()
                                .push((*r, ri, *mi));
                        }
                    }
                }
            }
        }
        let mut reported = BTreeSet::new();
        for ((g, l, host, _, text), mut claimants) in claims {
            let objects: BTreeSet<usize> = claimants.iter().map(|c| c.0).collect();
            if objects.len() < 2 {
                continue;
            }
            claimants.sort_by_key(|&(r, ri, mi)| (precedence(inv, r), ri, mi));
            let winner = claimants[0].0;
            for &(r, ri, mi) in &claimants {
                if r == winner || !reported.insert((r, ri, mi)) {
                    continue;
                }
                let entry = &inv.gateway_routes[r];
                let pointer = match mi {
                    Some(mi) => format!("/spec/rules/{ri}/matches/{mi}"),
                    None => format!("/spec/rules/{ri}"),
                };
                let (gw_object, gw) = inv.gateway(&inv.gateways[g]);
                let listener = gw.spec.listeners.get(l).map_or("", |x| x.name.as_str());
                let d = out.report(
                    entry.object,
                    pointer,
                    format!(
                        "{} claims `{host}` {text} on listener `{listener}` of Gateway `{}/{}`, \
                         which {} also claims and wins (older, or first by name): this match \
                         gets no traffic",
                        route_name(inv, entry),
                        gw_object.ns(),
                        gw_object.name,
                        route_name(inv, &inv.gateway_routes[winner]),
                    ),
                );
                if host != "*" {
                    d.host(host.clone());
                }
            }
        }
    }
}

/// The Gateway API tie-break order: oldest `creationTimestamp` first (absent sorts last, as a
/// manifest not yet created), then `namespace/name`.
fn precedence(
    inv: &crate::inventory::Inventory,
    r: usize,
) -> (Option<String>, bool, String, String) {
    let o = &inv.objects[inv.gateway_routes[r].object];
    let created = o
        .metadata()
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.to_string());
    (
        created.clone(),
        created.is_none(),
        o.ns().to_owned(),
        o.name.clone(),
    )
}

/// A match as text: `path Prefix /api` plus any header, query and method conditions in a stable
/// form, so that equal matches compare equal.
fn canonical(kind: Kind, m: Option<&crate::gateway::RouteMatch>) -> String {
    if !matches!(kind, Kind::HTTPRoute | Kind::GRPCRoute) {
        return "(whole connection)".to_owned();
    }
    let Some(m) = m else {
        return "path prefix `/`".to_owned();
    };
    let mut text = match (kind, &m.path) {
        (Kind::GRPCRoute, _) => match &m.method {
            Some(method) => format!("method {}", sorted_json(method)),
            None => "every method".to_owned(),
        },
        (_, Some(p)) => {
            let t = match p.type_.as_deref().unwrap_or("PathPrefix") {
                "Exact" => "exact",
                "PathPrefix" => "prefix",
                other => other,
            };
            format!("path {t} `{}`", p.value.as_deref().unwrap_or("/"))
        }
        (_, None) => "path prefix `/`".to_owned(),
    };
    let mut conditions: Vec<String> = m
        .headers
        .iter()
        .map(|h| format!("header {}", sorted_json(h)))
        .chain(
            m.query_params
                .iter()
                .map(|q| format!("query {}", sorted_json(q))),
        )
        .collect();
    if kind == Kind::HTTPRoute
        && let Some(method) = &m.method
    {
        conditions.push(format!("method {}", sorted_json(method)));
    }
    conditions.sort();
    if !conditions.is_empty() {
        text.push_str(&format!(" with {}", conditions.join(", ")));
    }
    text
}

/// JSON with object keys sorted (serde_json's map is ordered by key without `preserve_order`).
fn sorted_json(v: &serde_json::Value) -> String {
    v.to_string()
}
