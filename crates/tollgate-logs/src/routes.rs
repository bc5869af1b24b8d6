//! The route table requests are attributed to, and the attribution itself.
//!
//! The binary fills the table from the core inventory (the rules of Ingresses and of Gateway API
//! route objects, their Services and ports); this crate knows no Kubernetes types. Attribution
//! never guesses: an upstream name is looked up whole among the names the controller would
//! generate for the known backends (ingress-nginx's `<ns>-<svc>-<port>` cannot be split on `-`,
//! since names contain dashes), an Envoy Gateway route name among the rules of the known route
//! objects, a host with the host rules (Ingress wildcards cover one label, Gateway API wildcards
//! any number), and a path with Ingress and Gateway API path semantics (the same). When the
//! evidence fits several routes that differ only in host or path, the request is attributed to
//! their common Service, and the fields that differ are left out rather than invented.

use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;

use crate::record::{Record, UpstreamKind};

/// How a route's path matches (Ingress `pathType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathMatch {
    /// The whole path, case-sensitive.
    Exact,
    /// Path-element prefix: `/foo` matches `/foo` and `/foo/bar`, not `/foobar`.
    Prefix,
    /// As the controller likes; read as a plain string prefix, which is what ingress-nginx does
    /// (its paths are regular-expression prefixes when `use-regex` is on).
    ImplementationSpecific,
}

/// The kind of the object that defines an Ingress route, as [`Route::kind`] spells it.
pub const INGRESS: &str = "Ingress";

/// One route of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Namespace of the object that defines the route.
    pub namespace: String,
    /// Kind of the object that defines the route: [`INGRESS`], or a Gateway API route kind
    /// (`HTTPRoute`, `GRPCRoute`, `TLSRoute`, `TCPRoute`).
    pub kind: String,
    /// Name of the object that defines the route.
    pub name: String,
    /// For a route of a Gateway API route object: the index of its rule in `spec.rules`.
    pub rule: Option<u32>,
    /// Namespace of the backend Service when it is not `namespace` (a Gateway API backendRef may
    /// name another namespace).
    pub service_namespace: Option<String>,
    /// Host rule; `None` matches any host. A wildcard (`*.example.com`) covers one label for an
    /// Ingress and any number of labels for a Gateway API route, as each specification says.
    pub host: Option<String>,
    /// Path; `None` for the Ingress's default backend (matches every path).
    pub path: Option<String>,
    /// How the path matches.
    pub path_match: PathMatch,
    /// Backend Service name; `None` for a resource backend.
    pub service: Option<String>,
    /// Backend port number, when the Ingress names it by number or the Service resolves it.
    pub port_number: Option<u16>,
    /// Backend port name, when the Ingress names it by name or the Service resolves it.
    pub port_name: Option<String>,
    /// Whether the route requires authentication at the proxy (auth annotations).
    pub authenticated: bool,
    /// Ready endpoints of the backend; `None` when not known.
    pub ready_endpoints: Option<usize>,
}

impl Route {
    /// Whether an Ingress defines the route (rather than a Gateway API route object).
    pub fn is_ingress(&self) -> bool {
        self.kind == INGRESS
    }

    /// The namespace of the backend Service.
    pub fn backend_namespace(&self) -> &str {
        self.service_namespace.as_deref().unwrap_or(&self.namespace)
    }
}

/// Where a request went: a route, or (when the evidence fits several routes of one Service) the
/// Service. Targets `0..routes.len()` are the routes in table order.
///
/// An Ingress route serializes as `namespace`, `ingress`, `host`, `path`, `service`, `port`; a
/// Gateway API route has `kind` and `name` (`"kind":"HTTPRoute","name":"catalog"`) in place of
/// `ingress`. A Service-level target keeps only what its routes share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// Namespace of the defining object (of the Service, for a Service-level target).
    pub namespace: String,
    /// Ingress name, when one Ingress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress: Option<String>,
    /// Kind of the Gateway API route object, when one kind of them (absent for Ingresses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name of the Gateway API route object, when one (absent for Ingresses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Host, when one host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Path, when one path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Port (number or name, as the Ingress names it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Namespace of the Service, when it is not `namespace` (a Gateway API backendRef to another
    /// namespace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_namespace: Option<String>,
}

/// The outcome of attributing one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribution<'r> {
    /// To this target (an index into [`RouteTable::targets`]).
    Target(u32),
    /// To a host no route defines, or to the proxy's default backend; the host when logged.
    Unrouted(Option<&'r str>),
    /// The line does not say enough, or names something the inventory does not have.
    Unknown,
}

