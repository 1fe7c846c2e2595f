//! Invitations, used up in the same step that creates the account.

use super::*;
use crate::store::InvitationStore;

#[async_trait]
impl InvitationStore for SqliteStore {
    async fn create_invitation(&self, invitation: &Invitation) -> Result<()> {
        let i = invitation.clone();
        self.call(move |conn| {
            let roles = serde_json::to_string(&i.roles).map_err(Error::internal)?;
            conn.execute(
                &format!(
                    "INSERT INTO invitations ({INVITATION_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ),
                params![
                    i.id,
                    i.digest,
                    i.email.as_ref().map(Email::as_str),
                    i.email.as_ref().map(Email::key),
                    roles,
                    i.created_by,
                    i.created_at.seconds(),
                    i.expires_at.seconds(),
                    i.used_at.map(UnixTime::seconds),
                    i.used_by,
                ],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }

    async fn invitation(&self, id: &str) -> Result<Option<Invitation>> {
        let id = id.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE id = ?1"),
                [id],
                invitation_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn invitations(&self) -> Result<Vec<Invitation>> {
        self.call(move |conn| {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {INVITATION_COLUMNS} FROM invitations ORDER BY created_at DESC, id"
                ))
                .map_err(sql)?;
            statement
                .query_map([], invitation_from_row)
                .map_err(sql)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql)
        })
        .await
    }

    async fn delete_invitation(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.call(move |conn| {
            conn.execute("DELETE FROM invitations WHERE id = ?1", [id])
                .map(|n| n == 1)
                .map_err(sql)
        })
        .await
    }
}
