use super::{holdings, subject_text, via_text};
use crate::rbac::{GrantScope, Policy, Target};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags subjects that can raise their own privileges through RBAC: `escalate` on Roles or
    /// ClusterRoles (write rules they do not hold), `bind` on them (bind roles they do not
    /// hold, which with `create` on RoleBindings or ClusterRoleBindings grants any role), or
    /// `impersonate` users, groups, UIDs, user extras, or service accounts in every namespace.
    /// Wildcard verbs (`*`) include all three. Kubernetes' own components and `cluster-admin`
    /// bindings are left out, and so is impersonating the service accounts of one namespace,
    /// which the default `edit` role grants: it gives nothing that running a pod as them does
    /// not.
    ///
    /// ## Why is this bad?
    /// RBAC stops a subject from granting more than it holds, except through these verbs. A
    /// subject with any of them can become cluster administrator, change every Ingress, read
    /// every TLS key, and remove the checks that would notice. Impersonating the group
    /// `system:masters` bypasses RBAC altogether.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// metadata: {name: support-tools}
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: [users, groups]
    ///     verbs: [impersonate]
    /// ```
    ///
    /// ## How to fix
    /// Keep `escalate`, `bind` and `impersonate` (and `*` verbs on roles) for cluster administrators.
    ///
    /// Where impersonation is needed, limit it with `resourceNames` to the identities it is for.
    pub struct RbacEscalationPath {
        code: "TG807",
        name: "rbac-escalation-path",
        category: Rbac,
        severity: High,
        summary: "A subject can escalate, bind or impersonate its way to more privileges",
        needs: [Role, ClusterRole, RoleBinding, ClusterRoleBinding],
        since: "0.1.0",
    }
}

impl Rule for RbacEscalationPath {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let policy = Policy::new(cx.inventory);
        let rbac = "rbac.authorization.k8s.io";
        let roles = [
            Target::resource(rbac, "roles", None),
            Target::resource(rbac, "clusterroles", None),
        ];
        let mut found = holdings(&policy, &["escalate", "bind"], &roles);
        let identities = [
            Target::resource("", "users", None),
            Target::resource("", "groups", None),
            Target::resource("authentication.k8s.io", "uids", None),
            Target::resource("authentication.k8s.io", "userextras", None),
        ];
        found.extend(holdings(&policy, &["impersonate"], &identities));
        let accounts = [Target::resource("", "serviceaccounts", None)];
        found.extend(
            holdings(&policy, &["impersonate"], &accounts)
                .into_iter()
                .filter(|h| h.grant.scope == GrantScope::ClusterWide),
        );
        for h in found {
            let g = &h.grant;
            let Some(binding) = h.binding_object() else {
                continue;
            };
            out.report(
                binding,
                g.subject_pointer(),
                format!(
                    "{} can {} {} {} ({}): it can grant itself permissions it does not hold",
                    subject_text(g),
                    h.verbs_text(),
                    h.resources.join(", "),
                    h.where_text(),
                    via_text(g),
                ),
            );
        }
    }
}
