//! Reading one JSON object per line without building a tree: every field is handed over as the raw
//! JSON text of its value, borrowed from the line, and decoded only if the format wants it.
//!
//! The JSON formats map many key spellings onto one record field and accept numbers written as
//! JSON numbers or as strings. Walking the object key by key with a key table does both without
//! the failure mode of serde aliases (two aliases of one field in the same line are a "duplicate
//! field" error) and without a `serde_json::Value` per line.

use std::borrow::Cow;
use std::fmt;

use memchr::memchr;
use serde::de::{self, Deserialize, Deserializer as _, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::format::Malformed;
use crate::record::split_list;

/// The raw JSON text of one value (`"text"`, `12`, `null`, `{...}`), borrowed from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JsonValue<'a>(&'a str);

impl<'a> JsonValue<'a> {
    /// The value's text: a string's content (unescaped, borrowed when it had no escapes) or a
    /// number as written. `None` for the unset spellings (`null`, `""`, `"-"`) and for booleans,
    /// arrays and objects, which no format logs a scalar field as.
    pub(crate) fn text(self) -> Option<Cow<'a, str>> {
        let raw = self.0;
        let text = match raw.as_bytes().first()? {
            b'"' => decode_string(raw)?,
            b'-' | b'0'..=b'9' => Cow::Borrowed(raw),
            _ => return None,
        };
        match text.as_ref() {
            "" | "-" => None,
            _ => Some(text),
        }
    }

    /// Whether the value is one of the unset spellings, or not a scalar: a cheap test on the raw
    /// text that decodes nothing.
    pub(crate) fn is_unset(self) -> bool {
        matches!(self.0, "null" | "\"\"" | "\"-\"" | "true" | "false")
            || self.0.starts_with('{')
            || self.0.starts_with('[')
    }

    /// A whole number written as a JSON number or as a string (`200`, `"200"`, `200.0`).
    pub(crate) fn u64(self) -> Option<u64> {
        let text = self.text()?;
        let text = text.trim();
        if let Ok(value) = text.parse::<u64>() {
            return Some(value);
        }
        // Some shippers rewrite integers as floats; accept them when they are whole.
        let value = text.parse::<f64>().ok()?;
        (value.fract() == 0.0 && (0.0..1.8e19).contains(&value)).then_some(value as u64)
    }

    /// An HTTP status (`0`..=`999`, Envoy's `0` included) as a number or a string.
    pub(crate) fn status(self) -> Option<u16> {
        self.u64()
            .filter(|status| *status < 1000)
            .and_then(|status| u16::try_from(status).ok())
    }

    /// A non-negative number as a JSON number, a string, or a list as nginx writes retried
    /// upstreams (`"0.001, 0.002"`): the list's items are added up, the time spent on all tries.
    pub(crate) fn f64(self) -> Option<f64> {
        number_or_list_sum(&self.text()?)
    }

    /// The raw JSON text, as in the line.
    pub(crate) fn raw(self) -> &'a str {
        self.0
    }

    /// The object's raw text, when the value is an object.
    pub(crate) fn object(self) -> Option<&'a str> {
        self.0.starts_with('{').then_some(self.0)
    }
}

/// A non-negative finite number, or the sum of a `", "`-separated list of them.
pub(crate) fn number_or_list_sum(text: &str) -> Option<f64> {
    let single = |item: &str| {
        item.trim()
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite() && *value >= 0.0)
    };
    if let Some(value) = single(text) {
        return Some(value);
    }
    let mut total = 0.0;
    let mut items = 0;
    for item in split_list(text) {
        total += single(item)?;
        items += 1;
    }
    (items > 0).then_some(total)
}

/// A JSON string literal (quotes included) to its content; borrowed unless it has escapes.
pub(crate) fn decode_string(raw: &str) -> Option<Cow<'_, str>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if memchr(b'\\', inner.as_bytes()).is_none() {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
}

