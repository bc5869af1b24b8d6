//! Access-log detectors: CrowdSec-style leaky buckets over pattern lists, per-route rate
//! baselines, CIDR and country lists, and requests for hosts no route defines.
//!
//! The work is split in two so the pipeline can parse in parallel and still judge in order:
//!
//! - [`Classifier::classify`] is stateless and runs on every parsed line, on any thread. It
//!   checks the line against every detector's match condition and returns a small owned
//!   [`Event`] for the lines some detector cares about; `None` for the rest, which costs a few
//!   comparisons and one table-lookup pass over the path, query and User-Agent. Lines without a
//!   client address or a time give no event: every detector groups by client and counts in log
//!   time.
//! - [`Detectors`] advances the state in file order: [`Detectors::observe`] pours each event
//!   into its buckets and returns the alerts that fire at that moment (what `--follow` prints);
//!   [`Detectors::observe_minute`] judges each route's per-minute counts against its baseline;
//!   [`Detectors::finish`] returns every alert fired, merged per detector, source and route.
//!
//! The detector names (`brute-force`, ...) are a public interface: they appear in JSON output,
//! in `--select` lists and in users' alert routing.

use std::net::IpAddr;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::record::Record;

mod bucket;
mod classifier;
pub mod config;
mod gate;
pub mod ipset;
pub mod patterns;
mod rate;
mod state;

pub use classifier::Classifier;
pub use config::{
    BucketSettings, CidrLists, CountryCode, CountryLists, DenyAllow, DetectorConfig,
    DetectorConfigError, ErrorBurstSettings, ExtraPatterns, RequestFloodSettings, Toggle,
};
pub use state::Detectors;

/// How many detectors there are.
pub(crate) const DETECTOR_COUNT: usize = Detector::ALL.len();

/// A detector, by its public name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Detector {
    /// Repeated failed POSTs (401/403), or POSTs to configured login forms, from one source.
    BruteForce,
    /// Many distinct non-static paths answered 400/403/404 for one source on one host.
    PathProbing,
    /// Requests for secrets, VCS metadata, backups and dumps.
    SensitiveFileProbe,
    /// `../` and its encodings, or the files traversal reads.
    PathTraversalProbe,
    /// SQL injection syntax in query strings.
    SqliProbe,
    /// Cross-site scripting markup in query strings.
    XssProbe,
    /// User-Agents of scanners and attack tools.
    BadUserAgent,
    /// Requests for well-known web-shell file names.
    BackdoorProbe,
    /// Admin consoles asked for and refused or missing.
    AdminInterfaceProbe,
    /// URIs of well-known CVE exploits.
    CveProbe,
    /// CONNECT or absolute-URL requests rejected: probes for an open proxy.
    OpenProxyProbe,
    /// A route's requests (or new addresses) in a minute far above its baseline.
    RequestFlood,
    /// A route's 5xx responses in a minute far above its baseline.
    ErrorBurst,
    /// A client in a denied range, or outside the allowed ranges.
    UntrustedSource,
    /// A client from a denied country, or from outside the allowed countries.
    DisallowedCountry,
    /// Requests for a host no route defines.
    UnroutedHost,
}

