//! The translation, one behaviour per test: Ingress YAML in, exact Gateway API fields out.

use serde_json::json;

use super::*;
use crate::installation::risk_table;
use crate::manifest::Manifests;

const CLASS: &str = "\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
";

fn inventory(text: &str) -> Inventory {
    let mut m = Manifests::default();
    m.add_text("t.yaml", format!("{CLASS}---\n{text}"));
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    Inventory::build(m.objects, m.sources, None)
}

fn plan_of(text: &str) -> MigrationPlan {
    plan(&inventory(text), &MigrateOptions::default())
}

fn plan_without_policies(text: &str) -> MigrationPlan {
    let opts = MigrateOptions {
        implementation: Implementation::None,
        ..MigrateOptions::default()
    };
    plan(&inventory(text), &opts)
}

/// An Ingress `web` in namespace `shop` of class nginx with these annotations and this spec
/// (after `ingressClassName`), indented by four spaces.
fn ingress(annotations: &[(&str, &str)], spec: &str) -> String {
    ingress_named("web", annotations, spec)
}

fn ingress_named(name: &str, annotations: &[(&str, &str)], spec: &str) -> String {
    let mut out = format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  \
         namespace: shop\n"
    );
    if !annotations.is_empty() {
        out.push_str("  annotations:\n");
        for (k, v) in annotations {
            out.push_str(&format!(
                "    nginx.ingress.kubernetes.io/{k}: {}\n",
                json!(v)
            ));
        }
    }
    out.push_str("spec:\n  ingressClassName: nginx\n");
    out.push_str(spec);
    out
}

const SERVICE: &str = "\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}, {name: admin, port: 9090}]
";

/// One host, one path, backend `web:http`.
const SIMPLE_RULES: &str = "  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
";

const TLS_RULES: &str = "  tls: [{hosts: [shop.example.com], secretName: shop-tls}]
  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
";

fn route<'a>(plan: &'a MigrationPlan, kind: &str, name: &str) -> &'a GatewayRoute {
    plan.object(kind, "shop", name)
        .and_then(TranslatedObject::route)
        .unwrap_or_else(|| {
            let names: Vec<String> = plan
                .objects
                .iter()
                .map(TranslatedObject::reference)
                .collect();
            panic!("no {kind} shop/{name} among {names:?}")
        })
}

fn http_route<'a>(plan: &'a MigrationPlan, name: &str) -> &'a GatewayRoute {
    route(plan, "HTTPRoute", name)
}

fn policy<'a>(plan: &'a MigrationPlan, kind: &str, name: &str) -> &'a Map<String, Value> {
    plan.object(kind, "shop", name)
        .and_then(TranslatedObject::policy_spec)
        .unwrap_or_else(|| panic!("no {kind} shop/{name}"))
}

