//! The Gateway API part of the graph: GatewayClass → Gateway → listener → route (HTTPRoute,
//! GRPCRoute, TLSRoute, TCPRoute) → backendRefs → Service, resolved the way the Gateway API
//! specification says an implementation attaches routes, and turned into the same [`Route`]s that
//! Ingresses give, so the map, log attribution and the route rules see one set of routes.
//!
//! Attachment is computed, not only read from `status`: manifests have no status, and a cluster's
//! status says what the controller did, not why. Where the objects needed to decide are not in
//! scope (a Gateway in another folder, a Namespace not given), the answer is "unknown", never a
//! guess; such a route is still mapped, from its own hostnames.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::{Backend, Control, Inventory, PathType, PortRef, Posture, Route};
use crate::gateway::{
    AccessPolicy, Gateway, GatewayRoute, Listener, ObjectReference, ParentReference,
};
use crate::object::{Kind, Resource};

/// A Gateway with its class and the resolution of each listener's certificates.
#[derive(Debug, Clone)]
pub struct GatewayEntry {
    /// Index into [`Inventory::objects`].
    pub object: usize,
    /// The GatewayClass object, when it is in the inventory.
    pub class: Option<usize>,
    /// The class's `controllerName`, when the class is in the inventory.
    pub controller: Option<String>,
    /// One per `spec.listeners` entry, in order.
    pub listeners: Vec<ListenerEntry>,
    /// Services of type LoadBalancer that the implementation created for this Gateway (found by
    /// the `gateway.networking.k8s.io/gateway-name` or Envoy Gateway's owning-gateway labels).
    pub load_balancers: Vec<usize>,
}

/// What a listener's `tls.certificateRefs` resolve to.
#[derive(Debug, Clone)]
pub struct ListenerEntry {
    /// One per `tls.certificateRefs` entry, in order.
    pub certificates: Vec<RefCheck>,
}

/// A reference from a Gateway API object to another object, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefCheck {
    /// Pointer to the reference in the referring object.
    pub pointer: String,
    /// Namespace of the target.
    pub namespace: String,
    /// Name of the target.
    pub name: String,
    /// What was found.
    pub state: RefState,
}

/// The outcome of resolving a reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "detail")]
pub enum RefState {
    /// The target exists (index into [`Inventory::objects`]).
    Found(usize),
    /// The target does not exist: its kind was read for its namespace and it is not there.
    Missing,
    /// The target's namespace was not read; nothing can be said.
    NotInScope,
    /// The target is in another namespace and no ReferenceGrant there allows the reference.
    NotPermitted,
    /// The target may be in another namespace without a grant, but whether a grant exists
    /// cannot be told (no ReferenceGrants of that namespace were read).
    GrantUnknown,
    /// The reference names a kind Tollgate does not resolve (an implementation's backend CRD).
    OtherKind(String),
    /// A Service backend without `port`, or a port the Service does not have.
    PortMissing,
}

/// A Gateway API route object with the resolution of its parents and backends.
#[derive(Debug, Clone)]
pub struct GatewayRouteEntry {
    /// Index into [`Inventory::objects`].
    pub object: usize,
    /// One per `spec.parentRefs` entry, in order.
    pub parents: Vec<ParentEntry>,
    /// One per backendRef of every rule.
    pub backends: Vec<BackendEntry>,
}

/// How one `parentRefs` entry resolves.
#[derive(Debug, Clone)]
pub struct ParentEntry {
    /// The entry.
    pub reference: ParentReference,
    /// Index into [`Inventory::gateways`], when the Gateway is in the inventory.
    pub gateway: Option<usize>,
    /// Indices of the listeners the route attaches to.
    pub listeners: Vec<usize>,
    /// The outcome.
    pub attachment: Attachment,
    /// What the implementation reported in `status.parents` for this parent, when it reported
    /// `Accepted: False`: the reason and message.
    pub refused: Option<String>,
}

/// Whether a route attaches to a parent, and if not, why (the reasons are the Gateway API's
/// `Accepted` condition reasons where one fits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "detail")]
pub enum Attachment {
    /// Attached to at least one listener.
    Accepted,
    /// The parent is not a Gateway (a Service for mesh routing, or another kind); not judged.
    NotGateway,
    /// The Gateway is not in the inventory and its namespace's Gateways were not read.
    Unknown,
    /// No Gateway of that name exists.
    NoGateway,
    /// `sectionName` or `port` names no listener of the Gateway.
    NoSuchListener(String),
    /// The listeners' `allowedRoutes` do not admit the route's namespace or kind.
    NotAllowedByListeners(String),
    /// None of the route's hostnames intersects a listener's hostname.
    NoMatchingListenerHostname,
}

/// One backendRef of a route rule.
#[derive(Debug, Clone)]
pub struct BackendEntry {
    /// Index of the rule in `spec.rules`.
    pub rule: usize,
    /// Index of the backendRef in the rule.
    pub index: usize,
    /// The resolution.
    pub check: RefCheck,
    /// The reference.
    pub target: ObjectReference,
}

/// Where a [`Route`] of a Gateway API route object comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRouteRef {
    /// Index into [`Inventory::gateway_routes`].
    pub route: usize,
    /// Index of the rule in `spec.rules`.
    pub rule: usize,
    /// `(gateway, listener)` pairs it is served on: indices into [`Inventory::gateways`] and
    /// their listeners. Empty when attachment is unknown.
    pub listeners: Vec<(usize, usize)>,
}

