//! The signing keys of access tokens.

use super::*;
use crate::store::SigningKeyStore;

#[async_trait]
impl SigningKeyStore for DynamoStore {
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :key)")
            .expression_attribute_values(":pk", s(SIGNING_KEYS_PK))
            .expression_attribute_values(":key", s("KEY#"))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        output.items().iter().map(signing_key_from_item).collect()
    }

    async fn add_signing_key(&self, key: &SigningKeyRecord) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(signing_key_item(key)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    async fn delete_signing_key(&self, kid: &str) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(SIGNING_KEYS_PK))
            .key("sk", s(format!("KEY#{kid}")))
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    async fn add_first_signing_key(&self, key: &SigningKeyRecord) -> Result<bool> {
        let marker = Item::from([
            ("pk".to_owned(), s(SIGNING_KEYS_PK)),
            ("sk".to_owned(), s(FIRST_KEY_SK)),
            ("kid".to_owned(), s(&key.kid)),
        ]);
        let items = vec![
            put(&self.table, marker, "attribute_not_exists(pk)")?,
            put(
                &self.table,
                signing_key_item(key),
                "attribute_not_exists(pk)",
            )?,
        ];
        Ok(self
            .transact(items, "the first signing key")
            .await?
            .is_none())
    }
}
