//! ingress-nginx installations found in the inventory, and the facts that judge them.
//!
//! An annotation means nothing until a controller reads it, and what ingress-nginx does with it
//! depends on the installation: its version (CVE ranges, changed defaults), its ConfigMap
//! (`allow-snippet-annotations`, `annotations-risk-level`, ...), the class it serves, and whether
//! its admission webhook is reachable. [`discover`] finds installations from their workloads:
//! a Deployment or DaemonSet running the `ingress-nginx/controller` image. Everything here is a
//! pure function of the [`Inventory`].
//!
//! The facts that change (CVE ranges and payload patterns, the per-annotation risk table, end of
//! life, removed annotations) live in `crates/tollgate-core/data/*.json` with their sources, are
//! compiled in with `include_str!`, parsed once, and validated by the tests of this module.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use k8s_openapi::api::core::v1::{Container, PodSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Deserializer};

use crate::controller::Controller;
use crate::inventory::{IngressEntry, Inventory, pod_labels};
use crate::object::{Kind, Object, Resource};
use crate::rules::Severity;

/// The IngressClass `spec.controller` ingress-nginx serves unless `--controller-class` says
/// otherwise.
pub const DEFAULT_CONTROLLER_CLASS: &str = "k8s.io/ingress-nginx";
/// The annotation prefix ingress-nginx reads unless `--annotations-prefix` says otherwise.
pub const DEFAULT_ANNOTATIONS_PREFIX: &str = "nginx.ingress.kubernetes.io";
/// The ConfigMap name the chart and the static manifests give the controller.
pub const CONVENTIONAL_CONFIGMAP: &str = "ingress-nginx-controller";

// ---------------------------------------------------------------------------------------------
// Versions

/// A controller version as ingress-nginx tags its images (`v1.11.3`, `1.12.0-beta.0`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
    /// Pre-release (`beta.0`), which sorts before the release.
    pub pre: Option<String>,
}

impl Version {
    /// Parses `1.11.3`, `v1.11.3`, `1.12.0-beta.0`, `0` (OSV's "since the beginning"), ignoring
    /// build metadata (`+…`). Missing minor or patch numbers count as zero.
    #[must_use]
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let s = s.strip_prefix('v').unwrap_or(s);
        let s = s.split_once('+').map_or(s, |(v, _)| v);
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) if !p.is_empty() => (c, Some(p.to_owned())),
            Some(_) => return None,
            None => (s, None),
        };
        let mut parts = core.split('.');
        let mut next = |required: bool| -> Option<u64> {
            match parts.next() {
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok(),
                None if !required => Some(0),
                _ => None,
            }
        };
        let major = next(true)?;
        let minor = next(false)?;
        let patch = next(false)?;
        if parts.next().is_some() {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
            pre,
        })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => std::cmp::Ordering::Equal,
                // A pre-release comes before its release (semver 11.3).
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(a), Some(b)) => compare_pre(a, b),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Semver pre-release order: dot-separated identifiers, numeric ones compared as numbers.
fn compare_pre(a: &str, b: &str) -> std::cmp::Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    (Ok(_), Err(_)) => std::cmp::Ordering::Less,
                    (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if order != std::cmp::Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Version::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad version `{s}`")))
    }
}

// ---------------------------------------------------------------------------------------------
// Installations

/// Where an installation's version came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSource {
    /// The container image tag.
    ImageTag,
    /// The pod template's `app.kubernetes.io/version` label (the image is pinned by digest only).
    Label,
}

/// The controller ConfigMap an installation reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigMapRef {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Index into [`Inventory::objects`] when the ConfigMap is among the scanned objects.
    pub object: Option<usize>,
    /// Whether `--configmap` named it (otherwise it is the conventional name, assumed).
    pub from_flag: bool,
}

/// The validating admission webhook that sends Ingresses to an installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmissionWebhook {
    /// Index of the ValidatingWebhookConfiguration in [`Inventory::objects`].
    pub configuration: usize,
    /// Index of the webhook in its `webhooks` list.
    pub index: usize,
    /// The Service `clientConfig.service` names (in the installation's namespace).
    pub service_name: String,
    /// Index of that Service, when it is among the scanned objects.
    pub service: Option<usize>,
    /// The Service port the API server calls (`clientConfig.service.port`, default 443).
    pub service_port: i32,
    /// The controller container port behind it, when it can be resolved.
    pub container_port: Option<i32>,
    /// That container port's name, when it has one.
    pub port_name: Option<String>,
}

/// One ingress-nginx controller installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// Index of the Deployment or DaemonSet in [`Inventory::objects`].
    pub workload: usize,
    /// Index of the controller container in the pod template's `containers`.
    pub container: usize,
    /// The image as written.
    pub image: String,
    /// The controller version, when the image tag (or the version label) says.
    pub version: Option<Version>,
    /// Where [`Installation::version`] came from.
    pub version_source: Option<VersionSource>,
    /// The workload's namespace.
    pub namespace: String,
    /// The IngressClass `spec.controller` value it serves (`--controller-class`).
    pub controller_class: String,
    /// The class name of `--ingress-class`, used for the legacy class annotation.
    pub ingress_class: Option<String>,
    /// `--watch-ingress-without-class`.
    pub watch_without_class: bool,
    /// `--annotations-prefix`, without the trailing `/`.
    pub annotations_prefix: String,
    /// Its ConfigMap.
    pub configmap: ConfigMapRef,
    /// Its admission webhook, when a ValidatingWebhookConfiguration points at it.
    pub webhook: Option<AdmissionWebhook>,
    /// The listen address of `--validating-webhook` (`:8443`), when set.
    pub webhook_listen: Option<String>,
}

impl Installation {
    /// The workload object.
    #[must_use]
    pub fn object<'a>(&self, inv: &'a Inventory) -> &'a Object {
        &inv.objects[self.workload]
    }

    /// Pointer to the controller image in the workload.
    #[must_use]
    pub fn image_pointer(&self) -> String {
        format!("/spec/template/spec/containers/{}/image", self.container)
    }

    /// A ConfigMap key's value, when the ConfigMap is in scope and sets it.
    #[must_use]
    pub fn setting<'a>(&self, inv: &'a Inventory, key: &str) -> Option<&'a str> {
        let Resource::ConfigMap(cm) = &inv.objects[self.configmap.object?].resource else {
            return None;
        };
        cm.data.as_ref()?.get(key).map(String::as_str)
    }

    /// The full annotation key for a short name (`auth-url` → `nginx.ingress.kubernetes.io/auth-url`).
    #[must_use]
    pub fn annotation_key(&self, short: &str) -> String {
        format!("{}/{short}", self.annotations_prefix)
    }

    /// Whether the version is known and at least `at` (`x.y.z`).
    #[must_use]
    pub fn version_at_least(&self, at: &str) -> Option<bool> {
        let at = Version::parse(at)?;
        self.version.as_ref().map(|v| *v >= at)
    }

    /// The `annotations-risk-level` in force, and whether the ConfigMap sets it (else the
    /// version's default; High when the version is unknown, as every maintained release had).
    #[must_use]
    pub fn risk_level(&self, inv: &Inventory) -> (Risk, bool) {
        if let Some(level) = self
            .setting(inv, "annotations-risk-level")
            .and_then(Risk::parse)
        {
            return (level, true);
        }
        (default_risk_level(self.version.as_ref()), false)
    }

    /// A boolean ConfigMap setting: the ConfigMap's value, else `default`. Values are read as
    /// the controller reads them (Go's `strconv.ParseBool`); an unparsable value is the default.
    #[must_use]
    pub fn flag(&self, inv: &Inventory, key: &str, default: bool) -> bool {
        self.setting(inv, key)
            .and_then(|v| parse_go_bool(v.trim()))
            .unwrap_or(default)
    }

    /// The pod labels of the controller pods.
    #[must_use]
    pub fn pod_labels<'a>(&self, inv: &'a Inventory) -> Option<&'a BTreeMap<String, String>> {
        pod_labels(self.object(inv))
    }

    /// The controller and version for messages: `ingress-nginx v1.11.3`.
    #[must_use]
    pub fn name(&self) -> String {
        match &self.version {
            Some(v) => format!("ingress-nginx {v}"),
            None => "ingress-nginx of unknown version".to_owned(),
        }
    }

    /// The workload for messages: `Deployment ingress-nginx/ingress-nginx-controller`.
    #[must_use]
    pub fn workload_name(&self, inv: &Inventory) -> String {
        let o = self.object(inv);
        format!("{} {}/{}", o.kind, self.namespace, o.name)
    }

    /// Both: `ingress-nginx v1.11.3 (Deployment ingress-nginx/ingress-nginx-controller)`.
    #[must_use]
    pub fn describe(&self, inv: &Inventory) -> String {
        format!("{} ({})", self.name(), self.workload_name(inv))
    }
}

