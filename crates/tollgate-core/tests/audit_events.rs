//! Reading Kubernetes audit events: the log backend's JSON lines, webhook EventLists, GKE and AKS
//! exports, Secret payloads that must never be kept, and bad input that must not stop a read.

use tollgate_core::audit::{AuditEvent, AuditLevel, AuditStage, read_events};

/// `kubectl create -f ingress.yaml` logged at RequestResponse.
const CREATE_INGRESS: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"8c3ae5f4-2b8e-4a8e-9a57-0c1c1f4e6f01","stage":"ResponseComplete","requestURI":"/apis/networking.k8s.io/v1/namespaces/shop/ingresses?fieldManager=kubectl-create","verb":"create","user":{"username":"alice@example.com","groups":["developers","system:authenticated"],"extra":{"authentication.kubernetes.io/credential-id":["X509SHA256=5d2f"]}},"sourceIPs":["203.0.113.7"],"userAgent":"kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0","objectRef":{"resource":"ingresses","namespace":"shop","name":"web","apiGroup":"networking.k8s.io","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"Ingress","apiVersion":"networking.k8s.io/v1","metadata":{"name":"web","namespace":"shop"},"spec":{"ingressClassName":"nginx","rules":[{"host":"shop.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]}},"responseObject":{"kind":"Ingress","apiVersion":"networking.k8s.io/v1","metadata":{"name":"web","namespace":"shop","uid":"0b7e4c1e-9a3f-4a57-b0f1-6f3d2b8e4c11","resourceVersion":"184467","generation":1,"creationTimestamp":"2026-07-01T10:00:00Z"},"spec":{"ingressClassName":"nginx","rules":[{"host":"shop.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]},"status":{"loadBalancer":{}}},"requestReceivedTimestamp":"2026-07-01T10:00:00.118337Z","stageTimestamp":"2026-07-01T10:00:00.131842Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"shop-devs/shop\" of ClusterRole \"edit\" to Group \"developers\""}}"#;

/// `kubectl --as=bob annotate ingress web ...` by the cluster admin, at Request level.
const IMPERSONATED_PATCH: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"f1d3a9e2-7c41-4d0b-8e0e-2a6c5b9d7e33","stage":"ResponseComplete","requestURI":"/apis/networking.k8s.io/v1/namespaces/shop/ingresses/web?fieldManager=kubectl%20annotate&dryRun=","verb":"patch","user":{"username":"kubernetes-admin","groups":["system:masters","system:authenticated"]},"impersonatedUser":{"username":"bob","groups":["shop-oncall","system:authenticated"]},"sourceIPs":["198.51.100.4","10.0.0.5"],"userAgent":"kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0","objectRef":{"resource":"ingresses","namespace":"shop","name":"web","apiGroup":"networking.k8s.io","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestObject":{"metadata":{"annotations":{"nginx.ingress.kubernetes.io/configuration-snippet":"more_set_headers \"X-Debug: 1\";"}}},"requestReceivedTimestamp":"2026-07-01T10:05:12.000001Z","stageTimestamp":"2026-07-01T10:05:12.020304Z"}"#;

/// An update refused by RBAC, at Metadata level.
const DENIED_UPDATE: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"0e5f2c7a-3b19-4f6e-a2d4-9c8b7a6f5e44","stage":"ResponseComplete","requestURI":"/apis/networking.k8s.io/v1/namespaces/shop/ingresses/web","verb":"update","user":{"username":"mallory","groups":["system:authenticated"]},"sourceIPs":["192.0.2.66"],"userAgent":"curl/8.5.0","objectRef":{"resource":"ingresses","namespace":"shop","name":"web","apiGroup":"networking.k8s.io","apiVersion":"v1"},"responseStatus":{"metadata":{},"status":"Failure","message":"ingresses.networking.k8s.io \"web\" is forbidden: User \"mallory\" cannot update resource \"ingresses\" in API group \"networking.k8s.io\" in the namespace \"shop\"","reason":"Forbidden","details":{"name":"web","group":"networking.k8s.io","kind":"ingresses"},"code":403},"requestReceivedTimestamp":"2026-07-01T10:07:00.500000Z","stageTimestamp":"2026-07-01T10:07:00.501234Z","annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":""}}"#;

