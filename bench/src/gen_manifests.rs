//! `gen-manifests`: writes a synthetic, deterministic Kubernetes estate for the scan benchmark.
//!
//! ```text
//! gen-manifests --ingresses N --out DIR [--files K]
//! ```
//!
//! N Ingresses (`networking.k8s.io/v1`, class `nginx`, 1–3 hosts of 1–4 paths, TLS on most) with
//! their Services (named and unnamed ports) and TLS Secrets (`kubernetes.io/tls`, placeholder
//! data), 50 Ingresses per namespace, one Namespace and one NetworkPolicy per namespace, and one
//! IngressClass, spread over K files (default 100) named `manifests-NNN.yaml`. A few percent
//! of the Ingresses carry a mistake the rules catch: a wildcard host, a TLS secret that does
//! not exist, a backend port that is the container port rather than the Service port, a
//! `configuration-snippet` annotation, or a host and path already routed by another namespace.
//!
//! The output depends only on N and K: a xorshift PRNG with a constant seed, no clock, no
//! hash-map order. No dependencies: the YAML is written by hand.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod rng;
use rng::Rng;

const USAGE: &str = "usage: gen-manifests --ingresses N --out DIR [--files K]

Writes N Ingresses with their Services, TLS Secrets, Namespaces, NetworkPolicies and one
IngressClass as K YAML files (default 100) named manifests-NNN.yaml in DIR. Existing
manifests-*.yaml files in DIR are removed first. Deterministic.";

/// Ingresses per namespace.
const PER_NAMESPACE: usize = 50;

/// Percent of Ingresses that get each kind of mistake.
const MISTAKE_PERCENT: u64 = 2;

struct Args {
    ingresses: usize,
    out: PathBuf,
    files: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut ingresses = None;
    let mut out = None;
    let mut files = 100;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--ingresses" | "-n" => {
                let v = value("--ingresses")?;
                ingresses = Some(
                    v.parse()
                        .map_err(|_| format!("--ingresses: not a number: {v}"))?,
                );
            }
            "--out" | "-o" => out = Some(PathBuf::from(value("--out")?)),
            "--files" => {
                let v = value("--files")?;
                files = v
                    .parse()
                    .map_err(|_| format!("--files: not a number: {v}"))?;
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let ingresses = ingresses.ok_or("--ingresses is required")?;
    let out = out.ok_or("--out is required")?;
    if files == 0 {
        return Err("--files must be at least 1".into());
    }
    Ok(Args {
        ingresses,
        out,
        files,
    })
}

/// What was written, for the summary line.
#[derive(Default)]
struct Counts {
    objects: usize,
    ingresses: usize,
    services: usize,
    secrets: usize,
    namespaces: usize,
    network_policies: usize,
    wildcard_hosts: usize,
    missing_secrets: usize,
    wrong_ports: usize,
    snippets: usize,
    duplicates: usize,
    without_tls: usize,
}

/// One Service the generator created, as Ingress backends must name it.
struct Svc {
    name: String,
    /// `Some("http")` for a named port, `None` for a single unnamed port.
    port_name: Option<&'static str>,
}

/// A host and path, remembered so a later Ingress can duplicate it.
#[derive(Clone)]
struct RouteKey {
    host: String,
    path: String,
}

const PATHS: &[&str] = &[
    "/api",
    "/static",
    "/v1",
    "/v2/orders",
    "/images",
    "/assets",
    "/graphql",
    "/search",
    "/cart",
    "/account",
    "/docs",
    "/feed",
];
const HOST_PREFIXES: &[&str] = &["www", "api", "m", "cdn", "app", "beta"];
const TEAMS: &[&str] = &[
    "checkout",
    "catalog",
    "search",
    "identity",
    "billing",
    "media",
    "growth",
    "support",
    "logistics",
    "reviews",
];

fn namespace_name(ns: usize) -> String {
    format!("{}-{ns:04}", TEAMS[ns % TEAMS.len()])
}

