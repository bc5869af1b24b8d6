//! `tollgate migrate --to gateway-api`: what each ingress-nginx Ingress becomes under the Gateway
//! API, and which of its annotations have no equivalent.
//!
//! ingress-nginx was retired in March 2026, so every estate that runs it has to move to a Gateway
//! API implementation. [`plan`] translates the ingress-nginx Ingresses of an inventory the way
//! kubernetes-sigs/ingress2gateway does (one Gateway per namespace and class, one route per
//! Ingress and host), with the ingress-nginx defaults that Gateway API does not share made
//! explicit (the HTTPS redirect of hosts with TLS). Annotations with a direct standard
//! translation become filters and matches; with `--implementation envoy-gateway` the access
//! controls become Envoy Gateway `SecurityPolicy` and `BackendTrafficPolicy` objects; everything
//! else is listed, never guessed. What each annotation becomes is data
//! (`data/ingress-nginx-gateway-api.json`), with its sources named.
//!
//! Two choices keep the translation safe to apply: an authentication that cannot be translated
//! leaves the route denied (a `SecurityPolicy` whose authorization denies every request) rather
//! than open, and a CORS policy never lets every origin send credentials.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use k8s_openapi::api::networking::v1::{HTTPIngressPath, Ingress, IngressBackend};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::controller::Controller;
use crate::gateway::{
    BackendRef, Gateway, GatewayRoute, GatewaySpec, GrantFrom, GrantTo, Listener, ListenerTls,
    ObjectReference, ParentReference, PathMatch, ReferenceGrant, ReferenceGrantSpec,
    RequestRedirect, RouteFilter, RouteMatch, RouteRule, RouteSpec,
};
use crate::inventory::{Inventory, PortRef, find_service_port, go_bool, host_matches};
use crate::object::{Kind, Resource};

/// The prefix of every ingress-nginx annotation.
pub const NGINX_PREFIX: &str = "nginx.ingress.kubernetes.io/";

/// The API group of Envoy Gateway's policies.
pub const ENVOY_GATEWAY_GROUP: &str = "gateway.envoyproxy.io";

/// The GatewayClass of Envoy Gateway's quickstart, the default of `--gateway-class`.
pub const DEFAULT_GATEWAY_CLASS: &str = "eg";

/// The most listeners a Gateway may have (`spec.listeners` `maxItems`).
const MAX_LISTENERS: usize = 64;

/// How much of an annotation the Gateway API covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Support {
    /// A Gateway API field or filter.
    Standard,
    /// Needs an implementation's policy.
    Implementation,
    /// No equivalent.
    None,
    /// Gateway API implementations behave this way already, or ingress-nginx no longer reads it.
    Default,
}

impl Support {
    /// The name as the data file and the reports spell it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Support::Standard => "standard",
            Support::Implementation => "implementation",
            Support::None => "none",
            Support::Default => "default",
        }
    }
}

/// One annotation of `data/ingress-nginx-gateway-api.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct AnnotationMapping {
    /// The annotation without the `nginx.ingress.kubernetes.io/` prefix.
    pub annotation: String,
    /// How much of it the Gateway API covers.
    pub support: Support,
    /// What it becomes (or what to do instead).
    pub equivalent: String,
    /// What differs, or what to check.
    #[serde(default)]
    pub note: Option<String>,
    /// The annotation it is an older name of.
    #[serde(default)]
    pub alias_of: Option<String>,
    /// Whether ingress-nginx no longer reads it.
    #[serde(default)]
    pub removed: bool,
}

#[derive(Debug, Deserialize)]
struct MappingFile {
    annotations: Vec<AnnotationMapping>,
}

const MAPPING_JSON: &str = include_str!("../data/ingress-nginx-gateway-api.json");

/// Every entry of the mapping data, in the file's order.
#[must_use]
pub fn mappings() -> &'static [AnnotationMapping] {
    static FILE: OnceLock<MappingFile> = OnceLock::new();
    &FILE
        .get_or_init(|| {
            serde_json::from_str(MAPPING_JSON)
                .expect("data/ingress-nginx-gateway-api.json is validated by a unit test")
        })
        .annotations
}

/// The mapping of one annotation (short name), when the data has it.
#[must_use]
pub fn mapping(short: &str) -> Option<&'static AnnotationMapping> {
    static INDEX: OnceLock<HashMap<&'static str, &'static AnnotationMapping>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            mappings()
                .iter()
                .map(|m| (m.annotation.as_str(), m))
                .collect()
        })
        .get(short)
        .copied()
}

/// Which implementation's policies to write besides the standard objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implementation {
    /// Envoy Gateway: `SecurityPolicy` and `BackendTrafficPolicy`.
    EnvoyGateway,
    /// Standard Gateway API objects only.
    None,
}

/// How to translate.
#[derive(Debug, Clone)]
pub struct MigrateOptions {
    /// `spec.gatewayClassName` of every Gateway written.
    pub gateway_class: String,
    /// Which implementation's policies to write.
    pub implementation: Implementation,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            gateway_class: DEFAULT_GATEWAY_CLASS.to_owned(),
            implementation: Implementation::EnvoyGateway,
        }
    }
}

/// What became of one annotation on one Ingress. The order is from best to worst, so that the
/// outcome over several Ingresses is the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Carried by the standard objects (or nothing to carry).
    Translated,
    /// Carried by an implementation policy that was written.
    Policy,
    /// Listed, not translated: someone has to act.
    Manual,
}

impl Outcome {
    /// The name the reports use.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Translated => "translated",
            Outcome::Policy => "policy",
            Outcome::Manual => "manual",
        }
    }
}

/// The body of a translated object.
#[derive(Debug, Clone)]
pub enum ObjectBody {
    /// A Gateway.
    Gateway(Box<Gateway>),
    /// An HTTPRoute, GRPCRoute or TLSRoute.
    Route(Box<GatewayRoute>),
    /// A ReferenceGrant.
    ReferenceGrant(Box<ReferenceGrant>),
    /// An implementation policy's `spec`.
    Policy(Map<String, Value>),
}

/// One object of the translation.
#[derive(Debug, Clone)]
pub struct TranslatedObject {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The object.
    pub body: ObjectBody,
}

impl TranslatedObject {
    /// `Kind namespace/name`, as the reports list objects.
    #[must_use]
    pub fn reference(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }

    /// The route, when this is one.
    #[must_use]
    pub fn route(&self) -> Option<&GatewayRoute> {
        match &self.body {
            ObjectBody::Route(r) => Some(r),
            _ => None,
        }
    }

    /// The Gateway, when this is one.
    #[must_use]
    pub fn gateway(&self) -> Option<&Gateway> {
        match &self.body {
            ObjectBody::Gateway(g) => Some(g),
            _ => None,
        }
    }

    /// The policy's `spec`, when this is an implementation policy.
    #[must_use]
    pub fn policy_spec(&self) -> Option<&Map<String, Value>> {
        match &self.body {
            ObjectBody::Policy(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is a Gateway API route.
    #[must_use]
    pub fn is_route(&self) -> bool {
        matches!(self.body, ObjectBody::Route(_))
    }

    /// The object as a Kubernetes manifest, `apiVersion` and `kind` first.
    #[must_use]
    pub fn to_value(&self) -> Value {
        let body = match &self.body {
            ObjectBody::Gateway(g) => serde_json::to_value(g),
            ObjectBody::Route(r) => serde_json::to_value(r),
            ObjectBody::ReferenceGrant(g) => serde_json::to_value(g),
            ObjectBody::Policy(spec) => Ok(json!({
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": spec,
            })),
        }
        .unwrap_or(Value::Null);
        let mut out = Map::new();
        out.insert("apiVersion".into(), Value::String(self.api_version.clone()));
        out.insert("kind".into(), Value::String(self.kind.clone()));
        if let Value::Object(fields) = body {
            out.extend(fields);
        }
        Value::Object(out)
    }

    /// Orders objects the way the YAML stream lists them: Gateways, routes, grants, policies.
    fn sort_key(&self) -> (u8, &str, &str, &str) {
        let rank = match self.kind.as_str() {
            "Gateway" => 0,
            "HTTPRoute" => 1,
            "GRPCRoute" => 2,
            "TLSRoute" => 3,
            "ReferenceGrant" => 4,
            "SecurityPolicy" => 5,
            _ => 6,
        };
        (rank, &self.namespace, &self.kind, &self.name)
    }
}

/// One annotation on one Ingress and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnnotationOutcome {
    /// The full annotation name.
    pub annotation: String,
    /// What became of it.
    pub outcome: Outcome,
}

/// What one ingress-nginx Ingress becomes.
#[derive(Debug, Clone)]
pub struct IngressPlan {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its IngressClass.
    pub class: Option<String>,
    /// Whether it is a canary (merged into its main Ingress's routes).
    pub canary: bool,
    /// The objects it becomes (or, for a canary, the routes it joins), `Kind namespace/name`.
    pub objects: Vec<String>,
    /// Its ingress-nginx annotations, in name order.
    pub annotations: Vec<AnnotationOutcome>,
    /// What to check or do by hand.
    pub warnings: Vec<String>,
}

/// An Ingress that another controller serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedIngress {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its controller, or `unknown`.
    pub controller: String,
}

/// One annotation over every Ingress that uses it.
#[derive(Debug, Clone)]
pub struct AnnotationUse {
    /// The full annotation name.
    pub annotation: String,
    /// What the mapping data says; `None` for an annotation ingress-nginx does not know.
    pub mapping: Option<&'static AnnotationMapping>,
    /// The worst outcome over the Ingresses.
    pub outcome: Outcome,
    /// The Ingresses using it, `namespace/name`, sorted.
    pub affected: Vec<String>,
}

impl AnnotationUse {
    /// The support level, `None` when the annotation is unknown.
    #[must_use]
    pub fn support(&self) -> Option<Support> {
        self.mapping.map(|m| m.support)
    }
}

/// The whole translation of an inventory.
#[derive(Debug, Clone)]
pub struct MigrationPlan {
    /// The options it was made with.
    pub options: MigrateOptions,
    /// Every Ingress in the inventory.
    pub ingresses_total: usize,
    /// The translated objects, Gateways first, in a stable order.
    pub objects: Vec<TranslatedObject>,
    /// The ingress-nginx Ingresses, by namespace and name.
    pub ingresses: Vec<IngressPlan>,
    /// Ingresses of other controllers, by namespace and name.
    pub skipped: Vec<SkippedIngress>,
    /// Every ingress-nginx annotation in use, by name.
    pub annotations: Vec<AnnotationUse>,
    /// What concerns a Gateway rather than one Ingress.
    pub warnings: Vec<String>,
}

impl MigrationPlan {
    /// Routes written (HTTPRoutes, GRPCRoutes and TLSRoutes, redirects included).
    #[must_use]
    pub fn route_count(&self) -> usize {
        self.objects.iter().filter(|o| o.is_route()).count()
    }

