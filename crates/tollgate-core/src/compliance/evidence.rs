//! Evidence a compliance report takes from outside this crate: what was read (files or a
//! cluster), the change history summarised from the store, and the access logs summarised by
//! the log analyser. The binary gathers them (this crate has no database and no log parser);
//! the types are plain data so that `tollgate report` and `tollgate serve` fill them alike.

use std::collections::BTreeMap;

use serde::Serialize;

/// Evidence that was gathered, or why it was not.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Evidence<T> {
    /// Gathered: the data.
    Assessed(T),
    /// Not gathered, and why ("no access logs given").
    NotAssessed {
        /// Why, in words.
        reason: String,
    },
}

impl<T> Evidence<T> {
    /// Evidence that is missing for `reason`.
    pub fn missing(reason: impl Into<String>) -> Self {
        Evidence::NotAssessed {
            reason: reason.into(),
        }
    }

    /// The data, when gathered.
    #[must_use]
    pub fn assessed(&self) -> Option<&T> {
        match self {
            Evidence::Assessed(t) => Some(t),
            Evidence::NotAssessed { .. } => None,
        }
    }

    /// Why it is missing, when it is.
    #[must_use]
    pub fn reason(&self) -> Option<&str> {
        match self {
            Evidence::Assessed(_) => None,
            Evidence::NotAssessed { reason } => Some(reason),
        }
    }
}

/// Where the objects came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputSource {
    /// Manifest files and folders.
    Manifests,
    /// A live cluster.
    Cluster,
    /// No objects: a report of the history store or access logs alone.
    None,
}

/// What was read, as the scope section reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputScope {
    /// Files, a cluster, or nothing.
    pub source: InputSource,
    /// The paths given, as given (manifests).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// The kubeconfig context (cluster), when one was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The only namespace listed (cluster with `-n`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The config file in force, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Documents read (files) or objects listed (cluster).
    pub documents: usize,
    /// Input that could not be read, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// What degraded the input (a kind the cluster would not list), one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl InputScope {
    /// No objects were read.
    #[must_use]
    pub fn none() -> InputScope {
        InputScope {
            source: InputSource::None,
            paths: Vec::new(),
            context: None,
            namespace: None,
            config: None,
            documents: 0,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// The change history of the reporting period, summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEvidence {
    /// The store, with any password removed from its URL.
    pub store: String,
    /// The cluster selected, when the store holds several and one was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Start of the period (`--since`); absent: from the first record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<jiff::Timestamp>,
    /// End of the period (the report's `--at`).
    pub until: jiff::Timestamp,
    /// The oldest change in the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<jiff::Timestamp>,
    /// The newest change in the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<jiff::Timestamp>,
    /// Changes in the period, refused attempts included.
    pub changes: u64,
    /// Changes per action (`created`, `updated`, `deleted`).
    pub by_action: BTreeMap<String, u64>,
    /// Changes per kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Changes per actor, most first.
    pub by_actor: Vec<ActorCount>,
    /// Whether `history.gitops` names identities, without which out-of-band cannot be told.
    pub gitops_configured: bool,
    /// Applied changes made outside the GitOps identities.
    pub out_of_band: u64,
    /// Changes that introduced a rule violation.
    pub risky: u64,
    /// Applied changes that were both out-of-band and risky.
    pub risky_out_of_band: u64,
    /// Attempts the API server refused (kept from the audit log).
    pub denied: u64,
    /// Applied changes whose actor is known only from managedFields (a client-chosen name).
    pub managed_fields_only: u64,
    /// Applied changes with no actor at all.
    pub unknown_actor: u64,
    /// Out-of-band, risky and refused changes, newest first (at most [`NOTABLE_LIMIT`]).
    pub notable: Vec<ChangeEntry>,
    /// Notable changes beyond those listed.
    pub notable_omitted: u64,
    /// The hash chain check over the whole store.
    pub chain: ChainStatus,
}

/// How many notable changes a report lists.
pub const NOTABLE_LIMIT: usize = 100;

/// Changes by one actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActorCount {
    /// The actor as one line (`alice`, `manager kubectl-edit`, `unknown`).
    pub actor: String,
    /// Changes.
    pub changes: u64,
    /// Of which out-of-band.
    pub out_of_band: u64,
    /// Of which risky.
    pub risky: u64,
    /// Of which refused.
    pub denied: u64,
}

