//! `serve-load`: a load generator for the intake of `tollgate serve`, bounded in time, for
//! loopback only (DESIGN §6: under 60 s of mixed audit and log posts nothing acknowledged is
//! lost, and p99 latency is reported).
//!
//! ```text
//! serve-load --url http://127.0.0.1:PORT [--token T] [--seconds 60] [--connections 32]
//!            [--audit-share 0.5] [--events-per-post 50] [--lines-per-post 200]
//!            [--format ingress-nginx] [--timeout 60]
//! ```
//!
//! Each of the `--connections` keeps one HTTP/1.1 connection open and posts, one request at a
//! time until `--seconds` have passed, either an audit `EventList` (`POST /api/v1/audit/events`,
//! with probability `--audit-share`) or a batch of access-log lines (`POST /api/v1/logs`), with
//! `Authorization: Bearer` the token (`--token`, else `TOLLGATE_INTAKE_TOKEN`, which keeps it out
//! of `ps`). The bodies come from [`tollgate_bench::intake_load::Payloads`]: every audit event has
//! an auditID of its own, so the service must store every one.
//!
//! It counts per kind the requests sent, the 2xx answers (acknowledged), the other answers and
//! the transport errors, and the events and lines acknowledged (2xx only). A 2xx whose counts
//! disagree with what was sent (`received` events, `lines`) is counted as a mismatch. Latency is
//! measured from sending a request to having read its whole answer; every latency is kept, so
//! the percentiles are exact. The result is one JSON object on stdout.
//!
//! The generator runs on one thread (a current-thread runtime): it shares the machine with the
//! service, and building a body costs far less than the service spends storing it. It refuses a
//! URL that does not resolve to loopback only: a load test sends traffic nowhere else.
//!
//! Exit codes: 0 the run finished (whatever it measured), 1 nothing was acknowledged, 2 usage.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1;
use hyper::{Request, StatusCode, Uri, header};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tollgate_bench::intake_load::{LatencySummary, Payloads};

const USAGE: &str = "usage: serve-load --url http://127.0.0.1:PORT [--token T] [--seconds 60]
       [--connections 32] [--audit-share 0.5] [--events-per-post 50] [--lines-per-post 200]
       [--format ingress-nginx] [--timeout 60]

Posts audit EventLists and access-log batches to a running `tollgate serve` on loopback for the
given time, and prints what was acknowledged, what failed and the latencies as JSON. The token is
--token or TOLLGATE_INTAKE_TOKEN.";

struct Args {
    url: Uri,
    token: Option<String>,
    seconds: u64,
    connections: usize,
    audit_share: f64,
    events_per_post: usize,
    lines_per_post: usize,
    format: String,
    timeout: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut url = None;
    let mut parsed = Args {
        url: Uri::from_static("http://127.0.0.1:8080"),
        token: std::env::var("TOLLGATE_INTAKE_TOKEN")
            .ok()
            .filter(|token| !token.trim().is_empty()),
        seconds: 60,
        connections: 32,
        audit_share: 0.5,
        events_per_post: 50,
        lines_per_post: 200,
        format: "ingress-nginx".to_owned(),
        timeout: Duration::from_secs(60),
    };
    let mut flags = tollgate_bench::flags::Flags::from_env();
    while let Some(flag) = flags.next_flag() {
        match flag.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--url" => url = Some(flags.value("--url")?),
            "--token" => parsed.token = Some(flags.value("--token")?),
            "--seconds" => parsed.seconds = flags.number("--seconds")? as u64,
            "--connections" => {
                parsed.connections = flags.number("--connections")?;
            }
            "--audit-share" => {
                let text = flags.value("--audit-share")?;
                parsed.audit_share = text
                    .parse::<f64>()
                    .ok()
                    .filter(|share| (0.0..=1.0).contains(share))
                    .ok_or_else(|| format!("--audit-share must be 0 to 1, not {text:?}"))?;
            }
            "--events-per-post" => {
                parsed.events_per_post = flags.number("--events-per-post")?;
            }
            "--lines-per-post" => {
                parsed.lines_per_post = flags.number("--lines-per-post")?;
            }
            "--format" => parsed.format = flags.value("--format")?,
            "--timeout" => {
                parsed.timeout = Duration::from_secs(flags.number("--timeout")? as u64);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let url = url.ok_or("--url is required")?;
    parsed.url = url
        .parse::<Uri>()
        .map_err(|e| format!("--url {url:?}: {e}"))?;
    if parsed.url.scheme_str() != Some("http") {
        return Err(format!(
            "--url {url:?}: only http:// (plain HTTP on loopback)"
        ));
    }
    if parsed.token.is_none() {
        return Err("no token: --token or TOLLGATE_INTAKE_TOKEN".to_owned());
    }
    if !parsed
        .format
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(format!("--format {:?}: not a format name", parsed.format));
    }
    Ok(parsed)
}

/// The two kinds of post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Audit,
    Logs,
}

