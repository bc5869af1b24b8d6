//! Changes to watched objects: the normalized form a version is stored in, the JSON Patch between
//! two versions, the YAML a stored version is printed as, and the risk of a change (the rules it
//! newly violates or fixes).
//!
//! Normalization removes what the API server writes on its own (status, resource versions,
//! managed fields, bookkeeping annotations) so that a diff shows only what someone changed, and
//! it removes every Secret value: a stored Secret keeps its metadata, its type, the names of its
//! keys and, when `tls.crt` holds a certificate, that certificate's public facts. Unlike Argo
//! CD's diff, which compares only the fields the desired state owns, nothing a person *added* is
//! dropped: a hand-added `configuration-snippet` annotation is a change like any other.
//!
//! # The normalized form
//! - `status` is dropped, and so are `metadata.managedFields`, `resourceVersion`, `generation`,
//!   `uid`, `creationTimestamp`, `selfLink`, `deletionTimestamp` and
//!   `deletionGracePeriodSeconds`. The last two are the server's record of a pending deletion,
//!   which history records as its own `deleted` event; kept, they would make a stored version
//!   unfit for `kubectl apply`.
//! - The annotations in [`DROPPED_ANNOTATIONS`] are dropped; `annotations` and `labels` maps
//!   left empty are dropped too.
//! - Ingress `spec.rules` are sorted by `host` and `spec.tls` by `secretName` (stable sorts; the
//!   paths inside a rule keep their order, which decides routing for some controllers).
//! - A Secret keeps `apiVersion`, `kind`, `metadata`, `type` and `immutable`. `data` and
//!   `stringData` are replaced by `dataKeys` (the sorted key names of both, omitted when there
//!   are none) and, when `tls.crt` holds a readable certificate, `certificate`: `sha256` (the
//!   leaf's DER fingerprint as `openssl x509 -fingerprint -sha256` prints it), `notAfter`
//!   (RFC 3339), `subjectCN`, `issuerCN` (each omitted when the certificate has none) and
//!   `dnsNames`. A value that changes while its key name stays is therefore not visible in a
//!   diff; hashing values would make weak secrets guessable, so that is the price.
//! - Map keys are sorted at every level, so the same object always serializes to the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use k8s_openapi::ByteString;
use serde::Serialize;
use serde_json::{Map, Value, json};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::config::Config;
use crate::engine::{self, RunOptions};
use crate::inventory::{Inventory, Scope};
use crate::object::{Kind, Object};
use crate::yaml::escape_segment;

/// The kinds whose changes Tollgate records: what routes traffic (Ingresses and their classes,
/// the Gateway API's classes, Gateways, routes and reference grants), what stands in front of
/// the backends (NetworkPolicies, Envoy Gateway's and Istio's access policies), the backends'
/// Services and TLS Secrets, who may change them (RBAC), and the guards (webhooks, the controller
/// ConfigMap). The Gateway API and policy kinds are add-ons: where they are not installed there
/// is simply nothing of them to record.
pub const TRACKED_KINDS: [Kind; 22] = [
    Kind::Ingress,
    Kind::IngressClass,
    Kind::Service,
    Kind::Secret,
    Kind::NetworkPolicy,
    Kind::Role,
    Kind::ClusterRole,
    Kind::RoleBinding,
    Kind::ClusterRoleBinding,
    Kind::ValidatingWebhookConfiguration,
    Kind::ConfigMap,
    Kind::GatewayClass,
    Kind::Gateway,
    Kind::HTTPRoute,
    Kind::GRPCRoute,
    Kind::TLSRoute,
    Kind::TCPRoute,
    Kind::ReferenceGrant,
    Kind::SecurityPolicy,
    Kind::BackendTrafficPolicy,
    Kind::AuthorizationPolicy,
    Kind::RequestAuthentication,
];

/// `metadata` fields the API server maintains; none of them is a decision anyone made.
const DROPPED_METADATA: [&str; 8] = [
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Annotations written by tools as bookkeeping. The last-applied configuration repeats the
/// object (a Secret's data included) and would double every diff.
pub const DROPPED_ANNOTATIONS: [&str; 3] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "argocd.argoproj.io/tracking-id",
];

/// The tracked kind of a raw object, from its `apiVersion` and `kind`; `None` for any other.
#[must_use]
pub fn tracked_kind(object: &Value) -> Option<Kind> {
    let api_version = object.get("apiVersion")?.as_str()?;
    let kind = object.get("kind")?.as_str()?;
    Kind::from_type(api_version, kind).filter(|k| TRACKED_KINDS.contains(k))
}

/// The normalized form of an object (see the module documentation), or `None` when it is not of
/// a tracked kind. Normalizing a normalized object changes nothing.
#[must_use]
pub fn normalize(object: &Value) -> Option<Value> {
    let kind = tracked_kind(object)?;
    let source = object.as_object()?;
    let mut out = if kind == Kind::Secret {
        normalize_secret(source)
    } else {
        let mut out = source.clone();
        out.remove("status");
        out
    };
    if let Some(metadata) = out.get_mut("metadata").and_then(Value::as_object_mut) {
        normalize_metadata(metadata);
    }
    if kind == Kind::Ingress
        && let Some(spec) = out.get_mut("spec").and_then(Value::as_object_mut)
    {
        sort_array_by(spec, "rules", "host");
        sort_array_by(spec, "tls", "secretName");
    }
    Some(sorted_keys(Value::Object(out)))
}

fn normalize_metadata(metadata: &mut Map<String, Value>) {
    for field in DROPPED_METADATA {
        metadata.remove(field);
    }
    if let Some(annotations) = metadata
        .get_mut("annotations")
        .and_then(Value::as_object_mut)
    {
        for key in DROPPED_ANNOTATIONS {
            annotations.remove(key);
        }
    }
    for field in ["annotations", "labels"] {
        let empty = metadata
            .get(field)
            .is_some_and(|v| v.is_null() || v.as_object().is_some_and(Map::is_empty));
        if empty {
            metadata.remove(field);
        }
    }
}

/// Sorts `spec[field]`, an array of objects, by each object's string `key` (absent sorts first).
fn sort_array_by(spec: &mut Map<String, Value>, field: &str, key: &str) {
    if let Some(items) = spec.get_mut(field).and_then(Value::as_array_mut) {
        items.sort_by(|a, b| {
            let a = a.get(key).and_then(Value::as_str).unwrap_or("");
            let b = b.get(key).and_then(Value::as_str).unwrap_or("");
            a.cmp(b)
        });
    }
}

