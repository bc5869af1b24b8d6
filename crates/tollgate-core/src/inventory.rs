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

mod gateway;
pub use gateway::{
    Attachment, BackendEntry, GatewayEntry, GatewayRouteEntry, GatewayRouteRef, ListenerEntry,
    ParentEntry, RefCheck, RefState, implementation_name, intersect,
};

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

/// A TLS Secret named by Ingresses (`spec.tls`) or Gateway listeners (`tls.certificateRefs`).
#[derive(Debug, Clone)]
pub struct TlsUse {
    /// The Secret's namespace.
    pub namespace: String,
    /// The Secret's name.
    pub name: String,
    /// Index of the Secret in [`Inventory::objects`], when it was read.
    pub object: Option<usize>,
    /// Index of the cert-manager Certificate that writes it, when one was read.
    pub certificate: Option<usize>,
    /// The `spec.tls` entries and listeners naming it.
    pub users: Vec<TlsUser>,
}

/// One `spec.tls` entry of an Ingress, or one Gateway listener, naming a Secret.
#[derive(Debug, Clone)]
pub struct TlsUser {
    /// Index of the Ingress or Gateway in [`Inventory::objects`].
    pub object: usize,
    /// Pointer to the entry naming the Secret: `/spec/tls/0`, or the listener
    /// `/spec/listeners/1` (a finding under it is about this use).
    pub pointer: String,
    /// The hosts served with the Secret: the entry's `hosts`, or the listener's `hostname`.
    pub hosts: Vec<String>,
    /// Pointer to each host, in the same order.
    pub host_pointers: Vec<String>,
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
///
/// `Unknown` is never a polite `No`: rules report a missing control only when it is known to
/// be missing, so anything Tollgate cannot see (another object kind, a controller it does not
/// model, a middleware it cannot read) stays `Unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "detail")]
pub enum Control {
    /// In force, with a short description (`basic`, `10.0.0.0/8`, `10 rps`). A description
    /// ending in `(assumed)` was inferred from a name, not read from the configuration.
    Yes(String),
    /// Known not to be configured: the controller's annotations (and settings in scope) are
    /// read and none provides it.
    No,
    /// Cannot be told from the objects in scope: the controller is not one whose annotations
    /// Tollgate models, none is known, or the control lives in an object Tollgate does not read.
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

/// The access posture of a route, from the annotations its controller reads and, for
/// ingress-nginx, the controller ConfigMap's route-wide settings (see `posture` in this module
/// for what is recognised per controller).
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

/// One route: a host and path that an Ingress or a Gateway API route sends somewhere.
#[derive(Debug, Clone)]
pub struct Route {
    /// Index into [`Inventory::objects`] of the object that defines the route: an Ingress, or an
    /// HTTPRoute, GRPCRoute, TLSRoute or TCPRoute.
    pub object: usize,
    /// Index into [`Inventory::ingresses`], for a route of an Ingress.
    pub ingress: Option<usize>,
    /// For a route of a Gateway API route object: which rule, and the listeners serving it.
    pub gateway: Option<GatewayRouteRef>,
    /// The namespace of the backend (a Gateway API backendRef may name another namespace).
    pub namespace: String,
    /// The host, `None` when the rule has none (matches any Host header).
    pub host: Option<String>,
    /// The path, `None` for the Ingress's default backend.
    pub path: Option<String>,
    /// How the path matches.
    pub path_type: PathType,
    /// Pointer to the backend in the defining object (`/spec/rules/0/http/paths/1/backend`,
    /// `/spec/rules/0/backendRefs/1`; `/spec/rules/0` for a Gateway API rule without backends).
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
    /// Every route of every Ingress, then of every Gateway API route object.
    pub routes: Vec<Route>,
    /// The Gateways, with their classes and listener certificates.
    pub gateways: Vec<GatewayEntry>,
    /// The Gateway API route objects, with how their parents and backends resolve.
    pub gateway_routes: Vec<GatewayRouteEntry>,
    /// The ingress-nginx controller installations among the workloads, found once here
    /// because many rules ask about them.
    pub installations: Vec<crate::installation::Installation>,
    /// Every TLS Secret an Ingress names in `spec.tls`, with who names it, in order of namespace
    /// and name; found once here for the certificate rules and `tollgate certs`.
    pub tls_uses: Vec<TlsUse>,
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
            gateways: Vec::new(),
            gateway_routes: Vec::new(),
            installations: Vec::new(),
            tls_uses: Vec::new(),
            index,
            by_kind,
            workloads_by_ns,
            slices_by_service,
        };
        inv.installations = crate::installation::discover(&inv);
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
        let nginx = NginxControllers::find(&inv);
        inv.routes = (0..inv.ingresses.len())
            .flat_map(|i| inv.routes_of(i, &nginx))
            .collect();
        inv.build_gateways();
        inv.tls_uses = inv.find_tls_uses();
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

