//! Kubernetes objects as Tollgate holds them: a kind Tollgate knows, a typed body, and where the
//! object came from (a file and document, or a cluster).
//!
//! Objects of any source go through [`Object::from_value`], so a manifest on disk and the same
//! object listed from an API server become the same thing, and the rules cannot tell them apart.
//! Secrets are reduced at this boundary to their type, key names and public certificate: their
//! data never enters the rest of the program.

use std::collections::BTreeSet;
use std::fmt;

use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Endpoints, Namespace, Pod, PodSpec, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass, NetworkPolicy};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::gateway::{AccessPolicy, Gateway, GatewayClass, GatewayRoute, ReferenceGrant};

/// The kinds Tollgate reads. Any other kind in the input is skipped without comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[allow(missing_docs)]
pub enum Kind {
    Ingress,
    IngressClass,
    Service,
    EndpointSlice,
    Endpoints,
    Secret,
    NetworkPolicy,
    ConfigMap,
    Deployment,
    StatefulSet,
    DaemonSet,
    Pod,
    Role,
    ClusterRole,
    RoleBinding,
    ClusterRoleBinding,
    ValidatingWebhookConfiguration,
    Namespace,
    /// cert-manager's `Certificate` (`cert-manager.io/v1`), a custom resource.
    Certificate,
    /// Gateway API `GatewayClass`.
    GatewayClass,
    /// Gateway API `Gateway`.
    Gateway,
    /// Gateway API `HTTPRoute`.
    HTTPRoute,
    /// Gateway API `GRPCRoute`.
    GRPCRoute,
    /// Gateway API `TLSRoute` (experimental channel).
    TLSRoute,
    /// Gateway API `TCPRoute` (experimental channel).
    TCPRoute,
    /// Gateway API `ReferenceGrant`.
    ReferenceGrant,
    /// Envoy Gateway's `SecurityPolicy` (`gateway.envoyproxy.io`).
    SecurityPolicy,
    /// Envoy Gateway's `BackendTrafficPolicy` (`gateway.envoyproxy.io`): rate limits.
    BackendTrafficPolicy,
    /// Istio's `AuthorizationPolicy` (`security.istio.io`).
    AuthorizationPolicy,
    /// Istio's `RequestAuthentication` (`security.istio.io`).
    RequestAuthentication,
}

/// Where a kind is served from an API server: group, version, plural, and whether it is namespaced.
#[derive(Debug, Clone, Copy)]
pub struct ApiPath {
    /// API group; empty for the core group.
    pub group: &'static str,
    /// The version Tollgate lists.
    pub version: &'static str,
    /// Resource plural as in the URL.
    pub plural: &'static str,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
}

impl Kind {
    /// Every kind, in the order reports list them.
    pub const ALL: [Kind; 30] = [
        Kind::Ingress,
        Kind::IngressClass,
        Kind::Service,
        Kind::EndpointSlice,
        Kind::Endpoints,
        Kind::Secret,
        Kind::NetworkPolicy,
        Kind::ConfigMap,
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::DaemonSet,
        Kind::Pod,
        Kind::Role,
        Kind::ClusterRole,
        Kind::RoleBinding,
        Kind::ClusterRoleBinding,
        Kind::ValidatingWebhookConfiguration,
        Kind::Namespace,
        Kind::Certificate,
        Kind::GatewayClass,
        Kind::Gateway,
        Kind::HTTPRoute,
        Kind::GRPCRoute,
        Kind::TLSRoute,
        Kind::TCPRoute,
        Kind::ReferenceGrant,
        Kind::SecurityPolicy,
        Kind::BackendTrafficPolicy,
        Kind::AuthorizationPolicy,
        Kind::RequestAuthentication,
    ];