/// A TLS Secret created at RequestResponse (a policy that forgot the Secret rule), with its key in
/// both bodies and in a mutating webhook's patch annotation.
const SECRET_CREATE: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"a7c2e9f0-11d4-4b8a-9e6f-3d2c1b0a9f55","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/secrets?fieldManager=kubectl-create","verb":"create","user":{"username":"alice@example.com","groups":["developers"]},"sourceIPs":["203.0.113.7"],"userAgent":"kubectl/v1.33.1","objectRef":{"resource":"secrets","namespace":"shop","name":"shop-tls","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"shop-tls"},"type":"kubernetes.io/tls","data":{"tls.crt":"LS0tLS1CRUdJTg==","tls.key":"U1VQRVJTRUNSRVRLRVk="}},"responseObject":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"shop-tls","namespace":"shop","resourceVersion":"184500"},"type":"kubernetes.io/tls","data":{"tls.crt":"LS0tLS1CRUdJTg==","tls.key":"U1VQRVJTRUNSRVRLRVk="}},"requestReceivedTimestamp":"2026-07-01T10:10:00.000000Z","stageTimestamp":"2026-07-01T10:10:00.010000Z","annotations":{"authorization.k8s.io/decision":"allow","patch.webhook.admission.k8s.io/round_0_index_0":"{\"configuration\":\"labeler\",\"patch\":[{\"op\":\"add\",\"path\":\"/data/extra\",\"value\":\"U1VQRVJTRUNSRVRLRVk=\"}]}"}}"#;

fn read_one(text: &str) -> AuditEvent {
    let (mut events, errors) = read_events(text, "audit.log");
    assert_eq!(errors, vec![], "unexpected errors");
    assert_eq!(events.len(), 1, "expected exactly one event");
    events.remove(0)
}

#[test]
fn a_create_at_request_response_keeps_every_field() {
    let event = read_one(CREATE_INGRESS);
    assert_eq!(event.api_version.as_deref(), Some("audit.k8s.io/v1"));
    assert_eq!(event.level, AuditLevel::RequestResponse);
    assert_eq!(event.audit_id, "8c3ae5f4-2b8e-4a8e-9a57-0c1c1f4e6f01");
    assert_eq!(event.stage, AuditStage::ResponseComplete);
    assert_eq!(event.verb, "create");
    assert_eq!(event.user.username, "alice@example.com");
    assert_eq!(event.user.groups, ["developers", "system:authenticated"]);
    assert_eq!(
        event.user.extra["authentication.kubernetes.io/credential-id"],
        ["X509SHA256=5d2f"]
    );
    assert_eq!(event.source_ips, ["203.0.113.7"]);
    let object = event.object_ref.as_ref().expect("objectRef");
    assert_eq!(object.resource.as_deref(), Some("ingresses"));
    assert_eq!(object.namespace.as_deref(), Some("shop"));
    assert_eq!(object.name.as_deref(), Some("web"));
    assert_eq!(object.api_group.as_deref(), Some("networking.k8s.io"));
    assert_eq!(event.response_code(), Some(201));
    assert!(event.is_mutating());
    assert!(!event.denied());
    assert_eq!(event.field_manager().as_deref(), Some("kubectl-create"));
    assert_eq!(event.response_resource_version(), Some("184467"));
    assert_eq!(event.impersonated_by(), None);
    assert_eq!(event.effective_user().username, "alice@example.com");
    assert_eq!(event.stage_time_ms(), 1_782_900_000_131);
    assert_eq!(
        event
            .request_object
            .as_ref()
            .and_then(|o| o.pointer("/spec/rules/0/host")),
        Some(&serde_json::json!("shop.example.com"))
    );
    assert!(event.annotations["authorization.k8s.io/reason"].contains("ClusterRole \"edit\""));
}

#[test]
fn an_event_serializes_back_with_microsecond_times() {
    let event = read_one(CREATE_INGRESS);
    let json: serde_json::Value = serde_json::from_str(&event.to_json_without_secrets()).unwrap();
    assert_eq!(json["stageTimestamp"], "2026-07-01T10:00:00.131842Z");
    assert_eq!(
        json["requestReceivedTimestamp"],
        "2026-07-01T10:00:00.118337Z"
    );
    assert_eq!(json["auditID"], "8c3ae5f4-2b8e-4a8e-9a57-0c1c1f4e6f01");
    assert_eq!(
        json["requestURI"],
        "/apis/networking.k8s.io/v1/namespaces/shop/ingresses?fieldManager=kubectl-create"
    );
    assert_eq!(json["sourceIPs"][0], "203.0.113.7");
    // Read back, it is the same event.
    assert_eq!(read_one(&event.to_json_without_secrets()), event);
}

