//! The sequential half of the detectors: buckets, per-source and per-host state, route
//! baselines, and every alert fired.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use super::bucket::{BucketKey, BucketParams, BucketStore, Pour};
use super::config::DetectorConfig;
use super::rate::{Excess, RateBaselines, Verdict};
use super::{Alert, DETECTOR_COUNT, Detector, DetectorSet, Event, MinuteStats, thousands};

/// Evidence lines stored over all alerts, in bytes. Past it alerts are still counted but keep
/// no more lines: a scan that fires a million alerts must not hold half a gigabyte of text.
const EVIDENCE_BUDGET_BYTES: usize = 64 << 20;

/// Evidence lines per alert.
const EVIDENCE_PER_ALERT: usize = 3;

/// Distinct details (CVEs, tools, countries) listed per alert.
const DETAILS_PER_ALERT: usize = 8;

/// Clients tracked per unrouted host to name the one with most requests (Space-Saving).
const TOP_CLIENTS_PER_HOST: usize = 8;

/// Unrouted hosts named in alerts of their own. The Host header is the client's to choose, so
/// a scanner can send a million of them; past this many, new hosts share one alert.
const MAX_UNROUTED_HOSTS: usize = 1_000;

/// The host of the shared alert for unrouted hosts past [`MAX_UNROUTED_HOSTS`].
const OTHER_HOSTS: &str = "(other hosts)";

/// Microseconds per minute.
const MINUTE_US: i64 = 60_000_000;

/// Who an alert is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum AlertSource {
    Ip(IpAddr),
    Text(String),
}

impl AlertSource {
    fn render(&self) -> String {
        match self {
            AlertSource::Ip(ip) => ip.to_string(),
            AlertSource::Text(text) => text.clone(),
        }
    }
}

/// One firing, as stored until [`Detectors::finish`] merges them.
#[derive(Debug, Clone)]
struct Fired {
    detector: Detector,
    source: AlertSource,
    route: Option<u32>,
    /// The unrouted host this alert is about: one alert per host, whoever the client.
    host: Option<Box<str>>,
    count: u64,
    first_us: i64,
    last_us: i64,
    evidence: Vec<String>,
    details: Vec<Arc<str>>,
}

impl Fired {
    fn add_detail(&mut self, detail: Option<&str>) {
        if let Some(detail) = detail
            && self.details.len() < DETAILS_PER_ALERT
            && !self.details.iter().any(|known| **known == *detail)
        {
            self.details.push(Arc::from(detail));
        }
    }

    fn to_alert(&self) -> Alert {
        Alert {
            detector: self.detector,
            source: self.source.render(),
            route: self.route,
            count: self.count,
            first_us: self.first_us,
            last_us: self.last_us,
            evidence: self.evidence.clone(),
            detail: self.detail(),
        }
    }

    fn detail(&self) -> Option<String> {
        let joined = |separator: &str| {
            self.details
                .iter()
                .map(|detail| &**detail)
                .collect::<Vec<_>>()
                .join(separator)
        };
        const OPTION: &str = "ingress-nginx logs these only with \
                              enable-access-log-for-default-backend: \"true\"";
        match self.detector {
            Detector::UnroutedHost => self.host.as_deref().map(|host| {
                if host == OTHER_HOSTS {
                    format!(
                        "hosts beyond the first {} that no Ingress or route defines; {OPTION}",
                        thousands(MAX_UNROUTED_HOSTS as u64)
                    )
                } else {
                    format!("host {host}: no Ingress or route defines it; {OPTION}")
                }
            }),
            _ if self.details.is_empty() => None,
            Detector::BadUserAgent => Some(format!("UA: {}", joined(", "))),
            Detector::DisallowedCountry => Some(format!("country {}", joined(", "))),
            // Rate details are sentences with commas of their own.
            Detector::RequestFlood | Detector::ErrorBurst => Some(joined(" | ")),
            _ => Some(joined(", ")),
        }
    }
}

/// The client with most requests for one unrouted host, estimated in bounded memory.
#[derive(Debug, Default)]
struct TopClients {
    counts: Vec<(IpAddr, u64)>,
}

impl TopClients {
    fn add(&mut self, ip: IpAddr) {
        if let Some(entry) = self.counts.iter_mut().find(|(seen, _)| *seen == ip) {
            entry.1 = entry.1.saturating_add(1);
        } else if self.counts.len() < TOP_CLIENTS_PER_HOST {
            self.counts.push((ip, 1));
        } else if let Some(smallest) = self.counts.iter_mut().min_by_key(|(_, count)| *count) {
            // Space-Saving: the newcomer inherits the smallest count, so a heavy client that
            // arrives late still rises to the top.
            *smallest = (ip, smallest.1.saturating_add(1));
        }
    }

