//! Access control: who may reach a route (authentication, IP allow-lists, rate limits, WAF, CORS).
//!
//! The rules read each route's [`Posture`](crate::inventory::Posture), which the inventory
//! computes per controller, and the access-control options of the config
//! ([`RuleOptions`]). They report a missing control only when it is known to be missing:
//! [`Control::Unknown`] is never reported. This module holds what the rules share: how a
//! route's path is classified, and whether its allow-list actually restricts anything.

/// `allowlist-too-broad` (TG503).
pub mod allowlist_too_broad;
/// `cors-wildcard-with-credentials` (TG506).
pub mod cors_wildcard_with_credentials;
/// `missing-rate-limit` (TG504).
pub mod missing_rate_limit;
/// `missing-waf` (TG505).
pub mod missing_waf;
/// `public-route-without-auth` (TG501).
pub mod public_route_without_auth;
/// `sensitive-path-without-allowlist` (TG502).
pub mod sensitive_path_without_allowlist;

use crate::config::{Cidr, RuleOptions, glob_matches};
use crate::controller::Controller;
use crate::inventory::{Backend, Control, Inventory, PathType, Route};
use crate::object::Object;
use crate::yaml::escape_segment;

const NGINX: &str = "nginx.ingress.kubernetes.io/";
const ALB: &str = "alb.ingress.kubernetes.io/";

/// Whether `path` lies under `prefix`: segment by segment, ignoring ASCII case and a trailing
/// `/`, with `*` in `prefix` matching within one segment. `/admin` covers `/admin`, `/admin/`
/// and `/Admin/users`, not `/administrator`.
pub(crate) fn path_under(path: &str, prefix: &str) -> bool {
    // Called for every route and every configured path: compare segments in place rather than
    // collecting lowercased copies.
    let mut path_segments = path.split('/').filter(|s| !s.is_empty());
    prefix.split('/').filter(|s| !s.is_empty()).all(|want| {
        path_segments
            .next()
            .is_some_and(|got| segment_matches(want, got))
    })
}

/// One path segment against one pattern segment, ignoring ASCII case.
fn segment_matches(want: &str, got: &str) -> bool {
    if want.contains(['*', '?']) {
        glob_matches(&want.to_ascii_lowercase(), &got.to_ascii_lowercase())
    } else {
        want.eq_ignore_ascii_case(got)
    }
}

/// The first entry of `list` that `path` lies under.
pub(crate) fn first_under<'a>(path: &str, list: &'a [String]) -> Option<&'a str> {
    list.iter()
        .map(String::as_str)
        .find(|prefix| path_under(path, prefix))
}

/// The literal part of a route's path. An `ImplementationSpecific` path may be a regular
/// expression (ingress-nginx `use-regex`): it is cut at its first metacharacter, and a
/// quantifier takes the character it applies to with it (`/admin(/|$)(.*)` → `/admin`).
pub(crate) fn literal_path(route: &Route) -> &str {
    literal(route.path.as_deref().unwrap_or("/"), route.path_type)
}

fn literal(path: &str, path_type: PathType) -> &str {
    if path_type != PathType::ImplementationSpecific {
        return path;
    }
    let path = path.strip_prefix('^').unwrap_or(path);
    match path.find(['(', '[', '*', '+', '?', '{', '|', '$', '\\']) {
        Some(i) if matches!(path.as_bytes()[i], b'*' | b'+' | b'?' | b'{') => {
            &path[..path[..i].char_indices().last().map_or(0, |(j, _)| j)]
        }
        Some(i) => &path[..i],
        None => path,
    }
}

/// The sensitive-path entry a path lies under, unless an exempt entry carves it out.
pub(crate) fn sensitive<'a>(options: &'a RuleOptions, path: &str) -> Option<&'a str> {
    if first_under(path, &options.auth_exempt_paths).is_some() {
        return None;
    }
    first_under(path, &options.sensitive_paths)
}

/// The `authRequiredHosts` glob a host matches, unless `publicHosts` names it. A rule without
/// a host is the empty host, which only `*` matches.
pub(crate) fn auth_required_host<'a>(options: &'a RuleOptions, host: &str) -> Option<&'a str> {
    let host = host.to_ascii_lowercase();
    if options.public_hosts.iter().any(|g| glob_matches(g, &host)) {
        return None;
    }
    options
        .auth_required_hosts
        .iter()
        .map(String::as_str)
        .find(|g| glob_matches(g, &host))
}

/// The pointer to a route's path (or to the default backend).
pub(crate) fn path_pointer(route: &Route) -> String {
    match route.backend_pointer.strip_suffix("/backend") {
        Some(base) if route.path.is_some() => format!("{base}/path"),
        _ => route.backend_pointer.clone(),
    }
}

