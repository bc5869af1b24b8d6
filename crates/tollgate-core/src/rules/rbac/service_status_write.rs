use super::{holdings, subject_text, via_text};
use crate::rbac::{Policy, Target};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags subjects that can update or patch the `status` of Services, other than Kubernetes'
    /// own components and `cluster-admin` bindings.
    ///
    /// ## Why is this bad?
    /// CVE-2020-8554: kube-proxy sends traffic for a Service's `status.loadBalancer.ingress`
    /// IPs to that Service's pods, on every node. Whoever can write it can claim any IP,
    /// the ingress controller's load balancer or an external API included, and receive the
    /// cluster's traffic to it. Kubernetes did not fix this in code; the advice is to restrict
    /// who may patch `services/status`. Load-balancer controllers (a cloud controller manager,
    /// MetalLB, kube-vip) need it; nobody else does.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Role
    /// metadata: {name: ci-deployer, namespace: storefront}
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: [services, services/status]
    ///     verbs: [get, update, patch]
    /// ```
    ///
    /// ## How to fix
    /// Remove `services/status` and `*/status` from every role but the load-balancer controller's.
    ///
    /// If the subject is your load-balancer controller, suppress the finding with that reason.
    /// Restricting who may patch `services/status` is the Kubernetes advisory's own mitigation
    /// for the load-balancer half of the CVE.
    pub struct ServiceStatusWrite {
        code: "TG803",
        name: "service-status-write",
        category: Rbac,
        severity: High,
        summary: "A subject can write Service status and claim any load-balancer IP (CVE-2020-8554)",
        needs: [Role, ClusterRole, RoleBinding, ClusterRoleBinding],
        since: "0.1.0",
    }
}

impl Rule for ServiceStatusWrite {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let policy = Policy::new(cx.inventory);
        let target = Target::resource("", "services", Some("status"));
        for h in holdings(&policy, &["update", "patch"], &[target]) {
            let g = &h.grant;
            let Some(binding) = h.binding_object() else {
                continue;
            };
            out.report(
                binding,
                g.subject_pointer(),
                format!(
                    "{} can {} the status of Services {} ({}): it can set \
                     `status.loadBalancer.ingress` to any IP and intercept the cluster's traffic \
                     to it (CVE-2020-8554)",
                    subject_text(g),
                    h.verbs_text(),
                    h.where_text(),
                    via_text(g),
                ),
            );
        }
    }
}
