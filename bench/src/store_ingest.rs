//! `store-ingest`: how fast the store takes in Kubernetes audit events, and proof that it loses
//! none and stores none twice (DESIGN §6: at least 5,000 events/s on SQLite and on PostgreSQL).
//!
//! ```text
//! store-ingest [--events N] [--batch B] [--postgres URL]
//! ```
//!
//! Generates N audit events (default 50,000) the way an API server with Tollgate's recommended
//! policy logs them: writes to Ingresses, Services and RBAC objects at RequestResponse (request
//! and response bodies, about 2–3 KB an event), Secrets at Metadata. They are written as JSON
//! lines and read back with Tollgate's reader, then stored with `Store::insert_audit_events` in
//! batches of B (default 500, about the webhook's 400), one transaction a batch, as the webhook
//! intake does. Then the same events are stored again, as a webhook retry would redeliver them:
//! every one must be reported as a duplicate, and the table must hold exactly N rows.
//!
//! SQLite: a new file in the temporary directory, removed afterwards. PostgreSQL: the database the
//! URL names (`--postgres`, else `TOLLGATE_BENCH_POSTGRES_URL`), which must be empty
//! (`bench/store.sh` creates one on a throwaway server); skipped with a notice when no URL is
//! given. Prints a Markdown table.

use std::process::ExitCode;
use std::time::Instant;

use serde_json::{Value, json};
use tollgate_core::audit::{AuditEvent, read_events};
use tollgate_store::{InsertStats, Store};

mod rng;
use rng::Rng;

const USAGE: &str = "usage: store-ingest [--events N] [--batch B] [--postgres URL]

Stores N generated audit events (default 50000) in batches of B (default 500) into a new SQLite
file and, when a PostgreSQL URL is given (--postgres or TOLLGATE_BENCH_POSTGRES_URL; an empty
database), into PostgreSQL; then stores them again to check that every one is detected as a
duplicate. Prints a Markdown table.";

/// The quality bar, events per second.
const BAR_EVENTS_PER_SECOND: f64 = 5_000.0;

/// The cluster name the events are stored under.
const CLUSTER: &str = "bench";

