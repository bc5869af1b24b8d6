//! Runs the selected rules over an inventory and turns their diagnostics into findings: placed in
//! their file, at their configured severity, suppressed or not, in a stable order.

use std::collections::HashMap;

use crate::config::{Config, Suppression, glob_matches};
use crate::inventory::Inventory;
use crate::manifest::InputError;
use crate::object::ObjectRef;
use crate::rules::{Context, Diagnostic, Diagnostics, RuleMeta, Severity, registry};
use crate::yaml;

/// The annotation that suppresses rules on one object: `"rule-a,rule-b"` (names or codes).
pub const IGNORE_ANNOTATION: &str = "tollgate.io/ignore";
/// The annotation that says why.
pub const IGNORE_REASON_ANNOTATION: &str = "tollgate.io/ignore-reason";

/// Where a finding is in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file's path as given.
    pub file: String,
    /// Index into [`Inventory::sources`].
    pub source: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A rule's verdict on one field of one object.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule.
    pub rule: &'static RuleMeta,
    /// Severity after config overrides.
    pub severity: Severity,
    /// Index into [`Inventory::objects`].
    pub object: usize,
    /// The object, as reports name it.
    pub resource: ObjectRef,
    /// Pointer to the field as written in the source.
    pub pointer: String,
    /// Where, for objects read from files.
    pub location: Option<Location>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
    /// The host concerned, if any.
    pub host: Option<String>,
}

/// Where a suppression came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuppressedBy {
    /// A config entry, at this line of the config file.
    Config {
        /// Its line.
        line: Option<usize>,
    },
    /// The object's `tollgate.io/ignore` annotation.
    Annotation,
}

/// A finding that a suppression hides, kept so the report can list it.
#[derive(Debug, Clone)]
pub struct Suppressed {
    /// The hidden finding.
    pub finding: Finding,
    /// The stated reason.
    pub reason: String,
    /// When the suppression lapses.
    pub expires: Option<jiff::civil::Date>,
    /// Which mechanism.
    pub by: SuppressedBy,
}

/// A rule that did not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Rule name.
    pub rule: &'static str,
    /// Why.
    pub reason: String,
}

/// Everything one run produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings in force.
    pub findings: Vec<Finding>,
    /// Findings hidden by suppressions.
    pub suppressed: Vec<Suppressed>,
    /// Rules that could not run.
    pub skipped: Vec<Skipped>,
    /// Problems with the config that did not stop the run (expired suppressions).
    pub warnings: Vec<InputError>,
    /// Annotation suppressions refused in strict mode.
    pub refused_suppressions: usize,
}

/// Which rules to run and how to treat their findings.
#[derive(Debug, Clone)]
pub struct RunOptions<'a> {
    /// The validated config.
    pub config: &'a Config,
    /// `--select`, replacing the config's `select` when not empty.
    pub select: &'a [String],
    /// `--ignore`, added to the config's `ignore`.
    pub ignore: &'a [String],
    /// "Now", for expiry of suppressions (and later, of certificates).
    pub now: jiff::Timestamp,
}

impl RunOptions<'_> {
    /// Whether a rule runs: `--select` (or else the config's `select`) selects it, and neither
    /// the config's `ignore` nor `--ignore` removes it.
    #[must_use]
    pub fn enables(&self, meta: &RuleMeta) -> bool {
        let select: &[String] = if self.select.is_empty() {
            &self.config.select
        } else {
            self.select
        };
        let selected = select.is_empty() || select.iter().any(|s| meta.selected_by(s));
        let ignored = self
            .config
            .ignore
            .iter()
            .chain(self.ignore)
            .any(|s| meta.selected_by(s));
        selected && !ignored
    }
}

