//! The "who can change what is exposed" matrix: for each way to change an Ingress route,
//! directly or not (the route itself, its status, its Services and endpoints, its TLS Secrets and
//! their issuers, the controller and its configuration, the admission checks that guard them,
//! Gateway API routes, and the RBAC escalation verbs), every subject that can.
//!
//! Nothing is left out: Kubernetes' own components are listed too, marked built-in so that
//! readers can dim or filter them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::controllers::{ControllerAccount, controller_accounts};
use super::{
    AlwaysAllowed, GrantScope, Latent, Policy, Query, RbacObject, RuleRef, Subject, SubjectClass,
    Target, WRITE_VERBS,
};
use crate::inventory::Inventory;
use crate::object::{Kind, Resource};

/// The whole matrix.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    /// One row per permission.
    pub rows: Vec<ReviewRow>,
    /// Subjects allowed everything whatever RBAC says.
    pub always_allowed: Vec<AlwaysAllowed>,
    /// Bindings whose role does not exist (they grant nothing until it does).
    pub latent: Vec<Latent>,
    /// What the review cannot see.
    pub limits: Vec<String>,
}

/// One permission and who holds it.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewRow {
    /// A stable key (`ingresses`, `tls-secrets`, `controller-configmap`, ...).
    pub id: &'static str,
    /// What is changed, for people.
    pub title: String,
    /// Why holding it matters.
    pub why: &'static str,
    /// The requests asked about.
    pub checks: Vec<Check>,
    /// Every subject allowed at least one of them.
    pub holders: Vec<Holder>,
}

/// The requests of a row: these verbs on this target.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Verbs.
    pub verbs: Vec<&'static str>,
    /// What.
    #[serde(flatten)]
    pub target: Target,
    /// In this namespace only, if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// This object only, if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A subject and how it holds a row's permission.
#[derive(Debug, Clone, Serialize)]
pub struct Holder {
    /// Who.
    pub subject: Subject,
    /// What kind of principal.
    pub class: SubjectClass,
    /// Kubernetes' own machinery (every grant of this subject in the row is built-in).
    pub builtin: bool,
    /// Who the subject reaches, for groups that fan out to everyone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reach: Option<String>,
    /// For an ingress controller's own service account: which controller and workload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingress_controller: Option<String>,
    /// One entry per binding.
    pub grants: Vec<HolderGrant>,
}

/// What one binding gives a holder in a row.
#[derive(Debug, Clone, Serialize)]
pub struct HolderGrant {
    /// The verbs allowed.
    pub verbs: Vec<String>,
    /// On what (`ingresses (networking.k8s.io)`).
    pub resources: Vec<String>,
    /// Where.
    #[serde(flatten)]
    pub scope: GrantScope,
    /// The binding.
    pub binding: RbacObject,
    /// The role it binds.
    pub role: RbacObject,
    /// The first rule that allows it.
    pub rule: RuleRef,
    /// Whether the role is a Kubernetes default assumed because the input does not hold it.
    pub assumed: bool,
    /// Whether this binding is Kubernetes' own.
    pub builtin: bool,
}

const STATUS_VERBS: [&str; 2] = ["update", "patch"];
const CHANGE_VERBS: [&str; 3] = ["update", "patch", "delete"];

struct RowSpec {
    id: &'static str,
    title: &'static str,
    why: &'static str,
    verbs: &'static [&'static str],
    resources: &'static [&'static str],
}

const fn row(
    id: &'static str,
    title: &'static str,
    why: &'static str,
    verbs: &'static [&'static str],
    resources: &'static [&'static str],
) -> RowSpec {
    RowSpec {
        id,
        title,
        why,
        verbs,
        resources,
    }
}

