//! What `serve-load` posts to the service's intake, and how it sums up latencies.
//!
//! [`Payloads`] makes the bodies of one connection: Kubernetes audit `EventList`s as the API
//! server's webhook backend posts them (writes to the example shop's Ingresses at
//! `RequestResponse`, each event with an auditID unique to the run, connection and event), and
//! ingress-nginx `upstreaminfo` access-log lines for the shop's upstreams, some of them failed
//! logins (401) from a few addresses. Bodies are written with `write!` rather than through a JSON
//! tree, so the generator spends little of the machine's CPU on them: it shares the cores with
//! the service it measures. Every value interpolated into the JSON is plain ASCII without quotes
//! or backslashes, so nothing needs escaping.
//!
//! [`LatencySummary::of`] gives the nearest-rank percentiles of a set of latencies.

use std::fmt::Write as _;

use jiff::Timestamp;

/// The example shop's Ingresses the audit events write to: (namespace, name, host, Service).
const INGRESSES: &[(&str, &str, &str, &str)] = &[
    ("storefront", "storefront", "shop.example.com", "web"),
    (
        "storefront",
        "storefront-api",
        "api.shop.example.com",
        "api",
    ),
    (
        "storefront",
        "storefront-promo",
        "promo.shop.example.com",
        "web",
    ),
    ("storefront", "blog", "blog.shop.example.com", "blog"),
    (
        "payments",
        "payments",
        "api.pay.example.com",
        "payments-api",
    ),
    ("payments", "checkout", "pay.example.com", "checkout"),
    (
        "payments",
        "payments-dashboard",
        "dashboard.pay.example.com",
        "dashboard",
    ),
];

/// Who writes: (user JSON, field manager, user agent). GitOps controllers most of the time.
const WRITERS: &[(&str, &str, &str)] = &[
    (
        r#"{"username":"system:serviceaccount:argocd:argocd-application-controller","uid":"6a1f0c2e-4b7d-4e21-9c3a-0d5e7f9b1a23","groups":["system:serviceaccounts","system:serviceaccounts:argocd","system:authenticated"]}"#,
        "argocd-controller",
        "argocd-application-controller/v2.13.1",
    ),
    (
        r#"{"username":"system:serviceaccount:argocd:argocd-application-controller","uid":"6a1f0c2e-4b7d-4e21-9c3a-0d5e7f9b1a23","groups":["system:serviceaccounts","system:serviceaccounts:argocd","system:authenticated"]}"#,
        "argocd-controller",
        "argocd-application-controller/v2.13.1",
    ),
    (
        r#"{"username":"ci-deployer","groups":["system:authenticated"]}"#,
        "kubectl-client-side-apply",
        "kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0",
    ),
    (
        r#"{"username":"oidc:dana@example.com","groups":["platform-admins","system:authenticated"]}"#,
        "kubectl-edit",
        "kubectl/v1.33.1 (darwin/arm64) kubernetes/8adc0f0",
    ),
];

/// The shop's upstreams in ingress-nginx's `namespace-service-port` naming, with their share of
/// the traffic in percent (the rest goes to the default backend).
const UPSTREAMS: &[(&str, u64)] = &[
    ("storefront-web-http", 34),
    ("storefront-api-http", 26),
    ("storefront-blog-http", 12),
    ("payments-payments-api-http", 14),
    ("payments-checkout-http", 10),
    ("storefront-shop-admin-http", 3),
];

/// Browsers' User-Agents.
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
];

/// Percent of log lines that are failed logins (401) on the admin route.
pub const FAILED_LOGIN_PERCENT: u64 = 3;

/// SplitMix64: a seedable generator, so each connection draws its own sequence.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// One of `items`, which must not be empty (all callers pass constant, non-empty lists).
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let index = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        &items[index]
    }
}

/// The bodies one connection posts. Audit event IDs are `{run}-{connection}-{n}` with `n`
/// counting from 0, so no two events of a run share an ID and none is a duplicate.
pub struct Payloads {
    run_id: String,
    connection: usize,
    events_made: u64,
    rng: SplitMix,
}

impl Payloads {
    /// The payloads of connection number `connection` in run `run_id`.
    pub fn new(run_id: &str, connection: usize) -> Payloads {
        Payloads {
            run_id: run_id.to_owned(),
            connection,
            events_made: 0,
            rng: SplitMix(0x5EED_0000 ^ (connection as u64).wrapping_mul(0x1000_0000_01B3)),
        }
    }

