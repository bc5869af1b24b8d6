//! An in-process fake Kubernetes API server for the tests of `--cluster`: it speaks the list
//! protocol the way a real API server does, so the client is tested against the wire format
//! rather than against our own idea of it.
//!
//! What it implements:
//! - `GET /api/{version}/{plural}`, `/api/{version}/namespaces/{ns}/{plural}`,
//!   `/apis/{group}/{version}/{plural}` and `/apis/{group}/{version}/namespaces/{ns}/{plural}`
//!   for every kind in [`Kind::ALL`], answering with a `…List` object whose items carry no
//!   `apiVersion`/`kind`, as real servers send them;
//! - `limit` and `continue`: pages of at most `min(limit, page size)` items, opaque `continue`
//!   tokens issued by the server and checked on use (an unknown token is 410 Gone, a token used
//!   for another list is 400), `remainingItemCount` while more follow;
//! - bearer-token authentication (401 `Status` when the token is wrong or missing);
//! - 403 `Status` for chosen resources, worded as the RBAC authorizer words it;
//! - 404 `Status` for anything else, including a cluster-scoped resource under `/namespaces/`;
//! - server-side fields on every object (`uid`, `resourceVersion`, `creationTimestamp`,
//!   `generation`, `managedFields`, kubectl's `last-applied-configuration` annotation, defaulted
//!   spec fields and `status`), and Secrets' `stringData` folded into base64 `data`;
//! - a record of every request (method, path and query, `Authorization` header).
//!
//! It runs on its own thread with its own Tokio runtime, so a test can drive the real binary
//! synchronously while the server answers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use axum::Router;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use tollgate_core::object::Kind;
use tollgate_core::yaml::{parse_document, split_documents};

/// The `resourceVersion` of every list the fake serves: nothing changes while a test runs.
const LIST_RESOURCE_VERSION: u64 = 48_213;
/// When every fixture object was "created".
const CREATED: &str = "2025-11-03T09:14:27Z";
/// The identity the RBAC messages name.
const USER: &str = "system:serviceaccount:tollgate:scanner";

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query string, as sent.
    pub path_and_query: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
}

impl RecordedRequest {
    /// The path without the query string.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(p, _)| p)
    }

    /// One query parameter's raw value.
    pub fn query(&self, key: &str) -> Option<&str> {
        let (_, query) = self.path_and_query.split_once('?')?;
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    /// The resource plural this request lists: the last path segment.
    pub fn plural(&self) -> &str {
        self.path().rsplit('/').next().unwrap_or("")
    }

    /// Whether the request names a namespace (`/namespaces/{ns}/{plural}`).
    pub fn namespace(&self) -> Option<&str> {
        let segments: Vec<&str> = self.path().split('/').collect();
        let n = segments.len();
        (n >= 3 && segments[n - 3] == "namespaces").then(|| segments[n - 2])
    }
}

/// How to set up a fake server.
#[derive(Debug, Default)]
pub struct Builder {
    objects: Vec<Value>,
    page_size: Option<usize>,
    forbidden: BTreeSet<String>,
    unserved: BTreeSet<String>,
    token: Option<String>,
}

