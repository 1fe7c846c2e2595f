//! Fixed-window counters: per-IP rate limits and per-address mail limits.

use super::*;
use crate::store::CounterStore;

#[async_trait]
impl CounterStore for DynamoStore {
    async fn increment(&self, key: &str, expires_at: UnixTime) -> Result<u64> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(counter_pk(key)))
            .key("sk", s("COUNTER"))
            .update_expression("ADD #count :one SET expires_at = if_not_exists(expires_at, :expires), #type = :type")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#type", "type")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expires", n(expires_at.seconds()))
            .expression_attribute_values(":type", s("counter"))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(sdk_error)?;
        let item = output.attributes().ok_or_else(|| malformed("count"))?;
        u64::try_from(get_n(item, "count")?).map_err(|_| malformed("count"))
    }
}
