use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{ConfigMap, PodSpec};

use super::tls_from_annotations;
use crate::controller::Controller;
use crate::inventory::{IngressEntry, Inventory};
use crate::rules::prelude::*;
use crate::yaml::escape_segment;

declare_rule! {
    /// ## What it does
    /// Flags Ingresses that have TLS but still answer plain HTTP with the application instead
    /// of a redirect, judged by what the serving controller really does by default:
    ///
    /// | controller | plain HTTP is served when |
    /// |---|---|
    /// | ingress-nginx | `nginx.ingress.kubernetes.io/ssl-redirect: "false"` and no `force-ssl-redirect: "true"`. Without the annotations the controller ConfigMap's `ssl-redirect` / `force-ssl-redirect` apply (found through the controller's `--configmap` flag), and by default it redirects. |
    /// | GKE (`gce`) | `kubernetes.io/ingress.allow-http` is not `"false"` and no `FrontendConfig` (which can redirect) is attached. GKE serves port 80 by default. |
    /// | Traefik | the router is not TLS-only (`router.tls: "true"`), its `router.entrypoints` include `web` or are not set (all entry points), no router middleware looks like a redirect, and the Traefik Deployment does not redirect the `web` entry point (`--entrypoints.web.http.redirections.entrypoint.to`). `spec.tls` alone only loads certificates. |
    /// | AWS ALB | `listen-ports` has an `HTTP` listener and no Ingress of the same `group.name` sets `ssl-redirect`, nor is a redirect-to-HTTPS action used. Without `listen-ports` an ALB with a certificate listens on HTTPS 443 only. |
    /// | Contour | no `ingress.kubernetes.io/force-ssl-redirect: "true"` and no `kubernetes.io/ingress.allow-http: "false"`. |
    /// | NGINX Inc. | `ingress.kubernetes.io/ssl-redirect: "false"` and no `nginx.org/redirect-to-https: "true"`. |
    ///
    /// An Ingress without any TLS is `tls-missing`'s, and a host missing from `spec.tls` is
    /// `tls-host-not-covered`'s; this rule does not repeat them. Ingresses of other or unknown
    /// controllers (HAProxy, Kong, an unresolved class) are not judged: their defaults vary
    /// with their global configuration, and a guess would be wrong for half of them.
    ///
    /// A Gateway API HTTPRoute or GRPCRoute is reported when it is attached to an HTTPS listener
    /// and also to a plain `HTTP` listener with rules that send traffic to backends: the Gateway
    /// API never redirects by itself (a `parentRefs` entry without `sectionName` attaches to
    /// every listener).
    ///
    /// ## Why is this bad?
    /// A site reachable over `http://` can be downgraded: a first request typed without the
    /// scheme, an old bookmark or a link crosses the network in clear text, with its cookies,
    /// and an attacker on the path can answer it. The TLS certificate then protects only
    /// visitors who already knew to use HTTPS.
    /// The annotations that prevent it differ per controller, so a check that demands GKE's
    /// `allow-http` of every Ingress is wrong for ingress-nginx, which redirects by default.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/ssl-redirect: "false"
    /// spec:
    ///   ingressClassName: nginx
    ///   tls: [{hosts: [shop.example.com], secretName: shop-tls}]
    /// ```
    ///
    /// ## How to fix
    /// Redirect HTTP to HTTPS, or stop listening on HTTP, with the serving controller's own setting.
    /// ingress-nginx: remove `ssl-redirect: "false"` (or set `force-ssl-redirect: "true"`).
    /// GKE: `kubernetes.io/ingress.allow-http: "false"`, or a FrontendConfig with
    /// `redirectToHttps`. Traefik: `router.entrypoints: websecure` or a redirect middleware.
    /// ALB: `alb.ingress.kubernetes.io/ssl-redirect: "443"`.
    ///
    /// ## References
    /// - Kyverno `require-ingress-https` (`has-annotation`), Gatekeeper `K8sHttpsOnly` (both
    ///   demand `kubernetes.io/ingress.allow-http: "false"` whatever the controller:
    ///   gatekeeper-library#77)
    /// - ingress-nginx annotations `ssl-redirect` (default true with TLS) and `force-ssl-redirect`
    pub struct PlainHttpAllowed {
        code: "TG202",
        name: "plain-http-allowed",
        category: Tls,
        severity: Medium,
        summary: "An Ingress with TLS still serves plain HTTP",
        needs: [],
        since: "0.1.0",
    }
}

