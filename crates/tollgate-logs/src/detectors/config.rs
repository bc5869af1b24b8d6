//! Detector configuration: the `detectors:` section of `tollgate.yaml`, its documented defaults,
//! and the checks that turn a parsed section into one the detectors can run with.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

use super::Detector;

/// Thresholds and lists for the access-log detectors (`detectors:` in `tollgate.yaml`).
///
/// Every key is optional; a missing key keeps its default, an unknown key is an error.
///
/// # Leaky-bucket detectors
///
/// Each of these keeps one bucket per source address (per source and host for `pathProbing`).
/// A matching request pours one event in; the bucket leaks one event every `leakSeconds`; when
/// more than `capacity` events are inside, the detector fires (`capacity: 0` fires on the first
/// match). Detectors marked *distinct* count a request only if its value (path, query or file
/// name) is not already in the bucket, so repeating one URL never fills it. After firing, the
/// same source is silent for `blackholeSeconds`: further matches are added to that alert's count.
/// Time is the log time of each line. The defaults are CrowdSec's (crowdsecurity/hub scenarios).
///
/// | key | matches | distinct | capacity | leakSeconds | blackholeSeconds |
/// |---|---|---|---|---|---|
/// | `bruteForce` | POST answered 401 or 403; or POST to a path containing an entry of `extraPatterns.loginForms` (none by default) | – | 5 | 10 | 60 |
/// | `pathProbing` | answered 400, 403 or 404, not a static file (by extension); per source and host (or route) | path | 10 | 10 | 300 |
/// | `sensitiveFileProbe` | path ends with an entry of `sensitive-files.txt` | path + query | 4 | 5 | 300 |
/// | `pathTraversalProbe` | path or query contains an entry of `path-traversal.txt` | path + query | 3 | 10 | 120 |
/// | `sqliProbe` | query contains an entry of `sqli.txt` | query | 10 | 1 | 300 |
/// | `xssProbe` | query contains an entry of `xss.txt` | query | 5 | 1 | 300 |
/// | `badUserAgent` | User-Agent contains an entry of `bad-user-agents.txt` | – | 1 | 60 | 120 |
/// | `backdoorProbe` | file name equals an entry of `backdoors.txt` | file name | 1 | 5 | 300 |
/// | `adminInterfaceProbe` | answered 403 or 404 and path contains an entry of `admin-interfaces.txt` | path | 2 | 10 | 60 |
/// | `cveProbe` | answered 403 or 404 and path contains a URI of `cve-uris.txt`, or an `any` entry anywhere in path, query or User-Agent | – | 0 | 1 | 60 |
/// | `openProxyProbe` | answered 400 or 405 and method CONNECT or an absolute `http(s)://` target | – | 0 | 1 | 120 |
///
/// So `bruteForce` fires on the sixth failure faster than one per 10 s, and `badUserAgent` on
/// a tool's second request within a minute. Form logins answer a wrong password with 200 or a
/// redirect, which an access log cannot tell from a success; name them in
/// `extraPatterns.loginForms` (e.g. `["/account/signin"]`) and every POST to them counts, whatever
/// the answer. That is off by default because a busy NAT address or an API client logging in
/// often would look like an attack; when on, raise `bruteForce.capacity` for such sources.
///
/// All list matching is ASCII case-insensitive and runs on the path and query as logged (still
/// percent-encoded; the lists carry the encoded spellings). List matches apply whatever the
/// status, except where the table names statuses. Each bucket key takes well under 1 KB;
/// `maxBuckets` (default 100,000) caps how many are alive at once: buckets that have leaked
/// empty are dropped first, then the least filled ones, so a scan from a million addresses
/// cannot grow memory without bound.
///
/// # Rate detectors
///
/// Judged once per route and minute against the route's own baseline, an exponentially
/// weighted moving average over about `baselineMinutes` earlier minutes (minutes without
/// requests count as zero).
///
/// | key | fires when | defaults |
/// |---|---|---|
/// | `requestFlood` | after `warmupMinutes` minutes of history, requests in a minute above `max(minRequests, factor × baseline)`, or addresses new to the route above `max(minNewSources, factor × baseline of new addresses)` | `factor: 5`, `minRequests: 300`, `minNewSources: 100`, `warmupMinutes: 5`, `baselineMinutes: 30` |
/// | `errorBurst` | 5xx responses in a minute above `max(minErrors, factor × baseline)` and at least `minErrorRatio` of the minute's requests | `factor: 5`, `minErrors: 20`, `minErrorRatio: 0.2`, `warmupMinutes: 0`, `baselineMinutes: 30` |
///
/// A minute that fires feeds the baseline only up to its threshold, so a long flood keeps
/// firing instead of becoming the new normal. Consecutive firing minutes extend one alert.
///
/// # Lists
///
/// | key | fires when | default |
/// |---|---|---|
/// | `untrustedSources` | `deny: [CIDR...]` holds the client, or `allow: [CIDR...]` is not empty and does not; one alert per client, counting its requests | both empty (off) |
/// | `countries` | the GeoIP country (ISO 3166 alpha-2) is in `deny`, or `allow` is not empty and does not hold it; one alert per client; requests without a country are not judged | both empty (off) |
/// | `unroutedHost` | the request was for a host no route defines (the caller decides); one alert per host, naming the client that asked most (past 1,000 hosts, new hosts share one alert) | `enabled: true` |
///
/// CIDR entries may be single addresses; IPv4-mapped IPv6 clients (`::ffff:10.1.2.3`) are
/// judged as IPv4.
///
/// `extraPatterns` adds entries to the built-in lists: `sensitiveFiles`, `pathTraversal`,
/// `sqli`, `xss`, `backdoors`, `adminInterfaces`, `badUserAgents`, `cveUris` (each
/// `"<CVE-ID> <fragment>"` or `"<CVE-ID> any <fragment>"`), and `loginForms` (see `bruteForce`).
///
/// ```yaml
/// detectors:
///   bruteForce: {capacity: 10}
///   sqliProbe: {enabled: false}
///   requestFlood: {minRequests: 1000}
///   untrustedSources: {deny: ["203.0.113.0/24"]}
///   countries: {allow: [DE, FR, NL]}
///   extraPatterns: {sensitiveFiles: ["/internal/dump.tar"]}
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct DetectorConfig {
    /// `brute-force`.
    #[serde(deserialize_with = "brute_force")]
    pub brute_force: BucketSettings,
    /// `path-probing`.
    #[serde(deserialize_with = "path_probing")]
    pub path_probing: BucketSettings,
    /// `sensitive-file-probe`.
    #[serde(deserialize_with = "sensitive_file_probe")]
    pub sensitive_file_probe: BucketSettings,
    /// `path-traversal-probe`.
    #[serde(deserialize_with = "path_traversal_probe")]
    pub path_traversal_probe: BucketSettings,
    /// `sqli-probe`.
    #[serde(deserialize_with = "sqli_probe")]
    pub sqli_probe: BucketSettings,
    /// `xss-probe`.
    #[serde(deserialize_with = "xss_probe")]
    pub xss_probe: BucketSettings,
    /// `bad-user-agent`.
    #[serde(deserialize_with = "bad_user_agent")]
    pub bad_user_agent: BucketSettings,
    /// `backdoor-probe`.
    #[serde(deserialize_with = "backdoor_probe")]
    pub backdoor_probe: BucketSettings,
    /// `admin-interface-probe`.
    #[serde(deserialize_with = "admin_interface_probe")]
    pub admin_interface_probe: BucketSettings,
    /// `cve-probe`.
    #[serde(deserialize_with = "cve_probe")]
    pub cve_probe: BucketSettings,
    /// `open-proxy-probe`.
    #[serde(deserialize_with = "open_proxy_probe")]
    pub open_proxy_probe: BucketSettings,
    /// `request-flood`.
    pub request_flood: RequestFloodSettings,
    /// `error-burst`.
    pub error_burst: ErrorBurstSettings,
    /// `untrusted-source`: CIDR allow and deny lists.
    pub untrusted_sources: CidrLists,
    /// `disallowed-country`: country allow and deny lists.
    pub countries: CountryLists,
    /// `unrouted-host`.
    pub unrouted_host: Toggle,
    /// Entries added to the built-in pattern lists.
    pub extra_patterns: ExtraPatterns,
    /// The most leaky buckets alive at once, over all detectors.
    pub max_buckets: usize,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            brute_force: BucketSettings::BRUTE_FORCE,
            path_probing: BucketSettings::PATH_PROBING,
            sensitive_file_probe: BucketSettings::SENSITIVE_FILE_PROBE,
            path_traversal_probe: BucketSettings::PATH_TRAVERSAL_PROBE,
            sqli_probe: BucketSettings::SQLI_PROBE,
            xss_probe: BucketSettings::XSS_PROBE,
            bad_user_agent: BucketSettings::BAD_USER_AGENT,
            backdoor_probe: BucketSettings::BACKDOOR_PROBE,
            admin_interface_probe: BucketSettings::ADMIN_INTERFACE_PROBE,
            cve_probe: BucketSettings::CVE_PROBE,
            open_proxy_probe: BucketSettings::OPEN_PROXY_PROBE,
            request_flood: RequestFloodSettings::default(),
            error_burst: ErrorBurstSettings::default(),
            untrusted_sources: CidrLists::default(),
            countries: CountryLists::default(),
            unrouted_host: Toggle { enabled: true },
            extra_patterns: ExtraPatterns::default(),
            max_buckets: 100_000,
        }
    }
}

