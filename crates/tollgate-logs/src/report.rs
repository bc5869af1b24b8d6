//! The report of a run, as `tollgate logs --format json` prints it (DESIGN §3): `summary`,
//! `routes`, `sources`, `alerts`, plus the timeline, authentication outcomes, stale routes and
//! requests to routes without endpoints.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::aggregate::{Aggregate, TargetStats};
use crate::analyze::Run;
use crate::detectors::Alert;
use crate::routes::{RouteTable, Target};
use crate::time::format_rfc3339;

/// What GeoIP knows of an address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// ISO country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Autonomous system number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Autonomous system organisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_org: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Totals.
    pub summary: Summary,
    /// Per route (or Service, when requests could not be told apart), busiest first.
    pub routes: Vec<RouteReport>,
    /// Requests attributed to no route.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unattributed: Option<TrafficReport>,
    /// The busiest clients.
    pub sources: Vec<SourceReport>,
    /// Detector alerts.
    pub alerts: Vec<AlertReport>,
    /// Requests and 5xx per minute.
    pub timeline: Vec<TimelinePoint>,
    /// Successful and failed attempts on authenticated routes, most failures first.
    pub authentication: Vec<AuthReport>,
    /// Routes of the inventory that received no request in the window: candidates for removal.
    pub stale_routes: Vec<Target>,
    /// Requests to routes whose backend has no ready endpoints.
    pub no_endpoints: Vec<NoEndpointsReport>,
}

/// Totals of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Non-empty lines read.
    pub lines: u64,
    /// Lines parsed into requests.
    pub parsed: u64,
    /// Lines that could not be read.
    pub malformed: u64,
    /// Parsed lines per format.
    pub formats: BTreeMap<String, u64>,
    /// First request time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    /// Last request time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// Bytes read.
    pub bytes_read: u64,
    /// Distinct client addresses (estimated above 64).
    pub unique_clients: u64,
    /// Requests attributed to a route or Service of the inventory.
    pub attributed: u64,
    /// Requests for hosts no route defines, or to the proxy's default backend.
    pub unrouted: u64,
    /// Malformed lines per reason.
    pub malformed_reasons: BTreeMap<String, u64>,
    /// The first malformed lines.
    pub malformed_samples: Vec<MalformedReport>,
    /// Inputs that could not be read to the end.
    pub input_errors: Vec<InputError>,
    /// Sources dropped from the per-source table to bound memory, and the largest request count
    /// among them (no listed count is short by more).
    pub sources_dropped: u64,
    /// See `sources_dropped`.
    pub sources_max_error: u64,
}

/// A malformed line.
#[derive(Debug, Clone, Serialize)]
pub struct MalformedReport {
    /// Input name.
    pub file: String,
    /// Line number.
    pub line: u64,
    /// Why.
    pub reason: String,
    /// The line (truncated).
    pub text: String,
}

/// An input that stopped early.
#[derive(Debug, Clone, Serialize)]
pub struct InputError {
    /// Input name.
    pub file: String,
    /// What went wrong.
    pub error: String,
}

/// Traffic of one route or of the unattributed rest.
#[derive(Debug, Clone, Serialize)]
pub struct TrafficReport {
    /// Requests.
    pub requests: u64,
    /// Responses per status class (`1xx` … `5xx`, `other`).
    pub status: BTreeMap<&'static str, u64>,
    /// Bytes sent.
    pub bytes: u64,
    /// Distinct clients (estimated above 64).
    pub unique_clients: u64,
    /// Request-time percentiles in seconds (within 12.5 %), when the format logs request time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Percentiles>,
    /// First request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    /// Last request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
}

/// Latency percentiles in seconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th.
    pub p90: f64,
    /// 99th.
    pub p99: f64,
}

/// One route's traffic.
#[derive(Debug, Clone, Serialize)]
pub struct RouteReport {
    /// The route.
    pub route: Target,
    /// Its traffic.
    #[serde(flatten)]
    pub traffic: TrafficReport,
}

/// One client.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    /// Address.
    pub ip: IpAddr,
    /// Requests.
    pub requests: u64,
    /// 4xx responses.
    pub errors_4xx: u64,
    /// 5xx responses.
    pub errors_5xx: u64,
    /// (4xx + 5xx) / requests.
    pub error_ratio: f64,
    /// Bytes sent to it.
    pub bytes: u64,
    /// Routes it reached (up to 8).
    pub routes: Vec<Target>,
    /// Routes beyond those listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub more_routes: u64,
    /// GeoIP.
    #[serde(flatten)]
    pub location: Location,
    /// First request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    /// Last request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
}