    /// True with probability `share` (0 to 1).
    pub fn chance(&mut self, share: f64) -> bool {
        // 53 bits: exactly representable in an f64.
        let unit = (self.rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        unit < share
    }

    /// How many audit events this connection has made so far.
    pub fn events_made(&self) -> u64 {
        self.events_made
    }

    /// An `EventList` of `count` audit events at `now`: creates (201) and patches (200) of the
    /// shop's Ingresses at `RequestResponse`, at stage `ResponseComplete`.
    pub fn audit_event_list(&mut self, count: usize, now: Timestamp) -> String {
        let received = now.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string();
        let completed = (now + jiff::SignedDuration::from_millis(31))
            .strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
            .to_string();
        let mut body = String::with_capacity(count * 2_400 + 200);
        body.push_str(
            r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":["#,
        );
        for index in 0..count {
            if index > 0 {
                body.push(',');
            }
            self.write_event(&mut body, &received, &completed);
        }
        body.push_str("]}");
        body
    }

    fn write_event(&mut self, out: &mut String, received: &str, completed: &str) {
        let number = self.events_made;
        self.events_made += 1;
        let &(namespace, ingress, host, service) = self.rng.pick(INGRESSES);
        let &(user, field_manager, user_agent) = self.rng.pick(WRITERS);
        let create = self.rng.below(4) == 0;
        // Creates make new Ingresses (a create of an existing name would be refused with 409).
        let name = if create {
            format!("{ingress}-{}", number % 1_000)
        } else {
            ingress.to_owned()
        };
        let (verb, code, uri_name) = if create {
            ("create", 201, String::new())
        } else {
            ("patch", 200, format!("/{name}"))
        };
        let resource_version = 1_000_000 + number * 64 + self.connection as u64 % 64;
        let body_size = 1 + self.rng.below(16);
        // One write in fifty adds a configuration snippet, which the rules flag as risky.
        let snippet = if self.rng.below(50) == 0 {
            r#","nginx.ingress.kubernetes.io/configuration-snippet":"more_set_headers \"X-Debug: 1\";""#
        } else {
            ""
        };
        let annotations = format!(
            r#"{{"cert-manager.io/cluster-issuer":"letsencrypt-prod","nginx.ingress.kubernetes.io/proxy-body-size":"{body_size}m","nginx.ingress.kubernetes.io/ssl-redirect":"true"{snippet}}}"#
        );
        let spec = format!(
            r#"{{"ingressClassName":"nginx","tls":[{{"hosts":["{host}"],"secretName":"{name}-tls"}}],"rules":[{{"host":"{host}","http":{{"paths":[{{"path":"/","pathType":"Prefix","backend":{{"service":{{"name":"{service}","port":{{"name":"http"}}}}}}}},{{"path":"/healthz","pathType":"Exact","backend":{{"service":{{"name":"{service}","port":{{"number":8081}}}}}}}}]}}}}]}}"#
        );
        let request_object = if create {
            format!(
                r#"{{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{{"name":"{name}","namespace":"{namespace}","annotations":{annotations}}},"spec":{spec}}}"#
            )
        } else {
            format!(r#"{{"metadata":{{"annotations":{annotations}}}}}"#)
        };
        let _ = write!(
            out,
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"{run}-{connection}-{number}","stage":"ResponseComplete","requestURI":"/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses{uri_name}?fieldManager={field_manager}","verb":"{verb}","user":{user},"sourceIPs":["10.20.{a}.{b}"],"userAgent":"{user_agent}","objectRef":{{"resource":"ingresses","namespace":"{namespace}","name":"{name}","apiGroup":"networking.k8s.io","apiVersion":"v1"}},"responseStatus":{{"metadata":{{}},"code":{code}}},"requestObject":{request_object},"responseObject":{{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{{"name":"{name}","namespace":"{namespace}","uid":"{uid:016x}","resourceVersion":"{resource_version}","generation":{generation},"labels":{{"app.kubernetes.io/part-of":"shop"}},"annotations":{annotations}}},"spec":{spec},"status":{{"loadBalancer":{{"ingress":[{{"ip":"203.0.113.10"}}]}}}}}},"requestReceivedTimestamp":"{received}","stageTimestamp":"{completed}","annotations":{{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"gitops\" of ClusterRole \"cluster-admin\""}}}}"#,
            run = self.run_id,
            connection = self.connection,
            a = self.connection % 250,
            b = 1 + number % 250,
            uid = self.rng.next(),
            generation = 1 + number % 40,
        );
    }