const NGINX: &str = "nginx.ingress.kubernetes.io/";
const ALLOW_HTTP: &str = "kubernetes.io/ingress.allow-http";
const GKE_FRONTEND_CONFIG: &str = "networking.gke.io/v1beta1.FrontendConfig";
const TRAEFIK: &str = "traefik.ingress.kubernetes.io/";
const ALB: &str = "alb.ingress.kubernetes.io/";

/// Why plain HTTP is served, and the field to point at.
struct Verdict {
    pointer: String,
    message: String,
}

impl Rule for PlainHttpAllowed {
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics) {
        let inv = cx.inventory;
        let controllers = Controllers::read(inv);
        for entry in &inv.ingresses {
            let (object, ing) = inv.ingress(entry);
            let spec_tls = ing
                .spec
                .as_ref()
                .is_some_and(|s| s.tls.as_ref().is_some_and(|t| !t.is_empty()));
            let verdict = match &entry.class.controller {
                Some(Controller::IngressNginx) if spec_tls => nginx(&controllers, entry, object),
                Some(Controller::Gce)
                    if spec_tls
                        || tls_from_annotations(object, Some(&Controller::Gce)).is_some() =>
                {
                    gce(object)
                }
                Some(Controller::Traefik) => traefik(&controllers, object, spec_tls),
                Some(Controller::AwsAlb)
                    if spec_tls
                        || tls_from_annotations(object, Some(&Controller::AwsAlb)).is_some() =>
                {
                    alb(&controllers, object)
                }
                Some(Controller::Contour) if spec_tls => contour(object),
                Some(Controller::NginxInc) if spec_tls => nginx_inc(object),
                _ => None,
            };
            let Some(v) = verdict else { continue };
            let d = out.report(entry.object, v.pointer, v.message);
            if let Some(host) = first_host(ing) {
                d.host(host);
            }
        }
        // A Gateway API route attached to HTTPS and to plain HTTP listeners serves its
        // backends on both: the Gateway API redirects nothing by itself.
        for s in crate::rules::gateway_api::served_routes(inv) {
            if s.https.is_empty() || s.http.is_empty() {
                continue;
            }
            let entry = &inv.gateway_routes[s.route];
            let d = out.report(
                entry.object,
                "/spec/parentRefs",
                format!(
                    "served over HTTPS ({}) and also over plain HTTP on listener {}, where the \
                     Gateway API does not redirect: the backends answer unencrypted requests",
                    crate::rules::gateway_api::list(&s.https),
                    crate::rules::gateway_api::list(&s.http)
                ),
            );
            d.help(
                "Attach the route to the HTTPS listener only (`sectionName`), and attach a \
                 separate route with a `RequestRedirect` filter (`scheme: https`) to the HTTP \
                 listener.",
            );
            if let Some(h) = s.hosts.iter().next() {
                d.host(h.clone());
            }
        }
    }
}

fn annotation_pointer(key: &str) -> String {
    format!("/metadata/annotations/{}", escape_segment(key))
}

fn first_host(ing: &k8s_openapi::api::networking::v1::Ingress) -> Option<String> {
    let spec = ing.spec.as_ref()?;
    spec.rules
        .iter()
        .flatten()
        .filter_map(|r| r.host.clone())
        .chain(
            spec.tls
                .iter()
                .flatten()
                .flat_map(|t| t.hosts.iter().flatten().cloned()),
        )
        .find(|h| !h.is_empty())
}

