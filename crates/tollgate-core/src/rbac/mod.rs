//! RBAC resolution: who may do what, from the Roles, ClusterRoles, RoleBindings and
//! ClusterRoleBindings of the inventory.
//!
//! The semantics are the Kubernetes RBAC authorizer's (`plugin/pkg/auth/authorizer/rbac`),
//! including the cases other tools get wrong:
//!
//! - a rule is matched as [`matching`] describes: wildcards, `""` for the core group, `ingresses`
//!   not granting `ingresses/status`, `*/status`, resourceNames that never grant a nameless
//!   request (create, deletecollection, an unrestricted list or watch), nonResourceURLs with a
//!   trailing `*`;
//! - a RoleBinding grants its role's rules in its own namespace only, even when it binds a
//!   ClusterRole; a ClusterRoleBinding grants them everywhere; nonResourceURLs and cluster-scoped
//!   resources are granted by ClusterRoleBindings only;
//! - an aggregated ClusterRole (`aggregationRule.clusterRoleSelectors`) holds the rules of every
//!   other ClusterRole its selectors match, transitively, as the aggregation controller would
//!   fill it in. Manifests leave `rules` empty; Tollgate computes them (and keeps any rules the
//!   object already has);
//! - a binding to a role that does not exist grants nothing today, but would the moment the
//!   role is created: it is reported as *latent*;
//! - `system:masters` is allowed everything before RBAC is asked.
//!
//! When a binding names one of Kubernetes' default ClusterRoles (`cluster-admin`, `admin`,
//! `edit`, `view`) and the input does not hold it, as manifests usually do not, the role is
//! assumed as Kubernetes ships it (`data/kubernetes-default-clusterroles.yaml`) and the answer
//! says so. A cluster listing uses the live roles.
//!
//! Every answer is a lower bound: other authorizers (Node, webhooks such as EKS access entries
//! or GKE IAM, ABAC) can allow more, and RBAC cannot say who is in a group.

pub mod controllers;
mod matching;
mod resources;
pub mod review;
mod subject;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::OnceLock;

use k8s_openapi::api::rbac::v1::{PolicyRule, RoleRef};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;

use crate::inventory::{Inventory, selector_matches};
use crate::manifest::Manifests;
use crate::object::{Kind, Object, Resource};

pub use resources::Target;
pub use subject::{
    ANONYMOUS_USER, AUTHENTICATED_GROUP, Identity, MASTERS_GROUP, SERVICE_ACCOUNTS_GROUP, Subject,
    SubjectClass, SubjectKind, UNAUTHENTICATED_GROUP,
};

/// The limit every answer states.
pub const LOWER_BOUND_NOTE: &str = "RBAC only: other authorizers (Node, webhook authorizers such \
    as EKS access entries and the aws-auth ConfigMap, GKE and other cloud IAM, ABAC) can allow \
    more, so this is a lower bound. Group membership comes from the identity provider and is not \
    visible here.";

/// Why `system:masters` is always allowed.
pub const MASTERS_NOTE: &str = "members of group `system:masters` are allowed everything: the API \
    server lets them through before RBAC is asked, whatever the bindings say";

/// The verbs that change an object or a collection.
pub const WRITE_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