/// One alert.
#[derive(Debug, Clone, Serialize)]
pub struct AlertReport {
    /// Detector name.
    pub detector: &'static str,
    /// The client address (or a description of many).
    pub source: String,
    /// The route, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<Target>,
    /// Matching requests.
    pub count: u64,
    /// First matching request.
    pub first: String,
    /// Last matching request.
    pub last: String,
    /// Up to three log lines.
    pub evidence: Vec<String>,
    /// Detector-specific detail (CVE, user agent, host and the controller option to log it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// GeoIP of the source.
    #[serde(flatten)]
    pub location: Location,
}

/// Requests and 5xx in one minute.
#[derive(Debug, Clone, Serialize)]
pub struct TimelinePoint {
    /// Start of the minute.
    pub time: String,
    /// Requests.
    pub requests: u64,
    /// 5xx responses.
    pub errors_5xx: u64,
}

/// Authentication outcomes of one client (and user) on one route.
#[derive(Debug, Clone, Serialize)]
pub struct AuthReport {
    /// The route.
    pub route: Target,
    /// The client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<IpAddr>,
    /// The user, when the format logs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// 2xx/3xx responses.
    pub succeeded: u64,
    /// 401/403 responses.
    pub failed: u64,
}

/// Requests to a route whose backend has no ready endpoints.
#[derive(Debug, Clone, Serialize)]
pub struct NoEndpointsReport {
    /// The route.
    pub route: Target,
    /// Requests it received.
    pub requests: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How many sources the report lists.
pub const TOP_SOURCES: usize = 50;

impl Report {
    /// Builds the report of a finished run (`alerts` from `Detectors::finish`). `locate` gives the
    /// GeoIP of the listed sources.
    pub fn build(
        run: &Run,
        table: &RouteTable,
        alerts: &[Alert],
        locate: &dyn Fn(IpAddr) -> Location,
    ) -> Report {
        let aggregate = &run.aggregate;
        let target = |id: u32| table.targets().get(id as usize).cloned();
        let mut routes: Vec<RouteReport> = aggregate
            .targets
            .iter()
            .enumerate()
            .filter_map(|(id, stats)| {
                let stats = stats.as_deref()?;
                Some(RouteReport {
                    route: target(id as u32)?,
                    traffic: traffic(stats),
                })
            })
            .collect();
        routes.sort_by(|a, b| {
            b.traffic
                .requests
                .cmp(&a.traffic.requests)
                .then_with(|| route_key(&a.route).cmp(&route_key(&b.route)))
        });
        let attributed = routes.iter().map(|r| r.traffic.requests).sum();

        let sources = aggregate
            .sources
            .top(TOP_SOURCES)
            .into_iter()
            .map(|(ip, stats)| SourceReport {
                ip,
                requests: stats.requests,
                errors_4xx: stats.errors_4xx,
                errors_5xx: stats.errors_5xx,
                error_ratio: ratio(stats.errors_4xx + stats.errors_5xx, stats.requests),
                bytes: stats.bytes,
                routes: stats
                    .targets()
                    .iter()
                    .filter_map(|id| target(*id))
                    .collect(),
                more_routes: stats.more_targets,
                location: locate(ip),
                first: stats.first_us.map(format_rfc3339),
                last: stats.last_us.map(format_rfc3339),
            })
            .collect();

        let alerts = alerts
            .iter()
            .map(|alert| AlertReport {
                detector: alert.detector.name(),
                source: alert.source.clone(),
                route: alert.route.and_then(target),
                count: alert.count,
                first: format_rfc3339(alert.first_us),
                last: format_rfc3339(alert.last_us),
                evidence: alert.evidence.clone(),
                detail: alert.detail.clone(),
                location: alert.source.parse().map(locate).unwrap_or_default(),
            })
            .collect();

        let mut authentication: Vec<AuthReport> = aggregate
            .auth
            .iter()
            .filter_map(|((id, ip, user), outcome)| {
                Some(AuthReport {
                    route: target(*id)?,
                    client_ip: *ip,
                    user: user.clone(),
                    succeeded: outcome.succeeded,
                    failed: outcome.failed,
                })
            })
            .collect();
        authentication.sort_by(|a, b| {
            b.failed
                .cmp(&a.failed)
                .then(b.succeeded.cmp(&a.succeeded))
                .then(a.client_ip.cmp(&b.client_ip))
                .then(a.user.cmp(&b.user))
                .then_with(|| route_key(&a.route).cmp(&route_key(&b.route)))
        });

        // A route is stale when neither it nor a Service-level target covering it saw a request.
        let served_services: Vec<&Target> = aggregate
            .targets
            .iter()
            .enumerate()
            .skip(table.routes().len())
            .filter(|(_, stats)| stats.is_some())
            .filter_map(|(id, _)| table.targets().get(id))
            .collect();
        let stale_routes = (0..table.routes().len())
            .filter(|id| aggregate.target(*id as u32).is_none())
            .filter_map(|id| table.targets().get(id))
            .filter(|route| {
                !served_services.iter().any(|service| {
                    service.namespace == route.namespace
                        && service.service == route.service
                        && service.port == route.port
                })
            })
            .cloned()
            .collect();

        let no_endpoints = table
            .routes()
            .iter()
            .enumerate()
            .filter(|(_, route)| route.ready_endpoints == Some(0))
            .filter_map(|(id, _)| {
                let requests = aggregate.target(id as u32)?.requests;
                Some(NoEndpointsReport {
                    route: target(id as u32)?,
                    requests,
                })
            })
            .collect();

        Report {
            summary: summary(run, attributed),
            routes,
            unattributed: (aggregate.unattributed.requests > 0)
                .then(|| traffic(&aggregate.unattributed)),
            sources,
            alerts,
            timeline: run
                .timeline
                .iter()
                .map(|(minute, (requests, errors_5xx))| TimelinePoint {
                    time: format_rfc3339(minute * 60_000_000),
                    requests: *requests,
                    errors_5xx: *errors_5xx,
                })
                .collect(),
            authentication,
            stale_routes,
            no_endpoints,
        }
    }
}

type RouteKey<'t> = (
    &'t str,
    Option<&'t str>,
    Option<&'t str>,
    Option<&'t str>,
    Option<&'t str>,
    Option<&'t str>,
);

