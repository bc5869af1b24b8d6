//! `--format sarif`: the report as a SARIF 2.1.0 log, for code-scanning services (GitHub code
//! scanning, Azure DevOps, SonarQube) and SARIF viewers.
//!
//! The SARIF object model is written out by hand, as ruff and cargo-deny do: Tollgate uses a
//! few dozen of its hundreds of properties, and a small model that mirrors exactly what is
//! emitted is easier to review against the specification than a generated crate. Every output
//! is checked against the official OASIS schema in the tests below.
//!
//! Choices that a consumer relies on:
//! - `tool.driver.rules` is the whole catalog, not only the rules that fired, so a viewer can
//!   show the documentation of any rule and `ruleIndex` is stable across runs.
//! - Every result has a logical location naming the Kubernetes object (`shop/Ingress/web`);
//!   findings from files also have a physical location. Objects read from a live cluster have
//!   no file, and the logical location is the only place they are named.
//! - Suppressed findings are results with a `suppressions` entry, which is how SARIF records an
//!   accepted finding; GitHub code scanning hides them.
//! - `results` is always present, even when empty: an absent array means "the tool did not
//!   run", and some consumers reject it.

use std::collections::HashMap;

use serde::Serialize;

use crate::manifest::InputError;
use crate::object::ObjectRef;
use crate::report::{Report, ReportFinding, ReportSuppression};
use crate::rules::{Category, RuleMeta, Severity, registry};

/// The schema the log declares in `$schema`; SchemaStore serves the OASIS SARIF 2.1.0 schema
/// under this name, and editors that know SchemaStore validate against it.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Renders the report as a pretty-printed SARIF 2.1.0 log with a trailing newline.
#[must_use]
pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(&sarif_log(report)).expect("the SARIF log serializes");
    s.push('\n');
    s
}

/// The SARIF level of a severity. SARIF has three levels for five severities: critical and high
/// must stop a merge, medium deserves a look, and low and info are notes.
#[must_use]
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The `security-severity` score of a severity, on the CVSS scale GitHub code scanning reads:
/// it shows 9.0 and above as critical, 7.0–8.9 as high, 4.0–6.9 as medium and below as low.
#[must_use]
pub fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

// The SARIF object model, limited to what Tollgate emits. Field names follow the specification
// (camelCase); optional fields are left out rather than written as null, since the schema does
// not allow null for most of them.

#[derive(Serialize)]
struct SarifLog {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: Vec<Invocation>,
    /// Tollgate counts columns in characters (`yaml::Position`), which SARIF calls code points.
    column_kind: &'static str,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: ToolComponent,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolComponent {
    name: &'static str,
    full_name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: &'static str,
    short_description: Message,
    full_description: MultiformatMessage,
    help_uri: String,
    help: MultiformatMessage,
    default_configuration: ReportingConfiguration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
struct MultiformatMessage {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct ReportingConfiguration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    category: &'static str,
    severity: Severity,
    tags: Vec<&'static str>,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_configuration_notifications: Vec<Notification>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    level: &'static str,
    message: Message,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    associated_rule: Option<ReportingDescriptorReference>,
}

#[derive(Serialize)]
struct ReportingDescriptorReference {
    id: &'static str,
    index: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
    properties: SuppressionProperties,
}

#[derive(Serialize)]
struct SuppressionProperties {
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
}

#[derive(Serialize)]
struct ResultProperties {
    severity: Severity,
    rule: &'static str,
    category: &'static str,
    resource: ObjectRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<String>,
}

fn sarif_log(report: &Report) -> SarifLog {
    let catalog = registry::all();
    let index: HashMap<&str, usize> = catalog
        .iter()
        .enumerate()
        .map(|(i, r)| (r.meta().name, i))
        .collect();
    let mut results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|f| finding_result(f, index.get(f.rule).copied()))
        .collect();
    results.extend(
        report
            .suppressed
            .iter()
            .filter_map(|s| suppressed_result(s, &index)),
    );
    let notifications = report
        .errors
        .iter()
        .map(|e| notification("error", e))
        .chain(report.warnings.iter().map(|e| notification("warning", e)))
        .collect();
    // A rule that could not run is a fact about how the run was set up (a kind was out of
    // scope), which is what SARIF's configuration notifications are for.
    let skipped = report
        .skipped
        .iter()
        .map(|s| Notification {
            level: "note",
            message: Message {
                text: format!("rule `{}` did not run: {}", s.rule, s.reason),
            },
            locations: Vec::new(),
            associated_rule: index.get(s.rule).map(|&i| ReportingDescriptorReference {
                id: catalog[i].meta().code,
                index: i,
            }),
        })
        .collect();
    SarifLog {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: ToolComponent {
                    name: report.tool.name,
                    // Azure DevOps' code scanning (GHAzDO) requires a full name.
                    full_name: "Tollgate, the Kubernetes Ingress auditor",
                    version: report.tool.version,
                    semantic_version: report.tool.version,
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules: catalog.iter().map(|r| descriptor(r.meta())).collect(),
                },
            },
            // Input errors are reported, counted and skipped (DESIGN §2): the run itself
            // completed, so `executionSuccessful` stays true and the errors are notifications.
            invocations: vec![Invocation {
                execution_successful: true,
                tool_execution_notifications: notifications,
                tool_configuration_notifications: skipped,
            }],
            column_kind: "unicodeCodePoints",
            results,
        }],
    }
}

