//! YAML (and JSON, which is YAML's flow subset) into `serde_json::Value`, one document at a time,
//! and the reverse question: where in the text does a JSON pointer point?
//!
//! Why not a serde YAML deserializer: a manifest stream must survive one broken document, a finding
//! must name the line of the field it is about, and hostile input (alias bombs, deep nesting) must be
//! refused with an error rather than exhaust memory. We therefore split a stream into documents on
//! `---` lines ourselves, build values from granit-parser events with YAML 1.2 core-schema scalar
//! resolution, and find positions lazily with a second event walk only for documents that have
//! findings, so a scan of ten thousand objects does not keep a million position entries alive.

use std::borrow::Cow;
use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, ScanError};
use serde_json::{Map, Number, Value};

/// Nesting deeper than this is refused; real manifests stay far below it.
const MAX_DEPTH: usize = 200;
/// Nodes a single document may expand to, aliases included (stops "billion laughs").
const MAX_NODES: usize = 2_000_000;

/// One document of a stream: its text and where that text starts in the file.
#[derive(Debug, Clone, Copy)]
pub struct DocumentText<'a> {
    /// The document's text, including its `---` marker line if it had one.
    pub text: &'a str,
    /// 1-based line of the file on which `text` starts.
    pub first_line: usize,
    /// Byte offset of `text` in the file.
    pub offset: usize,
}

/// A 1-based line and column in a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// What went wrong, in words.
    pub message: String,
    /// Where, in file coordinates, when known.
    pub position: Option<Position>,
}

/// Splits a YAML stream into documents at `---` lines.
///
/// A `---` that starts a line (followed by nothing or white space) opens a new document. Directive
/// lines (`%YAML`) open a document too and the `---` that follows them joins it. Splitting by line
/// keeps a syntax error in one document from hiding the documents after it, which a streaming
/// parser cannot recover from on its own.
#[must_use]
pub fn split_documents(text: &str) -> Vec<DocumentText<'_>> {
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    let mut offset = 0usize;
    // True while the current chunk holds only directives, comments and blank lines.
    let mut only_preamble = true;
    for (line_index, line) in text.split_inclusive('\n').enumerate() {
        let line_no = line_index + 1;
        let trimmed = line.trim_end_matches(['\n', '\r']);
        let is_marker = trimmed == "---"
            || (trimmed.starts_with("---") && trimmed[3..].starts_with([' ', '\t']));
        let is_directive = trimmed.starts_with('%');
        let opens = (is_marker || is_directive) && !only_preamble;
        if opens && offset > start {
            docs.push(DocumentText {
                text: &text[start..offset],
                first_line: start_line,
                offset: start,
            });
            start = offset;
            start_line = line_no;
            only_preamble = true;
        }
        if is_marker {
            // The marker itself is content of the document it opens.
            only_preamble = false;
        } else if !(is_directive
            || trimmed.trim_start().is_empty()
            || trimmed.trim_start().starts_with('#'))
        {
            only_preamble = false;
        }
        offset += line.len();
    }
    if offset > start {
        docs.push(DocumentText {
            text: &text[start..offset],
            first_line: start_line,
            offset: start,
        });
    }
    docs
}

