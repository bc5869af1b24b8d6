//! What a query asks about: a resource (with its API group, an optional subresource, and whether
//! it lives in namespaces) or a non-resource URL, read from what a user types:
//! `ingresses`, `ing`, `ingresses/status`, `certificates.cert-manager.io`, `/healthz`.

use serde::Serialize;

/// The object of a request, as the authorizer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Target {
    /// A resource request: `apiGroup`, resource plural, optional subresource.
    Resource {
        /// API group; `""` is the core group.
        group: String,
        /// Resource plural as in the URL (`ingresses`).
        resource: String,
        /// Subresource (`status`, `exec`), if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        subresource: Option<String>,
        /// Whether the resource is cluster-scoped (then only ClusterRoleBindings can grant it).
        cluster_scoped: bool,
    },
    /// A non-resource request (`/healthz`, `/metrics`): only ClusterRoleBindings grant these.
    NonResource {
        /// The URL path.
        path: String,
    },
}

impl Target {
    /// A resource of a known group and scope (no parsing, no table look-up).
    #[must_use]
    pub fn resource(group: &str, resource: &str, subresource: Option<&str>) -> Target {
        let cluster_scoped = lookup(resource)
            .filter(|k| k.group == group)
            .is_some_and(|k| k.cluster_scoped);
        Target::Resource {
            group: group.to_owned(),
            resource: resource.to_owned(),
            subresource: subresource.map(str::to_owned),
            cluster_scoped,
        }
    }

    /// Reads what a user typed: `RESOURCE[.GROUP][/SUBRESOURCE]`, a kubectl short or singular
    /// name (`ing`, `ingress`), or a path starting with `/` for a non-resource URL. A resource
    /// without a group must be one Tollgate knows (the core and Kubernetes groups, cert-manager,
    /// Gateway API); any other needs its group spelled out, as in `widgets.example.com`.
    ///
    /// # Errors
    /// When the text is empty, or names a resource Tollgate does not know without a group.
    pub fn parse(text: &str) -> Result<Target, String> {
        let text = text.trim();
        if text.starts_with('/') {
            return Ok(Target::NonResource {
                path: text.to_owned(),
            });
        }
        let (head, subresource) = match text.split_once('/') {
            Some((h, s)) if !s.is_empty() => (h, Some(s)),
            Some((h, _)) => (h, None),
            None => (text, None),
        };
        if head.is_empty() {
            return Err(
                "name a resource, e.g. `ingresses` or `certificates.cert-manager.io`".into(),
            );
        }
        let head = head.to_ascii_lowercase();
        if let Some((resource, group)) = head.split_once('.') {
            let group = if group == "core" { "" } else { group };
            let resource = lookup(resource)
                .filter(|k| k.group == group)
                .map_or(resource, |k| k.plural);
            return Ok(Target::resource(group, resource, subresource));
        }
        if head == "*" {
            return Err(
                "`*` is not a resource a request can name; ask about a real one, e.g. `secrets`"
                    .into(),
            );
        }
        let known = lookup(&head).ok_or_else(|| {
            format!(
                "unknown resource `{head}`: name its API group too, as `{head}.example.com` \
                 (`{head}.core` for the core group)"
            )
        })?;
        Ok(Target::Resource {
            group: known.group.to_owned(),
            resource: known.plural.to_owned(),
            subresource: subresource.map(str::to_owned),
            cluster_scoped: known.cluster_scoped,
        })
    }

    /// `networking.k8s.io ingresses/status`, `core secrets`, or the URL.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Target::Resource {
                group,
                resource,
                subresource,
                ..
            } => {
                let group = if group.is_empty() { "core" } else { group };
                match subresource {
                    Some(s) => format!("{resource}/{s} ({group})"),
                    None => format!("{resource} ({group})"),
                }
            }
            Target::NonResource { path } => format!("URL {path}"),
        }
    }
}

/// A resource Tollgate can name without its group.
#[derive(Debug, Clone, Copy)]
struct KnownResource {
    plural: &'static str,
    group: &'static str,
    cluster_scoped: bool,
    /// The singular and kubectl's short names.
    aliases: &'static [&'static str],
}

const fn known(
    plural: &'static str,
    group: &'static str,
    cluster_scoped: bool,
    aliases: &'static [&'static str],
) -> KnownResource {
    KnownResource {
        plural,
        group,
        cluster_scoped,
        aliases,
    }
}

