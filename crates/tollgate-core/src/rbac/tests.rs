//! The resolver against the fixtures of `tests/fixtures/rbac/`, one semantic per test,
//! including the cases other who-can tools get wrong.

use std::path::PathBuf;

use super::*;

fn load(files: &[&str]) -> Inventory {
    let mut m = Manifests::default();
    for file in files {
        let rel = format!("tests/fixtures/rbac/{file}");
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(&rel);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        m.add_text(&rel, text);
    }
    assert!(m.errors.is_empty(), "fixtures load cleanly: {:?}", m.errors);
    Inventory::build(m.objects, m.sources, None)
}

fn load_text(text: &str) -> Inventory {
    let mut m = Manifests::default();
    m.add_text("inline.yaml", text.to_owned());
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    Inventory::build(m.objects, m.sources, None)
}

fn query(verb: &str, resource: &str) -> Query {
    Query::parse(verb, resource).unwrap()
}

/// The subjects of an answer, as `Kind name` strings, sorted and deduplicated.
fn subjects(answer: &Answer) -> Vec<String> {
    let mut v: Vec<String> = answer
        .grants
        .iter()
        .map(|g| g.subject.to_string())
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn star_slash_status_grants_the_status_of_every_resource_and_nothing_else() {
    let inv = load(&["wildcards.yaml"]);
    let policy = Policy::new(&inv);
    let a = policy.who_can(&query("patch", "services/status"));
    assert_eq!(subjects(&a), ["Group lb-operators", "User cora"]);
    let a = policy.who_can(&query("update", "ingresses/status").in_namespace("shop"));
    assert_eq!(subjects(&a), ["Group lb-operators"]);
    assert_eq!(a.grants[0].rule.index, 0);
    assert!(a.grants[0].rule.wildcard);
    assert_eq!(a.grants[0].rule.pointer(), "/rules/0/resources/0");
    let a = policy.who_can(&query("update", "ingresses"));
    assert_eq!(
        subjects(&a),
        ["User rita"],
        "`*/status` is not the resource itself"
    );
}

#[test]
fn a_resource_does_not_grant_its_status() {
    let inv = load(&["wildcards.yaml"]);
    let a = who_can(&inv, &query("update", "ingresses/status"));
    assert!(
        !subjects(&a).contains(&"User rita".to_owned()),
        "`ingresses` does not grant `ingresses/status`: {:?}",
        subjects(&a)
    );
}

#[test]
fn star_resources_and_star_groups_match_everything_of_their_kind() {
    let inv = load(&["wildcards.yaml"]);
    let policy = Policy::new(&inv);
    // `resources: ["*"]` in the core group: every core resource and subresource, no other group.
    let a = policy.who_can(&query("create", "pods/exec").in_namespace("ingress-nginx"));
    assert_eq!(subjects(&a), ["User cora"]);
    assert!(
        policy
            .who_can(&query("create", "ingresses"))
            .grants
            .iter()
            .all(|g| g.subject.name != "cora")
    );
    // `apiGroups: ["*"]`.
    let a = policy.who_can(&query("get", "ingresses"));
    assert_eq!(subjects(&a), ["User reed"]);
}

#[test]
fn a_role_binding_to_a_cluster_role_grants_only_in_its_namespace() {
    let inv = load(&["bindings.yaml"]);
    let policy = Policy::new(&inv);
    let bob = Identity::user("bob", &[]);
    let in_storefront = policy.who_can(&query("create", "ingresses").in_namespace("storefront"));
    assert!(in_storefront.allows(&bob));
    let in_payments = policy.who_can(&query("create", "ingresses").in_namespace("payments"));
    assert!(!in_payments.allows(&bob), "{:?}", subjects(&in_payments));
    // Asked about any namespace, bob's grant says where it applies.
    let anywhere = policy.who_can(&query("create", "ingresses"));
    let grant = anywhere.grants_to(&bob).next().unwrap();
    assert_eq!(grant.scope, GrantScope::Namespace("storefront".into()));
    assert_eq!(grant.binding.kind, "RoleBinding");
    assert_eq!(grant.role.kind, "ClusterRole");
    // A RoleBinding never grants a cluster-scoped resource, even through a ClusterRole.
    let classes = policy.who_can(&query("create", "ingressclasses").in_namespace("storefront"));
    assert!(
        classes.limits.iter().any(|l| l.contains("not namespaced")),
        "{:?}",
        classes.limits
    );
    assert_eq!(
        subjects(&classes),
        [
            "Group platform",
            "ServiceAccount argocd/argocd-application-controller"
        ]
    );
}

#[test]
fn a_cluster_role_binding_grants_everywhere() {
    let inv = load(&["bindings.yaml"]);
    let a = who_can(&inv, &query("delete", "ingresses").in_namespace("payments"));
    let platform: Vec<&Grant> = a
        .grants
        .iter()
        .filter(|g| g.subject == Subject::group("platform"))
        .collect();
    assert_eq!(platform.len(), 1);
    assert_eq!(platform[0].scope, GrantScope::ClusterWide);
    assert_eq!(platform[0].subject_pointer(), "/subjects/0");
    assert!(a.allows(&Identity::service_account(
        "argocd",
        "argocd-application-controller"
    )));
}

#[test]
fn a_service_account_is_reached_through_its_namespace_group() {
    let inv = load(&["bindings.yaml"]);
    let a = who_can(
        &inv,
        &query("create", "ingresses").in_namespace("storefront"),
    );
    assert!(subjects(&a).contains(&"Group system:serviceaccounts:ci".to_owned()));
    let ci_builder = Identity::service_account("ci", "builder");
    assert!(a.allows(&ci_builder));
    let reached: Vec<&Grant> = a.grants_to(&ci_builder).collect();
    assert_eq!(reached.len(), 1);
    assert_eq!(reached[0].binding.name, "ci-deploys-routes");
    assert_eq!(reached[0].class, SubjectClass::Everyone);
    // Not service accounts of another namespace.
    assert!(!a.allows(&Identity::service_account("payments", "builder")));
}

#[test]
fn a_service_account_subject_without_namespace_is_the_role_bindings() {
    let inv = load(&["bindings.yaml"]);
    let a = who_can(&inv, &query("update", "ingresses").in_namespace("payments"));
    assert!(a.allows(&Identity::service_account("payments", "release-bot")));
    assert!(!a.allows(&Identity::service_account("storefront", "release-bot")));
}

#[test]
fn bindings_to_missing_roles_are_latent() {
    let inv = load(&["bindings.yaml"]);
    let a = who_can(
        &inv,
        &query("create", "ingresses").in_namespace("storefront"),
    );
    let latent: Vec<(String, String)> = a
        .latent
        .iter()
        .map(|l| (l.subject.to_string(), l.role.to_string()))
        .collect();
    assert_eq!(
        latent,
        [
            (
                "Group ops".to_owned(),
                "ClusterRole removed-role".to_owned()
            ),
            (
                "User eve".to_owned(),
                "Role storefront/deleted-role".to_owned()
            ),
        ]
    );
    assert!(
        a.latent[1].reason.contains("not among the objects read"),
        "{}",
        a.latent[1].reason
    );
    assert!(!a.allows(&Identity::user("eve", &[])));
    // A RoleBinding of another namespace is not in scope of the question.
    let payments = who_can(&inv, &query("create", "ingresses").in_namespace("payments"));
    assert_eq!(payments.latent.len(), 1);
}

#[test]
fn resource_names_never_grant_create_nor_a_list_of_everything() {
    let inv = load(&["resource-names.yaml"]);
    let policy = Policy::new(&inv);
    let carol = Identity::user("carol", &[]);
    let ask = |verb: &str, name: Option<&str>| {
        let mut q = query(verb, "configmaps").in_namespace("ingress-nginx");
        if let Some(n) = name {
            q = q.named(n);
        }
        policy.who_can(&q).allows(&carol)
    };
    assert!(ask("update", Some("ingress-nginx-controller")));
    assert!(!ask("update", Some("other")));
    assert!(
        !ask("update", None),
        "an unnamed request is not one of the names"
    );
    assert!(!ask("create", None));
    assert!(
        !ask("create", Some("ingress-nginx-controller")),
        "a create names no object, whatever the query says"
    );
    assert!(!ask("deletecollection", Some("ingress-nginx-controller")));
    assert!(!ask("list", None), "a list of everything names no object");
    assert!(!ask("watch", None));
    assert!(ask("list", Some("ingress-nginx-controller")));
    let create = policy.who_can(
        &query("create", "configmaps")
            .in_namespace("ingress-nginx")
            .named("ingress-nginx-controller"),
    );
    assert!(
        create.limits.iter().any(|l| l.contains("names no object")),
        "{:?}",
        create.limits
    );
}

#[test]
fn an_aggregated_cluster_role_holds_its_labelled_parts() {
    let inv = load(&["aggregation.yaml"]);
    let policy = Policy::new(&inv);
    let frank = Identity::user("frank", &[]);
    let create = policy.who_can(&query("create", "ingresses").in_namespace("shop"));
    assert!(create.allows(&frank));
    let grant = create.grants_to(&frank).next().unwrap();
    assert_eq!(grant.role.name, "route-admin");
    assert_eq!(
        grant.rule.role.name, "route-admin-ingresses",
        "the part holding the rule"
    );
    assert!(!grant.assumed);
    // Selected by matchExpressions.
    assert!(
        policy
            .who_can(&query("update", "ingresses/status"))
            .allows(&frank)
    );
    // Through the chain route-admin ← route-viewer ← route-viewer-services.
    let services = policy.who_can(&query("list", "services"));
    assert!(services.allows(&frank));
    assert_eq!(
        services.grants_to(&frank).next().unwrap().rule.role.name,
        "route-viewer-services"
    );
    // Not the role whose label value differs.
    assert!(!policy.who_can(&query("get", "secrets")).allows(&frank));
}

#[test]
fn aggregation_keeps_rules_already_present_and_survives_cycles() {
    let inv = load_text(
        "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: a, labels: {agg: b}}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {agg: a}}]}
rules: [{apiGroups: [''], resources: [secrets], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: b, labels: {agg: a}}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {agg: b}}]}
rules: [{apiGroups: [''], resources: [services], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: a}
subjects: [{kind: User, name: u}]
",
    );
    let policy = Policy::new(&inv);
    let u = Identity::user("u", &[]);
    assert!(
        policy.who_can(&query("get", "secrets")).allows(&u),
        "own rules kept"
    );
    assert!(
        policy.who_can(&query("get", "services")).allows(&u),
        "b aggregated into a"
    );
}