fn paths(route: &GatewayRoute) -> Vec<(String, String)> {
    route
        .spec
        .rules
        .iter()
        .flat_map(|r| r.matches.iter())
        .filter_map(|m| m.path.as_ref())
        .map(|p| {
            (
                p.type_.clone().unwrap_or_default(),
                p.value.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn outcome(plan: &MigrationPlan, ingress: &str, short: &str) -> Outcome {
    plan.ingress("shop", ingress)
        .and_then(|p| {
            p.annotations
                .iter()
                .find(|a| a.annotation == format!("{NGINX_PREFIX}{short}"))
        })
        .map(|a| a.outcome)
        .unwrap_or_else(|| panic!("{short} is not listed on shop/{ingress}"))
}

fn warnings(plan: &MigrationPlan, ingress: &str) -> Vec<String> {
    plan.ingress("shop", ingress)
        .map(|p| p.warnings.clone())
        .unwrap_or_default()
}

fn sections(route: &GatewayRoute) -> Vec<&str> {
    route
        .spec
        .parent_refs
        .iter()
        .filter_map(|p| p.section_name.as_deref())
        .collect()
}

// ---- the mapping data -------------------------------------------------------------------

/// What makes a mapping entry valid; the data test runs it on every entry.
fn validate_mapping(m: &AnnotationMapping) -> Result<(), String> {
    let name = &m.annotation;
    if name.is_empty()
        || name.starts_with("nginx.")
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!(
            "`{name}` is not a short kebab-case annotation name"
        ));
    }
    if m.equivalent.trim().len() < 10 {
        return Err(format!("{name}: the equivalent says nothing"));
    }
    match m.support {
        Support::Implementation => {
            if !m.equivalent.contains("Envoy Gateway") {
                return Err(format!(
                    "{name}: an implementation entry must name Envoy Gateway's CRD"
                ));
            }
            if !m.equivalent.contains("or your implementation's equivalent") {
                return Err(format!(
                    "{name}: say \"or your implementation's equivalent\""
                ));
            }
        }
        Support::Standard => {
            let names_field = [
                "HTTPRoute",
                "GRPCRoute",
                "TLSRoute",
                "BackendTLSPolicy",
                "Gateway",
                "Service port",
            ]
            .iter()
            .any(|k| m.equivalent.contains(k));
            if !names_field {
                return Err(format!(
                    "{name}: a standard entry must name the Gateway API field"
                ));
            }
        }
        Support::None => {
            if !m.equivalent.starts_with("No ") {
                return Err(format!(
                    "{name}: a none entry starts with \"No …\" and says what to do"
                ));
            }
        }
        Support::Default => {
            if !(m.equivalent.starts_with("Not needed") || m.removed) {
                return Err(format!("{name}: a default entry says why it is not needed"));
            }
        }
    }
    if m.removed && m.support != Support::Default {
        return Err(format!(
            "{name}: a removed annotation has nothing to migrate"
        ));
    }
    if let Some(target) = &m.alias_of
        && mapping(target).is_none()
    {
        return Err(format!("{name}: alias of unknown `{target}`"));
    }
    Ok(())
}

#[test]
fn every_risk_table_annotation_has_a_valid_mapping() {
    let missing: Vec<&str> = risk_table()
        .iter()
        .map(|r| r.annotation.as_str())
        .filter(|a| mapping(a).is_none())
        .collect();
    assert!(missing.is_empty(), "no mapping for {missing:?}");
    assert_eq!(risk_table().len(), 135);
    let mut seen = BTreeSet::new();
    for m in mappings() {
        assert!(seen.insert(m.annotation.as_str()), "{} twice", m.annotation);
        validate_mapping(m).unwrap();
    }
    for alias in [
        "whitelist-source-range",
        "limit-whitelist",
        "ssl-redirect",
        "force-ssl-redirect",
    ] {
        assert!(mapping(alias).is_some(), "{alias}");
    }
    assert_eq!(
        mapping("whitelist-source-range").and_then(|m| m.alias_of.as_deref()),
        Some("allowlist-source-range")
    );
    assert_eq!(
        mapping("configuration-snippet").map(|m| m.support),
        Some(Support::None)
    );
    assert_eq!(
        mapping("auth-url").map(|m| m.support),
        Some(Support::Implementation)
    );
    assert_eq!(
        mapping("rewrite-target").map(|m| m.support),
        Some(Support::Standard)
    );
}

#[test]
fn the_mapping_check_refuses_incomplete_entries() {
    let entry = |support, equivalent: &str| AnnotationMapping {
        annotation: "x-y".into(),
        support,
        equivalent: equivalent.into(),
        note: None,
        alias_of: None,
        removed: false,
    };
    assert!(
        validate_mapping(&entry(
            Support::Implementation,
            "Envoy Gateway SecurityPolicy `cors`"
        ))
        .is_err()
    );
    assert!(
        validate_mapping(&entry(
            Support::Implementation,
            "Envoy Gateway SecurityPolicy `cors`, or your implementation's equivalent"
        ))
        .is_ok()
    );
    assert!(validate_mapping(&entry(Support::Standard, "use a filter of some kind")).is_err());
    assert!(validate_mapping(&entry(Support::None, "Drop it and hope for the best")).is_err());
    let mut aliased = entry(Support::Default, "Not needed: proxies do this");
    aliased.alias_of = Some("no-such-annotation".into());
    assert!(validate_mapping(&aliased).is_err());
}

// ---- routes and paths ---------------------------------------------------------------------

#[test]
fn path_types_translate_to_gateway_path_matches() {
    let p = plan_of(&format!(
        "{SERVICE}---\n{}",
        ingress(
            &[],
            "  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: /api, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /health, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /static, pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
"
        )
    ));
    let r = http_route(&p, "web-shop-example-com");
    assert_eq!(r.spec.hostnames, vec!["shop.example.com"]);
    assert_eq!(
        paths(r),
        vec![
            ("PathPrefix".into(), "/api".into()),
            ("Exact".into(), "/health".into()),
            ("PathPrefix".into(), "/static".into()),
        ]
    );
    assert_eq!(sections(r), vec!["http"]);
    let backends: Vec<(String, Option<i32>)> = r
        .spec
        .rules
        .iter()
        .flat_map(|x| x.backend_refs.iter())
        .map(|b| (b.target.name.clone(), b.target.port))
        .collect();
    assert_eq!(backends, vec![("web".into(), Some(80)); 3]);
    assert!(warnings(&p, "web").is_empty(), "{:?}", warnings(&p, "web"));
}

#[test]
fn use_regex_turns_regex_paths_into_regular_expression_matches() {
    let spec = "  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: '/api/v[0-9]+', pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /static, pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
";
    let p = plan_of(&ingress(&[("use-regex", "true")], spec));
    let r = http_route(&p, "web-shop-example-com");
    assert_eq!(
        paths(r),
        vec![
            ("RegularExpression".into(), "/api/v[0-9]+.*".into()),
            ("PathPrefix".into(), "/static".into()),
        ]
    );
    assert!(warnings(&p, "web").iter().any(|w| w.contains("RE2")));
    assert_eq!(outcome(&p, "web", "use-regex"), Outcome::Translated);

    // Without use-regex the same path is a literal prefix.
    let p = plan_of(&ingress(&[], spec));
    assert_eq!(
        paths(http_route(&p, "web-shop-example-com"))
            .first()
            .map(|x| x.0.as_str()),
        Some("PathPrefix")
    );
}

#[test]
fn one_route_per_ingress_and_host() {
    let p = plan_of(&ingress(
        &[],
        "  rules:
    - host: a.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
    - host: b.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
    - host: a.example.com
      http: {paths: [{path: /x, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
",
    ));
    let routes: Vec<String> = p
        .objects
        .iter()
        .filter(|o| o.is_route())
        .map(|o| o.name.clone())
        .collect();
    assert_eq!(routes, vec!["web-a-example-com", "web-b-example-com"]);
    assert_eq!(
        paths(http_route(&p, "web-a-example-com")),
        vec![
            ("PathPrefix".into(), "/".into()),
            ("PathPrefix".into(), "/x".into())
        ]
    );
    assert_eq!(p.gateway_count(), 1);
}

// ---- gateways, TLS and redirects ------------------------------------------------------------

#[test]
fn a_tls_host_gets_an_https_listener_and_an_http_redirect() {
    let p = plan_of(&ingress(&[], TLS_RULES));
    let gw = p
        .object("Gateway", "shop", "nginx")
        .and_then(TranslatedObject::gateway)
        .unwrap();
    assert_eq!(gw.spec.gateway_class_name, "eg");
    let listeners: Vec<(&str, i32, &str, Option<&str>)> = gw
        .spec
        .listeners
        .iter()
        .map(|l| {
            (
                l.name.as_str(),
                l.port,
                l.protocol.as_str(),
                l.hostname.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        listeners,
        vec![
            ("http", 80, "HTTP", None),
            (
                "https-shop-example-com",
                443,
                "HTTPS",
                Some("shop.example.com")
            ),
        ]
    );
    let tls = gw
        .spec
        .listeners
        .get(1)
        .and_then(|l| l.tls.as_ref())
        .unwrap();
    assert_eq!(tls.mode.as_deref(), Some("Terminate"));
    assert_eq!(
        tls.certificate_refs,
        vec![ObjectReference {
            group: Some(String::new()),
            kind: Some("Secret".into()),
            name: "shop-tls".into(),
            ..ObjectReference::default()
        }]
    );

    let r = http_route(&p, "web-shop-example-com");
    assert_eq!(sections(r), vec!["https-shop-example-com"]);
    assert_eq!(
        r.spec.parent_refs.first().map(|p| p.name.as_str()),
        Some("nginx")
    );

    let redirect = http_route(&p, "web-shop-example-com-redirect");
    assert_eq!(sections(redirect), vec!["http"]);
    assert_eq!(redirect.spec.hostnames, vec!["shop.example.com"]);
    let rule = redirect.spec.rules.first().unwrap();
    assert!(rule.backend_refs.is_empty());
    let f = rule.filters.first().unwrap();
    assert_eq!(f.type_, "RequestRedirect");
    let rr = f.request_redirect.as_ref().unwrap();
    assert_eq!(rr.scheme.as_deref(), Some("https"));
    assert_eq!(rr.status_code, Some(301));
    assert_eq!(paths(redirect), vec![("PathPrefix".into(), "/".into())]);
}

#[test]
fn ssl_redirect_false_serves_both_listeners_without_a_redirect() {
    let p = plan_of(&ingress(&[("ssl-redirect", "false")], TLS_RULES));
    let r = http_route(&p, "web-shop-example-com");
    assert_eq!(sections(r), vec!["https-shop-example-com", "http"]);
    assert!(
        p.object("HTTPRoute", "shop", "web-shop-example-com-redirect")
            .is_none()
    );
    assert_eq!(outcome(&p, "web", "ssl-redirect"), Outcome::Translated);
}

#[test]
fn a_tls_entry_without_hosts_covers_the_rule_hosts() {
    let p = plan_of(&ingress(
        &[],
        "  tls: [{secretName: shop-tls}]
  rules:
    - host: shop.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
",
    ));
    let gw = p
        .object("Gateway", "shop", "nginx")
        .and_then(TranslatedObject::gateway)
        .unwrap();
    let https: Vec<Option<&str>> = gw
        .spec
        .listeners
        .iter()
        .filter(|l| l.protocol == "HTTPS")
        .map(|l| l.hostname.as_deref())
        .collect();
    assert_eq!(https, vec![Some("shop.example.com")]);
    assert_eq!(
        sections(http_route(&p, "web-shop-example-com")),
        vec!["https-shop-example-com"]
    );
}

#[test]
fn no_wildcard_hostname_unless_the_ingress_had_one() {
    let p = plan_of(&ingress(&[], TLS_RULES));
    for o in &p.objects {
        let v = o.to_value().to_string();
        assert!(!v.contains("\"*"), "{} has a wildcard: {v}", o.reference());
    }
    let p = plan_of(&ingress(
        &[],
        "  tls: [{hosts: ['*.shop.example.com'], secretName: wild-tls}]
  rules:
    - host: '*.shop.example.com'
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
",
    ));
    let r = http_route(&p, "web-wildcard-shop-example-com");
    assert_eq!(r.spec.hostnames, vec!["*.shop.example.com"]);
    assert_eq!(sections(r), vec!["https-wildcard-shop-example-com"]);
}

#[test]
fn a_host_without_tls_stays_on_http_even_under_another_ingresses_wildcard() {
    let wildcard = ingress_named(
        "promo",
        &[],
        "  tls: [{hosts: ['*.shop.example.com'], secretName: wild-tls}]
  rules:
    - host: '*.shop.example.com'
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
",
    );
    let blog = ingress_named(
        "blog",
        &[],
        "  rules:
    - host: blog.shop.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
",
    );
    let p = plan_of(&format!("{wildcard}---\n{blog}"));
    assert_eq!(
        sections(http_route(&p, "blog-blog-shop-example-com")),
        vec!["http"]
    );
    assert!(
        p.object("HTTPRoute", "shop", "blog-blog-shop-example-com-redirect")
            .is_none()
    );
}

#[test]
fn a_missing_tls_secret_is_named_but_warned_about() {
    let secret =
        "apiVersion: v1\nkind: Secret\nmetadata: {name: other, namespace: shop}\ntype: Opaque\n";
    let p = plan_of(&format!("{secret}---\n{}", ingress(&[], TLS_RULES)));
    assert!(
        warnings(&p, "web")
            .iter()
            .any(|w| w.starts_with("TLS Secret `shop-tls` is not in namespace `shop`")),
        "{:?}",
        warnings(&p, "web")
    );
    // Without Secrets in scope nothing is known, so nothing is said.
    let p = plan_of(&ingress(&[], TLS_RULES));
    assert!(warnings(&p, "web").is_empty(), "{:?}", warnings(&p, "web"));
}

// ---- backends -------------------------------------------------------------------------------

#[test]
fn a_named_port_is_resolved_through_the_service() {
    let p = plan_of(&format!("{SERVICE}---\n{}", ingress(&[], SIMPLE_RULES)));
    let b = http_route(&p, "web-shop-example-com")
        .spec
        .rules
        .first()
        .and_then(|r| r.backend_refs.first())
        .unwrap();
    assert_eq!(b.target.name, "web");
    assert_eq!(b.target.port, Some(80));
    assert!(warnings(&p, "web").is_empty(), "{:?}", warnings(&p, "web"));
}

#[test]
fn a_named_port_without_its_service_is_left_out_with_a_warning() {
    let p = plan_of(&ingress(&[], SIMPLE_RULES));
    let b = http_route(&p, "web-shop-example-com")
        .spec
        .rules
        .first()
        .and_then(|r| r.backend_refs.first())
        .unwrap();
    assert_eq!(b.target.port, None);
    assert_eq!(
        warnings(&p, "web"),
        vec![
            "Service `web` is not in the input: fill in the number of its port `http` (Gateway \
             API backendRefs name ports by number)"
                .to_owned()
        ]
    );
}

#[test]
fn a_port_name_the_service_lacks_is_left_out_with_a_warning() {
    let spec = SIMPLE_RULES.replace("name: http}", "name: metrics}");
    let p = plan_of(&format!("{SERVICE}---\n{}", ingress(&[], &spec)));
    let b = http_route(&p, "web-shop-example-com")
        .spec
        .rules
        .first()
        .and_then(|r| r.backend_refs.first())
        .unwrap();
    assert_eq!(b.target.port, None);
    assert!(
        warnings(&p, "web")
            .iter()
            .any(|w| w.contains("has no port named `metrics`"))
    );
}

#[test]
fn the_default_backend_becomes_a_rule_without_matches_on_a_route_without_hostnames() {
    let p = plan_of(&ingress(
        &[],
        "  defaultBackend: {service: {name: web, port: {number: 80}}}\n",
    ));
    let r = http_route(&p, "web");
    assert!(r.spec.hostnames.is_empty());
    assert_eq!(sections(r), vec!["http"]);
    let rule = r.spec.rules.first().unwrap();
    assert!(rule.matches.is_empty());
    assert_eq!(
        rule.backend_refs.first().map(|b| b.target.port),
        Some(Some(80))
    );
    assert!(
        warnings(&p, "web")
            .iter()
            .any(|w| w.contains("default backend"))
    );
}

// ---- annotations with standard translations -------------------------------------------------

fn url_rewrite(route: &GatewayRoute) -> Option<Value> {
    route
        .spec
        .rules
        .iter()
        .flat_map(|r| r.filters.iter())
        .find(|f| f.type_ == "URLRewrite")
        .and_then(|f| f.rest.get("urlRewrite").cloned())
}

#[test]
fn a_plain_rewrite_target_replaces_the_full_path() {
    let spec = SIMPLE_RULES
        .replace("path: /,", "path: /app,")
        .replace("name: http}", "number: 80}");
    let p = plan_of(&ingress(&[("rewrite-target", "/")], &spec));
    let r = http_route(&p, "web-shop-example-com");
    assert_eq!(
        url_rewrite(r),
        Some(json!({"path": {"type": "ReplaceFullPath", "replaceFullPath": "/"}}))
    );
    assert_eq!(paths(r), vec![("PathPrefix".into(), "/app".into())]);
    assert_eq!(outcome(&p, "web", "rewrite-target"), Outcome::Translated);
}

#[test]
fn the_capture_group_idiom_becomes_a_prefix_rewrite() {
    let spec = "  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: '/api(/|$)(.*)', pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
";
    let p = plan_of(&ingress(&[("rewrite-target", "/$2")], spec));
    let r = http_route(&p, "web-shop-example-com");
    assert_eq!(paths(r), vec![("PathPrefix".into(), "/api".into())]);
    assert_eq!(
        url_rewrite(r),
        Some(json!({"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}))
    );
    assert_eq!(outcome(&p, "web", "rewrite-target"), Outcome::Translated);
}

#[test]
fn other_capture_groups_are_listed_not_guessed() {
    let spec = "  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: '/(shop|store)/(.*)', pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
";
    let p = plan_of(&ingress(&[("rewrite-target", "/$1/x/$2")], spec));
    let r = http_route(&p, "web-shop-example-com");
    assert_eq!(url_rewrite(r), None);
    assert_eq!(
        paths(r),
        vec![("RegularExpression".into(), "/(shop|store)/(.*).*".into())]
    );
    assert_eq!(outcome(&p, "web", "rewrite-target"), Outcome::Manual);
}

#[test]
fn permanent_and_temporal_redirects_become_request_redirects() {
    let p = plan_of(&ingress(
        &[("permanent-redirect", "https://www.example.com:8443/new")],
        SIMPLE_RULES,
    ));
    let rule = http_route(&p, "web-shop-example-com")
        .spec
        .rules
        .first()
        .unwrap();
    assert!(rule.backend_refs.is_empty());
    let rr = rule
        .filters
        .first()
        .and_then(|f| f.request_redirect.as_ref())
        .unwrap();
    assert_eq!(rr.scheme.as_deref(), Some("https"));
    assert_eq!(rr.status_code, Some(301));
    assert_eq!(rr.rest.get("hostname"), Some(&json!("www.example.com")));
    assert_eq!(rr.rest.get("port"), Some(&json!(8443)));
    assert_eq!(
        rr.rest.get("path"),
        Some(&json!({"type": "ReplaceFullPath", "replaceFullPath": "/new"}))
    );
    assert_eq!(
        outcome(&p, "web", "permanent-redirect"),
        Outcome::Translated
    );

    let p = plan_of(&ingress(
        &[
            ("temporal-redirect", "http://other.example.com"),
            ("temporal-redirect-code", "307"),
        ],
        SIMPLE_RULES,
    ));
    let rule = http_route(&p, "web-shop-example-com")
        .spec
        .rules
        .first()
        .unwrap();
    let rr = rule
        .filters
        .first()
        .and_then(|f| f.request_redirect.as_ref())
        .unwrap();
    assert_eq!(
        (rr.scheme.as_deref(), rr.status_code),
        (Some("http"), Some(307))
    );
    assert_eq!(
        outcome(&p, "web", "temporal-redirect-code"),
        Outcome::Translated
    );
}

#[test]
fn a_redirect_with_a_query_is_listed_not_guessed() {
    let p = plan_of(&ingress(
        &[("permanent-redirect", "https://example.com/x?from=old")],
        SIMPLE_RULES,
    ));
    let rule = http_route(&p, "web-shop-example-com")
        .spec
        .rules
        .first()
        .unwrap();
    assert!(rule.filters.is_empty());
    assert_eq!(outcome(&p, "web", "permanent-redirect"), Outcome::Manual);
}

#[test]
fn app_root_redirects_the_root_path() {
    let p = plan_of(&ingress(&[("app-root", "/app1")], SIMPLE_RULES));
    let rule = http_route(&p, "web-shop-example-com")
        .spec
        .rules
        .first()
        .unwrap();
    assert_eq!(
        rule.matches.first().and_then(|m| m.path.clone()),
        Some(PathMatch {
            type_: Some("Exact".into()),
            value: Some("/".into())
        })
    );
    let rr = rule
        .filters
        .first()
        .and_then(|f| f.request_redirect.as_ref())
        .unwrap();
    assert_eq!(rr.status_code, Some(302));
    assert_eq!(
        rr.rest.get("path"),
        Some(&json!({"type": "ReplaceFullPath", "replaceFullPath": "/app1"}))
    );
    assert_eq!(outcome(&p, "web", "app-root"), Outcome::Translated);
}

#[test]
fn upstream_vhost_and_x_forwarded_prefix_become_filters() {
    let p = plan_of(&ingress(
        &[
            ("upstream-vhost", "internal.example.com"),
            ("x-forwarded-prefix", "/shop"),
        ],
        SIMPLE_RULES,
    ));
    let r = http_route(&p, "web-shop-example-com");
    assert_eq!(
        url_rewrite(r),
        Some(json!({"hostname": "internal.example.com"}))
    );
    let header = r
        .spec
        .rules
        .first()
        .and_then(|rule| {
            rule.filters
                .iter()
                .find(|f| f.type_ == "RequestHeaderModifier")
        })
        .and_then(|f| f.rest.get("requestHeaderModifier"))
        .cloned();
    assert_eq!(
        header,
        Some(json!({"set": [{"name": "X-Forwarded-Prefix", "value": "/shop"}]}))
    );
    assert_eq!(outcome(&p, "web", "upstream-vhost"), Outcome::Translated);
    assert_eq!(
        outcome(&p, "web", "x-forwarded-prefix"),
        Outcome::Translated
    );
}

#[test]
fn custom_headers_from_a_configmap_in_the_input_become_response_headers() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: sec-headers, namespace: shop}\ndata: {X-Frame-Options: DENY}\n";
    let p = plan_of(&format!(
        "{cm}---\n{}",
        ingress(&[("custom-headers", "shop/sec-headers")], SIMPLE_RULES)
    ));
    let header = http_route(&p, "web-shop-example-com")
        .spec
        .rules
        .first()
        .and_then(|rule| {
            rule.filters
                .iter()
                .find(|f| f.type_ == "ResponseHeaderModifier")
        })
        .and_then(|f| f.rest.get("responseHeaderModifier"))
        .cloned();
    assert_eq!(
        header,
        Some(json!({"set": [{"name": "X-Frame-Options", "value": "DENY"}]}))
    );
    assert_eq!(outcome(&p, "web", "custom-headers"), Outcome::Translated);

    let p = plan_of(&ingress(&[("custom-headers", "shop/absent")], SIMPLE_RULES));
    assert_eq!(outcome(&p, "web", "custom-headers"), Outcome::Manual);
}

#[test]
fn grpc_backends_become_grpcroutes() {
    let p = plan_of(&ingress(
        &[("backend-protocol", "GRPC")],
        "  rules:
    - host: grpc.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 50051}}}}
          - {path: /shop.Cart/Add, pathType: Prefix, backend: {service: {name: cart, port: {number: 50051}}}}
",
    ));
    let r = route(&p, "GRPCRoute", "web-grpc-example-com");
    let first = r.spec.rules.first().unwrap();
    assert!(first.matches.is_empty());
    let second = r.spec.rules.get(1).unwrap();
    assert_eq!(
        second.matches.first().and_then(|m| m.method.clone()),
        Some(json!({"type": "Exact", "service": "shop.Cart", "method": "Add"}))
    );
    assert!(
        p.object("HTTPRoute", "shop", "web-grpc-example-com")
            .is_none()
    );
    assert_eq!(outcome(&p, "web", "backend-protocol"), Outcome::Translated);
}

#[test]
fn ssl_passthrough_becomes_a_tlsroute_on_a_passthrough_listener() {
    let p = plan_of(&ingress(&[("ssl-passthrough", "true")], TLS_RULES));
    let r = route(&p, "TLSRoute", "web-shop-example-com");
    assert_eq!(r.spec.hostnames, vec!["shop.example.com"]);
    assert_eq!(sections(r), vec!["tls-shop-example-com"]);
    let gw = p
        .object("Gateway", "shop", "nginx")
        .and_then(TranslatedObject::gateway)
        .unwrap();
    let l = gw
        .spec
        .listeners
        .iter()
        .find(|l| l.name == "tls-shop-example-com")
        .unwrap();
    assert_eq!(
        (l.port, l.protocol.as_str(), l.hostname.as_deref()),
        (443, "TLS", Some("shop.example.com"))
    );
    let tls = l.tls.as_ref().unwrap();
    assert!(tls.passthrough());
    assert!(tls.certificate_refs.is_empty());
    // The TLS entry's Secret is not served: the backend terminates TLS.
    assert!(!gw.spec.listeners.iter().any(|l| l.protocol == "HTTPS"));
    assert_eq!(
        p.object("TLSRoute", "shop", "web-shop-example-com")
            .map(|o| o.api_version.as_str()),
        Some("gateway.networking.k8s.io/v1alpha2")
    );
}

// ---- canaries -------------------------------------------------------------------------------

fn canary(annotations: &[(&str, &str)]) -> String {
    let mut all = vec![("canary", "true")];
    all.extend_from_slice(annotations);
    ingress_named(
        "web-canary",
        &all,
        "  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web-v2, port: {number: 80}}}}
",
    )
}

#[test]
fn a_weighted_canary_joins_the_main_route_with_weights() {
    let main = ingress(&[], &SIMPLE_RULES.replace("name: http}", "number: 80}"));
    let p = plan_of(&format!(
        "{main}---\n{}",
        canary(&[("canary-weight", "20")])
    ));
    let rule = http_route(&p, "web-shop-example-com")
        .spec
        .rules
        .first()
        .unwrap();
    let weights: Vec<(String, Option<i32>)> = rule
        .backend_refs
        .iter()
        .map(|b| (b.target.name.clone(), b.weight))
        .collect();
    assert_eq!(
        weights,
        vec![("web".into(), Some(80)), ("web-v2".into(), Some(20))]
    );
    let c = p.ingress("shop", "web-canary").unwrap();
    assert!(c.canary);
    assert_eq!(c.objects, vec!["HTTPRoute shop/web-shop-example-com"]);
    assert_eq!(
        outcome(&p, "web-canary", "canary-weight"),
        Outcome::Translated
    );
    // The canary becomes no route of its own.
    assert_eq!(p.objects.iter().filter(|o| o.is_route()).count(), 1);
}

#[test]
fn a_header_canary_adds_a_rule_with_a_header_match() {
    let main = ingress(&[], &SIMPLE_RULES.replace("name: http}", "number: 80}"));
    let p = plan_of(&format!(
        "{main}---\n{}",
        canary(&[
            ("canary-by-header", "X-Canary"),
            ("canary-by-header-value", "yes")
        ])
    ));
    let r = http_route(&p, "web-shop-example-com");
    assert_eq!(r.spec.rules.len(), 2);
    let header_rule = r.spec.rules.get(1).unwrap();
    let m = header_rule.matches.first().unwrap();
    assert_eq!(
        m.path,
        Some(PathMatch {
            type_: Some("PathPrefix".into()),
            value: Some("/".into())
        })
    );
    assert_eq!(
        m.headers,
        vec![json!({"type": "Exact", "name": "X-Canary", "value": "yes"})]
    );
    assert_eq!(
        header_rule
            .backend_refs
            .first()
            .map(|b| b.target.name.as_str()),
        Some("web-v2")
    );
    // No weight given: the main rule keeps its single backend, unweighted.
    let main_rule = r.spec.rules.first().unwrap();
    assert_eq!(main_rule.backend_refs.len(), 1);
    assert_eq!(main_rule.backend_refs.first().and_then(|b| b.weight), None);
}

#[test]
fn a_canary_without_its_main_ingress_is_listed_with_a_warning() {
    let p = plan_of(&canary(&[("canary-weight", "20")]));
    assert_eq!(p.route_count(), 0);
    let c = p.ingress("shop", "web-canary").unwrap();
    assert!(c.objects.is_empty());
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("main Ingress is not in the input")),
        "{:?}",
        c.warnings
    );
    assert_eq!(outcome(&p, "web-canary", "canary"), Outcome::Manual);
    assert_eq!(outcome(&p, "web-canary", "canary-weight"), Outcome::Manual);
}

// ---- Envoy Gateway policies ------------------------------------------------------------------

#[test]
fn basic_auth_becomes_a_security_policy_on_the_ingress_routes() {
    let p = plan_of(&ingress(
        &[("auth-type", "basic"), ("auth-secret", "web-users")],
        TLS_RULES,
    ));
    let sp = policy(&p, "SecurityPolicy", "web");
    assert_eq!(
        sp.get("basicAuth"),
        Some(&json!({"users": {"name": "web-users"}}))
    );
    assert_eq!(
        sp.get("targetRefs"),
        Some(
            &json!([{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "web-shop-example-com"}])
        )
    );
    assert_eq!(outcome(&p, "web", "auth-type"), Outcome::Policy);
    assert_eq!(outcome(&p, "web", "auth-secret"), Outcome::Policy);
    assert!(
        warnings(&p, "web")
            .iter()
            .any(|w| w.contains("`.htpasswd`"))
    );
    let o = p.object("SecurityPolicy", "shop", "web").unwrap();
    assert_eq!(o.api_version, "gateway.envoyproxy.io/v1alpha1");
    assert_eq!(
        o.to_value()["metadata"],
        json!({"name": "web", "namespace": "shop"})
    );
}

#[test]
fn an_allow_list_becomes_an_authorization_that_denies_by_default() {
    let p = plan_of(&ingress(
        &[
            ("whitelist-source-range", "10.0.0.0/8, 192.168.1.1"),
            ("denylist-source-range", "10.9.0.0/16"),
        ],
        SIMPLE_RULES,
    ));
    let sp = policy(&p, "SecurityPolicy", "web");
    assert_eq!(
        sp.get("authorization"),
        Some(&json!({
            "defaultAction": "Deny",
            "rules": [
                {"action": "Deny", "principal": {"clientCIDRs": ["10.9.0.0/16"]}},
                {"action": "Allow", "principal": {"clientCIDRs": ["10.0.0.0/8", "192.168.1.1"]}},
            ]
        }))
    );
    assert_eq!(
        outcome(&p, "web", "whitelist-source-range"),
        Outcome::Policy
    );
    assert_eq!(outcome(&p, "web", "denylist-source-range"), Outcome::Policy);

    let p = plan_of(&ingress(
        &[("allowlist-source-range", "10.0.0.0/8, not-a-cidr")],
        SIMPLE_RULES,
    ));
    assert!(p.object("SecurityPolicy", "shop", "web").is_none());
    assert_eq!(
        outcome(&p, "web", "allowlist-source-range"),
        Outcome::Manual
    );
}

#[test]
fn cors_becomes_a_security_policy_and_never_lets_every_origin_send_credentials() {
    let p = plan_of(&ingress(
        &[
            ("enable-cors", "true"),
            (
                "cors-allow-origin",
                "https://a.example.com, https://*.b.example.com:8443",
            ),
            ("cors-allow-methods", "get, POST"),
            ("cors-max-age", "600"),
        ],
        SIMPLE_RULES,
    ));
    let sp = policy(&p, "SecurityPolicy", "web");
    assert_eq!(
        sp.get("cors"),
        Some(&json!({
            "allowOrigins": ["https://a.example.com", "https://*.b.example.com:8443"],
            "allowMethods": ["GET", "POST"],
            "allowHeaders": ["DNT", "Keep-Alive", "User-Agent", "X-Requested-With", "If-Modified-Since",
                             "Cache-Control", "Content-Type", "Range", "Authorization"],
            "allowCredentials": true,
            "maxAge": "600s",
        }))
    );
    assert_eq!(outcome(&p, "web", "cors-allow-origin"), Outcome::Policy);

    let p = plan_of(&ingress(
        &[
            ("enable-cors", "true"),
            ("cors-allow-origin", "*"),
            ("cors-allow-credentials", "true"),
        ],
        SIMPLE_RULES,
    ));
    let cors = policy(&p, "SecurityPolicy", "web")
        .get("cors")
        .cloned()
        .unwrap();
    assert_eq!(cors["allowOrigins"], json!(["*"]));
    assert_eq!(cors["allowCredentials"], json!(false));
    assert!(
        warnings(&p, "web")
            .iter()
            .any(|w| w.contains("allowCredentials: false"))
    );
}

#[test]
fn an_in_cluster_auth_url_becomes_ext_auth_with_a_grant_across_namespaces() {
    let p = plan_of(&ingress(
        &[
            (
                "auth-url",
                "http://oauth2-proxy.auth.svc.cluster.local:4180/oauth2/auth",
            ),
            (
                "auth-response-headers",
                "X-Auth-Request-User, X-Auth-Request-Email",
            ),
        ],
        SIMPLE_RULES,
    ));
    let sp = policy(&p, "SecurityPolicy", "web");
    assert_eq!(
        sp.get("extAuth"),
        Some(&json!({"http": {
            "backendRefs": [{"name": "oauth2-proxy", "namespace": "auth", "port": 4180}],
            "path": "/oauth2/auth",
            "headersToBackend": ["X-Auth-Request-User", "X-Auth-Request-Email"],
        }}))
    );
    assert_eq!(outcome(&p, "web", "auth-url"), Outcome::Policy);
    assert_eq!(outcome(&p, "web", "auth-response-headers"), Outcome::Policy);
    let grant = p
        .object("ReferenceGrant", "auth", "shop-web-ext-auth")
        .unwrap()
        .to_value();
    assert_eq!(
        grant["spec"],
        json!({
            "from": [{"group": "gateway.envoyproxy.io", "kind": "SecurityPolicy", "namespace": "shop"}],
            "to": [{"group": "", "kind": "Service", "name": "oauth2-proxy"}],
        })
    );
}

#[test]
fn an_authentication_that_cannot_be_translated_leaves_the_route_denied() {
    let p = plan_of(&ingress(
        &[
            ("auth-url", "https://sso.example.com/oauth2/auth"),
            ("auth-signin", "https://sso.example.com/oauth2/start"),
            ("whitelist-source-range", "10.0.0.0/8"),
        ],
        SIMPLE_RULES,
    ));
    let sp = policy(&p, "SecurityPolicy", "web");
    assert_eq!(
        sp.get("authorization"),
        Some(&json!({"defaultAction": "Deny"}))
    );
    assert!(sp.get("extAuth").is_none());
    assert_eq!(outcome(&p, "web", "auth-url"), Outcome::Manual);
    assert_eq!(outcome(&p, "web", "auth-signin"), Outcome::Manual);
    assert_eq!(
        outcome(&p, "web", "whitelist-source-range"),
        Outcome::Manual
    );
    assert!(
        warnings(&p, "web")
            .iter()
            .any(|w| w.contains("denies every request"))
    );
    // The report never repeats the URL.
    assert!(
        !warnings(&p, "web")
            .iter()
            .any(|w| w.contains("sso.example.com"))
    );
}

#[test]
fn rate_limits_become_a_per_client_backend_traffic_policy() {
    let p = plan_of(&ingress(
        &[("limit-rps", "50"), ("limit-rpm", "600")],
        SIMPLE_RULES,
    ));
    let btp = policy(&p, "BackendTrafficPolicy", "web");
    let rule = |cidr: &str, n: u32, unit: &str| {
        json!({"clientSelectors": [{"sourceCIDR": {"type": "Distinct", "value": cidr}}],
               "limit": {"requests": n, "unit": unit}})
    };
    assert_eq!(
        btp.get("rateLimit"),
        Some(&json!({"type": "Global", "global": {"rules": [
            rule("0.0.0.0/0", 50, "Second"), rule("::/0", 50, "Second"),
            rule("0.0.0.0/0", 600, "Minute"), rule("::/0", 600, "Minute"),
        ]}}))
    );
    assert_eq!(outcome(&p, "web", "limit-rps"), Outcome::Policy);

    let p = plan_of(&ingress(&[("limit-rps", "lots")], SIMPLE_RULES));
    assert!(p.object("BackendTrafficPolicy", "shop", "web").is_none());
    assert_eq!(outcome(&p, "web", "limit-rps"), Outcome::Manual);
}

#[test]
fn without_an_implementation_no_policy_is_written_and_the_controls_are_listed() {
    let p = plan_without_policies(&ingress(
        &[
            ("auth-type", "basic"),
            ("auth-secret", "users"),
            ("limit-rps", "5"),
            ("whitelist-source-range", "10.0.0.0/8"),
        ],
        SIMPLE_RULES,
    ));
    assert!(p.objects.iter().all(|o| o.policy_spec().is_none()));
    for a in [
        "auth-type",
        "auth-secret",
        "limit-rps",
        "whitelist-source-range",
    ] {
        assert_eq!(outcome(&p, "web", a), Outcome::Manual, "{a}");
    }
    let w = warnings(&p, "web");
    assert!(
        w.iter()
            .any(|x| x.contains("the routes are open until you add one")),
        "{w:?}"
    );
    assert_eq!(
        http_route(&p, "web-shop-example-com").spec.hostnames,
        vec!["shop.example.com"]
    );
}

// ---- the plan as a whole ---------------------------------------------------------------------

#[test]
fn ingresses_of_other_controllers_are_skipped_with_their_controller() {
    let traefik = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: t, namespace: shop}\nspec:\n  ingressClassName: traefik\n  rules: [{host: t.example.com}]\n";
    let classless = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: c, namespace: shop}\nspec:\n  rules: [{host: c.example.com}]\n";
    let p = plan_of(&format!(
        "{traefik}---\n{classless}---\n{}",
        ingress(&[], SIMPLE_RULES)
    ));
    assert_eq!(p.ingresses_total, 3);
    assert_eq!(p.ingresses.len(), 1);
    assert_eq!(
        p.skipped,
        vec![
            SkippedIngress {
                namespace: "shop".into(),
                name: "c".into(),
                controller: "unknown".into()
            },
            SkippedIngress {
                namespace: "shop".into(),
                name: "t".into(),
                controller: "traefik".into()
            },
        ]
    );
}

