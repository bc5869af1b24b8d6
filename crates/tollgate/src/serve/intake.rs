//! The two intake endpoints. Both store what they received before they answer 2xx, so a sender
//! that got a 2xx never needs to send again, and a sender that did not (a timeout, a 5xx) can
//! retry safely: audit events are idempotent on `(auditID, stage)`; log batches are counted once
//! per acknowledged request.
//!
//! - `POST /api/v1/audit/events`: the API server's webhook backend posts an `EventList`; a single
//!   `Event`, JSON lines and the managed platforms' shapes are read too.
//! - `POST /api/v1/logs[?format=NAME]`: raw log lines (`text/plain`), or the JSON bodies of Fluent
//!   Bit's `http` output (`format json` or `json_lines`: records with the line in `log`) and
//!   Vector's `http` sink (`codec: json`, array or newline-delimited: the line in `message`).
//!   `Content-Encoding: gzip` is read, with the decompressed size bounded.

use std::io::Read as _;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tollgate_core::audit::read_events;
use tollgate_core::rules::Severity;
use tollgate_core::service::Trigger;
use tollgate_logs::Format;
use tollgate_store::NewAlert;

use super::App;

/// A gzip body may expand to at most this many times the body limit.
const GZIP_EXPANSION: usize = 8;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// `POST /api/v1/audit/events`.
pub async fn audit_events(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !app.config.serve.audit.on() {
        return error(
            StatusCode::NOT_FOUND,
            "the audit intake is off (serve.audit)",
        );
    }
    let body = match decode(&headers, body, app.config.serve.limits.audit_body()) {
        Ok(body) => body,
        Err((status, message)) => return error(status, message),
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not UTF-8 JSON");
    };
    let (events, errors) = read_events(text, "request");
    let errors: Vec<String> = errors.iter().take(20).map(ToString::to_string).collect();
    if events.is_empty() && !errors.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "no audit event could be read", "errors": errors})),
        )
            .into_response();
    }
    // Judging runs after the answer, but no more batches wait for it than there are permits:
    // past that, the request waits here. Without the bound, a sender faster than the judge piled
    // up one task per batch, each holding its parsed events (bench/README.md, "Intake under
    // load"). The permit is taken before the batch is stored, so a request cancelled while it
    // waits has stored nothing (its sender retries), and a stored batch is always judged. The
    // semaphore is never closed, so the permit is always there.
    let permit = Arc::clone(&app.judging).acquire_owned().await.ok();
    let stats = match app.store.insert_audit_events(&app.cluster, &events).await {
        Ok(stats) => stats,
        Err(e) => {
            tracing::error!("storing audit events: {e}");
            // The API server retries the whole batch; nothing was acknowledged.
            return error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
        }
    };
    app.metrics
        .audit(&app.cluster, events.len() as u64, stats.duplicates);
    app.audit_arrived.notify_waiters();
    if stats.inserted > 0 {
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            if let Err(e) = judge(&app, events).await {
                tracing::warn!("judging audit events: {e:#}");
            }
            drop(permit);
        });
    }
    (
        StatusCode::OK,
        Json(json!({
            "received": stats.inserted + stats.duplicates,
            "inserted": stats.inserted,
            "duplicates": stats.duplicates,
            "errors": errors,
        })),
    )
        .into_response()
}