    /// Gateways written.
    #[must_use]
    pub fn gateway_count(&self) -> usize {
        self.objects
            .iter()
            .filter(|o| o.gateway().is_some())
            .count()
    }

    /// An object by kind, namespace and name.
    #[must_use]
    pub fn object(&self, kind: &str, namespace: &str, name: &str) -> Option<&TranslatedObject> {
        self.objects
            .iter()
            .find(|o| o.kind == kind && o.namespace == namespace && o.name == name)
    }

    /// The plan of one Ingress.
    #[must_use]
    pub fn ingress(&self, namespace: &str, name: &str) -> Option<&IngressPlan> {
        self.ingresses
            .iter()
            .find(|p| p.namespace == namespace && p.name == name)
    }
}

/// Translates every ingress-nginx Ingress of the inventory.
#[must_use]
pub fn plan(inv: &Inventory, opts: &MigrateOptions) -> MigrationPlan {
    let mut b = Builder {
        inv,
        opts,
        gateways: BTreeMap::new(),
        routes: Vec::new(),
        extra: Vec::new(),
        names: BTreeSet::new(),
        plans: Vec::new(),
        warnings: Vec::new(),
    };
    let mut skipped = Vec::new();
    let mut primaries = Vec::new();
    let mut canaries = Vec::new();
    for entry in &inv.ingresses {
        let (object, ing) = inv.ingress(entry);
        if entry.class.controller != Some(Controller::IngressNginx) {
            skipped.push(SkippedIngress {
                namespace: object.ns().to_owned(),
                name: object.name.clone(),
                controller: entry
                    .class
                    .controller
                    .as_ref()
                    .map_or_else(|| "unknown".to_owned(), |c| c.name().to_owned()),
            });
            continue;
        }
        let source = Source {
            namespace: object.ns().to_owned(),
            name: object.name.clone(),
            class: entry.class.class.clone(),
            annotations: nginx_annotations(object.metadata().annotations.as_ref()),
            ingress: ing,
        };
        if source.flag("canary") == Some(true) {
            canaries.push(source);
        } else {
            primaries.push(source);
        }
    }
    skipped.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    // Files list objects in input order, a cluster by name: sort so the plan reads the same
    // whatever the source, and names given on collisions are stable.
    primaries.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    canaries.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    for s in &primaries {
        b.collect_tls(s);
    }
    for s in &primaries {
        b.translate(s);
    }
    for s in &canaries {
        b.merge_canary(s, &primaries);
    }
    b.finish(inv.ingresses.len(), skipped)
}

/// An ingress-nginx Ingress being translated.
struct Source<'a> {
    namespace: String,
    name: String,
    class: Option<String>,
    /// Its ingress-nginx annotations by short name, values trimmed.
    annotations: BTreeMap<String, String>,
    ingress: &'a Ingress,
}

impl Source<'_> {
    fn get(&self, short: &str) -> Option<&str> {
        self.annotations
            .get(short)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A boolean annotation as ingress-nginx reads it (Go's `ParseBool`); `None` when absent or
    /// unreadable, in which case the controller's default applies.
    fn flag(&self, short: &str) -> Option<bool> {
        self.get(short).and_then(go_bool)
    }

    fn gateway_name(&self) -> String {
        self.class
            .clone()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "ingress-nginx".to_owned())
    }

    fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    fn passthrough(&self) -> bool {
        self.flag("ssl-passthrough") == Some(true)
    }

    /// The hosts of the rules, in order, without repeats; `None` for rules without a host.
    fn rule_hosts(&self) -> Vec<Option<String>> {
        let mut hosts: Vec<Option<String>> = Vec::new();
        for rule in self
            .ingress
            .spec
            .iter()
            .flat_map(|s| s.rules.iter().flatten())
        {
            let host = rule.host.clone().filter(|h| !h.is_empty());
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
        hosts
    }

    /// `(host, secret)` of every TLS entry; an entry without hosts covers the rule hosts, as
    /// the API server's defaulting and ingress-nginx read it.
    fn tls_hosts(&self) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        for tls in self
            .ingress
            .spec
            .iter()
            .flat_map(|s| s.tls.iter().flatten())
        {
            let secret = tls.secret_name.clone().filter(|s| !s.is_empty());
            let hosts: Vec<String> = match tls.hosts.as_deref() {
                Some(h) if !h.is_empty() => h.iter().filter(|x| !x.is_empty()).cloned().collect(),
                _ => self.rule_hosts().into_iter().flatten().collect(),
            };
            for host in hosts {
                out.push((host, secret.clone()));
            }
        }
        out
    }
}

fn nginx_annotations(annotations: Option<&BTreeMap<String, String>>) -> BTreeMap<String, String> {
    annotations
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            k.strip_prefix(NGINX_PREFIX)
                .filter(|short| !short.is_empty())
                .map(|short| (short.to_owned(), v.trim().to_owned()))
        })
        .collect()
}

/// A Gateway being assembled.
#[derive(Default)]
struct GatewayDraft {
    /// TLS hosts → (listener name, secret, the Ingress that named it first).
    tls: BTreeMap<String, (String, String, String)>,
    /// Hosts passed through, by listener name.
    passthrough: BTreeMap<String, String>,
    /// Listener names in use, to keep them unique.
    listener_names: BTreeSet<String>,
    used: bool,
}

impl GatewayDraft {
    fn listener_name(&mut self, prefix: &str, host: &str) -> String {
        // Listener names are DNS labels of at most 253 characters, like object names.
        unique_name(&dns_name(&format!("{prefix}-{}", slug(host))), |n| {
            !self.listener_names.contains(n)
        })
        .inspect(|n| {
            self.listener_names.insert(n.clone());
        })
        .unwrap_or_else(|| prefix.to_owned())
    }
}

/// A route being assembled: its rules and, per rule, the Ingress path it came from (for the
/// canary merge and the redirect route).
struct RouteDraft {
    namespace: String,
    name: String,
    kind: Kind,
    gateway: String,
    host: Option<String>,
    rules: Vec<RouteRule>,
    /// Per rule: `(pathType, path)` of the Ingress path, `None` for added rules.
    keys: Vec<Option<(String, String)>>,
    parent_refs: Vec<ParentReference>,
    /// The Ingress it came from (index into `Builder::plans`).
    owner: usize,
}

struct Builder<'a> {
    inv: &'a Inventory,
    opts: &'a MigrateOptions,
    gateways: BTreeMap<(String, String), GatewayDraft>,
    routes: Vec<RouteDraft>,
    /// Policies and grants.
    extra: Vec<TranslatedObject>,
    /// `(namespace, kind, name)` of every object written, to keep names unique.
    names: BTreeSet<(String, String, String)>,
    plans: Vec<IngressPlan>,
    warnings: Vec<String>,
}

/// What the translation of one Ingress found about its annotations.
struct Outcomes {
    map: BTreeMap<String, Outcome>,
}

impl Outcomes {
    fn new(source: &Source<'_>) -> Outcomes {
        let map = source
            .annotations
            .keys()
            .map(|k| {
                let outcome = match mapping(k).map(|m| m.support) {
                    Some(Support::Default) => Outcome::Translated,
                    _ => Outcome::Manual,
                };
                (k.clone(), outcome)
            })
            .collect();
        Outcomes { map }
    }

    fn set(&mut self, short: &str, outcome: Outcome) {
        if let Some(o) = self.map.get_mut(short) {
            *o = outcome;
        }
    }

    fn into_list(self) -> Vec<AnnotationOutcome> {
        self.map
            .into_iter()
            .map(|(k, outcome)| AnnotationOutcome {
                annotation: format!("{NGINX_PREFIX}{k}"),
                outcome,
            })
            .collect()
    }
}

/// The filters every path rule of an Ingress gets, and whether its rules redirect instead.
#[derive(Default)]
struct RuleShape {
    /// A redirect replacing the backends (`permanent-redirect`, `temporal-redirect`).
    redirect: Option<Map<String, Value>>,
    /// `rewrite-target` without capture groups: the new full path.
    full_path: Option<String>,
    /// The `PREFIX(/|$)(.*)` → `TARGET/$2` idiom: the replacement of the prefix.
    prefix_rewrite: Option<String>,
    /// `upstream-vhost`.
    hostname: Option<String>,
    /// Request headers to set (`x-forwarded-prefix`).
    request_headers: Vec<(String, String)>,
    /// Response headers to set (`custom-headers`).
    response_headers: Vec<(String, String)>,
    /// Paths are regular expressions (`use-regex`, or `rewrite-target`, which implies it).
    regex: bool,
    /// `app-root`: the path `/` redirects there.
    app_root: Option<String>,
}

