//! The REST API (`/api/v1/...`), read-only, JSON, paginated with an opaque cursor
//! (`?limit=N&cursor=C`, answered with `items` and `next_cursor`), filters named as the CLI's
//! flags. The OpenAPI document at `/api/v1/openapi.json` describes every route; a test checks the
//! router and the document agree and that answers validate against its schemas.
//!
//! The functions that read (`findings`, `history`, ...) are shared with the dashboard, so the two
//! always show the same thing.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use tollgate_store::{AlertFilter, FindingFilter, HistoryFilter};

use super::App;
use crate::output::rfc3339_ms as time;

/// The OpenAPI 3.1 document.
pub const OPENAPI: &str = include_str!("openapi.json");
/// Items per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: u64 = 50;
/// The largest page.
pub const MAX_LIMIT: u64 = 500;

/// The API's routes (the read middleware is added by the caller).
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/status", get(status))
        .route("/api/v1/clusters", get(clusters))
        .route("/api/v1/inventory", get(inventory))
        .route("/api/v1/findings", get(findings_handler))
        .route("/api/v1/history", get(history_handler))
        .route("/api/v1/history/{id}", get(history_one))
        .route("/api/v1/alerts", get(alerts_handler))
        .route("/api/v1/alerts/{id}", get(alert_one))
        .route("/api/v1/certificates", get(certificates_handler))
        .route("/api/v1/access/summary", get(access_handler))
        .route("/api/v1/reports", get(reports_handler))
        .route("/api/v1/reports/{id}", get(report_one))
}

/// An API error: status and message, as `{"error": ...}`.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        tracing::error!("API: {error:#}");
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the store failed".to_owned(),
        )
    }
}

impl From<tollgate_store::Error> for ApiError {
    fn from(error: tollgate_store::Error) -> Self {
        anyhow::Error::from(error).into()
    }
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message.into())
}

/// A page of items and where the next one starts.
pub struct Page {
    /// The items.
    pub items: Vec<Value>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
}

impl Page {
    fn json(self) -> Json<Value> {
        Json(json!({"items": self.items, "next_cursor": self.next}))
    }

    /// The page `paging` asks for out of a whole list.
    fn of(all: Vec<Value>, paging: &Paging) -> Result<Page, ApiError> {
        let (offset, limit) = paging.window()?;
        let items = all
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit + 1).unwrap_or(usize::MAX))
            .collect();
        Ok(Page::cut(items, offset, limit))
    }

    /// Cuts `items` (fetched with one more than `limit`) into a page at `offset`.
    fn cut(mut items: Vec<Value>, offset: u64, limit: u64) -> Page {
        let more = items.len() as u64 > limit;
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Page {
            next: more.then(|| (offset + limit).to_string()),
            items,
        }
    }
}

/// `limit` and `cursor` (each query struct carries them itself: `serde(flatten)` loses the
/// types of query-string values).
#[derive(Debug, Default, Clone)]
pub struct Paging {
    limit: Option<u64>,
    cursor: Option<String>,
}

impl Paging {
    /// The paging of a query.
    pub fn of(limit: Option<u64>, cursor: Option<&str>) -> Paging {
        Paging {
            limit,
            cursor: cursor.map(str::to_owned),
        }
    }

    /// (offset, limit), or a 400 for a cursor this API did not give out.
    pub fn window(&self) -> Result<(u64, u64), ApiError> {
        let offset = match &self.cursor {
            None => 0,
            Some(c) => c
                .parse()
                .map_err(|_| bad_request(format!("unknown cursor `{c}`")))?,
        };
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(bad_request(format!("limit must be 1 to {MAX_LIMIT}")));
        }
        Ok((offset, limit))
    }
}

async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

