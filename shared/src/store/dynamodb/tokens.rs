//! Single-use tokens: email verification, password reset, provider exchange codes.

use super::*;
use crate::store::TokenStore;

#[async_trait]
impl TokenStore for DynamoStore {
    async fn create_token(&self, token: &OneTimeToken) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(token_item(token)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    async fn token(&self, digest: &str) -> Result<Option<OneTimeToken>> {
        self.get(&token_pk(digest), "TOKEN")
            .await?
            .as_ref()
            .map(token_from_item)
            .transpose()
    }

    #[tracing::instrument(skip_all, err)]
    async fn consume_token(
        &self,
        digest: &str,
        purpose: TokenPurpose,
        now: UnixTime,
    ) -> Result<Option<OneTimeToken>> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(token_pk(digest)))
            .key("sk", s("TOKEN"))
            .condition_expression(
                "attribute_exists(pk) AND purpose = :purpose AND expires_at > :now",
            )
            .expression_attribute_values(":purpose", s(purpose.as_str()))
            .expression_attribute_values(":now", n(now.seconds()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match deleted {
            Ok(output) => output.attributes().map(token_from_item).transpose(),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(sdk_error(e)),
        }
    }
}
