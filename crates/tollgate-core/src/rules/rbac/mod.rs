//! RBAC: who may change what is exposed, and the grants that reach further than they should.
//!
//! The rules ask the resolver of [`crate::rbac`] and report on the binding that grants (at the
//! subject, `/subjects/N`), or on the role rule that grants (`/rules/N/resources/M`) when the
//! rule itself is the problem. They leave out Kubernetes' own machinery (`system:` components,
//! the bootstrap policy's bindings) and grants through `cluster-admin`, which can do everything
//! by design: whether a subject should be a cluster administrator is a question for a review
//! (`tollgate rbac review` lists them), not a finding in every rule. Roles the input does not
//! hold are assumed to be Kubernetes' defaults when they are `admin`, `edit`, `view` or
//! `cluster-admin`.

/// `broad-ingress-write-access` (TG801).
pub mod broad_ingress_write_access;
/// `controller-reads-all-secrets` (TG805).
pub mod controller_reads_all_secrets;
/// `endpoint-write-access` (TG804).
pub mod endpoint_write_access;
/// `ingress-status-write` (TG802).
pub mod ingress_status_write;
/// `rbac-escalation-path` (TG807).
pub mod rbac_escalation_path;
/// `service-status-write` (TG803).
pub mod service_status_write;
/// `webhook-config-write` (TG806).
pub mod webhook_config_write;

use std::collections::BTreeMap;

use crate::installation::controller_image_tag;
use crate::inventory::Inventory;
use crate::object::Kind;
use crate::rbac::{Grant, GrantScope, Policy, Query, SubjectKind, Target};

/// One binding's grant to one subject, with every verb and resource it allows among those asked.
pub(crate) struct Holding {
    /// The first grant found (binding, subject, role, rule).
    pub grant: Grant,
    /// The verbs allowed, in the order asked.
    pub verbs: Vec<String>,
    /// The resources allowed (plural names), in the order asked.
    pub resources: Vec<String>,
    /// Whether any of them lives in namespaces (else the grant is about cluster-scoped ones).
    pub namespaced: bool,
}

impl Holding {
    /// `create, update` on `ingresses`.
    pub fn verbs_text(&self) -> String {
        self.verbs.join(", ")
    }

    /// The binding's object index (bindings are always in the input).
    pub fn binding_object(&self) -> Option<usize> {
        self.grant.binding.object
    }

    /// Where the grant applies: "in namespace `shop`", "in every namespace", or "cluster-wide"
    /// for cluster-scoped resources.
    pub fn where_text(&self) -> String {
        match &self.grant.scope {
            GrantScope::ClusterWide if !self.namespaced => "cluster-wide".into(),
            scope => where_text(scope),
        }
    }
}

/// Every (binding, subject) allowed one of `verbs` on one of `targets`, anywhere, that a rule
/// may report: not Kubernetes' own, not through `cluster-admin`.
pub(crate) fn holdings(policy: &Policy<'_>, verbs: &[&str], targets: &[Target]) -> Vec<Holding> {
    let mut merged: BTreeMap<(usize, usize), Holding> = BTreeMap::new();
    for target in targets {
        let namespaced = matches!(
            target,
            Target::Resource {
                cluster_scoped: false,
                ..
            }
        );
        let resource = match target {
            Target::Resource {
                resource,
                subresource,
                ..
            } => match subresource {
                Some(s) => format!("{resource}/{s}"),
                None => resource.clone(),
            },
            Target::NonResource { path } => path.clone(),
        };
        for verb in verbs {
            let answer = policy.who_can(&Query::new(verb, target.clone()));
            for g in answer.grants {
                if g.builtin || g.is_cluster_admin() {
                    continue;
                }
                let Some(binding) = g.binding.object else {
                    continue;
                };
                let h = merged
                    .entry((binding, g.subject_index))
                    .or_insert_with(|| Holding {
                        grant: g,
                        verbs: Vec::new(),
                        resources: Vec::new(),
                        namespaced: false,
                    });
                h.namespaced |= namespaced;
                if !h.verbs.iter().any(|v| v == verb) {
                    h.verbs.push((*verb).to_owned());
                }
                if !h.resources.contains(&resource) {
                    h.resources.push(resource.clone());
                }
            }
        }
    }
    merged.into_values().collect()
}

/// "in every namespace" or "in namespace `shop`".
pub(crate) fn where_text(scope: &GrantScope) -> String {
    match scope {
        GrantScope::ClusterWide => "in every namespace".into(),
        GrantScope::Namespace(ns) => format!("in namespace `{ns}`"),
    }
}

/// How a grant comes about: `ClusterRoleBinding deployers → ClusterRole ingress-deployer`,
/// naming the aggregated part when the rule comes from one.
pub(crate) fn via_text(g: &Grant) -> String {
    let mut s = format!("{} → {}", g.binding, g.role);
    if g.rule.role != g.role {
        s.push_str(&format!(" (aggregated from {})", g.rule.role.name));
    }
    if g.assumed {
        s.push_str(", a Kubernetes default role not in the input");
    }
    s
}

/// The subject as messages name it, with whom a fan-out group reaches.
pub(crate) fn subject_text(g: &Grant) -> String {
    match g.subject.reach() {
        Some(reach) => format!("{} ({reach})", g.subject),
        None => g.subject.to_string(),
    }
}

/// A service account an ingress controller runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ControllerAccount {
    /// The service account's namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The workload (index into the inventory's objects).
    pub workload: usize,
    /// Which controller, for messages.
    pub controller: &'static str,
}