/// Go's `strconv.ParseBool`, which the controller uses for its ConfigMap.
fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Finds every ingress-nginx installation among the inventory's Deployments and DaemonSets.
#[must_use]
pub fn discover(inv: &Inventory) -> Vec<Installation> {
    let mut found = Vec::new();
    for kind in [Kind::Deployment, Kind::DaemonSet] {
        for (index, object) in inv.of_kind(kind) {
            let Some(spec) = pod_spec(object) else {
                continue;
            };
            for (c, container) in spec.containers.iter().enumerate() {
                let Some(image) = container.image.as_deref() else {
                    continue;
                };
                let Some(tag) = controller_image_tag(image) else {
                    continue;
                };
                found.push(installation(inv, index, object, c, container, image, tag));
            }
        }
    }
    found
}

/// The installation that serves an Ingress, if one of the discovered installations does.
#[must_use]
pub fn serving<'a>(
    installations: &'a [Installation],
    inv: &Inventory,
    entry: &IngressEntry,
) -> Option<&'a Installation> {
    let class = &entry.class;
    let by_class_object = class
        .ingress_class
        .and_then(|i| match &inv.objects[i].resource {
            Resource::IngressClass(c) => c.spec.as_ref().and_then(|s| s.controller.clone()),
            _ => None,
        });
    if let Some(controller) = by_class_object {
        let mut candidates = installations
            .iter()
            .filter(|i| i.controller_class == controller);
        let first = candidates.next()?;
        // Several installations may share a controller class; `--ingress-class` tells them apart.
        return Some(
            std::iter::once(first)
                .chain(candidates)
                .find(|i| i.ingress_class.as_deref() == class.class.as_deref())
                .unwrap_or(first),
        );
    }
    if let Some(name) = class.class.as_deref() {
        if let Some(i) = installations
            .iter()
            .find(|i| i.ingress_class.as_deref() == Some(name))
        {
            return Some(i);
        }
    } else if let Some(i) = installations.iter().find(|i| i.watch_without_class) {
        return Some(i);
    }
    // A conventional class name without its IngressClass object: only an unambiguous guess.
    match (class.controller.as_ref(), installations) {
        (Some(Controller::IngressNginx), [only]) => Some(only),
        _ => None,
    }
}

/// A controller runs as a Deployment or DaemonSet; its Pods (in a cluster scan) are the same
/// installation, not others.
fn pod_spec(o: &Object) -> Option<&PodSpec> {
    if !matches!(o.kind, Kind::Deployment | Kind::DaemonSet) {
        return None;
    }
    o.pod_spec().map(|(spec, _)| spec)
}

/// Recognises the ingress-nginx controller image under any registry or mirror path and returns
/// its tag (empty when the image is pinned by digest only).
///
/// Accepted repositories end in `ingress-nginx/controller` (registry.k8s.io, k8s.gcr.io, mirrors),
/// `ingress-nginx/controller-chroot` (the chrooted variant), or the pre-1.0
/// `kubernetes-ingress-controller/nginx-ingress-controller`. NGINX Inc's `nginx/nginx-ingress`
/// is a different controller and is not matched.
#[must_use]
pub fn controller_image_tag(image: &str) -> Option<&str> {
    let without_digest = image.split_once('@').map_or(image, |(i, _)| i);
    // A `:` after the last `/` is a tag; one before it is a registry port.
    let last_slash = without_digest.rfind('/').unwrap_or(0);
    let (repo, tag) = match without_digest[last_slash..].find(':') {
        Some(colon) => (
            &without_digest[..last_slash + colon],
            &without_digest[last_slash + colon + 1..],
        ),
        None => (without_digest, ""),
    };
    let ends_with_path = |suffix: &str| {
        repo == suffix
            || repo
                .strip_suffix(suffix)
                .is_some_and(|head| head.ends_with('/'))
    };
    [
        "ingress-nginx/controller",
        "ingress-nginx/controller-chroot",
        "kubernetes-ingress-controller/nginx-ingress-controller",
    ]
    .into_iter()
    .any(ends_with_path)
    .then_some(tag)
}

fn installation(
    inv: &Inventory,
    workload: usize,
    object: &Object,
    container_index: usize,
    container: &Container,
    image: &str,
    tag: &str,
) -> Installation {
    let namespace = object.ns().to_owned();
    let flags = Flags::of(container, &namespace);
    let (version, version_source) = match Version::parse(tag) {
        Some(v) => (Some(v), Some(VersionSource::ImageTag)),
        None => match pod_labels(object)
            .and_then(|l| l.get("app.kubernetes.io/version"))
            .and_then(|v| Version::parse(v))
        {
            Some(v) => (Some(v), Some(VersionSource::Label)),
            None => (None, None),
        },
    };
    let (cm_namespace, cm_name, from_flag) = match flags.value("configmap") {
        Some(v) => match v.split_once('/') {
            Some((ns, name)) => (ns.to_owned(), name.to_owned(), true),
            None => (namespace.clone(), v.to_owned(), true),
        },
        None => (namespace.clone(), CONVENTIONAL_CONFIGMAP.to_owned(), false),
    };
    let cm_object = inv
        .of_kind(Kind::ConfigMap)
        .find(|(_, o)| o.ns() == cm_namespace && o.name == cm_name)
        .map(|(i, _)| i);
    let mut inst = Installation {
        workload,
        container: container_index,
        image: image.to_owned(),
        version,
        version_source,
        namespace,
        controller_class: flags
            .value("controller-class")
            .unwrap_or(DEFAULT_CONTROLLER_CLASS)
            .to_owned(),
        ingress_class: flags.value("ingress-class").map(str::to_owned),
        watch_without_class: flags.boolean("watch-ingress-without-class"),
        annotations_prefix: flags
            .value("annotations-prefix")
            .unwrap_or(DEFAULT_ANNOTATIONS_PREFIX)
            .trim_end_matches('/')
            .to_owned(),
        configmap: ConfigMapRef {
            namespace: cm_namespace,
            name: cm_name,
            object: cm_object,
            from_flag,
        },
        webhook: None,
        webhook_listen: flags.value("validating-webhook").map(str::to_owned),
    };
    inst.webhook = find_webhook(inv, &inst, container);
    inst
}