#[test]
fn an_impersonated_patch_names_the_impersonator_and_the_effective_user() {
    let event = read_one(IMPERSONATED_PATCH);
    assert_eq!(event.effective_user().username, "bob");
    assert_eq!(
        event.effective_user().groups,
        ["shop-oncall", "system:authenticated"]
    );
    assert_eq!(
        event.impersonated_by().map(|user| user.username.as_str()),
        Some("kubernetes-admin")
    );
    assert!(event.is_mutating());
    assert!(!event.denied());
    // `%20` decodes; the empty dryRun parameter after it does not confuse the lookup.
    assert_eq!(event.field_manager().as_deref(), Some("kubectl annotate"));
    // Request level: no response body, so no resourceVersion to join on.
    assert_eq!(event.response_resource_version(), None);
    assert_eq!(event.source_ips, ["198.51.100.4", "10.0.0.5"]);
}

#[test]
fn a_forbidden_update_is_denied() {
    let event = read_one(DENIED_UPDATE);
    assert!(event.denied());
    assert!(event.is_mutating());
    let status = event.response_status.as_ref().expect("responseStatus");
    assert_eq!(status.code, Some(403));
    assert_eq!(status.reason.as_deref(), Some("Forbidden"));
    assert_eq!(status.status.as_deref(), Some("Failure"));
    assert_eq!(
        status.details.as_ref().and_then(|d| d.get("kind")),
        Some(&serde_json::json!("ingresses"))
    );
    assert_eq!(event.field_manager(), None);
    assert_eq!(event.annotations["authorization.k8s.io/decision"], "forbid");
}

