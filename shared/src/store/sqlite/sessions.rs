//! Sessions and the refresh tokens that rotate within them.

use super::*;
use crate::store::SessionStore;
use rusqlite::TransactionBehavior;

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(&self, session: &Session) -> Result<()> {
        let s = session.clone();
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
            tx.execute(
                "INSERT INTO sessions (id, user_id, refresh_digest, created_at, last_used_at, \
                 expires_at, ip, user_agent, revoked_at, epoch, previous_digest, rotated_at, \
                 rotation_secret, access_key, client_id, scope, auth_time) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                params![
                    s.id,
                    s.user_id,
                    s.refresh_digest,
                    s.created_at.seconds(),
                    s.last_used_at.seconds(),
                    s.expires_at.seconds(),
                    s.ip,
                    s.user_agent,
                    s.revoked_at.map(UnixTime::seconds),
                    s.epoch,
                    s.previous_digest,
                    s.rotated_at.map(UnixTime::seconds),
                    s.rotation_secret.expose(),
                    s.access_key,
                    s.client.as_ref().map(|c| c.client_id.clone()),
                    s.client.as_ref().map(|c| c.scope.clone()),
                    s.client.as_ref().map(|c| c.auth_time.seconds()),
                ],
            )
            .map_err(sql)?;
            tx.execute(
                "INSERT INTO refresh_tokens (digest, session_id, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![s.refresh_digest, s.id, s.created_at.seconds(), s.expires_at.seconds()],
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)
        })
        .await
    }

    async fn session(&self, id: &str) -> Result<Option<Session>> {
        let id = id.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.id = ?1"),
                [id],
                session_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn session_by_refresh(&self, digest: &str) -> Result<Option<Session>> {
        let digest = digest.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id \
                     WHERE r.digest = ?1"
                ),
                [digest],
                session_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(session_id = %session.id), err)]
    async fn rotate_refresh(
        &self,
        session: &Session,
        from: &str,
        to: &str,
        now: UnixTime,
    ) -> Result<bool> {
        let (id, from, to) = (session.id.clone(), from.to_owned(), to.to_owned());
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            let changed = tx
                .execute(
                    "UPDATE sessions SET previous_digest = refresh_digest, refresh_digest = ?3, \
                     rotated_at = ?4, last_used_at = ?4 \
                     WHERE id = ?1 AND refresh_digest = ?2 AND revoked_at IS NULL",
                    params![id, from, to, now.seconds()],
                )
                .map_err(sql)?;
            if changed == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO refresh_tokens (digest, session_id, issued_at, expires_at) \
                 SELECT ?2, id, ?3, expires_at FROM sessions WHERE id = ?1",
                params![id, to, now.seconds()],
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)?;
            Ok(true)
        })
        .await
    }

    async fn revoke_session(&self, session_id: &str, now: UnixTime) -> Result<()> {
        let id = session_id.to_owned();
        self.call(move |conn| {
            conn.execute(
                "UPDATE sessions SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
                params![id, now.seconds()],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }

    async fn sessions_of(&self, user_id: &str) -> Result<Vec<Session>> {
        let id = user_id.to_owned();
        self.call(move |conn| {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.user_id = ?1 ORDER BY s.created_at, s.id"
                ))
                .map_err(sql)?;
            let rows = statement.query_map([id], session_from_row).map_err(sql)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
        })
        .await
    }

    async fn end_all_sessions(&self, user_id: &str) -> Result<()> {
        let id = user_id.to_owned();
        self.call(move |conn| {
            conn.execute(
                "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = ?1",
                [id],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }
}