    fn top(&self) -> Option<IpAddr> {
        // Ties go to the client seen first, which keeps the answer deterministic.
        let mut best: Option<(IpAddr, u64)> = None;
        for &(ip, count) in &self.counts {
            if best.is_none_or(|(_, best_count)| count > best_count) {
                best = Some((ip, count));
            }
        }
        best.map(|(ip, _)| ip)
    }
}

#[derive(Debug)]
struct UnroutedHostState {
    alert: usize,
    clients: TopClients,
}

/// A run of consecutive firing minutes of one rate detector on one route.
#[derive(Debug)]
struct Episode {
    alert: usize,
    last_minute: i64,
    minutes: u32,
    peak: u64,
    first_detail: String,
}

/// Detector state, advanced in file order. Not shared between threads: the pipeline feeds it
/// sequentially, so it needs no locks.
#[derive(Debug)]
pub struct Detectors {
    enabled: DetectorSet,
    bucket_params: [Option<BucketParams>; DETECTOR_COUNT],
    buckets: BucketStore,
    rates: RateBaselines,
    fired: Vec<Fired>,
    untrusted: HashMap<IpAddr, usize>,
    countries: HashMap<IpAddr, usize>,
    unrouted: HashMap<Box<str>, UnroutedHostState>,
    episodes: HashMap<(Option<u32>, Detector), Episode>,
    evidence_budget: usize,
}

impl Detectors {
    /// Fresh state. The config should have passed [`super::Classifier::new`]; values it would
    /// refuse are clamped here rather than trusted.
    pub fn new(config: &DetectorConfig) -> Self {
        let mut bucket_params = [None; DETECTOR_COUNT];
        let mut leak_us = [1; DETECTOR_COUNT];
        for &detector in Detector::ALL {
            if let Some(settings) = config.bucket(detector) {
                let params = BucketParams::from_settings(settings);
                leak_us[detector as usize] = params.leak_us;
                bucket_params[detector as usize] = Some(params);
            }
        }
        Detectors {
            enabled: Detector::ALL
                .iter()
                .copied()
                .filter(|detector| config.enabled(*detector))
                .collect(),
            bucket_params,
            buckets: BucketStore::new(config.max_buckets, leak_us),
            rates: RateBaselines::new(&config.request_flood, &config.error_burst),
            fired: Vec::new(),
            untrusted: HashMap::new(),
            countries: HashMap::new(),
            unrouted: HashMap::new(),
            episodes: HashMap::new(),
            evidence_budget: EVIDENCE_BUDGET_BYTES,
        }
    }

    /// Advances the state with one event; returns the alerts that fire now (none, usually, and
    /// then the empty vector has not allocated).
    pub fn observe(&mut self, event: &Event) -> Vec<Alert> {
        let mut alerts = Vec::new();
        for detector in event.matched.iter() {
            if !self.enabled.contains(detector) {
                continue;
            }
            if let Some(params) = self.bucket_params[detector as usize] {
                self.pour(detector, params, event, &mut alerts);
                continue;
            }
            match detector {
                Detector::UntrustedSource => {
                    self.once_per_source(detector, event, None, &mut alerts);
                }
                Detector::DisallowedCountry => {
                    self.once_per_source(detector, event, event.country.as_deref(), &mut alerts);
                }
                Detector::UnroutedHost => self.unrouted_host(event, &mut alerts),
                // Rate detectors are judged per minute, not per event.
                _ => {}
            }
        }
        alerts
    }

    /// Judges one route minute for `request-flood` and `error-burst`. Call it once per route
    /// and minute, in time order per route. Returns the alerts that fire now; a flood or burst
    /// that goes on in the next minute extends its alert instead of firing again.
    pub fn observe_minute(&mut self, minute: &MinuteStats) -> Vec<Alert> {
        let verdict = self.rates.observe(minute);
        let mut alerts = Vec::new();
        if verdict.requests.is_some() || verdict.new_sources.is_some() {
            let detail = flood_detail(&verdict);
            let peak = verdict
                .requests
                .map_or(minute.requests, |excess| excess.value);
            let alert = self.rate_alert(
                Detector::RequestFlood,
                minute,
                minute.requests,
                peak,
                detail,
            );
            alerts.extend(alert);
        }
        if let Some(errors) = verdict.errors {
            let detail = format!(
                "{} of {} requests answered 5xx in the minute, threshold {:.0} (baseline {:.1}/min)",
                thousands(errors.value),
                thousands(minute.requests),
                errors.threshold,
                errors.baseline,
            );
            let alert = self.rate_alert(
                Detector::ErrorBurst,
                minute,
                minute.errors_5xx,
                errors.value,
                detail,
            );
            alerts.extend(alert);
        }
        alerts
    }

