//! Unwrapping the lines Kubernetes nodes write to `/var/log/containers/*.log`, so that the access
//! log line inside reaches the format parsers as the proxy wrote it.
//!
//! Two wrappers exist. The CRI format (containerd, CRI-O) writes
//! `<RFC3339Nano> <stdout|stderr> <P|F> <payload>`, and splits lines longer than its buffer
//! (16 KiB in containerd) into `P` (partial) pieces ended by an `F` (full) piece. Docker's
//! json-file driver writes `{"log":"<payload>\n","stream":"stdout","time":"..."}` with the payload
//! JSON-escaped; a piece whose `log` does not end in `\n` is partial. `kubectl logs` strips both.
//!
//! [`Unwrapper`] re-joins partial pieces per stream (stdout and stderr interleave) and never holds
//! more than [`MAX_PARTIAL_BYTES`] of one line.

use std::borrow::Cow;

use memchr::memchr;

use crate::format::json_fields::for_each_field;
use crate::time::rfc3339;

/// The most bytes of one line kept while waiting for its end. Real access-log lines are far
/// shorter; a longer one is dropped and reported, so a stream of partial pieces cannot grow
/// memory without bound.
pub const MAX_PARTIAL_BYTES: usize = 1 << 20;

/// How Docker's json-file driver starts every line (it writes no spaces).
const DOCKER_PREFIX: &str = "{\"log\":";

/// The wrapper a file's lines carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wrapper {
    /// Not wrapped: the lines are the proxy's own.
    None,
    /// CRI (containerd, CRI-O): `<time> <stream> <P|F> <payload>`.
    Cri,
    /// Docker json-file: `{"log":"...","stream":"...","time":"..."}`.
    Docker,
}

/// Which wrapper `line` carries: cheap enough to run on the first line of every file.
pub fn detect(line: &str) -> Wrapper {
    if line.starts_with(DOCKER_PREFIX) {
        Wrapper::Docker
    } else if matches!(cri_line(line), Some(Ok(_))) {
        Wrapper::Cri
    } else {
        Wrapper::None
    }
}

/// Whether a raw line is a CRI `P` piece or a Docker json-file piece whose `log` does not end
/// the line: input must not be cut after one, or its line would be split across chunks. Runs
/// only where a batch is cut, not per line.
pub fn is_partial(line: &[u8]) -> bool {
    let Ok(line) = std::str::from_utf8(line) else {
        return false;
    };
    if line.starts_with(DOCKER_PREFIX) {
        let mut log = None;
        let walked = for_each_field(line, |key, value| {
            if key == "log" {
                log = Some(value.raw());
            }
        });
        return walked.is_ok()
            && log
                .and_then(docker_payload)
                .is_some_and(|(_, complete)| !complete);
    }
    matches!(
        cri_line(line),
        Some(Ok(CriLine {
            complete: false,
            ..
        }))
    )
}

