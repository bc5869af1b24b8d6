//! Renderers for `tollgate logs`: the terminal table, JSON, one self-contained HTML page, the
//! one-line alert `--follow` prints, and the detector list.

use std::fmt::Write as _;

use tollgate_core::render::columns;
use tollgate_core::report::Tool;
use tollgate_logs::detectors::{Alert, Detector};
use tollgate_logs::report::{AlertReport, Location, Report, TrafficReport};
use tollgate_logs::routes::{RouteTable, Target};
use tollgate_logs::time::format_rfc3339;

/// `--format json`: the report with the tool's name and version.
pub fn json(report: &Report) -> String {
    #[derive(serde::Serialize)]
    struct Document<'r> {
        tool: Tool,
        #[serde(flatten)]
        report: &'r Report,
    }
    let document = Document {
        tool: Tool::current(),
        report,
    };
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// A route (or Service) as one short text: `ns/ingress host/path → svc:port` for an Ingress
/// route, `HTTPRoute ns/name host/path → svc:port` for a Gateway API one (`→ other-ns/svc:port`
/// when the Service is in another namespace).
pub fn target_text(target: &Target) -> String {
    let mut text = String::new();
    if let Some(kind) = &target.kind {
        let _ = write!(text, "{kind} ");
    }
    text.push_str(&target.namespace);
    if let Some(name) = target.ingress.as_ref().or(target.name.as_ref()) {
        let _ = write!(text, "/{name}");
    }
    match (&target.host, &target.path) {
        (Some(host), Some(path)) => {
            let _ = write!(text, " {host}{path}");
        }
        (Some(host), None) => {
            let _ = write!(text, " {host}");
        }
        (None, Some(path)) => {
            let _ = write!(text, " *{path}");
        }
        (None, None) => {}
    }
    if let Some(service) = &target.service {
        let _ = write!(text, " → ");
        if let Some(namespace) = &target.service_namespace {
            let _ = write!(text, "{namespace}/");
        }
        let _ = write!(text, "{service}");
        if let Some(port) = &target.port {
            let _ = write!(text, ":{port}");
        }
    }
    text
}

/// The line `--follow` prints when an alert fires.
pub fn alert_line(alert: &Alert, table: &RouteTable, color: bool) -> String {
    let route = alert
        .route
        .and_then(|id| table.targets().get(id as usize))
        .map(target_text);
    let name = if color {
        format!("\x1b[1;31m{}\x1b[0m", alert.detector.name())
    } else {
        alert.detector.name().to_string()
    };
    let mut line = format!(
        "{} ALERT {name} from {} ({} requests)",
        format_rfc3339(alert.last_us),
        alert.source,
        alert.count
    );
    if let Some(route) = route {
        let _ = write!(line, " on {route}");
    }
    if let Some(detail) = &alert.detail {
        let _ = write!(line, ": {detail}");
    }
    line
}

/// `--detectors`: every detector with what it catches.
pub fn detectors() -> String {
    let mut rows = vec![vec!["DETECTOR".to_string(), "CATCHES".to_string()]];
    for detector in Detector::ALL {
        rows.push(vec![
            detector.name().to_string(),
            detector.summary().to_string(),
        ]);
    }
    let mut text = columns(&rows, false, |_, _, _| None).join("\n");
    text.push_str(
        "\n\nThresholds, pattern lists, untrusted ranges and countries are set in the `detectors` section of\n\
         tollgate.yaml; docs/logs.md lists every key with its default.\n",
    );
    text
}

