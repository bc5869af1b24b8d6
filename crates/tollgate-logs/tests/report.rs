//! The report's route lists: requests to routes without endpoints, routes nobody used, and
//! authentication outcomes, built end to end from log lines.

use tollgate_logs::analyze::{Analyzer, Run, Settings};
use tollgate_logs::detectors::{Classifier, DetectorConfig, Detectors};
use tollgate_logs::report::{Location, Report};
use tollgate_logs::routes::{PathMatch, Route, RouteTable};

fn route(ingress: &str, service: &str, ready: Option<usize>, authenticated: bool) -> Route {
    Route {
        namespace: "shop".into(),
        kind: "Ingress".into(),
        name: ingress.into(),
        rule: None,
        service_namespace: None,
        host: Some(format!("{ingress}.example.com")),
        path: Some("/".into()),
        path_match: PathMatch::Prefix,
        service: Some(service.into()),
        port_number: Some(80),
        port_name: None,
        authenticated,
        ready_endpoints: ready,
    }
}

fn line(upstream: &str, status: u16, user: &str) -> String {
    format!(
        "10.0.0.7 - {user} [21/Nov/2026:09:00:00 +0000] \"GET / HTTP/1.1\" {status} 512 \"-\" \"curl/8.5.0\" 95 0.012 [{upstream}] [] 10.244.0.12:8080 512 0.011 {status} 5c1fd0a6a2b04b4a6a5d3c6f3b6d2e11\n"
    )
}

#[test]
fn routes_without_endpoints_unused_routes_and_logins_are_reported() {
    let mut table = RouteTable::new(vec![
        route("web", "web", Some(2), false),
        route("old", "old", Some(0), false),
        route("unused", "unused", Some(1), false),
        route("admin", "admin", Some(1), true),
    ]);
    table.prepare();
    let config = DetectorConfig::default();
    let analyzer = Analyzer::new(
        &table,
        Classifier::new(&config).unwrap(),
        None,
        Settings::default(),
    );
    let mut run = Run::new(&analyzer, Detectors::new(&config));
    let log = [
        line("shop-web-80", 200, "-"),
        line("shop-old-80", 503, "-"),
        line("shop-old-80", 503, "-"),
        line("shop-admin-80", 401, "mallory"),
        line("shop-admin-80", 200, "alice"),
    ]
    .concat();
    analyzer.read(
        "access.log",
        log.as_bytes(),
        &mut run,
        &mut |_| {},
        &mut |_| {},
    );
    let _ = run.flush_minutes(None);
    let alerts = std::mem::replace(&mut run.detectors, Detectors::new(&config)).finish();
    let report = Report::build(&run, &table, &alerts, &|_| Location::default());

    assert_eq!(report.no_endpoints.len(), 1);
    assert_eq!(report.no_endpoints[0].route.ingress.as_deref(), Some("old"));
    assert_eq!(report.no_endpoints[0].requests, 2);

    let stale: Vec<_> = report
        .stale_routes
        .iter()
        .map(|r| r.ingress.as_deref().unwrap())
        .collect();
    assert_eq!(stale, ["unused"]);

    let logins: Vec<_> = report
        .authentication
        .iter()
        .map(|a| (a.user.as_deref().unwrap(), a.failed, a.succeeded))
        .collect();
    assert_eq!(logins, [("mallory", 1, 0), ("alice", 0, 1)]);
    assert_eq!(report.summary.attributed, 5);
    // Busiest first, ties by name.
    let order: Vec<_> = report
        .routes
        .iter()
        .map(|r| r.route.ingress.as_deref().unwrap())
        .collect();
    assert_eq!(order, ["admin", "old", "web"]);
}