/// A short name for a Gateway API implementation, from its GatewayClass `controllerName`.
#[must_use]
pub fn implementation_name(controller_name: &str) -> Option<&'static str> {
    Some(match controller_name {
        "gateway.envoyproxy.io/gatewayclass-controller" => "envoy-gateway",
        "istio.io/gateway-controller" | "istio.io/unmanaged-gateway" => "istio",
        "io.cilium/gateway-controller" => "cilium",
        "gateway.nginx.org/nginx-gateway-controller" => "nginx-gateway-fabric",
        "traefik.io/gateway-controller" => "traefik",
        "konghq.com/kic-gateway-controller" | "konghq.com/gateway-operator" => "kong",
        "projectcontour.io/gateway-controller" => "contour",
        "haproxy.org/gateway-controller" => "haproxy",
        "networking.gke.io/gateway" => "gke",
        "application-networking.k8s.aws/gateway-api-controller" => "aws-vpc-lattice",
        _ => return None,
    })
}

/// Labels implementations put on what they provision for a Gateway.
const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";
const ENVOY_OWNING_NAME: &str = "gateway.envoyproxy.io/owning-gateway-name";
const ENVOY_OWNING_NAMESPACE: &str = "gateway.envoyproxy.io/owning-gateway-namespace";

impl Inventory {
    /// The Gateway object and body of an entry.
    #[must_use]
    pub fn gateway(&self, entry: &GatewayEntry) -> (&crate::object::Object, &Gateway) {
        let object = &self.objects[entry.object];
        let Resource::Gateway(g) = &object.resource else {
            unreachable!("gateway entries index Gateway objects");
        };
        (object, g)
    }

    /// The route object and body of an entry.
    #[must_use]
    pub fn gateway_route(
        &self,
        entry: &GatewayRouteEntry,
    ) -> (&crate::object::Object, &GatewayRoute) {
        let object = &self.objects[entry.object];
        let Resource::GatewayRoute(r) = &object.resource else {
            unreachable!("gateway route entries index route objects");
        };
        (object, r)
    }

    /// Whether a ReferenceGrant in `to_namespace` lets a `from_kind` of `from_namespace` refer to
    /// `to_kind` `to_name` there: `Some(true)`/`Some(false)`, or `None` when that cannot be told
    /// (no grants of the namespace were read, and its target was not given either).
    #[must_use]
    pub fn reference_granted(
        &self,
        from_kind: Kind,
        from_namespace: &str,
        to_kind: &str,
        to_name: &str,
        to_namespace: &str,
        target_found: bool,
    ) -> Option<bool> {
        let granted = self.of_kind(Kind::ReferenceGrant).any(|(_, o)| {
            o.ns() == to_namespace
                && matches!(&o.resource, Resource::ReferenceGrant(g)
                    if g.permits(from_kind.as_str(), from_namespace, "", to_kind, to_name))
        });
        if granted {
            return Some(true);
        }
        // Files may hold only some of an application's manifests. A grant is known to be absent
        // when grants of that namespace were read, or when the target itself was given: whoever
        // gave us the namespace's objects gave us its grants.
        (self.in_scope(Kind::ReferenceGrant, to_namespace) || target_found).then_some(false)
    }