/// Calls `visit` with every key and raw value of the JSON object `json`, in order. Fails when
/// `json` is not exactly one valid JSON object (trailing whitespace allowed).
pub(crate) fn for_each_field<'a, F>(json: &'a str, visit: F) -> Result<(), Malformed>
where
    F: FnMut(&str, JsonValue<'a>),
{
    let mut deserializer = serde_json::Deserializer::from_str(json);
    deserializer
        .deserialize_map(FieldVisitor(visit))
        .map_err(|_| Malformed::new("not a valid JSON object"))?;
    deserializer
        .end()
        .map_err(|_| Malformed::new("text after the JSON object"))
}

struct FieldVisitor<F>(F);

impl<'de, F> Visitor<'de> for FieldVisitor<F>
where
    F: FnMut(&str, JsonValue<'de>),
{
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A>(mut self, mut map: A) -> Result<(), A::Error>
    where
        A: MapAccess<'de>,
    {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let value: &'de RawValue = map.next_value()?;
            (self.0)(&key, JsonValue(value.get()));
        }
        Ok(())
    }
}

/// An object key, borrowed unless it had escapes (serde's own `Cow<str>` always copies).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: de::Deserializer<'de>,
    {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a string key")
            }

            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: &str) -> Result<Vec<(String, JsonValue<'_>)>, Malformed> {
        let mut seen = Vec::new();
        for_each_field(json, |key, value| seen.push((key.to_owned(), value)))?;
        Ok(seen)
    }

    #[test]
    fn fields_come_in_order_with_their_raw_text() {
        let seen = fields(r#"{"a": "x", "b" : 12, "c":null, "d":{"e":[1,2]}} "#).unwrap();
        let raw: Vec<_> = seen
            .iter()
            .map(|(key, value)| (key.as_str(), value.0))
            .collect();
        assert_eq!(
            raw,
            [
                ("a", "\"x\""),
                ("b", "12"),
                ("c", "null"),
                ("d", r#"{"e":[1,2]}"#)
            ]
        );
    }

    #[test]
    fn escaped_keys_are_decoded() {
        let seen = fields(r#"{"user\u002dagent":"curl"}"#).unwrap();
        assert_eq!(seen[0].0, "user-agent");
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        assert!(matches!(
            JsonValue("\"/a b\"").text(),
            Some(Cow::Borrowed("/a b"))
        ));
        assert_eq!(
            JsonValue(r#""a\"b\u0026c""#).text(),
            Some(Cow::Owned::<str>("a\"b&c".to_owned()))
        );
    }

    #[test]
    fn unset_spellings_are_none() {
        for raw in ["null", "\"\"", "\"-\"", "true", "[1]", "{}"] {
            assert_eq!(JsonValue(raw).text(), None, "{raw}");
            assert!(JsonValue(raw).is_unset(), "{raw}");
        }
        assert!(!JsonValue("0").is_unset());
    }

    #[test]
    fn numbers_are_read_from_numbers_and_strings() {
        assert_eq!(JsonValue("200").status(), Some(200));
        assert_eq!(JsonValue("\"200\"").status(), Some(200));
        assert_eq!(JsonValue("0").status(), Some(0));
        assert_eq!(JsonValue("1000").status(), None);
        assert_eq!(JsonValue("\"x\"").status(), None);
        assert_eq!(JsonValue("312.0").u64(), Some(312));
        assert_eq!(JsonValue("-1").u64(), None);
        assert_eq!(JsonValue("0.001").f64(), Some(0.001));
        assert_eq!(JsonValue("\"0.25\"").f64(), Some(0.25));
        assert_eq!(JsonValue("\"0.5, 1.25 : 0.25\"").f64(), Some(2.0));
        assert_eq!(JsonValue("\"0.5, -\"").f64(), None);
        assert_eq!(JsonValue("-1").f64(), None);
    }

    #[test]
    fn anything_but_one_object_is_malformed() {
        for json in [
            "",
            "[]",
            "12",
            "\"x\"",
            "{",
            r#"{"a":1"#,
            r#"{"a":1} {"b":2}"#,
            r#"{"a":"\x22"}"#,
            r#"{"a":-}"#,
            "{1:2}",
        ] {
            assert!(fields(json).is_err(), "{json}");
        }
        assert_eq!(fields("{}").unwrap().len(), 0);
    }
}
