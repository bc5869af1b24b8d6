//! `tollgate watch`: record every change of the tracked kinds into the history.
//!
//! One watch per kind (and one per controller ConfigMap), each resuming from the resourceVersion
//! the store kept, so a restart replays what happened while it was down instead of losing it. When
//! the API server no longer has that version (410 Gone), the kind is listed again and compared with
//! the store: objects that changed or disappeared meanwhile are recorded then, as one change each.
//! A version is recorded only when its normalized form differs from the stored one, so replays,
//! status churn and a crash between storing a change and its resume version never duplicate a
//! record.
//!
//! kube-runtime's `watcher` was not used: it always starts with a full list and cannot resume from
//! a stored resourceVersion, which is the guarantee this command exists to give.

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::{StreamExt as _, TryStreamExt as _};
use kube::Client;
use kube::api::{DynamicObject, WatchEvent, WatchParams};
use serde_json::Value;
use tokio::sync::Mutex;
use tollgate_core::change::TRACKED_KINDS;
use tollgate_core::object::Kind;
use tollgate_store::{HistoryRecord, Store};

use crate::cli::{GlobalArgs, WatchArgs};
use crate::cluster::{self, ListError};
use crate::lease::{self, Elector};
use crate::tracking::{self, Judge, Observed, State};

/// How long one watch request lasts before it is renewed (the API server's default is longer;
/// a shorter one bounds how long a silently dropped connection goes unnoticed).
const WATCH_SECONDS: u32 = 25;
/// A relist announces each change it records up to this many, and a count beyond.
const ANNOUNCE_EACH: usize = 20;
/// How often the watch of an add-on's kind that the server does not serve (the add-on is not
/// installed) looks again.
const ADD_ON_RECHECK: Duration = Duration::from_secs(300);

/// What one watch covers.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    kind: Kind,
    /// Only this namespace (`-n`, or a ConfigMap's).
    namespace: Option<String>,
    /// Only this name (a controller ConfigMap).
    name: Option<String>,
}

impl Target {
    /// The key its resume version is stored under.
    fn state_key(&self) -> String {
        match (&self.namespace, &self.name) {
            (Some(ns), Some(name)) => format!("{}:{ns}/{name}", self.kind.as_str()),
            (Some(ns), None) => format!("{}:{ns}", self.kind.as_str()),
            _ => self.kind.as_str().to_owned(),
        }
    }

    fn covers(&self, namespace: &str, name: &str) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| !self.kind.namespaced() || ns == namespace)
            && self.name.as_deref().is_none_or(|n| n == name)
    }

    fn describe(&self) -> String {
        let plural = self.kind.api_path().plural;
        match (&self.namespace, &self.name) {
            (Some(ns), Some(name)) => format!("{plural} {ns}/{name}"),
            (Some(ns), None) if self.kind.namespaced() => format!("{plural} in {ns}"),
            _ => plural.to_owned(),
        }
    }
}

/// Everything the watches share.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) store: Store,
    pub(crate) judge: Judge,
    /// Held while a change is recorded, so neighbours are judged in a consistent state.
    pub(crate) state: Mutex<State>,
    pub(crate) quiet: bool,
    /// Where each recorded change is also sent (`tollgate serve` alerts and rescans on them).
    pub(crate) recorded: Option<tokio::sync::mpsc::UnboundedSender<HistoryRecord>>,
}

impl Shared {
    /// Hands a recorded change to whoever listens.
    fn publish(&self, record: &HistoryRecord) {
        if let Some(sender) = &self.recorded {
            // The receiver is gone only while the service shuts down.
            let _ = sender.send(record.clone());
        }
    }
}

