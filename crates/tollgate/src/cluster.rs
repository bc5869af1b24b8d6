//! Reading a live cluster: every kind Tollgate knows is listed in parallel (paginated, as
//! `kubectl get` does), and each item goes through the same [`Object::from_value`] as a manifest
//! on disk, so a cluster scan and a scan of the same objects as files give the same findings.
//!
//! A kind the user may not list (403), or that the server does not serve (404), is not fatal: it
//! becomes a warning, the inventory marks it as not in scope, and the rules that need it say they
//! were skipped.

use std::time::Duration;

use anyhow::Context as _;
use futures::future::join_all;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::Value;
use tollgate_core::inventory::{Inventory, Scope};
use tollgate_core::manifest::InputError;
use tollgate_core::object::{Kind, Object};

use crate::cli::InputArgs;
use crate::input::Loaded;

/// Items per list request: large enough to be quick, small enough to bound memory per page.
const PAGE_SIZE: u32 = 500;
/// How long to wait for a TCP connection to the API server (kube's default is 30 s).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a response may stall before the request fails. kube sets none by default, so a
/// server that accepts the connection and never answers would hang the scan forever.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Lists every kind from the cluster the kubeconfig (or in-cluster config) points at.
pub fn load(args: &InputArgs) -> anyhow::Result<Loaded> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(load_async(args))
}

/// The client and the API server's URL (for messages).
pub(crate) async fn client(context: Option<&str>) -> anyhow::Result<(Client, String)> {
    let mut config = match context {
        Some(ctx) => {
            let options = KubeConfigOptions {
                context: Some(ctx.to_owned()),
                ..KubeConfigOptions::default()
            };
            Config::from_kubeconfig(&options)
                .await
                .with_context(|| format!("loading kubeconfig context `{ctx}`"))?
        }
        None => Config::infer()
            .await
            .context("no kubeconfig or in-cluster config found")?,
    };
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    // Count the read timeout from when each request is sent, not from when its pooled
    // connection went idle (kube's documented advice when setting a read timeout).
    config.reset_reader_on_write = true;
    let url = config.cluster_url.to_string();
    let client = Client::try_from(config).context("creating the Kubernetes client")?;
    Ok((client, url))
}

/// The kubeconfig's current context, for messages.
pub(crate) fn context_name(args: &InputArgs) -> Option<String> {
    args.context
        .clone()
        .or_else(|| Kubeconfig::read().ok().and_then(|k| k.current_context))
}

/// The controller ConfigMaps read by name when ConfigMaps may not be listed.
pub(crate) const DEFAULT_CONFIG_MAPS: [&str; 1] = ["ingress-nginx/ingress-nginx-controller"];

async fn load_async(args: &InputArgs) -> anyhow::Result<Loaded> {
    let defaults: Vec<String> = DEFAULT_CONFIG_MAPS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    load_with(args, &defaults).await
}

/// Lists every kind; when ConfigMaps may not be listed, reads `config_maps` (`namespace/name`)
/// by name instead.
pub(crate) async fn load_with(args: &InputArgs, config_maps: &[String]) -> anyhow::Result<Loaded> {
    let (client, url) = client(args.context.as_deref()).await?;
    let namespace = args.namespace.as_deref();
    let lists = join_all(
        Kind::ALL
            .iter()
            .map(|&kind| list_kind(client.clone(), kind, namespace, config_maps)),
    )
    .await;
    let mut scope = Scope {
        complete: true,
        namespace: namespace.map(str::to_owned),
        ..Scope::default()
    };
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut listed = 0usize;
    let mut reached = false;
    for (kind, result) in Kind::ALL.iter().copied().zip(lists) {
        match result {
            Ok(items) => {
                reached = true;
                scope.present.insert(kind);
                listed += items.len();
                for (name, value) in items {
                    match Object::from_value(value, None) {
                        Ok(Some(o)) => objects.push(o),
                        Ok(None) => {}
                        Err(e) => errors.push(InputError {
                            file: None,
                            line: None,
                            column: None,
                            message: format!("{kind} {name}: {e}"),
                        }),
                    }
                }
            }
            Err(ListError::Refused { code: 404, .. }) if kind.add_on() => {
                // The add-on is not installed: there are none of its objects.
                reached = true;
                scope.present.insert(kind);
            }
            Err(ListError::Refused { code, reason }) => {
                reached = true;
                let what = if code == 403 {
                    "forbidden"
                } else {
                    "not served"
                };
                warnings.push(InputError {
                    file: None,
                    line: None,
                    column: None,
                    message: format!(
                        "cannot list {} ({what}, HTTP {code}): rules that need them are skipped",
                        kind.api_path().plural
                    ),
                });
                scope
                    .denied
                    .insert(kind, format!("{what} (HTTP {code}): {reason}"));
            }
            Err(ListError::Other(e)) => {
                warnings.push(InputError {
                    file: None,
                    line: None,
                    column: None,
                    message: format!("cannot list {}: {e:#}", kind.api_path().plural),
                });
                scope.denied.insert(kind, format!("{e}"));
            }
        }
    }
    if !reached {
        let ctx = context_name(args).unwrap_or_else(|| "the current context".into());
        let first = warnings
            .first()
            .map(|w| w.message.clone())
            .unwrap_or_default();
        anyhow::bail!("cannot reach the cluster of {ctx} at {url}: {first}");
    }
    tracing::info!(objects = objects.len(), listed, "cluster read");
    Ok(Loaded {
        inventory: Inventory::build(objects, Vec::new(), Some(scope)),
        documents: listed,
        errors,
        warnings,
    })
}

