//! Invitations, used up in the same step that creates the account.

use super::*;
use crate::store::InvitationStore;

#[async_trait]
impl InvitationStore for DynamoStore {
    async fn create_invitation(&self, invitation: &Invitation) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(invitation_item(invitation)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    async fn invitation(&self, id: &str) -> Result<Option<Invitation>> {
        self.get(&invitation_pk(id), "INVITATION")
            .await?
            .map(|item| invitation_from_item(&item))
            .transpose()
    }

    async fn invitations(&self) -> Result<Vec<Invitation>> {
        self.index_partition(INVITATIONS_PARTITION, "", false)
            .await?
            .iter()
            .map(invitation_from_item)
            .collect()
    }

    async fn delete_invitation(&self, id: &str) -> Result<bool> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(invitation_pk(id)))
            .key("sk", s("INVITATION"))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(sdk_error(error)),
        }
    }
}