#[test]
fn reads_and_lists_are_not_mutating() {
    for verb in ["get", "list", "watch", "proxy"] {
        let line = DENIED_UPDATE.replace(r#""verb":"update""#, &format!(r#""verb":"{verb}""#));
        assert!(!read_one(&line).is_mutating(), "{verb}");
    }
    for verb in ["create", "update", "patch", "delete", "deletecollection"] {
        let line = DENIED_UPDATE.replace(r#""verb":"update""#, &format!(r#""verb":"{verb}""#));
        assert!(read_one(&line).is_mutating(), "{verb}");
    }
}

#[test]
fn a_secret_event_loses_its_bodies_and_quoting_annotations_but_keeps_its_metadata() {
    let with_more_annotations = SECRET_CREATE.replace(
        r#""annotations":{"#,
        r#""annotations":{"labeler.example.com/copied-key":"U1VQRVJTRUNSRVRLRVk=","mutation.webhook.admission.k8s.io/round_0_index_0":"{\"configuration\":\"labeler\",\"mutated\":true}","#,
    );
    let event = read_one(&with_more_annotations);
    assert_eq!(event.request_object, None);
    assert_eq!(event.response_object, None);
    // Only the metadata-only annotations stay: a webhook's own annotation and its recorded patch
    // both quoted the key.
    assert_eq!(
        event.annotations.keys().collect::<Vec<_>>(),
        [
            "authorization.k8s.io/decision",
            "mutation.webhook.admission.k8s.io/round_0_index_0"
        ]
    );
    assert_eq!(event.annotations["authorization.k8s.io/decision"], "allow");
    assert_eq!(event.user.username, "alice@example.com");
    assert_eq!(
        event.object_ref.as_ref().and_then(|o| o.name.as_deref()),
        Some("shop-tls")
    );
    assert_eq!(event.response_code(), Some(201));
    let stored = event.to_json_without_secrets();
    assert!(!stored.contains("U1VQRVJTRUNSRVRLRVk="), "{stored}");
    assert!(!stored.contains("tls.key"), "{stored}");
}

#[test]
fn a_secret_event_built_without_the_reader_is_still_stored_without_its_bodies() {
    // An Ingress event read normally, then turned into a Secret event by hand: the reader did not
    // see it as a Secret, so the bodies are still in memory, but never in the stored JSON.
    let mut event = read_one(CREATE_INGRESS);
    if let Some(object) = event.object_ref.as_mut() {
        object.resource = Some("secrets".to_owned());
    }
    assert!(event.request_object.is_some());
    let stored = event.to_json_without_secrets();
    assert!(!stored.contains("requestObject"), "{stored}");
    assert!(!stored.contains("responseObject"), "{stored}");
    assert!(stored.contains("\"resource\":\"secrets\""), "{stored}");
    assert!(event.drop_secret_payloads());
    assert_eq!(event.request_object, None);
    // Nothing left to drop the second time; an Ingress event has nothing to drop at all.
    assert!(!event.drop_secret_payloads());
    assert!(!read_one(CREATE_INGRESS).drop_secret_payloads());
}

#[test]
fn token_requests_and_token_reviews_lose_their_bodies_too() {
    let token = SECRET_CREATE.replace(
        r#""resource":"secrets""#,
        r#""resource":"serviceaccounts","subresource":"token""#,
    );
    assert_eq!(read_one(&token).response_object, None);
    let review = SECRET_CREATE.replace(
        r#""resource":"secrets""#,
        r#""resource":"tokenreviews","apiGroup":"authentication.k8s.io""#,
    );
    assert_eq!(read_one(&review).request_object, None);
    // A service account itself is not secret.
    let account =
        SECRET_CREATE.replace(r#""resource":"secrets""#, r#""resource":"serviceaccounts""#);
    assert!(read_one(&account).request_object.is_some());
}

#[test]
fn json_lines_are_read_in_order() {
    let text = format!("{CREATE_INGRESS}\n{IMPERSONATED_PATCH}\r\n\n{DENIED_UPDATE}\n");
    let (events, errors) = read_events(&text, "audit.log");
    assert_eq!(errors, vec![]);
    let ids: Vec<&str> = events.iter().map(|e| e.audit_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "8c3ae5f4-2b8e-4a8e-9a57-0c1c1f4e6f01",
            "f1d3a9e2-7c41-4d0b-8e0e-2a6c5b9d7e33",
            "0e5f2c7a-3b19-4f6e-a2d4-9c8b7a6f5e44"
        ]
    );
}

#[test]
fn bad_lines_are_errors_naming_file_and_line_and_the_rest_is_read() {
    let missing_audit_id =
        DENIED_UPDATE.replace(r#""auditID":"0e5f2c7a-3b19-4f6e-a2d4-9c8b7a6f5e44","#, "");
    let bad_time = IMPERSONATED_PATCH.replace("2026-07-01T10:05:12.020304Z", "yesterday");
    let bad_stage = IMPERSONATED_PATCH.replace("ResponseComplete", "Finished");
    let text = [
        CREATE_INGRESS,
        "Jul  1 10:00:00 master kube-apiserver[812]: started",
        &missing_audit_id,
        &bad_time,
        "",
        r#"{"truncated": "#,
        "[1, 2]",
        &bad_stage,
        DENIED_UPDATE,
    ]
    .join("\n");
    let (events, errors) = read_events(&text, "kube-audit.log");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].verb, "create");
    assert_eq!(events[1].verb, "update");
    let located: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.file.as_str())).collect();
    assert_eq!(
        located,
        [
            (2, "kube-audit.log"),
            (3, "kube-audit.log"),
            (4, "kube-audit.log"),
            (6, "kube-audit.log"),
            (7, "kube-audit.log"),
            (7, "kube-audit.log"),
            (8, "kube-audit.log"),
        ]
    );
    assert!(
        errors[0]
            .to_string()
            .starts_with("kube-audit.log:2: not JSON: expected value"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].reason.contains("missing field `auditID`"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2]
            .reason
            .contains("\"yesterday\" is not an RFC 3339 time"),
        "{}",
        errors[2]
    );
    assert!(
        errors[3].reason.starts_with("not JSON: EOF while parsing"),
        "{}",
        errors[3]
    );
    assert_eq!(
        errors[4].reason,
        "[0]: not an audit event: expected an Event, an EventList, a GKE log entry or an AKS record"
    );
    assert!(
        errors[6].reason.contains("unknown variant `Finished`"),
        "{}",
        errors[6]
    );
}

#[test]
fn an_event_list_is_read_item_by_item() {
    let list = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{CREATE_INGRESS},{{"kind":"Event","level":"Metadata"}},{SECRET_CREATE}]}}"#
    );
    let (events, errors) = read_events(&list, "webhook");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].audit_id, "8c3ae5f4-2b8e-4a8e-9a57-0c1c1f4e6f01");
    assert_eq!(
        events[1]
            .object_ref
            .as_ref()
            .and_then(|o| o.resource.as_deref()),
        Some("secrets")
    );
    assert_eq!(
        events[1].response_object, None,
        "Secret bodies dropped inside lists too"
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 1);
    assert!(
        errors[0]
            .reason
            .starts_with("items[1]: not an audit event: missing field"),
        "{}",
        errors[0]
    );
}