/// `GET /api/v1/status`: this replica and what the store holds.
pub async fn status_value(app: &App) -> Result<Value, ApiError> {
    let scanned = app.scanned.read().await.clone();
    let intake = app.store.access_intake(None).await?;
    let audit = app.store.audit_event_count().await?;
    Ok(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "cluster": app.cluster,
        "leader": app.is_leader(),
        "ready": app.ready.load(std::sync::atomic::Ordering::SeqCst),
        "last_scan": scanned.map(|s| json!({
            "time": time(s.time_ms), "objects": s.objects.len(), "findings": s.findings, "errors": s.errors,
        })),
        "store": {
            "backend": match app.store.backend() {
                tollgate_store::Backend::Sqlite => "sqlite",
                tollgate_store::Backend::Postgres => "postgres",
            },
            "audit_events": audit,
            "log_batches": intake.batches,
            "log_lines": intake.lines,
            "log_lines_parsed": intake.parsed,
            "log_lines_malformed": intake.malformed,
        },
        "alert_sinks": app.alerts.sink_names(),
    }))
}

async fn status(State(app): State<Arc<App>>) -> Result<Json<Value>, ApiError> {
    Ok(Json(status_value(&app).await?))
}

async fn clusters(State(app): State<Arc<App>>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"items": app.store.clusters().await?})))
}

/// Inventory filters.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct InventoryQuery {
    /// Only this cluster.
    pub cluster: Option<String>,
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only routes whose host contains this.
    pub host: Option<String>,
    /// Page size.
    pub limit: Option<u64>,
    /// Where the page starts (from `next_cursor`).
    pub cursor: Option<String>,
}

/// The routes of every cluster's latest scan, each with its cluster.
pub async fn routes_of(app: &App, query: &InventoryQuery) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    for scan in app.store.scans().await? {
        if query.cluster.as_ref().is_some_and(|c| *c != scan.cluster) {
            continue;
        }
        for mut route in scan.routes.as_array().cloned().unwrap_or_default() {
            // `route` names the defining object of any kind; a map stored before Gateway API
            // routes has only `ingress`.
            let namespace = route
                .pointer("/route/namespace")
                .or_else(|| route.pointer("/ingress/namespace"))
                .and_then(Value::as_str);
            if let Some(ns) = &query.namespace
                && namespace != Some(ns.as_str())
            {
                continue;
            }
            if let Some(host) = &query.host
                && !route["host"]
                    .as_str()
                    .unwrap_or("*")
                    .contains(host.as_str())
            {
                continue;
            }
            route["cluster"] = json!(scan.cluster);
            out.push(route);
        }
    }
    Ok(out)
}

async fn inventory(
    State(app): State<Arc<App>>,
    Query(query): Query<InventoryQuery>,
) -> Result<Json<Value>, ApiError> {
    let paging = Paging::of(query.limit, query.cursor.as_deref());
    Ok(Page::of(routes_of(&app, &query).await?, &paging)?.json())
}

/// Finding filters (`status`: open, resolved or all).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FindingsQuery {
    /// Only this cluster.
    pub cluster: Option<String>,
    /// Comma-separated severities.
    pub severity: Option<String>,
    /// A rule name or code.
    pub rule: Option<String>,
    /// Only this namespace.
    pub namespace: Option<String>,
    /// `open` (default), `resolved` or `all`.
    pub status: Option<String>,
    /// Page size.
    pub limit: Option<u64>,
    /// Where the page starts (from `next_cursor`).
    pub cursor: Option<String>,
}

/// A page of stored findings.
pub async fn findings(app: &App, query: &FindingsQuery) -> Result<Page, ApiError> {
    let (offset, limit) = Paging::of(query.limit, query.cursor.as_deref()).window()?;
    let open = match query.status.as_deref() {
        None | Some("open") => Some(true),
        Some("resolved") => Some(false),
        Some("all") => None,
        Some(other) => return Err(bad_request(format!("unknown status `{other}`"))),
    };
    let severities: Vec<String> = query
        .severity
        .as_deref()
        .map(|s| s.split(',').map(|s| s.trim().to_lowercase()).collect())
        .unwrap_or_default();
    let rows = app
        .store
        .findings(&FindingFilter {
            cluster: query.cluster.clone(),
            open,
            severities,
            rule: query.rule.clone(),
            namespace: query.namespace.clone(),
            offset,
            limit: limit + 1,
        })
        .await?;
    let items = rows
        .iter()
        .map(|f| {
            let mut value = serde_json::to_value(f).unwrap_or(Value::Null);
            value["first_seen"] = json!(time(f.first_seen_ms));
            value["last_seen"] = json!(time(f.last_seen_ms));
            value["resolved"] = json!(f.resolved_ms.map(time));
            value
        })
        .collect();
    Ok(Page::cut(items, offset, limit))
}