    pub(super) fn build_gateways(&mut self) {
        let gateways: Vec<usize> = self.of_kind(Kind::Gateway).map(|(i, _)| i).collect();
        let lbs = self.gateway_load_balancers();
        self.gateways = gateways
            .into_iter()
            .map(|object| self.gateway_entry(object, &lbs))
            .collect();
        let routes: Vec<usize> = self
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.kind.gateway_route())
            .map(|(i, _)| i)
            .collect();
        self.gateway_routes = routes
            .into_iter()
            .map(|object| self.gateway_route_entry(object))
            .collect();
        let mut routes = Vec::new();
        for r in 0..self.gateway_routes.len() {
            routes.extend(self.routes_of_gateway_route(r));
        }
        self.routes.extend(routes);
    }

    /// LoadBalancer Services by the `(namespace, name)` of the Gateway they were provisioned
    /// for, found once: an estate has thousands of Services and hundreds of Gateways.
    fn gateway_load_balancers(&self) -> HashMap<(String, String), Vec<usize>> {
        let mut out: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, s) in self.of_kind(Kind::Service) {
            let Resource::Service(svc) = &s.resource else {
                continue;
            };
            if svc.spec.as_ref().and_then(|s| s.type_.as_deref()) != Some("LoadBalancer") {
                continue;
            }
            let labels = svc.metadata.labels.as_ref();
            let label = |k: &str| labels.and_then(|l| l.get(k)).cloned();
            let mut owners = BTreeSet::new();
            if let Some(name) = label(GATEWAY_NAME_LABEL) {
                owners.insert((s.ns().to_owned(), name));
            }
            if let (Some(name), Some(ns)) =
                (label(ENVOY_OWNING_NAME), label(ENVOY_OWNING_NAMESPACE))
            {
                owners.insert((ns, name));
            }
            for owner in owners {
                out.entry(owner).or_default().push(i);
            }
        }
        out
    }

    fn gateway_entry(
        &self,
        object: usize,
        lbs: &HashMap<(String, String), Vec<usize>>,
    ) -> GatewayEntry {
        let o = &self.objects[object];
        let Resource::Gateway(gw) = &o.resource else {
            unreachable!()
        };
        let class = self.get_index(Kind::GatewayClass, "", &gw.spec.gateway_class_name);
        let controller = class.and_then(|i| match &self.objects[i].resource {
            Resource::GatewayClass(c) => Some(c.spec.controller_name.clone()),
            _ => None,
        });
        let listeners = gw
            .spec
            .listeners
            .iter()
            .enumerate()
            .map(|(l, listener)| ListenerEntry {
                certificates: listener
                    .tls
                    .iter()
                    .flat_map(|t| t.certificate_refs.iter().enumerate())
                    .map(|(c, r)| {
                        self.certificate_ref(
                            o.ns(),
                            r,
                            format!("/spec/listeners/{l}/tls/certificateRefs/{c}"),
                        )
                    })
                    .collect(),
            })
            .collect();
        let load_balancers = lbs
            .get(&(o.ns().to_owned(), o.name.clone()))
            .cloned()
            .unwrap_or_default();
        GatewayEntry {
            object,
            class,
            controller,
            listeners,
            load_balancers,
        }
    }

    fn certificate_ref(&self, gw_ns: &str, r: &ObjectReference, pointer: String) -> RefCheck {
        self.resolve_ref(Kind::Gateway, gw_ns, r, Kind::Secret, pointer)
    }

    /// Resolves a reference from a `from` object in `from_ns` to a core object of `target`
    /// (a Secret, a Service): found, missing, not in scope, or refused for want of a
    /// ReferenceGrant in the target's namespace; any other kind is `OtherKind`.
    fn resolve_ref(
        &self,
        from: Kind,
        from_ns: &str,
        r: &ObjectReference,
        target: Kind,
        pointer: String,
    ) -> RefCheck {
        let namespace = r.namespace.clone().unwrap_or_else(|| from_ns.to_owned());
        let state = if !r.is_core(target.as_str(), target.as_str()) {
            RefState::OtherKind(format!(
                "{}/{}",
                r.group.as_deref().unwrap_or(""),
                r.kind.as_deref().unwrap_or(target.as_str())
            ))
        } else {
            let found = self.get_index(target, &namespace, &r.name);
            let grant = if namespace == from_ns {
                Some(true)
            } else {
                self.reference_granted(
                    from,
                    from_ns,
                    target.as_str(),
                    &r.name,
                    &namespace,
                    found.is_some(),
                )
            };
            match (grant, found) {
                (Some(false), _) => RefState::NotPermitted,
                (None, _) => RefState::GrantUnknown,
                (Some(true), Some(i)) => RefState::Found(i),
                (Some(true), None) if self.in_scope(target, &namespace) => RefState::Missing,
                (Some(true), None) => RefState::NotInScope,
            }
        };
        RefCheck {
            pointer,
            namespace,
            name: r.name.clone(),
            state,
        }
    }

    fn gateway_route_entry(&self, object: usize) -> GatewayRouteEntry {
        let o = &self.objects[object];
        let Resource::GatewayRoute(route) = &o.resource else {
            unreachable!()
        };
        let parents = route
            .spec
            .parent_refs
            .iter()
            .map(|p| self.attach(o.kind, o.ns(), route, p))
            .collect();
        let mut backends = Vec::new();
        for (r, rule) in route.spec.rules.iter().enumerate() {
            for (b, backend) in rule.backend_refs.iter().enumerate() {
                backends.push(BackendEntry {
                    rule: r,
                    index: b,
                    check: self.backend_ref(
                        o.kind,
                        o.ns(),
                        &backend.target,
                        format!("/spec/rules/{r}/backendRefs/{b}"),
                    ),
                    target: backend.target.clone(),
                });
            }
        }
        GatewayRouteEntry {
            object,
            parents,
            backends,
        }
    }

    fn backend_ref(
        &self,
        kind: Kind,
        route_ns: &str,
        r: &ObjectReference,
        pointer: String,
    ) -> RefCheck {
        let mut check = self.resolve_ref(kind, route_ns, r, Kind::Service, pointer);
        // A Service backend needs a port the Service has.
        if let RefState::Found(i) = check.state {
            let port_ok = r.port.is_some_and(|p| match &self.objects[i].resource {
                Resource::Service(s) => super::find_service_port(s, &PortRef::Number(p)).is_some(),
                _ => false,
            });
            if !port_ok {
                check.state = RefState::PortMissing;
            }
        }
        check
    }

    /// Attaches a route to one parent, as the Gateway API specification describes.
    fn attach(
        &self,
        kind: Kind,
        route_ns: &str,
        route: &GatewayRoute,
        p: &ParentReference,
    ) -> ParentEntry {
        let refused = route
            .status
            .iter()
            .flat_map(|s| &s.parents)
            .filter(|s| same_parent(&s.parent_ref, p, route_ns))
            .flat_map(|s| &s.conditions)
            .find(|c| c.type_ == "Accepted" && c.status == "False")
            .map(|c| {
                let reason = c.reason.as_deref().unwrap_or("NotAccepted");
                match c.message.as_deref().filter(|m| !m.is_empty()) {
                    Some(m) => format!("{reason}: {m}"),
                    None => reason.to_owned(),
                }
            });
        let entry = |gateway, listeners, attachment| ParentEntry {
            reference: p.clone(),
            gateway,
            listeners,
            attachment,
            refused: refused.clone(),
        };
        if !p.is_gateway() {
            return entry(None, Vec::new(), Attachment::NotGateway);
        }
        let gw_ns = p.namespace.as_deref().unwrap_or(route_ns);
        let Some(g) = self.gateways.iter().position(|g| {
            self.objects[g.object].ns() == gw_ns && self.objects[g.object].name == p.name
        }) else {
            let state = if self.in_scope(Kind::Gateway, gw_ns) {
                Attachment::NoGateway
            } else {
                Attachment::Unknown
            };
            return entry(None, Vec::new(), state);
        };
        let (gw_object, gw) = self.gateway(&self.gateways[g]);
        let named: Vec<(usize, &Listener)> = gw
            .spec
            .listeners
            .iter()
            .enumerate()
            .filter(|(_, l)| p.section_name.as_deref().is_none_or(|s| s == l.name))
            .filter(|(_, l)| p.port.is_none_or(|port| port == l.port))
            .collect();
        if named.is_empty() {
            let what = match (&p.section_name, p.port) {
                (Some(s), Some(port)) => format!("no listener `{s}` on port {port}"),
                (Some(s), None) => format!("no listener `{s}`"),
                (None, Some(port)) => format!("no listener on port {port}"),
                (None, None) => "no listeners".to_owned(),
            };
            return entry(Some(g), Vec::new(), Attachment::NoSuchListener(what));
        }
        let mut refusals = Vec::new();
        let mut unknown = false;
        let allowed: Vec<(usize, &Listener)> = named
            .into_iter()
            .filter(
                |(_, l)| match self.allows(l, kind, route_ns, gw_object.ns()) {
                    Ok(true) => true,
                    Ok(false) => {
                        refusals.push(format!("listener `{}`", l.name));
                        false
                    }
                    Err(()) => {
                        unknown = true;
                        true
                    }
                },
            )
            .collect();
        if allowed.is_empty() {
            return entry(
                Some(g),
                Vec::new(),
                Attachment::NotAllowedByListeners(refusals.join(", ")),
            );
        }
        let matching: Vec<usize> = allowed
            .iter()
            .filter(|(_, l)| {
                kind == Kind::TCPRoute
                    || route.spec.hostnames.is_empty()
                    || route
                        .spec
                        .hostnames
                        .iter()
                        .any(|h| intersect(l.hostname.as_deref(), h).is_some())
            })
            .map(|(i, _)| *i)
            .collect();
        if matching.is_empty() {
            return entry(Some(g), Vec::new(), Attachment::NoMatchingListenerHostname);
        }
        // A namespace selector that could not be evaluated leaves the outcome unknown; the
        // route is still mapped on the listeners.
        let state = if unknown {
            Attachment::Unknown
        } else {
            Attachment::Accepted
        };
        entry(Some(g), matching, state)
    }

    /// Whether a listener's `allowedRoutes` admits a route of `kind` from `route_ns`; `Err` when
    /// a namespace selector cannot be evaluated (the Namespace object was not read).
    fn allows(&self, l: &Listener, kind: Kind, route_ns: &str, gw_ns: &str) -> Result<bool, ()> {
        let allowed = l.allowed_routes.as_ref();
        let kinds = allowed.map(|a| a.kinds.as_slice()).unwrap_or_default();
        let kind_ok = if kinds.is_empty() {
            protocol_kinds(&l.protocol).contains(&kind)
        } else {
            kinds.iter().any(|k| {
                k.group.as_deref().unwrap_or(crate::gateway::GROUP) == crate::gateway::GROUP
                    && k.kind == kind.as_str()
            })
        };
        if !kind_ok {
            return Ok(false);
        }
        let namespaces = allowed.and_then(|a| a.namespaces.as_ref());
        match namespaces.and_then(|n| n.from.as_deref()).unwrap_or("Same") {
            "All" => Ok(true),
            "Same" => Ok(route_ns == gw_ns),
            "Selector" => {
                let Some(selector) = namespaces.and_then(|n| n.selector.as_ref()) else {
                    return Ok(false);
                };
                match self.get(Kind::Namespace, "", route_ns) {
                    Some(ns) => {
                        let mut labels = ns.metadata().labels.clone().unwrap_or_default();
                        // The API server labels every namespace with its name.
                        labels
                            .entry("kubernetes.io/metadata.name".into())
                            .or_insert_with(|| route_ns.to_owned());
                        Ok(super::selector_matches(selector, &labels))
                    }
                    None => {
                        let mut labels = BTreeMap::new();
                        labels.insert(
                            "kubernetes.io/metadata.name".to_owned(),
                            route_ns.to_owned(),
                        );
                        if super::selector_matches(selector, &labels) {
                            Ok(true)
                        } else if self.scope.complete && self.scope.has(Kind::Namespace) {
                            Ok(false)
                        } else {
                            Err(())
                        }
                    }
                }
            }
            _ => Ok(false),
        }
    }

    /// The routes of one Gateway API route object: one per rule, match, effective hostname and
    /// backendRef (a rule without backends, e.g. a redirect, gives routes without a backend).
    fn routes_of_gateway_route(&self, r: usize) -> Vec<Route> {
        let entry = &self.gateway_routes[r];
        let (o, route) = self.gateway_route(entry);
        let attached: Vec<&ParentEntry> = entry
            .parents
            .iter()
            .filter(|p| matches!(p.attachment, Attachment::Accepted | Attachment::Unknown))
            .collect();
        // A route that no parent takes serves nothing: `route-not-accepted` says so, and the map
        // does not show it. A route whose parents are all meshes is not a gateway route.
        if attached.is_empty() {
            return Vec::new();
        }
        let listeners: Vec<(usize, usize)> = attached
            .iter()
            .filter_map(|p| p.gateway.map(|g| (g, p)))
            .flat_map(|(g, p)| p.listeners.iter().map(move |&l| (g, l)))
            .collect();
        let hosts = self.effective_hostnames(o.kind, route, &listeners);
        let posture = self.gateway_posture(r, &listeners);
        let mut out = Vec::new();
        for (ri, rule) in route.spec.rules.iter().enumerate() {
            let paths = rule_paths(o.kind, rule);
            let backends: Vec<Option<&BackendEntry>> = if rule.backend_refs.is_empty() {
                vec![None]
            } else {
                entry
                    .backends
                    .iter()
                    .filter(|b| b.rule == ri)
                    .map(Some)
                    .collect()
            };
            for host in &hosts {
                for (path, path_type) in &paths {
                    for backend in &backends {
                        out.push(self.gateway_route_row(
                            entry,
                            GatewayRouteRef {
                                route: r,
                                rule: ri,
                                listeners: listeners.clone(),
                            },
                            host.clone(),
                            path.clone(),
                            *path_type,
                            *backend,
                            posture.clone(),
                        ));
                    }
                }
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn gateway_route_row(
        &self,
        entry: &GatewayRouteEntry,
        gateway: GatewayRouteRef,
        host: Option<String>,
        path: Option<String>,
        path_type: PathType,
        backend: Option<&BackendEntry>,
        posture: Posture,
    ) -> Route {
        let (backend_pointer, backend_kind, namespace) = match backend {
            Some(b) => (
                b.check.pointer.clone(),
                if b.target.is_core("Service", "Service") {
                    Backend::Service {
                        name: b.target.name.clone(),
                        port: b.target.port.map(PortRef::Number),
                    }
                } else {
                    Backend::Resource {
                        kind: b.target.kind.clone().unwrap_or_default(),
                        name: b.target.name.clone(),
                    }
                },
                b.check.namespace.clone(),
            ),
            None => (
                format!("/spec/rules/{}", gateway.rule),
                Backend::None,
                self.objects[entry.object].ns().to_owned(),
            ),
        };
        let service = match (&backend_kind, backend.map(|b| &b.check.state)) {
            (Backend::Service { name, .. }, Some(RefState::Found(_) | RefState::PortMissing)) => {
                self.get_index(Kind::Service, &namespace, name)
            }
            _ => None,
        };
        let tls_secret = host.as_deref().and_then(|h| {
            gateway.listeners.iter().find_map(|&(g, l)| {
                let (_, gw) = self.gateway(&self.gateways[g]);
                let listener = gw.spec.listeners.get(l)?;
                let terminates = matches!(listener.protocol.as_str(), "HTTPS" | "TLS");
                let covers = listener
                    .hostname
                    .as_deref()
                    .is_none_or(|lh| intersect(Some(lh), h).is_some());
                (terminates && covers)
                    .then(|| listener.tls.as_ref()?.certificate_refs.first())
                    .flatten()
                    .map(|c| c.name.clone())
            })
        });
        let mut route = self.backend_route(
            entry.object,
            None,
            &namespace,
            host,
            path,
            path_type,
            backend_pointer,
            backend_kind,
            service,
            posture,
        );
        route.tls_secret = tls_secret;
        route.gateway = Some(gateway);
        route
    }

    /// The hostnames a route serves on its listeners: its own, narrowed by the listeners'
    /// (Gateway API hostname intersection), or the listeners' when it names none. `None` in the
    /// list stands for "any host".
    fn effective_hostnames(
        &self,
        kind: Kind,
        route: &GatewayRoute,
        listeners: &[(usize, usize)],
    ) -> Vec<Option<String>> {
        let listener_hosts: Vec<Option<&str>> = if listeners.is_empty() {
            vec![None]
        } else {
            listeners
                .iter()
                .filter_map(|&(g, l)| {
                    let (_, gw) = self.gateway(&self.gateways[g]);
                    gw.spec.listeners.get(l).map(|l| l.hostname.as_deref())
                })
                .collect()
        };
        let mut hosts: Vec<Option<String>> = Vec::new();
        if kind == Kind::TCPRoute || route.spec.hostnames.is_empty() {
            hosts.extend(listener_hosts.iter().map(|h| h.map(str::to_owned)));
        } else {
            for h in &route.spec.hostnames {
                for lh in &listener_hosts {
                    if let Some(i) = intersect(*lh, h) {
                        hosts.push(Some(i));
                    }
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        hosts.retain(|h| seen.insert(h.clone()));
        if hosts.is_empty() {
            hosts.push(None);
        }
        hosts
    }

    /// The access posture of a Gateway API route, from the filters of its rules and the
    /// implementation policies that target it, its Gateway or (Istio) its backends' workloads.
    ///
    /// - auth: an Envoy Gateway `SecurityPolicy` with `basicAuth`, `jwt`, `oidc`, `extAuth` or
    ///   `apiKeyAuth` on the route or its Gateway (a route's policy replaces its Gateway's); an
    ///   Istio `AuthorizationPolicy` with `action: CUSTOM` (external authorization) or an
    ///   `ALLOW` rule that requires `requestPrincipals` or `principals`, on the Gateway (by
    ///   `targetRefs` or the `gateway.networking.k8s.io/gateway-name` pod label), on the
    ///   backends' workloads, their namespace, or the whole mesh (`istio-system`). An
    ///   `ExtensionRef` filter of a kind Tollgate does not read makes auth unknown. Istio's
    ///   `RequestAuthentication` alone does not count: it rejects bad tokens, not missing ones.
    /// - allow-list: a `SecurityPolicy` `authorization` rule on `clientCIDRs` with a `Deny`
    ///   default, or an Istio `ALLOW` rule on `ipBlocks`/`remoteIpBlocks`.
    /// - rate limit: an Envoy Gateway `BackendTrafficPolicy` with `rateLimit` on the route or its
    ///   Gateway; otherwise unknown (other implementations' limits are not read).
    /// - WAF: unknown.
    fn gateway_posture(&self, r: usize, listeners: &[(usize, usize)]) -> Posture {
        let entry = &self.gateway_routes[r];
        let (o, route) = self.gateway_route(entry);
        let gateways: Vec<usize> = {
            let mut g: Vec<usize> = listeners.iter().map(|&(g, _)| g).collect();
            g.dedup();
            g
        };
        let targets = |policy: &crate::object::Object, p: &AccessPolicy, kind: &str, name: &str| {
            p.targets()
                .refs
                .iter()
                .any(|t| t.kind.as_deref() == Some(kind) && t.name == name && policy.ns() == o.ns())
        };
        let mut auth: Option<String> = None;
        let mut allowlist: Option<String> = None;
        let mut unknown_auth = false;
        for rule in &route.spec.rules {
            for f in &rule.filters {
                if f.type_ == "ExtensionRef" {
                    unknown_auth = true;
                }
            }
        }
        // Envoy Gateway: the route's own policy of a kind, or else its Gateways'.
        let policy = |kind: Kind| {
            let find = |pred: &dyn Fn(&crate::object::Object, &AccessPolicy) -> bool| {
                self.of_kind(kind).find_map(|(_, po)| match &po.resource {
                    Resource::AccessPolicy(p) if pred(po, p) => Some(&**p),
                    _ => None,
                })
            };
            find(&|po, p| targets(po, p, o.kind.as_str(), &o.name)).or_else(|| {
                gateways.iter().find_map(|&g| {
                    let gw = &self.objects[self.gateways[g].object];
                    find(&|po, p| {
                        po.ns() == gw.ns()
                            && p.targets()
                                .refs
                                .iter()
                                .any(|t| t.kind.as_deref() == Some("Gateway") && t.name == gw.name)
                    })
                })
            })
        };
        if let Some(p) = policy(Kind::SecurityPolicy) {
            auth = envoy_auth(p);
            allowlist = envoy_allowlist(p);
        }
        let rate_limit = policy(Kind::BackendTrafficPolicy).and_then(envoy_rate_limit);
        // Istio.
        let backend_workloads: Vec<usize> = entry
            .backends
            .iter()
            .filter_map(|b| match b.check.state {
                RefState::Found(s) => Some(s),
                _ => None,
            })
            .flat_map(|s| match &self.objects[s].resource {
                Resource::Service(svc) => self.selected_workloads(self.objects[s].ns(), svc),
                _ => Vec::new(),
            })
            .collect();
        for (_, po) in self.of_kind(Kind::AuthorizationPolicy) {
            let Resource::AccessPolicy(p) = &po.resource else {
                continue;
            };
            let t = p.targets();
            let on_gateway = gateways.iter().any(|&g| {
                let gw = &self.objects[self.gateways[g].object];
                po.ns() == gw.ns()
                    && (t
                        .refs
                        .iter()
                        .any(|r| r.kind.as_deref() == Some("Gateway") && r.name == gw.name)
                        || t.selector
                            .as_ref()
                            .is_some_and(|s| s.get(GATEWAY_NAME_LABEL) == Some(&gw.name)))
            });
            let on_workload = t.refs.is_empty()
                && backend_workloads.iter().any(|&w| {
                    let wo = &self.objects[w];
                    let same_ns = wo.ns() == po.ns() || po.ns() == "istio-system";
                    same_ns
                        && match &t.selector {
                            None => true,
                            Some(sel) => super::pod_labels(wo).is_some_and(|labels| {
                                sel.iter().all(|(k, v)| labels.get(k) == Some(v))
                            }),
                        }
                });
            if !(on_gateway || on_workload) {
                continue;
            }
            if auth.is_none() {
                auth = istio_auth(p).map(|a| format!("{a} (AuthorizationPolicy {})", po.name));
            }
            if allowlist.is_none() {
                allowlist = istio_allowlist(p);
            }
        }
        Posture {
            auth: match auth {
                Some(a) => Control::Yes(a),
                None if unknown_auth => Control::Unknown,
                None => Control::No,
            },
            allowlist: allowlist.map_or(Control::No, Control::Yes),
            rate_limit: rate_limit.map_or(Control::Unknown, Control::Yes),
            waf: Control::Unknown,
        }
    }
}

/// Whether a status entry's parentRef is the same parent as `p`.
fn same_parent(a: &ParentReference, p: &ParentReference, route_ns: &str) -> bool {
    a.name == p.name
        && a.namespace.as_deref().unwrap_or(route_ns) == p.namespace.as_deref().unwrap_or(route_ns)
        && a.section_name == p.section_name
        && a.port == p.port
}

/// The route kinds a listener protocol admits when `allowedRoutes.kinds` is empty.
fn protocol_kinds(protocol: &str) -> &'static [Kind] {
    match protocol {
        "HTTP" | "HTTPS" => &[Kind::HTTPRoute, Kind::GRPCRoute],
        "TLS" => &[Kind::TLSRoute],
        "TCP" => &[Kind::TCPRoute],
        // An implementation's own protocol: do not refuse what it may well admit.
        _ => &[
            Kind::HTTPRoute,
            Kind::GRPCRoute,
            Kind::TLSRoute,
            Kind::TCPRoute,
        ],
    }
}

/// Gateway API hostname intersection of a listener hostname (`None`: any) and a route hostname:
/// the more specific of the two when one covers the other, `None` when they are disjoint. A
/// wildcard `*.example.com` covers any number of labels before `example.com`, not the apex.
#[must_use]
pub fn intersect(listener: Option<&str>, route: &str) -> Option<String> {
    let Some(listener) = listener else {
        return Some(route.to_ascii_lowercase());
    };
    let (l, r) = (listener.to_ascii_lowercase(), route.to_ascii_lowercase());
    if l == r {
        return Some(r);
    }
    let covers = |wild: &str, host: &str| {
        wild.strip_prefix('*')
            .is_some_and(|suffix| host.len() > suffix.len() && host.ends_with(suffix))
    };
    if covers(&l, &r) {
        Some(r)
    } else if covers(&r, &l) {
        Some(l)
    } else {
        None
    }
}

/// The paths of a rule: HTTP path matches (none means prefix `/`), gRPC methods as the HTTP/2
/// path they travel on, and nothing for TLS and TCP routes (`None`: the whole connection).
fn rule_paths(kind: Kind, rule: &crate::gateway::RouteRule) -> Vec<(Option<String>, PathType)> {
    match kind {
        Kind::HTTPRoute => {
            if rule.matches.is_empty() {
                return vec![(Some("/".into()), PathType::Prefix)];
            }
            let mut paths: Vec<(Option<String>, PathType)> = rule
                .matches
                .iter()
                .map(|m| {
                    let p = m.path.as_ref();
                    let value = p
                        .and_then(|p| p.value.clone())
                        .unwrap_or_else(|| "/".into());
                    let t = match p.and_then(|p| p.type_.as_deref()).unwrap_or("PathPrefix") {
                        "Exact" => PathType::Exact,
                        "PathPrefix" => PathType::Prefix,
                        _ => PathType::ImplementationSpecific,
                    };
                    (Some(value), t)
                })
                .collect();
            paths.dedup();
            paths
        }
        Kind::GRPCRoute => {
            if rule.matches.is_empty() {
                return vec![(Some("/".into()), PathType::Prefix)];
            }
            rule.matches
                .iter()
                .map(|m| {
                    let method = m.method.as_ref();
                    let field = |k: &str| {
                        method
                            .and_then(|v| v.get(k))
                            .and_then(serde_json::Value::as_str)
                            .filter(|s| !s.is_empty())
                    };
                    match (field("service"), field("method")) {
                        (Some(s), Some(m)) => (Some(format!("/{s}/{m}")), PathType::Exact),
                        (Some(s), None) => (Some(format!("/{s}/")), PathType::Prefix),
                        _ => (Some("/".into()), PathType::Prefix),
                    }
                })
                .collect()
        }
        _ => vec![(None, PathType::Prefix)],
    }
}

fn spec_has(p: &AccessPolicy, key: &str) -> bool {
    p.spec.get(key).is_some_and(|v| !v.is_null())
}

fn envoy_auth(p: &AccessPolicy) -> Option<String> {
    let kinds: Vec<&str> = [
        ("basicAuth", "basic"),
        ("jwt", "jwt"),
        ("oidc", "oidc"),
        ("extAuth", "external"),
        ("apiKeyAuth", "api-key"),
    ]
    .into_iter()
    .filter(|(k, _)| spec_has(p, k))
    .map(|(_, d)| d)
    .collect();
    (!kinds.is_empty()).then(|| format!("{} (SecurityPolicy {})", kinds.join("+"), name_of(p)))
}

/// `10/s per client (BackendTrafficPolicy x)` from the first limit of `rateLimit`.
fn envoy_rate_limit(p: &AccessPolicy) -> Option<String> {
    let rl = p.spec.get("rateLimit")?;
    let kind = rl
        .get("type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("Global");
    let rule = rl
        .pointer("/global/rules/0")
        .or_else(|| rl.pointer("/local/rules/0"))?;
    let requests = rule.pointer("/limit/requests")?.as_u64()?;
    let unit = rule
        .pointer("/limit/unit")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("Second");
    let unit = match unit {
        "Second" => "s",
        "Minute" => "min",
        "Hour" => "h",
        other => other,
    };
    // A local limit counts per proxy replica; a global one across them (Envoy Gateway's
    // rate-limit service).
    let scope = match (
        rule.get("clientSelectors")
            .and_then(serde_json::Value::as_array),
        kind,
    ) {
        (Some(s), _) if !s.is_empty() => " per client",
        (_, "Local") => " per proxy",
        _ => "",
    };
    Some(format!(
        "{requests}/{unit}{scope} (BackendTrafficPolicy {})",
        name_of(p)
    ))
}

fn envoy_allowlist(p: &AccessPolicy) -> Option<String> {
    let authz = p.spec.get("authorization")?;
    let deny_default = authz
        .get("defaultAction")
        .and_then(serde_json::Value::as_str)
        == Some("Deny");
    if !deny_default {
        return None;
    }
    let allows: Vec<&serde_json::Value> = authz
        .get("rules")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| r.get("action").and_then(serde_json::Value::as_str) == Some("Allow"))
        .collect();
    // Nothing allowed: the route is closed to everyone (`tollgate migrate` writes this for an
    // authentication it cannot translate), which restricts sources more than any list.
    if allows.is_empty() {
        return Some("deny all".to_owned());
    }
    let cidrs: Vec<&str> = allows
        .into_iter()
        .filter_map(|r| r.pointer("/principal/clientCIDRs")?.as_array())
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .collect();
    (!cidrs.is_empty()).then(|| cidrs.join(","))
}

fn istio_rules(p: &AccessPolicy) -> impl Iterator<Item = &serde_json::Value> {
    p.spec
        .get("rules")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
}

fn istio_action(p: &AccessPolicy) -> &str {
    p.spec
        .get("action")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("ALLOW")
}

fn istio_auth(p: &AccessPolicy) -> Option<&'static str> {
    match istio_action(p) {
        "CUSTOM" => Some("external"),
        "ALLOW" => {
            let requires = istio_rules(p).any(|r| {
                r.get("from")
                    .and_then(serde_json::Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|f| {
                        ["requestPrincipals", "principals"].iter().any(|k| {
                            f.pointer(&format!("/source/{k}"))
                                .and_then(serde_json::Value::as_array)
                                .is_some_and(|a| !a.is_empty())
                        })
                    })
            });
            requires.then_some("principal required")
        }
        _ => None,
    }
}

fn istio_allowlist(p: &AccessPolicy) -> Option<String> {
    if istio_action(p) != "ALLOW" {
        return None;
    }
    let blocks: Vec<&str> = istio_rules(p)
        .filter_map(|r| r.get("from")?.as_array())
        .flatten()
        .flat_map(|f| {
            ["ipBlocks", "remoteIpBlocks"]
                .into_iter()
                .filter_map(move |k| f.pointer(&format!("/source/{k}"))?.as_array())
                .flatten()
        })
        .filter_map(serde_json::Value::as_str)
        .collect();
    (!blocks.is_empty()).then(|| blocks.join(","))
}

fn name_of(p: &AccessPolicy) -> &str {
    p.metadata.name.as_deref().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::intersect;
    use crate::inventory::{Control, Inventory};
    use crate::manifest::Manifests;

    fn inventory(text: &str) -> Inventory {
        let mut m = Manifests::default();
        m.add_text("gw.yaml", text.to_owned());
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        Inventory::build(m.objects, m.sources, None)
    }

    const ESTATE: &str = "
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: edge}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{name: edge}]
  hostnames: [api.example.com]
  rules: [{backendRefs: [{name: api, port: 80}]}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: edge-oidc, namespace: shop}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: edge}]
  oidc: {provider: {issuer: https://idp.example.com}, clientID: shop}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: SecurityPolicy
metadata: {name: api-cidrs, namespace: shop}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: api}]
  authorization:
    defaultAction: Deny
    rules: [{action: Allow, principal: {clientCIDRs: [10.0.0.0/8]}}]
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: edge-limit, namespace: shop}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: edge}]
  rateLimit:
    type: Global
    global:
      rules: [{clientSelectors: [{sourceCIDR: {type: Distinct, value: 0.0.0.0/0}}], limit: {requests: 20, unit: Minute}}]