#[test]
fn non_resource_urls_match_exactly_or_by_prefix_and_only_cluster_wide() {
    let inv = load(&["non-resource-urls.yaml"]);
    let policy = Policy::new(&inv);
    let prometheus = Identity::service_account("monitoring", "prometheus");
    let dave = Identity::user("dave", &[]);
    let healthz = policy.who_can(&query("get", "/healthz"));
    assert!(healthz.allows(&prometheus));
    assert!(!healthz.allows(&dave), "a RoleBinding grants no URL");
    assert!(
        policy
            .who_can(&query("get", "/metrics/slis"))
            .allows(&prometheus)
    );
    assert!(
        !policy
            .who_can(&query("get", "/metrics"))
            .allows(&prometheus)
    );
    assert!(
        !policy
            .who_can(&query("get", "/healthz/etcd"))
            .allows(&prometheus)
    );
    assert!(
        !policy
            .who_can(&query("post", "/healthz"))
            .allows(&prometheus)
    );
}

#[test]
fn system_masters_is_always_allowed_and_the_answer_says_so() {
    let inv = load_text("");
    let a = who_can(&inv, &query("delete", "validatingwebhookconfigurations"));
    assert!(a.grants.is_empty());
    assert!(a.allows(&Identity::user("root", &["system:masters"])));
    assert!(!a.allows(&Identity::user("alice", &["developers"])));
    assert_eq!(
        a.always_allowed[0].subject,
        Subject::group("system:masters")
    );
    assert!(a.always_allowed[0].reason.contains("before RBAC is asked"));
    assert_eq!(a.limits[0], LOWER_BOUND_NOTE);
    assert!(
        a.limits.iter().any(|l| l.contains("no RoleBindings")),
        "{:?}",
        a.limits
    );
}