async fn findings_handler(
    State(app): State<Arc<App>>,
    Query(query): Query<FindingsQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(findings(&app, &query).await?.json())
}

/// History filters, as `tollgate history`'s flags.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct HistoryQuery {
    /// Only this cluster.
    pub cluster: Option<String>,
    /// Only this kind (`Ingress`).
    pub kind: Option<String>,
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only this object name.
    pub name: Option<String>,
    /// Only changes by this user.
    pub actor: Option<String>,
    /// Only risky changes (`true`).
    pub risky: Option<bool>,
    /// RFC 3339: changes at or after.
    pub since: Option<String>,
    /// RFC 3339: changes before.
    pub until: Option<String>,
    /// Page size.
    pub limit: Option<u64>,
    /// Where the page starts (from `next_cursor`).
    pub cursor: Option<String>,
}

fn parse_time(text: Option<&str>, field: &str) -> Result<Option<i64>, ApiError> {
    text.map(|t| {
        t.parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond())
            .map_err(|e| bad_request(format!("{field}: {e}")))
    })
    .transpose()
}

/// A page of history events (DESIGN §4 shape), actors joined to audit events.
pub async fn history(app: &App, query: &HistoryQuery) -> Result<Page, ApiError> {
    let (offset, limit) = Paging::of(query.limit, query.cursor.as_deref()).window()?;
    let mut records = app
        .store
        .history(&HistoryFilter {
            cluster: query.cluster.clone(),
            kind: query.kind.clone(),
            namespace: query.namespace.clone(),
            name: query.name.clone(),
            actor: query.actor.clone(),
            since_ms: parse_time(query.since.as_deref(), "since")?,
            until_ms: parse_time(query.until.as_deref(), "until")?,
            risky_only: query.risky.unwrap_or(false),
            limit: Some(u32::try_from(limit + 1).unwrap_or(u32::MAX)),
            offset: u32::try_from(offset).unwrap_or(u32::MAX),
        })
        .await?;
    let mut items = Vec::with_capacity(records.len());
    for record in &mut records {
        app.judge.resolve(&app.store, record).await?;
        items.push(crate::cmd::history::event_json(record));
    }
    Ok(Page::cut(items, offset, limit))
}

async fn history_handler(
    State(app): State<Arc<App>>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(history(&app, &query).await?.json())
}

/// One change with its YAML diff.
pub async fn change(app: &App, id: i64) -> Result<Option<Value>, ApiError> {
    let Some(mut record) = app.store.record(id).await? else {
        return Ok(None);
    };
    app.judge.resolve(&app.store, &mut record).await?;
    let mut value = crate::cmd::history::event_json(&record);
    let summary = super::alerts::change_summary(app, &record).await?;
    value["yaml_diff"] = summary["yaml_diff"].clone();
    value["who"] = summary["who"].clone();
    Ok(Some(value))
}

async fn history_one(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    change(&app, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no change {id}")))
}

/// Alert filters.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AlertsQuery {
    /// Only this cluster.
    pub cluster: Option<String>,
    /// Only this trigger.
    pub trigger: Option<String>,
    /// Only this route key.
    pub route: Option<String>,
    /// RFC 3339: alerts raised at or after.
    pub since: Option<String>,
    /// Page size.
    pub limit: Option<u64>,
    /// Where the page starts (from `next_cursor`).
    pub cursor: Option<String>,
}

/// An alert as the API shows it.
pub fn alert_json(app: &App, alert: &tollgate_store::StoredAlert) -> Value {
    let mut value = serde_json::to_value(alert).unwrap_or(Value::Null);
    value["created"] = json!(time(alert.created_ms));
    value["last_seen"] = json!(time(alert.last_seen_ms));
    value["url"] = json!(super::alerts::link(alert, &app.public_url));
    value
}