    /// Every alert fired, merged per detector, source and route (and per host for
    /// `unrouted-host`), sorted by first time, then detector, source and route.
    pub fn finish(mut self) -> Vec<Alert> {
        for state in self.unrouted.values() {
            if let (Some(top), Some(fired)) = (state.clients.top(), self.fired.get_mut(state.alert))
            {
                fired.source = AlertSource::Ip(top);
            }
        }
        type MergeKey = (Detector, AlertSource, Option<u32>, Option<Box<str>>);
        let mut merged: BTreeMap<MergeKey, Fired> = BTreeMap::new();
        for fired in self.fired {
            let key = (
                fired.detector,
                fired.source.clone(),
                fired.route,
                fired.host.clone(),
            );
            match merged.get_mut(&key) {
                None => {
                    merged.insert(key, fired);
                }
                Some(into) => {
                    into.count = into.count.saturating_add(fired.count);
                    into.first_us = into.first_us.min(fired.first_us);
                    into.last_us = into.last_us.max(fired.last_us);
                    for line in fired.evidence {
                        if into.evidence.len() < EVIDENCE_PER_ALERT {
                            into.evidence.push(line);
                        }
                    }
                    for detail in &fired.details {
                        into.add_detail(Some(detail));
                    }
                }
            }
        }
        let mut all: Vec<Fired> = merged.into_values().collect();
        all.sort_by(|a, b| {
            (a.first_us, a.detector, &a.source, a.route, &a.host)
                .cmp(&(b.first_us, b.detector, &b.source, b.route, &b.host))
        });
        all.iter().map(Fired::to_alert).collect()
    }

    /// Live leaky buckets (bounded by `maxBuckets`).
    pub fn live_buckets(&self) -> usize {
        self.buckets.len()
    }

    /// Buckets dropped while still holding events because `maxBuckets` was reached.
    pub fn evicted_buckets(&self) -> u64 {
        self.buckets.evicted()
    }

    fn pour(
        &mut self,
        detector: Detector,
        params: BucketParams,
        event: &Event,
        alerts: &mut Vec<Alert>,
    ) {
        let key = BucketKey {
            detector,
            source: event.source,
            scope: if detector == Detector::PathProbing {
                event.scope_hash
            } else {
                0
            },
        };
        let distinct = match detector {
            Detector::PathProbing | Detector::AdminInterfaceProbe => Some(event.path_hash),
            Detector::SensitiveFileProbe | Detector::PathTraversalProbe => Some(event.target_hash),
            Detector::SqliProbe | Detector::XssProbe => Some(event.query_hash),
            Detector::BackdoorProbe => Some(event.file_hash),
            _ => None,
        };
        let detail = match detector {
            Detector::BadUserAgent => event.user_agent_class.as_deref(),
            Detector::CveProbe => event.cve.as_deref(),
            _ => None,
        };
        match self
            .buckets
            .pour(key, params, event.time_us, distinct, &event.evidence)
        {
            Pour::Held => {}
            Pour::Silenced(index) => self.add_to(index, event, detail),
            Pour::Overflow {
                first_us,
                last_us,
                count,
                first_evidence,
            } => {
                let mut fired = Fired {
                    detector,
                    source: AlertSource::Ip(event.source),
                    route: event.route,
                    host: None,
                    count,
                    first_us,
                    last_us,
                    evidence: Vec::new(),
                    details: Vec::new(),
                };
                if let Some(first) = first_evidence {
                    self.keep_evidence(&mut fired, &first);
                }
                self.keep_evidence(&mut fired, &event.evidence);
                fired.add_detail(detail);
                let index = self.fired.len();
                alerts.push(fired.to_alert());
                self.fired.push(fired);
                self.buckets.blackhole(key, params, event.time_us, index);
            }
        }
    }

    /// `untrusted-source` and `disallowed-country`: one alert per source, counting every request.
    fn once_per_source(
        &mut self,
        detector: Detector,
        event: &Event,
        detail: Option<&str>,
        alerts: &mut Vec<Alert>,
    ) {
        let map = match detector {
            Detector::UntrustedSource => &self.untrusted,
            _ => &self.countries,
        };
        if let Some(&index) = map.get(&event.source) {
            self.add_to(index, event, detail);
            return;
        }
        let index = self.fire_new(detector, event, None, detail, alerts);
        let map = match detector {
            Detector::UntrustedSource => &mut self.untrusted,
            _ => &mut self.countries,
        };
        map.insert(event.source, index);
    }

    fn unrouted_host(&mut self, event: &Event, alerts: &mut Vec<Alert>) {
        let Some(mut host) = event.unrouted_host.as_deref() else {
            return;
        };
        if !self.unrouted.contains_key(host) && self.unrouted.len() >= MAX_UNROUTED_HOSTS {
            host = OTHER_HOSTS;
        }
        if let Some(state) = self.unrouted.get_mut(host) {
            state.clients.add(event.source);
            let index = state.alert;
            self.add_to(index, event, None);
            return;
        }
        let index = self.fire_new(
            Detector::UnroutedHost,
            event,
            Some(Box::from(host)),
            None,
            alerts,
        );
        let mut clients = TopClients::default();
        clients.add(event.source);
        self.unrouted.insert(
            Box::from(host),
            UnroutedHostState {
                alert: index,
                clients,
            },
        );
    }