struct Args {
    events: usize,
    batch: usize,
    postgres: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut parsed = Args {
        events: 50_000,
        batch: 500,
        postgres: std::env::var("TOLLGATE_BENCH_POSTGRES_URL")
            .ok()
            .filter(|url| !url.trim().is_empty()),
    };
    let mut flags = tollgate_bench::flags::Flags::from_env();
    while let Some(flag) = flags.next_flag() {
        match flag.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--events" => parsed.events = flags.number("--events")?,
            "--batch" => parsed.batch = flags.number("--batch")?,
            "--postgres" => parsed.postgres = Some(flags.value("--postgres")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(parsed)
}

/// `2026-07-01T00:00:00Z` plus `offset_us` microseconds, as a Kubernetes MicroTime.
fn micro_time(offset_us: u64) -> String {
    let seconds = offset_us / 1_000_000;
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let day = 1 + hours / 24;
    format!(
        "2026-07-{day:02}T{:02}:{minutes:02}:{seconds:02}.{:06}Z",
        hours % 24,
        offset_us % 1_000_000
    )
}

/// Who writes: GitOps controllers most of the time, people and an impersonating admin sometimes.
fn actor(rng: &mut Rng) -> (Value, Option<Value>, &'static str, &'static str) {
    let argocd = json!({
        "username": "system:serviceaccount:argocd:argocd-application-controller",
        "uid": "6a1f0c2e-4b7d-4e21-9c3a-0d5e7f9b1a23",
        "groups": ["system:serviceaccounts", "system:serviceaccounts:argocd", "system:authenticated"],
        "extra": {
            "authentication.kubernetes.io/pod-name": ["argocd-application-controller-0"],
            "authentication.kubernetes.io/pod-uid": ["f3b2a1c0-9d8e-4f7a-b6c5-d4e3f2a1b0c9"]
        }
    });
    match rng.range(0, 9) {
        0..=5 => (
            argocd,
            None,
            "argocd-controller",
            "argocd-application-controller/v2.13.1",
        ),
        6 | 7 => (
            json!({"username": "alice@example.com", "groups": ["developers", "system:authenticated"]}),
            None,
            "kubectl-edit",
            "kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0",
        ),
        8 => (
            json!({"username": "system:serviceaccount:flux-system:kustomize-controller", "groups": ["system:serviceaccounts", "system:authenticated"]}),
            None,
            "kustomize-controller",
            "kustomize-controller/v1.4.0",
        ),
        _ => (
            json!({"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]}),
            Some(json!({"username": "bob", "groups": ["shop-oncall", "system:authenticated"]})),
            "kubectl-annotate",
            "kubectl/v1.33.1 (darwin/arm64) kubernetes/8adc0f0",
        ),
    }
}

/// The object written, by kind: (apiGroup, resource, body or `None` for a Secret at Metadata).
fn object(
    rng: &mut Rng,
    index: usize,
    namespace: &str,
    name: &str,
) -> (&'static str, &'static str, Option<Value>) {
    let hosts: Vec<String> = (0..rng.range(1, 3))
        .map(|host| format!("{name}-{host}.shop{}.example.com", index % 97))
        .collect();
    match rng.range(0, 19) {
        0..=7 => {
            let rules: Vec<Value> = hosts
                .iter()
                .map(|host| {
                    json!({"host": host, "http": {"paths": [
                        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": name, "port": {"number": 80}}}},
                        {"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": format!("{name}-api"), "port": {"name": "http"}}}}
                    ]}})
                })
                .collect();
            let ingress = json!({
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop", "argocd.argoproj.io/instance": format!("{namespace}-{name}")},
                    "annotations": {
                        "cert-manager.io/cluster-issuer": "letsencrypt-prod",
                        "nginx.ingress.kubernetes.io/proxy-body-size": "8m",
                        "nginx.ingress.kubernetes.io/ssl-redirect": "true"
                    }
                },
                "spec": {"ingressClassName": "nginx", "tls": [{"hosts": hosts, "secretName": format!("{name}-tls")}], "rules": rules}
            });
            ("networking.k8s.io", "ingresses", Some(ingress))
        }
        8..=12 => {
            let service = json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop"}},
                "spec": {
                    "type": "ClusterIP",
                    "selector": {"app.kubernetes.io/name": name},
                    "ports": [
                        {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                        {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}
                    ],
                    "clusterIP": format!("10.96.{}.{}", index % 250, (index / 250) % 250),
                    "sessionAffinity": "None",
                    "internalTrafficPolicy": "Cluster"
                }
            });
            ("", "services", Some(service))
        }
        13..=15 => ("", "secrets", None),
        _ => {
            let binding = json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": format!("{name}-editors"), "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "shop"}},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
                "subjects": [
                    {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": format!("{namespace}-developers")},
                    {"kind": "ServiceAccount", "name": "deployer", "namespace": namespace},
                    {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice@example.com"}
                ]
            });
            ("rbac.authorization.k8s.io", "rolebindings", Some(binding))
        }
    }
}

