//! Change tracking shared by `tollgate watch`, `tollgate audit import` and `tollgate history`:
//! turning an observed object into a history record (normalized, diffed, judged by the rules,
//! attributed) and joining records to the audit events that explain them.
//!
//! Attribution follows the research notes (§1.6): an audit event whose response carries the
//! resourceVersion the watch saw is an exact match; otherwise the nearest write of the right verb
//! to the same object within the attribution window, preferring one whose `fieldManager` equals
//! the object's newest managedFields manager. Records are never rewritten (the chain covers them),
//! so an audit event that arrives after its change is joined when the history is read.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Context as _;
use serde_json::Value;
use tollgate_core::audit::AuditEvent;
use tollgate_core::change::{self, TRACKED_KINDS};
use tollgate_core::config::{Config, identity_matches};
use tollgate_core::object::{Kind, Object};
use tollgate_store::{
    Action, Actor, Attribution, AuditQuery, HistoryRecord, NewRecord, Outcome, ResourceRef, Store,
};

/// The store used when neither `--store`, `TOLLGATE_STORE` nor the config names one.
pub const DEFAULT_STORE: &str = "sqlite://tollgate.db";
/// The cluster name recorded when neither `--cluster-name` nor the config names one.
pub const DEFAULT_CLUSTER: &str = "default";
/// How far an audit event may be from a change for the time-based join, by default.
const DEFAULT_WINDOW_SECONDS: u32 = 5;

/// The store URL: the flag (or its environment variable), else the config, else the default.
pub fn store_url(flag: Option<&str>, config: &Config) -> String {
    flag.map(str::to_owned)
        .or_else(|| config.history.store.clone())
        .unwrap_or_else(|| DEFAULT_STORE.to_owned())
}

/// Connects to the store, naming the URL's scheme (never the password) when it fails.
pub async fn open_store(url: &str) -> anyhow::Result<Store> {
    let scheme = url.split(':').next().unwrap_or_default();
    Store::connect(url)
        .await
        .with_context(|| format!("opening the {scheme} store"))
}

/// The cluster name: the flag, else the config, else `default`.
pub fn cluster_name(flag: Option<&str>, config: &Config) -> String {
    flag.map(str::to_owned)
        .or_else(|| config.history.cluster.clone())
        .unwrap_or_else(|| DEFAULT_CLUSTER.to_owned())
}

/// The tracked kind served at `resource` (plural) in `group`.
pub fn kind_of_resource(group: &str, resource: &str) -> Option<Kind> {
    TRACKED_KINDS.into_iter().find(|kind| {
        let path = kind.api_path();
        path.plural == resource && path.group == group
    })
}

/// What attribution and out-of-band marking need from the config.
#[derive(Debug, Clone)]
pub struct Judge {
    /// The cluster records are written for.
    pub cluster: String,
    /// The config: its `history` section, and the rules' settings.
    pub config: Config,
}

impl Judge {
    /// The judge for `cluster` under `config`.
    pub fn new(cluster: String, config: &Config) -> Judge {
        Judge {
            cluster,
            config: config.clone(),
        }
    }

    fn window_ms(&self) -> i64 {
        i64::from(
            self.config
                .history
                .attribution_window_seconds
                .unwrap_or(DEFAULT_WINDOW_SECONDS),
        ) * 1_000
    }

    /// Whether a change by `actor` bypassed the pipeline: false when no GitOps identity is
    /// configured (nothing to check against) or when nothing names the actor.
    pub fn out_of_band(&self, actor: &Actor) -> bool {
        let gitops = &self.config.history.gitops;
        if gitops.is_empty() {
            return false;
        }
        if let Some(user) = &actor.user {
            return !gitops.has_user(user);
        }
        match &actor.field_manager {
            Some(manager) => !gitops.has_field_manager(manager),
            None => false,
        }
    }

