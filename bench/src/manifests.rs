//! The synthetic Kubernetes estate of the scan benchmark, written as Ingresses or as Gateway API
//! objects.
//!
//! The estate is drawn first, as a model: per namespace its Ingresses' Services, hosts, paths,
//! TLS and planted mistakes. It is then written in one of two APIs, so both runs describe the
//! same applications (same seed, same Namespaces, Services, Secrets and NetworkPolicies,
//! byte for byte) and differ only in how their routes are declared:
//!
//! - [`Api::Ingress`]: N Ingresses (`networking.k8s.io/v1`, class `nginx`) and one IngressClass.
//! - [`Api::GatewayApi`]: one GatewayClass `eg` (Envoy Gateway), one Gateway per namespace with an
//!   `http` listener and one `https-<n>` listener per TLS host, one HTTPRoute per Ingress, and a
//!   small extra HTTPRoute for each duplicated host and path.
//!
//! The output depends only on the [`Spec`]: a xorshift PRNG with a constant seed, no clock, no
//! hash-map order. The YAML is written by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use crate::rng::Rng;

/// Ingresses per namespace.
pub const PER_NAMESPACE: usize = 50;

/// Percent of Ingresses that get each kind of mistake.
pub const MISTAKE_PERCENT: u64 = 2;

/// The name of every generated Gateway (one per namespace).
pub const GATEWAY_NAME: &str = "gateway";

/// The GatewayClass of the Gateway API estate, and its controller (Envoy Gateway).
pub const GATEWAY_CLASS: (&str, &str) = ("eg", "gateway.envoyproxy.io/gatewayclass-controller");

/// The `sectionName` of the planted stale parentRef: no generated Gateway has a listener of that
/// name (they have `http` and `https-<n>`), as a route written for a Gateway with a single HTTPS
/// listener would name it.
pub const STALE_SECTION_NAME: &str = "https";

/// Which API the routes are declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `networking.k8s.io/v1` Ingresses of class `nginx`.
    Ingress,
    /// Gateway API Gateways and HTTPRoutes of an Envoy Gateway class.
    GatewayApi,
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Ingresses in the estate (HTTPRoutes in the Gateway API form).
    pub ingresses: usize,
    /// Files to spread the objects over (at least 1).
    pub files: usize,
    /// How routes are declared.
    pub api: Api,
}

/// What was written, and which mistakes were planted, for the summary line and the tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Every object written.
    pub objects: usize,
    /// Ingresses (Ingress form).
    pub ingresses: usize,
    /// HTTPRoutes, the extra routes of duplicated hosts included (Gateway API form).
    pub http_routes: usize,
    /// Gateways (Gateway API form).
    pub gateways: usize,
    /// Listeners of all Gateways (Gateway API form).
    pub listeners: usize,
    /// Services.
    pub services: usize,
    /// TLS Secrets.
    pub secrets: usize,
    /// Namespaces.
    pub namespaces: usize,
    /// NetworkPolicies.
    pub network_policies: usize,
    /// Ingresses with a wildcard host (both forms): `wildcard-host`.
    pub wildcard_hosts: usize,
    /// HTTPS listeners with a wildcard hostname (Gateway API form): `gateway-wildcard-hostname`.
    pub wildcard_listeners: usize,
    /// Ingresses whose TLS Secret is not generated (Ingress form): `tls-secret-missing`.
    pub missing_secrets: usize,
    /// Listeners whose certificateRef names a Secret that is not generated (Gateway API form; one
    /// per TLS host of such an Ingress): `gateway-certificate-ref-invalid`.
    pub invalid_certificate_refs: usize,
    /// Backends on port 8080, the targetPort, instead of the Service port 80:
    /// `backend-port-missing` (Ingress form), `route-backend-missing` (Gateway API form).
    pub wrong_ports: usize,
    /// `configuration-snippet` annotations (Ingress form): `snippet-annotation`.
    pub snippets: usize,
    /// backendRefs to a Service in another namespace without a ReferenceGrant (Gateway API
    /// form): `cross-namespace-ref-without-grant`.
    pub cross_namespace_refs: usize,
    /// Hosts and paths copied from the previous namespace: `duplicate-host-path` (Ingress form),
    /// `duplicate-route-hostname-path` (Gateway API form, an extra HTTPRoute on the other
    /// namespace's listener).
    pub duplicates: usize,
    /// Matches that `duplicate-route-hostname-path` reports for the duplicates (Gateway API
    /// form): one per losing route rule, so two copies of one route's `/` on two of its hosts,
    /// which that route loses both times, count once.
    pub losing_duplicate_matches: usize,
    /// parentRefs naming a listener that does not exist (Gateway API form): `route-not-accepted`.
    pub stale_parent_refs: usize,
    /// Ingresses without TLS (Ingress form), HTTPRoutes served on the `http` listener only
    /// (Gateway API form): `tls-missing`.
    pub without_tls: usize,
}