impl Builder<'_> {
    fn gateway(&mut self, s: &Source<'_>) -> &mut GatewayDraft {
        self.gateways
            .entry((s.namespace.clone(), s.gateway_name()))
            .or_default()
    }

    /// First pass: the TLS hosts and passthrough hosts of every Gateway, so that a route attaches
    /// to the HTTPS listener of its host even when another Ingress of the Gateway named the
    /// certificate for exactly that host (ingress-nginx serves a host's certificate for all the
    /// paths of all its Ingresses).
    fn collect_tls(&mut self, s: &Source<'_>) {
        if s.passthrough() {
            let hosts: Vec<String> = s.rule_hosts().into_iter().flatten().collect();
            let gw = self.gateway(s);
            for host in hosts {
                if !gw.passthrough.values().any(|h| *h == host) {
                    let listener = gw.listener_name("tls", &host);
                    gw.passthrough.insert(listener, host);
                }
            }
            return;
        }
        let key = s.key();
        let mut conflicts = Vec::new();
        for (host, secret) in s.tls_hosts() {
            let Some(secret) = secret else { continue };
            let gw = self.gateway(s);
            match gw.tls.get(&host) {
                Some((_, existing, owner)) if *existing != secret => {
                    conflicts.push(format!(
                        "host `{host}`: TLS Secret `{secret}` of {key} differs from `{existing}` \
                         of {owner}; the listener uses `{existing}`"
                    ));
                }
                Some(_) => {}
                None => {
                    let listener = gw.listener_name("https", &host);
                    gw.tls.insert(host, (listener, secret, key.clone()));
                }
            }
        }
        self.warnings.extend(conflicts);
    }

    fn new_plan(&mut self, s: &Source<'_>, canary: bool) -> usize {
        self.plans.push(IngressPlan {
            namespace: s.namespace.clone(),
            name: s.name.clone(),
            class: s.class.clone(),
            canary,
            objects: Vec::new(),
            annotations: Vec::new(),
            warnings: Vec::new(),
        });
        self.plans.len() - 1
    }

    /// A name not yet used for `kind` in `namespace`, reserved.
    fn reserve(&mut self, namespace: &str, kind: &str, wanted: &str) -> String {
        let taken = |n: &str| {
            self.names
                .contains(&(namespace.to_owned(), kind.to_owned(), n.to_owned()))
        };
        let name = unique_name(wanted, |n| !taken(n)).unwrap_or_else(|| wanted.to_owned());
        self.names
            .insert((namespace.to_owned(), kind.to_owned(), name.clone()));
        name
    }

    fn translate(&mut self, s: &Source<'_>) {
        let plan = self.new_plan(s, false);
        let mut warnings = Vec::new();
        let mut outcomes = Outcomes::new(s);
        let kind = self.route_kind(s, &mut outcomes, &mut warnings);
        // Filters are HTTP's: a gRPC or passthrough route leaves those annotations listed.
        let shape = if kind == Kind::HTTPRoute {
            self.rule_shape(s, &mut outcomes, &mut warnings)
        } else {
            RuleShape::default()
        };
        let mut rewrite_complete = true;
        let ssl_redirect = s.flag("ssl-redirect") != Some(false);
        outcomes.set("ssl-redirect", Outcome::Translated);
        outcomes.set("use-regex", Outcome::Translated);
        for canary_only in [
            "canary-weight",
            "canary-weight-total",
            "canary-by-header",
            "canary-by-header-value",
            "canary-by-header-pattern",
            "canary-by-cookie",
        ] {
            // Without `canary: "true"` ingress-nginx ignores these: nothing to carry over.
            outcomes.set(canary_only, Outcome::Translated);
        }
        if s.get("canary").is_some() {
            outcomes.set("canary", Outcome::Translated);
        }

        let spec = s.ingress.spec.as_ref();
        let mut groups: Vec<(Option<String>, Vec<&HTTPIngressPath>)> = Vec::new();
        for rule in spec.iter().flat_map(|sp| sp.rules.iter().flatten()) {
            let host = rule.host.clone().filter(|h| !h.is_empty());
            let Some(http) = &rule.http else { continue };
            let slot = match groups.iter().position(|(h, _)| *h == host) {
                Some(i) => i,
                None => {
                    groups.push((host, Vec::new()));
                    groups.len() - 1
                }
            };
            if let Some((_, paths)) = groups.get_mut(slot) {
                paths.extend(http.paths.iter());
            }
        }
        let default_backend = spec.and_then(|sp| sp.default_backend.as_ref());
        if default_backend.is_some() && !groups.iter().any(|(h, _)| h.is_none()) {
            groups.push((None, Vec::new()));
        }
        if groups.is_empty() {
            warnings
                .push("the Ingress has no rules and no default backend: nothing to route".into());
        }

        // The hosts this Ingress's own TLS entries cover (a wildcard covers its subdomains);
        // other hosts get HTTPS only when another Ingress of the Gateway names exactly them,
        // as ingress-nginx shares a host's certificate among all the Ingresses of that host.
        // A passthrough Ingress's TLS entries are not served: the backend terminates TLS.
        let passthrough = kind == Kind::TLSRoute;
        let own_tls: Vec<String> = s
            .tls_hosts()
            .into_iter()
            .filter(|_| !passthrough)
            .filter_map(|(host, secret)| {
                if secret.is_none() {
                    warnings.push(format!(
                        "TLS for host `{host}` names no Secret: ingress-nginx served its default \
                         certificate; no HTTPS listener is written for it"
                    ));
                }
                secret.map(|_| host)
            })
            .collect();
        if !passthrough {
            self.check_tls_secrets(s, &mut warnings);
        }
        let gateway = s.gateway_name();
        let mut route_indices = Vec::new();
        let mut force_unmet = false;
        for (host, paths) in groups {
            if kind == Kind::TLSRoute && host.is_none() {
                warnings.push(
                    "ssl-passthrough needs a host (SNI): the rules without a host are left out"
                        .into(),
                );
                continue;
            }
            let base = match &host {
                Some(h) => format!("{}-{}", s.name, slug(h)),
                None => s.name.clone(),
            };
            let name = self.reserve(&s.namespace, kind.as_str(), &dns_name(&base));
            let mut draft = RouteDraft {
                namespace: s.namespace.clone(),
                name,
                kind,
                gateway: gateway.clone(),
                host: host.clone(),
                rules: Vec::new(),
                keys: Vec::new(),
                parent_refs: Vec::new(),
                owner: plan,
            };
            match kind {
                Kind::TLSRoute => self.tls_rules(s, &mut draft, &paths, &mut warnings),
                Kind::GRPCRoute => self.grpc_rules(s, &mut draft, &paths, &mut warnings),
                _ => self.http_rules(
                    s,
                    &shape,
                    &mut draft,
                    &paths,
                    &mut rewrite_complete,
                    &mut warnings,
                ),
            }
            if host.is_none()
                && let Some(backend) = default_backend
            {
                let backend_refs = self
                    .backend_ref(&s.namespace, backend, &mut warnings)
                    .into_iter()
                    .collect();
                draft.rules.push(RouteRule {
                    backend_refs,
                    ..RouteRule::default()
                });
                draft.keys.push(None);
                warnings.push(format!(
                    "the default backend became a rule without matches on {} {}/{}, which has \
                     no hostnames: it answers every request on the `http` listener that no \
                     other route takes",
                    kind.as_str(),
                    s.namespace,
                    draft.name
                ));
            }
            if draft.rules.is_empty() {
                warnings.push(format!(
                    "no rule of host `{}` could be translated: no route written for it",
                    host.as_deref().unwrap_or("*")
                ));
                continue;
            }
            // Attach to the listeners.
            let gw_key = (s.namespace.clone(), gateway.clone());
            let gw = self.gateways.entry(gw_key).or_default();
            gw.used = true;
            let parent = |section: &str| ParentReference {
                name: gateway.clone(),
                section_name: Some(section.to_owned()),
                ..ParentReference::default()
            };
            let mut tls_host = false;
            if kind == Kind::TLSRoute {
                let listener = host.as_deref().and_then(|h| {
                    gw.passthrough
                        .iter()
                        .find(|(_, ph)| ph.as_str() == h)
                        .map(|(l, _)| l.clone())
                });
                if let Some(l) = listener {
                    draft.parent_refs.push(parent(&l));
                }
            } else {
                let listener = host.as_deref().and_then(|h| {
                    own_tls
                        .iter()
                        .find(|t| host_matches(t, h))
                        .and_then(|t| gw.tls.get(t.as_str()))
                        .or_else(|| gw.tls.get(h))
                        .map(|(listener, _, _)| listener.as_str())
                });
                match listener {
                    Some(listener) => {
                        tls_host = true;
                        draft.parent_refs.push(parent(listener));
                        if !ssl_redirect {
                            draft.parent_refs.push(parent("http"));
                        }
                    }
                    None => draft.parent_refs.push(parent("http")),
                }
            }
            if !tls_host && host.is_some() && s.flag("force-ssl-redirect") == Some(true) {
                force_unmet = true;
            }
            let redirect = (tls_host && ssl_redirect).then(|| redirect_route(&draft));
            let redirect_name = format!("{}-redirect", draft.name);
            let route_index = self.routes.len();
            self.routes.push(draft);
            route_indices.push(route_index);
            if let Some(mut redirect) = redirect {
                redirect.name = self.reserve(&s.namespace, "HTTPRoute", &dns_name(&redirect_name));
                self.routes.push(redirect);
            }
        }
        if shape.prefix_rewrite.is_some() && rewrite_complete {
            outcomes.set("rewrite-target", Outcome::Translated);
        }
        if force_unmet {
            warnings.push(
                "force-ssl-redirect on a host without TLS on this Ingress: the Gateway has no \
                 HTTPS listener for it; redirect where TLS ends"
                    .into(),
            );
        } else {
            outcomes.set("force-ssl-redirect", Outcome::Translated);
        }
        if passthrough && s.annotations.keys().any(|k| k != "ssl-passthrough") {
            // ingress-nginx passes the connection through before any HTTP processing, so the
            // HTTP annotations of a passthrough Ingress never applied.
            warnings.push(
                "ssl-passthrough: the connection goes to the backend unterminated, so the \
                 Ingress's HTTP-level annotations did not apply and are not carried over"
                    .into(),
            );
        }
        if self.opts.implementation == Implementation::EnvoyGateway && kind != Kind::TLSRoute {
            self.envoy_gateway_policies(s, plan, &route_indices, &mut outcomes, &mut warnings);
        } else {
            self.unprotected_warnings(s, kind, &mut warnings);
        }
        if let Some(p) = self.plans.get_mut(plan) {
            p.annotations = outcomes.into_list();
            p.warnings.extend(warnings);
        }
    }

    /// Warns about TLS Secrets known to be missing or unusable: the listener still names them,
    /// as the Ingress did, so that creating the Secret is all it takes.
    fn check_tls_secrets(&self, s: &Source<'_>, warnings: &mut Vec<String>) {
        let mut seen = BTreeSet::new();
        for (_, secret) in s.tls_hosts() {
            let Some(name) = secret else { continue };
            if !seen.insert(name.clone()) {
                continue;
            }
            match self.inv.secret(&s.namespace, &name) {
                None if self.inv.in_scope(Kind::Secret, &s.namespace) => warnings.push(format!(
                    "TLS Secret `{name}` is not in namespace `{}`: create it before the switch \
                     (ingress-nginx served its default certificate)",
                    s.namespace
                )),
                Some(secret)
                    if secret.type_ != "kubernetes.io/tls"
                        || !secret.keys.contains("tls.crt")
                        || !secret.keys.contains("tls.key") =>
                {
                    warnings.push(format!(
                        "Secret `{name}` is not a TLS Secret (type `kubernetes.io/tls` with \
                         `tls.crt` and `tls.key`): the listener cannot use it; recreate it"
                    ));
                }
                _ => {}
            }
        }
    }

    /// The route kind: GRPCRoute for gRPC backends, TLSRoute for passthrough, else HTTPRoute.
    fn route_kind(
        &self,
        s: &Source<'_>,
        outcomes: &mut Outcomes,
        warnings: &mut Vec<String>,
    ) -> Kind {
        if s.passthrough() {
            outcomes.set("ssl-passthrough", Outcome::Translated);
            return Kind::TLSRoute;
        }
        if s.get("ssl-passthrough").is_some() {
            outcomes.set("ssl-passthrough", Outcome::Translated);
        }
        let protocol = s.get("backend-protocol").map(str::to_ascii_uppercase);
        match protocol.as_deref() {
            None | Some("HTTP") => {
                outcomes.set("backend-protocol", Outcome::Translated);
                Kind::HTTPRoute
            }
            Some("GRPC") => {
                outcomes.set("backend-protocol", Outcome::Translated);
                Kind::GRPCRoute
            }
            Some("GRPCS") => {
                warnings.push(
                    "backend-protocol GRPCS: the backend expects TLS; add a BackendTLSPolicy for \
                     its Service, or the Gateway speaks plain gRPC to it"
                        .into(),
                );
                Kind::GRPCRoute
            }
            Some("HTTPS") => {
                warnings.push(
                    "backend-protocol HTTPS: the backend expects TLS; add a BackendTLSPolicy for \
                     its Service (with the CA that signed its certificate), or the Gateway \
                     speaks plain HTTP to it"
                        .into(),
                );
                Kind::HTTPRoute
            }
            Some(other) => {
                // Only a protocol-like value is quoted: the report never repeats arbitrary
                // annotation values.
                let shown = if other.len() <= 16
                    && other
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    other
                } else {
                    "(this value)"
                };
                warnings.push(format!(
                    "backend-protocol {shown} has no Gateway API equivalent; the route speaks HTTP"
                ));
                Kind::HTTPRoute
            }
        }
    }

    /// The filters and matching mode every path rule of the Ingress shares.
    fn rule_shape(
        &self,
        s: &Source<'_>,
        outcomes: &mut Outcomes,
        warnings: &mut Vec<String>,
    ) -> RuleShape {
        let mut shape = RuleShape {
            regex: s.flag("use-regex") == Some(true),
            ..RuleShape::default()
        };
        // Redirects: ingress-nginx prefers the permanent one when both are set.
        let redirect = [
            ("permanent-redirect", "permanent-redirect-code", 301),
            ("temporal-redirect", "temporal-redirect-code", 302),
        ]
        .into_iter()
        .find_map(|(url, code, default)| s.get(url).map(|u| (url, u, code, default)));
        if let Some((url_key, url, code_key, default_code)) = redirect {
            let code = match s.get(code_key) {
                Some(c) => c.parse::<i32>().ok(),
                None => Some(default_code),
            };
            match (parse_redirect_target(url), code) {
                (Some(mut target), Some(code @ (301 | 302 | 303 | 307 | 308))) => {
                    target.insert("statusCode".into(), json!(code));
                    shape.redirect = Some(target);
                    outcomes.set(url_key, Outcome::Translated);
                    outcomes.set(code_key, Outcome::Translated);
                }
                (None, _) => warnings.push(format!(
                    "{url_key}: the target is not a plain URL (a query string, NGINX variables \
                     or no scheme): write the RequestRedirect by hand"
                )),
                (_, _) => warnings.push(format!(
                    "{code_key}: Gateway API redirects use 301, 302, 303, 307 or 308"
                )),
            }
        }
        if shape.redirect.is_none() {
            if let Some(target) = s.get("rewrite-target") {
                // rewrite-target makes ingress-nginx read the paths as regular expressions.
                shape.regex = true;
                if !target.contains('$') {
                    if is_plain_path(target) {
                        shape.full_path = Some(target.to_owned());
                        outcomes.set("rewrite-target", Outcome::Translated);
                    } else {
                        warnings.push(
                            "rewrite-target is not a plain path: write the URLRewrite by hand"
                                .into(),
                        );
                    }
                } else if let Some(prefix) = rewrite_prefix_target(target) {
                    // The idiom is confirmed per path (`PREFIX(/|$)(.*)`) when the rules are
                    // built, and the outcome set there.
                    shape.prefix_rewrite = Some(prefix);
                } else {
                    warnings.push(
                        "rewrite-target uses capture groups beyond the `PREFIX(/|$)(.*)` → `/$2` \
                         idiom: paths reach the backend unrewritten until you write the \
                         URLRewrite by hand"
                            .into(),
                    );
                }
            }
        } else if s.get("rewrite-target").is_some() {
            warnings.push("rewrite-target has no effect on a redirecting Ingress".into());
            outcomes.set("rewrite-target", Outcome::Translated);
        }
        if let Some(root) = s.get("app-root") {
            if is_plain_path(root) {
                shape.app_root = Some(root.to_owned());
                outcomes.set("app-root", Outcome::Translated);
            } else {
                warnings.push("app-root is not a plain path: write the redirect by hand".into());
            }
        }
        if let Some(host) = s.get("upstream-vhost") {
            if is_hostname(host) {
                shape.hostname = Some(host.to_owned());
                outcomes.set("upstream-vhost", Outcome::Translated);
            } else {
                warnings.push(
                    "upstream-vhost is not a plain host name (NGINX variables?): set the Host \
                     header by hand"
                        .into(),
                );
            }
        }
        if let Some(prefix) = s.get("x-forwarded-prefix") {
            if prefix.contains('$') {
                warnings
                    .push("x-forwarded-prefix uses NGINX variables: set the header by hand".into());
            } else {
                shape
                    .request_headers
                    .push(("X-Forwarded-Prefix".into(), prefix.to_owned()));
                outcomes.set("x-forwarded-prefix", Outcome::Translated);
            }
        }
        if let Some(reference) = s.get("custom-headers") {
            match self.custom_headers(&s.namespace, reference) {
                Ok(headers) => {
                    shape.response_headers = headers;
                    outcomes.set("custom-headers", Outcome::Translated);
                }
                Err(why) => warnings.push(format!("custom-headers: {why}")),
            }
        }
        shape
    }

    /// The headers of the ConfigMap `custom-headers` names, when they are plain text.
    fn custom_headers(
        &self,
        namespace: &str,
        reference: &str,
    ) -> Result<Vec<(String, String)>, String> {
        let (ns, name) = reference.split_once('/').unwrap_or((namespace, reference));
        let Some(Resource::ConfigMap(cm)) =
            self.inv.get(Kind::ConfigMap, ns, name).map(|o| &o.resource)
        else {
            return Err(format!(
                "ConfigMap `{ns}/{name}` is not in the input: set its headers with a \
                 ResponseHeaderModifier filter by hand"
            ));
        };
        let data = cm.data.clone().unwrap_or_default();
        if data.is_empty() {
            return Err(format!("ConfigMap `{ns}/{name}` has no data"));
        }
        if data.values().any(|v| v.contains('$')) {
            return Err(format!(
                "ConfigMap `{ns}/{name}` uses NGINX variables, which have no equivalent: set \
                 its headers by hand"
            ));
        }
        Ok(data.into_iter().collect())
    }

    fn http_rules(
        &self,
        s: &Source<'_>,
        shape: &RuleShape,
        draft: &mut RouteDraft,
        paths: &[&HTTPIngressPath],
        rewrite_complete: &mut bool,
        warnings: &mut Vec<String>,
    ) {
        if let Some(root) = &shape.app_root {
            let mut redirect = Map::new();
            redirect.insert(
                "path".into(),
                json!({"type": "ReplaceFullPath", "replaceFullPath": root}),
            );
            draft.rules.push(RouteRule {
                matches: vec![path_match("Exact", "/")],
                filters: vec![redirect_filter(None, Some(302), redirect)],
                ..RouteRule::default()
            });
            draft.keys.push(None);
        }
        for p in paths {
            let value = p
                .path
                .clone()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "/".into());
            let key = Some((p.path_type.clone(), value.clone()));
            let mut prefix_rewrite = None;
            let path = if let Some(replacement) = &shape.prefix_rewrite {
                match value.strip_suffix("(/|$)(.*)") {
                    Some(prefix) if is_plain_path(prefix) => {
                        prefix_rewrite = Some(replacement.clone());
                        path_match("PathPrefix", prefix)
                    }
                    _ => {
                        *rewrite_complete = false;
                        warnings.push(format!(
                            "path `{value}`: rewrite-target's capture groups only translate for \
                             paths of the form `PREFIX(/|$)(.*)`; this path reaches the backend \
                             unrewritten"
                        ));
                        self.match_for(&value, &p.path_type, true, warnings)
                    }
                }
            } else {
                self.match_for(&value, &p.path_type, shape.regex, warnings)
            };
            let mut rule = RouteRule {
                matches: vec![path],
                ..RouteRule::default()
            };
            if let Some(redirect) = &shape.redirect {
                let mut rest = redirect.clone();
                let scheme = rest
                    .remove("scheme")
                    .and_then(|v| v.as_str().map(str::to_owned));
                let code = rest
                    .remove("statusCode")
                    .and_then(|v| v.as_i64())
                    .and_then(|c| i32::try_from(c).ok());
                rule.filters.push(redirect_filter(scheme, code, rest));
            } else {
                let mut rewrite = Map::new();
                if let Some(full) = &shape.full_path {
                    rewrite.insert(
                        "path".into(),
                        json!({"type": "ReplaceFullPath", "replaceFullPath": full}),
                    );
                }
                if let Some(replacement) = &prefix_rewrite {
                    rewrite.insert(
                        "path".into(),
                        json!({"type": "ReplacePrefixMatch", "replacePrefixMatch": replacement}),
                    );
                }
                if let Some(host) = &shape.hostname {
                    rewrite.insert("hostname".into(), json!(host));
                }
                if !rewrite.is_empty() {
                    rule.filters
                        .push(filter("URLRewrite", "urlRewrite", Value::Object(rewrite)));
                }
                if !shape.request_headers.is_empty() {
                    rule.filters.push(header_filter(
                        "RequestHeaderModifier",
                        "requestHeaderModifier",
                        &shape.request_headers,
                    ));
                }
                if !shape.response_headers.is_empty() {
                    rule.filters.push(header_filter(
                        "ResponseHeaderModifier",
                        "responseHeaderModifier",
                        &shape.response_headers,
                    ));
                }
                rule.backend_refs = self
                    .backend_ref(&s.namespace, &p.backend, warnings)
                    .into_iter()
                    .collect();
            }
            draft.rules.push(rule);
            draft.keys.push(key);
        }
    }

    /// The path match of an Ingress path: `Prefix` → `PathPrefix`, `Exact` → `Exact`,
    /// `ImplementationSpecific` → `PathPrefix`; a path ingress-nginx read as a regular
    /// expression (with regex characters in it) → `RegularExpression`.
    fn match_for(
        &self,
        value: &str,
        path_type: &str,
        regex: bool,
        warnings: &mut Vec<String>,
    ) -> RouteMatch {
        if regex && has_regex_syntax(value) {
            // NGINX matched `~* "^PATH"`: a case-insensitive prefix. Envoy matches the whole
            // path (RE2), so the expression gets a trailing `.*`.
            let re = match value.strip_suffix('$') {
                Some(anchored) => anchored.to_owned(),
                None => format!("{value}.*"),
            };
            warnings.push(format!(
                "path `{value}` is a regular expression: written as `{re}` (type \
                 RegularExpression, implementation-specific support); NGINX matched it \
                 case-insensitively (PCRE), Envoy uses RE2 and is case-sensitive: check it"
            ));
            return path_match("RegularExpression", &re);
        }
        if let Some(problem) = gateway_path_problem(value) {
            warnings.push(format!(
                "path `{value}` {problem}: the Gateway API refuses it; rewrite the match"
            ));
        }
        match path_type {
            "Exact" => path_match("Exact", value),
            _ => path_match("PathPrefix", value),
        }
    }

    fn grpc_rules(
        &self,
        s: &Source<'_>,
        draft: &mut RouteDraft,
        paths: &[&HTTPIngressPath],
        warnings: &mut Vec<String>,
    ) {
        for p in paths {
            let value = p
                .path
                .clone()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "/".into());
            let matches = match grpc_method(&value) {
                Some(None) => Vec::new(),
                Some(Some(method)) => vec![RouteMatch {
                    method: Some(method),
                    ..RouteMatch::default()
                }],
                None => {
                    warnings.push(format!(
                        "path `{value}` is not `/SERVICE` or `/SERVICE/METHOD`: no GRPCRoute \
                         match expresses it, so it is left out"
                    ));
                    continue;
                }
            };
            draft.rules.push(RouteRule {
                matches,
                backend_refs: self
                    .backend_ref(&s.namespace, &p.backend, warnings)
                    .into_iter()
                    .collect(),
                ..RouteRule::default()
            });
            draft.keys.push(Some((p.path_type.clone(), value)));
        }
    }

    fn tls_rules(
        &self,
        s: &Source<'_>,
        draft: &mut RouteDraft,
        paths: &[&HTTPIngressPath],
        warnings: &mut Vec<String>,
    ) {
        // Passthrough routes by SNI only; ingress-nginx uses the backend of the host's root.
        let chosen = paths
            .iter()
            .find(|p| p.path.as_deref().is_none_or(|v| v == "/" || v.is_empty()))
            .or_else(|| paths.first());
        if paths.len() > 1 {
            warnings.push(format!(
                "ssl-passthrough routes by host only: of the {} paths of `{}`, the backend of \
                 `{}` takes the whole host",
                paths.len(),
                draft.host.as_deref().unwrap_or("*"),
                chosen.and_then(|p| p.path.as_deref()).unwrap_or("/")
            ));
        }
        if let Some(p) = chosen {
            draft.rules.push(RouteRule {
                backend_refs: self
                    .backend_ref(&s.namespace, &p.backend, warnings)
                    .into_iter()
                    .collect(),
                ..RouteRule::default()
            });
            draft.keys.push(None);
        }
    }

    /// The backendRef of an Ingress backend: the Service and its port **number**. A named port
    /// is looked up in the Service; when the Service is not in the input the port is left out
    /// and a warning asks for the number.
    fn backend_ref(
        &self,
        namespace: &str,
        backend: &IngressBackend,
        warnings: &mut Vec<String>,
    ) -> Option<BackendRef> {
        let Some(service) = &backend.service else {
            if let Some(r) = &backend.resource {
                warnings.push(format!(
                    "backend {} `{}` is not a Service: Gateway API routes to Services (or an \
                     implementation's backend kinds); this rule has no backend",
                    r.kind, r.name
                ));
            }
            return None;
        };
        let port_ref = service
            .port
            .as_ref()
            .and_then(|p| match (&p.name, p.number) {
                (Some(n), _) if !n.is_empty() => Some(PortRef::Name(n.clone())),
                (_, Some(n)) => Some(PortRef::Number(n)),
                _ => None,
            });
        let svc = self.inv.service(namespace, &service.name);
        if svc.is_none() && self.inv.in_scope(Kind::Service, namespace) {
            warnings.push(format!(
                "Service `{}` is not in namespace `{namespace}`: the route refers to it as the \
                 Ingress did; create it or remove the path",
                service.name
            ));
        }
        let port = match (&port_ref, svc) {
            (Some(PortRef::Number(n)), found) => {
                if let Some(svc) = found
                    && find_service_port(svc, &PortRef::Number(*n)).is_none()
                {
                    warnings.push(format!(
                        "Service `{}` has no port {n}: the route keeps it, as the Ingress did; \
                         fix the number",
                        service.name
                    ));
                }
                Some(*n)
            }
            (Some(PortRef::Name(name)), Some(svc)) => {
                let number = find_service_port(svc, &PortRef::Name(name.clone())).and_then(|i| {
                    svc.spec
                        .as_ref()
                        .and_then(|sp| sp.ports.as_ref())
                        .and_then(|ports| ports.get(i))
                        .map(|p| p.port)
                });
                if number.is_none() {
                    warnings.push(format!(
                        "Service `{}` has no port named `{name}`: fill in the port number of \
                         its backendRef",
                        service.name
                    ));
                }
                number
            }
            (Some(PortRef::Name(name)), None) => {
                warnings.push(format!(
                    "Service `{}` is not in the input: fill in the number of its port `{name}` \
                     (Gateway API backendRefs name ports by number)",
                    service.name
                ));
                None
            }
            (None, _) => {
                warnings.push(format!(
                    "backend Service `{}` names no port: fill in the port number",
                    service.name
                ));
                None
            }
        };
        Some(BackendRef {
            target: ObjectReference {
                name: service.name.clone(),
                port,
                ..ObjectReference::default()
            },
            ..BackendRef::default()
        })
    }

    /// Envoy Gateway's `SecurityPolicy` (auth, allow-lists, CORS) and `BackendTrafficPolicy`
    /// (rate limits) for the routes of one Ingress.
    fn envoy_gateway_policies(
        &mut self,
        s: &Source<'_>,
        plan: usize,
        route_indices: &[usize],
        outcomes: &mut Outcomes,
        warnings: &mut Vec<String>,
    ) {
        let targets: Vec<Value> = route_indices
            .iter()
            .filter_map(|&i| self.routes.get(i))
            .map(|r| {
                json!({"group": crate::gateway::GROUP, "kind": r.kind.as_str(), "name": r.name})
            })
            .collect();
        if targets.is_empty() {
            return;
        }
        let mut security = Map::new();
        let mut auth_failed: Vec<&str> = Vec::new();
        let mut grant = None;
        if let Some(url) = s.get("auth-url") {
            match ext_auth(s, url, outcomes) {
                Some((spec, target)) => {
                    security.insert("extAuth".into(), spec);
                    grant = (target.namespace != s.namespace).then_some(target);
                }
                None => {
                    auth_failed.push("auth-url");
                    warnings.push(
                        "auth-url does not name an in-cluster Service over http \
                         (`http://NAME.NAMESPACE.svc...`): Envoy Gateway's extAuth needs a \
                         Service, or an Envoy Gateway Backend (an API disabled by default) with \
                         backend TLS; write the extAuth by hand"
                            .into(),
                    );
                }
            }
        }
        if s.get("auth-type").is_some() {
            match basic_auth(s, outcomes, warnings) {
                Some(spec) => {
                    security.insert("basicAuth".into(), spec);
                }
                None => auth_failed.push("auth-type"),
            }
        }
        // Client certificates are verified per listener in Envoy Gateway (ClientTrafficPolicy),
        // which a per-Ingress translation cannot decide.
        if s.get("auth-tls-secret").is_some()
            && matches!(s.get("auth-tls-verify-client"), None | Some("on"))
        {
            auth_failed.push("auth-tls-secret");
            warnings.push(
                "auth-tls-secret: client certificates are verified per listener in Envoy \
                 Gateway (ClientTrafficPolicy `tls.clientValidation`); give the host its own \
                 listener and policy"
                    .into(),
            );
        }

        let ranges = s.get("allowlist-source-range").is_some()
            || s.get("whitelist-source-range").is_some()
            || s.get("denylist-source-range").is_some();
        if auth_failed.is_empty() {
            if let Some(target) = grant {
                self.grant_ext_auth(s, plan, &target);
            }
            if ranges && let Some(authorization) = source_ranges(s, outcomes, warnings) {
                security.insert("authorization".into(), authorization);
            }
        } else {
            // Fail closed: the Ingress required authentication, so its routes stay shut until
            // the authentication is written, rather than open to everyone. The source-address
            // rules wait with it: an Allow rule would let those addresses in unauthenticated.
            security.remove("extAuth");
            security.remove("basicAuth");
            for key in [
                "auth-url",
                "auth-response-headers",
                "auth-type",
                "auth-secret",
                "auth-secret-type",
            ] {
                outcomes.set(key, Outcome::Manual);
            }
            security.insert("authorization".into(), json!({"defaultAction": "Deny"}));
            warnings.push(format!(
                "{} could not be translated: the SecurityPolicy denies every request until you \
                 add the authentication",
                auth_failed.join(", ")
            ));
            if ranges {
                warnings.push(
                    "the source-address rules wait for the authentication: add them to the \
                     SecurityPolicy's authorization with it"
                        .into(),
                );
            }
        }

        const CORS_KEYS: [&str; 7] = [
            "enable-cors",
            "cors-allow-origin",
            "cors-allow-methods",
            "cors-allow-headers",
            "cors-expose-headers",
            "cors-allow-credentials",
            "cors-max-age",
        ];
        if s.flag("enable-cors") == Some(true) {
            match cors(s, warnings) {
                Some(spec) => {
                    security.insert("cors".into(), spec);
                    for key in CORS_KEYS {
                        outcomes.set(key, Outcome::Policy);
                    }
                }
                None => warnings.push(
                    "cors-allow-origin names no valid origin: write the CORS policy by hand".into(),
                ),
            }
        } else if s.get("enable-cors").is_some() {
            // CORS switched off: the cors-* settings never applied, nothing to carry over.
            for key in CORS_KEYS {
                outcomes.set(key, Outcome::Translated);
            }
        }

        if !security.is_empty() {
            security.insert("targetRefs".into(), Value::Array(targets.clone()));
            self.push_policy(s, plan, "SecurityPolicy", security);
        }
        let limits = rate_limits(s, outcomes, warnings);
        if !limits.is_empty() {
            let mut spec = Map::new();
            spec.insert("targetRefs".into(), Value::Array(targets));
            spec.insert(
                "rateLimit".into(),
                json!({"type": "Global", "global": {"rules": limits}}),
            );
            self.push_policy(s, plan, "BackendTrafficPolicy", spec);
        }
    }

    /// With no implementation policies, say which protections the routes lose.
    fn unprotected_warnings(&self, s: &Source<'_>, kind: Kind, warnings: &mut Vec<String>) {
        if kind == Kind::TLSRoute {
            return;
        }
        let auth = ["auth-url", "auth-type", "auth-tls-secret"]
            .into_iter()
            .any(|k| s.get(k).is_some());
        if auth {
            warnings.push(
                "the Ingress requires authentication, which needs an implementation policy: \
                 the routes are open until you add one"
                    .into(),
            );
        }
        if s.get("allowlist-source-range").is_some() || s.get("whitelist-source-range").is_some() {
            warnings.push(
                "the source-address allow-list needs an implementation policy: the routes \
                 accept every address until you add one"
                    .into(),
            );
        }
    }

    fn push_policy(&mut self, s: &Source<'_>, plan: usize, kind: &str, spec: Map<String, Value>) {
        let name = self.reserve(&s.namespace, kind, &dns_name(&s.name));
        let object = TranslatedObject {
            api_version: format!("{ENVOY_GATEWAY_GROUP}/v1alpha1"),
            kind: kind.to_owned(),
            namespace: s.namespace.clone(),
            name,
            body: ObjectBody::Policy(spec),
        };
        if let Some(p) = self.plans.get_mut(plan) {
            p.objects.push(object.reference());
        }
        self.extra.push(object);
    }

    /// A ReferenceGrant letting the Ingress's SecurityPolicy call an authorization Service in
    /// another namespace.
    fn grant_ext_auth(&mut self, s: &Source<'_>, plan: usize, target: &ServiceUrl) {
        let name = self.reserve(
            &target.namespace,
            "ReferenceGrant",
            &dns_name(&format!("{}-{}-ext-auth", s.namespace, s.name)),
        );
        let grant = ReferenceGrant {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(target.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: ReferenceGrantSpec {
                from: vec![GrantFrom {
                    group: ENVOY_GATEWAY_GROUP.into(),
                    kind: "SecurityPolicy".into(),
                    namespace: s.namespace.clone(),
                }],
                to: vec![GrantTo {
                    group: String::new(),
                    kind: "Service".into(),
                    name: Some(target.service.clone()),
                }],
            },
        };
        let object = TranslatedObject {
            api_version: Kind::ReferenceGrant.api_version(),
            kind: "ReferenceGrant".into(),
            namespace: target.namespace.clone(),
            name,
            body: ObjectBody::ReferenceGrant(Box::new(grant)),
        };
        if let Some(p) = self.plans.get_mut(plan) {
            p.objects.push(object.reference());
        }
        self.extra.push(object);
    }

    /// Merges a canary Ingress into the routes of its main Ingress: weighted backendRefs for
    /// `canary-weight`, a rule with a header match for `canary-by-header`.
    fn merge_canary(&mut self, c: &Source<'_>, primaries: &[Source<'_>]) {
        let plan = self.new_plan(c, true);
        let mut warnings = Vec::new();
        let mut outcomes = Outcomes::new(c);
        for (k, outcome) in &mut outcomes.map {
            // A canary takes every other annotation from its main Ingress (ingress-nginx ignores
            // them on the canary), except load balancing and affinity.
            let kept = k.starts_with("canary")
                || k == "load-balance"
                || k.starts_with("upstream-hash-by")
                || k.starts_with("affinity")
                || k.starts_with("session-cookie");
            if !kept {
                *outcome = Outcome::Translated;
            }
        }
        let total = match c.get("canary-weight-total") {
            Some(v) => v.parse::<i32>().ok().filter(|t| *t > 0),
            None => Some(100),
        };
        let weight = match c.get("canary-weight") {
            Some(v) => v.parse::<i32>().ok().filter(|w| *w >= 0),
            None => Some(0),
        };
        let header = c.get("canary-by-header").map(|name| {
            let (match_type, value) = match (
                c.get("canary-by-header-value"),
                c.get("canary-by-header-pattern"),
            ) {
                (Some(v), _) => ("Exact", v.to_owned()),
                (None, Some(p)) => ("RegularExpression", p.to_owned()),
                (None, None) => ("Exact", "always".to_owned()),
            };
            json!({"type": match_type, "name": name, "value": value})
        });
        if c.get("canary-by-cookie").is_some() {
            warnings.push(
                "canary-by-cookie: match the Cookie header with a regular expression by hand"
                    .into(),
            );
        }
        let (Some(total), Some(weight)) = (total, weight) else {
            warnings
                .push("canary-weight or canary-weight-total is not a number: merge by hand".into());
            self.finish_canary(plan, outcomes, warnings);
            return;
        };
        let weight = weight.min(total);

        let mut merged_routes: BTreeSet<usize> = BTreeSet::new();
        let mut unmatched = Vec::new();
        let has_primary = primaries.iter().any(|p| p.namespace == c.namespace);
        for rule in c.ingress.spec.iter().flat_map(|s| s.rules.iter().flatten()) {
            let host = rule.host.clone().filter(|h| !h.is_empty());
            let Some(http) = &rule.http else { continue };
            for p in &http.paths {
                let value = p
                    .path
                    .clone()
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "/".into());
                let key = (p.path_type.clone(), value.clone());
                let found = self.routes.iter().enumerate().find_map(|(ri, r)| {
                    let primary = self.plans.get(r.owner).is_some_and(|o| !o.canary);
                    (primary && r.namespace == c.namespace && r.host == host)
                        .then(|| {
                            r.keys
                                .iter()
                                .position(|k| k.as_ref() == Some(&key))
                                .map(|rule| (ri, rule))
                        })
                        .flatten()
                });
                let Some((ri, rule_index)) = found else {
                    unmatched.push(format!("{}{value}", host.as_deref().unwrap_or("")));
                    continue;
                };
                let Some(canary_backend) =
                    self.backend_ref(&c.namespace, &p.backend, &mut warnings)
                else {
                    continue;
                };
                let Some(route) = self.routes.get_mut(ri) else {
                    continue;
                };
                let Some(primary_rule) = route.rules.get(rule_index).cloned() else {
                    continue;
                };
                if primary_rule.backend_refs.is_empty() {
                    unmatched.push(format!("{}{value}", host.as_deref().unwrap_or("")));
                    continue;
                }
                if let Some(header) = &header {
                    let mut matches = primary_rule.matches.clone();
                    if matches.is_empty() {
                        matches.push(RouteMatch::default());
                    }
                    for m in &mut matches {
                        m.headers.push(header.clone());
                    }
                    route.rules.push(RouteRule {
                        matches,
                        filters: primary_rule.filters.clone(),
                        backend_refs: vec![canary_backend.clone()],
                        ..RouteRule::default()
                    });
                    route.keys.push(None);
                }
                if weight > 0
                    && let Some(target) = route.rules.get_mut(rule_index)
                {
                    let primary_weight = total - weight;
                    for b in &mut target.backend_refs {
                        b.weight = Some(primary_weight);
                    }
                    let mut canary = canary_backend;
                    canary.weight = Some(weight);
                    target.backend_refs.push(canary);
                }
                merged_routes.insert(ri);
            }
        }
        if !unmatched.is_empty() {
            let why = if has_primary {
                "no main Ingress (same namespace, host and path, without canary) routes"
            } else {
                "the main Ingress is not in the input for"
            };
            warnings.push(format!(
                "canary: {why} {}; merge by hand",
                unmatched.join(", ")
            ));
        }
        if !merged_routes.is_empty() {
            for key in ["canary", "canary-weight", "canary-weight-total"] {
                outcomes.set(key, Outcome::Translated);
            }
            if header.is_some() {
                for key in [
                    "canary-by-header",
                    "canary-by-header-value",
                    "canary-by-header-pattern",
                ] {
                    outcomes.set(key, Outcome::Translated);
                }
            }
            if !unmatched.is_empty() {
                outcomes.set("canary", Outcome::Manual);
            }
        }
        let refs: Vec<String> = merged_routes
            .iter()
            .filter_map(|&i| self.routes.get(i))
            .map(|r| format!("{} {}/{}", r.kind.as_str(), r.namespace, r.name))
            .collect();
        if let Some(p) = self.plans.get_mut(plan) {
            p.objects = refs;
        }
        self.finish_canary(plan, outcomes, warnings);
    }

    fn finish_canary(&mut self, plan: usize, outcomes: Outcomes, warnings: Vec<String>) {
        if let Some(p) = self.plans.get_mut(plan) {
            p.annotations = outcomes.into_list();
            p.warnings.extend(warnings);
        }
    }

    fn finish(mut self, total: usize, skipped: Vec<SkippedIngress>) -> MigrationPlan {
        let mut objects = Vec::new();
        for ((namespace, name), gw) in &self.gateways {
            if !gw.used {
                continue;
            }
            let mut listeners = vec![Listener {
                name: "http".into(),
                port: 80,
                protocol: "HTTP".into(),
                ..Listener::default()
            }];
            for (host, (listener, secret, _)) in &gw.tls {
                listeners.push(Listener {
                    name: listener.clone(),
                    hostname: Some(host.clone()),
                    port: 443,
                    protocol: "HTTPS".into(),
                    tls: Some(ListenerTls {
                        mode: Some("Terminate".into()),
                        certificate_refs: vec![ObjectReference {
                            group: Some(String::new()),
                            kind: Some("Secret".into()),
                            name: secret.clone(),
                            ..ObjectReference::default()
                        }],
                        ..ListenerTls::default()
                    }),
                    ..Listener::default()
                });
            }
            for (listener, host) in &gw.passthrough {
                listeners.push(Listener {
                    name: listener.clone(),
                    hostname: Some(host.clone()),
                    port: 443,
                    protocol: "TLS".into(),
                    tls: Some(ListenerTls {
                        mode: Some("Passthrough".into()),
                        ..ListenerTls::default()
                    }),
                    ..Listener::default()
                });
            }
            if listeners.len() > MAX_LISTENERS {
                self.warnings.push(format!(
                    "Gateway {namespace}/{name} needs {} listeners, more than the {MAX_LISTENERS} \
                     a Gateway may have: split its hosts over several Gateways (or ListenerSets)",
                    listeners.len()
                ));
            }
            objects.push(TranslatedObject {
                api_version: Kind::Gateway.api_version(),
                kind: "Gateway".into(),
                namespace: namespace.clone(),
                name: name.clone(),
                body: ObjectBody::Gateway(Box::new(Gateway {
                    metadata: meta(name, namespace),
                    spec: GatewaySpec {
                        gateway_class_name: self.opts.gateway_class.clone(),
                        listeners,
                        ..GatewaySpec::default()
                    },
                    status: None,
                })),
            });
        }
        for r in self.routes {
            let reference = format!("{} {}/{}", r.kind.as_str(), r.namespace, r.name);
            if let Some(p) = self.plans.get_mut(r.owner)
                && !p.canary
            {
                p.objects.push(reference);
            }
            objects.push(TranslatedObject {
                api_version: r.kind.api_version(),
                kind: r.kind.as_str().to_owned(),
                namespace: r.namespace.clone(),
                name: r.name.clone(),
                body: ObjectBody::Route(Box::new(GatewayRoute {
                    metadata: meta(&r.name, &r.namespace),
                    spec: RouteSpec {
                        parent_refs: r.parent_refs,
                        hostnames: r.host.into_iter().collect(),
                        rules: r.rules,
                    },
                    status: None,
                })),
            });
        }
        objects.append(&mut self.extra);
        objects.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));

        let mut uses: BTreeMap<String, (Outcome, BTreeSet<String>)> = BTreeMap::new();
        for p in &self.plans {
            for a in &p.annotations {
                let entry = uses
                    .entry(a.annotation.clone())
                    .or_insert((Outcome::Translated, BTreeSet::new()));
                entry.0 = entry.0.max(a.outcome);
                entry.1.insert(format!("{}/{}", p.namespace, p.name));
            }
        }
        let annotations = uses
            .into_iter()
            .map(|(annotation, (outcome, affected))| AnnotationUse {
                mapping: annotation.strip_prefix(NGINX_PREFIX).and_then(mapping),
                annotation,
                outcome,
                affected: affected.into_iter().collect(),
            })
            .collect();
        let mut ingresses = self.plans;
        for p in &mut ingresses {
            // Routes first, then policies, then grants, each by name.
            p.objects.sort_by_key(|o| {
                let kind = o.split(' ').next().unwrap_or("");
                (
                    !kind.ends_with("Route"),
                    kind == "ReferenceGrant",
                    o.clone(),
                )
            });
        }
        ingresses.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        MigrationPlan {
            options: self.opts.clone(),
            ingresses_total: total,
            objects,
            ingresses,
            skipped,
            annotations,
            warnings: self.warnings,
        }
    }
}