    /// `count` ingress-nginx `upstreaminfo` lines at `now`, each ending in a newline.
    /// [`FAILED_LOGIN_PERCENT`] of them are failed logins (401) from a few addresses.
    pub fn access_log_lines(&mut self, count: usize, now: Timestamp) -> String {
        let time = now.strftime("%d/%b/%Y:%H:%M:%S +0000").to_string();
        let mut out = String::with_capacity(count * 300);
        for _ in 0..count {
            self.write_line(&mut out, &time);
        }
        out
    }

    fn write_line(&mut self, out: &mut String, time: &str) {
        let rng = &mut self.rng;
        let client = match rng.below(4) {
            0 => format!("81.2.69.{}", rng.below(256)),
            1 => format!("89.160.20.{}", rng.below(256)),
            2 => format!("175.16.199.{}", rng.below(256)),
            _ => format!("2001:218::{:x}", 1 + rng.below(255)),
        };
        let user_agent = *rng.pick(USER_AGENTS);
        let roll = rng.below(100);
        let (client, method, path, status, upstream) = if roll < FAILED_LOGIN_PERCENT {
            (
                format!("198.51.100.{}", 1 + rng.below(8)),
                "POST",
                "/admin/login".to_owned(),
                401,
                "storefront-shop-admin-http",
            )
        } else if roll == 99 {
            (
                client,
                "GET",
                rng.pick(&["/.env", "/wp-login.php", "/.git/config"])
                    .to_string(),
                404,
                "upstream-default-backend",
            )
        } else {
            let mut draw = rng.below(99);
            let mut upstream = UPSTREAMS[0].0;
            for &(name, share) in UPSTREAMS {
                if draw < share {
                    upstream = name;
                    break;
                }
                draw -= share;
            }
            let (method, path, status) = match upstream {
                "storefront-api-http" => (
                    "GET",
                    format!("/v1/orders/{}", rng.below(100_000)),
                    if rng.below(50) == 0 { 500 } else { 200 },
                ),
                "storefront-blog-http" => ("GET", format!("/blog/post-{}", rng.below(300)), 200),
                "payments-payments-api-http" => {
                    ("GET", format!("/v2/payments/{}", rng.below(10_000)), 200)
                }
                "payments-checkout-http" => ("POST", "/checkout".to_owned(), 201),
                "storefront-shop-admin-http" => ("GET", "/admin/".to_owned(), 200),
                _ => (
                    "GET",
                    format!("/products/{}", rng.below(5_000)),
                    if rng.below(50) == 0 { 404 } else { 200 },
                ),
            };
            (client, method, path, status, upstream)
        };
        let bytes = 200 + rng.below(9_000);
        let request_length = 300 + rng.below(400);
        let upstream_ms = 1 + rng.below(120);
        let _ = writeln!(
            out,
            "{client} - - [{time}] \"{method} {path} HTTP/1.1\" {status} {bytes} \"-\" \"{user_agent}\" {request_length} {total}.{total_ms:03} [{upstream}] [] 10.244.{pod_a}.{pod_b}:8080 {bytes} {up_s}.{up_ms:03} {status} {id:016x}{id2:016x}",
            total = (upstream_ms + 1) / 1_000,
            total_ms = (upstream_ms + 1) % 1_000,
            up_s = upstream_ms / 1_000,
            up_ms = upstream_ms % 1_000,
            pod_a = rng.below(3),
            pod_b = 2 + rng.below(250),
            id = rng.next(),
            id2 = rng.next(),
        );
    }
}

/// Nearest-rank percentiles of a set of latencies, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencySummary {
    /// Requests measured.
    pub count: usize,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

impl LatencySummary {
    /// The summary of `latencies_us` (microseconds; sorted in place), `None` when empty.
    pub fn of(latencies_us: &mut [u64]) -> Option<LatencySummary> {
        latencies_us.sort_unstable();
        let max = *latencies_us.last()?;
        let rank = |percent: usize| -> f64 {
            // Nearest rank: the smallest value with at least `percent`% of the values at or
            // below it.
            let index = (latencies_us.len() * percent).div_ceil(100).max(1) - 1;
            latencies_us.get(index).copied().unwrap_or(max) as f64 / 1_000.0
        };
        Some(LatencySummary {
            count: latencies_us.len(),
            p50: rank(50),
            p90: rank(90),
            p99: rank(99),
            max: max as f64 / 1_000.0,
        })
    }
}