#[test]
fn a_pretty_printed_event_list_is_one_document() {
    let list = serde_json::to_string_pretty(&serde_json::json!({
        "kind": "EventList",
        "apiVersion": "audit.k8s.io/v1",
        "items": [
            serde_json::from_str::<serde_json::Value>(IMPERSONATED_PATCH).unwrap(),
            serde_json::from_str::<serde_json::Value>(DENIED_UPDATE).unwrap(),
        ]
    }))
    .unwrap();
    let text = format!("\n{list}\n");
    let (events, errors) = read_events(&text, "list.json");
    assert_eq!(errors, vec![]);
    assert_eq!(events.len(), 2);
    assert!(events[1].denied());
}

#[test]
fn a_broken_pretty_printed_document_is_one_error_at_the_mistake() {
    let text = "{\n  \"kind\": \"EventList\",\n  \"items\": [\n    {\"auditID\": }\n  ]\n}\n";
    let (events, errors) = read_events(text, "list.json");
    assert_eq!(events, vec![]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, 4);
    assert!(
        errors[0].reason.starts_with("not JSON: expected value"),
        "{}",
        errors[0]
    );
}

/// A GKE Cloud Audit Logs entry for an Ingress create, as `gcloud logging read --format json`
/// prints it (an array of entries).
const GKE_ENTRIES: &str = r#"[
  {
    "insertId": "5d7a1e0b-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
    "labels": {
      "authorization.k8s.io/decision": "allow",
      "authorization.k8s.io/reason": "access granted by IAM permissions."
    },
    "logName": "projects/shop-prod/logs/cloudaudit.googleapis.com%2Factivity",
    "operation": {
      "first": true,
      "id": "5d7a1e0b-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
      "last": true,
      "producer": "k8s.io"
    },
    "protoPayload": {
      "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
      "authenticationInfo": {"principalEmail": "carol@example.com"},
      "authorizationInfo": [{"granted": true, "permission": "io.k8s.networking.v1.ingresses.create", "resource": "networking.k8s.io/v1/namespaces/shop/ingresses/web"}],
      "methodName": "io.k8s.networking.v1.ingresses.create",
      "request": {"@type": "networking.k8s.io/v1.Ingress", "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web", "namespace": "shop"}},
      "requestMetadata": {"callerIp": "35.187.1.2", "callerSuppliedUserAgent": "kubectl/v1.33.1 (darwin/arm64) kubernetes/8adc0f0"},
      "resourceName": "networking.k8s.io/v1/namespaces/shop/ingresses/web",
      "response": {"@type": "networking.k8s.io/v1.Ingress", "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "99123"}},
      "serviceName": "k8s.io",
      "status": {"code": 0}
    },
    "receiveTimestamp": "2026-07-01T11:00:01.402311Z",
    "resource": {"type": "k8s_cluster", "labels": {"cluster_name": "prod", "location": "europe-west1", "project_id": "shop-prod"}},
    "timestamp": "2026-07-01T11:00:00.250000Z"
  },
  {
    "insertId": "9e8d7c6b",
    "protoPayload": {
      "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
      "authenticationInfo": {"principalEmail": "system:serviceaccount:shop:deployer"},
      "methodName": "io.k8s.core.v1.secrets.delete",
      "resourceName": "core/v1/namespaces/shop/secrets/shop-tls",
      "request": {"kind": "DeleteOptions"},
      "status": {"code": 7, "message": "secrets \"shop-tls\" is forbidden"}
    },
    "timestamp": "2026-07-01T11:02:00Z"
  },
  {
    "insertId": "00ff",
    "protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.DataAccessLog"},
    "timestamp": "2026-07-01T11:03:00Z"
  }
]"#;

