//! The stateless half of the detectors: which detectors one request matches.

use super::config::{CountryCode, DetectorConfig, DetectorConfigError};
use super::ipset::IpSet;
use super::patterns::{self, Patterns};
use super::{Detector, DetectorSet, Event, Request, evidence_text, fnv1a};

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashMap;

/// What the User-Agent lists say of one User-Agent: the tool it names, and an `any` CVE entry.
type UserAgentVerdict = (Option<Arc<str>>, Option<Arc<str>>);

/// User-Agents cached per thread before the cache is emptied (a log has few distinct ones).
const USER_AGENT_CACHE: usize = 4096;

static NEXT_CLASSIFIER_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The verdicts of the User-Agents this thread has seen, for the classifier with the id:
    /// matching a 120-byte User-Agent against the lists costs far more than a lookup, and logs
    /// repeat a few hundred User-Agents millions of times.
    static USER_AGENTS: RefCell<(u64, FxHashMap<Box<str>, UserAgentVerdict>)> =
        RefCell::new((0, FxHashMap::default()));
}

/// Decides which detectors a request matches. Built once from the config, shared by every
/// parsing thread (`Send + Sync`; its only cache is per thread).
#[derive(Debug, Clone)]
pub struct Classifier {
    /// Tells this classifier's cached User-Agent verdicts from another's.
    id: u64,
    enabled: DetectorSet,
    patterns: Patterns,
    untrusted_deny: IpSet,
    untrusted_allow: IpSet,
    countries_deny: Vec<CountryCode>,
    countries_allow: Vec<CountryCode>,
}

impl Classifier {
    /// Validates the config and compiles the pattern lists.
    pub fn new(config: &DetectorConfig) -> Result<Classifier, DetectorConfigError> {
        config.validate()?;
        let untrusted = config.untrusted_sources.parse()?;
        let mut untrusted_deny = IpSet::new();
        for net in untrusted.deny {
            untrusted_deny.insert(net);
        }
        let mut untrusted_allow = IpSet::new();
        for net in untrusted.allow {
            untrusted_allow.insert(net);
        }
        let countries = config.countries.parse()?;
        Ok(Classifier {
            id: NEXT_CLASSIFIER_ID.fetch_add(1, Ordering::Relaxed),
            enabled: Detector::ALL
                .iter()
                .copied()
                .filter(|detector| config.enabled(*detector))
                .collect(),
            patterns: Patterns::new(&config.extra_patterns)?,
            untrusted_deny,
            untrusted_allow,
            countries_deny: countries.deny,
            countries_allow: countries.allow,
        })
    }

    /// The detectors the config switched on.
    pub fn enabled(&self) -> DetectorSet {
        self.enabled
    }

