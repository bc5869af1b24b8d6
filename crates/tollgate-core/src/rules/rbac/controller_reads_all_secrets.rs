use std::collections::BTreeMap;

use super::{controller_accounts, via_text};
use crate::rbac::{GrantScope, Identity, Policy, Query, Target};
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Finds the service account of each ingress controller (every ingress-nginx installation,
    /// and every workload running a known ingress controller image) and flags the role rules
    /// that let it get, list or watch Secrets in every namespace. The ingress-nginx Helm chart
    /// and its static manifests grant exactly that, so that any Ingress can name any TLS Secret.
    ///
    /// ## Why is this bad?
    /// The controller is the most exposed workload of the cluster: it parses every request from
    /// the internet, and its configuration is written by every team that can create an Ingress.
    /// Code execution in it has happened, unauthenticated, more than once: CVE-2025-1974
    /// ("IngressNightmare", through the admission webhook), and the annotation injections
    /// CVE-2021-25742, CVE-2023-5044 and CVE-2025-1097/1098/24514. With a service account that
    /// reads every Secret, such a bug hands over every service account token, database password
    /// and TLS key of the cluster, not just the controller's own.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// metadata: {name: ingress-nginx}
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: [configmaps, endpoints, nodes, pods, secrets, namespaces]
    ///     verbs: [list, watch]
    /// ```
    ///
    /// ## How to fix
    /// Let the controller read Secrets only in the namespaces whose Ingresses it serves.
    ///
    /// Watch a list of namespaces (`--watch-namespace`, or the chart's `controller.scope.enabled`)
    /// with a Role in each, or run one controller per team. Keep the controller patched (v1.11.5
    /// or v1.12.1 and later for CVE-2025-1974) and its admission webhook reachable from the API
    /// server only (`admission-webhook-exposed`).
    pub struct ControllerReadsAllSecrets {
        code: "TG805",
        name: "controller-reads-all-secrets",
        category: Rbac,
        severity: Medium,
        summary: "The ingress controller's service account can read Secrets in every namespace",
        needs: [ClusterRole, ClusterRoleBinding, Deployment],
        since: "0.1.0",
    }
}

impl Rule for ControllerReadsAllSecrets {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let accounts = controller_accounts(cx.inventory);
        if accounts.is_empty() {
            return;
        }
        let policy = Policy::new(cx.inventory);
        let secrets = Target::resource("", "secrets", None);
        let answers: Vec<_> = ["get", "list", "watch"]
            .into_iter()
            .map(|verb| (verb, policy.who_can(&Query::new(verb, secrets.clone()))))
            .collect();
        for account in accounts {
            let identity = Identity::service_account(&account.namespace, &account.name);
            // One finding per granting rule (or binding, for a role not in the input).
            let mut found: BTreeMap<(usize, String), (Vec<&str>, String)> = BTreeMap::new();
            for (verb, answer) in &answers {
                for g in answer.grants_to(&identity) {
                    if g.scope != GrantScope::ClusterWide {
                        continue;
                    }
                    let place = match g.rule.role.object {
                        Some(role) => (role, g.rule.pointer()),
                        None => match g.binding.object {
                            Some(binding) => (binding, g.subject_pointer()),
                            None => continue,
                        },
                    };
                    let entry = found
                        .entry(place)
                        .or_insert_with(|| (Vec::new(), via_text(g)));
                    if !entry.0.contains(verb) {
                        entry.0.push(verb);
                    }
                }
            }
            let workload = &cx.inventory.objects[account.workload];
            for ((object, pointer), (verbs, via)) in found {
                out.report(
                    object,
                    pointer,
                    format!(
                        "the ingress controller's service account `{}/{}` ({}, {} {}/{}) can {} \
                         Secrets in every namespace ({via}): code execution in the controller, \
                         such as CVE-2025-1974 through its admission webhook, reads every Secret \
                         of the cluster, other teams' TLS keys and service account tokens included",
                        account.namespace,
                        account.name,
                        account.controller,
                        workload.kind,
                        workload.ns(),
                        workload.name,
                        verbs.join(", "),
                    ),
                );
            }
        }
    }
}
