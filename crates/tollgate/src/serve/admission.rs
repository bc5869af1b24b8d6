//! The validating admission webhook: `POST /admission/validate` on its own TLS listener.
//!
//! AdmissionReview v1 in, AdmissionReview v1 out with the same `uid`. The object is judged by
//! the catalog among the objects of the latest scan ([`tollgate_core::admission`]); denied rules
//! refuse it with their fixes and the suppression that would waive them, lower ones come back as
//! warnings, audit-only ones as audit annotations.
//!
//! What CVE-2025-1974 (IngressNightmare) taught: nothing from the request is rendered or run (no
//! template, no config test), the review has no side effects (dry-run or not, nothing is written
//! anywhere), the body is capped (1 MiB by default) and parsed by serde_json with its recursion
//! limit, and the answer is given within a budget whatever the load: evaluations run on the
//! blocking pool behind a semaphore, and a review not judged in time is allowed with a warning
//! and an audit annotation rather than left to time out. The certificate is reloaded when its
//! files change (cert-manager renews in place).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_server::tls_rustls::RustlsConfig;
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;
use tollgate_core::admission::{self, Action, Verdict};
use tollgate_core::object::{Kind, Object};

use super::App;

/// How often the certificate files are checked for a renewal.
const RELOAD_EVERY: Duration = Duration::from_secs(2);
/// Longest warning sent back (the API server and kubectl cut long ones anyway).
const WARNING_MAX: usize = 240;

/// The webhook's state.
struct Webhook {
    app: Arc<App>,
    /// At most this many evaluations at once; the others wait within their budget.
    permits: Semaphore,
}

