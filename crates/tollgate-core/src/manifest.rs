//! Manifests from files, folders and standard input: multi-document YAML, JSON, `kind: List` and
//! `kubectl get -o yaml|json` output, Helm and kustomize renders.
//!
//! A bad file or document never stops a load: it becomes an [`InputError`] naming the file and,
//! where there is one, the line, and every other document is still read.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::object::{DocumentSpan, Object, Origin};
use crate::yaml::{self, DocumentText, Position};

/// Files larger than this are refused rather than read into memory.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;
/// After this many errors in one file the rest are summarised in one line.
const MAX_ERRORS_PER_FILE: usize = 10;

/// A file (or standard input) the objects were read from. Its text is kept so that reports can
/// quote the offending lines.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user gave it (`-` reads as `<stdin>`).
    pub path: String,
    /// The whole text.
    pub text: String,
}

impl SourceFile {
    /// The text of one document.
    #[must_use]
    pub fn document(&self, span: DocumentSpan) -> DocumentText<'_> {
        DocumentText {
            text: self
                .text
                .get(span.offset..span.offset + span.len)
                .unwrap_or(""),
            first_line: span.first_line,
            offset: span.offset,
        }
    }

    /// One line of the text (1-based), without its line break.
    #[must_use]
    pub fn line(&self, line: usize) -> Option<&str> {
        self.text.lines().nth(line.checked_sub(1)?)
    }
}

/// A problem with the input: a file that could not be read, or a document that is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    /// The file, when the problem is in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl InputError {
    /// An error about a whole file.
    #[must_use]
    pub fn file(path: &str, message: impl Into<String>) -> Self {
        InputError {
            file: Some(path.to_owned()),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    fn at(path: &str, pos: Option<Position>, message: impl Into<String>) -> Self {
        InputError {
            file: Some(path.to_owned()),
            line: pos.map(|p| p.line),
            column: pos.map(|p| p.column),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.line, self.column) {
            (Some(file), Some(line), Some(col)) => {
                write!(f, "{file}:{line}:{col}: {}", self.message)
            }
            (Some(file), Some(line), None) => write!(f, "{file}:{line}: {}", self.message),
            (Some(file), None, _) => write!(f, "{file}: {}", self.message),
            (None, ..) => f.write_str(&self.message),
        }
    }
}

/// Everything read from a set of inputs.
#[derive(Debug, Default)]
pub struct Manifests {
    /// The files, indexed by [`Origin::source`].
    pub sources: Vec<SourceFile>,
    /// The objects of kinds Tollgate reads.
    pub objects: Vec<Object>,
    /// What could not be read.
    pub errors: Vec<InputError>,
    /// Documents seen, of any kind (empty documents excluded).
    pub documents: usize,
}

impl Manifests {
    /// Reads every document of `text` (from `path`) and adds its objects.
    pub fn add_text(&mut self, path: &str, text: String) {
        let source = self.sources.len();
        let text = text
            .strip_prefix('\u{feff}')
            .map(str::to_owned)
            .unwrap_or(text);
        let mut errors = Vec::new();
        let mut objects = Vec::new();
        for doc in yaml::split_documents(&text) {
            let value = match yaml::parse_document(doc) {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(e) => {
                    self.documents += 1;
                    errors.push(InputError::at(path, e.position, e.message));
                    continue;
                }
            };
            self.documents += 1;
            let span = DocumentSpan {
                offset: doc.offset,
                len: doc.text.len(),
                first_line: doc.first_line,
            };
            read_document(value, source, span, doc, path, &mut objects, &mut errors);
        }
        self.objects.append(&mut objects);
        if errors.len() > MAX_ERRORS_PER_FILE {
            let more = errors.len() - MAX_ERRORS_PER_FILE;
            errors.truncate(MAX_ERRORS_PER_FILE);
            errors.push(InputError::file(
                path,
                format!("{more} more errors in this file not shown"),
            ));
        }
        self.errors.append(&mut errors);
        self.sources.push(SourceFile {
            path: path.to_owned(),
            text,
        });
    }

    /// Reads a file, or standard input for `-`, and adds its objects. Unreadable, binary and
    /// oversized files become errors.
    pub fn add_path(&mut self, path: &Path) {
        match read_input(path) {
            Ok((name, text)) => self.add_text(&name, text),
            Err(e) => self.errors.push(e),
        }
    }

    /// Appends another load after this one, renumbering its sources.
    pub fn append(&mut self, mut other: Manifests) {
        let shift = self.sources.len();
        for o in &mut other.objects {
            if let Some(origin) = &mut o.origin {
                origin.source += shift;
            }
        }
        self.sources.append(&mut other.sources);
        self.objects.append(&mut other.objects);
        self.errors.append(&mut other.errors);
        self.documents += other.documents;
    }

    /// Reads many files on `threads` threads. The result is the same, in the same order, as
    /// reading them one by one; `on_file` is called as each file is done (for progress).
    #[must_use]
    pub fn load_parallel(
        files: &[PathBuf],
        threads: usize,
        on_file: &(dyn Fn(&Path) + Sync),
    ) -> Manifests {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let threads = threads.clamp(1, files.len().max(1));
        let mut done: Vec<(usize, Manifests)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(file) = files.get(i) else { break };
                            let mut m = Manifests::default();
                            m.add_path(file);
                            on_file(file);
                            mine.push((i, m));
                        }
                        mine
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("a loader thread does not panic"))
                .collect()
        });
        done.sort_by_key(|(i, _)| *i);
        let mut all = Manifests::default();
        for (_, m) in done {
            all.append(m);
        }
        all
    }
}

