//! Who a binding names, and who makes a request.
//!
//! A binding names [`Subject`]s (users, groups, service accounts); a request is made by an
//! [`Identity`] (a user name and its groups). A service account's identity is the user
//! `system:serviceaccount:<ns>:<name>` in the groups `system:serviceaccounts`,
//! `system:serviceaccounts:<ns>` and `system:authenticated`, which is how a binding to one of
//! those groups reaches it.

use std::fmt;

use serde::Serialize;

/// The group whose members the API server never asks RBAC about.
pub const MASTERS_GROUP: &str = "system:masters";
/// Every authenticated request carries this group.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";
/// Every anonymous request carries this group.
pub const UNAUTHENTICATED_GROUP: &str = "system:unauthenticated";
/// Every service account is in this group.
pub const SERVICE_ACCOUNTS_GROUP: &str = "system:serviceaccounts";
/// The user name of anonymous requests.
pub const ANONYMOUS_USER: &str = "system:anonymous";
const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";

/// The three kinds of subject a binding can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[allow(missing_docs)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

impl SubjectKind {
    /// `User`, `Group` or `ServiceAccount`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::User => "User",
            SubjectKind::Group => "Group",
            SubjectKind::ServiceAccount => "ServiceAccount",
        }
    }
}

/// A subject of a binding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Subject {
    /// User, Group or ServiceAccount.
    pub kind: SubjectKind,
    /// Service accounts only: the namespace (a subject without one takes its RoleBinding's;
    /// in a ClusterRoleBinding it has none and matches nobody).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
}

/// What kind of principal a subject stands for, for grouping in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubjectClass {
    /// A person (or whatever the identity provider calls a user).
    User,
    /// A group from the identity provider.
    Group,
    /// A service account.
    ServiceAccount,
    /// A group every authenticated user, every service account (of a namespace), or every
    /// anonymous request is in; or the anonymous user itself.
    Everyone,
    /// One of Kubernetes' own identities: `system:masters`, `system:nodes`,
    /// `system:kube-controller-manager` and the like.
    BuiltIn,
}

impl SubjectClass {
    /// Kebab-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectClass::User => "user",
            SubjectClass::Group => "group",
            SubjectClass::ServiceAccount => "service-account",
            SubjectClass::Everyone => "everyone",
            SubjectClass::BuiltIn => "built-in",
        }
    }
}

impl Subject {
    /// Reads a binding's subject. A ServiceAccount without a namespace takes
    /// `binding_namespace` (a RoleBinding's own). A User named `system:serviceaccount:NS:NAME`
    /// *is* that service account and is returned as one. `None` for kinds RBAC does not know.
    #[must_use]
    pub fn from_binding(
        subject: &k8s_openapi::api::rbac::v1::Subject,
        binding_namespace: Option<&str>,
    ) -> Option<Subject> {
        let name = subject.name.clone();
        match subject.kind.as_str() {
            "User" => Some(service_account_of_user(&name).unwrap_or(Subject {
                kind: SubjectKind::User,
                namespace: None,
                name,
            })),
            "Group" => Some(Subject {
                kind: SubjectKind::Group,
                namespace: None,
                name,
            }),
            "ServiceAccount" => Some(Subject {
                kind: SubjectKind::ServiceAccount,
                namespace: subject
                    .namespace
                    .clone()
                    .filter(|n| !n.is_empty())
                    .or_else(|| binding_namespace.map(str::to_owned)),
                name,
            }),
            _ => None,
        }
    }

    /// A user.
    #[must_use]
    pub fn user(name: &str) -> Subject {
        Subject {
            kind: SubjectKind::User,
            namespace: None,
            name: name.to_owned(),
        }
    }

    /// A group.
    #[must_use]
    pub fn group(name: &str) -> Subject {
        Subject {
            kind: SubjectKind::Group,
            namespace: None,
            name: name.to_owned(),
        }
    }

    /// A service account.
    #[must_use]
    pub fn service_account(namespace: &str, name: &str) -> Subject {
        Subject {
            kind: SubjectKind::ServiceAccount,
            namespace: Some(namespace.to_owned()),
            name: name.to_owned(),
        }
    }

    /// Whether a request by `identity` is one this subject names.
    #[must_use]
    pub fn matches(&self, identity: &Identity) -> bool {
        match self.kind {
            SubjectKind::User => identity.user == self.name,
            SubjectKind::Group => identity.groups.contains(&self.name),
            SubjectKind::ServiceAccount => self.namespace.as_deref().is_some_and(|ns| {
                identity.user == format!("{SERVICE_ACCOUNT_USER_PREFIX}{ns}:{}", self.name)
            }),
        }
    }

    /// What kind of principal this is.
    #[must_use]
    pub fn class(&self) -> SubjectClass {
        let name = self.name.as_str();
        match self.kind {
            SubjectKind::ServiceAccount => SubjectClass::ServiceAccount,
            SubjectKind::Group
                if name == AUTHENTICATED_GROUP
                    || name == UNAUTHENTICATED_GROUP
                    || name == SERVICE_ACCOUNTS_GROUP
                    || name.starts_with("system:serviceaccounts:") =>
            {
                SubjectClass::Everyone
            }
            SubjectKind::User if name == ANONYMOUS_USER => SubjectClass::Everyone,
            _ if name.starts_with("system:") => SubjectClass::BuiltIn,
            SubjectKind::User => SubjectClass::User,
            SubjectKind::Group => SubjectClass::Group,
        }
    }

