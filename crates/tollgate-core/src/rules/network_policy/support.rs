//! What the network-policy and health rules share: the workloads behind routes, their pod
//! specs, and how NetworkPolicies select pods and admit traffic.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::inventory::{Inventory, Route, pod_labels, selector_matches};
use crate::object::{Kind, Object, Resource};

/// A workload that at least one route sends traffic to.
#[derive(Debug)]
pub(crate) struct RoutedWorkload {
    /// Index into [`Inventory::objects`].
    pub(crate) object: usize,
    /// Indices into [`Inventory::routes`] of the routes whose Service selects it.
    pub(crate) routes: Vec<usize>,
}

/// The workloads behind routes, each once, in input order.
///
/// A Pod that a scanned Deployment, StatefulSet or DaemonSet manages is left out: a cluster
/// listing holds both, and the fix belongs in the controller's pod template, where it is
/// reported once.
pub(crate) fn routed_workloads(inv: &Inventory) -> Vec<RoutedWorkload> {
    let mut by_object: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (r, route) in inv.routes.iter().enumerate() {
        for &w in &route.workloads {
            by_object.entry(w).or_default().push(r);
        }
    }
    by_object
        .into_iter()
        .filter(|&(w, _)| !managed_by_scanned_controller(inv, &inv.objects[w]))
        .map(|(object, mut routes)| {
            // Messages name the first route; order them by name so that the same objects read
            // from files or listed from a cluster give the same message.
            routes.sort_by_cached_key(|&r| {
                let route = &inv.routes[r];
                let ingress = &inv.objects[route.object];
                (
                    ingress.ns().to_owned(),
                    ingress.name.clone(),
                    route.host.clone(),
                    route.path.clone(),
                    r,
                )
            });
            RoutedWorkload { object, routes }
        })
        .collect()
}

/// Whether `o` is a Pod whose controlling owner is a workload among the scanned objects (for
/// a Deployment, through the ReplicaSet named `<deployment>-<pod-template-hash>`).
fn managed_by_scanned_controller(inv: &Inventory, o: &Object) -> bool {
    if o.kind != Kind::Pod {
        return false;
    }
    let owners = o.metadata().owner_references.iter().flatten();
    owners
        .filter(|r| r.controller == Some(true))
        .any(|owner| match owner.kind.as_str() {
            "StatefulSet" => inv.get(Kind::StatefulSet, o.ns(), &owner.name).is_some(),
            "DaemonSet" => inv.get(Kind::DaemonSet, o.ns(), &owner.name).is_some(),
            "ReplicaSet" => owner
                .name
                .rsplit_once('-')
                .is_some_and(|(deployment, hash)| {
                    !hash.is_empty()
                        && hash.bytes().all(|b| b.is_ascii_alphanumeric())
                        && inv.get(Kind::Deployment, o.ns(), deployment).is_some()
                }),
            _ => false,
        })
}

/// Pointer to the labels a workload's pods carry, which a NetworkPolicy selects on.
pub(crate) fn pod_labels_pointer(o: &Object) -> &'static str {
    if o.kind == Kind::Pod {
        "/metadata/labels"
    } else {
        "/spec/template/metadata/labels"
    }
}

/// The desired replica count of a Deployment or StatefulSet: `Some(n)` as written, `None` when
/// unset (the API server defaults it to 1), and `Some(1)` for a Pod. DaemonSets have none.
pub(crate) fn replicas(o: &Object) -> Option<Option<i32>> {
    match &o.resource {
        Resource::Deployment(d) => Some(d.spec.as_ref().and_then(|s| s.replicas)),
        Resource::StatefulSet(d) => Some(d.spec.as_ref().and_then(|s| s.replicas)),
        Resource::Pod(_) => Some(Some(1)),
        _ => None,
    }
}

/// Whether a workload is scaled to zero: it runs no pods, so nothing is routed to them (the
/// route's problem is then `backend-no-endpoints`).
pub(crate) fn scaled_to_zero(o: &Object) -> bool {
    matches!(replicas(o), Some(Some(0)))
}

