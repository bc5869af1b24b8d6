//! The rule catalog: the [`Rule`] trait, rule metadata, and the static [`registry`].
//!
//! A rule is one file: a `declare_rule!` block whose doc comment *is* the user documentation
//! (`tollgate rules NAME` and `docs/rules/` are generated from it), and an `impl Rule` with one
//! `check` function that reads the inventory and pushes diagnostics. Rules speak in JSON
//! pointers into the object; the engine turns pointers into file positions, applies severity
//! overrides and suppressions, and orders the findings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::config::RuleOptions;
use crate::inventory::Inventory;
use crate::object::Kind;

pub mod registry;

pub mod access_control;
pub mod annotations;
pub mod exposure;
pub mod gateway_api;
pub mod health;
pub mod network_policy;
pub mod rbac;
pub mod routing;
pub mod tls;

#[cfg(test)]
pub(crate) mod test_support;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Hygiene.
    Low,
    /// A weakness.
    Medium,
    /// A likely exposure or outage.
    High,
    /// Exploitable or exposing secrets.
    Critical,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL_DESC: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The lowercase name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}` (expected info, low, medium, high or critical)"
            )),
        }
    }
}

/// The rule groups of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Category {
    Exposure,
    Tls,
    Routing,
    Annotations,
    AccessControl,
    NetworkPolicy,
    Health,
    Rbac,
    GatewayApi,
}

impl Category {
    /// The kebab-case name, as in JSON and in `--select`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Exposure => "exposure",
            Category::Tls => "tls",
            Category::Routing => "routing",
            Category::Annotations => "annotations",
            Category::AccessControl => "access-control",
            Category::NetworkPolicy => "network-policy",
            Category::Health => "health",
            Category::Rbac => "rbac",
            Category::GatewayApi => "gateway-api",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every rule declares about itself.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable code, `TG` + 3 digits.
    pub code: &'static str,
    /// Stable kebab-case name of the bad pattern.
    pub name: &'static str,
    /// Group.
    pub category: Category,
    /// Default severity (the config may override it).
    pub severity: Severity,
    /// One line for listings.
    pub summary: &'static str,
    /// Kinds the rule cannot judge without; if one is not in scope the rule is skipped and says so.
    pub needs: &'static [Kind],
    /// The version that introduced the rule.
    pub since: &'static str,
    /// The doc comment, as written (one leading space per line).
    pub raw_docs: &'static str,
}

impl RuleMeta {
    /// The rule's Markdown documentation (`## What it does`, `## Why is this bad?`, …).
    #[must_use]
    pub fn docs(&self) -> String {
        let mut out = String::with_capacity(self.raw_docs.len());
        for line in self.raw_docs.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out.trim().to_owned() + "\n"
    }

    /// Whether `selector` (a name, a code, a category, or `all`) selects this rule.
    #[must_use]
    pub fn selected_by(&self, selector: &str) -> bool {
        selector == "all"
            || selector == self.name
            || selector.eq_ignore_ascii_case(self.code)
            || selector == self.category.as_str()
    }
}

/// Gives a rule's metadata; implemented by `declare_rule!`.
pub trait RuleMetadata {
    /// The rule's metadata.
    fn meta(&self) -> &'static RuleMeta;
}

/// A check over the inventory.
pub trait Rule: RuleMetadata + Sync {
    /// Pushes one diagnostic per offending field.
    fn check(&self, cx: &Context<'_>, out: &mut Diagnostics);
}

/// What a rule may read.
pub struct Context<'a> {
    /// The graph.
    pub inventory: &'a Inventory,
    /// Options from the config.
    pub options: &'a RuleOptions,
    /// The instant time-dependent rules judge at (`--at`, default now).
    pub now: jiff::Timestamp,
}

/// A problem a rule found, before the engine places and filters it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Index into [`Inventory::objects`].
    pub object: usize,
    /// Pointer to the offending field, in the object's v1 shape.
    pub pointer: String,
    /// What is wrong, specifically.
    pub message: String,
    /// How to fix it, when the rule's general advice is not enough.
    pub help: Option<String>,
    /// The host concerned, for host-glob suppressions.
    pub host: Option<String>,
    /// A severity for this finding other than the rule's, e.g. `info` for "not in scope".
    pub severity: Option<Severity>,
}

/// The diagnostics a rule reports.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub(crate) items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Reports `message` about the field at `pointer` of object `object`.
    pub fn report(
        &mut self,
        object: usize,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.items.push(Diagnostic {
            object,
            pointer: pointer.into(),
            message: message.into(),
            help: None,
            host: None,
            severity: None,
        });
        self.items.last_mut().expect("just pushed")
    }

    /// The diagnostics so far.
    #[must_use]
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }
}

impl Diagnostic {
    /// Adds specific advice.
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    /// Names the host the finding is about.
    pub fn host(&mut self, host: impl Into<String>) -> &mut Self {
        self.host = Some(host.into());
        self
    }

    /// Gives this finding its own severity. Used sparingly: for a reference whose target is
    /// outside the scanned objects the rule can only say so, at `info`.
    pub fn severity(&mut self, severity: Severity) -> &mut Self {
        self.severity = Some(severity);
        self
    }
}

/// Declares a rule: a unit struct, its [`RuleMeta`] (with the doc comment as documentation) and
/// its [`RuleMetadata`] impl.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:expr])*
        pub struct $name:ident {
            code: $code:literal,
            name: $rule_name:literal,
            category: $category:ident,
            severity: $severity:ident,
            summary: $summary:literal,
            needs: [$($need:ident),* $(,)?],
            since: $since:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl $name {
            /// This rule's metadata.
            pub const META: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
                code: $code,
                name: $rule_name,
                category: $crate::rules::Category::$category,
                severity: $crate::rules::Severity::$severity,
                summary: $summary,
                needs: &[$($crate::object::Kind::$need),*],
                since: $since,
                raw_docs: concat!($($doc, "\n"),*),
            };
        }

        impl $crate::rules::RuleMetadata for $name {
            fn meta(&self) -> &'static $crate::rules::RuleMeta {
                &Self::META
            }
        }
    };
}
pub(crate) use declare_rule;

/// The message for a reference whose target is outside the scanned objects: neither found nor
/// known to be missing.
pub(crate) fn not_in_scope(kind: Kind, name: &str, namespace: &str) -> String {
    if namespace.is_empty() {
        format!("{kind} `{name}` is not in scope: no {kind} objects were among those scanned")
    } else {
        format!(
            "{kind} `{name}` is not in scope: no {kind} of namespace `{namespace}` was among the \
             objects scanned"
        )
    }
}

/// What rule files import.
pub(crate) mod prelude {
    pub(crate) use super::{Context, Diagnostics, Rule, Severity, declare_rule, not_in_scope};
    pub(crate) use crate::inventory::{Backend, PortRef};
    pub(crate) use crate::object::{Kind, Object, Resource};
}