/// The routes, indexed by every name a proxy may log for them.
#[derive(Debug, Default, Clone)]
pub struct RouteTable {
    routes: Vec<Route>,
    targets: Vec<Target>,
    /// `<ns>-<svc>-<port>` (number and name forms) → routes.
    upstreams: HashMap<String, Vec<u32>>,
    /// `(ns, svc)` → routes, for Envoy cluster names and AWS target groups.
    services: HashMap<(String, String), Vec<u32>>,
    /// Envoy Gateway's names for the rules of route objects: `httproute/<ns>/<name>/rule/<i>` →
    /// the routes of that rule, and `httproute/<ns>/<name>` → every route of the object.
    gateway_rules: HashMap<String, Vec<u32>>,
    /// Exact host → routes.
    hosts: HashMap<String, Vec<u32>>,
    /// `*.suffix` host rules: suffix (with its leading dot) → routes. An Ingress wildcard covers
    /// one label, so these match only at a host's first dot.
    wildcard_hosts: Vec<(String, Vec<u32>)>,
    /// `*.suffix` hostnames of Gateway API routes, which cover any number of labels.
    deep_wildcard_hosts: Vec<(String, Vec<u32>)>,
    /// Routes with no host rule (match any host).
    any_host: Vec<u32>,
    /// Traefik router names (`<ns>-<ingress>-<host>-<path>`, normalized) → routes.
    traefik_routers: HashMap<String, Vec<u32>>,
    /// Service-level targets already created for a set of routes.
    service_targets: HashMap<Vec<u32>, u32>,
}

impl RouteTable {
    /// Indexes these routes.
    pub fn new(routes: Vec<Route>) -> Self {
        let mut table = RouteTable::default();
        for (index, route) in routes.iter().enumerate() {
            let id = index as u32;
            let ingress = route.is_ingress();
            table.targets.push(Target {
                namespace: route.namespace.clone(),
                ingress: ingress.then(|| route.name.clone()),
                kind: (!ingress).then(|| route.kind.clone()),
                name: (!ingress).then(|| route.name.clone()),
                host: route.host.clone(),
                path: route.path.clone(),
                service: route.service.clone(),
                port: route
                    .port_number
                    .map(|n| n.to_string())
                    .or_else(|| route.port_name.clone()),
                service_namespace: route
                    .service_namespace
                    .clone()
                    .filter(|ns| *ns != route.namespace),
            });
            if let Some(service) = &route.service {
                let namespace = route.backend_namespace();
                for port in route
                    .port_number
                    .map(|n| n.to_string())
                    .into_iter()
                    .chain(route.port_name.clone())
                {
                    push(
                        &mut table.upstreams,
                        format!("{namespace}-{service}-{port}"),
                        id,
                    );
                }
                push(
                    &mut table.services,
                    (namespace.to_owned(), service.clone()),
                    id,
                );
            }
            if !ingress {
                // Envoy Gateway lowercases the kind: `HTTPRoute` → `httproute/...`.
                let object = format!(
                    "{}/{}/{}",
                    route.kind.to_ascii_lowercase(),
                    route.namespace,
                    route.name
                );
                if let Some(rule) = route.rule {
                    push(
                        &mut table.gateway_rules,
                        format!("{object}/rule/{rule}"),
                        id,
                    );
                }
                push(&mut table.gateway_rules, object, id);
            }
            match route.host.as_deref().map(str::to_ascii_lowercase) {
                None => table.any_host.push(id),
                Some(host) => match host.strip_prefix('*') {
                    Some(suffix) => {
                        let wildcards = if ingress {
                            &mut table.wildcard_hosts
                        } else {
                            &mut table.deep_wildcard_hosts
                        };
                        match wildcards.iter_mut().find(|(s, _)| s == suffix) {
                            Some((_, ids)) => ids.push(id),
                            None => wildcards.push((suffix.to_owned(), vec![id])),
                        }
                    }
                    None => push(&mut table.hosts, host, id),
                },
            }
            // Traefik's Gateway API provider names routers otherwise; only its Ingress provider
            // gives this name.
            if ingress {
                let router = traefik_router_key(
                    &route.namespace,
                    &route.name,
                    route.host.as_deref(),
                    route.path.as_deref(),
                );
                push(&mut table.traefik_routers, router, id);
            }
        }
        table.routes = routes;
        table
    }

