//! The acceptance test of the access-log detectors: on the generated log with planted attacks,
//! every planted source is reported by the detector it was planted for, and no benign source is
//! reported by any detector.

use std::collections::BTreeSet;

use tollgate_bench::access_logs::{ROUTES, Spec, write_log};
use tollgate_logs::analyze::{Analyzer, Run, Settings};
use tollgate_logs::detectors::{Classifier, DetectorConfig, Detectors};
use tollgate_logs::routes::{PathMatch, Route, RouteTable};

fn table() -> RouteTable {
    let routes = ROUTES
        .iter()
        .map(
            |(namespace, ingress, host, path, service, port, authenticated)| Route {
                namespace: namespace.to_string(),
                kind: "Ingress".to_owned(),
                name: ingress.to_string(),
                rule: None,
                service_namespace: None,
                host: Some(host.to_string()),
                path: Some(path.to_string()),
                path_match: PathMatch::Prefix,
                service: Some(service.to_string()),
                port_number: Some(*port),
                port_name: None,
                authenticated: *authenticated,
                ready_endpoints: None,
            },
        )
        .collect();
    let mut table = RouteTable::new(routes);
    table.prepare();
    table
}

#[test]
fn every_planted_source_is_found_by_its_detector_and_no_benign_source_is() {
    let spec = Spec {
        lines: 200_000,
        ..Spec::default()
    };
    let mut log = Vec::new();
    let truth = write_log(&spec, &mut log).unwrap();
    let config: DetectorConfig =
        serde_json::from_value(serde_json::json!({"untrustedSources": {"deny": ["192.0.2.0/24"]}}))
            .unwrap();
    let table = table();
    let analyzer = Analyzer::new(
        &table,
        Classifier::new(&config).unwrap(),
        None,
        Settings::default(),
    );
    let mut run = Run::new(&analyzer, Detectors::new(&config));
    analyzer.read(
        "generated.log",
        log.as_slice(),
        &mut run,
        &mut |_| {},
        &mut |_| {},
    );
    let _ = run.flush_minutes(None);
    assert_eq!(run.aggregate.malformed, 0);
    let detectors = std::mem::replace(&mut run.detectors, Detectors::new(&config));
    let alerts = detectors.finish();

    let found: BTreeSet<(String, String)> = alerts
        .iter()
        .map(|alert| {
            let subject = match alert.detector.name() {
                // Rate detectors judge a route: name it as the truth does.
                "request-flood" | "error-burst" => {
                    let target = &table.targets()
                        [alert.route.expect("a rate alert names its route") as usize];
                    format!(
                        "{}/{}",
                        target.namespace,
                        target.ingress.as_deref().unwrap_or("?")
                    )
                }
                _ => alert.source.clone(),
            };
            (alert.detector.name().to_string(), subject)
        })
        .collect();
    for (detector, sources) in &truth {
        for source in sources {
            assert!(
                found.contains(&(detector.to_string(), source.clone())),
                "{detector} did not report {source}; alerts: {found:?}"
            );
        }
    }
    let planted: BTreeSet<&String> = truth.values().flatten().collect();
    for (detector, subject) in &found {
        assert!(
            planted.contains(subject),
            "{detector} reported {subject}, which is benign"
        );
    }
}
