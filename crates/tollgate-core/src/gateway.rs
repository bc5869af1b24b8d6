//! Gateway API objects (`gateway.networking.k8s.io`) and the auth policies of the implementations
//! that attach to them, as small serde types of Tollgate's own.
//!
//! The `gateway-api` crate is built on another kube major version than Tollgate (see
//! `research/rust-ecosystem.md`), so these types hold the fields Tollgate reads and no more;
//! whatever else an object carries is kept in `rest` maps, so an object read and written back
//! (`tollgate migrate` writes these types) loses nothing. Every field is optional or defaulted:
//! the API server's defaults are applied by the accessors, not by serde, so that a manifest that
//! leaves a field out reads the way the cluster would store it.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The Gateway API group.
pub const GROUP: &str = "gateway.networking.k8s.io";

/// `GatewayClass`: which controller implements the Gateways that name it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct GatewayClass {
    /// The object's metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The class.
    #[serde(default)]
    pub spec: GatewayClassSpec,
    /// What the controller reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// `GatewayClass.spec`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayClassSpec {
    /// The implementation, e.g. `gateway.envoyproxy.io/gatewayclass-controller`.
    #[serde(default)]
    pub controller_name: String,
    /// Everything else.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `Gateway`: listeners on addresses, which routes attach to.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Gateway {
    /// The object's metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The Gateway.
    #[serde(default)]
    pub spec: GatewaySpec,
    /// What the controller reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<GatewayStatus>,
}

/// `Gateway.spec`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewaySpec {
    /// The GatewayClass.
    #[serde(default)]
    pub gateway_class_name: String,
    /// The listeners.
    #[serde(default)]
    pub listeners: Vec<Listener>,
    /// Requested addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<GatewayAddress>,
    /// Everything else (`infrastructure`, …).
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// An address of a Gateway.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct GatewayAddress {
    /// `IPAddress` (default), `Hostname` or an implementation's type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// The address.
    #[serde(default)]
    pub value: String,
}

/// `Gateway.status`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct GatewayStatus {
    /// Addresses the Gateway was given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<GatewayAddress>,
    /// `Accepted`, `Programmed`, …
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Everything else (per-listener status).
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// A listener: a port, a protocol, optionally a hostname, TLS, and which routes may attach.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    /// Unique within the Gateway; what `sectionName` names.
    #[serde(default)]
    pub name: String,
    /// The hostname it serves (may start with `*.`); absent serves every hostname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The port.
    #[serde(default)]
    pub port: i32,
    /// `HTTP`, `HTTPS`, `TLS`, `TCP`, `UDP` or an implementation's protocol.
    #[serde(default)]
    pub protocol: String,
    /// TLS settings for `HTTPS` and `TLS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ListenerTls>,
    /// Which routes may attach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_routes: Option<AllowedRoutes>,
}

/// `listeners[].tls`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerTls {
    /// `Terminate` (default) or `Passthrough`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The certificates, Secrets by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificate_refs: Vec<ObjectReference>,
    /// Everything else (`options`, `frontendValidation`).
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl ListenerTls {
    /// Whether TLS is passed through to the backend rather than terminated at the Gateway.
    #[must_use]
    pub fn passthrough(&self) -> bool {
        self.mode.as_deref() == Some("Passthrough")
    }
}

/// `listeners[].allowedRoutes`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AllowedRoutes {
    /// From which namespaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<RouteNamespaces>,
    /// Which route kinds; empty allows the kinds the protocol supports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<GroupKind>,
}

/// `allowedRoutes.namespaces`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RouteNamespaces {
    /// `Same` (default), `All` or `Selector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The namespace selector for `Selector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
}

/// A group and kind (`allowedRoutes.kinds`, ReferenceGrant `to`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct GroupKind {
    /// The group; `gateway.networking.k8s.io` when absent in `allowedRoutes.kinds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The kind.
    #[serde(default)]
    pub kind: String,
}