/// The controller's command-line flags, with `$(VAR)` references expanded from the container's
/// environment the way the kubelet does (the chart passes `--configmap=$(POD_NAMESPACE)/…`).
struct Flags {
    tokens: Vec<String>,
}

impl Flags {
    fn of(container: &Container, namespace: &str) -> Flags {
        let mut env: BTreeMap<&str, String> = BTreeMap::new();
        for e in container.env.iter().flatten() {
            if let Some(v) = &e.value {
                env.insert(&e.name, v.clone());
            } else if e
                .value_from
                .as_ref()
                .and_then(|f| f.field_ref.as_ref())
                .is_some_and(|f| f.field_path == "metadata.namespace")
            {
                env.insert(&e.name, namespace.to_owned());
            }
        }
        let tokens = container
            .command
            .iter()
            .flatten()
            .chain(container.args.iter().flatten())
            .map(|t| expand(t, &env))
            .collect();
        Flags { tokens }
    }

    /// `--name=value`, `-name=value` or `--name value`.
    fn value(&self, name: &str) -> Option<&str> {
        let mut iter = self.tokens.iter();
        while let Some(t) = iter.next() {
            let Some(body) = t.strip_prefix("--").or_else(|| t.strip_prefix('-')) else {
                continue;
            };
            match body.split_once('=') {
                Some((n, v)) if n == name => return Some(v),
                None if body == name => {
                    return iter
                        .next()
                        .map(String::as_str)
                        .filter(|v| !v.starts_with('-'));
                }
                _ => {}
            }
        }
        None
    }

    /// A boolean flag: bare `--name`, or `--name=true`.
    fn boolean(&self, name: &str) -> bool {
        self.tokens.iter().any(|t| {
            let body = t
                .strip_prefix("--")
                .or_else(|| t.strip_prefix('-'))
                .unwrap_or("");
            body == name
                || body
                    .strip_prefix(name)
                    .and_then(|r| r.strip_prefix('='))
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        })
    }
}

fn expand(token: &str, env: &BTreeMap<&str, String>) -> String {
    let mut out = String::with_capacity(token.len());
    let mut rest = token;
    while let Some(start) = rest.find("$(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find(')') {
            Some(end) if env.contains_key(&after[..end]) => {
                out.push_str(&env[&after[..end]]);
                rest = &after[end + 1..];
            }
            // An unknown variable stays as written, as the kubelet leaves it.
            _ => {
                out.push_str("$(");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The ValidatingWebhookConfiguration entry whose Service is the installation's: a Service in
/// the installation's namespace that selects the controller pods (or, when the Service is not
/// in scope, any Service of that namespace).
fn find_webhook(
    inv: &Inventory,
    inst: &Installation,
    container: &Container,
) -> Option<AdmissionWebhook> {
    let labels = pod_labels(&inv.objects[inst.workload]);
    for (configuration, object) in inv.of_kind(Kind::ValidatingWebhookConfiguration) {
        let Resource::ValidatingWebhookConfiguration(vwc) = &object.resource else {
            continue;
        };
        for (index, webhook) in vwc.webhooks.iter().flatten().enumerate() {
            let Some(svc_ref) = &webhook.client_config.service else {
                continue;
            };
            if svc_ref.namespace != inst.namespace {
                continue;
            }
            let service_port = svc_ref.port.unwrap_or(443);
            let service = inv
                .of_kind(Kind::Service)
                .find(|(_, o)| o.ns() == inst.namespace && o.name == svc_ref.name);
            let mut target: Option<IntOrString> = None;
            if let Some((_, svc_object)) = service {
                let Resource::Service(svc) = &svc_object.resource else {
                    continue;
                };
                let spec = svc.spec.as_ref();
                let selects_controller = spec
                    .and_then(|s| s.selector.as_ref())
                    .filter(|s| !s.is_empty())
                    .is_none_or(|selector| {
                        labels.is_some_and(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v)))
                    });
                if !selects_controller {
                    continue;
                }
                target = spec
                    .and_then(|s| s.ports.as_ref())
                    .and_then(|ports| ports.iter().find(|p| p.port == service_port))
                    .map(|p| {
                        p.target_port
                            .clone()
                            .unwrap_or(IntOrString::Int(service_port))
                    });
            }
            let ports = container.ports.as_deref().unwrap_or_default();
            let (container_port, port_name) = match &target {
                Some(IntOrString::Int(n)) => (
                    Some(*n),
                    ports
                        .iter()
                        .find(|p| p.container_port == *n)
                        .and_then(|p| p.name.clone()),
                ),
                Some(IntOrString::String(name)) => (
                    ports
                        .iter()
                        .find(|p| p.name.as_deref() == Some(name))
                        .map(|p| p.container_port),
                    Some(name.clone()),
                ),
                // Without the Service, `--validating-webhook=:8443` still names the port.
                None => {
                    let listen = inst
                        .webhook_listen
                        .as_deref()
                        .and_then(|l| l.rsplit(':').next())
                        .and_then(|p| p.parse::<i32>().ok());
                    (
                        listen,
                        listen.and_then(|n| {
                            ports
                                .iter()
                                .find(|p| p.container_port == n)
                                .and_then(|p| p.name.clone())
                        }),
                    )
                }
            };
            return Some(AdmissionWebhook {
                configuration,
                index,
                service_name: svc_ref.name.clone(),
                service: service.map(|(i, _)| i),
                service_port,
                container_port,
                port_name,
            });
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Annotation risk

/// ingress-nginx's annotation risk levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum Risk {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical (the snippets).
    Critical,
}

impl Risk {
    /// Parses a level as the ConfigMap spells it (case-insensitive, as the controller reads it).
    #[must_use]
    pub fn parse(s: &str) -> Option<Risk> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Risk::Low),
            "medium" => Some(Risk::Medium),
            "high" => Some(Risk::High),
            "critical" => Some(Risk::Critical),
            _ => None,
        }
    }

    /// The name as the ConfigMap spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "Low",
            Risk::Medium => "Medium",
            Risk::High => "High",
            Risk::Critical => "Critical",
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the risk table.
#[derive(Debug, Clone, Deserialize)]
pub struct AnnotationRisk {
    /// The annotation without prefix.
    pub annotation: String,
    /// Its risk.
    pub risk: Risk,
    /// The parser group (`ExternalAuth`, ...).
    pub group: String,
    /// `ingress` or `location`.
    pub scope: String,
    /// Whether research/rule-anchors.md 1.11 names it.
    pub in_research: bool,
}

#[derive(Debug, Deserialize)]
struct DefaultLevel {
    since: Version,
    level: Risk,
}

#[derive(Debug, Deserialize)]
struct RiskFile {
    default_level: Vec<DefaultLevel>,
    annotations: Vec<AnnotationRisk>,
}

const RISK_JSON: &str = include_str!("../data/ingress-nginx-annotation-risk.json");

fn risk_file() -> &'static RiskFile {
    static FILE: OnceLock<RiskFile> = OnceLock::new();
    FILE.get_or_init(|| {
        serde_json::from_str(RISK_JSON)
            .expect("data/ingress-nginx-annotation-risk.json is validated by a unit test")
    })
}