fn meta(name: &str, namespace: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: Some(namespace.to_owned()),
        ..ObjectMeta::default()
    }
}

/// The HTTP-to-HTTPS redirect route of a route whose host has TLS: ingress-nginx redirects such
/// hosts by default, Gateway API does not. One rule per path match of the route, so that the
/// redirect covers this Ingress's paths and no more.
fn redirect_route(route: &RouteDraft) -> RouteDraft {
    let mut seen: Vec<&Option<PathMatch>> = Vec::new();
    let mut rules = Vec::new();
    let redirect = || redirect_filter(Some("https".into()), Some(301), Map::new());
    if route.kind == Kind::GRPCRoute {
        rules.push(RouteRule {
            filters: vec![redirect()],
            ..RouteRule::default()
        });
    } else {
        for m in route.rules.iter().flat_map(|r| r.matches.iter()) {
            if seen.contains(&&m.path) {
                continue;
            }
            seen.push(&m.path);
            rules.push(RouteRule {
                matches: vec![RouteMatch {
                    path: m.path.clone(),
                    ..RouteMatch::default()
                }],
                filters: vec![redirect()],
                ..RouteRule::default()
            });
        }
        if rules.is_empty() {
            rules.push(RouteRule {
                filters: vec![redirect()],
                ..RouteRule::default()
            });
        }
    }
    RouteDraft {
        namespace: route.namespace.clone(),
        name: String::new(),
        kind: Kind::HTTPRoute,
        gateway: route.gateway.clone(),
        host: route.host.clone(),
        keys: rules.iter().map(|_| None).collect(),
        rules,
        parent_refs: vec![ParentReference {
            name: route.gateway.clone(),
            section_name: Some("http".into()),
            ..ParentReference::default()
        }],
        owner: route.owner,
    }
}

