//! Per-chunk aggregates that merge: per target (route or Service), per source, per minute, and
//! authentication outcomes. Memory is bounded whatever the input: per-source and per-user tables
//! keep their heaviest entries (counts of evicted entries are reported as an error bound), and
//! distinct counts are sketches.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;
use std::net::IpAddr;

use crate::format::Format;
use crate::record::Record;
use crate::sketch::{Distinct, HeavyHitters, Latency};

/// Precision of the per-target unique-client counters (4,096 registers, ±1.6 %).
const CLIENT_PRECISION: u8 = 12;
/// Precision of the per-minute address counters used to find new addresses (1,024 registers,
/// ±3.3 %); the per-route union they merge into has the same.
pub const MINUTE_PRECISION: u8 = 10;
/// Malformed lines kept as samples, per run.
pub const MALFORMED_SAMPLES: usize = 20;

/// Requests of one target (or of the unattributed rest).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetStats {
    /// Requests.
    pub requests: u64,
    /// Responses by class: index 0 for 1xx … 4 for 5xx, 5 for anything else (0, 499 is 4xx).
    pub status: [u64; 6],
    /// Bytes sent.
    pub bytes: u64,
    /// Request times.
    pub latency: Latency,
    /// Distinct client addresses.
    pub clients: Distinct,
    /// First and last request time.
    pub first_us: Option<i64>,
    /// Last request time.
    pub last_us: Option<i64>,
}

impl Default for TargetStats {
    fn default() -> Self {
        Self {
            requests: 0,
            status: [0; 6],
            bytes: 0,
            latency: Latency::default(),
            clients: Distinct::new(CLIENT_PRECISION),
            first_us: None,
            last_us: None,
        }
    }
}

impl TargetStats {
    fn add(&mut self, record: &Record<'_>, ip_hash: Option<u64>) {
        self.requests += 1;
        self.status[status_class(record.status)] += 1;
        self.bytes += record.bytes_sent.unwrap_or(0);
        if let Some(seconds) = record.request_time {
            self.latency.record_seconds(seconds);
        }
        if let Some(hash) = ip_hash {
            self.clients.insert(hash);
        }
        widen(&mut self.first_us, &mut self.last_us, record.time_us);
    }

    fn merge(&mut self, other: &TargetStats) {
        self.requests += other.requests;
        for (mine, theirs) in self.status.iter_mut().zip(other.status) {
            *mine += theirs;
        }
        self.bytes += other.bytes;
        self.latency.merge(&other.latency);
        self.clients.merge(&other.clients);
        widen(&mut self.first_us, &mut self.last_us, other.first_us);
        widen(&mut self.first_us, &mut self.last_us, other.last_us);
    }
}

/// Index into [`TargetStats::status`] for a status code.
pub fn status_class(status: Option<u16>) -> usize {
    match status {
        Some(code @ 100..=599) => usize::from(code / 100 - 1),
        _ => 5,
    }
}

fn widen(first: &mut Option<i64>, last: &mut Option<i64>, time: Option<i64>) {
    if let Some(time) = time {
        *first = Some(first.map_or(time, |first| first.min(time)));
        *last = Some(last.map_or(time, |last| last.max(time)));
    }
}

/// One client address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceStats {
    /// Requests.
    pub requests: u64,
    /// 4xx responses.
    pub errors_4xx: u64,
    /// 5xx responses.
    pub errors_5xx: u64,
    /// Bytes sent to it.
    pub bytes: u64,
    /// Targets it reached (up to [`SourceStats::ROUTES_KEPT`]), inline: a new source costs no
    /// allocation.
    targets: [u32; SourceStats::ROUTES_KEPT],
    /// How many of `targets` are used.
    target_count: u8,
    /// Targets beyond those kept.
    pub more_targets: u64,
    /// First request.
    pub first_us: Option<i64>,
    /// Last request.
    pub last_us: Option<i64>,
}

impl SourceStats {
    /// Targets listed per source.
    pub const ROUTES_KEPT: usize = 8;

    /// Targets it reached (up to [`SourceStats::ROUTES_KEPT`]).
    pub fn targets(&self) -> &[u32] {
        &self.targets[..usize::from(self.target_count)]
    }

    fn touch(&mut self, target: u32) {
        if !self.targets().contains(&target) {
            if usize::from(self.target_count) < Self::ROUTES_KEPT {
                self.targets[usize::from(self.target_count)] = target;
                self.target_count += 1;
            } else {
                self.more_targets += 1;
            }
        }
    }