/// Country and AS organisation of a source, as far as GeoIP knows them.
fn place(location: &Location, separator: &str) -> String {
    [location.country.as_deref(), location.as_org.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(separator)
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

fn status_mix(traffic: &TrafficReport) -> String {
    ["2xx", "3xx", "4xx", "5xx"]
        .iter()
        .map(|class| {
            format!(
                "{class} {}",
                percent(
                    traffic.status.get(class).copied().unwrap_or(0),
                    traffic.requests
                )
            )
        })
        .collect::<Vec<_>>()
        .join("  ")
}

fn latency(traffic: &TrafficReport) -> String {
    traffic.latency.map_or_else(
        || "-".into(),
        |l| format!("{:.0}/{:.0} ms", l.p50 * 1000.0, l.p99 * 1000.0),
    )
}

/// The terminal report.
pub fn table(report: &Report, top: usize, color: bool) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let bold = |text: &str| {
        if color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let formats: Vec<String> = s.formats.iter().map(|(f, n)| format!("{f} {n}")).collect();
    let _ = writeln!(
        out,
        "{} lines: {} requests, {} malformed ({}); {} clients; {} → {}",
        s.lines,
        s.parsed,
        s.malformed,
        if formats.is_empty() {
            "no format".into()
        } else {
            formats.join(", ")
        },
        s.unique_clients,
        s.first.as_deref().unwrap_or("-"),
        s.last.as_deref().unwrap_or("-"),
    );
    let _ = writeln!(
        out,
        "attributed to routes: {} ({}), unrouted hosts / default backend: {}",
        s.attributed,
        percent(s.attributed, s.parsed),
        s.unrouted
    );

    let _ = writeln!(out, "\n{}", bold("Top routes"));
    let mut rows = vec![
        ["ROUTE", "REQUESTS", "STATUS", "CLIENTS", "P50/P99"]
            .map(String::from)
            .to_vec(),
    ];
    for route in report.routes.iter().take(top) {
        rows.push(vec![
            target_text(&route.route),
            route.traffic.requests.to_string(),
            status_mix(&route.traffic),
            route.traffic.unique_clients.to_string(),
            latency(&route.traffic),
        ]);
    }
    if let Some(rest) = &report.unattributed {
        rows.push(vec![
            "(not attributed to a route)".into(),
            rest.requests.to_string(),
            status_mix(rest),
            rest.unique_clients.to_string(),
            latency(rest),
        ]);
    }
    for line in columns(&rows, color, |r, _, _| (r == 0).then_some("1")) {
        let _ = writeln!(out, "  {line}");
    }

    let _ = writeln!(out, "\n{}", bold("Top sources"));
    let mut rows = vec![
        ["SOURCE", "REQUESTS", "ERRORS", "ROUTES", "WHERE"]
            .map(String::from)
            .to_vec(),
    ];
    for source in report.sources.iter().take(top) {
        let place = place(&source.location, " ");
        rows.push(vec![
            source.ip.to_string(),
            source.requests.to_string(),
            percent(source.errors_4xx + source.errors_5xx, source.requests),
            (source.routes.len() as u64 + source.more_routes).to_string(),
            if place.is_empty() { "-".into() } else { place },
        ]);
    }
    for line in columns(&rows, color, |r, _, _| (r == 0).then_some("1")) {
        let _ = writeln!(out, "  {line}");
    }

    let failures: Vec<_> = report
        .authentication
        .iter()
        .filter(|a| a.failed > 0)
        .take(top)
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            bold("Failed authentication on protected routes")
        );
        let mut rows = vec![
            ["ROUTE", "CLIENT", "USER", "FAILED", "SUCCEEDED"]
                .map(String::from)
                .to_vec(),
        ];
        for auth in failures {
            rows.push(vec![
                target_text(&auth.route),
                auth.client_ip
                    .map_or_else(|| "-".into(), |ip| ip.to_string()),
                auth.user.clone().unwrap_or_else(|| "-".into()),
                auth.failed.to_string(),
                auth.succeeded.to_string(),
            ]);
        }
        for line in columns(&rows, color, |r, _, _| (r == 0).then_some("1")) {
            let _ = writeln!(out, "  {line}");
        }
    }

    let _ = writeln!(
        out,
        "\n{}",
        bold(&format!("Alerts ({})", report.alerts.len()))
    );
    if report.alerts.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for alert in &report.alerts {
        let _ = writeln!(out, "  {}", alert_summary(alert, color));
        if let Some(evidence) = alert.evidence.first() {
            let _ = writeln!(out, "      {}", truncate(evidence, 160));
        }
    }
    if !report.stale_routes.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            bold("Routes with no request in the window (candidates for removal)")
        );
        for route in report.stale_routes.iter().take(top) {
            let _ = writeln!(out, "  {}", target_text(route));
        }
        if report.stale_routes.len() > top {
            let _ = writeln!(out, "  … and {} more", report.stale_routes.len() - top);
        }
    }
    if !report.no_endpoints.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            bold("Requests to routes whose backend has no ready endpoints")
        );
        for item in &report.no_endpoints {
            let _ = writeln!(
                out,
                "  {}  {} requests",
                target_text(&item.route),
                item.requests
            );
        }
    }
    if s.malformed > 0 {
        let _ = writeln!(
            out,
            "\n{}",
            bold(&format!("Malformed lines ({})", s.malformed))
        );
        for sample in s.malformed_samples.iter().take(5) {
            let _ = writeln!(
                out,
                "  {}:{}: {}: {}",
                sample.file,
                sample.line,
                sample.reason,
                truncate(&sample.text, 100)
            );
        }
    }
    for error in &s.input_errors {
        let _ = writeln!(out, "\n  input {}: {}", error.file, error.error);
    }
    out
}

