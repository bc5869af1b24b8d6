//! `tollgate migrate --to gateway-api`: the migration-readiness report (Markdown and JSON) and
//! the translated objects (a multi-document YAML stream).
//!
//! The report never quotes annotation values: they can hold NGINX configuration (snippets) or
//! URLs with credentials. It names annotations, objects, hosts and paths only.

use std::fmt::Write as _;

use serde::Serialize;

use crate::change::to_yaml;
use crate::migrate::{
    AnnotationOutcome, Implementation, MigrationPlan, Outcome, SkippedIngress, Support,
};
use crate::report::Tool;

use super::markdown::{code, text};

/// The counts at the top of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Every Ingress read.
    pub ingresses: usize,
    /// Those ingress-nginx serves.
    pub ingress_nginx: usize,
    /// Those another controller serves (or none).
    pub skipped: usize,
    /// Routes written (redirect routes included).
    pub routes: usize,
    /// Gateways written.
    pub gateways: usize,
    /// Distinct ingress-nginx annotations in use.
    pub annotations_in_use: usize,
    /// Of those, how many need an implementation policy.
    pub needs_policy: usize,
    /// Of those, how many have no equivalent.
    pub no_equivalent: usize,
}

/// One annotation as the JSON report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct AnnotationRow {
    /// The full annotation name.
    pub annotation: String,
    /// How many Ingresses use it.
    pub ingresses: usize,
    /// `standard`, `implementation`, `none`, `default`, or `unknown` (ingress-nginx does not
    /// read it).
    pub support: &'static str,
    /// What it becomes, or what to do instead.
    pub equivalent: String,
    /// What differs, or what to check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The worst outcome over the Ingresses.
    pub outcome: Outcome,
    /// The Ingresses using it, `namespace/name`.
    pub affected: Vec<String>,
}

/// One ingress-nginx Ingress as the JSON report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct IngressRow {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its IngressClass.
    pub class: Option<String>,
    /// Whether it is a canary, merged into its main Ingress's routes.
    pub canary: bool,
    /// What it becomes, `Kind namespace/name`.
    pub objects: Vec<String>,
    /// Its ingress-nginx annotations and what became of each.
    pub annotations: Vec<AnnotationOutcome>,
    /// What to check or do by hand.
    pub warnings: Vec<String>,
}

/// The JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The tool.
    pub tool: Tool,
    /// `gateway-api`.
    pub target: &'static str,
    /// `spec.gatewayClassName` of the Gateways.
    pub gateway_class: String,
    /// `envoy-gateway` or `none`.
    pub implementation: &'static str,
    /// The counts.
    pub summary: Summary,
    /// Every annotation in use, by name.
    pub annotations: Vec<AnnotationRow>,
    /// The ingress-nginx Ingresses, by namespace and name.
    pub ingresses: Vec<IngressRow>,
    /// Ingresses of other controllers.
    pub skipped: Vec<SkippedIngress>,
    /// What concerns a Gateway rather than one Ingress.
    pub warnings: Vec<String>,
}

/// The name `--implementation` takes.
#[must_use]
pub fn implementation_name(i: Implementation) -> &'static str {
    match i {
        Implementation::EnvoyGateway => "envoy-gateway",
        Implementation::None => "none",
    }
}