impl DetectorConfig {
    /// The bucket settings of a leaky-bucket detector; `None` for the others.
    pub fn bucket(&self, detector: Detector) -> Option<&BucketSettings> {
        Some(match detector {
            Detector::BruteForce => &self.brute_force,
            Detector::PathProbing => &self.path_probing,
            Detector::SensitiveFileProbe => &self.sensitive_file_probe,
            Detector::PathTraversalProbe => &self.path_traversal_probe,
            Detector::SqliProbe => &self.sqli_probe,
            Detector::XssProbe => &self.xss_probe,
            Detector::BadUserAgent => &self.bad_user_agent,
            Detector::BackdoorProbe => &self.backdoor_probe,
            Detector::AdminInterfaceProbe => &self.admin_interface_probe,
            Detector::CveProbe => &self.cve_probe,
            Detector::OpenProxyProbe => &self.open_proxy_probe,
            Detector::RequestFlood
            | Detector::ErrorBurst
            | Detector::UntrustedSource
            | Detector::DisallowedCountry
            | Detector::UnroutedHost => return None,
        })
    }

    /// Whether a detector is switched on. `untrusted-source` and `disallowed-country` are on
    /// when their lists are not empty.
    pub fn enabled(&self, detector: Detector) -> bool {
        if let Some(bucket) = self.bucket(detector) {
            return bucket.enabled;
        }
        match detector {
            Detector::RequestFlood => self.request_flood.enabled,
            Detector::ErrorBurst => self.error_burst.enabled,
            Detector::UntrustedSource => {
                !self.untrusted_sources.deny.is_empty() || !self.untrusted_sources.allow.is_empty()
            }
            Detector::DisallowedCountry => {
                !self.countries.deny.is_empty() || !self.countries.allow.is_empty()
            }
            Detector::UnroutedHost => self.unrouted_host.enabled,
            _ => false,
        }
    }