fn path_match(type_: &str, value: &str) -> RouteMatch {
    RouteMatch {
        path: Some(PathMatch {
            type_: Some(type_.to_owned()),
            value: Some(value.to_owned()),
        }),
        ..RouteMatch::default()
    }
}

fn redirect_filter(
    scheme: Option<String>,
    status: Option<i32>,
    rest: Map<String, Value>,
) -> RouteFilter {
    RouteFilter {
        type_: "RequestRedirect".into(),
        request_redirect: Some(RequestRedirect {
            scheme,
            status_code: status,
            rest,
        }),
        ..RouteFilter::default()
    }
}

fn filter(type_: &str, field: &str, value: Value) -> RouteFilter {
    let mut rest = Map::new();
    rest.insert(field.to_owned(), value);
    RouteFilter {
        type_: type_.to_owned(),
        rest,
        ..RouteFilter::default()
    }
}

fn header_filter(type_: &str, field: &str, headers: &[(String, String)]) -> RouteFilter {
    let set: Vec<Value> = headers
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    filter(type_, field, json!({ "set": set }))
}

/// `extAuth` for an `auth-url` naming an in-cluster Service, with the Service it calls; `None`
/// for any other URL.
fn ext_auth(s: &Source<'_>, url: &str, outcomes: &mut Outcomes) -> Option<(Value, ServiceUrl)> {
    let target = in_cluster_service(url, &s.namespace)?;
    let mut backend = json!({"name": target.service, "port": target.port});
    if target.namespace != s.namespace {
        backend["namespace"] = json!(target.namespace);
    }
    let mut http = json!({"backendRefs": [backend]});
    if target.path != "/" {
        http["path"] = json!(target.path);
    }
    outcomes.set("auth-url", Outcome::Policy);
    if let Some(headers) = s.get("auth-response-headers") {
        let list = split_list(headers);
        if !list.is_empty() {
            http["headersToBackend"] = json!(list);
            outcomes.set("auth-response-headers", Outcome::Policy);
        }
    }
    Some((json!({ "http": http }), target))
}

