//! How controls are judged, what "not assessed" says, and that the three formats agree and are
//! reproducible.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;
use crate::inventory::Scope as InventoryScope;
use crate::manifest::{self, Manifests};
use crate::render::compliance as render;

const AT: &str = "2026-11-22T00:00:00Z";

/// An Ingress on a named host without TLS, its class and Service.
const SHOP: &str = "\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
";

fn at() -> Timestamp {
    AT.parse().expect("a timestamp")
}

fn inventory(yaml: &str) -> Inventory {
    let mut m = Manifests::default();
    m.add_text("shop.yaml", yaml.to_owned());
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    Inventory::build(m.objects, m.sources, None)
}

fn examples() -> (Inventory, usize) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let (files, _) = manifest::expand_paths(&[root]);
    let m = Manifests::load_parallel(&files, 1, &|_| {});
    (Inventory::build(m.objects, m.sources, None), m.documents)
}

fn manifests(documents: usize) -> InputScope {
    InputScope {
        source: InputSource::Manifests,
        paths: vec!["shop.yaml".to_owned()],
        documents,
        ..InputScope::none()
    }
}

fn no_history() -> Evidence<HistoryEvidence> {
    Evidence::missing("no history store (give --store or set history.store)")
}

fn no_logs() -> Evidence<AccessEvidence> {
    Evidence::missing("no access logs given (--logs)")
}

fn history() -> HistoryEvidence {
    HistoryEvidence {
        store: "sqlite://tollgate.db".to_owned(),
        cluster: None,
        since: None,
        until: at(),
        first: Some("2026-11-01T10:00:00Z".parse().expect("a timestamp")),
        last: Some("2026-11-20T10:00:00Z".parse().expect("a timestamp")),
        changes: 2,
        by_action: BTreeMap::from([("updated".to_owned(), 2)]),
        by_kind: BTreeMap::from([("Ingress".to_owned(), 2)]),
        by_actor: vec![ActorCount {
            actor: "alice".to_owned(),
            changes: 2,
            out_of_band: 0,
            risky: 0,
            denied: 0,
        }],
        gitops_configured: true,
        out_of_band: 0,
        risky: 0,
        risky_out_of_band: 0,
        denied: 0,
        managed_fields_only: 0,
        unknown_actor: 0,
        notable: Vec::new(),
        notable_omitted: 0,
        chain: ChainStatus {
            intact: true,
            records: 2,
            first_broken: None,
        },
    }
}

fn build_with(
    framework: &str,
    inv: &Inventory,
    config: &Config,
    history: Evidence<HistoryEvidence>,
) -> ComplianceReport {
    build(Inputs {
        framework: framework::find(framework).expect("a framework"),
        inventory: inv,
        config,
        input: manifests(3),
        at: at(),
        history,
        access: no_logs(),
    })
}

fn control<'a>(report: &'a ComplianceReport, id: &str) -> &'a ControlResult {
    report
        .controls
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no control {id}"))
}

#[test]
fn a_named_host_without_tls_fails_pci_4_2_1_on_tls_missing() {
    let inv = inventory(SHOP);
    let report = build_with("pci-dss", &inv, &Config::default(), no_history());
    let c = control(&report, "4.2.1");
    assert_eq!(c.status, Status::Fail);
    assert_eq!(c.reasons, ["tls-missing (TG201): 1 finding"]);
    assert_eq!(c.findings.len(), 1);
    assert_eq!(c.findings[0].rule, "tls-missing");
    assert_eq!(c.findings[0].resource, "Ingress shop/web");
    assert_eq!(c.findings[0].location.as_deref(), Some("shop.yaml:11"));
    // The certificate rules had no Secrets to read: said so, beside the failure.
    assert!(
        c.gaps.iter().any(|g| g.contains("rule certificate-expired")
            && g.ends_with("no Secret objects in the input")),
        "{:?}",
        c.gaps
    );
}