fn route_key(target: &Target) -> RouteKey<'_> {
    (
        &target.namespace,
        target.ingress.as_deref(),
        target.kind.as_deref(),
        target.name.as_deref(),
        target.host.as_deref(),
        target.path.as_deref(),
    )
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
    }
}

fn traffic(stats: &TargetStats) -> TrafficReport {
    const CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];
    let latency = stats.latency.quantile(0.5).and_then(|p50| {
        Some(Percentiles {
            p50,
            p90: stats.latency.quantile(0.9)?,
            p99: stats.latency.quantile(0.99)?,
        })
    });
    TrafficReport {
        requests: stats.requests,
        status: CLASSES
            .iter()
            .zip(stats.status)
            .filter(|(_, n)| *n > 0)
            .map(|(c, n)| (*c, n))
            .collect(),
        bytes: stats.bytes,
        unique_clients: stats.clients.count(),
        latency,
        first: stats.first_us.map(format_rfc3339),
        last: stats.last_us.map(format_rfc3339),
    }
}

fn summary(run: &Run, attributed: u64) -> Summary {
    let aggregate: &Aggregate = &run.aggregate;
    Summary {
        lines: aggregate.lines,
        parsed: aggregate.parsed,
        malformed: aggregate.malformed,
        formats: aggregate
            .by_format
            .iter()
            .map(|(f, n)| (f.name().to_string(), *n))
            .collect(),
        first: aggregate.first_us.map(format_rfc3339),
        last: aggregate.last_us.map(format_rfc3339),
        bytes_read: run.bytes,
        unique_clients: aggregate.clients.count(),
        attributed,
        unrouted: aggregate.unrouted,
        malformed_reasons: aggregate
            .malformed_reasons
            .iter()
            .map(|(r, n)| (r.to_string(), *n))
            .collect(),
        malformed_samples: aggregate
            .malformed_samples
            .iter()
            .map(|s| MalformedReport {
                file: s.file.clone(),
                line: s.line,
                reason: s.reason.to_string(),
                text: s.text.clone(),
            })
            .collect(),
        input_errors: run
            .input_errors
            .iter()
            .map(|(file, error)| InputError {
                file: file.clone(),
                error: error.clone(),
            })
            .collect(),
        sources_dropped: aggregate.sources.dropped,
        sources_max_error: aggregate.sources.dropped_max,
    }
}
