//! Controller annotations: what a controller will do with the text it is given.
//!
//! Most rules here are about ingress-nginx, and they share two questions answered below: which
//! Ingresses ingress-nginx reads (the ones an installation serves, or whose class resolves to
//! ingress-nginx, or whose controller is unknown: `nginx.ingress.kubernetes.io/` annotations mean
//! nothing to any other controller, so judging them as ingress-nginx cannot mislead), and which of
//! their annotations are ingress-nginx's. The installation facts (version, ConfigMap, webhook)
//! and the CVE data come from [`crate::installation`].

/// `snippet-annotation` (TG401).
pub mod snippet_annotation;

/// `snippets-enabled-in-controller` (TG402).
pub mod snippets_enabled_in_controller;

/// `controller-vulnerable-version` (TG403).
pub mod controller_vulnerable_version;

/// `controller-end-of-life` (TG404).
pub mod controller_end_of_life;

/// `admission-webhook-exposed` (TG405).
pub mod admission_webhook_exposed;

/// `annotation-injection` (TG406).
pub mod annotation_injection;

/// `sensitive-path` (TG407).
pub mod sensitive_path;

/// `unsafe-path-characters` (TG408).
pub mod unsafe_path_characters;

/// `annotation-risk-above-level` (TG409).
pub mod annotation_risk_above_level;

/// `foreign-controller-annotation` (TG410).
pub mod foreign_controller_annotation;

/// `cross-namespace-reference` (TG411).
pub mod cross_namespace_reference;

/// `stale-annotation` (TG412).
pub mod stale_annotation;

/// `client-ip-spoofable` (TG413).
pub mod client_ip_spoofable;

use crate::installation::{self, Cve, Installation};
use crate::inventory::{IngressEntry, Inventory};
use crate::object::Object;
use crate::yaml::escape_segment;

/// An Ingress that ingress-nginx reads.
pub(crate) struct NginxIngress<'a> {
    /// The inventory entry.
    pub entry: &'a IngressEntry,
    /// The Ingress object.
    pub object: &'a Object,
    /// The installation serving it, when one is among the scanned objects.
    pub installation: Option<&'a Installation>,
    /// The annotation prefix that installation reads, without the trailing `/`.
    pub prefix: String,
}

impl<'a> NginxIngress<'a> {
    /// Its ingress-nginx annotations: short name, full key, value.
    pub fn annotations(&self) -> impl Iterator<Item = (&'a str, &'a str, &'a str)> + '_ {
        self.object
            .metadata()
            .annotations
            .iter()
            .flatten()
            .filter_map(|(key, value)| {
                let short = key.strip_prefix(self.prefix.as_str())?.strip_prefix('/')?;
                Some((short, key.as_str(), value.as_str()))
            })
    }

    /// A short name's value, when the annotation is set.
    pub fn annotation(&self, short: &str) -> Option<&'a str> {
        self.annotations()
            .find(|(s, _, _)| *s == short)
            .map(|(_, _, v)| v)
    }
}

/// The Ingresses ingress-nginx reads, in inventory order.
pub(crate) fn nginx_ingresses<'a>(
    inv: &'a Inventory,
    installations: &'a [Installation],
) -> Vec<NginxIngress<'a>> {
    inv.ingresses
        .iter()
        .filter_map(|entry| {
            let prefix = installation::nginx_prefix(installations, inv, entry)?;
            Some(NginxIngress {
                entry,
                object: &inv.objects[entry.object],
                installation: installation::serving(installations, inv, entry),
                prefix,
            })
        })
        .collect()
}

/// Pointer to an annotation.
pub(crate) fn annotation_pointer(key: &str) -> String {
    format!("/metadata/annotations/{}", escape_segment(key))
}

/// What the serving installation's version means for a CVE: "ingress-nginx v1.11.3 is affected,
/// fixed in v1.11.5", "ingress-nginx v1.13.9 has the fix", or, without a version, the fixed
/// releases.
pub(crate) fn version_context(cve: &Cve, inst: Option<&Installation>) -> String {
    match inst.and_then(|i| i.version.as_ref()) {
        Some(v) if cve.affects(v) => match cve.fixed_after(v) {
            Some(f) => format!("ingress-nginx {v} is affected, fixed in {f}"),
            None => format!("ingress-nginx {v} is affected"),
        },
        Some(v) => format!("ingress-nginx {v} has the fix"),
        None => {
            let fixed: Vec<String> = cve.fixed.iter().map(ToString::to_string).collect();
            format!("fixed in {}", fixed.join(", "))
        }
    }
}

/// Describes what a value matched, one clause per distinct reason with the CVEs behind it:
/// "contains `;`: the CVE-2022-4886 payload (…) and the CVE-2026-24512 payload (…); it also
/// contains a newline: …".
pub(crate) fn describe_matches(matches: &[(String, &Cve)], inst: Option<&Installation>) -> String {
    let mut reasons: Vec<(&str, Vec<&Cve>)> = Vec::new();
    for (why, cve) in matches {
        match reasons.iter_mut().find(|(w, _)| w == why) {
            Some((_, cves)) => cves.push(cve),
            None => reasons.push((why, vec![cve])),
        }
    }
    let clauses: Vec<String> = reasons
        .iter()
        .map(|(why, cves)| {
            let payloads: Vec<String> = cves
                .iter()
                .map(|c| format!("the {} payload ({})", c.id, version_context(c, inst)))
                .collect();
            format!("{why}: {}", payloads.join(" and "))
        })
        .collect();
    clauses.join("; it also ")
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::fixture_tests;

    fixture_tests! {
        snippet_annotation => "snippet-annotation",
        snippets_enabled_in_controller => "snippets-enabled-in-controller",
        controller_vulnerable_version => "controller-vulnerable-version",
        controller_end_of_life => "controller-end-of-life",
        admission_webhook_exposed => "admission-webhook-exposed",
        annotation_injection => "annotation-injection",
        sensitive_path => "sensitive-path",
        unsafe_path_characters => "unsafe-path-characters",
        annotation_risk_above_level => "annotation-risk-above-level",
        foreign_controller_annotation => "foreign-controller-annotation",
        cross_namespace_reference => "cross-namespace-reference",
        stale_annotation => "stale-annotation",
        client_ip_spoofable => "client-ip-spoofable",
    }
}
