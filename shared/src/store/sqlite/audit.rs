//! The audit log, newest first.

use super::*;
use crate::store::AuditStore;

#[async_trait]
impl AuditStore for SqliteStore {
    async fn record_event(&self, event: &AuditEvent) -> Result<()> {
        let e = event.clone();
        self.call(move |conn| {
            let detail = serde_json::Value::Object(e.detail.clone()).to_string();
            // Retention: what DynamoDB's TTL does for the cloud store.
            conn.execute(
                "DELETE FROM audit_events WHERE expires_at <= ?1",
                [e.at.seconds()],
            )
            .map_err(sql)?;
            conn.execute(
                &format!(
                    "INSERT INTO audit_events ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ),
                params![
                    e.id,
                    e.at.seconds(),
                    e.kind,
                    e.user_id,
                    e.ip,
                    e.user_agent,
                    detail,
                    e.expires_at.seconds()
                ],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }

    async fn events(&self, query: &EventQuery) -> Result<Page<AuditEvent>> {
        let query = query.clone();
        self.call(move |conn| {
            // Newest first: (at, id) strictly before the cursor's.
            let (before_at, before_id) = match &query.cursor {
                None => (i64::MAX, String::new()),
                Some(cursor) => {
                    let value = decode_cursor(cursor)?;
                    match (
                        value.get("at").and_then(|v| v.as_i64()),
                        value.get("id").and_then(|v| v.as_str()),
                    ) {
                        (Some(at), Some(id)) => (at, id.to_owned()),
                        _ => {
                            return Err(Error::invalid_field(
                                "cursor",
                                "is not a cursor this server gave",
                            ));
                        }
                    }
                }
            };
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {EVENT_COLUMNS} FROM audit_events \
                     WHERE (?1 IS NULL OR user_id = ?1) \
                     AND (at < ?2 OR (at = ?2 AND ?3 != '' AND id < ?3)) \
                     ORDER BY at DESC, id DESC LIMIT ?4"
                ))
                .map_err(sql)?;
            let mut events = statement
                .query_map(
                    params![query.user_id, before_at, before_id, query.limit as i64 + 1],
                    event_from_row,
                )
                .map_err(sql)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql)?;
            let next_cursor = if events.len() > query.limit {
                events.truncate(query.limit);
                events.last().map(|e| {
                    encode_cursor(&serde_json::json!({ "at": e.at.seconds(), "id": e.id }))
                })
            } else {
                None
            };
            Ok(Page {
                items: events,
                next_cursor,
            })
        })
        .await
    }
}
