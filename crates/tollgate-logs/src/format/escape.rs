//! Undoing nginx's log escaping, for the few consumers that need the bytes a client really sent
//! (decoding a path before matching it, showing a user agent). Parsers keep fields as logged.
//!
//! With the default `escape=default`, nginx writes `"`, `\` and every byte below 0x20 or above
//! 0x7E as `\xHH`, so raw UTF-8 never appears and the decoded bytes need not be UTF-8.
//! `escape=json` writes `\"` and `\\`; both spellings are decoded here.

use std::borrow::Cow;

use memchr::memchr;

/// The bytes behind an nginx-escaped field: `\xHH` (either case of hex digit), `\"` and `\\`
/// are decoded; any other backslash is kept as logged. Borrowed when nothing needed decoding.
#[allow(
    dead_code,
    reason = "public API, re-exported from the crate root; the parsers keep fields as logged"
)]
pub fn unescape_nginx(text: &str) -> Cow<'_, [u8]> {
    let bytes = text.as_bytes();
    let mut decoded: Option<Vec<u8>> = None;
    // Everything before `copied` is already in `decoded` (when it exists).
    let mut copied = 0;
    let mut at = 0;
    while let Some(found) = memchr(b'\\', &bytes[at..]) {
        let slash = at + found;
        let (byte, len) = match bytes.get(slash + 1) {
            Some(b'x') => match (
                bytes.get(slash + 2).copied().and_then(hex_value),
                bytes.get(slash + 3).copied().and_then(hex_value),
            ) {
                (Some(high), Some(low)) => (high << 4 | low, 4),
                _ => {
                    at = slash + 1;
                    continue;
                }
            },
            Some(&quoted @ (b'"' | b'\\')) => (quoted, 2),
            _ => {
                at = slash + 1;
                continue;
            }
        };
        let out = decoded.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
        out.extend_from_slice(&bytes[copied..slash]);
        out.push(byte);
        copied = slash + len;
        at = copied;
    }
    match decoded {
        Some(mut out) => {
            out.extend_from_slice(&bytes[copied..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(bytes),
    }
}

/// The value of one ASCII hex digit.
fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_escapes_is_borrowed() {
        let decoded = unescape_nginx("/products/42?q=a+b");
        assert!(matches!(decoded, Cow::Borrowed(b"/products/42?q=a+b")));
    }

    #[test]
    fn hex_escapes_are_decoded_in_either_case() {
        assert_eq!(
            unescape_nginx(r"Mozilla \x22quoted\x22 \xc3\xA9").as_ref(),
            b"Mozilla \"quoted\" \xc3\xa9"
        );
    }

    #[test]
    fn binary_junk_decodes_to_bytes_that_are_not_utf8() {
        // A TLS ClientHello sent to a plain-HTTP port, as nginx logs its request line.
        assert_eq!(
            unescape_nginx(r"\x16\x03\x01\x00\xF4\x01").as_ref(),
            b"\x16\x03\x01\x00\xf4\x01"
        );
    }

    #[test]
    fn json_style_escapes_are_decoded() {
        assert_eq!(unescape_nginx(r#"a\"b\\c"#).as_ref(), br#"a"b\c"#);
    }

    #[test]
    fn a_backslash_that_escapes_nothing_is_kept() {
        assert!(matches!(unescape_nginx(r"C:\dir\n"), Cow::Borrowed(_)));
        assert_eq!(unescape_nginx(r"\xZZ\x4").as_ref(), br"\xZZ\x4");
        assert_eq!(unescape_nginx(r"\").as_ref(), br"\");
        assert_eq!(unescape_nginx(r"end\x41\").as_ref(), br"endA\");
    }

    #[test]
    fn an_escaped_backslash_does_not_start_another_escape() {
        assert_eq!(unescape_nginx(r"\\x41").as_ref(), br"\x41");
    }

    #[test]
    fn never_panics_on_cut_escapes() {
        let text = r"a\x4\x41\\\x22\";
        for (at, _) in text.char_indices() {
            let _ = unescape_nginx(&text[..at]);
            let _ = unescape_nginx(&text[at..]);
        }
    }
}