/// After the answer: refused writes that would have broken a rule alert as denied changes; and
/// when no watch records applied changes (no cluster access), risky applied writes alert here.
async fn judge(app: &App, events: Vec<tollgate_core::audit::AuditEvent>) -> anyhow::Result<()> {
    failed_open(app, &events).await?;
    let judged =
        crate::cmd::audit::judge_events(&app.store, &app.judge, &app.config, &events).await?;
    let watch_records = app.config.serve.watch.enabled.unwrap_or(true) && app.is_leader();
    let severities = crate::tracking::severities();
    for change in judged.risky_changes {
        let denied = change.outcome == "denied";
        if !denied && watch_records {
            continue;
        }
        let trigger = if denied {
            Trigger::DeniedChange
        } else {
            Trigger::RiskyChange
        };
        let severity = crate::tracking::worst_severity(&change.risk, &severities);
        let place = if change.namespace.is_empty() {
            format!("{} {}", change.kind, change.name)
        } else {
            format!("{} {}/{}", change.kind, change.namespace, change.name)
        };
        let mut who = change.user.clone();
        if let Some(by) = &change.impersonated_by {
            who.push_str(&format!(" (impersonated by {by})"));
        }
        if let Some(ip) = change.source_ips.first() {
            who.push_str(&format!(" from {ip}"));
        }
        let verb = if denied { "tried to" } else { "did" };
        let alert = NewAlert {
            cluster: app.cluster.clone(),
            dedup_key: format!("{}|{}", trigger.as_str(), change.audit_id),
            trigger: trigger.as_str().to_owned(),
            severity: severity.as_str().to_owned(),
            title: format!(
                "{place}: {} ({}{})",
                change.risk.introduced.join(", "),
                change.verb,
                if denied { ", refused" } else { "" }
            ),
            route: String::new(),
            namespace: change.namespace.clone(),
            name: change.name.clone(),
            change_seq: None,
            body: json!({
                "what": format!("{who} {verb} {} {place}, which introduces {}",
                    change.verb, change.risk.introduced.join(", ")),
                "who": {"summary": who, "user": change.user, "impersonated_by": change.impersonated_by,
                        "source_ips": change.source_ips, "user_agent": change.user_agent},
                "where": {"summary": place, "kind": change.kind, "namespace": change.namespace, "name": change.name},
                "audit_id": change.audit_id,
                "outcome": change.outcome,
                "risk": change.risk,
                "time": change.time,
            }),
        };
        app.alerts.raise(app, trigger, severity, alert).await?;
    }
    Ok(())
}

/// The API server records `failed-open.validating.webhook.admission.k8s.io/round_N_index_M:
/// <webhook name>` on a request it let through because a webhook with `failurePolicy: Ignore`
/// could not be called: for ours, the request was never judged, so it alerts.
async fn failed_open(app: &App, events: &[tollgate_core::audit::AuditEvent]) -> anyhow::Result<()> {
    let name = app.config.serve.admission.webhook();
    for event in events {
        let hit = event.annotations.iter().any(|(key, value)| {
            key.starts_with("failed-open.validating.webhook.admission.k8s.io/") && value == name
        });
        if !hit {
            continue;
        }
        let object = event.object_ref.as_ref();
        let field = |f: fn(&tollgate_core::audit::ObjectRef) -> &Option<String>| {
            object.and_then(|o| f(o).clone()).unwrap_or_default()
        };
        let (resource, namespace, object_name) = (
            field(|o| &o.resource),
            field(|o| &o.namespace),
            field(|o| &o.name),
        );
        let user = event.effective_user().username.clone();
        let place = if namespace.is_empty() {
            format!("{resource} {object_name}")
        } else {
            format!("{resource} {namespace}/{object_name}")
        };
        let alert = NewAlert {
            cluster: app.cluster.clone(),
            dedup_key: format!("admission-failed-open|{}", event.audit_id),
            trigger: Trigger::AdmissionFailedOpen.as_str().to_owned(),
            severity: "high".to_owned(),
            title: format!(
                "{} {place} was admitted without Tollgate's review (webhook unreachable)",
                event.verb
            ),
            route: String::new(),
            namespace,
            name: object_name,
            change_seq: None,
            body: json!({
                "what": format!("the API server could not call the admission webhook `{name}` and, its failurePolicy being Ignore, let the {} through unjudged", event.verb),
                "who": {"summary": user, "user": user, "source_ips": event.source_ips},
                "where": {"summary": place},
                "audit_id": event.audit_id,
            }),
        };
        app.alerts
            .raise(app, Trigger::AdmissionFailedOpen, Severity::High, alert)
            .await?;
    }
    Ok(())
}

/// `?format=` of the log intake.
#[derive(Debug, Deserialize)]
pub struct LogsQuery {
    format: Option<String>,
}