    /// The routes, in the order given.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Every target: the routes first, then the Service-level targets attribution created.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// Whether the table has any route (without one, nothing is attributed and no host is unrouted).
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Prepares the shared targets for every set of routes that share an upstream name (or an
    /// Envoy Gateway rule name), so [`RouteTable::attribute`] can run on `&self` from many
    /// threads.
    pub fn prepare(&mut self) {
        let groups: Vec<Vec<u32>> = self
            .upstreams
            .values()
            .chain(self.services.values())
            .chain(self.gateway_rules.values())
            .filter(|ids| ids.len() > 1)
            .cloned()
            .collect();
        for ids in groups {
            self.service_target(&ids);
            // After host and path matching, what stays ambiguous are the routes of a group that
            // share a path (the same path on several hosts), or a host and a path (a Gateway API
            // rule that splits traffic between backends); give each such subset its own target.
            let mut by_path: HashMap<Option<String>, Vec<u32>> = HashMap::default();
            let mut by_host_and_path: HashMap<(Option<String>, Option<String>), Vec<u32>> =
                HashMap::default();
            for id in &ids {
                let route = &self.routes[*id as usize];
                by_path.entry(route.path.clone()).or_default().push(*id);
                by_host_and_path
                    .entry((route.host.clone(), route.path.clone()))
                    .or_default()
                    .push(*id);
            }
            let subsets = by_path
                .into_values()
                .chain(by_host_and_path.into_values())
                .filter(|subset| subset.len() > 1);
            for mut subset in subsets {
                subset.sort_unstable();
                self.service_target(&subset);
            }
        }
    }

    fn service_target(&mut self, ids: &[u32]) -> Option<u32> {
        if let Some(existing) = self.service_targets.get(ids) {
            return Some(*existing);
        }
        let target = self.common_target(ids)?;
        let id = self.targets.len() as u32;
        self.targets.push(target);
        self.service_targets.insert(ids.to_vec(), id);
        Some(id)
    }

    /// What routes `ids` have in common; `None` when they share neither a Service nor a Gateway
    /// API route object (within one namespace).
    fn common_target(&self, ids: &[u32]) -> Option<Target> {
        let first = &self.targets[*ids.first()? as usize];
        let mut common = first.clone();
        let mut one_service = first.service.is_some();
        let mut one_object = first.kind.is_some();
        for id in &ids[1..] {
            let other = &self.targets[*id as usize];
            if other.namespace != common.namespace {
                return None;
            }
            one_service &= other.service == first.service
                && other.service_namespace == first.service_namespace;
            one_object &= other.kind == first.kind && other.name == first.name;
            if other.ingress != common.ingress {
                common.ingress = None;
            }
            if other.kind != common.kind || other.name != common.name {
                common.kind = None;
                common.name = None;
            }
            if other.host != common.host {
                common.host = None;
            }
            if other.path != common.path {
                common.path = None;
            }
            if other.service != common.service
                || other.service_namespace != common.service_namespace
            {
                common.service = None;
                common.service_namespace = None;
            }
            if other.port != common.port {
                common.port = None;
            }
        }
        if common.service.is_none() {
            // A port of several Services is no port of any.
            common.port = None;
        }
        (one_service || one_object).then_some(common)
    }

    /// Attributes one request. Call [`RouteTable::prepare`] once first.
    pub fn attribute<'r>(&self, record: &'r Record<'_>) -> Attribution<'r> {
        if self.routes.is_empty() {
            return Attribution::Unknown;
        }
        let host = record.host.as_deref();
        if is_default_backend(record) {
            return Attribution::Unrouted(host);
        }
        let by_upstream = match record.upstream_name.as_deref() {
            Some(name) => match self.by_upstream(record.upstream_kind, name) {
                Some(ids) => Some(ids),
                // Envoy Gateway named the route object that routed the request, and the
                // inventory does not have it (or not that rule): whatever route the host would
                // pick is not the one that served it.
                None if is_envoy(record.upstream_kind) && envoy_gateway_rule(name).is_some() => {
                    return Attribution::Unknown;
                }
                None => None,
            },
            None => None,
        };
        // The hot path: the proxy named a backend only one route has (the proxy routed it there).
        if let (Some([one]), None) = (by_upstream, host) {
            return Attribution::Target(*one);
        }
        let by_host = match host {
            Some(host) => match self.by_host(host) {
                Some(ids) => Some(ids),
                // A host nothing defines: the proxy may still have routed it by a hostless rule.
                None if self.any_host.is_empty() && by_upstream.is_none() => {
                    return Attribution::Unrouted(Some(host));
                }
                None => None,
            },
            None => None,
        };
        let candidates: Vec<u32> = match (by_upstream, by_host) {
            (Some(up), Some(hosts)) => {
                let both: Vec<u32> = up.iter().copied().filter(|id| hosts.contains(id)).collect();
                if both.is_empty() { up.to_vec() } else { both }
            }
            (Some(up), None) => up.to_vec(),
            (None, Some(hosts)) => hosts,
            (None, None) => {
                if host.is_some() && !self.any_host.is_empty() {
                    self.any_host.clone()
                } else {
                    return Attribution::Unknown;
                }
            }
        };
        let chosen = match record.path.as_deref() {
            Some(path) => self.best_path_matches(&candidates, path),
            None => candidates,
        };
        match chosen.as_slice() {
            [] => Attribution::Unknown,
            [one] => Attribution::Target(*one),
            many => match self.service_targets.get(many) {
                Some(id) => Attribution::Target(*id),
                None => Attribution::Unknown,
            },
        }
    }

    fn by_upstream(&self, kind: UpstreamKind, name: &str) -> Option<&[u32]> {
        if is_envoy(kind)
            && let Some(rule) = envoy_gateway_rule(name)
        {
            return self.gateway_rules.get(rule).map(Vec::as_slice);
        }
        let ids = match kind {
            UpstreamKind::IngressNginx | UpstreamKind::HaproxyBackend => self.upstreams.get(name),
            UpstreamKind::TraefikRouter => {
                let key = name.split_once('@').map_or(name, |(key, _)| key);
                self.traefik_routers.get(key)
            }
            UpstreamKind::EnvoyCluster => {
                let (namespace, service) = envoy_cluster_service(name)?;
                self.services
                    .get(&(namespace.to_string(), service.to_string()))
            }
            UpstreamKind::GcpBackendService => self.upstreams.get(gcp_backend_upstream(name)?),
            UpstreamKind::AlbTargetGroup => return self.by_target_group(name),
            // Other Envoy route names (Istio's `default`, a VirtualService's) name no object.
            UpstreamKind::EnvoyRoute | UpstreamKind::None => None,
        };
        ids.map(Vec::as_slice)
    }

    /// The AWS Load Balancer Controller names target groups `k8s-<ns:8>-<svc:8>-<hash:10>`.
    fn by_target_group(&self, arn: &str) -> Option<&[u32]> {
        let name = arn.split_once("targetgroup/").map_or(arn, |(_, rest)| rest);
        let name = name.split('/').next()?;
        let rest = name.strip_prefix("k8s-")?;
        self.services
            .iter()
            .filter(|((namespace, service), _)| {
                let prefix = format!("{}-{}-", truncate(namespace, 8), truncate(service, 8));
                rest.starts_with(&prefix)
            })
            .map(|(_, ids)| ids.as_slice())
            .next()
    }

    fn by_host(&self, host: &str) -> Option<Vec<u32>> {
        let lower;
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = host.to_ascii_lowercase();
            lower.as_str()
        } else {
            host
        };
        let mut ids: Vec<u32> = self.hosts.get(host).cloned().unwrap_or_default();
        // The most specific wildcard wins: try the suffixes from the longest. An Ingress wildcard
        // covers exactly one label, so it can match only the suffix at the first dot; a Gateway
        // API wildcard covers any number.
        let dots = host.match_indices('.').map(|(dot, _)| dot);
        for (nth, dot) in dots.enumerate() {
            if !ids.is_empty() {
                break;
            }
            let suffix = &host[dot..];
            let one_label = if nth == 0 {
                self.wildcard_hosts.as_slice()
            } else {
                &[]
            };
            for (wildcard, wild_ids) in one_label.iter().chain(&self.deep_wildcard_hosts) {
                if wildcard == suffix {
                    ids.extend(wild_ids);
                }
            }
        }
        if ids.is_empty() {
            return None;
        }
        // Hostless rules still apply to a host that has rules of its own, for paths the host's
        // rules do not match; keep them as fallbacks.
        ids.extend(&self.any_host);
        Some(ids)
    }