/// The report's model.
#[must_use]
pub fn report(plan: &MigrationPlan) -> Report {
    let annotations: Vec<AnnotationRow> = plan
        .annotations
        .iter()
        .map(|a| AnnotationRow {
            annotation: a.annotation.clone(),
            ingresses: a.affected.len(),
            support: a.support().map_or("unknown", Support::as_str),
            equivalent: a.mapping.map_or_else(
                || {
                    "ingress-nginx does not read this annotation (a typo, or another \
                    controller's): nothing to migrate"
                        .to_owned()
                },
                |m| m.equivalent.clone(),
            ),
            note: a.mapping.and_then(|m| m.note.clone()),
            outcome: a.outcome,
            affected: a.affected.clone(),
        })
        .collect();
    let count = |s: Support| {
        plan.annotations
            .iter()
            .filter(|a| a.support() == Some(s))
            .count()
    };
    Report {
        tool: Tool::current(),
        target: "gateway-api",
        gateway_class: plan.options.gateway_class.clone(),
        implementation: implementation_name(plan.options.implementation),
        summary: Summary {
            ingresses: plan.ingresses_total,
            ingress_nginx: plan.ingresses.len(),
            skipped: plan.skipped.len(),
            routes: plan.route_count(),
            gateways: plan.gateway_count(),
            annotations_in_use: plan.annotations.len(),
            needs_policy: count(Support::Implementation),
            no_equivalent: count(Support::None),
        },
        annotations,
        ingresses: plan
            .ingresses
            .iter()
            .map(|p| IngressRow {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                class: p.class.clone(),
                canary: p.canary,
                objects: p.objects.clone(),
                annotations: p.annotations.clone(),
                warnings: p.warnings.clone(),
            })
            .collect(),
        skipped: plan.skipped.clone(),
        warnings: plan.warnings.clone(),
    }
}

/// The report as pretty JSON with a trailing newline.
#[must_use]
pub fn json(plan: &MigrationPlan) -> String {
    serde_json::to_string_pretty(&report(plan)).expect("the migration report serializes") + "\n"
}

/// The translated objects as a multi-document YAML stream, ready for `kubectl apply -f -`
/// once reviewed.
#[must_use]
pub fn yaml(plan: &MigrationPlan) -> String {
    let mut out = String::new();
    out.push_str(
        "# Gateway API objects for the ingress-nginx Ingresses, written by `tollgate migrate --to \
         gateway-api`.\n",
    );
    let _ = writeln!(
        out,
        "# Gateways use the GatewayClass `{}`: set your implementation's with --gateway-class.",
        plan.options.gateway_class
    );
    out.push_str("# Read the report's warnings (--format markdown) before applying.\n");
    for object in &plan.objects {
        out.push_str("---\n");
        out.push_str(&to_yaml(&object.to_value()));
    }
    out
}