fn write_namespace(out: &mut String, c: &mut Counts, ns: &str) {
    let _ = write!(
        out,
        "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    \
         tollgate-bench/generated: \"true\"\n"
    );
    let _ = write!(
        out,
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  \
         name: allow-from-ingress-nginx\n  namespace: {ns}\nspec:\n  podSelector:\n    \
         matchLabels:\n      tollgate-bench/exposed: \"true\"\n  policyTypes:\n    - Ingress\n  \
         ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels:\n              \
         kubernetes.io/metadata.name: ingress-nginx\n      ports:\n        - protocol: TCP\n          \
         port: 8080\n"
    );
    c.objects += 2;
    c.namespaces += 1;
    c.network_policies += 1;
}

fn write_service(out: &mut String, c: &mut Counts, ns: &str, svc: &Svc, app: &str) {
    let _ = write!(
        out,
        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {}\n  namespace: {ns}\n  \
         labels:\n    app.kubernetes.io/name: {}\n    app.kubernetes.io/part-of: {app}\nspec:\n  \
         selector:\n    app.kubernetes.io/name: {}\n  ports:\n",
        svc.name, svc.name, svc.name
    );
    match svc.port_name {
        Some(name) => {
            let _ = write!(
                out,
                "    - name: {name}\n      port: 80\n      targetPort: 8080\n      protocol: TCP\n    \
                 - name: metrics\n      port: 9090\n      targetPort: 9090\n      protocol: TCP\n"
            );
        }
        None => out.push_str("    - port: 80\n      targetPort: 8080\n"),
    }
    c.objects += 1;
    c.services += 1;
}

/// A real certificate chain (an ECDSA leaf for `shop.example.com` and its RSA intermediate, from
/// the test suite's PKI), so that every Secret costs a real parse and signature check. It names
/// none of the generated hosts: `certificate-host-mismatch` has work too.
const CHAIN_PEM: &str = include_str!("../../crates/tollgate-core/tests/fixtures/certs/good.crt");
/// Base64 of `-----BEGIN FAKE KEY-----`: a placeholder (as SOPS or sealed secrets leave in Git).
const FAKE_KEY: &str = "LS0tLS1CRUdJTiBGQUtFIEtFWS0tLS0tCg==";

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn write_secret(out: &mut String, c: &mut Counts, ns: &str, name: &str) {
    static CRT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let crt = CRT.get_or_init(|| base64(CHAIN_PEM.as_bytes()));
    let _ = write!(
        out,
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {ns}\n  \
         annotations:\n    cert-manager.io/issuer-name: letsencrypt-prod\ntype: kubernetes.io/tls\n\
         data:\n  tls.crt: {crt}\n  tls.key: {FAKE_KEY}\n"
    );
    c.objects += 1;
    c.secrets += 1;
}