/// Parses one document (as returned by [`split_documents`]) into a JSON value.
///
/// Returns `Ok(None)` for a document with no content (only comments, or an empty `---`).
///
/// # Errors
/// A syntax error, a duplicate mapping key, a non-scalar mapping key, or input beyond the depth
/// and size limits, each with its position in file coordinates.
pub fn parse_document(doc: DocumentText<'_>) -> Result<Option<Value>, YamlError> {
    let mut builder = Builder::new();
    let mut parser = Parser::new_from_str(doc.text);
    let mut documents = 0;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| scan_error(&e, doc.first_line))?;
        let pos = to_position(span.start.line(), span.start.col(), doc.first_line);
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    // Only reachable when a `---` is not at the start of a line, e.g. `a: 1 --- b`.
                    return Err(YamlError {
                        message: "more than one document where one was expected".into(),
                        position: Some(pos),
                    });
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let v = resolve_scalar(&value, style, tag.as_ref().and_then(|t| t.core_suffix()));
                builder.node(v, anchor, pos)?;
            }
            Event::SequenceStart(_, anchor, _) => builder.open(Frame::seq(anchor), pos)?,
            Event::MappingStart(_, anchor, _) => builder.open(Frame::map(anchor), pos)?,
            Event::SequenceEnd | Event::MappingEnd => builder.close(pos)?,
            Event::Alias(id) => builder.alias(id, pos)?,
            Event::UnresolvedAlias(name) => {
                return Err(YamlError {
                    message: format!("alias `*{name}` refers to no anchor"),
                    position: Some(pos),
                });
            }
            _ => {}
        }
    }
    // An empty document (`---` alone) parses as a null scalar; it holds nothing.
    Ok(builder.root.filter(|v| !v.is_null()))
}

fn scan_error(e: &ScanError, first_line: usize) -> YamlError {
    let m = e.marker();
    YamlError {
        message: format!("YAML syntax error: {}", e.info()),
        position: Some(to_position(m.line(), m.col(), first_line)),
    }
}

fn to_position(line: usize, col: usize, first_line: usize) -> Position {
    Position {
        line: line.max(1) + first_line - 1,
        column: col + 1,
    }
}

/// Resolves a scalar by the YAML 1.2 core schema: quoted and block scalars are strings, plain
/// scalars may be null, booleans or numbers. Explicit `!!str` and friends win over the schema.
fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    match tag {
        Some("str" | "binary") => return Value::String(text.to_owned()),
        Some("null") => return Value::Null,
        Some("bool") => {
            if let Some(b) = parse_bool(text) {
                return Value::Bool(b);
            }
        }
        Some("int" | "float") => {
            if let Some(n) = parse_number(text) {
                return n;
            }
        }
        _ => {}
    }
    if style != ScalarStyle::Plain {
        return Value::String(text.to_owned());
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Value::Null;
    }
    if let Some(b) = parse_bool(text) {
        return Value::Bool(b);
    }
    parse_number(text).unwrap_or_else(|| Value::String(text.to_owned()))
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn parse_number(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(Value::from);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok().map(Value::from);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Some(Value::from(i));
        }
        if let Ok(u) = text.parse::<u64>() {
            return Some(Value::from(u));
        }
    }
    // Floats: digits with a dot or exponent. `.inf` and `.nan` have no JSON form; keep them text.
    let is_float_shape = digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if is_float_shape && let Ok(f) = text.parse::<f64>() {
        return Number::from_f64(f).map(Value::Number);
    }
    None
}

enum FrameKind {
    Seq(Vec<Value>),
    Map {
        map: Map<String, Value>,
        key: Option<(String, Position)>,
        // Keys merged in with `<<`; explicit keys override them, and they do not count as duplicates.
        merged: Vec<String>,
    },
}

struct Frame {
    kind: FrameKind,
    anchor: usize,
}

impl Frame {
    fn seq(anchor: usize) -> Self {
        Frame {
            kind: FrameKind::Seq(Vec::new()),
            anchor,
        }
    }
    fn map(anchor: usize) -> Self {
        Frame {
            kind: FrameKind::Map {
                map: Map::new(),
                key: None,
                merged: Vec::new(),
            },
            anchor,
        }
    }
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    root: Option<Value>,
    nodes: usize,
}

impl Builder {
    fn new() -> Self {
        Builder {
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            nodes: 0,
        }
    }

