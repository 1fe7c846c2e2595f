//! Provider identities linked to accounts, and provider sign-ins under way.

use super::*;
use crate::store::IdentityStore;
use rusqlite::TransactionBehavior;

#[async_trait]
impl IdentityStore for SqliteStore {
    #[tracing::instrument(skip_all, fields(user_id = %user.id), err)]
    async fn create_user_with_identity(
        &self,
        user: &User,
        link: &IdentityLink,
        invitation: Option<&InvitationUse>,
    ) -> Result<bool> {
        let (user, link, claim) = (user.clone(), link.clone(), invitation.cloned());
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            if !insert_identity(&tx, &link)? {
                return Ok(false);
            }
            if let Some(claim) = &claim {
                use_invitation(&tx, claim, &user.id)?;
            }
            insert_user(&tx, &user)?;
            tx.commit().map_err(sql)?;
            Ok(true)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %link.user_id), err)]
    async fn link_identity(&self, link: &IdentityLink) -> Result<bool> {
        let link = link.clone();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            // Only to an account that is there and not disabled (it may be being deleted).
            if !usable_account(&tx, &link.user_id)? || !insert_identity(&tx, &link)? {
                return Ok(false);
            }
            tx.commit().map_err(sql)?;
            Ok(true)
        })
        .await
    }

    async fn identity(&self, provider: Provider, subject: &str) -> Result<Option<IdentityLink>> {
        let subject = subject.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!(
                    "SELECT {IDENTITY_COLUMNS} FROM oauth_identities WHERE provider = ?1 AND subject = ?2"
                ),
                params![provider.as_str(), subject],
                identity_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn identities_of(&self, user_id: &str) -> Result<Vec<IdentityLink>> {
        let id = user_id.to_owned();
        self.call(move |conn| {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {IDENTITY_COLUMNS} FROM oauth_identities WHERE user_id = ?1 \
                     ORDER BY created_at, provider, subject"
                ))
                .map_err(sql)?;
            let rows = statement.query_map([id], identity_from_row).map_err(sql)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
        })
        .await
    }

    async fn create_pending_sign_in(&self, pending: &PendingSignIn) -> Result<()> {
        let p = pending.clone();
        self.call(move |conn| {
            // Sign-ins abandoned at the provider are swept here; DynamoDB's TTL does it there.
            conn.execute(
                "DELETE FROM oauth_pending_sign_ins WHERE expires_at <= ?1",
                [p.created_at.seconds()],
            )
            .map_err(sql)?;
            conn.execute(
                &format!(
                    "INSERT INTO oauth_pending_sign_ins ({PENDING_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    p.state_digest,
                    p.provider.as_str(),
                    p.pkce_verifier.expose(),
                    p.nonce.expose(),
                    p.return_to,
                    p.invitation_digest,
                    p.created_at.seconds(),
                    p.expires_at.seconds(),
                    p.client_challenge,
                ],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }

    #[tracing::instrument(skip_all, err)]
    async fn consume_pending_sign_in(
        &self,
        state_digest: &str,
        now: UnixTime,
    ) -> Result<Option<PendingSignIn>> {
        let digest = state_digest.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!(
                    "DELETE FROM oauth_pending_sign_ins WHERE state_digest = ?1 AND expires_at > ?2 \
                     RETURNING {PENDING_COLUMNS}"
                ),
                params![digest, now.seconds()],
                pending_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }
}