fn read_document(
    value: Value,
    source: usize,
    span: DocumentSpan,
    doc: DocumentText<'_>,
    path: &str,
    objects: &mut Vec<Object>,
    errors: &mut Vec<InputError>,
) {
    if !value.is_object() {
        let what = match value {
            Value::Array(_) => "a list",
            _ => "a plain value",
        };
        let pos = yaml::locate(doc, &[""])[0];
        errors.push(InputError::at(
            path,
            pos,
            format!("document is {what}, not a Kubernetes object"),
        ));
        return;
    }
    let is_list = value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k == "List" || k.ends_with("List"))
        && value.get("items").is_some_and(Value::is_array);
    let items: Vec<(String, Value)> = if is_list {
        let Value::Object(mut map) = value else {
            return;
        };
        let Some(Value::Array(items)) = map.remove("items") else {
            return;
        };
        items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("/items/{i}"), v))
            .collect()
    } else {
        vec![(String::new(), value)]
    };
    for (prefix, item) in items {
        let origin = Origin {
            source,
            document: span,
            prefix: prefix.clone(),
        };
        match Object::from_value(item, Some(origin)) {
            Ok(Some(object)) => objects.push(object),
            Ok(None) => {}
            Err(e) => {
                let pointer = format!("{prefix}{}", e.pointer);
                let pos = yaml::locate(doc, &[pointer.as_str()])[0];
                errors.push(InputError::at(path, pos, e.message));
            }
        }
    }
}

/// Reads one input into text. `-` is standard input.
///
/// # Errors
/// The file cannot be opened or read, is larger than [`MAX_FILE_BYTES`], or is not UTF-8 text.
pub fn read_input(path: &Path) -> Result<(String, String), InputError> {
    let name = if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    };
    let mut bytes = Vec::new();
    let result = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        match std::fs::metadata(path) {
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                return Err(InputError::file(
                    &name,
                    format!(
                        "file is {} MiB, over the {} MiB limit",
                        m.len() >> 20,
                        MAX_FILE_BYTES >> 20
                    ),
                ));
            }
            Ok(_) => std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)),
            Err(e) => Err(e),
        }
    };
    if let Err(e) = result {
        return Err(InputError::file(&name, format!("cannot read: {e}")));
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(InputError::file(&name, "input is over the size limit"));
    }
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Err(InputError::file(
            &name,
            "binary file (contains NUL bytes), skipped",
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok((name, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            Err(InputError {
                file: Some(name),
                line: Some(line),
                column: None,
                message: "not UTF-8 text (binary?), skipped".into(),
            })
        }
    }
}

/// Expands the user's paths into the files to read: a file is read whatever its name, a folder
/// is walked recursively for `.yaml`, `.yml` and `.json` files (hidden entries skipped), in a
/// stable order so reports are reproducible.
#[must_use]
pub fn expand_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<InputError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path == Path::new("-") {
            files.push(path.clone());
            continue;
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => walk_dir(path, &mut files, &mut errors),
            Ok(_) => files.push(path.clone()),
            Err(e) => errors.push(InputError::file(
                &path.display().to_string(),
                format!("cannot read: {e}"),
            )),
        }
    }
    (files, errors)
}