/// `basicAuth` for `auth-type: basic` with an `auth-secret` in the Ingress's namespace (Envoy
/// Gateway reads the Secret from the policy's); `None`, with the reason, otherwise.
fn basic_auth(
    s: &Source<'_>,
    outcomes: &mut Outcomes,
    warnings: &mut Vec<String>,
) -> Option<Value> {
    let secret = s.get("auth-secret").map(|v| match v.split_once('/') {
        Some((ns, name)) => (ns, name),
        None => (s.namespace.as_str(), v),
    });
    match (s.get("auth-type"), secret) {
        (Some("basic"), Some((ns, name))) if ns == s.namespace => {
            outcomes.set("auth-type", Outcome::Policy);
            outcomes.set("auth-secret", Outcome::Policy);
            match s.get("auth-secret-type") {
                None | Some("auth-file") => outcomes.set("auth-secret-type", Outcome::Policy),
                Some(_) => warnings.push(
                    "auth-secret-type auth-map: Envoy Gateway reads htpasswd lines from the key \
                     `.htpasswd`; rewrite the Secret"
                        .into(),
                ),
            }
            warnings.push(format!(
                "basic auth: Envoy Gateway reads Secret `{name}` from the key `.htpasswd` \
                 (ingress-nginx: `auth`) and accepts SHA hashes only (`htpasswd -s`): recreate \
                 it before the switch"
            ));
            Some(json!({"users": {"name": name}}))
        }
        (Some("basic"), Some(_)) => {
            warnings.push(
                "auth-secret is in another namespace: Envoy Gateway reads the basic-auth Secret \
                 from the policy's namespace; copy it there"
                    .into(),
            );
            None
        }
        (Some("basic"), None) => {
            warnings.push("auth-type basic without auth-secret".into());
            None
        }
        _ => {
            warnings.push(
                "auth-type digest (or another type) has no Envoy Gateway equivalent: move to \
                 basic over HTTPS, OIDC or JWT"
                    .into(),
            );
            None
        }
    }
}