    /// The candidates whose path matches best: an Exact match beats every prefix, a longer prefix
    /// beats a shorter one, and a default backend (no path) matches last.
    fn best_path_matches(&self, candidates: &[u32], path: &str) -> Vec<u32> {
        let mut best_score = 0usize;
        let mut best = Vec::new();
        for id in candidates {
            let route = &self.routes[*id as usize];
            let score = match (&route.path, route.path_match) {
                (None, _) => 1,
                (Some(p), PathMatch::Exact) if p == path => usize::MAX,
                (Some(_), PathMatch::Exact) => 0,
                (Some(p), PathMatch::Prefix) if prefix_matches(p, path) => 2 + p.len(),
                (Some(p), PathMatch::ImplementationSpecific) if path.starts_with(p.as_str()) => {
                    2 + p.len()
                }
                _ => 0,
            };
            if score > best_score {
                best_score = score;
                best.clear();
            }
            if score == best_score && score > 0 && !best.contains(id) {
                best.push(*id);
            }
        }
        best.sort_unstable();
        best
    }
}

fn push<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Vec<u32>>, key: K, id: u32) {
    let ids = map.entry(key).or_default();
    if !ids.contains(&id) {
        ids.push(id);
    }
}

/// Ingress `Prefix`: element-wise, so `/foo` matches `/foo`, `/foo/` and `/foo/bar`, not `/foobar`.
fn prefix_matches(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// ingress-nginx's catch-all, Envoy's "no route", Traefik's 404 with no router.
fn is_default_backend(record: &Record<'_>) -> bool {
    match record.upstream_kind {
        UpstreamKind::IngressNginx => {
            record.upstream_name.as_deref() == Some("upstream-default-backend")
        }
        _ => record
            .proxy_flags
            .as_deref()
            .is_some_and(|flags| flags.split(',').any(|flag| flag == "NR")),
    }
}

/// Traefik's Kubernetes Ingress provider names a router after
/// `Normalize(namespace-ingress-host+path)`: every run of characters other than letters and
/// digits becomes one `-`, and leading or trailing dashes go.
fn traefik_router_key(
    namespace: &str,
    ingress: &str,
    host: Option<&str>,
    path: Option<&str>,
) -> String {
    let raw = format!(
        "{namespace}-{ingress}-{}{}",
        host.unwrap_or(""),
        path.unwrap_or("")
    );
    raw.split(|c: char| !c.is_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn is_envoy(kind: UpstreamKind) -> bool {
    matches!(kind, UpstreamKind::EnvoyRoute | UpstreamKind::EnvoyCluster)
}

/// The route kinds Envoy Gateway writes at the start of its route and cluster names.
const ENVOY_GATEWAY_KINDS: [&str; 5] =
    ["httproute", "grpcroute", "tlsroute", "tcproute", "udproute"];

/// The part of an Envoy Gateway route or cluster name that names one rule of one route object,
/// as [`RouteTable`] indexes it: `httproute/<ns>/<name>/rule/<i>` of a route name
/// (`.../rule/<i>/match/<j>/<host>`) or a cluster name (`.../rule/<i>`), or the object alone
/// (`tcproute/<ns>/<name>`) for names without a rule or with rule `-1` (TCP and TLS routes have
/// one rule, and Envoy Gateway writes `-1` for it). `None` for any other name.
fn envoy_gateway_rule(name: &str) -> Option<&str> {
    let mut segments = name.split('/');
    let kind = segments.next()?;
    let namespace = segments.next()?;
    let object = segments.next()?;
    if !ENVOY_GATEWAY_KINDS.contains(&kind) || namespace.is_empty() || object.is_empty() {
        return None;
    }
    // Namespaces and names hold no `/`, so the segments' lengths give the byte positions.
    let object_end = kind.len() + namespace.len() + object.len() + 2;
    match (segments.next(), segments.next()) {
        (None, _) => name.get(..object_end),
        (Some("rule"), Some("-1")) => name.get(..object_end),
        (Some("rule"), Some(index))
            if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name.get(..object_end + "/rule/".len() + index.len())
        }
        _ => None,
    }
}

/// Istio `outbound|9080||details.default.svc.cluster.local` and Contour `ns/svc/port[/hash]`.
fn envoy_cluster_service(name: &str) -> Option<(&str, &str)> {
    if let Some(fqdn) = name.rsplit('|').next().filter(|_| name.contains('|')) {
        let mut labels = fqdn.split('.');
        let service = labels.next()?;
        let namespace = labels.next()?;
        return Some((namespace, service));
    }
    let mut parts = name.split('/');
    let namespace = parts.next()?;
    let service = parts.next()?;
    Some((namespace, service))
}

/// GKE names backend services `k8s1-<hash8>-<ns>-<svc>-<port>-<hash8>`; the middle is the
/// ingress-nginx style `<ns>-<svc>-<port>`.
fn gcp_backend_upstream(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("k8s1-")?;
    let (_, rest) = rest.split_once('-')?;
    let (middle, _) = rest.rsplit_once('-')?;
    Some(middle)
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((index, _)) => &text[..index],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    fn route(
        namespace: &str,
        ingress: &str,
        host: Option<&str>,
        path: &str,
        service: &str,
        port: u16,
    ) -> Route {
        Route {
            namespace: namespace.into(),
            kind: INGRESS.into(),
            name: ingress.into(),
            rule: None,
            service_namespace: None,
            host: host.map(Into::into),
            path: Some(path.into()),
            path_match: PathMatch::Prefix,
            service: Some(service.into()),
            port_number: Some(port),
            port_name: None,
            authenticated: false,
            ready_endpoints: None,
        }
    }

    fn nginx<'a>(upstream: &'a str, path: &'a str) -> Record<'a> {
        Record {
            upstream_name: Some(Cow::Borrowed(upstream)),
            upstream_kind: UpstreamKind::IngressNginx,
            path: Some(Cow::Borrowed(path)),
            ..Record::default()
        }
    }

    fn table(routes: Vec<Route>) -> RouteTable {
        let mut table = RouteTable::new(routes);
        table.prepare();
        table
    }

    #[test]
    fn dashed_names_resolve_to_the_right_service() {
        let table = table(vec![
            route(
                "shop-prod",
                "web",
                Some("shop.example.com"),
                "/",
                "web-api",
                8080,
            ),
            route("shop", "web", Some("other.example.com"), "/", "web", 8080),
        ]);
        assert_eq!(
            table.attribute(&nginx("shop-prod-web-api-8080", "/x")),
            Attribution::Target(0)
        );
        assert_eq!(
            table.attribute(&nginx("shop-web-8080", "/x")),
            Attribution::Target(1)
        );
        assert_eq!(
            table.attribute(&nginx("shop-prod-web-8080", "/")),
            Attribution::Unknown
        );
    }

    #[test]
    fn a_truly_ambiguous_upstream_name_is_not_guessed() {
        // `shop-prod` / `web-api` and `shop` / `prod-web-api` both give `shop-prod-web-api-8080`.
        let table = table(vec![
            route(
                "shop-prod",
                "web",
                Some("shop.example.com"),
                "/",
                "web-api",
                8080,
            ),
            route(
                "shop",
                "prod-web",
                Some("other.example.com"),
                "/",
                "prod-web-api",
                8080,
            ),
        ]);
        assert_eq!(
            table.attribute(&nginx("shop-prod-web-api-8080", "/x")),
            Attribution::Unknown
        );
        // A host, where the format logs one, settles it.
        let mut with_host = nginx("shop-prod-web-api-8080", "/x");
        with_host.host = Some(Cow::Borrowed("other.example.com"));
        assert_eq!(table.attribute(&with_host), Attribution::Target(1));
    }

    #[test]
    fn port_names_are_indexed_too() {
        let mut named = route("shop", "web", None, "/", "web", 80);
        named.port_number = None;
        named.port_name = Some("http".into());
        let table = table(vec![named]);
        assert_eq!(
            table.attribute(&nginx("shop-web-http", "/")),
            Attribution::Target(0)
        );
    }

    #[test]
    fn shared_upstream_is_split_by_path_then_falls_back_to_the_service() {
        let table = table(vec![
            route("shop", "web", Some("a.example.com"), "/api", "web", 80),
            route("shop", "web", Some("a.example.com"), "/", "web", 80),
            route("shop", "web", Some("b.example.com"), "/api", "web", 80),
        ]);
        // `/` only on host a: one route.
        assert_eq!(
            table.attribute(&nginx("shop-web-80", "/index.html")),
            Attribution::Target(1)
        );
        // `/api` on both hosts: the Service, with the path they share and no host.
        let Attribution::Target(id) = table.attribute(&nginx("shop-web-80", "/api/orders")) else {
            panic!("not attributed")
        };
        let target = &table.targets()[id as usize];
        assert_eq!(target.host, None);
        assert_eq!(target.path.as_deref(), Some("/api"));
        assert_eq!(target.service.as_deref(), Some("web"));
        assert_eq!(target.ingress.as_deref(), Some("web"));
    }

    #[test]
    fn prefix_matching_is_element_wise_and_exact_wins() {
        let mut exact = route("shop", "web", Some("a.example.com"), "/foo", "exact", 80);
        exact.path_match = PathMatch::Exact;
        let table = table(vec![
            route("shop", "web", Some("a.example.com"), "/foo", "prefix", 80),
            exact,
        ]);
        let with_host = |path: &'static str| Record {
            host: Some(Cow::Borrowed("a.example.com")),
            path: Some(Cow::Borrowed(path)),
            ..Record::default()
        };
        assert_eq!(table.attribute(&with_host("/foo")), Attribution::Target(1));
        assert_eq!(
            table.attribute(&with_host("/foo/bar")),
            Attribution::Target(0)
        );
        assert_eq!(table.attribute(&with_host("/foobar")), Attribution::Unknown);
    }

    #[test]
    fn hosts_match_wildcards_one_label_deep_and_unknown_hosts_are_unrouted() {
        let table = table(vec![route(
            "shop",
            "web",
            Some("*.example.com"),
            "/",
            "web",
            80,
        )]);
        let host = |host: &'static str| Record {
            host: Some(Cow::Borrowed(host)),
            path: Some(Cow::Borrowed("/")),
            ..Record::default()
        };
        assert_eq!(
            table.attribute(&host("a.example.com")),
            Attribution::Target(0)
        );
        assert_eq!(
            table.attribute(&host("A.Example.com")),
            Attribution::Target(0)
        );
        assert_eq!(
            table.attribute(&host("a.b.example.com")),
            Attribution::Unrouted(Some("a.b.example.com"))
        );
        assert_eq!(
            table.attribute(&host("evil.test")),
            Attribution::Unrouted(Some("evil.test"))
        );
    }

    #[test]
    fn default_backend_and_no_route_are_unrouted() {
        let table = table(vec![route("shop", "web", None, "/", "web", 80)]);
        assert_eq!(
            table.attribute(&nginx("upstream-default-backend", "/")),
            Attribution::Unrouted(None)
        );
        let envoy = Record {
            proxy_flags: Some(Cow::Borrowed("NR")),
            host: Some(Cow::Borrowed("x.test")),
            ..Record::default()
        };
        assert_eq!(
            table.attribute(&envoy),
            Attribution::Unrouted(Some("x.test"))
        );
    }

    #[test]
    fn other_proxies_names_resolve() {
        let table = table(vec![route(
            "default",
            "details",
            Some("details.example.com"),
            "/",
            "details",
            9080,
        )]);
        let with = |kind, name: &'static str| Record {
            upstream_kind: kind,
            upstream_name: Some(Cow::Borrowed(name)),
            ..Record::default()
        };
        let istio = with(
            UpstreamKind::EnvoyCluster,
            "outbound|9080||details.default.svc.cluster.local",
        );
        assert_eq!(table.attribute(&istio), Attribution::Target(0));
        let contour = with(
            UpstreamKind::EnvoyCluster,
            "default/details/9080/da39a3ee5e",
        );
        assert_eq!(table.attribute(&contour), Attribution::Target(0));
        let gke = with(
            UpstreamKind::GcpBackendService,
            "k8s1-1a2b3c4d-default-details-9080-5e6f7a8b",
        );
        assert_eq!(table.attribute(&gke), Attribution::Target(0));
        let alb = with(
            UpstreamKind::AlbTargetGroup,
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/k8s-default-details-0a1b2c3d4e/73e2d6bc24d8a067",
        );
        assert_eq!(table.attribute(&alb), Attribution::Target(0));
        let traefik = with(
            UpstreamKind::TraefikRouter,
            "default-details-details-example-com@kubernetes",
        );
        assert_eq!(table.attribute(&traefik), Attribution::Target(0));
    }

    /// A route of rule `rule` of the Gateway API route object `kind` `namespace/name`.
    fn gateway_route(
        kind: &str,
        (namespace, name, rule): (&str, &str, u32),
        host: Option<&str>,
        path: Option<&str>,
        service: &str,
        port: u16,
    ) -> Route {
        Route {
            namespace: namespace.into(),
            kind: kind.into(),
            name: name.into(),
            rule: Some(rule),
            service_namespace: None,
            host: host.map(Into::into),
            path: path.map(Into::into),
            path_match: PathMatch::Prefix,
            service: Some(service.into()),
            port_number: Some(port),
            port_name: None,
            authenticated: false,
            ready_endpoints: None,
        }
    }

    /// A request as Envoy Gateway logs it: the route name (or only the cluster name), the
    /// `:authority` and the path.
    fn envoy<'a>(kind: UpstreamKind, name: &'a str, host: &'a str, path: &'a str) -> Record<'a> {
        Record {
            upstream_name: Some(Cow::Borrowed(name)),
            upstream_kind: kind,
            host: Some(Cow::Borrowed(host)),
            path: Some(Cow::Borrowed(path)),
            ..Record::default()
        }
    }

    /// An Ingress and an HTTPRoute on one host, the HTTPRoute with two rules.
    fn mixed_table() -> RouteTable {
        table(vec![
            route("shop", "web", Some("shop.example.com"), "/", "web", 80),
            gateway_route(
                "HTTPRoute",
                ("app", "app-www-example-com", 0),
                Some("www.example.com"),
                Some("/"),
                "www",
                8080,
            ),
            gateway_route(
                "HTTPRoute",
                ("app", "app-www-example-com", 1),
                Some("www.example.com"),
                Some("/api"),
                "api",
                9090,
            ),
        ])
    }

    #[test]
    fn envoy_gateway_names_are_cut_to_their_route_object_and_rule() {
        for (name, rule) in [
            (
                "httproute/app/app-www-example-com/rule/0/match/0/www_example_com",
                Some("httproute/app/app-www-example-com/rule/0"),
            ),
            (
                "httproute/app/http-to-https-filter-redirect/rule/0/match/0/*",
                Some("httproute/app/http-to-https-filter-redirect/rule/0"),
            ),
            (
                "httproute/app/app-www-example-com/rule/12",
                Some("httproute/app/app-www-example-com/rule/12"),
            ),
            (
                "grpcroute/app/orders/rule/3/match/1/*",
                Some("grpcroute/app/orders/rule/3"),
            ),
            ("tcproute/db/postgres/rule/-1", Some("tcproute/db/postgres")),
            ("tlsroute/db/postgres", Some("tlsroute/db/postgres")),
            ("httproute/app", None),
            ("httproute//web/rule/0", None),
            ("httproute/app/web/rule/x/match/0/*", None),
            ("httproute/app/web/rule/", None),
            ("httproute/app/web/match/0", None),
            ("httproutes/app/web/rule/0", None),
            ("default", None),
            ("outbound|9080||details.default.svc.cluster.local", None),
            ("default/echo/80/da39a3ee5e", None),
            (
                "httproute/ä/wéb/rule/0/match/0/ü",
                Some("httproute/ä/wéb/rule/0"),
            ),
            ("", None),
        ] {
            assert_eq!(envoy_gateway_rule(name), rule, "{name}");
        }
    }

    #[test]
    fn envoy_gateway_route_names_resolve_to_their_rule_then_by_host_and_path() {
        let table = mixed_table();
        let www = "httproute/app/app-www-example-com/rule/0/match/0/www_example_com";
        assert_eq!(
            table.attribute(&envoy(
                UpstreamKind::EnvoyRoute,
                www,
                "www.example.com",
                "/assets/image.webp"
            )),
            Attribution::Target(1)
        );
        // The rule, not the path, decides: `/api/orders` of rule 0 went to rule 0's backend.
        assert_eq!(
            table.attribute(&envoy(
                UpstreamKind::EnvoyRoute,
                www,
                "www.example.com",
                "/api/orders"
            )),
            Attribution::Target(1)
        );
        assert_eq!(
            table.attribute(&envoy(
                UpstreamKind::EnvoyRoute,
                "httproute/app/app-www-example-com/rule/1/match/0/www_example_com",
                "www.example.com",
                "/api/orders"
            )),
            Attribution::Target(2)
        );
        // A format that logs only the cluster name.
        assert_eq!(
            table.attribute(&envoy(
                UpstreamKind::EnvoyCluster,
                "httproute/app/app-www-example-com/rule/1",
                "www.example.com",
                "/api"
            )),
            Attribution::Target(2)
        );
        // The Ingress beside it is attributed as before.
        let mut ingress = nginx("shop-web-80", "/cart");
        ingress.host = Some(Cow::Borrowed("shop.example.com"));
        assert_eq!(table.attribute(&ingress), Attribution::Target(0));
    }

    #[test]
    fn an_envoy_gateway_route_the_inventory_lacks_is_unknown_not_guessed_by_host() {
        let table = mixed_table();
        for name in [
            // Another HTTPRoute on the same host, which the host and path alone would fit.
            "httproute/app/app-www-canary/rule/0/match/0/www_example_com",
            // A rule the HTTPRoute does not have.
            "httproute/app/app-www-example-com/rule/7/match/0/www_example_com",
            // The same name as another kind of route.
            "grpcroute/app/app-www-example-com/rule/0/match/0/www_example_com",
        ] {
            assert_eq!(
                table.attribute(&envoy(
                    UpstreamKind::EnvoyRoute,
                    name,
                    "www.example.com",
                    "/"
                )),
                Attribution::Unknown,
                "{name}"
            );
        }
        // Without a route name the host still attributes the request.
        let by_host = Record {
            host: Some(Cow::Borrowed("www.example.com")),
            path: Some(Cow::Borrowed("/api/x")),
            ..Record::default()
        };
        assert_eq!(table.attribute(&by_host), Attribution::Target(2));
    }

    #[test]
    fn gateway_api_targets_name_kind_and_name_and_ingress_targets_stay_as_they_were() {
        let table = mixed_table();
        let json = |id: usize| serde_json::to_string(&table.targets()[id]).unwrap();
        assert_eq!(
            json(0),
            r#"{"namespace":"shop","ingress":"web","host":"shop.example.com","path":"/","service":"web","port":"80"}"#
        );
        assert_eq!(
            json(2),
            r#"{"namespace":"app","kind":"HTTPRoute","name":"app-www-example-com","host":"www.example.com","path":"/api","service":"api","port":"9090"}"#
        );
    }

    #[test]
    fn a_rule_split_between_backends_is_attributed_to_the_rule_without_a_service() {
        let table = table(vec![
            gateway_route(
                "HTTPRoute",
                ("app", "web", 0),
                Some("www.example.com"),
                Some("/"),
                "web-v1",
                80,
            ),
            gateway_route(
                "HTTPRoute",
                ("app", "web", 0),
                Some("www.example.com"),
                Some("/"),
                "web-v2",
                80,
            ),
            gateway_route(
                "HTTPRoute",
                ("app", "web", 0),
                Some("web.example.net"),
                Some("/"),
                "web-v1",
                80,
            ),
        ]);
        let Attribution::Target(id) = table.attribute(&envoy(
            UpstreamKind::EnvoyRoute,
            "httproute/app/web/rule/0/match/0/www_example_com",
            "www.example.com",
            "/",
        )) else {
            panic!("not attributed")
        };
        let target = &table.targets()[id as usize];
        assert_eq!(target.kind.as_deref(), Some("HTTPRoute"));
        assert_eq!(target.name.as_deref(), Some("web"));
        assert_eq!(target.host.as_deref(), Some("www.example.com"));
        assert_eq!(target.path.as_deref(), Some("/"));
        assert_eq!(target.service, None);
        assert_eq!(target.port, None);
        // The other host has one backend: its route exactly.
        assert_eq!(
            table.attribute(&envoy(
                UpstreamKind::EnvoyRoute,
                "httproute/app/web/rule/0/match/0/web_example_net",
                "web.example.net",
                "/"
            )),
            Attribution::Target(2)
        );
    }

    #[test]
    fn gateway_api_wildcards_cover_several_labels_and_ingress_wildcards_one() {
        let table = table(vec![
            route("shop", "web", Some("*.shop.example"), "/", "web", 80),
            gateway_route(
                "HTTPRoute",
                ("app", "web", 0),
                Some("*.app.example"),
                Some("/"),
                "web",
                80,
            ),
            gateway_route(
                "HTTPRoute",
                ("app", "eu", 0),
                Some("*.eu.app.example"),
                Some("/"),
                "eu",
                80,
            ),
        ]);
        let host = |host: &'static str| Record {
            host: Some(Cow::Borrowed(host)),
            path: Some(Cow::Borrowed("/")),
            ..Record::default()
        };
        assert_eq!(
            table.attribute(&host("a.shop.example")),
            Attribution::Target(0)
        );
        assert_eq!(
            table.attribute(&host("a.b.shop.example")),
            Attribution::Unrouted(Some("a.b.shop.example"))
        );
        assert_eq!(
            table.attribute(&host("a.app.example")),
            Attribution::Target(1)
        );
        assert_eq!(
            table.attribute(&host("a.b.app.example")),
            Attribution::Target(1)
        );
        // The most specific wildcard wins.
        assert_eq!(
            table.attribute(&host("a.eu.app.example")),
            Attribution::Target(2)
        );
        assert_eq!(
            table.attribute(&host("app.example")),
            Attribution::Unrouted(Some("app.example"))
        );
    }

    #[test]
    fn a_backend_in_another_namespace_is_looked_up_and_named_there() {
        let mut cross = gateway_route(
            "HTTPRoute",
            ("edge", "api", 0),
            Some("api.example.com"),
            Some("/"),
            "api",
            8080,
        );
        cross.service_namespace = Some("backend".into());
        let table = table(vec![cross]);
        let istio = Record {
            upstream_kind: UpstreamKind::EnvoyCluster,
            upstream_name: Some(Cow::Borrowed(
                "outbound|8080||api.backend.svc.cluster.local",
            )),
            ..Record::default()
        };
        assert_eq!(table.attribute(&istio), Attribution::Target(0));
        assert_eq!(
            table.attribute(&nginx("edge-api-8080", "/")),
            Attribution::Unknown
        );
        assert_eq!(
            serde_json::to_string(&table.targets()[0]).unwrap(),
            r#"{"namespace":"edge","kind":"HTTPRoute","name":"api","host":"api.example.com","path":"/","service":"api","port":"8080","service_namespace":"backend"}"#
        );
    }

    #[test]
    fn an_empty_table_attributes_nothing() {
        let table = table(Vec::new());
        assert_eq!(
            table.attribute(&nginx("upstream-default-backend", "/")),
            Attribution::Unknown
        );
    }
}