/// A generated estate: the text of each file, and what it holds.
#[derive(Debug, Clone)]
pub struct Estate {
    /// The files' contents, `manifests-NNN.yaml` in this order, each with its header comment.
    pub files: Vec<String>,
    /// What was written.
    pub counts: Counts,
}

impl Spec {
    /// The files' names, in the order of [`Estate::files`].
    #[must_use]
    pub fn file_name(&self, index: usize) -> String {
        let width = self.files.saturating_sub(1).to_string().len().max(3);
        format!("manifests-{index:0width$}.yaml")
    }

    fn header(&self, index: usize) -> String {
        let api = match self.api {
            Api::Ingress => "",
            Api::GatewayApi => " --gateway-api",
        };
        format!(
            "# Generated by gen-manifests --ingresses {} --files {}{api} (file {} of {}).\n",
            self.ingresses,
            self.files,
            index + 1,
            self.files
        )
    }
}

impl Counts {
    /// The one-line summary `gen-manifests` prints.
    #[must_use]
    pub fn summary(&self, spec: &Spec, bytes: usize, dir: &Path) -> String {
        let size = format!(
            "in {} files, {bytes} bytes ({:.1} MiB) in {}",
            spec.files,
            bytes as f64 / (1024.0 * 1024.0),
            dir.display()
        );
        match spec.api {
            Api::Ingress => format!(
                "gen-manifests: {} objects ({} Ingresses, {} Services, {} Secrets, {} Namespaces, \
                 {} NetworkPolicies, 1 IngressClass) {size}; planted: {} wildcard hosts, {} \
                 missing TLS secrets, {} wrong ports, {} snippets, {} duplicate routes; {} \
                 Ingresses without TLS",
                self.objects,
                self.ingresses,
                self.services,
                self.secrets,
                self.namespaces,
                self.network_policies,
                self.wildcard_hosts,
                self.missing_secrets,
                self.wrong_ports,
                self.snippets,
                self.duplicates,
                self.without_tls,
            ),
            Api::GatewayApi => format!(
                "gen-manifests: {} objects ({} HTTPRoutes, {} Gateways with {} listeners, {} \
                 Services, {} Secrets, {} Namespaces, {} NetworkPolicies, 1 GatewayClass) {size}; \
                 planted: {} wildcard hosts ({} on listeners), {} certificateRefs to missing \
                 Secrets, {} wrong ports, {} cross-namespace backendRefs, {} duplicate routes ({} \
                 losing matches), {} stale parentRefs; {} HTTPRoutes without TLS",
                self.objects,
                self.http_routes,
                self.gateways,
                self.listeners,
                self.services,
                self.secrets,
                self.namespaces,
                self.network_policies,
                self.wildcard_hosts,
                self.wildcard_listeners,
                self.invalid_certificate_refs,
                self.wrong_ports,
                self.cross_namespace_refs,
                self.duplicates,
                self.losing_duplicate_matches,
                self.stale_parent_refs,
                self.without_tls,
            ),
        }
    }
}

/// One Service the generator created, as backends must name it.
struct Svc {
    name: String,
    /// `Some("http")` for a named port, `None` for a single unnamed port. Both serve port 80.
    port_name: Option<&'static str>,
}

/// A host and path, remembered so an Ingress of the next namespace can duplicate it, with the
/// listener of its namespace's Gateway that serves the host.
#[derive(Clone)]
struct RouteKey {
    host: String,
    path: String,
    listener: String,
}