    /// Checks every value a detector cannot run with: non-positive or non-finite durations and
    /// factors, malformed CIDRs, country codes and patterns. [`super::Classifier::new`] runs it.
    pub fn validate(&self) -> Result<(), DetectorConfigError> {
        for &detector in Detector::ALL {
            if let Some(bucket) = self.bucket(detector) {
                bucket.validate(detector)?;
            }
        }
        self.request_flood.validate()?;
        self.error_burst.validate()?;
        if self.max_buckets == 0 {
            return Err(DetectorConfigError::Setting {
                detector: "detectors",
                setting: "maxBuckets",
                reason: "must be at least 1".into(),
            });
        }
        self.untrusted_sources.parse()?;
        self.countries.parse()?;
        Ok(())
    }
}

/// The settings of one leaky-bucket detector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketSettings {
    /// Whether the detector runs.
    pub enabled: bool,
    /// Events the bucket holds; one more fires it (0 = fire on the first match).
    pub capacity: u32,
    /// Seconds for one event to leak out.
    pub leak_seconds: f64,
    /// Seconds the same key stays silent after firing.
    pub blackhole_seconds: f64,
}

impl BucketSettings {
    const fn new(capacity: u32, leak_seconds: f64, blackhole_seconds: f64) -> Self {
        BucketSettings {
            enabled: true,
            capacity,
            leak_seconds,
            blackhole_seconds,
        }
    }