";

    #[test]
    fn a_routes_own_policy_replaces_its_gateways_and_rate_limits_are_read() {
        let inv = inventory(ESTATE);
        let posture = |name: &str| {
            let r = inv
                .routes
                .iter()
                .find(|r| inv.objects[r.object].name == name)
                .unwrap();
            r.posture.clone()
        };
        let web = posture("web");
        assert_eq!(
            web.auth,
            Control::Yes("oidc (SecurityPolicy edge-oidc)".into())
        );
        assert_eq!(web.allowlist, Control::No);
        assert_eq!(
            web.rate_limit,
            Control::Yes("20/min per client (BackendTrafficPolicy edge-limit)".into())
        );
        assert_eq!(web.waf, Control::Unknown);
        // Envoy Gateway merges nothing: the route's SecurityPolicy is the one in force, and it
        // holds an allow-list but no authentication.
        let api = posture("api");
        assert_eq!(api.auth, Control::No);
        assert_eq!(api.allowlist, Control::Yes("10.0.0.0/8".into()));
        // A Deny default with nothing allowed closes the route to every source.
        let closed = inventory(&ESTATE.replace(
            "rules: [{action: Allow, principal: {clientCIDRs: [10.0.0.0/8]}}]",
            "rules: []",
        ));
        let r = closed
            .routes
            .iter()
            .find(|r| closed.objects[r.object].name == "api")
            .unwrap();
        assert_eq!(r.posture.allowlist, Control::Yes("deny all".into()));
    }

    #[test]
    fn istio_policies_on_the_gateway_pods_count_and_request_authentication_alone_does_not() {
        let istio = ESTATE.split("---").take(3).collect::<Vec<_>>().join("---")
            + "
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  selector: {matchLabels: {gateway.networking.k8s.io/gateway-name: edge}}
  jwtRules: [{issuer: https://idp.example.com}]
";
        let inv = inventory(&istio);
        assert!(inv.routes.iter().all(|r| r.posture.auth == Control::No));
        let inv = inventory(
            &(istio
                + "
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-jwt, namespace: shop}
spec:
  selector: {matchLabels: {gateway.networking.k8s.io/gateway-name: edge}}
  action: ALLOW
  rules: [{from: [{source: {requestPrincipals: ['*']}}]}]
"),
        );
        assert!(inv.routes.iter().all(|r| r.posture.auth
            == Control::Yes("principal required (AuthorizationPolicy require-jwt)".into())));
    }

    #[test]
    fn hostnames_intersect_as_the_gateway_api_says() {
        assert_eq!(
            intersect(None, "a.example.com").as_deref(),
            Some("a.example.com")
        );
        assert_eq!(
            intersect(Some("*.example.com"), "a.b.example.com").as_deref(),
            Some("a.b.example.com")
        );
        assert_eq!(intersect(Some("*.example.com"), "example.com"), None);
        assert_eq!(
            intersect(Some("shop.example.com"), "*.example.com").as_deref(),
            Some("shop.example.com")
        );
        assert_eq!(intersect(Some("a.example.com"), "b.example.com"), None);
        assert_eq!(
            intersect(Some("*.example.com"), "*.example.com").as_deref(),
            Some("*.example.com")
        );
    }
}