/// What one kind of post came to, on one connection or summed over all.
#[derive(Debug, Default)]
struct Tally {
    /// Requests sent (a request counts once its body is handed to the connection).
    requests: u64,
    /// 2xx answers.
    acknowledged_posts: u64,
    /// Events or lines in the 2xx answers' requests.
    acknowledged_items: u64,
    /// 2xx answers whose counts disagree with what was sent.
    mismatched: u64,
    /// Answers other than 2xx, by status.
    statuses: std::collections::BTreeMap<u16, u64>,
    /// Requests without an answer: the connection failed, or the answer took longer than the
    /// timeout. The service may or may not have stored them.
    errors: u64,
    /// Events or lines in requests that were not acknowledged.
    unacknowledged_items: u64,
    /// Every answered request's latency, microseconds.
    latencies_us: Vec<u64>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        self.acknowledged_posts += other.acknowledged_posts;
        self.acknowledged_items += other.acknowledged_items;
        self.mismatched += other.mismatched;
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
        self.errors += other.errors;
        self.unacknowledged_items += other.unacknowledged_items;
        self.latencies_us.extend(other.latencies_us);
    }

    fn non_2xx(&self) -> u64 {
        self.statuses.values().sum()
    }
}

/// Where to post and how.
struct Target {
    address: SocketAddr,
    authority: String,
    authorization: String,
    audit_path: String,
    logs_path: String,
}

/// The whole of one answer, or why there is none.
async fn post(
    sender: &mut http1::SendRequest<Full<Bytes>>,
    target: &Target,
    kind: Kind,
    body: String,
    timeout: Duration,
) -> Result<(StatusCode, Bytes), String> {
    let (path, content_type) = match kind {
        Kind::Audit => (&target.audit_path, "application/json"),
        Kind::Logs => (&target.logs_path, "text/plain"),
    };
    let request = Request::post(path.as_str())
        .header(header::HOST, &target.authority)
        .header(header::AUTHORIZATION, &target.authorization)
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("building the request: {e}"))?;
    let exchange = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("sending: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
}

async fn connect(address: SocketAddr) -> Result<http1::SendRequest<Full<Bytes>>, String> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(|e| format!("connecting to {address}: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("TCP_NODELAY: {e}"))?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    tokio::spawn(async move {
        // The connection's errors surface on the next request through its sender.
        let _ = connection.await;
    });
    Ok(sender)
}

