//! The inventory: one graph per scan, from host and path to the pods behind them.
//!
//! host → path (Exact / Prefix / ImplementationSpecific) → Ingress → class → controller →
//! Service:port → EndpointSlices → workloads → NetworkPolicies, with the TLS secret per host and
//! the access posture the controller's annotations give the route.
//!
//! The inventory also knows what it does not know: [`Scope`] records which kinds were read (or
//! could not be listed), so that a rule can tell "the Service does not exist" from "no Services
//! were given to us" and say it was skipped rather than guess.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::core::v1::{Service, ServicePort};
use k8s_openapi::api::networking::v1::{Ingress, IngressBackend, IngressClass, NetworkPolicy};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;

use crate::controller::{
    CLASS_ANNOTATION, ClassResolution, ClassSource, Controller, ControllerEvidence,
    DEFAULT_CLASS_ANNOTATION,
};
use crate::manifest::SourceFile;
use crate::object::{Kind, Object, Resource, SecretInfo};

/// Which kinds the inventory can speak for.
///
/// A cluster listing is *complete*: every object of a listed kind is known (within the listed
/// namespace, with `-n`), so an absent object does not exist. Files are not: the user may have
/// given only some of an application's manifests, so an absent object is only known to be
/// missing when its namespace was given objects of that kind.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Kinds whose objects were read. For a cluster, kinds listed successfully (even if empty).
    pub present: BTreeSet<Kind>,
    /// Kinds that could not be listed, with the reason (e.g. a 403).
    pub denied: BTreeMap<Kind, String>,
    /// Whether the objects come from a complete listing (a cluster) rather than files.
    pub complete: bool,
    /// With `-n`, the only namespace listed.
    pub namespace: Option<String>,
}

impl Scope {
    /// Whether any object of `kind` was read (or, for a cluster, the kind was listed).
    #[must_use]
    pub fn has(&self, kind: Kind) -> bool {
        self.present.contains(&kind)
    }
}

/// An Ingress in the inventory with its resolved class.
#[derive(Debug, Clone)]
pub struct IngressEntry {
    /// Index into [`Inventory::objects`].
    pub object: usize,
    /// Its class and controller.
    pub class: ClassResolution,
}

/// How a path is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum PathType {
    /// The whole path, case-sensitive.
    Exact,
    /// Element-wise prefix on `/`-separated segments.
    Prefix,
    /// Up to the controller (ingress-nginx: prefix, or regex with `use-regex`).
    ImplementationSpecific,
}

impl PathType {
    fn parse(s: &str) -> PathType {
        match s {
            "Exact" => PathType::Exact,
            "Prefix" => PathType::Prefix,
            _ => PathType::ImplementationSpecific,
        }
    }

    /// The name as written in manifests.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PathType::Exact => "Exact",
            PathType::Prefix => "Prefix",
            PathType::ImplementationSpecific => "ImplementationSpecific",
        }
    }
}

/// A Service backend's port as the Ingress names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum PortRef {
    /// `port.number`.
    Number(i32),
    /// `port.name`.
    Name(String),
}

impl std::fmt::Display for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(n) => f.write_str(n),
        }
    }
}

/// What a route sends traffic to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Backend {
    /// A Service and port.
    Service {
        /// Service name (same namespace as the Ingress).
        name: String,
        /// The port, if the backend names one.
        port: Option<PortRef>,
    },
    /// A `resource` backend (e.g. a storage bucket CRD); not a Service.
    Resource {
        /// The resource's kind.
        kind: String,
        /// Its name.
        name: String,
    },
    /// Neither service nor resource.
    None,
}

/// Whether a piece of access control is in force on a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "detail")]
pub enum Control {
    /// In force, with a short description (`basic`, `10.0.0.0/8`, `10 rps`).
    Yes(String),
    /// Not configured for this controller.
    No,
    /// The controller is not one whose annotations Tollgate models, or none is known.
    Unknown,
}

impl Control {
    /// Short text for tables.
    #[must_use]
    pub fn short(&self) -> &str {
        match self {
            Control::Yes(d) => d,
            Control::No => "-",
            Control::Unknown => "?",
        }
    }
}

