//! The route table requests are attributed to, and the attribution itself.
//!
//! The binary fills the table from the core inventory (Ingress rules, their Services and ports);
//! this crate knows no Kubernetes types. Attribution never guesses: an upstream name is looked up
//! whole among the names the controller would generate for the known backends (ingress-nginx's
//! `<ns>-<svc>-<port>` cannot be split on `-`, since names contain dashes), a host is matched with
//! Ingress host rules, and a path with Ingress path semantics. When the evidence fits several
//! routes that differ only in host or path, the request is attributed to their common Service, and
//! the fields that differ are left out rather than invented.

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

/// One route of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Namespace of the Ingress.
    pub namespace: String,
    /// Name of the Ingress.
    pub ingress: String,
    /// Host rule; `None` matches any host.
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

/// Where a request went: a route, or (when the evidence fits several routes of one Service) the
/// Service. Targets `0..routes.len()` are the routes in table order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// Namespace.
    pub namespace: String,
    /// Ingress name, when one Ingress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress: Option<String>,
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
    /// Exact host → routes.
    hosts: HashMap<String, Vec<u32>>,
    /// `*.suffix` host rules: suffix (with its leading dot) → routes.
    wildcard_hosts: Vec<(String, Vec<u32>)>,
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
            table.targets.push(Target {
                namespace: route.namespace.clone(),
                ingress: Some(route.ingress.clone()),
                host: route.host.clone(),
                path: route.path.clone(),
                service: route.service.clone(),
                port: route
                    .port_number
                    .map(|n| n.to_string())
                    .or_else(|| route.port_name.clone()),
            });
            if let Some(service) = &route.service {
                for port in route
                    .port_number
                    .map(|n| n.to_string())
                    .into_iter()
                    .chain(route.port_name.clone())
                {
                    push(
                        &mut table.upstreams,
                        format!("{}-{}-{}", route.namespace, service, port),
                        id,
                    );
                }
                push(
                    &mut table.services,
                    (route.namespace.clone(), service.clone()),
                    id,
                );
            }
            match route.host.as_deref() {
                None => table.any_host.push(id),
                Some(host) => match host.strip_prefix('*') {
                    Some(suffix) => {
                        match table.wildcard_hosts.iter_mut().find(|(s, _)| s == suffix) {
                            Some((_, ids)) => ids.push(id),
                            None => table
                                .wildcard_hosts
                                .push((suffix.to_ascii_lowercase(), vec![id])),
                        }
                    }
                    None => push(&mut table.hosts, host.to_ascii_lowercase(), id),
                },
            }
            let router = traefik_router_key(
                &route.namespace,
                &route.ingress,
                route.host.as_deref(),
                route.path.as_deref(),
            );
            push(&mut table.traefik_routers, router, id);
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

    /// Prepares the Service-level targets for every set of routes that share an upstream name, so
    /// [`RouteTable::attribute`] can run on `&self` from many threads.
    pub fn prepare(&mut self) {
        let groups: Vec<Vec<u32>> = self
            .upstreams
            .values()
            .chain(self.services.values())
            .filter(|ids| ids.len() > 1)
            .cloned()
            .collect();
        for ids in groups {
            self.service_target(&ids);
            // After path matching, what stays ambiguous are the routes of a group that share a
            // path (the same path on several hosts); give each such subset its own target.
            let mut by_path: HashMap<Option<String>, Vec<u32>> = HashMap::default();
            for id in &ids {
                by_path
                    .entry(self.routes[*id as usize].path.clone())
                    .or_default()
                    .push(*id);
            }
            for mut subset in by_path.into_values().filter(|subset| subset.len() > 1) {
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

    /// What routes `ids` have in common; `None` when they do not share a namespace and Service.
    fn common_target(&self, ids: &[u32]) -> Option<Target> {
        let first = &self.targets[*ids.first()? as usize];
        let mut common = first.clone();
        for id in &ids[1..] {
            let other = &self.targets[*id as usize];
            if other.namespace != common.namespace
                || other.service != common.service
                || common.service.is_none()
            {
                return None;
            }
            if other.ingress != common.ingress {
                common.ingress = None;
            }
            if other.host != common.host {
                common.host = None;
            }
            if other.path != common.path {
                common.path = None;
            }
            if other.port != common.port {
                common.port = None;
            }
        }
        Some(common)
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
        let by_upstream = record
            .upstream_name
            .as_deref()
            .and_then(|name| self.by_upstream(record.upstream_kind, name));
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
        if ids.is_empty() {
            // A wildcard covers exactly one label.
            if let Some(dot) = host.find('.') {
                let suffix = &host[dot..];
                for (wildcard, wild_ids) in &self.wildcard_hosts {
                    if wildcard == suffix {
                        ids.extend(wild_ids);
                    }
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
            ingress: ingress.into(),
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

    #[test]
    fn an_empty_table_attributes_nothing() {
        let table = table(Vec::new());
        assert_eq!(
            table.attribute(&nginx("upstream-default-backend", "/")),
            Attribution::Unknown
        );
    }
}
