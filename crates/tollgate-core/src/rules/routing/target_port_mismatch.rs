use k8s_openapi::api::core::v1::{Container, PodSpec, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags Service ports whose `targetPort` the selected workloads do not provide, for
    /// Services whose selected workloads are among the scanned objects:
    /// - a **named** `targetPort` (`http`) must be the `name` of a container port with the same
    ///   protocol in every selected workload: the endpoints controller resolves the name per
    ///   pod and leaves out pods that lack it;
    /// - a **numeric** `targetPort` (or none: it defaults to `port`) is flagged for a workload
    ///   that declares container ports but none with that number and protocol. A workload that
    ///   declares no ports at all is not judged: declaring a port is optional, and many charts
    ///   omit it.
    ///
    /// Sidecar containers (init containers with `restartPolicy: Always`) count as containers.
    /// Services without a selector, `ExternalName` Services and Services whose workloads were
    /// not scanned are not judged.
    ///
    /// ## Why is this bad?
    /// With a name no container declares, the Service has no endpoints on that port and every
    /// request through it (from the Ingress controller too) fails with 503, while the pods look
    /// healthy. With a number no container declares, traffic goes to a port nothing is known to
    /// listen on: usually the container's port was changed and the Service was not.
    ///
    /// ## Example
    /// ```yaml
    /// # Deployment web: ports: [{name: web, containerPort: 8080}]
    /// kind: Service
    /// spec:
    ///   ports:
    ///     - port: 80
    ///       targetPort: http   # no container port is named http
    /// ```
    ///
    /// ## How to fix
    /// Set `targetPort` to a container port's name or number, or name the container port as the Service expects.
    ///
    /// ## References
    /// - Popeye POP-1106, kube-linter `invalid-target-ports` (checks the name's syntax only)
    pub struct TargetPortMismatch {
        code: "TG307",
        name: "target-port-mismatch",
        category: Routing,
        severity: High,
        summary: "A Service's targetPort is not a port of the workloads it selects",
        needs: [Service],
        since: "0.1.0",
    }
}

impl Rule for TargetPortMismatch {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        for (s, object) in inv.of_kind(Kind::Service) {
            let Resource::Service(svc) = &object.resource else {
                continue;
            };
            let Some(spec) = &svc.spec else { continue };
            if spec.type_.as_deref() == Some("ExternalName") {
                continue;
            }
            let workloads = inv.selected_workloads(object.ns(), svc);
            if workloads.is_empty() {
                continue;
            }
            for (i, port) in spec.ports.iter().flatten().enumerate() {
                let target = port
                    .target_port
                    .clone()
                    .unwrap_or(IntOrString::Int(port.port));
                let mut lacking = Vec::new();
                let mut offered = Vec::new();
                for &w in &workloads {
                    let Some(pod) = inv.objects[w].pod_spec().map(|(s, _)| s) else {
                        continue;
                    };
                    let ports = container_ports(pod);
                    let provides = match &target {
                        IntOrString::String(name) => ports
                            .iter()
                            .any(|(n, _, proto)| n == name && proto == protocol(port)),
                        // Undeclared ports are allowed; only a workload that declares some is judged.
                        IntOrString::Int(n) => {
                            ports.is_empty()
                                || ports.iter().any(|(_, number, proto)| {
                                    number == n && proto == protocol(port)
                                })
                        }
                    };
                    if !provides {
                        lacking.push(w);
                        offered.extend(ports.iter().map(|(name, number, proto)| {
                            let proto = if proto == "TCP" && protocol(port) == "TCP" {
                                String::new()
                            } else {
                                format!("/{proto}")
                            };
                            if name.is_empty() {
                                format!("{number}{proto}")
                            } else {
                                format!("{name}:{number}{proto}")
                            }
                        }));
                    }
                }
                if lacking.is_empty() {
                    continue;
                }
                offered.sort();
                offered.dedup();
                let names: Vec<String> = lacking
                    .iter()
                    .map(|&w| format!("{} `{}`", inv.objects[w].kind, inv.objects[w].name))
                    .collect();
                let all = lacking.len() == workloads.len();
                let proto = match protocol(port) {
                    "TCP" => String::new(),
                    other => format!("{other} "),
                };
                let (target_text, wanted, consequence) = match &target {
                    IntOrString::String(name) => (
                        format!("targetPort `{name}`"),
                        format!("{proto}port named `{name}`"),
                        if all {
                            "the Service has no endpoints on this port"
                        } else {
                            "their pods get no traffic on this port"
                        },
                    ),
                    IntOrString::Int(n) => (
                        if port.target_port.is_some() {
                            format!("targetPort {n}")
                        } else {
                            format!("targetPort {n} (defaulted from `port`)")
                        },
                        format!("{proto}port {n}"),
                        if all {
                            "traffic goes to a port nothing is known to listen on"
                        } else {
                            "their pods get traffic on a port they are not known to listen on"
                        },
                    ),
                };
                let verb = if lacking.len() == 1 {
                    "declares"
                } else {
                    "declare"
                };
                let declared = if offered.is_empty() {
                    "no ports declared".to_owned()
                } else {
                    format!("declared: {}", offered.join(", "))
                };
                let pointer = if port.target_port.is_some() {
                    format!("/spec/ports/{i}/targetPort")
                } else {
                    format!("/spec/ports/{i}/port")
                };
                out.report(
                    s,
                    pointer,
                    format!(
                        "{target_text} of port {}: {} {verb} no {wanted} ({declared}); {consequence}",
                        port.port,
                        names.join(", "),
                    ),
                );
            }
        }
    }
}

fn protocol(port: &ServicePort) -> &str {
    port.protocol.as_deref().unwrap_or("TCP")
}

/// `(name, containerPort, protocol)` of every container port, sidecars included.
pub(super) fn container_ports(pod: &PodSpec) -> Vec<(String, i32, String)> {
    let sidecars = pod
        .init_containers
        .iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    pod.containers
        .iter()
        .chain(sidecars)
        .flat_map(|c: &Container| c.ports.iter().flatten())
        .map(|p| {
            (
                p.name.clone().unwrap_or_default(),
                p.container_port,
                p.protocol.clone().unwrap_or_else(|| "TCP".to_owned()),
            )
        })
        .collect()
}
