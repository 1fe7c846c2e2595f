//! The signing keys of access tokens.

use super::*;
use crate::store::SigningKeyStore;

#[async_trait]
impl SigningKeyStore for SqliteStore {
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        self.call(|conn| {
            let mut statement = conn
                .prepare("SELECT kid, private_der, created_at, activates_at FROM signing_keys")
                .map_err(sql)?;
            let rows = statement
                .query_map([], |row| {
                    Ok(SigningKeyRecord {
                        kid: row.get(0)?,
                        private_der: row.get(1)?,
                        created_at: UnixTime(row.get(2)?),
                        activates_at: UnixTime(row.get(3)?),
                    })
                })
                .map_err(sql)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
        })
        .await
    }

    async fn add_first_signing_key(&self, key: &SigningKeyRecord) -> Result<bool> {
        let key = key.clone();
        self.call(move |conn| {
            conn.execute(
                "INSERT INTO signing_keys (kid, private_der, created_at, activates_at) \
                 SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM signing_keys)",
                params![
                    key.kid,
                    key.private_der,
                    key.created_at.seconds(),
                    key.activates_at.seconds()
                ],
            )
            .map(|n| n == 1)
            .map_err(sql)
        })
        .await
    }

    async fn add_signing_key(&self, key: &SigningKeyRecord) -> Result<()> {
        let key = key.clone();
        self.call(move |conn| {
            conn.execute(
                "INSERT INTO signing_keys (kid, private_der, created_at, activates_at) VALUES (?1, ?2, ?3, ?4)",
                params![key.kid, key.private_der, key.created_at.seconds(), key.activates_at.seconds()],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }

    async fn delete_signing_key(&self, kid: &str) -> Result<()> {
        let kid = kid.to_owned();
        self.call(move |conn| {
            conn.execute("DELETE FROM signing_keys WHERE kid = ?1", [kid])
                .map(drop)
                .map_err(sql)
        })
        .await
    }
}
