//! `tollgate serve`: the continuous service. One process runs, each part switchable in the
//! `serve:` section of the config:
//!
//! - the watch of `tollgate watch` (history recording, one writer among replicas by Lease);
//! - a periodic full scan whose findings are stored with first-seen and resolved times;
//! - the audit webhook (`POST /api/v1/audit/events`) and the access-log intake
//!   (`POST /api/v1/logs`), both persisted before they are acknowledged;
//! - alerts (new findings, risky changes, detector alerts, expiring certificates) with dedup,
//!   correlation and delivery to webhook, Slack and Alertmanager sinks;
//! - `/metrics`, the REST API with its OpenAPI document, and the dashboard.
//!
//! Module map: [`auth`] (tokens), [`intake`] (the two POST endpoints), [`access`] (the detector
//! thread behind the log intake), [`alerts`] (raising, correlation, delivery), [`scanner`] (the
//! periodic scan), [`changes`] (what happens when the watch records a change), [`metrics`],
//! [`api`] (REST), [`dashboard`] (HTML), [`admission`] (the validating webhook, own TLS port).

pub mod access;
pub mod admission;
pub mod alerts;
pub mod api;
pub mod auth;
pub mod changes;
pub mod dashboard;
pub mod intake;
pub mod metrics;
pub mod mtls;
pub mod reports;
pub mod scanner;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::routing::{get, post};
use tokio::sync::{Mutex, Notify, RwLock};
use tollgate_core::config::Config;
use tollgate_store::Store;

use crate::cli::{GlobalArgs, ServeArgs};
use crate::cmd::watch;
use crate::lease::{self, Elector};
use crate::tracking::{self, Judge, State};

/// The default listener: loopback, so a laptop run exposes nothing.
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Audit batches that may be stored but not yet judged at once: enough to keep the judge busy
/// on every core while the intake answers, few enough that their parsed events stay small
/// (a 400-event batch is a few MB parsed).
const JUDGING_BATCHES: usize = 8;

/// Everything the handlers and the background tasks share.
pub struct App {
    /// The validated config (its `serve` section drives this module).
    pub config: Config,
    /// The store.
    pub store: Store,
    /// The cluster every record is stored under.
    pub cluster: String,
    /// The store's URL (reports name it, without a password).
    pub store_url: String,
    /// Where the dashboard is reached, for links in alerts (no trailing slash).
    pub public_url: String,
    /// The configured tokens.
    pub tokens: auth::Tokens,
    /// The Prometheus registry and families.
    pub metrics: metrics::Metrics,
    /// Raises alerts and hands them to delivery.
    pub alerts: alerts::Hub,
    /// The log intake's detector thread, when the intake is on.
    pub logs: Option<access::Intake>,
    /// The latest scan (route map, certificates, route table), when one has run.
    pub scanned: RwLock<Option<Arc<scanner::Scanned>>>,
    /// Attribution of changes to audit events.
    pub judge: Judge,
    /// The cluster's API, when serving one (the admission webhook checks missing backends).
    pub client: Option<kube::Client>,
    /// Woken when audit events arrive, so risky changes waiting for their actor are sent.
    pub audit_arrived: Notify,
    /// Woken when a watched change should refresh the inventory.
    pub rescan: Notify,
    /// Set once the first scan has finished (or when scans are off): `/readyz`.
    pub ready: AtomicBool,
    /// Set while this replica holds the Lease (or when there is none): it records and alerts.
    pub leader: AtomicBool,
    /// Serializes raising alerts from several tasks (dedup reads then writes).
    pub raise_lock: Mutex<()>,
    /// Bounds the audit batches stored but not yet judged (see `intake::audit_events`).
    pub judging: Arc<tokio::sync::Semaphore>,
}

impl App {
    /// Whether this replica writes (records, scans findings, raises alerts).
    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::SeqCst)
    }
}

pub fn run(args: &ServeArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = crate::input::config(global.config.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(args, global, config))
}

