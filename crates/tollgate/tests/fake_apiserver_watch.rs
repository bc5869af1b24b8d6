//! The fake API server's writes, watches and Leases, tested over real HTTP with kube itself: if
//! kube's own watch reads the fake's stream, `tollgate watch` tested against the fake is tested
//! against the wire format a real API server speaks.

#[path = "support/fake_apiserver.rs"]
mod fake_apiserver;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use fake_apiserver::FakeApiServer;
use futures::StreamExt as _;
use futures::stream::BoxStream;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, PostParams,
    WatchEvent, WatchParams,
};
use kube::{Client, Config};
use serde_json::{Value, json};

/// The resourceVersion of the fake before the test's first write.
const INITIAL_RV: &str = "48213";
/// No single step may take longer than this; a bug fails the test instead of hanging CI.
const STEP: Duration = Duration::from_secs(10);

type Events = BoxStream<'static, Result<WatchEvent<DynamicObject>, kube::Error>>;

fn client(fake: &FakeApiServer) -> Client {
    client_with_token(fake, None)
}

fn client_with_token(fake: &FakeApiServer, token: Option<&str>) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = Config::new(fake.url().parse().expect("the fake's URL is a URI"));
    if let Some(token) = token {
        config.headers.push((
            axum::http::header::AUTHORIZATION,
            format!("Bearer {token}").parse().expect("a header value"),
        ));
    }
    Client::try_from(config).expect("a client for the fake")
}

fn ingresses(client: Client, namespace: &str) -> Api<DynamicObject> {
    let resource =
        ApiResource::from_gvk(&GroupVersionKind::gvk("networking.k8s.io", "v1", "Ingress"));
    Api::namespaced_with(client, namespace, &resource)
}

fn ingress(namespace: &str, name: &str, host: &str) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": { "name": name, "namespace": namespace },
        "spec": {
            "ingressClassName": "nginx",
            "rules": [{
                "host": host,
                "http": { "paths": [{
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": { "service": { "name": name, "port": { "number": 80 } } },
                }] },
            }],
        },
    })
}

fn lease_object(name: &str, holder: &str, resource_version: Option<&str>) -> Lease {
    let mut value = json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": { "name": name, "namespace": "tollgate" },
        "spec": { "holderIdentity": holder, "leaseDurationSeconds": 15 },
    });
    if let Some(rv) = resource_version {
        value["metadata"]["resourceVersion"] = json!(rv);
    }
    serde_json::from_value(value).expect("a Lease")
}

async fn open_watch(api: &Api<DynamicObject>, params: &WatchParams, from: &str) -> Events {
    tokio::time::timeout(STEP, api.watch(params, from))
        .await
        .expect("the watch opens in time")
        .expect("the watch is accepted")
        .boxed()
}

/// The next event, or `None` when the server ended the stream.
async fn next_event(events: &mut Events) -> Option<WatchEvent<DynamicObject>> {
    tokio::time::timeout(STEP, events.next())
        .await
        .expect("an event or the end arrives in time")
        .map(|event| event.expect("the line is a watch event"))
}

/// The type, name and resourceVersion of an event, to compare whole sequences at once.
fn summary(event: &WatchEvent<DynamicObject>) -> (String, String, String) {
    let (event_type, object) = match event {
        WatchEvent::Added(o) => ("ADDED", o),
        WatchEvent::Modified(o) => ("MODIFIED", o),
        WatchEvent::Deleted(o) => ("DELETED", o),
        WatchEvent::Bookmark(b) => {
            return (
                "BOOKMARK".into(),
                String::new(),
                b.metadata.resource_version.clone(),
            );
        }
        WatchEvent::Error(status) => {
            return ("ERROR".into(), status.message.clone(), String::new());
        }
    };
    (
        event_type.into(),
        object.metadata.name.clone().unwrap_or_default(),
        object.metadata.resource_version.clone().unwrap_or_default(),
    )
}

fn event(event_type: &str, name: &str, rv: &str) -> (String, String, String) {
    (event_type.into(), name.into(), rv.into())
}

