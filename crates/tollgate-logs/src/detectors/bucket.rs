//! Leaky buckets with CrowdSec's semantics, and the bounded map that holds them.
//!
//! A bucket is a queue of the events inside it, oldest first. It leaks one event every
//! `leak_us`, counted from when the oldest event entered (or from the last leak); it overflows
//! when, after the pour, more than `capacity` events are inside. With `distinct`, an event
//! whose value is already in the queue is not poured at all. After an overflow the bucket is
//! replaced by a blackhole until `blackhole_us` has passed: matching events then only add to
//! the alert that fired.
//!
//! Memory is bounded by `max_buckets`. A sweep drops buckets that have leaked empty (or whose
//! blackhole has ended) whenever the map has doubled since the last sweep; if the map is still
//! full, the least filled and longest idle eighth is evicted and counted, so a scan from a
//! million addresses costs amortized constant time per event and never more buckets than the cap.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use super::config::BucketSettings;
use super::{DETECTOR_COUNT, Detector};

/// Sweep no earlier than this many buckets: sweeping a small map often buys nothing.
const SWEEP_MIN: usize = 1024;

/// What a bucket is keyed by: the detector and its `groupby` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct BucketKey {
    pub detector: Detector,
    pub source: IpAddr,
    /// Extra grouping (path-probing: the host); 0 for detectors grouped by source alone.
    pub scope: u64,
}

/// A detector's bucket parameters in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BucketParams {
    pub capacity: usize,
    pub leak_us: i64,
    pub blackhole_us: i64,
}

impl BucketParams {
    /// The parameters of validated settings; out-of-range values (which validation refuses)
    /// are clamped rather than trusted, so this never misbehaves.
    pub fn from_settings(settings: &BucketSettings) -> Self {
        BucketParams {
            capacity: settings.capacity.min(super::config::MAX_CAPACITY) as usize,
            leak_us: seconds_to_us(settings.leak_seconds).max(1),
            blackhole_us: seconds_to_us(settings.blackhole_seconds).max(0),
        }
    }
}

fn seconds_to_us(seconds: f64) -> i64 {
    if seconds.is_nan() {
        return 0;
    }
    // `as` saturates on overflow, which is the right answer for absurdly long durations.
    (seconds * 1_000_000.0).round() as i64
}

/// What pouring one event did.
#[derive(Debug, PartialEq)]
pub(crate) enum Pour {
    /// The event is in the bucket (or was a repeated distinct value); nothing fired.
    Held,
    /// The bucket overflowed: the caller records an alert and hands its id to [`BucketStore::blackhole`].
    Overflow {
        /// The earliest time of the events in the bucket.
        first_us: i64,
        /// The latest.
        last_us: i64,
        /// Events in the bucket, this one included.
        count: u64,
        /// The line that started this fill of the bucket, when it is not the current one.
        first_evidence: Option<Box<str>>,
    },
    /// The key is blackholed after an earlier overflow: add the event to that alert.
    Silenced(usize),
}

#[derive(Debug)]
enum Bucket {
    Filling {
        /// `(time, distinct value)` of the events inside, oldest first.
        events: VecDeque<(i64, u64)>,
        /// Leaks are counted from here.
        leak_from_us: i64,
        /// The line that poured the first event of this fill.
        first_evidence: Box<str>,
        /// The latest event time, for eviction order.
        last_us: i64,
    },
    Blackholed {
        until_us: i64,
        alert: usize,
        last_us: i64,
    },
}

impl Bucket {
    /// Whether nothing would be left at `now_us`: leaked empty, or the blackhole is over.
    fn expired(&self, now_us: i64, leak_us: i64) -> bool {
        match self {
            Bucket::Filling {
                events,
                leak_from_us,
                ..
            } => {
                let drain_us = leak_us.saturating_mul(events.len() as i64);
                leak_from_us.saturating_add(drain_us) <= now_us
            }
            Bucket::Blackholed { until_us, .. } => *until_us <= now_us,
        }
    }