    fn merge(&mut self, other: &SourceStats) {
        self.requests += other.requests;
        self.errors_4xx += other.errors_4xx;
        self.errors_5xx += other.errors_5xx;
        self.bytes += other.bytes;
        for target in other.targets() {
            self.touch(*target);
        }
        self.more_targets += other.more_targets;
        widen(&mut self.first_us, &mut self.last_us, other.first_us);
        widen(&mut self.first_us, &mut self.last_us, other.last_us);
    }
}

/// Per-source statistics, bounded: past `capacity` entries the lighter half is dropped, and the
/// heaviest count dropped so far is kept as `dropped_max` — no kept count is short by more.
#[derive(Debug, Clone)]
pub struct SourceTable {
    capacity: usize,
    entries: HashMap<IpAddr, SourceStats>,
    /// The largest request count ever evicted (the error bound on kept counts).
    pub dropped_max: u64,
    /// How many entries were evicted.
    pub dropped: u64,
}

impl SourceTable {
    /// A table keeping at most `capacity` sources.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(16);
        // Sized for its bound up front: a table that grows from empty rehashes on every chunk.
        let mut entries = HashMap::default();
        entries.reserve(capacity + 1);
        Self {
            capacity,
            entries,
            dropped_max: 0,
            dropped: 0,
        }
    }

    fn add(&mut self, ip: IpAddr, record: &Record<'_>, target: Option<u32>) {
        let entry = self.entries.entry(ip).or_default();
        entry.requests += 1;
        match record.status {
            Some(400..=499) => entry.errors_4xx += 1,
            Some(500..=599) => entry.errors_5xx += 1,
            _ => {}
        }
        entry.bytes += record.bytes_sent.unwrap_or(0);
        if let Some(target) = target {
            entry.touch(target);
        }
        widen(&mut entry.first_us, &mut entry.last_us, record.time_us);
        if self.entries.len() > self.capacity {
            self.shrink();
        }
    }

    fn merge(&mut self, other: SourceTable) {
        self.dropped_max = self.dropped_max.max(other.dropped_max);
        self.dropped += other.dropped;
        for (ip, stats) in other.entries {
            match self.entries.get_mut(&ip) {
                Some(mine) => mine.merge(&stats),
                None => {
                    self.entries.insert(ip, stats);
                }
            }
        }
        if self.entries.len() > self.capacity {
            self.shrink();
        }
    }

    /// Keeps the heavier half.
    fn shrink(&mut self) {
        let (dropped, dropped_max) =
            keep_heaviest(&mut self.entries, self.capacity / 2, |s| s.requests);
        self.dropped += dropped;
        self.dropped_max = self.dropped_max.max(dropped_max);
    }

    /// The sources, heaviest first (ties by address), at most `n`.
    pub fn top(&self, n: usize) -> Vec<(IpAddr, &SourceStats)> {
        let mut all: Vec<(IpAddr, &SourceStats)> =
            self.entries.iter().map(|(ip, s)| (*ip, s)).collect();
        all.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then(a.0.cmp(&b.0)));
        all.truncate(n);
        all
    }

    /// How many sources are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no source is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Keeps the `keep` heaviest entries of `map` by `weight` (ties at the cut kept in map order)
/// and returns how many entries were dropped and the heaviest weight among them.
fn keep_heaviest<K, V>(
    map: &mut HashMap<K, V>,
    keep: usize,
    weight: impl Fn(&V) -> u64,
) -> (u64, u64) {
    if map.len() <= keep {
        return (0, 0);
    }
    let mut weights: Vec<u64> = map.values().map(&weight).collect();
    let pivot = weights.len() - keep;
    weights.select_nth_unstable(pivot);
    let threshold = weights[pivot];
    let mut kept = map.values().filter(|v| weight(v) > threshold).count();
    let before = map.len();
    let mut dropped_max = 0;
    map.retain(|_, v| {
        let w = weight(v);
        if w > threshold || (w == threshold && kept < keep) {
            kept += usize::from(w == threshold);
            return true;
        }
        dropped_max = dropped_max.max(w);
        false
    });
    ((before - map.len()) as u64, dropped_max)
}

/// One minute of one target.
#[derive(Debug, Clone)]
pub struct MinuteAggregate {
    /// Requests.
    pub requests: u64,
    /// 5xx responses.
    pub errors_5xx: u64,
    /// Addresses seen this minute.
    pub sources: Distinct,
    /// The heaviest address this minute.
    pub top: HeavyHitters,
}