impl Builder {
    /// Serves every object of every `*.yaml` file in `dir` (as `kubectl apply -f dir` would
    /// have created them).
    pub fn objects_from_dir(mut self, dir: &Path) -> Self {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("fixture is readable");
            for doc in split_documents(&text) {
                let value =
                    parse_document(doc).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                if let Some(value) = value {
                    self.objects.push(value);
                }
            }
        }
        self
    }

    /// Serves one more object (full JSON with `apiVersion` and `kind`).
    pub fn object(mut self, object: Value) -> Self {
        self.objects.push(object);
        self
    }

    /// Caps every page at `n` items whatever `limit` the client asks for. Real servers may
    /// return fewer items than `limit`; clients must follow `continue` regardless.
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = Some(n);
        self
    }

    /// Answers 403 Forbidden to every list of this resource (a plural, e.g. `secrets`).
    pub fn forbid(mut self, plural: &str) -> Self {
        self.forbidden.insert(plural.to_owned());
        self
    }

    /// Answers 404 Not Found to every list of this resource, as a server without the CRD does
    /// (e.g. `certificates` without cert-manager).
    pub fn unserve(mut self, plural: &str) -> Self {
        self.unserved.insert(plural.to_owned());
        self
    }

    /// Requires `Authorization: Bearer {token}` on every request.
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Binds 127.0.0.1 on a free port and starts serving on a background thread.
    pub fn start(self) -> FakeApiServer {
        let mut store: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
        for (serial, object) in self.objects.into_iter().enumerate() {
            let api_version = object["apiVersion"].as_str().unwrap_or_default();
            let kind = object["kind"].as_str().unwrap_or_default();
            let Some(kind) = Kind::from_type(api_version, kind) else {
                continue;
            };
            store
                .entry(kind.api_path().plural)
                .or_default()
                .push(as_stored(kind, object, serial));
        }
        for items in store.values_mut() {
            // etcd returns keys in order: namespace, then name.
            items.sort_by(|a, b| {
                let key = |v: &Value| {
                    (
                        v["metadata"]["namespace"].as_str().unwrap_or("").to_owned(),
                        v["metadata"]["name"].as_str().unwrap_or("").to_owned(),
                    )
                };
                key(a).cmp(&key(b))
            });
        }
        let shared = Arc::new(Shared {
            store,
            page_size: self.page_size,
            forbidden: self.forbidden,
            unserved: self.unserved,
            token: self.token,
            requests: Mutex::default(),
            cursors: Mutex::default(),
        });

        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("bound address");
        let app = Router::new()
            .route("/api/{version}/{plural}", get(list_core))
            .route(
                "/api/{version}/namespaces/{namespace}/{plural}",
                get(list_core_namespaced),
            )
            .route("/apis/{group}/{version}/{plural}", get(list_group))
            .route(
                "/apis/{group}/{version}/namespaces/{namespace}/{plural}",
                get(list_group_namespaced),
            )
            .fallback(not_found)
            .layer(middleware::from_fn_with_state(
                Arc::clone(&shared),
                record_and_authenticate,
            ))
            .with_state(Arc::clone(&shared));
        let (stop, stopped) = futures::channel::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("fake API server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("fake API server");
            });
        });
        FakeApiServer {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

/// A running fake API server; stops when dropped.
pub struct FakeApiServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<futures::channel::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeApiServer {
    /// A server with no objects yet.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().expect("request log").clone()
    }

    /// The requests that listed one resource (by plural).
    pub fn requests_for(&self, plural: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.plural() == plural)
            .collect()
    }

    /// The objects of one resource exactly as the server holds them (server fields included,
    /// `apiVersion`/`kind` absent, as in a list).
    pub fn stored(&self, plural: &str) -> &[Value] {
        self.shared.store.get(plural).map_or(&[], Vec::as_slice)
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Shared {
    /// Items per resource plural, in etcd key order.
    store: BTreeMap<&'static str, Vec<Value>>,
    page_size: Option<usize>,
    forbidden: BTreeSet<String>,
    unserved: BTreeSet<String>,
    token: Option<String>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// Continue token → where the next page starts.
    cursors: Mutex<HashMap<String, Cursor>>,
}

/// What a `continue` token stands for.
#[derive(Debug, Clone)]
struct Cursor {
    /// The list it continues: request path without the query.
    list: String,
    /// Index of the first item of the next page.
    offset: usize,
}

type Params = Query<HashMap<String, String>>;

async fn record_and_authenticate(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    shared
        .requests
        .lock()
        .expect("request log")
        .push(RecordedRequest {
            method: request.method().to_string(),
            path_and_query: request
                .uri()
                .path_and_query()
                .map_or_else(|| request.uri().path().to_owned(), ToString::to_string),
            authorization: authorization.clone(),
        });
    if let Some(token) = &shared.token
        && authorization.as_deref() != Some(format!("Bearer {token}").as_str())
    {
        return status(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Unauthorized",
            json!({}),
        );
    }
    next.run(request).await
}

async fn list_core(
    State(shared): State<Arc<Shared>>,
    UrlPath((version, plural)): UrlPath<(String, String)>,
    Query(params): Params,
) -> Response {
    list(&shared, "", &version, None, &plural, &params)
}

async fn list_core_namespaced(
    State(shared): State<Arc<Shared>>,
    UrlPath((version, namespace, plural)): UrlPath<(String, String, String)>,
    Query(params): Params,
) -> Response {
    list(&shared, "", &version, Some(&namespace), &plural, &params)
}

async fn list_group(
    State(shared): State<Arc<Shared>>,
    UrlPath((group, version, plural)): UrlPath<(String, String, String)>,
    Query(params): Params,
) -> Response {
    list(&shared, &group, &version, None, &plural, &params)
}

async fn list_group_namespaced(
    State(shared): State<Arc<Shared>>,
    UrlPath((group, version, namespace, plural)): UrlPath<(String, String, String, String)>,
    Query(params): Params,
) -> Response {
    list(
        &shared,
        &group,
        &version,
        Some(&namespace),
        &plural,
        &params,
    )
}

async fn not_found() -> Response {
    not_found_status()
}

fn not_found_status() -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource",
        json!({}),
    )
}