#[test]
fn a_control_whose_rules_ran_clean_passes() {
    let inv = inventory(SHOP);
    let report = build_with("pci-dss", &inv, &Config::default(), no_history());
    let c = control(&report, "1.4.1");
    assert_eq!(c.status, Status::Pass);
    assert!(c.reasons.is_empty());
    assert!(c.findings.is_empty());
    assert_eq!(
        c.rules
            .iter()
            .map(|r| (r.rule, r.status))
            .collect::<Vec<_>>(),
        [
            ("service-bypasses-ingress", Status::Pass),
            ("service-external-ips", Status::Pass)
        ]
    );
}

#[test]
fn without_a_store_history_controls_are_not_assessed_and_say_why() {
    let inv = inventory(SHOP);
    let report = build_with("pci-dss", &inv, &Config::default(), no_history());
    let c = control(&report, "10.3.2");
    assert_eq!(c.status, Status::NotAssessed);
    assert_eq!(
        c.reasons,
        [
            "change-history, check history-chain-intact: no history store (give --store or set \
          history.store)"
        ]
    );
    assert_eq!(
        report.history.reason(),
        Some("no history store (give --store or set history.store)")
    );
}

#[test]
fn without_rbac_objects_the_rbac_controls_are_not_assessed() {
    let inv = inventory(SHOP);
    let report = build_with("cis-kubernetes", &inv, &Config::default(), no_history());
    let c = control(&report, "5.1.8");
    assert_eq!(c.status, Status::NotAssessed);
    assert!(
        c.reasons.iter().any(|r| r
            == "rule rbac-escalation-path, rbac-review: no Role, ClusterRole, RoleBinding or \
                ClusterRoleBinding objects in the input"),
        "{:?}",
        c.reasons
    );
    assert!(report.rbac.reason().is_some());
}

#[test]
fn a_kind_the_cluster_refused_makes_its_rules_not_assessed_with_the_refusal() {
    let mut m = Manifests::default();
    m.add_text("shop.yaml", SHOP.to_owned());
    let scope = InventoryScope {
        present: [Kind::Ingress, Kind::IngressClass, Kind::Service]
            .into_iter()
            .collect(),
        denied: BTreeMap::from([(Kind::Secret, "secrets is forbidden".to_owned())]),
        complete: true,
        namespace: None,
    };
    let inv = Inventory::build(m.objects, m.sources, Some(scope));
    let report = build_with("pci-dss", &inv, &Config::default(), no_history());
    let c = control(&report, "4.2.1.1");
    assert_eq!(c.status, Status::NotAssessed);
    assert!(
        c.reasons
            .iter()
            .any(|r| r.starts_with("rule certificate-expiring")
                && r.contains("skipped: Secret objects could not be listed: secrets is forbidden")),
        "{:?}",
        c.reasons
    );
    assert_eq!(
        report.certificates.reason(),
        Some("the cluster refused to list Secret objects: secrets is forbidden")
    );
    assert_eq!(report.scope.denied, ["Secret: secrets is forbidden"]);
}

#[test]
fn a_rule_the_config_disables_is_not_assessed() {
    let inv = inventory(SHOP);
    let config = Config::parse("tollgate.yaml", "ignore: [tls-missing]\n").expect("a config");
    let report = build_with("pci-dss", &inv, &config, no_history());
    let c = control(&report, "4.2.1");
    let tls = c
        .rules
        .iter()
        .find(|r| r.rule == "tls-missing")
        .expect("mapped");
    assert_eq!(tls.status, Status::NotAssessed);
    assert_eq!(
        tls.reason.as_deref(),
        Some("disabled by the config's `select` or `ignore`")
    );
    // plain-http-allowed and tls-host-not-covered still ran and found nothing.
    assert_eq!(c.status, Status::Pass);
}

