//! `tollgate migrate --to gateway-api` as a user runs it, on the example shop: the report lists
//! every ingress-nginx annotation the examples use, the YAML is Gateway API objects that the
//! scanner reads back clean, and the Markdown says what to do before the switch.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const PREFIX: &str = "nginx.ingress.kubernetes.io/";

fn tollgate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    cmd.env_remove("TOLLGATE_CONFIG")
        .env("NO_COLOR", "1")
        .current_dir(repo_root());
    cmd
}

fn run(args: &[&str]) -> Output {
    tollgate().args(args).output().expect("tollgate runs")
}

fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = tollgate()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tollgate starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("stdin written");
    child.wait_with_output().expect("tollgate runs")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8")
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&stdout(out)).expect("stdout is JSON")
}

/// The YAML documents of a stream (a document split on `---` lines), empty ones left out.
fn documents(text: &str) -> Vec<Value> {
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(std::mem::take(&mut current));
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    docs.push(current);
    docs.iter()
        .filter_map(|d| serde_saphyr::from_str::<Option<Value>>(d).expect("valid YAML"))
        .flat_map(|v| match v.get("kind").and_then(Value::as_str) {
            // `kubectl get -o yaml` output: the objects are the items.
            Some("List") => v["items"].as_array().cloned().unwrap_or_default(),
            _ => vec![v],
        })
        .collect()
}

/// Every object of the YAML files under `examples/`.
fn example_objects() -> Vec<Value> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("readable folder")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo_root().join("examples"), &mut files);
    files
        .iter()
        .flat_map(|f| documents(&std::fs::read_to_string(f).expect("readable file")))
        .collect()
}

/// The Ingresses of the examples that ingress-nginx serves: their class names an IngressClass
/// whose controller is `k8s.io/ingress-nginx`.
fn nginx_ingresses(objects: &[Value]) -> Vec<&Value> {
    let nginx_classes: BTreeSet<&str> = objects
        .iter()
        .filter(|o| {
            o["kind"] == "IngressClass" && o["spec"]["controller"] == "k8s.io/ingress-nginx"
        })
        .filter_map(|o| o["metadata"]["name"].as_str())
        .collect();
    assert!(
        !nginx_classes.is_empty(),
        "the examples define the nginx IngressClass"
    );
    objects
        .iter()
        .filter(|o| o["kind"] == "Ingress")
        .filter(|o| {
            let class = o["spec"]["ingressClassName"]
                .as_str()
                .or_else(|| o["metadata"]["annotations"]["kubernetes.io/ingress.class"].as_str());
            class.is_some_and(|c| nginx_classes.contains(c))
        })
        .collect()
}

fn key(o: &Value) -> String {
    format!(
        "{}/{}",
        o["metadata"]["namespace"].as_str().unwrap_or("default"),
        o["metadata"]["name"].as_str().unwrap_or("")
    )
}

#[test]
fn the_json_report_lists_every_ingress_nginx_annotation_of_the_examples_with_its_count() {
    let objects = example_objects();
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for ing in nginx_ingresses(&objects) {
        for (k, _) in ing["metadata"]["annotations"]
            .as_object()
            .into_iter()
            .flatten()
        {
            if k.starts_with(PREFIX) {
                expected.entry(k.clone()).or_default().insert(key(ing));
            }
        }
    }
    assert!(
        expected.contains_key("nginx.ingress.kubernetes.io/configuration-snippet"),
        "{expected:?}"
    );

    let report = json(&run(&[
        "migrate",
        "--to",
        "gateway-api",
        "examples/",
        "--format",
        "json",
    ]));
    let listed: BTreeMap<String, BTreeSet<String>> = report["annotations"]
        .as_array()
        .expect("annotations")
        .iter()
        .map(|a| {
            let affected: BTreeSet<String> = a["affected"]
                .as_array()
                .expect("affected")
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect();
            assert_eq!(a["ingresses"].as_u64(), Some(affected.len() as u64), "{a}");
            (a["annotation"].as_str().expect("name").to_owned(), affected)
        })
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(
        report["summary"]["annotations_in_use"].as_u64(),
        Some(expected.len() as u64)
    );
    assert_eq!(
        report["summary"]["ingress_nginx"].as_u64(),
        Some(nginx_ingresses(&objects).len() as u64)
    );
    let ingresses = objects.iter().filter(|o| o["kind"] == "Ingress").count();
    assert_eq!(
        report["summary"]["ingresses"].as_u64(),
        Some(ingresses as u64)
    );
    assert_eq!(report["tool"]["name"], "tollgate");
    assert_eq!(report["target"], "gateway-api");
    // The snippet's NGINX configuration is never quoted.
    assert!(!report.to_string().contains("more_set_headers"));
}