    /// `brute-force` defaults (CrowdSec `http-generic-401-bf` / `-403-bf`).
    pub const BRUTE_FORCE: Self = Self::new(5, 10.0, 60.0);
    /// `path-probing` defaults (CrowdSec `http-probing`).
    pub const PATH_PROBING: Self = Self::new(10, 10.0, 300.0);
    /// `sensitive-file-probe` defaults (CrowdSec `http-sensitive-files`).
    pub const SENSITIVE_FILE_PROBE: Self = Self::new(4, 5.0, 300.0);
    /// `path-traversal-probe` defaults (CrowdSec `http-path-traversal-probing`).
    pub const PATH_TRAVERSAL_PROBE: Self = Self::new(3, 10.0, 120.0);
    /// `sqli-probe` defaults (CrowdSec `http-sqli-probbing-detection`).
    pub const SQLI_PROBE: Self = Self::new(10, 1.0, 300.0);
    /// `xss-probe` defaults (CrowdSec `http-xss-probbing`).
    pub const XSS_PROBE: Self = Self::new(5, 1.0, 300.0);
    /// `bad-user-agent` defaults (CrowdSec `http-bad-user-agent`).
    pub const BAD_USER_AGENT: Self = Self::new(1, 60.0, 120.0);
    /// `backdoor-probe` defaults (CrowdSec `http-backdoors-attempts`).
    pub const BACKDOOR_PROBE: Self = Self::new(1, 5.0, 300.0);
    /// `admin-interface-probe` defaults (CrowdSec `http-admin-interface-probing`).
    pub const ADMIN_INTERFACE_PROBE: Self = Self::new(2, 10.0, 60.0);
    /// `cve-probe` defaults (CrowdSec `http-cve-probing`, a trigger).
    pub const CVE_PROBE: Self = Self::new(0, 1.0, 60.0);
    /// `open-proxy-probe` defaults (CrowdSec `http-open-proxy`, a trigger).
    pub const OPEN_PROXY_PROBE: Self = Self::new(0, 1.0, 120.0);

    fn validate(&self, detector: Detector) -> Result<(), DetectorConfigError> {
        positive(detector.config_key(), "leakSeconds", self.leak_seconds)?;
        if !(self.blackhole_seconds.is_finite() && self.blackhole_seconds >= 0.0) {
            return Err(DetectorConfigError::Setting {
                detector: detector.config_key(),
                setting: "blackholeSeconds",
                reason: format!("must be 0 or more, not {}", self.blackhole_seconds),
            });
        }
        // Buckets keep one small entry per event they hold; a capacity beyond this is a typo,
        // and refusing it keeps bucket memory bounded.
        if self.capacity > MAX_CAPACITY {
            return Err(DetectorConfigError::Setting {
                detector: detector.config_key(),
                setting: "capacity",
                reason: format!("must be at most {MAX_CAPACITY}, not {}", self.capacity),
            });
        }
        Ok(())
    }
}

/// The largest bucket capacity accepted.
pub(crate) const MAX_CAPACITY: u32 = 10_000;

/// The keys one bucket detector accepts; each missing key keeps that detector's default.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BucketOverrides {
    enabled: Option<bool>,
    capacity: Option<u32>,
    leak_seconds: Option<f64>,
    blackhole_seconds: Option<f64>,
}

impl BucketOverrides {
    fn over(self, defaults: BucketSettings) -> BucketSettings {
        BucketSettings {
            enabled: self.enabled.unwrap_or(defaults.enabled),
            capacity: self.capacity.unwrap_or(defaults.capacity),
            leak_seconds: self.leak_seconds.unwrap_or(defaults.leak_seconds),
            blackhole_seconds: self.blackhole_seconds.unwrap_or(defaults.blackhole_seconds),
        }
    }
}

/// One deserializer per bucket detector, so that `bruteForce: {capacity: 3}` keeps the
/// brute-force leak and blackhole rather than some shared default.
macro_rules! bucket_deserializers {
    ($($name:ident => $defaults:ident,)*) => {$(
        fn $name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BucketSettings, D::Error> {
            BucketOverrides::deserialize(deserializer).map(|o| o.over(BucketSettings::$defaults))
        }
    )*};
}