const ROUTE_ROWS: &[RowSpec] = &[
    row(
        "ingresses",
        "Ingresses: create, change, delete",
        "publishes any Service of the namespace under any host, or takes a route down",
        &WRITE_VERBS,
        &["ingresses"],
    ),
    row(
        "ingress-status",
        "Ingress status",
        "rewrites status.loadBalancer, which external-dns turns into DNS records",
        &STATUS_VERBS,
        &["ingresses/status"],
    ),
    row(
        "ingressclasses",
        "IngressClasses",
        "decides which controller serves which Ingresses, and which class is the default",
        &WRITE_VERBS,
        &["ingressclasses"],
    ),
    row(
        "services",
        "Services: create, change, delete",
        "re-points a route by changing its Service's selector or ports",
        &WRITE_VERBS,
        &["services"],
    ),
    row(
        "service-status",
        "Service status",
        "claims any load-balancer IP and intercepts its traffic cluster-wide (CVE-2020-8554)",
        &STATUS_VERBS,
        &["services/status"],
    ),
    row(
        "endpoints",
        "Endpoints",
        "sends a Service's traffic to any IP, pods of other namespaces included (CVE-2021-25740)",
        &WRITE_VERBS,
        &["endpoints"],
    ),
    row(
        "endpointslices",
        "EndpointSlices",
        "sends a Service's traffic to any IP, pods of other namespaces included (CVE-2021-25740)",
        &WRITE_VERBS,
        &["endpointslices"],
    ),
];

const CERTIFICATE_ROWS: &[RowSpec] = &[
    row(
        "cert-manager-certificates",
        "cert-manager Certificates",
        "requests certificates for any host an issuer will sign",
        &WRITE_VERBS,
        &["certificates.cert-manager.io"],
    ),
    row(
        "cert-manager-issuers",
        "cert-manager Issuers",
        "changes who signs a namespace's certificates",
        &WRITE_VERBS,
        &["issuers.cert-manager.io"],
    ),
    row(
        "cert-manager-clusterissuers",
        "cert-manager ClusterIssuers",
        "changes who signs every namespace's certificates",
        &WRITE_VERBS,
        &["clusterissuers.cert-manager.io"],
    ),
    row(
        "networkpolicies",
        "NetworkPolicies",
        "opens or closes the path from the controller (or anyone) to the backends",
        &WRITE_VERBS,
        &["networkpolicies"],
    ),
];

const GUARD_ROWS: &[RowSpec] = &[
    row(
        "admission-webhooks",
        "Admission webhooks",
        "removes or rewrites the admission checks that guard Ingresses (Tollgate's included)",
        &WRITE_VERBS,
        &[
            "validatingwebhookconfigurations",
            "mutatingwebhookconfigurations",
        ],
    ),
    row(
        "admission-policies",
        "ValidatingAdmissionPolicies and bindings",
        "removes the in-process admission checks that guard Ingresses",
        &WRITE_VERBS,
        &[
            "validatingadmissionpolicies",
            "validatingadmissionpolicybindings",
        ],
    ),
    row(
        "gateway-routes",
        "Gateway API routes",
        "attaches routes to a shared Gateway",
        &WRITE_VERBS,
        &["httproutes", "grpcroutes", "tlsroutes", "tcproutes"],
    ),
    row(
        "gateways",
        "Gateway API Gateways",
        "opens listeners, hostnames and certificates on the edge",
        &WRITE_VERBS,
        &["gateways"],
    ),
    row(
        "referencegrants",
        "Gateway API ReferenceGrants",
        "lets routes of other namespaces reach this namespace's Services and Secrets",
        &WRITE_VERBS,
        &["referencegrants"],
    ),
    row(
        "escalate",
        "escalate (write roles beyond one's own permissions)",
        "grants oneself any permission through a role",
        &["escalate"],
        &["roles", "clusterroles"],
    ),
    row(
        "bind",
        "bind (bind roles one does not hold)",
        "grants oneself any role through a binding",
        &["bind"],
        &["roles", "clusterroles"],
    ),
    row(
        "impersonate",
        "impersonate",
        "acts as another user, group or service account, with its permissions",
        &["impersonate"],
        &["users", "groups", "serviceaccounts"],
    ),
];