    /// The event for this request, or `None` when no enabled detector cares about it.
    ///
    /// Lines without a client address or without a time give no event: every detector
    /// groups by client and orders by time. The pattern lists that apply whatever the status
    /// (sensitive files, traversal, SQLi, XSS, backdoors, bad User-Agents, `any` CVE entries)
    /// run on every line; the status-gated ones only after a cheap status check.
    pub fn classify(&self, request: &Request<'_>) -> Option<Event> {
        let record = request.record;
        let source = record.client_ip?;
        let time_us = record.time_us?;
        let on = self.enabled;
        let status = record.status.unwrap_or(0);
        let method = record.method.as_deref().unwrap_or("");
        let path = record.path.as_deref().unwrap_or("");
        let query = record.query.as_deref().unwrap_or("");
        let user_agent = record.user_agent.as_deref().unwrap_or("");
        let patterns = &self.patterns;

        let mut matched = DetectorSet::EMPTY;
        let mut mark = |detector: Detector, hit: bool| {
            if hit && on.contains(detector) {
                matched.insert(detector);
            }
        };
        // Status- and method-gated detectors first: a 200 GET passes them in a few compares.
        if method == "POST" && on.contains(Detector::BruteForce) {
            mark(
                Detector::BruteForce,
                status == 401 || status == 403 || patterns.login_path(path),
            );
        }
        let mut cve = None;
        let refused = status == 403 || status == 404;
        if refused || status == 400 {
            mark(Detector::PathProbing, !patterns::is_static(path));
        }
        if refused {
            if on.contains(Detector::AdminInterfaceProbe) {
                mark(
                    Detector::AdminInterfaceProbe,
                    patterns.admin_interface(path),
                );
            }
            if on.contains(Detector::CveProbe) {
                cve = patterns.cve_path(path);
            }
        }
        if status == 400 || status == 405 {
            mark(
                Detector::OpenProxyProbe,
                method == "CONNECT" || patterns::is_absolute_url(path),
            );
        }

        // The lists that apply whatever the answer (a 200 for `/.env` is worse than a 404).
        // Each field's gate lets a benign line skip the automata.
        let want_cve = cve.is_none() && on.contains(Detector::CveProbe);
        if !path.is_empty() {
            if on.contains(Detector::SensitiveFileProbe) {
                mark(Detector::SensitiveFileProbe, patterns.sensitive_file(path));
            }
            if on.contains(Detector::BackdoorProbe) {
                mark(
                    Detector::BackdoorProbe,
                    patterns.backdoor(patterns::file_name(path)),
                );
            }
            if patterns.path_may_match(path) {
                if on.contains(Detector::PathTraversalProbe) {
                    mark(Detector::PathTraversalProbe, patterns.path_traversal(path));
                }
                if want_cve && cve.is_none() {
                    cve = patterns.cve_anywhere(path);
                }
            }
        }
        if !query.is_empty() && patterns.query_may_match(query) {
            if on.contains(Detector::PathTraversalProbe) {
                mark(Detector::PathTraversalProbe, patterns.path_traversal(query));
            }
            if on.contains(Detector::SqliProbe) {
                mark(Detector::SqliProbe, patterns.sqli(query));
            }
            if on.contains(Detector::XssProbe) {
                mark(Detector::XssProbe, patterns.xss(query));
            }
            if want_cve && cve.is_none() {
                cve = patterns.cve_anywhere(query);
            }
        }
        let mut user_agent_class = None;
        let mut user_agent_cve = None;
        if !user_agent.is_empty() {
            (user_agent_class, user_agent_cve) = self.user_agent_verdict(user_agent);
            if !on.contains(Detector::BadUserAgent) {
                user_agent_class = None;
            }
            mark(Detector::BadUserAgent, user_agent_class.is_some());
        }
        let cve = match cve {
            Some(cve) => Some(cve.clone()),
            None if want_cve => user_agent_cve,
            None => None,
        };
        mark(Detector::CveProbe, cve.is_some());

        if on.contains(Detector::UntrustedSource) {
            let denied = !self.untrusted_deny.is_empty() && self.untrusted_deny.contains(source);
            let not_allowed =
                !self.untrusted_allow.is_empty() && !self.untrusted_allow.contains(source);
            mark(Detector::UntrustedSource, denied || not_allowed);
        }
        let mut country = None;
        if on.contains(Detector::DisallowedCountry)
            && let Some(code) = request.country
            && self.country_disallowed(code)
        {
            country = Some(Box::from(code));
            mark(Detector::DisallowedCountry, true);
        }
        let unrouted_host = request
            .unrouted_host
            .filter(|_| on.contains(Detector::UnroutedHost));
        mark(Detector::UnroutedHost, unrouted_host.is_some());

        if matched.is_empty() {
            return None;
        }
        let path_hash = fnv1a(path.as_bytes());
        let query_hash = fnv1a(query.as_bytes());
        let scope_hash = match (record.host.as_deref(), request.route) {
            // Host names are case-insensitive: `Shop.example` is the same site.
            (Some(host), _) => lowercase_hash(host),
            (None, Some(route)) => fnv1a(&route.to_le_bytes()) ^ 1,
            (None, None) => 0,
        };
        Some(Event {
            time_us,
            source,
            route: request.route,
            matched,
            path_hash,
            target_hash: path_hash.rotate_left(1) ^ query_hash,
            query_hash,
            file_hash: lowercase_hash(patterns::file_name(path)),
            scope_hash,
            user_agent_class: user_agent_class.filter(|_| matched.contains(Detector::BadUserAgent)),
            cve: cve.filter(|_| matched.contains(Detector::CveProbe)),
            country,
            unrouted_host: unrouted_host.map(Box::from),
            evidence: Box::from(evidence_text(request.line)),
        })
    }

    /// The User-Agent lists' verdict, from this thread's cache when it has seen the User-Agent.
    fn user_agent_verdict(&self, user_agent: &str) -> UserAgentVerdict {
        USER_AGENTS.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.0 != self.id {
                *cache = (self.id, FxHashMap::default());
            }
            if let Some(verdict) = cache.1.get(user_agent) {
                return verdict.clone();
            }
            let patterns = &self.patterns;
            let verdict = if patterns.user_agent_may_match(user_agent) {
                (
                    patterns.bad_user_agent(user_agent).cloned(),
                    patterns.cve_anywhere(user_agent).cloned(),
                )
            } else {
                (None, None)
            };
            if cache.1.len() >= USER_AGENT_CACHE {
                cache.1.clear();
            }
            cache.1.insert(user_agent.into(), verdict.clone());
            verdict
        })
    }

    fn country_disallowed(&self, code: &str) -> bool {
        let &[a, b] = code.trim().as_bytes() else {
            // Not a two-letter code: GeoIP gave something else; judge nothing on it.
            return false;
        };
        let code = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
        self.countries_deny.contains(&code)
            || (!self.countries_allow.is_empty() && !self.countries_allow.contains(&code))
    }
}

/// FNV-1a of the ASCII-lower-cased bytes, so `C99.php` and `c99.php` count once.
fn lowercase_hash(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte.to_ascii_lowercase());
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