/// The resources of the core and Kubernetes API groups an Ingress review touches, plus
/// cert-manager and Gateway API. Where two groups serve one plural (`ingresses` in
/// `networking.k8s.io` and the long-removed `extensions`, `events` in core and `events.k8s.io`),
/// the one served today is listed.
const KNOWN: &[KnownResource] = &[
    known("pods", "", false, &["pod", "po"]),
    known("services", "", false, &["service", "svc"]),
    known("endpoints", "", false, &["ep"]),
    known("secrets", "", false, &["secret"]),
    known("configmaps", "", false, &["configmap", "cm"]),
    known("serviceaccounts", "", false, &["serviceaccount", "sa"]),
    known("namespaces", "", true, &["namespace", "ns"]),
    known("nodes", "", true, &["node", "no"]),
    known("persistentvolumeclaims", "", false, &["pvc"]),
    known("persistentvolumes", "", true, &["pv"]),
    known("events", "", false, &["event", "ev"]),
    known("replicationcontrollers", "", false, &["rc"]),
    known("resourcequotas", "", false, &["quota"]),
    known("limitranges", "", false, &["limits"]),
    // Impersonation targets: users and groups are cluster-wide names.
    known("users", "", true, &["user"]),
    known("groups", "", true, &["group"]),
    known("ingresses", "networking.k8s.io", false, &["ingress", "ing"]),
    known(
        "ingressclasses",
        "networking.k8s.io",
        true,
        &["ingressclass"],
    ),
    known(
        "networkpolicies",
        "networking.k8s.io",
        false,
        &["networkpolicy", "netpol"],
    ),
    known(
        "endpointslices",
        "discovery.k8s.io",
        false,
        &["endpointslice"],
    ),
    known("deployments", "apps", false, &["deployment", "deploy"]),
    known("daemonsets", "apps", false, &["daemonset", "ds"]),
    known("statefulsets", "apps", false, &["statefulset", "sts"]),
    known("replicasets", "apps", false, &["replicaset", "rs"]),
    known("jobs", "batch", false, &["job"]),
    known("cronjobs", "batch", false, &["cronjob", "cj"]),
    known("roles", "rbac.authorization.k8s.io", false, &["role"]),
    known(
        "rolebindings",
        "rbac.authorization.k8s.io",
        false,
        &["rolebinding"],
    ),
    known(
        "clusterroles",
        "rbac.authorization.k8s.io",
        true,
        &["clusterrole"],
    ),
    known(
        "clusterrolebindings",
        "rbac.authorization.k8s.io",
        true,
        &["clusterrolebinding"],
    ),
    known(
        "validatingwebhookconfigurations",
        "admissionregistration.k8s.io",
        true,
        &["validatingwebhookconfiguration"],
    ),
    known(
        "mutatingwebhookconfigurations",
        "admissionregistration.k8s.io",
        true,
        &["mutatingwebhookconfiguration"],
    ),
    known(
        "validatingadmissionpolicies",
        "admissionregistration.k8s.io",
        true,
        &["validatingadmissionpolicy"],
    ),
    known(
        "validatingadmissionpolicybindings",
        "admissionregistration.k8s.io",
        true,
        &["validatingadmissionpolicybinding"],
    ),
    known(
        "customresourcedefinitions",
        "apiextensions.k8s.io",
        true,
        &["customresourcedefinition", "crd", "crds"],
    ),
    known("uids", "authentication.k8s.io", true, &[]),
    known("userextras", "authentication.k8s.io", true, &[]),
    known(
        "poddisruptionbudgets",
        "policy",
        false,
        &["poddisruptionbudget", "pdb"],
    ),
    known("leases", "coordination.k8s.io", false, &["lease"]),
    known(
        "storageclasses",
        "storage.k8s.io",
        true,
        &["storageclass", "sc"],
    ),
    known(
        "certificatesigningrequests",
        "certificates.k8s.io",
        true,
        &["certificatesigningrequest", "csr"],
    ),
    known(
        "certificates",
        "cert-manager.io",
        false,
        &["certificate", "cert"],
    ),
    known(
        "certificaterequests",
        "cert-manager.io",
        false,
        &["certificaterequest", "cr"],
    ),
    known("issuers", "cert-manager.io", false, &["issuer"]),
    known(
        "clusterissuers",
        "cert-manager.io",
        true,
        &["clusterissuer"],
    ),
    known(
        "gatewayclasses",
        "gateway.networking.k8s.io",
        true,
        &["gatewayclass"],
    ),
    known(
        "gateways",
        "gateway.networking.k8s.io",
        false,
        &["gateway", "gtw"],
    ),
    known(
        "httproutes",
        "gateway.networking.k8s.io",
        false,
        &["httproute"],
    ),
    known(
        "grpcroutes",
        "gateway.networking.k8s.io",
        false,
        &["grpcroute"],
    ),
    known(
        "tlsroutes",
        "gateway.networking.k8s.io",
        false,
        &["tlsroute"],
    ),
    known(
        "tcproutes",
        "gateway.networking.k8s.io",
        false,
        &["tcproute"],
    ),
    known(
        "referencegrants",
        "gateway.networking.k8s.io",
        false,
        &["referencegrant"],
    ),
    // The access policies of Gateway API implementations that Tollgate reads.
    known(
        "securitypolicies",
        "gateway.envoyproxy.io",
        false,
        &["securitypolicy"],
    ),
    known(
        "backendtrafficpolicies",
        "gateway.envoyproxy.io",
        false,
        &["backendtrafficpolicy"],
    ),
    known(
        "authorizationpolicies",
        "security.istio.io",
        false,
        &["authorizationpolicy"],
    ),
    known(
        "requestauthentications",
        "security.istio.io",
        false,
        &["requestauthentication"],
    ),
];