fn descriptor(meta: &'static RuleMeta) -> ReportingDescriptor {
    let docs = meta.docs();
    let what = section(&docs, "## What it does");
    ReportingDescriptor {
        id: meta.code,
        name: meta.name,
        short_description: Message {
            text: meta.summary.to_owned(),
        },
        full_description: MultiformatMessage {
            text: what
                .as_deref()
                .map_or_else(|| meta.summary.to_owned(), unwrap_lines),
            markdown: what.unwrap_or_else(|| meta.summary.to_owned()),
        },
        help_uri: help_uri(meta),
        // Markdown source reads well as plain text, so both forms carry the whole page.
        help: MultiformatMessage {
            text: docs.clone(),
            markdown: docs,
        },
        default_configuration: ReportingConfiguration {
            level: level(meta.severity),
        },
        properties: RuleProperties {
            category: meta.category.as_str(),
            severity: meta.severity,
            tags: tags(meta.category),
            security_severity: security_severity(meta.severity),
        },
    }
}

/// The rule's page in the repository, generated from the same documentation (`crate::docs`).
fn help_uri(meta: &RuleMeta) -> String {
    format!(
        "{}/blob/main/docs/rules/{}.md",
        env!("CARGO_PKG_REPOSITORY"),
        meta.name
    )
}

/// GitHub code scanning files results of rules tagged `security` under "security" and shows
/// their `security-severity`; the health rules are about reliability, not exposure.
fn tags(category: Category) -> Vec<&'static str> {
    let kind = match category {
        Category::Health => "reliability",
        _ => "security",
    };
    vec![kind, "kubernetes", category.as_str()]
}

/// The Markdown body of one `## ` section of a rule's documentation.
fn section(docs: &str, heading: &str) -> Option<String> {
    let body: Vec<&str> = docs
        .lines()
        .skip_while(|l| l.trim_end() != heading)
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .collect();
    let body = body.join("\n").trim().to_owned();
    (!body.is_empty()).then_some(body)
}