    /// The `kind` string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.api().plural_kind
    }

    /// How to list this kind from an API server.
    #[must_use]
    pub fn api_path(self) -> ApiPath {
        let a = self.api();
        ApiPath {
            group: a.group,
            version: a.version,
            plural: a.plural,
            namespaced: a.namespaced,
        }
    }

    /// The `apiVersion` Tollgate lists and writes for this kind.
    #[must_use]
    pub fn api_version(self) -> String {
        let a = self.api();
        if a.group.is_empty() {
            a.version.to_owned()
        } else {
            format!("{}/{}", a.group, a.version)
        }
    }

    /// Whether the kind is a custom resource of an add-on (cert-manager, the Gateway API CRDs, an
    /// implementation's policies): a server that does not serve it simply does not have the
    /// add-on, which is no gap in what Tollgate sees.
    #[must_use]
    pub fn add_on(self) -> bool {
        matches!(self, Kind::Certificate) || self.gateway_api() || self.access_policy()
    }

    /// Whether the kind belongs to the Gateway API (`gateway.networking.k8s.io`).
    #[must_use]
    pub fn gateway_api(self) -> bool {
        matches!(
            self,
            Kind::GatewayClass
                | Kind::Gateway
                | Kind::HTTPRoute
                | Kind::GRPCRoute
                | Kind::TLSRoute
                | Kind::TCPRoute
                | Kind::ReferenceGrant
        )
    }

    /// Whether the kind is a Gateway API route.
    #[must_use]
    pub fn gateway_route(self) -> bool {
        matches!(
            self,
            Kind::HTTPRoute | Kind::GRPCRoute | Kind::TLSRoute | Kind::TCPRoute
        )
    }

    /// Whether the kind is an implementation's access policy (see [`crate::gateway::AccessPolicy`]).
    #[must_use]
    pub fn access_policy(self) -> bool {
        matches!(
            self,
            Kind::SecurityPolicy
                | Kind::BackendTrafficPolicy
                | Kind::AuthorizationPolicy
                | Kind::RequestAuthentication
        )
    }

    /// Whether objects of this kind live in a namespace.
    #[must_use]
    pub fn namespaced(self) -> bool {
        self.api().namespaced
    }

    /// Recognises `apiVersion` + `kind`. Removed Ingress API versions are recognised too, so that
    /// `deprecated-ingress-api` can report them.
    #[must_use]
    pub fn from_type(api_version: &str, kind: &str) -> Option<Kind> {
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        let k = Kind::ALL.into_iter().find(|k| k.as_str() == kind)?;
        let ok = match k {
            Kind::Ingress => matches!(group, "networking.k8s.io" | "extensions"),
            Kind::Deployment | Kind::DaemonSet | Kind::StatefulSet => {
                matches!(group, "apps" | "extensions")
            }
            // Gateway API kinds move from alpha to beta to v1 and clusters serve several versions
            // at once; the fields Tollgate reads are the same in each. So are Istio's v1beta1
            // and v1.
            other => group == other.api().group,
        };
        ok.then_some(k)
    }

    fn api(self) -> KindApi {
        let (group, version, plural, namespaced, kind) = match self {
            Kind::Ingress => ("networking.k8s.io", "v1", "ingresses", true, "Ingress"),
            Kind::IngressClass => (
                "networking.k8s.io",
                "v1",
                "ingressclasses",
                false,
                "IngressClass",
            ),
            Kind::Service => ("", "v1", "services", true, "Service"),
            Kind::EndpointSlice => (
                "discovery.k8s.io",
                "v1",
                "endpointslices",
                true,
                "EndpointSlice",
            ),
            Kind::Endpoints => ("", "v1", "endpoints", true, "Endpoints"),
            Kind::Secret => ("", "v1", "secrets", true, "Secret"),
            Kind::NetworkPolicy => (
                "networking.k8s.io",
                "v1",
                "networkpolicies",
                true,
                "NetworkPolicy",
            ),
            Kind::ConfigMap => ("", "v1", "configmaps", true, "ConfigMap"),
            Kind::Deployment => ("apps", "v1", "deployments", true, "Deployment"),
            Kind::StatefulSet => ("apps", "v1", "statefulsets", true, "StatefulSet"),
            Kind::DaemonSet => ("apps", "v1", "daemonsets", true, "DaemonSet"),
            Kind::Pod => ("", "v1", "pods", true, "Pod"),
            Kind::Role => ("rbac.authorization.k8s.io", "v1", "roles", true, "Role"),
            Kind::ClusterRole => (
                "rbac.authorization.k8s.io",
                "v1",
                "clusterroles",
                false,
                "ClusterRole",
            ),
            Kind::RoleBinding => (
                "rbac.authorization.k8s.io",
                "v1",
                "rolebindings",
                true,
                "RoleBinding",
            ),
            Kind::ClusterRoleBinding => (
                "rbac.authorization.k8s.io",
                "v1",
                "clusterrolebindings",
                false,
                "ClusterRoleBinding",
            ),
            Kind::ValidatingWebhookConfiguration => (
                "admissionregistration.k8s.io",
                "v1",
                "validatingwebhookconfigurations",
                false,
                "ValidatingWebhookConfiguration",
            ),
            Kind::Namespace => ("", "v1", "namespaces", false, "Namespace"),
            Kind::Certificate => ("cert-manager.io", "v1", "certificates", true, "Certificate"),
            Kind::GatewayClass => (GW, "v1", "gatewayclasses", false, "GatewayClass"),
            Kind::Gateway => (GW, "v1", "gateways", true, "Gateway"),
            Kind::HTTPRoute => (GW, "v1", "httproutes", true, "HTTPRoute"),
            Kind::GRPCRoute => (GW, "v1", "grpcroutes", true, "GRPCRoute"),
            Kind::TLSRoute => (GW, "v1alpha2", "tlsroutes", true, "TLSRoute"),
            Kind::TCPRoute => (GW, "v1alpha2", "tcproutes", true, "TCPRoute"),
            Kind::ReferenceGrant => (GW, "v1beta1", "referencegrants", true, "ReferenceGrant"),
            Kind::SecurityPolicy => (
                "gateway.envoyproxy.io",
                "v1alpha1",
                "securitypolicies",
                true,
                "SecurityPolicy",
            ),
            Kind::BackendTrafficPolicy => (
                "gateway.envoyproxy.io",
                "v1alpha1",
                "backendtrafficpolicies",
                true,
                "BackendTrafficPolicy",
            ),
            Kind::AuthorizationPolicy => (
                "security.istio.io",
                "v1",
                "authorizationpolicies",
                true,
                "AuthorizationPolicy",
            ),
            Kind::RequestAuthentication => (
                "security.istio.io",
                "v1",
                "requestauthentications",
                true,
                "RequestAuthentication",
            ),
        };
        KindApi {
            group,
            version,
            plural,
            namespaced,
            plural_kind: kind,
        }
    }
}