bucket_deserializers! {
    brute_force => BRUTE_FORCE,
    path_probing => PATH_PROBING,
    sensitive_file_probe => SENSITIVE_FILE_PROBE,
    path_traversal_probe => PATH_TRAVERSAL_PROBE,
    sqli_probe => SQLI_PROBE,
    xss_probe => XSS_PROBE,
    bad_user_agent => BAD_USER_AGENT,
    backdoor_probe => BACKDOOR_PROBE,
    admin_interface_probe => ADMIN_INTERFACE_PROBE,
    cve_probe => CVE_PROBE,
    open_proxy_probe => OPEN_PROXY_PROBE,
}

/// `request-flood` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RequestFloodSettings {
    /// Whether the detector runs.
    pub enabled: bool,
    /// How many times the baseline a minute must reach.
    pub factor: f64,
    /// Requests per minute below which a route never floods.
    pub min_requests: u64,
    /// New addresses per minute below which a surge of new addresses never fires.
    pub min_new_sources: u64,
    /// Minutes of a route's history needed before it can fire.
    pub warmup_minutes: u32,
    /// The span of the moving average, in minutes.
    pub baseline_minutes: u32,
}

impl Default for RequestFloodSettings {
    fn default() -> Self {
        RequestFloodSettings {
            enabled: true,
            factor: 5.0,
            min_requests: 300,
            min_new_sources: 100,
            warmup_minutes: 5,
            baseline_minutes: 30,
        }
    }
}

impl RequestFloodSettings {
    fn validate(&self) -> Result<(), DetectorConfigError> {
        positive("requestFlood", "factor", self.factor)?;
        at_least_one("requestFlood", self.baseline_minutes)
    }
}

/// `error-burst` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ErrorBurstSettings {
    /// Whether the detector runs.
    pub enabled: bool,
    /// How many times the baseline a minute's 5xx count must reach.
    pub factor: f64,
    /// 5xx responses per minute below which a route never bursts.
    pub min_errors: u64,
    /// The least share of the minute's requests that must be 5xx (0 to 1).
    pub min_error_ratio: f64,
    /// Minutes of a route's history needed before it can fire.
    pub warmup_minutes: u32,
    /// The span of the moving average, in minutes.
    pub baseline_minutes: u32,
}

impl Default for ErrorBurstSettings {
    fn default() -> Self {
        ErrorBurstSettings {
            enabled: true,
            factor: 5.0,
            min_errors: 20,
            min_error_ratio: 0.2,
            warmup_minutes: 0,
            baseline_minutes: 30,
        }
    }
}

impl ErrorBurstSettings {
    fn validate(&self) -> Result<(), DetectorConfigError> {
        positive("errorBurst", "factor", self.factor)?;
        at_least_one("errorBurst", self.baseline_minutes)?;
        if !(0.0..=1.0).contains(&self.min_error_ratio) {
            return Err(DetectorConfigError::Setting {
                detector: "errorBurst",
                setting: "minErrorRatio",
                reason: format!("must be between 0 and 1, not {}", self.min_error_ratio),
            });
        }
        Ok(())
    }
}

/// CIDR allow and deny lists (`untrustedSources`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CidrLists {
    /// Sources that always fire (`10.0.0.0/8`, `2001:db8::/32`, or one address).
    pub deny: Vec<String>,
    /// When not empty, sources outside these prefixes fire.
    pub allow: Vec<String>,
}

impl CidrLists {
    /// The parsed prefixes.
    pub fn parse(&self) -> Result<DenyAllow<IpNet>, DetectorConfigError> {
        Ok(DenyAllow {
            deny: parse_cidrs("deny", &self.deny)?,
            allow: parse_cidrs("allow", &self.allow)?,
        })
    }
}

fn parse_cidrs(list: &'static str, entries: &[String]) -> Result<Vec<IpNet>, DetectorConfigError> {
    entries
        .iter()
        .map(|entry| {
            let text = entry.trim();
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| DetectorConfigError::Cidr {
                    list,
                    entry: entry.clone(),
                })
        })
        .collect()
}

/// Parsed allow and deny lists.
#[derive(Debug, Clone, PartialEq)]
pub struct DenyAllow<T> {
    /// Entries that always fire.
    pub deny: Vec<T>,
    /// When not empty, what is not here fires.
    pub allow: Vec<T>,
}