/// `authorization` from the allow- and deny-lists: Deny rules first (Envoy Gateway applies the
/// first rule that matches), then an Allow rule with `defaultAction: Deny` when there is an
/// allow-list. `None` when a list is not made of CIDRs.
fn source_ranges(
    s: &Source<'_>,
    outcomes: &mut Outcomes,
    warnings: &mut Vec<String>,
) -> Option<Value> {
    // ingress-nginx reads the new name first and the old one as its alias.
    let allow = s
        .get("allowlist-source-range")
        .map(|v| ("allowlist-source-range", v))
        .or_else(|| {
            s.get("whitelist-source-range")
                .map(|v| ("whitelist-source-range", v))
        });
    let deny = s.get("denylist-source-range");
    let allow_cidrs = allow.map(|(_, v)| cidr_list(v));
    let deny_cidrs = deny.map(cidr_list);
    if matches!(allow_cidrs, Some(None)) || matches!(deny_cidrs, Some(None)) {
        warnings
            .push("a source range is not a list of CIDRs: write the authorization by hand".into());
        return None;
    }
    let (allow_cidrs, deny_cidrs) = (allow_cidrs.flatten(), deny_cidrs.flatten());
    let mut rules = Vec::new();
    if let Some(cidrs) = &deny_cidrs {
        rules.push(json!({"action": "Deny", "principal": {"clientCIDRs": cidrs}}));
        outcomes.set("denylist-source-range", Outcome::Policy);
    }
    let mut default_action = "Allow";
    if let (Some((key, _)), Some(cidrs)) = (allow, &allow_cidrs) {
        if cidrs.iter().any(|c| c == "0.0.0.0/0" || c == "::/0") {
            warnings.push(format!(
                "{key} includes a whole address family (`0.0.0.0/0` or `::/0`): the allow-list \
                 lets everyone in, in the translation as before"
            ));
        }
        rules.push(json!({"action": "Allow", "principal": {"clientCIDRs": cidrs}}));
        default_action = "Deny";
        outcomes.set(key, Outcome::Policy);
    }
    Some(json!({"defaultAction": default_action, "rules": rules}))
}