/// Serves the webhook until the process stops.
///
/// # Errors
/// The certificate cannot be read or the port cannot be bound.
pub async fn run(app: Arc<App>) -> anyhow::Result<()> {
    let section = app.config.serve.admission.clone();
    let listen: SocketAddr = section
        .listen
        .as_deref()
        .unwrap_or("0.0.0.0:8443")
        .parse()
        .context("serve.admission.listen")?;
    let (Some(cert), Some(key)) = (section.cert_file.clone(), section.key_file.clone()) else {
        anyhow::bail!("serve.admission needs certFile and keyFile");
    };
    let tls = RustlsConfig::from_pem_file(&cert, &key)
        .await
        .with_context(|| format!("reading the admission certificate {cert} and key {key}"))?;
    tokio::spawn(reload(tls.clone(), cert, key));
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let webhook = Arc::new(Webhook {
        app,
        permits: Semaphore::new(threads * 2),
    });
    let router = Router::new()
        .route(
            "/admission/validate",
            post(validate).layer(DefaultBodyLimit::max(section.body_limit())),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .with_state(webhook);
    eprintln!("tollgate: admission webhook on https://{listen}/admission/validate");
    axum_server::bind_rustls(listen, tls)
        .serve(router.into_make_service())
        .await
        .context("the admission listener failed")
}

/// Rules about a backend the last scan may not have seen yet.
const MISSING_BACKEND: [&str; 3] = [
    "backend-service-missing",
    "backend-port-missing",
    "route-backend-missing",
];

/// Runs the catalog on the blocking pool, one of a bounded number at a time.
async fn judge(
    webhook: &Webhook,
    context: &Arc<Vec<Object>>,
    scope: &tollgate_core::inventory::Scope,
    object: &Object,
    place: &str,
) -> Option<Verdict> {
    let _permit = webhook.permits.acquire().await.ok()?;
    let (context, scope, object) = (Arc::clone(context), scope.clone(), object.clone());
    let config = webhook.app.config.clone();
    tokio::task::spawn_blocking(move || {
        admission::evaluate(
            &context,
            &scope,
            &object,
            &config,
            &config.serve.admission.actions,
            jiff::Timestamp::now(),
        )
    })
    .await
    .map_err(|e| tracing::error!("judging {place}: {e}"))
    .ok()
}

/// The Services an Ingress or a Gateway API route names, as the API server has them now (those
/// it has).
async fn backends_now(client: &kube::Client, object: &Object) -> Vec<Object> {
    use tollgate_core::object::Resource;
    // (namespace, name) of each Service named.
    let mut names = std::collections::BTreeSet::new();
    match &object.resource {
        Resource::Ingress(ingress) => {
            if let Some(spec) = &ingress.spec {
                if let Some(service) = spec
                    .default_backend
                    .as_ref()
                    .and_then(|b| b.service.as_ref())
                {
                    names.insert((object.ns().to_owned(), service.name.clone()));
                }
                for rule in spec.rules.iter().flatten() {
                    for path in rule.http.iter().flat_map(|h| &h.paths) {
                        if let Some(service) = &path.backend.service {
                            names.insert((object.ns().to_owned(), service.name.clone()));
                        }
                    }
                }
            }
        }
        Resource::GatewayRoute(route) => {
            for b in route.spec.rules.iter().flat_map(|r| &r.backend_refs) {
                if b.target.is_core("Service", "Service") {
                    let ns = b.target.namespace.as_deref().unwrap_or(object.ns());
                    names.insert((ns.to_owned(), b.target.name.clone()));
                }
            }
        }
        _ => {}
    }
    let mut found = Vec::new();
    // Bounded: a request names at most this many Services worth a look within the budget.
    for (namespace, name) in names.into_iter().take(32) {
        let api = crate::cluster::api_for(client.clone(), Kind::Service, Some(&namespace));
        if let Ok(Some(service)) = api.get_opt(&name).await
            && let Ok(value) = crate::cluster::typed_value(Kind::Service, &service)
            && let Ok(Some(service)) = Object::from_value(value, None)
        {
            found.push(service);
        }
    }
    found
}

/// Reloads the certificate when either file's modification time changes.
async fn reload(tls: RustlsConfig, cert: String, key: String) {
    let stamp = |path: &str| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let mut seen: (Option<SystemTime>, Option<SystemTime>) = (stamp(&cert), stamp(&key));
    loop {
        tokio::time::sleep(RELOAD_EVERY).await;
        let now = (stamp(&cert), stamp(&key));
        if now == seen {
            continue;
        }
        match tls.reload_from_pem_file(&cert, &key).await {
            Ok(()) => {
                tracing::info!("reloaded the admission certificate");
                seen = now;
            }
            // Half-written during a renewal: the next round reads it whole.
            Err(e) => tracing::warn!("reloading the admission certificate: {e}"),
        }
    }
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

async fn validate(State(webhook): State<Arc<Webhook>>, body: Bytes) -> Response {
    let started = Instant::now();
    let app = &webhook.app;
    let section = &app.config.serve.admission;
    let Ok(review) = serde_json::from_slice::<Value>(&body) else {
        app.metrics
            .admission(&app.cluster, "unknown", "error", started.elapsed());
        return refuse(
            StatusCode::BAD_REQUEST,
            "the body is not an AdmissionReview (JSON)",
        );
    };
    if review["apiVersion"] != "admission.k8s.io/v1" || review["kind"] != "AdmissionReview" {
        app.metrics
            .admission(&app.cluster, "unknown", "error", started.elapsed());
        return refuse(
            StatusCode::BAD_REQUEST,
            "only admission.k8s.io/v1 AdmissionReview is served (set admissionReviewVersions: [v1])",
        );
    }
    let request = &review["request"];
    let Some(uid) = request["uid"].as_str() else {
        app.metrics
            .admission(&app.cluster, "unknown", "error", started.elapsed());
        return refuse(
            StatusCode::BAD_REQUEST,
            "the AdmissionReview has no request.uid",
        );
    };
    let operation = request["operation"].as_str().unwrap_or_default().to_owned();
    let answer = |response: Value| {
        Json(json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": response,
        }))
        .into_response()
    };
    // Deletions and connections are always allowed: refusing them would only keep a bad object.
    if operation != "CREATE" && operation != "UPDATE" {
        app.metrics
            .admission(&app.cluster, &operation, "allowed", started.elapsed());
        return answer(json!({"uid": uid, "allowed": true}));
    }
    let mut value = request["object"].clone();
    if let (Some(namespace), Some(metadata)) = (
        request["namespace"].as_str(),
        value.get_mut("metadata").and_then(Value::as_object_mut),
    ) {
        metadata
            .entry("namespace")
            .or_insert_with(|| Value::String(namespace.to_owned()));
    }
    let object = match Object::from_value(value, None) {
        Ok(Some(object)) => object,
        // A kind the catalog does not read: nothing to judge.
        Ok(None) => {
            app.metrics
                .admission(&app.cluster, &operation, "allowed", started.elapsed());
            return answer(json!({"uid": uid, "allowed": true}));
        }
        Err(e) => {
            app.metrics
                .admission(&app.cluster, &operation, "error", started.elapsed());
            return answer(json!({"uid": uid, "allowed": true,
                "warnings": [cut(&format!("tollgate could not read the object: {e}"))]}));
        }
    };
    let place = format!(
        "{} {}{}",
        object.kind.as_str(),
        if object.ns().is_empty() {
            String::new()
        } else {
            format!("{}/", object.ns())
        },
        object.name
    );
    let budget = section.budget();
    let deadline = tokio::time::Instant::from_std(started + budget);
    let scanned = app.scanned.read().await.clone();
    let (context, scope) = match &scanned {
        Some(scan) => (Arc::clone(&scan.objects), scan.scope.clone()),
        None => (
            Arc::new(Vec::new()),
            tollgate_core::inventory::Scope::default(),
        ),
    };
    let judged = async {
        let verdict = judge(&webhook, &context, &scope, &object, &place).await?;
        // The last scan may predate a Service created a moment ago (`kubectl apply` of a Service
        // and its Ingress together): a refusal for a missing backend is checked against the API
        // server before it stands.
        if !verdict
            .violations
            .iter()
            .any(|v| MISSING_BACKEND.contains(&v.rule))
        {
            return Some(verdict);
        }
        let Some(client) = &app.client else {
            return Some(verdict);
        };
        let fresh = backends_now(client, &object).await;
        if fresh.is_empty() {
            return Some(verdict);
        }
        let mut context: Vec<Object> = context.iter().cloned().collect();
        context.extend(fresh);
        judge(&webhook, &Arc::new(context), &scope, &object, &place).await
    };
    let Ok(Some(verdict)) = tokio::time::timeout_at(deadline, judged).await else {
        app.metrics
            .admission(&app.cluster, &operation, "timed-out", started.elapsed());
        return answer(json!({
            "uid": uid,
            "allowed": true,
            "warnings": [format!("tollgate could not judge {place} within {} ms; allowed unjudged", budget.as_millis())],
            "auditAnnotations": {"evaluation": "timed-out"},
        }));
    };
    let response = response_for(uid, &verdict, &place, app.config.strict);
    let outcome = if !verdict.allowed() {
        "denied"
    } else if verdict.warnings().is_empty() {
        "allowed"
    } else {
        "warned"
    };
    app.metrics
        .admission(&app.cluster, &operation, outcome, started.elapsed());
    answer(response)
}

