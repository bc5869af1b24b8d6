//! Kubernetes audit events (`audit.k8s.io/v1` `Event`) as Tollgate receives them, and a reader for
//! the shapes they arrive in.
//!
//! Audit events are how Tollgate learns *who* changed an object: the watch says what changed, the
//! audit event says which authenticated user (and which impersonator) sent the request, from where,
//! with which field manager. [`read_events`] accepts
//! - the log backend's JSON lines (`--audit-log-format json`, one `Event` per line),
//! - one `EventList`, as the webhook backend POSTs it (also pretty-printed over many lines),
//! - GKE Cloud Audit Logs entries (`protoPayload` of type `google.cloud.audit.AuditLog`), mapped
//!   onto an `Event` as far as they carry the information,
//! - AKS diagnostic-settings records (`category` `kube-audit` or `kube-audit-admin`, the event in
//!   `properties.log` as a JSON string or object), alone or in a `records` array,
//!
//! and any JSON array of those. A bad line or item never stops the read: it becomes an
//! [`AuditReadError`] naming the file and line, and everything else is still read.
//!
//! **Secret material is never kept.** When an event is about a Secret (`objectRef.resource` is
//! `secrets`), a service-account token request (`serviceaccounts/token`) or a `tokenreviews`
//! request, its `requestObject` and `responseObject` are dropped as the event is read, together with
//! every annotation that could quote the object (a mutating webhook's recorded patch, a policy's
//! message, a webhook's own annotations); the authorizer's decision and the other annotations the
//! API server fills with metadata stay. Only the metadata (who, when, which object, the outcome) is
//! kept. The recommended audit policy logs these at `Metadata` level
//! anyway; this is the guarantee for clusters whose policy does not.
//!
//! Fields Tollgate has no use for and that are not in the `audit.k8s.io/v1` schema are not kept.

use std::borrow::Cow;
use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The verbs that change objects. Everything else (`get`, `list`, `watch`, ...) only reads.
const MUTATING_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

/// Annotations an event about Secret-like material keeps: those the API server fills with
/// metadata only (the authorizer's decision, which webhooks ran, Pod Security, deprecation,
/// latency). Every other annotation goes with the bodies: a mutating webhook's recorded patch
/// (`patch.webhook.admission.k8s.io/...`), a policy's failure message and a webhook's own audit
/// annotations can all quote the object.
const METADATA_ONLY_ANNOTATION_PREFIXES: [&str; 8] = [
    "authorization.k8s.io/",
    "mutation.webhook.admission.k8s.io/",
    "failed-open.",
    "pod-security.kubernetes.io/",
    "k8s.io/deprecated",
    "k8s.io/removed-release",
    "apiserver.latency.k8s.io/",
    "audit.k8s.io/truncated",
];

/// The `@type` of a GKE Cloud Audit Logs payload.
const GKE_AUDIT_LOG_TYPE: &str = "type.googleapis.com/google.cloud.audit.AuditLog";

/// How much of a request the audit policy had the API server record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditLevel {
    /// Not logged at all (never seen in a delivered event, kept for completeness).
    None,
    /// User, time, object and verb; no bodies.
    Metadata,
    /// Metadata and the request body.
    Request,
    /// Metadata, the request body and the response body.
    RequestResponse,
}

/// The point in the request's life an event was emitted at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditStage {
    /// Before the handler chain ran.
    RequestReceived,
    /// Response headers sent; only long-running requests (watch, exec) have it.
    ResponseStarted,
    /// The response is complete.
    ResponseComplete,
    /// The handler panicked.
    Panic,
}

impl AuditStage {
    /// The stage as the API server spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            AuditStage::RequestReceived => "RequestReceived",
            AuditStage::ResponseStarted => "ResponseStarted",
            AuditStage::ResponseComplete => "ResponseComplete",
            AuditStage::Panic => "Panic",
        }
    }
}

/// An authenticated identity (`authentication/v1.UserInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// The user name, e.g. `alice@example.com` or `system:serviceaccount:argocd:argocd-server`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// A unique id of the user, when the authenticator gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The groups the user is in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Further authenticator-provided information (pod name of a projected token, EKS ARN, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