/// The pointer to an annotation.
pub(crate) fn annotation_pointer(key: &str) -> String {
    format!("/metadata/annotations/{}", escape_segment(key))
}

/// How a route is named in messages: `` `shop.example.com/admin` ``, `` `/admin` on any host ``.
pub(crate) fn describe(route: &Route) -> String {
    let path = route.path.as_deref().unwrap_or("/");
    match (&route.host, &route.path) {
        (_, None) => "the default backend".to_owned(),
        (Some(h), _) => format!("`{h}{path}`"),
        (None, _) => format!("`{path}` on any host"),
    }
}

/// Where a route sends its traffic, for messages.
pub(crate) fn backend_name(route: &Route) -> String {
    match &route.backend {
        Backend::Service { name, .. } => format!("Service `{name}`"),
        Backend::Resource { kind, name } => format!("{kind} `{name}`"),
        Backend::None => "no backend".to_owned(),
    }
}

/// The controller serving a route.
pub(crate) fn controller_of<'a>(inv: &'a Inventory, route: &Route) -> Option<&'a Controller> {
    inv.ingresses[route.ingress?].class.controller.as_ref()
}

/// The object defining a route (the Ingress, for the rules that read annotations).
pub(crate) fn ingress_object<'a>(inv: &'a Inventory, route: &Route) -> &'a Object {
    &inv.objects[route.object]
}

/// An IP allow-list as an annotation writes it.
pub(crate) struct AllowlistAnnotation<'a> {
    /// The full annotation key.
    pub(crate) key: String,
    /// Its entries, each parsed (or not).
    pub(crate) entries: Vec<(&'a str, Result<Cidr, String>)>,
}

impl AllowlistAnnotation<'_> {
    /// Whether an entry admits every address of its family.
    pub(crate) fn admits_everyone(&self) -> bool {
        self.entries
            .iter()
            .any(|(_, c)| c.as_ref().is_ok_and(Cidr::is_everything))
    }
}

/// The allow-list annotation the controller reads: ingress-nginx `allowlist-source-range`, or
/// the legacy `whitelist-source-range` when the first is absent (an Ingress whose controller
/// is unknown is read as ingress-nginx's); AWS ALB `inbound-cidrs`.
pub(crate) fn allowlist_annotation<'a>(
    object: &'a Object,
    controller: Option<&Controller>,
) -> Option<AllowlistAnnotation<'a>> {
    let keys: &[&str] = match controller {
        None | Some(Controller::IngressNginx) => &[
            "nginx.ingress.kubernetes.io/allowlist-source-range",
            "nginx.ingress.kubernetes.io/whitelist-source-range",
        ],
        Some(Controller::AwsAlb) => &["alb.ingress.kubernetes.io/inbound-cidrs"],
        Some(_) => return None,
    };
    keys.iter().find_map(|key| {
        let value = object.annotation(key).filter(|v| !v.trim().is_empty())?;
        Some(AllowlistAnnotation {
            key: (*key).to_owned(),
            entries: value
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(|e| (e, e.parse::<Cidr>()))
                .collect(),
        })
    })
}

/// Whether the route's source addresses are restricted: its allow-list, unless that admits
/// every address. An AWS ALB with the `internal` scheme is reachable from its VPC only,
/// whatever its `inbound-cidrs`.
pub(crate) fn network_restriction(inv: &Inventory, route: &Route) -> Control {
    let Control::Yes(detail) = &route.posture.allowlist else {
        return route.posture.allowlist.clone();
    };
    let object = ingress_object(inv, route);
    let controller = controller_of(inv, route);
    let internal_alb = controller == Some(&Controller::AwsAlb)
        && object.annotation(&format!("{ALB}scheme")) != Some("internet-facing");
    match allowlist_annotation(object, controller) {
        Some(list) if list.admits_everyone() && !internal_alb => Control::No,
        _ => Control::Yes(detail.clone()),
    }
}

/// Whether the route is known to require authentication: its posture, or a backend that is
/// oauth2-proxy itself (the proxy in front of the application, or its own sign-in endpoints).
pub(crate) fn authentication(inv: &Inventory, route: &Route) -> Control {
    if route.posture.auth != Control::No {
        return route.posture.auth.clone();
    }
    let proxy_name =
        matches!(&route.backend, Backend::Service { name, .. } if name.contains("oauth2-proxy"));
    let proxy_image = route
        .workloads
        .iter()
        .any(|&w| runs_oauth2_proxy(&inv.objects[w]));
    if proxy_name || proxy_image {
        Control::Yes("oauth2-proxy backend".into())
    } else {
        Control::No
    }
}

fn runs_oauth2_proxy(o: &Object) -> bool {
    o.pod_spec().is_some_and(|(s, _)| {
        s.containers.iter().any(|c| {
            c.image
                .as_deref()
                .is_some_and(|i| i.contains("oauth2-proxy/oauth2-proxy"))
        })
    })
}