#[test]
fn an_opt_in_rule_without_its_config_is_not_assessed_rather_than_passed() {
    let inv = inventory(SHOP);
    let report = build_with("pci-dss", &inv, &Config::default(), no_history());
    let c = control(&report, "6.4.2");
    assert_eq!(c.status, Status::NotAssessed);
    assert_eq!(
        c.reasons,
        [
            "access-logs: no access logs given (--logs)",
            "rule missing-waf: opt-in, and the config's `wafRequiredHosts` names no host"
        ]
    );
    let config =
        Config::parse("tollgate.yaml", "wafRequiredHosts: [shop.example.com]\n").expect("a config");
    let report = build_with("pci-dss", &inv, &config, no_history());
    let c = control(&report, "6.4.2");
    assert_eq!(c.status, Status::Fail);
    assert_eq!(c.reasons, ["missing-waf (TG505): 1 finding"]);
}

#[test]
fn suppressed_findings_do_not_fail_the_control_and_are_listed() {
    let inv = inventory(SHOP);
    let config = Config::parse(
        "tollgate.yaml",
        "suppressions:\n  - rule: tls-missing\n    namespace: shop\n    reason: TLS ends at the \
         cloud load balancer\n    expires: 2027-01-31\n",
    )
    .expect("a config");
    let report = build_with("pci-dss", &inv, &config, no_history());
    let c = control(&report, "4.2.1");
    assert_eq!(c.status, Status::Pass);
    assert_eq!(c.suppressed, 1);
    let s = report.suppressions.assessed().expect("suppressions");
    assert_eq!(s.entries.len(), 1);
    assert_eq!(s.entries[0].reason, "TLS ends at the cloud load balancer");
    assert_eq!(s.entries[0].expires.as_deref(), Some("2027-01-31"));
    assert_eq!(report.summary.suppressed, 1);
}

#[test]
fn a_broken_hash_chain_fails_the_log_integrity_controls() {
    let inv = inventory(SHOP);
    let intact = build_with(
        "pci-dss",
        &inv,
        &Config::default(),
        Evidence::Assessed(history()),
    );
    assert_eq!(control(&intact, "10.3.2").status, Status::Pass);
    let mut broken = history();
    broken.chain = ChainStatus {
        intact: false,
        records: 1,
        first_broken: Some("record #2: its hash does not match its content".to_owned()),
    };
    let report = build_with(
        "pci-dss",
        &inv,
        &Config::default(),
        Evidence::Assessed(broken),
    );
    let c = control(&report, "10.3.2");
    assert_eq!(c.status, Status::Fail);
    assert_eq!(
        c.reasons,
        [
            "history-chain-intact: the hash chain is broken at record #2: its hash does not match \
          its content"
        ]
    );
}

#[test]
fn a_risky_out_of_band_change_fails_change_management_and_names_its_actor() {
    let inv = inventory(SHOP);
    let mut h = history();
    h.out_of_band = 1;
    h.risky = 1;
    h.risky_out_of_band = 1;
    h.notable = vec![ChangeEntry {
        id: 7,
        time: "2026-11-20T10:00:00Z".parse().expect("a timestamp"),
        action: "updated".to_owned(),
        outcome: "applied".to_owned(),
        resource: "Ingress shop/web".to_owned(),
        actor: "bob".to_owned(),
        attribution: "audit".to_owned(),
        source_ips: vec!["10.0.0.9".to_owned()],
        out_of_band: true,
        introduced: vec!["tls-missing".to_owned()],
        fixed: Vec::new(),
    }];
    let report = build_with("pci-dss", &inv, &Config::default(), Evidence::Assessed(h));
    let c = control(&report, "6.5.1");
    assert_eq!(c.status, Status::Fail);
    assert_eq!(
        c.reasons,
        [
            "no-risky-out-of-band-changes: 1 change(s) made outside the GitOps identities \
          introduced rule violations: #7 Ingress shop/web by bob (tls-missing)"
        ]
    );
}

#[test]
fn without_gitops_identities_the_change_procedure_is_not_assessed() {
    let inv = inventory(SHOP);
    let mut h = history();
    h.gitops_configured = false;
    let report = build_with("pci-dss", &inv, &Config::default(), Evidence::Assessed(h));
    let c = control(&report, "6.5.1");
    assert_eq!(c.status, Status::NotAssessed);
    assert_eq!(
        c.reasons,
        [
            "check no-risky-out-of-band-changes: no GitOps identities are configured \
          (`history.gitops`), so out-of-band changes cannot be told apart"
        ]
    );
}

