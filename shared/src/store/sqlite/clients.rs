//! The apps registered with the OpenID provider.

use super::*;
use crate::store::ClientStore;

const CLIENT_COLUMNS: &str = "id, name, redirect_uris, post_logout_redirect_uris, scopes, \
     secret_digest, created_at, updated_at";

fn client_from_row(row: &Row<'_>) -> rusqlite::Result<Client> {
    let list = |i: usize| -> rusqlite::Result<Vec<String>> {
        let text: String = row.get(i)?;
        serde_json::from_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
        })
    };
    Ok(Client {
        id: row.get(0)?,
        name: row.get(1)?,
        redirect_uris: list(2)?,
        post_logout_redirect_uris: list(3)?,
        scopes: list(4)?,
        secret_digest: row.get(5)?,
        created_at: UnixTime(row.get(6)?),
        updated_at: UnixTime(row.get(7)?),
    })
}

fn json(list: &[String]) -> Result<String> {
    serde_json::to_string(list).map_err(Error::internal)
}

#[async_trait]
impl ClientStore for SqliteStore {
    async fn create_client(&self, client: &Client) -> Result<bool> {
        let c = client.clone();
        self.call(move |conn| {
            conn.execute(
                &format!(
                    "INSERT INTO clients ({CLIENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                     ON CONFLICT (id) DO NOTHING"
                ),
                params![
                    c.id,
                    c.name,
                    json(&c.redirect_uris)?,
                    json(&c.post_logout_redirect_uris)?,
                    json(&c.scopes)?,
                    c.secret_digest,
                    c.created_at.seconds(),
                    c.updated_at.seconds(),
                ],
            )
            .map(|n| n == 1)
            .map_err(sql)
        })
        .await
    }

    async fn client(&self, id: &str) -> Result<Option<Client>> {
        let id = id.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = ?1"),
                [id],
                client_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn clients(&self) -> Result<Vec<Client>> {
        self.call(move |conn| {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {CLIENT_COLUMNS} FROM clients ORDER BY created_at, id"
                ))
                .map_err(sql)?;
            statement
                .query_map([], client_from_row)
                .map_err(sql)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql)
        })
        .await
    }

    async fn update_client(&self, client: &Client) -> Result<bool> {
        let c = client.clone();
        self.call(move |conn| {
            conn.execute(
                "UPDATE clients SET name = ?2, redirect_uris = ?3, post_logout_redirect_uris = ?4, \
                 scopes = ?5, secret_digest = ?6, updated_at = ?7 WHERE id = ?1",
                params![
                    c.id,
                    c.name,
                    json(&c.redirect_uris)?,
                    json(&c.post_logout_redirect_uris)?,
                    json(&c.scopes)?,
                    c.secret_digest,
                    c.updated_at.seconds(),
                ],
            )
            .map(|n| n == 1)
            .map_err(sql)
        })
        .await
    }

    async fn delete_client(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.call(move |conn| {
            conn.execute("DELETE FROM clients WHERE id = ?1", [id])
                .map(|n| n == 1)
                .map_err(sql)
        })
        .await
    }
}