#[test]
fn annotations_are_counted_over_ingresses_with_the_worst_outcome() {
    let a = ingress_named(
        "a",
        &[("limit-rps", "5"), ("server-snippet", "x")],
        SIMPLE_RULES,
    );
    let b = ingress_named(
        "b",
        &[("limit-rps", "bad"), ("no-such-thing", "1")],
        SIMPLE_RULES,
    );
    let p = plan_of(&format!("{a}---\n{b}"));
    let find = |short: &str| {
        p.annotations
            .iter()
            .find(|u| u.annotation == format!("{NGINX_PREFIX}{short}"))
            .unwrap()
    };
    let rps = find("limit-rps");
    assert_eq!(rps.affected, vec!["shop/a", "shop/b"]);
    assert_eq!(rps.outcome, Outcome::Manual);
    assert_eq!(rps.support(), Some(Support::Implementation));
    assert_eq!(find("server-snippet").support(), Some(Support::None));
    assert_eq!(find("no-such-thing").support(), None);
    assert_eq!(p.annotations.len(), 3);
}

#[test]
fn the_plan_does_not_depend_on_input_order() {
    let a = ingress_named("a", &[], TLS_RULES);
    let b = ingress_named("b", &[("ssl-redirect", "false")], TLS_RULES);
    let forward = plan_of(&format!("{a}---\n{b}"));
    let backward = plan_of(&format!("{b}---\n{a}"));
    let dump = |p: &MigrationPlan| -> Vec<String> {
        p.objects.iter().map(|o| o.to_value().to_string()).collect()
    };
    assert_eq!(dump(&forward), dump(&backward));
    // Two Ingresses on one TLS host share one listener.
    let gw = forward
        .object("Gateway", "shop", "nginx")
        .and_then(TranslatedObject::gateway)
        .unwrap();
    assert_eq!(gw.spec.listeners.len(), 2);
}

