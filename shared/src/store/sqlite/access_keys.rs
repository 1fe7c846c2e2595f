//! Access keys, at most a few per account.

use super::*;
use crate::store::AccessKeyStore;
use rusqlite::TransactionBehavior;

#[async_trait]
impl AccessKeyStore for SqliteStore {
    #[tracing::instrument(skip_all, fields(user_id = %key.user_id), err)]
    async fn create_access_key(&self, key: &AccessKey, limit: u32) -> Result<()> {
        let key = key.clone();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            if !usable_account(&tx, &key.user_id)? {
                return Err(Error::Unauthorized);
            }
            let held: u32 = tx
                .query_row(
                    "SELECT COUNT(*) FROM access_keys WHERE user_id = ?1",
                    [&key.user_id],
                    |row| row.get(0),
                )
                .map_err(sql)?;
            if held >= limit {
                return Err(Error::TooManyAccessKeys { limit });
            }
            tx.execute(
                &format!(
                    "INSERT INTO access_keys ({ACCESS_KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                ),
                params![
                    key.id,
                    key.user_id,
                    key.secret_digest,
                    key.created_at.seconds(),
                    key.last_used_at.map(UnixTime::seconds),
                    key.expires_at.map(UnixTime::seconds),
                ],
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)
        })
        .await
    }

    async fn access_key(&self, id: &str) -> Result<Option<AccessKey>> {
        let id = id.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE id = ?1"),
                [id],
                access_key_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn access_keys_of(&self, user_id: &str) -> Result<Vec<AccessKey>> {
        let id = user_id.to_owned();
        self.call(move |conn| {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE user_id = ?1 \
                     ORDER BY created_at, id"
                ))
                .map_err(sql)?;
            statement
                .query_map([id], access_key_from_row)
                .map_err(sql)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql)
        })
        .await
    }

    async fn delete_access_key(&self, user_id: &str, id: &str) -> Result<bool> {
        let (user_id, id) = (user_id.to_owned(), id.to_owned());
        self.call(move |conn| {
            conn.execute(
                "DELETE FROM access_keys WHERE id = ?1 AND user_id = ?2",
                params![id, user_id],
            )
            .map(|n| n == 1)
            .map_err(sql)
        })
        .await
    }

    async fn touch_access_key(&self, id: &str, now: UnixTime) -> Result<()> {
        let id = id.to_owned();
        self.call(move |conn| {
            conn.execute(
                "UPDATE access_keys SET last_used_at = ?2 WHERE id = ?1",
                params![id, now.seconds()],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }
}