/// Go's `strconv.ParseBool`, which ingress-nginx uses for boolean annotations and settings.
fn parse_bool(v: &str) -> Option<bool> {
    match v.trim() {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn nginx(controllers: &Controllers<'_>, entry: &IngressEntry, object: &Object) -> Option<Verdict> {
    let annotation = |k: &str| {
        let key = format!("{NGINX}{k}");
        object
            .annotation(&key)
            .and_then(parse_bool)
            .map(|b| (b, key))
    };
    let config = controllers.nginx_config(entry);
    let setting = |k: &str| {
        config.and_then(|(o, cm)| {
            let v = cm.data.as_ref()?.get(k)?;
            Some((parse_bool(v)?, o))
        })
    };
    let force = annotation("force-ssl-redirect")
        .map(|(b, _)| b)
        .or_else(|| setting("force-ssl-redirect").map(|(b, _)| b))
        .unwrap_or(false);
    if force {
        return None;
    }
    if let Some((redirect, key)) = annotation("ssl-redirect") {
        return (!redirect).then(|| Verdict {
            message: format!(
                "`{key}: \"{}\"` turns off ingress-nginx's redirect to HTTPS",
                object.annotation(&key).unwrap_or_default()
            ),
            pointer: annotation_pointer(&key),
        });
    }
    match setting("ssl-redirect") {
        Some((false, cm)) => Some(Verdict {
            pointer: "/spec/tls".into(),
            message: format!(
                "the controller ConfigMap {}/{} sets `ssl-redirect: \"false\"` and this Ingress \
                 does not set `{NGINX}ssl-redirect` or `force-ssl-redirect`",
                cm.ns(),
                cm.name
            ),
        }),
        _ => None,
    }
}

/// What the controller workloads in scope say, read once per run.
struct Controllers<'a> {
    inv: &'a Inventory,
    /// ingress-nginx controller containers.
    nginx: Vec<NginxController<'a>>,
    /// Whether a Traefik container redirects its `web` entry point to HTTPS globally
    /// (`--entrypoints.web.http.redirections.entrypoint.to=...`).
    traefik_redirects_web: bool,
    /// AWS ALB IngressGroups in which an Ingress sets `ssl-redirect`.
    alb_redirect_groups: BTreeSet<&'a str>,
}

/// One ingress-nginx controller container and the flags that matter here.
struct NginxController<'a> {
    controller_class: String,
    ingress_class: Option<String>,
    config: Option<&'a Object>,
}

