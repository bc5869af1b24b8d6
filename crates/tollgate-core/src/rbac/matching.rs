//! Whether one `PolicyRule` allows one request: Kubernetes' RBAC evaluation helpers
//! (`pkg/apis/rbac/v1/evaluation_helpers.go`), reimplemented exactly.
//!
//! - verbs and apiGroups: `*` or an exact match (`""` is the core group);
//! - resources: `*` matches everything, subresources included; otherwise an exact match of
//!   `resource` or `resource/subresource` (so `ingresses` does not grant `ingresses/status`),
//!   or `*/sub` for subresource `sub` of any resource;
//! - resourceNames: empty allows every name; otherwise the request must name one of them, so a
//!   request without a name (create, deletecollection, a list or watch of everything) is never
//!   allowed by a rule with names;
//! - nonResourceURLs: `*`, an exact match, or a prefix match for a URL ending in `*`.

use k8s_openapi::api::rbac::v1::PolicyRule;

use super::Target;

/// The request a query stands for, reduced to what the authorizer compares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'q> {
    pub verb: &'q str,
    pub target: &'q Target,
    /// The object's name; `None` for requests that name none.
    pub name: Option<&'q str>,
}

/// Whether `rule` allows `request`.
pub(crate) fn rule_allows(rule: &PolicyRule, request: &Request<'_>) -> bool {
    if !verb_matches(rule, request.verb) {
        return false;
    }
    match request.target {
        Target::Resource {
            group,
            resource,
            subresource,
            ..
        } => {
            api_group_matches(rule, group)
                && resource_matches(rule, resource, subresource.as_deref())
                && resource_name_matches(rule, request.name)
        }
        Target::NonResource { path } => non_resource_url_matches(rule, path),
    }
}

fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == "*" || v == verb)
}

fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups
        .iter()
        .flatten()
        .any(|g| g == "*" || g == group)
}

/// The index in `rule.resources` of the entry that matches, if any (reports point at it).
pub(crate) fn matching_resource(
    rule: &PolicyRule,
    resource: &str,
    subresource: Option<&str>,
) -> Option<usize> {
    rule.resources.iter().flatten().position(|r| {
        if r == "*" {
            return true;
        }
        match subresource {
            None => r == resource,
            Some(sub) => {
                r.strip_prefix(resource)
                    .and_then(|rest| rest.strip_prefix('/'))
                    .is_some_and(|rest| rest == sub)
                    || r.strip_prefix("*/").is_some_and(|rest| rest == sub)
            }
        }
    })
}

fn resource_matches(rule: &PolicyRule, resource: &str, subresource: Option<&str>) -> bool {
    matching_resource(rule, resource, subresource).is_some()
}

fn resource_name_matches(rule: &PolicyRule, name: Option<&str>) -> bool {
    match rule.resource_names.as_deref() {
        None | Some([]) => true,
        Some(names) => name.is_some_and(|n| names.iter().any(|r| r == n)),
    }
}

fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().flatten().any(|u| {
        if u == "*" || u == path {
            return true;
        }
        u.ends_with('*') && path.starts_with(u.trim_end_matches('*'))
    })
}