async fn serve(args: &ServeArgs, global: &GlobalArgs, config: Config) -> anyhow::Result<ExitCode> {
    let listen: SocketAddr = match (args.listen, &config.serve.listen) {
        (Some(addr), _) => addr,
        (None, Some(text)) => text.parse().context("serve.listen")?,
        (None, None) => DEFAULT_LISTEN.parse().context("the default listener")?,
    };
    let store_url = tracking::store_url(args.store.as_deref(), &config);
    let store = tracking::open_store(&store_url).await?;
    let cluster = tracking::cluster_name(args.cluster_name.as_deref(), &config);
    let public_url = config
        .serve
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{listen}"))
        .trim_end_matches('/')
        .to_owned();
    let tokens = auth::Tokens::from_env(&config.serve.auth, listen)?;
    for warning in tokens.warnings(listen) {
        eprintln!("tollgate: warning: {warning}");
    }
    let mut paths: Vec<std::path::PathBuf> = args.paths.clone();
    paths.extend(config.serve.scan.paths.iter().map(std::path::PathBuf::from));
    let use_cluster = !args.no_cluster && paths.is_empty();
    let client = if use_cluster {
        let (client, url) = crate::cluster::client(args.context.as_deref()).await?;
        if !global.quiet {
            eprintln!("tollgate: cluster `{cluster}` at {url}");
        }
        Some(client)
    } else {
        None
    };

    let metrics = metrics::Metrics::new();
    let (hub, deliveries) = alerts::Hub::new(&config.serve.alerts);
    let logs = if config.serve.logs.enabled.unwrap_or(true) {
        Some(access::Intake::start(&config, cluster.clone())?)
    } else {
        None
    };
    let lease_name = config.serve.watch.lease.clone();
    let app = Arc::new(App {
        judge: Judge::new(cluster.clone(), &config),
        client: client.clone(),
        store: store.clone(),
        store_url: crate::evidence::redact_store_url(&store_url),
        cluster: cluster.clone(),
        public_url,
        tokens,
        metrics,
        alerts: hub,
        logs,
        scanned: RwLock::new(None),
        audit_arrived: Notify::new(),
        rescan: Notify::new(),
        ready: AtomicBool::new(false),
        leader: AtomicBool::new(lease_name.is_none()),
        raise_lock: Mutex::new(()),
        judging: Arc::new(tokio::sync::Semaphore::new(JUDGING_BATCHES)),
        config,
    });
    app.metrics.set_leader(&cluster, app.is_leader());

    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(alerts::deliver(Arc::clone(&app), deliveries));
    if let Some(logs) = &app.logs {
        tasks.spawn(access::raise_alerts(Arc::clone(&app), logs.alerts()));
    }
    let scans_on = app.config.serve.scan.enabled.unwrap_or(true);
    if scans_on {
        let source = match &client {
            Some(_) => scanner::Source::Cluster {
                context: args.context.clone(),
            },
            None => scanner::Source::Paths(paths.clone()),
        };
        tasks.spawn(scanner::run(Arc::clone(&app), source));
    } else {
        app.ready.store(true, Ordering::SeqCst);
    }
    if !app.config.serve.reports.is_empty() {
        tasks.spawn(reports::run(Arc::clone(&app)));
    }
    if let Some(tls) = app.config.serve.intake_tls.clone() {
        tasks.spawn(mtls::run(Arc::clone(&app), tls));
    }
    if app.config.serve.admission.on() {
        tasks.spawn(admission::run(Arc::clone(&app)));
    }
    let watch_on = app.config.serve.watch.enabled.unwrap_or(true);
    if let (Some(client), true) = (&client, watch_on) {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        tasks.spawn(changes::run(Arc::clone(&app), receiver));
        let identity = args
            .identity
            .clone()
            .unwrap_or_else(lease::default_identity);
        tasks.spawn(record(
            Arc::clone(&app),
            client.clone(),
            lease_name,
            identity,
            sender,
            global.quiet,
        ));
    }

    let router = router(Arc::clone(&app));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    if !global.quiet {
        eprintln!(
            "tollgate: serving on http://{} (cluster `{cluster}`, store {})",
            listener.local_addr().unwrap_or(listen),
            store_url.split("://").next().unwrap_or("?")
        );
    }
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(watch::shutdown());
    tokio::select! {
        result = server => {
            result.context("the HTTP server failed")?;
            if !global.quiet {
                eprintln!("tollgate: stopped; everything acknowledged is stored");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(finished) = tasks.join_next() => match finished {
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Err(anyhow::anyhow!("a background task stopped")),
            Err(e) => Err(anyhow::anyhow!("a background task failed: {e}")),
        }
    }
}

/// The two intake endpoints with their body limits (no authentication: the caller adds the
/// token check, or serves them where the TLS handshake authenticated the client).
pub fn intake_routes(app: &App) -> Router<Arc<App>> {
    let limits = app.config.serve.limits;
    Router::new()
        .route(
            "/api/v1/audit/events",
            post(intake::audit_events)
                .layer(axum::extract::DefaultBodyLimit::max(limits.audit_body())),
        )
        .route(
            "/api/v1/logs",
            post(intake::logs).layer(axum::extract::DefaultBodyLimit::max(limits.log_body())),
        )
}

/// The routes: intake, reads, health, metrics and the dashboard, each with its limits.
pub fn router(app: Arc<App>) -> Router {
    let limits = app.config.serve.limits;
    let timeout = Duration::from_secs(limits.timeout_seconds());
    let intake = intake_routes(&app).route_layer(axum::middleware::from_fn_with_state(
        Arc::clone(&app),
        auth::require_intake,
    ));
    let reads = api::routes()
        .merge(dashboard::routes())
        .route("/metrics", get(metrics::handler))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            auth::require_read,
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/login", post(auth::login))
        .merge(intake)
        .merge(reads)
        .merge(dashboard::assets())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(app)
}

async fn readyz(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
) -> (axum::http::StatusCode, &'static str) {
    if app.ready.load(Ordering::SeqCst) {
        (axum::http::StatusCode::OK, "ready\n")
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "the first scan has not finished\n",
        )
    }
}

/// No framing, no sniffing, no referrer, and a CSP that allows only this origin's own assets.
async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::HeaderValue;
    use axum::http::header;
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // A handler that set its own policy (a report document) keeps it.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                 frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
            ),
        );
    }
    response
}