    /// Marks `actor` as a shared identity when it is one.
    fn mark_shared(&self, actor: &mut Actor) {
        let Some(user) = &actor.user else { return };
        let history = &self.config.history;
        actor.shared = history.gitops.has_user(user)
            || history
                .shared_identities
                .iter()
                .any(|pattern| identity_matches(pattern, user));
    }

    /// The actor of an audit event (the effective user, and the impersonator when there was one).
    pub fn actor_from_event(&self, event: &AuditEvent, matched_by: &str) -> Actor {
        let user = event.effective_user();
        let mut actor = Actor {
            user: Some(user.username.clone()),
            groups: user.groups.clone(),
            impersonated_by: event.impersonated_by().map(|u| u.username.clone()),
            source_ips: event.source_ips.clone(),
            user_agent: event.user_agent.clone(),
            field_manager: event.field_manager().map(|m| m.into_owned()),
            audit_id: Some(event.audit_id.clone()),
            attribution: Attribution::Audit,
            matched_by: Some(matched_by.to_owned()),
            shared: false,
        };
        self.mark_shared(&mut actor);
        actor
    }

    /// The audit event that made the change `record` describes, if the store has one: see the
    /// module documentation for the order of preference.
    pub async fn join(&self, store: &Store, record: &NewRecord) -> anyhow::Result<Option<Actor>> {
        let Some(kind) = Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == record.resource.kind)
        else {
            return Ok(None);
        };
        let path = kind.api_path();
        let version =
            (!record.resource_version.is_empty()).then_some(record.resource_version.as_str());
        let candidates = store
            .audit_candidates(&AuditQuery {
                cluster: &record.cluster,
                api_group: path.group,
                resource: path.plural,
                namespace: &record.resource.namespace,
                name: &record.resource.name,
                around_ms: record.time_ms,
                window_ms: self.window_ms(),
                resource_version: version,
            })
            .await?;
        let events: Vec<&AuditEvent> = candidates
            .iter()
            .map(|c| &c.event)
            .filter(|e| e.stage == tollgate_core::audit::AuditStage::ResponseComplete)
            .collect();
        let wanted_denied = record.outcome == Outcome::Denied;
        if let Some(version) = version
            && let Some(event) = events
                .iter()
                .find(|e| !e.denied() && e.response_resource_version() == Some(version))
        {
            return Ok(Some(self.actor_from_event(event, "resource-version")));
        }
        let verb_fits = |event: &AuditEvent| match record.action {
            Action::Created => event.verb == "create",
            Action::Updated => matches!(event.verb.as_str(), "update" | "patch"),
            Action::Deleted => matches!(event.verb.as_str(), "delete" | "deletecollection"),
        };
        let fitting: Vec<&&AuditEvent> = events
            .iter()
            .filter(|e| e.denied() == wanted_denied && verb_fits(e))
            // A write whose response names another version made another change.
            .filter(|e| {
                record.action == Action::Deleted
                    || wanted_denied
                    || e.response_resource_version().is_none()
            })
            .collect();
        if let Some(manager) = &record.actor.field_manager
            && let Some(event) = fitting
                .iter()
                .find(|e| e.field_manager().as_deref() == Some(manager.as_str()))
        {
            return Ok(Some(self.actor_from_event(event, "field-manager-and-time")));
        }
        // Candidates come nearest first.
        Ok(fitting
            .first()
            .map(|event| self.actor_from_event(event, "time")))
    }

    /// The record as it should be shown: the actor joined to an audit event when the stored one
    /// is not from one, and out-of-band recomputed for that actor.
    pub async fn resolve(&self, store: &Store, record: &mut HistoryRecord) -> anyhow::Result<()> {
        if record.change.actor.attribution != Attribution::Audit
            && let Some(mut actor) = self.join(store, &record.change).await?
        {
            if actor.field_manager.is_none() {
                actor.field_manager = record.change.actor.field_manager.clone();
            }
            record.change.actor = actor;
            record.change.out_of_band = self.out_of_band(&record.change.actor);
        }
        Ok(())
    }
}