/// A question for the resolver: may anyone `verb` the `target`, in `namespace`, named `name`?
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Query {
    /// The verb (`create`, `get`, `update`, `escalate`, ...). Verbs are case-sensitive, as in RBAC.
    pub verb: String,
    /// What the request is about.
    #[serde(flatten)]
    pub target: Target,
    /// The namespace of the request. `None` asks "anywhere": every grant is listed with where it
    /// applies, ClusterRoleBindings (everywhere) and RoleBindings (in their namespace) alike.
    /// Ignored for cluster-scoped resources and URLs, which only ClusterRoleBindings grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object's name. `None` asks about any object, which a rule restricted to
    /// resourceNames does not allow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Query {
    /// A query about a target, anywhere, any name.
    #[must_use]
    pub fn new(verb: &str, target: Target) -> Query {
        Query {
            verb: verb.to_owned(),
            target,
            namespace: None,
            name: None,
        }
    }

    /// Reads `VERB RESOURCE[/SUBRESOURCE]` as a user types it (see [`Target::parse`]).
    ///
    /// # Errors
    /// When the verb is empty or the resource cannot be read.
    pub fn parse(verb: &str, resource: &str) -> Result<Query, String> {
        let verb = verb.trim();
        if verb.is_empty() {
            return Err("name a verb, e.g. `create`".into());
        }
        Ok(Query::new(verb, Target::parse(resource)?))
    }

    /// The same query in one namespace.
    #[must_use]
    pub fn in_namespace(mut self, namespace: &str) -> Query {
        self.namespace = Some(namespace.to_owned());
        self
    }

    /// The same query about one object.
    #[must_use]
    pub fn named(mut self, name: &str) -> Query {
        self.name = Some(name.to_owned());
        self
    }

    /// The name the request carries. A create or deletecollection of a resource names no object
    /// (the name of a new object is in its body, not its URL), whatever the query says.
    fn request_name(&self) -> Option<&str> {
        if self.ignores_name() {
            return None;
        }
        self.name.as_deref()
    }

    fn ignores_name(&self) -> bool {
        let whole_resource = matches!(
            &self.target,
            Target::Resource {
                subresource: None,
                ..
            }
        );
        whole_resource && matches!(self.verb.as_str(), "create" | "deletecollection")
    }

    /// `create ingresses (networking.k8s.io) in namespace storefront named web`.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut s = format!("{} {}", self.verb, self.target.describe());
        match (&self.target, &self.namespace) {
            (
                Target::Resource {
                    cluster_scoped: false,
                    ..
                },
                Some(ns),
            ) => s.push_str(&format!(" in namespace {ns}")),
            (
                Target::Resource {
                    cluster_scoped: false,
                    ..
                },
                None,
            ) => s.push_str(" in any namespace"),
            _ => {}
        }
        if let Some(name) = &self.name {
            s.push_str(&format!(" named {name}"));
        }
        s
    }
}

/// A Role, ClusterRole, RoleBinding or ClusterRoleBinding as answers name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RbacObject {
    /// `Role`, `ClusterRole`, `RoleBinding` or `ClusterRoleBinding`.
    pub kind: &'static str,
    /// The namespace of a Role or RoleBinding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
    /// Index into [`Inventory::objects`]; `None` for a role that is not in the input (a
    /// Kubernetes default Tollgate assumed, or a missing role).
    #[serde(skip)]
    pub object: Option<usize>,
}

impl fmt::Display for RbacObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Where a grant applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "scope", content = "namespace", rename_all = "kebab-case")]
pub enum GrantScope {
    /// Everywhere (a ClusterRoleBinding).
    ClusterWide,
    /// In one namespace (a RoleBinding).
    Namespace(String),
}

impl fmt::Display for GrantScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrantScope::ClusterWide => f.write_str("cluster-wide"),
            GrantScope::Namespace(ns) => write!(f, "namespace {ns}"),
        }
    }
}

/// The rule of a role that allows a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// The role whose `rules` hold it: the bound role itself, or for an aggregated ClusterRole
    /// the part it was aggregated from.
    pub role: RbacObject,
    /// Index in that role's `rules`.
    pub index: usize,
    /// The rule, compactly (`verbs [create] on networking.k8s.io ingresses`).
    pub text: String,
    /// Whether the rule grants through a wildcard rather than by naming the permission.
    pub wildcard: bool,
    /// Index in the rule's `resources` of the entry that matched (for pointers).
    #[serde(skip)]
    pub resource_index: Option<usize>,
}

impl RuleRef {
    /// JSON pointer into the role holding the rule: to the matching resource entry when there
    /// is one, else to the rule.
    #[must_use]
    pub fn pointer(&self) -> String {
        match self.resource_index {
            Some(r) => format!("/rules/{}/resources/{r}", self.index),
            None => format!("/rules/{}", self.index),
        }
    }
}

