//! Per-route minute baselines for `request-flood` and `error-burst`.
//!
//! Each route keeps exponentially weighted moving averages of its requests, new addresses and
//! 5xx responses per minute (smoothing `2 / (baselineMinutes + 1)`, the usual span formula),
//! seeded with the route's first minute.
//! A minute is judged against the averages of the minutes before it, then folded in; a minute
//! that fired is folded in only up to its threshold, so a flood that lasts does not teach the
//! baseline that floods are normal. Minutes the caller skips (no requests) count as zeros.

use std::collections::HashMap;

use super::MinuteStats;
use super::config::{ErrorBurstSettings, RequestFloodSettings};

/// What one route minute exceeded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Excess {
    /// The minute's value.
    pub value: u64,
    /// The threshold it exceeded.
    pub threshold: f64,
    /// The baseline the threshold came from.
    pub baseline: f64,
}

/// The verdict on one route minute.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Verdict {
    /// Requests above the flood threshold.
    pub requests: Option<Excess>,
    /// New addresses above their threshold.
    pub new_sources: Option<Excess>,
    /// 5xx responses above the burst threshold (and above the ratio floor).
    pub errors: Option<Excess>,
}

#[derive(Debug, Clone, Copy)]
struct Average {
    value: f64,
}

impl Average {
    fn decay(&mut self, keep: f64, minutes: i64) {
        // Past about 1,000 minutes every span up to days has decayed to nothing anyway.
        let minutes = i32::try_from(minutes.clamp(0, 1_000)).unwrap_or(1_000);
        self.value *= keep.powi(minutes);
    }