/// The report as GitHub-flavoured Markdown.
#[must_use]
pub fn markdown(plan: &MigrationPlan) -> String {
    let r = report(plan);
    let s = &r.summary;
    let mut out = String::new();
    out.push_str("## Migration to the Gateway API\n\n");
    let policies = plan
        .objects
        .iter()
        .filter(|o| o.policy_spec().is_some())
        .count();
    let _ = writeln!(
        out,
        "{} Ingress{}: {} served by ingress-nginx become {} Gateway{}, {} route{} and {} \
         implementation polic{}; {} served by another controller (or none) {} skipped. {} \
         ingress-nginx annotation{} in use: {} need{} an implementation policy, {} {} no \
         equivalent.\n",
        s.ingresses,
        plural(s.ingresses, "", "es"),
        s.ingress_nginx,
        s.gateways,
        plural(s.gateways, "", "s"),
        s.routes,
        plural(s.routes, "", "s"),
        policies,
        plural(policies, "y", "ies"),
        s.skipped,
        if s.skipped == 1 { "is" } else { "are" },
        s.annotations_in_use,
        plural(s.annotations_in_use, "", "s"),
        s.needs_policy,
        if s.needs_policy == 1 { "s" } else { "" },
        s.no_equivalent,
        if s.no_equivalent == 1 { "has" } else { "have" },
    );
    let _ = writeln!(
        out,
        "The Gateways use the GatewayClass {}{}: change it with `--gateway-class` to your \
         implementation's class. Implementation policies: {}.\n",
        code(&r.gateway_class),
        if r.gateway_class == crate::migrate::DEFAULT_GATEWAY_CLASS {
            " (Envoy Gateway's quickstart class)"
        } else {
            ""
        },
        code(r.implementation),
    );

    // Before you switch: everything nothing was written for, most used first.
    let mut manual: Vec<&AnnotationRow> = r
        .annotations
        .iter()
        .filter(|a| a.outcome == Outcome::Manual)
        .collect();
    manual.sort_by(|a, b| {
        b.ingresses
            .cmp(&a.ingresses)
            .then_with(|| support_rank(a.support).cmp(&support_rank(b.support)))
            .then_with(|| a.annotation.cmp(&b.annotation))
    });
    out.push_str("### Before you switch\n\n");
    if manual.is_empty() {
        out.push_str("Every annotation in use was translated.\n\n");
    } else {
        out.push_str(
            "Annotations the translation does not carry, most used first. Those with no \
             equivalent lose their behaviour unless you rebuild it; the others need an \
             implementation policy or a change by hand.\n\n",
        );
        out.push_str(
            "| Annotation | Ingresses | Support | What to do |\n| --- | --- | --- | --- |\n",
        );
        for a in manual {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                code(&a.annotation),
                a.ingresses,
                support_label(a.support),
                message(&a.equivalent),
            );
        }
        out.push('\n');
    }

    out.push_str("### Annotations\n\n");
    if r.annotations.is_empty() {
        out.push_str("No ingress-nginx annotation is in use.\n\n");
    } else {
        out.push_str(
            "| Annotation | Ingresses | Support | Outcome | Equivalent |\n| --- | --- | --- | --- | --- |\n",
        );
        for a in &r.annotations {
            let equivalent = match &a.note {
                Some(note) => format!("{} — {}", a.equivalent, note),
                None => a.equivalent.clone(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                code(&a.annotation),
                a.ingresses,
                support_label(a.support),
                a.outcome.as_str(),
                message(&equivalent),
            );
        }
        out.push('\n');
    }

    out.push_str("### Ingresses\n\n");
    if r.ingresses.is_empty() {
        out.push_str("No Ingress is served by ingress-nginx.\n\n");
    }
    for i in &r.ingresses {
        let _ = writeln!(
            out,
            "#### {}{}{}\n",
            code(&format!("{}/{}", i.namespace, i.name)),
            i.class
                .as_deref()
                .map(|c| format!(" (class {})", code(c)))
                .unwrap_or_default(),
            if i.canary { ", canary" } else { "" },
        );
        if i.objects.is_empty() {
            out.push_str("Becomes no object.\n");
        } else {
            out.push_str(if i.canary { "Joins:\n" } else { "Becomes:\n" });
            for o in &i.objects {
                let (kind, name) = o.split_once(' ').unwrap_or((o, ""));
                let _ = writeln!(out, "- {kind} {}", code(name));
            }
        }
        let manual: Vec<&str> = i
            .annotations
            .iter()
            .filter(|a| a.outcome == Outcome::Manual)
            .map(|a| a.annotation.as_str())
            .collect();
        if !manual.is_empty() {
            let list: Vec<String> = manual.iter().map(|a| code(a)).collect();
            let _ = writeln!(out, "\nNot carried over: {}.", list.join(", "));
        }
        if !i.warnings.is_empty() {
            out.push_str("\nCheck:\n");
            for w in &i.warnings {
                let _ = writeln!(out, "- {}", message(w));
            }
        }
        out.push('\n');
    }

    if !r.skipped.is_empty() {
        let _ = writeln!(out, "### Skipped ({})\n", r.skipped.len());
        out.push_str("Served by another controller, or by none Tollgate could tell:\n\n");
        out.push_str("| Ingress | Controller |\n| --- | --- |\n");
        for s in &r.skipped {
            let _ = writeln!(
                out,
                "| {} | {} |",
                code(&format!("{}/{}", s.namespace, s.name)),
                text(&s.controller)
            );
        }
        out.push('\n');
    }
    if !r.warnings.is_empty() {
        out.push_str("### Gateways\n\n");
        for w in &r.warnings {
            let _ = writeln!(out, "- {}", message(w));
        }
        out.push('\n');
    }
    out
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

fn support_rank(s: &str) -> u8 {
    match s {
        "none" => 0,
        "implementation" => 1,
        "standard" => 2,
        _ => 3,
    }
}

fn support_label(s: &str) -> &str {
    match s {
        "none" => "no equivalent",
        "implementation" => "implementation policy",
        other => other,
    }
}

/// A warning: the text between backticks renders as code, the rest is escaped (as finding
/// messages are in the scan report).
fn message(m: &str) -> String {
    let parts: Vec<&str> = m.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return text(m);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { code(part) } else { text(part) })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Inventory;
    use crate::manifest::Manifests;
    use crate::migrate::{MigrateOptions, plan};
    use crate::object::Kind;

    const INPUT: &str = "\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: pay
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/configuration-snippet: |
      more_set_headers \"X-Secret-Marker: 42\";
    nginx.ingress.kubernetes.io/limit-rps: \"10\"
spec:
  ingressClassName: nginx
  tls: [{hosts: [pay.example.com], secretName: pay-tls}]
  rules:
    - host: pay.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: pay, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: other, namespace: shop}
