//! Cheap pre-checks that let a benign line skip the pattern automata.
//!
//! An ASCII case-insensitive Aho-Corasick automaton gets no prefilter and walks every byte of a
//! 120-byte User-Agent at about two nanoseconds a byte; run per list and per field, that was
//! over half a microsecond per line. The gates below answer "can any pattern of these lists
//! occur here?" in a fraction of that. They are derived from the lists themselves (user extras
//! included) and never say no when a pattern does occur; on yes the exact per-list automata
//! decide which list matched and with what, so verdicts do not depend on the gates.

/// A set of byte pairs, ASCII case-folded (65,536 bits, 8 KiB).
#[derive(Debug, Clone)]
struct PairSet {
    bits: Box<[u64; 1024]>,
}

impl PairSet {
    fn new() -> Self {
        PairSet {
            bits: Box::new([0; 1024]),
        }
    }

    fn insert(&mut self, first: u8, second: u8) {
        let index = folded_index(first, second);
        self.bits[index >> 6] |= 1 << (index & 63);
    }

    fn contains(&self, first: u8, second: u8) -> bool {
        let index = folded_index(first, second);
        (self.bits[index >> 6] >> (index & 63)) & 1 != 0
    }
}

/// The index of a byte pair; below 65,536 by construction.
fn exact_index(first: u8, second: u8) -> usize {
    (usize::from(first) << 8) | usize::from(second)
}

/// The index of a lower-cased byte pair.
fn folded_index(first: u8, second: u8) -> usize {
    exact_index(first.to_ascii_lowercase(), second.to_ascii_lowercase())
}

/// Benign text the pair gates are tuned against: common User-Agents, paths and queries. A
/// pattern is keyed on a byte pair that appears here as rarely as possible, so that ordinary
/// traffic seldom opens the gate. Only speed depends on this list, never a verdict.
const BENIGN_SAMPLES: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "curl/8.4.0 Wget/1.21.4 python-requests/2.31.0 Go-http-client/2.0 okhttp/4.12.0 axios/1.6.2",
    "kube-probe/1.29 Prometheus/2.48.0 Blackbox-Exporter/0.24.0 ELB-HealthChecker/2.0 GoogleHC/1.0",
    "Dalvik/2.1.0 (Linux; U; Android 13; Pixel 7 Build/TQ3A.230901.001) Java/17.0.9 node-fetch/1.0",
    "/ /index.html /favicon.ico /robots.txt /sitemap.xml /healthz /readyz /metrics /login /logout",
    "/api/orders/42 /api/v1/users/123/profile /api/v2/products?category=shoes&sort=price",
    "/static/app.js /static/js/main.5f3a2b1c.chunk.js /assets/main.min.css /images/logo.png",
    "/products/shoes /blog/2024/01/15/hello-world /docs/getting-started/installation",
    "/wp-content/themes/twentytwentyfour/style.css /_next/static/chunks/pages/index.js",
    "page=2&per_page=50&q=running+shoes&lang=en&utm_source=google&utm_medium=cpc&utm_campaign=winter",
    "id=42&redirect=%2Fhome%2Faccount&filter%5Bstatus%5D=active&token=eyJhbGciOiJIUzI1NiJ9",
    "session_id=a1b2c3d4&ref=newsletter&size=10&offset=20&fields=name,price&format=json",
];

/// How often a byte appears in request text, roughly: the tie-break when the samples do not
/// tell two pairs apart.
fn commonness(byte: u8) -> u32 {
    const LETTERS: &[u8] = b"etaoinsrhldcumfpgwybvkxjqz";
    let byte = byte.to_ascii_lowercase();
    if let Some(rank) = LETTERS.iter().position(|&letter| letter == byte) {
        return 60 - rank as u32;
    }
    match byte {
        b'/' => 70,
        b'0'..=b'9' => 40,
        // Percent-encoding is everywhere in queries (`%20`, `%2F`).
        b'%' => 35,
        b'.' | b'-' | b'=' | b'&' | b'_' => 30,
        b'+' | b' ' | b';' | b'(' | b')' | b',' | b':' => 20,
        _ => 1,
    }
}