/// A reference to an object: `certificateRefs`, `backendRefs`, `extensionRef`, policy targets.
/// Group, kind and namespace default by context (a Secret, a Service, the referrer's namespace).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// The group; `""` is the core group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: String,
    /// The namespace, when it differs from the referrer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The port (`backendRefs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// A listener (policy `targetRefs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

impl ObjectReference {
    /// Whether the reference names a core-group object of `kind` when group and kind default to
    /// the core group and `default_kind`.
    #[must_use]
    pub fn is_core(&self, kind: &str, default_kind: &str) -> bool {
        self.group.as_deref().unwrap_or("").is_empty()
            && self.kind.as_deref().unwrap_or(default_kind) == kind
    }
}

/// A route's `parentRefs` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentReference {
    /// The group; Gateway API's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The kind; `Gateway` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The namespace; the route's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The Gateway's name.
    #[serde(default)]
    pub name: String,
    /// A listener name; absent attaches to every listener that allows the route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    /// A listener port; absent attaches to every port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
}

impl ParentReference {
    /// Whether this names a Gateway (rather than a Service, for mesh routing, or another kind).
    #[must_use]
    pub fn is_gateway(&self) -> bool {
        self.group.as_deref().unwrap_or(GROUP) == GROUP
            && self.kind.as_deref().unwrap_or("Gateway") == "Gateway"
    }
}

/// A Gateway API route of any kind: HTTPRoute, GRPCRoute, TLSRoute or TCPRoute. The kinds share
/// parents, hostnames (not TCPRoute) and rules with backendRefs; HTTP and gRPC rules add matches
/// and filters.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct GatewayRoute {
    /// The object's metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The route.
    #[serde(default)]
    pub spec: RouteSpec,
    /// What each parent's controller reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RouteStatus>,
}

/// `spec` of a route.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteSpec {
    /// The Gateways (and listeners) it attaches to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parent_refs: Vec<ParentReference>,
    /// The hostnames it serves; empty takes the listeners'.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// The rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RouteRule>,
}

/// One rule of a route.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteRule {
    /// Optional rule name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What requests the rule takes (HTTP, gRPC); empty takes every request (HTTP: prefix `/`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<RouteMatch>,
    /// Filters applied to every request the rule takes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<RouteFilter>,
    /// Where requests go.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backend_refs: Vec<BackendRef>,
    /// Everything else (`timeouts`, `retry`, `sessionPersistence`).
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// A match: HTTP path, headers, query and method, or a gRPC service and method.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteMatch {
    /// HTTP path match; `PathPrefix` `/` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathMatch>,
    /// gRPC method match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Value>,
    /// Header matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<Value>,
    /// Query parameter matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_params: Vec<Value>,
}

/// `matches[].path`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct PathMatch {
    /// `Exact`, `PathPrefix` (default) or `RegularExpression`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// The path; `/` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A filter: header changes, redirect, rewrite, mirror, CORS, or an implementation's extension.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteFilter {
    /// `RequestHeaderModifier`, `RequestRedirect`, `URLRewrite`, `ExtensionRef`, …
    #[serde(rename = "type", default)]
    pub type_: String,
    /// The extension object for `ExtensionRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_ref: Option<ObjectReference>,
    /// The redirect for `RequestRedirect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_redirect: Option<RequestRedirect>,
    /// Everything else (the other filters' settings).
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// `filters[].requestRedirect`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRedirect {
    /// `http` or `https`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Status code (302 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i32>,
    /// Everything else (hostname, port, path).
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// A `backendRefs` entry: a Service (by default) and port, with a weight.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct BackendRef {
    /// The referenced object.
    #[serde(flatten)]
    pub target: ObjectReference,
    /// Share of the rule's traffic (1 by default; 0 sends none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i32>,
    /// Filters for this backend only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<RouteFilter>,
}

/// `status` of a route: one entry per parent, per controller.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RouteStatus {
    /// Per parent.
    #[serde(default)]
    pub parents: Vec<RouteParentStatus>,
}