/// The access posture of a route, from the annotations its controller reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posture {
    /// Authentication (basic/digest, external auth, client certificates).
    pub auth: Control,
    /// Source IP allow-list.
    pub allowlist: Control,
    /// Rate limit.
    pub rate_limit: Control,
    /// Web application firewall.
    pub waf: Control,
}

/// One route: a host and path an Ingress sends somewhere.
#[derive(Debug, Clone)]
pub struct Route {
    /// Index into [`Inventory::ingresses`].
    pub ingress: usize,
    /// The host, `None` when the rule has none (matches any Host header).
    pub host: Option<String>,
    /// The path, `None` for the Ingress's default backend.
    pub path: Option<String>,
    /// How the path matches.
    pub path_type: PathType,
    /// Pointer to the backend in the Ingress (`/spec/rules/0/http/paths/1/backend`).
    pub backend_pointer: String,
    /// Where it goes.
    pub backend: Backend,
    /// The Service object, when it is in the inventory.
    pub service: Option<usize>,
    /// The Service port the backend resolves to (index into `spec.ports`).
    pub service_port: Option<usize>,
    /// Ready endpoints on that port; `None` when endpoints are not in scope.
    pub ready_endpoints: Option<usize>,
    /// The TLS secret name that covers this host, if any.
    pub tls_secret: Option<String>,
    /// Workloads (Deployments, StatefulSets, DaemonSets, Pods) the Service selects.
    pub workloads: Vec<usize>,
    /// NetworkPolicies that select those workloads for ingress traffic.
    pub network_policies: Vec<usize>,
    /// Access posture.
    pub posture: Posture,
}

/// The graph of one scan.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Every object, in input order.
    pub objects: Vec<Object>,
    /// The files the objects came from (empty for a cluster).
    pub sources: Vec<SourceFile>,
    /// What the inventory can speak for.
    pub scope: Scope,
    /// The Ingresses with their classes.
    pub ingresses: Vec<IngressEntry>,
    /// Every route of every Ingress.
    pub routes: Vec<Route>,
    index: HashMap<(Kind, String, String), usize>,
    by_kind: HashMap<Kind, Vec<usize>>,
    /// Workloads (anything with pod labels) per namespace.
    workloads_by_ns: HashMap<String, Vec<usize>>,
    /// EndpointSlices per (namespace, owning Service).
    slices_by_service: HashMap<(String, String), Vec<usize>>,
}