pub fn run(args: &WatchArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let config = crate::input::config(global.config.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(watch(args, global, &config))
}

async fn watch(
    args: &WatchArgs,
    global: &GlobalArgs,
    config: &tollgate_core::config::Config,
) -> anyhow::Result<ExitCode> {
    let (client, url) = cluster::client(args.context.as_deref()).await?;
    let store_url = tracking::store_url(args.store.as_deref(), config);
    let store = tracking::open_store(&store_url).await?;
    let cluster_name = tracking::cluster_name(args.cluster_name.as_deref(), config);
    let judge = Judge::new(cluster_name.clone(), config);

    let elector = match &args.lease {
        Some(text) => {
            let (namespace, name) = lease::parse_lease(text)?;
            let identity = args
                .identity
                .clone()
                .unwrap_or_else(lease::default_identity);
            let elector = Elector::new(
                client.clone(),
                &namespace,
                &name,
                identity,
                args.lease_seconds,
            );
            elector.acquire().await?;
            if !global.quiet {
                eprintln!(
                    "tollgate: holding the Lease {namespace}/{name} as {}",
                    elector.identity()
                );
            }
            Some(elector)
        }
        None => None,
    };

    let mut state = State::default();
    tracking::load_state(&store, &cluster_name, &mut state).await?;
    let shared = Arc::new(Shared {
        client,
        store,
        judge,
        state: Mutex::new(state),
        quiet: global.quiet,
        recorded: None,
    });
    let targets = targets(args.namespace.as_deref(), config);
    if !global.quiet {
        eprintln!(
            "tollgate: watching {} kinds on {url} as cluster `{cluster_name}`, recording into {}",
            targets.len(),
            store_url.split("://").next().unwrap_or("the store")
        );
    }

    if args.once {
        let mut recorded = 0;
        for target in &targets {
            match relist(&shared, target, true).await {
                Ok((_, n)) => recorded += n,
                Err(RelistError::Refused(message)) => eprintln!("tollgate: warning: {message}"),
                Err(RelistError::NotInstalled) => {}
                Err(RelistError::Other(e)) => return Err(e),
            }
        }
        if !global.quiet {
            eprintln!("tollgate: {recorded} change(s) recorded");
        }
        return Ok(ExitCode::SUCCESS);
    }

    let watches = run_watches(shared, targets);
    let lost = async {
        match &elector {
            Some(elector) => elector.keep().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        error = lost => Err(error.context("stopped recording")),
        finished = watches => finished.map(|()| ExitCode::SUCCESS),
        () = shutdown() => {
            if !global.quiet {
                eprintln!("tollgate: stopping; every change seen so far is stored");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs one watch per target until one fails (the others are then stopped).
pub(crate) async fn run_watches(shared: Arc<Shared>, targets: Vec<Target>) -> anyhow::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for target in targets {
        let shared = Arc::clone(&shared);
        tasks.spawn(async move { watch_target(&shared, &target).await });
    }
    match tasks.join_next().await {
        Some(Ok(result)) => result,
        Some(Err(e)) => Err(anyhow::anyhow!("a watch task failed: {e}")),
        None => Ok(()),
    }
}

/// SIGINT or SIGTERM.
pub(crate) async fn shutdown() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The watches to run: every tracked kind (namespaced ones in `-n` only), and one per controller
/// ConfigMap instead of all ConfigMaps.
pub(crate) fn targets(
    namespace: Option<&str>,
    config: &tollgate_core::config::Config,
) -> Vec<Target> {
    let mut targets = Vec::new();
    for kind in TRACKED_KINDS {
        if kind == Kind::ConfigMap {
            let names = config.history.config_maps.clone().unwrap_or_else(|| {
                cluster::DEFAULT_CONFIG_MAPS
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            });
            for name in names {
                if let Some((ns, name)) = name.split_once('/')
                    && namespace.is_none_or(|only| only == ns)
                {
                    targets.push(Target {
                        kind,
                        namespace: Some(ns.to_owned()),
                        name: Some(name.to_owned()),
                    });
                }
            }
            continue;
        }
        targets.push(Target {
            kind,
            namespace: namespace.map(str::to_owned).filter(|_| kind.namespaced()),
            name: None,
        });
    }
    targets
}

pub(crate) enum RelistError {
    /// The kind may not be listed (403) or is not served: watching it is impossible, not fatal.
    Refused(String),
    /// The kind is an add-on's custom resource (the Gateway API, cert-manager, an
    /// implementation's policies) that the server does not serve (404): the add-on is not
    /// installed, so there is nothing to record and nothing to warn about.
    NotInstalled,
    Other(anyhow::Error),
}

impl From<anyhow::Error> for RelistError {
    fn from(e: anyhow::Error) -> Self {
        RelistError::Other(e)
    }
}

impl From<tollgate_store::Error> for RelistError {
    fn from(e: tollgate_store::Error) -> Self {
        RelistError::Other(e.into())
    }
}

/// Lists a target and records what differs from the store: changed and new objects, and objects
/// the store has that the list no longer shows (deleted while nobody watched). Returns the list's
/// resourceVersion, to watch from, and how many changes were recorded.
pub(crate) async fn relist(
    shared: &Shared,
    target: &Target,
    publish: bool,
) -> Result<(String, usize), RelistError> {
    let listed = cluster::list_named(
        shared.client.clone(),
        target.kind,
        target.namespace.as_deref(),
        target.name.as_deref(),
    )
    .await
    .map_err(|e| match e {
        ListError::Refused { code: 404, .. } if target.kind.add_on() => RelistError::NotInstalled,
        ListError::Refused { code, reason } => RelistError::Refused(format!(
            "cannot list {} (HTTP {code}: {reason}); its changes are not recorded",
            target.describe()
        )),
        ListError::Other(e) => {
            RelistError::Other(e.context(format!("listing {}", target.describe())))
        }
    })?;
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let mut seen = HashSet::new();
    let mut records = Vec::new();
    let mut recorded = 0;
    let mut state = shared.state.lock().await;
    for item in &listed.items {
        let key = tracking::key_of(target.kind, item);
        if !target.covers(&key.1, &key.2) {
            continue;
        }
        seen.insert(key);
        let observed = Observed {
            kind: target.kind,
            object: item,
            deleted: false,
            resource_version: resource_version(item),
        };
        if let Some(record) =
            tracking::record(&shared.store, &shared.judge, &mut state, observed, now_ms).await?
        {
            if publish {
                shared.publish(&record);
            }
            recorded += 1;
            if records.len() < ANNOUNCE_EACH {
                records.push(record);
            }
        }
    }
    let stored = shared
        .store
        .current_objects(&shared.judge.cluster, target.kind.as_str())
        .await?;
    for record in stored {
        let resource = &record.change.resource;
        if !target.covers(&resource.namespace, &resource.name) {
            continue;
        }
        let key = (
            target.kind,
            resource.namespace.clone(),
            resource.name.clone(),
        );
        if seen.contains(&key) {
            continue;
        }
        let last = record.change.object.clone().unwrap_or(Value::Null);
        let observed = Observed {
            kind: target.kind,
            object: &last,
            deleted: true,
            resource_version: listed.resource_version.clone(),
        };
        if let Some(record) =
            tracking::record(&shared.store, &shared.judge, &mut state, observed, now_ms).await?
        {
            if publish {
                shared.publish(&record);
            }
            recorded += 1;
            if records.len() < ANNOUNCE_EACH {
                records.push(record);
            }
        }
    }
    drop(state);
    // A first run over a large cluster records every object: one line each would bury the rest.
    if recorded <= ANNOUNCE_EACH {
        for record in &records {
            announce(shared, record);
        }
    } else if !shared.quiet {
        eprintln!(
            "tollgate: {}: {} change(s) recorded from the list",
            target.describe(),
            recorded
        );
    }
    shared
        .store
        .set_resume_version(
            &shared.judge.cluster,
            &target.state_key(),
            &listed.resource_version,
        )
        .await?;
    Ok((listed.resource_version, recorded))
}

fn resource_version(object: &Value) -> String {
    object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn announce(shared: &Shared, record: &tollgate_store::HistoryRecord) {
    if shared.quiet {
        return;
    }
    let change = &record.change;
    let who = change
        .actor
        .user
        .as_deref()
        .or(change.actor.field_manager.as_deref())
        .unwrap_or("unknown");
    let risk = if change.risk.introduced.is_empty() {
        String::new()
    } else {
        format!(" risk: {}", change.risk.introduced.join(", "))
    };
    let place = if change.resource.namespace.is_empty() {
        change.resource.name.clone()
    } else {
        format!("{}/{}", change.resource.namespace, change.resource.name)
    };
    eprintln!(
        "tollgate: #{} {} {} {place} by {who}{risk}",
        record.seq,
        change.action.as_str(),
        change.resource.kind
    );
}

/// Watches one target until a fatal error: resume, stream, relist on 410, retry transport errors
/// with backoff.
async fn watch_target(shared: &Shared, target: &Target) -> anyhow::Result<()> {
    let api = cluster::api_for(
        shared.client.clone(),
        target.kind,
        target.namespace.as_deref(),
    );
    let mut params = WatchParams::default().timeout(WATCH_SECONDS);
    if let Some(name) = &target.name {
        params = params.fields(&format!("metadata.name={name}"));
    }
    let mut backoff = Duration::from_millis(200);
    loop {
        let stored = shared
            .store
            .resume_version(&shared.judge.cluster, &target.state_key())
            .await?;
        let version = match stored {
            Some(version) => version,
            // The first list of a kind is the baseline: its objects were not changed now, so
            // nobody is told about them as changes.
            None => match relist(shared, target, false).await {
                Ok((version, _)) => version,
                Err(RelistError::Refused(message)) => {
                    eprintln!("tollgate: warning: {message}");
                    // The other watches go on; this one has nothing to do.
                    std::future::pending::<()>().await;
                    return Ok(());
                }
                Err(RelistError::NotInstalled) => {
                    // Look again now and then: the add-on may be installed while the watch
                    // runs, and its objects are then recorded from their first list on.
                    tracing::debug!(
                        "{} not served: the add-on is not installed",
                        target.describe()
                    );
                    tokio::time::sleep(ADD_ON_RECHECK).await;
                    continue;
                }
                Err(RelistError::Other(e)) => {
                    tracing::warn!("{e:#}; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            },
        };
        let stream = match api.watch(&params, &version).await {
            Ok(stream) => stream,
            Err(kube::Error::Api(status)) if status.code == 410 => {
                expired(shared, target).await?;
                // A server that keeps expiring what it just listed must not be hammered.
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
            Err(kube::Error::Api(status)) if status.code == 404 && target.kind.add_on() => {
                // The add-on was uninstalled since the last run; not a failure to report.
                tracing::debug!(
                    "{} not served: the add-on is not installed",
                    target.describe()
                );
                tokio::time::sleep(ADD_ON_RECHECK).await;
                continue;
            }
            Err(e) => {
                tracing::warn!("watching {}: {e}; retrying", target.describe());
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        let mut stream = stream.boxed();
        loop {
            let event = match stream.try_next().await {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("watch of {} interrupted: {e}", target.describe());
                    tokio::time::sleep(backoff).await;
                    break;
                }
            };
            if !matches!(event, WatchEvent::Error(_)) {
                backoff = Duration::from_millis(200);
            }
            match event {
                WatchEvent::Added(object) | WatchEvent::Modified(object) => {
                    apply(shared, target, &object, false).await?;
                }
                WatchEvent::Deleted(object) => apply(shared, target, &object, true).await?,
                WatchEvent::Bookmark(bookmark) => {
                    shared
                        .store
                        .set_resume_version(
                            &shared.judge.cluster,
                            &target.state_key(),
                            &bookmark.metadata.resource_version,
                        )
                        .await?;
                }
                WatchEvent::Error(status) if status.code == 410 => {
                    expired(shared, target).await?;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    break;
                }
                WatchEvent::Error(status) => {
                    tracing::warn!("watch of {} ended: {}", target.describe(), status.message);
                    tokio::time::sleep(backoff).await;
                    break;
                }
            }
        }
    }
}

/// The stored resume version is too old: list again and compare with the store.
async fn expired(shared: &Shared, target: &Target) -> anyhow::Result<()> {
    tracing::info!(
        "{}: resourceVersion expired (410); listing again",
        target.describe()
    );
    match relist(shared, target, true).await {
        // An add-on removed while it was watched: nothing to list; the watch looks again later.
        Ok(_) | Err(RelistError::NotInstalled) => Ok(()),
        Err(RelistError::Refused(message)) => anyhow::bail!(message),
        Err(RelistError::Other(e)) => Err(e),
    }
}

/// Records one watch event and moves the resume version past it.
async fn apply(
    shared: &Shared,
    target: &Target,
    object: &DynamicObject,
    deleted: bool,
) -> anyhow::Result<()> {
    let value = cluster::typed_value(target.kind, object)?;
    let key = tracking::key_of(target.kind, &value);
    if !target.covers(&key.1, &key.2) {
        return Ok(());
    }
    let version = resource_version(&value);
    let observed = Observed {
        kind: target.kind,
        object: &value,
        deleted,
        resource_version: version.clone(),
    };
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let mut state = shared.state.lock().await;
    if let Some(record) =
        tracking::record(&shared.store, &shared.judge, &mut state, observed, now_ms).await?
    {
        announce(shared, &record);
        shared.publish(&record);
    }
    drop(state);
    shared
        .store
        .set_resume_version(&shared.judge.cluster, &target.state_key(), &version)
        .await?;
    Ok(())
}
