//! An in-process fake Kubernetes API server for the tests of `--cluster` and `watch`: it speaks
//! the list, watch and Lease protocols the way a real API server does, so the client is tested
//! against the wire format rather than against our own idea of it.
//!
//! What it implements:
//! - `GET /api/{version}/{plural}`, `/api/{version}/namespaces/{ns}/{plural}`,
//!   `/apis/{group}/{version}/{plural}` and `/apis/{group}/{version}/namespaces/{ns}/{plural}`
//!   for every kind in [`Kind::ALL`], answering with a `…List` object whose items carry no
//!   `apiVersion`/`kind`, as real servers send them, and whose `metadata.resourceVersion` is the
//!   server's current resourceVersion;
//! - `limit` and `continue`: pages of at most `min(limit, page size)` items, opaque `continue`
//!   tokens issued by the server and checked on use (an unknown token is 410 Gone, a token used
//!   for another list is 400), `remainingItemCount` while more follow;
//! - `labelSelector` (`k=v`, `k==v`, `k!=v`, `k`, `!k`; set-based terms are 400) and
//!   `fieldSelector` (`metadata.name` and `metadata.namespace` with `=`, `==`, `!=`; any other
//!   field is 400 `field label not supported`, as real servers answer) on lists and watches;
//! - mutable state: one global resourceVersion counter (starting at 48213) bumped by every write;
//!   the test creates, updates and deletes objects while the client runs
//!   ([`FakeApiServer::create`], [`FakeApiServer::update_with_manager`],
//!   [`FakeApiServer::delete`], ...), and every write is logged as an `ADDED`, `MODIFIED` or
//!   `DELETED` event;
//! - watches (`?watch=true` or `?watch=1` on the list URLs): HTTP 200 and one JSON event per line
//!   (`{"type":"ADDED","object":{...}}`, objects with `apiVersion` and `kind`), first the logged
//!   events after the requested `resourceVersion` (or, when it is absent, `""` or `"0"`, a
//!   synthetic `ADDED` per current object), then every new event as it happens, until
//!   `timeoutSeconds` elapse; `sendInitialEvents=true` sends the current objects whatever the
//!   resourceVersion and, with `allowWatchBookmarks=true`, ends them with a `BOOKMARK` annotated
//!   `k8s.io/initial-events-end`; [`FakeApiServer::bookmark`] sends a `BOOKMARK` on demand;
//! - expiry: after [`FakeApiServer::compact`], a watch from any resourceVersion below the
//!   compacted one gets one `ERROR` event (a 410 `Expired` `Status`) and ends, as real servers
//!   do; [`FakeApiServer::close_watches`] ends every open watch, as a server dropping
//!   connections does; lists always work;
//! - `coordination.k8s.io/v1` Leases: `GET`/`POST .../namespaces/{ns}/leases` and
//!   `GET`/`PUT`/`DELETE .../namespaces/{ns}/leases/{name}` with the real registry's semantics:
//!   404 `NotFound` when absent, 409 `AlreadyExists` on a `POST` of an existing name, 409
//!   `Conflict` on a `PUT` whose `metadata.resourceVersion` is not the stored one, 422 on a
//!   `PUT` without one (Leases allow no unconditional update), and a `PUT` of an absent Lease
//!   creates it (Leases allow create-on-update);
//! - bearer-token authentication (401 `Status` when the token is wrong or missing);
//! - 403 `Status` for chosen resources, worded as the RBAC authorizer words it;
//! - 404 `Status` for anything else, including a cluster-scoped resource under `/namespaces/`;
//! - server-side fields on every object (`uid`, `resourceVersion`, `creationTimestamp`,
//!   `generation`, `managedFields`, kubectl's `last-applied-configuration` annotation, defaulted
//!   spec fields and `status`), and Secrets' `stringData` folded into base64 `data`; an update
//!   keeps `uid` and `creationTimestamp`, bumps `generation` when `spec` changes and records the
//!   writing field manager in `managedFields`;
//! - a record of every request (method, path and query, `Authorization` header).
//!
//! It runs on its own thread with its own Tokio runtime, so a test can drive the real binary
//! synchronously while the server answers.

// Each test binary includes this module and uses its own subset of the helpers.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt as _;
use futures::channel::mpsc;
use serde_json::{Map, Value, json};
use tollgate_core::object::Kind;
use tollgate_core::yaml::{parse_document, split_documents};

/// The server's resourceVersion before the test's first write: the fixture objects were all
/// written before it.
const INITIAL_RESOURCE_VERSION: u64 = 48_213;
/// When every fixture object was "created".
const CREATED: &str = "2025-11-03T09:14:27Z";
/// The identity the RBAC messages name.
const USER: &str = "system:serviceaccount:tollgate:scanner";
/// The field manager of `kubectl apply`, the only writer that rewrites kubectl's
/// `last-applied-configuration` annotation.
const APPLY_MANAGER: &str = "kubectl-client-side-apply";
/// The annotation `kubectl apply` keeps the applied object in.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// How long a watch without `timeoutSeconds` stays open; real servers pick 30 to 60 minutes.
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);
/// The API group, version and plural of Leases.
const LEASE_GROUP: &str = "coordination.k8s.io";
const LEASE_VERSION: &str = "v1";
const LEASES: &str = "leases";

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

    /// Whether this request opened a watch (`watch=true` or `watch=1`).
    pub fn is_watch(&self) -> bool {
        matches!(self.query("watch"), Some("true" | "1"))
    }
}