fn alert_summary(alert: &AlertReport, color: bool) -> String {
    let name = if color {
        format!("\x1b[1;31m{}\x1b[0m", alert.detector)
    } else {
        alert.detector.to_string()
    };
    let mut line = format!(
        "{name}  {}  {} requests  {} → {}",
        alert.source, alert.count, alert.first, alert.last
    );
    if let Some(route) = &alert.route {
        let _ = write!(line, "  on {}", target_text(route));
    }
    if let Some(detail) = &alert.detail {
        let _ = write!(line, "  ({detail})");
    }
    line
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((index, _)) => format!("{}…", &text[..index]),
        None => text.to_string(),
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;color:#1d2330}\
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #d8dce6}\
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eceef3;vertical-align:top}\
th{background:#f4f5f8}td.n{text-align:right;font-variant-numeric:tabular-nums}.tiles{display:flex;flex-wrap:wrap;gap:.75rem}\
.tile{border:1px solid #d8dce6;border-radius:6px;padding:.5rem .75rem;min-width:9rem}.tile b{display:block;font-size:1.3rem}\
.alert{color:#b3261e;font-weight:600}code{font-size:12px;word-break:break-all}svg{max-width:100%;height:auto}\
@media print{h2{break-after:avoid}table{break-inside:auto}}";

/// `--format html`: one page, inline CSS and SVG, no external fetches.
pub fn html(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Tollgate access-log report</title><style>{CSS}</style></head><body><h1>Access-log report</h1>\
         <p>{} → {} · {} {}</p><div class=\"tiles\">",
        escape(s.first.as_deref().unwrap_or("-")),
        escape(s.last.as_deref().unwrap_or("-")),
        s.formats
            .keys()
            .map(|f| escape(f))
            .collect::<Vec<_>>()
            .join(", "),
        env!("CARGO_PKG_VERSION"),
    );
    for (label, value) in [
        ("requests", s.parsed.to_string()),
        ("malformed lines", s.malformed.to_string()),
        ("clients", s.unique_clients.to_string()),
        ("attributed", percent(s.attributed, s.parsed)),
        ("unrouted", s.unrouted.to_string()),
        ("alerts", report.alerts.len().to_string()),
    ] {
        let _ = write!(
            out,
            "<div class=\"tile\"><b>{}</b>{label}</div>",
            escape(&value)
        );
    }
    out.push_str("</div>");

    out.push_str("<h2>Requests per minute</h2>");
    out.push_str(&timeline_svg(report));

    out.push_str("<h2>Alerts</h2>");
    if report.alerts.is_empty() {
        out.push_str("<p>None.</p>");
    } else {
        out.push_str("<table><tr><th>detector</th><th>source</th><th>route</th><th>requests</th><th>first → last</th><th>detail and evidence</th></tr>");
        for alert in &report.alerts {
            let _ = write!(
                out,
                "<tr><td class=\"alert\">{}</td><td>{}{}</td><td>{}</td><td class=\"n\">{}</td><td>{}<br>{}</td><td>{}<code>{}</code></td></tr>",
                escape(alert.detector),
                escape(&alert.source),
                alert
                    .location
                    .country
                    .as_deref()
                    .map(|c| format!(" ({})", escape(c)))
                    .unwrap_or_default(),
                alert
                    .route
                    .as_ref()
                    .map(|r| escape(&target_text(r)))
                    .unwrap_or_default(),
                alert.count,
                escape(&alert.first),
                escape(&alert.last),
                alert
                    .detail
                    .as_deref()
                    .map(|d| format!("{}<br>", escape(d)))
                    .unwrap_or_default(),
                alert
                    .evidence
                    .iter()
                    .map(|e| escape(&truncate(e, 300)))
                    .collect::<Vec<_>>()
                    .join("<br>"),
            );
        }
        out.push_str("</table>");
    }

    out.push_str("<h2>Routes</h2>");
    out.push_str(&routes_svg(report));
    out.push_str("<table><tr><th>route</th><th>requests</th><th>2xx</th><th>3xx</th><th>4xx</th><th>5xx</th><th>clients</th><th>p50 / p99</th></tr>");
    for route in &report.routes {
        let t = &route.traffic;
        let class = |c: &str| t.status.get(c).copied().unwrap_or(0);
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&target_text(&route.route)),
            t.requests,
            class("2xx"),
            class("3xx"),
            class("4xx"),
            class("5xx"),
            t.unique_clients,
            escape(&latency(t)),
        );
    }
    out.push_str("</table>");

    out.push_str("<h2>Top sources</h2><table><tr><th>source</th><th>requests</th><th>4xx</th><th>5xx</th><th>routes</th><th>country / AS</th><th>first → last</th></tr>");
    for source in &report.sources {
        let place = place(&source.location, " · ");
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{} → {}</td></tr>",
            source.ip,
            source.requests,
            source.errors_4xx,
            source.errors_5xx,
            source.routes.len() as u64 + source.more_routes,
            escape(&place),
            escape(source.first.as_deref().unwrap_or("-")),
            escape(source.last.as_deref().unwrap_or("-")),
        );
    }
    out.push_str("</table>");

    if !report.authentication.is_empty() {
        out.push_str("<h2>Authentication on protected routes</h2><table><tr><th>route</th><th>client</th><th>user</th><th>failed</th><th>succeeded</th></tr>");
        for auth in report.authentication.iter().take(100) {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                escape(&target_text(&auth.route)),
                auth.client_ip.map(|ip| ip.to_string()).unwrap_or_default(),
                escape(auth.user.as_deref().unwrap_or("-")),
                auth.failed,
                auth.succeeded,
            );
        }
        out.push_str("</table>");
    }
    if !report.stale_routes.is_empty() {
        out.push_str("<h2>Routes with no request in the window</h2><ul>");
        for route in &report.stale_routes {
            let _ = write!(out, "<li>{}</li>", escape(&target_text(route)));
        }
        out.push_str("</ul>");
    }
    if !report.no_endpoints.is_empty() {
        out.push_str("<h2>Requests to routes without ready endpoints</h2><ul>");
        for item in &report.no_endpoints {
            let _ = write!(
                out,
                "<li>{}: {} requests</li>",
                escape(&target_text(&item.route)),
                item.requests
            );
        }
        out.push_str("</ul>");
    }
    if s.malformed > 0 {
        out.push_str(
            "<h2>Malformed lines</h2><table><tr><th>where</th><th>why</th><th>line</th></tr>",
        );
        for sample in &s.malformed_samples {
            let _ = write!(
                out,
                "<tr><td>{}:{}</td><td>{}</td><td><code>{}</code></td></tr>",
                escape(&sample.file),
                sample.line,
                escape(&sample.reason),
                escape(&truncate(&sample.text, 200)),
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</body></html>\n");
    out
}

/// Requests (bars) and 5xx (red bars) per minute.
fn timeline_svg(report: &Report) -> String {
    let points = &report.timeline;
    if points.is_empty() {
        return "<p>No timestamps.</p>".into();
    }
    let (width, height, pad) = (900.0, 180.0, 30.0);
    let max = points.iter().map(|p| p.requests).max().unwrap_or(1).max(1) as f64;
    let step = (width - pad) / points.len() as f64;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {width} {}\" role=\"img\" aria-label=\"requests per minute\" xmlns=\"http://www.w3.org/2000/svg\">",
        height + 20.0
    );
    for (i, point) in points.iter().enumerate() {
        let x = pad + i as f64 * step;
        let h = point.requests as f64 / max * height;
        let e = point.errors_5xx as f64 / max * height;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"#5b7bd5\"><title>{} {} requests, {} 5xx</title></rect>",
            height - h,
            (step * 0.9).max(0.5),
            escape(&point.time),
            point.requests,
            point.errors_5xx
        );
        if e > 0.0 {
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{e:.1}\" fill=\"#d4473a\"/>",
                height - e,
                (step * 0.9).max(0.5)
            );
        }
    }
    let _ = write!(
        svg,
        "<text x=\"0\" y=\"12\" font-size=\"11\">{max}</text><text x=\"{pad}\" y=\"{}\" font-size=\"11\">{}</text><text x=\"{width}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text></svg>",
        height + 15.0,
        escape(&points[0].time),
        height + 15.0,
        escape(&points[points.len() - 1].time)
    );
    svg
}