/// Waits until the fake counts `n` open watches (the client's request has been answered).
fn wait_for_watches(fake: &FakeApiServer, n: usize) {
    let deadline = Instant::now() + STEP;
    while fake.open_watches() != n {
        assert!(Instant::now() < deadline, "{n} watches never opened");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test]
async fn watch_replays_writes_after_the_resource_version_in_order() {
    let fake = FakeApiServer::builder()
        .object(ingress("shop", "web", "web.example.com"))
        .start();
    let api = ingresses(client(&fake), "shop");
    let listed = api.list(&ListParams::default()).await.expect("list");
    assert_eq!(
        listed.metadata.resource_version.as_deref(),
        Some(INITIAL_RV)
    );

    let added = fake.create(ingress("shop", "api", "api.example.com"));
    let modified = fake.update(ingress("shop", "api", "api2.example.com"));
    let deleted = fake.delete("Ingress", "shop", "api");
    assert_eq!(
        (added.as_str(), modified.as_str(), deleted.as_str()),
        ("48214", "48215", "48216")
    );

    let mut events = open_watch(&api, &WatchParams::default().timeout(60), INITIAL_RV).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let event = next_event(&mut events).await.expect("three events");
        seen.push(summary(&event));
        if let WatchEvent::Modified(object) = &event {
            assert_eq!(object.data["spec"]["rules"][0]["host"], "api2.example.com");
            let types = object
                .types
                .as_ref()
                .expect("watch objects carry their type");
            assert_eq!(
                (types.api_version.as_str(), types.kind.as_str()),
                ("networking.k8s.io/v1", "Ingress")
            );
        }
    }
    assert_eq!(
        seen,
        [
            event("ADDED", "api", "48214"),
            event("MODIFIED", "api", "48215"),
            event("DELETED", "api", "48216"),
        ]
    );
}

#[tokio::test]
async fn watch_from_a_later_resource_version_skips_older_events() {
    let fake = FakeApiServer::builder().start();
    let api = ingresses(client(&fake), "shop");
    fake.create(ingress("shop", "a", "a.example.com"));
    let second = fake.create(ingress("shop", "b", "b.example.com"));
    fake.update(ingress("shop", "a", "a2.example.com"));

    let mut events = open_watch(&api, &WatchParams::default(), &second).await;
    let first = next_event(&mut events).await.expect("one event");
    assert_eq!(summary(&first), event("MODIFIED", "a", "48216"));
}

#[tokio::test]
async fn open_watch_receives_writes_as_they_happen() {
    let fake = FakeApiServer::builder().start();
    let api = ingresses(client(&fake), "shop");
    let mut events = open_watch(&api, &WatchParams::default(), INITIAL_RV).await;
    assert_eq!(fake.open_watches(), 1);

    let rv = fake.create(ingress("shop", "live", "live.example.com"));
    let first = next_event(&mut events).await.expect("the live event");
    assert_eq!(summary(&first), event("ADDED", "live", &rv));

    // A write in another namespace is not this watch's business.
    fake.create(ingress("other", "elsewhere", "elsewhere.example.com"));
    let rv = fake.delete("Ingress", "shop", "live");
    let second = next_event(&mut events).await.expect("the delete");
    assert_eq!(summary(&second), event("DELETED", "live", &rv));
}

#[tokio::test]
async fn watch_without_resource_version_starts_with_every_current_object() {
    let fake = FakeApiServer::builder()
        .object(ingress("shop", "web", "web.example.com"))
        .object(ingress("shop", "api", "api.example.com"))
        .object(ingress("other", "skip", "skip.example.com"))
        .start();
    let api = ingresses(client(&fake), "shop");
    for start in ["0", ""] {
        let mut events = open_watch(&api, &WatchParams::default(), start).await;
        let first = next_event(&mut events).await.expect("first ADDED");
        let second = next_event(&mut events).await.expect("second ADDED");
        // etcd order: namespace, then name.
        assert_eq!(summary(&first).0, "ADDED");
        assert_eq!(summary(&first).1, "api");
        assert_eq!(summary(&second).1, "web");
        let rv = fake.update(ingress("shop", "web", "www.example.com"));
        let third = next_event(&mut events).await.expect("the live update");
        assert_eq!(summary(&third), event("MODIFIED", "web", &rv));
    }
}

