//! The command line as a user meets it: exit codes, input handling, config, output shape.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn tollgate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    cmd.env_remove("TOLLGATE_CONFIG").env("NO_COLOR", "1");
    cmd
}

fn run(args: &[&str], cwd: &Path) -> Output {
    tollgate()
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("tollgate runs")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

const BAD_PORT: &str = "\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  ingressClassName: nginx
  tls: [{hosts: [shop.example.com]}]
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port: {number: 8080}
";

const CLEAN: &str = "\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  ingressClassName: nginx
  tls: [{hosts: [shop.example.com]}]
  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
";

fn dir_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, contents) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write");
    }
    dir
}

#[test]
fn exit_code_is_0_when_clean_1_on_findings_and_2_on_usage_errors() {
    let dir = dir_with(&[
        ("clean.yaml", CLEAN.as_bytes()),
        ("bad/port.yaml", BAD_PORT.as_bytes()),
    ]);
    let clean = run(&["scan", "clean.yaml"], dir.path());
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    let bad = run(&["scan", "bad"], dir.path());
    assert_eq!(bad.status.code(), Some(1));
    let never = run(&["scan", "bad", "--fail-on", "never"], dir.path());
    assert_eq!(never.status.code(), Some(0));
    let usage = run(&["scan", "bad", "--fail-on", "severe"], dir.path());
    assert_eq!(usage.status.code(), Some(2));
    let unknown_rule = run(&["scan", "bad", "--select", "no-such-rule"], dir.path());
    assert_eq!(unknown_rule.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown_rule.stderr).contains("no-such-rule"));
    let nothing = run(&["scan"], dir.path());
    assert_eq!(nothing.status.code(), Some(2));
}

#[test]
fn fail_on_compares_against_the_severity_in_force() {
    let dir = dir_with(&[("bad.yaml", BAD_PORT.as_bytes())]);
    // backend-port-missing is high: failing on critical passes.
    let out = run(
        &[
            "scan",
            "bad.yaml",
            "--select",
            "backend-port-missing",
            "--fail-on",
            "critical",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    // Raised to critical by the config, the same finding fails the run.
    std::fs::write(
        dir.path().join("tollgate.yaml"),
        "severity: {backend-port-missing: critical}\n",
    )
    .unwrap();
    let out = run(
        &[
            "scan",
            "bad.yaml",
            "--select",
            "backend-port-missing",
            "--fail-on",
            "critical",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        json(&run(
            &["scan", "bad.yaml", "--format", "json", "--select", "TG305"],
            dir.path()
        ))["findings"][0]["severity"],
        "critical"
    );
}

#[test]
fn json_report_has_exactly_the_documented_fields() {
    let dir = dir_with(&[("bad.yaml", BAD_PORT.as_bytes())]);
    let v = json(&run(&["scan", "bad.yaml", "--format", "json"], dir.path()));
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&v),
        [
            "errors",
            "findings",
            "skipped",
            "summary",
            "suppressed",
            "tool",
            "warnings"
        ]
    );
    assert_eq!(keys(&v["tool"]), ["name", "version"]);
    assert_eq!(
        keys(&v["summary"]),
        [
            "by_severity",
            "documents",
            "findings",
            "ingresses",
            "objects",
            "suppressed"
        ]
    );
    assert_eq!(
        keys(&v["summary"]["by_severity"]),
        ["critical", "high", "info", "low", "medium"]
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "backend-port-missing")
        .expect("the wrong port is reported");
    assert_eq!(
        keys(f),
        [
            "category", "code", "column", "file", "help", "line", "message", "path", "resource",
            "rule", "severity"
        ]
    );
    assert_eq!(
        keys(&f["resource"]),
        ["apiVersion", "kind", "name", "namespace"]
    );
    assert_eq!(
        f["path"],
        "/spec/rules/0/http/paths/0/backend/service/port/number"
    );
    assert_eq!(f["line"], 22);
    assert_eq!(f["file"], "bad.yaml");
    assert_eq!(
        v["summary"]["findings"],
        v["findings"].as_array().unwrap().len()
    );
}

#[test]
fn stdin_is_read_with_a_dash() {
    let mut child = tollgate()
        .args(["scan", "-", "--format", "json", "--fail-on", "never"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(BAD_PORT.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["summary"]["ingresses"], 1);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["file"] == "<stdin>")
    );
}

/// A tiny deterministic generator for garbage.
fn garbage(len: usize, printable: bool) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let b = (x >> 24) as u8;
            if printable {
                let alphabet = b" \n:-[]{}#&*!|>'\"%@`abcdefghijklmnopqrstuvwxyz0123456789";
                alphabet[usize::from(b) % alphabet.len()]
            } else {
                b
            }
        })
        .collect()
}

