//! Nothing to do: the table's TTL on `expires_at` deletes what has expired.

use super::*;
use crate::store::ExpiryStore;

#[async_trait]
impl ExpiryStore for DynamoStore {
    async fn purge_expired(&self, _now: UnixTime) -> Result<u64> {
        Ok(0)
    }
}