#[tokio::test]
async fn watch_from_a_compacted_resource_version_is_410_but_list_works() {
    let fake = FakeApiServer::builder()
        .object(ingress("shop", "web", "web.example.com"))
        .start();
    let api = ingresses(client(&fake), "shop");
    let rv = fake.update(ingress("shop", "web", "www.example.com"));
    assert_eq!(rv, "48214");
    fake.compact();

    let mut events = open_watch(&api, &WatchParams::default(), INITIAL_RV).await;
    match next_event(&mut events).await {
        Some(WatchEvent::Error(status)) => {
            assert_eq!(status.code, 410);
            assert_eq!(status.reason, "Expired");
            assert_eq!(status.message, "too old resource version: 48213 (48214)");
        }
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
    assert!(
        next_event(&mut events).await.is_none(),
        "the stream ends after the 410"
    );
    assert_eq!(fake.open_watches(), 0);

    // The compacted resourceVersion itself is what a list returns now, so it can be watched from.
    let listed = api
        .list(&ListParams::default())
        .await
        .expect("a list still works");
    assert_eq!(listed.metadata.resource_version.as_deref(), Some("48214"));
    let mut events = open_watch(&api, &WatchParams::default(), "48214").await;
    let newer = fake.create(ingress("shop", "api", "api.example.com"));
    let first = next_event(&mut events).await.expect("the create");
    assert_eq!(summary(&first), event("ADDED", "api", &newer));
}

#[tokio::test]
async fn close_watches_ends_streams_and_a_resumed_watch_gets_what_it_missed() {
    let fake = FakeApiServer::builder().start();
    let api = ingresses(client(&fake), "shop");
    let mut events = open_watch(&api, &WatchParams::default(), INITIAL_RV).await;
    let seen = fake.create(ingress("shop", "a", "a.example.com"));
    assert_eq!(
        summary(&next_event(&mut events).await.expect("ADDED a")).2,
        seen
    );

    fake.close_watches();
    assert!(next_event(&mut events).await.is_none(), "the stream ends");
    let missed = fake.create(ingress("shop", "b", "b.example.com"));

    let mut events = open_watch(&api, &WatchParams::default(), &seen).await;
    let first = next_event(&mut events).await.expect("the missed event");
    assert_eq!(summary(&first), event("ADDED", "b", &missed));

    // Dropped connections plus compaction force the client back to a list.
    fake.close_watches();
    fake.compact();
    let mut events = open_watch(&api, &WatchParams::default(), &seen).await;
    assert!(matches!(next_event(&mut events).await, Some(WatchEvent::Error(s)) if s.code == 410));
}

#[tokio::test]
async fn watch_ends_when_its_timeout_elapses() {
    let fake = FakeApiServer::builder().start();
    let api = ingresses(client(&fake), "shop");
    let started = Instant::now();
    let mut events = open_watch(&api, &WatchParams::default().timeout(1), INITIAL_RV).await;
    assert!(next_event(&mut events).await.is_none());
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    let request = fake.requests().pop().expect("the watch request");
    assert!(request.is_watch());
    assert_eq!(request.query("timeoutSeconds"), Some("1"));
    assert_eq!(request.query("resourceVersion"), Some(INITIAL_RV));
    assert_eq!(request.query("allowWatchBookmarks"), Some("true"));
}

#[tokio::test]
async fn watch_honours_field_and_label_selectors() {
    let mut labelled = ingress("shop", "b", "b.example.com");
    labelled["metadata"]["labels"] = json!({ "team": "payments" });
    let fake = FakeApiServer::builder().start();
    let api = ingresses(client(&fake), "shop");
    fake.create(ingress("shop", "a", "a.example.com"));
    let b = fake.create(labelled);

    let by_name = WatchParams::default().fields("metadata.name=b");
    let mut events = open_watch(&api, &by_name, INITIAL_RV).await;
    assert_eq!(
        summary(&next_event(&mut events).await.expect("b")),
        event("ADDED", "b", &b)
    );

    let by_label = WatchParams::default().labels("team=payments");
    let mut events = open_watch(&api, &by_label, INITIAL_RV).await;
    assert_eq!(
        summary(&next_event(&mut events).await.expect("b")),
        event("ADDED", "b", &b)
    );

    let without_label = WatchParams::default().labels("!team");
    let mut events = open_watch(&api, &without_label, INITIAL_RV).await;
    assert_eq!(summary(&next_event(&mut events).await.expect("a")).1, "a");

    let listed = api
        .list(&ListParams::default().fields("metadata.name!=b"))
        .await
        .expect("list");
    let names: Vec<_> = listed
        .items
        .iter()
        .filter_map(|i| i.metadata.name.clone())
        .collect();
    assert_eq!(names, ["a"]);

    let unsupported = WatchParams::default().fields("spec.ingressClassName=nginx");
    match api.watch(&unsupported, INITIAL_RV).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 400);
            assert_eq!(
                status.message,
                "field label not supported: spec.ingressClassName"
            );
        }
        Err(other) => panic!("expected a 400 Status, got {other:?}"),
        Ok(_) => panic!("expected a 400 Status, got a stream"),
    }
}