    fn count(&mut self, n: usize, pos: Position) -> Result<(), YamlError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(YamlError {
                message: format!("document expands to more than {MAX_NODES} nodes (alias bomb?)"),
                position: Some(pos),
            });
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame, pos: Position) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
                position: Some(pos),
            });
        }
        self.count(1, pos)?;
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, pos: Position) -> Result<(), YamlError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let value = match frame.kind {
            FrameKind::Seq(items) => Value::Array(items),
            FrameKind::Map { map, key, .. } => {
                if let Some((k, _)) = key {
                    // A key without a value cannot come from a well-formed event stream, but if it
                    // does, YAML says the value is null.
                    let mut map = map;
                    map.insert(k, Value::Null);
                    Value::Object(map)
                } else {
                    Value::Object(map)
                }
            }
        };
        if frame.anchor != 0 {
            self.anchors.insert(frame.anchor, value.clone());
        }
        self.push(value, pos)
    }

    fn node(&mut self, value: Value, anchor: usize, pos: Position) -> Result<(), YamlError> {
        self.count(1, pos)?;
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        self.push(value, pos)
    }

    fn alias(&mut self, id: usize, pos: Position) -> Result<(), YamlError> {
        let Some(value) = self.anchors.get(&id).cloned() else {
            return Err(YamlError {
                message: "alias refers to an anchor that is not defined yet".into(),
                position: Some(pos),
            });
        };
        self.count(count_nodes(&value), pos)?;
        self.push(value, pos)
    }

    fn push(&mut self, value: Value, pos: Position) -> Result<(), YamlError> {
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(value);
            return Ok(());
        };
        match &mut top.kind {
            FrameKind::Seq(items) => items.push(value),
            FrameKind::Map { map, key, merged } => match key.take() {
                None => {
                    let k = match value {
                        Value::String(s) => s,
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => "null".to_owned(),
                        Value::Array(_) | Value::Object(_) => {
                            return Err(YamlError {
                                message: "a mapping key must be a scalar".into(),
                                position: Some(pos),
                            });
                        }
                    };
                    *key = Some((k, pos));
                }
                Some((k, key_pos)) if k == "<<" => merge_into(map, merged, value, key_pos)?,
                Some((k, key_pos)) => {
                    if map.contains_key(&k) {
                        if let Some(i) = merged.iter().position(|m| *m == k) {
                            merged.swap_remove(i);
                        } else {
                            return Err(YamlError {
                                message: format!("duplicate key `{k}` in a mapping"),
                                position: Some(key_pos),
                            });
                        }
                    }
                    map.insert(k, value);
                }
            },
        }
        Ok(())
    }
}

/// Applies a YAML merge key (`<<: *base` or `<<: [*a, *b]`): keys not already present are copied.
fn merge_into(
    map: &mut Map<String, Value>,
    merged: &mut Vec<String>,
    value: Value,
    pos: Position,
) -> Result<(), YamlError> {
    let sources = match value {
        Value::Object(m) => vec![m],
        Value::Array(items) => {
            let mut maps = Vec::new();
            for item in items {
                match item {
                    Value::Object(m) => maps.push(m),
                    _ => return Err(merge_error(pos)),
                }
            }
            maps
        }
        _ => return Err(merge_error(pos)),
    };
    for source in sources {
        for (k, v) in source {
            if !map.contains_key(&k) {
                merged.push(k.clone());
                map.insert(k, v);
            }
        }
    }
    Ok(())
}

fn merge_error(pos: Position) -> YamlError {
    YamlError {
        message: "a merge key `<<` takes a mapping or a list of mappings".into(),
        position: Some(pos),
    }
}