spec:
  ingressClassName: traefik
  rules: [{host: other.example.com}]
";

    fn sample() -> MigrationPlan {
        let mut m = Manifests::default();
        m.add_text("in.yaml", INPUT.to_owned());
        let inv = Inventory::build(m.objects, m.sources, None);
        plan(&inv, &MigrateOptions::default())
    }

    #[test]
    fn json_starts_with_the_tool_and_counts_the_plan() {
        let out = json(&sample());
        assert!(
            out.starts_with("{\n  \"tool\": {\n    \"name\": \"tollgate\""),
            "{out}"
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["target"], "gateway-api");
        assert_eq!(
            v["summary"],
            serde_json::json!({"ingresses": 2, "ingress_nginx": 1, "skipped": 1, "routes": 2,
                "gateways": 1, "annotations_in_use": 2, "needs_policy": 1, "no_equivalent": 1})
        );
        let snippet = &v["annotations"][0];
        assert_eq!(
            snippet["annotation"],
            "nginx.ingress.kubernetes.io/configuration-snippet"
        );
        assert_eq!(snippet["support"], "none");
        assert_eq!(snippet["outcome"], "manual");
        assert_eq!(snippet["affected"], serde_json::json!(["shop/pay"]));
        assert_eq!(v["annotations"][1]["outcome"], "policy");
        assert_eq!(
            v["ingresses"][0]["objects"],
            serde_json::json!([
                "HTTPRoute shop/pay-pay-example-com",
                "HTTPRoute shop/pay-pay-example-com-redirect",
                "BackendTrafficPolicy shop/pay"
            ])
        );
        assert_eq!(v["skipped"][0]["controller"], "traefik");
        assert!(!out.contains("X-Secret-Marker"));
    }

    #[test]
    fn markdown_lists_what_to_do_before_the_switch_without_annotation_values() {
        let md = markdown(&sample());
        let before = md.split("### Before you switch").nth(1).unwrap();
        let before = before.split("### Annotations").next().unwrap();
        assert!(before.contains(
            "| `nginx.ingress.kubernetes.io/configuration-snippet` | 1 | no equivalent |"
        ));
        assert!(
            !before.contains("limit-rps"),
            "a translated annotation is not a to-do"
        );
        assert!(md.contains("| Annotation | Ingresses | Support | Outcome | Equivalent |"));
        assert!(md.contains("- HTTPRoute `shop/pay-pay-example-com`"));
        assert!(md.contains("| `shop/other` | traefik |"));
        assert!(!md.contains("X-Secret-Marker"));
    }

    #[test]
    fn yaml_reads_back_as_gateway_api_objects() {
        let out = yaml(&sample());
        assert!(out.starts_with("# Gateway API objects"));
        assert!(out.contains(
            "---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\n"
        ));
        let mut m = Manifests::default();
        m.add_text("out.yaml", out);
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        let kinds: Vec<(Kind, String)> =
            m.objects.iter().map(|o| (o.kind, o.name.clone())).collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::Gateway, "nginx".to_owned()),
                (Kind::HTTPRoute, "pay-pay-example-com".to_owned()),
                (Kind::HTTPRoute, "pay-pay-example-com-redirect".to_owned()),
                (Kind::BackendTrafficPolicy, "pay".to_owned()),
            ]
        );
        // Four documents: the comment header is none.
        assert_eq!(m.documents, 4);
    }
}