/// One subject allowed by one binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// Who.
    pub subject: Subject,
    /// What kind of principal.
    pub class: SubjectClass,
    /// Whether this is Kubernetes' own machinery (a `system:` component, or a default binding
    /// of the bootstrap policy): shown, but dimmed, and never reported by rules.
    pub builtin: bool,
    /// Where it applies.
    #[serde(flatten)]
    pub scope: GrantScope,
    /// The binding.
    pub binding: RbacObject,
    /// Index of the subject in the binding's `subjects`.
    pub subject_index: usize,
    /// The role the binding refers to.
    pub role: RbacObject,
    /// Whether the role (or the part of it that grants) is a Kubernetes default assumed
    /// because the input does not hold it.
    pub assumed: bool,
    /// The first rule that allows the request.
    pub rule: RuleRef,
}

impl Grant {
    /// Whether the grant comes through the `cluster-admin` ClusterRole, which can do anything.
    #[must_use]
    pub fn is_cluster_admin(&self) -> bool {
        self.role.kind == "ClusterRole" && self.role.name == "cluster-admin"
    }

    /// Pointer to the subject in the binding.
    #[must_use]
    pub fn subject_pointer(&self) -> String {
        format!("/subjects/{}", self.subject_index)
    }
}

/// A binding that grants nothing today because its role does not exist, and would grant
/// whatever a role of that name is given the moment one is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Latent {
    /// Who.
    pub subject: Subject,
    /// Where it would apply.
    #[serde(flatten)]
    pub scope: GrantScope,
    /// The binding.
    pub binding: RbacObject,
    /// The role it names.
    pub role: RbacObject,
    /// Why it grants nothing.
    pub reason: String,
}

/// A subject allowed without RBAC being asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlwaysAllowed {
    /// Who.
    pub subject: Subject,
    /// Why.
    pub reason: &'static str,
}

/// The resolver's answer to a [`Query`].
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// The question.
    pub query: Query,
    /// Every subject a binding allows, with the binding and rule; built-in ones included.
    pub grants: Vec<Grant>,
    /// Bindings in scope whose role does not exist.
    pub latent: Vec<Latent>,
    /// Subjects allowed whatever RBAC says (`system:masters`).
    pub always_allowed: Vec<AlwaysAllowed>,
    /// What the answer cannot see, starting with [`LOWER_BOUND_NOTE`].
    pub limits: Vec<String>,
}

impl Answer {
    /// Whether a request by `identity` would be allowed (in some namespace, when the query
    /// names none).
    #[must_use]
    pub fn allows(&self, identity: &Identity) -> bool {
        identity.is_master() || self.grants_to(identity).next().is_some()
    }

    /// The grants that reach `identity`, directly or through its groups.
    pub fn grants_to<'s>(&'s self, identity: &'s Identity) -> impl Iterator<Item = &'s Grant> {
        self.grants
            .iter()
            .filter(move |g| g.subject.matches(identity))
    }
}

/// The roles and bindings of an inventory, resolved once and queried many times.
pub struct Policy<'a> {
    roles: Vec<RoleDef<'a>>,
    role_index: HashMap<(bool, &'a str, &'a str), usize>,
    bindings: Vec<BindingDef<'a>>,
    /// Whether an absent Role / ClusterRole is known not to exist (a complete listing of the
    /// kind) rather than merely not among the objects read.
    listed: [bool; 2],
    limits: Vec<String>,
}

struct RoleDef<'a> {
    cluster: bool,
    namespace: &'a str,
    name: &'a str,
    object: Option<usize>,
    labels: Option<&'a BTreeMap<String, String>>,
    own: &'a [PolicyRule],
    selectors: Option<&'a [LabelSelector]>,
    /// (role holding the rule, index in its own rules), own rules first.
    effective: Vec<(usize, usize)>,
}

