//! `tollgate logs` as a user meets it: the report on the bundled example, records, every kind of
//! bad input, compressed and wrapped logs, GeoIP, HTML, and `--follow`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn tollgate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    cmd.env_remove("TOLLGATE_CONFIG").env("NO_COLOR", "1");
    cmd
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> Output {
    tollgate()
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::null())
        .output()
        .expect("tollgate runs")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn alerts(report: &Value) -> Vec<(String, String)> {
    report["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|a| {
            (
                a["detector"].as_str().unwrap().to_string(),
                a["source"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const EXAMPLE: &str = "examples/logs/ingress-nginx.log";

/// Real lines from the research notes: a retry over two IPv6 upstreams, and a junk method.
const RETRY: &str = r#"2a02:cf40::4e36 - - [24/Aug/2022:18:05:41 +0000] "GET /favicon.ico HTTP/2.0" 502 552 "https://localhost:8080/" "Mozilla/5.0 (Macintosh)" 27 0.000 [localhost-8080] [] [2a02:cf40::7]:5000, [2a02:cf40::4e36]:5000 0, 1 0.000, 1.000 502, 403 3db73c6c673c4256ade033a6ce08c2ab"#;
const JUNK: &str = r#"192.168.64.1 - - [07/Feb/2020:11:49:50 +0000] "PATCHp /products/42 HTTP/1.1" 400 163 "-" "-" 0 0.000 [] [] - - - - 4c7d2079340e68353c7d0dfff00b904b"#;

#[test]
fn the_example_log_is_attributed_and_its_planted_attacks_found() {
    let out = run(&[
        "logs",
        EXAMPLE,
        "--inventory",
        "examples/",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "alerts fire: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let summary = &report["summary"];
    assert_eq!(summary["lines"], 948);
    assert_eq!(summary["parsed"], 948);
    assert_eq!(summary["malformed"], 0);
    assert_eq!(summary["formats"]["ingress-nginx"], 948);
    assert_eq!(summary["unrouted"], 6);
    let found = alerts(&report);
    for expected in [
        ("brute-force", "198.51.100.23"),
        ("sqli-probe", "203.0.113.9"),
        ("bad-user-agent", "203.0.113.9"),
        ("sensitive-file-probe", "45.155.205.7"),
        ("cve-probe", "45.155.205.7"),
        ("unrouted-host", "192.0.2.44"),
    ] {
        assert!(
            found.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} not in {found:?}"
        );
    }
    // The benign clients of the example are never reported.
    for (detector, source) in &found {
        assert!(
            !source.starts_with("81.2.69.")
                && !source.starts_with("89.160.20.")
                && !source.starts_with("2001:218::"),
            "{detector} reported the benign {source}"
        );
    }
    // The brute force is attributed to the admin route, whose upstream name has dashes.
    let brute = report["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["detector"] == "brute-force")
        .unwrap();
    assert_eq!(brute["route"]["namespace"], "storefront");
    assert_eq!(brute["route"]["service"], "shop-admin");
    assert_eq!(brute["route"]["path"], "/admin");
    // Routes of the inventory nobody asked for are listed as stale.
    let stale = report["stale_routes"].as_array().unwrap();
    assert!(
        stale
            .iter()
            .any(|r| r["namespace"] == "internal-tools" && r["ingress"] == "grafana"),
        "{stale:?}"
    );
    assert!(
        !stale.iter().any(|r| r["service"] == "shop-admin"),
        "a used route is not stale"
    );
    let api = report["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"]["ingress"] == "storefront-api" && r["route"]["path"] == "/v1")
        .expect("the API route");
    assert!(api["requests"].as_u64().unwrap() > 200);
    assert!(api["latency"]["p99"].as_f64().unwrap() > 0.0);
}

#[test]
fn records_are_one_normalized_object_per_request_with_lists_kept() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::write(&log, format!("{RETRY}\n{JUNK}\n")).unwrap();
    let out = run(&["logs", log.to_str().unwrap(), "--records"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0],
        serde_json::json!({
            "time": "2022-08-24T18:05:41Z", "client_ip": "2a02:cf40::4e36", "method": "GET",
            "path": "/favicon.ico", "protocol": "HTTP/2.0", "status": 502, "bytes_sent": 552,
            "referer": "https://localhost:8080/", "user_agent": "Mozilla/5.0 (Macintosh)",
            "upstream_name": "localhost-8080",
            "upstream_addr": ["[2a02:cf40::7]:5000", "[2a02:cf40::4e36]:5000"],
            "upstream_status": [502, 403], "request_time": 0.0,
            "upstream_response_time": [0.0, 1.0], "request_id": "3db73c6c673c4256ade033a6ce08c2ab"
        })
    );
    // Absent fields are omitted, never invented.
    assert_eq!(lines[1]["method"], "PATCHp");
    assert!(lines[1].get("upstream_name").is_none());
    assert!(lines[1].get("upstream_addr").is_none());
}

/// Envoy Gateway's default JSON under the CRI wrapper (crowdsecurity/hub
/// `.tests/envoy-logs/envoy.log`; the samples of `tollgate-logs`' `format/envoy_json.rs`): a
/// request routed by the HTTPRoute `app/app-www-example-com`, and the redirect of
/// `app/http-to-https-filter-redirect`, which has no backend.
const ENVOY_GATEWAY_WWW: &str = r#"2025-12-31T17:37:40.493035218+01:00 stdout F {":authority":"www.example.com","bytes_received":0,"bytes_sent":121258,"connection_termination_details":null,"downstream_local_address":"10.42.0.77:10443","downstream_remote_address":"10.0.0.12:59292","duration":11,"method":"GET","protocol":"HTTP/2","requested_server_name":null,"response_code":200,"response_code_details":"via_upstream","response_flags":"-","route_name":"httproute/app/app-www-example-com/rule/0/match/0/www_example_com","start_time":"2025-12-31T16:37:40.479Z","upstream_cluster":"httproute/app/app-www-example-com/rule/0","upstream_host":"10.42.0.82:8080","upstream_local_address":"10.42.0.77:51216","upstream_transport_failure_reason":null,"user-agent":"Mozilla/4.0 (Windows NT 9.0; Win64; x64; rv:136.0) Gecko/20101 Firefox/136.0","x-envoy-origin-path":"/assets/image.webp","x-envoy-upstream-service-time":null,"x-forwarded-for":"10.0.0.12","x-request-id":"3bbc0252-2d5c-49fe-bd89-104e9b61770b"}"#;
const ENVOY_GATEWAY_REDIRECT: &str = r#"2025-12-31T18:22:06.456373561+01:00 stdout F {":authority":"10.0.0.13","bytes_received":0,"bytes_sent":0,"connection_termination_details":null,"downstream_local_address":"10.42.0.77:10080","downstream_remote_address":"192.168.1.45:33045","duration":0,"method":"GET","protocol":"HTTP/1.1","requested_server_name":null,"response_code":301,"response_code_details":"direct_response","response_flags":"-","route_name":"httproute/app/http-to-https-filter-redirect/rule/0/match/0/*","start_time":"2025-12-31T17:22:04.951Z","upstream_cluster":null,"upstream_host":null,"upstream_local_address":null,"upstream_transport_failure_reason":null,"user-agent":"Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2228.0 Safari/537.36","x-envoy-origin-path":"/","x-envoy-upstream-service-time":null,"x-forwarded-for":"192.168.1.45","x-request-id":"a9864e02-c6f5-4375-a27d-3ffd7f312811"}"#;

#[test]
fn envoy_gateway_lines_are_attributed_to_their_httproute_and_ingress_lines_as_before() {
    // Two proxies' logs in one run: ingress-nginx's (the example's first line) and Envoy
    // Gateway's.
    let dir = tempfile::tempdir().unwrap();
    let nginx_log = dir.path().join("ingress-nginx.log");
    let envoy_log = dir.path().join("envoy-gateway.log");
    let ingress_line = std::fs::read_to_string(repo().join(EXAMPLE))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    std::fs::write(&nginx_log, format!("{ingress_line}\n")).unwrap();
    // The first sample as a route the inventory does not have would log it (renamed by hand).
    let unknown = ENVOY_GATEWAY_WWW.replace("app-www-example-com", "app-www-canary");
    std::fs::write(
        &envoy_log,
        format!("{ENVOY_GATEWAY_WWW}\n{ENVOY_GATEWAY_REDIRECT}\n{unknown}\n"),
    )
    .unwrap();
    let (nginx_log, envoy_log) = (nginx_log.to_str().unwrap(), envoy_log.to_str().unwrap());
    let out = run(&[
        "logs",
        nginx_log,
        envoy_log,
        "--records",
        "--inventory",
        "examples/shop/storefront",
        "--inventory",
        "crates/tollgate/tests/fixtures/gateway/envoy-gateway.yaml",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 4);
    assert_eq!(
        records[0]["route"],
        serde_json::json!({
            "namespace": "storefront", "ingress": "storefront-api", "host": "api.shop.example.com",
            "path": "/v1", "service": "api", "port": "80"
        })
    );
    assert_eq!(
        records[1]["upstream_name"],
        "httproute/app/app-www-example-com/rule/0/match/0/www_example_com"
    );
    assert_eq!(
        records[1]["route"],
        serde_json::json!({
            "namespace": "app", "kind": "HTTPRoute", "name": "app-www-example-com",
            "host": "www.example.com", "path": "/", "service": "www", "port": "8080"
        })
    );
    // The redirect has no backend, and its route no hostname: the target says neither.
    assert_eq!(records[2]["status"], 301);
    assert_eq!(
        records[2]["route"],
        serde_json::json!({
            "namespace": "app", "kind": "HTTPRoute", "name": "http-to-https-filter-redirect",
            "path": "/"
        })
    );
    // A route name the inventory lacks is not attributed by its host to another route.
    assert_eq!(records[3]["host"], "www.example.com");
    assert!(records[3].get("route").is_none(), "{}", records[3]);

    // The text report names the HTTPRoute by kind.
    let out = run(&[
        "logs",
        nginx_log,
        envoy_log,
        "--inventory",
        "examples/shop/storefront",
        "--inventory",
        "crates/tollgate/tests/fixtures/gateway/envoy-gateway.yaml",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("HTTPRoute app/app-www-example-com www.example.com/ → www:8080"),
        "{text}"
    );
    assert!(
        text.contains("storefront/storefront-api api.shop.example.com/v1 → api:80"),
        "{text}"
    );
}

#[test]
fn random_bytes_are_counted_as_malformed_with_samples_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("random.bin");
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    std::fs::write(&log, &bytes).unwrap();
    let out = run(&["logs", log.to_str().unwrap(), "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = &json(&out)["summary"];
    assert_eq!(summary["parsed"], 0);
    assert!(summary["malformed"].as_u64().unwrap() > 100);
    assert_eq!(summary["malformed"], summary["lines"]);
    let sample = &summary["malformed_samples"][0];
    assert!(sample["file"].as_str().unwrap().ends_with("random.bin"));
    assert!(sample["line"].as_u64().unwrap() >= 1);
}

#[test]
fn megabyte_lines_are_malformed_and_the_good_lines_around_them_still_count() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("long.log");
    let long = "x".repeat(1 << 20);
    std::fs::write(&log, format!("{RETRY}\n{long}\n{long}\n{JUNK}\n{long}")).unwrap();
    let out = run(&["logs", log.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let summary = &json(&out)["summary"];
    assert_eq!(summary["parsed"], 2);
    assert_eq!(summary["malformed"], 3);
    let lines: Vec<u64> = summary["malformed_samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3, 5]);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn gzip_is_read_transparently_and_a_truncated_one_is_reported_with_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(repo().join(EXAMPLE)).unwrap();
    let whole = dir.path().join("access.log.gz");
    let compressed = gzip(&text);
    std::fs::write(&whole, &compressed).unwrap();
    let out = run(&["logs", whole.to_str().unwrap(), "--format", "json"]);
    assert_eq!(json(&out)["summary"]["parsed"], 948);

    let cut = dir.path().join("cut.log.gz");
    std::fs::write(&cut, &compressed[..compressed.len() / 2]).unwrap();
    let out = run(&["logs", cut.to_str().unwrap(), "--format", "json"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = &json(&out)["summary"];
    let parsed = summary["parsed"].as_u64().unwrap();
    assert!(
        parsed > 100 && parsed < 948,
        "{parsed} lines read before the cut"
    );
    let error = &summary["input_errors"][0];
    assert!(error["file"].as_str().unwrap().ends_with("cut.log.gz"));
    assert!(!error["error"].as_str().unwrap().is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cut.log.gz"));
}

#[test]
fn cri_wrapped_lines_are_unwrapped_and_partial_lines_joined() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ingress-nginx-controller_0.log");
    let (head, tail) = RETRY.split_at(100);
    let text = format!(
        "2026-11-21T09:00:00.000000001Z stdout F {JUNK}\n\
         2026-11-21T09:00:01.000000001Z stdout P {head}\n\
         2026-11-21T09:00:01.000000002Z stderr F some controller message\n\
         2026-11-21T09:00:01.000000003Z stdout F {tail}\n"
    );
    std::fs::write(&log, text).unwrap();
    let out = run(&["logs", log.to_str().unwrap(), "--format", "json"]);
    let summary = &json(&out)["summary"];
    assert_eq!(summary["parsed"], 2, "{summary}");
    // The controller's own message is not an access-log line: counted, not lost.
    assert_eq!(summary["malformed"], 1);
}

#[test]
fn standard_input_is_read_with_a_dash() {
    let mut child = tollgate()
        .args(["logs", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{RETRY}\n{JUNK}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(json(&out)["summary"]["parsed"], 2);
}

#[test]
fn geoip_names_countries_and_drives_disallowed_country() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let line = |ip: &str| JUNK.replace("192.168.64.1", ip);
    std::fs::write(
        &log,
        format!("{}\n{}\n", line("81.2.69.160"), line("89.160.20.112")),
    )
    .unwrap();
    let config = dir.path().join("tollgate.yaml");
    std::fs::write(&config, "detectors:\n  countries: {deny: [SE]}\n").unwrap();
    let geoip = repo().join("crates/tollgate-logs/tests/fixtures/geoip");
    let out = run(&[
        "--config",
        config.to_str().unwrap(),
        "logs",
        log.to_str().unwrap(),
        "--geoip",
        geoip.join("GeoLite2-Country-Test.mmdb").to_str().unwrap(),
        "--geoip",
        geoip.join("GeoLite2-ASN-Test.mmdb").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(
        alerts(&report),
        [(
            "disallowed-country".to_string(),
            "89.160.20.112".to_string()
        )]
    );
    let sources = report["sources"].as_array().unwrap();
    let sweden = sources.iter().find(|s| s["ip"] == "89.160.20.112").unwrap();
    assert_eq!(sweden["country"], "SE");
    assert_eq!(sweden["asn"], 29518);
    assert_eq!(
        sources.iter().find(|s| s["ip"] == "81.2.69.160").unwrap()["country"],
        "GB"
    );
}

#[test]
fn a_bad_detector_config_is_a_usage_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tollgate.yaml");
    std::fs::write(&config, "detectors:\n  bruteForce: {capacty: 3}\n").unwrap();
    let out = run(&["--config", config.to_str().unwrap(), "logs", EXAMPLE]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("capacty") && stderr.contains("bruteForce"),
        "{stderr}"
    );
}

#[test]
fn html_is_one_page_with_charts_and_no_external_fetch() {
    let out = run(&[
        "logs",
        EXAMPLE,
        "--inventory",
        "examples/",
        "--format",
        "html",
    ]);
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    assert!(page.contains("<svg"));
    assert!(page.contains("brute-force"));
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http") && !page.contains("<script")
    );
}

#[test]
fn the_table_report_lists_routes_sources_and_alerts() {
    let out = run(&["logs", EXAMPLE, "--inventory", "examples/"]);
    let text = String::from_utf8(out.stdout).unwrap();
    for heading in [
        "Top routes",
        "Top sources",
        "Alerts (",
        "Routes with no request",
    ] {
        assert!(text.contains(heading), "{heading} missing:\n{text}");
    }
    assert!(
        text.contains("storefront/storefront-api api.shop.example.com/v1 → api:80"),
        "{text}"
    );
}

#[test]
fn follow_prints_alerts_as_lines_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    std::fs::write(&log, format!("{JUNK}\n")).unwrap();
    let mut child = tollgate()
        .args(["logs", "--follow", log.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    // A scanner arrives: its second request within a minute fires bad-user-agent.
    let scanner = JUNK.replace(
        "\"-\" 0 0.000",
        "\"Nuclei - Open-source project (github.com/projectdiscovery/nuclei)\" 0 0.000",
    );
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    writeln!(file, "{scanner}\n{scanner}\n{scanner}").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    let fired = loop {
        match receiver.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if line.contains("ALERT bad-user-agent") => break true,
            Ok(line) => seen.push(line),
            Err(_) if Instant::now() > deadline => break false,
            Err(_) => {}
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(fired, "no alert on stderr; saw {seen:?}");
}