/// "Does some pattern occur in this text?", answered without an automaton: every pattern is
/// keyed on its least common adjacent byte pair, the text is scanned with one table lookup per
/// byte (no lower-casing: the table holds every letter case), and only where a key pair occurs
/// are the patterns keyed on it compared in place. Benign text seldom holds a key pair at all,
/// so the scan is nearly the whole cost; and a yes means a pattern really is there.
#[derive(Debug, Clone)]
pub(crate) struct PairGate {
    /// Slot (1-based) of the patterns keyed on each pair; 0 for pairs that key nothing.
    table: Box<[u16; 1 << 16]>,
    /// Per slot: the patterns keyed on that pair, with the pair's offset in each.
    slots: Vec<Vec<(Box<[u8]>, usize)>>,
    /// A one-byte pattern has no pair (or the slots ran out): the gate then always opens.
    always_open: bool,
}

impl PairGate {
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Self {
        let mut seen = vec![0u32; 1 << 16];
        for sample in BENIGN_SAMPLES {
            for pair in sample.as_bytes().windows(2) {
                if let [first, second] = pair {
                    seen[folded_index(*first, *second)] += 1;
                }
            }
        }
        let mut gate = PairGate {
            table: Box::new([0; 1 << 16]),
            slots: Vec::new(),
            always_open: false,
        };
        for pattern in patterns {
            let bytes = pattern.as_bytes();
            let rarest = bytes
                .windows(2)
                .enumerate()
                .min_by_key(|(_, pair)| match pair {
                    [first, second] => (
                        seen[folded_index(*first, *second)],
                        commonness(*first) * commonness(*second),
                    ),
                    _ => (u32::MAX, u32::MAX),
                });
            let Some((offset, &[first, second])) = rarest else {
                gate.always_open = true;
                continue;
            };
            let folded = folded_index(first, second);
            let slot = match gate.table[folded] {
                0 => {
                    gate.slots.push(Vec::new());
                    let Ok(slot) = u16::try_from(gate.slots.len()) else {
                        // More distinct key pairs than slots: stop gating rather than miss.
                        gate.always_open = true;
                        continue;
                    };
                    for a in [first.to_ascii_lowercase(), first.to_ascii_uppercase()] {
                        for b in [second.to_ascii_lowercase(), second.to_ascii_uppercase()] {
                            gate.table[exact_index(a, b)] = slot;
                        }
                    }
                    slot
                }
                slot => slot,
            };
            if let Some(keyed) = gate.slots.get_mut(usize::from(slot) - 1) {
                keyed.push((bytes.into(), offset));
            }
        }
        gate
    }

    /// Whether some pattern occurs in `text`, ASCII case-insensitively.
    pub fn may_match(&self, text: &str) -> bool {
        if self.always_open {
            return true;
        }
        let table: &[u16; 1 << 16] = &self.table;
        let bytes = text.as_bytes();
        let Some((&first, rest)) = bytes.split_first() else {
            return false;
        };
        // First pass: OR the slots of every pair, with no branch per byte, so the lookups
        // overlap in the pipeline. Benign text ends here.
        let mut any = 0u16;
        let mut previous = first;
        for &byte in rest {
            any |= table[exact_index(previous, byte)];
            previous = byte;
        }
        if any == 0 {
            return false;
        }
        // Some key pair occurs: compare the patterns keyed on it in place.
        bytes
            .windows(2)
            .enumerate()
            .any(|(index, pair)| match pair {
                &[first, second] => {
                    let slot = table[exact_index(first, second)];
                    slot != 0 && self.found_at(slot, bytes, index)
                }
                _ => false,
            })
    }