#[test]
fn gke_audit_log_entries_map_onto_events() {
    let (events, errors) = read_events(GKE_ENTRIES, "gke.json");
    assert_eq!(events.len(), 2);
    let create = &events[0];
    assert_eq!(create.audit_id, "5d7a1e0b-2c3d-4e5f-8a9b-0c1d2e3f4a5b");
    assert_eq!(create.verb, "create");
    assert_eq!(create.level, AuditLevel::RequestResponse);
    assert_eq!(create.stage, AuditStage::ResponseComplete);
    assert_eq!(create.user.username, "carol@example.com");
    assert_eq!(create.source_ips, ["35.187.1.2"]);
    assert_eq!(
        create.user_agent.as_deref(),
        Some("kubectl/v1.33.1 (darwin/arm64) kubernetes/8adc0f0")
    );
    let object = create.object_ref.as_ref().expect("objectRef");
    assert_eq!(object.api_group.as_deref(), Some("networking.k8s.io"));
    assert_eq!(object.api_version.as_deref(), Some("v1"));
    assert_eq!(object.resource.as_deref(), Some("ingresses"));
    assert_eq!(object.namespace.as_deref(), Some("shop"));
    assert_eq!(object.name.as_deref(), Some("web"));
    assert_eq!(object.subresource, None);
    assert_eq!(create.response_code(), Some(200));
    assert_eq!(create.response_resource_version(), Some("99123"));
    assert_eq!(create.annotations["authorization.k8s.io/decision"], "allow");
    assert_eq!(create.stage_time_ms(), 1_782_903_600_250);

    let delete = &events[1];
    assert_eq!(
        delete.audit_id, "9e8d7c6b",
        "insertId when there is no operation"
    );
    assert_eq!(delete.verb, "delete");
    let object = delete.object_ref.as_ref().expect("objectRef");
    assert_eq!(
        object.api_group.as_deref(),
        Some(""),
        "core is the empty group"
    );
    assert_eq!(object.resource.as_deref(), Some("secrets"));
    assert_eq!(object.name.as_deref(), Some("shop-tls"));
    assert!(delete.denied());
    assert_eq!(delete.response_code(), Some(403));
    assert_eq!(
        delete.request_object, None,
        "a Secret event keeps no bodies"
    );

    assert_eq!(errors.len(), 1);
    assert!(errors[0].reason.starts_with(r#"[2]: GKE log entry of type "type.googleapis.com/google.cloud.audit.DataAccessLog" is not an audit log"#), "{}", errors[0]);
}

#[test]
fn aks_records_carry_the_event_as_a_string_or_an_object() {
    let as_string = serde_json::json!({
        "category": "kube-audit",
        "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
        "properties": {"log": CREATE_INGRESS, "pod": "kube-apiserver-6d8f9c-abcde", "stream": "stdout"},
        "resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/SHOP/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/PROD",
        "time": "2026-07-01T10:00:00.1318420Z"
    });
    let as_object = serde_json::json!({
        "category": "kube-audit-admin",
        "properties": {"log": serde_json::from_str::<serde_json::Value>(DENIED_UPDATE).unwrap()}
    });
    let not_audit =
        serde_json::json!({"category": "kube-apiserver", "properties": {"log": "I0701 started"}});
    let bad_log = serde_json::json!({"category": "kube-audit", "properties": {"log": "{\"kind\":\"Event\"}"}});
    let records = serde_json::json!({"records": [as_string, as_object, not_audit, bad_log]});

    // A single record on one line, then the `records` wrapper on the next.
    let text = format!("{as_string}\n{records}\n");
    let (events, errors) = read_events(&text, "aks.json");
    let ids: Vec<&str> = events.iter().map(|e| e.audit_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "8c3ae5f4-2b8e-4a8e-9a57-0c1c1f4e6f01",
            "8c3ae5f4-2b8e-4a8e-9a57-0c1c1f4e6f01",
            "0e5f2c7a-3b19-4f6e-a2d4-9c8b7a6f5e44"
        ]
    );
    assert!(events[2].denied());
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].line, 2);
    assert!(
        errors[0].reason.starts_with(
            r#"records[2]: AKS record of category "kube-apiserver" is not an audit event"#
        ),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].reason.starts_with(
            "records[3]: properties.log of the AKS record is not an audit event: missing field"
        ),
        "{}",
        errors[1]
    );
}

#[test]
fn empty_input_reads_nothing_and_reports_nothing() {
    assert_eq!(read_events("", "empty.log"), (vec![], vec![]));
    assert_eq!(read_events("\n  \n", "blank.log"), (vec![], vec![]));
}

#[test]
fn v1beta1_events_are_accepted() {
    let old = DENIED_UPDATE.replace("audit.k8s.io/v1", "audit.k8s.io/v1beta1");
    let event = read_one(&old);
    assert_eq!(event.api_version.as_deref(), Some("audit.k8s.io/v1beta1"));
    assert!(event.denied());
}