    /// Eviction order: blackholes last (evicting one could fire its alert twice), then fewer
    /// events first, then the longest idle first.
    fn eviction_rank(&self) -> (bool, usize, i64) {
        match self {
            Bucket::Filling {
                events, last_us, ..
            } => (false, events.len(), *last_us),
            Bucket::Blackholed { last_us, .. } => (true, usize::MAX, *last_us),
        }
    }
}

/// Every live bucket, bounded.
#[derive(Debug)]
pub(crate) struct BucketStore {
    buckets: HashMap<BucketKey, Bucket>,
    /// Leak interval per detector, for sweeping without the config at hand.
    leak_us: [i64; DETECTOR_COUNT],
    max_buckets: usize,
    sweep_at: usize,
    evicted: u64,
    /// The latest event time seen: the clock sweeps judge emptiness by.
    now_us: i64,
}

impl BucketStore {
    pub fn new(max_buckets: usize, leak_us: [i64; DETECTOR_COUNT]) -> Self {
        let max_buckets = max_buckets.max(1);
        BucketStore {
            buckets: HashMap::new(),
            leak_us,
            max_buckets,
            sweep_at: SWEEP_MIN.min(max_buckets),
            evicted: 0,
            now_us: i64::MIN,
        }
    }

    /// Live buckets, blackholes included.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Buckets dropped while they still held events, because the map was full.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Pours one event into `key`'s bucket.
    pub fn pour(
        &mut self,
        key: BucketKey,
        params: BucketParams,
        time_us: i64,
        distinct: Option<u64>,
        evidence: &str,
    ) -> Pour {
        self.now_us = self.now_us.max(time_us);
        if !self.buckets.contains_key(&key) {
            self.make_room();
        }
        let bucket = self.buckets.entry(key).or_insert_with(|| Bucket::Filling {
            events: VecDeque::new(),
            leak_from_us: time_us,
            first_evidence: Box::from(""),
            last_us: time_us,
        });
        if let Bucket::Blackholed {
            until_us,
            alert,
            last_us,
        } = bucket
        {
            if time_us < *until_us {
                *last_us = (*last_us).max(time_us);
                return Pour::Silenced(*alert);
            }
            *bucket = Bucket::Filling {
                events: VecDeque::new(),
                leak_from_us: time_us,
                first_evidence: Box::from(""),
                last_us: time_us,
            };
        }
        let Bucket::Filling {
            events,
            leak_from_us,
            first_evidence,
            last_us,
        } = bucket
        else {
            return Pour::Held;
        };
        *last_us = (*last_us).max(time_us);
        leak(events, leak_from_us, time_us, params.leak_us);
        if let Some(value) = distinct
            && events.iter().any(|&(_, seen)| seen == value)
        {
            return Pour::Held;
        }
        if events.is_empty() {
            *leak_from_us = time_us;
            *first_evidence = Box::from(evidence);
        }
        events.push_back((time_us, distinct.unwrap_or(0)));
        if events.len() <= params.capacity {
            return Pour::Held;
        }
        // Lines can arrive slightly out of time order (proxies log at completion), so the
        // alert spans the earliest and latest times in the bucket rather than its two ends.
        let first_us = events.iter().map(|&(at, _)| at).min().unwrap_or(time_us);
        let last_us = events.iter().map(|&(at, _)| at).max().unwrap_or(time_us);
        let count = events.len() as u64;
        // With capacity 0 the event that started the fill is this one: no separate first line.
        let first_evidence = (count > 1).then(|| std::mem::take(first_evidence));
        Pour::Overflow {
            first_us,
            last_us,
            count,
            first_evidence,
        }
    }

    /// Turns `key`'s bucket into a blackhole after an overflow, pointing at alert `alert`.
    pub fn blackhole(&mut self, key: BucketKey, params: BucketParams, time_us: i64, alert: usize) {
        let bucket = Bucket::Blackholed {
            until_us: time_us.saturating_add(params.blackhole_us),
            alert,
            last_us: time_us,
        };
        self.buckets.insert(key, bucket);
    }