const GW: &str = crate::gateway::GROUP;

struct KindApi {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    namespaced: bool,
    plural_kind: &'static str,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is left of a Secret once its data is dropped: enough to judge it, nothing to leak.
#[derive(Debug, Clone, Default)]
pub struct SecretInfo {
    /// The Secret's metadata.
    pub metadata: ObjectMeta,
    /// `type`, e.g. `kubernetes.io/tls`; `Opaque` when absent, as the API server defaults it.
    pub type_: String,
    /// Names of the keys in `data` and `stringData`.
    pub keys: BTreeSet<String>,
    /// What `tls.crt` holds, analysed when the Secret is read (with `ca.crt`, and `tls.key`
    /// checked against the leaf). The private key itself is never kept.
    pub tls: Option<Box<crate::cert::Chain>>,
    /// Pointer to `tls.crt` in the object as written (`/data/tls.crt` or `/stringData/tls.crt`).
    pub tls_crt_pointer: Option<String>,
}

/// An object's typed body. Large types are boxed so the enum stays small.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub enum Resource {
    Ingress(Box<Ingress>),
    IngressClass(Box<IngressClass>),
    Service(Box<Service>),
    EndpointSlice(Box<EndpointSlice>),
    Endpoints(Box<Endpoints>),
    Secret(Box<SecretInfo>),
    NetworkPolicy(Box<NetworkPolicy>),
    ConfigMap(Box<ConfigMap>),
    Deployment(Box<Deployment>),
    StatefulSet(Box<StatefulSet>),
    DaemonSet(Box<DaemonSet>),
    Pod(Box<Pod>),
    Role(Box<Role>),
    ClusterRole(Box<ClusterRole>),
    RoleBinding(Box<RoleBinding>),
    ClusterRoleBinding(Box<ClusterRoleBinding>),
    ValidatingWebhookConfiguration(Box<ValidatingWebhookConfiguration>),
    Namespace(Box<Namespace>),
    Certificate(Box<CertManagerCertificate>),
    GatewayClass(Box<GatewayClass>),
    Gateway(Box<Gateway>),
    /// HTTPRoute, GRPCRoute, TLSRoute and TCPRoute: the object's kind tells which.
    GatewayRoute(Box<GatewayRoute>),
    ReferenceGrant(Box<ReferenceGrant>),
    /// SecurityPolicy, BackendTrafficPolicy, AuthorizationPolicy and RequestAuthentication.
    AccessPolicy(Box<AccessPolicy>),
}

