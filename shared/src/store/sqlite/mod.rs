//! The embedded store: one SQLite file in WAL mode. Every call runs on a blocking thread, so the
//! async runtime never waits on the disk; one connection serialises writes, which is what SQLite
//! does anyway, and makes each method's statement atomic.

mod access_keys;
mod audit;
mod clients;
mod codes;
mod counters;
mod expiry;
mod identities;
mod imports;
mod invitations;
mod lockout;
mod rows;
mod schema;
mod sessions;
mod signing_keys;
mod tokens;
mod users;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::access_key::AccessKey;
use crate::audit::AuditEvent;
use crate::clock::UnixTime;
use crate::email::Email;
use crate::error::{Error, Result};
use crate::identity::{IdentityLink, PendingSignIn, Provider};
use crate::invitation::{Invitation, InvitationUse};
use crate::lockout::{FailureWrite, LockoutRecord};
use crate::one_time_token::{OneTimeToken, TokenPurpose};
use crate::openid::{AuthorizationCode, Client, Redemption};
use crate::secret::Secret;
use crate::session::{ClientGrant, Session};
use crate::store::{EventQuery, Page, UserQuery, UserUpdate, decode_cursor, encode_cursor};
use crate::tokens::SigningKeyRecord;
use crate::user::{User, UserStatus};
use crate::username::Username;

use rows::*;
use schema::*;

#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let path = path.to_owned();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection> {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::internal(format!("creating {}: {e}", parent.display())))?;
            }
            let mut conn = Connection::open(&path).map_err(sql)?;
            prepare(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(|e| Error::internal(format!("opening the database: {e}")))??;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| Error::internal("database connection poisoned"))?;
            work(&mut guard)
        })
        .await
        .map_err(|e| Error::internal(format!("database task: {e}")))?
    }
}

fn prepare(conn: &mut Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(sql)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sql)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(sql)?;
    let version: usize = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(sql)?;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        tx.execute_batch(migration).map_err(sql)?;
        tx.pragma_update(None, "user_version", index + 1)
            .map_err(sql)?;
        tx.commit().map_err(sql)?;
    }
    Ok(())
}

/// SQLite busy or locked is a passing condition (another process holds the write lock); anything
/// else is unexpected.
fn sql(error: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(failure, _) = &error
        && matches!(
            failure.code,
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
        )
    {
        return Error::Unavailable {
            retry_after: 1,
            cause: Box::new(error),
        };
    }
    Error::internal(error)
}

fn user_where(conn: &Connection, column: &str, value: &str) -> Result<Option<User>> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = ?1"),
        [value],
        user_from_row,
    )
    .optional()
    .map_err(sql)
}

/// Whether the account exists and is not disabled: keys and provider links are added only to
/// such an account (one being deleted is disabled first).
fn usable_account(tx: &rusqlite::Transaction<'_>, user_id: &str) -> Result<bool> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1 AND status != 'disabled')",
        [user_id],
        |row| row.get(0),
    )
    .map_err(sql)
}

/// Whether an active admin other than `user_id` exists, read in the caller's transaction (the one
/// connection serialises writers, so nobody can demote that admin meanwhile).
fn other_admin_exists(tx: &rusqlite::Transaction<'_>, user_id: &str) -> Result<bool> {
    // Accounts holding the role, narrowed here; whether one is an active admin is the domain's.
    let mut statement = tx
        .prepare(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id != ?1 \
             AND EXISTS (SELECT 1 FROM json_each(users.roles) WHERE value = ?2)"
        ))
        .map_err(sql)?;
    let mut candidates = statement
        .query_map(params![user_id, crate::roles::ADMIN], user_from_row)
        .map_err(sql)?;
    candidates.try_fold(false, |found, user| {
        Ok(found || user.map_err(sql)?.is_active_admin())
    })
}

/// Marks the invitation used by `user_id` in `tx`, if it is usable: `Err(InvitationInvalid)`
/// otherwise.
fn use_invitation(
    tx: &rusqlite::Transaction<'_>,
    claim: &InvitationUse,
    user_id: &str,
) -> Result<()> {
    let invitation = tx
        .query_row(
            &format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE id = ?1"),
            [&claim.id],
            invitation_from_row,
        )
        .optional()
        .map_err(sql)?;
    // The domain decides whether it may be used; the transaction makes the use atomic.
    if !invitation.is_some_and(|i| i.admits(&claim.digest, &claim.email_key, claim.now)) {
        return Err(Error::InvitationInvalid);
    }
    tx.execute(
        "UPDATE invitations SET used_at = ?2, used_by = ?3 WHERE id = ?1",
        params![claim.id, claim.now.seconds(), user_id],
    )
    .map_err(sql)?;
    Ok(())
}

/// Inserts the account in `tx`: `Err(EmailTaken)` or `Err(UsernameTaken)` when either is claimed
/// (email first, as on DynamoDB).
fn insert_user(tx: &rusqlite::Transaction<'_>, user: &User) -> Result<()> {
    // Email is checked first so the answer is the same whichever write would collide.
    let email_taken: bool = tx
        .query_row(
            "SELECT 1 FROM users WHERE email_key = ?1",
            [user.email.key()],
            |_| Ok(()),
        )
        .optional()
        .map_err(sql)?
        .is_some();
    if email_taken {
        return Err(Error::EmailTaken);
    }
    let roles = serde_json::to_string(&user.roles).map_err(Error::internal)?;
    let inserted = tx.execute(
        "INSERT INTO users (id, email, email_key, username, username_key, password_hash, \
         first_name, last_name, email_verified, status, roles, created_at, session_epoch, \
         password_epoch, password_unconfirmed) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            user.id,
            user.email.as_str(),
            user.email.key(),
            user.username.as_str(),
            user.username.key(),
            user.password_hash,
            user.first_name,
            user.last_name,
            user.email_verified,
            user.status.as_str(),
            roles,
            user.created_at.seconds(),
            user.session_epoch,
            user.password_epoch,
            user.password_unconfirmed,
        ],
    );
    match inserted {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(f, Some(message)))
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            return Err(if message.contains("email_key") {
                Error::EmailTaken
            } else if message.contains("username_key") {
                Error::UsernameTaken
            } else {
                Error::internal(message)
            });
        }
        Err(e) => return Err(sql(e)),
    }
    Ok(())
}

/// Inserts the link unless the identity is linked already: whether it was inserted.
fn insert_identity(conn: &Connection, link: &IdentityLink) -> Result<bool> {
    conn.execute(
        "INSERT INTO oauth_identities (provider, subject, user_id, email_key, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (provider, subject) DO NOTHING",
        params![
            link.provider.as_str(),
            link.subject,
            link.user_id,
            link.email_key,
            link.created_at.seconds()
        ],
    )
    .map(|n| n == 1)
    .map_err(sql)
}