fn count_nodes(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

/// Finds where each of `pointers` (RFC 6901, relative to the document root) is written.
///
/// A pointer to a scalar resolves to the scalar; a pointer to a mapping or sequence that is the
/// value of a key resolves to the key, which is where a reader looks. A pointer that is not in the
/// text resolves to its nearest ancestor that is, so a finding about a missing field points at the
/// object that lacks it. Returns one position per pointer, `None` only if the document is empty.
#[must_use]
pub fn locate(doc: DocumentText<'_>, pointers: &[&str]) -> Vec<Option<Position>> {
    let mut found: HashMap<String, Position> = HashMap::new();
    let wanted: Vec<Vec<Cow<'_, str>>> = pointers.iter().map(|p| pointer_segments(p)).collect();
    walk_positions(doc, |path, pos| {
        // Record only prefixes of what was asked for; the walk stays cheap in memory.
        let hit = wanted
            .iter()
            .any(|w| w.len() >= path.len() && w.iter().zip(path).all(|(a, b)| a == b));
        if hit {
            found.entry(join_pointer(path)).or_insert(pos);
        }
    });
    wanted
        .iter()
        .map(|segments| {
            (0..=segments.len()).rev().find_map(|n| {
                let key = join_pointer_cow(&segments[..n]);
                found.get(&key).copied()
            })
        })
        .collect()
}

/// Walks a document's events and calls `visit` with the path and position of every node. Errors
/// end the walk quietly: positions are a convenience, the parse already reported the error.
fn walk_positions(doc: DocumentText<'_>, mut visit: impl FnMut(&[String], Position)) {
    enum Level {
        Seq(usize),
        Map { key: Option<(String, Position)> },
    }
    let mut path: Vec<String> = Vec::new();
    let mut levels: Vec<Level> = Vec::new();
    let parser = Parser::new_from_str(doc.text);
    for next in parser {
        let Ok((event, span)) = next else { return };
        let pos = to_position(span.start.line(), span.start.col(), doc.first_line);
        // For a node in value position work out its path segment, and, for a key, remember it.
        let is_node = matches!(
            event,
            Event::Scalar(..)
                | Event::SequenceStart(..)
                | Event::MappingStart(..)
                | Event::Alias(_)
        );
        let mut node_pos = pos;
        if is_node {
            match levels.last_mut() {
                Some(Level::Map { key }) if key.is_none() => {
                    let Event::Scalar(k, ..) = &event else {
                        // A complex (non-scalar) key: no JSON pointer can name what follows.
                        return;
                    };
                    *key = Some((k.to_string(), pos));
                    // A key is not a node of the document tree.
                    continue;
                }
                Some(Level::Map { key }) => {
                    let (k, key_pos) = key.take().unwrap_or_default();
                    // Collections and block scalars (`|`, `>`) start below their key; the key
                    // line is where a reader looks.
                    let inline_scalar = match &event {
                        Event::Scalar(_, style, ..) => {
                            !matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
                        }
                        Event::Alias(_) => true,
                        _ => false,
                    };
                    if !inline_scalar {
                        node_pos = key_pos;
                    }
                    path.push(k);
                }
                Some(Level::Seq(i)) => {
                    path.push(i.to_string());
                    *i += 1;
                }
                None => {}
            }
            visit(&path, node_pos);
        }
        match event {
            Event::SequenceStart(..) => levels.push(Level::Seq(0)),
            Event::MappingStart(..) => levels.push(Level::Map { key: None }),
            Event::SequenceEnd | Event::MappingEnd => {
                levels.pop();
                if !levels.is_empty() {
                    path.pop();
                }
            }
            Event::Scalar(..) | Event::Alias(_) if !levels.is_empty() => {
                path.pop();
            }
            _ => {}
        }
    }
}

/// Splits an RFC 6901 pointer into unescaped segments.
#[must_use]
pub fn pointer_segments(pointer: &str) -> Vec<Cow<'_, str>> {
    if pointer.is_empty() || pointer == "/" {
        return Vec::new();
    }
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|s| {
            if s.contains('~') {
                Cow::Owned(s.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(s)
            }
        })
        .collect()
}

fn join_pointer(path: &[String]) -> String {
    let mut out = String::new();
    for seg in path {
        out.push('/');
        out.push_str(&escape_segment(seg));
    }
    out
}