    fn routes_of(&self, entry_index: usize, nginx: &NginxControllers) -> Vec<Route> {
        let entry = &self.ingresses[entry_index];
        let (object, ing) = self.ingress(entry);
        let Some(spec) = ing.spec.as_ref() else {
            return Vec::new();
        };
        let ns = object.ns();
        let posture = posture(self, entry, nginx);
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
        let tls_secret = host
            .as_deref()
            .and_then(|h| self.tls_secret_for(ingress, h));
        let mut route = self.backend_route(
            self.ingresses[ingress].object,
            Some(ingress),
            ns,
            host,
            path,
            path_type,
            backend_pointer,
            backend,
            service,
            posture,
        );
        route.tls_secret = tls_secret;
        route
    }

    /// A route to `backend` in `ns` (the Service at index `service`, when it exists), followed
    /// to its port, endpoints, workloads and NetworkPolicies.
    #[allow(clippy::too_many_arguments)]
    fn backend_route(
        &self,
        object: usize,
        ingress: Option<usize>,
        ns: &str,
        host: Option<String>,
        path: Option<String>,
        path_type: PathType,
        backend_pointer: String,
        backend: Backend,
        service: Option<usize>,
        posture: Posture,
    ) -> Route {
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
        let mut workloads = svc
            .map(|s| self.selected_workloads(ns, s))
            .unwrap_or_default();
        let mut network_policies = self.policies_for(ns, &workloads);
        // Files list objects in input order, a cluster by name: sort so a route reads the same
        // whatever the source.
        let by_name = |&i: &usize| {
            let o = &self.objects[i];
            (o.kind, o.ns().to_owned(), o.name.clone())
        };
        workloads.sort_by_key(by_name);
        network_policies.sort_by_key(by_name);
        Route {
            object,
            ingress,
            gateway: None,
            namespace: ns.to_owned(),
            host,
            path,
            path_type,
            backend_pointer,
            backend,
            service,
            service_port,
            ready_endpoints,
            tls_secret: None,
            workloads,
            network_policies,
            posture,
        }
    }

    /// Every TLS Secret that an Ingress names in `spec.tls`, with who names it, in order of
    /// namespace and name. Secrets that do not exist are included (with `object: None`).
    fn find_tls_uses(&self) -> Vec<TlsUse> {
        let mut uses: BTreeMap<(String, String), Vec<TlsUser>> = BTreeMap::new();
        for entry in &self.ingresses {
            let (object, ing) = self.ingress(entry);
            let tls = ing.spec.iter().flat_map(|s| s.tls.iter().flatten());
            for (i, t) in tls.enumerate() {
                let Some(name) = t.secret_name.as_deref().filter(|n| !n.is_empty()) else {
                    continue;
                };
                let hosts = t.hosts.clone().unwrap_or_default();
                uses.entry((object.ns().to_owned(), name.to_owned()))
                    .or_default()
                    .push(TlsUser {
                        object: entry.object,
                        pointer: format!("/spec/tls/{i}"),
                        host_pointers: (0..hosts.len())
                            .map(|j| format!("/spec/tls/{i}/hosts/{j}"))
                            .collect(),
                        hosts,
                    });
            }
        }
        for g in &self.gateways {
            let (_, gw) = self.gateway(g);
            for (l, listener) in g.listeners.iter().enumerate() {
                // A Secret across namespaces without a grant is not served, whatever it holds.
                for c in &listener.certificates {
                    if !matches!(
                        c.state,
                        RefState::Found(_) | RefState::Missing | RefState::NotInScope
                    ) {
                        continue;
                    }
                    let hostname = gw.spec.listeners.get(l).and_then(|x| x.hostname.clone());
                    uses.entry((c.namespace.clone(), c.name.clone()))
                        .or_default()
                        .push(TlsUser {
                            object: g.object,
                            pointer: format!("/spec/listeners/{l}"),
                            host_pointers: hostname
                                .iter()
                                .map(|_| format!("/spec/listeners/{l}/hostname"))
                                .collect(),
                            hosts: hostname.into_iter().collect(),
                        });
                }
            }
        }
        uses.into_iter()
            .map(|((namespace, name), users)| TlsUse {
                object: self
                    .index
                    .get(&(Kind::Secret, namespace.clone(), name.clone()))
                    .copied(),
                certificate: self.cert_manager_certificate(&namespace, &name),
                namespace,
                name,
                users,
            })
            .collect()
    }