/// A Secret without its values: see the module documentation for the shape.
fn normalize_secret(source: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for field in ["apiVersion", "kind", "metadata", "type", "immutable"] {
        if let Some(v) = source.get(field) {
            out.insert(field.to_owned(), v.clone());
        }
    }
    let mut keys = BTreeSet::new();
    let mut tls_crt: Option<Vec<u8>> = None;
    // `stringData` comes second so that it wins over `data`, as the API server merges them.
    for field in ["data", "stringData"] {
        let Some(entries) = source.get(field).and_then(Value::as_object) else {
            continue;
        };
        for (key, value) in entries {
            keys.insert(key.clone());
            if key != "tls.crt" {
                continue;
            }
            let bytes = match (field, value) {
                ("data", Value::String(_)) => serde_json::from_value::<ByteString>(value.clone())
                    .ok()
                    .map(|b| b.0),
                ("stringData", Value::String(s)) => Some(s.as_bytes().to_vec()),
                _ => None,
            };
            if bytes.is_some() {
                tls_crt = bytes;
            }
        }
    }
    // A normalized Secret passes through unchanged: its summary fields are already values-free.
    if keys.is_empty()
        && let Some(Value::Array(names)) = source.get("dataKeys")
    {
        keys.extend(names.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    if !keys.is_empty() {
        out.insert(
            "dataKeys".to_owned(),
            Value::Array(keys.into_iter().map(Value::String).collect()),
        );
    }
    let certificate = match tls_crt {
        Some(pem) => certificate_summary(&pem),
        None => source.get("certificate").filter(|c| c.is_object()).cloned(),
    };
    if let Some(certificate) = certificate {
        out.insert("certificate".to_owned(), certificate);
    }
    out
}

/// The public facts of the first certificate of a PEM `tls.crt`, or `None` when there is none.
fn certificate_summary(pem: &[u8]) -> Option<Value> {
    let der = x509_parser::pem::Pem::iter_from_buffer(pem)
        .map_while(Result::ok)
        .find(|block| block.label == "CERTIFICATE")?
        .contents;
    let described = crate::cert::describe_der(&der)?;
    let (_, parsed) = X509Certificate::from_der(&der).ok()?;
    let issuer_cn = parsed
        .issuer()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned);
    let mut summary = Map::new();
    summary.insert("sha256".into(), Value::String(described.sha256));
    summary.insert(
        "notAfter".into(),
        Value::String(described.not_after.to_string()),
    );
    if let Some(cn) = described.common_name {
        summary.insert("subjectCN".into(), Value::String(cn));
    }
    if let Some(cn) = issuer_cn {
        summary.insert("issuerCN".into(), Value::String(cn));
    }
    summary.insert(
        "dnsNames".into(),
        Value::Array(described.dns_names.into_iter().map(Value::String).collect()),
    );
    Some(Value::Object(summary))
}

/// Rebuilds every map with its keys in sorted order. Without serde_json's `preserve_order` maps
/// are sorted already; with it (another crate of the build may switch it on) they keep insertion
/// order, and this makes the output the same either way.
fn sorted_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted_keys).collect()),
        other => other,
    }
}

/// The RFC 6902 JSON Patch that turns `before` into `after`.
///
/// Objects are compared key by key (keys in sorted order); arrays element by element over their
/// common length, then elements are added at the end or removed from the highest index down.
/// A creation is one `add` of the whole object at `""`, a deletion one `remove` of `""`, and
/// equal versions give `[]`.
#[must_use]
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> Value {
    let mut ops = Vec::new();
    match (before, after) {
        (None, None) => {}
        (None, Some(after)) => ops.push(json!({"op": "add", "path": "", "value": after})),
        (Some(_), None) => ops.push(json!({"op": "remove", "path": ""})),
        (Some(before), Some(after)) => diff_values(before, after, &mut String::new(), &mut ops),
    }
    Value::Array(ops)
}

fn diff_values(before: &Value, after: &Value, path: &mut String, ops: &mut Vec<Value>) {
    let len = path.len();
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut removed: Vec<&String> = b.keys().filter(|k| !a.contains_key(*k)).collect();
            removed.sort();
            for key in removed {
                push_segment(path, key);
                ops.push(json!({"op": "remove", "path": path}));
                path.truncate(len);
            }
            let mut keys: Vec<&String> = a.keys().collect();
            keys.sort();
            for key in keys {
                push_segment(path, key);
                match (b.get(key), a.get(key)) {
                    (Some(old), Some(new)) => diff_values(old, new, path, ops),
                    (None, Some(new)) => ops.push(json!({"op": "add", "path": path, "value": new})),
                    _ => {}
                }
                path.truncate(len);
            }
        }
        (Value::Array(b), Value::Array(a)) => {
            for (i, (old, new)) in b.iter().zip(a).enumerate() {
                push_index(path, i);
                diff_values(old, new, path, ops);
                path.truncate(len);
            }
            for (i, new) in a.iter().enumerate().skip(b.len()) {
                push_index(path, i);
                ops.push(json!({"op": "add", "path": path, "value": new}));
                path.truncate(len);
            }
            for i in (a.len()..b.len()).rev() {
                push_index(path, i);
                ops.push(json!({"op": "remove", "path": path}));
                path.truncate(len);
            }
        }
        _ if before == after => {}
        _ => ops.push(json!({"op": "replace", "path": path, "value": after})),
    }
}

fn push_segment(path: &mut String, key: &str) {
    path.push('/');
    path.push_str(&escape_segment(key));
}

fn push_index(path: &mut String, index: usize) {
    path.push('/');
    path.push_str(&index.to_string());
}

/// Applies an RFC 6902 JSON Patch (`add`, `remove`, `replace` and `test`) to a document, where
/// `None` is "no object" (before a creation, after a deletion), as in [`diff`].
///
/// # Errors
/// A malformed patch, an unsupported operation, a path that does not exist, or a failed `test`,
/// naming the operation's index.
pub fn apply_patch(doc: Option<&Value>, patch: &Value) -> Result<Option<Value>, String> {
    let ops = patch
        .as_array()
        .ok_or("a JSON Patch must be an array of operations")?;
    let mut doc = doc.cloned();
    for (i, op) in ops.iter().enumerate() {
        apply_operation(&mut doc, op).map_err(|e| format!("operation {i}: {e}"))?;
    }
    Ok(doc)
}

