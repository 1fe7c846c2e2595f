//! Authorization codes, redeemed once.

use super::*;
use crate::store::AuthorizationCodeStore;
use rusqlite::TransactionBehavior;

const CODE_COLUMNS: &str = "digest, client_id, redirect_uri, user_id, scope, nonce, \
     code_challenge, auth_time, created_at, expires_at, session_id, access_key, session_epoch";

/// A code is kept this long after it expires, so that a late replay is still recognised and
/// the tokens it gave revoked (DynamoDB's TTL keeps it as long).
pub(super) const CODE_KEPT_AFTER_EXPIRY: i64 = 600;

fn code_from_row(row: &Row<'_>) -> rusqlite::Result<AuthorizationCode> {
    Ok(AuthorizationCode {
        digest: row.get(0)?,
        client_id: row.get(1)?,
        redirect_uri: row.get(2)?,
        user_id: row.get(3)?,
        scope: row.get(4)?,
        nonce: row.get(5)?,
        code_challenge: row.get(6)?,
        auth_time: UnixTime(row.get(7)?),
        created_at: UnixTime(row.get(8)?),
        expires_at: UnixTime(row.get(9)?),
        session_id: row.get(10)?,
        access_key: row.get(11)?,
        session_epoch: row.get(12)?,
    })
}

#[async_trait]
impl AuthorizationCodeStore for SqliteStore {
    async fn create_code(&self, code: &AuthorizationCode) -> Result<()> {
        let c = code.clone();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            // What DynamoDB's TTL does: codes long past their end go.
            tx.execute(
                "DELETE FROM authorization_codes WHERE expires_at <= ?1",
                [c.created_at.seconds() - CODE_KEPT_AFTER_EXPIRY],
            )
            .map_err(sql)?;
            tx.execute(
                &format!(
                    "INSERT INTO authorization_codes ({CODE_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                ),
                params![
                    c.digest,
                    c.client_id,
                    c.redirect_uri,
                    c.user_id,
                    c.scope,
                    c.nonce,
                    c.code_challenge,
                    c.auth_time.seconds(),
                    c.created_at.seconds(),
                    c.expires_at.seconds(),
                    c.session_id,
                    c.access_key,
                    c.session_epoch,
                ],
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)
        })
        .await
    }

    async fn code(&self, digest: &str) -> Result<Option<AuthorizationCode>> {
        let digest = digest.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {CODE_COLUMNS} FROM authorization_codes WHERE digest = ?1"),
                [digest],
                code_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn redeem_code(&self, digest: &str, session_id: &str) -> Result<Redemption> {
        let digest = digest.to_owned();
        let session_id = session_id.to_owned();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            let updated = tx
                .execute(
                    "UPDATE authorization_codes SET session_id = ?2 \
                     WHERE digest = ?1 AND session_id IS NULL",
                    params![digest, session_id],
                )
                .map_err(sql)?;
            let outcome = if updated == 1 {
                Redemption::Redeemed
            } else {
                let earlier: Option<Option<String>> = tx
                    .query_row(
                        "SELECT session_id FROM authorization_codes WHERE digest = ?1",
                        [&digest],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(sql)?;
                match earlier.flatten() {
                    Some(earlier) => Redemption::AlreadyRedeemed(earlier),
                    None => Redemption::Unknown,
                }
            };
            tx.commit().map_err(sql)?;
            Ok(outcome)
        })
        .await
    }
}