/// One change as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeEntry {
    /// The record's number (`tollgate history show ID`).
    pub id: i64,
    /// When.
    pub time: jiff::Timestamp,
    /// `created`, `updated` or `deleted`.
    pub action: String,
    /// `applied` or `denied`.
    pub outcome: String,
    /// `Kind namespace/name`.
    pub resource: String,
    /// Who, as one line.
    pub actor: String,
    /// Where the actor was learned from (`audit`, `managed-fields`, `unknown`).
    pub attribution: String,
    /// Source addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<String>,
    /// Made outside the GitOps identities.
    pub out_of_band: bool,
    /// Rules it newly violated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub introduced: Vec<String>,
    /// Rules it fixed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixed: Vec<String>,
}

/// The result of verifying the history's hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainStatus {
    /// True when every record verified.
    pub intact: bool,
    /// Records verified (before the first break).
    pub records: u64,
    /// The first broken record and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken: Option<String>,
}

/// The access logs, summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessEvidence {
    /// Each file read, in the order given.
    pub files: Vec<LogFile>,
    /// First request (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    /// Last request (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// Non-empty lines read.
    pub lines: u64,
    /// Lines parsed into requests.
    pub requests: u64,
    /// Lines that could not be read.
    pub malformed: u64,
    /// Distinct client addresses (estimated above 64).
    pub unique_clients: u64,
    /// Requests attributed to a route of the inventory.
    pub attributed: u64,
    /// Requests for hosts no route defines.
    pub unrouted: u64,
    /// Responses per status class (`2xx`, `4xx`, ...). Not named `status`: that key says
    /// whether the evidence was assessed.
    pub responses: BTreeMap<String, u64>,
    /// Failed logins (401/403) on authenticated routes.
    pub failed_logins: u64,
    /// The busiest routes (at most [`ROUTE_LIMIT`]).
    pub routes: Vec<RouteTraffic>,
    /// Routes beyond those listed.
    pub routes_omitted: u64,
    /// Alerts per detector.
    pub alerts_by_detector: BTreeMap<String, u64>,
    /// The alerts, first first (at most [`ALERT_LIMIT`]).
    pub alerts: Vec<AccessAlert>,
    /// Alerts beyond those listed.
    pub alerts_omitted: u64,
}

/// How many routes the access summary lists.
pub const ROUTE_LIMIT: usize = 25;
/// How many alerts the access summary lists.
pub const ALERT_LIMIT: usize = 100;

/// One access-log file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogFile {
    /// The file as given.
    pub file: String,
    /// Non-empty lines read from it.
    pub lines: u64,
    /// The minute of its first request (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    /// The minute of its last request (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// Why it could not be read to the end, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Traffic of one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteTraffic {
    /// The route as one line (`storefront/storefront shop.example.com/admin → shop-admin:http`).
    pub route: String,
    /// Requests.
    pub requests: u64,
    /// 4xx responses.
    pub errors_4xx: u64,
    /// 5xx responses.
    pub errors_5xx: u64,
    /// Distinct clients.
    pub clients: u64,
}

/// One detector alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessAlert {
    /// The detector.
    pub detector: String,
    /// The client (or a description of many).
    pub source: String,
    /// The route, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Matching requests.
    pub count: u64,
    /// First matching request (RFC 3339).
    pub first: String,
    /// Last matching request (RFC 3339).
    pub last: String,
    /// What matched (a CVE, a tool, a country), when one value says it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