#[test]
fn edit_in_one_namespace_answers_who_can_create_ingresses_there_and_not_elsewhere() {
    let inv = load(&["default-roles.yaml"]);
    let policy = Policy::new(&inv);
    let storefront = policy.who_can(&query("create", "ingresses").in_namespace("storefront"));
    assert_eq!(subjects(&storefront), ["User alice"], "edit yes, view no");
    let grant = &storefront.grants[0];
    assert_eq!(grant.role.name, "edit");
    assert_eq!(grant.rule.role.name, "system:aggregate-to-edit");
    assert!(
        grant.role.object.is_some() && !grant.assumed,
        "the roles are in the input"
    );
    let payments = policy.who_can(&query("create", "ingresses").in_namespace("payments"));
    assert_eq!(subjects(&payments), ["User adam"], "admin aggregates edit");
    let other = policy.who_can(&query("create", "ingresses").in_namespace("internal-tools"));
    assert!(other.grants.is_empty());
    // edit lost endpoints write after CVE-2021-25740; view reads ingresses.
    assert!(
        policy
            .who_can(&query("create", "endpoints").in_namespace("storefront"))
            .grants
            .is_empty()
    );
    let read = policy.who_can(&query("get", "ingresses").in_namespace("storefront"));
    assert_eq!(subjects(&read), ["User alice", "User viv"]);
    // admin's own part: RoleBindings.
    let bind = policy.who_can(&query("create", "rolebindings").in_namespace("payments"));
    assert_eq!(subjects(&bind), ["User adam"]);
}