impl Detector {
    /// Every detector, in report order (the registry).
    pub const ALL: &'static [Detector] = &[
        Detector::BruteForce,
        Detector::PathProbing,
        Detector::SensitiveFileProbe,
        Detector::PathTraversalProbe,
        Detector::SqliProbe,
        Detector::XssProbe,
        Detector::BadUserAgent,
        Detector::BackdoorProbe,
        Detector::AdminInterfaceProbe,
        Detector::CveProbe,
        Detector::OpenProxyProbe,
        Detector::RequestFlood,
        Detector::ErrorBurst,
        Detector::UntrustedSource,
        Detector::DisallowedCountry,
        Detector::UnroutedHost,
    ];

    /// The public name.
    pub fn name(self) -> &'static str {
        match self {
            Detector::BruteForce => "brute-force",
            Detector::PathProbing => "path-probing",
            Detector::SensitiveFileProbe => "sensitive-file-probe",
            Detector::PathTraversalProbe => "path-traversal-probe",
            Detector::SqliProbe => "sqli-probe",
            Detector::XssProbe => "xss-probe",
            Detector::BadUserAgent => "bad-user-agent",
            Detector::BackdoorProbe => "backdoor-probe",
            Detector::AdminInterfaceProbe => "admin-interface-probe",
            Detector::CveProbe => "cve-probe",
            Detector::OpenProxyProbe => "open-proxy-probe",
            Detector::RequestFlood => "request-flood",
            Detector::ErrorBurst => "error-burst",
            Detector::UntrustedSource => "untrusted-source",
            Detector::DisallowedCountry => "disallowed-country",
            Detector::UnroutedHost => "unrouted-host",
        }
    }

    /// One line on what the detector catches.
    pub fn summary(self) -> &'static str {
        match self {
            Detector::BruteForce => {
                "repeated POSTs answered 401/403 (or to configured login forms) from one source"
            }
            Detector::PathProbing => {
                "many distinct non-static paths answered 400/403/404 for one source on one host"
            }
            Detector::SensitiveFileProbe => {
                "requests for secrets, VCS metadata, config backups and database dumps"
            }
            Detector::PathTraversalProbe => {
                "`../` in its encodings, or system files, in the path or query"
            }
            Detector::SqliProbe => "SQL injection syntax in query strings",
            Detector::XssProbe => "script and markup injection in query strings",
            Detector::BadUserAgent => "User-Agents of vulnerability scanners and attack tools",
            Detector::BackdoorProbe => "requests for the file names of known web shells",
            Detector::AdminInterfaceProbe => "admin consoles asked for and answered 403 or 404",
            Detector::CveProbe => "request URIs of well-known CVE exploits",
            Detector::OpenProxyProbe => {
                "CONNECT or absolute-URL requests rejected with 400/405: open-proxy probes"
            }
            Detector::RequestFlood => {
                "a route's requests, or new client addresses, in a minute far above its baseline"
            }
            Detector::ErrorBurst => "a route's 5xx responses in a minute far above its baseline",
            Detector::UntrustedSource => "clients in denied ranges or outside the allowed ranges",
            Detector::DisallowedCountry => "clients from denied or not-allowed countries (GeoIP)",
            Detector::UnroutedHost => "requests for hosts that no Ingress or route defines",
        }
    }

    /// The detector with this public name.
    pub fn from_name(name: &str) -> Option<Detector> {
        Detector::ALL
            .iter()
            .copied()
            .find(|detector| detector.name() == name)
    }

    /// The detector's key in the `detectors:` config section.
    pub fn config_key(self) -> &'static str {
        match self {
            Detector::BruteForce => "bruteForce",
            Detector::PathProbing => "pathProbing",
            Detector::SensitiveFileProbe => "sensitiveFileProbe",
            Detector::PathTraversalProbe => "pathTraversalProbe",
            Detector::SqliProbe => "sqliProbe",
            Detector::XssProbe => "xssProbe",
            Detector::BadUserAgent => "badUserAgent",
            Detector::BackdoorProbe => "backdoorProbe",
            Detector::AdminInterfaceProbe => "adminInterfaceProbe",
            Detector::CveProbe => "cveProbe",
            Detector::OpenProxyProbe => "openProxyProbe",
            Detector::RequestFlood => "requestFlood",
            Detector::ErrorBurst => "errorBurst",
            Detector::UntrustedSource => "untrustedSources",
            Detector::DisallowedCountry => "countries",
            Detector::UnroutedHost => "unroutedHost",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl Serialize for Detector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// A set of detectors, as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DetectorSet(u32);

impl DetectorSet {
    /// No detector.
    pub const EMPTY: DetectorSet = DetectorSet(0);

    /// Adds a detector.
    pub fn insert(&mut self, detector: Detector) {
        self.0 |= detector.bit();
    }

    /// Whether the set holds `detector`.
    pub fn contains(self, detector: Detector) -> bool {
        self.0 & detector.bit() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The detectors in the set, in registry order.
    pub fn iter(self) -> impl Iterator<Item = Detector> {
        Detector::ALL
            .iter()
            .copied()
            .filter(move |detector| self.contains(*detector))
    }
}

impl FromIterator<Detector> for DetectorSet {
    fn from_iter<I: IntoIterator<Item = Detector>>(iter: I) -> Self {
        let mut set = DetectorSet::EMPTY;
        for detector in iter {
            set.insert(detector);
        }
        set
    }
}

/// One parsed request with what the caller knows about it beyond the line.
#[derive(Debug, Clone, Copy)]
pub struct Request<'r> {
    /// The parsed line.
    pub record: &'r Record<'r>,
    /// The raw line, kept (truncated) as evidence when a detector matches.
    pub line: &'r str,
    /// The index of the matched route in the caller's route table.
    pub route: Option<u32>,
    /// Set when the request was for a host no route defines (or the proxy logged its default
    /// backend, or Envoy's `NR` flag): the host, or a marker text the caller chose.
    pub unrouted_host: Option<&'r str>,
    /// The client's ISO 3166 country code from GeoIP, when configured and known.
    pub country: Option<&'r str>,
}

/// The longest evidence line kept, in bytes.
pub const EVIDENCE_MAX_BYTES: usize = 512;

/// What [`Classifier::classify`] found in one request: owned and small, so it can cross from
/// the parallel parsers to the sequential detector state.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Log time of the request, in microseconds since the Unix epoch.
    pub time_us: i64,
    /// The client address.
    pub source: IpAddr,
    /// The route the request was attributed to.
    pub route: Option<u32>,
    /// The detectors whose match condition the request met.
    pub matched: DetectorSet,
    /// Hash of the path, the `distinct` value of path-probing and admin-interface-probe.
    pub path_hash: u64,
    /// Hash of path and query, the `distinct` value of sensitive-file and traversal probes.
    pub target_hash: u64,
    /// Hash of the query, the `distinct` value of sqli-probe and xss-probe.
    pub query_hash: u64,
    /// Hash of the lower-cased file name, the `distinct` value of backdoor-probe.
    pub file_hash: u64,
    /// Hash of the host (or of the route when the format logs no host): path-probing counts
    /// per source and host.
    pub scope_hash: u64,
    /// The scanner or tool named by the User-Agent (bad-user-agent).
    pub user_agent_class: Option<Arc<str>>,
    /// The CVE probed for (cve-probe).
    pub cve: Option<Arc<str>>,
    /// The country, when disallowed-country matched.
    pub country: Option<Box<str>>,
    /// The host no route defines (unrouted-host).
    pub unrouted_host: Option<Box<str>>,
    /// The raw line, truncated to [`EVIDENCE_MAX_BYTES`] on a character boundary.
    pub evidence: Box<str>,
}