/// `rateLimit` rules for `limit-rps` and `limit-rpm`: per client address, as NGINX's
/// `limit_req` keyed by the remote address. Only a Global limit can count per client in Envoy
/// Gateway (`Distinct` selectors), so the rules are global, one per address family.
fn rate_limits(s: &Source<'_>, outcomes: &mut Outcomes, warnings: &mut Vec<String>) -> Vec<Value> {
    let mut limits = Vec::new();
    for (key, unit) in [("limit-rps", "Second"), ("limit-rpm", "Minute")] {
        let Some(v) = s.get(key) else { continue };
        match v.parse::<u32>() {
            Ok(n) if n > 0 => {
                for cidr in ["0.0.0.0/0", "::/0"] {
                    limits.push(json!({
                        "clientSelectors": [{"sourceCIDR": {"type": "Distinct", "value": cidr}}],
                        "limit": {"requests": n, "unit": unit},
                    }));
                }
                outcomes.set(key, Outcome::Policy);
            }
            _ => warnings.push(format!(
                "{key} is not a positive number: write the rate limit by hand"
            )),
        }
    }
    if !limits.is_empty() {
        warnings.push(
            "rate limit: per client address as before, but counted across all Envoy replicas by \
             Envoy Gateway's rate-limit service (Redis), which must be enabled; NGINX also \
             allowed bursts (limit-burst-multiplier, 5 by default)"
                .into(),
        );
    }
    limits
}

/// The CORS settings of an Ingress, with ingress-nginx's defaults made explicit. `None` when no
/// origin is usable.
fn cors(s: &Source<'_>, warnings: &mut Vec<String>) -> Option<Value> {
    let origins: Vec<String> = match s.get("cors-allow-origin") {
        Some(v) => {
            let all = split_list(v);
            let valid: Vec<String> = all.iter().filter(|o| is_origin(o)).cloned().collect();
            if valid.len() < all.len() {
                warnings.push(
                    "cors-allow-origin: origins that are neither `*` nor `http(s)://HOST[:PORT]` \
                     are left out"
                        .into(),
                );
            }
            valid
        }
        None => vec!["*".into()],
    };
    if origins.is_empty() {
        return None;
    }
    let methods = s.get("cors-allow-methods").map_or_else(
        || split_list("GET, PUT, POST, DELETE, PATCH, OPTIONS"),
        |v| {
            split_list(v)
                .into_iter()
                .map(|m| m.to_ascii_uppercase())
                .collect()
        },
    );
    let headers = s.get("cors-allow-headers").map_or_else(
        || {
            split_list(
                "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,\
                 Content-Type,Range,Authorization",
            )
        },
        split_list,
    );
    let mut credentials = s.flag("cors-allow-credentials").unwrap_or(true);
    if credentials && origins.iter().any(|o| o == "*") {
        // NGINX sent `Access-Control-Allow-Origin: *`, with which browsers refuse credentialed
        // requests. Envoy echoes the request's Origin instead, which would let every site send
        // them: keep the effective behaviour.
        credentials = false;
        warnings.push(
            "CORS allows every origin (`*`) with credentials: written with `allowCredentials: \
             false`, since Envoy echoes the request's Origin and would let every site send \
             credentialed requests (browsers refused them from NGINX's `*`)"
                .into(),
        );
    }
    let max_age = match s.get("cors-max-age") {
        Some(v) => match v.parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                warnings.push("cors-max-age is not a number of seconds: 1728000 used".into());
                1_728_000
            }
        },
        None => 1_728_000,
    };
    let mut spec = json!({
        "allowOrigins": origins,
        "allowMethods": methods,
        "allowHeaders": headers,
        "allowCredentials": credentials,
        "maxAge": format!("{max_age}s"),
    });
    if let Some(expose) = s.get("cors-expose-headers") {
        spec["exposeHeaders"] = json!(split_list(expose));
    }
    Some(spec)
}

/// An Envoy Gateway CORS origin: `*`, or `http(s)://` and a host (which may start with `*.`)
/// with an optional port.
fn is_origin(o: &str) -> bool {
    if o == "*" {
        return true;
    }
    let Some(rest) = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = rest.split_once(':').unwrap_or((rest, ""));
    let host = host.strip_prefix("*.").unwrap_or(host);
    (host == "*" || is_hostname(host))
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A comma-separated list of CIDRs (or addresses); `None` when an entry is not one.
fn cidr_list(v: &str) -> Option<Vec<String>> {
    let list = split_list(v);
    let valid = !list.is_empty()
        && list.iter().all(|c| {
            let (addr, prefix) = c.split_once('/').unwrap_or((c, ""));
            addr.parse::<std::net::IpAddr>().is_ok()
                && prefix.bytes().all(|b| b.is_ascii_digit())
                && prefix.len() <= 3
        });
    valid.then_some(list)
}

/// An authorization service inside the cluster, from `auth-url`.
struct ServiceUrl {
    service: String,
    namespace: String,
    port: i32,
    path: String,
}

/// Reads `http://NAME.NAMESPACE.svc[.cluster.local][:PORT][/PATH]` (or `http://NAME` in the
/// Ingress's namespace). HTTPS and hosts outside the cluster are left to the user: they need
/// backend TLS or an Envoy Gateway Backend object.
fn in_cluster_service(url: &str, namespace: &str) -> Option<ServiceUrl> {
    let rest = url.strip_prefix("http://")?;
    if rest.contains(['$', '?', '#', '@']) {
        return None;
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i)?, rest.get(i..)?),
        None => (rest, "/"),
    };
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<i32>().ok().filter(|p| (1..=65535).contains(p))?,
        ),
        None => (authority, 80),
    };
    let host = host.strip_suffix(".cluster.local").unwrap_or(host);
    let labels: Vec<&str> = host.split('.').collect();
    let (service, ns) = match labels.as_slice() {
        [service, ns, "svc"] => (*service, *ns),
        [service] => (*service, namespace),
        _ => return None,
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    (label_ok(service) && label_ok(ns) && is_plain_path(path)).then(|| ServiceUrl {
        service: service.to_owned(),
        namespace: ns.to_owned(),
        port,
        path: path.to_owned(),
    })
}

/// `scheme://host[:port][/path]` as a `RequestRedirect` (`scheme`, `hostname`, `port`,
/// `path`); `None` for anything with a query, a fragment or NGINX variables, which a redirect
/// filter cannot express.
fn parse_redirect_target(url: &str) -> Option<Map<String, Value>> {
    if url.contains(['$', '?', '#', ' ', '@']) {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i)?, rest.get(i..)?),
        None => (rest, "/"),
    };
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (
            h,
            Some(p.parse::<i32>().ok().filter(|p| (1..=65535).contains(p))?),
        ),
        None => (authority, None),
    };
    if !is_hostname(host) || !is_plain_path(path) {
        return None;
    }
    let mut out = Map::new();
    out.insert("scheme".into(), json!(scheme));
    out.insert("hostname".into(), json!(host));
    if let Some(port) = port {
        out.insert("port".into(), json!(port));
    }
    out.insert(
        "path".into(),
        json!({"type": "ReplaceFullPath", "replaceFullPath": path}),
    );
    Some(out)
}

/// The replacement prefix of a `rewrite-target` of the form `TARGET/$2` (the second capture
/// group of `PREFIX(/|$)(.*)` is the rest of the path): `/$2` → `/`, `/new/$2` → `/new`.
fn rewrite_prefix_target(target: &str) -> Option<String> {
    let base = target.strip_suffix("/$2")?;
    if base.is_empty() {
        return Some("/".into());
    }
    is_plain_path(base).then(|| base.to_owned())
}

/// A path made of plain characters only: it starts with `/` and has no regex syntax, NGINX
/// variables, query or white space.
fn is_plain_path(p: &str) -> bool {
    p.starts_with('/')
        && !has_regex_syntax(p)
        && p.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#' && b != b'$')
}

fn has_regex_syntax(p: &str) -> bool {
    p.contains([
        '^', '$', '(', ')', '[', ']', '{', '}', '*', '+', '?', '|', '\\',
    ])
}

/// Why the Gateway API would refuse a path value (its CEL rules), if it would.
fn gateway_path_problem(p: &str) -> Option<&'static str> {
    if !p.starts_with('/') {
        return Some("does not start with `/`");
    }
    if p.contains("//") || p.contains("/./") || p.contains("/../") {
        return Some("contains `//`, `/./` or `/../`");
    }
    if p.ends_with("/.") || p.ends_with("/..") {
        return Some("ends with `/.` or `/..`");
    }
    if p.contains("%2f") || p.contains("%2F") || p.contains('#') {
        return Some("contains an encoded slash or `#`");
    }
    None
}

/// A DNS host name (labels of letters, digits and `-`).
fn is_hostname(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The GRPCRoute match of an Ingress path: `/` (or empty) matches everything (`Some(None)`),
/// `/SERVICE[/]` and `/SERVICE/METHOD` match that service or method; anything else cannot be
/// expressed (`None`).
fn grpc_method(path: &str) -> Option<Option<Value>> {
    let rest = path.strip_prefix('/')?;
    if rest.is_empty() {
        return Some(None);
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut parts = rest.split('/');
    let service = parts.next().filter(|s| is_grpc_name(s))?;
    let method = parts.next();
    if parts.next().is_some() {
        return None;
    }
    match method {
        None => Some(Some(json!({"type": "Exact", "service": service}))),
        Some(m) if is_grpc_name(m) => Some(Some(
            json!({"type": "Exact", "service": service, "method": m}),
        )),
        Some(_) => None,
    }
}

fn is_grpc_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

/// A host as a name part: lower case, `*` spelled `wildcard`, anything but letters and digits
/// a `-`.
fn slug(host: &str) -> String {
    let mut out = String::with_capacity(host.len() + 8);
    for c in host.chars() {
        match c {
            '*' => out.push_str("wildcard"),
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            _ => out.push('-'),
        }
    }
    out.trim_matches('-').to_owned()
}

/// A valid object name (DNS subdomain, at most 253 characters) from `name`.
fn dns_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(253)
        .collect();
    while out.ends_with(['-', '.']) {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("route");
    }
    out
}

/// `wanted`, or `wanted-2`, `wanted-3`… : the first name `free` accepts.
fn unique_name(wanted: &str, free: impl Fn(&str) -> bool) -> Option<String> {
    if free(wanted) {
        return Some(wanted.to_owned());
    }
    (2..10_000)
        .map(|i| format!("{wanted}-{i}"))
        .find(|n| free(n))
}

#[cfg(test)]
mod tests;
