use k8s_openapi::api::networking::v1::{NetworkPolicyIngressRule, NetworkPolicyPeer};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::installation::{self, AbuseKind, AdmissionWebhook, Installation};
use crate::inventory::Inventory;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags the admission webhook of an ingress-nginx installation (a
    /// ValidatingWebhookConfiguration whose `clientConfig.service` is a Service in the
    /// controller's namespace selecting the controller pods) when the controller version is
    /// affected by CVE-2025-1974 and no NetworkPolicy in that namespace restricts who reaches the
    /// controller pods on the webhook port (the container port behind the Service's
    /// `targetPort`, else the port of `--validating-webhook`).
    ///
    /// A NetworkPolicy restricts the port when it selects the controller pods for ingress and
    /// none of its rules that cover the port admits every source: a rule without `from`, an
    /// `ipBlock` of `0.0.0.0/0` or `::/0`, or a `namespaceSelector: {}` without `podSelector`.
    /// Tollgate cannot know the pod network's CIDR, so an `ipBlock` that happens to contain it
    /// counts as a restriction. Versions affected only by the webhook denial of service
    /// (CVE-2026-24514) are reported at that CVE's severity, `medium`. A controller of unknown
    /// version is not judged.
    ///
    /// ## Why is this bad?
    /// The webhook accepts AdmissionReview requests without authentication from anything that
    /// can reach the pod. On an affected version such a request makes the controller load
    /// attacker-controlled configuration: remote code execution with read access to every
    /// Secret in the cluster ("IngressNightmare", 9.8 Critical).
    ///
    /// ## Example
    /// ```yaml
    /// # Deployment ingress-nginx-controller: image ...controller:v1.11.3, --validating-webhook=:8443
    /// # ValidatingWebhookConfiguration ingress-nginx-admission → Service ingress-nginx-controller-admission
    /// # and no NetworkPolicy in namespace ingress-nginx
    /// ```
    ///
    /// ## How to fix
    /// Upgrade to v1.11.5, v1.12.1 or later; until then disable the webhook (`controller.admissionWebhooks.enabled=false`) or allow its port only from the API server's addresses with a NetworkPolicy.
    ///
    /// ## References
    /// - CVE-2025-1974, CVE-2025-24513, CVE-2026-24514; kubernetes/kubernetes#131009;
    ///   trivy-checks PR #374; research/rule-anchors.md ANN-13, NET-07
    pub struct AdmissionWebhookExposed {
        code: "TG405",
        name: "admission-webhook-exposed",
        category: Annotations,
        severity: Critical,
        summary: "A vulnerable ingress-nginx admission webhook is reachable from the pod network",
        needs: [NetworkPolicy],
        since: "0.1.0",
    }
}

/// The CVE whose presence makes the exposure critical.
const NIGHTMARE: &str = "CVE-2025-1974";

impl Rule for AdmissionWebhookExposed {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for inst in &inv.installations {
            let (Some(hook), Some(version)) = (&inst.webhook, &inst.version) else {
                continue;
            };
            let webhook_cves: Vec<_> = installation::cves_affecting(version)
                .into_iter()
                .filter(|c| c.abuses.kind == AbuseKind::AdmissionWebhook)
                .collect();
            let Some(worst) = webhook_cves.iter().map(|c| c.severity).max() else {
                continue;
            };
            let Some(why_open) = exposure(inv, inst, hook) else {
                continue;
            };
            let ids: Vec<&str> = webhook_cves.iter().map(|c| c.id.as_str()).collect();
            let port = match (hook.container_port, &hook.port_name) {
                (Some(n), Some(name)) => format!("port {n} (`{name}`)"),
                (Some(n), None) => format!("port {n}"),
                (None, Some(name)) => format!("port `{name}`"),
                (None, None) => "its port".to_owned(),
            };
            let fix = webhook_cves
                .iter()
                .filter_map(|c| c.fixed_after(version))
                .max();
            let d = out.report(
                hook.configuration,
                format!("/webhooks/{}/clientConfig/service", hook.index),
                format!(
                    "the admission webhook of {}, Service `{}/{}` on controller {port}, is \
                     reachable from the pod network: {why_open}; {} is affected by {}",
                    inst.workload_name(inv),
                    inst.namespace,
                    hook.service_name,
                    inst.name(),
                    ids.join(", ")
                ),
            );
            if let Some(fix) = fix {
                d.help(format!(
                    "upgrade to {fix} or later; until then disable the webhook \
                     (`controller.admissionWebhooks.enabled=false`) or allow its port only from the \
                     API server's addresses with a NetworkPolicy"
                ));
            }
            if !ids.contains(&NIGHTMARE) && worst < Severity::Critical {
                d.severity(worst);
            }
        }
    }
}

/// Why the webhook port is open to the pod network, or `None` when a NetworkPolicy restricts it.
fn exposure(inv: &Inventory, inst: &Installation, hook: &AdmissionWebhook) -> Option<String> {
    let ns = inst.namespace.as_str();
    let policies = inv.policies_for(ns, &[inst.workload]);
    if policies.is_empty() {
        let scanned = if inv.scope.complete {
            ""
        } else {
            " among the scanned objects"
        };
        return Some(format!(
            "no NetworkPolicy{scanned} in namespace `{ns}` selects the controller pods"
        ));
    }
    for &p in &policies {
        let Resource::NetworkPolicy(np) = &inv.objects[p].resource else {
            continue;
        };
        for rule in np.spec.iter().flat_map(|s| s.ingress.iter().flatten()) {
            if covers_port(rule, hook) && admits_everyone(rule) {
                return Some(format!(
                    "NetworkPolicy `{}` admits every source on that port",
                    inv.objects[p].name
                ));
            }
        }
    }
    None
}

/// Whether a rule's ports include the webhook port. A rule without ports covers every port; a
/// port Tollgate could not resolve is only covered by such a rule.
fn covers_port(rule: &NetworkPolicyIngressRule, hook: &AdmissionWebhook) -> bool {
    let Some(ports) = rule.ports.as_ref().filter(|p| !p.is_empty()) else {
        return true;
    };
    ports.iter().any(|p| match &p.port {
        None => true,
        Some(IntOrString::Int(n)) => hook.container_port.is_some_and(|c| {
            let end = p.end_port.unwrap_or(*n);
            (*n..=end).contains(&c)
        }),
        Some(IntOrString::String(name)) => hook.port_name.as_deref() == Some(name),
    })
}

/// Whether a rule admits traffic from anywhere on the pod network (or beyond).
fn admits_everyone(rule: &NetworkPolicyIngressRule) -> bool {
    let Some(from) = rule.from.as_ref().filter(|f| !f.is_empty()) else {
        return true;
    };
    from.iter().any(open_peer)
}

fn open_peer(peer: &NetworkPolicyPeer) -> bool {
    if let Some(block) = &peer.ip_block {
        return block.cidr.ends_with("/0") && block.except.as_ref().is_none_or(Vec::is_empty);
    }
    let all_namespaces = peer.namespace_selector.as_ref().is_some_and(|s| {
        s.match_labels.as_ref().is_none_or(|l| l.is_empty())
            && s.match_expressions.as_ref().is_none_or(|e| e.is_empty())
    });
    let all_pods = peer.pod_selector.as_ref().is_none_or(|s| {
        s.match_labels.as_ref().is_none_or(|l| l.is_empty())
            && s.match_expressions.as_ref().is_none_or(|e| e.is_empty())
    });
    all_namespaces && all_pods
}