/// One audit event as the API server's log backend writes it: one JSON line.
fn event_line(rng: &mut Rng, index: usize) -> String {
    let namespace = format!("shop-{:02}", index % 50);
    let name = format!("app-{}", rng.range(0, 199));
    let (group, resource, body) = object(rng, index, &namespace, &name);
    let verb = rng.pick(&[
        "create", "update", "update", "patch", "patch", "patch", "delete",
    ]);
    let (user, impersonated, field_manager, user_agent) = actor(rng);
    let time = micro_time(index as u64 * 5_000 + rng.next() % 4_000);
    let resource_version = (1_000_000 + index).to_string();
    let code = if rng.percent(2) {
        403
    } else if verb == "create" {
        201
    } else {
        200
    };
    let version = if group.is_empty() {
        "v1".to_owned()
    } else {
        format!("{group}/v1")
    };
    let path_prefix = if group.is_empty() {
        "/api/v1".to_owned()
    } else {
        format!("/apis/{group}/v1")
    };
    let object_name = body
        .as_ref()
        .and_then(|body| body.pointer("/metadata/name"))
        .and_then(Value::as_str)
        .unwrap_or(&name)
        .to_owned();
    let mut event = json!({
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": if body.is_some() { "RequestResponse" } else { "Metadata" },
        "auditID": format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", rng.next() as u32, (rng.next() & 0xffff) as u16, rng.next() & 0xfff, rng.next() & 0xfff, index),
        "stage": "ResponseComplete",
        "requestURI": format!("{path_prefix}/namespaces/{namespace}/{resource}/{object_name}?fieldManager={field_manager}"),
        "verb": verb,
        "user": user,
        "sourceIPs": [format!("10.244.{}.{}", index % 16, index % 250)],
        "userAgent": user_agent,
        "objectRef": {"resource": resource, "namespace": namespace, "name": object_name, "apiGroup": group, "apiVersion": "v1"},
        "responseStatus": if code == 403 {
            json!({"metadata": {}, "status": "Failure", "reason": "Forbidden", "code": 403,
                   "message": format!("{resource} \"{object_name}\" is forbidden: User cannot {verb} resource \"{resource}\" in the namespace \"{namespace}\"")})
        } else {
            json!({"metadata": {}, "code": code})
        },
        "requestReceivedTimestamp": time,
        "stageTimestamp": time,
        "annotations": {
            "authorization.k8s.io/decision": if code == 403 { "forbid" } else { "allow" },
            "authorization.k8s.io/reason": if code == 403 { String::new() } else { format!("RBAC: allowed by RoleBinding \"{namespace}-deployers/{namespace}\" of ClusterRole \"edit\"") }
        }
    });
    if let Some(impersonated) = impersonated {
        event["impersonatedUser"] = impersonated;
    }
    if let Some(mut body) = body {
        event["requestObject"] = body.clone();
        if code != 403 {
            body["apiVersion"] = json!(version);
            body["metadata"]["uid"] = json!(format!(
                "{:08x}-0000-4000-8000-{index:012x}",
                rng.next() as u32
            ));
            body["metadata"]["resourceVersion"] = json!(resource_version);
            body["metadata"]["generation"] = json!(rng.range(1, 40));
            body["metadata"]["creationTimestamp"] = json!("2026-06-01T08:00:00Z");
            event["responseObject"] = body;
        }
    }
    event.to_string()
}

/// The events, and the size of their JSON lines in bytes.
fn generate(count: usize) -> (Vec<AuditEvent>, usize) {
    let mut rng = Rng::new();
    let text = (0..count)
        .map(|index| event_line(&mut rng, index))
        .collect::<Vec<_>>()
        .join("\n");
    let (events, errors) = read_events(&text, "generated");
    if let Some(error) = errors.first() {
        // The generator writes valid events; anything else is a bug here.
        eprintln!("store-ingest: generated an unreadable event: {error}");
    }
    (events, text.len())
}

/// One pass over the events: the seconds it took and the summed counts.
async fn ingest(
    store: &Store,
    events: &[AuditEvent],
    batch: usize,
) -> Result<(f64, InsertStats), tollgate_store::Error> {
    let started = Instant::now();
    let mut total = InsertStats::default();
    for chunk in events.chunks(batch) {
        let stats = store.insert_audit_events(CLUSTER, chunk).await?;
        total.inserted += stats.inserted;
        total.duplicates += stats.duplicates;
    }
    Ok((started.elapsed().as_secs_f64(), total))
}