/// The fields of a cert-manager `Certificate` that Tollgate reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CertManagerCertificate {
    /// The object's metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The desired certificate.
    #[serde(default)]
    pub spec: CertManagerCertificateSpec,
    /// What cert-manager observed; absent in manifests.
    #[serde(default)]
    pub status: Option<CertManagerCertificateStatus>,
}

/// `Certificate.spec`, the fields Tollgate reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertManagerCertificateSpec {
    /// The Secret the certificate is written to.
    #[serde(default)]
    pub secret_name: String,
    /// DNS names requested.
    #[serde(default)]
    pub dns_names: Vec<String>,
    /// The issuer.
    #[serde(default)]
    pub issuer_ref: Option<CertManagerIssuerRef>,
}

/// `Certificate.spec.issuerRef`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CertManagerIssuerRef {
    /// Issuer name.
    #[serde(default)]
    pub name: String,
    /// `Issuer` (default) or `ClusterIssuer`.
    #[serde(default)]
    pub kind: Option<String>,
}

/// `Certificate.status`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertManagerCertificateStatus {
    /// Conditions, `Ready` among them.
    #[serde(default)]
    pub conditions: Vec<CertManagerCondition>,
    /// End of the issued certificate's validity.
    #[serde(default)]
    pub not_after: Option<String>,
    /// When cert-manager will renew it.
    #[serde(default)]
    pub renewal_time: Option<String>,
}

/// A condition of a cert-manager resource.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CertManagerCondition {
    /// `Ready`, `Issuing`, …
    #[serde(rename = "type", default)]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    #[serde(default)]
    pub status: String,
    /// Machine reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// Human message.
    #[serde(default)]
    pub message: Option<String>,
}

impl CertManagerCertificate {
    /// The `Ready` condition when it is not `True`: (status, reason, message).
    #[must_use]
    pub fn not_ready(&self) -> Option<&CertManagerCondition> {
        self.status
            .as_ref()?
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .filter(|c| c.status != "True")
    }
}

/// A reference to an object as reports print it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    /// `apiVersion` as written in the input.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace, absent for cluster-scoped objects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Where a document sits in its source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentSpan {
    /// Byte offset of the document's text in the file.
    pub offset: usize,
    /// Length of the document's text in bytes.
    pub len: usize,
    /// 1-based line on which the document starts.
    pub first_line: usize,
}

/// Where an object came from when it came from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Index of the file in [`crate::manifest::Sources`].
    pub source: usize,
    /// The document holding the object.
    pub document: DocumentSpan,
    /// Pointer from the document root to the object (`/items/3` inside a `List`; empty otherwise).
    pub prefix: String,
}

/// One Kubernetes object of a kind Tollgate reads.
#[derive(Debug, Clone)]
pub struct Object {
    /// Which kind.
    pub kind: Kind,
    /// `apiVersion` as written (it matters for `deprecated-ingress-api`).
    pub api_version: String,
    /// `metadata.name`.
    pub name: String,
    /// The namespace for namespaced kinds, `default` when the input named none.
    pub namespace: Option<String>,
    /// Whether the input named the namespace (a manifest often leaves it to `kubectl -n`).
    pub namespace_explicit: bool,
    /// The typed body.
    pub resource: Resource,
    /// The file position, for objects read from files.
    pub origin: Option<Origin>,
}

/// Why an object could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ObjectError {
    /// What is wrong.
    pub message: String,
    /// Pointer to the field at fault, relative to the object.
    pub pointer: String,
}