/// The whole risk table, in the file's order.
#[must_use]
pub fn risk_table() -> &'static [AnnotationRisk] {
    &risk_file().annotations
}

/// The risk of an annotation (short name), when the table lists it.
#[must_use]
pub fn annotation_risk(short: &str) -> Option<Risk> {
    // Every annotation of every ingress-nginx Ingress is looked up, so the table is indexed once.
    static INDEX: OnceLock<std::collections::HashMap<&'static str, Risk>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            risk_table()
                .iter()
                .map(|r| (r.annotation.as_str(), r.risk))
                .collect()
        })
        .get(short)
        .copied()
}

/// The `annotations-risk-level` a version uses when its ConfigMap sets none: Critical before
/// v1.12.0, High since. An unknown version gets High.
#[must_use]
pub fn default_risk_level(version: Option<&Version>) -> Risk {
    let Some(version) = version else {
        return Risk::High;
    };
    risk_file()
        .default_level
        .iter()
        .rev()
        .find(|d| *version >= d.since)
        .map_or(Risk::High, |d| d.level)
}

/// An annotation that a risk level would refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRejection {
    /// Index into [`Inventory::ingresses`].
    pub ingress: usize,
    /// The full annotation key.
    pub key: String,
    /// Its risk.
    pub risk: Risk,
}

/// Answers "what would break if `annotations-risk-level` were `level`": every annotation of an
/// Ingress that ingress-nginx serves (or that names no other controller) whose risk is above
/// `level`, in inventory order.
#[must_use]
pub fn rejected_at_level(inv: &Inventory, level: Risk) -> Vec<RiskRejection> {
    let installations = &inv.installations;
    let mut out = Vec::new();
    for (i, entry) in inv.ingresses.iter().enumerate() {
        let Some(prefix) = nginx_prefix(installations, inv, entry) else {
            continue;
        };
        let object = &inv.objects[entry.object];
        for (key, _) in object.metadata().annotations.iter().flatten() {
            let Some(short) = key
                .strip_prefix(prefix.as_str())
                .and_then(|k| k.strip_prefix('/'))
            else {
                continue;
            };
            if let Some(risk) = annotation_risk(short).filter(|r| *r > level) {
                out.push(RiskRejection {
                    ingress: i,
                    key: key.clone(),
                    risk,
                });
            }
        }
    }
    out
}

/// A path that `strict-validate-path-type: "true"` (the default since v1.12.0) refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRejection {
    /// Index into [`Inventory::ingresses`].
    pub ingress: usize,
    /// Pointer to the path.
    pub pointer: String,
    /// The path.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Answers "what would break if strict path validation were turned on": every Exact or Prefix
/// path of an ingress-nginx Ingress outside `^/[A-Za-z0-9._-/]*$` (the pattern of CVE-2022-4886
/// in the CVE data).
#[must_use]
pub fn rejected_by_strict_paths(inv: &Inventory) -> Vec<PathRejection> {
    let installations = &inv.installations;
    let Some(pattern) = cves()
        .iter()
        .find(|c| c.id == "CVE-2022-4886")
        .and_then(|c| c.detect.pattern.as_ref())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, entry) in inv.ingresses.iter().enumerate() {
        if nginx_prefix(installations, inv, entry).is_none() {
            continue;
        }
        let (_, ing) = inv.ingress(entry);
        for (r, rule) in ing
            .spec
            .iter()
            .flat_map(|s| s.rules.iter().flatten())
            .enumerate()
        {
            for (p, path) in rule.http.iter().flat_map(|h| h.paths.iter()).enumerate() {
                if !matches!(path.path_type.as_str(), "Exact" | "Prefix") {
                    continue;
                }
                let value = path.path.as_deref().unwrap_or("/");
                if let Some(reason) = pattern.find(value) {
                    out.push(PathRejection {
                        ingress: i,
                        pointer: format!("/spec/rules/{r}/http/paths/{p}/path"),
                        path: value.to_owned(),
                        reason,
                    });
                }
            }
        }
    }
    out
}

/// The annotation prefix ingress-nginx reads on an Ingress: the serving installation's, or the
/// default one when the Ingress's controller is ingress-nginx or unknown. `None` when another
/// controller serves it.
#[must_use]
pub fn nginx_prefix(
    installations: &[Installation],
    inv: &Inventory,
    entry: &IngressEntry,
) -> Option<String> {
    if let Some(inst) = serving(installations, inv, entry) {
        return Some(inst.annotations_prefix.clone());
    }
    match entry.class.controller {
        Some(Controller::IngressNginx) | None => Some(DEFAULT_ANNOTATIONS_PREFIX.to_owned()),
        Some(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// CVE data

/// What part of the Ingress or the installation a CVE abuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AbuseKind {
    /// `*-snippet` annotations.
    Snippet,
    /// Paths (and hosts, TLS entries).
    Path,
    /// Other annotation values.
    Annotation,
    /// The validating admission webhook.
    AdmissionWebhook,
}

/// The abused field or annotations.
#[derive(Debug, Clone, Deserialize)]
pub struct Abuses {
    /// Which kind of input.
    pub kind: AbuseKind,
    /// Annotation names without prefix; `*` for any, `*-snippet` for every snippet.
    #[serde(default)]
    pub annotations: Vec<String>,
    /// Fields, as `spec.rules[].http.paths[].path`.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Path types the CVE is about, when it is limited to some.
    #[serde(default)]
    pub path_types: Vec<String>,
}

impl Abuses {
    /// Whether a value of annotation `short` (without prefix) is what this CVE abuses.
    #[must_use]
    pub fn annotation(&self, short: &str) -> bool {
        self.annotations.iter().any(|a| {
            a == "*"
                || a == short
                || a.strip_prefix('*')
                    .is_some_and(|suffix| short.ends_with(suffix))
        })
    }
}

/// An OSV `SEMVER` range event.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeEvent {
    /// Affected from this version on.
    Introduced(Version),
    /// Not affected from this version on.
    Fixed(Version),
    /// Affected up to and including this version.
    LastAffected(Version),
}

/// A character class of an allow-list pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CharClass {
    /// ASCII letters and digits.
    Alnum,
    /// ASCII letters.
    Alpha,
}

/// Characters a value may consist of.
#[derive(Debug, Clone, Deserialize)]
pub struct Allowed {
    /// Classes.
    pub classes: Vec<CharClass>,
    /// Further single characters.
    pub chars: String,
}

impl Allowed {
    fn admits(&self, c: char) -> bool {
        self.chars.contains(c)
            || self.classes.iter().any(|class| match class {
                CharClass::Alnum => c.is_ascii_alphanumeric(),
                CharClass::Alpha => c.is_ascii_alphabetic(),
            })
    }
}