impl Inventory {
    /// Builds the graph. `scope` may be `None` for files: the kinds present are then the kinds
    /// of the objects read.
    #[must_use]
    pub fn build(
        objects: Vec<Object>,
        sources: Vec<SourceFile>,
        scope: Option<Scope>,
    ) -> Inventory {
        let scope = scope.unwrap_or_else(|| Scope {
            present: objects.iter().map(|o| o.kind).collect(),
            ..Scope::default()
        });
        let mut index = HashMap::with_capacity(objects.len());
        let mut by_kind: HashMap<Kind, Vec<usize>> = HashMap::new();
        let mut workloads_by_ns: HashMap<String, Vec<usize>> = HashMap::new();
        let mut slices_by_service: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            // First definition wins, as `kubectl apply` of a stream would end with the last; a
            // duplicate is rare and either choice is defensible, but stable order matters.
            index
                .entry((o.kind, o.ns().to_owned(), o.name.clone()))
                .or_insert(i);
            by_kind.entry(o.kind).or_default().push(i);
            if pod_labels(o).is_some() {
                workloads_by_ns
                    .entry(o.ns().to_owned())
                    .or_default()
                    .push(i);
            }
            if let Resource::EndpointSlice(slice) = &o.resource {
                let owner = slice
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("kubernetes.io/service-name"));
                if let Some(owner) = owner {
                    slices_by_service
                        .entry((o.ns().to_owned(), owner.clone()))
                        .or_default()
                        .push(i);
                }
            }
        }
        let mut inv = Inventory {
            objects,
            sources,
            scope,
            ingresses: Vec::new(),
            routes: Vec::new(),
            index,
            by_kind,
            workloads_by_ns,
            slices_by_service,
        };
        let ingress_objects: Vec<usize> = inv
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.kind == Kind::Ingress)
            .map(|(i, _)| i)
            .collect();
        for object in ingress_objects {
            let class = inv.resolve_class(object);
            inv.ingresses.push(IngressEntry { object, class });
        }
        inv.routes = (0..inv.ingresses.len())
            .flat_map(|i| inv.routes_of(i))
            .collect();
        inv
    }

    /// Looks an object up by kind, namespace (`""` for cluster-scoped) and name.
    #[must_use]
    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<&Object> {
        self.index
            .get(&(kind, namespace.to_owned(), name.to_owned()))
            .map(|&i| &self.objects[i])
    }

    /// Whether the absence of an object of `kind` in `namespace` means it does not exist, or only
    /// that it was not among the objects given (see [`Scope`]).
    #[must_use]
    pub fn in_scope(&self, kind: Kind, namespace: &str) -> bool {
        if self.scope.denied.contains_key(&kind) {
            return false;
        }
        if self.scope.complete {
            let listed_ns = match (&self.scope.namespace, kind.namespaced()) {
                (Some(only), true) => only == namespace,
                _ => true,
            };
            return self.scope.has(kind) && listed_ns;
        }
        if !kind.namespaced() {
            return self.scope.has(kind);
        }
        self.of_kind(kind).any(|(_, o)| o.ns() == namespace)
    }

    fn get_index(&self, kind: Kind, namespace: &str, name: &str) -> Option<usize> {
        self.index
            .get(&(kind, namespace.to_owned(), name.to_owned()))
            .copied()
    }

    /// A Service by namespace and name.
    #[must_use]
    pub fn service(&self, namespace: &str, name: &str) -> Option<&Service> {
        match &self.get(Kind::Service, namespace, name)?.resource {
            Resource::Service(s) => Some(s),
            _ => None,
        }
    }

    /// A Secret (type and keys only) by namespace and name.
    #[must_use]
    pub fn secret(&self, namespace: &str, name: &str) -> Option<&SecretInfo> {
        match &self.get(Kind::Secret, namespace, name)?.resource {
            Resource::Secret(s) => Some(s),
            _ => None,
        }
    }

    /// An IngressClass by name.
    #[must_use]
    pub fn ingress_class(&self, name: &str) -> Option<&IngressClass> {
        match &self.get(Kind::IngressClass, "", name)?.resource {
            Resource::IngressClass(c) => Some(c),
            _ => None,
        }
    }

    /// The Ingress object and body of an entry.
    #[must_use]
    pub fn ingress(&self, entry: &IngressEntry) -> (&Object, &Ingress) {
        let object = &self.objects[entry.object];
        let Resource::Ingress(ing) = &object.resource else {
            unreachable!("ingress entries index Ingress objects");
        };
        (object, ing)
    }

    /// Objects of one kind, in input order.
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = (usize, &Object)> {
        self.by_kind
            .get(&kind)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&i| (i, &self.objects[i]))
    }

    /// IngressClasses marked as the cluster default.
    pub fn default_classes(&self) -> impl Iterator<Item = (usize, &Object)> {
        self.of_kind(Kind::IngressClass)
            .filter(|(_, o)| o.annotation(DEFAULT_CLASS_ANNOTATION) == Some("true"))
    }

    fn resolve_class(&self, object: usize) -> ClassResolution {
        let o = &self.objects[object];
        let Resource::Ingress(ing) = &o.resource else {
            unreachable!()
        };
        let named = ing
            .spec
            .as_ref()
            .and_then(|s| s.ingress_class_name.clone())
            .map(|c| (c, ClassSource::Field))
            .or_else(|| {
                o.annotation(CLASS_ANNOTATION)
                    .map(|c| (c.to_owned(), ClassSource::Annotation))
            });
        let (class, source, class_index) = match named {
            Some((class, source)) => {
                let idx = self.get_index(Kind::IngressClass, "", &class);
                (Some(class), Some(source), idx)
            }
            None => {
                let defaults: Vec<usize> = self.default_classes().map(|(i, _)| i).collect();
                // With several defaults the API server refuses to pick; so do we.
                match defaults.as_slice() {
                    [one] => (
                        Some(self.objects[*one].name.clone()),
                        Some(ClassSource::Default),
                        Some(*one),
                    ),
                    _ => (None, None, None),
                }
            }
        };
        let from_object = class_index.and_then(|i| match &self.objects[i].resource {
            Resource::IngressClass(c) => c
                .spec
                .as_ref()
                .and_then(|s| s.controller.as_deref())
                .map(Controller::from_controller_name),
            _ => None,
        });
        let (controller, evidence) = match from_object {
            Some(c) => (Some(c), Some(ControllerEvidence::IngressClass)),
            None => match class.as_deref().and_then(Controller::from_well_known_class) {
                Some(c) if class_index.is_none() => (Some(c), Some(ControllerEvidence::ClassName)),
                _ => (None, None),
            },
        };
        ClassResolution {
            class,
            source,
            ingress_class: class_index,
            controller,
            evidence,
        }
    }

    fn routes_of(&self, entry_index: usize) -> Vec<Route> {
        let entry = &self.ingresses[entry_index];
        let (object, ing) = self.ingress(entry);
        let Some(spec) = ing.spec.as_ref() else {
            return Vec::new();
        };
        let ns = object.ns();
        let posture = posture(object, entry.class.controller.as_ref());
        let mut routes = Vec::new();
        if let Some(backend) = &spec.default_backend {
            routes.push(self.route(
                entry_index,
                ns,
                None,
                None,
                PathType::Prefix,
                "/spec/defaultBackend".into(),
                backend,
                posture.clone(),
            ));
        }
        for (r, rule) in spec.rules.iter().flatten().enumerate() {
            let host = rule.host.clone().filter(|h| !h.is_empty());
            let Some(http) = &rule.http else { continue };
            for (p, path) in http.paths.iter().enumerate() {
                routes.push(self.route(
                    entry_index,
                    ns,
                    host.clone(),
                    Some(path.path.clone().unwrap_or_else(|| "/".into())),
                    PathType::parse(&path.path_type),
                    format!("/spec/rules/{r}/http/paths/{p}/backend"),
                    &path.backend,
                    posture.clone(),
                ));
            }
        }
        routes
    }

    #[allow(clippy::too_many_arguments)]
    fn route(
        &self,
        ingress: usize,
        ns: &str,
        host: Option<String>,
        path: Option<String>,
        path_type: PathType,
        backend_pointer: String,
        backend: &IngressBackend,
        posture: Posture,
    ) -> Route {
        let backend = match (&backend.service, &backend.resource) {
            (Some(s), _) => Backend::Service {
                name: s.name.clone(),
                port: s.port.as_ref().and_then(|p| match (&p.name, p.number) {
                    (Some(n), _) if !n.is_empty() => Some(PortRef::Name(n.clone())),
                    (_, Some(n)) => Some(PortRef::Number(n)),
                    _ => None,
                }),
            },
            (None, Some(r)) => Backend::Resource {
                kind: r.kind.clone(),
                name: r.name.clone(),
            },
            (None, None) => Backend::None,
        };
        let service = match &backend {
            Backend::Service { name, .. } => self.get_index(Kind::Service, ns, name),
            _ => None,
        };
        let svc = service.and_then(|i| match &self.objects[i].resource {
            Resource::Service(s) => Some(&**s),
            _ => None,
        });
        let service_port = match (&backend, svc) {
            (Backend::Service { port: Some(p), .. }, Some(s)) => find_service_port(s, p),
            _ => None,
        };
        let ready_endpoints = match (&backend, svc, service_port) {
            (Backend::Service { name, .. }, Some(s), Some(port)) => {
                let port = &s
                    .spec
                    .as_ref()
                    .and_then(|sp| sp.ports.as_ref())
                    .expect("resolved")[port];
                self.ready_endpoints(ns, name, port)
            }
            (Backend::Service { .. }, None, _) if self.in_scope(Kind::Service, ns) => Some(0),
            _ => None,
        };
        let workloads = svc
            .map(|s| self.selected_workloads(ns, s))
            .unwrap_or_default();
        let network_policies = self.policies_for(ns, &workloads);
        let tls_secret = host
            .as_deref()
            .and_then(|h| self.tls_secret_for(ingress, h));
        Route {
            ingress,
            host,
            path,
            path_type,
            backend_pointer,
            backend,
            service,
            service_port,
            ready_endpoints,
            tls_secret,
            workloads,
            network_policies,
            posture,
        }
    }

    /// The secret name of the first `spec.tls` entry of an Ingress whose hosts cover `host`.
    #[must_use]
    pub fn tls_secret_for(&self, ingress: usize, host: &str) -> Option<String> {
        let (_, ing) = self.ingress(&self.ingresses[ingress]);
        ing.spec.as_ref()?.tls.iter().flatten().find_map(|t| {
            t.hosts
                .iter()
                .flatten()
                .any(|h| host_matches(h, host))
                .then(|| t.secret_name.clone().unwrap_or_default())
        })
    }

    /// Ready endpoints of a Service port, from EndpointSlices or else Endpoints; `None` when
    /// neither kind is in scope.
    fn ready_endpoints(&self, ns: &str, service: &str, port: &ServicePort) -> Option<usize> {
        let port_name = port.name.as_deref().unwrap_or("");
        if self.scope.has(Kind::EndpointSlice) {
            let mut ready = 0;
            let slices = self
                .slices_by_service
                .get(&(ns.to_owned(), service.to_owned()))
                .map_or(&[][..], Vec::as_slice);
            for &i in slices {
                let Resource::EndpointSlice(slice) = &self.objects[i].resource else {
                    continue;
                };
                let serves_port = slice
                    .ports
                    .iter()
                    .flatten()
                    .any(|p| p.name.as_deref().unwrap_or("") == port_name);
                if !serves_port {
                    continue;
                }
                ready += slice
                    .endpoints
                    .iter()
                    .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
                    .count();
            }
            return Some(ready);
        }
        if self.scope.has(Kind::Endpoints) {
            let Some(Resource::Endpoints(ep)) =
                self.get(Kind::Endpoints, ns, service).map(|o| &o.resource)
            else {
                return Some(0);
            };
            let ready = ep
                .subsets
                .iter()
                .flatten()
                .filter(|s| {
                    s.ports
                        .iter()
                        .flatten()
                        .any(|p| p.name.as_deref().unwrap_or("") == port_name)
                })
                .map(|s| s.addresses.as_ref().map_or(0, Vec::len))
                .sum();
            return Some(ready);
        }
        None
    }

    /// Workloads in `ns` whose pod labels the Service's selector matches.
    #[must_use]
    pub fn selected_workloads(&self, ns: &str, service: &Service) -> Vec<usize> {
        let Some(selector) = service.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
            return Vec::new();
        };
        if selector.is_empty() {
            return Vec::new();
        }
        self.workloads_by_ns
            .get(ns)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .copied()
            .filter(|&i| {
                pod_labels(&self.objects[i])
                    .is_some_and(|labels| selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
            })
            .collect()
    }

    /// NetworkPolicies in `ns` that select any of `workloads` for ingress traffic.
    #[must_use]
    pub fn policies_for(&self, ns: &str, workloads: &[usize]) -> Vec<usize> {
        if workloads.is_empty() {
            return Vec::new();
        }
        self.of_kind(Kind::NetworkPolicy)
            .filter(|(_, o)| o.ns() == ns)
            .filter(|(_, o)| {
                let Resource::NetworkPolicy(np) = &o.resource else {
                    return false;
                };
                governs_ingress(np)
                    && workloads.iter().any(|&w| {
                        pod_labels(&self.objects[w]).is_some_and(|labels| {
                            let selector = np.spec.as_ref().and_then(|s| s.pod_selector.as_ref());
                            selector.is_none_or(|s| selector_matches(s, labels))
                        })
                    })
            })
            .map(|(i, _)| i)
            .collect()
    }
}

