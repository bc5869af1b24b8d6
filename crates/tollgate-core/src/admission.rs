//! Admission: the catalog's verdict on one object about to be stored, among the objects the
//! cluster already has. The webhook (`tollgate serve`) and its tests use this; it renders and
//! executes nothing from the object, and has no side effects.
//!
//! The object replaces its own stored version in the context (so an update never conflicts with
//! itself), and only the findings about it count: a cross-object rule that fires (its host is
//! claimed by another namespace, its Service does not exist) fires on it. Suppressions apply as in
//! a scan; a waived finding is allowed with a warning that says so.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::engine::{self, Finding, RunOptions, SuppressedBy};
use crate::inventory::{Inventory, Scope};
use crate::object::{Kind, Object};
use crate::rules::Severity;

/// What the webhook does with a violated rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Refuse the object.
    Deny,
    /// Allow it with a warning the client shows (`kubectl` prints it).
    Warn,
    /// Allow it silently; the finding is kept in the audit annotations and metrics.
    Audit,
}

impl Action {
    /// `Warn`, or `Audit` when `severity` is below the warn threshold.
    fn min_severity_audit(self, severity: Severity, warn_at: Option<Severity>) -> Action {
        if severity >= warn_at.unwrap_or(Severity::Low) {
            self
        } else {
            Action::Audit
        }
    }

    /// The config spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deny => "deny",
            Action::Warn => "warn",
            Action::Audit => "audit",
        }
    }
}

/// How findings map to actions: per rule, else by severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ActionPolicy {
    /// Findings at or above this severity are denied: `high` when unset.
    pub deny_at: Option<Severity>,
    /// Findings at or above this severity (and below `denyAt`) warn: `low` when unset; below it
    /// they are audit-only.
    pub warn_at: Option<Severity>,
    /// Per rule (name or code): `deny`, `warn` or `audit`, whatever the severity.
    #[serde(default)]
    pub rules: BTreeMap<String, Action>,
}

/// Rules about a state that is normal for a moment after a write (a new Service has no ready
/// endpoints yet): they warn unless configured otherwise, so an apply of a Service and its
/// Ingress together is not refused.
pub const TRANSIENT: [&str; 1] = ["backend-no-endpoints"];

impl ActionPolicy {
    /// The action for a finding of `rule` (name and code) at `severity`.
    #[must_use]
    pub fn action(&self, name: &str, code: &str, severity: Severity) -> Action {
        if let Some(action) = self.rules.get(name).or_else(|| self.rules.get(code)) {
            return *action;
        }
        if TRANSIENT.contains(&name) {
            return Action::Warn.min_severity_audit(severity, self.warn_at);
        }
        if severity >= self.deny_at.unwrap_or(Severity::High) {
            Action::Deny
        } else if severity >= self.warn_at.unwrap_or(Severity::Low) {
            Action::Warn
        } else {
            Action::Audit
        }
    }
}

/// One finding on the object under review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Rule name.
    pub rule: &'static str,
    /// Rule code.
    pub code: &'static str,
    /// Severity in force.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
    /// What the webhook does about it.
    pub action: Action,
}

/// A finding a suppression waived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waived {
    /// Rule name.
    pub rule: &'static str,
    /// What would be wrong.
    pub message: String,
    /// The suppression's reason.
    pub reason: String,
    /// `annotation` or `config`.
    pub by: &'static str,
}

/// The verdict on one object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Every finding on the object, most severe first.
    pub violations: Vec<Violation>,
    /// Findings suppressions waived.
    pub waived: Vec<Waived>,
}

impl Verdict {
    /// Whether the object may be stored.
    #[must_use]
    pub fn allowed(&self) -> bool {
        !self.violations.iter().any(|v| v.action == Action::Deny)
    }