#[tokio::test]
async fn bookmarks_carry_the_current_resource_version() {
    let fake = FakeApiServer::builder().start();
    let api = ingresses(client(&fake), "shop");
    let mut events = open_watch(&api, &WatchParams::default(), INITIAL_RV).await;
    fake.create(ingress("other", "x", "x.example.com"));
    fake.bookmark();
    let bookmark = next_event(&mut events).await.expect("a bookmark");
    assert_eq!(summary(&bookmark), event("BOOKMARK", "", "48214"));

    // Without allowWatchBookmarks, no bookmark.
    let mut quiet = open_watch(
        &api,
        &WatchParams::default().disable_bookmarks(),
        INITIAL_RV,
    )
    .await;
    fake.bookmark();
    let rv = fake.create(ingress("shop", "y", "y.example.com"));
    assert_eq!(
        summary(&next_event(&mut quiet).await.expect("ADDED")),
        event("ADDED", "y", &rv)
    );
}

#[tokio::test]
async fn list_after_writes_shows_server_fields_of_each_write() {
    let fake = FakeApiServer::builder().start();
    let api = ingresses(client(&fake), "shop");
    let created = fake.create(ingress("shop", "web", "web.example.com"));
    let before = fake.stored("ingresses").pop().expect("created");
    assert_eq!(before["metadata"]["resourceVersion"], created.as_str());
    assert_eq!(before["metadata"]["generation"], 1);
    assert_eq!(
        before["metadata"]["managedFields"][0]["manager"],
        "kubectl-client-side-apply"
    );
    assert!(
        before["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .is_some_and(|a| a.contains("web.example.com"))
    );

    let updated =
        fake.update_with_manager(ingress("shop", "web", "www.example.com"), "kubectl-edit");
    let listed = api.list(&ListParams::default()).await.expect("list");
    assert_eq!(
        listed.metadata.resource_version.as_deref(),
        Some(updated.as_str())
    );
    let after = fake.stored("ingresses").pop().expect("updated");
    let metadata = &after["metadata"];
    assert_eq!(metadata["resourceVersion"], updated.as_str());
    assert_eq!(metadata["uid"], before["metadata"]["uid"]);
    assert_eq!(
        metadata["creationTimestamp"],
        before["metadata"]["creationTimestamp"]
    );
    assert_eq!(metadata["generation"], 2, "the spec changed");
    let managers = metadata["managedFields"].as_array().expect("managedFields");
    assert_eq!(managers.len(), 2, "{managers:#?}");
    assert_eq!(managers[0]["manager"], "kubectl-client-side-apply");
    let edit = &managers[1];
    assert_eq!(edit["manager"], "kubectl-edit");
    assert_eq!(edit["operation"], "Update");
    let time = edit["time"].as_str().expect("a time");
    let written: jiff::Timestamp = time.parse().expect("RFC 3339");
    assert!(written.as_second() <= jiff::Timestamp::now().as_second());
    assert!(
        jiff::Timestamp::now().as_second() - written.as_second() < 60,
        "{time}"
    );
    assert_eq!(
        time.len(),
        "2025-11-03T09:14:27Z".len(),
        "whole seconds: {time}"
    );
    assert!(
        edit["fieldsV1"]["f:spec"]["f:rules"].is_object(),
        "{edit:#}"
    );
    assert!(edit["fieldsV1"].get("f:metadata").is_none(), "{edit:#}");
    // kubectl edit leaves the last-applied annotation as kubectl apply wrote it.
    assert!(
        metadata["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .is_some_and(|a| a.contains("\"web.example.com\""))
    );

    // A metadata-only change keeps the generation.
    let mut relabelled = ingress("shop", "web", "www.example.com");
    relabelled["metadata"]["labels"] = json!({ "team": "shop" });
    fake.update_with_manager(relabelled, "kubectl-label");
    let after_label = fake.stored("ingresses").pop().expect("relabelled");
    assert_eq!(after_label["metadata"]["generation"], 2);

    // A re-created object is a new object.
    fake.delete("Ingress", "shop", "web");
    assert!(fake.stored("ingresses").is_empty());
    fake.create_with_manager(ingress("shop", "web", "web.example.com"), "helm");
    let recreated = fake.stored("ingresses").pop().expect("recreated");
    assert_ne!(recreated["metadata"]["uid"], before["metadata"]["uid"]);
    assert_eq!(recreated["metadata"]["managedFields"][0]["manager"], "helm");
    assert!(
        recreated["metadata"].get("annotations").is_none(),
        "{recreated:#}"
    );
    assert_eq!(fake.resource_version(), "48218");
}