/// The `response` of an AdmissionReview for a verdict.
pub fn response_for(uid: &str, verdict: &Verdict, place: &str, strict: bool) -> Value {
    let mut response = Map::new();
    response.insert("uid".into(), json!(uid));
    response.insert("allowed".into(), json!(verdict.allowed()));
    if !verdict.allowed() {
        response.insert(
            "status".into(),
            json!({"code": 403, "reason": "Forbidden", "message": verdict.message(place, strict)}),
        );
    }
    let warnings: Vec<String> = verdict.warnings().iter().map(|w| cut(w)).collect();
    if !warnings.is_empty() {
        response.insert("warnings".into(), json!(warnings));
    }
    let list = |action: Action| -> String {
        verdict
            .violations
            .iter()
            .filter(|v| v.action == action)
            .map(|v| v.rule)
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut annotations = Map::new();
    for (key, action) in [
        ("denied", Action::Deny),
        ("warned", Action::Warn),
        ("audit-only", Action::Audit),
    ] {
        let rules = list(action);
        if !rules.is_empty() {
            annotations.insert(key.into(), json!(rules));
        }
    }
    if !verdict.waived.is_empty() {
        let waived: Vec<&str> = verdict.waived.iter().map(|w| w.rule).collect();
        annotations.insert("waived".into(), json!(waived.join(",")));
    }
    if !annotations.is_empty() {
        response.insert("auditAnnotations".into(), Value::Object(annotations));
    }
    Value::Object(response)
}

/// `text` cut to [`WARNING_MAX`] bytes on a character boundary.
fn cut(text: &str) -> String {
    if text.len() <= WARNING_MAX {
        return text.to_owned();
    }
    let mut end = WARNING_MAX - 3;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_cut_on_character_boundaries() {
        let long = "é".repeat(300);
        let cut = cut(&long);
        assert!(cut.len() <= WARNING_MAX);
        assert!(cut.ends_with("..."));
        assert_eq!(super::cut("short"), "short");
    }
}