impl Default for MinuteAggregate {
    fn default() -> Self {
        Self {
            requests: 0,
            errors_5xx: 0,
            sources: Distinct::new(MINUTE_PRECISION),
            top: HeavyHitters::default(),
        }
    }
}

/// Authentication outcomes on one authenticated target for one client and user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthOutcome {
    /// 2xx and 3xx responses.
    pub succeeded: u64,
    /// 401 and 403 responses.
    pub failed: u64,
}

/// Key of [`Aggregate::auth`]: target, client, user (when logged).
pub type AuthKey = (u32, Option<IpAddr>, Option<String>);

/// A malformed line kept as a sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedSample {
    /// Input name.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// Why.
    pub reason: &'static str,
    /// The line, truncated, with invalid UTF-8 replaced.
    pub text: String,
}

/// Everything counted over some lines; merge chunk aggregates in input order.
#[derive(Debug, Clone)]
pub struct Aggregate {
    /// Lines read (including empty ones? No: empty lines are skipped and not counted).
    pub lines: u64,
    /// Lines parsed into requests.
    pub parsed: u64,
    /// Lines that could not be read.
    pub malformed: u64,
    /// Parsed lines per format.
    pub by_format: BTreeMap<Format, u64>,
    /// Malformed lines per reason.
    pub malformed_reasons: BTreeMap<&'static str, u64>,
    /// The first malformed lines.
    pub malformed_samples: Vec<MalformedSample>,
    /// First request time.
    pub first_us: Option<i64>,
    /// Last request time.
    pub last_us: Option<i64>,
    /// Per target, indexed by target id.
    pub targets: Vec<Option<Box<TargetStats>>>,
    /// Requests attributed to no target.
    pub unattributed: TargetStats,
    /// Requests for hosts no route defines (or the default backend).
    pub unrouted: u64,
    /// Per source.
    pub sources: SourceTable,
    /// Distinct client addresses overall.
    pub clients: Distinct,
    /// Per (target, unix minute); the target is `None` for unattributed requests.
    pub minutes: HashMap<(Option<u32>, i64), MinuteAggregate>,
    /// Authentication outcomes on authenticated targets.
    pub auth: HashMap<AuthKey, AuthOutcome>,
    /// Authentication outcomes dropped to bound memory.
    pub auth_dropped: u64,
}

/// Entries of [`Aggregate::auth`] kept before the lightest are dropped.
const AUTH_CAPACITY: usize = 50_000;

impl Aggregate {
    /// An empty aggregate keeping at most `source_capacity` sources.
    pub fn new(source_capacity: usize) -> Self {
        Self {
            lines: 0,
            parsed: 0,
            malformed: 0,
            by_format: BTreeMap::new(),
            malformed_reasons: BTreeMap::new(),
            malformed_samples: Vec::new(),
            first_us: None,
            last_us: None,
            targets: Vec::new(),
            unattributed: TargetStats::default(),
            unrouted: 0,
            sources: SourceTable::new(source_capacity),
            clients: Distinct::new(14),
            minutes: HashMap::default(),
            auth: HashMap::default(),
            auth_dropped: 0,
        }
    }

    /// Counts a malformed line.
    pub fn add_malformed(&mut self, file: &str, line: u64, reason: &'static str, text: &[u8]) {
        self.lines += 1;
        self.malformed += 1;
        *self.malformed_reasons.entry(reason).or_default() += 1;
        if self.malformed_samples.len() < MALFORMED_SAMPLES {
            let text = String::from_utf8_lossy(&text[..text.len().min(300)]).into_owned();
            self.malformed_samples.push(MalformedSample {
                file: file.to_string(),
                line,
                reason,
                text,
            });
        }
    }

