//! Where each watch resumes after a restart: the last resourceVersion seen per cluster and kind.

use sqlx::Row;

use crate::{Result, Store};

impl Store {
    /// Records that the watch of `kind` in `cluster` has seen everything up to `resource_version`.
    /// `kind` is whatever names the watch to its caller (`networking.k8s.io/v1/Ingress`).
    ///
    /// # Errors
    /// [`crate::Error::Database`] when the write fails.
    pub async fn set_resume_version(
        &self,
        cluster: &str,
        kind: &str,
        resource_version: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO watch_state (cluster, kind, resource_version) VALUES ($1, $2, $3) \
             ON CONFLICT (cluster, kind) DO UPDATE SET resource_version = excluded.resource_version",
        )
        .bind(cluster)
        .bind(kind)
        .bind(resource_version)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The resourceVersion the watch of `kind` in `cluster` resumes from, if one was recorded.
    ///
    /// # Errors
    /// [`crate::Error::Database`] when the read fails.
    pub async fn resume_version(&self, cluster: &str, kind: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT resource_version FROM watch_state WHERE cluster = $1 AND kind = $2",
        )
        .bind(cluster)
        .bind(kind)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| row.try_get("resource_version")).transpose()?)
    }
}