fn lookup(name: &str) -> Option<&'static KnownResource> {
    KNOWN
        .iter()
        .find(|k| k.plural == name || k.aliases.contains(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(t: &Target) -> (&str, &str, Option<&str>, bool) {
        match t {
            Target::Resource {
                group,
                resource,
                subresource,
                cluster_scoped,
            } => (group, resource, subresource.as_deref(), *cluster_scoped),
            Target::NonResource { .. } => panic!("not a resource: {t:?}"),
        }
    }

    #[test]
    fn well_known_resources_get_their_group_and_scope() {
        let t = Target::parse("ingresses").unwrap();
        assert_eq!(
            resource(&t),
            ("networking.k8s.io", "ingresses", None, false)
        );
        let t = Target::parse("ing/status").unwrap();
        assert_eq!(
            resource(&t),
            ("networking.k8s.io", "ingresses", Some("status"), false)
        );
        let t = Target::parse("IngressClasses").unwrap();
        assert_eq!(
            resource(&t),
            ("networking.k8s.io", "ingressclasses", None, true)
        );
        assert_eq!(resource(&Target::parse("svc").unwrap()).0, "");
        assert_eq!(
            resource(&Target::parse("tcproutes").unwrap()),
            ("gateway.networking.k8s.io", "tcproutes", None, false)
        );
        assert_eq!(
            resource(&Target::parse("securitypolicies").unwrap()),
            ("gateway.envoyproxy.io", "securitypolicies", None, false)
        );
        assert_eq!(
            resource(&Target::parse("authorizationpolicy").unwrap()),
            ("security.istio.io", "authorizationpolicies", None, false)
        );
        assert_eq!(
            resource(&Target::parse("requestauthentications").unwrap()),
            ("security.istio.io", "requestauthentications", None, false)
        );
    }

    #[test]
    fn a_dotted_name_carries_its_group() {
        let t = Target::parse("certificates.cert-manager.io").unwrap();
        assert_eq!(
            resource(&t),
            ("cert-manager.io", "certificates", None, false)
        );
        let t = Target::parse("clusterissuers.cert-manager.io").unwrap();
        assert!(resource(&t).3, "clusterissuers are cluster-scoped");
        let t = Target::parse("widgets.example.com/scale").unwrap();
        assert_eq!(
            resource(&t),
            ("example.com", "widgets", Some("scale"), false)
        );
        let t = Target::parse("pods.core").unwrap();
        assert_eq!(resource(&t), ("", "pods", None, false));
    }

    #[test]
    fn a_path_is_a_non_resource_url() {
        assert_eq!(
            Target::parse("/healthz/etcd").unwrap(),
            Target::NonResource {
                path: "/healthz/etcd".into()
            }
        );
    }

    #[test]
    fn unknown_names_without_a_group_are_refused_with_advice() {
        let err = Target::parse("widgets").unwrap_err();
        assert!(err.contains("widgets.example.com"), "{err}");
        assert!(Target::parse("").is_err());
        assert!(Target::parse("/").is_ok());
        assert!(Target::parse("*").is_err());
    }
}
