use super::{holdings, subject_text, via_text};
use crate::rbac::{Policy, Target};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags subjects that can create, update or patch Endpoints or EndpointSlices, other than
    /// Kubernetes' own components (the endpoint and EndpointSlice controllers) and
    /// `cluster-admin` bindings.
    ///
    /// ## Why is this bad?
    /// CVE-2021-25740: a Service's endpoints may hold any IP, pods of other namespaces and
    /// addresses outside the cluster included, and ingress controllers route to them. Whoever
    /// can write them can send an Ingress's traffic (with its `Host`, cookies and credentials) to
    /// a pod they control in another namespace, around NetworkPolicies that trust the
    /// controller. Kubernetes removed this permission from the default `edit` and `admin` roles
    /// for that reason; the Endpoints and EndpointSlice controllers write them from Service
    /// selectors.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Role
    /// metadata: {name: service-manager, namespace: storefront}
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: [endpoints]
    ///     verbs: [create, update, patch]
    /// ```
    ///
    /// ## How to fix
    /// Remove `endpoints` and `endpointslices` write from the role; give the Service a selector.
    ///
    /// A Service for an external address should be an `ExternalName` Service, or its endpoints
    /// created once by the platform team.
    pub struct EndpointWriteAccess {
        code: "TG804",
        name: "endpoint-write-access",
        category: Rbac,
        severity: Medium,
        summary: "A subject can write Endpoints or EndpointSlices and redirect a Service's traffic (CVE-2021-25740)",
        needs: [Role, ClusterRole, RoleBinding, ClusterRoleBinding],
        since: "0.1.0",
    }
}

impl Rule for EndpointWriteAccess {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let policy = Policy::new(cx.inventory);
        let targets = [
            Target::resource("", "endpoints", None),
            Target::resource("discovery.k8s.io", "endpointslices", None),
        ];
        for h in holdings(&policy, &["create", "update", "patch"], &targets) {
            let g = &h.grant;
            let Some(binding) = h.binding_object() else {
                continue;
            };
            out.report(
                binding,
                g.subject_pointer(),
                format!(
                    "{} can {} {} {} ({}): it can send a Service's traffic, Ingress routes \
                     included, to any IP (CVE-2021-25740)",
                    subject_text(g),
                    h.verbs_text(),
                    h.resources.join(" and "),
                    h.where_text(),
                    via_text(g),
                ),
            );
        }
    }
}