/// One table row per pass; `false` when an event was lost or stored twice.
async fn measure(
    label: &str,
    url: &str,
    events: &[AuditEvent],
    batch: usize,
) -> Result<bool, String> {
    let store = Store::connect(url)
        .await
        .map_err(|error| format!("{label}: {error}"))?;
    let already = store
        .audit_event_count()
        .await
        .map_err(|error| format!("{label}: {error}"))?;
    if already > 0 {
        return Err(format!(
            "{label}: the database already holds {already} audit events; give an empty one"
        ));
    }
    let (first_seconds, first) = ingest(&store, events, batch)
        .await
        .map_err(|error| format!("{label}: {error}"))?;
    let (again_seconds, again) = ingest(&store, events, batch)
        .await
        .map_err(|error| format!("{label}: {error}"))?;
    let rows = store
        .audit_event_count()
        .await
        .map_err(|error| format!("{label}: {error}"))?;
    store.close().await;
    let n = events.len() as u64;
    for (pass, seconds, stats) in [
        ("first ingest", first_seconds, first),
        ("re-ingest", again_seconds, again),
    ] {
        println!(
            "| {label} | {pass} | {n} | {seconds:.2} | {:.0} | {} | {} | {rows} |",
            n as f64 / seconds.max(f64::EPSILON),
            stats.inserted,
            stats.duplicates,
        );
    }
    let rate = n as f64 / first_seconds.max(f64::EPSILON);
    let none_lost =
        first.inserted == n && again.duplicates == n && again.inserted == 0 && rows == n;
    eprintln!(
        "store-ingest: {label}: {rate:.0} events/s ({}), {}",
        if rate >= BAR_EVENTS_PER_SECOND {
            "bar met"
        } else {
            "BELOW THE BAR"
        },
        if none_lost {
            "none lost, none doubled"
        } else {
            "EVENTS LOST OR DOUBLED"
        }
    );
    Ok(none_lost)
}

async fn run(args: Args) -> Result<bool, String> {
    let generating = Instant::now();
    let (events, bytes) = generate(args.events);
    if events.len() != args.events {
        return Err(format!(
            "generated {} readable events of {}",
            events.len(),
            args.events
        ));
    }
    eprintln!(
        "store-ingest: {} events, {:.1} MB of JSON lines ({} bytes an event), generated and read in {:.2} s",
        events.len(),
        bytes as f64 / 1e6,
        bytes / events.len().max(1),
        generating.elapsed().as_secs_f64()
    );

    println!("### Store ingest benchmark");
    println!();
    println!(
        "{} audit events ({} bytes each on average as JSON lines), batches of {}, one transaction a batch; {} CPUs.",
        events.len(),
        bytes / events.len().max(1),
        args.batch,
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    println!();
    println!(
        "| store | pass | events | seconds | events/s | inserted | duplicates detected | rows in table |"
    );
    println!("|---|---|---|---|---|---|---|---|");

    let directory =
        std::env::temp_dir().join(format!("tollgate-store-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&directory)
        .map_err(|error| format!("{}: {error}", directory.display()))?;
    let sqlite_url = format!("sqlite://{}", directory.join("store.db").display());
    let sqlite = measure("SQLite", &sqlite_url, &events, args.batch).await;
    let _ = std::fs::remove_dir_all(&directory);
    let mut all_kept = sqlite?;

    match &args.postgres {
        Some(url) => all_kept &= measure("PostgreSQL", url, &events, args.batch).await?,
        None => eprintln!(
            "store-ingest: PostgreSQL skipped: give --postgres URL or set TOLLGATE_BENCH_POSTGRES_URL \
             (bench/store.sh starts a throwaway server)"
        ),
    }
    println!();
    println!(
        "Bar: ≥ {BAR_EVENTS_PER_SECOND:.0} events/s on the first ingest, rows in table = events, every re-ingested event a duplicate."
    );
    Ok(all_kept)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("store-ingest: {message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("store-ingest: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("store-ingest: {message}");
            ExitCode::FAILURE
        }
    }
}