    /// Whether a pattern keyed on `slot` occurs with its key pair at `index`.
    fn found_at(&self, slot: u16, text: &[u8], index: usize) -> bool {
        let Some(keyed) = self.slots.get(usize::from(slot) - 1) else {
            return false;
        };
        keyed.iter().any(|(pattern, offset)| {
            index
                .checked_sub(*offset)
                .and_then(|start| text.get(start..start + pattern.len()))
                .is_some_and(|found| found.eq_ignore_ascii_case(pattern))
        })
    }
}

/// "Some pattern may end this text", for the lists matched at the end (sensitive files) or in
/// full (backdoor file names): the text's last pair and the pair before it must both end some
/// pattern the same way.
#[derive(Debug, Clone)]
pub(crate) struct SuffixGate {
    /// The last two bytes of every pattern of two bytes or more.
    last_pairs: PairSet,
    /// The two bytes before the last of every pattern of three bytes or more.
    previous_pairs: PairSet,
    /// The last pairs of two-byte patterns, which have no previous pair.
    two_byte: PairSet,
    /// One-byte patterns.
    one_byte: [bool; 256],
}

impl SuffixGate {
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Self {
        let mut gate = SuffixGate {
            last_pairs: PairSet::new(),
            previous_pairs: PairSet::new(),
            two_byte: PairSet::new(),
            one_byte: [false; 256],
        };
        for pattern in patterns {
            match pattern.as_bytes() {
                [.., third, second, last] => {
                    gate.last_pairs.insert(*second, *last);
                    gate.previous_pairs.insert(*third, *second);
                }
                [second, last] => gate.two_byte.insert(*second, *last),
                [only] => gate.one_byte[usize::from(only.to_ascii_lowercase())] = true,
                [] => {}
            }
        }
        gate
    }

    /// Whether some pattern may be a suffix of `text` (never false when one is).
    pub fn may_match(&self, text: &str) -> bool {
        let bytes = text.as_bytes();
        let one_byte = |last: &u8| self.one_byte[usize::from(last.to_ascii_lowercase())];
        match bytes {
            [.., third, second, last] => {
                (self.last_pairs.contains(*second, *last)
                    && self.previous_pairs.contains(*third, *second))
                    || self.two_byte.contains(*second, *last)
                    || one_byte(last)
            }
            [second, last] => self.two_byte.contains(*second, *last) || one_byte(last),
            [only] => one_byte(only),
            [] => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_gate_finds_every_pattern_in_any_case_and_position() {
        let patterns = ["../", "/etc/passwd", "union select", "${jndi:", "ab"];
        let gate = PairGate::new(patterns);
        for pattern in patterns {
            assert!(gate.may_match(pattern), "{pattern}");
            assert!(gate.may_match(&format!("/x/{}/y", pattern.to_ascii_uppercase())));
        }
        assert!(!gate.may_match("/api/orders/42"));
        assert!(!gate.may_match(""));
        // The key pair alone is not enough: the pattern around it is compared.
        assert!(!gate.may_match("/etc/password"));
        assert!(!gate.may_match("union selec"));
    }

    #[test]
    fn pair_gate_with_a_one_byte_pattern_is_always_open() {
        let gate = PairGate::new(["'"]);
        assert!(gate.may_match("/anything"));
    }

    #[test]
    fn suffix_gate_opens_only_for_possible_endings() {
        let gate = SuffixGate::new(["/.env", "c99.php", "/.svn/entries", "x"]);
        assert!(gate.may_match("/app/.ENV"));
        assert!(gate.may_match("/uploads/c99.php"));
        assert!(gate.may_match("/.svn/entries"));
        assert!(gate.may_match("/box"));
        assert!(gate.may_match("x"));
        assert!(!gate.may_match("/api/orders/42"));
        // Ends like `/.svn/entries` in its last pair only.
        assert!(!gate.may_match("/products/shoes"));
        assert!(!gate.may_match("/"));
        assert!(!gate.may_match(""));
        let two = SuffixGate::new(["ab"]);
        assert!(two.may_match("ab"));
        assert!(two.may_match("/xAB"));
        assert!(!two.may_match("/xa"));
    }
}
