//! Mergeable sketches: distinct counts (HyperLogLog, exact while small), latency quantiles
//! (a log-linear histogram) and heavy hitters (a tiny Misra–Gries summary). Each merges with
//! another of its kind, which is how per-chunk results built on different cores come together.

use std::net::IpAddr;

/// A 64-bit hash of an address, the same on every thread and run (sketches from different
/// chunks must agree on it to merge).
pub fn hash_ip(ip: &IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => mix(u64::from(u32::from(*v4))),
        IpAddr::V6(v6) => {
            let bits = u128::from(*v6);
            mix((bits as u64) ^ mix((bits >> 64) as u64))
        }
    }
}

/// SplitMix64's finalizer: a fast, well-distributed mix of 64 bits.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Distinct count: exact up to [`Distinct::EXACT_LIMIT`] values, then HyperLogLog with
/// `2^precision` one-byte registers (standard error ≈ 1.04 / √(2^precision)).
#[derive(Debug, Clone, PartialEq)]
pub struct Distinct {
    precision: u8,
    state: DistinctState,
}

#[derive(Debug, Clone, PartialEq)]
enum DistinctState {
    Exact(Vec<u64>),
    Registers(Box<[u8]>),
}

impl Distinct {
    /// Values kept exactly before switching to registers.
    pub const EXACT_LIMIT: usize = 64;

    /// An empty counter whose registers, once needed, number `2^precision` (4..=16).
    pub fn new(precision: u8) -> Self {
        Self {
            precision: precision.clamp(4, 16),
            state: DistinctState::Exact(Vec::new()),
        }
    }

    /// Adds a hashed value.
    pub fn insert(&mut self, hash: u64) {
        match &mut self.state {
            DistinctState::Exact(values) => {
                if values.contains(&hash) {
                    return;
                }
                if values.len() < Self::EXACT_LIMIT {
                    values.push(hash);
                    return;
                }
                let mut registers = vec![0u8; 1 << self.precision].into_boxed_slice();
                for value in values.iter() {
                    set_register(&mut registers, self.precision, *value);
                }
                set_register(&mut registers, self.precision, hash);
                self.state = DistinctState::Registers(registers);
            }
            DistinctState::Registers(registers) => set_register(registers, self.precision, hash),
        }
    }

    /// The estimated number of distinct values (exact while small).
    pub fn count(&self) -> u64 {
        match &self.state {
            DistinctState::Exact(values) => values.len() as u64,
            DistinctState::Registers(registers) => estimate(registers),
        }
    }

    /// Three standard errors of [`Distinct::count`], in values: 0 while exact. A difference of
    /// two counts smaller than this is noise, not a change.
    pub fn noise(&self) -> u64 {
        match &self.state {
            DistinctState::Exact(_) => 0,
            DistinctState::Registers(registers) => {
                let relative = 1.04 / (registers.len() as f64).sqrt();
                (3.0 * relative * self.count() as f64).ceil() as u64
            }
        }
    }

    /// Adds everything `other` counted. Both must have the same precision (checked in debug
    /// builds; registers of another size cannot be folded in).
    pub fn merge(&mut self, other: &Distinct) {
        debug_assert_eq!(
            self.precision, other.precision,
            "sketches of different precision"
        );
        match &other.state {
            DistinctState::Exact(values) => {
                for value in values {
                    self.insert(*value);
                }
            }
            DistinctState::Registers(theirs) => {
                if let DistinctState::Exact(values) = &self.state {
                    let mut registers = theirs.clone();
                    for value in values {
                        set_register(&mut registers, self.precision, *value);
                    }
                    self.state = DistinctState::Registers(registers);
                    return;
                }
                if let DistinctState::Registers(mine) = &mut self.state {
                    for (mine, theirs) in mine.iter_mut().zip(theirs.iter()) {
                        *mine = (*mine).max(*theirs);
                    }
                }
            }
        }
    }
}

fn set_register(registers: &mut [u8], precision: u8, hash: u64) {
    let index = (hash >> (64 - precision)) as usize;
    let rest = (hash << precision) | (1 << (precision - 1));
    let rank = rest.leading_zeros() as u8 + 1;
    if let Some(register) = registers.get_mut(index) {
        *register = (*register).max(rank);
    }
}

fn estimate(registers: &[u8]) -> u64 {
    let m = registers.len() as f64;
    let alpha = match registers.len() {
        16 => 0.673,
        32 => 0.697,
        64 => 0.709,
        _ => 0.7213 / (1.0 + 1.079 / m),
    };
    let sum: f64 = registers.iter().map(|r| 2f64.powi(-i32::from(*r))).sum();
    let raw = alpha * m * m / sum;
    let zeros = registers.iter().filter(|r| **r == 0).count();
    // Linear counting is better for small cardinalities.
    let estimate = if raw <= 2.5 * m && zeros > 0 {
        m * (m / zeros as f64).ln()
    } else {
        raw
    };
    estimate.round() as u64
}

/// Latency histogram over microseconds: exact below 16 µs, then 8 sub-buckets per power of two
/// (a value is reported within 12.5 % of itself). Fixed size, so merging is adding.
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    counts: Box<[u64; Latency::BUCKETS]>,
    total: u64,
}

impl Default for Latency {
    fn default() -> Self {
        Self {
            counts: Box::new([0; Latency::BUCKETS]),
            total: 0,
        }
    }
}

impl Latency {
    const BUCKETS: usize = 16 + 60 * 8;

    /// Records one duration in seconds (negative and non-finite values are ignored).
    pub fn record_seconds(&mut self, seconds: f64) {
        if seconds.is_finite() && seconds >= 0.0 {
            self.record_us((seconds * 1e6) as u64);
        }
    }

