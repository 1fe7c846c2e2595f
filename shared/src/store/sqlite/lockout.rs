//! Lockout runs: consecutive failures per account (or device), and the lock they lead to.

use super::*;
use crate::store::LockoutStore;

#[async_trait]
impl LockoutStore for SqliteStore {
    async fn lockout(&self, key: &str) -> Result<Option<LockoutRecord>> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.query_row(
                "SELECT failures, last_failure_at, locked_until FROM lockouts WHERE key = ?1",
                [key],
                lockout_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    #[tracing::instrument(skip_all, err)]
    async fn record_failure(&self, key: &str, write: FailureWrite) -> Result<LockoutRecord> {
        let key = key.to_owned();
        self.call(move |conn| {
            // One statement: the run goes on or starts over, decided on the row as it is now.
            // The right-hand sides all see the row as it was before the update.
            conn.query_row(
                "INSERT INTO lockouts (key, failures, last_failure_at, locked_until, expires_at) \
                 VALUES (?1, 1, ?2, NULL, ?4) \
                 ON CONFLICT (key) DO UPDATE SET \
                   failures = CASE WHEN last_failure_at > ?3 \
                       AND (locked_until IS NULL OR locked_until > ?2) \
                       THEN failures + 1 ELSE 1 END, \
                   locked_until = CASE WHEN last_failure_at > ?3 \
                       AND (locked_until IS NULL OR locked_until > ?2) \
                       THEN locked_until ELSE NULL END, \
                   last_failure_at = ?2, \
                   expires_at = ?4 \
                 RETURNING failures, last_failure_at, locked_until",
                params![
                    key,
                    write.now.seconds(),
                    write.stale_before.seconds(),
                    write.expires_at.seconds()
                ],
                lockout_from_row,
            )
            .map_err(sql)
        })
        .await
    }

    async fn lock(&self, key: &str, until: UnixTime, expires_at: UnixTime) -> Result<()> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.execute(
                "UPDATE lockouts SET locked_until = ?2, expires_at = max(expires_at, ?3) WHERE key = ?1",
                params![key, until.seconds(), expires_at.seconds()],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }

    async fn clear_lockout(&self, key: &str) -> Result<()> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.execute("DELETE FROM lockouts WHERE key = ?1", [key])
                .map(drop)
                .map_err(sql)
        })
        .await
    }
}
