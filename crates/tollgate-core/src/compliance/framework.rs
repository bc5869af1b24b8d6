//! Control frameworks as data: which rules and which kinds of evidence bear on each control of
//! CIS Kubernetes, NSA/CISA, PCI DSS, SOC 2 and ISO/IEC 27001, read from
//! `data/frameworks/<name>.yaml`, and the rules left out of every mapping on purpose
//! (`data/frameworks/unmapped.yaml`).
//!
//! The mappings are data, not code, for the same reason the CVE ranges are: standards get new
//! versions, and an auditor should be able to read (and argue with) a mapping without reading
//! Rust. Each file names its source document and version at the top. The control summaries are
//! Tollgate's own paraphrases; the standards' text is not reproduced.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::yaml::{self, DocumentText};

/// What a control can be judged on besides rule findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// The route inventory: hosts, paths, TLS and access posture of every Ingress route.
    ExposureMap,
    /// The TLS Secrets routes serve and what their certificates say.
    Certificates,
    /// Who may change what is exposed (`tollgate rbac review`).
    RbacReview,
    /// Recorded changes with their actors, from the history store.
    ChangeHistory,
    /// The ingress controllers' access logs, with detector alerts.
    AccessLogs,
    /// Suppressed findings with their stated reasons and expiry dates.
    Suppressions,
}

impl EvidenceKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [EvidenceKind; 6] = [
        EvidenceKind::ExposureMap,
        EvidenceKind::Certificates,
        EvidenceKind::RbacReview,
        EvidenceKind::ChangeHistory,
        EvidenceKind::AccessLogs,
        EvidenceKind::Suppressions,
    ];

    /// The kebab-case name, as in the data files and the JSON report.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::ExposureMap => "exposure-map",
            EvidenceKind::Certificates => "certificates",
            EvidenceKind::RbacReview => "rbac-review",
            EvidenceKind::ChangeHistory => "change-history",
            EvidenceKind::AccessLogs => "access-logs",
            EvidenceKind::Suppressions => "suppressions",
        }
    }
}

/// A pass/fail condition on evidence other than rule findings. Kept to a short closed list so
/// every check has one documented meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    /// The history's hash chain verifies: no record was edited or removed.
    HistoryChainIntact,
    /// No change made outside the configured GitOps identities introduced a rule violation.
    NoRiskyOutOfBandChanges,
    /// Every recorded change has an authenticated actor from the audit log.
    ChangesAttributed,
}

impl CheckKind {
    /// The kebab-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::HistoryChainIntact => "history-chain-intact",
            CheckKind::NoRiskyOutOfBandChanges => "no-risky-out-of-band-changes",
            CheckKind::ChangesAttributed => "changes-attributed",
        }
    }

    /// The evidence the check reads.
    #[must_use]
    pub fn needs(self) -> EvidenceKind {
        match self {
            CheckKind::HistoryChainIntact
            | CheckKind::NoRiskyOutOfBandChanges
            | CheckKind::ChangesAttributed => EvidenceKind::ChangeHistory,
        }
    }
}

/// The document a mapping is made against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The document's title.
    pub document: String,
    /// Its version or revision.
    pub version: String,
    /// Who publishes it.
    pub publisher: String,
    /// Where to get it.
    pub url: String,
}

/// One control and what bears on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Control {
    /// The control's identifier in its standard (`4.2.1`, `CC6.6`, `8.24`).
    pub id: String,
    /// The group it belongs to (`Requirement 4: ...`), for headings.
    pub section: String,
    /// Its title, shortened.
    pub title: String,
    /// What it asks for, in Tollgate's own words.
    pub summary: String,
    /// Rule names whose findings bear on it.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Evidence kinds that bear on it.
    #[serde(default)]
    pub evidence: Vec<EvidenceKind>,
    /// Evidence checks that pass or fail it.
    #[serde(default)]
    pub checks: Vec<CheckKind>,
    /// For a control listed so the report shows its limits: why Tollgate cannot judge it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_covered: Option<String>,
}