    /// The cert-manager Certificate that writes Secret `name` of `namespace`: the one the
    /// Secret's `cert-manager.io/certificate-name` annotation names, or else one whose
    /// `spec.secretName` is `name`.
    #[must_use]
    pub fn cert_manager_certificate(&self, namespace: &str, name: &str) -> Option<usize> {
        let annotated = self
            .get(Kind::Secret, namespace, name)
            .and_then(|s| s.annotation("cert-manager.io/certificate-name"))
            .map(str::to_owned);
        let mut by_spec = None;
        for (i, o) in self.of_kind(Kind::Certificate) {
            if o.ns() != namespace {
                continue;
            }
            if annotated.as_deref() == Some(o.name.as_str()) {
                return Some(i);
            }
            if let Resource::Certificate(c) = &o.resource
                && c.spec.secret_name == name
                && by_spec.is_none()
            {
                by_spec = Some(i);
            }
        }
        by_spec
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
    /// neither kind is in scope for the namespace (files that hold another namespace's
    /// EndpointSlices say nothing about this one's).
    fn ready_endpoints(&self, ns: &str, service: &str, port: &ServicePort) -> Option<usize> {
        let port_name = port.name.as_deref().unwrap_or("");
        if self.scope.has(Kind::EndpointSlice) {
            if !self.in_scope(Kind::EndpointSlice, ns) {
                return None;
            }
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
            if !self.in_scope(Kind::Endpoints, ns) {
                return None;
            }
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
    // The API server treats an absent or empty `policyTypes` as `[Ingress]` (plus Egress when
    // there are egress rules).
    np.spec
        .as_ref()
        .and_then(|s| s.policy_types.as_ref())
        .is_none_or(|types| types.is_empty() || types.iter().any(|t| t == "Ingress"))
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
const ALB: &str = "alb.ingress.kubernetes.io/";
/// The Traefik annotation that attaches Middlewares to the routers of an Ingress.
const TRAEFIK_MIDDLEWARES: &str = "traefik.ingress.kubernetes.io/router.middlewares";

/// Go's `strconv.ParseBool`, which ingress-nginx uses for its boolean annotations and settings:
/// anything else is an error there, and the annotation's default applies.
#[must_use]
pub(crate) fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

impl Posture {
    /// Nothing can be told.
    fn unknown() -> Posture {
        Posture {
            auth: Control::Unknown,
            allowlist: Control::Unknown,
            rate_limit: Control::Unknown,
            waf: Control::Unknown,
        }
    }
}

/// The access posture of an Ingress's routes, per controller:
///
/// - **ingress-nginx**: auth from `auth-type` (basic, digest), `auth-url` (external auth, e.g.
///   oauth2-proxy's `/oauth2/auth`), `auth-tls-secret` with `auth-tls-verify-client` `on` (its
///   default) or `optional`, or the controller ConfigMap's `global-auth-url` unless the Ingress
///   says `enable-global-auth: "false"`; allow-list from `allowlist-source-range` (or the legacy
///   `whitelist-source-range`) or the ConfigMap's `whitelist-source-range`; rate limit from
///   `limit-rps`, `limit-rpm`, `limit-connections`, `global-rate-limit`; WAF from
///   `enable-modsecurity` (annotation, or the ConfigMap's, unless the annotation turns it off).
///   A canary Ingress takes these from its main Ingress, so its own say nothing (unknown).
///   When the controller's ConfigMap is not among the objects, its defaults are assumed (no
///   global auth, allow-list or WAF); when several candidate ConfigMaps disagree and none can
///   be tied to the Ingress's controller, the controller-wide parts are unknown.
/// - **Traefik**: Middlewares named in `router.middlewares`. Middleware objects are not read,
///   so a middleware counts by its name, marked `(assumed)`: `auth`, `sso`, `oidc`, `jwt`,
///   `basic`, `digest`, `forward` (not `forwarded`) → auth; `allowlist`/`whitelist` → allow-list;
///   `ratelimit`/`rate-limit`/`throttle` → rate limit; `waf`/`coraza`/`modsec` → WAF. A name
///   that says nothing (a chain, say) makes the controls it could provide unknown; names of
///   plainly other middlewares (redirects, headers, compression, prefixes) do not. Middlewares
///   attached to an entry point in Traefik's static configuration are not visible.
/// - **AWS Load Balancer Controller**: auth from `auth-type: cognito|oidc`; allow-list from
///   `inbound-cidrs`, or the `internal` scheme (the default: reachable from the VPC only);
///   WAF from `wafv2-acl-arn` or `waf-acl-id`; no rate limit without a WAF (a WAF may hold
///   rate-based rules: unknown). `security-groups`, IngressClassParams, and Ingress groups
///   (whose load-balancer settings may come from another member) make the load-balancer-level
///   controls unknown.
/// - **GKE** (IAP and Cloud Armor live in `BackendConfig` objects) and every other controller:
///   unknown.
fn posture(inv: &Inventory, entry: &IngressEntry, nginx: &NginxControllers) -> Posture {
    let o = &inv.objects[entry.object];
    match entry.class.controller.as_ref() {
        Some(Controller::IngressNginx) => nginx_posture(o, &nginx.settings_for(inv, entry)),
        Some(Controller::Traefik) => traefik_posture(o),
        Some(Controller::AwsAlb) => {
            let class_params = entry.class.ingress_class.is_some_and(|i| {
                matches!(&inv.objects[i].resource, Resource::IngressClass(c)
                    if c.spec.as_ref().is_some_and(|s| s.parameters.is_some()))
            });
            alb_posture(o, class_params)
        }
        _ => Posture::unknown(),
    }
}

fn nginx_posture(o: &Object, settings: &NginxSettings<'_>) -> Posture {
    let a = |k: &str| {
        o.annotation(&format!("{NGINX}{k}"))
            .filter(|v| !v.trim().is_empty())
    };
    // A canary Ingress inherits every other annotation from the main Ingress of its host and
    // path, so its own annotations do not tell its posture.
    if a("canary").and_then(go_bool) == Some(true) {
        return Posture::unknown();
    }
    // `Err` when the controller-wide settings cannot be known.
    let setting = |k: &str| match settings {
        NginxSettings::Known(Some(data)) => Ok(data
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())),
        NginxSettings::Known(None) => Ok(None),
        NginxSettings::Unknown => Err(()),
    };
    // `auth-tls-verify-client` defaults to `on` once `auth-tls-secret` is set; `optional` lets
    // clients without a certificate through for the backend to judge, `optional_no_ca` and
    // `off` verify nothing.
    let client_cert = a("auth-tls-secret").and_then(|_| match a("auth-tls-verify-client") {
        None | Some("on") => Some("client-cert"),
        Some("optional") => Some("client-cert (optional)"),
        Some(_) => None,
    });
    let global_auth_enabled = a("enable-global-auth").and_then(go_bool) != Some(false);
    let auth = if let Some(t) = a("auth-type") {
        Control::Yes(t.to_owned())
    } else if a("auth-url").is_some() {
        Control::Yes("external".into())
    } else if let Some(c) = client_cert {
        Control::Yes(c.into())
    } else if !global_auth_enabled {
        Control::No
    } else {
        match setting("global-auth-url") {
            Ok(Some(_)) => Control::Yes("global auth-url".into()),
            Ok(None) => Control::No,
            Err(()) => Control::Unknown,
        }
    };
    let allowlist = match a("allowlist-source-range").or_else(|| a("whitelist-source-range")) {
        Some(v) => Control::Yes(v.to_owned()),
        None => match setting("whitelist-source-range") {
            Ok(Some(v)) => Control::Yes(format!("{v} (global)")),
            Ok(None) => Control::No,
            Err(()) => Control::Unknown,
        },
    };
    let rate_limit = if let Some(v) = a("limit-rps") {
        Control::Yes(format!("{v} rps"))
    } else if let Some(v) = a("limit-rpm") {
        Control::Yes(format!("{v} rpm"))
    } else if let Some(v) = a("limit-connections") {
        Control::Yes(format!("{v} conn"))
    } else if let Some(v) = a("global-rate-limit") {
        let window = a("global-rate-limit-window").unwrap_or("?");
        Control::Yes(format!("{v} per {window} (global)"))
    } else {
        Control::No
    };
    let owasp = |global: bool| {
        a("enable-owasp-core-rules").and_then(go_bool) == Some(true)
            || global
                && setting("enable-owasp-modsecurity-crs")
                    .ok()
                    .flatten()
                    .and_then(go_bool)
                    == Some(true)
    };
    let waf = match a("enable-modsecurity").and_then(go_bool) {
        Some(true) if owasp(false) => Control::Yes("modsecurity+crs".into()),
        Some(true) => Control::Yes("modsecurity".into()),
        // The annotation turns a ConfigMap-wide ModSecurity off for this Ingress.
        Some(false) => Control::No,
        None => match setting("enable-modsecurity") {
            Ok(Some(v)) if go_bool(v) == Some(true) => Control::Yes(if owasp(true) {
                "modsecurity+crs (global)".into()
            } else {
                "modsecurity (global)".into()
            }),
            Ok(_) => Control::No,
            Err(()) => Control::Unknown,
        },
    };
    Posture {
        auth,
        allowlist,
        rate_limit,
        waf,
    }
}

/// What a Traefik Middleware's name suggests it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MiddlewareKind {
    Auth,
    Allowlist,
    RateLimit,
    Waf,
    /// Plainly something else (a redirect, headers, compression, a path prefix).
    Other,
    /// The name says nothing (a chain, or a name of the author's own).
    Unrecognised,
}

fn middleware_kind(name: &str) -> MiddlewareKind {
    let n = name.split('@').next().unwrap_or(name).to_ascii_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if any(&["allowlist", "whitelist", "ipallow", "ip-allow"]) {
        MiddlewareKind::Allowlist
    } else if any(&["ratelimit", "rate-limit", "rate_limit", "throttle"]) {
        MiddlewareKind::RateLimit
    } else if any(&["auth", "sso", "oidc", "jwt", "basic", "digest"])
        || n.contains("forward") && !n.contains("forwarded")
    {
        MiddlewareKind::Auth
    } else if any(&["waf", "coraza", "modsec"]) {
        MiddlewareKind::Waf
    } else if any(&[
        "redirect", "https", "header", "compress", "gzip", "strip", "prefix", "replace", "retry",
        "buffer", "circuit", "inflight", "error", "cors",
    ]) {
        MiddlewareKind::Other
    } else {
        MiddlewareKind::Unrecognised
    }
}

fn traefik_posture(o: &Object) -> Posture {
    let names: Vec<&str> = o
        .annotation(TRAEFIK_MIDDLEWARES)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let kinds: Vec<(&str, MiddlewareKind)> =
        names.iter().map(|n| (*n, middleware_kind(n))).collect();
    let control = |wanted: MiddlewareKind| {
        if let Some((name, _)) = kinds.iter().find(|(_, k)| *k == wanted) {
            Control::Yes(format!("middleware {name} (assumed)"))
        } else if kinds
            .iter()
            .any(|(_, k)| *k == MiddlewareKind::Unrecognised)
        {
            Control::Unknown
        } else {
            Control::No
        }
    };
    Posture {
        auth: control(MiddlewareKind::Auth),
        allowlist: control(MiddlewareKind::Allowlist),
        rate_limit: control(MiddlewareKind::RateLimit),
        waf: control(MiddlewareKind::Waf),
    }
}

fn alb_posture(o: &Object, class_params: bool) -> Posture {
    let a = |k: &str| {
        o.annotation(&format!("{ALB}{k}"))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let auth = match a("auth-type") {
        Some(t @ ("cognito" | "oidc")) => Control::Yes(t.to_owned()),
        _ => Control::No,
    };
    // Load-balancer-level settings: IngressClassParams override them, and in an Ingress group
    // another member may set them.
    let lb_unknown = class_params || a("group.name").is_some();
    let allowlist = if a("security-groups").is_some() {
        // The named security groups decide, and `inbound-cidrs` is ignored.
        Control::Unknown
    } else if let Some(cidrs) = a("inbound-cidrs") {
        Control::Yes(cidrs.to_owned())
    } else if lb_unknown {
        Control::Unknown
    } else if a("scheme") == Some("internet-facing") {
        Control::No
    } else {
        Control::Yes("internal load balancer".into())
    };
    let waf = if a("wafv2-acl-arn").is_some_and(|v| v != "none") {
        Control::Yes("wafv2".into())
    } else if a("waf-acl-id").is_some_and(|v| v != "none") {
        Control::Yes("waf classic".into())
    } else if lb_unknown {
        Control::Unknown
    } else {
        Control::No
    };
    // An ALB has no rate limit of its own; a WAF web ACL may carry rate-based rules.
    let rate_limit = match waf {
        Control::No => Control::No,
        _ => Control::Unknown,
    };
    Posture {
        auth,
        allowlist,
        rate_limit,
        waf,
    }
}

/// The ingress-nginx controllers in scope and the ConfigMap each one reads, found once per
/// inventory: some controller settings apply to every route the controller serves.
#[derive(Debug, Default)]
struct NginxControllers {
    controllers: Vec<NginxController>,
    /// ConfigMaps that look like an ingress-nginx controller's and set one of
    /// [`NGINX_ROUTE_SETTINGS`], which no controller in scope is known to read.
    unclaimed: Vec<usize>,
}

#[derive(Debug)]
struct NginxController {
    /// `--controller-class`, by default `k8s.io/ingress-nginx`.
    controller_class: String,
    /// `--ingress-class`, by default `nginx`.
    ingress_class: String,
    /// The ConfigMap named by `--configmap`, when it is among the objects.
    config: Option<usize>,
}

/// The controller-wide settings that apply to one Ingress.
enum NginxSettings<'a> {
    /// These settings; `None`: the controller's defaults.
    Known(Option<&'a BTreeMap<String, String>>),
    /// Several candidate ConfigMaps disagree and none can be tied to the Ingress's controller.
    Unknown,
}

/// The controller ConfigMap keys that change the posture of every route.
const NGINX_ROUTE_SETTINGS: [&str; 4] = [
    "global-auth-url",
    "whitelist-source-range",
    "enable-modsecurity",
    "enable-owasp-modsecurity-crs",
];

impl NginxControllers {
    fn find(inv: &Inventory) -> NginxControllers {
        let mut controllers = Vec::new();
        let mut claimed = BTreeSet::new();
        for kind in [Kind::Deployment, Kind::DaemonSet, Kind::StatefulSet] {
            for (_, o) in inv.of_kind(kind) {
                let containers = match &o.resource {
                    Resource::Deployment(d) => d.spec.as_ref().map(|s| &s.template),
                    Resource::DaemonSet(d) => d.spec.as_ref().map(|s| &s.template),
                    Resource::StatefulSet(d) => d.spec.as_ref().map(|s| &s.template),
                    _ => None,
                }
                .and_then(|t| t.spec.as_ref())
                .map_or(&[][..], |s| s.containers.as_slice());
                for c in containers {
                    let words: Vec<&str> = c
                        .command
                        .iter()
                        .flatten()
                        .chain(c.args.iter().flatten())
                        .map(String::as_str)
                        .collect();
                    let is_controller = words
                        .iter()
                        .any(|w| w.ends_with("/nginx-ingress-controller"))
                        || c.image
                            .as_deref()
                            .is_some_and(|i| i.contains("ingress-nginx/controller"));
                    if !is_controller {
                        continue;
                    }
                    let config = flag_value(&words, "--configmap").and_then(|r| {
                        let r = r.replace("$(POD_NAMESPACE)", o.ns());
                        let (ns, name) = r.split_once('/')?;
                        inv.get_index(Kind::ConfigMap, ns, name)
                    });
                    claimed.extend(config);
                    controllers.push(NginxController {
                        controller_class: flag_value(&words, "--controller-class")
                            .unwrap_or("k8s.io/ingress-nginx")
                            .to_owned(),
                        ingress_class: flag_value(&words, "--ingress-class")
                            .unwrap_or("nginx")
                            .to_owned(),
                        config,
                    });
                }
            }
        }
        let unclaimed = inv
            .of_kind(Kind::ConfigMap)
            .filter(|(i, o)| !claimed.contains(i) && looks_like_nginx_settings(o))
            .map(|(i, _)| i)
            .collect();
        NginxControllers {
            controllers,
            unclaimed,
        }
    }

    fn settings_for<'a>(&self, inv: &'a Inventory, entry: &IngressEntry) -> NginxSettings<'a> {
        let data = |i: usize| match &inv.objects[i].resource {
            Resource::ConfigMap(cm) => cm.data.as_ref(),
            _ => None,
        };
        let controller_name =
            entry
                .class
                .ingress_class
                .and_then(|i| match &inv.objects[i].resource {
                    Resource::IngressClass(c) => c.spec.as_ref()?.controller.as_deref(),
                    _ => None,
                });
        let configs: BTreeSet<Option<usize>> = self
            .controllers
            .iter()
            .filter(|c| match controller_name {
                Some(name) => c.controller_class == name,
                None => entry.class.class.as_deref() == Some(c.ingress_class.as_str()),
            })
            .map(|c| c.config)
            .collect();
        if !configs.is_empty() {
            return match configs.len() {
                1 => NginxSettings::Known(configs.into_iter().next().flatten().and_then(data)),
                _ => NginxSettings::Unknown,
            };
        }
        let route_settings = |i: usize| {
            NGINX_ROUTE_SETTINGS.map(|k| data(i).and_then(|d| d.get(k)).map(String::as_str))
        };
        match self.unclaimed.as_slice() {
            [] => NginxSettings::Known(None),
            [first, rest @ ..]
                if rest
                    .iter()
                    .all(|&i| route_settings(i) == route_settings(*first)) =>
            {
                NginxSettings::Known(data(*first))
            }
            _ => NginxSettings::Unknown,
        }
    }
}

/// The value of a command-line flag written `--name=value` or `--name value`.
fn flag_value<'a>(words: &[&'a str], name: &str) -> Option<&'a str> {
    words.iter().enumerate().find_map(|(i, w)| {
        let rest = w.strip_prefix(name)?;
        match rest.strip_prefix('=') {
            Some(v) => Some(v),
            None if rest.is_empty() => words.get(i + 1).copied(),
            None => None,
        }
    })
}

/// Whether a ConfigMap looks like an ingress-nginx controller's and sets a route-wide setting.
fn looks_like_nginx_settings(o: &Object) -> bool {
    let Resource::ConfigMap(cm) = &o.resource else {
        return false;
    };
    let labels = cm.metadata.labels.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
    let nginx = label("app.kubernetes.io/name") == Some("ingress-nginx")
        || label("app.kubernetes.io/part-of") == Some("ingress-nginx")
        || matches!(
            o.name.as_str(),
            "ingress-nginx-controller" | "nginx-configuration" | "ingress-nginx"
        );
    nginx
        && cm
            .data
            .as_ref()
            .is_some_and(|d| NGINX_ROUTE_SETTINGS.iter().any(|k| d.contains_key(*k)))
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