pub(crate) enum ListError {
    /// The server answered and said no (403, 404, 405).
    Refused { code: u16, reason: String },
    /// Anything else: transport, TLS, authentication, timeouts.
    Other(anyhow::Error),
}

/// Lists one kind, following `continue` tokens. Returns (name, object JSON) per item, with
/// `apiVersion` and `kind` set (list items omit them on the wire).
async fn list_kind(
    client: Client,
    kind: Kind,
    namespace: Option<&str>,
    config_maps: &[String],
) -> Result<Vec<(String, Value)>, ListError> {
    let listed = match list_values(client.clone(), kind, namespace).await {
        // A least-privilege service account may read only the controller ConfigMaps, by name.
        Err(ListError::Refused { code: 403, .. })
            if kind == Kind::ConfigMap && !config_maps.is_empty() =>
        {
            let mut items = Vec::new();
            for entry in config_maps {
                let Some((ns, name)) = entry.split_once('/') else {
                    continue;
                };
                if namespace.is_some_and(|only| only != ns) {
                    continue;
                }
                items.extend(
                    list_named(client.clone(), kind, Some(ns), Some(name))
                        .await?
                        .items,
                );
            }
            Listed {
                items,
                resource_version: String::new(),
            }
        }
        other => other?,
    };
    Ok(listed
        .items
        .into_iter()
        .map(|value| {
            let name = value
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            (name, value)
        })
        .collect())
}

/// A whole list of one kind.
pub(crate) struct Listed {
    /// The objects, each with `apiVersion` and `kind` set.
    pub items: Vec<Value>,
    /// The list's resourceVersion: a watch from it misses nothing the list did not show.
    pub resource_version: String,
}

/// The API of one kind, namespaced or across all namespaces.
pub(crate) fn api_for(client: Client, kind: Kind, namespace: Option<&str>) -> Api<DynamicObject> {
    let path = kind.api_path();
    let resource = ApiResource {
        group: path.group.to_owned(),
        version: path.version.to_owned(),
        api_version: kind.api_version(),
        kind: kind.as_str().to_owned(),
        plural: path.plural.to_owned(),
    };
    match namespace {
        Some(ns) if path.namespaced => Api::namespaced_with(client, ns, &resource),
        _ => Api::all_with(client, &resource),
    }
}

/// `object` as JSON with `apiVersion` and `kind` set (list items omit them on the wire).
pub(crate) fn typed_value(kind: Kind, object: &DynamicObject) -> Result<Value, serde_json::Error> {
    let mut value = serde_json::to_value(object)?;
    if let Value::Object(map) = &mut value {
        map.insert("apiVersion".into(), Value::String(kind.api_version()));
        map.insert("kind".into(), Value::String(kind.as_str().to_owned()));
    }
    Ok(value)
}

/// Lists one kind, following `continue` tokens.
pub(crate) async fn list_values(
    client: Client,
    kind: Kind,
    namespace: Option<&str>,
) -> Result<Listed, ListError> {
    list_named(client, kind, namespace, None).await
}

/// Lists one kind, or only the object called `name` (a field selector: RBAC grants limited to
/// `resourceNames` allow a list only when it selects the name).
pub(crate) async fn list_named(
    client: Client,
    kind: Kind,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Result<Listed, ListError> {
    let api = api_for(client, kind, namespace);
    let mut items = Vec::new();
    let mut params = ListParams::default().limit(PAGE_SIZE);
    if let Some(name) = name {
        params = params.fields(&format!("metadata.name={name}"));
    }
    loop {
        let page = api.list(&params).await.map_err(|e| match e {
            kube::Error::Api(status) if matches!(status.code, 403..=405) => ListError::Refused {
                code: status.code,
                reason: status.message.clone(),
            },
            other => ListError::Other(other.into()),
        })?;
        for item in &page.items {
            items.push(typed_value(kind, item).map_err(|e| ListError::Other(e.into()))?);
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => {
                return Ok(Listed {
                    items,
                    resource_version: page.metadata.resource_version.unwrap_or_default(),
                });
            }
        }
    }
}
