//! Access keys, at most a few per account.

use super::*;
use crate::store::AccessKeyStore;

#[async_trait]
impl AccessKeyStore for DynamoStore {
    #[tracing::instrument(skip_all, fields(user_id = %key.user_id), err)]
    async fn create_access_key(&self, key: &AccessKey, limit: u32) -> Result<()> {
        // The account counts its keys: the count and the key are written together.
        let count = Update::builder()
            .table_name(&self.table)
            .key("pk", s(user_pk(&key.user_id)))
            .key("sk", s("USER"))
            .update_expression("ADD access_keys :one, access_key_ids :id")
            .condition_expression(
                "attribute_exists(pk) AND #status <> :disabled \
                 AND (attribute_not_exists(access_keys) OR access_keys < :limit)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":disabled", s(UserStatus::Disabled.as_str()))
            .expression_attribute_values(":id", AttributeValue::Ss(vec![key.id.clone()]))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .build()
            .map_err(Error::internal)?;
        let items = vec![
            TransactWriteItem::builder().update(count).build(),
            put(
                &self.table,
                access_key_item(key),
                "attribute_not_exists(pk)",
            )?,
        ];
        match self.transact(items, "access key").await? {
            None => Ok(()),
            Some(cancelled) if cancelled.failed(0) => {
                let usable = self
                    .user_by_id(&key.user_id)
                    .await?
                    .is_some_and(|user| user.status != UserStatus::Disabled);
                Err(if usable {
                    Error::TooManyAccessKeys { limit }
                } else {
                    Error::Unauthorized
                })
            }
            Some(_) => Err(Error::internal("an access key id was reused")),
        }
    }

    async fn access_key(&self, id: &str) -> Result<Option<AccessKey>> {
        self.get(&access_key_pk(id), "ACCESSKEY")
            .await?
            .map(|item| access_key_from_item(&item))
            .transpose()
    }

    async fn access_keys_of(&self, user_id: &str) -> Result<Vec<AccessKey>> {
        self.index_partition(&user_pk(user_id), "ACCESSKEY#", true)
            .await?
            .iter()
            .map(access_key_from_item)
            .collect()
    }

    async fn delete_access_key(&self, user_id: &str, id: &str) -> Result<bool> {
        let key = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key("pk", s(access_key_pk(id)))
            .key("sk", s("ACCESSKEY"))
            .condition_expression("user_id = :user")
            .expression_attribute_values(":user", s(user_id))
            .build()
            .map_err(Error::internal)?;
        let count = Update::builder()
            .table_name(&self.table)
            .key("pk", s(user_pk(user_id)))
            .key("sk", s("USER"))
            .update_expression("ADD access_keys :minus_one DELETE access_key_ids :id")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":id", AttributeValue::Ss(vec![id.to_owned()]))
            .build()
            .map_err(Error::internal)?;
        let items = vec![
            TransactWriteItem::builder().delete(key).build(),
            TransactWriteItem::builder().update(count).build(),
        ];
        Ok(self.transact(items, "access key").await?.is_none())
    }

    async fn touch_access_key(&self, id: &str, now: UnixTime) -> Result<()> {
        let touched = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(access_key_pk(id)))
            .key("sk", s("ACCESSKEY"))
            .update_expression("SET last_used_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(now.seconds()))
            .send()
            .await;
        match touched {
            // Deleted meanwhile: nothing to note.
            Err(error) if !condition_failed(&error) => Err(sdk_error(error)),
            _ => Ok(()),
        }
    }
}