impl Object {
    /// Builds an object from its JSON form. `Ok(None)` means "not a kind Tollgate reads".
    ///
    /// # Errors
    /// When `apiVersion`/`kind` are recognised but the body does not fit the kind's schema
    /// (a field of the wrong type, a required field missing), naming the field.
    pub fn from_value(
        mut value: Value,
        origin: Option<Origin>,
    ) -> Result<Option<Object>, ObjectError> {
        let (Some(api_version), Some(kind_str)) = (
            value.get("apiVersion").and_then(Value::as_str),
            value.get("kind").and_then(Value::as_str),
        ) else {
            return Ok(None);
        };
        let Some(kind) = Kind::from_type(api_version, kind_str) else {
            return Ok(None);
        };
        let api_version = api_version.to_owned();
        let legacy_ingress = kind == Kind::Ingress && api_version != "networking.k8s.io/v1";
        if legacy_ingress {
            upgrade_legacy_ingress(&mut value);
        }
        if api_version != kind.api_version() {
            // The typed schema checks `apiVersion`; removed versions are read in today's shape.
            value["apiVersion"] = Value::String(kind.api_version());
        }
        let resource = match kind {
            Kind::Ingress => Resource::Ingress(typed(&value)?),
            Kind::IngressClass => Resource::IngressClass(typed(&value)?),
            Kind::Service => Resource::Service(typed(&value)?),
            Kind::EndpointSlice => Resource::EndpointSlice(typed(&value)?),
            Kind::Endpoints => Resource::Endpoints(typed(&value)?),
            Kind::Secret => Resource::Secret(Box::new(secret_info(&value)?)),
            Kind::NetworkPolicy => Resource::NetworkPolicy(typed(&value)?),
            Kind::ConfigMap => Resource::ConfigMap(typed(&value)?),
            Kind::Deployment => Resource::Deployment(typed(&value)?),
            Kind::StatefulSet => Resource::StatefulSet(typed(&value)?),
            Kind::DaemonSet => Resource::DaemonSet(typed(&value)?),
            Kind::Pod => Resource::Pod(typed(&value)?),
            Kind::Role => Resource::Role(typed(&value)?),
            Kind::ClusterRole => Resource::ClusterRole(typed(&value)?),
            Kind::RoleBinding => Resource::RoleBinding(typed(&value)?),
            Kind::ClusterRoleBinding => Resource::ClusterRoleBinding(typed(&value)?),
            Kind::ValidatingWebhookConfiguration => {
                Resource::ValidatingWebhookConfiguration(typed(&value)?)
            }
            Kind::Namespace => Resource::Namespace(typed(&value)?),
            Kind::Certificate => Resource::Certificate(typed(&value)?),
            Kind::GatewayClass => Resource::GatewayClass(typed(&value)?),
            Kind::Gateway => Resource::Gateway(typed(&value)?),
            Kind::HTTPRoute | Kind::GRPCRoute | Kind::TLSRoute | Kind::TCPRoute => {
                Resource::GatewayRoute(typed(&value)?)
            }
            Kind::ReferenceGrant => Resource::ReferenceGrant(typed(&value)?),
            Kind::SecurityPolicy
            | Kind::BackendTrafficPolicy
            | Kind::AuthorizationPolicy
            | Kind::RequestAuthentication => Resource::AccessPolicy(typed(&value)?),
        };
        let meta = resource.metadata();
        let Some(name) = meta.name.clone().filter(|n| !n.is_empty()) else {
            // `generateName` objects have no name until created; nothing can refer to them.
            return Err(ObjectError {
                message: format!("{kind} has no metadata.name"),
                pointer: "/metadata".into(),
            });
        };
        let namespace_explicit = meta.namespace.as_deref().is_some_and(|n| !n.is_empty());
        let namespace = kind.namespaced().then(|| {
            meta.namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "default".to_owned())
        });
        Ok(Some(Object {
            kind,
            api_version,
            name,
            namespace,
            namespace_explicit,
            resource,
            origin,
        }))
    }

    /// How reports name this object.
    #[must_use]
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.clone(),
            kind: self.kind.as_str().to_owned(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// The object's metadata.
    #[must_use]
    pub fn metadata(&self) -> &ObjectMeta {
        self.resource.metadata()
    }

    /// One annotation's value.
    #[must_use]
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata()
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .map(String::as_str)
    }

    /// The pod spec a workload runs and the pointer to it: `/spec/template/spec` for
    /// Deployments, StatefulSets and DaemonSets, `/spec` for a Pod.
    #[must_use]
    pub fn pod_spec(&self) -> Option<(&PodSpec, &'static str)> {
        let template = match &self.resource {
            Resource::Deployment(d) => &d.spec.as_ref()?.template,
            Resource::StatefulSet(d) => &d.spec.as_ref()?.template,
            Resource::DaemonSet(d) => &d.spec.as_ref()?.template,
            Resource::Pod(p) => return p.spec.as_ref().map(|s| (s, "/spec")),
            _ => return None,
        };
        template.spec.as_ref().map(|s| (s, "/spec/template/spec"))
    }

    /// The namespace, or `""` for cluster-scoped objects.
    #[must_use]
    pub fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }

    /// Whether this Ingress came in through a removed API version (`extensions/v1beta1`,
    /// `networking.k8s.io/v1beta1`) and was read by translating it to v1.
    #[must_use]
    pub fn is_legacy_ingress(&self) -> bool {
        self.kind == Kind::Ingress && self.api_version != "networking.k8s.io/v1"
    }

    /// Translates a pointer into the v1 shape into the pointer as written in the source.
    /// Rules speak v1 only; a legacy Ingress spells a few fields differently.
    #[must_use]
    pub fn source_pointer(&self, pointer: &str) -> String {
        if !self.is_legacy_ingress() {
            return pointer.to_owned();
        }
        let p = pointer.replacen("/spec/defaultBackend", "/spec/backend", 1);
        if let Some((head, tail)) = p.split_once("/backend/service/") {
            let field = if tail.starts_with("name") {
                "serviceName"
            } else {
                "servicePort"
            };
            return format!("{head}/backend/{field}");
        }
        p
    }
}