/// A page of alerts, newest first.
pub async fn alerts(app: &App, query: &AlertsQuery) -> Result<Page, ApiError> {
    let (offset, limit) = Paging::of(query.limit, query.cursor.as_deref()).window()?;
    if let Some(trigger) = &query.trigger
        && tollgate_core::service::Trigger::parse(trigger).is_none()
    {
        return Err(bad_request(format!("unknown trigger `{trigger}`")));
    }
    let rows = app
        .store
        .alerts(&AlertFilter {
            cluster: query.cluster.clone(),
            trigger: query.trigger.clone(),
            route: query.route.clone(),
            since_ms: parse_time(query.since.as_deref(), "since")?,
            offset,
            limit: limit + 1,
        })
        .await?;
    let items = rows.iter().map(|a| alert_json(app, a)).collect();
    Ok(Page::cut(items, offset, limit))
}

async fn alerts_handler(
    State(app): State<Arc<App>>,
    Query(query): Query<AlertsQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(alerts(&app, &query).await?.json())
}

async fn alert_one(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match app.store.alert(&id).await? {
        Some(alert) => Ok(Json(alert_json(&app, &alert))),
        None => Err(ApiError(StatusCode::NOT_FOUND, format!("no alert {id}"))),
    }
}

/// Certificate filters.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct CertificatesQuery {
    /// Only this cluster.
    pub cluster: Option<String>,
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only certificates expiring within this many days.
    pub expiring_within_days: Option<i64>,
    /// Page size.
    pub limit: Option<u64>,
    /// Where the page starts (from `next_cursor`).
    pub cursor: Option<String>,
}

/// Every cluster's certificate rows, soonest expiry first.
pub async fn certificates(app: &App, query: &CertificatesQuery) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    for scan in app.store.scans().await? {
        if query.cluster.as_ref().is_some_and(|c| *c != scan.cluster) {
            continue;
        }
        for mut row in scan.certificates.as_array().cloned().unwrap_or_default() {
            if query
                .namespace
                .as_ref()
                .is_some_and(|ns| row["namespace"].as_str() != Some(ns))
            {
                continue;
            }
            let days = row.pointer("/leaf/days_left").and_then(Value::as_i64);
            if let Some(within) = query.expiring_within_days
                && days.is_none_or(|d| d > within)
            {
                continue;
            }
            row["cluster"] = json!(scan.cluster);
            out.push(row);
        }
    }
    out.sort_by_key(|row| {
        row.pointer("/leaf/days_left")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MIN)
    });
    Ok(out)
}

async fn certificates_handler(
    State(app): State<Arc<App>>,
    Query(query): Query<CertificatesQuery>,
) -> Result<Json<Value>, ApiError> {
    let paging = Paging::of(query.limit, query.cursor.as_deref());
    Ok(Page::of(certificates(&app, &query).await?, &paging)?.json())
}

/// Access summary filters.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AccessQuery {
    /// Only this cluster.
    pub cluster: Option<String>,
    /// One route (its key): adds its requests per minute and top sources.
    pub route: Option<String>,
    /// Minutes of per-minute counts for one route: 60 when unset.
    pub minutes: Option<i64>,
}

/// The log intake's totals and per-route counts; one route's timeline and sources when asked.
pub async fn access(app: &App, query: &AccessQuery) -> Result<Value, ApiError> {
    let totals = app.store.access_intake(query.cluster.as_deref()).await?;
    let routes = app.store.access_routes(query.cluster.as_deref()).await?;
    let routes: Vec<Value> = routes
        .iter()
        .filter(|(_, r)| query.route.as_ref().is_none_or(|k| *k == r.route))
        .map(|(cluster, r)| {
            json!({
                "cluster": cluster,
                "route": r.route,
                "requests": r.requests,
                "status": {
                    "1xx": r.status[0], "2xx": r.status[1], "3xx": r.status[2],
                    "4xx": r.status[3], "5xx": r.status[4], "other": r.status[5],
                },
                "bytes": r.bytes,
                "last": time(r.last_ms),
            })
        })
        .collect();
    let mut value = json!({"totals": totals, "routes": routes});
    if let Some(route) = &query.route {
        let cluster = query.cluster.clone().unwrap_or_else(|| app.cluster.clone());
        let minutes = query.minutes.unwrap_or(60).clamp(1, 7 * 24 * 60);
        let newest = app
            .store
            .access_minutes(&cluster, route, 0)
            .await?
            .last()
            .map_or(0, |m| m.minute);
        let timeline = app
            .store
            .access_minutes(&cluster, route, newest - minutes + 1)
            .await?;
        value["timeline"] = json!(timeline
            .iter()
            .map(|m| json!({"minute": time(m.minute * 60_000), "requests": m.requests, "errors_5xx": m.errors_5xx}))
            .collect::<Vec<_>>());
        value["sources"] = json!(app.store.access_sources(&cluster, route, 10).await?);
    }
    Ok(value)
}

