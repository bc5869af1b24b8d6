//! A synthetic ingress-nginx access log (default `upstreaminfo` format) with planted attacks, the
//! inventory its upstream names resolve against, and the truth: which source each detector must
//! report. Deterministic: a xorshift PRNG with a constant seed, no clock.
//!
//! Benign traffic is a Zipf-like mix of browsers over a small shop (pages, static files, an API,
//! a login that sometimes fails once, a few 404s and 5xx), at a steady rate. Planted, each from
//! its own address in 198.51.100.0/24 or 203.0.113.0/24 (never used by benign clients), spread
//! over the file: one source per leaky-bucket detector, an untrusted source in 192.0.2.0/24, a
//! scanner hitting the default backend (unrouted), a flood of new addresses on one route and a
//! burst of 503s on another.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Lines to write.
    pub lines: u64,
    /// Distinct benign client addresses.
    pub clients: u32,
    /// Unix time of the first line.
    pub start: i64,
    /// Requests per second of benign traffic.
    pub rate: u32,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            lines: 100_000,
            clients: 5_000,
            start: 1_763_800_000,
            rate: 400,
        }
    }
}

/// The routes of the generated shop: namespace, Ingress, host, path, Service, port, authenticated.
pub const ROUTES: &[(&str, &str, &str, &str, &str, u16, bool)] = &[
    (
        "shop-prod",
        "storefront",
        "shop.example.com",
        "/",
        "web-frontend",
        8080,
        false,
    ),
    (
        "shop-prod",
        "storefront",
        "shop.example.com",
        "/static",
        "static-assets",
        80,
        false,
    ),
    (
        "shop-prod",
        "api",
        "api.shop.example.com",
        "/api",
        "orders-api",
        8080,
        false,
    ),
    (
        "shop-prod",
        "api",
        "api.shop.example.com",
        "/login",
        "auth-gateway",
        9000,
        false,
    ),
    (
        "shop",
        "prod-checkout",
        "pay.shop.example.com",
        "/",
        "checkout",
        443,
        false,
    ),
    (
        "back-office",
        "admin",
        "admin.shop.example.com",
        "/",
        "admin-ui",
        3000,
        true,
    ),
];

/// The inventory of [`ROUTES`] as Kubernetes manifests (Ingresses, Services, an IngressClass).
pub fn inventory_yaml() -> String {
    let mut out = String::from(
        "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: nginx\nspec:\n  controller: k8s.io/ingress-nginx\n",
    );
    let mut ingresses: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (index, route) in ROUTES.iter().enumerate() {
        ingresses.entry((route.0, route.1)).or_default().push(index);
    }
    for ((namespace, name), indexes) in &ingresses {
        let auth = ROUTES[indexes[0]].6;
        let _ = write!(
            out,
            "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: {namespace}\n"
        );
        if auth {
            out.push_str("  annotations:\n    nginx.ingress.kubernetes.io/auth-type: basic\n    nginx.ingress.kubernetes.io/auth-secret: admin-users\n");
        }
        out.push_str("spec:\n  ingressClassName: nginx\n  rules:\n");
        let mut hosts: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for index in indexes {
            hosts.entry(ROUTES[*index].2).or_default().push(*index);
        }
        for (host, indexes) in hosts {
            let _ = write!(out, "    - host: {host}\n      http:\n        paths:\n");
            for index in indexes {
                let (_, _, _, path, service, port, _) = ROUTES[index];
                let _ = write!(
                    out,
                    "          - path: {path}\n            pathType: Prefix\n            backend:\n              service:\n                name: {service}\n                port:\n                  number: {port}\n"
                );
            }
        }
    }
    let mut services: Vec<(&str, &str, u16)> = ROUTES.iter().map(|r| (r.0, r.4, r.5)).collect();
    services.sort_unstable();
    services.dedup();
    for (namespace, service, port) in services {
        let _ = write!(
            out,
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {service}\n  namespace: {namespace}\nspec:\n  selector:\n    app: {service}\n  ports:\n    - port: {port}\n      targetPort: {port}\n"
        );
    }
    out
}

/// The sources each detector must report (route-level detectors name the route's upstream).
pub type Truth = BTreeMap<&'static str, Vec<String>>;

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
];