/// A dangerous-value pattern, matched by hand (no regex engine): any rule that is given and
/// matches makes the value dangerous.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ValuePattern {
    /// Judge only the text after the first occurrence of this marker (`CN=`); a value without
    /// it is not judged.
    #[serde(default)]
    pub after: Option<String>,
    /// Forbidden characters.
    #[serde(default)]
    pub chars: Vec<char>,
    /// Forbidden substrings (ASCII case-insensitive).
    #[serde(default)]
    pub substrings: Vec<String>,
    /// With `substrings`: a match must end at the end of the value or before a character that
    /// cannot continue a path segment name (so `/etc` matches `/etc/passwd`, not `/etcetera`).
    #[serde(default)]
    pub segment_boundary: bool,
    /// nginx directives in statement form: the word (not inside another word), white space,
    /// and a `;` later on.
    #[serde(default)]
    pub directives: Vec<String>,
    /// The only characters the value may contain.
    #[serde(default)]
    pub allowed: Option<Allowed>,
    /// The prefix the value must start with.
    #[serde(default)]
    pub must_start_with: Option<String>,
}

impl ValuePattern {
    /// Describes the first dangerous part of `value`, or `None` when the value is clean.
    #[must_use]
    pub fn find(&self, value: &str) -> Option<String> {
        let value = match &self.after {
            Some(marker) => &value[value.find(marker.as_str())? + marker.len()..],
            None => value,
        };
        if let Some(prefix) = &self.must_start_with
            && !value.starts_with(prefix.as_str())
        {
            return Some(format!("does not start with `{prefix}`"));
        }
        if let Some(c) = value.chars().find(|c| self.chars.contains(c)) {
            return Some(format!("contains {}", describe_char(c)));
        }
        let lower = value.to_ascii_lowercase();
        for s in &self.substrings {
            let needle = s.to_ascii_lowercase();
            let hit = lower.match_indices(needle.as_str()).any(|(at, m)| {
                !self.segment_boundary
                    || lower[at + m.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            });
            if hit {
                return Some(format!("contains `{s}`"));
            }
        }
        for d in &self.directives {
            if has_directive(value, d) {
                return Some(format!("contains an `{d}` directive"));
            }
        }
        if let Some(allowed) = &self.allowed
            && let Some(c) = value.chars().find(|c| !allowed.admits(*c))
        {
            return Some(format!("contains {}", describe_char(c)));
        }
        None
    }
}

/// `word`, not preceded by a word character, followed by white space, with a `;` after it: the
/// shape of an nginx statement such as `alias /var/run/secrets/;`.
fn has_directive(value: &str, word: &str) -> bool {
    value.match_indices(word).any(|(at, _)| {
        let before_ok = value[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        let rest = &value[at + word.len()..];
        before_ok && rest.starts_with(|c: char| c.is_whitespace()) && rest.contains(';')
    })
}

/// A character as messages show it: white space and control characters by name, others quoted.
#[must_use]
pub fn describe_char(c: char) -> String {
    match c {
        '\n' => "a newline".into(),
        '\r' => "a carriage return".into(),
        '\t' => "a tab".into(),
        ' ' => "a space".into(),
        c if c.is_control() => format!("control character U+{:04X}", c as u32),
        c => format!("`{c}`"),
    }
}

/// How Tollgate recognises a CVE's payload.
#[derive(Debug, Clone, Deserialize)]
pub struct Detect {
    /// The rule that reports the payload; `None` when only the version can be judged.
    pub rule: Option<String>,
    /// The dangerous-value pattern, when there is one.
    #[serde(default)]
    pub pattern: Option<ValuePattern>,
}

/// One ingress-nginx CVE.
#[derive(Debug, Clone, Deserialize)]
pub struct Cve {
    /// `CVE-YYYY-N`.
    pub id: String,
    /// One line.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// CVSS base score, when published.
    pub cvss: Option<f64>,
    /// CVSS vector, when published.
    pub cvss_vector: Option<String>,
    /// What the attacker does.
    pub summary: String,
    /// What is abused.
    pub abuses: Abuses,
    /// OSV range events, in order.
    pub affected: Vec<RangeEvent>,
    /// Fixed releases.
    pub fixed: Vec<Version>,
    /// How to recognise the payload.
    pub detect: Detect,
    /// The advisory URL.
    pub advisory: String,
    /// Where each fact comes from.
    pub source: BTreeMap<String, String>,
}

impl Cve {
    /// Whether `version` is affected, by OSV semantics over ordered events. A pre-release also
    /// counts as affected when its release is: advisories list releases, and a `1.12.0-beta.0`
    /// carries the code of the `1.12.0` they call vulnerable.
    #[must_use]
    pub fn affects(&self, version: &Version) -> bool {
        let release = Version {
            pre: None,
            ..version.clone()
        };
        self.affects_exactly(version) || (version.pre.is_some() && self.affects_exactly(&release))
    }

    fn affects_exactly(&self, version: &Version) -> bool {
        let mut affected = false;
        for event in &self.affected {
            match event {
                RangeEvent::Introduced(v) if version >= v => affected = true,
                RangeEvent::Fixed(v) if version >= v => affected = false,
                RangeEvent::LastAffected(v) if version > v => affected = false,
                _ => {}
            }
        }
        affected
    }

    /// The first fixed release after `version`.
    #[must_use]
    pub fn fixed_after(&self, version: &Version) -> Option<&Version> {
        self.fixed.iter().filter(|f| *f > version).min()
    }
}

#[derive(Debug, Deserialize)]
struct CveFile {
    cves: Vec<Cve>,
}

const CVES_JSON: &str = include_str!("../data/ingress-nginx-cves.json");

/// Every ingress-nginx CVE of `data/ingress-nginx-cves.json`, in the file's order.
#[must_use]
pub fn cves() -> &'static [Cve] {
    static FILE: OnceLock<CveFile> = OnceLock::new();
    &FILE
        .get_or_init(|| {
            serde_json::from_str(CVES_JSON)
                .expect("data/ingress-nginx-cves.json is validated by a unit test")
        })
        .cves
}

/// The CVEs whose payload `rule` reports.
pub fn cves_for_rule(rule: &str) -> impl Iterator<Item = &'static Cve> + use<'_> {
    cves()
        .iter()
        .filter(move |c| c.detect.rule.as_deref() == Some(rule))
}

/// The CVEs that affect `version`, in the file's order.
#[must_use]
pub fn cves_affecting(version: &Version) -> Vec<&'static Cve> {
    cves().iter().filter(|c| c.affects(version)).collect()
}

// ---------------------------------------------------------------------------------------------
// End of life, removed annotations

/// A controller that is no longer maintained.
#[derive(Debug, Clone, Deserialize)]
pub struct EndOfLife {
    /// Controller name.
    pub controller: String,
    /// Its IngressClass `spec.controller`.
    pub controller_class: String,
    /// `retired`.
    pub status: String,
    /// `YYYY-MM`.
    pub end_of_maintenance: String,
    /// What happened.
    pub summary: String,
    /// The last releases of each maintained line.
    pub last_releases: Vec<Version>,
    /// Where to go.
    pub migrate_to: String,
    /// Announcements.
    pub references: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct EolFile {
    controllers: Vec<EndOfLife>,
}

const EOL_JSON: &str = include_str!("../data/controller-eol.json");

/// The end-of-life record of a controller by name (`ingress-nginx`).
#[must_use]
pub fn end_of_life(controller: &str) -> Option<&'static EndOfLife> {
    static FILE: OnceLock<EolFile> = OnceLock::new();
    FILE.get_or_init(|| {
        serde_json::from_str(EOL_JSON)
            .expect("data/controller-eol.json is validated by a unit test")
    })
    .controllers
    .iter()
    .find(|c| c.controller == controller)
}