/// How to add authentication or an allow-list with the route's controller.
pub(crate) fn protect_help(controller: Option<&Controller>) -> &'static str {
    match controller {
        Some(Controller::Traefik) => {
            "attach a ForwardAuth or BasicAuth Middleware (`traefik.ingress.kubernetes.io/router.middlewares`), or an IPAllowList Middleware"
        }
        Some(Controller::AwsAlb) => {
            "set `alb.ingress.kubernetes.io/auth-type: oidc` (or `cognito`), or restrict `alb.ingress.kubernetes.io/inbound-cidrs`, or use the `internal` scheme"
        }
        _ => {
            "set `nginx.ingress.kubernetes.io/auth-url` (e.g. oauth2-proxy) or `auth-type` with `auth-secret`, or restrict sources with `nginx.ingress.kubernetes.io/allowlist-source-range`"
        }
    }
}

/// Whether an Ingress is an ingress-nginx canary, whose other annotations are ignored.
pub(crate) fn is_nginx_canary(object: &Object) -> bool {
    object
        .annotation(&format!("{NGINX}canary"))
        .and_then(crate::inventory::go_bool)
        == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::fixture_tests;

    fixture_tests! {
        public_route_without_auth => "public-route-without-auth",
        sensitive_path_without_allowlist => "sensitive-path-without-allowlist",
        allowlist_too_broad => "allowlist-too-broad",
        missing_rate_limit => "missing-rate-limit",
        missing_waf => "missing-waf",
        cors_wildcard_with_credentials => "cors-wildcard-with-credentials",
    }

    /// The posture of the first route of each Ingress, by Ingress name.
    fn postures(text: &str) -> std::collections::BTreeMap<String, crate::inventory::Posture> {
        let mut m = crate::manifest::Manifests::default();
        m.add_text("t.yaml", text.to_owned());
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        let inv = Inventory::build(m.objects, m.sources, None);
        inv.routes
            .iter()
            .map(|r| (ingress_object(&inv, r).name.clone(), r.posture.clone()))
            .collect()
    }

    fn ingress(name: &str, class: &str, annotations: &str) -> String {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}, namespace: ns, annotations: {{{annotations}}}}}\nspec:\n  ingressClassName: {class}\n  rules: [{{host: a.example.com, http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: s, port: {{number: 80}}}}}}}}]}}}}]\n---\n"
        )
    }

    fn yes(detail: &str) -> Control {
        Control::Yes(detail.to_owned())
    }

    #[test]
    fn traefik_middlewares_count_by_their_names_and_unreadable_names_are_unknown() {
        let mw = "traefik.ingress.kubernetes.io/router.middlewares";
        let p = postures(
            &[
                ingress(
                    "auth",
                    "traefik",
                    &format!("{mw}: \"ops-basic-auth@kubernetescrd,ops-compress@kubernetescrd\""),
                ),
                ingress(
                    "headers",
                    "traefik",
                    &format!("{mw}: ops-forwarded-headers@file"),
                ),
                ingress(
                    "chain",
                    "traefik",
                    &format!("{mw}: ops-secured@kubernetescrd"),
                ),
                ingress("none", "traefik", ""),
            ]
            .concat(),
        );
        assert_eq!(
            p["auth"].auth,
            yes("middleware ops-basic-auth@kubernetescrd (assumed)")
        );
        assert_eq!(p["auth"].allowlist, Control::No);
        assert_eq!(
            p["headers"].auth,
            Control::No,
            "forwarded headers are not forward auth"
        );
        assert_eq!(p["chain"].auth, Control::Unknown);
        assert_eq!(p["chain"].rate_limit, Control::Unknown);
        assert_eq!(p["none"].waf, Control::No);
    }

    const NGINX_CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ingress-nginx-controller, namespace: ingress-nginx, labels: {app.kubernetes.io/name: ingress-nginx}}\ndata: {global-auth-url: \"https://sso.example.com/oauth2/auth\", whitelist-source-range: 10.0.0.0/8, enable-modsecurity: \"true\"}\n---\n";

    #[test]
    fn ingress_nginx_controller_settings_apply_unless_the_ingress_opts_out() {
        let p = postures(
            &[
                NGINX_CONFIGMAP.to_owned(),
                ingress("plain", "nginx", ""),
                ingress(
                    "opted-out",
                    "nginx",
                    "nginx.ingress.kubernetes.io/enable-global-auth: \"false\", nginx.ingress.kubernetes.io/enable-modsecurity: \"false\"",
                ),
            ]
            .concat(),
        );
        assert_eq!(p["plain"].auth, yes("global auth-url"));
        assert_eq!(p["plain"].allowlist, yes("10.0.0.0/8 (global)"));
        assert_eq!(p["plain"].waf, yes("modsecurity (global)"));
        assert_eq!(p["opted-out"].auth, Control::No);
        assert_eq!(p["opted-out"].waf, Control::No);
    }

    #[test]
    fn disagreeing_controller_configmaps_that_no_controller_claims_make_the_posture_unknown() {
        let other = NGINX_CONFIGMAP
            .replace(
                "name: ingress-nginx-controller",
                "name: internal-controller",
            )
            .replace(
                "global-auth-url: \"https://sso.example.com/oauth2/auth\", ",
                "",
            );
        let p = postures(
            &[
                NGINX_CONFIGMAP.to_owned(),
                other,
                ingress("plain", "nginx", ""),
                ingress(
                    "own-auth",
                    "nginx",
                    "nginx.ingress.kubernetes.io/auth-url: https://auth.example.com/",
                ),
            ]
            .concat(),
        );
        assert_eq!(p["plain"].auth, Control::Unknown);
        assert_eq!(p["own-auth"].auth, yes("external"));
        assert_eq!(
            p["plain"].rate_limit,
            Control::No,
            "rate limits are per Ingress"
        );
    }

    #[test]
    fn a_canary_ingress_has_the_posture_of_its_main_ingress_unknown_here() {
        let p = postures(&ingress(
            "canary",
            "nginx",
            "nginx.ingress.kubernetes.io/canary: \"true\"",
        ));
        assert_eq!(p["canary"].auth, Control::Unknown);
        assert_eq!(p["canary"].allowlist, Control::Unknown);
    }

    #[test]
    fn alb_load_balancer_settings_are_unknown_when_another_object_may_set_them() {
        let p = postures(
            &[
                "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: alb-params}\nspec: {controller: ingress.k8s.aws/alb, parameters: {apiGroup: elbv2.k8s.aws, kind: IngressClassParams, name: public}}\n---\n".to_owned(),
                ingress("internal", "alb", ""),
                ingress("public", "alb", "alb.ingress.kubernetes.io/scheme: internet-facing"),
                ingress("grouped", "alb", "alb.ingress.kubernetes.io/group.name: shop"),
                ingress("params", "alb-params", ""),
            ]
            .concat(),
        );
        assert_eq!(p["internal"].allowlist, yes("internal load balancer"));
        assert_eq!(p["public"].allowlist, Control::No);
        assert_eq!(p["public"].rate_limit, Control::No);
        assert_eq!(p["grouped"].allowlist, Control::Unknown);
        assert_eq!(
            p["grouped"].auth,
            Control::No,
            "auth is per Ingress, even in a group"
        );
        assert_eq!(p["params"].waf, Control::Unknown);
    }

    #[test]
    fn paths_match_segment_by_segment_without_case() {
        assert!(path_under("/admin", "/admin"));
        assert!(path_under("/admin/", "/admin"));
        assert!(path_under("/Admin/users", "/admin"));
        assert!(path_under("/admin", "/admin/"));
        assert!(!path_under("/administrator", "/admin"));
        assert!(!path_under("/", "/admin"));
        assert!(path_under("/.well-known/acme-challenge/x", "/.well-known/"));
        assert!(path_under("/api/v2/admin/x", "/api/*/admin"));
        assert!(!path_under("/api/admin", "/api/*/admin"));
        assert!(path_under("/anything", "/"));
    }

    #[test]
    fn regex_paths_are_cut_to_their_literal_prefix() {
        let is = PathType::ImplementationSpecific;
        assert_eq!(literal("/admin(/|$)(.*)", is), "/admin");
        assert_eq!(literal("^/metrics", is), "/metrics");
        assert_eq!(literal("/debug/.*", is), "/debug/");
        assert_eq!(literal("/admin?", is), "/admi");
        assert_eq!(
            literal("/admin(/|$)", PathType::Prefix),
            "/admin(/|$)",
            "Prefix paths are literal"
        );
    }

    #[test]
    fn exempt_paths_carve_out_of_sensitive_ones() {
        let options = RuleOptions::default();
        assert_eq!(sensitive(&options, "/actuator/env"), Some("/actuator"));
        assert_eq!(sensitive(&options, "/actuator/health"), None);
        assert_eq!(sensitive(&options, "/shop"), None);
    }

    #[test]
    fn public_hosts_are_exceptions_to_auth_required_hosts() {
        let options = RuleOptions {
            auth_required_hosts: vec!["*".into()],
            public_hosts: vec!["www.example.com".into()],
            ..RuleOptions::default()
        };
        assert_eq!(auth_required_host(&options, "ops.example.com"), Some("*"));
        assert_eq!(auth_required_host(&options, "WWW.example.com"), None);
        assert_eq!(auth_required_host(&options, ""), Some("*"));
    }
}