fn walk_dir(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(InputError::file(
                &dir.display().to_string(),
                format!("cannot read folder: {e}"),
            ));
            return;
        }
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        // `metadata` follows links; a dangling link is reported like any unreadable file.
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk_dir(&path, files, errors),
            Ok(_) => {
                let manifest_like = path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(e.to_ascii_lowercase().as_str(), "yaml" | "yml" | "json")
                });
                if manifest_like {
                    files.push(path);
                }
            }
            Err(e) => errors.push(InputError::file(
                &path.display().to_string(),
                format!("cannot read: {e}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Kind;

    const SHOP: &str = "\
# Source: shop/templates/svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  ports:
    - port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: broken
spec:
  ports: [ {port: 80
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: k8s.io/ingress-nginx
";

    #[test]
    fn a_broken_document_is_reported_and_the_others_are_read() {
        let mut m = Manifests::default();
        m.add_text("shop.yaml", SHOP.to_owned());
        let names: Vec<&str> = m.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["web", "nginx"]);
        assert_eq!(m.errors.len(), 1);
        assert_eq!(m.errors[0].file.as_deref(), Some("shop.yaml"));
        assert!(m.errors[0].line.unwrap() >= 15, "{:?}", m.errors[0]);
        assert_eq!(m.documents, 3);
    }

    #[test]
    fn kind_list_items_become_objects_with_their_own_positions() {
        let text = r#"{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "x"}},
  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b", "namespace": "x"},
   "spec": {"ports": [{"port": "nope"}]}}
]}"#;
        let mut m = Manifests::default();
        m.add_text("list.json", text.to_owned());
        assert_eq!(m.objects.len(), 1);
        assert_eq!(m.objects[0].origin.as_ref().unwrap().prefix, "/items/0");
        assert_eq!(m.errors.len(), 1);
        assert_eq!(m.errors[0].line, Some(4), "{:?}", m.errors[0]);
        assert!(m.errors[0].message.contains("/spec/ports/0/port"));
    }

    #[test]
    fn typed_lists_from_kubectl_are_read() {
        let text = "apiVersion: networking.k8s.io/v1\nkind: IngressList\nitems:\n- apiVersion: networking.k8s.io/v1\n  kind: Ingress\n  metadata: {name: a, namespace: x}\n  spec: {}\n";
        let mut m = Manifests::default();
        m.add_text("l.yaml", text.to_owned());
        assert_eq!(m.objects.len(), 1);
        assert_eq!(m.objects[0].kind, Kind::Ingress);
    }

    #[test]
    fn plain_text_is_an_error_not_an_object() {
        let mut m = Manifests::default();
        m.add_text("notes.yaml", "just some words\n".to_owned());
        assert!(m.objects.is_empty());
        assert!(m.errors[0].message.contains("not a Kubernetes object"));
    }

    #[test]
    fn non_kubernetes_yaml_is_skipped_silently() {
        let mut m = Manifests::default();
        m.add_text(
            "values.yaml",
            "replicaCount: 2\nimage: {tag: v1}\n".to_owned(),
        );
        m.add_text("kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n".to_owned());
        assert!(m.objects.is_empty());
        assert!(m.errors.is_empty());
    }

    #[test]
    fn loading_in_parallel_gives_the_same_result_in_the_same_order() {
        let dir = std::env::temp_dir().join(format!("tollgate-par-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut files = Vec::new();
        for i in 0..40 {
            let path = dir.join(format!("f{i:02}.yaml"));
            let body = if i % 7 == 3 {
                "a: [\n".to_owned()
            } else {
                format!("apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: n}}\n")
            };
            std::fs::write(&path, body).unwrap();
            files.push(path);
        }
        let mut serial = Manifests::default();
        for f in &files {
            serial.add_path(f);
        }
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let parallel = Manifests::load_parallel(&files, 4, &|_| {
            seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(seen.into_inner(), files.len());
        let names = |m: &Manifests| m.objects.iter().map(|o| o.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&parallel), names(&serial));
        assert_eq!(parallel.errors, serial.errors);
        assert_eq!(parallel.documents, serial.documents);
        let origins = |m: &Manifests| {
            m.objects
                .iter()
                .map(|o| m.sources[o.origin.as_ref().unwrap().source].path.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(origins(&parallel), origins(&serial));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_in_one_file_are_capped_with_a_summary() {
        let text = "a: [\n---\n".repeat(30);
        let mut m = Manifests::default();
        m.add_text("bad.yaml", text);
        assert_eq!(m.errors.len(), MAX_ERRORS_PER_FILE + 1);
        assert!(m.errors.last().unwrap().message.contains("more errors"));
    }
}