impl RoleDef<'_> {
    fn object_ref(&self) -> RbacObject {
        RbacObject {
            kind: if self.cluster { "ClusterRole" } else { "Role" },
            namespace: (!self.cluster).then(|| self.namespace.to_owned()),
            name: self.name.to_owned(),
            object: self.object,
        }
    }
}

struct BindingDef<'a> {
    object: usize,
    cluster: bool,
    namespace: &'a str,
    name: &'a str,
    role_ref: &'a RoleRef,
    subjects: Vec<(usize, Subject)>,
    bootstrap: bool,
}

impl BindingDef<'_> {
    fn object_ref(&self) -> RbacObject {
        RbacObject {
            kind: if self.cluster {
                "ClusterRoleBinding"
            } else {
                "RoleBinding"
            },
            namespace: (!self.cluster).then(|| self.namespace.to_owned()),
            name: self.name.to_owned(),
            object: Some(self.object),
        }
    }

    fn scope(&self) -> GrantScope {
        if self.cluster {
            GrantScope::ClusterWide
        } else {
            GrantScope::Namespace(self.namespace.to_owned())
        }
    }
}

/// The label Kubernetes puts on the roles and bindings of its bootstrap policy.
const BOOTSTRAP_LABEL: (&str, &str) = ("kubernetes.io/bootstrapping", "rbac-defaults");

impl<'a> Policy<'a> {
    /// Resolves the inventory's roles (aggregation included) and bindings.
    #[must_use]
    pub fn new(inv: &'a Inventory) -> Policy<'a> {
        let mut roles: Vec<RoleDef<'a>> = Vec::new();
        for kind in [Kind::Role, Kind::ClusterRole] {
            for (index, o) in inv.of_kind(kind) {
                if let Some(def) = role_def(o, Some(index)) {
                    roles.push(def);
                }
            }
        }
        let mut role_index: HashMap<(bool, &'a str, &'a str), usize> = HashMap::new();
        for (i, r) in roles.iter().enumerate() {
            // The first definition wins, as in the inventory's own index.
            role_index
                .entry((r.cluster, r.namespace, r.name))
                .or_insert(i);
        }
        let scope = &inv.scope;
        let listed = |kind| scope.complete && scope.has(kind) && !scope.denied.contains_key(&kind);
        let cluster_roles_listed = listed(Kind::ClusterRole);
        if !cluster_roles_listed {
            for o in default_cluster_roles() {
                if role_index.contains_key(&(true, "", o.name.as_str())) {
                    continue;
                }
                if let Some(def) = role_def(o, None) {
                    role_index.insert((true, "", o.name.as_str()), roles.len());
                    roles.push(def);
                }
            }
        }
        aggregate(&mut roles);

        let mut bindings = Vec::new();
        for kind in [Kind::ClusterRoleBinding, Kind::RoleBinding] {
            for (index, o) in inv.of_kind(kind) {
                let (meta, role_ref, subjects) = match &o.resource {
                    Resource::RoleBinding(b) => (&b.metadata, &b.role_ref, &b.subjects),
                    Resource::ClusterRoleBinding(b) => (&b.metadata, &b.role_ref, &b.subjects),
                    _ => continue,
                };
                let cluster = kind == Kind::ClusterRoleBinding;
                let namespace = if cluster { "" } else { o.ns() };
                let binding_ns = (!cluster).then_some(namespace);
                let subjects = subjects
                    .iter()
                    .flatten()
                    .enumerate()
                    .filter_map(|(i, s)| Subject::from_binding(s, binding_ns).map(|s| (i, s)))
                    .collect();
                let bootstrap = meta
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(BOOTSTRAP_LABEL.0))
                    .is_some_and(|v| v == BOOTSTRAP_LABEL.1);
                bindings.push(BindingDef {
                    object: index,
                    cluster,
                    namespace,
                    name: o.name.as_str(),
                    role_ref,
                    subjects,
                    bootstrap,
                });
            }
        }

        let mut limits = vec![LOWER_BOUND_NOTE.to_owned()];
        for kind in [
            Kind::Role,
            Kind::ClusterRole,
            Kind::RoleBinding,
            Kind::ClusterRoleBinding,
        ] {
            if let Some(reason) = scope.denied.get(&kind) {
                limits.push(format!(
                    "{} could not be listed ({reason}): grants through them are missing",
                    kind.api_path().plural
                ));
            }
        }
        if !scope.complete && bindings.is_empty() {
            limits.push(
                "no RoleBindings or ClusterRoleBindings were among the objects read: only \
                 system:masters is known to be allowed"
                    .into(),
            );
        }
        if let Some(ns) = &scope.namespace {
            limits.push(format!(
                "only namespace {ns} was listed: RoleBindings of other namespaces are not known"
            ));
        }
        Policy {
            roles,
            role_index,
            bindings,
            listed: [listed(Kind::Role), cluster_roles_listed],
            limits,
        }
    }