    /// The refusal message: each denied rule with its fix and the suppression that would waive
    /// it (`strict` config refuses annotation suppressions, so only the config one is offered).
    #[must_use]
    pub fn message(&self, object: &str, strict: bool) -> String {
        let mut text = format!("tollgate refused {object}:");
        for v in self.violations.iter().filter(|v| v.action == Action::Deny) {
            let _ = write!(
                text,
                "\n- {} {} ({}): {}. Fix: {}",
                v.code, v.rule, v.severity, v.message, v.help
            );
            if strict {
                let _ = write!(
                    text,
                    " To waive it, add a suppression for `{}` with a reason to tollgate.yaml.",
                    v.rule
                );
            } else {
                let _ = write!(
                    text,
                    " To waive it, annotate the object `tollgate.io/ignore: \"{}\"` with \
                     `tollgate.io/ignore-reason`, or add a suppression to tollgate.yaml.",
                    v.rule
                );
            }
        }
        text
    }

    /// The warnings the client shows: warned findings and waived ones.
    #[must_use]
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .violations
            .iter()
            .filter(|v| v.action == Action::Warn)
            .map(|v| {
                format!(
                    "tollgate {} {} ({}): {}",
                    v.code, v.rule, v.severity, v.message
                )
            })
            .collect();
        out.extend(self.waived.iter().map(|w| {
            format!(
                "tollgate {} waived by {}: {} (reason: {})",
                w.rule, w.by, w.message, w.reason
            )
        }));
        out
    }
}

/// Judges `incoming` among `context` (the cluster's objects, as the last scan saw them).
#[must_use]
pub fn evaluate(
    context: &[Object],
    scope: &Scope,
    incoming: &Object,
    config: &Config,
    policy: &ActionPolicy,
    now: jiff::Timestamp,
) -> Verdict {
    let same =
        |o: &Object| o.kind == incoming.kind && o.name == incoming.name && o.ns() == incoming.ns();
    let namespace = incoming.ns();
    let namespaces = referenced_namespaces(incoming);
    // The context's file positions point into sources not kept here: the verdict has none.
    let mut objects: Vec<Object> = context
        .iter()
        .filter(|o| !same(o) && relevant(o, incoming, &namespaces))
        .map(|o| Object {
            origin: None,
            ..o.clone()
        })
        .collect();
    objects.push(incoming.clone());
    let inventory = Inventory::build(objects, Vec::new(), Some(scope.clone()));
    let outcome = engine::run(
        &inventory,
        &RunOptions {
            config,
            select: &[],
            ignore: &[],
            now,
        },
    );
    let about = |f: &Finding| {
        f.resource.kind == incoming.kind.as_str()
            && f.resource.name == incoming.name
            && f.resource.namespace.as_deref().unwrap_or_default() == namespace
    };
    let mut violations: Vec<Violation> = outcome
        .findings
        .iter()
        .filter(|f| about(f))
        .map(|f| Violation {
            rule: f.rule.name,
            code: f.rule.code,
            severity: f.severity,
            message: f.message.clone(),
            help: f.help.clone(),
            action: policy.action(f.rule.name, f.rule.code, f.severity),
        })
        .collect();
    violations.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.code.cmp(b.code)));
    violations.dedup_by(|a, b| a.rule == b.rule && a.message == b.message);
    let waived = outcome
        .suppressed
        .iter()
        .filter(|s| about(&s.finding))
        .map(|s| Waived {
            rule: s.finding.rule.name,
            message: s.finding.message.clone(),
            reason: s.reason.clone(),
            by: match s.by {
                SuppressedBy::Annotation => "annotation",
                SuppressedBy::Config { .. } => "config",
            },
        })
        .collect();
    Verdict { violations, waived }
}

/// What the verdict on `incoming` can depend on: cluster-scoped objects, every Ingress (hosts
/// claimed across namespaces), the controllers' objects, and the objects of the namespaces it
/// refers to (its own, and for a Gateway API object those of its parents, backends and
/// certificates). A Gateway API object also depends on every Gateway, route, ReferenceGrant and
/// access policy: routes of any namespace share listeners, and a Gateway's policies live in its
/// own namespace. RBAC objects are left out: no rule about an Ingress or a route reads them.
///
/// Leaving out an object a rule needs would make the rule see it as missing (the scan's scope
/// is a complete listing), so the namespaces are taken generously.
fn relevant(object: &Object, incoming: &Object, namespaces: &BTreeSet<String>) -> bool {
    let gateway_review = incoming.kind.gateway_api() || incoming.kind.access_policy();
    match object.kind {
        Kind::Role | Kind::RoleBinding | Kind::ClusterRole | Kind::ClusterRoleBinding => false,
        Kind::Ingress
        | Kind::IngressClass
        | Kind::ConfigMap
        | Kind::Deployment
        | Kind::DaemonSet => true,
        k if gateway_review && (k.gateway_api() || k.access_policy()) => true,
        _ => object.namespace.is_none() || namespaces.contains(object.ns()),
    }
}