/// The object a request was about (absent for list and non-resource requests).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// The plural resource, e.g. `ingresses`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The namespace; absent for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The name; can be absent on a create whose name the server generates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The object's uid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The API group; empty or absent for the core group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// The API version, e.g. `v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The resourceVersion the request named, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// The subresource, e.g. `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
}

/// The outcome of a request (`meta/v1.Status`): for success usually only the code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseStatus {
    /// The HTTP status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// `Success` or `Failure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A machine-readable reason such as `Forbidden`, `NotFound` or `Invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Extended data the server attached (causes of a validation failure, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// One `audit.k8s.io/v1` (or `v1beta1`) `Event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// `audit.k8s.io/v1`, or `audit.k8s.io/v1beta1` in older logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// `Event`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The level the audit policy chose; it decides whether bodies are present.
    pub level: AuditLevel,
    /// Unique per request and the same across its stages: with `stage`, the deduplication key.
    #[serde(rename = "auditID")]
    pub audit_id: String,
    /// The stage this event was emitted at.
    pub stage: AuditStage,
    /// The URI as the client sent it, with its query string (`?fieldManager=...`, `?dryRun=All`).
    #[serde(rename = "requestURI", default)]
    pub request_uri: String,
    /// The Kubernetes verb (`create`, `patch`, `get`, ...), or the lower-cased HTTP method for
    /// non-resource URLs.
    pub verb: String,
    /// The authenticated caller. When the request impersonated someone, this is the impersonator.
    pub user: UserInfo,
    /// The user the request impersonated (`Impersonate-*` headers), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<UserInfo>,
    /// Source addresses: X-Forwarded-For, then X-Real-Ip, then the remote address. All but the
    /// last can be set by the client.
    #[serde(rename = "sourceIPs", default, skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<String>,
    /// The client's User-Agent (client-supplied, untrusted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The object the request was about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_ref: Option<ObjectRef>,
    /// The outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<ResponseStatus>,
    /// The request body at `Request` level and above (for a patch: the patch document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object: Option<Value>,
    /// The response body at `RequestResponse` level: the object as persisted, or a Status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_object: Option<Value>,
    /// When the request reached the API server.
    #[serde(
        default,
        with = "optional_micro_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_received_timestamp: Option<Timestamp>,
    /// When this stage was reached: the time Tollgate orders and joins by.
    #[serde(with = "micro_time")]
    pub stage_timestamp: Timestamp,
    /// Annotations set by authorizers and admission (`authorization.k8s.io/decision`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Authentication details added in Kubernetes 1.35 (constrained impersonation), kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_metadata: Option<Value>,
}

impl AuditEvent {
    /// True for the verbs that change objects: create, update, patch, delete, deletecollection.
    #[must_use]
    pub fn is_mutating(&self) -> bool {
        MUTATING_VERBS.contains(&self.verb.as_str())
    }

    /// True when the request was refused or failed (`responseStatus.code >= 400`): an attempted
    /// change, not an applied one.
    #[must_use]
    pub fn denied(&self) -> bool {
        self.response_code().is_some_and(|code| code >= 400)
    }

    /// The HTTP status code of the response, when recorded.
    #[must_use]
    pub fn response_code(&self) -> Option<i32> {
        self.response_status.as_ref()?.code
    }