/// How to set up a fake server.
#[derive(Debug, Default)]
pub struct Builder {
    objects: Vec<Value>,
    page_size: Option<usize>,
    forbidden: BTreeSet<String>,
    named_grants: BTreeSet<(String, String, String)>,
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

    /// Forbids this resource except for the one object `namespace/name`, listed or watched in
    /// its namespace with the field selector `metadata.name=<name>`: what an RBAC rule with
    /// `resourceNames` allows.
    pub fn allow_only_named(mut self, plural: &str, namespace: &str, name: &str) -> Self {
        self.forbidden.insert(plural.to_owned());
        self.named_grants
            .insert((plural.to_owned(), namespace.to_owned(), name.to_owned()));
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
        let mut store: BTreeMap<&'static str, Vec<StoredObject>> = BTreeMap::new();
        let served = self.objects.len();
        for (serial, object) in self.objects.into_iter().enumerate() {
            let api_version = object["apiVersion"].as_str().unwrap_or_default();
            let kind = object["kind"].as_str().unwrap_or_default();
            let Some(kind) = Kind::from_type(api_version, kind) else {
                continue;
            };
            store
                .entry(kind.api_path().plural)
                .or_default()
                .push(StoredObject {
                    serial,
                    value: as_stored(kind, object, serial),
                });
        }
        for items in store.values_mut() {
            // etcd returns keys in order: namespace, then name.
            items.sort_by_key(|item| object_key(&item.value));
        }
        let shared = Arc::new(Shared {
            page_size: self.page_size,
            forbidden: self.forbidden,
            named_grants: self.named_grants,
            unserved: self.unserved,
            token: self.token,
            requests: Mutex::default(),
            cursors: Mutex::default(),
            cluster: Mutex::new(Cluster {
                resource_version: INITIAL_RESOURCE_VERSION,
                compacted: 0,
                next_serial: served,
                store,
                events: Vec::new(),
                watchers: Vec::new(),
                leases: BTreeMap::new(),
                stopping: false,
            }),
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
            .route(
                "/api/{version}/namespaces/{namespace}/{plural}/{name}",
                get(get_core_namespaced),
            )
            .route("/apis/{group}/{version}/{plural}", get(list_group))
            .route(
                "/apis/{group}/{version}/namespaces/{namespace}/{plural}",
                get(list_group_namespaced).post(create_in_group_namespaced),
            )
            .route(
                "/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}",
                get(get_in_group_namespaced)
                    .put(replace_in_group_namespaced)
                    .delete(delete_in_group_namespaced),
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
///
/// The write methods (`create`, `update`, `delete`, ...) panic when the test asks for something
/// impossible (an unknown kind, a duplicate create, an update of a missing object): that is a
/// bug in the test, not a server answer to check.
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

    /// The requests that listed or watched one resource (by plural).
    pub fn requests_for(&self, plural: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.plural() == plural)
            .collect()
    }

    /// The objects of one resource exactly as the server holds them now (server fields
    /// included, `apiVersion`/`kind` absent, as in a list), in etcd key order.
    pub fn stored(&self, plural: &str) -> Vec<Value> {
        self.shared
            .cluster()
            .store
            .get(plural)
            .map_or_else(Vec::new, |items| {
                items.iter().map(|item| item.value.clone()).collect()
            })
    }

    /// The server's current resourceVersion: the one a list returns now.
    pub fn resource_version(&self) -> String {
        self.shared.cluster().resource_version.to_string()
    }

    /// Creates an object (full JSON with `apiVersion` and `kind`) as `kubectl apply` would, and
    /// returns its resourceVersion.
    pub fn create(&self, object: Value) -> String {
        self.create_with_manager(object, APPLY_MANAGER)
    }

    /// Creates an object written by `manager` (the `managedFields` manager, e.g. `helm`) and
    /// returns its resourceVersion. Only `kubectl-client-side-apply` leaves kubectl's
    /// last-applied annotation.
    pub fn create_with_manager(&self, object: Value, manager: &str) -> String {
        let kind = kind_of(&object);
        let plural = kind.api_path().plural;
        let key = object_key(&object);
        let mut cluster = self.shared.cluster();
        assert!(
            cluster.position(plural, &key).is_err(),
            "{} {}/{} already exists",
            kind.as_str(),
            key.0,
            key.1
        );
        let serial = cluster.next_serial;
        cluster.next_serial += 1;
        let mut value = as_stored(kind, object, serial);
        let resource_version = cluster.next_resource_version();
        let now = now();
        let metadata = entry_object(
            value.as_object_mut().expect("stored as a mapping"),
            "metadata",
        );
        metadata.insert(
            "resourceVersion".into(),
            json!(resource_version.to_string()),
        );
        metadata.insert("creationTimestamp".into(), json!(now));
        if let Some(entry) = metadata
            .get_mut("managedFields")
            .and_then(|m| m.get_mut(0))
            .and_then(Value::as_object_mut)
        {
            entry.insert("manager".into(), json!(manager));
            entry.insert("time".into(), json!(now));
        }
        if manager != APPLY_MANAGER {
            set_last_applied(metadata, None);
        }
        let at = cluster
            .position(plural, &key)
            .expect_err("checked absent above");
        cluster.store.entry(plural).or_default().insert(
            at,
            StoredObject {
                serial,
                value: value.clone(),
            },
        );
        cluster.record(kind, "ADDED", value);
        resource_version.to_string()
    }

    /// Replaces an object (found by kind, namespace and name) as `kubectl apply` would, and
    /// returns its new resourceVersion.
    pub fn update(&self, object: Value) -> String {
        self.update_with_manager(object, APPLY_MANAGER)
    }

    /// Replaces an object (found by kind, namespace and name) as written by `manager` (e.g.
    /// `kubectl-edit`), and returns its new resourceVersion. The object keeps its `uid` and
    /// `creationTimestamp`; `generation` goes up when `spec` changed; `managedFields` gains (or
    /// refreshes) an `Update` entry for `manager` timed now, whose `fieldsV1` names the fields
    /// this write changed; kubectl's last-applied annotation changes only for `kubectl apply`.
    pub fn update_with_manager(&self, object: Value, manager: &str) -> String {
        let kind = kind_of(&object);
        let plural = kind.api_path().plural;
        let key = object_key(&object);
        let mut cluster = self.shared.cluster();
        let Ok(at) = cluster.position(plural, &key) else {
            panic!("{} {}/{} does not exist", kind.as_str(), key.0, key.1);
        };
        let resource_version = cluster.next_resource_version();
        let slot = cluster
            .store
            .get_mut(plural)
            .and_then(|items| items.get_mut(at))
            .expect("position is in range");
        let old = slot.value.clone();
        let mut value = as_stored(kind, object, slot.serial);
        let metadata = entry_object(
            value.as_object_mut().expect("stored as a mapping"),
            "metadata",
        );
        for field in ["uid", "creationTimestamp"] {
            if let Some(kept) = old["metadata"].get(field) {
                metadata.insert(field.into(), kept.clone());
            }
        }
        metadata.insert(
            "resourceVersion".into(),
            json!(resource_version.to_string()),
        );
        if manager != APPLY_MANAGER {
            let previous = old["metadata"]["annotations"][LAST_APPLIED].as_str();
            set_last_applied(metadata, previous);
        }
        // Compared once the annotation is settled, so that only this write's changes count.
        let changed = changed_fields(&user_fields(&old), &user_fields(&value));
        let spec_changed = old.get("spec") != value.get("spec");
        let metadata = entry_object(
            value.as_object_mut().expect("stored as a mapping"),
            "metadata",
        );
        if let Some(generation) = old["metadata"]["generation"].as_u64() {
            let generation = if spec_changed {
                generation + 1
            } else {
                generation
            };
            metadata.insert("generation".into(), json!(generation));
        }
        metadata.insert(
            "managedFields".into(),
            managed_fields_after_update(&old, manager, &kind.api_version(), changed),
        );
        slot.value = value.clone();
        cluster.record(kind, "MODIFIED", value);
        resource_version.to_string()
    }

    /// Deletes an object by kind (e.g. `Ingress`), namespace (`""` for a cluster-scoped kind)
    /// and name, and returns the resourceVersion of the deletion, which the `DELETED` event
    /// carries on the object's last state.
    pub fn delete(&self, kind: &str, namespace: &str, name: &str) -> String {
        let kind = Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind)
            .unwrap_or_else(|| panic!("the fake does not serve kind {kind}"));
        let plural = kind.api_path().plural;
        let key = (namespace.to_owned(), name.to_owned());
        let mut cluster = self.shared.cluster();
        let Ok(at) = cluster.position(plural, &key) else {
            panic!("{} {namespace}/{name} does not exist", kind.as_str());
        };
        let mut removed = cluster
            .store
            .get_mut(plural)
            .map(|items| items.remove(at))
            .expect("position is in range")
            .value;
        let resource_version = cluster.next_resource_version();
        removed["metadata"]["resourceVersion"] = json!(resource_version.to_string());
        cluster.record(kind, "DELETED", removed);
        resource_version.to_string()
    }

    /// Makes every resourceVersion before the current one too old to watch from, as etcd
    /// compaction does: such a watch gets one 410 `Expired` `ERROR` event and ends. The current
    /// version stays watchable, since that is what a list made after the compaction returns.
    /// Open watches and lists are not affected.
    pub fn compact(&self) {
        let mut cluster = self.shared.cluster();
        cluster.compacted = cluster.resource_version;
        let compacted = cluster.compacted;
        cluster.events.retain(|e| e.resource_version > compacted);
    }

    /// Ends every open watch now, as a server dropping its connections does; clients are
    /// expected to watch again from the last resourceVersion they saw.
    pub fn close_watches(&self) {
        self.shared.cluster().watchers.clear();
    }

    /// How many watches are open now (a test waits for the client to be watching before it
    /// writes).
    pub fn open_watches(&self) -> usize {
        let mut cluster = self.shared.cluster();
        cluster.watchers.retain(|w| !w.sender.is_closed());
        cluster.watchers.len()
    }

    /// Sends a `BOOKMARK` at the current resourceVersion to every open watch that allowed
    /// bookmarks (`allowWatchBookmarks=true`).
    pub fn bookmark(&self) {
        let cluster = self.shared.cluster();
        let resource_version = cluster.resource_version;
        for watcher in cluster.watchers.iter().filter(|w| w.bookmarks) {
            let line = event_line(
                "BOOKMARK",
                &bookmark_object(watcher.kind, resource_version, false),
            );
            let _ = watcher.sender.unbounded_send(line);
        }
    }

    /// One Lease as the server holds it (with `apiVersion` and `kind`), if it exists.
    pub fn lease(&self, namespace: &str, name: &str) -> Option<Value> {
        self.shared
            .cluster()
            .leases
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Creates or replaces a Lease unconditionally (as another replica holding it would have
    /// written it), and returns its new resourceVersion.
    pub fn put_lease(&self, lease: Value) -> String {
        let key = object_key(&lease);
        let mut cluster = self.shared.cluster();
        let stored = cluster.store_lease(key, lease, "tollgate");
        stored["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        // Graceful shutdown waits for open responses: end the watch streams first, and refuse
        // new ones, or the drop would last until the longest watch timed out.
        {
            let mut cluster = self.shared.cluster();
            cluster.stopping = true;
            cluster.watchers.clear();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Shared {
    page_size: Option<usize>,
    forbidden: BTreeSet<String>,
    named_grants: BTreeSet<(String, String, String)>,
    unserved: BTreeSet<String>,
    token: Option<String>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// Continue token → where the next page starts.
    cursors: Mutex<HashMap<String, Cursor>>,
    /// Everything a write changes, behind one lock so that a watch registers and reads its
    /// backlog in one step: no event can fall between the two, or reach it twice.
    cluster: Mutex<Cluster>,
}

impl Shared {
    fn cluster(&self) -> MutexGuard<'_, Cluster> {
        // A test that panicked while holding the lock must not hide its own message behind a
        // poisoned-lock panic in every later request.
        self.cluster
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The mutable state of the fake cluster.
struct Cluster {
    /// The resourceVersion of the last write.
    resource_version: u64,
    /// Watches from a resourceVersion older than this are answered 410 (0: nothing compacted).
    compacted: u64,
    /// The serial of the next created object, from which its `uid` is derived.
    next_serial: usize,
    /// Objects per resource plural, in etcd key order.
    store: BTreeMap<&'static str, Vec<StoredObject>>,
    /// Every write since the last compaction, in order.
    events: Vec<LoggedEvent>,
    /// The open watches.
    watchers: Vec<Watcher>,
    /// Leases by (namespace, name), stored with `apiVersion` and `kind`.
    leases: BTreeMap<(String, String), Value>,
    /// The server is shutting down: no new watch may stay open.
    stopping: bool,
}

/// One object and the serial its server-assigned fields (`uid`, a Service's `clusterIP`) come
/// from, so that an update keeps them.
struct StoredObject {
    serial: usize,
    value: Value,
}

/// One write, as a watch replays it.
struct LoggedEvent {
    plural: &'static str,
    resource_version: u64,
    /// The object as stored after the write (without `apiVersion`/`kind`).
    object: Value,
    /// The whole watch line, `{"type":…,"object":…}` and a newline.
    line: Bytes,
}

/// One open watch.
struct Watcher {
    kind: Kind,
    filter: WatchFilter,
    bookmarks: bool,
    sender: mpsc::UnboundedSender<Bytes>,
}

/// Which objects a list or watch selects.
#[derive(Debug, Clone)]
struct WatchFilter {
    plural: &'static str,
    namespace: Option<String>,
    selector: Selector,
}

impl WatchFilter {
    fn selects(&self, plural: &str, object: &Value) -> bool {
        self.plural == plural
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| object["metadata"]["namespace"].as_str() == Some(ns))
            && self.selector.selects(object)
    }
}

impl Cluster {
    fn next_resource_version(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    /// Where an object is (`Ok`) or would be inserted (`Err`) in its resource's key order.
    fn position(&self, plural: &str, key: &(String, String)) -> Result<usize, usize> {
        self.store.get(plural).map_or(Err(0), |items| {
            items.binary_search_by(|item| object_key(&item.value).cmp(key))
        })
    }

    /// Logs a write and sends it to every open watch that selects it.
    fn record(&mut self, kind: Kind, event_type: &str, object: Value) {
        let plural = kind.api_path().plural;
        let line = event_line(event_type, &with_type(kind, object.clone()));
        self.watchers.retain(|w| !w.sender.is_closed());
        for watcher in &self.watchers {
            if watcher.filter.selects(plural, &object) {
                let _ = watcher.sender.unbounded_send(line.clone());
            }
        }
        self.events.push(LoggedEvent {
            plural,
            resource_version: self.resource_version,
            object,
            line,
        });
    }

    /// Writes a Lease with a new resourceVersion, keeping the `uid` and `creationTimestamp` of
    /// the one it replaces, and returns it as stored.
    fn store_lease(&mut self, key: (String, String), mut lease: Value, manager: &str) -> Value {
        let resource_version = self.next_resource_version();
        let now = now();
        let previous = self.leases.get(&key);
        let uid = previous.map_or_else(
            || {
                let serial = self.next_serial;
                json!(format!("7c0e5d2b-41a9-4f3e-b6d8-{serial:012x}"))
            },
            |p| p["metadata"]["uid"].clone(),
        );
        let created = previous.map_or_else(
            || json!(now),
            |p| p["metadata"]["creationTimestamp"].clone(),
        );
        if previous.is_none() {
            self.next_serial += 1;
        }
        if !lease.is_object() {
            lease = json!({});
        }
        let map = lease.as_object_mut().expect("just made a mapping");
        map.insert(
            "apiVersion".into(),
            json!(format!("{LEASE_GROUP}/{LEASE_VERSION}")),
        );
        map.insert("kind".into(), json!("Lease"));
        let fields = fields_v1(&Value::Object(map.clone()));
        let metadata = entry_object(map, "metadata");
        metadata.insert("name".into(), json!(key.1));
        metadata.insert("namespace".into(), json!(key.0));
        metadata.insert("uid".into(), uid);
        metadata.insert(
            "resourceVersion".into(),
            json!(resource_version.to_string()),
        );
        metadata.insert("creationTimestamp".into(), created);
        metadata.insert(
            "managedFields".into(),
            json!([{
                "manager": manager,
                "operation": "Update",
                "apiVersion": format!("{LEASE_GROUP}/{LEASE_VERSION}"),
                "time": now,
                "fieldsType": "FieldsV1",
                "fieldsV1": fields,
            }]),
        );
        self.leases.insert(key, lease.clone());
        lease
    }
}

/// A parsed `labelSelector` and `fieldSelector`: every requirement must hold.
#[derive(Debug, Clone, Default)]
struct Selector {
    labels: Vec<Requirement>,
    /// On `metadata.name` or `metadata.namespace` (the key is `name` or `namespace`).
    fields: Vec<Requirement>,
}

#[derive(Debug, Clone)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    fn holds(&self, map: &Value) -> bool {
        let value = |key: &str| map.get(key).and_then(Value::as_str);
        match self {
            Requirement::Equals(key, expected) => value(key) == Some(expected.as_str()),
            // As on real servers, `k!=v` also selects objects without `k`.
            Requirement::NotEquals(key, unexpected) => value(key) != Some(unexpected.as_str()),
            Requirement::Exists(key) => value(key).is_some(),
            Requirement::NotExists(key) => value(key).is_none(),
        }
    }
}

impl Selector {
    /// Parses the selectors of a request, or says why a real server would answer 400.
    fn from_params(params: &HashMap<String, String>) -> Result<Selector, String> {
        let mut selector = Selector::default();
        for term in terms(params.get("labelSelector")) {
            if term.contains('(') || term.contains(" in ") || term.contains(" notin ") {
                return Err(format!(
                    "the fake API server does not implement set-based label selectors: {term}"
                ));
            }
            selector.labels.push(
                parse_requirement(term, true)
                    .ok_or_else(|| format!("unable to parse requirement: {term}"))?,
            );
        }
        for term in terms(params.get("fieldSelector")) {
            let (equals, field, value) = match parse_requirement(term, false) {
                Some(Requirement::Equals(field, value)) => (true, field, value),
                Some(Requirement::NotEquals(field, value)) => (false, field, value),
                _ => return Err(format!("invalid selector: '{term}'")),
            };
            // Every resource supports these two field labels; the others are per resource and
            // Tollgate has no use for them.
            let key = match field.as_str() {
                "metadata.name" => "name",
                "metadata.namespace" => "namespace",
                _ => {
                    return Err(format!("field label not supported: {field}"));
                }
            };
            selector.fields.push(if equals {
                Requirement::Equals(key.into(), value)
            } else {
                Requirement::NotEquals(key.into(), value)
            });
        }
        Ok(selector)
    }

    fn selects(&self, object: &Value) -> bool {
        let metadata = &object["metadata"];
        let labels = &metadata["labels"];
        self.labels.iter().all(|r| r.holds(labels)) && self.fields.iter().all(|r| r.holds(metadata))
    }
}

/// The comma-separated terms of a selector, blanks dropped.
fn terms(selector: Option<&String>) -> impl Iterator<Item = &str> {
    selector
        .map_or("", String::as_str)
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// `k!=v`, `k==v`, `k=v`, and (when `existence` is allowed) `!k` and `k`.
fn parse_requirement(term: &str, existence: bool) -> Option<Requirement> {
    let pair = |(k, v): (&str, &str)| (k.trim().to_owned(), v.trim().to_owned());
    if let Some((k, v)) = term.split_once("!=").map(pair) {
        return (!k.is_empty()).then_some(Requirement::NotEquals(k, v));
    }
    if let Some((k, v)) = term
        .split_once("==")
        .or_else(|| term.split_once('='))
        .map(pair)
    {
        return (!k.is_empty()).then_some(Requirement::Equals(k, v));
    }
    if !existence {
        return None;
    }
    match term.strip_prefix('!') {
        Some(key) => Some(Requirement::NotExists(key.trim().to_owned())),
        None => Some(Requirement::Exists(term.to_owned())),
    }
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

/// One core object by name (a Service, a Secret), as `kubectl get` reads it.
async fn get_core_namespaced(
    State(shared): State<Arc<Shared>>,
    UrlPath((_version, namespace, plural, name)): UrlPath<(String, String, String, String)>,
) -> Response {
    if shared.forbidden.contains(&plural) {
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{plural} \"{name}\" is forbidden: User \"{USER}\" cannot get resource \"{plural}\" in the namespace \"{namespace}\""
            ),
            json!({"name": name, "kind": plural}),
        );
    }
    let found = shared
        .cluster()
        .store
        .get(plural.as_str())
        .and_then(|items| {
            items
                .iter()
                .map(|item| &item.value)
                .find(|v| {
                    v.pointer("/metadata/namespace").and_then(Value::as_str)
                        == Some(namespace.as_str())
                        && v.pointer("/metadata/name").and_then(Value::as_str)
                            == Some(name.as_str())
                })
                .cloned()
        });
    match found {
        Some(object) => (StatusCode::OK, axum::Json(object)).into_response(),
        None => status(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("{plural} \"{name}\" not found"),
            json!({"name": name, "kind": plural}),
        ),
    }
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
    if is_leases(&group, &version, &plural) {
        return list_leases(&shared, &namespace);
    }
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

fn bad_request(message: &str) -> Response {
    status(StatusCode::BAD_REQUEST, "BadRequest", message, json!({}))
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
    let watching = matches!(params.get("watch").map(String::as_str), Some("true" | "1"));
    let granted_by_name = namespace.is_some_and(|ns| {
        params
            .get("fieldSelector")
            .and_then(|f| f.strip_prefix("metadata.name="))
            .is_some_and(|name| {
                shared
                    .named_grants
                    .contains(&(plural.to_owned(), ns.to_owned(), name.to_owned()))
            })
    });
    if shared.forbidden.contains(plural) && !granted_by_name {
        let scope = match namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_owned(),
        };
        let mut details = json!({ "kind": plural });
        if !group.is_empty() {
            details["group"] = json!(group);
        }
        let verb = if watching { "watch" } else { "list" };
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{plural} is forbidden: User \"{USER}\" cannot {verb} resource \"{plural}\" \
                 in API group \"{group}\" {scope}"
            ),
            details,
        );
    }
    let selector = match Selector::from_params(params) {
        Ok(selector) => selector,
        Err(message) => return bad_request(&message),
    };
    let filter = WatchFilter {
        plural: kind.api_path().plural,
        namespace: namespace.map(str::to_owned),
        selector,
    };
    if watching {
        return watch(shared, kind, filter, params);
    }

    let list_path = match namespace {
        Some(ns) => format!("{group}/{version}/namespaces/{ns}/{plural}"),
        None => format!("{group}/{version}/{plural}"),
    };
    let cluster = shared.cluster();
    let resource_version = cluster.resource_version;
    let items: Vec<&Value> = cluster
        .store
        .get(plural)
        .into_iter()
        .flatten()
        .map(|item| &item.value)
        .filter(|item| filter.selects(plural, item))
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

    let mut metadata = json!({ "resourceVersion": resource_version.to_string() });
    if end < items.len() {
        let mut cursors = shared.cursors.lock().expect("cursors");
        // Opaque to the client, as real tokens are (base64 of the etcd key to resume from).
        let token = base64(
            format!(
                "{{\"v\":\"meta.k8s.io/v1\",\"rv\":{resource_version},\"start\":\"{list_path}#{end}\\u0000\",\"n\":{}}}",
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

/// Answers a watch: the backlog the requested resourceVersion asks for, then every new event,
/// until `timeoutSeconds` elapse or the test closes the watches.
fn watch(
    shared: &Shared,
    kind: Kind,
    filter: WatchFilter,
    params: &HashMap<String, String>,
) -> Response {
    let flag = |name: &str| matches!(params.get(name).map(String::as_str), Some("true" | "1"));
    let timeout = match params.get("timeoutSeconds").map(|t| t.parse::<u64>()) {
        None => DEFAULT_WATCH_TIMEOUT,
        Some(Ok(seconds)) => Duration::from_secs(seconds),
        Some(Err(_)) => {
            return bad_request("timeoutSeconds: Invalid value: must be a non-negative integer");
        }
    };
    let bookmarks = flag("allowWatchBookmarks");
    let send_initial_events = flag("sendInitialEvents");
    let start = match params.get("resourceVersion").map(String::as_str) {
        None | Some("" | "0") => None,
        Some(text) => match text.parse::<u64>() {
            Ok(rv) => Some(rv),
            Err(_) => {
                return bad_request(&format!(
                    "resourceVersion: Invalid value: \"{text}\": must be an unsigned integer"
                ));
            }
        },
    };

    let mut cluster = shared.cluster();
    let mut backlog: Vec<Bytes> = Vec::new();
    if let Some(rv) = start
        && rv < cluster.compacted
        && !send_initial_events
    {
        // Real servers answer 200 and put the 410 in the stream.
        let error = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": format!("too old resource version: {rv} ({})", cluster.compacted),
            "reason": "Expired",
            "code": 410,
        });
        backlog.push(event_line("ERROR", &error));
        return watch_response(futures::stream::iter(backlog).boxed());
    }
    if start.is_none() || send_initial_events {
        // Real servers start such a watch with the current state, one synthetic ADDED each.
        for item in cluster.store.get(filter.plural).into_iter().flatten() {
            if filter.selects(filter.plural, &item.value) {
                backlog.push(event_line("ADDED", &with_type(kind, item.value.clone())));
            }
        }
        if send_initial_events && bookmarks {
            backlog.push(event_line(
                "BOOKMARK",
                &bookmark_object(kind, cluster.resource_version, true),
            ));
        }
    } else if let Some(rv) = start {
        backlog.extend(
            cluster
                .events
                .iter()
                .filter(|e| e.resource_version > rv && filter.selects(e.plural, &e.object))
                .map(|e| e.line.clone()),
        );
    }
    if cluster.stopping {
        return watch_response(futures::stream::iter(backlog).boxed());
    }
    let (sender, receiver) = mpsc::unbounded();
    cluster.watchers.push(Watcher {
        kind,
        filter,
        bookmarks,
        sender,
    });
    drop(cluster);
    let events = futures::stream::iter(backlog)
        .chain(receiver)
        .take_until(tokio::time::sleep(timeout));
    watch_response(events.boxed())
}

/// HTTP 200 with a streamed body of watch lines.
fn watch_response(lines: futures::stream::BoxStream<'static, Bytes>) -> Response {
    let body = Body::from_stream(lines.map(Ok::<_, Infallible>));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// One watch line: `{"type":…,"object":…}` and a newline.
fn event_line(event_type: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({ "type": event_type, "object": object }))
        .expect("an event serializes");
    line.push(b'\n');
    Bytes::from(line)
}

/// The object of a `BOOKMARK` event: only the type and the resourceVersion.
fn bookmark_object(kind: Kind, resource_version: u64, initial_events_end: bool) -> Value {
    let mut metadata = json!({ "resourceVersion": resource_version.to_string() });
    if initial_events_end {
        metadata["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
    }
    json!({
        "apiVersion": kind.api_version(),
        "kind": kind.as_str(),
        "metadata": metadata,
    })
}

/// A stored object with its `apiVersion` and `kind`, as watch events and single-object answers
/// carry them.
fn with_type(kind: Kind, mut object: Value) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), json!(kind.api_version()));
        map.insert("kind".into(), json!(kind.as_str()));
    }
    object
}

fn is_leases(group: &str, version: &str, plural: &str) -> bool {
    group == LEASE_GROUP && version == LEASE_VERSION && plural == LEASES
}

/// A `Status` about one Lease, with the details real servers attach.
fn lease_status(code: StatusCode, reason: &str, message: &str, name: &str) -> Response {
    status(
        code,
        reason,
        message,
        json!({ "name": name, "group": LEASE_GROUP, "kind": LEASES }),
    )
}

fn lease_not_found(name: &str) -> Response {
    lease_status(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{LEASES}.{LEASE_GROUP} \"{name}\" not found"),
        name,
    )
}

fn list_leases(shared: &Shared, namespace: &str) -> Response {
    let cluster = shared.cluster();
    let items: Vec<Value> = cluster
        .leases
        .iter()
        .filter(|((ns, _), _)| ns == namespace)
        .map(|(_, lease)| {
            let mut item = lease.clone();
            if let Some(map) = item.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            item
        })
        .collect();
    let body = json!({
        "kind": "LeaseList",
        "apiVersion": format!("{LEASE_GROUP}/{LEASE_VERSION}"),
        "metadata": { "resourceVersion": cluster.resource_version.to_string() },
        "items": items,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// The field manager of a write: `fieldManager`, or the User-Agent's product name, as the API
/// server derives it.
fn field_manager(params: &HashMap<String, String>, headers: &HeaderMap) -> String {
    if let Some(manager) = params.get("fieldManager").filter(|m| !m.is_empty()) {
        return manager.clone();
    }
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|agent| agent.split('/').next())
        .filter(|product| !product.is_empty())
        .unwrap_or("unknown")
        .to_owned()
}

/// Parses a Lease request body and checks its namespace against the URL's.
fn lease_body(body: &Bytes, namespace: &str) -> Result<Value, String> {
    let value: Value = serde_json::from_slice(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| "the body of the request was in an unknown format".to_owned())?;
    if value["metadata"]["namespace"]
        .as_str()
        .is_some_and(|ns| ns != namespace)
    {
        return Err(
            "the namespace of the provided object does not match the namespace sent on the request"
                .to_owned(),
        );
    }
    Ok(value)
}

async fn create_in_group_namespaced(
    State(shared): State<Arc<Shared>>,
    UrlPath((group, version, namespace, plural)): UrlPath<(String, String, String, String)>,
    Query(params): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_leases(&group, &version, &plural) {
        return method_not_allowed();
    }
    let lease = match lease_body(&body, &namespace) {
        Ok(lease) => lease,
        Err(message) => return bad_request(&message),
    };
    let name = lease["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if name.is_empty() {
        return status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            "Lease.coordination.k8s.io \"\" is invalid: metadata.name: Required value: name or \
             generateName is required",
            json!({ "group": LEASE_GROUP, "kind": "Lease" }),
        );
    }
    let key = (namespace, name);
    let mut cluster = shared.cluster();
    if cluster.leases.contains_key(&key) {
        return lease_status(
            StatusCode::CONFLICT,
            "AlreadyExists",
            &format!("{LEASES}.{LEASE_GROUP} \"{}\" already exists", key.1),
            &key.1,
        );
    }
    let stored = cluster.store_lease(key, lease, &field_manager(&params, &headers));
    (StatusCode::CREATED, axum::Json(stored)).into_response()
}

async fn get_in_group_namespaced(
    State(shared): State<Arc<Shared>>,
    UrlPath((group, version, namespace, plural, name)): UrlPath<(
        String,
        String,
        String,
        String,
        String,
    )>,
) -> Response {
    if !is_leases(&group, &version, &plural) {
        return not_found_status();
    }
    match shared.cluster().leases.get(&(namespace, name.clone())) {
        Some(lease) => (StatusCode::OK, axum::Json(lease.clone())).into_response(),
        None => lease_not_found(&name),
    }
}

async fn replace_in_group_namespaced(
    State(shared): State<Arc<Shared>>,
    UrlPath((group, version, namespace, plural, name)): UrlPath<(
        String,
        String,
        String,
        String,
        String,
    )>,
    Query(params): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_leases(&group, &version, &plural) {
        return method_not_allowed();
    }
    let lease = match lease_body(&body, &namespace) {
        Ok(lease) => lease,
        Err(message) => return bad_request(&message),
    };
    if let Some(body_name) = lease["metadata"]["name"].as_str()
        && body_name != name
    {
        return bad_request(&format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        ));
    }
    let key = (namespace, name);
    let mut cluster = shared.cluster();
    let manager = field_manager(&params, &headers);
    let Some(current) = cluster.leases.get(&key) else {
        // Leases allow create-on-update: a PUT of an absent Lease creates it.
        let stored = cluster.store_lease(key, lease, &manager);
        return (StatusCode::CREATED, axum::Json(stored)).into_response();
    };
    let sent = lease["metadata"]["resourceVersion"].as_str().unwrap_or("");
    if sent.is_empty() {
        // Leases allow no unconditional update.
        return status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            &format!(
                "{LEASES}.{LEASE_GROUP} \"{}\" is invalid: metadata.resourceVersion: Invalid \
                 value: 0x0: must be specified for an update",
                key.1
            ),
            json!({ "name": key.1, "group": LEASE_GROUP, "kind": LEASES }),
        );
    }
    if current["metadata"]["resourceVersion"].as_str() != Some(sent) {
        return lease_status(
            StatusCode::CONFLICT,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on {LEASES}.{LEASE_GROUP} \"{}\": the object has \
                 been modified; please apply your changes to the latest version and try again",
                key.1
            ),
            &key.1,
        );
    }
    let stored = cluster.store_lease(key, lease, &manager);
    (StatusCode::OK, axum::Json(stored)).into_response()
}

async fn delete_in_group_namespaced(
    State(shared): State<Arc<Shared>>,
    UrlPath((group, version, namespace, plural, name)): UrlPath<(
        String,
        String,
        String,
        String,
        String,
    )>,
) -> Response {
    if !is_leases(&group, &version, &plural) {
        return method_not_allowed();
    }
    let mut cluster = shared.cluster();
    let Some(removed) = cluster.leases.remove(&(namespace, name.clone())) else {
        return lease_not_found(&name);
    };
    cluster.next_resource_version();
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": name,
            "group": LEASE_GROUP,
            "kind": LEASES,
            "uid": removed["metadata"]["uid"],
        },
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn method_not_allowed() -> Response {
    status(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        json!({}),
    )
}

/// The kind of a full object, which the test must have spelled right.
fn kind_of(object: &Value) -> Kind {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    Kind::from_type(api_version, kind)
        .unwrap_or_else(|| panic!("the fake does not serve {api_version} {kind}"))
}

/// An object's etcd key within its resource: (namespace, name).
fn object_key(object: &Value) -> (String, String) {
    let field = |name: &str| {
        object["metadata"][name]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    (field("namespace"), field("name"))
}

/// Now, as the API server writes `creationTimestamp` and `managedFields` times.
fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Sets kubectl's last-applied annotation to `text`, or removes it (and an emptied
/// `annotations`).
fn set_last_applied(metadata: &mut Map<String, Value>, text: Option<&str>) {
    match text {
        Some(text) => {
            entry_object(metadata, "annotations").insert(LAST_APPLIED.into(), json!(text));
        }
        None => {
            let emptied = metadata
                .get_mut("annotations")
                .and_then(Value::as_object_mut)
                .is_some_and(|annotations| {
                    annotations.remove(LAST_APPLIED);
                    annotations.is_empty()
                });
            if emptied {
                metadata.remove("annotations");
            }
        }
    }
}

/// The fields a user writes: the object without the fields the server maintains, so that a diff
/// shows what the write changed.
fn user_fields(stored: &Value) -> Value {
    let mut fields = stored.clone();
    if let Some(map) = fields.as_object_mut() {
        map.remove("status");
        if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for server_field in [
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "generation",
                "managedFields",
            ] {
                metadata.remove(server_field);
            }
        }
    }
    fields
}

/// The `fieldsV1` set of the fields `new` adds or changes against `old` (removed fields belong
/// to no one any more, so they are not listed).
fn changed_fields(old: &Value, new: &Value) -> Value {
    let mut out = Map::new();
    if let (Value::Object(old), Value::Object(new)) = (old, new) {
        for (key, child) in new {
            match old.get(key) {
                Some(previous) if previous == child => {}
                Some(previous) if previous.is_object() && child.is_object() => {
                    out.insert(format!("f:{key}"), changed_fields(previous, child));
                }
                _ => {
                    out.insert(format!("f:{key}"), fields_v1(child));
                }
            }
        }
    }
    Value::Object(out)
}

/// Two `fieldsV1` sets merged.
fn merge_fields(mut into: Value, from: Value) -> Value {
    if let (Value::Object(into_map), Value::Object(from_map)) = (&mut into, from) {
        for (key, child) in from_map {
            let merged = match into_map.remove(&key) {
                Some(existing) => merge_fields(existing, child),
                None => child,
            };
            into_map.insert(key, merged);
        }
    }
    into
}

/// `managedFields` after `manager` updated the object: the other managers' entries stay, and
/// `manager`'s `Update` entry (its earlier fields plus `changed`) moves last, timed now.
fn managed_fields_after_update(
    old: &Value,
    manager: &str,
    api_version: &str,
    changed: Value,
) -> Value {
    let mut entries: Vec<Value> = old["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut fields = changed;
    if let Some(at) = entries
        .iter()
        .position(|e| e["manager"] == manager && e["operation"] == "Update")
    {
        let previous = entries.remove(at);
        fields = merge_fields(previous["fieldsV1"].clone(), fields);
    }
    entries.push(json!({
        "manager": manager,
        "operation": "Update",
        "apiVersion": api_version,
        "time": now(),
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }));
    Value::Array(entries)
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
    // Custom resources (cert-manager's, the Gateway API's, the implementations' policies) all
    // have a generation, as the kinds below do.
    if matches!(
        kind,
        Kind::Ingress
            | Kind::IngressClass
            | Kind::NetworkPolicy
            | Kind::Deployment
            | Kind::StatefulSet
            | Kind::DaemonSet
    ) || kind.add_on()
    {
        metadata.insert("generation".into(), json!(1));
    }
    // kubectl keeps the whole applied object here, Secrets' data included: a real leak path.
    entry_object(metadata, "annotations")
        .insert(LAST_APPLIED.into(), json!(format!("{applied}\n")));
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