/// An annotation ingress-nginx no longer honours.
#[derive(Debug, Clone, Deserialize)]
pub struct RemovedAnnotation {
    /// Name without prefix.
    pub annotation: String,
    /// The release that removed it, when known.
    pub removed_in: Option<Version>,
    /// The control the author expects.
    pub control: String,
    /// What to use instead.
    pub replacement: String,
    /// Where the fact comes from.
    pub source: String,
}

#[derive(Debug, Deserialize)]
struct RemovedFile {
    annotations: Vec<RemovedAnnotation>,
}

const REMOVED_JSON: &str = include_str!("../data/ingress-nginx-removed-annotations.json");

/// Annotations ingress-nginx no longer honours.
#[must_use]
pub fn removed_annotations() -> &'static [RemovedAnnotation] {
    static FILE: OnceLock<RemovedFile> = OnceLock::new();
    &FILE
        .get_or_init(|| {
            serde_json::from_str(REMOVED_JSON)
                .expect("data/ingress-nginx-removed-annotations.json is validated by a unit test")
        })
        .annotations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifests;

    fn inventory(text: &str) -> Inventory {
        let mut m = Manifests::default();
        m.add_text("t.yaml", text.to_owned());
        assert!(m.errors.is_empty(), "{:?}", m.errors);
        Inventory::build(m.objects, m.sources, None)
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    const CONTROLLER: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
spec:
  selector: {matchLabels: {app: ingress-nginx}}
  template:
    metadata: {labels: {app: ingress-nginx, component: controller}}
    spec:
      containers:
        - name: controller
          image: registry.k8s.io/ingress-nginx/controller:v1.11.3@sha256:d56f135b6462cfc476447cfe564b83a45e8bb7da2774963b00d12161112270b7
          args:
            - /nginx-ingress-controller
            - --controller-class=k8s.io/ingress-nginx
            - --ingress-class=nginx
            - --configmap=$(POD_NAMESPACE)/nginx-settings
            - --validating-webhook=:8443
          env:
            - name: POD_NAMESPACE
              valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
          ports:
            - {name: http, containerPort: 80}
            - {name: webhook, containerPort: 8443}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: nginx-settings, namespace: ingress-nginx}