/// Builds the matrix for an inventory.
#[must_use]
pub fn review(inv: &Inventory) -> Review {
    let policy = Policy::new(inv);
    let cx = RowContext {
        policy: &policy,
        inv,
        controllers: controller_accounts(inv),
    };
    let mut rows = Vec::new();
    let mut limits = policy.limits.clone();
    for spec in ROUTE_ROWS {
        rows.push(spec_row(&cx, spec, None));
    }
    let tls_namespaces = tls_namespaces(inv);
    if tls_namespaces.is_empty() {
        rows.push(build_row(
            &cx,
            "tls-secrets",
            "Secrets (no Ingress with TLS in the input)".into(),
            "swaps the certificate and key an Ingress serves",
            vec![check(&WRITE_VERBS, "secrets", None, None)],
        ));
    }
    for ns in tls_namespaces {
        rows.push(build_row(
            &cx,
            "tls-secrets",
            format!("TLS Secrets in {ns}"),
            "swaps the certificate and key an Ingress serves",
            vec![check(&WRITE_VERBS, "secrets", Some(&ns), None)],
        ));
    }
    for spec in CERTIFICATE_ROWS {
        rows.push(spec_row(&cx, spec, None));
    }
    if inv.installations.is_empty() {
        limits.push(
            "no ingress-nginx installation was found: the controller rows (its ConfigMap, \
             workload and pods) are left out"
                .into(),
        );
    }
    for inst in &inv.installations {
        let ns = inst.namespace.as_str();
        let workload = &inv.objects[inst.workload];
        let plural = workload.kind.api_path().plural;
        rows.push(build_row(
            &cx,
            "controller-configmap",
            format!(
                "Controller ConfigMap {}/{}",
                inst.configmap.namespace, inst.configmap.name
            ),
            "turns on snippets or lowers annotations-risk-level for every Ingress",
            vec![check(
                &CHANGE_VERBS,
                "configmaps",
                Some(&inst.configmap.namespace),
                Some(&inst.configmap.name),
            )],
        ));
        rows.push(build_row(
            &cx,
            "controller-workload",
            format!("Controller {} {ns}/{}", workload.kind, workload.name),
            "replaces the controller's image, flags or service account",
            vec![check(&CHANGE_VERBS, plural, Some(ns), Some(&workload.name))],
        ));
        rows.push(build_row(
            &cx,
            "controller-pods",
            format!("Pods in the controller namespace {ns}: exec, create"),
            "runs code as the controller, whose service account can read Secrets",
            vec![
                check(&["create"], "pods/exec", Some(ns), None),
                check(&["create"], "pods", Some(ns), None),
            ],
        ));
    }
    for spec in GUARD_ROWS {
        rows.push(spec_row(&cx, spec, None));
    }
    Review {
        rows,
        always_allowed: vec![AlwaysAllowed {
            subject: Subject::group(super::MASTERS_GROUP),
            reason: super::MASTERS_NOTE,
        }],
        latent: policy.latent(),
        limits,
    }
}

fn check(
    verbs: &[&'static str],
    resource: &str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Check {
    Check {
        verbs: verbs.to_vec(),
        // The review names only resources of the table, which parse.
        target: Target::parse(resource).unwrap_or_else(|_| Target::resource("", resource, None)),
        namespace: namespace.map(str::to_owned),
        name: name.map(str::to_owned),
    }
}

/// What every row is built from.
struct RowContext<'a> {
    policy: &'a Policy<'a>,
    inv: &'a Inventory,
    controllers: Vec<ControllerAccount>,
}

impl RowContext<'_> {
    fn controller_of(&self, subject: &Subject) -> Option<String> {
        if subject.kind != super::SubjectKind::ServiceAccount {
            return None;
        }
        let account = self.controllers.iter().find(|a| {
            subject.namespace.as_deref() == Some(a.namespace.as_str()) && subject.name == a.name
        })?;
        let w = &self.inv.objects[account.workload];
        Some(format!(
            "{}, {} {}/{}",
            account.controller,
            w.kind,
            w.ns(),
            w.name
        ))
    }
}

