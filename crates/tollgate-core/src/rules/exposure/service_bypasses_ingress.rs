use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;

use crate::controller::Controller;
use crate::inventory::Route;
use crate::rules::prelude::*;

declare_rule! {
    /// ## What it does
    /// Flags a `NodePort` or `LoadBalancer` Service that selects pods an Ingress routes to
    /// through another Service (or that is itself an Ingress backend of a controller that does
    /// not need node ports). The pods are matched through the workloads in scope; when no
    /// workload of the namespace was scanned, a Service whose selector is contained in the
    /// routed Service's selector is taken to select the same pods.
    ///
    /// Not flagged:
    /// - a `NodePort` Service that is the backend of a GKE (`gce`) or AWS ALB Ingress: those
    ///   load balancers send traffic to node ports, so the Service type is what they require;
    /// - a `LoadBalancer` or `NodePort` Service whose pods no Ingress routes to, such as the
    ///   ingress controller's own Service or a UDP game server (other tools flag every such
    ///   Service; this rule only flags the ones that go around an Ingress);
    /// - a `ClusterIP` or headless Service beside the routed one.
    ///
    /// ## Why is this bad?
    /// Whatever the ingress tier enforces for the route (TLS, authentication, IP allow-lists,
    /// rate limits, a WAF) is absent on the node ports and on the Service's own load balancer.
    /// A "temporary" direct load balancer for a load test or a debugging session is the usual
    /// origin, and it stays reachable long after the Ingress was hardened.
    ///
    /// ## Example
    /// ```yaml
    /// # Ingress storefront/web routes shop.example.com to Service web (selector app=web)
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: web-direct, namespace: storefront}
    /// spec:
    ///   type: LoadBalancer
    ///   selector: {app: web}
    /// ```
    ///
    /// ## How to fix
    /// Delete the extra Service, or make it `type: ClusterIP`, so that the pods are reached only through the Ingress.
    /// If a second entry point is really needed, give it the same controls as the Ingress
    /// (`loadBalancerSourceRanges`, TLS at the load balancer, NetworkPolicies).
    ///
    /// ## References
    /// - kube-linter `exposed-services`, kube-score `service-type`, kubescape C-0256,
    ///   Popeye POP-1103/POP-1104, Kyverno `restrict-node-port` / `restrict-loadbalancer`,
    ///   Gatekeeper `K8sBlockNodePort` / `K8sBlockLoadBalancer`, Datree rule 7 (all of them flag
    ///   every such Service, routed or not)
    pub struct ServiceBypassesIngress {
        code: "TG107",
        name: "service-bypasses-ingress",
        category: Exposure,
        severity: Medium,
        summary: "A NodePort or LoadBalancer Service reaches pods that an Ingress routes to",
        needs: [Service],
        since: "0.1.0",
    }
}

