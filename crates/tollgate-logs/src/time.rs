//! Timestamps, parsed by hand: access logs repeat the same second thousands of times, so the CLF
//! parser caches the last second it converted and a hit costs one comparison of 20 bytes.

/// Microseconds per second.
const US: i64 = 1_000_000;

/// Per-thread cache of the last CLF second converted (logs arrive in time order).
#[derive(Debug, Default, Clone)]
pub struct TimeCache {
    /// The `dd/Mon/yyyy:HH:MM:SS` part of the last CLF time, and its offset text.
    last_text: [u8; 26],
    last_len: usize,
    last_us: i64,
}

impl TimeCache {
    /// A fresh cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// `dd/Mon/yyyy:HH:MM:SS ±hhmm` (nginx `$time_local`, Traefik CLF, Apache) to microseconds
    /// since the epoch, UTC.
    pub fn clf(&mut self, text: &str) -> Option<i64> {
        let bytes = text.as_bytes();
        if bytes.len() != 26 {
            return None;
        }
        if self.last_len == 26 && self.last_text == bytes[..26] {
            return Some(self.last_us);
        }
        let us = parse_clf(bytes)?;
        self.last_text.copy_from_slice(bytes);
        self.last_len = 26;
        self.last_us = us;
        Some(us)
    }

    /// `dd/Mon/yyyy:HH:MM:SS.mmm` (HAProxy `%tr`/`%t`, which carry no offset: read as UTC).
    pub fn haproxy(&mut self, text: &str) -> Option<i64> {
        let bytes = text.as_bytes();
        if bytes.len() != 24 || bytes[20] != b'.' {
            return None;
        }
        let second = if self.last_len == 20 && self.last_text[..20] == bytes[..20] {
            self.last_us
        } else {
            let us = parse_date_time(bytes)?;
            self.last_text[..20].copy_from_slice(&bytes[..20]);
            self.last_len = 20;
            self.last_us = us;
            us
        };
        let millis = digits(&bytes[21..24])?;
        Some(second + millis * 1_000)
    }
}

/// `dd/Mon/yyyy:HH:MM:SS ±hhmm`.
fn parse_clf(bytes: &[u8]) -> Option<i64> {
    if bytes[20] != b' ' {
        return None;
    }
    let local = parse_date_time(bytes)?;
    let sign = match bytes[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset = digits(&bytes[22..24])? * 3600 + digits(&bytes[24..26])? * 60;
    Some(local - sign * offset * US)
}

/// `dd/Mon/yyyy:HH:MM:SS` (the first 20 bytes) as if UTC.
fn parse_date_time(bytes: &[u8]) -> Option<i64> {
    if bytes[2] != b'/'
        || bytes[6] != b'/'
        || bytes[11] != b':'
        || bytes[14] != b':'
        || bytes[17] != b':'
    {
        return None;
    }
    let day = digits(&bytes[0..2])?;
    let month = month(&bytes[3..6])?;
    let year = digits(&bytes[7..11])?;
    let hour = digits(&bytes[12..14])?;
    let minute = digits(&bytes[15..17])?;
    let second = digits(&bytes[18..20])?;
    civil_to_us(year, month, day, hour, minute, second)
}

/// RFC 3339 / ISO 8601 with a `T` or space separator, optional fraction (up to nanoseconds,
/// truncated to microseconds), and `Z` or `±hh:mm`/`±hhmm` (Envoy, ALB, GCP, Traefik JSON, CRI).
/// A missing offset is read as UTC.
pub fn rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let base = civil_to_us(
        digits(&b[0..4])?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )?;
    let mut rest = &b[19..];
    let mut fraction_us = 0;
    if let Some((b'.', tail)) = rest.split_first() {
        let len = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        let mut scale = 100_000;
        for &c in &tail[..len.min(6)] {
            fraction_us += i64::from(c - b'0') * scale;
            scale /= 10;
        }
        rest = &tail[len..];
    }
    let offset_s = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let minutes = digits(&[*h1, *h2])? * 60 + digits(&[*m1, *m2])?;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    Some(base + fraction_us - offset_s * US)
}