#[test]
fn field_manager_ignores_other_parameters_and_fragments() {
    let uri = |uri: &str| {
        IMPERSONATED_PATCH.replace(
        "/apis/networking.k8s.io/v1/namespaces/shop/ingresses/web?fieldManager=kubectl%20annotate&dryRun=",
        uri,
    )
    };
    assert_eq!(
        read_one(&uri("/api/v1/x?dryRun=All&fieldManager=helm#top"))
            .field_manager()
            .as_deref(),
        Some("helm")
    );
    assert_eq!(
        read_one(&uri("/api/v1/x?myfieldManager=helm")).field_manager(),
        None
    );
    assert_eq!(
        read_one(&uri("/api/v1/x?fieldManager=")).field_manager(),
        None
    );
    assert_eq!(
        read_one(&uri("/api/v1/x?fieldManager=a+b%2"))
            .field_manager()
            .as_deref(),
        Some("a b%2")
    );
    assert_eq!(
        read_one(&uri("/api/v1/x?fieldManager=%E2%9C%93"))
            .field_manager()
            .as_deref(),
        Some("✓")
    );
    assert_eq!(
        read_one(&uri("/api/v1/x?fieldManager=%FF"))
            .field_manager()
            .as_deref(),
        Some("\u{fffd}")
    );
}

/// xorshift: deterministic corruption for the mutation test.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// A deterministic stand-in for the `audit_events` fuzz target that runs on every CI run: every
/// sample, corrupted thousands of ways (characters dropped, JSON punctuation and escapes spliced
/// in, lines cut), is read and every helper called on every event. Nothing may panic, and every
/// error must name the file and a line of the input.
#[test]
fn corrupted_audit_logs_never_panic_and_errors_point_into_the_input() {
    const SPLICES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        "\"",
        ":",
        ",",
        "\\",
        "\\u00",
        "\n",
        "null",
        "1e999",
        "\"secrets\"",
        "%",
        "%e2%9c",
        "?fieldManager=",
        "é",
        "\u{feff}",
        "-1",
        "\"items\":",
        "\"records\":",
    ];
    let aks = format!(
        r#"{{"records":[{{"category":"kube-audit","properties":{{"log":{}}}}}]}}"#,
        serde_json::to_string(CREATE_INGRESS).unwrap()
    );
    let samples = [
        format!("{CREATE_INGRESS}\n{IMPERSONATED_PATCH}\n{DENIED_UPDATE}\n{SECRET_CREATE}"),
        format!(r#"{{"kind":"EventList","items":[{CREATE_INGRESS},{SECRET_CREATE}]}}"#),
        GKE_ENTRIES.to_owned(),
        aks,
    ];
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut events_read = 0;
    for sample in &samples {
        for _ in 0..1_500 {
            let mut text: Vec<char> = sample.chars().collect();
            for _ in 0..=rng.below(4) {
                let at = rng.below(text.len());
                match rng.below(3) {
                    0 => {
                        text.remove(at.min(text.len().saturating_sub(1)));
                    }
                    1 => {
                        let splice = SPLICES[rng.below(SPLICES.len())];
                        for (offset, c) in splice.chars().enumerate() {
                            text.insert((at + offset).min(text.len()), c);
                        }
                    }
                    _ => text.truncate(at),
                }
            }
            let text: String = text.into_iter().collect();
            let (events, errors) = read_events(&text, "mutated.log");
            let lines = text.lines().count().max(1);
            for error in &errors {
                assert_eq!(error.file, "mutated.log");
                assert!(
                    (1..=lines).contains(&error.line),
                    "{error} (input has {lines} lines)"
                );
            }
            for event in &events {
                let _ = (event.is_mutating(), event.denied(), event.field_manager());
                let _ = (event.impersonated_by(), event.response_resource_version());
                let _ = event.stage_time_ms();
                let stored = event.to_json_without_secrets();
                if event.is_about_secrets() {
                    assert!(!stored.contains("U1VQRVJTRUNSRVRLRVk="), "{stored}");
                }
            }
            events_read += events.len();
        }
    }
    // The corruption leaves many inputs readable: the test exercises the helpers, not only errors.
    assert!(
        events_read > 1_000,
        "only {events_read} events survived the corruption"
    );
}