fn list(
    shared: &Shared,
    group: &str,
    version: &str,
    namespace: Option<&str>,
    plural: &str,
    params: &HashMap<String, String>,
) -> Response {
    let Some(kind) = Kind::ALL.into_iter().find(|k| {
        let p = k.api_path();
        p.group == group && p.version == version && p.plural == plural
    }) else {
        return not_found_status();
    };
    if (namespace.is_some() && !kind.namespaced()) || shared.unserved.contains(plural) {
        return not_found_status();
    }
    if shared.forbidden.contains(plural) {
        let scope = match namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_owned(),
        };
        let mut details = json!({ "kind": plural });
        if !group.is_empty() {
            details["group"] = json!(group);
        }
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{plural} is forbidden: User \"{USER}\" cannot list resource \"{plural}\" \
                 in API group \"{group}\" {scope}"
            ),
            details,
        );
    }

    let list_path = match namespace {
        Some(ns) => format!("{group}/{version}/namespaces/{ns}/{plural}"),
        None => format!("{group}/{version}/{plural}"),
    };
    let items: Vec<&Value> = shared
        .store
        .get(plural)
        .into_iter()
        .flatten()
        .filter(|item| {
            namespace.is_none_or(|ns| item["metadata"]["namespace"].as_str() == Some(ns))
        })
        .collect();
    let offset = match params.get("continue").filter(|c| !c.is_empty()) {
        None => 0,
        Some(token) => match shared.cursors.lock().expect("cursors").get(token) {
            None => {
                return status(
                    StatusCode::GONE,
                    "Expired",
                    "The provided continue parameter is too old to display a consistent list \
                     result. You can start a new list without the continue parameter.",
                    json!({}),
                );
            }
            Some(cursor) if cursor.list != list_path => {
                return status(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "continue key is not valid for this list",
                    json!({}),
                );
            }
            Some(cursor) => cursor.offset,
        },
    };
    let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
        None | Some(Ok(0)) => usize::MAX,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "limit: Invalid value: must be a non-negative integer",
                json!({}),
            );
        }
    };
    let page_len = limit.min(shared.page_size.unwrap_or(usize::MAX));
    let end = offset.saturating_add(page_len).min(items.len());
    let page: Vec<Value> = items[offset.min(end)..end]
        .iter()
        .map(|v| (*v).clone())
        .collect();

    let mut metadata = json!({ "resourceVersion": LIST_RESOURCE_VERSION.to_string() });
    if end < items.len() {
        let mut cursors = shared.cursors.lock().expect("cursors");
        // Opaque to the client, as real tokens are (base64 of the etcd key to resume from).
        let token = base64(
            format!(
                "{{\"v\":\"meta.k8s.io/v1\",\"rv\":{LIST_RESOURCE_VERSION},\"start\":\"{list_path}#{end}\\u0000\",\"n\":{}}}",
                cursors.len()
            )
            .as_bytes(),
        );
        cursors.insert(
            token.clone(),
            Cursor {
                list: list_path,
                offset: end,
            },
        );
        metadata["continue"] = json!(token);
        metadata["remainingItemCount"] = json!(items.len() - end);
    }
    let body = json!({
        "kind": format!("{}List", kind.as_str()),
        "apiVersion": kind.api_version(),
        "metadata": metadata,
        "items": page,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// A `Status` object, as the API server sends with every error.
fn status(code: StatusCode, reason: &str, message: &str, details: Value) -> Response {
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code.as_u16(),
    });
    (code, axum::Json(body)).into_response()
}

