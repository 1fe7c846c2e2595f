//! The audit log, newest first.

use super::*;
use crate::store::AuditStore;

#[async_trait]
impl AuditStore for DynamoStore {
    async fn record_event(&self, event: &AuditEvent) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(event_item(event)))
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    async fn events(&self, query: &EventQuery) -> Result<Page<AuditEvent>> {
        // One user's events are a partition of the table; everyone's are the index's `AUDIT`
        // partition. Both are ordered by time.
        let (expected, phase): (&[&str], &str) = match &query.user_id {
            Some(_) => (&["pk", "sk"], "user"),
            None => (&["pk", "sk", "gsi1pk", "gsi1sk"], "all"),
        };
        // The cursor must be from this very listing (one user's, or everyone's).
        let partition = match &query.user_id {
            Some(user_id) => ("pk", format!("AUDIT#{user_id}")),
            None => ("gsi1pk", AUDIT_PARTITION.to_owned()),
        };
        let start = match &query.cursor {
            Some(cursor) => match cursor_key(cursor, expected)? {
                (p, key)
                    if p == phase
                        && key.get(partition.0).and_then(|v| v.as_s().ok())
                            == Some(&partition.1)
                        && key
                            .get("pk")
                            .and_then(|v| v.as_s().ok())
                            .is_some_and(|pk| pk.starts_with("AUDIT#")) =>
                {
                    Some(key)
                }
                _ => {
                    return Err(Error::invalid_field(
                        "cursor",
                        "is not a cursor this server gave",
                    ));
                }
            },
            None => None,
        };
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .scan_index_forward(false)
            .limit(query.limit as i32)
            .set_exclusive_start_key(start);
        request = match &query.user_id {
            Some(user_id) => request
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(format!("AUDIT#{user_id}"))),
            None => request
                .index_name(GSI1)
                .key_condition_expression("gsi1pk = :audit")
                .expression_attribute_values(":audit", s(AUDIT_PARTITION)),
        };
        let page = request.send().await.map_err(sdk_error)?;
        let items = page
            .items()
            .iter()
            .map(event_from_item)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = match page.last_evaluated_key() {
            Some(key) if items.len() == query.limit => Some(key_cursor(key, phase)?),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }
}
