//! Fixed-window counters: per-IP rate limits and per-address mail limits.

use super::*;
use crate::store::CounterStore;

#[async_trait]
impl CounterStore for SqliteStore {
    async fn increment(&self, key: &str, expires_at: UnixTime) -> Result<u64> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.query_row(
                "INSERT INTO counters (key, count, expires_at) VALUES (?1, 1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET count = count + 1 \
                 RETURNING count",
                params![key, expires_at.seconds()],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(sql)
        })
        .await
    }
}