    /// Counts a parsed request: `target` is where it was attributed, `unrouted` whether it was for
    /// a host no route defines, `authenticated` whether its target requires authentication.
    pub fn add(
        &mut self,
        format: Format,
        record: &Record<'_>,
        target: Option<u32>,
        unrouted: bool,
        authenticated: bool,
    ) {
        self.lines += 1;
        self.parsed += 1;
        *self.by_format.entry(format).or_default() += 1;
        widen(&mut self.first_us, &mut self.last_us, record.time_us);
        let ip_hash = record.client_ip.as_ref().map(crate::sketch::hash_ip);
        if unrouted {
            self.unrouted += 1;
        }
        match target {
            Some(id) => {
                let index = id as usize;
                if self.targets.len() <= index {
                    self.targets.resize_with(index + 1, || None);
                }
                self.targets[index]
                    .get_or_insert_with(Box::default)
                    .add(record, ip_hash);
            }
            None => self.unattributed.add(record, ip_hash),
        }
        if let (Some(ip), Some(hash)) = (record.client_ip, ip_hash) {
            self.clients.insert(hash);
            self.sources.add(ip, record, target);
        }
        if let Some(time) = record.time_us {
            let minute = time.div_euclid(60_000_000);
            let slot = self.minutes.entry((target, minute)).or_default();
            slot.requests += 1;
            if matches!(record.status, Some(500..=599)) {
                slot.errors_5xx += 1;
            }
            if let (Some(ip), Some(hash)) = (record.client_ip, ip_hash) {
                slot.sources.insert(hash);
                slot.top.add(ip, 1);
            }
        }
        if authenticated && let Some(target) = target {
            let outcome = match record.status {
                Some(401 | 403) => AuthOutcome {
                    succeeded: 0,
                    failed: 1,
                },
                Some(200..=399) => AuthOutcome {
                    succeeded: 1,
                    failed: 0,
                },
                _ => return,
            };
            let user = record.remote_user.as_deref().map(str::to_string);
            let entry = self
                .auth
                .entry((target, record.client_ip, user))
                .or_default();
            entry.succeeded += outcome.succeeded;
            entry.failed += outcome.failed;
            if self.auth.len() > AUTH_CAPACITY {
                self.shrink_auth();
            }
        }
    }

    fn shrink_auth(&mut self) {
        let keep = self.auth.len() / 2;
        let (dropped, _) = keep_heaviest(&mut self.auth, keep, |o| o.succeeded + o.failed);
        self.auth_dropped += dropped;
    }

    /// Adds a later chunk's aggregate.
    pub fn merge(&mut self, other: Aggregate) {
        self.lines += other.lines;
        self.parsed += other.parsed;
        self.malformed += other.malformed;
        for (format, count) in other.by_format {
            *self.by_format.entry(format).or_default() += count;
        }
        for (reason, count) in other.malformed_reasons {
            *self.malformed_reasons.entry(reason).or_default() += count;
        }
        let room = MALFORMED_SAMPLES.saturating_sub(self.malformed_samples.len());
        self.malformed_samples
            .extend(other.malformed_samples.into_iter().take(room));
        widen(&mut self.first_us, &mut self.last_us, other.first_us);
        widen(&mut self.first_us, &mut self.last_us, other.last_us);
        if self.targets.len() < other.targets.len() {
            self.targets.resize_with(other.targets.len(), || None);
        }
        for (mine, theirs) in self.targets.iter_mut().zip(other.targets) {
            if let Some(theirs) = theirs {
                match mine {
                    Some(mine) => mine.merge(&theirs),
                    None => *mine = Some(theirs),
                }
            }
        }
        self.unattributed.merge(&other.unattributed);
        self.unrouted += other.unrouted;
        self.sources.merge(other.sources);
        self.clients.merge(&other.clients);
        for (key, theirs) in other.minutes {
            match self.minutes.get_mut(&key) {
                Some(mine) => {
                    mine.requests += theirs.requests;
                    mine.errors_5xx += theirs.errors_5xx;
                    mine.sources.merge(&theirs.sources);
                    mine.top.merge(&theirs.top);
                }
                None => {
                    self.minutes.insert(key, theirs);
                }
            }
        }
        for (key, theirs) in other.auth {
            let mine = self.auth.entry(key).or_default();
            mine.succeeded += theirs.succeeded;
            mine.failed += theirs.failed;
        }
        self.auth_dropped += other.auth_dropped;
        if self.auth.len() > AUTH_CAPACITY {
            self.shrink_auth();
        }
    }

