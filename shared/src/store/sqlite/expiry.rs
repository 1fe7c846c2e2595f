//! What DynamoDB's TTL does, for the embedded store: expired rows are deleted in batches, each
//! its own short statement, so requests run between them.

use super::*;
use crate::store::ExpiryStore;

/// Rows deleted per statement.
const BATCH: u64 = 500;

/// Each table with rows that expire, and the moment a row may go: the same moments as the
/// DynamoDB TTL attribute of its item.
const EXPIRING: &[(&str, &str)] = &[
    ("sessions", "expires_at"),
    ("refresh_tokens", "expires_at"),
    ("one_time_tokens", "expires_at"),
    ("counters", "expires_at"),
    ("lockouts", "expires_at"),
    ("audit_events", "expires_at"),
    ("oauth_pending_sign_ins", "expires_at"),
    // Kept a while past their end, so a late replay is still recognised (codes.rs).
    ("authorization_codes", "expires_at + 600"),
    // Kept 30 days past their end, for the admin listing, as on DynamoDB.
    ("invitations", "expires_at + 2592000"),
];

#[async_trait]
impl ExpiryStore for SqliteStore {
    async fn purge_expired(&self, now: UnixTime) -> Result<u64> {
        let mut total = 0;
        for (table, end) in EXPIRING {
            let statement = format!(
                "DELETE FROM {table} WHERE rowid IN \
                 (SELECT rowid FROM {table} WHERE {end} <= ?1 LIMIT {BATCH})"
            );
            loop {
                let statement = statement.clone();
                let deleted = self
                    .call(move |conn| {
                        conn.execute(&statement, [now.seconds()])
                            .map(|n| n as u64)
                            .map_err(sql)
                    })
                    .await?;
                total += deleted;
                if deleted < BATCH {
                    break;
                }
            }
        }
        Ok(total)
    }
}