/// Stacked status-class bars for the busiest routes.
fn routes_svg(report: &Report) -> String {
    let routes: Vec<_> = report.routes.iter().take(12).collect();
    if routes.is_empty() {
        return "<p>No request was attributed to a route (give the manifests with --inventory, or --cluster).</p>".into();
    }
    let (width, row) = (900.0, 22.0);
    let label = 330.0;
    let max = routes
        .iter()
        .map(|r| r.traffic.requests)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {width} {}\" role=\"img\" aria-label=\"requests per route by status class\" xmlns=\"http://www.w3.org/2000/svg\">",
        routes.len() as f64 * row + 24.0
    );
    let colors = [
        ("2xx", "#3f9b5f"),
        ("3xx", "#7fb0d8"),
        ("4xx", "#e0a03c"),
        ("5xx", "#d4473a"),
        ("1xx", "#999"),
        ("other", "#999"),
    ];
    for (i, route) in routes.iter().enumerate() {
        let y = i as f64 * row;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            y + 14.0,
            escape(&truncate(&target_text(&route.route), 52))
        );
        let mut x = label;
        for (class, color) in colors {
            let n = route.traffic.status.get(class).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let w = n as f64 / max * (width - label - 60.0);
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"16\" fill=\"{color}\"><title>{class}: {n}</title></rect>",
                y + 2.0
            );
            x += w;
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
            x + 4.0,
            y + 14.0,
            route.traffic.requests
        );
    }
    let _ = write!(
        svg,
        "<g font-size=\"11\" transform=\"translate({label},{:.1})\">",
        routes.len() as f64 * row + 12.0
    );
    for (i, (class, color)) in colors.iter().take(4).enumerate() {
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"-9\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{}\" y=\"0\">{class}</text>",
            i * 60,
            i * 60 + 14
        );
    }
    svg.push_str("</g></svg>");
    svg
}