    /// Who may make the request `query` describes.
    #[must_use]
    pub fn who_can(&self, query: &Query) -> Answer {
        let request = matching::Request {
            verb: &query.verb,
            target: &query.target,
            name: query.request_name(),
        };
        let mut grants = Vec::new();
        let mut latent = Vec::new();
        let mut assumed_roles: Vec<String> = Vec::new();
        for b in &self.bindings {
            if !applies(b, query) {
                continue;
            }
            let role = match self.resolve(b) {
                Ok(role) => role,
                Err((role, reason)) => {
                    latent.extend(b.subjects.iter().map(|(_, s)| Latent {
                        subject: s.clone(),
                        scope: b.scope(),
                        binding: b.object_ref(),
                        role: role.clone(),
                        reason: reason.clone(),
                    }));
                    continue;
                }
            };
            let def = &self.roles[role];
            let Some(&(holder, index)) = def.effective.iter().find(|&&(holder, index)| {
                matching::rule_allows(&self.roles[holder].own[index], &request)
            }) else {
                continue;
            };
            let rule = &self.roles[holder].own[index];
            let resource_index = match &query.target {
                Target::Resource {
                    resource,
                    subresource,
                    ..
                } => matching::matching_resource(rule, resource, subresource.as_deref()),
                Target::NonResource { .. } => None,
            };
            let rule_ref = RuleRef {
                role: self.roles[holder].object_ref(),
                index,
                text: rule_text(rule),
                wildcard: matching::is_wildcard(rule),
                resource_index,
            };
            let assumed = def.object.is_none() || self.roles[holder].object.is_none();
            for r in [def, &self.roles[holder]] {
                if r.object.is_none() && !assumed_roles.iter().any(|n| n == r.name) {
                    assumed_roles.push(r.name.to_owned());
                }
            }
            for (subject_index, subject) in &b.subjects {
                grants.push(Grant {
                    class: subject.class(),
                    builtin: is_builtin(b, def.name, subject),
                    subject: subject.clone(),
                    scope: b.scope(),
                    binding: b.object_ref(),
                    subject_index: *subject_index,
                    role: def.object_ref(),
                    assumed,
                    rule: rule_ref.clone(),
                });
            }
        }
        grants.sort_by(|a, b| {
            (&a.scope, a.builtin, &a.binding, a.subject_index).cmp(&(
                &b.scope,
                b.builtin,
                &b.binding,
                b.subject_index,
            ))
        });
        let mut limits = self.limits.clone();
        if query.ignores_name() && query.name.is_some() {
            limits.push(format!(
                "a {} request names no object, so the name is not used and rules limited to \
                 resourceNames do not allow it",
                query.verb
            ));
        }
        let cluster_scoped = match &query.target {
            Target::Resource {
                group,
                resource,
                cluster_scoped,
                ..
            } => *cluster_scoped && !(group.is_empty() && resource == "namespaces"),
            Target::NonResource { .. } => true,
        };
        if cluster_scoped && query.namespace.is_some() {
            limits.push(format!(
                "{} is not namespaced: only ClusterRoleBindings grant it, and the namespace is \
                 not used",
                query.target.describe()
            ));
        }
        if !assumed_roles.is_empty() {
            let names: Vec<String> = assumed_roles.iter().map(|n| format!("`{n}`")).collect();
            limits.push(if names.len() == 1 {
                format!(
                    "ClusterRole {} is not in the input: assumed to be Kubernetes' default",
                    names[0]
                )
            } else {
                format!(
                    "ClusterRoles {} are not in the input: assumed to be Kubernetes' defaults",
                    names.join(", ")
                )
            });
        }
        Answer {
            query: query.clone(),
            grants,
            latent,
            always_allowed: vec![AlwaysAllowed {
                subject: Subject::group(MASTERS_GROUP),
                reason: MASTERS_NOTE,
            }],
            limits,
        }
    }