#[test]
fn broken_binary_and_huge_garbage_files_are_reported_and_the_rest_is_scanned() {
    let broken = b"apiVersion: v1\nkind: Service\nmetadata: {name: ok, namespace: shop}\nspec: {ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: broken\n  namespace: shop\nspec: [\n";
    let big = garbage(50 * 1024 * 1024, false);
    let text_garbage = garbage(2 * 1024 * 1024, true);
    let dir = dir_with(&[
        ("good.yaml", BAD_PORT.as_bytes()),
        ("broken.yaml", broken),
        ("image.yaml", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0"),
        ("huge.yaml", &big),
        ("noise.yml", &text_garbage),
    ]);
    let out = run(&["scan", ".", "--format", "json"], dir.path());
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Findings in good.yaml decide the exit code; the bad files do not turn it into 2.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let errors = v["errors"].as_array().unwrap();
    let files: Vec<&str> = errors.iter().filter_map(|e| e["file"].as_str()).collect();
    for name in [
        "./broken.yaml",
        "./image.yaml",
        "./huge.yaml",
        "./noise.yml",
    ] {
        assert!(files.contains(&name), "{name} is not reported: {errors:#?}");
    }
    let broken_err = errors
        .iter()
        .find(|e| e["file"] == "./broken.yaml")
        .unwrap();
    assert!(broken_err["line"].as_u64().unwrap() >= 6, "{broken_err}");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "backend-port-missing")
    );
    // The good document of broken.yaml was still read: two Services.
    assert_eq!(v["summary"]["objects"], 3);
}