/// An ISO 3166-1 alpha-2 country code, upper-case ASCII.
pub type CountryCode = [u8; 2];

/// Country allow and deny lists (`countries`), ISO 3166-1 alpha-2 codes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CountryLists {
    /// Countries that always fire.
    pub deny: Vec<String>,
    /// When not empty, countries outside this list fire.
    pub allow: Vec<String>,
}

impl CountryLists {
    /// The parsed codes, upper-cased.
    pub fn parse(&self) -> Result<DenyAllow<CountryCode>, DetectorConfigError> {
        Ok(DenyAllow {
            deny: parse_countries("deny", &self.deny)?,
            allow: parse_countries("allow", &self.allow)?,
        })
    }
}

fn parse_countries(
    list: &'static str,
    entries: &[String],
) -> Result<Vec<CountryCode>, DetectorConfigError> {
    entries
        .iter()
        .map(|entry| match entry.trim().as_bytes() {
            &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
            }
            _ => Err(DetectorConfigError::Country {
                list,
                entry: entry.clone(),
            }),
        })
        .collect()
}

/// A detector with nothing to set but whether it runs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Toggle {
    /// Whether the detector runs.
    pub enabled: bool,
}

impl Default for Toggle {
    fn default() -> Self {
        Toggle { enabled: true }
    }
}

/// Entries added to the built-in lists, with the same meaning as the built-in entries.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ExtraPatterns {
    /// Paths ending with one of these are sensitive files.
    pub sensitive_files: Vec<String>,
    /// Path or query fragments of traversal attempts.
    pub path_traversal: Vec<String>,
    /// Query fragments of SQL injection probes.
    pub sqli: Vec<String>,
    /// Query fragments of cross-site scripting probes.
    pub xss: Vec<String>,
    /// File names of web shells.
    pub backdoors: Vec<String>,
    /// Path fragments of admin interfaces.
    pub admin_interfaces: Vec<String>,
    /// User-Agent fragments of scanners and attack tools.
    pub bad_user_agents: Vec<String>,
    /// `"<CVE-ID> <path fragment>"` or `"<CVE-ID> any <fragment>"`.
    pub cve_uris: Vec<String>,
    /// Path fragments of login forms whose POSTs count for `brute-force` whatever the answer.
    pub login_forms: Vec<String>,
}

/// Why a detector configuration cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DetectorConfigError {
    /// A number out of its range.
    #[error("detectors.{detector}.{setting} {reason}")]
    Setting {
        /// The detector's config key (`bruteForce`).
        detector: &'static str,
        /// The setting's key (`leakSeconds`).
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A CIDR or address that does not parse.
    #[error("detectors.untrustedSources.{list}: `{entry}` is not an IP address or CIDR prefix")]
    Cidr {
        /// `allow` or `deny`.
        list: &'static str,
        /// The entry as written.
        entry: String,
    },
    /// A country code that is not two letters.
    #[error("detectors.countries.{list}: `{entry}` is not a two-letter ISO 3166 country code")]
    Country {
        /// `allow` or `deny`.
        list: &'static str,
        /// The entry as written.
        entry: String,
    },
    /// A pattern list entry that cannot be used.
    #[error("detectors.extraPatterns.{list}: `{entry}` {reason}")]
    Pattern {
        /// The list's config key (`cveUris`).
        list: &'static str,
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The pattern matcher could not be built (a list too large for it).
    #[error("detectors: the {list} patterns cannot be compiled: {reason}")]
    Matcher {
        /// The list's config key.
        list: &'static str,
        /// The matcher's own message.
        reason: String,
    },
}

fn positive(
    detector: &'static str,
    setting: &'static str,
    value: f64,
) -> Result<(), DetectorConfigError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(DetectorConfigError::Setting {
            detector,
            setting,
            reason: format!("must be a number above 0, not {value}"),
        })
    }
}

fn at_least_one(detector: &'static str, minutes: u32) -> Result<(), DetectorConfigError> {
    if minutes >= 1 {
        Ok(())
    } else {
        Err(DetectorConfigError::Setting {
            detector,
            setting: "baselineMinutes",
            reason: "must be at least 1".into(),
        })
    }
}