    /// The `fieldManager` query parameter of the request URI, percent-decoded: the key that joins
    /// this event to a managedFields entry of the object.
    #[must_use]
    pub fn field_manager(&self) -> Option<Cow<'_, str>> {
        query_parameter(&self.request_uri, "fieldManager")
    }

    /// The user the request acted as: the impersonated user when there was one, else the
    /// authenticated user.
    #[must_use]
    pub fn effective_user(&self) -> &UserInfo {
        self.impersonated_user.as_ref().unwrap_or(&self.user)
    }

    /// The impersonator: when the request impersonated someone, the authenticated `user` is the one
    /// who did it (and [`effective_user`](Self::effective_user) is whom they acted as). `None` when
    /// there was no impersonation.
    #[must_use]
    pub fn impersonated_by(&self) -> Option<&UserInfo> {
        self.impersonated_user.as_ref().map(|_| &self.user)
    }

    /// `responseObject.metadata.resourceVersion`: the resourceVersion the write produced, which is
    /// the one the watch sees next (needs `RequestResponse` level).
    #[must_use]
    pub fn response_resource_version(&self) -> Option<&str> {
        self.response_object
            .as_ref()?
            .get("metadata")?
            .get("resourceVersion")?
            .as_str()
            .filter(|version| !version.is_empty())
    }

    /// `stageTimestamp` in milliseconds since the Unix epoch.
    #[must_use]
    pub fn stage_time_ms(&self) -> i64 {
        self.stage_timestamp.as_millisecond()
    }

    /// True when the event is about Secret-like material whose bodies must never be kept: Secrets
    /// (`objectRef.resource == "secrets"`, any group), service-account token requests
    /// (`serviceaccounts/token`) and `tokenreviews`.
    #[must_use]
    pub fn is_about_secrets(&self) -> bool {
        let Some(object) = &self.object_ref else {
            return false;
        };
        match object.resource.as_deref() {
            Some("secrets" | "tokenreviews") => true,
            Some("serviceaccounts") => object.subresource.as_deref() == Some("token"),
            _ => false,
        }
    }

    /// Drops the request and response bodies of an event about Secret-like material, and every
    /// annotation that could quote them (all but the metadata-only ones), keeping its metadata.
    /// Returns whether anything was dropped. The reader calls this on every event; call it on
    /// events built any other way before keeping them.
    pub fn drop_secret_payloads(&mut self) -> bool {
        if !self.is_about_secrets() {
            return false;
        }
        let had_request = self.request_object.take().is_some();
        let had_response = self.response_object.take().is_some();
        let annotations_before = self.annotations.len();
        self.annotations.retain(|key, _| {
            METADATA_ONLY_ANNOTATION_PREFIXES
                .iter()
                .any(|prefix| key.starts_with(prefix))
        });
        had_request || had_response || self.annotations.len() != annotations_before
    }

    /// The event as JSON, with the bodies of Secret-like events left out even when this copy still
    /// has them: what a store persists.
    #[must_use]
    pub fn to_json_without_secrets(&self) -> String {
        if self.is_about_secrets() {
            let mut redacted = self.clone();
            redacted.drop_secret_payloads();
            json_string(&redacted)
        } else {
            json_string(self)
        }
    }
}

/// Serializes a value whose every field serializes infallibly (no maps with non-string keys).
fn json_string(event: &AuditEvent) -> String {
    serde_json::to_string(event).unwrap_or_default()
}

/// An input that could not be read as audit events: `file:line: reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct AuditReadError {
    /// The file name as given to [`read_events`].
    pub file: String,
    /// The 1-based line the bad input starts on.
    pub line: usize,
    /// Why it could not be read.
    pub reason: String,
}

/// Reads every audit event in `text` (see the module documentation for the shapes accepted).
/// `file` names the input in errors. Events come back in input order; every bad line or item is
/// an error and the rest are still read.
#[must_use]
pub fn read_events(text: &str, file: &str) -> (Vec<AuditEvent>, Vec<AuditReadError>) {
    let mut reader = Reader {
        file,
        events: Vec::new(),
        errors: Vec::new(),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // One document (an EventList, a pretty-printed Event, an AKS `records` wrapper, a JSON array)
    // parses as a whole; JSON lines stop at the second line with "trailing characters", which costs
    // only the first line's parse.
    match serde_json::from_str::<Value>(text) {
        Ok(document) => {
            let first_line = first_content_line(text);
            reader.read_value(document, first_line, "");
        }
        Err(document_error) => reader.read_lines(text, &document_error),
    }
    (reader.events, reader.errors)
}

/// The 1-based number of the first line that is not blank.
fn first_content_line(text: &str) -> usize {
    text.lines()
        .position(|line| !line.trim().is_empty())
        .map_or(1, |index| index + 1)
}

struct Reader<'a> {
    file: &'a str,
    events: Vec<AuditEvent>,
    errors: Vec<AuditReadError>,
}