    /// Who the subject reaches, in words, for the groups that fan out: "every service account
    /// of namespace `ci`". `None` for other subjects.
    #[must_use]
    pub fn reach(&self) -> Option<String> {
        if self.kind == SubjectKind::User && self.name == ANONYMOUS_USER {
            return Some("every anonymous request".into());
        }
        if self.kind != SubjectKind::Group {
            return None;
        }
        Some(match self.name.as_str() {
            AUTHENTICATED_GROUP => "every authenticated user and service account".into(),
            UNAUTHENTICATED_GROUP => "every anonymous request".into(),
            SERVICE_ACCOUNTS_GROUP => "every service account of every namespace".into(),
            MASTERS_GROUP => "cluster super-users: RBAC is not consulted for them".into(),
            other => {
                let ns = other.strip_prefix("system:serviceaccounts:")?;
                format!("every service account of namespace `{ns}`")
            }
        })
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.namespace) {
            (SubjectKind::ServiceAccount, Some(ns)) => {
                write!(f, "ServiceAccount {ns}/{}", self.name)
            }
            (SubjectKind::ServiceAccount, None) => {
                write!(f, "ServiceAccount (no namespace)/{}", self.name)
            }
            (kind, _) => write!(f, "{} {}", kind.as_str(), self.name),
        }
    }
}

fn service_account_of_user(user: &str) -> Option<Subject> {
    let rest = user.strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)?;
    let (ns, name) = rest.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':'))
        .then(|| Subject::service_account(ns, name))
}

/// Who makes a request: a user name and its groups, as an authenticator hands them to the
/// authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user name.
    pub user: String,
    /// Every group the request carries, implicit ones included.
    pub groups: Vec<String>,
}

impl Identity {
    /// An authenticated user with the groups its credential carries (plus
    /// `system:authenticated`, which every authenticated request has).
    #[must_use]
    pub fn user(name: &str, groups: &[&str]) -> Identity {
        let mut all: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
        if !all.iter().any(|g| g == AUTHENTICATED_GROUP) {
            all.push(AUTHENTICATED_GROUP.to_owned());
        }
        Identity {
            user: name.to_owned(),
            groups: all,
        }
    }

    /// A service account, with the groups the API server gives every service account.
    #[must_use]
    pub fn service_account(namespace: &str, name: &str) -> Identity {
        Identity {
            user: format!("{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{name}"),
            groups: vec![
                SERVICE_ACCOUNTS_GROUP.to_owned(),
                format!("{SERVICE_ACCOUNTS_GROUP}:{namespace}"),
                AUTHENTICATED_GROUP.to_owned(),
            ],
        }
    }

    /// An anonymous request.
    #[must_use]
    pub fn anonymous() -> Identity {
        Identity {
            user: ANONYMOUS_USER.to_owned(),
            groups: vec![UNAUTHENTICATED_GROUP.to_owned()],
        }
    }

    /// Whether the request is a super-user's: in `system:masters`, which the API server lets
    /// through before RBAC is asked.
    #[must_use]
    pub fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS_GROUP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k8s_subject(
        kind: &str,
        name: &str,
        ns: Option<&str>,
    ) -> k8s_openapi::api::rbac::v1::Subject {
        k8s_openapi::api::rbac::v1::Subject {
            api_group: None,
            kind: kind.into(),
            name: name.into(),
            namespace: ns.map(str::to_owned),
        }
    }

    #[test]
    fn a_service_account_without_namespace_takes_the_role_bindings() {
        let s = Subject::from_binding(&k8s_subject("ServiceAccount", "ci", None), Some("build"))
            .unwrap();
        assert_eq!(s, Subject::service_account("build", "ci"));
        // In a ClusterRoleBinding there is no namespace to take: it matches nobody.
        let s = Subject::from_binding(&k8s_subject("ServiceAccount", "ci", None), None).unwrap();
        assert!(!s.matches(&Identity::service_account("build", "ci")));
        assert!(!s.matches(&Identity::service_account("", "ci")));
    }

    #[test]
    fn a_user_named_like_a_service_account_is_that_service_account() {
        let s = Subject::from_binding(
            &k8s_subject("User", "system:serviceaccount:ci:deployer", None),
            None,
        )
        .unwrap();
        assert_eq!(s, Subject::service_account("ci", "deployer"));
        assert!(s.matches(&Identity::service_account("ci", "deployer")));
        assert!(Subject::from_binding(&k8s_subject("Robot", "r2", None), None).is_none());
    }

    #[test]
    fn service_accounts_are_in_the_implicit_groups() {
        let sa = Identity::service_account("ci", "deployer");
        for group in [
            "system:serviceaccounts",
            "system:serviceaccounts:ci",
            "system:authenticated",
        ] {
            assert!(Subject::group(group).matches(&sa), "{group}");
        }
        assert!(!Subject::group("system:serviceaccounts:prod").matches(&sa));
        assert!(!Subject::group("system:unauthenticated").matches(&sa));
        assert!(Subject::group("system:unauthenticated").matches(&Identity::anonymous()));
        assert!(!Subject::group("system:authenticated").matches(&Identity::anonymous()));
    }

    #[test]
    fn subjects_are_classed_for_reports() {
        assert_eq!(
            Subject::group("system:authenticated").class(),
            SubjectClass::Everyone
        );
        assert_eq!(
            Subject::group("system:serviceaccounts:ci").class(),
            SubjectClass::Everyone
        );
        assert_eq!(
            Subject::user("system:anonymous").class(),
            SubjectClass::Everyone
        );
        assert_eq!(
            Subject::group("system:masters").class(),
            SubjectClass::BuiltIn
        );
        assert_eq!(
            Subject::user("system:kube-controller-manager").class(),
            SubjectClass::BuiltIn
        );
        assert_eq!(Subject::group("deployers").class(), SubjectClass::Group);
        assert_eq!(Subject::user("alice").class(), SubjectClass::User);
        assert_eq!(
            Subject::service_account("kube-system", "x").class(),
            SubjectClass::ServiceAccount
        );
    }
}