    /// The stats of one target, if it had requests.
    pub fn target(&self, id: u32) -> Option<&TargetStats> {
        self.targets.get(id as usize).and_then(|t| t.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    fn request(ip: &str, status: u16, time_s: i64) -> Record<'static> {
        Record {
            client_ip: Some(ip.parse().unwrap()),
            status: Some(status),
            time_us: Some(time_s * 1_000_000),
            bytes_sent: Some(100),
            request_time: Some(0.010),
            ..Record::default()
        }
    }

    #[test]
    fn merging_chunks_equals_counting_them_together() {
        let records: Vec<Record> = (0..200)
            .map(|n| {
                request(
                    &format!("10.0.{}.{}", n % 7, n % 13),
                    [200, 404, 503][n % 3],
                    1_700_000_000 + n as i64,
                )
            })
            .collect();
        let mut whole = Aggregate::new(1000);
        for record in &records {
            whole.add(
                Format::IngressNginx,
                record,
                Some((record.status.unwrap() % 2) as u32),
                false,
                false,
            );
        }
        let mut first = Aggregate::new(1000);
        let mut second = Aggregate::new(1000);
        for (n, record) in records.iter().enumerate() {
            let part = if n < 77 { &mut first } else { &mut second };
            part.add(
                Format::IngressNginx,
                record,
                Some((record.status.unwrap() % 2) as u32),
                false,
                false,
            );
        }
        first.merge(second);
        assert_eq!(first.parsed, whole.parsed);
        assert_eq!(first.targets, whole.targets);
        assert_eq!(first.clients.count(), whole.clients.count());
        assert_eq!(first.first_us, whole.first_us);
        assert_eq!(first.last_us, whole.last_us);
        let minutes = |agg: &Aggregate| {
            let mut v: Vec<_> = agg
                .minutes
                .iter()
                .map(|(k, m)| (*k, m.requests, m.errors_5xx, m.sources.count()))
                .collect();
            v.sort();
            v
        };
        assert_eq!(minutes(&first), minutes(&whole));
        let top = |agg: &Aggregate| {
            agg.sources
                .top(5)
                .into_iter()
                .map(|(ip, s)| (ip, s.requests))
                .collect::<Vec<_>>()
        };
        assert_eq!(top(&first), top(&whole));
    }

    #[test]
    fn the_source_table_stays_bounded_and_keeps_heavy_hitters() {
        let mut aggregate = Aggregate::new(1000);
        let attacker = request("203.0.113.7", 404, 0);
        for n in 0..100_000u32 {
            let ip = IpAddr::from((0x0a00_0000 + n).to_be_bytes());
            let record = Record {
                client_ip: Some(ip),
                ..request("10.0.0.1", 200, 0)
            };
            aggregate.add(Format::Nginx, &record, None, false, false);
            if n % 10 == 0 {
                aggregate.add(Format::Nginx, &attacker, None, false, false);
            }
            assert!(aggregate.sources.len() <= 1000);
        }
        let (top_ip, top_stats) = aggregate.sources.top(1)[0];
        assert_eq!(top_ip.to_string(), "203.0.113.7");
        assert_eq!(top_stats.requests, 10_000);
        assert_eq!(top_stats.errors_4xx, 10_000);
        assert!(aggregate.sources.dropped > 0);
        assert!(aggregate.sources.dropped_max <= 1);
    }

    #[test]
    fn auth_outcomes_count_per_client_and_user() {
        let mut aggregate = Aggregate::new(100);
        let mut ok = request("10.0.0.1", 200, 0);
        ok.remote_user = Some(Cow::Borrowed("alice"));
        let denied = request("10.0.0.2", 401, 0);
        aggregate.add(Format::IngressNginx, &ok, Some(0), false, true);
        aggregate.add(Format::IngressNginx, &denied, Some(0), false, true);
        aggregate.add(Format::IngressNginx, &denied, Some(0), false, true);
        aggregate.add(Format::IngressNginx, &denied, Some(1), false, false);
        let alice = aggregate.auth[&(
            0,
            Some("10.0.0.1".parse().unwrap()),
            Some("alice".to_string()),
        )];
        assert_eq!(
            alice,
            AuthOutcome {
                succeeded: 1,
                failed: 0
            }
        );
        let anonymous = aggregate.auth[&(0, Some("10.0.0.2".parse().unwrap()), None)];
        assert_eq!(
            anonymous,
            AuthOutcome {
                succeeded: 0,
                failed: 2
            }
        );
        assert_eq!(aggregate.auth.len(), 2);
    }

    #[test]
    fn malformed_samples_are_capped_but_all_are_counted() {
        let mut aggregate = Aggregate::new(100);
        for n in 0..50 {
            aggregate.add_malformed("access.log", n + 1, "not valid UTF-8", b"\xff\xfe");
        }
        assert_eq!(aggregate.malformed, 50);
        assert_eq!(aggregate.malformed_samples.len(), MALFORMED_SAMPLES);
        assert_eq!(aggregate.malformed_samples[0].line, 1);
        assert_eq!(aggregate.malformed_reasons["not valid UTF-8"], 50);
    }
}