impl<'a> Controllers<'a> {
    fn read(inv: &'a Inventory) -> Controllers<'a> {
        let mut nginx = Vec::new();
        let mut traefik_redirects_web = false;
        for (object, pod) in pod_specs(inv) {
            for c in &pod.containers {
                let image = c.image.as_deref().unwrap_or_default();
                let args: Vec<&str> = c.args.iter().flatten().map(String::as_str).collect();
                if image.contains("traefik") {
                    traefik_redirects_web |= args.iter().any(|a| {
                        a.to_ascii_lowercase()
                            .starts_with("--entrypoints.web.http.redirections.entrypoint.to=")
                    });
                }
                if !image.contains("ingress-nginx/controller") {
                    continue;
                }
                let flag = |name: &str| {
                    args.iter()
                        .find_map(|a| a.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
                };
                let config = flag("--configmap").and_then(|cm| {
                    let cm = cm.replace("$(POD_NAMESPACE)", object.ns());
                    let (ns, name) = cm.split_once('/').unwrap_or((object.ns(), cm.as_str()));
                    inv.get(Kind::ConfigMap, ns, name)
                });
                nginx.push(NginxController {
                    controller_class: flag("--controller-class")
                        .unwrap_or("k8s.io/ingress-nginx")
                        .to_owned(),
                    ingress_class: flag("--ingress-class").map(str::to_owned),
                    config,
                });
            }
        }
        let alb_redirect_groups = inv
            .of_kind(Kind::Ingress)
            .filter(|(_, o)| o.annotation(&format!("{ALB}ssl-redirect")).is_some())
            .filter_map(|(_, o)| o.annotation(&format!("{ALB}group.name")))
            .collect();
        Controllers {
            inv,
            nginx,
            traefik_redirects_web,
            alb_redirect_groups,
        }
    }

    /// The ConfigMap of the ingress-nginx controller serving `entry`: the `--configmap` of a
    /// controller whose `--controller-class` (default `k8s.io/ingress-nginx`) is the
    /// IngressClass's `spec.controller` and whose `--ingress-class`, when given, is the
    /// Ingress's class. `None` when no such controller is in scope, or when several disagree.
    fn nginx_config(&self, entry: &IngressEntry) -> Option<(&'a Object, &'a ConfigMap)> {
        let class_controller = entry
            .class
            .ingress_class
            .and_then(|i| match &self.inv.objects[i].resource {
                Resource::IngressClass(c) => c.spec.as_ref()?.controller.clone(),
                _ => None,
            })
            .unwrap_or_else(|| "k8s.io/ingress-nginx".to_owned());
        let found: Vec<&Object> = self
            .nginx
            .iter()
            .filter(|c| {
                c.controller_class == class_controller
                    && c.ingress_class
                        .as_deref()
                        .is_none_or(|n| Some(n) == entry.class.class.as_deref())
            })
            .filter_map(|c| c.config)
            .collect();
        let first = *found.first()?;
        let Resource::ConfigMap(cm) = &first.resource else {
            return None;
        };
        let same = found.iter().all(|o| match &o.resource {
            Resource::ConfigMap(other) => other.data == cm.data,
            _ => false,
        });
        same.then_some((first, &**cm))
    }
}

/// Pod templates of Deployments and DaemonSets (where controllers run), with their owner.
fn pod_specs(inv: &Inventory) -> impl Iterator<Item = (&Object, &PodSpec)> {
    let deployments = inv
        .of_kind(Kind::Deployment)
        .filter_map(|(_, o)| match &o.resource {
            Resource::Deployment(d) => Some((o, d.spec.as_ref()?.template.spec.as_ref()?)),
            _ => None,
        });
    let daemonsets = inv
        .of_kind(Kind::DaemonSet)
        .filter_map(|(_, o)| match &o.resource {
            Resource::DaemonSet(d) => Some((o, d.spec.as_ref()?.template.spec.as_ref()?)),
            _ => None,
        });
    deployments.chain(daemonsets)
}

fn gce(object: &Object) -> Option<Verdict> {
    if object.annotation(GKE_FRONTEND_CONFIG).is_some() {
        // A FrontendConfig can redirect to HTTPS; Tollgate does not read that CRD.
        return None;
    }
    match object.annotation(ALLOW_HTTP) {
        Some(v) if v.trim().eq_ignore_ascii_case("false") => None,
        Some(v) => Some(Verdict {
            pointer: annotation_pointer(ALLOW_HTTP),
            message: format!(
                "`{ALLOW_HTTP}: \"{v}\"`: the GKE load balancer serves HTTP on port 80"
            ),
        }),
        None => Some(Verdict {
            pointer: "/metadata".into(),
            message: format!(
                "the GKE load balancer serves HTTP on port 80 unless `{ALLOW_HTTP}: \"false\"`"
            ),
        }),
    }
}

fn traefik(controllers: &Controllers<'_>, object: &Object, spec_tls: bool) -> Option<Verdict> {
    let a = |k: &str| object.annotation(&format!("{TRAEFIK}{k}"));
    if a("router.tls").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) || !spec_tls {
        // A TLS router does not match plain HTTP requests; without any TLS the Ingress is
        // `tls-missing`'s.
        return None;
    }
    let entrypoints: Option<Vec<&str>> = a("router.entrypoints").map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect()
    });
    let plain_entrypoint = match &entrypoints {
        None => true,
        Some(eps) => eps.iter().any(|e| matches!(*e, "web" | "http")),
    };
    if !plain_entrypoint {
        return None;
    }
    // Middleware CRDs are not read; a middleware named like a redirect is taken to be one.
    let redirect_middleware = a("router.middlewares").is_some_and(|m| {
        m.split(',')
            .any(|mw| mw.to_ascii_lowercase().contains("redirect"))
    });
    if redirect_middleware || controllers.traefik_redirects_web {
        return None;
    }
    let (pointer, why) = match entrypoints {
        None => (
            "/metadata".to_owned(),
            "without `router.entrypoints` the router listens on every entry point, `web` included"
                .to_owned(),
        ),
        Some(_) => (
            annotation_pointer(&format!("{TRAEFIK}router.entrypoints")),
            "`router.entrypoints` includes the plain-HTTP entry point `web`".to_owned(),
        ),
    };
    Some(Verdict {
        pointer,
        message: format!(
            "Traefik serves this Ingress over plain HTTP: {why}, and neither `router.tls` nor a \
             redirect is set (`spec.tls` only provides certificates)"
        ),
    })
}

