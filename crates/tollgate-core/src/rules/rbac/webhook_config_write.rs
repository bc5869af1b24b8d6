use super::{holdings, subject_text, via_text};
use crate::rbac::{Policy, Target, WRITE_VERBS};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags subjects that can create, change or delete validating or mutating webhook
    /// configurations, ValidatingAdmissionPolicies or their bindings, other than Kubernetes'
    /// own components and `cluster-admin` bindings. A rule limited to named configurations
    /// (`resourceNames`) is not flagged.
    ///
    /// ## Why is this bad?
    /// Admission checks are what stop a dangerous Ingress before it is stored: the
    /// ingress-nginx validating webhook, policy engines (Kyverno, Gatekeeper), and Tollgate's
    /// own. Whoever can change their configuration can switch them off (delete the
    /// configuration, narrow its rules, set `failurePolicy: Ignore`) or send every Ingress to a
    /// webhook of their own that sees, and mutates, everything.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// metadata: {name: platform-bot}
    /// rules:
    ///   - apiGroups: [admissionregistration.k8s.io]
    ///     resources: [validatingwebhookconfigurations]
    ///     verbs: [get, list, update, patch, delete]
    /// ```
    ///
    /// ## How to fix
    /// Leave admission configuration to cluster administrators; others name theirs in `resourceNames`.
    ///
    /// A component that must patch its own webhook (a CA injector such as cert-manager's
    /// cainjector, a chart's certificate job) should name it in `resourceNames`.
    /// ```yaml
    ///   - apiGroups: [admissionregistration.k8s.io]
    ///     resources: [validatingwebhookconfigurations]
    ///     resourceNames: [ingress-nginx-admission]
    ///     verbs: [get, update]
    /// ```
    pub struct WebhookConfigWrite {
        code: "TG806",
        name: "webhook-config-write",
        category: Rbac,
        severity: High,
        summary: "A subject can change or remove the admission webhooks and policies that guard Ingresses",
        needs: [ClusterRole, ClusterRoleBinding],
        since: "0.1.0",
    }
}

impl Rule for WebhookConfigWrite {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let policy = Policy::new(cx.inventory);
        let group = "admissionregistration.k8s.io";
        let targets = [
            "validatingwebhookconfigurations",
            "mutatingwebhookconfigurations",
            "validatingadmissionpolicies",
            "validatingadmissionpolicybindings",
        ]
        .map(|r| Target::resource(group, r, None));
        for h in holdings(&policy, &WRITE_VERBS, &targets) {
            let g = &h.grant;
            let Some(binding) = h.binding_object() else {
                continue;
            };
            out.report(
                binding,
                g.subject_pointer(),
                format!(
                    "{} can {} {} {} ({}): it can switch off the admission checks that guard \
                     Ingresses",
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