    /// Makes room for one more bucket: sweep empty ones when the map has grown enough since
    /// the last sweep, then evict a batch if it is still full.
    fn make_room(&mut self) {
        if self.buckets.len() < self.sweep_at {
            return;
        }
        let now_us = self.now_us;
        let leak_us = self.leak_us;
        self.buckets
            .retain(|key, bucket| !bucket.expired(now_us, leak_us[key.detector as usize]));
        if self.buckets.len() >= self.max_buckets {
            self.evict_batch();
        }
        self.sweep_at =
            (self.buckets.len() * 2).clamp(SWEEP_MIN.min(self.max_buckets), self.max_buckets);
    }

    fn evict_batch(&mut self) {
        let batch = (self.max_buckets / 8).max(1);
        let target = self.buckets.len().saturating_sub(self.max_buckets) + batch;
        let mut ranked: Vec<((bool, usize, i64), BucketKey)> = self
            .buckets
            .iter()
            .map(|(key, bucket)| (bucket.eviction_rank(), *key))
            .collect();
        let target = target.min(ranked.len());
        if target == 0 {
            return;
        }
        // Keys are unique, so the order is total and the evicted set is the same on every run.
        ranked.select_nth_unstable(target - 1);
        for (_, key) in ranked.iter().take(target) {
            self.buckets.remove(key);
        }
        self.evicted += target as u64;
    }
}

