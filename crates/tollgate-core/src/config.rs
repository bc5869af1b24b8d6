//! `tollgate.yaml`: which rules run, at what severity, with which options, and what is suppressed.
//!
//! The file is read as raw YAML, then validated into a [`Config`] that cannot hold an unknown
//! rule, a bad severity or a suppression without a reason. Every error points at the line of the
//! config that caused it.
//!
//! ```yaml
//! select: [all]                   # names, codes, categories, or `all`
//! ignore: [ingress-in-default-namespace]
//! failOn: high
//! severity: {wildcard-host: critical}
//! allowedDomains: [example.com]   # host-outside-allowed-domains
//! strict: false                   # true: refuse `tollgate.io/ignore` annotations
//! suppressions:
//!   - rule: tls-missing
//!     namespace: shop
//!     name: "web-*"
//!     reason: TLS terminates at the cloud load balancer
//!     expires: 2027-01-31
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::manifest::InputError;
use crate::rules::Severity;
use crate::rules::registry;
use crate::yaml::{self, DocumentText};

/// Options that rules read.
#[derive(Debug, Clone, Default)]
pub struct RuleOptions {
    /// Domains hosts must be under (`example.com` allows `example.com` and `*.example.com`).
    pub allowed_domains: Vec<String>,
}

/// A suppression from the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Rule name (a code in the file is normalised to the name).
    pub rule: String,
    /// Namespace glob.
    pub namespace: Option<String>,
    /// Object name glob.
    pub name: Option<String>,
    /// Host glob (matches findings about that host).
    pub host: Option<String>,
    /// Why it is acceptable.
    pub reason: String,
    /// Last day (UTC) on which it applies.
    pub expires: Option<jiff::civil::Date>,
    /// Where it is written.
    pub line: Option<usize>,
}

/// A validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from, if any.
    pub path: Option<String>,
    /// Rule selectors to run (empty: all).
    pub select: Vec<String>,
    /// Rule selectors not to run.
    pub ignore: Vec<String>,
    /// Severity overrides by rule name.
    pub severity: BTreeMap<String, Severity>,
    /// Default `--fail-on`; `None` means "never fail".
    pub fail_on: Option<Option<Severity>>,
    /// Refuse annotation suppressions.
    pub strict: bool,
    /// Config suppressions.
    pub suppressions: Vec<Suppression>,
    /// Options for rules.
    pub options: RuleOptions,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    #[serde(default)]
    select: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    fail_on: Option<String>,
    #[serde(default)]
    allowed_domains: Vec<String>,
    #[serde(default)]
    strict: bool,
    #[serde(default)]
    suppressions: Vec<RawSuppression>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSuppression {
    rule: String,
    namespace: Option<String>,
    name: Option<String>,
    host: Option<String>,
    reason: Option<String>,
    expires: Option<String>,
}