/// A route name as the translation spells it: `<ingress>-<host slug>`, or `<ingress>`.
fn route_name(ingress: &str, host: Option<&str>) -> String {
    match host {
        None => ingress.to_owned(),
        Some(h) => {
            let slug: String = h
                .replace('*', "wildcard")
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '-'
                    }
                })
                .collect();
            format!("{ingress}-{}", slug.trim_matches('-'))
        }
    }
}

const GATEWAY_GROUPS: [&str; 2] = ["gateway.networking.k8s.io/", "gateway.envoyproxy.io/"];

fn is_gateway_object(o: &Value) -> bool {
    o["apiVersion"]
        .as_str()
        .is_some_and(|v| GATEWAY_GROUPS.iter().any(|g| v.starts_with(g)))
}

#[test]
fn the_yaml_is_one_route_per_ingress_and_host_and_scans_clean() {
    let out = run(&[
        "migrate",
        "--to",
        "gateway-api",
        "examples/",
        "--format",
        "yaml",
    ]);
    let yaml = stdout(&out);
    let docs = documents(&yaml);
    assert!(!docs.is_empty());
    for d in &docs {
        assert!(is_gateway_object(d), "not a Gateway API object: {d}");
        assert!(
            d["metadata"]["name"].is_string() && d["metadata"]["namespace"].is_string(),
            "{d}"
        );
    }

    // One route per (Ingress, host) of every non-canary ingress-nginx Ingress; redirect routes
    // come on top for hosts with TLS.
    let objects = example_objects();
    let mut expected = BTreeSet::new();
    for ing in nginx_ingresses(&objects) {
        let ns = ing["metadata"]["namespace"].as_str().unwrap_or("default");
        let name = ing["metadata"]["name"].as_str().expect("name");
        let mut hosts: BTreeSet<Option<String>> = ing["spec"]["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["host"].as_str().map(str::to_owned))
            .collect();
        if ing["spec"]["defaultBackend"].is_object() || ing["spec"]["backend"].is_object() {
            hosts.insert(None);
        }
        for h in hosts {
            expected.insert(format!("{ns}/{}", route_name(name, h.as_deref())));
        }
    }
    let route_kinds = ["HTTPRoute", "GRPCRoute", "TLSRoute"];
    let routes: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"].as_str().is_some_and(|k| route_kinds.contains(&k)))
        .collect();
    let (redirects, served): (Vec<&Value>, Vec<&Value>) = routes.iter().partition(|r| {
        r["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n.ends_with("-redirect"))
    });
    let served: BTreeSet<String> = served.iter().map(|r| key(r)).collect();
    assert_eq!(served, expected);
    for r in redirects {
        let filters = &r["spec"]["rules"][0]["filters"][0];
        assert_eq!(filters["type"], "RequestRedirect", "{r}");
        assert_eq!(filters["requestRedirect"]["scheme"], "https", "{r}");
    }

    // Fed back to the scanner, alone and together with the examples: the translation adds no
    // high or critical finding that its Ingress did not already have (at some severity). The example shop's
    // planted mistakes (hosts without TLS, a wildcard host, a missing Service, a Secret in the
    // wrong namespace or of the wrong type) are carried over faithfully, and the scanner must
    // see them on the Gateway API side too; everything else must come out clean.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("gateway-api.yaml"), &yaml).expect("written");
    let dir_arg = dir.path().to_str().expect("UTF-8 path");
    let alone = run_with_stdin(
        &["scan", "-", "--format", "json", "--fail-on", "never"],
        yaml.as_bytes(),
    );
    let alone = json(&alone);
    assert!(
        alone["errors"].as_array().is_none_or(Vec::is_empty),
        "{}",
        alone["errors"]
    );
    assert!(alone["summary"]["objects"].as_u64().unwrap_or(0) > 0);
    let together = json(&run(&[
        "scan",
        "examples/",
        dir_arg,
        "--format",
        "json",
        "--fail-on",
        "never",
    ]));
    let plan = json(&run(&[
        "migrate",
        "--to",
        "gateway-api",
        "examples/",
        "--format",
        "json",
    ]));
    // Which Ingress each translated object comes from; a Gateway serves its namespace's.
    let mut source: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ing in plan["ingresses"].as_array().expect("ingresses") {
        let ingress = format!(
            "{}/{}",
            ing["namespace"].as_str().unwrap(),
            ing["name"].as_str().unwrap()
        );
        for o in ing["objects"].as_array().expect("objects") {
            source
                .entry(o.as_str().unwrap().to_owned())
                .or_default()
                .push(ingress.clone());
        }
        source
            .entry(format!("Gateway {}/", ing["namespace"].as_str().unwrap()))
            .or_default()
            .push(ingress);
    }
    // The Ingress rules whose finding the Gateway API rule carries over.
    let carried_from = |rule: &str| -> &'static [&'static str] {
        match rule {
            "tls-missing" => &["tls-missing", "tls-host-not-covered"],
            "wildcard-host" | "gateway-wildcard-hostname" => &["wildcard-host"],
            "route-backend-missing" => &["backend-service-missing", "backend-port-missing"],
            "gateway-certificate-ref-invalid" => &["tls-secret-missing"],
            _ => &[],
        }
    };
    let high = |f: &&Value| f["severity"] == "high" || f["severity"] == "critical";
    let ingress_findings: BTreeSet<(String, String)> = together["findings"]
        .as_array()
        .expect("findings")
        .iter()
        // At any severity: a host missing from `tls.hosts` is medium on the Ingress (the
        // controller still serves it over HTTPS, with its default certificate) and becomes a
        // plain-HTTP-only route, `tls-missing`, on the Gateway API side.
        .filter(|f| f["resource"]["kind"] == "Ingress")
        .map(|f| {
            let r = &f["resource"];
            (
                format!(
                    "{}/{}",
                    r["namespace"].as_str().unwrap(),
                    r["name"].as_str().unwrap()
                ),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut carried = 0;
    for report in [&alone, &together] {
        for f in report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(high)
        {
            let r = &f["resource"];
            let (kind, ns, name) = (
                r["kind"].as_str().unwrap(),
                r["namespace"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap(),
            );
            // The examples' own Gateway API objects (the catalog) are not translations.
            if !is_gateway_object(r) || ns == "catalog" {
                continue;
            }
            let key = if kind == "Gateway" {
                format!("Gateway {ns}/")
            } else {
                format!("{kind} {ns}/{name}")
            };
            let rule = f["rule"].as_str().unwrap();
            let sources = source.get(&key).cloned().unwrap_or_default();
            let had = sources.iter().any(|ing| {
                carried_from(rule)
                    .iter()
                    .chain([&rule])
                    .any(|r| ingress_findings.contains(&(ing.clone(), (*r).to_owned())))
            });
            assert!(
                had,
                "{rule} on {key} ({}) was not on its Ingress {sources:?}",
                f["message"]
            );
            carried += 1;
        }
    }
    // The planted mistakes are seen on the Gateway API side too.
    assert!(carried >= 5, "{carried}");
}

#[test]
fn the_markdown_report_has_the_table_and_says_what_to_do_before_the_switch() {
    let md = stdout(&run(&["migrate", "--to", "gateway-api", "examples/"]));
    assert!(md.starts_with("## Migration to the Gateway API\n"));
    let before = md
        .split("### Before you switch")
        .nth(1)
        .and_then(|rest| rest.split("### ").next())
        .expect("a Before you switch section");
    assert!(
        before.contains(
            "| `nginx.ingress.kubernetes.io/configuration-snippet` | 1 | no equivalent |"
        ),
        "{before}"
    );
    assert!(md.contains("| Annotation | Ingresses | Support | Outcome | Equivalent |"));
    assert!(md.contains("#### `payments/payments` (class `nginx`)"));
    assert!(!md.contains("more_set_headers"));
}

#[test]
fn gateway_class_and_implementation_flags_shape_the_objects() {
    let yaml = stdout(&run(&[
        "migrate",
        "--to",
        "gateway-api",
        "examples/",
        "--format",
        "yaml",
        "--gateway-class",
        "my-gateways",
        "--implementation",
        "none",
    ]));
    let docs = documents(&yaml);
    let classes: BTreeSet<&str> = docs
        .iter()
        .filter(|d| d["kind"] == "Gateway")
        .filter_map(|d| d["spec"]["gatewayClassName"].as_str())
        .collect();
    assert_eq!(classes, BTreeSet::from(["my-gateways"]));
    assert!(docs.iter().all(|d| {
        d["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("gateway.networking.k8s.io/"))
    }));

    let report = json(&run(&[
        "migrate",
        "--to",
        "gateway-api",
        "examples/",
        "--format",
        "json",
        "--implementation",
        "none",
    ]));
    let rps = report["annotations"]
        .as_array()
        .expect("annotations")
        .iter()
        .find(|a| a["annotation"] == "nginx.ingress.kubernetes.io/limit-rps")
        .expect("limit-rps is used by the examples");
    assert_eq!(rps["outcome"], "manual");
    assert_eq!(report["implementation"], "none");
}

#[test]
fn usage_and_input_errors_exit_2() {
    let no_target = run(&["migrate", "examples/"]);
    assert_eq!(no_target.status.code(), Some(2));
    let bad_class = run(&[
        "migrate",
        "--to",
        "gateway-api",
        "examples/",
        "--gateway-class",
        "Not_A_Name",
    ]);
    assert_eq!(bad_class.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_class.stderr).contains("not a GatewayClass name"));
    let missing = run(&["migrate", "--to", "gateway-api", "does/not/exist"]);
    assert_eq!(missing.status.code(), Some(2));
    let ok = run(&[
        "migrate",
        "--to",
        "gateway-api",
        "examples/",
        "--format",
        "json",
    ]);
    assert_eq!(ok.status.code(), Some(0));
}