/// One line to write.
struct Line<'a> {
    ip: String,
    user: &'a str,
    time: i64,
    method: &'a str,
    target: String,
    status: u16,
    ua: &'a str,
    upstream: &'a str,
    upstream_status: Option<u16>,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn clf_time(out: &mut String, unix: i64) {
    let (year, month, day) = tollgate_logs::time::civil_from_days(unix.div_euclid(86_400));
    let rem = unix.rem_euclid(86_400);
    let _ = write!(
        out,
        "{day:02}/{}/{year:04}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
}

impl Line<'_> {
    fn write(&self, out: &mut String, rng: &mut Rng) {
        out.push_str(&self.ip);
        out.push_str(" - ");
        out.push_str(self.user);
        out.push_str(" [");
        clf_time(out, self.time);
        let bytes = if self.status == 304 {
            0
        } else {
            200 + rng.below(20_000)
        };
        let request_time = rng.below(300) + 1;
        let _ = write!(
            out,
            "] \"{} {} HTTP/1.1\" {} {} \"-\" \"{}\" {} {}.{:03} [{}] [] ",
            self.method,
            self.target,
            self.status,
            bytes,
            self.ua,
            300 + rng.below(500),
            request_time / 1000,
            request_time % 1000,
            self.upstream
        );
        match self.upstream_status {
            Some(status) => {
                let _ = write!(
                    out,
                    "10.244.{}.{}:8080 {} 0.{:03} {} ",
                    rng.below(4),
                    2 + rng.below(200),
                    bytes,
                    request_time.saturating_sub(1),
                    status
                );
            }
            None => out.push_str("- - - - "),
        }
        let _ = writeln!(out, "{:016x}{:016x}", rng.next(), rng.next());
    }
}