/// A framework's mapping, as read from its data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// The name `--framework` takes.
    pub name: String,
    /// The framework's usual name.
    pub title: String,
    /// The document mapped against.
    pub source: Source,
    /// Which parts of the document are mapped, and how to read the result.
    pub scope: String,
    /// The controls, in the document's order.
    pub controls: Vec<Control>,
}

/// A rule no framework maps, and why.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unmapped {
    /// The rule name.
    pub rule: String,
    /// Why no control of the mapped frameworks fits it.
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnmappedFile {
    rules: Vec<Unmapped>,
}

/// The data files, compiled in so the binary needs nothing beside it.
const FILES: [(&str, &str); 5] = [
    (
        "data/frameworks/cis-kubernetes.yaml",
        include_str!("../../data/frameworks/cis-kubernetes.yaml"),
    ),
    (
        "data/frameworks/nsa-cisa.yaml",
        include_str!("../../data/frameworks/nsa-cisa.yaml"),
    ),
    (
        "data/frameworks/pci-dss.yaml",
        include_str!("../../data/frameworks/pci-dss.yaml"),
    ),
    (
        "data/frameworks/soc2.yaml",
        include_str!("../../data/frameworks/soc2.yaml"),
    ),
    (
        "data/frameworks/iso27001.yaml",
        include_str!("../../data/frameworks/iso27001.yaml"),
    ),
];

const UNMAPPED: (&str, &str) = (
    "data/frameworks/unmapped.yaml",
    include_str!("../../data/frameworks/unmapped.yaml"),
);

/// Parses one data file with the project's YAML reader (the same limits as for manifests).
fn parse<T: serde::de::DeserializeOwned>(path: &str, text: &str) -> Result<T, String> {
    let doc = DocumentText {
        text,
        first_line: 1,
        offset: 0,
    };
    let value = yaml::parse_document(doc)
        .map_err(|e| format!("{path}: {e}"))?
        .ok_or_else(|| format!("{path}: empty"))?;
    serde_path_to_error::deserialize(&value).map_err(|e| format!("{path}: {}: {}", e.path(), e))
}

fn load_all() -> Result<Vec<Framework>, String> {
    FILES
        .iter()
        .map(|(path, text)| parse::<Framework>(path, text))
        .collect()
}

/// Every framework, in the order `--framework` lists them.
///
/// # Panics
/// Never in a tested build: the data files are compiled in and a unit test parses them.
#[must_use]
pub fn all() -> &'static [Framework] {
    static FRAMEWORKS: OnceLock<Vec<Framework>> = OnceLock::new();
    FRAMEWORKS
        .get_or_init(|| load_all().expect("data/frameworks/*.yaml is validated by a unit test"))
}

/// The framework `--framework NAME` names.
#[must_use]
pub fn find(name: &str) -> Option<&'static Framework> {
    all().iter().find(|f| f.name == name)
}

/// The names `--framework` takes.
#[must_use]
pub fn names() -> Vec<&'static str> {
    all().iter().map(|f| f.name.as_str()).collect()
}