    /// Records one duration in microseconds.
    pub fn record_us(&mut self, us: u64) {
        let index = bucket(us).min(Self::BUCKETS - 1);
        self.counts[index] += 1;
        self.total += 1;
    }

    /// How many durations were recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The `q` quantile (0..=1) in seconds, `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(bucket_middle(index) as f64 / 1e6);
            }
        }
        None
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &Latency) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
        self.total += other.total;
    }
}

fn bucket(us: u64) -> usize {
    if us < 16 {
        return us as usize;
    }
    let exponent = 63 - us.leading_zeros() as usize; // >= 4
    16 + (exponent - 4) * 8 + ((us >> (exponent - 3)) & 7) as usize
}

fn bucket_middle(index: usize) -> u64 {
    if index < 16 {
        return index as u64;
    }
    let exponent = (index - 16) / 8 + 4;
    let sub = ((index - 16) % 8) as u64;
    let low = (8 + sub) << (exponent - 3);
    let width = 1u64 << (exponent - 3);
    low + width / 2
}

/// Misra–Gries heavy hitters with `K` counters: any address with more than `1/(K+1)` of the
/// requests is kept, with a count too low by at most `total/(K+1)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeavyHitters {
    counters: Vec<(IpAddr, u64)>,
}

impl HeavyHitters {
    const K: usize = 4;

    /// Counts `n` requests from `ip`.
    pub fn add(&mut self, ip: IpAddr, n: u64) {
        if let Some(counter) = self.counters.iter_mut().find(|(seen, _)| *seen == ip) {
            counter.1 += n;
            return;
        }
        if self.counters.len() < Self::K {
            self.counters.push((ip, n));
            return;
        }
        let decrement = n.min(
            self.counters
                .iter()
                .map(|(_, count)| *count)
                .min()
                .unwrap_or(0),
        );
        for counter in &mut self.counters {
            counter.1 -= decrement;
        }
        self.counters.retain(|(_, count)| *count > 0);
        if n > decrement && self.counters.len() < Self::K {
            self.counters.push((ip, n - decrement));
        }
    }

    /// Adds `other`'s counters.
    pub fn merge(&mut self, other: &HeavyHitters) {
        for (ip, count) in &other.counters {
            self.add(*ip, *count);
        }
    }

    /// The address with the highest (lower-bound) count.
    pub fn top(&self) -> Option<(IpAddr, u64)> {
        self.counters
            .iter()
            .copied()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_is_exact_while_small() {
        let mut distinct = Distinct::new(12);
        for n in 0..50u64 {
            distinct.insert(mix(n));
            distinct.insert(mix(n));
        }
        assert_eq!(distinct.count(), 50);
    }

    #[test]
    fn distinct_estimates_large_counts_within_a_few_percent() {
        let mut distinct = Distinct::new(12);
        for n in 0..100_000u64 {
            distinct.insert(mix(n));
        }
        let count = distinct.count() as f64;
        assert!(
            (count - 100_000.0).abs() / 100_000.0 < 0.05,
            "estimate {count}"
        );
    }

    #[test]
    fn distinct_merge_equals_counting_the_union() {
        let (mut a, mut b, mut union) = (Distinct::new(10), Distinct::new(10), Distinct::new(10));
        for n in 0..5_000u64 {
            a.insert(mix(n));
            union.insert(mix(n));
        }
        for n in 2_500..9_000u64 {
            b.insert(mix(n));
            union.insert(mix(n));
        }
        a.merge(&b);
        assert_eq!(a, union);
        let mut small = Distinct::new(10);
        small.insert(mix(1));
        small.merge(&union);
        assert_eq!(small.count(), union.count());
    }

    #[test]
    fn noise_is_zero_while_exact_and_three_standard_errors_after() {
        let mut distinct = Distinct::new(12);
        distinct.insert(mix(1));
        assert_eq!(distinct.noise(), 0);
        for n in 0..100_000u64 {
            distinct.insert(mix(n));
        }
        let expected = 3.0 * 1.04 / 64.0 * distinct.count() as f64;
        assert!((distinct.noise() as f64 - expected).abs() <= 1.0);
    }

    #[test]
    fn latency_quantiles_are_within_the_bucket_error() {
        let mut latency = Latency::default();
        for ms in 1..=1000u64 {
            latency.record_us(ms * 1000);
        }
        let p50 = latency.quantile(0.5).unwrap();
        let p99 = latency.quantile(0.99).unwrap();
        assert!((p50 - 0.5).abs() / 0.5 < 0.125, "p50 {p50}");
        assert!((p99 - 0.99).abs() / 0.99 < 0.125, "p99 {p99}");
        assert_eq!(Latency::default().quantile(0.5), None);
    }

    #[test]
    fn latency_merge_adds_counts() {
        let (mut a, mut b) = (Latency::default(), Latency::default());
        a.record_seconds(0.001);
        b.record_seconds(2.0);
        b.record_seconds(f64::NAN);
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert!(a.quantile(1.0).unwrap() > 1.5);
    }

    #[test]
    fn heavy_hitters_keep_the_dominant_source() {
        let mut hitters = HeavyHitters::default();
        let attacker: IpAddr = "203.0.113.9".parse().unwrap();
        for n in 0..1000u32 {
            hitters.add(IpAddr::from(n.to_be_bytes()), 1);
            hitters.add(attacker, 1);
        }
        assert_eq!(hitters.top().map(|(ip, _)| ip), Some(attacker));
    }
}