#[test]
fn default_roles_are_assumed_when_the_input_lacks_them() {
    let inv = load_text(
        "apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-edit, namespace: storefront}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: User, name: alice}]
",
    );
    let a = who_can(
        &inv,
        &query("create", "ingresses").in_namespace("storefront"),
    );
    assert_eq!(subjects(&a), ["User alice"]);
    assert!(a.grants[0].assumed);
    assert_eq!(a.grants[0].role.object, None);
    assert!(
        a.limits
            .iter()
            .any(|l| l.contains("`edit`") && l.contains("assumed")),
        "{:?}",
        a.limits
    );
    assert!(a.latent.is_empty());
}

#[test]
fn a_complete_cluster_listing_assumes_nothing() {
    let text = "apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-edit, namespace: storefront}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: User, name: alice}]
";
    let mut m = Manifests::default();
    m.add_text("cluster", text.to_owned());
    let scope = crate::inventory::Scope {
        present: Kind::ALL.into_iter().collect(),
        complete: true,
        ..crate::inventory::Scope::default()
    };
    let inv = Inventory::build(m.objects, Vec::new(), Some(scope));
    let a = who_can(
        &inv,
        &query("create", "ingresses").in_namespace("storefront"),
    );
    assert!(a.grants.is_empty());
    assert_eq!(a.latent.len(), 1);
    assert_eq!(a.latent[0].reason, "ClusterRole `edit` does not exist");

    // ClusterRoles the scanner could not list: absence proves nothing, defaults are assumed.
    let mut m = Manifests::default();
    m.add_text("cluster", text.to_owned());
    let mut scope = crate::inventory::Scope {
        present: Kind::ALL.into_iter().collect(),
        complete: true,
        ..crate::inventory::Scope::default()
    };
    scope.present.remove(&Kind::ClusterRole);
    scope
        .denied
        .insert(Kind::ClusterRole, "forbidden (HTTP 403)".into());
    let inv = Inventory::build(m.objects, Vec::new(), Some(scope));
    let a = who_can(
        &inv,
        &query("create", "ingresses").in_namespace("storefront"),
    );
    assert_eq!(subjects(&a), ["User alice"]);
    assert!(a.grants[0].assumed);
    assert!(
        a.limits
            .iter()
            .any(|l| l.contains("clusterroles could not be listed")),
        "{:?}",
        a.limits
    );
}