/// One connection's loop: post until `deadline`, one request at a time.
async fn connection(
    number: usize,
    run_id: String,
    args: std::sync::Arc<Args>,
    target: std::sync::Arc<Target>,
    deadline: Instant,
) -> (Tally, Tally, Vec<String>) {
    let mut payloads = Payloads::new(&run_id, number);
    let (mut audit, mut logs) = (Tally::default(), Tally::default());
    let mut problems = Vec::new();
    let mut sender: Option<http1::SendRequest<Full<Bytes>>> = None;
    while Instant::now() < deadline {
        let ready = match sender.as_mut() {
            Some(open) => open.ready().await.is_ok(),
            None => false,
        };
        if !ready {
            match connect(target.address).await {
                Ok(fresh) => sender = Some(fresh),
                Err(problem) => {
                    note(&mut problems, problem);
                    // A refused connection answers at once: pause rather than spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            }
        }
        let Some(open) = sender.as_mut() else {
            continue;
        };
        let kind = if payloads.chance(args.audit_share) {
            Kind::Audit
        } else {
            Kind::Logs
        };
        let now = jiff::Timestamp::now();
        let (body, items) = match kind {
            Kind::Audit => (
                payloads.audit_event_list(args.events_per_post, now),
                args.events_per_post,
            ),
            Kind::Logs => (
                payloads.access_log_lines(args.lines_per_post, now),
                args.lines_per_post,
            ),
        };
        let tally = match kind {
            Kind::Audit => &mut audit,
            Kind::Logs => &mut logs,
        };
        tally.requests += 1;
        let started = Instant::now();
        match post(open, &target, kind, body, args.timeout).await {
            Ok((status, answer)) => {
                tally
                    .latencies_us
                    .push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
                if status.is_success() {
                    tally.acknowledged_posts += 1;
                    tally.acknowledged_items += items as u64;
                    if let Some(problem) = check_answer(kind, &answer, items) {
                        tally.mismatched += 1;
                        note(&mut problems, problem);
                    }
                } else {
                    *tally.statuses.entry(status.as_u16()).or_default() += 1;
                    tally.unacknowledged_items += items as u64;
                    note(
                        &mut problems,
                        format!(
                            "{status}: {}",
                            String::from_utf8_lossy(&answer[..answer.len().min(200)])
                        ),
                    );
                }
            }
            Err(problem) => {
                tally.errors += 1;
                tally.unacknowledged_items += items as u64;
                note(&mut problems, problem);
                // The connection is in an unknown state: start a new one.
                sender = None;
            }
        }
    }
    (audit, logs, problems)
}

/// Keeps the first few distinct problems, so the report shows what went wrong without a
/// thousand copies of it.
fn note(problems: &mut Vec<String>, problem: String) {
    if problems.len() < 5 && !problems.contains(&problem) {
        problems.push(problem);
    }
}

/// Why a 2xx answer disagrees with what was sent, if it does: the audit intake answers
/// `received` (inserted + duplicates), the log intake `lines`.
fn check_answer(kind: Kind, answer: &[u8], sent: usize) -> Option<String> {
    let value: Value = match serde_json::from_slice(answer) {
        Ok(value) => value,
        Err(e) => return Some(format!("a 2xx answer that is not JSON: {e}")),
    };
    let (field, also) = match kind {
        Kind::Audit => ("received", "duplicates"),
        Kind::Logs => ("lines", "malformed"),
    };
    let counted = value.get(field).and_then(Value::as_u64);
    let extra = value.get(also).and_then(Value::as_u64).unwrap_or(0);
    if counted != Some(sent as u64) || extra != 0 {
        return Some(format!(
            "a 2xx answer counted {field} {counted:?} and {also} {extra} of {sent} sent: {value}"
        ));
    }
    None
}

fn latency_json(latencies_us: &mut [u64]) -> Value {
    match LatencySummary::of(latencies_us) {
        Some(summary) => json!({
            "count": summary.count,
            "p50": round(summary.p50),
            "p90": round(summary.p90),
            "p99": round(summary.p99),
            "max": round(summary.max),
        }),
        None => Value::Null,
    }
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn statuses_json(tally: &Tally) -> Value {
    tally
        .statuses
        .iter()
        .map(|(status, count)| (status.to_string(), json!(count)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The one address `url` names, when every address it resolves to is on loopback.
async fn loopback_address(url: &Uri) -> Result<(SocketAddr, String), String> {
    let host = url.host().ok_or("--url has no host")?;
    let port = url.port_u16().unwrap_or(80);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|e| format!("resolving {host}: {e}"))?
        .collect();
    let first = *addresses
        .first()
        .ok_or_else(|| format!("{host} resolves to nothing"))?;
    if let Some(outside) = addresses.iter().find(|a| !a.ip().is_loopback()) {
        return Err(format!(
            "{host} resolves to {outside}, which is not loopback: serve-load only loads a service \
             on this machine"
        ));
    }
    let authority = url
        .authority()
        .map_or_else(|| format!("{host}:{port}"), ToString::to_string);
    Ok((first, authority))
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let (address, authority) = loopback_address(&args.url).await?;
    let base = args.url.path().trim_end_matches('/').to_owned();
    let target = std::sync::Arc::new(Target {
        address,
        authority,
        authorization: format!("Bearer {}", args.token.as_deref().unwrap_or_default()),
        audit_path: format!("{base}/api/v1/audit/events"),
        logs_path: format!("{base}/api/v1/logs?format={}", args.format),
    });
    // The run's own prefix for auditIDs, so a second run against the same store is not taken
    // for redelivery.
    let run_id = format!(
        "load-{:x}-{:x}",
        jiff::Timestamp::now().as_millisecond(),
        std::process::id()
    );
    let args = std::sync::Arc::new(args);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for number in 0..args.connections {
        tasks.spawn(connection(
            number,
            run_id.clone(),
            std::sync::Arc::clone(&args),
            std::sync::Arc::clone(&target),
            deadline,
        ));
    }
    let (mut audit, mut logs) = (Tally::default(), Tally::default());
    let mut problems = Vec::new();
    while let Some(finished) = tasks.join_next().await {
        let (a, l, p) = finished.map_err(|e| format!("a connection task failed: {e}"))?;
        audit.merge(a);
        logs.merge(l);
        for problem in p {
            note(&mut problems, problem);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut all: Vec<u64> = audit
        .latencies_us
        .iter()
        .chain(&logs.latencies_us)
        .copied()
        .collect();
    let report = json!({
        "run_id": run_id,
        "url": args.url.to_string(),
        "connections": args.connections,
        "events_per_post": args.events_per_post,
        "lines_per_post": args.lines_per_post,
        "audit_share": args.audit_share,
        "seconds": round(seconds),
        "requests": {"audit": audit.requests, "logs": logs.requests, "all": audit.requests + logs.requests},
        "acknowledged": {
            "audit_posts": audit.acknowledged_posts,
            "audit_events": audit.acknowledged_items,
            "log_posts": logs.acknowledged_posts,
            "log_lines": logs.acknowledged_items,
        },
        "failed": {
            "audit_non_2xx": audit.non_2xx(),
            "audit_errors": audit.errors,
            "audit_mismatched": audit.mismatched,
            "audit_events": audit.unacknowledged_items,
            "audit_statuses": statuses_json(&audit),
            "log_non_2xx": logs.non_2xx(),
            "log_errors": logs.errors,
            "log_mismatched": logs.mismatched,
            "log_lines": logs.unacknowledged_items,
            "log_statuses": statuses_json(&logs),
            "problems": problems,
        },
        "latency_ms": {
            "audit": latency_json(&mut audit.latencies_us),
            "logs": latency_json(&mut logs.latencies_us),
            "all": latency_json(&mut all),
        },
        "throughput": {
            "requests_per_s": round((audit.requests + logs.requests) as f64 / seconds),
            "events_per_s": round(audit.acknowledged_items as f64 / seconds),
            "lines_per_s": round(logs.acknowledged_items as f64 / seconds),
        },
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
    );
    if audit.acknowledged_posts + logs.acknowledged_posts == 0 {
        eprintln!("serve-load: nothing was acknowledged");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("serve-load: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("serve-load: starting the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("serve-load: {message}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_2xx_must_count_what_was_sent() {
        let audit = br#"{"received":50,"inserted":50,"duplicates":0,"errors":[]}"#;
        assert_eq!(check_answer(Kind::Audit, audit, 50), None);
        // Fewer read than sent, or some taken for redeliveries: not what this run sent.
        let short = br#"{"received":49,"inserted":49,"duplicates":0,"errors":["x"]}"#;
        assert!(check_answer(Kind::Audit, short, 50).is_some());
        let duplicates = br#"{"received":50,"inserted":48,"duplicates":2,"errors":[]}"#;
        assert!(check_answer(Kind::Audit, duplicates, 50).is_some());
        let lines = br#"{"lines":200,"parsed":200,"malformed":0}"#;
        assert_eq!(check_answer(Kind::Logs, lines, 200), None);
        let malformed = br#"{"lines":200,"parsed":199,"malformed":1}"#;
        assert!(check_answer(Kind::Logs, malformed, 200).is_some());
        assert!(check_answer(Kind::Logs, b"ok", 200).is_some());
    }

    #[tokio::test]
    async fn only_loopback_is_a_target() {
        let url: Uri = "http://127.0.0.1:18080".parse().unwrap();
        let (address, authority) = loopback_address(&url).await.unwrap();
        assert_eq!(address, "127.0.0.1:18080".parse().unwrap());
        assert_eq!(authority, "127.0.0.1:18080");
        let url: Uri = "http://[::1]:9000/".parse().unwrap();
        assert_eq!(
            loopback_address(&url).await.unwrap().0,
            "[::1]:9000".parse().unwrap()
        );
        // Address literals resolve without a lookup; none of these is ever contacted.
        for outside in [
            "http://192.0.2.1:8080",
            "http://10.0.0.1",
            "http://[2001:db8::1]:80",
        ] {
            let url: Uri = outside.parse().unwrap();
            let refused = loopback_address(&url).await.unwrap_err();
            assert!(refused.contains("not loopback"), "{refused}");
        }
    }
}
