//! Single-use tokens: email verification, password reset, provider exchange codes.

use super::*;
use crate::store::TokenStore;

#[async_trait]
impl TokenStore for SqliteStore {
    async fn create_token(&self, token: &OneTimeToken) -> Result<()> {
        let t = token.clone();
        self.call(move |conn| {
            conn.execute(
                &format!("INSERT INTO one_time_tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                params![
                    t.digest,
                    t.purpose.as_str(),
                    t.user_id,
                    t.email_key,
                    t.password_epoch,
                    t.created_at.seconds(),
                    t.expires_at.seconds(),
                    t.challenge,
                ],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }

    async fn token(&self, digest: &str) -> Result<Option<OneTimeToken>> {
        let digest = digest.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {TOKEN_COLUMNS} FROM one_time_tokens WHERE digest = ?1"),
                [digest],
                token_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    #[tracing::instrument(skip_all, err)]
    async fn consume_token(
        &self,
        digest: &str,
        purpose: TokenPurpose,
        now: UnixTime,
    ) -> Result<Option<OneTimeToken>> {
        let digest = digest.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!(
                    "DELETE FROM one_time_tokens WHERE digest = ?1 AND purpose = ?2 AND expires_at > ?3 \
                     RETURNING {TOKEN_COLUMNS}"
                ),
                params![digest, purpose.as_str(), now.seconds()],
                token_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }
}