/// Removes the events that leaked out by `now_us`, oldest first.
fn leak(events: &mut VecDeque<(i64, u64)>, leak_from_us: &mut i64, now_us: i64, leak_us: i64) {
    if events.is_empty() || now_us <= *leak_from_us {
        return;
    }
    let elapsed = now_us.saturating_sub(*leak_from_us);
    let leaked = elapsed / leak_us;
    if leaked <= 0 {
        return;
    }
    let leaked_events = usize::try_from(leaked)
        .unwrap_or(usize::MAX)
        .min(events.len());
    events.drain(..leaked_events);
    if events.is_empty() {
        *leak_from_us = now_us;
    } else {
        *leak_from_us += leak_us * leaked_events as i64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000;

    fn key(last_octet: u8) -> BucketKey {
        BucketKey {
            detector: Detector::BruteForce,
            source: IpAddr::from([192, 0, 2, last_octet]),
            scope: 0,
        }
    }

    fn params(capacity: usize, leak_s: i64, blackhole_s: i64) -> BucketParams {
        BucketParams {
            capacity,
            leak_us: leak_s * SECOND,
            blackhole_us: blackhole_s * SECOND,
        }
    }

    fn store() -> BucketStore {
        BucketStore::new(100, [10 * SECOND; DETECTOR_COUNT])
    }

    #[test]
    fn overflows_on_the_event_past_capacity() {
        let mut store = store();
        let p = params(2, 10, 60);
        assert_eq!(store.pour(key(1), p, 0, None, "a"), Pour::Held);
        assert_eq!(store.pour(key(1), p, SECOND, None, "b"), Pour::Held);
        assert_eq!(
            store.pour(key(1), p, 2 * SECOND, None, "c"),
            Pour::Overflow {
                first_us: 0,
                last_us: 2 * SECOND,
                count: 3,
                first_evidence: Some("a".into())
            }
        );
    }

    #[test]
    fn capacity_zero_fires_on_the_first_event_without_a_separate_first_line() {
        let mut store = store();
        assert_eq!(
            store.pour(key(1), params(0, 1, 60), 5, None, "only"),
            Pour::Overflow {
                first_us: 5,
                last_us: 5,
                count: 1,
                first_evidence: None
            }
        );
    }

    #[test]
    fn events_slower_than_the_leak_never_overflow() {
        let mut store = store();
        let p = params(2, 10, 60);
        for n in 0..50 {
            assert_eq!(
                store.pour(key(1), p, n * 10 * SECOND, None, "x"),
                Pour::Held
            );
        }
    }

    #[test]
    fn leak_counts_from_the_oldest_event() {
        let mut store = store();
        let p = params(1, 10, 60);
        assert_eq!(store.pour(key(1), p, 0, None, "a"), Pour::Held);
        // At 10 s the first event has leaked: the bucket holds one again, no overflow.
        assert_eq!(store.pour(key(1), p, 10 * SECOND, None, "b"), Pour::Held);
        // At 19 s the second event is still inside.
        assert!(matches!(
            store.pour(key(1), p, 19 * SECOND, None, "c"),
            Pour::Overflow { count: 2, first_us, .. } if first_us == 10 * SECOND
        ));
    }

    #[test]
    fn out_of_order_events_span_the_earliest_and_latest_times() {
        let mut store = store();
        let p = params(2, 10, 60);
        assert_eq!(store.pour(key(1), p, 5 * SECOND, None, "a"), Pour::Held);
        assert_eq!(store.pour(key(1), p, 3 * SECOND, None, "b"), Pour::Held);
        assert!(matches!(
            store.pour(key(1), p, 4 * SECOND, None, "c"),
            Pour::Overflow { first_us, last_us, count: 3, .. }
                if first_us == 3 * SECOND && last_us == 5 * SECOND
        ));
    }

    #[test]
    fn repeated_distinct_values_are_not_poured() {
        let mut store = store();
        let p = params(1, 10, 60);
        assert_eq!(store.pour(key(1), p, 0, Some(7), "a"), Pour::Held);
        assert_eq!(store.pour(key(1), p, 1, Some(7), "a"), Pour::Held);
        assert_eq!(store.pour(key(1), p, 2, Some(7), "a"), Pour::Held);
        assert!(matches!(
            store.pour(key(1), p, 3, Some(8), "b"),
            Pour::Overflow { count: 2, .. }
        ));
    }

    #[test]
    fn blackhole_silences_the_key_until_it_ends() {
        let mut store = store();
        let p = params(0, 1, 60);
        assert!(matches!(
            store.pour(key(1), p, 0, None, "a"),
            Pour::Overflow { .. }
        ));
        store.blackhole(key(1), p, 0, 42);
        assert_eq!(
            store.pour(key(1), p, 59 * SECOND, None, "b"),
            Pour::Silenced(42)
        );
        // Other keys are not affected.
        assert!(matches!(
            store.pour(key(2), p, SECOND, None, "c"),
            Pour::Overflow { .. }
        ));
        assert!(matches!(
            store.pour(key(1), p, 60 * SECOND, None, "d"),
            Pour::Overflow { .. }
        ));
    }

    #[test]
    fn map_never_exceeds_the_cap_and_counts_evictions() {
        let mut store = BucketStore::new(10, [3600 * SECOND; DETECTOR_COUNT]);
        let p = params(5, 3600, 60);
        for n in 0..=255u8 {
            store.pour(key(n), p, i64::from(n), None, "x");
            assert!(store.len() <= 10, "{} buckets after {n}", store.len());
        }
        assert!(store.evicted() >= 246);
    }

    #[test]
    fn sweeps_drop_leaked_buckets_without_counting_them_as_evicted() {
        let mut store = BucketStore::new(10, [SECOND; DETECTOR_COUNT]);
        let p = params(5, 1, 60);
        for n in 0..=255u8 {
            // Each bucket has leaked empty long before the next one arrives.
            store.pour(key(n), p, i64::from(n) * 10 * SECOND, None, "x");
        }
        assert_eq!(store.evicted(), 0);
        assert!(store.len() <= 10);
    }

    #[test]
    fn eviction_keeps_the_fullest_buckets() {
        let mut store = BucketStore::new(8, [3600 * SECOND; DETECTOR_COUNT]);
        let p = params(50, 3600, 60);
        for _ in 0..5 {
            store.pour(key(0), p, 0, None, "busy");
        }
        for n in 1..=40u8 {
            store.pour(key(n), p, 1, None, "x");
        }
        // The busy bucket survived every eviction, so all its events are still inside.
        for _ in 0..45 {
            store.pour(key(0), p, 2, None, "busy");
        }
        assert!(matches!(
            store.pour(key(0), p, 3, None, "busy"),
            Pour::Overflow { count: 51, .. }
        ));
    }
}