/// Runs every enabled rule over the inventory.
#[must_use]
pub fn run(inv: &Inventory, opts: &RunOptions<'_>) -> Outcome {
    let config = opts.config;
    let cx = Context {
        inventory: inv,
        options: &config.options,
        now: opts.now,
    };
    let mut outcome = Outcome::default();
    let today = opts.now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let (live, expired): (Vec<&Suppression>, Vec<&Suppression>) = config
        .suppressions
        .iter()
        .partition(|s| s.expires.is_none_or(|d| d >= today));
    for s in expired {
        outcome.warnings.push(InputError {
            file: config.path.clone(),
            line: s.line,
            column: None,
            message: format!(
                "suppression of `{}` expired on {}; it no longer applies",
                s.rule,
                s.expires.map(|d| d.to_string()).unwrap_or_default()
            ),
        });
    }

    let mut raw: Vec<(&'static RuleMeta, Diagnostic)> = Vec::new();
    for rule in registry::all() {
        let meta = rule.meta();
        if !opts.enables(meta) {
            continue;
        }
        if let Some(reason) = missing_scope(inv, meta) {
            outcome.skipped.push(Skipped {
                rule: meta.name,
                reason,
            });
            continue;
        }
        let mut out = Diagnostics::default();
        rule.check(&cx, &mut out);
        raw.extend(out.items.into_iter().map(|d| (meta, d)));
    }

    let mut findings: Vec<Finding> = raw
        .into_iter()
        .map(|(meta, d)| Finding {
            rule: meta,
            // A diagnostic's own severity (e.g. `info` for "not in scope") wins over the
            // configured one, which is about the rule's real findings.
            severity: d
                .severity
                .or_else(|| config.severity.get(meta.name).copied())
                .unwrap_or(meta.severity),
            object: d.object,
            resource: inv.objects[d.object].object_ref(),
            pointer: inv.objects[d.object].source_pointer(&d.pointer),
            location: None,
            message: d.message,
            help: d.help.unwrap_or_else(|| meta_help(meta)),
            host: d.host,
        })
        .collect();
    place(inv, &mut findings);
    findings.sort_by_cached_key(sort_key);
    findings.dedup_by(|a, b| {
        a.rule.code == b.rule.code
            && a.object == b.object
            && a.pointer == b.pointer
            && a.message == b.message
    });

    for finding in findings {
        if let Some(s) = live.iter().find(|s| suppression_matches(s, &finding)) {
            outcome.suppressed.push(Suppressed {
                finding,
                reason: s.reason.clone(),
                expires: s.expires,
                by: SuppressedBy::Config { line: s.line },
            });
            continue;
        }
        let object = &inv.objects[finding.object];
        let annotated = object.annotation(IGNORE_ANNOTATION).is_some_and(|list| {
            list.split(',')
                .map(str::trim)
                .any(|sel| finding.rule.selected_by(sel))
        });
        if annotated && config.strict {
            outcome.refused_suppressions += 1;
        } else if annotated {
            let reason = object
                .annotation(IGNORE_REASON_ANNOTATION)
                .filter(|r| !r.trim().is_empty())
                .unwrap_or("(no reason given)")
                .to_owned();
            outcome.suppressed.push(Suppressed {
                finding,
                reason,
                expires: None,
                by: SuppressedBy::Annotation,
            });
            continue;
        }
        outcome.findings.push(finding);
    }
    outcome
}

/// The first line of a rule's "How to fix" section, used when a diagnostic has no own advice.
fn meta_help(meta: &RuleMeta) -> String {
    let docs = meta.docs();
    let mut in_fix = false;
    for line in docs.lines() {
        if line.starts_with("## ") {
            in_fix = line.contains("fix") || line.contains("Use instead");
            continue;
        }
        if in_fix && !line.trim().is_empty() && !line.starts_with("```") {
            return line.trim().to_owned();
        }
    }
    format!("see `tollgate rules {}`", meta.name)
}

/// A rule is skipped only when a kind it needs could not be listed at all (a 403): then it
/// cannot tell anything. Objects merely absent from the files given are the rules' to report,
/// as "not in scope" at `info`.
fn missing_scope(inv: &Inventory, meta: &RuleMeta) -> Option<String> {
    let kind = meta
        .needs
        .iter()
        .copied()
        .find(|k| inv.scope.denied.contains_key(k))?;
    let reason = &inv.scope.denied[&kind];
    Some(format!("{kind} objects could not be listed: {reason}"))
}

fn suppression_matches(s: &Suppression, f: &Finding) -> bool {
    s.rule == f.rule.name
        && s.namespace
            .as_deref()
            .is_none_or(|g| glob_matches(g, f.resource.namespace.as_deref().unwrap_or("")))
        && s.name
            .as_deref()
            .is_none_or(|g| glob_matches(g, &f.resource.name))
        && s.host
            .as_deref()
            .is_none_or(|g| f.host.as_deref().is_some_and(|h| glob_matches(g, h)))
}

/// Resolves pointers to file positions, one event walk per document that has findings.
fn place(inv: &Inventory, findings: &mut [Finding]) {
    let mut by_doc: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        if let Some(origin) = &inv.objects[f.object].origin {
            by_doc
                .entry((origin.source, origin.document.offset))
                .or_default()
                .push(i);
        }
    }
    for indices in by_doc.values() {
        let origin = inv.objects[findings[indices[0]].object]
            .origin
            .clone()
            .expect("grouped by origin");
        // Objects whose sources were not kept (the admission context) have no positions.
        let Some(source) = inv.sources.get(origin.source) else {
            continue;
        };
        let pointers: Vec<String> = indices
            .iter()
            .map(|&i| {
                let prefix = &inv.objects[findings[i].object]
                    .origin
                    .as_ref()
                    .expect("grouped by origin")
                    .prefix;
                format!("{prefix}{}", findings[i].pointer)
            })
            .collect();
        let refs: Vec<&str> = pointers.iter().map(String::as_str).collect();
        let positions = yaml::locate(source.document(origin.document), &refs);
        for (&i, pos) in indices.iter().zip(positions) {
            let pos = pos.unwrap_or(yaml::Position {
                line: origin.document.first_line,
                column: 1,
            });
            findings[i].location = Some(Location {
                file: source.path.clone(),
                source: origin.source,
                line: pos.line,
                column: pos.column,
            });
        }
    }
}

fn sort_key(f: &Finding) -> (String, usize, usize, String, String, &'static str, String) {
    let (file, line, column) = f.location.as_ref().map_or((String::new(), 0, 0), |l| {
        (l.file.clone(), l.line, l.column)
    });
    (
        file,
        line,
        column,
        f.resource.namespace.clone().unwrap_or_default(),
        f.resource.name.clone(),
        f.rule.code,
        f.pointer.clone(),
    )
}