#[test]
fn changes_named_only_by_a_field_manager_fail_user_identification() {
    let inv = inventory(SHOP);
    let mut h = history();
    h.managed_fields_only = 1;
    let report = build_with("pci-dss", &inv, &Config::default(), Evidence::Assessed(h));
    let c = control(&report, "10.2.1.2");
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.reasons[0].starts_with(
            "changes-attributed: 1 of 2 applied change(s) have no authenticated actor"
        ),
        "{:?}",
        c.reasons
    );
    let clean = build_with(
        "pci-dss",
        &inv,
        &Config::default(),
        Evidence::Assessed(history()),
    );
    assert_eq!(control(&clean, "10.2.1.2").status, Status::Pass);
}

#[test]
fn without_any_objects_the_object_evidence_is_not_assessed() {
    let inv = Inventory::build(Vec::new(), Vec::new(), None);
    let report = build(Inputs {
        framework: framework::find("pci-dss").expect("a framework"),
        inventory: &inv,
        config: &Config::default(),
        input: InputScope::none(),
        at: at(),
        history: Evidence::Assessed(history()),
        access: no_logs(),
    });
    assert_eq!(
        report.exposure.reason(),
        Some("no manifests or cluster given")
    );
    assert_eq!(control(&report, "4.2.1").status, Status::NotAssessed);
    assert_eq!(control(&report, "10.3.2").status, Status::Pass);
}

#[test]
fn a_not_covered_control_says_why_tollgate_cannot_judge_it() {
    let inv = inventory(SHOP);
    let report = build_with("cis-kubernetes", &inv, &Config::default(), no_history());
    let c = control(&report, "5.4.1");
    assert_eq!(c.status, Status::NotAssessed);
    assert_eq!(
        c.reasons,
        ["Tollgate reads the TLS Secrets that routes serve, not how pods consume Secrets."]
    );
}

#[test]
fn the_example_shop_pci_report_fails_4_2_1_and_counts_add_up() {
    let (inv, documents) = examples();
    let report = build(Inputs {
        framework: framework::find("pci-dss").expect("a framework"),
        inventory: &inv,
        config: &Config::default(),
        input: manifests(documents),
        at: at(),
        history: no_history(),
        access: no_logs(),
    });
    let c = control(&report, "4.2.1");
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.findings
            .iter()
            .any(|f| f.rule == "tls-missing" && f.resource == "Ingress storefront/blog"),
        "{:?}",
        c.findings
    );
    let s = &report.summary;
    assert_eq!(s.pass + s.fail + s.not_assessed, s.controls);
    assert_eq!(
        s.controls,
        framework::find("pci-dss").expect("pci").controls.len()
    );
    // The example's scan: 63 findings as of 2026-11-22 (examples/README.md).
    assert_eq!(s.findings, 63);
    assert_eq!(
        (
            s.by_severity.critical,
            s.by_severity.high,
            s.by_severity.medium,
            s.by_severity.low
        ),
        (2, 25, 27, 9)
    );
    // 20 routes of Ingresses and 5 of the catalog's HTTPRoutes: one map.
    let e = report.exposure.assessed().expect("exposure");
    assert_eq!(e.routes.len(), 25);
    assert!(report.rbac.assessed().is_some());
    assert!(report.certificates.assessed().is_some());
}

/// `(id, status, findings)` of every control as a renderer printed it.
type Rows = Vec<(String, String, usize)>;

fn json_rows(json: &str) -> (Rows, String) {
    let v: serde_json::Value = serde_json::from_str(json).expect("JSON");
    let rows = v["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().expect("id").to_owned(),
                c["status"].as_str().expect("status").to_owned(),
                c["findings"].as_array().expect("findings").len(),
            )
        })
        .collect();
    let s = &v["summary"];
    (
        rows,
        format!(
            "{} controls: {} pass, {} fail, {} not assessed.",
            s["controls"], s["pass"], s["fail"], s["not_assessed"]
        ),
    )
}