/// The object as the API server would hold it after `kubectl apply`: what the user wrote, plus
/// everything the server adds. `apiVersion` and `kind` are dropped, as in list items.
fn as_stored(kind: Kind, mut object: Value, serial: usize) -> Value {
    let applied = serde_json::to_string(&object).expect("object serializes");
    let managed = fields_v1(&object);
    let api_version = kind.api_version();
    let map = object.as_object_mut().expect("an object is a mapping");
    map.remove("apiVersion");
    map.remove("kind");

    let metadata = entry_object(map, "metadata");
    let name = metadata
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    metadata.insert(
        "uid".into(),
        json!(format!("3f6c2a1e-8b4d-4e7a-9c15-{serial:012x}")),
    );
    metadata.insert(
        "resourceVersion".into(),
        json!((40_000 + serial).to_string()),
    );
    metadata.insert("creationTimestamp".into(), json!(CREATED));
    if matches!(
        kind,
        Kind::Ingress
            | Kind::IngressClass
            | Kind::NetworkPolicy
            | Kind::Deployment
            | Kind::StatefulSet
            | Kind::DaemonSet
    ) {
        metadata.insert("generation".into(), json!(1));
    }
    // kubectl keeps the whole applied object here, Secrets' data included: a real leak path.
    entry_object(metadata, "annotations").insert(
        "kubectl.kubernetes.io/last-applied-configuration".into(),
        json!(format!("{applied}\n")),
    );
    metadata.insert(
        "managedFields".into(),
        json!([{
            "manager": "kubectl-client-side-apply",
            "operation": "Update",
            "apiVersion": api_version,
            "time": CREATED,
            "fieldsType": "FieldsV1",
            "fieldsV1": managed,
        }]),
    );

    match kind {
        Kind::Namespace => {
            entry_object(metadata, "labels")
                .insert("kubernetes.io/metadata.name".into(), json!(name));
            map.insert("spec".into(), json!({ "finalizers": ["kubernetes"] }));
            map.insert("status".into(), json!({ "phase": "Active" }));
        }
        Kind::Service => {
            let spec = entry_object(map, "spec");
            let ip = format!("10.96.{}.{}", serial / 250, serial % 250 + 2);
            spec.entry("type").or_insert(json!("ClusterIP"));
            spec.entry("clusterIP").or_insert(json!(ip));
            spec.entry("clusterIPs").or_insert(json!([ip]));
            spec.entry("sessionAffinity").or_insert(json!("None"));
            spec.entry("ipFamilies").or_insert(json!(["IPv4"]));
            spec.entry("ipFamilyPolicy").or_insert(json!("SingleStack"));
            spec.entry("internalTrafficPolicy")
                .or_insert(json!("Cluster"));
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                    port.entry("protocol").or_insert(json!("TCP"));
                    let number = port.get("port").cloned().unwrap_or(Value::Null);
                    port.entry("targetPort").or_insert(number);
                }
            }
            map.insert("status".into(), json!({ "loadBalancer": {} }));
        }
        Kind::Ingress => {
            map.insert(
                "status".into(),
                json!({ "loadBalancer": { "ingress": [{ "ip": "203.0.113.10" }] } }),
            );
        }
        Kind::Deployment => {
            let spec = entry_object(map, "spec");
            let replicas = spec.get("replicas").cloned().unwrap_or(json!(1));
            spec.entry("replicas").or_insert(json!(1));
            spec.entry("revisionHistoryLimit").or_insert(json!(10));
            spec.entry("progressDeadlineSeconds").or_insert(json!(600));
            spec.entry("strategy").or_insert(json!({
                "type": "RollingUpdate",
                "rollingUpdate": { "maxSurge": "25%", "maxUnavailable": "25%" },
            }));
            // The API server writes this null into every pod template.
            let template = entry_object(spec, "template");
            entry_object(template, "metadata").insert("creationTimestamp".into(), Value::Null);
            let pod = entry_object(template, "spec");
            pod.entry("restartPolicy").or_insert(json!("Always"));
            pod.entry("dnsPolicy").or_insert(json!("ClusterFirst"));
            pod.entry("schedulerName")
                .or_insert(json!("default-scheduler"));
            pod.entry("securityContext").or_insert(json!({}));
            pod.entry("terminationGracePeriodSeconds")
                .or_insert(json!(30));
            if let Some(containers) = pod.get_mut("containers").and_then(Value::as_array_mut) {
                for c in containers.iter_mut().filter_map(Value::as_object_mut) {
                    c.entry("imagePullPolicy").or_insert(json!("IfNotPresent"));
                    c.entry("resources").or_insert(json!({}));
                    c.entry("terminationMessagePath")
                        .or_insert(json!("/dev/termination-log"));
                    c.entry("terminationMessagePolicy").or_insert(json!("File"));
                }
            }
            map.insert(
                "status".into(),
                json!({
                    "observedGeneration": 1,
                    "replicas": replicas,
                    "updatedReplicas": replicas,
                    "readyReplicas": replicas,
                    "availableReplicas": replicas,
                    "conditions": [{
                        "type": "Available",
                        "status": "True",
                        "lastUpdateTime": CREATED,
                        "lastTransitionTime": CREATED,
                        "reason": "MinimumReplicasAvailable",
                        "message": "Deployment has minimum availability.",
                    }],
                }),
            );
        }
        Kind::EndpointSlice => {
            let service = metadata
                .get("labels")
                .and_then(|l| l.get("kubernetes.io/service-name"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(service) = service {
                metadata.insert("generateName".into(), json!(format!("{service}-")));
                metadata.insert(
                    "ownerReferences".into(),
                    json!([{
                        "apiVersion": "v1",
                        "kind": "Service",
                        "name": service,
                        "uid": "3f6c2a1e-8b4d-4e7a-9c15-ffffffffffff",
                        "controller": true,
                        "blockOwnerDeletion": true,
                    }]),
                );
            }
        }
        Kind::Secret => {
            // The server stores `stringData` merged into `data` and never returns it.
            if let Some(Value::Object(strings)) = map.remove("stringData") {
                let data = entry_object(map, "data");
                for (key, value) in strings {
                    let text = value.as_str().unwrap_or_default();
                    data.insert(key, json!(base64(text.as_bytes())));
                }
            }
            map.entry("type").or_insert(json!("Opaque"));
        }
        _ => {}
    }
    object
}

/// `map[key]` as a mapping, created (or replaced, if it was not one) when needed.
fn entry_object<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map.entry(key).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    slot.as_object_mut().expect("just made a mapping")
}

/// The `fieldsV1` of a managed-fields entry: the set of fields written, without values.
fn fields_v1(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, child) in map {
                if key == "apiVersion" || key == "kind" {
                    continue;
                }
                out.insert(format!("f:{key}"), fields_v1(child));
            }
            if !out.is_empty() {
                out.insert(".".into(), json!({}));
            }
            Value::Object(out)
        }
        _ => json!({}),
    }
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