fn apply_operation(doc: &mut Option<Value>, op: &Value) -> Result<(), String> {
    let name = op
        .get("op")
        .and_then(Value::as_str)
        .ok_or("`op` is missing")?;
    let path = op
        .get("path")
        .and_then(Value::as_str)
        .ok_or("`path` is missing")?;
    let value = || {
        op.get("value")
            .cloned()
            .ok_or_else(|| format!("`{name}` needs a `value`"))
    };
    if !matches!(name, "add" | "remove" | "replace" | "test") {
        return Err(format!("unsupported operation `{name}`"));
    }
    let segments = parse_pointer(path)?;
    let Some((last, parents)) = segments.split_last() else {
        // The whole document.
        match name {
            "add" => *doc = Some(value()?),
            "replace" | "remove" if doc.is_none() => return Err("there is no document".into()),
            "replace" => *doc = Some(value()?),
            "remove" => *doc = None,
            _ if doc.as_ref() == Some(&value()?) => {}
            _ => return Err("test failed at ``".into()),
        }
        return Ok(());
    };
    let missing = || format!("`{path}` does not exist");
    let mut parent = doc.as_mut().ok_or("there is no document")?;
    for segment in parents {
        parent = match parent {
            Value::Object(map) => map.get_mut(segment.as_str()).ok_or_else(missing)?,
            Value::Array(items) => items.get_mut(parse_index(segment)?).ok_or_else(missing)?,
            _ => return Err(missing()),
        };
    }
    match parent {
        Value::Object(map) => match name {
            "add" => {
                map.insert(last.clone(), value()?);
            }
            "replace" if map.contains_key(last.as_str()) => {
                map.insert(last.clone(), value()?);
            }
            "remove" if map.remove(last.as_str()).is_some() => {}
            "test" if map.get(last.as_str()) == Some(&value()?) => {}
            "test" => return Err(format!("test failed at `{path}`")),
            _ => return Err(missing()),
        },
        Value::Array(items) => {
            let index = if name == "add" && last == "-" {
                items.len()
            } else {
                parse_index(last)?
            };
            match name {
                "add" if index <= items.len() => items.insert(index, value()?),
                "replace" if index < items.len() => {
                    if let Some(slot) = items.get_mut(index) {
                        *slot = value()?;
                    }
                }
                "remove" if index < items.len() => {
                    items.remove(index);
                }
                "test" if items.get(index) == Some(&value()?) => {}
                "test" => return Err(format!("test failed at `{path}`")),
                _ => return Err(missing()),
            }
        }
        _ => return Err(missing()),
    }
    Ok(())
}

/// Splits an RFC 6901 pointer into unescaped segments (`""` is the whole document).
fn parse_pointer(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let rest = pointer
        .strip_prefix('/')
        .ok_or_else(|| format!("`{pointer}` is not a JSON pointer"))?;
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
}

/// An array index as RFC 6901 spells it: digits, no leading zero.
fn parse_index(segment: &str) -> Result<usize, String> {
    let valid = !segment.is_empty()
        && segment.bytes().all(|b| b.is_ascii_digit())
        && (segment == "0" || !segment.starts_with('0'));
    valid
        .then(|| segment.parse::<usize>().ok())
        .flatten()
        .ok_or_else(|| format!("`{segment}` is not an array index"))
}

/// Deterministic block-style YAML for a JSON value.
///
/// At the top level `apiVersion`, `kind`, `metadata` and `spec` come first, and in `metadata`
/// `name` and `namespace`; every other key is in sorted order. Strings are written plain only
/// when no YAML reader (YAML 1.2, or the YAML 1.1 that `kubectl` uses) can take them for
/// anything else; multi-line text is written as a `|` block, and everything else
/// double-quoted with escapes.
#[must_use]
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => {
            write_map(map, 0, KeyOrder::Root, false, &mut out);
        }
        Value::Array(items) if !items.is_empty() => write_seq(items, 0, false, &mut out),
        scalar => write_scalar_line(scalar, 2, &mut out),
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyOrder {
    /// The object itself: the Kubernetes fields first.
    Root,
    /// `metadata`: name and namespace first.
    Metadata,
    /// Anything else.
    Sorted,
}

fn ordered_keys(map: &Map<String, Value>, order: KeyOrder) -> Vec<&String> {
    let first: &[&str] = match order {
        KeyOrder::Root => &["apiVersion", "kind", "metadata", "spec"],
        KeyOrder::Metadata => &["name", "namespace"],
        KeyOrder::Sorted => &[],
    };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| {
        (
            first.iter().position(|f| f == k).unwrap_or(first.len()),
            k.as_str(),
        )
    });
    keys
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Writes a non-empty map's entries at `indent`; with `inline_first` the first entry follows a
/// `- ` already written.
fn write_map(
    map: &Map<String, Value>,
    indent: usize,
    order: KeyOrder,
    inline_first: bool,
    out: &mut String,
) {
    for (i, key) in ordered_keys(map, order).into_iter().enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        write_string(key, out);
        out.push(':');
        let child_order = if order == KeyOrder::Root && key == "metadata" {
            KeyOrder::Metadata
        } else {
            KeyOrder::Sorted
        };
        match map.get(key.as_str()) {
            Some(Value::Object(child)) if !child.is_empty() => {
                out.push('\n');
                write_map(child, indent + 2, child_order, false, out);
            }
            // Sequences sit at their key's indentation, as kubectl writes them.
            Some(Value::Array(items)) if !items.is_empty() => {
                out.push('\n');
                write_seq(items, indent, false, out);
            }
            Some(scalar) => {
                out.push(' ');
                write_scalar_line(scalar, indent + 2, out);
            }
            None => out.push('\n'),
        }
    }
}

/// Writes a non-empty sequence's items at `indent`.
fn write_seq(items: &[Value], indent: usize, inline_first: bool, out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(map) if !map.is_empty() => {
                write_map(map, indent + 2, KeyOrder::Sorted, true, out);
            }
            Value::Array(inner) if !inner.is_empty() => write_seq(inner, indent + 2, true, out),
            scalar => write_scalar_line(scalar, indent + 2, out),
        }
    }
}

/// Writes a scalar (or an empty collection) and the line break after it; a block of text is
/// indented to `block_indent`.
fn write_scalar_line(value: &Value, block_indent: usize, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) if !plain_fits(s) && literal_fits(s) => {
            // The block writes its own line breaks.
            write_literal(s, block_indent, out);
            return;
        }
        Value::String(s) => write_string(s, out),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
    out.push('\n');
}

/// Writes a string on one line: plain when that is unambiguous, double-quoted otherwise.
fn write_string(s: &str, out: &mut String) {
    if plain_fits(s) {
        out.push_str(s);
    } else {
        write_double_quoted(s, out);
    }
}

