//! RBAC: who may change what is exposed, and the grants that reach further than they should.
//!
//! The rules ask the resolver of [`crate::rbac`] and report on the binding that grants (at the
//! subject, `/subjects/N`), or on the role rule that grants (`/rules/N/resources/M`) when the
//! rule itself is the problem. They leave out Kubernetes' own machinery (`system:` components,
//! the bootstrap policy's bindings) and grants through `cluster-admin`, which can do everything
//! by design: whether a subject should be a cluster administrator is a question for a review
//! (`tollgate rbac review` lists them), not a finding in every rule. The exception is a group
//! reaching everyone (`system:authenticated`, `system:serviceaccounts`, ...) made cluster
//! administrator: no review makes that right, so every rule reports it. Roles the input does not
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

pub(crate) use crate::rbac::controllers::{ControllerAccount, controller_accounts};
use crate::rbac::{Grant, GrantScope, Policy, Query, SubjectClass, SubjectKind, Target};

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
/// may report: not Kubernetes' own, and not through `cluster-admin` unless the subject is a group
/// reaching everyone (`system:authenticated`, ...), for which being a cluster administrator is
/// never a question for a review.
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
                if g.builtin || (g.is_cluster_admin() && g.class != SubjectClass::Everyone) {
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

/// Whether a grant's subject is one of the controllers' own service accounts.
pub(crate) fn is_controller_account(g: &Grant, accounts: &[ControllerAccount]) -> bool {
    g.subject.kind == SubjectKind::ServiceAccount
        && accounts.iter().any(|a| {
            g.subject.namespace.as_deref() == Some(a.namespace.as_str()) && g.subject.name == a.name
        })
}

#[cfg(test)]
mod tests {
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
}
