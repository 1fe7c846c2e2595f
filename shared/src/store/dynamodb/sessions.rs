//! Sessions and the refresh tokens that rotate within them.

use super::*;
use crate::store::SessionStore;

#[async_trait]
impl SessionStore for DynamoStore {
    async fn create_session(&self, session: &Session) -> Result<()> {
        let absent = "attribute_not_exists(pk)";
        let items = vec![
            put(&self.table, session_item(session), absent)?,
            put(
                &self.table,
                refresh_item(&session.refresh_digest, session, session.created_at),
                absent,
            )?,
        ];
        match self.transact(items, "a new session").await? {
            None => Ok(()),
            Some(_) => Err(Error::internal("a session id or refresh token was reused")),
        }
    }

    async fn session(&self, id: &str) -> Result<Option<Session>> {
        self.get(&session_pk(id), "SESSION")
            .await?
            .as_ref()
            .map(session_from_item)
            .transpose()
    }

    async fn session_by_refresh(&self, digest: &str) -> Result<Option<Session>> {
        let Some(refresh) = self.get(&refresh_pk(digest), "REFRESH").await? else {
            return Ok(None);
        };
        self.session(&get_s(&refresh, "session_id")?).await
    }

    #[tracing::instrument(skip_all, fields(session_id = %session.id), err)]
    async fn rotate_refresh(
        &self,
        session: &Session,
        from: &str,
        to: &str,
        now: UnixTime,
    ) -> Result<bool> {
        let swap = Update::builder()
            .table_name(&self.table)
            .key("pk", s(session_pk(&session.id)))
            .key("sk", s("SESSION"))
            .update_expression(
                "SET previous_digest = :from, refresh_digest = :to, rotated_at = :now, last_used_at = :now",
            )
            .condition_expression("refresh_digest = :from AND attribute_not_exists(revoked_at)")
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .expression_attribute_values(":now", n(now.seconds()))
            .build()
            .map_err(Error::internal)?;
        let items = vec![
            TransactWriteItem::builder().update(swap).build(),
            put(
                &self.table,
                refresh_item(to, session, now),
                "attribute_not_exists(pk)",
            )?,
        ];
        match self.transact(items, "a refresh rotation").await? {
            None => Ok(true),
            Some(cancelled) if cancelled.failed(0) => Ok(false),
            Some(_) => Err(Error::internal("a refresh token was reused")),
        }
    }

    async fn revoke_session(&self, session_id: &str, now: UnixTime) -> Result<()> {
        let revoked = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(session_pk(session_id)))
            .key("sk", s("SESSION"))
            .update_expression("SET revoked_at = if_not_exists(revoked_at, :now)")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(now.seconds()))
            .send()
            .await;
        match revoked {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error(e)),
        }
    }

    /// From the index, so eventually consistent: a session begun a moment ago may be missing
    /// from the list for that moment. Nothing is decided on this list.
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<Session>> {
        self.index_partition(&user_pk(user_id), "SESSION#", true)
            .await?
            .iter()
            .map(session_from_item)
            .collect()
    }

    async fn end_all_sessions(&self, user_id: &str) -> Result<()> {
        let ended = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(user_pk(user_id)))
            .key("sk", s("USER"))
            .update_expression("ADD session_epoch :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        match ended {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error(e)),
        }
    }
}