/// Finds the Service port an Ingress backend port refers to: by `port.number` against
/// `spec.ports[].port`, by `port.name` against `spec.ports[].name`. A Service with a single
/// unnamed port is matched by number only, like the API server's endpoints controller does.
#[must_use]
pub fn find_service_port(service: &Service, port: &PortRef) -> Option<usize> {
    let ports = service.spec.as_ref()?.ports.as_ref()?;
    ports.iter().position(|p| match port {
        PortRef::Number(n) => p.port == *n,
        PortRef::Name(n) => p.name.as_deref() == Some(n.as_str()),
    })
}

/// Whether a NetworkPolicy restricts ingress traffic (`policyTypes` absent counts as Ingress).
fn governs_ingress(np: &NetworkPolicy) -> bool {
    np.spec
        .as_ref()
        .and_then(|s| s.policy_types.as_ref())
        .is_none_or(|types| types.iter().any(|t| t == "Ingress"))
}

/// The labels of the pods an object runs (its pod template, or a Pod's own labels).
#[must_use]
pub fn pod_labels(o: &Object) -> Option<&BTreeMap<String, String>> {
    fn template_labels(
        t: &k8s_openapi::api::core::v1::PodTemplateSpec,
    ) -> Option<&BTreeMap<String, String>> {
        t.metadata.as_ref().and_then(|m| m.labels.as_ref())
    }
    match &o.resource {
        Resource::Deployment(d) => d.spec.as_ref().and_then(|s| template_labels(&s.template)),
        Resource::StatefulSet(d) => d.spec.as_ref().and_then(|s| template_labels(&s.template)),
        Resource::DaemonSet(d) => d.spec.as_ref().and_then(|s| template_labels(&s.template)),
        Resource::Pod(p) => p.metadata.labels.as_ref(),
        _ => None,
    }
}