impl Reader<'_> {
    fn error(&mut self, line: usize, reason: String) {
        self.errors.push(AuditReadError {
            file: self.file.to_owned(),
            line,
            reason,
        });
    }

    /// JSON lines: every non-blank line is one document.
    fn read_lines(&mut self, text: &str, document_error: &serde_json::Error) {
        let mut any_line_was_json = false;
        let errors_before = self.errors.len();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(line) {
                Ok(value) => {
                    any_line_was_json |= value.is_object() || value.is_array();
                    self.read_value(value, line_number, "");
                }
                Err(error) => self.error(
                    line_number,
                    format!("not JSON: {}", describe_json_error(&error, true)),
                ),
            }
        }
        // A pretty-printed document with one mistake in it is not JSON lines: one error at the
        // mistake says more than an error for each of its lines.
        let starts_like_a_document = text.trim_start().starts_with(['{', '[']);
        if !any_line_was_json && starts_like_a_document && self.errors.len() > errors_before + 1 {
            self.errors.truncate(errors_before);
            // serde_json counts a line past a trailing line break; point at the last line then.
            let last_line = text.lines().count().max(1);
            self.error(
                document_error.line().clamp(1, last_line),
                format!("not JSON: {}", describe_json_error(document_error, false)),
            );
        }
    }

    /// Dispatches one JSON document on its shape. `path` locates it inside its line or document
    /// (`items[3]`, `records[0]`) for error messages.
    fn read_value(&mut self, value: Value, line: usize, path: &str) {
        let Value::Object(mut object) = value else {
            if let Value::Array(items) = value {
                self.read_items(items, line, path, "");
            } else {
                self.error(line, format!("{}{}", at(path), NOT_AN_EVENT));
            }
            return;
        };
        if object.get("kind").and_then(Value::as_str) == Some("EventList")
            || (object.contains_key("items") && !object.contains_key("auditID"))
        {
            match object.remove("items") {
                Some(Value::Array(items)) => self.read_items(items, line, path, "items"),
                Some(Value::Null) | None => {}
                Some(_) => self.error(line, format!("{}`items` is not a list", at(path))),
            }
        } else if object.contains_key("protoPayload") {
            match gke_entry_to_event(object) {
                Ok(event) => self.push(event),
                Err(reason) => self.error(line, format!("{}{reason}", at(path))),
            }
        } else if let Some(records) = object.remove("records") {
            match records {
                Value::Array(items) => self.read_items(items, line, path, "records"),
                _ => self.error(line, format!("{}`records` is not a list", at(path))),
            }
        } else if object.contains_key("category") && object.contains_key("properties") {
            match aks_record_to_event(object) {
                Ok(event) => self.push(event),
                Err(reason) => self.error(line, format!("{}{reason}", at(path))),
            }
        } else {
            match serde_json::from_value::<AuditEvent>(Value::Object(object)) {
                Ok(event) => self.push(event),
                Err(error) => self.error(
                    line,
                    format!(
                        "{}not an audit event: {}",
                        at(path),
                        describe_json_error(&error, false)
                    ),
                ),
            }
        }
    }

    fn read_items(&mut self, items: Vec<Value>, line: usize, path: &str, field: &str) {
        for (index, item) in items.into_iter().enumerate() {
            let item_path = if path.is_empty() {
                format!("{field}[{index}]")
            } else {
                format!("{path}.{field}[{index}]")
            };
            self.read_value(item, line, &item_path);
        }
    }

    fn push(&mut self, mut event: AuditEvent) {
        event.drop_secret_payloads();
        self.events.push(event);
    }
}

const NOT_AN_EVENT: &str =
    "not an audit event: expected an Event, an EventList, a GKE log entry or an AKS record";

/// `items[3]: ` before a message about a nested document, nothing for a top-level one.
fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

/// serde_json's message without its " at line L column C" suffix; for a single line, the column
/// is kept since the line number is already known.
fn describe_json_error(error: &serde_json::Error, keep_column: bool) -> String {
    let message = error.to_string();
    let bare = message
        .find(" at line ")
        .and_then(|cut| message.get(..cut))
        .unwrap_or(&message);
    if keep_column && error.column() > 0 {
        format!("{bare} (column {})", error.column())
    } else {
        bare.to_owned()
    }
}