/// The newest managedFields entry of an object: its manager and time (ms), the client-chosen name
/// of whoever wrote last.
pub fn newest_manager(object: &Value) -> Option<(String, Option<i64>)> {
    let entries = object.pointer("/metadata/managedFields")?.as_array()?;
    entries
        .iter()
        .filter(|e| {
            e.get("subresource")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        })
        .filter_map(|e| {
            let manager = e.get("manager")?.as_str()?.to_owned();
            let time = e
                .get("time")
                .and_then(Value::as_str)
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .map(|t| t.as_millisecond());
            Some((manager, time))
        })
        .max_by_key(|(_, time)| *time)
}

/// Object identity in the tracker's state.
pub type Key = (Kind, String, String);

/// `(kind, namespace, name)` of an object's JSON (`namespace` empty for cluster-scoped kinds,
/// `default` when a namespaced object names none).
pub fn key_of(kind: Kind, object: &Value) -> Key {
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let namespace = if kind.namespaced() {
        Some(text("/metadata/namespace"))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".to_owned())
    } else {
        String::new()
    };
    (kind, namespace, text("/metadata/name"))
}

/// The current objects the watch knows, raw as the API served them (Secrets already reduced to
/// metadata and certificate facts by [`change::normalize`] before they get here), for judging a
/// change in the context of its neighbours.
#[derive(Debug, Default)]
pub struct State {
    objects: HashMap<Key, Value>,
}

impl State {
    /// Sets an object's current version.
    pub fn put(&mut self, key: Key, object: Value) {
        self.objects.insert(key, object);
    }

    /// Forgets a deleted object.
    pub fn remove(&mut self, key: &Key) -> Option<Value> {
        self.objects.remove(key)
    }

    /// The neighbours of `key` that rules may look at: the objects of its namespace and the
    /// cluster-scoped ones, without `key` itself.
    fn context(&self, key: &Key) -> Vec<Object> {
        self.objects
            .iter()
            .filter(|(k, _)| *k != key && (k.1 == key.1 || k.1.is_empty() || key.1.is_empty()))
            .filter_map(|(_, v)| Object::from_value(v.clone(), None).ok().flatten())
            .collect()
    }
}

/// An object observed by the watch or a relist.
pub struct Observed<'a> {
    /// Its kind.
    pub kind: Kind,
    /// The object as served, or its last state for a deletion.
    pub object: &'a Value,
    /// True when the object is gone.
    pub deleted: bool,
    /// The resourceVersion of the change (the object's, or the deletion's).
    pub resource_version: String,
}