/// Image repositories of ingress controllers other than ingress-nginx (which
/// [`controller_image_tag`] recognises), by the path they end with.
const CONTROLLER_IMAGES: &[(&str, &str)] = &[
    ("nginx/nginx-ingress", "NGINX Ingress Controller"),
    ("nginx-ic/nginx-plus-ingress", "NGINX Ingress Controller"),
    ("traefik", "Traefik"),
    (
        "haproxytech/kubernetes-ingress",
        "HAProxy Kubernetes Ingress",
    ),
    ("jcmoraisjr/haproxy-ingress", "HAProxy Ingress"),
    ("haproxy-ingress/haproxy-ingress", "HAProxy Ingress"),
    (
        "kong/kubernetes-ingress-controller",
        "Kong Ingress Controller",
    ),
    ("projectcontour/contour", "Contour"),
    (
        "eks/aws-load-balancer-controller",
        "AWS Load Balancer Controller",
    ),
];

/// The repository part of an image reference: no tag, no digest.
fn image_repository(image: &str) -> &str {
    let without_digest = image.split_once('@').map_or(image, |(i, _)| i);
    let last_slash = without_digest.rfind('/').unwrap_or(0);
    match without_digest[last_slash..].find(':') {
        Some(colon) => &without_digest[..last_slash + colon],
        None => without_digest,
    }
}

/// Which ingress controller an image is, if one Tollgate knows.
pub(crate) fn controller_of_image(image: &str) -> Option<&'static str> {
    if controller_image_tag(image).is_some() {
        return Some("ingress-nginx");
    }
    let repo = image_repository(image);
    CONTROLLER_IMAGES
        .iter()
        .find(|(suffix, _)| {
            repo == *suffix
                || repo
                    .strip_suffix(suffix)
                    .is_some_and(|head| head.ends_with('/'))
        })
        .map(|(_, name)| *name)
}

/// The service accounts of the ingress controllers in the inventory: every discovered
/// ingress-nginx installation, and every Deployment, DaemonSet or StatefulSet running a known
/// ingress controller image.
pub(crate) fn controller_accounts(inv: &Inventory) -> Vec<ControllerAccount> {
    let mut workloads: Vec<(usize, &'static str)> = inv
        .installations
        .iter()
        .map(|i| (i.workload, "ingress-nginx"))
        .collect();
    for kind in [Kind::Deployment, Kind::DaemonSet, Kind::StatefulSet] {
        for (index, o) in inv.of_kind(kind) {
            let Some((spec, _)) = o.pod_spec() else {
                continue;
            };
            let controller = spec
                .containers
                .iter()
                .find_map(|c| c.image.as_deref().and_then(controller_of_image));
            if let Some(controller) = controller
                && !workloads.iter().any(|(w, _)| *w == index)
            {
                workloads.push((index, controller));
            }
        }
    }
    let mut out: Vec<ControllerAccount> = Vec::new();
    for (workload, controller) in workloads {
        let o = &inv.objects[workload];
        let Some((spec, _)) = o.pod_spec() else {
            continue;
        };
        let name = spec
            .service_account_name
            .as_deref()
            .or(spec.service_account.as_deref())
            .filter(|n| !n.is_empty())
            .unwrap_or("default");
        let account = ControllerAccount {
            namespace: o.ns().to_owned(),
            name: name.to_owned(),
            workload,
            controller,
        };
        if !out
            .iter()
            .any(|a| a.namespace == account.namespace && a.name == account.name)
        {
            out.push(account);
        }
    }
    out
}

/// Whether a grant's subject is one of the controllers' own service accounts.
pub(crate) fn is_controller_account(g: &Grant, accounts: &[ControllerAccount]) -> bool {
    g.subject.kind == SubjectKind::ServiceAccount
        && accounts.iter().any(|a| {
            g.subject.namespace.as_deref() == Some(a.namespace.as_str()) && g.subject.name == a.name
        })
}

#[cfg(test)]
mod tests {
    use super::controller_of_image;
    use crate::rules::test_support::fixture_tests;

    fixture_tests! {
        broad_ingress_write_access => "broad-ingress-write-access",
        ingress_status_write => "ingress-status-write",
        service_status_write => "service-status-write",
        endpoint_write_access => "endpoint-write-access",
        controller_reads_all_secrets => "controller-reads-all-secrets",
        webhook_config_write => "webhook-config-write",
        rbac_escalation_path => "rbac-escalation-path",
    }

    #[test]
    fn ingress_controller_images_are_recognised_under_any_registry() {
        for (image, controller) in [
            (
                "registry.k8s.io/ingress-nginx/controller:v1.12.1@sha256:abc",
                "ingress-nginx",
            ),
            ("traefik:v3.1", "Traefik"),
            ("docker.io/library/traefik:v3.1", "Traefik"),
            ("nginx/nginx-ingress:3.7.0", "NGINX Ingress Controller"),
            ("ghcr.io/projectcontour/contour:v1.30.0", "Contour"),
            (
                "kong/kubernetes-ingress-controller:3.3",
                "Kong Ingress Controller",
            ),
            (
                "public.ecr.aws/eks/aws-load-balancer-controller:v2.8.2",
                "AWS Load Balancer Controller",
            ),
        ] {
            assert_eq!(controller_of_image(image), Some(controller), "{image}");
        }
        for image in [
            "nginx:1.27",
            "example.com/not-traefik:1",
            "mytraefik:1",
            "web:1",
        ] {
            assert_eq!(controller_of_image(image), None, "{image}");
        }
    }
}