/// The value of `name` in the query string of `uri`, percent-decoded; `None` when absent or empty.
fn query_parameter<'a>(uri: &'a str, name: &str) -> Option<Cow<'a, str>> {
    let (_, query) = uri.split_once('?')?;
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| percent_decode(value))
        .filter(|value| !value.is_empty())
}

/// Decodes `%XX` escapes and `+` (a space in a query string). Invalid escapes are kept as they are;
/// bytes that do not form UTF-8 are replaced.
fn percent_decode(value: &str) -> Cow<'_, str> {
    if !value.contains(['%', '+']) {
        return Cow::Borrowed(value);
    }
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let escaped = match (byte, bytes.get(index + 1), bytes.get(index + 2)) {
            (b'%', Some(&high), Some(&low)) => hex_value(high).zip(hex_value(low)),
            _ => None,
        };
        if let Some((high, low)) = escaped {
            decoded.push(high << 4 | low);
            index += 3;
        } else {
            decoded.push(if byte == b'+' { b' ' } else { byte });
            index += 1;
        }
    }
    Cow::Owned(String::from_utf8_lossy(&decoded).into_owned())
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// An AKS diagnostic-settings record: the event is in `properties.log`, as a JSON string or (in
/// some exports) as an object.
fn aks_record_to_event(mut record: Map<String, Value>) -> Result<AuditEvent, String> {
    let category = record
        .get("category")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !category.starts_with("kube-audit") {
        return Err(format!(
            "AKS record of category {category:?} is not an audit event (expected kube-audit or kube-audit-admin)"
        ));
    }
    let log = record
        .get_mut("properties")
        .and_then(|properties| properties.get_mut("log"))
        .map(Value::take);
    let event = match log {
        Some(Value::String(text)) => serde_json::from_str::<AuditEvent>(&text),
        Some(object @ Value::Object(_)) => serde_json::from_value::<AuditEvent>(object),
        _ => return Err("AKS record without properties.log".to_owned()),
    };
    event.map_err(|error| {
        format!(
            "properties.log of the AKS record is not an audit event: {}",
            describe_json_error(&error, false)
        )
    })
}

