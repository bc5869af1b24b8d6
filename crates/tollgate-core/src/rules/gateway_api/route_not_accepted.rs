use super::route_name;
use crate::inventory::Attachment;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a route's `parentRefs` entry that no listener of the parent Gateway accepts,
    /// decided as the Gateway API says implementations attach routes:
    /// - the Gateway does not exist (Gateways of its namespace were read);
    /// - `sectionName` or `port` names no listener;
    /// - no listener's `allowedRoutes` admits the route: `namespaces.from` is `Same` (the
    ///   default) and the route lives elsewhere, the `Selector` does not match the route's
    ///   Namespace labels, or `kinds` (or the protocol's default kinds) leave the route's kind
    ///   out;
    /// - none of the route's `hostnames` intersects a listener's `hostname`.
    ///
    /// A parent the implementation reported `Accepted: False` for in the route's status is
    /// reported with its reason, whatever the objects in scope say. Parents that are not
    /// Gateways (a Service, for mesh routing) are not judged. When a namespace selector cannot
    /// be evaluated because the Namespace was not given, nothing is reported.
    ///
    /// ## Why is this bad?
    /// A route that is not accepted serves nothing, silently: `kubectl apply` succeeds, and the
    /// traffic the route was meant to carry keeps going wherever it went before (often the old
    /// Ingress, or a 404). During a migration off ingress-nginx this is the most common reason
    /// a cut-over "works" in staging and breaks in production.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Gateway
    /// metadata: {name: shop, namespace: edge}
    /// spec:
    ///   listeners: [{name: http, port: 80, protocol: HTTP}]   # from: Same by default
    /// ---
    /// kind: HTTPRoute
    /// metadata: {name: web, namespace: shop}
    /// spec:
    ///   parentRefs: [{name: shop, namespace: edge}]
    /// ```
    ///
    /// ## How to fix
    /// Let the listener admit the route's namespace, or fix the parent reference.
    /// ```yaml
    ///   listeners:
    ///     - name: http
    ///       port: 80
    ///       protocol: HTTP
    ///       allowedRoutes:
    ///         namespaces:
    ///           from: Selector
    ///           selector: {matchLabels: {kubernetes.io/metadata.name: shop}}
    /// ```
    ///
    /// ## References
    /// - Gateway API `RouteConditionReason`: `NotAllowedByListeners`,
    ///   `NoMatchingListenerHostname`, `NoMatchingParent`; rule-anchors RTE-06 (Popeye
    ///   `POP-407`, k8sgpt HTTPRoute analyzer)
    pub struct RouteNotAccepted {
        code: "TG904",
        name: "route-not-accepted",
        category: GatewayApi,
        severity: High,
        summary: "A Gateway API route is not accepted by the Gateway it names",
        needs: [],
        since: "0.2.0",
    }
}

impl Rule for RouteNotAccepted {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for entry in &inv.gateway_routes {
            let (object, route) = inv.gateway_route(entry);
            for (i, parent) in entry.parents.iter().enumerate() {
                let gateway = format!(
                    "Gateway `{}/{}`",
                    parent.reference.namespace.as_deref().unwrap_or(object.ns()),
                    parent.reference.name
                );
                let why = match (&parent.refused, &parent.attachment) {
                    (Some(reason), _) => format!("the implementation reports `{reason}`"),
                    (None, Attachment::NoGateway) => format!("{gateway} does not exist"),
                    (None, Attachment::NoSuchListener(what)) => format!("{gateway} has {what}"),
                    (None, Attachment::NotAllowedByListeners(which)) => format!(
                        "{gateway} does not admit {}s from namespace `{}` on {which} \
                         (`allowedRoutes`)",
                        object.kind,
                        object.ns()
                    ),
                    (None, Attachment::NoMatchingListenerHostname) => format!(
                        "none of its hostnames ({}) matches a listener hostname of {gateway}",
                        route
                            .spec
                            .hostnames
                            .iter()
                            .map(|h| format!("`{h}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    (None, _) => continue,
                };
                let d = out.report(
                    entry.object,
                    format!("/spec/parentRefs/{i}"),
                    format!("{} is not accepted: {why}", route_name(inv, entry)),
                );
                if let Some(h) = route.spec.hostnames.first() {
                    d.host(h.clone());
                }
            }
        }
    }
}