/// The Service `targetPort` a route reaches, when the route resolves to a Service port (an
/// absent `targetPort` is the port number itself).
pub(crate) fn target_port(inv: &Inventory, route: &Route) -> Option<IntOrString> {
    let Resource::Service(svc) = &inv.objects[route.service?].resource else {
        return None;
    };
    let port = svc
        .spec
        .as_ref()?
        .ports
        .as_ref()?
        .get(route.service_port?)?;
    Some(
        port.target_port
            .clone()
            .unwrap_or(IntOrString::Int(port.port)),
    )
}

/// A one-line description of a route for messages: `` `host/path` (Ingress `name`) ``,
/// `` `host/path` (HTTPRoute `name`) ``.
pub(crate) fn describe_route(inv: &Inventory, route: &Route) -> String {
    let object = &inv.objects[route.object];
    let (kind, name) = (object.kind, &object.name);
    let host = route.host.as_deref().unwrap_or("*");
    match &route.path {
        Some(path) => format!("`{host}{path}` ({kind} `{name}`)"),
        None if route.ingress.is_some() => format!("the default backend of Ingress `{name}`"),
        None => format!("`{host}` ({kind} `{name}`)"),
    }
}

/// The routes of a workload for messages: the first one, and how many more.
pub(crate) fn describe_routes(inv: &Inventory, routes: &[usize]) -> String {
    let first = describe_route(inv, &inv.routes[routes[0]]);
    match routes.len() {
        1 => first,
        2 => format!("{first} and 1 other route"),
        n => format!("{first} and {} other routes", n - 1),
    }
}

/// The first route's host, for host-glob suppressions.
pub(crate) fn first_host(inv: &Inventory, routes: &[usize]) -> Option<String> {
    routes.iter().find_map(|&r| inv.routes[r].host.clone())
}

/// Whether a NetworkPolicy restricts ingress traffic: `policyTypes` names `Ingress`, or is
/// absent or empty (the API server then sets `Ingress`, and `Egress` only if there are egress
/// rules).
pub(crate) fn governs_ingress(np: &NetworkPolicy) -> bool {
    np.spec
        .as_ref()
        .and_then(|s| s.policy_types.as_ref())
        .is_none_or(|types| types.is_empty() || types.iter().any(|t| t == "Ingress"))
}

/// The policy's `podSelector`; absent reads as `{}`, all pods of the namespace.
pub(crate) fn pod_selector(np: &NetworkPolicy) -> Option<&LabelSelector> {
    np.spec.as_ref().and_then(|s| s.pod_selector.as_ref())
}

/// Whether a selector has no terms, and so matches everything.
pub(crate) fn selector_is_empty(selector: Option<&LabelSelector>) -> bool {
    selector.is_none_or(|s| {
        s.match_labels.as_ref().is_none_or(BTreeMap::is_empty)
            && s.match_expressions.as_ref().is_none_or(Vec::is_empty)
    })
}

/// Whether the policy's `podSelector` selects pods with these labels.
pub(crate) fn selects(np: &NetworkPolicy, labels: &BTreeMap<String, String>) -> bool {
    pod_selector(np).is_none_or(|s| selector_matches(s, labels))
}

/// The NetworkPolicies of each namespace, in input order: rules look policies up per
/// workload, and a scan may hold thousands of both.
pub(crate) struct Policies<'a> {
    by_ns: HashMap<&'a str, Vec<(usize, &'a NetworkPolicy)>>,
}