fn html_rows(html: &str) -> Rows {
    html.split("<tr data-control=\"")
        .skip(1)
        .map(|rest| {
            let attr = |name: &str| {
                let start = rest.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
                let end = start + rest[start..].find('"').expect("closing quote");
                rest[start..end].to_owned()
            };
            let id = rest[..rest.find('"').expect("id")].to_owned();
            (
                id,
                attr("data-status"),
                attr("data-findings").parse().expect("a count"),
            )
        })
        .collect()
}

fn markdown_rows(md: &str) -> Rows {
    // The overview table is the first table under "## 3. Controls".
    let start = md.find("## 3. Controls").expect("controls section");
    md[start..]
        .lines()
        .skip_while(|l| !l.starts_with("| Control |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            let id = cells[0].trim_start_matches("| ").replace('\\', "");
            let status = match cells[2] {
                "not assessed" => "not-assessed".to_owned(),
                other => other.to_owned(),
            };
            (id, status, cells[3].parse().expect("a count"))
        })
        .collect()
}

#[test]
fn markdown_and_html_carry_the_controls_statuses_and_counts_of_the_json() {
    let (inv, documents) = examples();
    for f in framework::all() {
        let report = build(Inputs {
            framework: f,
            inventory: &inv,
            config: &Config::default(),
            input: manifests(documents),
            at: at(),
            history: Evidence::Assessed(history()),
            access: no_logs(),
        });
        let (rows, status_line) = json_rows(&render::json(&report));
        let html = render::html(&report);
        let md = render::markdown(&report);
        assert_eq!(html_rows(&html), rows, "{} HTML", f.name);
        assert_eq!(markdown_rows(&md), rows, "{} Markdown", f.name);
        assert!(
            html.contains(&status_line),
            "{} HTML: {status_line}",
            f.name
        );
        assert!(
            md.contains(&status_line),
            "{} Markdown: {status_line}",
            f.name
        );
        for (_, heading) in render::SECTIONS {
            assert!(html.contains(heading), "{} HTML lacks {heading}", f.name);
            assert!(md.contains(heading), "{} Markdown lacks {heading}", f.name);
        }
    }
}

#[test]
fn the_same_inputs_give_the_same_bytes_in_every_format() {
    let make = || {
        let (inv, documents) = examples();
        build(Inputs {
            framework: framework::find("iso27001").expect("a framework"),
            inventory: &inv,
            config: &Config::default(),
            input: manifests(documents),
            at: at(),
            history: Evidence::Assessed(history()),
            access: no_logs(),
        })
    };
    let (a, b) = (make(), make());
    assert_eq!(render::json(&a), render::json(&b));
    assert_eq!(render::markdown(&a), render::markdown(&b));
    assert_eq!(render::html(&a), render::html(&b));
}

#[test]
fn input_is_escaped_and_the_page_fetches_nothing() {
    let hostile = SHOP
        .replace(
            "name: web, namespace: shop}\nspec:\n  ingressClassName",
            "name: \"w<script>alert(1)</script>|`x`\", namespace: shop}\nspec:\n  ingressClassName",
        )
        .replace(
            "host: shop.example.com",
            "host: \"<img src=x onerror=alert(1)>.example.com\"",
        );
    let inv = inventory(&hostile);
    let report = build_with("pci-dss", &inv, &Config::default(), no_history());
    let html = render::html(&report);
    assert!(html.contains("w&lt;script&gt;alert(1)&lt;"), "escaped name");
    for forbidden in [
        "<script", "<img", "<link", "<iframe", " src=\"", "@import", "url(",
    ] {
        assert!(!html.contains(forbidden), "HTML contains {forbidden}");
    }
    let md = render::markdown(&report);
    assert!(
        !md.contains("<script") && !md.contains("<img"),
        "Markdown escapes tags"
    );
    assert!(
        md.contains("w&lt;script&gt;alert(1)&lt;/script&gt;\\|`x`"),
        "{md}"
    );
}