/// The namespaces an object refers to, its own included: a route's parents and backends, a
/// Gateway's certificates.
fn referenced_namespaces(incoming: &Object) -> BTreeSet<String> {
    let mut out = BTreeSet::from([incoming.ns().to_owned()]);
    match &incoming.resource {
        crate::object::Resource::GatewayRoute(route) => {
            out.extend(
                route
                    .spec
                    .parent_refs
                    .iter()
                    .filter_map(|p| p.namespace.clone()),
            );
            out.extend(
                route
                    .spec
                    .rules
                    .iter()
                    .flat_map(|r| &r.backend_refs)
                    .filter_map(|b| b.target.namespace.clone()),
            );
        }
        crate::object::Resource::Gateway(gw) => {
            out.extend(
                gw.spec
                    .listeners
                    .iter()
                    .flat_map(|l| l.tls.iter().flat_map(|t| &t.certificate_refs))
                    .filter_map(|c| c.namespace.clone()),
            );
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: serde_json::Value) -> Object {
        Object::from_value(value, None).unwrap().unwrap()
    }

    fn ingress(namespace: &str, name: &str, host: &str, annotations: serde_json::Value) -> Object {
        object(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
            "spec": {"ingressClassName": "nginx",
                     "tls": [{"hosts": [host], "secretName": "web-tls"}],
                     "rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                        "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}
        }))
    }

    fn context() -> Vec<Object> {
        vec![
            object(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"ports": [{"port": 80}]}})),
            object(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                "metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}}),
            ),
            ingress("shop", "web", "shop.example.com", json!({})),
            ingress("blog", "blog", "blog.example.com", json!({})),
        ]
    }

    fn scope() -> Scope {
        Scope {
            present: context().iter().map(|o| o.kind).collect(),
            complete: true,
            ..Scope::default()
        }
    }

    fn judge(incoming: &Object) -> Verdict {
        evaluate(
            &context(),
            &scope(),
            incoming,
            &Config::default(),
            &ActionPolicy::default(),
            jiff::Timestamp::UNIX_EPOCH,
        )
    }

    fn rules(verdict: &Verdict, action: Action) -> Vec<&'static str> {
        verdict
            .violations
            .iter()
            .filter(|v| v.action == action)
            .map(|v| v.rule)
            .collect()
    }

    /// A cluster with a shared Gateway in `edge` admitting every namespace, a Service in
    /// `search` granted to HTTPRoutes of `shop`, and lots of unrelated Secrets elsewhere.
    fn gateway_cluster() -> (Vec<Object>, Scope) {
        let mut objects = vec![
            object(
                json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                "metadata": {"name": "shared", "namespace": "edge"},
                "spec": {"gatewayClassName": "eg", "listeners": [{"name": "https", "port": 443,
                    "protocol": "HTTPS", "tls": {"certificateRefs": [{"name": "edge-tls"}]},
                    "allowedRoutes": {"namespaces": {"from": "All"}}}]}}),
            ),
            object(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"ports": [{"port": 80}]}})),
            object(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "search", "namespace": "search"},
                "spec": {"ports": [{"port": 80}]}})),
            object(json!({"apiVersion": "gateway.networking.k8s.io/v1beta1",
                "kind": "ReferenceGrant", "metadata": {"name": "shop", "namespace": "search"},
                "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute",
                    "namespace": "shop"}], "to": [{"group": "", "kind": "Service"}]}})),
        ];
        objects.extend(context());
        let scope = Scope {
            present: Kind::ALL.into_iter().collect(),
            complete: true,
            ..Scope::default()
        };
        (objects, scope)
    }

    fn route(parent_ns: &str, parent: &str, backends: serde_json::Value) -> Object {
        object(
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"parentRefs": [{"name": parent, "namespace": parent_ns,
                                     "sectionName": "https"}],
                     "hostnames": ["shop.example.com"],
                     "rules": [{"backendRefs": backends}]}}),
        )
    }

    #[test]
    fn a_route_is_judged_with_its_gateway_and_backends_in_other_namespaces() {
        let (context, scope) = gateway_cluster();
        let judge = |incoming: &Object| {
            evaluate(
                &context,
                &scope,
                incoming,
                &Config::default(),
                &ActionPolicy::default(),
                jiff::Timestamp::UNIX_EPOCH,
            )
        };
        // The Gateway lives in `edge` and the granted Service in `search`: both are seen.
        let good = judge(&route(
            "edge",
            "shared",
            json!([{"name": "web", "port": 80},
                   {"name": "search", "namespace": "search", "port": 80}]),
        ));
        assert!(good.allowed(), "{good:#?}");
        // Only that the cluster lists no endpoints for them, which warns.
        let rules_of = |v: &Verdict| v.violations.iter().map(|x| x.rule).collect::<BTreeSet<_>>();
        assert_eq!(
            rules_of(&good),
            BTreeSet::from(["backend-no-endpoints"]),
            "{good:#?}"
        );
        // A Gateway that does not exist, and a Service without a grant, are refused.
        let bad = judge(&route(
            "edge",
            "gone",
            json!([{"name": "gone", "port": 80},
                   {"name": "ledger", "namespace": "blog", "port": 80}]),
        ));
        assert!(!bad.allowed());
        let denied = rules(&bad, Action::Deny);
        for rule in [
            "route-not-accepted",
            "route-backend-missing",
            "cross-namespace-ref-without-grant",
        ] {
            assert!(denied.contains(&rule), "{rule}: {bad:#?}");
        }
    }

    #[test]
    fn an_update_to_its_own_host_is_not_a_conflict() {
        let verdict = judge(&ingress("shop", "web", "shop.example.com", json!({})));
        assert!(
            !verdict
                .violations
                .iter()
                .any(|v| v.rule == "host-claimed-across-namespaces"
                    || v.rule == "duplicate-host-path"),
            "{verdict:#?}"
        );
    }

    #[test]
    fn another_namespace_claiming_a_host_is_denied() {
        let verdict = judge(&ingress("blog", "takeover", "shop.example.com", json!({})));
        assert!(
            verdict
                .violations
                .iter()
                .any(|v| v.rule == "host-claimed-across-namespaces"),
            "{verdict:#?}"
        );
    }

    #[test]
    fn a_wildcard_host_is_denied_and_a_suppression_turns_it_into_a_warning() {
        let verdict = judge(&ingress("shop", "web", "*.example.com", json!({})));
        assert!(
            rules(&verdict, Action::Deny).contains(&"wildcard-host"),
            "{verdict:#?}"
        );
        assert!(!verdict.allowed());
        let message = verdict.message("Ingress shop/web", false);
        assert!(message.contains("TG101 wildcard-host (high)"), "{message}");
        assert!(
            message.contains("tollgate.io/ignore: \"wildcard-host\""),
            "{message}"
        );

        let waived = judge(&ingress(
            "shop",
            "web",
            "*.example.com",
            json!({"tollgate.io/ignore": "wildcard-host",
                   "tollgate.io/ignore-reason": "the tenant subdomains are ours"}),
        ));
        assert!(
            !rules(&waived, Action::Deny).contains(&"wildcard-host"),
            "{waived:#?}"
        );
        assert!(
            waived
                .warnings()
                .iter()
                .any(|w| w.contains("wildcard-host waived by annotation")
                    && w.contains("the tenant subdomains are ours"))
        );
    }

    #[test]
    fn actions_follow_the_rule_then_the_severity() {
        let mut policy = ActionPolicy::default();
        assert_eq!(
            policy.action("x", "TG999", Severity::Critical),
            Action::Deny
        );
        assert_eq!(policy.action("x", "TG999", Severity::Medium), Action::Warn);
        assert_eq!(policy.action("x", "TG999", Severity::Info), Action::Audit);
        policy.rules.insert("TG101".into(), Action::Warn);
        assert_eq!(
            policy.action("wildcard-host", "TG101", Severity::High),
            Action::Warn
        );
    }
}
