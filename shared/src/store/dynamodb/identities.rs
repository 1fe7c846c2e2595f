//! Provider identities linked to accounts, and provider sign-ins under way.

use super::*;
use crate::store::IdentityStore;

#[async_trait]
impl IdentityStore for DynamoStore {
    #[tracing::instrument(skip_all, fields(user_id = %user.id), err)]
    async fn create_user_with_identity(
        &self,
        user: &User,
        link: &IdentityLink,
        invitation: Option<&InvitationUse>,
    ) -> Result<bool> {
        self.put_account(user, invitation, Some(link)).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %link.user_id), err)]
    async fn link_identity(&self, link: &IdentityLink) -> Result<bool> {
        // The link and its mirror on the account (which erasing the account reads), only to an
        // account that is there and not disabled.
        let mirror = Update::builder()
            .table_name(&self.table)
            .key("pk", s(user_pk(&link.user_id)))
            .key("sk", s("USER"))
            .update_expression("ADD identity_keys :key")
            .condition_expression("attribute_exists(pk) AND #status <> :disabled")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(
                ":key",
                AttributeValue::Ss(vec![identity_pk(link.provider, &link.subject)]),
            )
            .expression_attribute_values(":disabled", s(UserStatus::Disabled.as_str()))
            .build()
            .map_err(Error::internal)?;
        let items = vec![
            put(&self.table, identity_item(link), "attribute_not_exists(pk)")?,
            TransactWriteItem::builder().update(mirror).build(),
        ];
        // Not written: linked already, or the account is gone or disabled meanwhile.
        Ok(self.transact(items, "identity link").await?.is_none())
    }

    async fn identity(&self, provider: Provider, subject: &str) -> Result<Option<IdentityLink>> {
        self.get(&identity_pk(provider, subject), "IDENTITY")
            .await?
            .as_ref()
            .map(identity_from_item)
            .transpose()
    }

    /// From the index, so eventually consistent; sign-in decides on `identity`, never on this.
    async fn identities_of(&self, user_id: &str) -> Result<Vec<IdentityLink>> {
        let mut links = self
            .index_partition(&user_pk(user_id), "IDENTITY#", true)
            .await?
            .iter()
            .map(identity_from_item)
            .collect::<Result<Vec<_>>>()?;
        links.sort_by(|a, b| {
            (a.created_at, a.provider.as_str(), &a.subject).cmp(&(
                b.created_at,
                b.provider.as_str(),
                &b.subject,
            ))
        });
        Ok(links)
    }

    async fn create_pending_sign_in(&self, pending: &PendingSignIn) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(pending_item(pending)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    #[tracing::instrument(skip_all, err)]
    async fn consume_pending_sign_in(
        &self,
        state_digest: &str,
        now: UnixTime,
    ) -> Result<Option<PendingSignIn>> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pending_pk(state_digest)))
            .key("sk", s("OAUTH_STATE"))
            .condition_expression("attribute_exists(pk) AND expires_at > :now")
            .expression_attribute_values(":now", n(now.seconds()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match deleted {
            Ok(output) => output.attributes().map(pending_from_item).transpose(),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(sdk_error(e)),
        }
    }
}
