//! The dashboard: server-rendered pages (askama), one CSS and one small JS file embedded in the
//! binary, no external fetches.
//!
//! Every page reads through the same functions as the REST API ([`api`]), so the dashboard
//! shows exactly what the API returns, turned into rows by [`views`]. Every page takes
//! `?cluster=NAME` (empty: all clusters). The JS only enhances pages that work without it.
//!
//! Lists page with the API's own cursors (`next_cursor`); the store answers history, alerts and
//! findings newest first, so no page is reversed or counted.

pub mod charts;
pub mod views;

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;

use super::App;
use super::api::{
    self, AccessQuery, AlertsQuery, ApiError, CertificatesQuery, FindingsQuery, HistoryQuery,
    InventoryQuery, MAX_LIMIT,
};
use charts::{Part, Series};
use views::{
    AlertDetail, AlertPage, AlertRow, AlertsPage, CertRow, CertificatesPage, ChangeDetail,
    ChangePage, ChangeRow, ErrorPage, FindingRow, FindingsPage, HistoryPage, HostRow,
    IntakeSummary, Layout, Legend, NavLink, OverviewPage, PageLinks, RoutePage, RouteRow,
    RoutesPage, ScanSummary, Section, SourceRow, Time,
};

/// Rows per list page.
const PAGE_SIZE: u64 = 50;
/// Rows in the overview's and the route view's short lists.
const SHORT_LIST: u64 = 10;
/// The windows of the route view's timeline, in minutes, with their labels.
const WINDOWS: [(i64, &str); 4] = [
    (60, "1 hour"),
    (360, "6 hours"),
    (1_440, "24 hours"),
    (10_080, "7 days"),
];
/// Pages of findings the overview counts at most (500 each): a bound on its cost.
const MAX_FINDING_PAGES: usize = 200;
/// How long assets may be cached: their URLs change with their content.
const ASSET_CACHE: &str = "public, max-age=31536000, immutable";

/// The dashboard's pages (the read middleware is added by the caller).
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(overview))
        .route("/routes", get(route_map))
        .route("/routes/view", get(route_view))
        .route("/findings", get(findings))
        .route("/history", get(history))
        .route("/history/{id}", get(change))
        .route("/alerts", get(alerts))
        .route("/alerts/{id}", get(alert))
        .route("/certificates", get(certificates))
        .route("/reports", get(reports))
}

/// The static assets, served without a token (they hold no data).
pub fn assets() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/assets/style.css",
            get(|| async { asset("text/css; charset=utf-8", views::STYLE) }),
        )
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", views::SCRIPT) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, ASSET_CACHE),
        ],
        body,
    )
        .into_response()
}