/// One planted request: offset in seconds, method, target, status, user agent, upstream name.
type AttackLine = (i64, &'static str, String, u16, &'static str, &'static str);

/// Planted attacks: (detector, source, lines). Times are offsets in seconds from the attack start.
fn attacks() -> Vec<(&'static str, &'static str, Vec<AttackLine>)> {
    const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
    const WEB: &str = "shop-prod-web-frontend-8080";
    const LOGIN: &str = "shop-prod-auth-gateway-9000";
    let mut list = Vec::new();
    list.push((
        "brute-force",
        "198.51.100.10",
        (0..30)
            .map(|n| (n, "POST", "/login".to_string(), 401, UA, LOGIN))
            .collect(),
    ));
    list.push((
        "path-probing",
        "198.51.100.11",
        (0..40)
            .map(|n| {
                (
                    n / 2,
                    "GET",
                    format!("/old-site/page-{n}.html"),
                    404,
                    UA,
                    WEB,
                )
            })
            .collect(),
    ));
    let sensitive = [
        "/.env",
        "/.git/config",
        "/config.php.bak",
        "/.aws/credentials",
        "/id_rsa",
        "/backup.sql",
        "/.htpasswd",
        "/web.config",
    ];
    list.push((
        "sensitive-file-probe",
        "198.51.100.12",
        sensitive
            .iter()
            .enumerate()
            .map(|(n, p)| (n as i64, "GET", p.to_string(), 404, UA, WEB))
            .collect(),
    ));
    list.push((
        "path-traversal-probe",
        "198.51.100.13",
        (0..6)
            .map(|n| {
                (
                    n,
                    "GET",
                    format!("/static/..%2f..%2f..%2fetc/passwd?{n}"),
                    400,
                    UA,
                    WEB,
                )
            })
            .chain((0..4).map(|n| {
                (
                    n,
                    "GET",
                    "/../../../../etc/shadow".to_string(),
                    400,
                    UA,
                    WEB,
                )
            }))
            .collect(),
    ));
    list.push((
        "sqli-probe",
        "198.51.100.14",
        (0..15)
            .map(|n| {
                (
                    n / 5,
                    "GET",
                    format!(
                        "/products?id={n}%27%20UNION%20SELECT%20username,password%20FROM%20users--"
                    ),
                    500,
                    UA,
                    WEB,
                )
            })
            .collect(),
    ));
    list.push((
        "xss-probe",
        "198.51.100.15",
        (0..10)
            .map(|n| {
                (
                    n / 5,
                    "GET",
                    format!("/search?q=%3Cscript%3Ealert({n})%3C/script%3E"),
                    200,
                    UA,
                    WEB,
                )
            })
            .collect(),
    ));
    list.push((
        "bad-user-agent",
        "198.51.100.16",
        (0..3)
            .map(|n| {
                (
                    n,
                    "GET",
                    "/".to_string(),
                    200,
                    "sqlmap/1.7.2#stable (https://sqlmap.org)",
                    WEB,
                )
            })
            .collect(),
    ));
    list.push((
        "backdoor-probe",
        "198.51.100.17",
        ["/shell.php", "/c99.php", "/r57.php", "/wso.php"]
            .iter()
            .enumerate()
            .map(|(n, p)| (n as i64, "GET", p.to_string(), 404, UA, WEB))
            .collect(),
    ));
    list.push((
        "admin-interface-probe",
        "198.51.100.18",
        [
            "/phpmyadmin/",
            "/wp-admin/",
            "/manager/html",
            "/administrator/",
        ]
        .iter()
        .enumerate()
        .map(|(n, p)| (n as i64, "GET", p.to_string(), 404, UA, WEB))
        .collect(),
    ));
    list.push((
        "cve-probe",
        "198.51.100.19",
        vec![
            (
                0,
                "GET",
                "/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh".to_string(),
                404,
                UA,
                WEB,
            ),
            (
                1,
                "POST",
                "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php".to_string(),
                404,
                UA,
                WEB,
            ),
        ],
    ));
    list.push((
        "open-proxy-probe",
        "198.51.100.20",
        vec![
            (0, "CONNECT", "example.org:443".to_string(), 400, UA, ""),
            (1, "GET", "http://example.org/".to_string(), 400, UA, ""),
        ],
    ));
    list.push((
        "unrouted-host",
        "203.0.113.50",
        (0..5)
            .map(|n| {
                (
                    n,
                    "GET",
                    "/".to_string(),
                    404,
                    UA,
                    "upstream-default-backend",
                )
            })
            .collect(),
    ));
    list
}

/// Writes the log and returns the truth. `out` gets about `spec.lines` lines.
pub fn write_log(spec: &Spec, out: &mut impl Write) -> io::Result<Truth> {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut truth = Truth::new();
    let attacks = attacks();
    // Attack k starts at line (k + 1) * lines / (attacks + 4); the flood and the burst after them.
    let slots = attacks.len() as u64 + 6;
    let mut attack_at: Vec<u64> = (0..attacks.len() as u64)
        .map(|k| (k + 1) * spec.lines / slots)
        .collect();
    attack_at.push(u64::MAX);
    let flood_at = (slots - 4) * spec.lines / slots;
    let burst_at = (slots - 2) * spec.lines / slots;
    let flood_seconds = 120;
    let untrusted = "192.0.2.77";
    let mut next_attack = 0usize;
    let rate = u64::from(spec.rate.max(1));
    let mut buffer = String::with_capacity(1 << 20);
    let mut written = 0u64;
    let mut time = spec.start;
    let mut in_second = 0u64;
    let mut flood_new = 0u32;
    let mut flood_start: Option<i64> = None;
    let mut burst_start: Option<i64> = None;
    while written < spec.lines {
        let at_second = written;
        if in_second >= rate {
            time += 1;
            in_second = 0;
        }
        in_second += 1;
        if attack_at[next_attack] <= at_second {
            let (detector, source, lines) = &attacks[next_attack];
            truth.entry(detector).or_default().push(source.to_string());
            for (offset, method, target, status, ua, upstream) in lines {
                let line = Line {
                    ip: source.to_string(),
                    user: "-",
                    time: time + offset,
                    method,
                    target: target.clone(),
                    status: *status,
                    ua,
                    upstream,
                    upstream_status: (!upstream.is_empty()
                        && *upstream != "upstream-default-backend")
                        .then_some(*status),
                };
                line.write(&mut buffer, &mut rng);
                written += 1;
            }
            next_attack += 1;
        }
        // The flood: for two minutes, many times the usual rate on the checkout route, from
        // addresses never seen before.
        if written >= flood_at && flood_start.is_none() {
            flood_start = Some(time);
        }
        let flooding = flood_start.is_some_and(|start| time < start + flood_seconds);
        // Half a flood line per benign line: half the whole shop's rate again, on one route.
        if flooding && written.is_multiple_of(2) {
            {
                flood_new += 1;
                let line = Line {
                    ip: format!(
                        "100.{}.{}.{}",
                        64 + (flood_new >> 16) % 64,
                        (flood_new >> 8) & 255,
                        flood_new & 255
                    ),
                    user: "-",
                    time,
                    method: "GET",
                    target: "/".to_string(),
                    status: 200,
                    ua: BROWSERS[(flood_new % 5) as usize],
                    // The upstream name of the `shop/prod-checkout` Ingress's Service.
                    upstream: "shop-checkout-443",
                    upstream_status: Some(200),
                };
                line.write(&mut buffer, &mut rng);
                written += 1;
            }
            truth
                .entry("request-flood")
                .or_default()
                .push("shop/prod-checkout".to_string());
        }
        // The burst: for two minutes the orders API answers 503.
        if written >= burst_at && burst_start.is_none() {
            burst_start = Some(time);
        }
        let bursting = burst_start.is_some_and(|start| time < start + 120);
        let client = zipf_client(&mut rng, spec.clients);
        let ip = if written % 5_000 == 7 {
            untrusted.to_string()
        } else {
            format!(
                "10.{}.{}.{}",
                (client >> 16) & 255,
                (client >> 8) & 255,
                client & 255
            )
        };
        if written % 5_000 == 7 {
            truth
                .entry("untrusted-source")
                .or_default()
                .push(untrusted.to_string());
        }
        let pick = rng.below(100);
        let (method, target, status, upstream) = match pick {
            0..=29 => ("GET", "/".to_string(), 200, "shop-prod-web-frontend-8080"),
            30..=49 => (
                "GET",
                format!("/products/{}", rng.below(5_000)),
                200,
                "shop-prod-web-frontend-8080",
            ),
            50..=69 => (
                "GET",
                format!("/static/app.{:08x}.js", rng.below(16)),
                if rng.below(3) == 0 { 304 } else { 200 },
                "shop-prod-static-assets-80",
            ),
            70..=84 => (
                "GET",
                format!("/api/orders/{}?page={}", rng.below(100_000), rng.below(5)),
                200,
                "shop-prod-orders-api-8080",
            ),
            85..=89 => (
                "POST",
                "/api/cart".to_string(),
                201,
                "shop-prod-orders-api-8080",
            ),
            90..=92 => (
                "POST",
                "/login".to_string(),
                if rng.below(10) == 0 { 401 } else { 200 },
                "shop-prod-auth-gateway-9000",
            ),
            93..=95 => (
                "GET",
                format!("/pay/session/{}", rng.below(1_000)),
                200,
                "shop-checkout-443",
            ),
            96 => (
                "GET",
                format!("/products/old-{}", rng.below(50)),
                404,
                "shop-prod-web-frontend-8080",
            ),
            97 => (
                "GET",
                "/dashboard".to_string(),
                if rng.below(4) == 0 { 401 } else { 200 },
                "back-office-admin-ui-3000",
            ),
            _ => (
                "GET",
                format!("/api/orders/{}", rng.below(100_000)),
                if rng.below(200) == 0 { 502 } else { 200 },
                "shop-prod-orders-api-8080",
            ),
        };
        let (status, upstream_status) = if bursting && upstream == "shop-prod-orders-api-8080" {
            (503, 503)
        } else {
            (status, status)
        };
        if bursting && upstream == "shop-prod-orders-api-8080" {
            truth
                .entry("error-burst")
                .or_default()
                .push("shop-prod/api".to_string());
        }
        let line = Line {
            ip,
            user: if upstream == "back-office-admin-ui-3000" {
                "alice"
            } else {
                "-"
            },
            time,
            method,
            target,
            status,
            ua: BROWSERS[(client % 5) as usize],
            upstream,
            upstream_status: Some(upstream_status),
        };
        line.write(&mut buffer, &mut rng);
        written += 1;
        if buffer.len() > (1 << 20) {
            out.write_all(buffer.as_bytes())?;
            buffer.clear();
        }
    }
    out.write_all(buffer.as_bytes())?;
    for sources in truth.values_mut() {
        sources.sort();
        sources.dedup();
    }
    Ok(truth)
}

/// A client index: skewed so a few clients make many requests, as real traffic does, for small
/// pools; uniform for pools above 100,000 (the high-cardinality benchmark wants them all seen).
fn zipf_client(rng: &mut Rng, clients: u32) -> u32 {
    if clients > 100_000 {
        return rng.below(u64::from(clients)) as u32 + 1;
    }
    let clients = u64::from(clients.max(1));
    // Squaring a uniform variate favours small indexes.
    let u = rng.below(1 << 20);
    ((((u * u) >> 20) * clients) >> 20) as u32 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_deterministic_and_about_the_requested_size() {
        let spec = Spec {
            lines: 20_000,
            ..Spec::default()
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let truth = write_log(&spec, &mut a).unwrap();
        write_log(&spec, &mut b).unwrap();
        assert_eq!(a, b);
        let lines = a.iter().filter(|b| **b == b'\n').count() as u64;
        assert!((20_000..21_500).contains(&lines), "{lines} lines");
        assert!(truth.contains_key("brute-force"));
        assert!(truth.contains_key("request-flood"));
        assert!(truth.contains_key("error-burst"));
    }
}