/// Microseconds since the epoch to RFC 3339 UTC with microseconds (`2020-02-07T11:48:51.000000Z`
/// is written `2020-02-07T11:48:51Z`; fractions only when non-zero).
pub fn format_rfc3339(us: i64) -> String {
    let secs = us.div_euclid(US);
    let micros = us.rem_euclid(US);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if micros == 0 {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
    } else {
        let mut fraction = format!("{micros:06}");
        while fraction.ends_with('0') {
            fraction.pop();
        }
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{fraction}Z")
    }
}

fn digits(bytes: &[u8]) -> Option<i64> {
    let mut value = 0i64;
    for &c in bytes {
        if !c.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(c - b'0');
    }
    Some(value)
}

fn month(name: &[u8]) -> Option<i64> {
    Some(match name {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

fn civil_to_us(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
) -> Option<i64> {
    // Leap seconds (`:60`) are read as the next second, as most log tools do.
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((((days * 24 + hour) * 60 + minute) * 60 + second) * US)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian (year, month, day) of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clf_applies_the_offset() {
        let mut cache = TimeCache::new();
        // 2000-10-10T20:55:36Z
        assert_eq!(
            cache.clf("10/Oct/2000:13:55:36 -0700"),
            Some(971_211_336 * US)
        );
        assert_eq!(
            cache.clf("07/Feb/2020:11:48:51 +0000"),
            Some(1_581_076_131 * US)
        );
    }

    #[test]
    fn clf_cache_hit_gives_the_same_answer() {
        let mut cache = TimeCache::new();
        let first = cache.clf("25/Oct/2016:14:49:33 +0200");
        assert_eq!(cache.clf("25/Oct/2016:14:49:33 +0200"), first);
        assert_eq!(
            cache.clf("25/Oct/2016:14:49:34 +0200"),
            first.map(|us| us + US)
        );
    }

    #[test]
    fn clf_rejects_bad_months_and_lengths() {
        let mut cache = TimeCache::new();
        assert_eq!(cache.clf("10/Foo/2000:13:55:36 -0700"), None);
        assert_eq!(cache.clf("10/Oct/2000:13:55:36"), None);
        assert_eq!(cache.clf("10/Oct/2000:25:55:36 -0700"), None);
    }

    #[test]
    fn haproxy_time_has_milliseconds_and_no_offset() {
        let mut cache = TimeCache::new();
        assert_eq!(
            cache.haproxy("06/Feb/2009:12:14:14.655"),
            Some(1_233_922_454 * US + 655_000)
        );
    }

    #[test]
    fn rfc3339_reads_fractions_and_offsets() {
        assert_eq!(
            rfc3339("2022-05-12T06:41:29.051646Z"),
            Some(1_652_337_689 * US + 51_646)
        );
        assert_eq!(
            rfc3339("2025-12-31T17:37:40.493035218+01:00"),
            Some(1_767_199_060 * US + 493_035)
        );
        assert_eq!(
            rfc3339("2019-04-11T00:31:55.439Z"),
            Some(1_554_942_715 * US + 439_000)
        );
        assert_eq!(
            rfc3339("2020-02-07T11:48:51+00:00"),
            Some(1_581_076_131 * US)
        );
        assert_eq!(rfc3339("2020-02-07 11:48:51"), Some(1_581_076_131 * US));
        assert_eq!(rfc3339("2020-02-07T11:48"), None);
        assert_eq!(rfc3339("2020-02-07T11:48:51.Z"), None);
    }

    #[test]
    fn format_round_trips_through_parse() {
        for us in [
            0,
            1_581_076_131 * US,
            1_652_337_689 * US + 51_646,
            -86_400 * US,
        ] {
            assert_eq!(rfc3339(&format_rfc3339(us)), Some(us));
        }
        assert_eq!(format_rfc3339(1_581_076_131 * US), "2020-02-07T11:48:51Z");
    }
}
