use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Services that claim traffic for addresses they do not own:
    /// - any Service with `spec.externalIPs`;
    /// - an `ExternalName` Service whose `externalName` points back into the node or the
    ///   cluster's control plane: `localhost` and names under `.localhost`, `127.0.0.0/8`,
    ///   `0.0.0.0`, the link-local range `169.254.0.0/16` (the cloud metadata endpoint
    ///   `169.254.169.254`), `metadata.google.internal`, and the API server's names
    ///   `kubernetes.default`, `kubernetes.default.svc` and `kubernetes.default.svc.<domain>`.
    ///
    /// An `ExternalName` to an ordinary outside host (`api.payments.example.net`) is not flagged.
    ///
    /// ## Why is this bad?
    /// CVE-2020-8554: whoever may create or edit a Service can set `externalIPs` to any address,
    /// and kube-proxy on every node then sends traffic meant for that address (a public API, a
    /// database, another tenant's load balancer) to their pods. Kubernetes has no fix, only the
    /// `DenyServiceExternalIPs` admission plugin and policies like this one.
    /// An `ExternalName` pointing at localhost, the metadata endpoint or the API server makes the
    /// ingress controller (or any client of the Service) connect there on the caller's behalf:
    /// routed by an Ingress, it publishes the controller's own admin ports, the node's cloud
    /// credentials or the API server.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: payments-gw}
    /// spec:
    ///   selector: {app: mitm}
    ///   externalIPs: [203.0.113.10]
    ///   ports: [{port: 443}]
    /// ```
    ///
    /// ## How to fix
    /// Remove `externalIPs` (use a `LoadBalancer` Service, or MetalLB on bare metal) and point `ExternalName` only at real outside hosts.
    /// Enable the `DenyServiceExternalIPs` admission plugin so that nobody can set them.
    ///
    /// ## References
    /// - CVE-2020-8554 (kubernetes/kubernetes#97076)
    /// - Trivy KSV-0108, Checkov CKV2_K8S_4, Gatekeeper `K8sExternalIPs`,
    ///   Kyverno `restrict-service-external-ips` and `disallow-localhost-services`
    pub struct ServiceExternalIps {
        code: "TG108",
        name: "service-external-ips",
        category: Exposure,
        severity: High,
        summary: "A Service sets externalIPs, or an ExternalName points at localhost, metadata or the API server",
        needs: [Service],
        since: "0.1.0",
    }
}

impl Rule for ServiceExternalIps {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        for (i, object) in cx.inventory.of_kind(Kind::Service) {
            let Resource::Service(svc) = &object.resource else {
                continue;
            };
            let Some(spec) = &svc.spec else { continue };
            let ips: Vec<&str> = spec
                .external_ips
                .iter()
                .flatten()
                .map(String::as_str)
                .filter(|ip| !ip.trim().is_empty())
                .collect();
            if !ips.is_empty() {
                out.report(
                    i,
                    "/spec/externalIPs",
                    format!(
                        "Service `{}` claims traffic for {} on every node (CVE-2020-8554)",
                        object.name,
                        ips.join(", ")
                    ),
                );
            }
            if spec.type_.as_deref() != Some("ExternalName") {
                continue;
            }
            let Some(name) = spec.external_name.as_deref() else {
                continue;
            };
            if let Some(what) = internal_target(name) {
                out.report(
                    i,
                    "/spec/externalName",
                    format!(
                        "ExternalName Service `{}` points at `{name}`, {what}",
                        object.name
                    ),
                )
                .help("point ExternalName only at hosts outside the cluster and its nodes");
            }
        }
    }
}

/// What an `externalName` reaches when it is not an outside host.
fn internal_target(name: &str) -> Option<&'static str> {
    let host = name.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return Some(
            "the loopback interface of whoever connects (the ingress controller's own ports)",
        );
    }
    if let Some(octets) = ipv4(&host) {
        return match octets {
            [127, ..] => Some(
                "the loopback interface of whoever connects (the ingress controller's own ports)",
            ),
            [0, 0, 0, 0] => Some("which connects to the local host"),
            [169, 254, ..] => {
                Some("a link-local address: the cloud metadata endpoint and its credentials")
            }
            _ => None,
        };
    }
    if host == "metadata.google.internal" || host == "metadata" {
        return Some("the cloud metadata endpoint and its credentials");
    }
    if host == "kubernetes.default" || host.starts_with("kubernetes.default.svc") {
        return Some("the Kubernetes API server");
    }
    None
}

fn ipv4(host: &str) -> Option<[u8; 4]> {
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut out = [0u8; 4];
    for (o, p) in out.iter_mut().zip(parts) {
        *o = p.parse().ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::internal_target;

    #[test]
    fn internal_targets_are_loopback_link_local_metadata_and_the_api_server() {
        for name in [
            "localhost",
            "LOCALHOST.",
            "app.localhost",
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "169.254.169.254",
            "metadata.google.internal",
            "kubernetes.default",
            "kubernetes.default.svc.cluster.local",
        ] {
            assert!(internal_target(name).is_some(), "{name}");
        }
        for name in [
            "api.stripe.com",
            "localhost.example.com",
            "10.0.0.1",
            "kubernetes.example.com",
            "db.prod.svc.cluster.local",
        ] {
            assert!(internal_target(name).is_none(), "{name}");
        }
    }
}