#[test]
fn watch_lines_are_json_objects_with_api_version_and_kind() {
    let fake = FakeApiServer::builder()
        .object(ingress("shop", "web", "web.example.com"))
        .start();
    let address = fake.url().trim_start_matches("http://").to_owned();
    let reader = std::thread::spawn(move || {
        raw_request(
            &address,
            "GET",
            "/apis/networking.k8s.io/v1/namespaces/shop/ingresses?watch=1&resourceVersion=0",
            None,
        )
    });
    wait_for_watches(&fake, 1);
    fake.close_watches();
    let (head, body) = reader.join().expect("the reader");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let lines: Vec<Value> = body
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 1, "{body}");
    assert_eq!(lines[0]["type"], "ADDED");
    assert_eq!(lines[0]["object"]["apiVersion"], "networking.k8s.io/v1");
    assert_eq!(lines[0]["object"]["kind"], "Ingress");
    assert_eq!(lines[0]["object"]["metadata"]["name"], "web");
}

#[tokio::test]
async fn lease_create_conflict_and_replace() {
    let fake = FakeApiServer::builder().start();
    let leases: Api<Lease> = Api::namespaced(client(&fake), "tollgate");

    let missing = leases.get("tollgate").await.expect_err("absent");
    assert!(
        matches!(&missing, kube::Error::Api(s) if s.code == 404 && s.reason == "NotFound"),
        "{missing:?}"
    );
    assert_eq!(leases.get_opt("tollgate").await.expect("get_opt"), None);

    let created = leases
        .create(
            &PostParams::default(),
            &lease_object("tollgate", "pod-a", None),
        )
        .await
        .expect("create");
    let created_rv = created.metadata.resource_version.clone().expect("an RV");
    assert_eq!(created_rv, "48214");
    assert_eq!(
        created
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.as_deref()),
        Some("pod-a")
    );
    let uid = created.metadata.uid.clone().expect("a uid");

    let duplicate = leases
        .create(
            &PostParams::default(),
            &lease_object("tollgate", "pod-b", None),
        )
        .await
        .expect_err("already exists");
    assert!(
        matches!(&duplicate, kube::Error::Api(s) if s.code == 409 && s.reason == "AlreadyExists"),
        "{duplicate:?}"
    );

    // Another replica renews first: our copy is stale.
    let renewed = fake.put_lease(json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": { "name": "tollgate", "namespace": "tollgate" },
        "spec": { "holderIdentity": "pod-a", "leaseDurationSeconds": 15 },
    }));
    assert_eq!(renewed, "48215");
    let stale = leases
        .replace(
            "tollgate",
            &PostParams::default(),
            &lease_object("tollgate", "pod-b", Some(&created_rv)),
        )
        .await
        .expect_err("conflict");
    match &stale {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 409);
            assert_eq!(status.reason, "Conflict");
            assert_eq!(
                status.message,
                "Operation cannot be fulfilled on leases.coordination.k8s.io \"tollgate\": the \
                 object has been modified; please apply your changes to the latest version and \
                 try again"
            );
        }
        other => panic!("expected a 409 Status, got {other:?}"),
    }
    assert_eq!(
        fake.lease("tollgate", "tollgate").expect("held")["spec"]["holderIdentity"],
        "pod-a"
    );

    let unconditional = leases
        .replace(
            "tollgate",
            &PostParams::default(),
            &lease_object("tollgate", "pod-b", None),
        )
        .await
        .expect_err("Leases need a resourceVersion");
    assert!(
        matches!(&unconditional, kube::Error::Api(s) if s.code == 422),
        "{unconditional:?}"
    );

    let replaced = leases
        .replace(
            "tollgate",
            &PostParams::default(),
            &lease_object("tollgate", "pod-b", Some(&renewed)),
        )
        .await
        .expect("replace with the current RV");
    assert_eq!(replaced.metadata.resource_version.as_deref(), Some("48216"));
    assert_eq!(replaced.metadata.uid.as_deref(), Some(uid.as_str()));
    let stored = fake.lease("tollgate", "tollgate").expect("stored");
    assert_eq!(stored["apiVersion"], "coordination.k8s.io/v1");
    assert_eq!(stored["kind"], "Lease");
    assert_eq!(stored["spec"]["holderIdentity"], "pod-b");
    assert_eq!(stored["metadata"]["resourceVersion"], "48216");

    let listed = leases
        .list(&ListParams::default())
        .await
        .expect("list leases");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.metadata.resource_version.as_deref(), Some("48216"));

    let deleted = leases
        .delete("tollgate", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(deleted.is_right(), "a Status answers a Lease delete");
    assert_eq!(fake.lease("tollgate", "tollgate"), None);
    let again = leases
        .delete("tollgate", &DeleteParams::default())
        .await
        .expect_err("gone");
    assert!(
        matches!(&again, kube::Error::Api(s) if s.code == 404),
        "{again:?}"
    );

    // Leases allow create-on-update.
    let recreated = leases
        .replace(
            "tollgate",
            &PostParams::default(),
            &lease_object("tollgate", "pod-c", None),
        )
        .await
        .expect("PUT creates an absent Lease");
    assert_ne!(recreated.metadata.uid.as_deref(), Some(uid.as_str()));

    let methods: Vec<(String, String)> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| (r.method.clone(), r.path().to_owned()))
        .collect();
    let one = "/apis/coordination.k8s.io/v1/namespaces/tollgate/leases/tollgate";
    let all = "/apis/coordination.k8s.io/v1/namespaces/tollgate/leases";
    let expected: Vec<(String, String)> = [
        ("POST", all),
        ("POST", all),
        ("PUT", one),
        ("PUT", one),
        ("PUT", one),
        ("DELETE", one),
        ("DELETE", one),
        ("PUT", one),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .collect();
    assert_eq!(methods, expected);
}