impl Resource {
    /// The metadata of whatever object this is.
    #[must_use]
    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Resource::Ingress(o) => &o.metadata,
            Resource::IngressClass(o) => &o.metadata,
            Resource::Service(o) => &o.metadata,
            Resource::EndpointSlice(o) => &o.metadata,
            Resource::Endpoints(o) => &o.metadata,
            Resource::Secret(o) => &o.metadata,
            Resource::NetworkPolicy(o) => &o.metadata,
            Resource::ConfigMap(o) => &o.metadata,
            Resource::Deployment(o) => &o.metadata,
            Resource::StatefulSet(o) => &o.metadata,
            Resource::DaemonSet(o) => &o.metadata,
            Resource::Pod(o) => &o.metadata,
            Resource::Role(o) => &o.metadata,
            Resource::ClusterRole(o) => &o.metadata,
            Resource::RoleBinding(o) => &o.metadata,
            Resource::ClusterRoleBinding(o) => &o.metadata,
            Resource::ValidatingWebhookConfiguration(o) => &o.metadata,
            Resource::Namespace(o) => &o.metadata,
            Resource::Certificate(o) => &o.metadata,
            Resource::GatewayClass(o) => &o.metadata,
            Resource::Gateway(o) => &o.metadata,
            Resource::GatewayRoute(o) => &o.metadata,
            Resource::ReferenceGrant(o) => &o.metadata,
            Resource::AccessPolicy(o) => &o.metadata,
        }
    }
}