    /// Records a new one-event alert and returns its index.
    fn fire_new(
        &mut self,
        detector: Detector,
        event: &Event,
        host: Option<Box<str>>,
        detail: Option<&str>,
        alerts: &mut Vec<Alert>,
    ) -> usize {
        let mut fired = Fired {
            detector,
            source: AlertSource::Ip(event.source),
            route: event.route,
            host,
            count: 1,
            first_us: event.time_us,
            last_us: event.time_us,
            evidence: Vec::new(),
            details: Vec::new(),
        };
        self.keep_evidence(&mut fired, &event.evidence);
        fired.add_detail(detail);
        alerts.push(fired.to_alert());
        self.fired.push(fired);
        self.fired.len() - 1
    }

    /// Adds one more matching event to an alert that already fired.
    fn add_to(&mut self, index: usize, event: &Event, detail: Option<&str>) {
        let Some(fired) = self.fired.get_mut(index) else {
            return;
        };
        fired.count = fired.count.saturating_add(1);
        fired.first_us = fired.first_us.min(event.time_us);
        fired.last_us = fired.last_us.max(event.time_us);
        fired.add_detail(detail);
        if fired.evidence.len() < EVIDENCE_PER_ALERT && self.evidence_budget >= event.evidence.len()
        {
            self.evidence_budget -= event.evidence.len();
            fired.evidence.push(event.evidence.to_string());
        }
    }

    fn keep_evidence(&mut self, fired: &mut Fired, line: &str) {
        if fired.evidence.len() < EVIDENCE_PER_ALERT && self.evidence_budget >= line.len() {
            self.evidence_budget -= line.len();
            fired.evidence.push(line.to_string());
        }
    }

    /// Fires or extends a rate alert for one route minute.
    fn rate_alert(
        &mut self,
        detector: Detector,
        minute: &MinuteStats,
        count: u64,
        peak: u64,
        detail: String,
    ) -> Option<Alert> {
        let start_us = minute.minute.saturating_mul(MINUTE_US);
        let end_us = start_us.saturating_add(MINUTE_US - 1);
        let episode_key = (minute.route, detector);
        if let Some(episode) = self.episodes.get_mut(&episode_key)
            && minute.minute.saturating_sub(episode.last_minute) == 1
            && let Some(fired) = self.fired.get_mut(episode.alert)
        {
            episode.last_minute = minute.minute;
            episode.minutes += 1;
            episode.peak = episode.peak.max(peak);
            fired.count = fired.count.saturating_add(count);
            fired.last_us = fired.last_us.max(end_us);
            let unit = if detector == Detector::ErrorBurst {
                "5xx"
            } else {
                "requests"
            };
            fired.details = vec![Arc::from(format!(
                "{}; lasted {} minutes, peak {} {unit}/min",
                episode.first_detail,
                episode.minutes,
                thousands(episode.peak),
            ))];
            return None;
        }
        let source = match minute.top_source {
            // One address carrying most of the minute is the flood's source.
            Some((ip, requests)) if requests.saturating_mul(2) > minute.requests => {
                AlertSource::Ip(ip)
            }
            _ if minute.new_sources > 0 => {
                AlertSource::Text(format!("{} new addresses", thousands(minute.new_sources)))
            }
            _ => AlertSource::Text("several addresses".into()),
        };
        let fired = Fired {
            detector,
            source,
            route: minute.route,
            host: None,
            count,
            first_us: start_us,
            last_us: end_us,
            evidence: Vec::new(),
            details: vec![Arc::from(detail.as_str())],
        };
        let alert = fired.to_alert();
        self.fired.push(fired);
        self.episodes.insert(
            episode_key,
            Episode {
                alert: self.fired.len() - 1,
                last_minute: minute.minute,
                minutes: 1,
                peak,
                first_detail: detail,
            },
        );
        Some(alert)
    }
}

fn flood_detail(verdict: &Verdict) -> String {
    let describe = |what: &str, excess: &Excess| {
        format!(
            "{} {what} in the minute, threshold {:.0} (baseline {:.1}/min)",
            thousands(excess.value),
            excess.threshold,
            excess.baseline,
        )
    };
    let parts: Vec<String> = [
        verdict.requests.map(|excess| describe("requests", &excess)),
        verdict
            .new_sources
            .map(|excess| describe("new addresses", &excess)),
    ]
    .into_iter()
    .flatten()
    .collect();
    parts.join("; ")
}