/// Evaluates a label selector (`matchLabels` and `matchExpressions`) against labels. An empty
/// selector matches everything.
#[must_use]
pub fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let exprs_ok = selector.match_expressions.iter().flatten().all(|e| {
        let value = labels.get(&e.key);
        let values = e.values.as_deref().unwrap_or_default();
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            // An operator the API server would reject selects nothing.
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

/// Kubernetes host matching: `*.example.com` matches exactly one extra leading label
/// (`a.example.com`, not `a.b.example.com` and not `example.com`); otherwise hosts match exactly,
/// ignoring ASCII case.
#[must_use]
pub fn host_matches(pattern: &str, host: &str) -> bool {
    if let Some(suffix) = pattern.strip_prefix("*.") {
        let Some((first, rest)) = host.split_once('.') else {
            return false;
        };
        return !first.is_empty() && first != "*" && rest.eq_ignore_ascii_case(suffix)
            || pattern.eq_ignore_ascii_case(host);
    }
    pattern.eq_ignore_ascii_case(host)
}

const NGINX: &str = "nginx.ingress.kubernetes.io/";

/// Reads the access posture from the annotations of the route's controller. Only ingress-nginx
/// is modelled so far; other controllers answer "unknown" rather than a wrong "no".
fn posture(o: &Object, controller: Option<&Controller>) -> Posture {
    if controller != Some(&Controller::IngressNginx) {
        return Posture {
            auth: Control::Unknown,
            allowlist: Control::Unknown,
            rate_limit: Control::Unknown,
            waf: Control::Unknown,
        };
    }
    let a = |k: &str| {
        o.annotation(&format!("{NGINX}{k}"))
            .filter(|v| !v.trim().is_empty())
    };
    let auth = if let Some(t) = a("auth-type") {
        Control::Yes(t.to_owned())
    } else if a("auth-url").is_some() {
        Control::Yes("external".into())
    } else if a("auth-tls-verify-client").is_some_and(|v| v == "on" || v == "optional") {
        Control::Yes("client-cert".into())
    } else {
        Control::No
    };
    let allowlist = a("allowlist-source-range")
        .or_else(|| a("whitelist-source-range"))
        .map_or(Control::No, |v| Control::Yes(v.to_owned()));
    let rate_limit = if let Some(v) = a("limit-rps") {
        Control::Yes(format!("{v} rps"))
    } else if let Some(v) = a("limit-rpm") {
        Control::Yes(format!("{v} rpm"))
    } else if let Some(v) = a("limit-connections") {
        Control::Yes(format!("{v} conn"))
    } else {
        Control::No
    };
    let waf = if a("enable-modsecurity") == Some("true") {
        if a("enable-owasp-core-rules") == Some("true") {
            Control::Yes("modsecurity+crs".into())
        } else {
            Control::Yes("modsecurity".into())
        }
    } else {
        Control::No
    };
    Posture {
        auth,
        allowlist,
        rate_limit,
        waf,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifests;

    fn inventory(text: &str) -> Inventory {
        let mut m = Manifests::default();
        m.add_text("t.yaml", text.to_owned());
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        Inventory::build(m.objects, m.sources, None)
    }

    const GRAPH: &str = "\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: public, annotations: {ingressclass.kubernetes.io/is-default-class: \"true\"}}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/auth-type: basic
spec:
  tls: [{hosts: [\"*.shop.example.com\"], secretName: wild}]
  rules:
    - host: www.shop.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
  - addresses: [10.0.0.1]
  - addresses: [10.0.0.2]
    conditions: {ready: false}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec: {containers: [{name: web, image: web:1}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: front, namespace: shop}
spec:
  podSelector: {matchExpressions: [{key: tier, operator: In, values: [front]}]}
  ingress: [{}]
";

    #[test]
    fn a_route_is_followed_from_host_to_pods_and_policies() {
        let inv = inventory(GRAPH);
        assert_eq!(inv.routes.len(), 1);
        let r = &inv.routes[0];
        assert_eq!(r.host.as_deref(), Some("www.shop.example.com"));
        assert_eq!(r.path_type, PathType::Prefix);
        assert_eq!(inv.objects[r.service.unwrap()].name, "web");
        assert_eq!(r.service_port, Some(0));
        assert_eq!(r.ready_endpoints, Some(1));
        assert_eq!(r.tls_secret.as_deref(), Some("wild"));
        assert_eq!(r.workloads.len(), 1);
        assert_eq!(inv.objects[r.network_policies[0]].name, "front");
        assert_eq!(r.posture.auth, Control::Yes("basic".into()));
        assert_eq!(r.posture.allowlist, Control::No);
    }

    #[test]
    fn an_ingress_without_a_class_takes_the_default_class() {
        let inv = inventory(GRAPH);
        let class = &inv.ingresses[0].class;
        assert_eq!(class.class.as_deref(), Some("public"));
        assert_eq!(class.source, Some(ClassSource::Default));
        assert_eq!(class.controller, Some(Controller::IngressNginx));
        assert_eq!(class.evidence, Some(ControllerEvidence::IngressClass));
    }

    #[test]
    fn a_well_known_class_name_is_a_hint_when_no_ingress_class_is_in_scope() {
        let inv = inventory(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a, annotations: {kubernetes.io/ingress.class: traefik}}\nspec: {}\n",
        );
        let class = &inv.ingresses[0].class;
        assert_eq!(class.source, Some(ClassSource::Annotation));
        assert_eq!(class.controller, Some(Controller::Traefik));
        assert_eq!(class.evidence, Some(ControllerEvidence::ClassName));
    }

    #[test]
    fn service_ports_resolve_by_number_and_by_name_including_unnamed_ports() {
        let svc: Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}, {"name": "admin", "port": 9000}]}
        }))
        .unwrap();
        assert_eq!(find_service_port(&svc, &PortRef::Number(80)), Some(0));
        assert_eq!(find_service_port(&svc, &PortRef::Number(8080)), None);
        assert_eq!(
            find_service_port(&svc, &PortRef::Name("admin".into())),
            Some(1)
        );
        assert_eq!(find_service_port(&svc, &PortRef::Name("http".into())), None);
    }

    #[test]
    fn wildcard_hosts_match_exactly_one_label() {
        assert!(host_matches("*.example.com", "a.example.com"));
        assert!(!host_matches("*.example.com", "a.b.example.com"));
        assert!(!host_matches("*.example.com", "example.com"));
        assert!(host_matches("Example.COM", "example.com"));
        assert!(host_matches("*.example.com", "*.example.com"));
    }

    #[test]
    fn scope_tells_missing_from_not_given() {
        let inv = inventory(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a}\nspec: {defaultBackend: {service: {name: x, port: {number: 80}}}}\n",
        );
        assert!(!inv.scope.has(Kind::Service));
        assert_eq!(inv.routes[0].ready_endpoints, None);
    }
}