fn typed<T: serde::de::DeserializeOwned>(value: &Value) -> Result<Box<T>, ObjectError> {
    serde_path_to_error::deserialize(value)
        .map(Box::new)
        .map_err(|e| {
            let pointer = path_to_pointer(e.path());
            let inner = e.into_inner().to_string();
            ObjectError {
                message: if pointer.is_empty() {
                    inner
                } else {
                    format!("{pointer}: {inner}")
                },
                pointer,
            }
        })
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => {
                out.push('/');
                out.push_str(&index.to_string());
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push('/');
                out.push_str(&crate::yaml::escape_segment(key));
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// Where `kubectl apply` keeps the previous applied object, Secret data included.
const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Reads a Secret without keeping its data: the type, the key names, and `tls.crt`.
fn secret_info(value: &Value) -> Result<SecretInfo, ObjectError> {
    let mut metadata: ObjectMeta = match value.get("metadata") {
        Some(m) => *typed(m).map_err(|mut e| {
            e.pointer = format!("/metadata{}", e.pointer);
            e
        })?,
        None => ObjectMeta::default(),
    };
    // `kubectl apply` copies the whole applied object, data included, into this annotation, and
    // server-side apply records field ownership; neither may travel further than this function.
    if let Some(annotations) = &mut metadata.annotations {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
    metadata.managed_fields = None;
    let type_ = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("Opaque")
        .to_owned();
    let mut keys = BTreeSet::new();
    // The three values certificate analysis reads; `tls.key` lives only in this function.
    let mut pem: [Option<Vec<u8>>; 3] = [None, None, None];
    let mut tls_crt_pointer = None;
    for field in ["data", "stringData"] {
        let Some(entries) = value.get(field) else {
            continue;
        };
        let Some(entries) = entries.as_object() else {
            if entries.is_null() {
                continue;
            }
            return Err(ObjectError {
                message: format!("/{field}: expected a map of key names to values"),
                pointer: format!("/{field}"),
            });
        };
        for (k, v) in entries {
            keys.insert(k.clone());
            let Some(slot) = ["tls.crt", "ca.crt", "tls.key"].iter().position(|n| n == k) else {
                continue;
            };
            let bytes = match (field, v) {
                ("data", Value::String(_)) => serde_json::from_value::<ByteString>(v.clone())
                    .ok()
                    .map(|b| b.0),
                ("stringData", Value::String(s)) => Some(s.clone().into_bytes()),
                _ => None,
            };
            if slot == 0 {
                tls_crt_pointer = Some(format!("/{field}/tls.crt"));
            }
            // `stringData` wins over `data`, as the API server merges it.
            if bytes.is_some() {
                pem[slot] = bytes;
            }
        }
    }
    let [crt, ca, key] = pem;
    let tls = crt.map(|crt| Box::new(crate::cert::analyze(&crt, ca.as_deref(), key.as_deref())));
    if tls.is_none() {
        tls_crt_pointer = None;
    }
    Ok(SecretInfo {
        metadata,
        type_,
        keys,
        tls,
        tls_crt_pointer,
    })
}

/// Rewrites an `extensions/v1beta1` or `networking.k8s.io/v1beta1` Ingress into the v1 shape:
/// `serviceName`/`servicePort` become `service.name`/`service.port`, `spec.backend` becomes
/// `spec.defaultBackend`, and a missing `pathType` becomes `ImplementationSpecific`, which is
/// what the API server assumed for those versions.
fn upgrade_legacy_ingress(value: &mut Value) {
    let Some(spec) = value.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(backend) = spec.remove("backend") {
        spec.insert("defaultBackend".into(), upgrade_backend(backend));
    }
    let Some(rules) = spec.get_mut("rules").and_then(Value::as_array_mut) else {
        return;
    };
    for rule in rules {
        let Some(paths) = rule
            .pointer_mut("/http/paths")
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for path in paths {
            let Some(path) = path.as_object_mut() else {
                continue;
            };
            if let Some(backend) = path.remove("backend") {
                path.insert("backend".into(), upgrade_backend(backend));
            }
            path.entry("pathType")
                .or_insert_with(|| Value::String("ImplementationSpecific".into()));
        }
    }
}

fn upgrade_backend(backend: Value) -> Value {
    let Value::Object(mut b) = backend else {
        return backend;
    };
    let name = b.remove("serviceName");
    let port = b.remove("servicePort");
    if name.is_some() || port.is_some() {
        let mut service = Map::new();
        if let Some(name) = name {
            service.insert("name".into(), name);
        }
        if let Some(port) = port {
            let key = if port.is_string() { "name" } else { "number" };
            let mut p = Map::new();
            p.insert(key.into(), port);
            service.insert("port".into(), Value::Object(p));
        }
        b.insert("service".into(), Value::Object(service));
    }
    Value::Object(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_kinds_and_non_objects_are_not_read() {
        assert!(
            Object::from_value(
                json!({"apiVersion": "v1", "kind": "Gadget", "metadata": {"name": "x"}}),
                None
            )
            .unwrap()
            .is_none()
        );
        assert!(
            Object::from_value(json!({"image": "x"}), None)
                .unwrap()
                .is_none()
        );
        // A Deployment from a group that is not apps is someone else's CRD.
        assert!(
            Object::from_value(json!({"apiVersion": "example.com/v1", "kind": "Deployment", "metadata": {"name": "x"}}), None)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn namespaced_objects_default_to_the_default_namespace() {
        let o = Object::from_value(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(o.namespace.as_deref(), Some("default"));
        assert!(!o.namespace_explicit);
        let c = Object::from_value(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"}}),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.namespace, None);
    }

    #[test]
    fn type_errors_name_the_field() {
        let err = Object::from_value(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                   "spec": {"ports": [{"port": "eighty"}]}}),
            None,
        )
        .unwrap_err();
        assert_eq!(err.pointer, "/spec/ports/0/port");
    }

    #[test]
    fn secrets_keep_type_and_key_names_but_not_data() {
        let o = Object::from_value(
            json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                   "metadata": {"name": "tls"},
                   "data": {"tls.crt": "Y2VydA==", "tls.key": "c2VjcmV0LWtleQ=="}}),
            None,
        )
        .unwrap()
        .unwrap();
        let Resource::Secret(s) = &o.resource else {
            panic!("not a secret")
        };
        assert_eq!(s.type_, "kubernetes.io/tls");
        assert_eq!(
            s.keys.iter().map(String::as_str).collect::<Vec<_>>(),
            ["tls.crt", "tls.key"]
        );
        // `cert` is no certificate: the analysis says so.
        let tls = s.tls.as_ref().expect("tls.crt analysed");
        assert!(tls.unusable().is_some());
        assert_eq!(s.tls_crt_pointer.as_deref(), Some("/data/tls.crt"));
        assert!(!format!("{o:?}").contains("secret-key"));
        let applied = Object::from_value(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls", "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration":
                    "{\"data\":{\"tls.key\":\"c2VjcmV0LWtleQ==\"}}", "team": "shop"}},
                   "data": {"tls.key": "c2VjcmV0LWtleQ=="}}),
            None,
        )
        .unwrap()
        .unwrap();
        assert!(
            !format!("{applied:?}").contains("c2VjcmV0LWtleQ"),
            "{applied:?}"
        );
        assert_eq!(applied.annotation("team"), Some("shop"));
        assert!(!format!("{o:?}").contains("c2VjcmV0LWtleQ"));
    }

    #[test]
    fn legacy_ingress_is_read_in_the_v1_shape() {
        let o = Object::from_value(
            json!({"apiVersion": "extensions/v1beta1", "kind": "Ingress",
                   "metadata": {"name": "old", "namespace": "shop"},
                   "spec": {"backend": {"serviceName": "web", "servicePort": 80},
                            "rules": [{"host": "a.example.com", "http": {"paths": [
                                {"path": "/", "backend": {"serviceName": "web", "servicePort": "http"}}]}}]}}),
            None,
        )
        .unwrap()
        .unwrap();
        let Resource::Ingress(ing) = &o.resource else {
            panic!()
        };
        let spec = ing.spec.as_ref().unwrap();
        let default = spec
            .default_backend
            .as_ref()
            .unwrap()
            .service
            .as_ref()
            .unwrap();
        assert_eq!(default.port.as_ref().unwrap().number, Some(80));
        let path = &spec.rules.as_ref().unwrap()[0].http.as_ref().unwrap().paths[0];
        assert_eq!(path.path_type, "ImplementationSpecific");
        assert_eq!(
            path.backend
                .service
                .as_ref()
                .unwrap()
                .port
                .as_ref()
                .unwrap()
                .name
                .as_deref(),
            Some("http")
        );
        assert!(o.is_legacy_ingress());
        assert_eq!(
            o.source_pointer("/spec/rules/0/http/paths/0/backend/service/port/number"),
            "/spec/rules/0/http/paths/0/backend/servicePort"
        );
    }
}