/// A wrapped Markdown paragraph as one line of plain text.
fn unwrap_lines(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn finding_result(f: &ReportFinding, rule_index: Option<usize>) -> SarifResult {
    let physical = f.file.as_deref().map(|file| PhysicalLocation {
        artifact_location: artifact_location(file),
        region: f.line.map(|line| Region {
            start_line: line,
            start_column: f.column,
        }),
    });
    SarifResult {
        rule_id: f.code,
        rule_index,
        level: level(f.severity),
        message: Message {
            text: f.message.clone(),
        },
        locations: vec![Location {
            physical_location: physical,
            logical_locations: vec![logical_location(&f.resource)],
        }],
        suppressions: Vec::new(),
        properties: ResultProperties {
            severity: f.severity,
            rule: f.rule,
            category: f.category,
            resource: f.resource.clone(),
            path: Some(f.path.clone()),
            help: Some(f.help.clone()),
        },
    }
}

/// A suppressed finding as a result with a suppression, placed like any other result: GitHub
/// code scanning refuses a whole upload if one result lacks a file location.
fn suppressed_result(s: &ReportSuppression, index: &HashMap<&str, usize>) -> Option<SarifResult> {
    let i = *index.get(s.finding.rule)?;
    let mut result = finding_result(&s.finding, Some(i));
    result.suppressions = vec![Suppression {
        // SARIF distinguishes suppressions written into the analysed artifact (`inSource`)
        // from those kept elsewhere (`external`): an object annotation is the former, a
        // config entry the latter.
        kind: if s.source == "annotation" {
            "inSource"
        } else {
            "external"
        },
        status: "accepted",
        justification: s.reason.clone(),
        properties: SuppressionProperties {
            source: s.source,
            expires: s.expires.clone(),
        },
    }];
    Some(result)
}

fn notification(level: &'static str, e: &InputError) -> Notification {
    let locations = e
        .file
        .as_deref()
        .map(|file| Location {
            physical_location: Some(PhysicalLocation {
                artifact_location: artifact_location(file),
                region: e.line.map(|line| Region {
                    start_line: line,
                    start_column: e.column,
                }),
            }),
            logical_locations: Vec::new(),
        })
        .into_iter()
        .collect();
    Notification {
        level,
        message: Message {
            text: e.message.clone(),
        },
        locations,
        associated_rule: None,
    }
}

/// `shop/Ingress/web` for a namespaced object, `IngressClass/nginx` for a cluster-scoped one.
fn logical_location(r: &ObjectRef) -> LogicalLocation {
    let fully_qualified_name = match &r.namespace {
        Some(ns) => format!("{ns}/{}/{}", r.kind, r.name),
        None => format!("{}/{}", r.kind, r.name),
    };
    LogicalLocation {
        name: r.name.clone(),
        fully_qualified_name,
        kind: "resource",
    }
}

/// A file path as a SARIF artifact location. Relative paths stay relative (to `%SRCROOT%`, the
/// checkout, which is where CI runs Tollgate) so that code scanning can match them to the
/// repository; absolute paths become `file://` URIs. Either way the result is a valid URI
/// reference: forward slashes, and every character outside the URI grammar percent-encoded.
fn artifact_location(path: &str) -> ArtifactLocation {
    let path = path.replace('\\', "/");
    let bytes = path.as_bytes();
    let windows_drive =
        bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && bytes[2] == b'/';
    if path.starts_with('/') {
        ArtifactLocation {
            uri: format!("file://{}", percent_encode(&path, true)),
            uri_base_id: None,
        }
    } else if windows_drive {
        ArtifactLocation {
            uri: format!("file:///{}", percent_encode(&path, true)),
            uri_base_id: None,
        }
    } else {
        let mut rel = path.as_str();
        while let Some(rest) = rel.strip_prefix("./") {
            rel = rest;
        }
        // A colon in the first segment of a relative reference would read as a scheme
        // (`a:b.yaml`), so relative paths encode every colon.
        ArtifactLocation {
            uri: percent_encode(rel, false),
            uri_base_id: Some("%SRCROOT%"),
        }
    }
}

fn percent_encode(path: &str, keep_colon: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~/!$&'()*+,;=@".contains(&b)
            || (keep_colon && b == b':');
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::PathBuf;
    use std::sync::OnceLock;

    use serde_json::{Value, json};

    use super::*;
    use crate::config::Config;
    use crate::engine::{self, RunOptions};
    use crate::inventory::Inventory;
    use crate::manifest::Manifests;
    use crate::object::Object;

    /// The rules the sample report runs: a fixed list, so that adding a rule to the catalog
    /// does not change every renderer's snapshot.
    pub(crate) const SAMPLE_RULES: &[&str] = &[
        "wildcard-host",
        "empty-host",
        "tls-missing",
        "deprecated-ingress-api",
    ];

    const SAMPLE_YAML: &str = r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
spec:
  ingressClassName: nginx
  tls: [{hosts: [shop.example.com], secretName: shop-tls}]
  rules:
    - host: "*.example.com"
      http:
        paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
    - host: "*.shop.example.com"
      http:
        paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: legacy
  namespace: shop
  annotations:
    tollgate.io/ignore: wildcard-host
    tollgate.io/ignore-reason: "retired with the old shop | see OPS-12"
spec:
  ingressClassName: nginx
  rules:
    - host: "*.old.example.com"
      http:
        paths: [{path: /, pathType: Prefix, backend: {service: {name: old, port: {number: 80}}}}]
"#;

    /// A report with every kind of entry: findings from a file and from a live cluster (no
    /// file), two findings of one rule on one object, a rule that finds nothing, a suppressed
    /// finding, an input error and a skipped rule.
    pub(crate) fn sample_report() -> Report {
        let mut m = Manifests::default();
        m.add_text("deploy/shop.yaml", SAMPLE_YAML.to_owned());
        m.add_text(
            "deploy/broken.yaml",
            "apiVersion: v1\nkind: [Service\n".to_owned(),
        );
        assert!(
            !m.errors.is_empty(),
            "the broken file yields an input error"
        );
        // An object listed from a cluster has no origin, so its findings have no file.
        let cluster = Object::from_value(
            json!({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {"name": "admin", "namespace": "ops"},
                "spec": {
                    "ingressClassName": "nginx",
                    "rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
                        "backend": {"service": {"name": "admin", "port": {"number": 80}}}}]}}]
                }
            }),
            None,
        )
        .expect("a valid Ingress")
        .expect("a kind Tollgate reads");
        m.objects.push(cluster);
        let inv = Inventory::build(m.objects, m.sources, None);
        let config = Config::default();
        let select: Vec<String> = SAMPLE_RULES.iter().map(|s| (*s).to_owned()).collect();
        let outcome = engine::run(
            &inv,
            &RunOptions {
                config: &config,
                select: &select,
                ignore: &[],
                now: "2026-11-22T00:00:00Z".parse().expect("a timestamp"),
            },
        );
        let mut report = Report::new(&outcome, &inv, m.documents, m.errors, Vec::new());
        // No sampled rule needs a kind that is missing, so the skipped entry is added by hand.
        report.skipped.push(engine::Skipped {
            rule: "backend-service-missing",
            reason: "Services were not listed".to_owned(),
        });
        report
    }

    /// A report with nothing in it: no findings, no errors.
    pub(crate) fn empty_report() -> Report {
        let inv = Inventory::build(Vec::new(), Vec::new(), None);
        let config = Config::default();
        let outcome = engine::run(
            &inv,
            &RunOptions {
                config: &config,
                select: &[],
                ignore: &[],
                now: "2026-11-22T00:00:00Z".parse().expect("a timestamp"),
            },
        );
        let mut report = Report::new(&outcome, &inv, 0, Vec::new(), Vec::new());
        // With no objects at all, rules that need a kind are skipped; "empty" means none of it.
        report.skipped.clear();
        report
    }

    /// The official OASIS SARIF 2.1.0 schema, vendored (see `tests/schemas/README.md`).
    fn validator() -> &'static jsonschema::Validator {
        static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
        VALIDATOR.get_or_init(|| {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/schemas/sarif-schema-2.1.0.json");
            let text = std::fs::read_to_string(&path).expect("the vendored SARIF schema");
            let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
            // The schema's references are all internal (`#/definitions/…`) and the draft-04
            // meta-schema is built into the crate; this build of `jsonschema` has no HTTP or
            // file retriever, so validation cannot reach the network. Formats (`uri`,
            // `date-time`) are asserted, not just annotated. The schema also uses
            // `uri-reference`, which draft-04 validators do not know and skip; artifact URIs
            // are exactly what a renderer gets wrong, so it is checked here by hand.
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft4)
                .should_validate_formats(true)
                .with_format("uri-reference", is_uri_reference)
                .build(&schema)
                .expect("the SARIF schema compiles")
        })
    }

    /// Whether `s` is made only of the characters RFC 3986 allows in a URI reference, with
    /// every `%` starting an escape. This is the character-level half of the grammar, the half
    /// that file names break (spaces, backslashes, a bare `%`).
    fn is_uri_reference(s: &str) -> bool {
        let b = s.as_bytes();
        b.iter().enumerate().all(|(i, &c)| match c {
            b'%' => b.len() > i + 2 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit(),
            _ => c.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&c),
        })
    }

    fn assert_valid_sarif(output: &str) -> Value {
        let log: Value = serde_json::from_str(output).expect("SARIF output is JSON");
        let errors: Vec<String> = validator()
            .iter_errors(&log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "SARIF output violates the schema:\n{}",
            errors.join("\n")
        );
        log
    }

    fn results(log: &Value) -> &Vec<Value> {
        log["runs"][0]["results"]
            .as_array()
            .expect("results is an array")
    }

    #[test]
    fn the_validator_rejects_a_log_that_breaks_the_schema() {
        // Guards the guard: a schema that failed to load its definitions would accept anything.
        let mut log: Value = serde_json::from_str(&render(&sample_report())).expect("JSON");
        log["runs"][0]["results"][0]["level"] = json!("fatal");
        assert!(!validator().is_valid(&log));
        let mut log: Value = serde_json::from_str(&render(&sample_report())).expect("JSON");
        log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
            json!(0);
        assert!(!validator().is_valid(&log));
        let mut log: Value = serde_json::from_str(&render(&sample_report())).expect("JSON");
        log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
            json!("deploy/my file.yaml");
        assert!(
            !validator().is_valid(&log),
            "a raw space is not a URI reference"
        );
    }

    #[test]
    fn a_report_with_findings_suppressions_and_errors_is_valid_sarif() {
        let report = sample_report();
        assert!(
            report.findings.iter().any(|f| f.file.is_some()),
            "has file findings"
        );
        assert!(
            report.findings.iter().any(|f| f.file.is_none()),
            "has cluster findings"
        );
        assert!(!report.suppressed.is_empty(), "has a suppressed finding");
        assert!(!report.errors.is_empty(), "has an input error");
        assert_valid_sarif(&render(&report));
    }

    #[test]
    fn an_empty_report_is_valid_sarif_with_an_empty_results_array() {
        let output = render(&empty_report());
        let log = assert_valid_sarif(&output);
        assert_eq!(log["runs"][0]["results"], json!([]));
        assert!(log["runs"][0]["invocations"][0]["executionSuccessful"].as_bool() == Some(true));
    }

    #[test]
    fn paths_with_spaces_colons_and_backslashes_are_valid_uri_references() {
        let mut report = sample_report();
        report.findings[0].file = Some(r"deploy\my app:v2\web 100%.yaml".to_owned());
        report.findings[1].file = Some("/srv/k8s/web app.yaml".to_owned());
        let log = assert_valid_sarif(&render(&report));
        let uri = |i: usize| {
            results(&log)[i]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .expect("a uri")
                .to_owned()
        };
        assert_eq!(uri(0), "deploy/my%20app%3Av2/web%20100%25.yaml");
        assert_eq!(uri(1), "file:///srv/k8s/web%20app.yaml");
    }

    #[test]
    fn the_rule_table_is_the_whole_catalog_and_rule_indexes_point_into_it() {
        let log = assert_valid_sarif(&render(&sample_report()));
        let rules = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules");
        assert_eq!(rules.len(), registry::all().len());
        for result in results(&log) {
            let i =
                usize::try_from(result["ruleIndex"].as_u64().expect("ruleIndex")).expect("fits");
            assert_eq!(rules[i]["id"], result["ruleId"]);
        }
        for (rule, meta) in rules.iter().zip(registry::all().iter().map(|r| r.meta())) {
            assert_eq!(rule["id"], meta.code);
            assert_eq!(rule["name"], meta.name);
            assert_eq!(rule["help"]["markdown"], meta.docs());
            let score: f64 = rule["properties"]["security-severity"]
                .as_str()
                .expect("security-severity is a string")
                .parse()
                .expect("security-severity is a number");
            assert!((0.0..=10.0).contains(&score));
        }
    }

    #[test]
    fn security_severity_orders_like_severity_and_falls_in_githubs_bands() {
        let scores: Vec<f64> = Severity::ALL_DESC
            .iter()
            .map(|s| security_severity(*s).parse().expect("a number"))
            .collect();
        assert!(scores.windows(2).all(|w| w[0] > w[1]), "{scores:?}");
        // GitHub's bands: critical ≥ 9.0, high ≥ 7.0, medium ≥ 4.0, low > 0.
        assert!(scores[0] >= 9.0 && (7.0..9.0).contains(&scores[1]));
        assert!((4.0..7.0).contains(&scores[2]) && scores[3] < 4.0 && scores[4] > 0.0);
    }

    #[test]
    fn levels_follow_severity() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Low), "note");
        assert_eq!(level(Severity::Info), "note");
    }

    #[test]
    fn file_findings_have_a_region_and_every_finding_names_its_object() {
        let report = sample_report();
        let log = assert_valid_sarif(&render(&report));
        for (f, result) in report.findings.iter().zip(results(&log)) {
            let location = &result["locations"][0];
            let logical = &location["logicalLocations"][0];
            assert_eq!(logical["kind"], "resource");
            let ns = f.resource.namespace.as_deref().expect("namespaced");
            assert_eq!(
                logical["fullyQualifiedName"],
                format!("{ns}/{}/{}", f.resource.kind, f.resource.name)
            );
            assert_eq!(result["properties"]["path"], f.path.as_str());
            match &f.file {
                Some(file) => {
                    let physical = &location["physicalLocation"];
                    assert_eq!(physical["artifactLocation"]["uri"], file.as_str());
                    assert_eq!(physical["region"]["startLine"], json!(f.line));
                    assert_eq!(physical["region"]["startColumn"], json!(f.column));
                }
                None => assert!(location.get("physicalLocation").is_none()),
            }
        }
    }

    #[test]
    fn suppressed_findings_are_results_with_a_justified_suppression() {
        let report = sample_report();
        let log = assert_valid_sarif(&render(&report));
        let suppressed: Vec<&Value> = results(&log)
            .iter()
            .filter(|r| r.get("suppressions").is_some())
            .collect();
        assert_eq!(suppressed.len(), report.suppressed.len());
        let s = &suppressed[0]["suppressions"][0];
        assert_eq!(s["justification"], report.suppressed[0].reason.as_str());
        assert_eq!(
            s["kind"], "inSource",
            "an annotation lives in the manifest itself"
        );
        // GitHub refuses a whole upload when a result from a file lacks its file location.
        let physical = &suppressed[0]["locations"][0]["physicalLocation"];
        assert_eq!(
            physical["region"]["startLine"],
            report.suppressed[0]
                .finding
                .line
                .expect("a manifest finding")
        );
        assert_eq!(
            results(&log).len(),
            report.findings.len() + report.suppressed.len()
        );
    }

    #[test]
    fn input_errors_are_execution_notifications_with_their_position() {
        let report = sample_report();
        let log = assert_valid_sarif(&render(&report));
        let invocation = &log["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], true);
        let notes = invocation["toolExecutionNotifications"]
            .as_array()
            .expect("notifications");
        assert_eq!(notes.len(), report.errors.len());
        let e = &report.errors[0];
        assert_eq!(notes[0]["level"], "error");
        assert_eq!(notes[0]["message"]["text"], e.message.as_str());
        let physical = &notes[0]["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "deploy/broken.yaml");
        assert_eq!(
            physical["region"]["startLine"],
            json!(e.line.expect("a line"))
        );
    }

    #[test]
    fn skipped_rules_are_configuration_notifications_naming_the_rule() {
        let report = sample_report();
        let log = assert_valid_sarif(&render(&report));
        let notes = log["runs"][0]["invocations"][0]["toolConfigurationNotifications"]
            .as_array()
            .expect("notifications");
        assert_eq!(notes.len(), report.skipped.len());
        let rule = registry::find(report.skipped[0].rule)
            .expect("a catalog rule")
            .meta();
        assert_eq!(notes[0]["associatedRule"]["id"], rule.code);
        assert!(
            notes[0]["message"]["text"]
                .as_str()
                .expect("text")
                .contains(&report.skipped[0].reason)
        );
    }

    #[test]
    fn snapshot() {
        let mut log = sarif_log(&sample_report());
        // The version and the catalog change with every release; the snapshot keeps the
        // version out and one rule of the catalog in, which shows the shape a reviewer needs.
        let driver = &mut log.runs[0].tool.driver;
        driver.version = "[version]";
        driver.semantic_version = "[version]";
        driver.rules.retain(|r| r.name == "wildcard-host");
        insta::assert_snapshot!(serde_json::to_string_pretty(&log).expect("JSON"));
    }
}