fn join_pointer_cow(path: &[Cow<'_, str>]) -> String {
    let mut out = String::new();
    for seg in path {
        out.push('/');
        out.push_str(&escape_segment(seg));
    }
    out
}

/// Escapes one segment for a JSON pointer (`~` → `~0`, `/` → `~1`).
#[must_use]
pub fn escape_segment(seg: &str) -> Cow<'_, str> {
    if seg.contains(['~', '/']) {
        Cow::Owned(seg.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(seg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> Result<Option<Value>, YamlError> {
        parse_document(DocumentText {
            text,
            first_line: 1,
            offset: 0,
        })
    }

    #[test]
    fn splits_on_marker_lines_and_keeps_line_numbers() {
        let text = "a: 1\n---\nb: 2\n--- \nc: 3\n";
        let docs = split_documents(text);
        let lines: Vec<usize> = docs.iter().map(|d| d.first_line).collect();
        assert_eq!(lines, vec![1, 2, 4]);
        assert_eq!(docs[1].text, "---\nb: 2\n");
    }

    #[test]
    fn leading_marker_and_comments_do_not_make_an_empty_document() {
        let docs = split_documents("# Source: chart/templates/a.yaml\n---\na: 1\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(one(docs[0].text).unwrap(), Some(json!({"a": 1})));
    }

    #[test]
    fn plain_scalars_resolve_by_the_core_schema_and_quoted_stay_strings() {
        let v =
            one("a: 80\nb: \"80\"\nc: true\nd: 'null'\ne: ~\nf: 1.5\ng: yes\nh: 0x1F\ni: .inf\n")
                .unwrap()
                .unwrap();
        assert_eq!(
            v,
            json!({"a": 80, "b": "80", "c": true, "d": "null", "e": null, "f": 1.5,
                   "g": "yes", "h": 31, "i": ".inf"})
        );
    }

    #[test]
    fn explicit_str_tag_keeps_a_number_as_text() {
        assert_eq!(one("a: !!str 42\n").unwrap().unwrap(), json!({"a": "42"}));
    }

    #[test]
    fn merge_keys_copy_missing_keys_only() {
        let v = one("base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n")
            .unwrap()
            .unwrap();
        assert_eq!(v["item"], json!({"x": 1, "y": 3}));
    }

    #[test]
    fn duplicate_keys_are_an_error_with_the_second_keys_line() {
        let err = one("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert!(err.message.contains("duplicate key `a`"), "{err:?}");
        assert_eq!(err.position.map(|p| p.line), Some(3));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = one(&text).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{err:?}");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = "[".repeat(10_000);
        assert!(one(&text).is_err());
    }

    #[test]
    fn syntax_errors_name_the_file_line() {
        let text = "a: 1\n---\nb: [1, 2\nc: 3\n";
        let docs = split_documents(text);
        assert!(one(docs[0].text).is_ok());
        let err = parse_document(docs[1]).unwrap_err();
        assert!(err.position.unwrap().line >= 3, "{err:?}");
    }

    #[test]
    fn empty_documents_are_none() {
        assert_eq!(one("# nothing here\n").unwrap(), None);
        assert_eq!(one("---\n").unwrap(), None);
    }

    #[test]
    fn locate_points_at_scalars_and_at_keys_of_collections() {
        let text = "\
apiVersion: v1
kind: Ingress
spec:
  rules:
    - host: \"*.example.com\"
      http:
        paths: []
";
        let doc = DocumentText {
            text,
            first_line: 10,
            offset: 0,
        };
        let got = locate(
            doc,
            &["/spec/rules/0/host", "/spec/rules/0/http", "/spec/tls/0"],
        );
        assert_eq!(
            got[0],
            Some(Position {
                line: 14,
                column: 13
            })
        );
        assert_eq!(
            got[1],
            Some(Position {
                line: 15,
                column: 7
            })
        );
        // Missing: falls back to the nearest ancestor written in the text, `spec`.
        assert_eq!(
            got[2],
            Some(Position {
                line: 12,
                column: 1
            })
        );
    }

    #[test]
    fn locate_unescapes_pointer_segments() {
        let text = "metadata:\n  annotations:\n    nginx.ingress.kubernetes.io/server-snippet: x\n";
        let doc = DocumentText {
            text,
            first_line: 1,
            offset: 0,
        };
        let got = locate(
            doc,
            &["/metadata/annotations/nginx.ingress.kubernetes.io~1server-snippet"],
        );
        assert_eq!(
            got[0],
            Some(Position {
                line: 3,
                column: 49
            })
        );
    }
}
