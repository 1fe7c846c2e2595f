//! Lockout runs: consecutive failures per account (or device), and the lock they lead to.

use super::*;
use crate::lockout::LockoutPolicy;
use crate::store::LockoutStore;
use rusqlite::TransactionBehavior;

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
            // The domain's rule, applied to the row as it is now: the one connection serialises
            // writers, so nothing changes the row between the read and the write.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            let previous = tx
                .query_row(
                    "SELECT failures, last_failure_at, locked_until FROM lockouts WHERE key = ?1",
                    [&key],
                    lockout_from_row,
                )
                .optional()
                .map_err(sql)?;
            let next = LockoutPolicy::after_failure(previous.as_ref(), write);
            tx.execute(
                "INSERT INTO lockouts (key, failures, last_failure_at, locked_until, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (key) DO UPDATE SET failures = ?2, last_failure_at = ?3, \
                   locked_until = ?4, expires_at = ?5",
                params![
                    key,
                    next.failures,
                    next.last_failure_at.seconds(),
                    next.locked_until.map(|u| u.seconds()),
                    write.expires_at.seconds()
                ],
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)?;
            Ok(next)
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
