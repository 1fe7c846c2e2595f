//! Accounts: their claims on an email and a username, passwords, status, the admin list.

use super::*;
use crate::store::UserStore;
use rusqlite::TransactionBehavior;

#[async_trait]
impl UserStore for SqliteStore {
    #[tracing::instrument(skip_all, fields(user_id = %user.id), err)]
    async fn create_user(&self, user: &User) -> Result<()> {
        let user = user.clone();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            insert_user(&tx, &user)?;
            tx.commit().map_err(sql)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user.id), err)]
    async fn create_invited_user(&self, user: &User, invitation: &InvitationUse) -> Result<()> {
        let (user, claim) = (user.clone(), invitation.clone());
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            use_invitation(&tx, &claim, &user.id)?;
            insert_user(&tx, &user)?;
            tx.commit().map_err(sql)
        })
        .await
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<User>> {
        let id = id.to_owned();
        self.call(move |conn| user_where(conn, "id", &id)).await
    }

    async fn user_by_email(&self, email_key: &str) -> Result<Option<User>> {
        let key = email_key.to_owned();
        self.call(move |conn| user_where(conn, "email_key", &key))
            .await
    }

    async fn user_by_username(&self, username_key: &str) -> Result<Option<User>> {
        let key = username_key.to_owned();
        self.call(move |conn| user_where(conn, "username_key", &key))
            .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id), err)]
    async fn set_password(
        &self,
        user_id: &str,
        password_hash: Option<&str>,
        expected_epoch: u32,
        unconfirmed: bool,
    ) -> Result<Option<User>> {
        let (id, hash) = (user_id.to_owned(), password_hash.map(str::to_owned));
        self.call(move |conn| {
            conn.query_row(
                &format!(
                    "UPDATE users SET password_hash = ?2, session_epoch = session_epoch + 1, \
                     password_epoch = password_epoch + 1, password_unconfirmed = ?4 \
                     WHERE id = ?1 AND password_epoch = ?3 RETURNING {USER_COLUMNS}"
                ),
                params![id, hash, expected_epoch, unconfirmed],
                user_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id), err)]
    async fn verify_email(
        &self,
        user_id: &str,
        email_key: &str,
        next: UserStatus,
    ) -> Result<Option<User>> {
        let (id, key) = (user_id.to_owned(), email_key.to_owned());
        self.call(move |conn| {
            conn.query_row(
                &format!(
                    "UPDATE users SET email_verified = 1, status = CASE WHEN status = ?3 \
                     THEN ?4 ELSE status END WHERE id = ?1 AND email_key = ?2 \
                     RETURNING {USER_COLUMNS}"
                ),
                params![
                    id,
                    key,
                    UserStatus::PendingVerification.as_str(),
                    next.as_str()
                ],
                user_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn replace_password_hash(&self, user_id: &str, old: &str, new: &str) -> Result<bool> {
        let (id, old, new) = (user_id.to_owned(), old.to_owned(), new.to_owned());
        self.call(move |conn| {
            conn.execute(
                "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2",
                params![id, old, new],
            )
            .map(|changed| changed == 1)
            .map_err(sql)
        })
        .await
    }

    async fn set_status(&self, user_id: &str, status: UserStatus) -> Result<Option<User>> {
        let id = user_id.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!("UPDATE users SET status = ?2 WHERE id = ?1 RETURNING {USER_COLUMNS}"),
                params![id, status.as_str()],
                user_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Page<User>> {
        let query = query.clone();
        self.call(move |conn| {
            let prefix = query.prefix.clone().unwrap_or_default();
            let status = query.status.map(UserStatus::as_str);
            // A cursor holds where the listing stopped and what it listed: one from another
            // search is refused.
            let after = match &query.cursor {
                None => String::new(),
                Some(cursor) => {
                    let value = decode_cursor(cursor)?;
                    let same_search = value.get("q").and_then(|v| v.as_str())
                        == Some(prefix.as_str())
                        && value.get("status").and_then(|v| v.as_str())
                            == Some(status.unwrap_or(""));
                    match value.get("after").and_then(|v| v.as_str()) {
                        Some(after) if same_search => after.to_owned(),
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
                    "SELECT {USER_COLUMNS} FROM users WHERE email_key > ?1 \
                     AND (substr(email_key, 1, length(?2)) = ?2 \
                          OR substr(username_key, 1, length(?2)) = ?2) \
                     AND (?3 IS NULL OR status = ?3) ORDER BY email_key LIMIT ?4"
                ))
                .map_err(sql)?;
            let mut users = statement
                .query_map(
                    params![after, prefix, status, query.limit as i64 + 1],
                    user_from_row,
                )
                .map_err(sql)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql)?;
            let next_cursor = if users.len() > query.limit {
                users.truncate(query.limit);
                users.last().map(|u| {
                    encode_cursor(&serde_json::json!({
                        "after": u.email.key(),
                        "q": prefix,
                        "status": status.unwrap_or(""),
                    }))
                })
            } else {
                None
            };
            Ok(Page {
                items: users,
                next_cursor,
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id), err)]
    async fn update_user(&self, user_id: &str, update: &UserUpdate) -> Result<Option<User>> {
        let (id, update) = (user_id.to_owned(), update.clone());
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            let Some(before) = user_where(&tx, "id", &id)? else {
                return Ok(None);
            };
            let Some(after) = update.apply(&before) else {
                return Ok(Some(before));
            };
            if before.is_active_admin()
                && !after.is_active_admin()
                && !other_admin_exists(&tx, &id)?
            {
                return Err(Error::LastAdmin);
            }
            let roles = serde_json::to_string(&after.roles).map_err(Error::internal)?;
            let user = tx
                .query_row(
                    &format!(
                        "UPDATE users SET status = ?2, roles = ?3, email_verified = ?4, \
                         session_epoch = ?5 WHERE id = ?1 RETURNING {USER_COLUMNS}"
                    ),
                    params![
                        id,
                        after.status.as_str(),
                        roles,
                        after.email_verified,
                        after.session_epoch
                    ],
                    user_from_row,
                )
                .map_err(sql)?;
            tx.commit().map_err(sql)?;
            Ok(Some(user))
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id), err)]
    async fn delete_user(&self, user_id: &str) -> Result<bool> {
        let id = user_id.to_owned();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            let Some(user) = user_where(&tx, "id", &id)? else {
                return Ok(false);
            };
            if user.is_active_admin() && !other_admin_exists(&tx, &id)? {
                return Err(Error::LastAdmin);
            }
            tx.execute(
                "DELETE FROM refresh_tokens WHERE session_id IN \
                 (SELECT id FROM sessions WHERE user_id = ?1)",
                [&id],
            )
            .map_err(sql)?;
            for statement in [
                "DELETE FROM sessions WHERE user_id = ?1",
                "DELETE FROM one_time_tokens WHERE user_id = ?1",
                "DELETE FROM access_keys WHERE user_id = ?1",
                "DELETE FROM oauth_identities WHERE user_id = ?1",
                "DELETE FROM users WHERE id = ?1",
            ] {
                tx.execute(statement, [&id]).map_err(sql)?;
            }
            // Device runs expire on their own: they name no one but the account's id.
            for key in [
                crate::lockout::account_key(&id),
                crate::lockout::key_login_key(&id),
            ] {
                tx.execute("DELETE FROM lockouts WHERE key = ?1", [key])
                    .map_err(sql)?;
            }
            tx.commit().map_err(sql)?;
            Ok(true)
        })
        .await
    }
}