/// `POST /api/v1/logs`.
pub async fn logs(
    State(app): State<Arc<App>>,
    Query(query): Query<LogsQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(intake) = &app.logs else {
        return error(StatusCode::NOT_FOUND, "the log intake is off (serve.logs)");
    };
    let name = query
        .format
        .or_else(|| app.config.serve.logs.format.clone());
    let format = match name.as_deref() {
        None | Some("auto") => None,
        Some(name) => match Format::from_name(name) {
            Some(format) => Some(format),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown log format `{name}` (see `tollgate logs --help`)"),
                );
            }
        },
    };
    let body = match decode(&headers, body, app.config.serve.limits.log_body()) {
        Ok(body) => body,
        Err((status, message)) => return error(status, message),
    };
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let lines = if json_body {
        match json_lines(&body) {
            Ok(lines) => lines,
            Err(message) => return error(StatusCode::BAD_REQUEST, message),
        }
    } else {
        body.to_vec()
    };
    let batch = match intake.submit(lines, format).await {
        Ok(batch) => batch,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    if let Err(e) = app.store.add_access(&batch).await {
        tracing::error!("storing access counts: {e}");
        return error(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
    }
    app.metrics
        .log_lines(&app.cluster, batch.parsed, batch.malformed);
    for route in &batch.routes {
        for (class, count) in super::access::STATUS_CLASSES.iter().zip(route.status) {
            if count > 0 {
                app.metrics
                    .requests(&app.cluster, &route.route, class, count);
            }
        }
    }
    (
        StatusCode::OK,
        Json(json!({"lines": batch.lines, "parsed": batch.parsed, "malformed": batch.malformed})),
    )
        .into_response()
}

/// The body, gunzipped when it says so (bounded, so a small bomb cannot expand without limit).
fn decode(headers: &HeaderMap, body: Bytes, limit: usize) -> Result<Bytes, (StatusCode, String)> {
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if !gzip {
        return Ok(body);
    }
    let bound = limit.saturating_mul(GZIP_EXPANSION);
    let mut out = Vec::new();
    let decoder = flate2::read::MultiGzDecoder::new(&body[..]);
    match decoder
        .take(u64::try_from(bound).unwrap_or(u64::MAX) + 1)
        .read_to_end(&mut out)
    {
        Ok(n) if n > bound => Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body expands past {bound} bytes"),
        )),
        Ok(_) => Ok(Bytes::from(out)),
        Err(e) => Err((StatusCode::BAD_REQUEST, format!("bad gzip body: {e}"))),
    }
}

/// Log lines out of a JSON body: an array of records or strings, or one record per line. A
/// record's line is its `log` (Fluent Bit) or `message` (Vector) field; a record with neither is
/// itself the line (an access log in a JSON format, posted as is).
fn json_lines(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(body.len());
    // The record's own text is kept when it is the line: re-serializing would reorder its keys.
    let mut push = |raw: &[u8]| {
        match serde_json::from_slice::<Value>(raw) {
            Ok(Value::String(line)) => {
                out.extend_from_slice(line.trim_end_matches('\n').as_bytes())
            }
            Ok(Value::Object(map)) => match map.get("log").or_else(|| map.get("message")) {
                Some(Value::String(line)) => {
                    out.extend_from_slice(line.trim_end_matches('\n').as_bytes());
                }
                _ => out.extend_from_slice(raw.trim_ascii()),
            },
            _ => out.extend_from_slice(raw.trim_ascii()),
        }
        out.push(b'\n');
    };
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"[") {
        let records: Vec<&serde_json::value::RawValue> = serde_json::from_slice(trimmed)
            .map_err(|e| format!("the body is not a JSON array of records: {e}"))?;
        for record in records {
            push(record.get().as_bytes());
        }
        return Ok(out);
    }
    for (number, line) in body.split(|&b| b == b'\n').enumerate() {
        if line.trim_ascii().is_empty() {
            continue;
        }
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(line) {
            return Err(format!("line {}: not JSON: {e}", number + 1));
        }
        push(line);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fluent_bit_and_vector_bodies_give_their_lines() {
        let fluent = br#"[{"date":1782864000.1,"log":"1.2.3.4 - - line one\n"},{"date":1.0,"log":"line two"}]"#;
        assert_eq!(
            json_lines(fluent).unwrap(),
            b"1.2.3.4 - - line one\nline two\n"
        );
        let vector = b"{\"message\":\"a\",\"timestamp\":\"x\"}\n{\"message\":\"b\"}\n";
        assert_eq!(json_lines(vector).unwrap(), b"a\nb\n");
        // A JSON access log posted as is stays whole.
        let raw = br#"{"time":"2026-07-01T00:00:00Z","status":401}"#;
        assert_eq!(json_lines(raw).unwrap(), [raw.as_slice(), b"\n"].concat());
        assert!(json_lines(b"[1, ").is_err());
        assert!(json_lines(b"not json\n").unwrap_err().starts_with("line 1"));
    }

    #[test]
    fn gzip_bodies_are_bounded() {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b'a'; 100_000]).unwrap();
        let compressed = Bytes::from(encoder.finish().unwrap());
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
        assert_eq!(
            decode(&headers, compressed.clone(), 1 << 20).unwrap().len(),
            100_000
        );
        let refused = decode(&headers, compressed, 1_000).unwrap_err();
        assert_eq!(refused.0, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            decode(&headers, Bytes::from_static(b"nope"), 10)
                .unwrap_err()
                .0,
            StatusCode::BAD_REQUEST
        );
    }
}