async fn access_handler(
    State(app): State<Arc<App>>,
    Query(query): Query<AccessQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(access(&app, &query).await?))
}

/// The stored reports, newest first, without their documents.
pub async fn reports_of(app: &App, cluster: Option<&str>) -> Result<Vec<Value>, ApiError> {
    Ok(app
        .store
        .reports(cluster)
        .await?
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "cluster": r.cluster, "framework": r.framework, "format": r.format,
                "time": time(r.time_ms), "summary": r.summary,
                "url": format!("/api/v1/reports/{}", r.id),
            })
        })
        .collect())
}

/// Report filters.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ReportsQuery {
    /// Only this cluster.
    pub cluster: Option<String>,
    /// Page size.
    pub limit: Option<u64>,
    /// Where the page starts.
    pub cursor: Option<String>,
}

async fn reports_handler(
    State(app): State<Arc<App>>,
    Query(query): Query<ReportsQuery>,
) -> Result<Json<Value>, ApiError> {
    let paging = Paging::of(query.limit, query.cursor.as_deref());
    Ok(Page::of(reports_of(&app, query.cluster.as_deref()).await?, &paging)?.json())
}

/// One report as its document: HTML (self-contained: its inline styles are allowed, scripts
/// are not), Markdown or JSON.
async fn report_one(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Some(report) = app.store.report(&id).await? else {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no report {id}")));
    };
    let content_type = match report.format.as_str() {
        "markdown" => "text/markdown; charset=utf-8",
        "json" => "application/json",
        _ => "text/html; charset=utf-8",
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                 frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
        ],
        report.body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every `.route("/api/...")` in the service's source.
    fn routed_paths() -> BTreeSet<String> {
        [include_str!("api.rs"), include_str!("mod.rs")]
            .iter()
            .flat_map(|source| source.split(".route(").skip(1))
            .filter_map(|rest| rest.trim_start().strip_prefix('"')?.split('"').next())
            .filter(|path| path.starts_with("/api/v1/"))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_document_describes_exactly_the_routes_served() {
        let document: Value = serde_json::from_str(OPENAPI).expect("the OpenAPI document is JSON");
        assert_eq!(document["openapi"], "3.1.0");
        let documented: BTreeSet<String> = document["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .cloned()
            .collect();
        assert_eq!(documented, routed_paths());
        // Every reference resolves.
        let text = OPENAPI;
        for reference in text.split("\"$ref\": \"#/").skip(1) {
            let pointer = format!("/{}", reference.split('"').next().unwrap_or_default());
            assert!(document.pointer(&pointer).is_some(), "dangling {pointer}");
        }
    }

    #[test]
    fn paging_refuses_what_it_did_not_give_out() {
        assert_eq!(Paging::of(None, None).window().unwrap(), (0, DEFAULT_LIMIT));
        assert_eq!(Paging::of(Some(10), Some("20")).window().unwrap(), (20, 10));
        assert!(Paging::of(Some(0), None).window().is_err());
        assert!(Paging::of(Some(501), None).window().is_err());
        assert!(Paging::of(None, Some("abc")).window().is_err());
        let page = Page::cut(vec![json!(1), json!(2), json!(3)], 4, 2);
        assert_eq!((page.items.len(), page.next.as_deref()), (2, Some("6")));
        let last = Page::cut(vec![json!(1)], 4, 2);
        assert_eq!(last.next, None);
    }
}