impl<'a> Policies<'a> {
    /// Indexes the NetworkPolicies of the inventory.
    pub(crate) fn new(inv: &'a Inventory) -> Policies<'a> {
        let mut by_ns: HashMap<&str, Vec<(usize, &NetworkPolicy)>> = HashMap::new();
        for (i, o) in inv.of_kind(Kind::NetworkPolicy) {
            if let Resource::NetworkPolicy(np) = &o.resource {
                by_ns.entry(o.ns()).or_default().push((i, &**np));
            }
        }
        Policies { by_ns }
    }

    /// The policies of `ns`, with their object indices.
    pub(crate) fn in_ns(&self, ns: &str) -> &[(usize, &'a NetworkPolicy)] {
        self.by_ns.get(ns).map_or(&[], Vec::as_slice)
    }

    /// The policies of the workload's namespace that select its pods for ingress traffic.
    pub(crate) fn selecting_for_ingress(&self, workload: &Object) -> Vec<usize> {
        let Some(labels) = pod_labels(workload) else {
            return Vec::new();
        };
        self.in_ns(workload.ns())
            .iter()
            .filter(|(_, np)| governs_ingress(np) && selects(np, labels))
            .map(|&(i, _)| i)
            .collect()
    }
}

/// The workloads (objects with pod labels) of each namespace, in input order.
pub(crate) fn workloads_by_ns(inv: &Inventory) -> HashMap<&str, Vec<usize>> {
    let mut by_ns: HashMap<&str, Vec<usize>> = HashMap::new();
    for kind in WORKLOAD_KINDS {
        for (i, o) in inv.of_kind(kind) {
            if pod_labels(o).is_some() {
                by_ns.entry(o.ns()).or_default().push(i);
            }
        }
    }
    for list in by_ns.values_mut() {
        list.sort_unstable();
    }
    by_ns
}

/// Whether the inventory can tell which NetworkPolicies apply in `ns`: a cluster listing, or
/// files that include at least one NetworkPolicy of that namespace. Files without any leave the
/// question open (the policies may live in another repository), and the rules stay silent.
pub(crate) fn policies_known(inv: &Inventory, ns: &str) -> bool {
    inv.in_scope(Kind::NetworkPolicy, ns)
}

/// The workload kinds whose pods a NetworkPolicy may select.
pub(crate) const WORKLOAD_KINDS: [Kind; 4] = [
    Kind::Deployment,
    Kind::StatefulSet,
    Kind::DaemonSet,
    Kind::Pod,
];

/// Whether the inventory knows the workloads of `ns`: for a cluster, every workload kind was
/// listed there; for files, some workload of that namespace was given.
pub(crate) fn workloads_known(inv: &Inventory, ns: &str) -> bool {
    if inv.scope.complete {
        WORKLOAD_KINDS.iter().all(|&k| inv.in_scope(k, ns))
    } else {
        WORKLOAD_KINDS.iter().any(|&k| inv.in_scope(k, ns))
    }
}

/// A label selector as people write it: `a=b, c In (d, e), f`.
pub(crate) fn describe_selector(selector: Option<&LabelSelector>) -> String {
    let Some(s) = selector.filter(|s| !selector_is_empty(Some(s))) else {
        return "{}".to_owned();
    };
    let mut terms: Vec<String> = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in s.match_expressions.iter().flatten() {
        let values = e.values.as_deref().unwrap_or_default().join(", ");
        terms.push(match e.operator.as_str() {
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            op => format!("{} {op} ({values})", e.key),
        });
    }
    terms.join(", ")
}

/// Up to `max` names in alphabetical order, then how many more: `a, b, c and 2 more`.
pub(crate) fn list_names<'a>(names: impl IntoIterator<Item = &'a str>, max: usize) -> String {
    let mut names: Vec<&str> = names.into_iter().collect();
    names.sort_unstable();
    names.dedup();
    let shown: Vec<String> = names.iter().take(max).map(|n| format!("`{n}`")).collect();
    let mut out = shown.join(", ");
    if names.len() > max {
        out.push_str(&format!(" and {} more", names.len() - max));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(spec: serde_json::Value) -> NetworkPolicy {
        serde_json::from_value(serde_json::json!({"metadata": {"name": "p"}, "spec": spec}))
            .expect("a NetworkPolicy")
    }

    #[test]
    fn absent_or_empty_policy_types_govern_ingress() {
        assert!(governs_ingress(&policy(
            serde_json::json!({"podSelector": {}})
        )));
        assert!(governs_ingress(&policy(
            serde_json::json!({"podSelector": {}, "policyTypes": []})
        )));
        assert!(!governs_ingress(&policy(
            serde_json::json!({"podSelector": {}, "policyTypes": ["Egress"]})
        )));
    }

    #[test]
    fn selectors_are_described_as_people_write_them() {
        let np = policy(serde_json::json!({"podSelector": {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "legacy", "operator": "DoesNotExist"}
            ]
        }}));
        assert_eq!(
            describe_selector(pod_selector(&np)),
            "app=web, tier In (a, b), !legacy"
        );
        assert_eq!(describe_selector(None), "{}");
    }

    #[test]
    fn name_lists_are_sorted_and_capped() {
        assert_eq!(list_names(["b", "a", "b"], 5), "`a`, `b`");
        assert_eq!(list_names(["c", "b", "a"], 2), "`a`, `b` and 1 more");
    }
}