data: {allow-snippet-annotations: \"true\", annotations-risk-level: medium}
---
apiVersion: v1
kind: Service
metadata: {name: ingress-nginx-controller-admission, namespace: ingress-nginx}
spec:
  selector: {app: ingress-nginx}
  ports: [{name: https-webhook, port: 443, targetPort: webhook}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: ingress-nginx-admission}
webhooks:
  - name: validate.nginx.ingress.kubernetes.io
    sideEffects: None
    admissionReviewVersions: [v1]
    clientConfig:
      service: {name: ingress-nginx-controller-admission, namespace: ingress-nginx, port: 443}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec: {ingressClassName: nginx}
";

    #[test]
    fn versions_parse_from_tags_and_order_pre_releases_first() {
        assert_eq!(v("v1.11.3"), v("1.11.3"));
        assert_eq!(v("0"), v("0.0.0"));
        assert!(v("1.12.0-beta.0") < v("1.12.0"));
        assert!(v("1.12.0-beta.2") < v("1.12.0-beta.10"));
        assert!(v("1.9.6") < v("1.10.0"));
        assert_eq!(v("v1.11.3+build.7"), v("1.11.3"));
        assert_eq!(v("1.12.0-beta.0").to_string(), "v1.12.0-beta.0");
        for bad in ["", "latest", "v1.x", "1.2.3.4", "1.2-", "1..2"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn controller_images_are_recognised_under_any_registry_and_others_are_not() {
        let cases = [
            (
                "registry.k8s.io/ingress-nginx/controller:v1.11.3",
                Some("v1.11.3"),
            ),
            ("k8s.gcr.io/ingress-nginx/controller:v1.0.0", Some("v1.0.0")),
            (
                "registry.k8s.io/ingress-nginx/controller:v1.11.3@sha256:abcd",
                Some("v1.11.3"),
            ),
            (
                "registry.k8s.io/ingress-nginx/controller@sha256:abcd",
                Some(""),
            ),
            (
                "mirror.example.com:5000/k8s/ingress-nginx/controller:v1.12.1",
                Some("v1.12.1"),
            ),
            (
                "registry.k8s.io/ingress-nginx/controller-chroot:v1.12.0",
                Some("v1.12.0"),
            ),
            (
                "quay.io/kubernetes-ingress-controller/nginx-ingress-controller:0.49.0",
                Some("0.49.0"),
            ),
            ("ingress-nginx/controller:v1.9.0", Some("v1.9.0")),
            ("nginx/nginx-ingress:3.4.0", None),
            (
                "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.4.4",
                None,
            ),
            ("example.com/my-ingress-nginx/controller:v1", None),
            ("registry.k8s.io/ingress-nginx/controller2:v1.11.3", None),
        ];
        for (image, tag) in cases {
            assert_eq!(controller_image_tag(image), tag, "{image}");
        }
    }

    #[test]
    fn an_installation_has_its_version_class_configmap_and_webhook() {
        let inv = inventory(CONTROLLER);
        let found = discover(&inv);
        assert_eq!(found.len(), 1);
        let inst = &found[0];
        assert_eq!(inst.version, Some(v("1.11.3")));
        assert_eq!(inst.version_source, Some(VersionSource::ImageTag));
        assert_eq!(inst.controller_class, "k8s.io/ingress-nginx");
        assert_eq!(inst.ingress_class.as_deref(), Some("nginx"));
        assert_eq!(inst.annotations_prefix, "nginx.ingress.kubernetes.io");
        assert_eq!(inst.configmap.namespace, "ingress-nginx");
        assert_eq!(inst.configmap.name, "nginx-settings");
        assert!(inst.configmap.from_flag);
        assert_eq!(
            inst.setting(&inv, "allow-snippet-annotations"),
            Some("true")
        );
        assert_eq!(inst.risk_level(&inv), (Risk::Medium, true));
        let hook = inst.webhook.as_ref().expect("a webhook");
        assert_eq!(inst.object(&inv).name, "ingress-nginx-controller");
        assert_eq!(
            inv.objects[hook.configuration].name,
            "ingress-nginx-admission"
        );
        assert_eq!(hook.service_port, 443);
        assert_eq!(hook.container_port, Some(8443));
        assert_eq!(hook.port_name.as_deref(), Some("webhook"));
        assert_eq!(
            inst.image_pointer(),
            "/spec/template/spec/containers/0/image"
        );
    }

    #[test]
    fn an_ingress_is_matched_to_the_installation_serving_its_class() {
        let inv = inventory(CONTROLLER);
        let found = discover(&inv);
        let served = serving(&found, &inv, &inv.ingresses[0]);
        assert_eq!(served.map(|i| i.workload), Some(found[0].workload));
        let other = inventory(&CONTROLLER.replace(
            "spec: {controller: k8s.io/ingress-nginx}",
            "spec: {controller: example.com/other}",
        ));
        let found = discover(&other);
        assert!(serving(&found, &other, &other.ingresses[0]).is_none());
    }

    #[test]
    fn without_flags_the_defaults_apply_and_the_webhook_port_comes_from_the_flag() {
        let text = "\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ctl, namespace: edge}
spec:
  selector: {matchLabels: {app: ctl}}
  template:
    metadata: {labels: {app: ctl, app.kubernetes.io/version: 1.12.1}}
    spec:
      containers:
        - name: controller
          image: registry.k8s.io/ingress-nginx/controller@sha256:abcd
          args: [--validating-webhook=:8443]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: hook}
webhooks:
  - name: validate.nginx.ingress.kubernetes.io
    sideEffects: None
    admissionReviewVersions: [v1]
    clientConfig: {service: {name: ctl-admission, namespace: edge}}
";
        let inv = inventory(text);
        let inst = &discover(&inv)[0];
        assert_eq!(inst.version, Some(v("1.12.1")));
        assert_eq!(inst.version_source, Some(VersionSource::Label));
        assert_eq!(inst.controller_class, DEFAULT_CONTROLLER_CLASS);
        assert_eq!(inst.configmap.name, CONVENTIONAL_CONFIGMAP);
        assert_eq!(inst.configmap.namespace, "edge");
        assert!(!inst.configmap.from_flag && inst.configmap.object.is_none());
        assert_eq!(inst.risk_level(&inv), (Risk::High, false));
        let hook = inst.webhook.as_ref().unwrap();
        assert_eq!((hook.service_port, hook.container_port), (443, Some(8443)));
        assert!(hook.service.is_none());
    }

    #[test]
    fn a_webhook_service_selecting_other_pods_is_not_this_installations() {
        let text = CONTROLLER.replace(
            "  selector: {app: ingress-nginx}\n  ports: [{name: https-webhook",
            "  selector: {app: something-else}\n  ports: [{name: https-webhook",
        );
        let inv = inventory(&text);
        assert!(discover(&inv)[0].webhook.is_none());
    }

    #[test]
    fn flags_accept_separate_values_and_bare_booleans() {
        let container: Container = serde_json::from_value(serde_json::json!({
            "name": "c",
            "args": ["--configmap", "a/b", "--watch-ingress-without-class", "-ingress-class=x",
                     "--annotations-prefix=$(UNSET)/y"]
        }))
        .unwrap();
        let flags = Flags::of(&container, "ns");
        assert_eq!(flags.value("configmap"), Some("a/b"));
        assert!(flags.boolean("watch-ingress-without-class"));
        assert_eq!(flags.value("ingress-class"), Some("x"));
        assert_eq!(flags.value("annotations-prefix"), Some("$(UNSET)/y"));
        assert_eq!(flags.value("validating-webhook"), None);
    }

    #[test]
    fn the_cve_data_is_complete_consistent_and_sourced() {
        let all = cves();
        assert!(all.len() >= 19, "{}", all.len());
        let rules = [
            "snippet-annotation",
            "annotation-injection",
            "sensitive-path",
            "unsafe-path-characters",
            "admission-webhook-exposed",
        ];
        let mut ids = std::collections::BTreeSet::new();
        for c in all {
            assert!(ids.insert(c.id.as_str()), "duplicate {}", c.id);
            assert!(c.id.starts_with("CVE-20"), "{}", c.id);
            assert!(c.advisory.starts_with("https://"), "{}", c.id);
            assert!(
                c.source.contains_key("ranges"),
                "{} names no source for its ranges",
                c.id
            );
            assert!(
                c.source.contains_key("severity"),
                "{} names no severity source",
                c.id
            );
            assert!(!c.summary.is_empty() && !c.title.is_empty());
            if let Some(score) = c.cvss {
                assert!((0.0..=10.0).contains(&score), "{}", c.id);
                assert!(
                    c.cvss_vector
                        .as_deref()
                        .is_some_and(|v| v.starts_with("CVSS:3.1/"))
                );
            }
            // Ranges start at an introduction and alternate, in increasing order.
            assert!(
                matches!(c.affected.first(), Some(RangeEvent::Introduced(_))),
                "{}",
                c.id
            );
            let versions: Vec<&Version> = c
                .affected
                .iter()
                .map(|e| match e {
                    RangeEvent::Introduced(v)
                    | RangeEvent::Fixed(v)
                    | RangeEvent::LastAffected(v) => v,
                })
                .collect();
            assert!(
                versions.windows(2).all(|w| w[0] <= w[1]),
                "{} ranges out of order",
                c.id
            );
            for e in &c.affected {
                if let RangeEvent::Fixed(f) = e {
                    assert!(
                        c.fixed.contains(f),
                        "{}: fixed event {f} not in `fixed`",
                        c.id
                    );
                    assert!(!c.affects(f), "{} affects its own fix {f}", c.id);
                }
            }
            assert!(!c.fixed.is_empty(), "{}", c.id);
            match (&c.detect.rule, &c.detect.pattern) {
                (Some(rule), _) => assert!(rules.contains(&rule.as_str()), "{}: {rule}", c.id),
                (None, Some(_)) => panic!("{} has a pattern but no rule", c.id),
                (None, None) => {}
            }
            if matches!(c.detect.rule.as_deref(), Some("annotation-injection")) {
                assert!(c.detect.pattern.is_some(), "{} needs a pattern", c.id);
                assert!(!c.abuses.annotations.is_empty(), "{}", c.id);
            }
        }
        for id in [
            "CVE-2021-25746",
            "CVE-2023-5044",
            "CVE-2025-24514",
            "CVE-2025-1097",
            "CVE-2025-1098",
            "CVE-2025-15566",
            "CVE-2026-1580",
            "CVE-2026-3288",
        ] {
            let c = all.iter().find(|c| c.id == id).unwrap();
            assert_eq!(
                c.detect.rule.as_deref(),
                Some("annotation-injection"),
                "{id}"
            );
        }
    }

    #[test]
    fn every_cve_has_failing_fixtures_naming_it() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
        let read = |rule: &str| {
            std::fs::read_to_string(dir.join(format!("{rule}.yaml")))
                .unwrap_or_else(|e| panic!("{rule}.yaml: {e}"))
        };
        // Every CVE: an installation inside its range, and one at its fix.
        let versions = read("controller-vulnerable-version");
        // A payload rule's fixture names each CVE it detects beside its failing and passing cases
        // (snippet-annotation's fixture belongs to that rule and is not checked here).
        for c in cves() {
            assert!(
                versions.contains(&c.id),
                "controller-vulnerable-version.yaml lacks {}",
                c.id
            );
            if let Some(rule) = c
                .detect
                .rule
                .as_deref()
                .filter(|r| *r != "snippet-annotation")
            {
                let text = read(rule);
                assert!(text.contains(&c.id), "{rule}.yaml has no case for {}", c.id);
                assert!(text.contains(&format!("# expect: {rule}")), "{rule}.yaml");
            }
        }
    }

    #[test]
    fn osv_ranges_decide_affected_versions() {
        let by_id = |id: &str| cves().iter().find(|c| c.id == id).unwrap();
        let nightmare = by_id("CVE-2025-1974");
        for affected in ["0.49.3", "1.11.0", "1.11.4", "1.12.0", "1.12.0-beta.0"] {
            assert!(nightmare.affects(&v(affected)), "{affected}");
        }
        for fixed in ["1.11.5", "1.12.1", "1.13.0"] {
            assert!(!nightmare.affects(&v(fixed)), "{fixed}");
        }
        assert_eq!(nightmare.fixed_after(&v("1.11.3")), Some(&v("1.11.5")));
        assert_eq!(nightmare.fixed_after(&v("1.12.0")), Some(&v("1.12.1")));
        let snippets = by_id("CVE-2021-25742");
        assert!(snippets.affects(&v("0.49.0")) && snippets.affects(&v("1.0.0")));
        assert!(!snippets.affects(&v("0.49.1")) && !snippets.affects(&v("1.0.1")));
        let rewrite = by_id("CVE-2026-3288");
        assert!(rewrite.affects(&v("1.14.3")) && !rewrite.affects(&v("1.15.0")));
        assert_eq!(
            cves_affecting(&v("1.15.1")).len(),
            0,
            "the last release fixes everything in the data"
        );
    }

    #[test]
    fn value_patterns_match_the_payloads_and_not_their_look_alikes() {
        let pattern = |id: &str| {
            cves()
                .iter()
                .find(|c| c.id == id)
                .and_then(|c| c.detect.pattern.clone())
                .unwrap()
        };
        let url = pattern("CVE-2025-24514");
        assert!(
            url.find("http://x/#;\n}\n}\nload_module /tmp/x.so;")
                .is_some()
        );
        assert_eq!(
            url.find("http://oauth2-proxy.auth.svc/oauth2/auth?rd=$escaped_request_uri"),
            None
        );
        let cn = pattern("CVE-2025-1097");
        assert!(cn.find("CN=abc #(\n){}\n }}\nssl_engine x;#").is_some());
        assert_eq!(cn.find("CN=(option1|option2|myvalidclient)"), None);
        assert_eq!(cn.find("O=no marker; here"), None, "judged only after CN=");
        let anything = pattern("CVE-2021-25746");
        assert!(anything.find("alias /var/run/secrets/;").is_some());
        assert!(anything.find("root /etc/;").is_some());
        assert!(anything.find("content_by_lua_block { }").is_some());
        assert_eq!(anything.find("X-Root-Header: yes;"), None);
        assert_eq!(anything.find("https://example.com/aliases/root"), None);
        let method = pattern("CVE-2026-1580");
        assert_eq!(method.find("GET"), None);
        assert!(method.find("GET;\n}").is_some());
        let sensitive = pattern("CVE-2021-25745");
        assert!(sensitive.find("/etc/passwd").is_some());
        assert!(
            sensitive
                .find("/var/run/secrets/kubernetes.io/serviceaccount/token")
                .is_some()
        );
        assert!(sensitive.find("/root").is_some());
        assert_eq!(sensitive.find("/etcetera"), None);
        assert_eq!(sensitive.find("/rootkit-info"), None);
        let strict = pattern("CVE-2022-4886");
        assert_eq!(strict.find("/api/v1.2/items_-x"), None);
        assert_eq!(
            strict.find("/api(/|$)(.*)").as_deref(),
            Some("contains `(`")
        );
        assert_eq!(
            strict.find("api").as_deref(),
            Some("does not start with `/`")
        );
        assert_eq!(describe_char('\n'), "a newline");
    }

    #[test]
    fn the_risk_table_is_complete_and_defaults_follow_the_version() {
        let table = risk_table();
        assert_eq!(table.len(), 135);
        let count = |r: Risk| table.iter().filter(|a| a.risk == r).count();
        assert_eq!(
            (
                count(Risk::Critical),
                count(Risk::High),
                count(Risk::Medium),
                count(Risk::Low)
            ),
            (5, 10, 45, 75)
        );
        let named_in_research = [
            "auth-snippet",
            "configuration-snippet",
            "modsecurity-snippet",
            "server-snippet",
            "stream-snippet",
            "auth-signin",
            "auth-tls-error-page",
            "auth-tls-match-cn",
            "auth-url",
            "mirror-host",
            "mirror-target",
            "modsecurity-transaction-id",
            "proxy-ssl-name",
            "server-alias",
            "upstream-hash-by",
            "allowlist-source-range",
            "denylist-source-range",
            "auth-realm",
            "auth-secret",
            "auth-tls-secret",
            "auth-tls-verify-client",
            "auth-proxy-set-headers",
            "auth-response-headers",
            "cors-allow-origin",
            "cors-allow-methods",
            "cors-allow-headers",
            "cors-expose-headers",
            "force-ssl-redirect",
            "permanent-redirect",
            "temporal-redirect",
            "rewrite-target",
            "custom-headers",
            "proxy-ssl-secret",
            "proxy-ssl-ciphers",
            "auth-type",
            "auth-method",
            "enable-cors",
            "cors-allow-credentials",
            "enable-modsecurity",
            "enable-owasp-core-rules",
            "limit-rps",
            "limit-rpm",
            "limit-connections",
            "satisfy",
            "ssl-redirect",
            "ssl-passthrough",
            "backend-protocol",
            "proxy-ssl-verify",
            "use-regex",
            "canary",
        ];
        for name in named_in_research {
            let row = table.iter().find(|a| a.annotation == name);
            assert!(row.is_some_and(|r| r.in_research), "{name}");
        }
        assert_eq!(
            annotation_risk("configuration-snippet"),
            Some(Risk::Critical)
        );
        assert_eq!(annotation_risk("auth-url"), Some(Risk::High));
        assert_eq!(annotation_risk("whitelist-source-range"), None);
        assert_eq!(default_risk_level(Some(&v("1.11.3"))), Risk::Critical);
        assert_eq!(default_risk_level(Some(&v("1.12.0"))), Risk::High);
        assert_eq!(default_risk_level(None), Risk::High);
        assert_eq!(Risk::parse(" critical "), Some(Risk::Critical));
    }

    #[test]
    fn end_of_life_and_removed_annotations_are_sourced() {
        let eol = end_of_life("ingress-nginx").unwrap();
        assert_eq!(eol.controller_class, DEFAULT_CONTROLLER_CLASS);
        assert_eq!(eol.end_of_maintenance, "2026-03");
        assert!(eol.references.iter().any(|r| r.contains("ingress-nginx")));
        assert!(eol.migrate_to.contains("Gateway API"));
        let removed = removed_annotations();
        assert!(
            removed
                .iter()
                .any(|r| r.annotation == "global-rate-limit" && r.removed_in == Some(v("1.12.0")))
        );
        assert!(removed.iter().all(|r| !r.source.is_empty()));
    }

    #[test]
    fn reports_say_what_a_stricter_level_or_path_validation_would_refuse() {
        let text = format!(
            "{CONTROLLER}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: api
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/auth-url: http://auth.svc/check
    nginx.ingress.kubernetes.io/rewrite-target: /$2
spec:
  ingressClassName: nginx
  rules:
    - http:
        paths:
          - {{path: '/api(/|$)(.*)', pathType: Prefix, backend: {{service: {{name: api, port: {{number: 80}}}}}}}}
          - {{path: /static, pathType: Prefix, backend: {{service: {{name: api, port: {{number: 80}}}}}}}}
"
        );
        let inv = inventory(&text);
        let at_medium = rejected_at_level(&inv, Risk::Medium);
        assert_eq!(at_medium.len(), 1);
        assert_eq!(at_medium[0].key, "nginx.ingress.kubernetes.io/auth-url");
        assert_eq!(at_medium[0].risk, Risk::High);
        assert_eq!(rejected_at_level(&inv, Risk::Low).len(), 2);
        assert!(rejected_at_level(&inv, Risk::Critical).is_empty());
        let paths = rejected_by_strict_paths(&inv);
        assert_eq!(paths.len(), 1);
        assert_eq!(paths[0].pointer, "/spec/rules/0/http/paths/0/path");
    }
}