/// What one raw line gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unwrapped<'a> {
    /// The line carries no wrapper: parse it as it is.
    Plain(&'a str),
    /// A complete payload: borrowed from the line when it was whole in it and needed no
    /// unescaping, owned when pieces were joined or JSON escapes decoded.
    Line(Cow<'a, str>),
    /// A piece of a longer line, kept until its end arrives (or the rest of a line dropped for
    /// being too long): nothing to parse yet.
    Pending,
    /// The line is wrapped but broken, or a partial line outgrew [`MAX_PARTIAL_BYTES`].
    Malformed(&'static str),
}

/// Re-joins partial lines, one buffer per stream. Feed it every raw line of a file in order.
#[derive(Debug, Default)]
pub struct Unwrapper {
    /// Index 0 is stdout, 1 is stderr.
    partials: [Partial; 2],
}

/// The pieces of one stream's unfinished line.
#[derive(Debug, Default)]
struct Partial {
    text: String,
    /// Whether a piece arrived (a partial piece may be empty, so `text` cannot tell).
    pending: bool,
    /// Whether the current line outgrew the limit: its remaining pieces are swallowed.
    dropping: bool,
}

impl Partial {
    /// Adds a partial piece; `Some(reason)` when that makes the line too long to keep.
    fn push(&mut self, piece: &str) -> Option<&'static str> {
        if self.dropping {
            return None;
        }
        if self.text.len() + piece.len() > MAX_PARTIAL_BYTES {
            // Release the memory now, not when the line's end finally arrives.
            self.text = String::new();
            self.pending = false;
            self.dropping = true;
            return Some("partial line longer than 1 MiB dropped");
        }
        self.text.push_str(piece);
        self.pending = true;
        None
    }

    /// Ends the line with its last piece.
    fn finish<'a>(&mut self, last: Cow<'a, str>) -> Unwrapped<'a> {
        if self.dropping {
            self.dropping = false;
            return Unwrapped::Pending;
        }
        if !self.pending {
            return Unwrapped::Line(last);
        }
        self.pending = false;
        let mut text = std::mem::take(&mut self.text);
        if text.len() + last.len() > MAX_PARTIAL_BYTES {
            return Unwrapped::Malformed("partial line longer than 1 MiB dropped");
        }
        text.push_str(&last);
        Unwrapped::Line(Cow::Owned(text))
    }

    /// The unfinished line, at the end of the input.
    fn take(&mut self) -> Option<String> {
        let pending = std::mem::take(&mut self.pending);
        self.dropping = false;
        let text = std::mem::take(&mut self.text);
        pending.then_some(text)
    }
}

impl Unwrapper {
    /// An unwrapper with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Unwraps one raw line (without its newline). Each line is checked on its own, so files
    /// that mix wrapped and plain lines work; [`detect`] is for choosing per file.
    pub fn feed<'a>(&mut self, line: &'a str) -> Unwrapped<'a> {
        if line.starts_with(DOCKER_PREFIX) {
            return self.feed_docker(line);
        }
        match cri_line(line) {
            None => Unwrapped::Plain(line),
            Some(Err(reason)) => Unwrapped::Malformed(reason),
            Some(Ok(cri)) => {
                let partial = &mut self.partials[cri.stream];
                if cri.complete {
                    partial.finish(Cow::Borrowed(cri.payload))
                } else {
                    partial
                        .push(cri.payload)
                        .map_or(Unwrapped::Pending, Unwrapped::Malformed)
                }
            }
        }
    }

    /// The line left unfinished at the end of the input, if any: a partial piece whose end
    /// never came. Call until it returns `None` (each stream may have one).
    pub fn finish(&mut self) -> Option<String> {
        self.partials.iter_mut().find_map(Partial::take)
    }

    fn feed_docker<'a>(&mut self, line: &'a str) -> Unwrapped<'a> {
        let mut log = None;
        let mut stream = 0;
        let walked = for_each_field(line, |key, value| match key {
            "log" => log = Some(value.raw()),
            "stream" if value.raw() == "\"stderr\"" => stream = 1,
            _ => {}
        });
        if walked.is_err() {
            return Unwrapped::Malformed("invalid Docker json-file line");
        }
        let Some((payload, complete)) = log.and_then(docker_payload) else {
            return Unwrapped::Malformed("Docker json-file line without a log string");
        };
        let partial = &mut self.partials[stream];
        if complete {
            partial.finish(payload)
        } else {
            partial
                .push(&payload)
                .map_or(Unwrapped::Pending, Unwrapped::Malformed)
        }
    }
}

/// The parts of a CRI line.
struct CriLine<'a> {
    stream: usize,
    complete: bool,
    payload: &'a str,
}