impl Rule for ServiceBypassesIngress {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        // Service object index → the routes that reach it.
        let mut routed: BTreeMap<usize, Vec<&Route>> = BTreeMap::new();
        for route in &inv.routes {
            if let Some(svc) = route.service {
                routed.entry(svc).or_default().push(route);
            }
        }
        if routed.is_empty() {
            return;
        }
        // Namespace → routed Services: a Service selects pods of its own namespace only.
        let mut routed_in: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &r in routed.keys() {
            routed_in.entry(inv.objects[r].ns()).or_default().push(r);
        }
        for (s, object) in inv.of_kind(Kind::Service) {
            let Resource::Service(svc) = &object.resource else {
                continue;
            };
            let Some(kind) = exposed_type(svc) else {
                continue;
            };
            let ns = object.ns();
            // The Service is itself an Ingress backend.
            if let Some(own) = routed.get(&s) {
                let needs_node_ports = own.iter().all(|r| {
                    matches!(
                        r.ingress
                            .and_then(|i| inv.ingresses[i].class.controller.clone()),
                        Some(Controller::Gce | Controller::AwsAlb)
                    )
                });
                if kind == "NodePort" && needs_node_ports {
                    continue;
                }
                let route = own[0];
                let ingress = &inv.objects[route.object];
                out.report(
                    s,
                    "/spec/type",
                    format!(
                        "`{kind}` Service `{}` is the backend of Ingress {}/{}{} and is also \
                         reachable on a port of every node{}, bypassing the ingress tier{}",
                        object.name,
                        ingress.ns(),
                        ingress.name,
                        more(own.len()),
                        if kind == "LoadBalancer" {
                            " and through its own load balancer"
                        } else {
                            ""
                        },
                        controls(route),
                    ),
                )
                .help("make the Service `type: ClusterIP`; the Ingress controller reaches it inside the cluster");
                continue;
            }
            // Another Service is the Ingress backend for the same pods.
            let mine = inv.selected_workloads(ns, svc);
            let candidates = routed_in.get(ns).map_or(&[][..], Vec::as_slice);
            let found = candidates.iter().find_map(|r| {
                let other = &inv.objects[*r];
                let Resource::Service(other_svc) = &other.resource else {
                    return None;
                };
                let route = routed[r][0];
                if !mine.is_empty() {
                    let shared = route.workloads.iter().find(|w| mine.contains(w))?;
                    return Some((other, route, Some(*shared)));
                }
                selector_contained(svc, other_svc).then_some((other, route, None))
            });
            let Some((other, route, workload)) = found else {
                continue;
            };
            let ingress = &inv.objects[route.object];
            let pods = match workload {
                Some(w) => {
                    let w = &inv.objects[w];
                    format!(
                        "the pods of {} `{}`, which Ingress {}/{} routes to through Service `{}`",
                        w.kind,
                        w.name,
                        ingress.ns(),
                        ingress.name,
                        other.name
                    )
                }
                None => format!(
                    "every pod of Service `{}` (its selector is a subset of `{}`'s), which \
                     Ingress {}/{} routes to",
                    other.name,
                    other.name,
                    ingress.ns(),
                    ingress.name
                ),
            };
            out.report(
                s,
                "/spec/type",
                format!(
                    "`{kind}` Service `{}` selects {pods}: they are reachable bypassing the \
                     ingress tier{}",
                    object.name,
                    controls(route),
                ),
            );
        }
    }
}

/// `NodePort` or `LoadBalancer`, the types that open the pods to traffic from outside.
fn exposed_type(svc: &Service) -> Option<&'static str> {
    match svc.spec.as_ref()?.type_.as_deref()? {
        "NodePort" => Some("NodePort"),
        "LoadBalancer" => Some("LoadBalancer"),
        _ => None,
    }
}

/// Whether every pod `routed` selects is also selected by `exposed`: the exposed Service's
/// selector is non-empty and each of its labels is required by the routed one.
fn selector_contained(exposed: &Service, routed: &Service) -> bool {
    let selector = |s: &Service| s.spec.as_ref().and_then(|sp| sp.selector.clone());
    match (selector(exposed), selector(routed)) {
        (Some(e), Some(r)) if !e.is_empty() => e.iter().all(|(k, v)| r.get(k) == Some(v)),
        _ => false,
    }
}

fn more(n: usize) -> String {
    if n > 1 {
        format!(" (and {} more routes)", n - 1)
    } else {
        String::new()
    }
}

/// The controls of the route that the bypass loses, as ` and the route's TLS and
/// authentication (basic)`.
fn controls(route: &Route) -> String {
    use crate::inventory::Control;
    let mut lost = Vec::new();
    if route.tls_secret.is_some() {
        lost.push("TLS".to_owned());
    }
    for (what, control) in [
        ("authentication", &route.posture.auth),
        ("IP allow-list", &route.posture.allowlist),
        ("rate limit", &route.posture.rate_limit),
        ("WAF", &route.posture.waf),
    ] {
        if let Control::Yes(detail) = control {
            lost.push(format!("{what} ({detail})"));
        }
    }
    match lost.split_last() {
        None => String::new(),
        Some((last, [])) => format!(" and the route's {last}"),
        Some((last, rest)) => format!(" and the route's {} and {last}", rest.join(", ")),
    }
}