/// A GKE Cloud Audit Logs entry mapped onto an `Event`. GKE does not carry the request URI (so no
/// field manager), the user's groups or the stage; the entry is complete when logged, so the stage
/// is `ResponseComplete`, and the level follows from the bodies present.
fn gke_entry_to_event(mut entry: Map<String, Value>) -> Result<AuditEvent, String> {
    let Some(Value::Object(mut payload)) = entry.remove("protoPayload") else {
        return Err("protoPayload is not an object".to_owned());
    };
    let payload_type = payload.get("@type").and_then(Value::as_str).unwrap_or("");
    if payload_type != GKE_AUDIT_LOG_TYPE {
        return Err(format!(
            "GKE log entry of type {payload_type:?} is not an audit log (expected {GKE_AUDIT_LOG_TYPE})"
        ));
    }
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
    let method = text(payload.get("methodName")).unwrap_or_default();
    let verb = method.rsplit('.').next().unwrap_or_default().to_owned();
    if verb.is_empty() {
        return Err("GKE audit log entry without methodName".to_owned());
    }
    let timestamp = entry
        .get("timestamp")
        .and_then(Value::as_str)
        .ok_or("GKE audit log entry without timestamp")?;
    let stage_timestamp: Timestamp = timestamp
        .parse()
        .map_err(|error| format!("timestamp {timestamp:?} is not RFC 3339: {error}"))?;
    let audit_id = text(entry.get("operation").and_then(|op| op.get("id")))
        .or_else(|| text(entry.get("insertId")))
        .ok_or("GKE audit log entry without operation.id or insertId")?;
    let username = text(
        payload
            .get("authenticationInfo")
            .and_then(|info| info.get("principalEmail")),
    )
    .unwrap_or_default();
    let metadata = payload.get("requestMetadata");
    let source_ips = text(metadata.and_then(|m| m.get("callerIp")))
        .into_iter()
        .collect();
    let user_agent = text(metadata.and_then(|m| m.get("callerSuppliedUserAgent")));
    let object_ref = payload
        .get("resourceName")
        .and_then(Value::as_str)
        .map(gke_resource_name_to_object_ref);
    let rpc_code = payload
        .get("status")
        .and_then(|status| status.get("code"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let message = text(
        payload
            .get("status")
            .and_then(|status| status.get("message")),
    )
    .filter(|message| !message.is_empty());
    let response_status = ResponseStatus {
        code: Some(http_code_of_rpc_code(rpc_code)),
        status: (rpc_code != 0).then(|| "Failure".to_owned()),
        message,
        ..ResponseStatus::default()
    };
    let request_object = payload.remove("request");
    let response_object = payload.remove("response");
    let level = if response_object.is_some() {
        AuditLevel::RequestResponse
    } else if request_object.is_some() {
        AuditLevel::Request
    } else {
        AuditLevel::Metadata
    };
    // GKE puts the authorizer's decision and reason in the entry's labels.
    let annotations = match entry.remove("labels") {
        Some(Value::Object(labels)) => labels
            .into_iter()
            .filter_map(|(key, value)| match value {
                Value::String(value) => Some((key, value)),
                _ => None,
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    Ok(AuditEvent {
        api_version: Some("audit.k8s.io/v1".to_owned()),
        kind: Some("Event".to_owned()),
        level,
        audit_id,
        stage: AuditStage::ResponseComplete,
        request_uri: String::new(),
        verb,
        user: UserInfo {
            username,
            ..UserInfo::default()
        },
        impersonated_user: None,
        source_ips,
        user_agent,
        object_ref,
        response_status: Some(response_status),
        request_object,
        response_object,
        request_received_timestamp: None,
        stage_timestamp,
        annotations,
        authentication_metadata: None,
    })
}

/// `networking.k8s.io/v1/namespaces/shop/ingresses/web` (or `core/v1/...` for the core group,
/// with an optional trailing subresource) as an object reference.
fn gke_resource_name_to_object_ref(resource_name: &str) -> ObjectRef {
    let mut segments = resource_name.split('/').filter(|s| !s.is_empty());
    let group = segments.next().unwrap_or_default();
    let version = segments.next();
    let rest: Vec<&str> = segments.collect();
    let (namespace, rest) = match rest.as_slice() {
        ["namespaces", namespace, tail @ ..] if !tail.is_empty() => (Some(*namespace), tail),
        _ => (None, rest.as_slice()),
    };
    let owned = |segment: Option<&&str>| segment.map(|s| (*s).to_owned());
    ObjectRef {
        resource: owned(rest.first()),
        namespace: namespace.map(str::to_owned),
        name: owned(rest.get(1)),
        api_group: Some(if group == "core" { "" } else { group }.to_owned()),
        api_version: version.map(str::to_owned),
        subresource: owned(rest.get(2)),
        ..ObjectRef::default()
    }
}

/// The HTTP status for a `google.rpc.Code`, as Google's API design guide maps them.
fn http_code_of_rpc_code(code: i64) -> i32 {
    match code {
        0 => 200,
        1 => 499,
        3 | 9 | 11 => 400,
        4 => 504,
        5 => 404,
        6 | 10 => 409,
        7 => 403,
        8 => 429,
        12 => 501,
        14 => 503,
        16 => 401,
        _ => 500,
    }
}

/// `MicroTime` (RFC 3339 with microseconds) in and out of a [`Timestamp`].
mod micro_time {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{time:.6}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(|error| {
            serde::de::Error::custom(format_args!("{text:?} is not an RFC 3339 time: {error}"))
        })
    }
}

/// [`micro_time`] for an optional field.
mod optional_micro_time {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::ref_option)] // serde's `with` passes the field by reference.
    pub fn serialize<S: Serializer>(
        time: &Option<Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => super::micro_time::serialize(time, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapper(#[serde(with = "super::micro_time")] Timestamp);
        Ok(Option::<Wrapper>::deserialize(deserializer)?.map(|Wrapper(time)| time))
    }
}