/// One Ingress of the model: everything both forms write for it.
struct App {
    index: usize,
    name: String,
    services: Vec<Svc>,
    /// Its own hosts; the first is the wildcard one when `wildcard`.
    hosts: Vec<String>,
    /// Paths per host, with their Ingress `pathType`. The duplicated host, when there is one, is
    /// the last entry.
    rules: Vec<(String, Vec<(String, &'static str)>)>,
    /// The host and path copied from the previous namespace.
    duplicate: Option<RouteKey>,
    /// The Gateway listener of each of `hosts` (`https-<n>`), when TLS.
    listeners: Vec<String>,
    annotations: Vec<String>,
    wildcard: bool,
    missing_secret: bool,
    wrong_port: bool,
    snippet: bool,
    tls: bool,
    stale_parent: bool,
}

/// One namespace of the model.
struct Namespace {
    name: String,
    apps: Vec<App>,
    /// Namespaces besides its own whose routes its Gateway's listeners admit (listener name, the
    /// other namespace): the listeners the next namespace's duplicates attach to.
    shared: Vec<(String, String)>,
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

/// Whether Ingress `index` gets a stale parentRef in the Gateway API form. Drawn from the index,
/// not from the estate's PRNG, so the Ingress form (which has no such mistake) keeps its
/// sequence of draws and its bytes.
fn stale_parent_planted(index: usize) -> bool {
    // splitmix64 of the index: independent of the xorshift stream, spread well enough.
    let mut z = (index as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    z % 100 < MISTAKE_PERCENT
}

/// Draws one namespace's Ingresses. The order of the PRNG draws is the generator's contract:
/// changing it changes every file of the estate.
fn draw_namespace(
    rng: &mut Rng,
    ns_index: usize,
    first: usize,
    last: usize,
    previous_routes: &mut Vec<RouteKey>,
) -> Namespace {
    let ns = namespace_name(ns_index);
    let mut routes_here = Vec::new();
    let mut apps = Vec::new();
    let mut https_listeners = 0;
    for i in first..last {
        let name = format!("app-{i:05}");
        // Services: one or two per Ingress; about a third have a single unnamed port.
        let services: Vec<Svc> = (0..rng.range(1, 2))
            .map(|s| Svc {
                name: format!("{name}-{}", ["web", "api"][s]),
                port_name: if rng.percent(30) { None } else { Some("http") },
            })
            .collect();

        let wildcard = rng.percent(MISTAKE_PERCENT);
        let missing_secret = rng.percent(MISTAKE_PERCENT);
        let wrong_port = rng.percent(MISTAKE_PERCENT);
        let snippet = rng.percent(MISTAKE_PERCENT);
        let duplicate = rng.percent(MISTAKE_PERCENT) && !previous_routes.is_empty();
        let tls = rng.percent(85);

        // Hosts and paths.
        let base = format!("{name}.{ns}.example.com");
        let mut hosts = vec![if wildcard {
            format!("*.{name}.{ns}.example.com")
        } else {
            base.clone()
        }];
        for _ in 1..rng.range(1, 3) {
            let h = format!("{}.{base}", rng.pick(HOST_PREFIXES));
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
        let listeners: Vec<String> = if tls {
            (0..hosts.len())
                .map(|h| format!("https-{}", https_listeners + h))
                .collect()
        } else {
            Vec::new()
        };
        https_listeners += listeners.len();
        let mut rules: Vec<(String, Vec<(String, &'static str)>)> = hosts
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
        let duplicate = if duplicate {
            // Re-declare a route another namespace already has, as a team copying a manifest would.
            let k = previous_routes[(rng.next() % previous_routes.len() as u64) as usize].clone();
            rules.push((k.host.clone(), vec![(k.path.clone(), "Prefix")]));
            Some(k)
        } else {
            None
        };
        for (h, paths) in &rules {
            if !wildcard || *h != hosts[0] {
                for (p, kind) in paths {
                    if *kind == "Prefix" && h.ends_with(&format!("{ns}.example.com")) {
                        let listener = hosts
                            .iter()
                            .position(|own| own == h)
                            .and_then(|at| listeners.get(at))
                            .map_or("http", String::as_str);
                        routes_here.push(RouteKey {
                            host: h.clone(),
                            path: p.clone(),
                            listener: listener.to_owned(),
                        });
                    }
                }
            }
        }

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
        }
        apps.push(App {
            index: i,
            name,
            services,
            hosts,
            rules,
            duplicate,
            listeners,
            annotations,
            wildcard,
            missing_secret,
            wrong_port,
            snippet,
            tls,
            stale_parent: stale_parent_planted(i),
        });
    }
    previous_routes.clear();
    previous_routes.extend(routes_here);
    Namespace {
        name: ns,
        apps,
        shared: Vec::new(),
    }
}

/// Draws the whole estate, namespace by namespace, and records which listeners the duplicates
/// attach to across namespaces.
fn draw(ingresses: usize) -> Vec<Namespace> {
    let mut rng = Rng::new();
    let mut previous_routes = Vec::new();
    let mut namespaces: Vec<Namespace> = (0..ingresses.div_ceil(PER_NAMESPACE))
        .map(|ns| {
            let first = ns * PER_NAMESPACE;
            let last = (first + PER_NAMESPACE).min(ingresses);
            draw_namespace(&mut rng, ns, first, last, &mut previous_routes)
        })
        .collect();
    for ns in 1..namespaces.len() {
        let borrower = namespaces[ns].name.clone();
        let mut wanted: Vec<String> = namespaces[ns]
            .apps
            .iter()
            .filter_map(|a| a.duplicate.as_ref().map(|k| k.listener.clone()))
            .collect();
        wanted.sort();
        wanted.dedup();
        namespaces[ns - 1]
            .shared
            .extend(wanted.into_iter().map(|l| (l, borrower.clone())));
    }
    namespaces
}

/// Generates the estate.
#[must_use]
pub fn generate(spec: &Spec) -> Estate {
    let namespaces = draw(spec.ingresses);
    let files = spec.files.max(1);
    let mut out = vec![String::new(); files];
    let mut c = Counts::default();
    let file_of = |i: usize| i * files / spec.ingresses.max(1);
    match spec.api {
        Api::Ingress => ingress_class(&mut out[0], &mut c),
        Api::GatewayApi => gateway_class(&mut out[0], &mut c),
    }
    for (n, ns) in namespaces.iter().enumerate() {
        let Some(first) = ns.apps.first() else {
            continue;
        };
        // A namespace's own objects go with its first Ingress, the rest with each Ingress, so
        // files hold equal shares even when namespaces are fewer than files.
        let head = &mut out[file_of(first.index)];
        write_namespace(head, &mut c, &ns.name);
        if spec.api == Api::GatewayApi {
            write_gateway(head, &mut c, ns);
        }
        for app in &ns.apps {
            let text = &mut out[file_of(app.index)];
            for svc in &app.services {
                write_service(text, &mut c, &ns.name, svc, &app.name);
            }
            if app.tls && !app.missing_secret {
                write_secret(text, &mut c, &ns.name, &format!("{}-tls", app.name));
            }
            match spec.api {
                Api::Ingress => write_ingress(text, &mut c, &ns.name, app),
                Api::GatewayApi => {
                    let neighbour = cross_namespace_target(&namespaces, n);
                    write_http_route(text, &mut c, &ns.name, app, neighbour);
                    if let Some(k) = &app.duplicate {
                        let owner = &namespaces[n - 1].name;
                        write_copied_route(text, &mut c, &ns.name, app, k, owner);
                    }
                }
            }
        }
    }
    if spec.api == Api::GatewayApi {
        c.losing_duplicate_matches = losing_duplicate_matches(&namespaces);
    }
    let files = out
        .into_iter()
        .enumerate()
        .map(|(i, text)| spec.header(i) + &text)
        .collect();
    Estate { files, counts: c }
}

/// Writes the estate to `dir` (created if needed), replacing the `manifests-*.yaml` files there.
/// Returns what was written and its size in bytes.
///
/// # Errors
/// The directory cannot be created or read, or a file cannot be removed or written.
pub fn write(spec: &Spec, dir: &Path) -> std::io::Result<(Counts, usize)> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("manifests-") && name.ends_with(".yaml") {
            std::fs::remove_file(&path)?;
        }
    }
    let estate = generate(spec);
    let mut bytes = 0;
    for (i, text) in estate.files.iter().enumerate() {
        bytes += text.len();
        std::fs::write(dir.join(spec.file_name(i)), text)?;
    }
    Ok((estate.counts, bytes))
}

/// The Service a planted cross-namespace backendRef names: the first Service of the previous
/// namespace (of the next one for the first namespace), which exists and serves port 80.
fn cross_namespace_target(namespaces: &[Namespace], n: usize) -> Option<(&str, String)> {
    let other = if n > 0 { n - 1 } else { 1 };
    let ns = namespaces.get(other)?;
    let app = ns.apps.first()?;
    let svc = app.services.first()?;
    Some((ns.name.as_str(), svc.name.clone()))
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

fn ingress_class(out: &mut String, c: &mut Counts) {
    out.push_str(
        "---\napiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: nginx\n  \
         labels:\n    app.kubernetes.io/name: ingress-nginx\nspec:\n  controller: k8s.io/ingress-nginx\n",
    );
    c.objects += 1;
}

fn write_ingress(out: &mut String, c: &mut Counts, ns: &str, app: &App) {
    let name = &app.name;
    let _ = write!(
        out,
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  \
         namespace: {ns}\n  labels:\n    app.kubernetes.io/name: {name}\n"
    );
    if app.snippet {
        c.snippets += 1;
    }
    if app.duplicate.is_some() {
        c.duplicates += 1;
    }
    if !app.annotations.is_empty() {
        out.push_str("  annotations:\n");
        for a in &app.annotations {
            out.push_str(a);
        }
    }
    out.push_str("spec:\n  ingressClassName: nginx\n");
    if app.tls {
        out.push_str("  tls:\n    - hosts:\n");
        for h in &app.hosts {
            let _ = writeln!(out, "        - \"{h}\"");
        }
        let _ = writeln!(out, "      secretName: {name}-tls");
    } else {
        c.without_tls += 1;
    }
    if app.tls && app.missing_secret {
        c.missing_secrets += 1;
    }
    if app.wildcard {
        c.wildcard_hosts += 1;
    }
    out.push_str("  rules:\n");
    let mut wrong_port_left = app.wrong_port;
    let mut n = 0;
    for (h, paths) in &app.rules {
        let _ = write!(out, "    - host: \"{h}\"\n      http:\n        paths:\n");
        for (p, kind) in paths {
            let svc = &app.services[n % app.services.len()];
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

fn gateway_class(out: &mut String, c: &mut Counts) {
    let (name, controller) = GATEWAY_CLASS;
    let _ = write!(
        out,
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  \
         name: {name}\nspec:\n  controllerName: {controller}\n"
    );
    c.objects += 1;
}

/// The namespace's Gateway: an `http` listener, and an `https-<n>` listener per TLS host with the
/// Ingress's Secret. Listeners the next namespace's duplicates attach to admit that namespace too.
fn write_gateway(out: &mut String, c: &mut Counts, ns: &Namespace) {
    let https = ns.apps.iter().any(|a| a.tls);
    let _ = write!(
        out,
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  \
         name: {GATEWAY_NAME}\n  namespace: {}\n",
        ns.name
    );
    // cert-manager's gateway-shim, as ingress-shim for the Ingresses; but a Gateway with a
    // planted missing Secret is one nobody issues for, so that the listeners naming it are
    // `gateway-certificate-ref-invalid`'s (in manifests, a Secret cert-manager writes is expected
    // to be absent).
    let planted_missing = ns.apps.iter().any(|a| a.tls && a.missing_secret);
    if https && !planted_missing {
        out.push_str("  annotations:\n    cert-manager.io/cluster-issuer: letsencrypt-prod\n");
    }
    let _ = write!(
        out,
        "spec:\n  gatewayClassName: {}\n  listeners:\n",
        GATEWAY_CLASS.0
    );
    let mut listener = |out: &mut String, name: &str| {
        c.listeners += 1;
        let neighbours: Vec<&str> = ns
            .shared
            .iter()
            .filter(|(l, _)| l == name)
            .map(|(_, other)| other.as_str())
            .collect();
        if !neighbours.is_empty() {
            let _ = write!(
                out,
                "      allowedRoutes:\n        namespaces:\n          from: Selector\n          \
                 selector:\n            matchExpressions:\n              \
                 - key: kubernetes.io/metadata.name\n                operator: In\n                \
                 values:\n                  - {}\n",
                ns.name
            );
            for other in neighbours {
                let _ = writeln!(out, "                  - {other}");
            }
        }
    };
    out.push_str("    - name: http\n      protocol: HTTP\n      port: 80\n");
    listener(out, "http");
    for app in ns.apps.iter().filter(|a| a.tls) {
        for (host, name) in app.hosts.iter().zip(&app.listeners) {
            let _ = write!(
                out,
                "    - name: {name}\n      protocol: HTTPS\n      port: 443\n      \
                 hostname: \"{host}\"\n      tls:\n        mode: Terminate\n        \
                 certificateRefs:\n          - kind: Secret\n            name: {}-tls\n",
                app.name
            );
            listener(out, name);
        }
    }
    c.objects += 1;
    c.gateways += 1;
}

/// One `matches` entry of a rule, as `tollgate migrate` writes an Ingress path: `Prefix` →
/// `PathPrefix`, `Exact` → `Exact`, `ImplementationSpecific` (which ingress-nginx reads as a
/// prefix) → `RegularExpression` with a trailing `.*`, since Envoy matches the whole path.
fn write_match(out: &mut String, path: &str, kind: &str) {
    let (type_, value) = match kind {
        "Exact" => ("Exact", path.to_owned()),
        "ImplementationSpecific" => ("RegularExpression", format!("{path}.*")),
        _ => ("PathPrefix", path.to_owned()),
    };
    let _ = write!(
        out,
        "    - matches:\n        - path:\n            type: {type_}\n            \
         value: \"{value}\"\n"
    );
}

fn write_backend_ref(out: &mut String, name: &str, namespace: Option<&str>, port: u16) {
    let _ = write!(out, "      backendRefs:\n        - name: {name}\n");
    if let Some(ns) = namespace {
        let _ = writeln!(out, "          namespace: {ns}");
    }
    let _ = writeln!(out, "          port: {port}");
}

/// The HTTPRoute of one Ingress: on the Ingress's HTTPS listeners (its `http` listener without
/// TLS), its hosts, and one rule per distinct path and type across its hosts, to the Service the
/// Ingress sent that path to first, by port number (the Gateway API has no named ports).
fn write_http_route(
    out: &mut String,
    c: &mut Counts,
    ns: &str,
    app: &App,
    neighbour: Option<(&str, String)>,
) {
    let name = &app.name;
    let _ = write!(
        out,
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: {name}\n  \
         namespace: {ns}\n  labels:\n    app.kubernetes.io/name: {name}\nspec:\n  parentRefs:\n"
    );
    let parent = |out: &mut String, section: &str| {
        let _ = write!(
            out,
            "    - name: {GATEWAY_NAME}\n      sectionName: {section}\n"
        );
    };
    if app.tls {
        for l in &app.listeners {
            parent(out, l);
        }
    } else {
        parent(out, "http");
        c.without_tls += 1;
    }
    if app.stale_parent {
        parent(out, STALE_SECTION_NAME);
        c.stale_parent_refs += 1;
    }
    out.push_str("  hostnames:\n");
    for h in &app.hosts {
        let _ = writeln!(out, "    - \"{h}\"");
    }
    out.push_str("  rules:\n");
    let rules = route_rules(app);
    // The snippet mistake has no Gateway API form; its draw plants a backendRef to another
    // namespace's Service instead, on the last rule.
    let cross = if app.snippet { neighbour } else { None };
    let last = rules.len().saturating_sub(1);
    for (r, (path, kind, svc)) in rules.iter().enumerate() {
        write_match(out, path, kind);
        match &cross {
            Some((other_ns, other_svc)) if r == last => {
                write_backend_ref(out, other_svc, Some(other_ns), 80);
                c.cross_namespace_refs += 1;
            }
            _ if r == 0 && app.wrong_port => {
                // The container port instead of the Service port.
                write_backend_ref(out, &svc.name, None, 8080);
                c.wrong_ports += 1;
            }
            _ => write_backend_ref(out, &svc.name, None, 80),
        }
    }
    if app.wildcard {
        c.wildcard_hosts += 1;
        if app.tls {
            c.wildcard_listeners += 1;
        }
    }
    if app.tls && app.missing_secret {
        c.invalid_certificate_refs += app.listeners.len();
    }
    c.objects += 1;
    c.http_routes += 1;
}

/// The rules of an Ingress's HTTPRoute: its own paths, without the duplicated host's (that one is
/// a route of its own), in the order the Ingress lists them, each (path, type) once, with the
/// Service the Ingress sends it to first (paths are numbered across hosts, as the Ingress
/// assigns Services).
fn route_rules(app: &App) -> Vec<(&str, &'static str, &Svc)> {
    let own = app.rules.len() - usize::from(app.duplicate.is_some());
    let mut rules: Vec<(&str, &'static str, &Svc)> = Vec::new();
    let mut n = 0;
    for (_, paths) in app.rules.iter().take(own) {
        for (p, kind) in paths {
            let svc = &app.services[n % app.services.len()];
            n += 1;
            if !rules.iter().any(|(q, k, _)| q == p && k == kind) {
                rules.push((p, kind, svc));
            }
        }
    }
    rules
}

/// How many matches `duplicate-route-hostname-path` must report: per duplicated host and path,
/// every claimant but the one that wins (first by namespace, then name, as the Gateway API breaks
/// ties between routes without a creation time), each losing (route, rule) once. The original
/// route loses when the copying namespace sorts first; two copies of its hosts' `/` then make
/// one finding, not two.
fn losing_duplicate_matches(namespaces: &[Namespace]) -> usize {
    type Claimant<'a> = (&'a str, String, usize);
    let mut claims: BTreeMap<(usize, &str, &str), Vec<Claimant<'_>>> = BTreeMap::new();
    for (n, ns) in namespaces.iter().enumerate().skip(1) {
        for app in &ns.apps {
            if let Some(k) = &app.duplicate {
                claims
                    .entry((n - 1, k.host.as_str(), k.path.as_str()))
                    .or_default()
                    .push((ns.name.as_str(), format!("{}-copy", app.name), 0));
            }
        }
    }
    let mut losers = BTreeSet::new();
    for ((owner, host, path), claimants) in &mut claims {
        let ns = &namespaces[*owner];
        let original = ns.apps.iter().find(|a| a.hosts.iter().any(|h| h == host));
        if let Some(app) = original
            && let Some(rule) = route_rules(app)
                .iter()
                .position(|(p, kind, _)| p == path && *kind == "Prefix")
        {
            claimants.push((ns.name.as_str(), app.name.clone(), rule));
        }
        claimants.sort();
        losers.extend(claimants.iter().skip(1).cloned());
    }
    losers.len()
}

/// The duplicated host and path as a route of its own, attached to the listener of the previous
/// namespace's Gateway that serves the host (which admits this namespace): two route objects
/// claim the same hostname and path there.
fn write_copied_route(
    out: &mut String,
    c: &mut Counts,
    ns: &str,
    app: &App,
    k: &RouteKey,
    owner: &str,
) {
    // The Service the Ingress sends the duplicated path to: the last of its paths.
    let paths: usize = app.rules.iter().map(|(_, p)| p.len()).sum();
    let svc = &app.services[(paths - 1) % app.services.len()];
    let _ = write!(
        out,
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  \
         name: {}-copy\n  namespace: {ns}\n  labels:\n    app.kubernetes.io/name: {}\nspec:\n  \
         parentRefs:\n    - name: {GATEWAY_NAME}\n      namespace: {owner}\n      \
         sectionName: {}\n  hostnames:\n    - \"{}\"\n  rules:\n",
        app.name, app.name, k.listener, k.host
    );
    write_match(out, &k.path, "Prefix");
    write_backend_ref(out, &svc.name, None, 80);
    if k.listener == "http" {
        c.without_tls += 1;
    }
    c.duplicates += 1;
    c.objects += 1;
    c.http_routes += 1;
}