#[tokio::test]
async fn watches_and_leases_need_the_token() {
    let fake = FakeApiServer::builder().token("secret").start();
    let anonymous = ingresses(client(&fake), "shop");
    let refused = anonymous.watch(&WatchParams::default(), INITIAL_RV).await;
    assert!(matches!(&refused, Err(kube::Error::Api(s)) if s.code == 401));
    let leases: Api<Lease> = Api::namespaced(client(&fake), "tollgate");
    let refused = leases
        .create(
            &PostParams::default(),
            &lease_object("tollgate", "pod-a", None),
        )
        .await;
    assert!(matches!(&refused, Err(kube::Error::Api(s)) if s.code == 401));
    assert_eq!(fake.lease("tollgate", "tollgate"), None);

    let leases: Api<Lease> = Api::namespaced(client_with_token(&fake, Some("secret")), "tollgate");
    leases
        .create(
            &PostParams::default(),
            &lease_object("tollgate", "pod-a", None),
        )
        .await
        .expect("with the token");
    let authorized = ingresses(client_with_token(&fake, Some("secret")), "shop");
    let mut events = open_watch(&authorized, &WatchParams::default(), INITIAL_RV).await;
    let rv = fake.create(ingress("shop", "web", "web.example.com"));
    assert_eq!(
        summary(&next_event(&mut events).await.expect("ADDED")),
        event("ADDED", "web", &rv)
    );
    let recorded: Vec<_> = fake
        .requests()
        .into_iter()
        .map(|r| (r.method, r.authorization))
        .collect();
    assert_eq!(
        recorded,
        [
            ("GET".to_owned(), None),
            ("POST".to_owned(), None),
            ("POST".to_owned(), Some("Bearer secret".to_owned())),
            ("GET".to_owned(), Some("Bearer secret".to_owned())),
        ]
    );
}

#[tokio::test]
async fn dropping_the_server_ends_open_watches() {
    let fake = FakeApiServer::builder().start();
    let api = ingresses(client(&fake), "shop");
    let mut events = open_watch(&api, &WatchParams::default(), INITIAL_RV).await;
    let started = Instant::now();
    // Dropping joins the server thread, so do it off the test's runtime.
    tokio::task::spawn_blocking(move || drop(fake))
        .await
        .expect("drop");
    assert!(started.elapsed() < STEP);
    assert!(next_event(&mut events).await.is_none());
}

/// One HTTP/1.1 request on a fresh connection; returns the head and the de-chunked body.
fn raw_request(address: &str, method: &str, path: &str, body: Option<&str>) -> (String, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(STEP)).expect("read timeout");
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, mut rest) = response.split_once("\r\n\r\n").expect("a head");
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return (head.to_owned(), rest.to_owned());
    }
    let mut decoded = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        decoded.push_str(after.get(..size).expect("a whole chunk"));
        rest = after.get(size + 2..).unwrap_or("");
    }
    (head.to_owned(), decoded)
}