/// Records an observed version when it differs from the stored current one, and returns the
/// record; `None` when nothing changed after normalization (status churn, a replay after a
/// restart, the same version seen twice).
pub async fn record(
    store: &Store,
    judge: &Judge,
    state: &mut State,
    observed: Observed<'_>,
    now_ms: i64,
) -> anyhow::Result<Option<HistoryRecord>> {
    let kind = observed.kind;
    let key = key_of(kind, observed.object);
    let (_, namespace, name) = &key;
    let previous = store
        .latest(&judge.cluster, kind.as_str(), namespace, name)
        .await?
        .filter(|r| r.change.action != Action::Deleted);
    let normalized = if observed.deleted {
        None
    } else {
        change::normalize(observed.object)
    };
    if !observed.deleted && normalized.is_none() {
        return Ok(None);
    }
    let before = previous.as_ref().and_then(|r| r.change.object.clone());
    match (&before, &normalized) {
        (None, None) => return Ok(None),
        (Some(b), Some(a)) if b == a => {
            state.put(key, a.clone());
            return Ok(None);
        }
        _ => {}
    }
    let action = match (&before, &normalized) {
        (None, _) => Action::Created,
        (_, None) => Action::Deleted,
        _ => Action::Updated,
    };
    // The newest manager wrote the version that was deleted, so it says nothing of the deletion.
    let manager = if observed.deleted {
        None
    } else {
        newest_manager(observed.object)
    };
    let time_ms = manager.as_ref().and_then(|(_, t)| *t).unwrap_or(now_ms);
    let context = state.context(&key);
    let present: BTreeSet<Kind> = TRACKED_KINDS.into_iter().collect();
    let risk = change::risk(
        &context,
        judged_object(before.as_ref()).as_ref(),
        judged_object(normalized.as_ref()).as_ref(),
        &present,
        &judge.config,
        jiff::Timestamp::now(),
    );
    let uid = observed
        .object
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut new = NewRecord {
        cluster: judge.cluster.clone(),
        time_ms,
        action,
        resource: ResourceRef {
            api_version: kind.api_version(),
            kind: kind.as_str().to_owned(),
            namespace: namespace.clone(),
            name: name.clone(),
            uid,
        },
        resource_version: observed.resource_version.clone(),
        object: normalized.clone(),
        diff: change::diff(before.as_ref(), normalized.as_ref()),
        actor: Actor {
            field_manager: manager.map(|(m, _)| m),
            attribution: Attribution::Unknown,
            ..Actor::default()
        },
        risk: risk.into(),
        outcome: Outcome::Applied,
        out_of_band: false,
    };
    if new.actor.field_manager.is_some() {
        new.actor.attribution = Attribution::ManagedFields;
    }
    if let Some(actor) = judge.join(store, &new).await? {
        let manager = new.actor.field_manager.take();
        new.actor = actor;
        if new.actor.field_manager.is_none() {
            new.actor.field_manager = manager;
        }
    }
    new.out_of_band = judge.out_of_band(&new.actor);
    match &normalized {
        Some(object) => state.put(key, object.clone()),
        None => {
            state.remove(&key);
        }
    }
    Ok(Some(store.append(new).await?))
}

/// A stored (normalized) version as the rules read it; `None` when absent or unreadable.
pub fn judged_object(version: Option<&Value>) -> Option<Object> {
    Object::from_value(version?.clone(), None).ok().flatten()
}

/// Fills `state` with the current objects the store knows for `cluster`.
pub async fn load_state(store: &Store, cluster: &str, state: &mut State) -> anyhow::Result<()> {
    for kind in TRACKED_KINDS {
        for record in store.current_objects(cluster, kind.as_str()).await? {
            if let Some(object) = record.change.object {
                state.put(key_of(kind, &object), object);
            }
        }
    }
    Ok(())
}

/// Who made a change, in a few words: the user (or the field manager when no user is known),
/// and the impersonator.
pub fn actor_name(actor: &Actor) -> String {
    let mut text = match (&actor.user, &actor.field_manager) {
        (Some(user), _) => user.clone(),
        (None, Some(manager)) => format!("manager {manager}"),
        (None, None) => "unknown".to_owned(),
    };
    if let Some(by) = &actor.impersonated_by {
        text.push_str(&format!(" (impersonated by {by})"));
    }
    text
}

/// The severity of the worst rule a change introduced (medium when none is known).
pub fn worst_severity(
    risk: &tollgate_store::Risk,
    severities: &BTreeMap<&'static str, tollgate_core::rules::Severity>,
) -> tollgate_core::rules::Severity {
    risk.introduced
        .iter()
        .filter_map(|r| severities.get(r.as_str()).copied())
        .max()
        .unwrap_or(tollgate_core::rules::Severity::Medium)
}

/// Rule names and severities, for showing which rules a change touched.
pub fn severities() -> BTreeMap<&'static str, tollgate_core::rules::Severity> {
    tollgate_core::rules::registry::all()
        .iter()
        .map(|rule| (rule.meta().name, rule.meta().severity))
        .collect()
}