/// The rules intentionally left out of every mapping.
///
/// # Panics
/// Never in a tested build, as for [`all`].
#[must_use]
pub fn unmapped() -> &'static [Unmapped] {
    static UNMAPPED_RULES: OnceLock<Vec<Unmapped>> = OnceLock::new();
    UNMAPPED_RULES.get_or_init(|| {
        parse::<UnmappedFile>(UNMAPPED.0, UNMAPPED.1)
            .map(|f| f.rules)
            .expect("data/frameworks/unmapped.yaml is validated by a unit test")
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::rules::registry;

    fn catalog() -> BTreeSet<&'static str> {
        registry::all().iter().map(|r| r.meta().name).collect()
    }

    #[test]
    fn every_data_file_parses_and_names_its_source() {
        let frameworks = load_all().expect("every framework file parses");
        let names: Vec<&str> = frameworks.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["cis-kubernetes", "nsa-cisa", "pci-dss", "soc2", "iso27001"]
        );
        for f in &frameworks {
            assert!(!f.source.document.is_empty(), "{}: source document", f.name);
            assert!(!f.source.version.is_empty(), "{}: source version", f.name);
            assert!(
                f.source.url.starts_with("https://"),
                "{}: source url",
                f.name
            );
            assert!(!f.controls.is_empty(), "{}: controls", f.name);
        }
        parse::<UnmappedFile>(UNMAPPED.0, UNMAPPED.1).expect("unmapped.yaml parses");
    }

    #[test]
    fn every_rule_of_the_catalog_is_mapped_or_listed_as_unmapped() {
        let mapped: BTreeSet<&str> = all()
            .iter()
            .flat_map(|f| &f.controls)
            .flat_map(|c| &c.rules)
            .map(String::as_str)
            .collect();
        let unmapped: BTreeSet<&str> = unmapped().iter().map(|u| u.rule.as_str()).collect();
        let missing: Vec<&str> = catalog()
            .into_iter()
            .filter(|r| !mapped.contains(r) && !unmapped.contains(r))
            .collect();
        assert!(
            missing.is_empty(),
            "rules in no framework and not in unmapped.yaml: {missing:?}"
        );
        let both: Vec<&&str> = mapped.intersection(&unmapped).collect();
        assert!(
            both.is_empty(),
            "rules both mapped and listed as unmapped: {both:?}"
        );
    }

    #[test]
    fn every_rule_a_mapping_names_exists() {
        let catalog = catalog();
        for f in all() {
            for c in &f.controls {
                for rule in &c.rules {
                    assert!(
                        catalog.contains(rule.as_str()),
                        "{} {} names unknown rule `{rule}`",
                        f.name,
                        c.id
                    );
                }
            }
        }
        for u in unmapped() {
            assert!(
                catalog.contains(u.rule.as_str()),
                "unmapped.yaml names unknown rule `{}`",
                u.rule
            );
            assert!(!u.reason.trim().is_empty(), "{} has no reason", u.rule);
        }
    }

    #[test]
    fn controls_are_unique_complete_and_consistent() {
        for f in all() {
            let mut ids = BTreeSet::new();
            for c in &f.controls {
                assert!(ids.insert(c.id.as_str()), "{}: duplicate {}", f.name, c.id);
                assert!(
                    !c.title.is_empty() && !c.summary.is_empty(),
                    "{} {}",
                    f.name,
                    c.id
                );
                let judged = !c.rules.is_empty() || !c.evidence.is_empty();
                // A control either has something to be judged on or says why it cannot be.
                assert!(
                    judged != c.not_covered.is_some(),
                    "{} {}: give rules or evidence, or notCovered, not both",
                    f.name,
                    c.id
                );
                for check in &c.checks {
                    assert!(
                        c.evidence.contains(&check.needs()),
                        "{} {}: check {} needs evidence {}",
                        f.name,
                        c.id,
                        check.as_str(),
                        check.needs().as_str()
                    );
                }
                let mut rules = c.rules.clone();
                rules.sort();
                rules.dedup();
                assert_eq!(
                    rules.len(),
                    c.rules.len(),
                    "{} {}: a rule twice",
                    f.name,
                    c.id
                );
            }
        }
    }

    #[test]
    fn a_mapping_file_with_an_unknown_key_or_evidence_kind_is_refused() {
        let bad_key = "name: x\ntitle: x\nsource: {document: d, version: v, publisher: p, url: u}\n\
                       scope: s\ncontrols:\n  - {id: a, section: s, title: t, summary: s, rule: [tls-missing]}\n";
        let err = parse::<Framework>("bad.yaml", bad_key).unwrap_err();
        assert!(err.contains("unknown field `rule`"), "{err}");
        let bad_kind = "name: x\ntitle: x\nsource: {document: d, version: v, publisher: p, url: u}\n\
                        scope: s\ncontrols:\n  - {id: a, section: s, title: t, summary: s, evidence: [dns]}\n";
        let err = parse::<Framework>("bad.yaml", bad_kind).unwrap_err();
        assert!(err.contains("controls[0].evidence[0]"), "{err}");
    }
}
