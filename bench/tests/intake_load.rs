//! The load generator's bodies are what the service reads: every audit event comes back from
//! Tollgate's audit reader with its own auditID, and every access-log line parses as
//! ingress-nginx `upstreaminfo`, a few of them failed logins. And its percentiles are exact.

use std::collections::BTreeSet;

use jiff::Timestamp;
use tollgate_bench::intake_load::{FAILED_LOGIN_PERCENT, LatencySummary, Payloads};
use tollgate_core::audit::{AuditStage, read_events};
use tollgate_logs::Format;
use tollgate_logs::time::TimeCache;

fn at() -> Timestamp {
    "2026-11-22T09:41:06.123456Z".parse().unwrap()
}

#[test]
fn every_audit_event_reads_back_with_an_id_of_its_own() {
    let mut first = Payloads::new("load-run", 0);
    let mut second = Payloads::new("load-run", 7);
    let mut ids = BTreeSet::new();
    let mut verbs = BTreeSet::new();
    for payloads in [&mut first, &mut second] {
        for _ in 0..3 {
            let body = payloads.audit_event_list(50, at());
            let (events, errors) = read_events(&body, "body");
            assert_eq!(errors, vec![]);
            assert_eq!(events.len(), 50);
            for event in events {
                assert_eq!(event.stage, AuditStage::ResponseComplete);
                assert_eq!(
                    event.stage_timestamp.to_string(),
                    "2026-11-22T09:41:06.154456Z"
                );
                let object = event.object_ref.as_ref().unwrap();
                assert_eq!(object.resource.as_deref(), Some("ingresses"));
                let code = event.response_code();
                match event.verb.as_str() {
                    "create" => assert_eq!(code, Some(201)),
                    "patch" => assert_eq!(code, Some(200)),
                    other => panic!("unexpected verb {other}"),
                }
                // The response carries the object as stored, named as the request named it.
                let stored = event.response_object.as_ref().unwrap();
                assert_eq!(
                    stored.pointer("/metadata/name").and_then(|v| v.as_str()),
                    object.name.as_deref()
                );
                assert!(stored.pointer("/spec/rules/0/host").is_some());
                verbs.insert(event.verb.clone());
                assert!(ids.insert(event.audit_id), "a repeated auditID");
            }
        }
        assert_eq!(payloads.events_made(), 150);
    }
    assert_eq!(ids.len(), 300);
    assert!(ids.contains("load-run-0-0"));
    assert!(ids.contains("load-run-0-149"));
    assert!(ids.contains("load-run-7-0"));
    assert!(!ids.contains("load-run-0-150"));
    assert_eq!(verbs, BTreeSet::from(["create".into(), "patch".into()]));
}

#[test]
fn every_log_line_parses_as_ingress_nginx_and_some_are_failed_logins() {
    let mut payloads = Payloads::new("load-run", 3);
    let body = payloads.access_log_lines(2_000, at());
    assert!(body.ends_with('\n'));
    let mut clock = TimeCache::new();
    let mut lines = 0;
    let mut failed_logins = 0;
    let mut upstreams = BTreeSet::new();
    for line in body.lines() {
        lines += 1;
        let record = Format::IngressNginx
            .parse(line, &mut clock)
            .unwrap_or_else(|e| panic!("{e:?}: {line}"));
        // 2026-11-22T09:41:06Z: the line's time is the post's, to the second.
        assert_eq!(record.time_us, Some(1_795_340_466_000_000), "{line}");
        upstreams.insert(record.upstream_name.unwrap().to_string());
        if record.status == Some(401) {
            failed_logins += 1;
            assert!(line.starts_with("198.51.100."), "{line}");
            assert!(line.contains("\"POST /admin/login HTTP/1.1\""), "{line}");
        }
    }
    assert_eq!(lines, 2_000);
    // 3 % of 2,000 is 60; the draw is random, the share must be near it.
    let expected = 2_000 * FAILED_LOGIN_PERCENT as usize / 100;
    assert!(
        (expected / 2..expected * 2).contains(&failed_logins),
        "{failed_logins} failed logins"
    );
    for upstream in [
        "storefront-web-http",
        "storefront-api-http",
        "payments-checkout-http",
        "storefront-shop-admin-http",
        "upstream-default-backend",
    ] {
        assert!(upstreams.contains(upstream), "{upstream} missing");
    }
}

#[test]
fn the_share_of_audit_posts_follows_the_setting() {
    let mut payloads = Payloads::new("load-run", 1);
    let audit = (0..10_000).filter(|_| payloads.chance(0.3)).count();
    assert!((2_800..3_200).contains(&audit), "{audit}");
    assert_eq!((0..1_000).filter(|_| payloads.chance(0.0)).count(), 0);
    assert_eq!((0..1_000).filter(|_| payloads.chance(1.0)).count(), 1_000);
}

#[test]
fn percentiles_are_nearest_rank() {
    // 1 ms to 100 ms, shuffled.
    let mut latencies: Vec<u64> = (1..=100).rev().map(|ms| ms * 1_000).collect();
    let summary = LatencySummary::of(&mut latencies).unwrap();
    assert_eq!(
        summary,
        LatencySummary {
            count: 100,
            p50: 50.0,
            p90: 90.0,
            p99: 99.0,
            max: 100.0
        }
    );
    let summary = LatencySummary::of(&mut [2_500]).unwrap();
    assert_eq!((summary.p50, summary.p99, summary.max), (2.5, 2.5, 2.5));
    // Three values: p50 is the second, p90 and p99 the third.
    let summary = LatencySummary::of(&mut [3_000, 1_000, 2_000]).unwrap();
    assert_eq!((summary.p50, summary.p90, summary.p99), (2.0, 3.0, 3.0));
    assert_eq!(LatencySummary::of(&mut []), None);
}