    /// The role a binding refers to, or what it names and why it grants nothing.
    fn resolve(&self, b: &BindingDef<'_>) -> Result<usize, (RbacObject, String)> {
        let name = b.role_ref.name.as_str();
        let (cluster, kind) = match b.role_ref.kind.as_str() {
            "ClusterRole" => (true, "ClusterRole"),
            "Role" if !b.cluster => (false, "Role"),
            other => {
                let role = RbacObject {
                    kind: "Role",
                    namespace: None,
                    name: name.to_owned(),
                    object: None,
                };
                let reason = if other == "Role" {
                    "a ClusterRoleBinding can only refer to a ClusterRole".to_owned()
                } else {
                    format!("roleRef kind `{other}` is neither Role nor ClusterRole")
                };
                return Err((role, reason));
            }
        };
        let namespace = if cluster { "" } else { b.namespace };
        if let Some(&i) = self.role_index.get(&(cluster, namespace, name)) {
            return Ok(i);
        }
        let role = RbacObject {
            kind,
            namespace: (!cluster).then(|| namespace.to_owned()),
            name: name.to_owned(),
            object: None,
        };
        let where_ = if cluster {
            String::new()
        } else {
            format!(" in namespace `{namespace}`")
        };
        let reason = if self.listed[usize::from(cluster)] {
            format!("{kind} `{name}` does not exist{where_}")
        } else {
            format!("{kind} `{name}`{where_} is not among the objects read")
        };
        Err((role, reason))
    }
}

/// Who may make the request `query` describes (see [`Policy::who_can`]; build a [`Policy`]
/// once to ask many questions).
#[must_use]
pub fn who_can(inv: &Inventory, query: &Query) -> Answer {
    Policy::new(inv).who_can(query)
}

/// Whether a binding can grant the request at all, by its scope.
fn applies(b: &BindingDef<'_>, query: &Query) -> bool {
    if b.cluster {
        return true;
    }
    match &query.target {
        Target::NonResource { .. } => false,
        Target::Resource {
            group,
            resource,
            cluster_scoped: true,
            ..
        } => {
            // `GET /api/v1/namespaces/NAME` is a request in namespace NAME, so a RoleBinding there
            // can allow reading (or changing) its own Namespace object.
            group.is_empty()
                && resource == "namespaces"
                && query.name.as_deref() == Some(b.namespace)
        }
        Target::Resource { .. } => query
            .namespace
            .as_deref()
            .is_none_or(|ns| ns == b.namespace),
    }
}

/// Kubernetes' own machinery: a `system:` subject (not the groups that reach everyone), a
/// binding of the bootstrap policy, or a `system:` binding of a `system:` role or of a
/// `kube-system` service account.
fn is_builtin(b: &BindingDef<'_>, role: &str, subject: &Subject) -> bool {
    if subject.class() == SubjectClass::BuiltIn || b.bootstrap {
        return true;
    }
    let system_sa = subject.kind == SubjectKind::ServiceAccount
        && subject.namespace.as_deref() == Some("kube-system");
    b.name.starts_with("system:") && (role.starts_with("system:") || system_sa)
}