fn spec_row(cx: &RowContext<'_>, spec: &RowSpec, namespace: Option<&str>) -> ReviewRow {
    let checks = spec
        .resources
        .iter()
        .map(|r| check(spec.verbs, r, namespace, None))
        .collect();
    build_row(cx, spec.id, spec.title.to_owned(), spec.why, checks)
}

fn build_row(
    cx: &RowContext<'_>,
    id: &'static str,
    title: String,
    why: &'static str,
    checks: Vec<Check>,
) -> ReviewRow {
    // (subject, binding, subject index) → the grant's verbs and resources.
    let mut merged: BTreeMap<(Subject, RbacObject, usize), (HolderGrant, BTreeSet<String>)> =
        BTreeMap::new();
    for c in &checks {
        for verb in &c.verbs {
            let query = Query {
                verb: (*verb).to_owned(),
                target: c.target.clone(),
                namespace: c.namespace.clone(),
                name: c.name.clone(),
            };
            for g in cx.policy.who_can(&query).grants {
                let key = (g.subject.clone(), g.binding.clone(), g.subject_index);
                let (entry, resources) = merged.entry(key).or_insert_with(|| {
                    (
                        HolderGrant {
                            verbs: Vec::new(),
                            resources: Vec::new(),
                            scope: g.scope.clone(),
                            binding: g.binding.clone(),
                            role: g.role.clone(),
                            rule: g.rule.clone(),
                            assumed: g.assumed,
                            builtin: g.builtin,
                        },
                        BTreeSet::new(),
                    )
                });
                if !entry.verbs.iter().any(|v| v == verb) {
                    entry.verbs.push((*verb).to_owned());
                }
                resources.insert(c.target.describe());
            }
        }
    }
    let mut holders: BTreeMap<Subject, Holder> = BTreeMap::new();
    for ((subject, _, _), (mut grant, resources)) in merged {
        grant.resources = resources.into_iter().collect();
        let holder = holders.entry(subject.clone()).or_insert_with(|| Holder {
            class: subject.class(),
            builtin: true,
            reach: subject.reach(),
            ingress_controller: cx.controller_of(&subject),
            subject,
            grants: Vec::new(),
        });
        holder.builtin &= grant.builtin;
        holder.grants.push(grant);
    }
    let mut holders: Vec<Holder> = holders.into_values().collect();
    holders.sort_by(|a, b| {
        (a.builtin, class_rank(a.class), &a.subject).cmp(&(
            b.builtin,
            class_rank(b.class),
            &b.subject,
        ))
    });
    ReviewRow {
        id,
        title,
        why,
        checks,
        holders,
    }
}

/// Groups that reach everyone first: they are the widest grants.
pub(crate) fn class_rank(class: SubjectClass) -> u8 {
    match class {
        SubjectClass::Everyone => 0,
        SubjectClass::Group => 1,
        SubjectClass::User => 2,
        SubjectClass::ServiceAccount => 3,
        SubjectClass::BuiltIn => 4,
    }
}

/// Namespaces of the Ingresses that name a TLS Secret, sorted.
fn tls_namespaces(inv: &Inventory) -> Vec<String> {
    let mut out = BTreeSet::new();
    for (_, o) in inv.of_kind(Kind::Ingress) {
        let Resource::Ingress(ing) = &o.resource else {
            continue;
        };
        let has_tls = ing
            .spec
            .iter()
            .flat_map(|s| s.tls.iter().flatten())
            .any(|t| t.secret_name.as_deref().is_some_and(|n| !n.is_empty()));
        if has_tls {
            out.insert(o.ns().to_owned());
        }
    }
    out.into_iter().collect()
}

impl Policy<'_> {
    /// Every binding whose role does not exist, one entry per subject.
    #[must_use]
    pub fn latent(&self) -> Vec<Latent> {
        let mut out = Vec::new();
        for b in &self.bindings {
            if let Err((role, reason)) = self.resolve(b) {
                out.extend(b.subjects.iter().map(|(_, s)| Latent {
                    subject: s.clone(),
                    scope: b.scope(),
                    binding: b.object_ref(),
                    role: role.clone(),
                    reason: reason.clone(),
                }));
            }
        }
        out
    }
}
