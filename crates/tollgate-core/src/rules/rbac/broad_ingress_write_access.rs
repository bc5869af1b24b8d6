use super::{holdings, subject_text, via_text};
use crate::rbac::{GrantScope, Policy, SubjectClass, Target, WRITE_VERBS};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags subjects that can create, change or delete Ingresses in every namespace (through a
    /// ClusterRoleBinding), through a wildcard rule (`*` verbs, resources or API groups), or that
    /// are groups reaching everyone (`system:authenticated`, `system:unauthenticated`,
    /// `system:serviceaccounts`, `system:serviceaccounts:<ns>`) in any namespace. Kubernetes' own
    /// components and `cluster-admin` bindings are left out (`tollgate rbac review` lists them),
    /// except a `cluster-admin` binding to a group reaching everyone, which is always reported.
    ///
    /// ## Why is this bad?
    /// Whoever writes an Ingress decides what the edge publishes: any Service of the namespace,
    /// under any host, with or without TLS and authentication, with controller annotations that
    /// have been remote code execution (CVE-2021-25742, CVE-2025-1974). Write access in every
    /// namespace lets one compromised deploy token or CI job expose every team's backends or
    /// hijack another team's host. A wildcard rule grants whatever the API adds later, and a group
    /// such as `system:serviceaccounts` hands the permission to every pod of the cluster.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// metadata: {name: deployers}
    /// roleRef: {kind: ClusterRole, name: ingress-deployer}   # ingresses: create, update, patch
    /// subjects:
    ///   - {kind: Group, name: deployers}
    /// ```
    ///
    /// ## How to fix
    /// Grant Ingress write per namespace, without wildcards, to named people and CI identities.
    ///
    /// Bind the role with a RoleBinding in each namespace the subject deploys to, list the verbs
    /// and resources instead of `*`, and bind people and CI identities rather than groups that
    /// reach everyone.
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {name: deployers, namespace: storefront}
    /// roleRef: {kind: ClusterRole, name: ingress-deployer}
    /// subjects:
    ///   - {kind: Group, name: storefront-deployers}
    /// ```
    pub struct BroadIngressWriteAccess {
        code: "TG801",
        name: "broad-ingress-write-access",
        category: Rbac,
        severity: High,
        summary: "A subject can write Ingresses in every namespace, through wildcards, or as a group reaching everyone",
        needs: [Role, ClusterRole, RoleBinding, ClusterRoleBinding],
        since: "0.1.0",
    }
}

impl Rule for BroadIngressWriteAccess {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let policy = Policy::new(cx.inventory);
        let target = Target::resource("networking.k8s.io", "ingresses", None);
        for h in holdings(&policy, &WRITE_VERBS, &[target]) {
            let g = &h.grant;
            let everywhere = g.scope == GrantScope::ClusterWide;
            let everyone = g.class == SubjectClass::Everyone;
            if !everywhere && !everyone && !g.rule.wildcard {
                continue;
            }
            let Some(binding) = h.binding_object() else {
                continue;
            };
            let how = if g.rule.wildcard {
                format!(", through the wildcard rule {}", g.rule.text)
            } else {
                String::new()
            };
            out.report(
                binding,
                g.subject_pointer(),
                format!(
                    "{} can {} Ingresses {} ({}{how}): it can publish any Service there under any \
                     host",
                    subject_text(g),
                    h.verbs_text(),
                    h.where_text(),
                    via_text(g),
                ),
            );
        }
    }
}