#[test]
fn nothing_readable_is_exit_2() {
    let dir = dir_with(&[("image.yaml", b"\0\0\0\0")]);
    let out = run(&["scan", "image.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("image.yaml"));
}

#[test]
fn config_suppressions_hide_findings_and_are_listed_expired_ones_are_reported() {
    let dir = dir_with(&[
        ("bad.yaml", BAD_PORT.as_bytes()),
        (
            "tollgate.yaml",
            b"suppressions:\n  - rule: backend-port-missing\n    namespace: shop\n    name: \"w*\"\n    reason: migrating the port next sprint\n    expires: 2099-12-31\n  - rule: missing-ingress-class\n    reason: old exception\n    expires: 2020-01-01\n",
        ),
    ]);
    let v = json(&run(&["scan", "bad.yaml", "--format", "json"], dir.path()));
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(!rules.contains(&"backend-port-missing"));
    let s = &v["suppressed"][0];
    assert_eq!(s["rule"], "backend-port-missing");
    assert_eq!(s["reason"], "migrating the port next sprint");
    assert_eq!(s["expires"], "2099-12-31");
    let warning = &v["warnings"][0];
    assert!(
        warning["message"].as_str().unwrap().contains("expired"),
        "{warning}"
    );
    assert_eq!(warning["line"], 7);
    // As of a date before the expiry, the second suppression is still live.
    let earlier = json(&run(
        &[
            "scan",
            "bad.yaml",
            "--format",
            "json",
            "--at",
            "2019-06-01T00:00:00Z",
        ],
        dir.path(),
    ));
    assert!(earlier["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn an_invalid_config_is_a_usage_error_pointing_at_the_line() {
    let dir = dir_with(&[
        ("bad.yaml", BAD_PORT.as_bytes()),
        (
            "tollgate.yaml",
            b"select: [all]\nseverity:\n  tls-missing: urgent\n",
        ),
    ]);
    let out = run(&["scan", "bad.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("tollgate.yaml:3"), "{err}");
}

#[test]
fn annotation_suppressions_apply_unless_strict() {
    let annotated = BAD_PORT.replace(
        "metadata: {name: web, namespace: shop}\nspec:\n  ingressClassName",
        "metadata:\n  name: web\n  namespace: shop\n  annotations:\n    tollgate.io/ignore: backend-port-missing\n    tollgate.io/ignore-reason: port moves in PR 42\nspec:\n  ingressClassName",
    );
    assert_ne!(annotated, BAD_PORT);
    let dir = dir_with(&[("bad.yaml", annotated.as_bytes())]);
    let v = json(&run(
        &[
            "scan",
            "bad.yaml",
            "--format",
            "json",
            "--select",
            "backend-port-missing",
        ],
        dir.path(),
    ));
    assert_eq!(v["summary"]["findings"], 0);
    assert_eq!(v["suppressed"][0]["source"], "annotation");
    assert_eq!(v["suppressed"][0]["reason"], "port moves in PR 42");
    let strict = json(&run(
        &[
            "scan",
            "bad.yaml",
            "--format",
            "json",
            "--select",
            "backend-port-missing",
            "--strict",
        ],
        dir.path(),
    ));
    assert_eq!(strict["summary"]["findings"], 1);
    assert_eq!(strict["summary"]["refused_suppressions"], 1);
}

#[test]
fn references_outside_the_scanned_files_are_info_not_in_scope() {
    let only_ingress = BAD_PORT.split("---\n").nth(1).unwrap();
    let dir = dir_with(&[("ing.yaml", only_ingress.as_bytes())]);
    let out = run(
        &[
            "scan",
            "ing.yaml",
            "--format",
            "json",
            "--select",
            "backend-service-missing",
        ],
        dir.path(),
    );
    // The Service may exist; it was just not given. That fails nothing.
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "backend-service-missing");
    assert_eq!(f["severity"], "info");
    assert!(
        f["message"].as_str().unwrap().contains("not in scope"),
        "{f}"
    );
    assert!(v["skipped"].as_array().unwrap().is_empty());
    // Given the namespace's Services, the same reference is judged for real.
    let dir = dir_with(&[
        ("ing.yaml", only_ingress.as_bytes()),
        ("svc.yaml", b"apiVersion: v1\nkind: Service\nmetadata: {name: other, namespace: shop}\nspec: {ports: [{port: 80}]}\n"),
    ]);
    let v = json(&run(
        &[
            "scan",
            ".",
            "--format",
            "json",
            "--select",
            "backend-service-missing",
        ],
        dir.path(),
    ));
    assert_eq!(v["findings"][0]["severity"], "high");
}

#[test]
fn table_output_quotes_the_offending_line_without_colour_when_piped() {
    let dir = dir_with(&[("bad.yaml", BAD_PORT.as_bytes())]);
    let out = run(&["scan", "bad.yaml"], dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("22 |                 port: {number: 8080}"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
    let forced = run(&["scan", "bad.yaml", "--color", "always"], dir.path());
    assert!(String::from_utf8_lossy(&forced.stdout).contains('\x1b'));
}

#[test]
fn rules_command_lists_and_explains() {
    let dir = tempfile::tempdir().unwrap();
    let list = run(&["rules"], dir.path());
    assert!(String::from_utf8_lossy(&list.stdout).contains("TG101"));
    let one = run(&["rules", "TG305"], dir.path());
    let text = String::from_utf8_lossy(&one.stdout);
    assert!(text.starts_with("backend-port-missing (TG305)"), "{text}");
    assert!(text.contains("## How to fix"));
    assert_eq!(run(&["rules", "nope"], dir.path()).status.code(), Some(2));
}

#[test]
fn map_prints_routes_in_every_format() {
    let dir = dir_with(&[("m.yaml", CLEAN.as_bytes())]);
    let table = String::from_utf8(run(&["map", "m.yaml"], dir.path()).stdout).unwrap();
    assert!(
        table.contains("shop.example.com") && table.contains("shop/web"),
        "{table}"
    );
    let v = json(&run(&["map", "m.yaml", "--format", "json"], dir.path()));
    assert_eq!(v["routes"][0]["service_found"], true);
    let dot =
        String::from_utf8(run(&["map", "m.yaml", "--format", "dot"], dir.path()).stdout).unwrap();
    assert!(dot.starts_with("digraph"));
    let mermaid =
        String::from_utf8(run(&["map", "m.yaml", "--format", "mermaid"], dir.path()).stdout)
            .unwrap();
    assert!(mermaid.starts_with("flowchart LR"));
}

#[test]
fn completions_are_generated() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["generate", "completions", "bash"], dir.path());
    assert!(String::from_utf8_lossy(&out.stdout).contains("tollgate"));
}

#[test]
fn a_baseline_keeps_known_findings_from_failing_the_run() {
    let dir = dir_with(&[("bad.yaml", BAD_PORT.as_bytes())]);
    let first = run(
        &[
            "scan",
            "bad.yaml",
            "--format",
            "json",
            "-o",
            "baseline.json",
        ],
        dir.path(),
    );
    assert_eq!(first.status.code(), Some(1));
    // Nothing new: the same findings no longer fail, but are still reported as known.
    let again = run(
        &[
            "scan",
            "bad.yaml",
            "--format",
            "json",
            "--baseline-findings",
            "baseline.json",
        ],
        dir.path(),
    );
    assert_eq!(again.status.code(), Some(0));
    let v = json(&again);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["known"] == true)
    );
    assert_eq!(v["summary"]["known"], v["summary"]["findings"]);
    // A new wildcard host is new, and fails.
    let worse = BAD_PORT.replace(
        "    - host: shop.example.com\n",
        "    - host: shop.example.com\n    - host: \"*.example.com\"\n",
    );
    assert_ne!(worse, BAD_PORT);
    std::fs::write(dir.path().join("bad.yaml"), worse).unwrap();
    let out = run(
        &[
            "scan",
            "bad.yaml",
            "--format",
            "json",
            "--baseline-findings",
            "baseline.json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let new: Vec<String> = json(&out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("known").is_none())
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect();
    assert!(new.contains(&"wildcard-host".to_owned()), "{new:?}");
    // A file that is not a report is a usage error.
    let bad = run(
        &["scan", "bad.yaml", "--baseline-findings", "bad.yaml"],
        dir.path(),
    );
    assert_eq!(bad.status.code(), Some(2));
}

const HARDENING: &str = "\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/auth-url: https://auth.example.com/check
    nginx.ingress.kubernetes.io/ssl-redirect: \"true\"
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: \"/api;v1\", pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /ok, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
";

#[test]
fn what_if_lists_what_stricter_validation_would_refuse() {
    let dir = dir_with(&[("h.yaml", HARDENING.as_bytes())]);
    let out = run(
        &[
            "what-if",
            "h.yaml",
            "--risk-level",
            "medium",
            "--strict-paths",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "something would break");
    let v = json(&out);
    let annotations: Vec<&str> = v["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["annotation"].as_str().unwrap())
        .collect();
    // auth-url is High risk; ssl-redirect is Low and stays allowed.
    assert_eq!(annotations, ["nginx.ingress.kubernetes.io/auth-url"]);
    let paths: Vec<&str> = v["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/api;v1"]);
    let lenient = run(
        &["what-if", "h.yaml", "--risk-level", "critical"],
        dir.path(),
    );
    assert_eq!(
        lenient.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&lenient.stdout)
    );
    assert_eq!(
        run(&["what-if", "h.yaml"], dir.path()).status.code(),
        Some(2)
    );
}

/// The repository root, where `examples/` lives.
fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `(total, critical, high, medium, low)` as a `--format json` summary counts them.
fn counts(report: &serde_json::Value) -> (u64, u64, u64, u64, u64) {
    let s = &report["summary"];
    let sev = |k: &str| s["by_severity"][k].as_u64().unwrap();
    (
        s["findings"].as_u64().unwrap(),
        sev("critical"),
        sev("high"),
        sev("medium"),
        sev("low"),
    )
}

#[test]
fn the_examples_readme_states_the_counts_the_scan_prints() {
    let root = repo_root();
    let readme = std::fs::read_to_string(root.join("examples/README.md")).unwrap();
    let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    // The counts are stated as of the day the certificates were judged; later, the expiring
    // certificate becomes expired.
    let at = "2026-11-22T00:00:00Z";
    let plain = json(&run(
        &["scan", "examples/", "--format", "json", "--at", at],
        &root,
    ));
    let (n, c, h, m, l) = counts(&plain);
    let stated =
        format!("reports exactly these {n} findings ({c} critical, {h} high, {m} medium, {l} low)");
    assert!(
        flat.contains(&stated),
        "examples/README.md should say: {stated}"
    );
    let configured = run(
        &[
            "scan",
            "examples/shop",
            "--config",
            "examples/tollgate.yaml",
            "--format",
            "json",
            "--at",
            at,
        ],
        &root,
    );
    assert_eq!(configured.status.code(), Some(1), "failOn: high");
    let report = json(&configured);
    let (n, c, h, m, l) = counts(&report);
    let suppressed = report["suppressed"].as_array().unwrap().len();
    let stated = format!(
        "With `--config examples/tollgate.yaml`: {n} findings ({c} critical, {h} high, {m} medium, \
         {l} low), {suppressed} suppressed"
    );
    assert!(
        flat.contains(&stated),
        "examples/README.md should say: {stated}"
    );
}

#[test]
fn scan_reports_the_planted_rbac_grants_of_the_examples() {
    let root = repo_root();
    let report = json(&run(
        &["scan", "examples/", "--select", "rbac", "--format", "json"],
        &root,
    ));
    let mut found: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["resource"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    let expected = [
        ("broad-ingress-write-access", "deployers"),
        ("controller-reads-all-secrets", "ingress-nginx"),
        ("endpoint-write-access", "release-bot"),
        ("ingress-status-write", "status-reporter"),
        ("rbac-escalation-path", "support-impersonation"),
        ("service-status-write", "release-bot"),
        ("service-status-write", "status-reporter"),
    ]
    .map(|(r, n)| (r.to_owned(), n.to_owned()));
    assert_eq!(found, expected);
}

#[test]
fn rbac_review_prints_the_matrix_of_the_examples() {
    let out = run(&["rbac", "review", "examples/"], &repo_root());
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "== Ingresses: create, change, delete ==",
        "== Ingress status ==",
        "== Service status ==",
        "== TLS Secrets in storefront ==",
        "== Controller ConfigMap ingress-nginx/ingress-nginx-controller ==",
        "== Admission webhooks ==",
        "== impersonate ==",
        "Group deployers",
        "ServiceAccount internal-tools/statuspage",
        "ingress controller: ingress-nginx, Deployment ingress-nginx/ingress-nginx-controller",
        "Always allowed: Group system:masters",
        "lower bound",
    ] {
        assert!(
            text.contains(expected),
            "`{expected}` missing from:\n{text}"
        );
    }
    assert!(!text.contains('\x1b'), "no colour when piped");
}

#[test]
fn rbac_who_can_names_the_planted_subject_and_only_where_it_applies() {
    let root = repo_root();
    let out = run(
        &[
            "rbac",
            "who-can",
            "create",
            "ingresses",
            "-n",
            "storefront",
            "examples/",
        ],
        &root,
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("Who can create ingresses (networking.k8s.io) in namespace storefront")
    );
    assert!(text.contains("Group deployers"), "{text}");
    assert!(text.contains("Group storefront-developers"), "{text}");
    assert!(
        !text.contains("payments-developers"),
        "edit in payments is not storefront: {text}"
    );
    assert!(text.contains("lower bound"));

    let v = json(&run(
        &[
            "rbac",
            "who-can",
            "create",
            "ingresses",
            "-n",
            "storefront",
            "examples/",
            "--format",
            "json",
        ],
        &root,
    ));
    assert_eq!(v["query"]["verb"], "create");
    assert_eq!(v["query"]["group"], "networking.k8s.io");
    let subjects: Vec<&str> = v["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["subject"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["deployers", "platform", "storefront-developers"]);
    let deployers = &v["grants"][0];
    assert_eq!(deployers["scope"], "cluster-wide");
    assert_eq!(deployers["binding"]["kind"], "ClusterRoleBinding");
    assert_eq!(deployers["role"]["name"], "ingress-deployer");
    assert_eq!(deployers["rule"]["index"], 0);
    assert_eq!(v["grants"][2]["namespace"], "storefront");
    assert_eq!(
        v["grants"][2]["assumed"], true,
        "`edit` is Kubernetes' default"
    );
    assert_eq!(v["always_allowed"][0]["subject"]["name"], "system:masters");
    assert!(v["limits"][0].as_str().unwrap().contains("lower bound"));

    let review = json(&run(
        &["rbac", "review", "examples/", "--format", "json"],
        &root,
    ));
    let rows = review["rows"].as_array().unwrap();
    assert_eq!(rows[0]["id"], "ingresses");
    assert!(rows.iter().any(|r| r["id"] == "controller-configmap"));
}

#[test]
fn rbac_who_can_refuses_an_unknown_resource_before_reading() {
    let dir = dir_with(&[("m.yaml", CLEAN.as_bytes())]);
    let out = run(
        &["rbac", "who-can", "create", "widgets", "m.yaml"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("widgets.example.com"), "{err}");
    // With the group spelled out, it is a question like any other (and nobody may).
    let ok = run(
        &["rbac", "who-can", "create", "widgets.example.com", "m.yaml"],
        dir.path(),
    );
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("No binding allows it."));
}

#[test]
fn a_mixed_estate_of_ingresses_and_gateway_api_routes_makes_one_map() {
    let out = run(&["map", "examples/", "--format", "json"], &repo_root());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let routes = v["routes"].as_array().unwrap();
    let kinds: std::collections::BTreeSet<&str> = routes
        .iter()
        .map(|r| r["route"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["HTTPRoute", "Ingress"].into_iter().collect());
    // An Ingress route keeps its `ingress` field; a Gateway API route has its listener instead.
    let ingress = routes
        .iter()
        .find(|r| r["route"]["kind"] == "Ingress")
        .unwrap();
    assert_eq!(ingress["ingress"], ingress["route"]);
    let api = routes
        .iter()
        .find(|r| r["route"]["name"] == "catalog" && r["path"] == "/api")
        .expect("the catalog's /api route");
    assert!(api.get("ingress").is_none(), "{api}");
    assert_eq!(api["host"], "catalog.shop.example.com");
    assert_eq!(api["class"], "eg");
    assert_eq!(api["controller"], "envoy-gateway");
    assert_eq!(
        api["listeners"],
        serde_json::json!([{
            "gateway": {"kind": "Gateway", "namespace": "gateway", "name": "shop"},
            "listener": "catalog-https", "protocol": "HTTPS", "port": 443
        }])
    );
    assert_eq!(api["backend"]["name"], "catalog-api");
    assert_eq!(api["service_port"]["port"], 8080);
    assert_eq!(api["tls_secret"], "catalog-shop-tls");
    assert_eq!(api["posture"]["auth"]["state"], "yes");
    assert_eq!(
        api["workloads"][0],
        serde_json::json!({"kind": "Deployment", "namespace": "catalog", "name": "catalog-api"})
    );
    // The admin route has no policy: the map says so, and the scan reports it.
    let admin = routes
        .iter()
        .find(|r| r["route"]["name"] == "catalog-admin")
        .unwrap();
    assert_eq!(admin["posture"]["auth"]["state"], "no");
    let table = run(&["map", "examples/"], &repo_root());
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("HTTPRoute catalog/catalog-admin") && text.contains("storefront/storefront"),
        "{text}"
    );
}
