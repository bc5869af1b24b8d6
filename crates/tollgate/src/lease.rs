//! Leader election on a `coordination.k8s.io/v1` Lease, so that of several replicas of `watch`
//! (or `serve`) exactly one writes the history.
//!
//! The protocol is client-go's: the Lease names its holder and when it last renewed; a candidate
//! takes it only when it is free or its holder let it lapse (`renewTime + leaseDurationSeconds` in
//! the past), and every write carries the `resourceVersion` it read, so of two candidates racing
//! for a lapsed Lease the API server lets one win (the other gets 409 Conflict). The holder renews
//! every third of the duration; if it cannot renew before the Lease would lapse it stops writing,
//! because by then another replica may have taken over.

use std::time::Duration;

use anyhow::{Context as _, bail};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Client;
use kube::api::{Api, PostParams};

/// How long a Lease lasts without renewal when its holder did not say.
const DEFAULT_LEASE_SECONDS: i32 = 15;

/// A Lease to hold: where it is and who we are.
#[derive(Debug, Clone)]
pub struct Elector {
    api: Api<Lease>,
    name: String,
    identity: String,
    seconds: i32,
    duration: Duration,
}

/// What one attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// We hold the Lease (acquired or renewed).
    Held,
    /// Someone else holds it.
    HeldBy(String),
}

impl Elector {
    /// An elector for `namespace/name` as `identity`, holding it `seconds` without renewal.
    pub fn new(
        client: Client,
        namespace: &str,
        name: &str,
        identity: String,
        seconds: i32,
    ) -> Elector {
        Elector {
            api: Api::namespaced(client, namespace),
            name: name.to_owned(),
            identity,
            seconds,
            duration: Duration::from_secs(seconds.unsigned_abs().into()),
        }
    }

    /// Who we are in the Lease.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// How often the holder renews.
    pub fn renew_interval(&self) -> Duration {
        self.duration / 3
    }

    /// Takes or renews the Lease once.
    ///
    /// # Errors
    /// When the API server cannot be reached or refuses for another reason than a lost race.
    pub async fn try_acquire(&self) -> anyhow::Result<Attempt> {
        let now = jiff::Timestamp::now();
        let existing = self
            .api
            .get_opt(&self.name)
            .await
            .with_context(|| format!("reading Lease {}", self.name))?;
        let Some(mut lease) = existing else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.spec(now, now, 0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(Attempt::Held),
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(Attempt::HeldBy(
                    "another replica (it created the Lease first)".into(),
                )),
                Err(e) => Err(e).with_context(|| format!("creating Lease {}", self.name)),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let ours = holder == self.identity;
        let lapsed = spec.renew_time.as_ref().is_none_or(|renewed| {
            let seconds = i64::from(spec.lease_duration_seconds.unwrap_or(DEFAULT_LEASE_SECONDS));
            renewed.0.as_millisecond().saturating_add(seconds * 1_000) < now.as_millisecond()
        });
        if !ours && !holder.is_empty() && !lapsed {
            return Ok(Attempt::HeldBy(holder));
        }
        let (acquired, transitions) = if ours {
            (
                spec.acquire_time.map_or(now, |t| t.0),
                spec.lease_transitions.unwrap_or(0),
            )
        } else {
            (now, spec.lease_transitions.unwrap_or(0).saturating_add(1))
        };
        lease.spec = Some(self.spec(acquired, now, transitions));
        // `replace` sends the resourceVersion we read: a concurrent writer makes this a 409.
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(Attempt::Held),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Attempt::HeldBy(
                "another replica (it wrote the Lease first)".into(),
            )),
            Err(e) => Err(e).with_context(|| format!("renewing Lease {}", self.name)),
        }
    }

    fn spec(
        &self,
        acquired: jiff::Timestamp,
        renewed: jiff::Timestamp,
        transitions: i32,
    ) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(self.seconds),
            acquire_time: Some(MicroTime(acquired)),
            renew_time: Some(MicroTime(renewed)),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    /// Waits until we hold the Lease, saying who holds it meanwhile.
    ///
    /// # Errors
    /// When the API server cannot be reached.
    pub async fn acquire(&self) -> anyhow::Result<()> {
        let mut said = String::new();
        loop {
            match self.try_acquire().await? {
                Attempt::Held => return Ok(()),
                Attempt::HeldBy(holder) => {
                    if holder != said {
                        eprintln!(
                            "tollgate: waiting for the Lease {}: held by {holder}",
                            self.name
                        );
                        said = holder;
                    }
                }
            }
            tokio::time::sleep(self.renew_interval()).await;
        }
    }

    /// Renews the Lease until it is lost; returns why. Run it beside the work the Lease guards
    /// and stop that work when it returns.
    pub async fn keep(&self) -> anyhow::Error {
        let mut last_renewed = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(self.renew_interval()).await;
            match self.try_acquire().await {
                Ok(Attempt::Held) => last_renewed = tokio::time::Instant::now(),
                Ok(Attempt::HeldBy(holder)) => {
                    return anyhow::anyhow!("lost the Lease {} to {holder}", self.name);
                }
                Err(e) => {
                    if last_renewed.elapsed() >= self.duration {
                        return e.context(format!(
                            "could not renew the Lease {} before it lapsed",
                            self.name
                        ));
                    }
                    tracing::warn!("renewing the Lease failed, retrying: {e:#}");
                }
            }
        }
    }
}

/// `NAMESPACE/NAME` of `--lease`.
pub fn parse_lease(text: &str) -> anyhow::Result<(String, String)> {
    match text.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((ns.to_owned(), name.to_owned()))
        }
        _ => bail!("--lease wants NAMESPACE/NAME, got `{text}`"),
    }
}

/// This replica's identity: the pod name in a cluster (`HOSTNAME`), else host and process id.
pub fn default_identity() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "tollgate".to_owned());
    format!("{host}_{}", std::process::id())
}