/// The page asking for the read token.
pub fn login_page() -> String {
    let page = views::LoginPage {
        style_href: views::style_href(),
    };
    page.render().unwrap_or_else(|error| {
        tracing::error!("rendering the login page: {error}");
        String::from(
            "<!doctype html><title>Tollgate</title><form method=post action=/login>\
             <input name=token type=password><button>Sign in</button></form>",
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Queries: every value is text, so an empty form field means "any" instead of a 400.

/// `?cluster=`.
#[derive(Debug, Default, Deserialize)]
pub struct ClusterQuery {
    #[serde(default)]
    cluster: String,
}

/// The route map's filters.
#[derive(Debug, Default, Deserialize)]
pub struct RoutesFilter {
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    host: String,
}

/// One route: its cluster, its key and the timeline's window.
#[derive(Debug, Default, Deserialize)]
pub struct RouteViewQuery {
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    minutes: String,
}

/// The findings' filters and page.
#[derive(Debug, Default, Deserialize)]
pub struct FindingsFilter {
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    cursor: String,
}

/// The history's filters and page.
#[derive(Debug, Default, Deserialize)]
pub struct HistoryFilter {
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    risky: String,
    #[serde(default)]
    cursor: String,
}

/// The alerts' filter and page.
#[derive(Debug, Default, Deserialize)]
pub struct AlertsFilter {
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    trigger: String,
    #[serde(default)]
    cursor: String,
}

/// `None` for an empty (or blank) form value.
fn given(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

// ---------------------------------------------------------------------------------------------
// Answers

/// Why a page could not be shown.
#[derive(Debug)]
pub enum Failure {
    /// A read function refused the query or the store failed.
    Api(ApiError),
    /// The page itself: an unknown id, a missing parameter.
    Page(StatusCode, String),
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure::Api(error)
    }
}

impl From<tollgate_store::Error> for Failure {
    fn from(error: tollgate_store::Error) -> Self {
        Failure::Api(ApiError::from(error))
    }
}

fn not_found(message: String) -> Failure {
    Failure::Page(StatusCode::NOT_FOUND, message)
}

/// The layout of a page: the clusters for the select come from the store (a failure there
/// leaves the select with "all clusters" only rather than failing the page).
async fn layout(app: &App, title: &str, section: Section, cluster: &str) -> Layout {
    let clusters = app.store.clusters().await.unwrap_or_else(|error| {
        tracing::warn!("listing clusters for the dashboard: {error}");
        Vec::new()
    });
    Layout {
        title: title.to_owned(),
        section,
        clusters,
        cluster: cluster.trim().to_owned(),
    }
}

/// The page, or the error page in its layout.
async fn respond<T: Template>(layout: Layout, page: Result<T, Failure>) -> Response {
    match page {
        Ok(page) => html(StatusCode::OK, &page),
        Err(failure) => error_page(layout, failure).await,
    }
}

fn html<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(error) => {
            tracing::error!("rendering a dashboard page: {error}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

/// The error page. An API error is turned into its response to learn its status and message,
/// as the API would answer them.
async fn error_page(mut layout: Layout, failure: Failure) -> Response {
    let (status, message) = match failure {
        Failure::Page(status, message) => (status, message),
        Failure::Api(error) => {
            let response = error.into_response();
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            let message = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| status.to_string());
            (status, message)
        }
    };
    layout.title = match status {
        StatusCode::NOT_FOUND => "Not found".to_owned(),
        StatusCode::BAD_REQUEST => "Bad request".to_owned(),
        _ => "Error".to_owned(),
    };
    let page = ErrorPage {
        layout,
        status: status.as_u16(),
        message,
    };
    html(status, &page)
}

// ---------------------------------------------------------------------------------------------
// Pages

async fn overview(State(app): State<Arc<App>>, Query(query): Query<ClusterQuery>) -> Response {
    let layout = layout(&app, "Overview", Section::Overview, &query.cluster).await;
    let page = overview_page(&app, layout.clone()).await;
    respond(layout, page).await
}

async fn overview_page(app: &App, layout: Layout) -> Result<OverviewPage, Failure> {
    let cluster = given(&layout.cluster);
    let status = api::status_value(app).await?;
    let routes = api::routes_of(
        app,
        &InventoryQuery {
            cluster: cluster.clone(),
            ..InventoryQuery::default()
        },
    )
    .await?;
    let mut hosts: BTreeMap<String, usize> = BTreeMap::new();
    for route in &routes {
        let host = route.get("host").and_then(Value::as_str).unwrap_or("*");
        *hosts.entry(host.to_owned()).or_default() += 1;
    }
    let hosts = hosts
        .into_iter()
        .map(|(host, count)| HostRow {
            href: layout.link("/routes", &[("host", &host)]),
            host,
            routes: count,
        })
        .collect();

    let mut counts = [0u64; 5];
    let mut findings_total = 0;
    let mut cursor = None;
    for _ in 0..MAX_FINDING_PAGES {
        let page = api::findings(
            app,
            &FindingsQuery {
                cluster: cluster.clone(),
                status: Some("open".to_owned()),
                limit: Some(MAX_LIMIT),
                cursor,
                ..FindingsQuery::default()
            },
        )
        .await?;
        for finding in &page.items {
            findings_total += 1;
            let severity = finding["severity"].as_str().unwrap_or("");
            if let Some(i) = views::SEVERITIES.iter().position(|s| *s == severity)
                && let Some(count) = counts.get_mut(i)
            {
                *count += 1;
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let parts: Vec<Part> = views::SEVERITIES
        .iter()
        .zip(counts)
        .map(|(severity, count)| Part::new(severity, count, views::severity_class(severity)))
        .collect();
    let severity_chart = charts::bars(&parts, 480, 160, "open findings by severity");
    let severity_legend = parts
        .into_iter()
        .map(|part| Legend {
            href: layout.link("/findings", &[("severity", &part.label)]),
            label: part.label,
            value: part.value,
            class: part.class,
        })
        .collect();

    let expiring = api::certificates(
        app,
        &CertificatesQuery {
            cluster: cluster.clone(),
            expiring_within_days: Some(views::EXPIRING_DAYS),
            ..CertificatesQuery::default()
        },
    )
    .await?
    .iter()
    .map(CertRow::from_json)
    .collect();

    let risky = api::history(
        app,
        &HistoryQuery {
            cluster: cluster.clone(),
            risky: Some(true),
            limit: Some(SHORT_LIST),
            ..HistoryQuery::default()
        },
    )
    .await?
    .items;
    let since = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(24))
        .map(|t| t.to_string())
        .ok();
    let alerts = api::alerts(
        app,
        &AlertsQuery {
            cluster: cluster.clone(),
            since,
            limit: Some(SHORT_LIST),
            ..AlertsQuery::default()
        },
    )
    .await?;
    let access = api::access(
        app,
        &AccessQuery {
            cluster: cluster.clone(),
            ..AccessQuery::default()
        },
    )
    .await?;
    let number =
        |value: &Value, pointer: &str| value.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    let last_scan = status.get("last_scan").filter(|s| !s.is_null());
    Ok(OverviewPage {
        no_scan: last_scan.is_none() && routes.is_empty(),
        scan: last_scan.map(|scan| ScanSummary {
            time: Time::parse(scan["time"].as_str().unwrap_or("")),
            objects: number(scan, "/objects"),
            findings: number(scan, "/findings"),
            errors: scan["errors"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        }),
        route_count: routes.len(),
        hosts,
        severity_chart,
        severity_legend,
        findings_total,
        expiring,
        risky: risky.iter().map(ChangeRow::from_json).collect(),
        alerts: alerts.items.iter().map(AlertRow::from_json).collect(),
        intake: IntakeSummary {
            batches: number(&access, "/totals/batches"),
            lines: number(&access, "/totals/lines"),
            parsed: number(&access, "/totals/parsed"),
            malformed: number(&access, "/totals/malformed"),
            audit_events: number(&status, "/store/audit_events"),
        },
        layout,
    })
}

async fn route_map(State(app): State<Arc<App>>, Query(query): Query<RoutesFilter>) -> Response {
    let layout = layout(&app, "Routes", Section::Routes, &query.cluster).await;
    let page = async {
        let status = api::status_value(&app).await?;
        let routes = api::routes_of(
            &app,
            &InventoryQuery {
                cluster: given(&query.cluster),
                namespace: given(&query.namespace),
                host: given(&query.host),
                ..InventoryQuery::default()
            },
        )
        .await?;
        Ok(RoutesPage {
            layout: layout.clone(),
            no_scan: status["last_scan"].is_null() && routes.is_empty(),
            routes: routes.iter().map(RouteRow::from_json).collect(),
            namespace: query.namespace.trim().to_owned(),
            host: query.host.trim().to_owned(),
        })
    }
    .await;
    respond(layout, page).await
}

async fn route_view(State(app): State<Arc<App>>, Query(query): Query<RouteViewQuery>) -> Response {
    let layout = layout(&app, "Route", Section::Routes, &query.cluster).await;
    let page = route_page(&app, layout.clone(), &query).await;
    respond(layout, page).await
}

async fn route_page(
    app: &App,
    mut layout: Layout,
    query: &RouteViewQuery,
) -> Result<RoutePage, Failure> {
    let key = query.key.trim().to_owned();
    if key.is_empty() {
        return Err(Failure::Page(
            StatusCode::BAD_REQUEST,
            "Which route? The route view needs its key: /routes/view?cluster=C&key=K.".to_owned(),
        ));
    }
    let cluster = given(&query.cluster);
    let routes = api::routes_of(
        app,
        &InventoryQuery {
            cluster: cluster.clone(),
            ..InventoryQuery::default()
        },
    )
    .await?;
    let route = routes
        .iter()
        .find(|r| r["key"].as_str() == Some(key.as_str()))
        .map(RouteRow::from_json);
    // Counts are stored per cluster: the route's own when the map knows it.
    let cluster = cluster.or_else(|| route.as_ref().map(|r| r.cluster.clone()));
    let minutes = query
        .minutes
        .parse::<i64>()
        .ok()
        .filter(|m| WINDOWS.iter().any(|(w, _)| w == m))
        .unwrap_or(60);
    let access = api::access(
        app,
        &AccessQuery {
            cluster: cluster.clone(),
            route: Some(key.clone()),
            minutes: Some(minutes),
        },
    )
    .await?;

    let (requests, errors) = timeline_series(&access["timeline"]);
    let first = access
        .pointer("/timeline/0/minute")
        .and_then(Value::as_str)
        .map(|t| minute_label(t, true))
        .unwrap_or_default();
    let last = access["timeline"]
        .as_array()
        .and_then(|t| t.last())
        .and_then(|m| m["minute"].as_str())
        .map(|t| minute_label(t, false))
        .unwrap_or_default();
    let timeline = charts::line(
        &[
            Series {
                label: "requests per minute",
                values: &requests,
                class: "series-requests",
            },
            Series {
                label: "5xx per minute",
                values: &errors,
                class: "series-errors",
            },
        ],
        &first,
        &last,
        960,
        200,
        "requests per minute",
    );
    let mut status = [0u64; 6];
    let mut counted = 0u64;
    for entry in access["routes"].as_array().into_iter().flatten() {
        counted += entry["requests"].as_u64().unwrap_or(0);
        for (i, class) in super::access::STATUS_CLASSES.iter().enumerate() {
            if let Some(slot) = status.get_mut(i) {
                *slot += entry["status"][class].as_u64().unwrap_or(0);
            }
        }
    }
    let parts: Vec<Part> = super::access::STATUS_CLASSES
        .iter()
        .zip(status)
        .map(|(class, count)| Part::new(class, count, &format!("status-{class}")))
        .collect();
    let status_chart = charts::stacked(&parts, 960, 24, "responses by status class");
    let status_legend = parts
        .into_iter()
        .map(|part| Legend {
            label: part.label,
            value: part.value,
            class: part.class,
            href: String::new(),
        })
        .collect();
    let sources = access["sources"]
        .as_array()
        .map(|items| items.iter().map(SourceRow::from_json).collect())
        .unwrap_or_default();

    let alerts = api::alerts(
        app,
        &AlertsQuery {
            cluster: cluster.clone(),
            route: Some(key.clone()),
            limit: Some(SHORT_LIST * 2),
            ..AlertsQuery::default()
        },
    )
    .await?;
    // The object that defines the route, whose changes the page lists.
    let object = match &route {
        Some(r) if !r.name.is_empty() => {
            Some((r.kind.clone(), r.namespace.clone(), r.name.clone()))
        }
        _ => super::access::object_of_key(&key)
            .map(|(kind, ns, name)| (kind.to_owned(), ns.to_owned(), name.to_owned())),
    };
    let (changes, changes_href) = match &object {
        Some((kind, namespace, name)) => {
            let items = api::history(
                app,
                &HistoryQuery {
                    cluster: cluster.clone(),
                    kind: Some(kind.clone()),
                    namespace: Some(namespace.clone()),
                    name: Some(name.clone()),
                    limit: Some(SHORT_LIST),
                    ..HistoryQuery::default()
                },
            )
            .await?
            .items;
            (
                items.iter().map(ChangeRow::from_json).collect(),
                layout.link(
                    "/history",
                    &[("kind", kind), ("namespace", namespace), ("name", name)],
                ),
            )
        }
        None => (Vec::new(), String::new()),
    };
    let windows = WINDOWS
        .iter()
        .map(|&(window, label)| NavLink {
            href: views::href(
                "/routes/view",
                &[
                    ("cluster", query.cluster.trim()),
                    ("key", key.as_str()),
                    ("minutes", &window.to_string()),
                ],
            ),
            label,
            current: window == minutes,
        })
        .collect();
    layout.title = match &route {
        Some(r) => format!("Route {}{}", r.host, r.path),
        None => format!("Route {key}"),
    };
    Ok(RoutePage {
        layout,
        key,
        route,
        has_traffic: counted > 0 || requests.iter().any(|&r| r > 0),
        window_requests: requests.iter().sum(),
        window_errors: errors.iter().sum(),
        timeline,
        windows,
        status_chart,
        status_legend,
        sources,
        alerts: alerts.items.iter().map(AlertRow::from_json).collect(),
        object_kind: object.map(|(kind, _, _)| kind).unwrap_or_default(),
        changes,
        changes_href,
    })
}

/// Requests and 5xx per minute from `access(..)["timeline"]`, with the minutes the store has no
/// row for (no request) filled in as zero, so the line's x axis is time.
fn timeline_series(timeline: &Value) -> (Vec<u64>, Vec<u64>) {
    let points: Vec<(i64, u64, u64)> = timeline
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let minute = m["minute"]
                .as_str()?
                .parse::<jiff::Timestamp>()
                .ok()?
                .as_second()
                .div_euclid(60);
            Some((
                minute,
                m["requests"].as_u64().unwrap_or(0),
                m["errors_5xx"].as_u64().unwrap_or(0),
            ))
        })
        .collect();
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return (Vec::new(), Vec::new());
    };
    // The API's window is at most 7 days; more would be a store that went backwards in time.
    let span = usize::try_from(last.0 - first.0 + 1)
        .unwrap_or(0)
        .min(7 * 24 * 60);
    let mut requests = vec![0u64; span];
    let mut errors = vec![0u64; span];
    for (minute, r, e) in &points {
        if let Ok(i) = usize::try_from(minute - first.0)
            && let (Some(slot_r), Some(slot_e)) = (requests.get_mut(i), errors.get_mut(i))
        {
            *slot_r += r;
            *slot_e += e;
        }
    }
    (requests, errors)
}

/// `2026-11-21 09:00 UTC` (with the date) or `09:29 UTC`.
fn minute_label(text: &str, with_date: bool) -> String {
    match text.parse::<jiff::Timestamp>() {
        Ok(t) if with_date => t.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        Ok(t) => t.strftime("%H:%M UTC").to_string(),
        Err(_) => text.to_owned(),
    }
}

async fn findings(State(app): State<Arc<App>>, Query(query): Query<FindingsFilter>) -> Response {
    let layout = layout(&app, "Findings", Section::Findings, &query.cluster).await;
    let page = async {
        let status = given(&query.status).unwrap_or_else(|| "open".to_owned());
        let page = api::findings(
            &app,
            &FindingsQuery {
                cluster: given(&query.cluster),
                severity: given(&query.severity),
                rule: given(&query.rule),
                namespace: given(&query.namespace),
                status: Some(status.clone()),
                limit: Some(PAGE_SIZE),
                cursor: given(&query.cursor),
            },
        )
        .await?;
        let filters = [
            ("severity", query.severity.trim()),
            ("rule", query.rule.trim()),
            ("namespace", query.namespace.trim()),
            ("status", query.status.trim()),
        ];
        let with_cursor = |cursor: &str| {
            let mut params = filters.to_vec();
            params.push(("cursor", cursor));
            layout.link("/findings", &params)
        };
        Ok(FindingsPage {
            findings: page.items.iter().map(FindingRow::from_json).collect(),
            severities: views::choices(&views::SEVERITIES, "any", query.severity.trim()),
            statuses: ["open", "resolved", "all"]
                .iter()
                .map(|value| views::Choice {
                    value: (*value).to_owned(),
                    label: (*value).to_owned(),
                    selected: *value == status,
                })
                .collect(),
            rule: query.rule.trim().to_owned(),
            namespace: query.namespace.trim().to_owned(),
            pages: PageLinks::new(
                given(&query.cursor).as_deref(),
                page.next.as_deref(),
                with_cursor,
                ("First page", "Next page"),
            ),
            layout: layout.clone(),
        })
    }
    .await;
    respond(layout, page).await
}

async fn history(State(app): State<Arc<App>>, Query(query): Query<HistoryFilter>) -> Response {
    let layout = layout(&app, "History", Section::History, &query.cluster).await;
    let page = async {
        let risky = query.risky.trim() == "true";
        let page = api::history(
            &app,
            &HistoryQuery {
                cluster: given(&query.cluster),
                kind: given(&query.kind),
                namespace: given(&query.namespace),
                name: given(&query.name),
                actor: given(&query.actor),
                risky: risky.then_some(true),
                limit: Some(PAGE_SIZE),
                cursor: given(&query.cursor),
                ..HistoryQuery::default()
            },
        )
        .await?;
        let with_cursor = |cursor: &str| {
            layout.link(
                "/history",
                &[
                    ("kind", query.kind.trim()),
                    ("namespace", query.namespace.trim()),
                    ("name", query.name.trim()),
                    ("actor", query.actor.trim()),
                    ("risky", if risky { "true" } else { "" }),
                    ("cursor", cursor),
                ],
            )
        };
        Ok(HistoryPage {
            changes: page.items.iter().map(ChangeRow::from_json).collect(),
            kind: query.kind.trim().to_owned(),
            namespace: query.namespace.trim().to_owned(),
            name: query.name.trim().to_owned(),
            actor: query.actor.trim().to_owned(),
            risky,
            pages: PageLinks::new(
                given(&query.cursor).as_deref(),
                page.next.as_deref(),
                with_cursor,
                ("Newest", "Older"),
            ),
            layout: layout.clone(),
        })
    }
    .await;
    respond(layout, page).await
}

async fn change(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<ClusterQuery>,
) -> Response {
    let layout = layout(&app, "Change", Section::History, &query.cluster).await;
    let page = async {
        let seq = id
            .parse::<i64>()
            .map_err(|_| not_found(format!("There is no change `{id}`.")))?;
        let event = api::change(&app, seq)
            .await?
            .ok_or_else(|| not_found(format!("There is no change #{seq} in the history.")))?;
        let change = ChangeDetail::from_json(&event);
        let mut layout = layout.clone();
        layout.title = format!("Change #{seq}");
        Ok(ChangePage { layout, change })
    }
    .await;
    respond(layout, page).await
}

async fn alerts(State(app): State<Arc<App>>, Query(query): Query<AlertsFilter>) -> Response {
    let layout = layout(&app, "Alerts", Section::Alerts, &query.cluster).await;
    let page = async {
        let page = api::alerts(
            &app,
            &AlertsQuery {
                cluster: given(&query.cluster),
                trigger: given(&query.trigger),
                limit: Some(PAGE_SIZE),
                cursor: given(&query.cursor),
                ..AlertsQuery::default()
            },
        )
        .await?;
        let with_cursor = |cursor: &str| {
            layout.link(
                "/alerts",
                &[("trigger", query.trigger.trim()), ("cursor", cursor)],
            )
        };
        Ok(AlertsPage {
            alerts: page.items.iter().map(AlertRow::from_json).collect(),
            triggers: views::choices(&views::TRIGGERS, "any", query.trigger.trim()),
            pages: PageLinks::new(
                given(&query.cursor).as_deref(),
                page.next.as_deref(),
                with_cursor,
                ("Newest", "Older"),
            ),
            layout: layout.clone(),
        })
    }
    .await;
    respond(layout, page).await
}

async fn alert(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(query): Query<ClusterQuery>,
) -> Response {
    let layout = layout(&app, "Alert", Section::Alerts, &query.cluster).await;
    let page = async {
        let stored = app
            .store
            .alert(&id)
            .await?
            .ok_or_else(|| not_found(format!("There is no alert `{id}`.")))?;
        let alert = AlertDetail::from_json(&api::alert_json(&app, &stored));
        let mut layout = layout.clone();
        layout.title = format!("Alert: {}", alert.row.title);
        Ok(AlertPage { layout, alert })
    }
    .await;
    respond(layout, page).await
}

async fn certificates(State(app): State<Arc<App>>, Query(query): Query<ClusterQuery>) -> Response {
    let layout = layout(&app, "Certificates", Section::Certificates, &query.cluster).await;
    let page = async {
        let status = api::status_value(&app).await?;
        let rows = api::certificates(
            &app,
            &CertificatesQuery {
                cluster: given(&query.cluster),
                ..CertificatesQuery::default()
            },
        )
        .await?;
        Ok(CertificatesPage {
            no_scan: status["last_scan"].is_null() && rows.is_empty(),
            groups: views::group_by_month(rows.iter().map(CertRow::from_json).collect()),
            layout: layout.clone(),
        })
    }
    .await;
    respond(layout, page).await
}

async fn reports(State(app): State<Arc<App>>, Query(query): Query<ClusterQuery>) -> Response {
    let layout = layout(&app, "Reports", Section::Reports, &query.cluster).await;
    let page = async {
        let listed = api::reports_of(&app, given(&query.cluster).as_deref()).await?;
        Ok(views::ReportsPage {
            reports: listed.iter().map(views::ReportRow::from_json).collect(),
            layout: layout.clone(),
        })
    }
    .await;
    respond(layout, page).await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use serde_json::json;
    use tokio::sync::{Mutex, Notify, RwLock};
    use tollgate_core::config::Config;
    use tollgate_store::{
        Action, Actor, Attribution, NewRecord, Outcome, ResourceRef, Risk, Store,
    };

    use super::*;
    use crate::serve::{alerts, auth, metrics};

    async fn app() -> Arc<App> {
        let config = Config::default();
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let (hub, _deliveries) = alerts::Hub::new(&config.serve.alerts);
        Arc::new(App {
            judge: crate::tracking::Judge::new("prod".to_owned(), &config),
            client: None,
            store_url: "sqlite::memory:".to_owned(),
            judging: Arc::new(tokio::sync::Semaphore::new(8)),
            store,
            cluster: "prod".to_owned(),
            public_url: "http://127.0.0.1:8080".to_owned(),
            tokens: auth::Tokens::new(None, None),
            metrics: metrics::Metrics::new(),
            alerts: hub,
            logs: None,
            scanned: RwLock::new(None),
            audit_arrived: Notify::new(),
            rescan: Notify::new(),
            ready: AtomicBool::new(true),
            leader: AtomicBool::new(true),
            raise_lock: Mutex::new(()),
            config,
        })
    }

    /// Appends changes to Ingresses `shop/web-1` … `shop/web-N`, a minute apart.
    async fn record_changes(app: &App, count: usize) {
        for i in 1..=count {
            app.store
                .append(NewRecord {
                    cluster: "prod".to_owned(),
                    time_ms: 1_795_000_000_000 + 60_000 * i as i64,
                    action: Action::Updated,
                    resource: ResourceRef {
                        api_version: "networking.k8s.io/v1".to_owned(),
                        kind: "Ingress".to_owned(),
                        namespace: "shop".to_owned(),
                        name: format!("web-{i}"),
                        uid: String::new(),
                    },
                    resource_version: i.to_string(),
                    object: Some(json!({"spec": {}})),
                    diff: json!([]),
                    actor: Actor {
                        user: Some("alice".to_owned()),
                        attribution: Attribution::Audit,
                        ..Actor::default()
                    },
                    risk: Risk::default(),
                    outcome: Outcome::Applied,
                    out_of_band: true,
                })
                .await
                .unwrap();
        }
    }

    async fn body(response: Response) -> (StatusCode, String) {
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn the_history_pages_newest_first_with_the_api_cursor() {
        let app = app().await;
        record_changes(&app, 52).await;
        let response = history(State(Arc::clone(&app)), Query(HistoryFilter::default())).await;
        let (status, html) = body(response).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.find("href=\"/history/52\"") < html.find("href=\"/history/3\""));
        assert!(
            !html.contains("href=\"/history/2\""),
            "the first page holds 50"
        );
        assert!(html.contains("<a href=\"/history?cursor=50\" rel=\"next\">Older</a>"));
        let response = history(
            State(Arc::clone(&app)),
            Query(HistoryFilter {
                cursor: "50".to_owned(),
                ..HistoryFilter::default()
            }),
        )
        .await;
        let (_, html) = body(response).await;
        assert!(html.find("href=\"/history/2\"") < html.find("href=\"/history/1\""));
        assert!(!html.contains("href=\"/history/3\""));
        assert!(html.contains("<a href=\"/history\">Newest</a>"));
        assert!(!html.contains(">Older</a>"));
    }

    #[tokio::test]
    async fn an_access_alert_is_correlated_with_the_latest_change_of_its_ingress() {
        let app = app().await;
        record_changes(&app, 1).await;
        // Two more changes of `shop/web-1`, the last one the latest.
        for version in ["2", "3"] {
            let mut record = app.store.record(1).await.unwrap().unwrap().change;
            record.resource_version = version.to_owned();
            record.time_ms += 60_000 * version.parse::<i64>().unwrap();
            app.store.append(record).await.unwrap();
        }
        let around = 1_795_000_000_000 + 60_000 * 5;
        let (seq, summary) = alerts::correlated_change(&app, "Ingress", "shop", "web-1", around)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(seq, 3);
        assert_eq!(summary["id"], 3);
    }

    #[tokio::test]
    async fn the_history_page_shows_the_newest_change_first() {
        let app = app().await;
        record_changes(&app, 3).await;
        let response = history(State(Arc::clone(&app)), Query(HistoryFilter::default())).await;
        let (status, html) = body(response).await;
        assert_eq!(status, StatusCode::OK);
        let newest = html.find("href=\"/history/3\"").unwrap();
        let oldest = html.find("href=\"/history/1\"").unwrap();
        assert!(newest < oldest, "{html}");
        assert!(!html.contains(">Older</a>"));

        let response = change(
            State(Arc::clone(&app)),
            Path("2".to_owned()),
            Query(ClusterQuery::default()),
        )
        .await;
        let (status, html) = body(response).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("<h1>Change #2: updated Ingress shop/web-2</h1>"));
        assert!(html.contains("<dd class=\"actor-user\">alice</dd>"));
    }

    #[tokio::test]
    async fn unknown_ids_answer_a_404_page() {
        let app = app().await;
        for id in ["999", "abc"] {
            let response = change(
                State(Arc::clone(&app)),
                Path(id.to_owned()),
                Query(ClusterQuery::default()),
            )
            .await;
            let (status, html) = body(response).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            assert!(html.contains("<h1>Not found</h1>"), "{html}");
        }
        let response = alert(
            State(Arc::clone(&app)),
            Path("nope".to_owned()),
            Query(ClusterQuery::default()),
        )
        .await;
        let (status, html) = body(response).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(html.contains("There is no alert `nope`."));
    }

    #[tokio::test]
    async fn a_filter_the_api_refuses_answers_its_message_on_a_400_page() {
        let app = app().await;
        let response = findings(
            State(Arc::clone(&app)),
            Query(FindingsFilter {
                status: "bogus".to_owned(),
                ..FindingsFilter::default()
            }),
        )
        .await;
        let (status, html) = body(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("<h1>Bad request</h1>"));
        assert!(html.contains("unknown status `bogus`"), "{html}");
        let response = route_view(State(app), Query(RouteViewQuery::default())).await;
        let (status, html) = body(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("needs its key"));
    }

    #[tokio::test]
    async fn pages_say_when_no_scan_has_run() {
        let app = app().await;
        for response in [
            overview(State(Arc::clone(&app)), Query(ClusterQuery::default())).await,
            route_map(State(Arc::clone(&app)), Query(RoutesFilter::default())).await,
            certificates(State(Arc::clone(&app)), Query(ClusterQuery::default())).await,
        ] {
            let (status, html) = body(response).await;
            assert_eq!(status, StatusCode::OK);
            assert!(html.contains("No scan has finished yet"), "{html}");
        }
    }

    #[test]
    fn assets_are_cached_for_long_under_versioned_urls() {
        let response = asset("text/css; charset=utf-8", views::STYLE);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/css; charset=utf-8"
        );
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
    }

    #[test]
    fn the_timeline_fills_minutes_without_requests_with_zero() {
        let timeline = json!([
            {"minute": "2026-11-21T09:00:00Z", "requests": 10, "errors_5xx": 1},
            {"minute": "2026-11-21T09:03:00Z", "requests": 4, "errors_5xx": 0},
            {"minute": "garbage", "requests": 99, "errors_5xx": 99}
        ]);
        let (requests, errors) = timeline_series(&timeline);
        assert_eq!(requests, [10, 0, 0, 4]);
        assert_eq!(errors, [1, 0, 0, 0]);
        assert_eq!(timeline_series(&json!([])), (Vec::new(), Vec::new()));
        assert_eq!(timeline_series(&Value::Null), (Vec::new(), Vec::new()));
        assert_eq!(
            minute_label("2026-11-21T09:03:00Z", true),
            "2026-11-21 09:03 UTC"
        );
        assert_eq!(minute_label("2026-11-21T09:03:00Z", false), "09:03 UTC");
    }
}