fn role_def(o: &Object, object: Option<usize>) -> Option<RoleDef<'_>> {
    let (cluster, meta, rules, selectors) = match &o.resource {
        Resource::Role(r) => (false, &r.metadata, &r.rules, None),
        Resource::ClusterRole(r) => (
            true,
            &r.metadata,
            &r.rules,
            r.aggregation_rule
                .as_ref()
                .map(|a| a.cluster_role_selectors.as_deref().unwrap_or_default()),
        ),
        _ => return None,
    };
    Some(RoleDef {
        cluster,
        namespace: if cluster { "" } else { o.ns() },
        name: o.name.as_str(),
        object,
        labels: meta.labels.as_ref(),
        own: rules.as_deref().unwrap_or_default(),
        selectors,
        effective: Vec::new(),
    })
}

/// Fills every role's effective rules: its own, and for an aggregated ClusterRole the rules of
/// every other ClusterRole its selectors match, and of every ClusterRole those aggregate in turn
/// (the `view` → `edit` → `admin` chain). This is the fixed point the aggregation controller
/// reaches, cycles included; it is computed without recursion so that no input can exhaust the
/// stack.
fn aggregate(roles: &mut [RoleDef<'_>]) {
    let empty = BTreeMap::new();
    // The ClusterRoles each aggregated role selects directly, in name order as the controller
    // takes them.
    let parts: Vec<Vec<usize>> = roles
        .iter()
        .enumerate()
        .map(|(i, role)| {
            let Some(selectors) = role.selectors else {
                return Vec::new();
            };
            let mut selected: Vec<usize> = (0..roles.len())
                .filter(|&j| j != i && roles[j].cluster && roles[j].name != role.name)
                .filter(|&j| {
                    let labels = roles[j].labels.unwrap_or(&empty);
                    selectors.iter().any(|s| selector_matches(s, labels))
                })
                .collect();
            selected.sort_by_key(|&j| roles[j].name);
            selected
        })
        .collect();
    for i in 0..roles.len() {
        let mut rules: Vec<(usize, usize)> = (0..roles[i].own.len()).map(|r| (i, r)).collect();
        if !parts[i].is_empty() {
            let mut seen = vec![false; roles.len()];
            seen[i] = true;
            let mut queue: std::collections::VecDeque<usize> = parts[i].iter().copied().collect();
            for &j in &parts[i] {
                seen[j] = true;
            }
            while let Some(j) = queue.pop_front() {
                rules.extend((0..roles[j].own.len()).map(|r| (j, r)));
                for &k in &parts[j] {
                    if !seen[k] {
                        seen[k] = true;
                        queue.push_back(k);
                    }
                }
            }
        }
        roles[i].effective = rules;
    }
}

/// Kubernetes' default ClusterRoles, read once from the data file.
fn default_cluster_roles() -> &'static [Object] {
    static ROLES: OnceLock<Vec<Object>> = OnceLock::new();
    ROLES.get_or_init(|| {
        let mut m = Manifests::default();
        m.add_text(
            "data/kubernetes-default-clusterroles.yaml",
            include_str!("../../data/kubernetes-default-clusterroles.yaml").to_owned(),
        );
        m.objects
    })
}

/// `verbs [create, update] on networking.k8s.io ingresses` (with names or URLs when present).
fn rule_text(rule: &PolicyRule) -> String {
    let list = |v: &[String]| v.join(", ");
    let verbs = list(&rule.verbs);
    if let Some(urls) = rule.non_resource_urls.as_deref().filter(|u| !u.is_empty()) {
        return format!("verbs [{verbs}] on URLs [{}]", list(urls));
    }
    let groups: Vec<&str> = rule
        .api_groups
        .iter()
        .flatten()
        .map(|g| if g.is_empty() { "core" } else { g.as_str() })
        .collect();
    let mut s = format!(
        "verbs [{verbs}] on [{}] in groups [{}]",
        list(rule.resources.as_deref().unwrap_or_default()),
        groups.join(", ")
    );
    if let Some(names) = rule.resource_names.as_deref().filter(|n| !n.is_empty()) {
        s.push_str(&format!(" named [{}]", list(names)));
    }
    s
}

#[cfg(test)]
mod tests;