#[test]
fn the_default_roles_data_file_is_the_fixture_kubernetes_ships() {
    let inv = load(&["default-roles.yaml"]);
    let fixture: Vec<String> = inv
        .of_kind(Kind::ClusterRole)
        .map(|(_, o)| match &o.resource {
            Resource::ClusterRole(r) => format!("{r:?}"),
            _ => unreachable!(),
        })
        .collect();
    let data: Vec<String> = default_cluster_roles()
        .iter()
        .map(|o| match &o.resource {
            Resource::ClusterRole(r) => format!("{r:?}"),
            _ => panic!("the data file holds ClusterRoles only"),
        })
        .collect();
    assert_eq!(data.len(), 7);
    assert_eq!(fixture, data);
}

#[test]
fn built_in_grants_are_marked() {
    let inv = load_text(
        "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: 'system:controller:endpoint-controller'}
rules: [{apiGroups: [''], resources: [endpoints], verbs: [create, update, delete]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: 'system:controller:endpoint-controller'}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: 'system:controller:endpoint-controller'}
subjects: [{kind: ServiceAccount, name: endpoint-controller, namespace: kube-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: cluster-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: 'system:masters'}, {kind: Group, name: platform-admins}]
",
    );
    let a = who_can(&inv, &query("update", "endpoints").in_namespace("shop"));
    let by_subject = |name: &str| a.grants.iter().find(|g| g.subject.name == name).unwrap();
    assert!(by_subject("endpoint-controller").builtin);
    assert!(by_subject("system:masters").builtin);
    let admins = by_subject("platform-admins");
    assert!(!admins.builtin);
    assert!(admins.is_cluster_admin());
    assert!(admins.assumed, "cluster-admin is not in the input");
}

#[test]
fn the_review_lists_every_row_with_its_holders() {
    let inv = load(&["default-roles.yaml", "bindings.yaml", "wildcards.yaml"]);
    let r = review::review(&inv);
    let row = |id: &str| r.rows.iter().find(|row| row.id == id).unwrap();
    let ingress_writers: Vec<String> = row("ingresses")
        .holders
        .iter()
        .map(|h| h.subject.to_string())
        .collect();
    for expected in [
        "Group platform",
        "Group system:serviceaccounts:ci",
        "User alice",
        "User bob",
        "User rita",
        "ServiceAccount payments/release-bot",
    ] {
        assert!(
            ingress_writers.contains(&expected.to_owned()),
            "{expected} in {ingress_writers:?}"
        );
    }
    // The widest subjects come first.
    assert_eq!(row("ingresses").holders[0].class, SubjectClass::Everyone);
    let status: Vec<String> = row("service-status")
        .holders
        .iter()
        .map(|h| h.subject.to_string())
        .collect();
    assert_eq!(status, ["Group lb-operators", "User cora"]);
    let rita = &row("ingresses")
        .holders
        .iter()
        .find(|h| h.subject.name == "rita")
        .unwrap()
        .grants[0];
    assert_eq!(rita.verbs, ["create", "update", "patch", "delete"]);
    assert_eq!(rita.scope, GrantScope::ClusterWide);
    assert!(r.rows.iter().any(|row| row.id == "impersonate"));
    assert!(
        r.limits
            .iter()
            .any(|l| l.contains("no ingress-nginx installation"))
    );
    assert_eq!(r.latent.len(), 2);
    // edit can impersonate service accounts in its namespace: the review shows it.
    assert!(
        row("impersonate")
            .holders
            .iter()
            .any(|h| h.subject.name == "alice")
    );
}