/// Writes one namespace's objects: Namespace, NetworkPolicy, then per Ingress its Services,
/// Secret and the Ingress itself. Ingress `i` of `total` goes, with its Services and Secret, to
/// file `i * files / total`, so files hold equal shares even when namespaces are fewer.
#[allow(clippy::too_many_arguments)]
fn write_namespace_block(
    files: &mut [String],
    total: usize,
    c: &mut Counts,
    rng: &mut Rng,
    ns_index: usize,
    first: usize,
    last: usize,
    previous_routes: &mut Vec<RouteKey>,
) {
    let ns = namespace_name(ns_index);
    let count = files.len();
    let file_of = |i: usize| i * count / total.max(1);
    write_namespace(&mut files[file_of(first)], c, &ns);
    let mut routes_here = Vec::new();
    for i in first..last {
        let out = &mut files[file_of(i)];
        let app = format!("app-{i:05}");
        // Services: one or two per Ingress; about a third have a single unnamed port.
        let services: Vec<Svc> = (0..rng.range(1, 2))
            .map(|s| Svc {
                name: format!("{app}-{}", ["web", "api"][s]),
                port_name: if rng.percent(30) { None } else { Some("http") },
            })
            .collect();
        for svc in &services {
            write_service(out, c, &ns, svc, &app);
        }

        let wildcard = rng.percent(MISTAKE_PERCENT);
        let missing_secret = rng.percent(MISTAKE_PERCENT);
        let wrong_port = rng.percent(MISTAKE_PERCENT);
        let snippet = rng.percent(MISTAKE_PERCENT);
        let duplicate = rng.percent(MISTAKE_PERCENT) && !previous_routes.is_empty();
        let tls = rng.percent(85);

        // Hosts and paths.
        let base = format!("{app}.{ns}.example.com");
        let mut hosts = vec![if wildcard {
            format!("*.{app}.{ns}.example.com")
        } else {
            base.clone()
        }];
        for _ in 1..rng.range(1, 3) {
            let h = format!("{}.{base}", rng.pick(HOST_PREFIXES));
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
        let mut rules: Vec<(String, Vec<(String, &str)>)> = hosts
            .iter()
            .map(|h| (h.clone(), vec![("/".to_owned(), "Prefix")]))
            .collect();
        // 1–4 paths per host: `/` and up to three more.
        for rule in &mut rules {
            for _ in 0..rng.range(0, 3) {
                let path = rng.pick(PATHS).to_owned();
                if rule.1.iter().any(|(p, _)| *p == path) {
                    continue;
                }
                let kind = match rng.next() % 10 {
                    0 => "Exact",
                    1 => "ImplementationSpecific",
                    _ => "Prefix",
                };
                rule.1.push((path, kind));
            }
        }
        if duplicate {
            // Re-declare a route another namespace already has, as a team copying a manifest would.
            let k = previous_routes[(rng.next() % previous_routes.len() as u64) as usize].clone();
            rules.push((k.host, vec![(k.path, "Prefix")]));
            c.duplicates += 1;
        }
        for (h, paths) in &rules {
            if !wildcard || *h != hosts[0] {
                for (p, kind) in paths {
                    if *kind == "Prefix" && h.ends_with(&format!("{ns}.example.com")) {
                        routes_here.push(RouteKey {
                            host: h.clone(),
                            path: p.clone(),
                        });
                    }
                }
            }
        }

        // Secret.
        let secret = format!("{app}-tls");
        if tls && !missing_secret {
            write_secret(out, c, &ns, &secret);
        }

        // The Ingress.
        let _ = write!(
            out,
            "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {app}\n  \
             namespace: {ns}\n  labels:\n    app.kubernetes.io/name: {app}\n"
        );
        let mut annotations = Vec::new();
        if tls {
            annotations.push("    cert-manager.io/cluster-issuer: letsencrypt-prod\n".to_owned());
        }
        if rng.percent(40) {
            annotations.push(format!(
                "    nginx.ingress.kubernetes.io/proxy-body-size: {}m\n",
                rng.range(1, 64)
            ));
        }
        if rng.percent(20) {
            annotations.push(format!(
                "    nginx.ingress.kubernetes.io/limit-rps: \"{}\"\n",
                rng.range(5, 200)
            ));
        }
        if snippet {
            annotations.push(
                "    nginx.ingress.kubernetes.io/configuration-snippet: |\n      \
                 more_set_headers \"X-Frame-Options: SAMEORIGIN\";\n"
                    .to_owned(),
            );
            c.snippets += 1;
        }
        if !annotations.is_empty() {
            out.push_str("  annotations:\n");
            for a in &annotations {
                out.push_str(a);
            }
        }
        out.push_str("spec:\n  ingressClassName: nginx\n");
        if tls {
            out.push_str("  tls:\n    - hosts:\n");
            for h in &hosts {
                let _ = writeln!(out, "        - \"{h}\"");
            }
            let _ = writeln!(out, "      secretName: {secret}");
        } else {
            c.without_tls += 1;
        }
        if tls && missing_secret {
            c.missing_secrets += 1;
        }
        if wildcard {
            c.wildcard_hosts += 1;
        }
        out.push_str("  rules:\n");
        let mut wrong_port_left = wrong_port;
        let mut n = 0;
        for (h, paths) in &rules {
            let _ = write!(out, "    - host: \"{h}\"\n      http:\n        paths:\n");
            for (p, kind) in paths {
                let svc = &services[n % services.len()];
                n += 1;
                let _ = write!(
                    out,
                    "          - path: {p}\n            pathType: {kind}\n            backend:\n              \
                     service:\n                name: {}\n                port:\n",
                    svc.name
                );
                if wrong_port_left {
                    // The container port instead of the Service port.
                    out.push_str("                  number: 8080\n");
                    wrong_port_left = false;
                    c.wrong_ports += 1;
                } else {
                    match svc.port_name {
                        Some(name) => {
                            let _ = writeln!(out, "                  name: {name}");
                        }
                        None => out.push_str("                  number: 80\n"),
                    }
                }
            }
        }
        c.objects += 1;
        c.ingresses += 1;
    }
    previous_routes.clear();
    previous_routes.extend(routes_here);
}

fn ingress_class(out: &mut String, c: &mut Counts) {
    out.push_str(
        "---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: nginx\n  \
         labels:\n    app.kubernetes.io/name: ingress-nginx\nspec:\n  controller: k8s.io/ingress-nginx\n",
    );
    c.objects += 1;
}

fn clean(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("manifests-") && name.ends_with(".yaml") {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

fn run(args: &Args) -> std::io::Result<(Counts, usize)> {
    std::fs::create_dir_all(&args.out)?;
    clean(&args.out)?;
    let namespaces = args.ingresses.div_ceil(PER_NAMESPACE);
    let mut files = vec![String::new(); args.files];
    let mut c = Counts::default();
    let mut rng = Rng::new();
    let mut previous_routes = Vec::new();
    ingress_class(&mut files[0], &mut c);
    for ns in 0..namespaces {
        let first = ns * PER_NAMESPACE;
        let last = (first + PER_NAMESPACE).min(args.ingresses);
        write_namespace_block(
            &mut files,
            args.ingresses,
            &mut c,
            &mut rng,
            ns,
            first,
            last,
            &mut previous_routes,
        );
    }
    let width = (args.files - 1).to_string().len().max(3);
    let mut bytes = 0;
    for (i, text) in files.iter().enumerate() {
        let header = format!(
            "# Generated by gen-manifests --ingresses {} --files {} (file {} of {}).\n",
            args.ingresses,
            args.files,
            i + 1,
            args.files
        );
        let path = args.out.join(format!("manifests-{i:0width$}.yaml"));
        bytes += header.len() + text.len();
        std::fs::write(path, [header.as_bytes(), text.as_bytes()].concat())?;
    }
    Ok((c, bytes))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gen-manifests: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok((c, bytes)) => {
            println!(
                "gen-manifests: {} objects ({} Ingresses, {} Services, {} Secrets, {} Namespaces, \
                 {} NetworkPolicies, 1 IngressClass) in {} files, {} bytes ({:.1} MiB) in {}; \
                 planted: {} wildcard hosts, {} missing TLS secrets, {} wrong ports, {} snippets, \
                 {} duplicate routes; {} Ingresses without TLS",
                c.objects,
                c.ingresses,
                c.services,
                c.secrets,
                c.namespaces,
                c.network_policies,
                args.files,
                bytes,
                bytes as f64 / (1024.0 * 1024.0),
                args.out.display(),
                c.wildcard_hosts,
                c.missing_secrets,
                c.wrong_ports,
                c.snippets,
                c.duplicates,
                c.without_tls,
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-manifests: {}: {e}", args.out.display());
            ExitCode::FAILURE
        }
    }
}