/// Whether `s` reads back as the same string when written plain, under YAML 1.2 and 1.1 alike.
/// Deliberately narrow: anything starting with a digit or a sign is quoted (numbers, octal,
/// sexagesimal `1:20`), and so is every word a YAML 1.1 reader takes for a boolean or null.
fn plain_fits(s: &str) -> bool {
    let Some(&first) = s.as_bytes().first() else {
        return false;
    };
    const RESERVED: [&str; 11] = [
        "null", "true", "false", "yes", "no", "on", "off", "y", "n", "~", "nan",
    ];
    (first.is_ascii_alphabetic() || first == b'/' || first == b'_')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" ._/-:=+,()*^$%?;<>!@&'~".contains(&b))
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !RESERVED.iter().any(|r| s.eq_ignore_ascii_case(r))
}

/// Whether `s` can be a `|` block: it has a line break, nothing that needs an escape, and a
/// first line that starts with neither white space nor a break (the block's indentation is
/// detected from it).
fn literal_fits(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n', '\t'])
        && !s
            .chars()
            .any(|c| c != '\n' && (c == '\t' || needs_escape(c)))
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

fn write_literal(s: &str, indent: usize, out: &mut String) {
    let body = s.trim_end_matches('\n');
    let trailing_breaks = s.len() - body.len();
    out.push_str(match trailing_breaks {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    out.push('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    out.extend(std::iter::repeat_n('\n', trailing_breaks.saturating_sub(1)));
}

fn write_double_quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if needs_escape(c) => {
                let code = u32::from(c);
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02x}"));
                } else {
                    out.push_str(&format!("\\u{code:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The applyable YAML (`kubectl apply -f`) of a stored, normalized version.
///
/// # Errors
/// For a Secret, whose values are never stored, so no version of it can be re-applied.
pub fn manifest(normalized: &Value) -> Result<String, String> {
    if tracked_kind(normalized) == Some(Kind::Secret) {
        let name = normalized
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        return Err(format!(
            "Secret data is never stored; only the key names and certificate facts of Secret \
             `{name}` are kept, so it cannot be printed as a manifest to apply"
        ));
    }
    Ok(to_yaml(normalized))
}

/// A unified diff (`--- before`, `+++ after`, `@@` hunks with `context` lines around each
/// change) of the YAML of two versions; empty when they are equal. `None` is "no object" and
/// renders as no lines.
#[must_use]
pub fn yaml_diff(before: Option<&Value>, after: Option<&Value>, context: usize) -> String {
    let old = before.map(to_yaml).unwrap_or_default();
    let new = after.map(to_yaml).unwrap_or_default();
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(context)
        .header("before", "after")
        .to_string()
}

/// What a change does to the findings: the rules it newly violates and the rules it fixes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChangeRisk {
    /// Names of rules with more findings after the change than before, sorted, each once.
    pub introduced: Vec<String>,
    /// Names of rules with fewer findings after the change than before, sorted, each once.
    pub fixed: Vec<String>,
}

impl ChangeRisk {
    /// Whether the change neither introduces nor fixes anything.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.introduced.is_empty() && self.fixed.is_empty()
    }
}

/// The risk of changing one object from `before` to `after` (`None` for a creation or a
/// deletion) among the `context` objects.
///
/// Every enabled rule runs over `context + before` and over `context + after`, and the findings
/// in force (suppressed ones do not count) are counted per rule and object. A rule is
/// *introduced* when its count grew for some object and *fixed* when it shrank, so a change can
/// both fix a rule on one object and introduce it on another.
///
/// The objects are treated as a complete listing of the kinds in `present` (together with the
/// kinds of the objects given): an object absent from them does not exist. Rules that need a
/// kind outside that set are skipped, so that an unwatched kind is never taken for an empty one.
/// Context objects with the changed object's identity are left out, so passing the whole
/// current state as context is fine.
#[must_use]
pub fn risk(
    context: &[Object],
    before: Option<&Object>,
    after: Option<&Object>,
    present: &BTreeSet<Kind>,
    config: &Config,
    now: Timestamp,
) -> ChangeRisk {
    let changed: Vec<(Kind, &str, &str)> = before
        .iter()
        .chain(after.iter())
        .map(|o| identity(o))
        .collect();
    let others: Vec<Object> = context
        .iter()
        .filter(|o| !changed.contains(&identity(o)))
        .map(detached)
        .collect();
    let mut present = present.clone();
    present.extend(context.iter().chain(before).chain(after).map(|o| o.kind));
    let old = finding_counts(others.clone(), before, &present, true, config, now);
    let new = finding_counts(others, after, &present, true, config, now);
    compare(&old, &new)
}

/// The risk of changing one object from `before` to `after` known only from itself (an audit
/// event's object, with no listing of its neighbours). Rules that need other kinds are skipped
/// rather than taking them for absent (an Ingress's Service may well exist); an RBAC object is
/// judged with the RBAC kinds as a partial view, so a binding to one of Kubernetes' default roles
/// resolves to that role as Kubernetes ships it.
#[must_use]
pub fn risk_alone(
    before: Option<&Object>,
    after: Option<&Object>,
    config: &Config,
    now: Timestamp,
) -> ChangeRisk {
    const RBAC: [Kind; 4] = [
        Kind::Role,
        Kind::ClusterRole,
        Kind::RoleBinding,
        Kind::ClusterRoleBinding,
    ];
    let mut present: BTreeSet<Kind> = before.iter().chain(after.iter()).map(|o| o.kind).collect();
    if present.iter().any(|kind| RBAC.contains(kind)) {
        present.extend(RBAC);
    }
    let old = finding_counts(Vec::new(), before, &present, false, config, now);
    let new = finding_counts(Vec::new(), after, &present, false, config, now);
    compare(&old, &new)
}

/// Rules whose finding count grew (introduced) or shrank (fixed) for some object.
fn compare(old: &BTreeMap<FindingKey, usize>, new: &BTreeMap<FindingKey, usize>) -> ChangeRisk {
    let mut introduced = BTreeSet::new();
    let mut fixed = BTreeSet::new();
    for key in old.keys().chain(new.keys()) {
        let was = old.get(key).copied().unwrap_or(0);
        let is = new.get(key).copied().unwrap_or(0);
        if is > was {
            introduced.insert(key.0.to_owned());
        } else if is < was {
            fixed.insert(key.0.to_owned());
        }
    }
    ChangeRisk {
        introduced: introduced.into_iter().collect(),
        fixed: fixed.into_iter().collect(),
    }
}

fn identity(object: &Object) -> (Kind, &str, &str) {
    (object.kind, object.ns(), &object.name)
}

/// A copy without its file position: the inventories built here have no source files, and the
/// engine would look the position up in them.
fn detached(object: &Object) -> Object {
    let mut copy = object.clone();
    copy.origin = None;
    copy
}

type FindingKey = (&'static str, Kind, String, String);

fn finding_counts(
    mut objects: Vec<Object>,
    changed: Option<&Object>,
    present: &BTreeSet<Kind>,
    complete: bool,
    config: &Config,
    now: Timestamp,
) -> BTreeMap<FindingKey, usize> {
    objects.extend(changed.map(detached));
    let scope = Scope {
        present: present.clone(),
        denied: Kind::ALL
            .into_iter()
            .filter(|k| !present.contains(k))
            .map(|k| (k, "not watched".to_owned()))
            .collect(),
        complete,
        namespace: None,
    };
    let inventory = Inventory::build(objects, Vec::new(), Some(scope));
    let outcome = engine::run(
        &inventory,
        &RunOptions {
            config,
            select: &[],
            ignore: &[],
            now,
        },
    );
    let mut counts = BTreeMap::new();
    for finding in outcome.findings {
        let Some(object) = inventory.objects.get(finding.object) else {
            continue;
        };
        let key = (
            finding.rule.name,
            object.kind,
            object.ns().to_owned(),
            object.name.clone(),
        );
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{DocumentText, parse_document};

    const GOOD_CRT: &str = include_str!("../tests/fixtures/certs/good.crt");

    fn parse_yaml(text: &str) -> Value {
        parse_document(DocumentText {
            text,
            first_line: 1,
            offset: 0,
        })
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .unwrap_or_else(|| panic!("no document in\n{text}"))
    }

    fn ingress() -> Value {
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "shop", "namespace": "shop"},
            "spec": {
                "ingressClassName": "nginx",
                "tls": [{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
                "rules": [{"host": "shop.example.com", "http": {"paths": [
                    {"path": "/", "pathType": "Prefix",
                     "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]
            }
        })
    }

    #[test]
    fn normalize_drops_server_fields_and_bookkeeping_annotations() {
        let raw = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {
                "name": "web", "namespace": "shop", "uid": "0b1c", "resourceVersion": "42",
                "generation": 3, "creationTimestamp": "2026-01-01T00:00:00Z", "selfLink": "/x",
                "deletionTimestamp": "2026-02-01T00:00:00Z", "deletionGracePeriodSeconds": 30,
                "managedFields": [{"manager": "kubectl-edit"}],
                "labels": {},
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": "{}",
                    "deployment.kubernetes.io/revision": "4",
                    "argocd.argoproj.io/tracking-id": "shop:/Service:shop/web",
                    "team": "shop"
                },
                "finalizers": ["example.com/keep"]
            },
            "spec": {"ports": [{"port": 80}]},
            "status": {"loadBalancer": {}}
        });
        assert_eq!(
            normalize(&raw),
            Some(json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "shop",
                             "annotations": {"team": "shop"},
                             "finalizers": ["example.com/keep"]},
                "spec": {"ports": [{"port": 80}]}
            }))
        );
        // An annotations map left empty goes too.
        let only_bookkeeping = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "annotations": {"deployment.kubernetes.io/revision": "1"}},
            "data": {"key": "value"}});
        assert_eq!(
            normalize(&only_bookkeeping),
            Some(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                        "data": {"key": "value"}})
            )
        );
    }

    #[test]
    fn normalize_ignores_untracked_kinds() {
        for raw in [
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}}),
            json!({"apiVersion": "example.com/v1", "kind": "Service", "metadata": {"name": "x"}}),
            json!({"kind": "Service"}),
            json!("Service"),
        ] {
            assert_eq!(normalize(&raw), None, "{raw}");
        }
        assert!(normalize(&ingress()).is_some());
    }

    #[test]
    fn normalize_sorts_ingress_rules_and_tls_but_not_paths() {
        let raw = json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
            "spec": {
                "tls": [{"secretName": "b"}, {"secretName": "a"}],
                "rules": [
                    {"host": "z.example.com", "http": {"paths": [{"path": "/z"}, {"path": "/a"}]}},
                    {"http": {"paths": [{"path": "/"}]}},
                    {"host": "a.example.com"}
                ]
            }
        });
        let n = normalize(&raw).unwrap();
        assert_eq!(
            n["spec"]["tls"],
            json!([{"secretName": "a"}, {"secretName": "b"}])
        );
        assert_eq!(
            n["spec"]["rules"],
            json!([
                {"http": {"paths": [{"path": "/"}]}},
                {"host": "a.example.com"},
                {"host": "z.example.com", "http": {"paths": [{"path": "/z"}, {"path": "/a"}]}}
            ])
        );
    }

    #[test]
    fn normalized_secrets_keep_key_names_and_certificate_facts_only() {
        let data_crt = serde_json::to_value(ByteString(GOOD_CRT.as_bytes().to_vec())).unwrap();
        let raw = json!({
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls", "immutable": true,
            "metadata": {"name": "shop-tls", "namespace": "shop", "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration":
                    "{\"data\":{\"tls.key\":\"c3VwZXItc2VjcmV0\"}}"}},
            "data": {"tls.crt": data_crt, "tls.key": "c3VwZXItc2VjcmV0"},
            "stringData": {"password": "hunter2"},
            "extra": "dropped"
        });
        let n = normalize(&raw).unwrap();
        assert_eq!(
            n,
            json!({
                "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                "immutable": true,
                "metadata": {"name": "shop-tls", "namespace": "shop"},
                "dataKeys": ["password", "tls.crt", "tls.key"],
                "certificate": {
                    "sha256": "A2:A8:A8:C9:24:FA:46:3C:18:2D:41:50:4D:55:17:38:D0:B5:EB:7E:16:1F:BE:06:81:8A:15:02:F4:0E:95:D1",
                    "notAfter": "2036-01-01T00:00:00Z",
                    "subjectCN": "shop.example.com",
                    "issuerCN": "Tollgate Test Intermediate CA",
                    "dnsNames": ["shop.example.com", "www.shop.example.com"]
                }
            })
        );
        let text = serde_json::to_string(&n).unwrap();
        for secret in [
            "c3VwZXItc2VjcmV0",
            "hunter2",
            "BEGIN CERTIFICATE",
            "dropped",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        // `stringData` gives the same facts as base64 `data`, and normalizing again changes nothing.
        let plain = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                           "stringData": {"tls.crt": GOOD_CRT}});
        let once = normalize(&plain).unwrap();
        assert_eq!(once["certificate"], n["certificate"]);
        assert_eq!(normalize(&once), Some(once.clone()));
        // Something that is not a certificate gives key names only.
        let junk = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                          "data": {"tls.crt": "bm90IGEgY2VydA=="}});
        assert_eq!(
            normalize(&junk),
            Some(
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                        "dataKeys": ["tls.crt"]})
            )
        );
    }

    #[test]
    fn normalize_is_deterministic_and_idempotent() {
        let mut raw = ingress();
        raw["metadata"]["annotations"] = json!({"b": "2", "a": "1"});
        let n = normalize(&raw).unwrap();
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            serde_json::to_string(&normalize(&raw).unwrap()).unwrap()
        );
        assert_eq!(normalize(&n), Some(n.clone()));
        let keys: Vec<&String> = n["metadata"]["annotations"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn diff_of_creation_deletion_and_equal_versions() {
        let v = json!({"a": 1});
        assert_eq!(
            diff(None, Some(&v)),
            json!([{"op": "add", "path": "", "value": {"a": 1}}])
        );
        assert_eq!(diff(Some(&v), None), json!([{"op": "remove", "path": ""}]));
        assert_eq!(diff(Some(&v), Some(&v)), json!([]));
        assert_eq!(diff(None, None), json!([]));
    }

    #[test]
    fn diff_escapes_keys_and_walks_arrays_from_the_end() {
        let before = json!({
            "metadata": {"annotations": {"a~b": "1", "old": "x"}},
            "list": [1, 2, 3, 4],
            "grow": [1],
            "kind": "A"
        });
        let after = json!({
            "metadata": {"annotations": {"a~b": "2",
                "nginx.ingress.kubernetes.io/configuration-snippet": "deny all;"}},
            "list": [1, 5],
            "grow": [1, 2, 3],
            "kind": {"nested": true}
        });
        assert_eq!(
            diff(Some(&before), Some(&after)),
            json!([
                {"op": "add", "path": "/grow/1", "value": 2},
                {"op": "add", "path": "/grow/2", "value": 3},
                {"op": "replace", "path": "/kind", "value": {"nested": true}},
                {"op": "replace", "path": "/list/1", "value": 5},
                {"op": "remove", "path": "/list/3"},
                {"op": "remove", "path": "/list/2"},
                {"op": "remove", "path": "/metadata/annotations/old"},
                {"op": "replace", "path": "/metadata/annotations/a~0b", "value": "2"},
                {"op": "add",
                 "path": "/metadata/annotations/nginx.ingress.kubernetes.io~1configuration-snippet",
                 "value": "deny all;"}
            ])
        );
        assert_eq!(
            apply_patch(Some(&before), &diff(Some(&before), Some(&after))),
            Ok(Some(after))
        );
    }

    #[test]
    fn apply_patch_refuses_what_does_not_apply() {
        let doc = json!({"a": [1, 2], "b": {"c": 1}});
        let cases = [
            (json!({"op": "x"}), "operation 0: `path` is missing"),
            (
                json!([{"op": "move", "path": "/a", "from": "/b"}]),
                "operation 0: unsupported operation `move`",
            ),
            (
                json!([{"op": "remove", "path": "/missing"}]),
                "operation 0: `/missing` does not exist",
            ),
            (
                json!([{"op": "replace", "path": "/a/2", "value": 3}]),
                "operation 0: `/a/2` does not exist",
            ),
            (
                json!([{"op": "add", "path": "/a/01", "value": 3}]),
                "operation 0: `01` is not an array index",
            ),
            (
                json!([{"op": "add", "path": "/b/c/d", "value": 3}]),
                "operation 0: `/b/c/d` does not exist",
            ),
            (
                json!([{"op": "add", "path": "a", "value": 3}]),
                "operation 0: `a` is not a JSON pointer",
            ),
            (
                json!([{"op": "add", "path": "/x"}]),
                "operation 0: `add` needs a `value`",
            ),
            (
                json!([{"op": "test", "path": "/b/c", "value": 2}]),
                "operation 0: test failed at `/b/c`",
            ),
        ];
        for (patch, error) in cases {
            let patch = if patch.is_array() {
                patch
            } else {
                json!([patch])
            };
            assert_eq!(
                apply_patch(Some(&doc), &patch),
                Err(error.to_owned()),
                "{patch}"
            );
        }
        assert_eq!(
            apply_patch(Some(&doc), &json!({})),
            Err("a JSON Patch must be an array of operations".to_owned())
        );
        assert_eq!(
            apply_patch(
                Some(&doc),
                &json!([{"op": "test", "path": "/a/1", "value": 2},
                        {"op": "add", "path": "/a/-", "value": 3},
                        {"op": "add", "path": "/a/0", "value": 0}])
            ),
            Ok(Some(json!({"a": [0, 1, 2, 3], "b": {"c": 1}})))
        );
        assert_eq!(
            apply_patch(None, &json!([{"op": "remove", "path": ""}])),
            Err("operation 0: there is no document".to_owned())
        );
    }

    /// A small deterministic generator (xorshift64*), so the property tests need no crate and
    /// fail the same way every run.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap_or(0)
        }

        fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
            items[self.below(items.len())]
        }

        fn string(&mut self) -> String {
            const PARTS: &[&str] = &[
                "",
                "a",
                "web",
                "true",
                "True",
                "NO",
                "null",
                "~",
                "1",
                "-1",
                "0x1F",
                "0o17",
                "1.5",
                "1e3",
                ".inf",
                ".5",
                "+1",
                "0777",
                "1_000",
                "12:30",
                "yes",
                "on",
                "y",
                "#",
                " #c",
                "a: b",
                ":",
                "- ",
                "-",
                "?",
                "[",
                "]",
                "{",
                "}",
                "&a",
                "*a",
                "!t",
                "|",
                ">",
                "'",
                "\"",
                "%",
                "@",
                "`",
                ",",
                "\n",
                "\n\n",
                "\t",
                "\r",
                " ",
                "  ",
                "é",
                "日本",
                "\u{85}",
                "\u{2028}",
                "\u{feff}",
                "\u{1}",
                "\u{7f}",
                "\\",
                "---",
                "...",
                "=",
                "x/y",
                "k.io/z",
                "a b",
                "\u{1F600}",
            ];
            let mut s = String::new();
            for _ in 0..self.below(4) {
                s.push_str(self.pick(PARTS));
            }
            s
        }

        fn value(&mut self, depth: usize) -> Value {
            let choice = if depth == 0 {
                self.below(6)
            } else {
                self.below(9)
            };
            match choice {
                0 => Value::Null,
                1 => Value::Bool(self.below(2) == 0),
                2 => {
                    let i = self.next() as i64 >> self.below(64);
                    json!(i)
                }
                3 => {
                    const FLOATS: [f64; 7] = [1.5, -0.25, 1e300, 2.0, 0.1, -1e-7, 123_456.789];
                    json!(FLOATS[self.below(FLOATS.len())])
                }
                4 => json!(u64::MAX - self.below(3) as u64),
                5 | 6 => Value::String(self.string()),
                7 => Value::Array((0..self.below(4)).map(|_| self.value(depth - 1)).collect()),
                _ => {
                    let mut map = Map::new();
                    for _ in 0..self.below(5) {
                        // `<<` is a merge key to the crate's parser whatever its quoting, so no
                        // emitter could round-trip it; Kubernetes objects have no such key.
                        let key = self.string();
                        if key != "<<" {
                            map.insert(key, self.value(depth - 1));
                        }
                    }
                    Value::Object(map)
                }
            }
        }

        /// A variation of `v`: some leaves changed, keys added or dropped, arrays resized.
        fn mutate(&mut self, v: &Value) -> Value {
            match v {
                Value::Object(map) => {
                    let mut out = Map::new();
                    for (k, child) in map {
                        match self.below(6) {
                            0 => {}
                            1 => {
                                out.insert(k.clone(), self.value(2));
                            }
                            _ => {
                                out.insert(k.clone(), self.mutate(child));
                            }
                        }
                    }
                    if self.below(3) == 0 {
                        out.insert(self.string(), self.value(2));
                    }
                    Value::Object(out)
                }
                Value::Array(items) => {
                    let mut out = Vec::new();
                    for item in items {
                        if self.below(5) != 0 {
                            out.push(self.mutate(item));
                        }
                    }
                    for _ in 0..self.below(3) {
                        out.push(self.value(2));
                    }
                    Value::Array(out)
                }
                _ if self.below(3) == 0 => self.value(2),
                other => other.clone(),
            }
        }
    }

    #[test]
    fn diff_then_apply_gives_the_after_version() {
        let mut g = Gen(0x9E37_79B9_7F4A_7C15);
        let mut non_empty = 0;
        for round in 0..3000 {
            let before = g.value(4);
            let after = if round % 3 == 0 {
                g.value(4)
            } else {
                g.mutate(&before)
            };
            let (b, a) = match round % 10 {
                0 => (None, Some(&after)),
                1 => (Some(&before), None),
                _ => (Some(&before), Some(&after)),
            };
            let patch = diff(b, a);
            if patch.as_array().is_some_and(|p| !p.is_empty()) {
                non_empty += 1;
            }
            assert_eq!(
                apply_patch(b, &patch),
                Ok(a.cloned()),
                "before {before}\nafter {after}\npatch {patch}"
            );
            if let (Some(b), Some(a)) = (b, a) {
                assert_eq!(patch == json!([]), b == a);
            }
        }
        assert!(non_empty > 2000, "the generator produced too few changes");
    }

    #[test]
    fn yaml_of_an_ingress_is_kubernetes_ordered_block_style() {
        let mut v = normalize(&ingress()).unwrap();
        v["metadata"]["annotations"] = json!({
            "nginx.ingress.kubernetes.io/configuration-snippet": "more_set_headers \"X: y\";\nreturn 200;\n",
            "note": "true",
            "empty": ""
        });
        assert_eq!(
            to_yaml(&v),
            r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: shop
  annotations:
    empty: ""
    nginx.ingress.kubernetes.io/configuration-snippet: |
      more_set_headers "X: y";
      return 200;
    note: "true"
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - backend:
          service:
            name: web
            port:
              number: 80
        path: /
        pathType: Prefix
  tls:
  - hosts:
    - shop.example.com
    secretName: shop-tls
"#
        );
        assert_eq!(parse_yaml(&to_yaml(&v)), v);
    }

    #[test]
    fn yaml_quotes_strings_that_would_read_as_something_else() {
        let cases = [
            ("web", "web"),
            ("k8s.io/ingress-nginx", "k8s.io/ingress-nginx"),
            ("system:controller:x", "system:controller:x"),
            ("", "\"\""),
            ("true", "\"true\""),
            ("Yes", "\"Yes\""),
            ("~", "\"~\""),
            ("null", "\"null\""),
            ("80", "\"80\""),
            ("10.0.0.0/8", "\"10.0.0.0/8\""),
            ("1:20", "\"1:20\""),
            (" lead", "\" lead\""),
            ("trail ", "\"trail \""),
            ("a: b", "\"a: b\""),
            ("a #b", "\"a #b\""),
            ("*.example.com", "\"*.example.com\""),
            ("-x", "\"-x\""),
            ("say \"hi\"\\", "\"say \\\"hi\\\"\\\\\""),
            ("tab\there", "\"tab\\there\""),
            ("\u{1}\u{2028}", "\"\\x01\\u2028\""),
            ("日本", "\"日本\""),
        ];
        for (text, written) in cases {
            let v = json!({ "k": text });
            assert_eq!(to_yaml(&v), format!("k: {written}\n"), "{text:?}");
            assert_eq!(parse_yaml(&to_yaml(&v)), v, "{text:?}");
        }
        assert_eq!(
            to_yaml(&json!({"a": {}, "b": [], "c": null})),
            "a: {}\nb: []\nc: null\n"
        );
        assert_eq!(to_yaml(&json!("x\ny")), "|-\n  x\n  y\n");
        assert_eq!(to_yaml(&json!({"k": "a\n\n"})), "k: |+\n  a\n\n");
        assert_eq!(to_yaml(&json!({"k": "\nlead"})), "k: \"\\nlead\"\n");
    }

    #[test]
    fn yaml_round_trips_through_the_crates_parser() {
        let mut g = Gen(0x0123_4567_89AB_CDEF);
        for _ in 0..3000 {
            let v = g.value(4);
            let text = to_yaml(&v);
            let read = parse_document(DocumentText {
                text: &text,
                first_line: 1,
                offset: 0,
            });
            // The parser reads a document holding only `null` as an empty document.
            let expected = Some(v.clone()).filter(|v| !v.is_null());
            assert_eq!(read, Ok(expected), "{text}");
            assert_eq!(to_yaml(&v), text, "not deterministic");
        }
    }

    #[test]
    fn manifest_refuses_secrets() {
        let secret = normalize(&json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db"}, "data": {"password": "aHVudGVyMg=="}}))
        .unwrap();
        let err = manifest(&secret).unwrap_err();
        assert!(err.starts_with("Secret data is never stored;"), "{err}");
        assert!(err.contains("`db`"), "{err}");
        let ing = normalize(&ingress()).unwrap();
        let text = manifest(&ing).unwrap();
        assert!(text.starts_with("apiVersion: networking.k8s.io/v1\nkind: Ingress\n"));
        assert_eq!(parse_yaml(&text), ing);
    }

    #[test]
    fn yaml_diff_shows_the_changed_lines_with_context() {
        let before = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}], "type": "ClusterIP"}});
        let mut after = before.clone();
        after["spec"]["type"] = json!("NodePort");
        assert_eq!(
            yaml_diff(Some(&before), Some(&after), 1),
            "--- before\n+++ after\n@@ -7,2 +7,2 @@\n   - port: 80\n-  type: ClusterIP\n+  type: NodePort\n"
        );
        assert_eq!(yaml_diff(Some(&before), Some(&before), 3), "");
        let created = yaml_diff(None, Some(&before), 3);
        assert!(
            created.starts_with("--- before\n+++ after\n@@ -0,0 +1,8 @@\n+apiVersion: v1\n"),
            "{created}"
        );
    }

    fn object(v: Value) -> Object {
        Object::from_value(v, None).unwrap().unwrap()
    }

    fn context() -> Vec<Object> {
        vec![
            object(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                "metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}}),
            ),
            object(json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"ports": [{"port": 80}]}})),
        ]
    }

    fn present() -> BTreeSet<Kind> {
        [
            Kind::Ingress,
            Kind::IngressClass,
            Kind::Service,
            Kind::Secret,
        ]
        .into()
    }

    fn risk_of(before: &Value, after: &Value) -> ChangeRisk {
        risk(
            &context(),
            Some(&object(before.clone())),
            Some(&object(after.clone())),
            &present(),
            &Config::default(),
            "2026-06-01T00:00:00Z".parse().unwrap(),
        )
    }

    #[test]
    fn a_binding_making_everyone_cluster_admin_is_a_risky_creation() {
        let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding", "metadata": {"name": "debug-everything"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                          "name": "system:authenticated"}]});
        let now = "2026-06-01T00:00:00Z".parse().unwrap();
        let created = risk_alone(
            None,
            Some(&object(normalize(&binding).unwrap())),
            &Config::default(),
            now,
        );
        assert!(
            created
                .introduced
                .contains(&"broad-ingress-write-access".to_owned()),
            "{created:?}"
        );
        // Bound to one named administrator, it is a question for a review, not a risk.
        let mut named = binding.clone();
        named["subjects"] = json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                    "name": "dana@example.com"}]);
        let reviewed = risk_alone(
            None,
            Some(&object(normalize(&named).unwrap())),
            &Config::default(),
            now,
        );
        assert!(reviewed.introduced.is_empty(), "{reviewed:?}");
        // Changing the first into the second fixes the rule.
        let fixed = risk_alone(
            Some(&object(normalize(&binding).unwrap())),
            Some(&object(normalize(&named).unwrap())),
            &Config::default(),
            now,
        );
        assert!(
            fixed
                .fixed
                .contains(&"broad-ingress-write-access".to_owned()),
            "{fixed:?}"
        );
        assert!(fixed.introduced.is_empty(), "{fixed:?}");
    }

    #[test]
    fn an_ingress_judged_alone_is_not_blamed_for_neighbours_nobody_listed() {
        let mut bare = ingress();
        bare["spec"].as_object_mut().unwrap().remove("tls");
        let created = risk_alone(
            None,
            Some(&object(bare)),
            &Config::default(),
            "2026-06-01T00:00:00Z".parse().unwrap(),
        );
        assert_eq!(created.introduced, ["tls-missing"], "{created:?}");
    }

    #[test]
    fn removing_tls_introduces_tls_missing_and_adding_it_back_fixes_it() {
        let before = ingress();
        let mut after = ingress();
        after["spec"].as_object_mut().unwrap().remove("tls");
        let r = risk_of(&before, &after);
        assert!(r.introduced.contains(&"tls-missing".to_owned()), "{r:?}");
        assert!(!r.fixed.contains(&"tls-missing".to_owned()), "{r:?}");
        let back = risk_of(&after, &before);
        assert!(back.fixed.contains(&"tls-missing".to_owned()), "{back:?}");
        assert!(
            !back.introduced.contains(&"tls-missing".to_owned()),
            "{back:?}"
        );
    }

    #[test]
    fn adding_a_snippet_annotation_introduces_snippet_annotation() {
        let mut after = ingress();
        after["metadata"]["annotations"] =
            json!({"nginx.ingress.kubernetes.io/configuration-snippet": "deny all;"});
        let r = risk_of(&ingress(), &after);
        assert!(
            r.introduced.contains(&"snippet-annotation".to_owned()),
            "{r:?}"
        );
        assert!(r.fixed.is_empty(), "{r:?}");
    }

    #[test]
    fn adding_a_wildcard_host_introduces_wildcard_host() {
        let mut after = ingress();
        after["spec"]["rules"][0]["host"] = json!("*.example.com");
        let r = risk_of(&ingress(), &after);
        assert!(r.introduced.contains(&"wildcard-host".to_owned()), "{r:?}");
    }

    #[test]
    fn deleting_a_service_an_ingress_routes_to_introduces_backend_service_missing() {
        let ctx = vec![object(ingress()), context().remove(0)];
        let service = context().remove(1);
        let at = "2026-06-01T00:00:00Z".parse().unwrap();
        let r = risk(
            &ctx,
            Some(&service),
            None,
            &present(),
            &Config::default(),
            at,
        );
        assert_eq!(r.introduced, ["backend-service-missing"], "{r:?}");
        // Re-creating it fixes the finding.
        let r = risk(
            &ctx,
            None,
            Some(&service),
            &present(),
            &Config::default(),
            at,
        );
        assert_eq!(r.fixed, ["backend-service-missing"], "{r:?}");
        // When Services are not watched, the rule is skipped rather than taken as fired.
        let only_ingress = [Kind::Ingress].into();
        let r = risk(&ctx, None, None, &only_ingress, &Config::default(), at);
        assert!(r.is_empty(), "{r:?}");
    }

    #[test]
    fn a_change_that_changes_nothing_has_no_risk() {
        let mut after = ingress();
        after["metadata"]["labels"] = json!({"team": "shop"});
        assert_eq!(risk_of(&ingress(), &ingress()), ChangeRisk::default());
        assert_eq!(risk_of(&ingress(), &after), ChangeRisk::default());
    }

    #[test]
    fn suppressed_findings_do_not_count() {
        let mut after = ingress();
        after["metadata"]["annotations"] = json!({
            "nginx.ingress.kubernetes.io/configuration-snippet": "deny all;",
            "tollgate.io/ignore": "snippet-annotation"});
        let r = risk_of(&ingress(), &after);
        assert!(
            !r.introduced.contains(&"snippet-annotation".to_owned()),
            "{r:?}"
        );
    }
}