#[test]
fn helpers_refuse_what_they_cannot_express() {
    assert_eq!(slug("*.Shop.example.com"), "wildcard-shop-example-com");
    assert_eq!(dns_name("Web_App--"), "web-app");
    assert!(in_cluster_service("http://auth.sso.svc/check", "shop").is_some());
    assert!(
        in_cluster_service("http://auth/check", "shop")
            .is_some_and(|s| s.namespace == "shop" && s.port == 80)
    );
    assert!(in_cluster_service("https://auth.sso.svc/check", "shop").is_none());
    assert!(in_cluster_service("http://sso.example.com/check", "shop").is_none());
    assert!(in_cluster_service("http://auth.sso.svc:99999/", "shop").is_none());
    assert!(parse_redirect_target("ftp://example.com/").is_none());
    assert!(parse_redirect_target("https://example.com/$request_uri").is_none());
    assert_eq!(grpc_method("/a.B/C/D"), None);
    assert_eq!(grpc_method("/"), Some(None));
    assert_eq!(
        cidr_list("10.0.0.0/8,::1"),
        Some(vec!["10.0.0.0/8".into(), "::1".into()])
    );
    assert_eq!(cidr_list("10.0.0.0/8,example.com"), None);
    assert!(is_origin("https://*.example.com"));
    assert!(!is_origin("example.com"));
    assert_eq!(
        gateway_path_problem("/a//b"),
        Some("contains `//`, `/./` or `/../`")
    );
    assert_eq!(gateway_path_problem("/a/b"), None);
}

#[test]
fn a_denied_route_gets_no_grant_for_the_authentication_it_lost() {
    let p = plan_of(&ingress(
        &[
            ("auth-url", "http://oauth2-proxy.auth.svc:4180/oauth2/auth"),
            ("auth-type", "basic"),
            ("auth-secret", "other-ns/users"),
        ],
        SIMPLE_RULES,
    ));
    let sp = policy(&p, "SecurityPolicy", "web");
    assert_eq!(
        sp.get("authorization"),
        Some(&json!({"defaultAction": "Deny"}))
    );
    assert!(sp.get("extAuth").is_none() && sp.get("basicAuth").is_none());
    assert!(p.objects.iter().all(|o| o.kind != "ReferenceGrant"));
    assert_eq!(outcome(&p, "web", "auth-url"), Outcome::Manual);
    assert!(
        warnings(&p, "web")
            .iter()
            .any(|w| w.contains("auth-secret is in another namespace"))
    );
}