/// One route's counts for one minute, as the aggregation computes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteStats {
    /// The route (`None` for requests attributed to no route).
    pub route: Option<u32>,
    /// The minute, in minutes since the Unix epoch.
    pub minute: i64,
    /// Requests in the minute.
    pub requests: u64,
    /// Requests answered 5xx.
    pub errors_5xx: u64,
    /// Addresses not seen earlier in the window on this route.
    pub new_sources: u64,
    /// The address with the most requests in the minute, and its count.
    pub top_source: Option<(IpAddr, u64)>,
}

/// A fired detector.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct Alert {
    /// Which detector fired.
    pub detector: Detector,
    /// The client address, or a text for route-level alerts (`"1,204 new addresses"`).
    pub source: String,
    /// The route, when known (an index into the caller's route table).
    pub route: Option<u32>,
    /// Matching requests (5xx responses for error-burst).
    pub count: u64,
    /// Time of the first matching request, microseconds since the epoch.
    pub first_us: i64,
    /// Time of the last matching request, microseconds since the epoch.
    pub last_us: i64,
    /// Up to three of the matching lines.
    pub evidence: Vec<String>,
    /// What matched, where one value says it: the CVE, the tool, the country, the host.
    pub detail: Option<String>,
}

/// The raw line cut to at most [`EVIDENCE_MAX_BYTES`] bytes, on a character boundary.
pub(crate) fn evidence_text(line: &str) -> &str {
    if line.len() <= EVIDENCE_MAX_BYTES {
        return line;
    }
    let mut end = EVIDENCE_MAX_BYTES;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line.get(..end).unwrap_or("")
}

/// FNV-1a: stable across runs and threads (distinct counting compares hashes made on different
/// threads), and quick on the short strings it sees.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// `1204` → `"1,204"`.
pub(crate) fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests;