fn alb(controllers: &Controllers<'_>, object: &Object) -> Option<Verdict> {
    let key = format!("{ALB}listen-ports");
    // Without listen-ports, an ALB with a certificate listens on HTTPS 443 only.
    let raw = object.annotation(&key)?;
    let ports: serde_json::Value = serde_json::from_str(raw).ok()?;
    let http: BTreeSet<String> = ports
        .as_array()?
        .iter()
        .filter_map(serde_json::Value::as_object)
        .flat_map(|m| m.iter())
        .filter(|(proto, _)| proto.eq_ignore_ascii_case("HTTP"))
        .map(|(_, port)| port.to_string())
        .collect();
    if http.is_empty() {
        return None;
    }
    let group = object.annotation(&format!("{ALB}group.name"));
    let redirects = |o: &Object| {
        o.annotation(&format!("{ALB}ssl-redirect")).is_some()
            || o.metadata().annotations.iter().flatten().any(|(k, v)| {
                k.starts_with(&format!("{ALB}actions."))
                    && v.to_ascii_lowercase().contains("redirect")
                    && v.to_ascii_lowercase().contains("https")
            })
    };
    if redirects(object) {
        return None;
    }
    // `ssl-redirect` on one Ingress of an IngressGroup applies to the group's whole ALB.
    if group.is_some_and(|g| controllers.alb_redirect_groups.contains(g)) {
        return None;
    }
    Some(Verdict {
        pointer: annotation_pointer(&key),
        message: format!(
            "the ALB listens on plain HTTP port {} and `{ALB}ssl-redirect` is not set",
            http.into_iter().collect::<Vec<_>>().join(", ")
        ),
    })
}

fn contour(object: &Object) -> Option<Verdict> {
    let force = object
        .annotation("ingress.kubernetes.io/force-ssl-redirect")
        .is_some_and(|v| v.trim() == "true");
    let no_http = object
        .annotation(ALLOW_HTTP)
        .is_some_and(|v| v.trim() == "false");
    (!force && !no_http).then(|| Verdict {
        pointer: "/metadata".into(),
        message: format!(
            "Contour serves the Ingress over plain HTTP unless \
             `ingress.kubernetes.io/force-ssl-redirect: \"true\"` or `{ALLOW_HTTP}: \"false\"`"
        ),
    })
}

fn nginx_inc(object: &Object) -> Option<Verdict> {
    let key = "ingress.kubernetes.io/ssl-redirect";
    let value = object
        .annotation(key)
        .filter(|v| v.trim().eq_ignore_ascii_case("false"))?;
    let xfp_redirect = object
        .annotation("nginx.org/redirect-to-https")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    (!xfp_redirect).then(|| Verdict {
        pointer: annotation_pointer(key),
        message: format!(
            "`{key}: \"{value}\"` turns off NGINX Ingress Controller's redirect to HTTPS"
        ),
    })
}