/// `status.parents[]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteParentStatus {
    /// Which parent.
    #[serde(default)]
    pub parent_ref: ParentReference,
    /// Which controller wrote it.
    #[serde(default)]
    pub controller_name: String,
    /// `Accepted`, `ResolvedRefs`, …
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// A status with conditions only.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Status {
    /// Conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// A `metav1.Condition`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Condition {
    /// `Accepted`, `Programmed`, `ResolvedRefs`, …
    #[serde(rename = "type", default)]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    #[serde(default)]
    pub status: String,
    /// Machine reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `ReferenceGrant`: lets objects of some kinds in other namespaces refer to objects here.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ReferenceGrant {
    /// The object's metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The grant.
    #[serde(default)]
    pub spec: ReferenceGrantSpec,
}

/// `ReferenceGrant.spec`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ReferenceGrantSpec {
    /// Who may refer: group, kind and namespace.
    #[serde(default)]
    pub from: Vec<GrantFrom>,
    /// To what here: group, kind and optionally a name.
    #[serde(default)]
    pub to: Vec<GrantTo>,
}

/// `ReferenceGrant.spec.from[]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct GrantFrom {
    /// Group of the referrer.
    #[serde(default)]
    pub group: String,
    /// Kind of the referrer.
    #[serde(default)]
    pub kind: String,
    /// Namespace of the referrer.
    #[serde(default)]
    pub namespace: String,
}

/// `ReferenceGrant.spec.to[]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct GrantTo {
    /// Group of the target (`""` for core).
    #[serde(default)]
    pub group: String,
    /// Kind of the target.
    #[serde(default)]
    pub kind: String,
    /// One name only, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl ReferenceGrant {
    /// Whether the grant lets a `from_kind` in `from_namespace` refer to the core-or-`to_group`
    /// object `to_kind`/`to_name` in the grant's namespace.
    #[must_use]
    pub fn permits(
        &self,
        from_kind: &str,
        from_namespace: &str,
        to_group: &str,
        to_kind: &str,
        to_name: &str,
    ) -> bool {
        let from = self
            .spec
            .from
            .iter()
            .any(|f| f.group == GROUP && f.kind == from_kind && f.namespace == from_namespace);
        let to = self.spec.to.iter().any(|t| {
            t.group == to_group
                && t.kind == to_kind
                && t.name.as_deref().is_none_or(|n| n == to_name)
        });
        from && to
    }
}

/// An implementation's access policy that attaches to Gateways, routes or workloads: Envoy
/// Gateway's `SecurityPolicy`, Istio's `AuthorizationPolicy` and `RequestAuthentication`.
/// They differ in shape; Tollgate reads who they target and whether they require a caller to
/// authenticate or to come from an allowed address.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AccessPolicy {
    /// The object's metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The policy, kept whole: the kinds read different fields.
    #[serde(default)]
    pub spec: Map<String, Value>,
}

/// Whom an [`AccessPolicy`] applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyTargets {
    /// `targetRef`/`targetRefs` (kind and name, in the policy's namespace).
    pub refs: Vec<ObjectReference>,
    /// Istio `selector.matchLabels`: workloads in the policy's namespace.
    pub selector: Option<BTreeMap<String, String>>,
}

impl AccessPolicy {
    /// The targets of the policy: `targetRefs`, the older `targetRef`, and Istio's `selector`.
    #[must_use]
    pub fn targets(&self) -> PolicyTargets {
        let mut refs: Vec<ObjectReference> = Vec::new();
        if let Some(list) = self.spec.get("targetRefs").and_then(Value::as_array) {
            refs.extend(
                list.iter()
                    .filter_map(|v| serde_json::from_value(v.clone()).ok()),
            );
        }
        if let Some(one) = self.spec.get("targetRef") {
            refs.extend(serde_json::from_value::<ObjectReference>(one.clone()).ok());
        }
        let selector = self
            .spec
            .get("selector")
            .and_then(|s| s.get("matchLabels"))
            .and_then(|m| serde_json::from_value(m.clone()).ok());
        PolicyTargets { refs, selector }
    }
}