/// Whether the rule grants through a wildcard (`*` in verbs, apiGroups or resources, or a
/// `*/sub` resource) rather than by naming what it grants.
pub(crate) fn is_wildcard(rule: &PolicyRule) -> bool {
    rule.verbs.iter().any(|v| v == "*")
        || rule.api_groups.iter().flatten().any(|g| g == "*")
        || rule.resources.iter().flatten().any(|r| r.starts_with('*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(groups: &[&str], resources: &[&str], verbs: &[&str], names: &[&str]) -> PolicyRule {
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        PolicyRule {
            api_groups: Some(strings(groups)),
            resources: Some(strings(resources)),
            verbs: strings(verbs),
            resource_names: (!names.is_empty()).then(|| strings(names)),
            non_resource_urls: None,
        }
    }

    fn url_rule(urls: &[&str], verbs: &[&str]) -> PolicyRule {
        PolicyRule {
            non_resource_urls: Some(urls.iter().map(|s| (*s).to_owned()).collect()),
            verbs: verbs.iter().map(|s| (*s).to_owned()).collect(),
            ..PolicyRule::default()
        }
    }

    fn allows(rule: &PolicyRule, verb: &str, target: &str, name: Option<&str>) -> bool {
        let target = Target::parse(target).unwrap();
        rule_allows(
            rule,
            &Request {
                verb,
                target: &target,
                name,
            },
        )
    }

    #[test]
    fn verbs_and_groups_match_exactly_or_by_star() {
        let r = rule(&["networking.k8s.io"], &["ingresses"], &["create"], &[]);
        assert!(allows(&r, "create", "ingresses", None));
        assert!(!allows(&r, "update", "ingresses", None));
        assert!(!allows(&r, "create", "services", None));
        let any_verb = rule(&["networking.k8s.io"], &["ingresses"], &["*"], &[]);
        assert!(allows(&any_verb, "deletecollection", "ingresses", None));
        let any_group = rule(&["*"], &["ingresses"], &["create"], &[]);
        assert!(allows(&any_group, "create", "ingresses", None));
        // `extensions` is not `networking.k8s.io`.
        let legacy = rule(&["extensions"], &["ingresses"], &["create"], &[]);
        assert!(!allows(&legacy, "create", "ingresses", None));
    }

    #[test]
    fn the_core_group_is_the_empty_string() {
        let core = rule(&[""], &["services"], &["update"], &[]);
        assert!(allows(&core, "update", "services", None));
        let apps = rule(&["apps"], &["services"], &["update"], &[]);
        assert!(!allows(&apps, "update", "services", None));
    }

    #[test]
    fn a_resource_does_not_grant_its_subresources() {
        let r = rule(&["networking.k8s.io"], &["ingresses"], &["update"], &[]);
        assert!(!allows(&r, "update", "ingresses/status", None));
        let status = rule(
            &["networking.k8s.io"],
            &["ingresses/status"],
            &["update"],
            &[],
        );
        assert!(allows(&status, "update", "ingresses/status", None));
        assert!(!allows(&status, "update", "ingresses", None));
    }

    #[test]
    fn star_matches_every_resource_and_subresource() {
        let r = rule(&[""], &["*"], &["update"], &[]);
        assert!(allows(&r, "update", "services/status", None));
        assert!(allows(&r, "update", "secrets", None));
    }

    #[test]
    fn star_slash_subresource_matches_that_subresource_of_any_resource() {
        let r = rule(&["*"], &["*/status"], &["update", "patch"], &[]);
        assert!(allows(&r, "patch", "services/status", None));
        assert!(allows(&r, "update", "ingresses/status", None));
        assert!(!allows(&r, "update", "ingresses", None));
        assert!(!allows(&r, "create", "pods/exec", None));
        // Only the whole subresource: `*/status` is not `*/statuses` nor a suffix match.
        let r = rule(&["*"], &["*/tus"], &["update"], &[]);
        assert!(!allows(&r, "update", "services/status", None));
    }

    #[test]
    fn resource_names_allow_only_requests_naming_one_of_them() {
        let r = rule(
            &[""],
            &["configmaps"],
            &["get", "update", "create", "list"],
            &["ingress-nginx-controller"],
        );
        assert!(allows(
            &r,
            "update",
            "configmaps",
            Some("ingress-nginx-controller")
        ));
        assert!(!allows(&r, "update", "configmaps", Some("other")));
        assert!(!allows(&r, "update", "configmaps", None));
        // A create carries no name: names never grant it.
        assert!(!allows(&r, "create", "configmaps", None));
        // A list of everything carries no name either.
        assert!(!allows(&r, "list", "configmaps", None));
        // A list restricted to the name (a metadata.name field selector) does.
        assert!(allows(
            &r,
            "list",
            "configmaps",
            Some("ingress-nginx-controller")
        ));
    }

    #[test]
    fn non_resource_urls_match_exactly_or_by_trailing_star() {
        let r = url_rule(&["/healthz", "/metrics/*", "/logs*"], &["get"]);
        assert!(allows(&r, "get", "/healthz", None));
        assert!(!allows(&r, "get", "/healthz/etcd", None));
        assert!(allows(&r, "get", "/metrics/slis", None));
        assert!(!allows(&r, "get", "/metrics", None));
        assert!(allows(&r, "get", "/logs/kube-apiserver.log", None));
        assert!(allows(&r, "get", "/logsearch", None));
        assert!(!allows(&r, "post", "/healthz", None));
        assert!(allows(
            &url_rule(&["*"], &["get"]),
            "get",
            "/anything",
            None
        ));
        // A resource rule never allows a URL, nor a URL rule a resource.
        assert!(!allows(
            &rule(&["*"], &["*"], &["*"], &[]),
            "get",
            "/healthz",
            None
        ));
        assert!(!allows(&url_rule(&["*"], &["*"]), "get", "pods", None));
    }

    #[test]
    fn the_matching_resource_entry_is_found_for_pointers() {
        let r = rule(&[""], &["pods", "secrets", "*"], &["list"], &[]);
        assert_eq!(matching_resource(&r, "secrets", None), Some(1));
        assert_eq!(matching_resource(&r, "nodes", None), Some(2));
        assert!(is_wildcard(&r));
        assert!(!is_wildcard(&rule(&[""], &["pods"], &["get"], &[])));
    }
}