/// Records changes while this replica may: with a Lease, only while holding it (the other
/// replicas wait, serving reads and intake, and take over when it lapses).
async fn record(
    app: Arc<App>,
    client: kube::Client,
    lease_name: Option<String>,
    identity: String,
    sender: tokio::sync::mpsc::UnboundedSender<tollgate_store::HistoryRecord>,
    quiet: bool,
) -> anyhow::Result<()> {
    let elector = match &lease_name {
        Some(text) => {
            let (namespace, name) = lease::parse_lease(text)?;
            let seconds = app.config.serve.watch.lease_seconds.unwrap_or(15);
            Some(Elector::new(
                client.clone(),
                &namespace,
                &name,
                identity,
                i32::try_from(seconds).unwrap_or(15),
            ))
        }
        None => None,
    };
    loop {
        if let Some(elector) = &elector {
            elector.acquire().await?;
            app.leader.store(true, Ordering::SeqCst);
            app.metrics.set_leader(&app.cluster, true);
            if !quiet {
                eprintln!("tollgate: leading as {}", elector.identity());
            }
        }
        let mut state = State::default();
        tracking::load_state(&app.store, &app.cluster, &mut state).await?;
        let shared = Arc::new(watch::Shared {
            client: client.clone(),
            store: app.store.clone(),
            judge: app.judge.clone(),
            state: Mutex::new(state),
            quiet,
            recorded: Some(sender.clone()),
        });
        let targets = watch::targets(None, &app.config);
        let lost = async {
            match &elector {
                Some(elector) => Some(elector.keep().await),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = watch::run_watches(shared, targets) => {
                result?;
                return Ok(());
            }
            Some(error) = lost => {
                app.leader.store(false, Ordering::SeqCst);
                app.metrics.set_leader(&app.cluster, false);
                eprintln!("tollgate: lost the Lease ({error:#}); waiting to lead again");
            }
        }
    }
}