    fn add(&mut self, alpha: f64, sample: f64, first: bool) {
        // The first minute seeds the average: starting from zero would make every route look
        // quiet for its first hour and every ordinary minute look like a spike.
        if first {
            self.value = sample;
        } else {
            self.value += alpha * (sample - self.value);
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct RouteBaseline {
    last_minute: i64,
    minutes_seen: u32,
    requests: Average,
    new_sources: Average,
    errors: Average,
}

/// Baselines for every route seen.
#[derive(Debug)]
pub(crate) struct RateBaselines {
    flood: RequestFloodSettings,
    burst: ErrorBurstSettings,
    flood_alpha: f64,
    burst_alpha: f64,
    routes: HashMap<Option<u32>, RouteBaseline>,
}

impl RateBaselines {
    pub fn new(flood: &RequestFloodSettings, burst: &ErrorBurstSettings) -> Self {
        let alpha = |minutes: u32| 2.0 / (f64::from(minutes.max(1)) + 1.0);
        RateBaselines {
            flood_alpha: alpha(flood.baseline_minutes),
            burst_alpha: alpha(burst.baseline_minutes),
            flood: flood.clone(),
            burst: burst.clone(),
            routes: HashMap::new(),
        }
    }

    /// Judges one route minute, then folds it into the route's baseline.
    pub fn observe(&mut self, stats: &MinuteStats) -> Verdict {
        let flood = &self.flood;
        let burst = &self.burst;
        let (flood_alpha, burst_alpha) = (self.flood_alpha, self.burst_alpha);
        let baseline = self.routes.entry(stats.route).or_insert(RouteBaseline {
            last_minute: stats.minute,
            minutes_seen: 0,
            requests: Average { value: 0.0 },
            new_sources: Average { value: 0.0 },
            errors: Average { value: 0.0 },
        });
        if baseline.minutes_seen > 0 {
            // Minutes with no line are real minutes with nothing in them.
            let skipped = stats
                .minute
                .saturating_sub(baseline.last_minute)
                .saturating_sub(1);
            if skipped > 0 {
                baseline.requests.decay(1.0 - flood_alpha, skipped);
                baseline.new_sources.decay(1.0 - flood_alpha, skipped);
                baseline.errors.decay(1.0 - burst_alpha, skipped);
                let skipped = u32::try_from(skipped).unwrap_or(u32::MAX);
                baseline.minutes_seen = baseline.minutes_seen.saturating_add(skipped);
            }
        }

        let mut verdict = Verdict::default();
        if flood.enabled && baseline.minutes_seen >= flood.warmup_minutes {
            verdict.requests = exceeds(
                stats.requests,
                flood.min_requests,
                flood.factor,
                baseline.requests.value,
            );
            verdict.new_sources = exceeds(
                stats.new_sources,
                flood.min_new_sources,
                flood.factor,
                baseline.new_sources.value,
            );
        }
        if burst.enabled && baseline.minutes_seen >= burst.warmup_minutes {
            let ratio_ok = stats.requests > 0
                && stats.errors_5xx as f64 >= burst.min_error_ratio * stats.requests as f64;
            verdict.errors = exceeds(
                stats.errors_5xx,
                burst.min_errors,
                burst.factor,
                baseline.errors.value,
            )
            .filter(|_| ratio_ok);
        }

        let folded = |value: u64, excess: Option<Excess>| match excess {
            Some(excess) => excess.threshold,
            None => value as f64,
        };
        let first = baseline.minutes_seen == 0;
        baseline
            .requests
            .add(flood_alpha, folded(stats.requests, verdict.requests), first);
        baseline.new_sources.add(
            flood_alpha,
            folded(stats.new_sources, verdict.new_sources),
            first,
        );
        // A burst that failed only the ratio floor is still folded in full: it is traffic.
        let errors_threshold = threshold(burst.min_errors, burst.factor, baseline.errors.value);
        let errors_sample = if verdict.errors.is_some() {
            errors_threshold
        } else {
            stats.errors_5xx as f64
        };
        baseline.errors.add(burst_alpha, errors_sample, first);
        baseline.minutes_seen = baseline.minutes_seen.saturating_add(1);
        baseline.last_minute = baseline.last_minute.max(stats.minute);
        verdict
    }
}

fn threshold(floor: u64, factor: f64, baseline: f64) -> f64 {
    (floor as f64).max(factor * baseline)
}

fn exceeds(value: u64, floor: u64, factor: f64, baseline: f64) -> Option<Excess> {
    let threshold = threshold(floor, factor, baseline);
    (value as f64 > threshold).then_some(Excess {
        value,
        threshold,
        baseline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(minute: i64, requests: u64, errors_5xx: u64, new_sources: u64) -> MinuteStats {
        MinuteStats {
            route: Some(1),
            minute,
            requests,
            errors_5xx,
            new_sources,
            top_source: None,
        }
    }

    fn baselines() -> RateBaselines {
        RateBaselines::new(
            &RequestFloodSettings::default(),
            &ErrorBurstSettings::default(),
        )
    }

    #[test]
    fn steady_traffic_sets_a_baseline_that_a_spike_exceeds() {
        let mut rates = baselines();
        for m in 0..10 {
            assert_eq!(rates.observe(&minute(m, 100, 0, 5)), Verdict::default());
        }
        let verdict = rates.observe(&minute(10, 2_000, 0, 5));
        let excess = verdict.requests.expect("flood");
        assert_eq!(excess.value, 2_000);
        // The baseline is exactly 100 (constant input), so the threshold is max(300, 500).
        assert!((excess.baseline - 100.0).abs() < 1e-9, "{excess:?}");
        assert!((excess.threshold - 500.0).abs() < 1e-9, "{excess:?}");
    }

    #[test]
    fn nothing_fires_before_warm_up() {
        let mut rates = baselines();
        for m in 0..5 {
            assert_eq!(rates.observe(&minute(m, 5_000, 0, 5_000)).requests, None);
        }
        assert!(rates.observe(&minute(5, 50_000, 0, 0)).requests.is_some());
    }

    #[test]
    fn skipped_minutes_decay_the_baseline() {
        let mut rates = baselines();
        for m in 0..10 {
            rates.observe(&minute(m, 1_000, 0, 0));
        }
        // 1,000/min: 4,000 is under 5 x 1,000.
        assert_eq!(rates.observe(&minute(10, 4_000, 0, 0)).requests, None);
        // After 4 quiet hours the baseline has decayed to almost nothing: 4,000 is a flood.
        assert!(rates.observe(&minute(250, 4_000, 0, 0)).requests.is_some());
    }

    #[test]
    fn error_burst_needs_the_ratio_floor() {
        let mut rates = baselines();
        // 30 errors of 1,000 requests (3%) is above 20 errors but under the 20% floor.
        assert_eq!(rates.observe(&minute(0, 1_000, 30, 0)).errors, None);
        let mut rates = baselines();
        let excess = rates.observe(&minute(0, 100, 30, 0)).errors.expect("burst");
        assert_eq!(excess.value, 30);
    }

    #[test]
    fn a_firing_minute_feeds_the_baseline_only_up_to_its_threshold() {
        let mut rates = baselines();
        for m in 0..10 {
            rates.observe(&minute(m, 100, 0, 0));
        }
        for m in 10..15 {
            assert!(
                rates.observe(&minute(m, 100_000, 0, 0)).requests.is_some(),
                "minute {m}"
            );
        }
    }
}