/// `None` when the line does not start like a CRI line (time, then stream); an error when it
/// does but the tag is not `P` or `F`.
fn cri_line(line: &str) -> Option<Result<CriLine<'_>, &'static str>> {
    let (time, rest) = line.split_once(' ')?;
    rfc3339(time)?;
    let (stream, rest) = rest.split_once(' ')?;
    let stream = match stream {
        "stdout" => 0,
        "stderr" => 1,
        _ => return None,
    };
    // The payload follows the tag after exactly one space; an empty payload may have lost it.
    let (tags, payload) = rest.split_once(' ').unwrap_or((rest, ""));
    // Tags are `:`-separated; the first says whether the line is partial or full.
    let complete = match tags.split(':').next() {
        Some("F") => true,
        Some("P") => false,
        _ => return Some(Err("CRI line with an unknown tag")),
    };
    Some(Ok(CriLine {
        stream,
        complete,
        payload,
    }))
}

/// A Docker `log` string (raw JSON, quotes included) to its text and whether it ended the line.
fn docker_payload(raw: &str) -> Option<(Cow<'_, str>, bool)> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    // The common case: the only escape is the final `\n`, and the payload borrows from the line.
    match inner.strip_suffix("\\n") {
        Some(body) if memchr(b'\\', body.as_bytes()).is_none() => {
            return Some((Cow::Borrowed(body), true));
        }
        None if memchr(b'\\', inner.as_bytes()).is_none() => {
            return Some((Cow::Borrowed(inner), false));
        }
        _ => {}
    }
    let mut text: String = serde_json::from_str(raw).ok()?;
    let complete = text.ends_with('\n');
    if complete {
        text.pop();
    }
    Some((Cow::Owned(text), complete))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// crowdsecurity/hub `.tests/envoy-logs/envoy.log`, line 4: an Envoy text line under CRI.
    const CRI_ENVOY: &str = r#"2025-12-31T19:00:00.310000000+01:00 stdout F [2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80""#;
    const ENVOY: &str = r#"[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80""#;
    /// The same Envoy line as Docker's json-file driver writes it (constructed).
    const DOCKER_ENVOY: &str = r#"{"log":"[2016-04-15T20:17:00.310Z] \"POST /api/v1/locations HTTP/2\" 204 - 154 0 226 100 \"10.0.35.28\" \"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" \"locations\" \"tcp://10.0.2.1:80\"\n","stream":"stdout","time":"2016-04-15T20:17:00.312Z"}"#;
    /// A Docker line whose only escape is the final newline (constructed, ingress-nginx text).
    const DOCKER_PLAIN: &str = r#"{"log":"192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] GET\n","stream":"stdout","time":"2020-02-07T11:48:51.2Z"}"#;

    #[test]
    fn partial_pieces_are_told_from_whole_lines() {
        assert!(!is_partial(CRI_ENVOY.as_bytes()));
        assert!(is_partial(CRI_ENVOY.replacen(" F ", " P ", 1).as_bytes()));
        assert!(!is_partial(DOCKER_ENVOY.as_bytes()));
        assert!(is_partial(
            DOCKER_PLAIN.replacen("GET\\n", "GET", 1).as_bytes()
        ));
        assert!(!is_partial(ENVOY.as_bytes()));
        assert!(!is_partial(b"\xff P "));
    }

    #[test]
    fn detect_names_the_wrapper() {
        assert_eq!(detect(CRI_ENVOY), Wrapper::Cri);
        assert_eq!(detect(DOCKER_ENVOY), Wrapper::Docker);
        assert_eq!(detect(ENVOY), Wrapper::None);
        assert_eq!(
            detect(r#"{"time":"2020-02-07T11:48:51+00:00"}"#),
            Wrapper::None
        );
        assert_eq!(detect("2025-12-31T19:00:00Z something else"), Wrapper::None);
        assert_eq!(detect(""), Wrapper::None);
    }

    #[test]
    fn a_full_cri_line_borrows_its_payload() {
        let mut unwrapper = Unwrapper::new();
        match unwrapper.feed(CRI_ENVOY) {
            Unwrapped::Line(Cow::Borrowed(payload)) => assert_eq!(payload, ENVOY),
            other => panic!("{other:?}"),
        }
        assert_eq!(unwrapper.finish(), None);
    }

    #[test]
    fn plain_lines_pass_through() {
        let mut unwrapper = Unwrapper::new();
        assert_eq!(unwrapper.feed(ENVOY), Unwrapped::Plain(ENVOY));
        assert_eq!(unwrapper.feed(""), Unwrapped::Plain(""));
    }

    #[test]
    fn cri_partial_pieces_join_until_the_full_piece() {
        let mut unwrapper = Unwrapper::new();
        assert_eq!(
            unwrapper.feed("2024-01-01T00:00:00.1Z stdout P [2016-04-15T20:17:00.310Z] \"POST "),
            Unwrapped::Pending
        );
        assert_eq!(
            unwrapper.feed("2024-01-01T00:00:00.1Z stdout P /api/v1/locations"),
            Unwrapped::Pending
        );
        let rest = ENVOY
            .strip_prefix("[2016-04-15T20:17:00.310Z] \"POST /api/v1/locations")
            .unwrap();
        let last = format!("2024-01-01T00:00:00.2Z stdout F {rest}");
        match unwrapper.feed(&last) {
            Unwrapped::Line(Cow::Owned(line)) => assert_eq!(line, ENVOY),
            other => panic!("{other:?}"),
        }
        assert_eq!(unwrapper.finish(), None);
    }

    #[test]
    fn streams_are_joined_separately() {
        let mut unwrapper = Unwrapper::new();
        assert_eq!(
            unwrapper.feed("2024-01-01T00:00:00Z stdout P out-"),
            Unwrapped::Pending
        );
        assert_eq!(
            unwrapper.feed("2024-01-01T00:00:00Z stderr F err"),
            Unwrapped::Line(Cow::Borrowed("err"))
        );
        assert_eq!(
            unwrapper.feed("2024-01-01T00:00:00Z stdout F line"),
            Unwrapped::Line(Cow::Owned("out-line".to_owned()))
        );
    }

    #[test]
    fn empty_cri_payloads_are_empty_lines() {
        let mut unwrapper = Unwrapper::new();
        assert_eq!(
            unwrapper.feed("2024-01-01T00:00:00Z stdout F "),
            Unwrapped::Line(Cow::Borrowed(""))
        );
        assert_eq!(
            unwrapper.feed("2024-01-01T00:00:00Z stdout F"),
            Unwrapped::Line(Cow::Borrowed(""))
        );
    }

    #[test]
    fn cri_tags_other_than_p_and_f_are_malformed() {
        let mut unwrapper = Unwrapper::new();
        assert_eq!(
            unwrapper.feed("2024-01-01T00:00:00Z stdout X payload"),
            Unwrapped::Malformed("CRI line with an unknown tag")
        );
        assert_eq!(
            unwrapper.feed("2024-01-01T00:00:00Z stdout F:x payload"),
            Unwrapped::Line(Cow::Borrowed("payload"))
        );
    }

    #[test]
    fn docker_lines_borrow_when_only_the_newline_is_escaped() {
        let mut unwrapper = Unwrapper::new();
        assert_eq!(
            unwrapper.feed(DOCKER_PLAIN),
            Unwrapped::Line(Cow::Borrowed(
                "192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] GET"
            ))
        );
    }

    #[test]
    fn docker_lines_with_escapes_are_decoded() {
        let mut unwrapper = Unwrapper::new();
        assert_eq!(
            unwrapper.feed(DOCKER_ENVOY),
            Unwrapped::Line(Cow::Owned(ENVOY.to_owned()))
        );
    }

    #[test]
    fn docker_partial_pieces_join() {
        let mut unwrapper = Unwrapper::new();
        assert_eq!(
            unwrapper.feed(r#"{"log":"first \"half\" ","stream":"stdout","time":"t"}"#),
            Unwrapped::Pending
        );
        assert_eq!(
            unwrapper.feed(r#"{"log":"an error\n","stream":"stderr","time":"t"}"#),
            Unwrapped::Line(Cow::Borrowed("an error"))
        );
        assert_eq!(
            unwrapper.feed(r#"{"log":"second\n","stream":"stdout","time":"t"}"#),
            Unwrapped::Line(Cow::Owned("first \"half\" second".to_owned()))
        );
    }

    #[test]
    fn broken_docker_lines_are_malformed() {
        let mut unwrapper = Unwrapper::new();
        for line in [
            r#"{"log":"unterminated"#,
            r#"{"log":"\x41\n"}"#,
            r#"{"log":12}"#,
            r#"{"log":"a\n"} trailing"#,
        ] {
            assert!(
                matches!(unwrapper.feed(line), Unwrapped::Malformed(_)),
                "{line}"
            );
        }
    }

    #[test]
    fn a_partial_line_is_never_kept_beyond_the_limit() {
        let mut unwrapper = Unwrapper::new();
        let piece = "x".repeat(300 * 1024);
        let partial = format!("2024-01-01T00:00:00Z stdout P {piece}");
        for _ in 0..3 {
            assert_eq!(unwrapper.feed(&partial), Unwrapped::Pending);
        }
        assert_eq!(
            unwrapper.feed(&partial),
            Unwrapped::Malformed("partial line longer than 1 MiB dropped")
        );
        assert!(unwrapper.partials[0].text.capacity() == 0);
        // The rest of the dropped line is swallowed, and the next line is whole again.
        assert_eq!(unwrapper.feed(&partial), Unwrapped::Pending);
        assert_eq!(
            unwrapper.feed("2024-01-01T00:00:00Z stdout F tail"),
            Unwrapped::Pending
        );
        assert_eq!(
            unwrapper.feed("2024-01-01T00:00:00Z stdout F next"),
            Unwrapped::Line(Cow::Borrowed("next"))
        );
        assert_eq!(unwrapper.finish(), None);
    }

    #[test]
    fn a_full_piece_that_overflows_the_joined_line_is_malformed() {
        let mut unwrapper = Unwrapper::new();
        let piece = "x".repeat(MAX_PARTIAL_BYTES - 10);
        assert_eq!(
            unwrapper.feed(&format!("2024-01-01T00:00:00Z stdout P {piece}")),
            Unwrapped::Pending
        );
        assert_eq!(
            unwrapper.feed("2024-01-01T00:00:00Z stdout F 0123456789abcdef"),
            Unwrapped::Malformed("partial line longer than 1 MiB dropped")
        );
        assert_eq!(unwrapper.finish(), None);
    }

    #[test]
    fn finish_returns_each_streams_unfinished_line() {
        let mut unwrapper = Unwrapper::new();
        unwrapper.feed("2024-01-01T00:00:00Z stderr P err");
        unwrapper.feed("2024-01-01T00:00:00Z stdout P out");
        assert_eq!(unwrapper.finish().as_deref(), Some("out"));
        assert_eq!(unwrapper.finish().as_deref(), Some("err"));
        assert_eq!(unwrapper.finish(), None);
    }

    #[test]
    fn no_input_makes_it_panic() {
        let mut unwrapper = Unwrapper::new();
        for line in [CRI_ENVOY, DOCKER_ENVOY, DOCKER_PLAIN] {
            for (end, _) in line.char_indices() {
                let _ = unwrapper.feed(&line[..end]);
            }
            let bytes = line.as_bytes();
            for index in 0..bytes.len() {
                for replacement in [b' ', b'"', b'\\', b'{', b'P', b'F', 0xff] {
                    let mut mutated = bytes.to_vec();
                    mutated[index] = replacement;
                    let _ = unwrapper.feed(&String::from_utf8_lossy(&mutated));
                }
            }
        }
        while unwrapper.finish().is_some() {}
    }
}
