//! Lockout runs: consecutive failures per account (or device), and the lock they lead to.

use super::*;
use crate::store::LockoutStore;

#[async_trait]
impl LockoutStore for DynamoStore {
    async fn lockout(&self, key: &str) -> Result<Option<LockoutRecord>> {
        self.get(&lockout_pk(key), "LOCKOUT")
            .await?
            .as_ref()
            .map(lockout_from_item)
            .transpose()
    }

    #[tracing::instrument(skip_all, err)]
    async fn record_failure(&self, key: &str, write: FailureWrite) -> Result<LockoutRecord> {
        let pk = lockout_pk(key);
        // The run goes on: one more failure, if the item still says so when DynamoDB applies it.
        let continues = "last_failure_at > :stale AND (attribute_not_exists(locked_until) OR locked_until > :now)";
        // This attempt's mark. When an answer is lost on the way back and the SDK sends the same
        // write again, the mark tells that the failure is already counted: counted once, never
        // twice.
        let attempt = uuid::Uuid::new_v4().simple().to_string();
        let not_ours = "(attribute_not_exists(last_attempt) OR last_attempt <> :attempt)";
        for _ in 0..MAX_ATTEMPTS {
            let added = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(&pk))
                .key("sk", s("LOCKOUT"))
                .update_expression(
                    "ADD failures :one \
                     SET last_failure_at = :now, expires_at = :expires, last_attempt = :attempt",
                )
                .condition_expression(format!("({continues}) AND {not_ours}"))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":attempt", s(&attempt))
                .expression_attribute_values(":now", n(write.now.seconds()))
                .expression_attribute_values(":stale", n(write.stale_before.seconds()))
                .expression_attribute_values(":expires", n(write.expires_at.seconds()))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match added {
                Ok(output) => {
                    let item = output.attributes().ok_or_else(|| malformed("lockout"))?;
                    return lockout_from_item(item);
                }
                Err(e) if condition_failed(&e) => {}
                Err(e) => return Err(sdk_error(e)),
            }
            if let Some(item) = self.get(&pk, "LOCKOUT").await?
                && item.get("last_attempt").and_then(|a| a.as_s().ok()) == Some(&attempt)
            {
                return lockout_from_item(&item);
            }
            // No run to extend: start one, unless a concurrent failure just did.
            let started = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("pk", s(&pk))
                .item("sk", s("LOCKOUT"))
                .item("type", s("lockout"))
                .item("failures", n(1))
                .item("last_failure_at", n(write.now.seconds()))
                .item("last_attempt", s(&attempt))
                .item(TTL_ATTRIBUTE, n(write.expires_at.seconds()))
                .condition_expression(format!("attribute_not_exists(pk) OR NOT ({continues})"))
                .expression_attribute_values(":now", n(write.now.seconds()))
                .expression_attribute_values(":stale", n(write.stale_before.seconds()))
                .send()
                .await;
            match started {
                Ok(_) => {
                    return Ok(LockoutRecord {
                        failures: 1,
                        last_failure_at: write.now,
                        locked_until: None,
                    });
                }
                Err(e) if condition_failed(&e) => {}
                Err(e) => return Err(sdk_error(e)),
            }
        }
        Err(contended("lockout record"))
    }

    async fn lock(&self, key: &str, until: UnixTime, expires_at: UnixTime) -> Result<()> {
        let locked = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(lockout_pk(key)))
            .key("sk", s("LOCKOUT"))
            .update_expression("SET locked_until = :until, expires_at = :expires")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":until", n(until.seconds()))
            .expression_attribute_values(":expires", n(expires_at.seconds()))
            .send()
            .await;
        match locked {
            Ok(_) => Ok(()),
            // Cleared by a concurrent success in between: nothing left to lock.
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn clear_lockout(&self, key: &str) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(lockout_pk(key)))
            .key("sk", s("LOCKOUT"))
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }
}
