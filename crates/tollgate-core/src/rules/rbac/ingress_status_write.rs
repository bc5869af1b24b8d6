use super::{controller_accounts, holdings, is_controller_account, subject_text, via_text};
use crate::rbac::{Policy, Target};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags subjects that can update or patch the `status` of Ingresses, other than the
    /// ingress controllers' own service accounts (found from their Deployments, DaemonSets and
    /// StatefulSets), Kubernetes' own components and `cluster-admin` bindings.
    ///
    /// ## Why is this bad?
    /// An Ingress's `status.loadBalancer` says where its hosts are served. external-dns
    /// publishes it as DNS records, and dashboards, cert-manager HTTP-01 checks and people trust
    /// it. Whoever can write it can point a production hostname at an address they control,
    /// without touching the route itself, and without the admission checks that guard
    /// Ingresses, which do not see status updates. Only the controller that serves the Ingress
    /// should write it.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// metadata: {name: release-tooling}
    /// rules:
    ///   - apiGroups: [networking.k8s.io]
    ///     resources: [ingresses/status]
    ///     verbs: [update, patch]
    /// ```
    ///
    /// ## How to fix
    /// Remove `ingresses/status` (and `*/status`) from every role but the ingress controller's.
    /// If the subject is an ingress controller Tollgate does not recognise, suppress the finding
    /// with that reason.
    pub struct IngressStatusWrite {
        code: "TG802",
        name: "ingress-status-write",
        category: Rbac,
        severity: Medium,
        summary: "A subject other than the ingress controller can write Ingress status",
        needs: [Role, ClusterRole, RoleBinding, ClusterRoleBinding],
        since: "0.1.0",
    }
}

impl Rule for IngressStatusWrite {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let policy = Policy::new(cx.inventory);
        let controllers = controller_accounts(cx.inventory);
        let target = Target::resource("networking.k8s.io", "ingresses", Some("status"));
        for h in holdings(&policy, &["update", "patch"], &[target]) {
            let g = &h.grant;
            if is_controller_account(g, &controllers) {
                continue;
            }
            let Some(binding) = h.binding_object() else {
                continue;
            };
            out.report(
                binding,
                g.subject_pointer(),
                format!(
                    "{} can {} the status of Ingresses {} ({}): it can rewrite \
                     `status.loadBalancer`, which external-dns publishes as DNS records",
                    subject_text(g),
                    h.verbs_text(),
                    h.where_text(),
                    via_text(g),
                ),
            );
        }
    }
}