impl Config {
    /// Parses and validates a config file's text. All problems are returned, each with its line.
    ///
    /// # Errors
    /// Invalid YAML, unknown keys, unknown rules, bad severities or dates, suppressions without a
    /// reason.
    pub fn parse(path: &str, text: &str) -> Result<Config, Vec<InputError>> {
        let doc = DocumentText {
            text,
            first_line: 1,
            offset: 0,
        };
        let at = |pointer: &str, message: String| {
            let pos = yaml::locate(doc, &[pointer])[0];
            InputError {
                file: Some(path.to_owned()),
                line: pos.map(|p| p.line),
                column: pos.map(|p| p.column),
                message,
            }
        };
        let value = match yaml::parse_document(doc) {
            Ok(v) => v.unwrap_or(serde_json::Value::Object(serde_json::Map::new())),
            Err(e) => {
                return Err(vec![InputError {
                    file: Some(path.to_owned()),
                    line: e.position.map(|p| p.line),
                    column: e.position.map(|p| p.column),
                    message: e.message,
                }]);
            }
        };
        let raw: RawConfig = match serde_path_to_error::deserialize(&value) {
            Ok(r) => r,
            Err(e) => {
                let pointer = e.path().iter().map(|s| format!("/{s}")).collect::<String>();
                return Err(vec![at(&pointer, format!("config: {}", e.into_inner()))]);
            }
        };
        let mut errors = Vec::new();
        let known = |sel: &str| registry::all().iter().any(|r| r.meta().selected_by(sel));
        for (field, list) in [("select", &raw.select), ("ignore", &raw.ignore)] {
            for (i, sel) in list.iter().enumerate() {
                if !known(sel) {
                    errors.push(at(
                        &format!("/{field}/{i}"),
                        format!("unknown rule, code or category `{sel}`"),
                    ));
                }
            }
        }
        let mut severity = BTreeMap::new();
        for (rule, sev) in &raw.severity {
            let pointer = format!("/severity/{}", yaml::escape_segment(rule));
            match (registry::find(rule), sev.parse::<Severity>()) {
                (Some(r), Ok(s)) => {
                    severity.insert(r.meta().name.to_owned(), s);
                }
                (None, _) => errors.push(at(&pointer, format!("unknown rule `{rule}`"))),
                (_, Err(e)) => errors.push(at(&pointer, e)),
            }
        }
        let fail_on = match raw.fail_on.as_deref() {
            None => None,
            Some("never") => Some(None),
            Some(s) => match s.parse::<Severity>() {
                Ok(s) => Some(Some(s)),
                Err(e) => {
                    errors.push(at("/failOn", e));
                    None
                }
            },
        };
        let mut suppressions = Vec::new();
        for (i, s) in raw.suppressions.iter().enumerate() {
            let base = format!("/suppressions/{i}");
            let Some(rule) = registry::find(&s.rule) else {
                errors.push(at(
                    &format!("{base}/rule"),
                    format!("unknown rule `{}`", s.rule),
                ));
                continue;
            };
            let Some(reason) = s.reason.clone().filter(|r| !r.trim().is_empty()) else {
                errors.push(at(&base, "a suppression needs a `reason`".to_owned()));
                continue;
            };
            let expires = match s.expires.as_deref().map(str::parse::<jiff::civil::Date>) {
                None => None,
                Some(Ok(d)) => Some(d),
                Some(Err(_)) => {
                    errors.push(at(
                        &format!("{base}/expires"),
                        "`expires` must be a date like 2027-01-31".to_owned(),
                    ));
                    continue;
                }
            };
            suppressions.push(Suppression {
                rule: rule.meta().name.to_owned(),
                namespace: s.namespace.clone(),
                name: s.name.clone(),
                host: s.host.clone(),
                reason,
                expires,
                line: yaml::locate(doc, &[base.as_str()])[0].map(|p| p.line),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config {
            path: Some(path.to_owned()),
            select: raw.select,
            ignore: raw.ignore,
            severity,
            fail_on,
            strict: raw.strict,
            suppressions,
            options: RuleOptions {
                allowed_domains: raw.allowed_domains,
            },
        })
    }
}

/// Shell-style glob: `*` any run of characters, `?` one character. Case-sensitive.
#[must_use]
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_config_is_read() {
        let c = Config::parse(
            "tollgate.yaml",
            "select: [all]\nignore: [TG101]\nseverity: {tls-missing: critical}\nfailOn: medium\nallowedDomains: [example.com]\nsuppressions:\n  - rule: tls-missing\n    namespace: shop\n    reason: LB terminates TLS\n    expires: 2027-01-31\n",
        )
        .unwrap();
        assert_eq!(c.severity.get("tls-missing"), Some(&Severity::Critical));
        assert_eq!(c.fail_on, Some(Some(Severity::Medium)));
        assert_eq!(c.suppressions[0].line, Some(7));
        assert_eq!(c.options.allowed_domains, ["example.com"]);
    }

    #[test]
    fn errors_point_into_the_config() {
        let errs = Config::parse(
            "tollgate.yaml",
            "select:\n  - wildcard-host\n  - no-such-rule\nseverity: {tls-missing: urgent}\nsuppressions:\n  - rule: tls-missing\n",
        )
        .unwrap_err();
        let lines: Vec<_> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, [Some(3), Some(4), Some(6)], "{errs:?}");
        assert!(errs[2].message.contains("reason"));
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let errs = Config::parse("c.yaml", "select: [all]\nfailon: high\n").unwrap_err();
        assert!(
            errs[0].message.contains("unknown field `failon`"),
            "{errs:?}"
        );
    }

    #[test]
    fn globs_match_like_a_shell() {
        assert!(glob_matches("web-*", "web-frontend"));
        assert!(glob_matches("*.example.com", "a.example.com"));
        assert!(!glob_matches("web-?", "web-12"));
        assert!(glob_matches("*", ""));
        assert!(!glob_matches("shop", "shops"));
    }
}
