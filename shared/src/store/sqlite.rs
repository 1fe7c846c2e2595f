//! The embedded store: one SQLite file in WAL mode. Every call runs on a blocking thread, so the
//! async runtime never waits on the disk; one connection serialises writes, which is what SQLite
//! does anyway, and makes each method's statement atomic.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::access_key::AccessKey;
use crate::audit::AuditEvent;
use crate::clock::UnixTime;
use crate::email::Email;
use crate::error::{Error, Result};
use crate::identity::{IdentityLink, PendingSignIn, Provider};
use crate::invitation::{Invitation, InvitationUse};
use crate::lockout::{FailureWrite, LockoutRecord};
use crate::one_time_token::{OneTimeToken, TokenPurpose};
use crate::secret::Secret;
use crate::session::Session;
use crate::store::{EventQuery, Page, Store, UserQuery, UserUpdate, decode_cursor, encode_cursor};
use crate::tokens::SigningKeyRecord;
use crate::user::{User, UserStatus};
use crate::username::Username;

/// Schema versions, applied in order and recorded in `PRAGMA user_version`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email_verified INTEGER NOT NULL,
    status TEXT NOT NULL,
    roles TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE lockouts (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    locked_until INTEGER,
    expires_at INTEGER NOT NULL
);
CREATE TABLE counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    refresh_digest TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ip TEXT,
    user_agent TEXT,
    revoked_at INTEGER
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    private_der BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);
"#,
    r#"
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
CREATE TABLE one_time_tokens (
    digest TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    user_id TEXT NOT NULL,
    email_key TEXT NOT NULL,
    password_epoch INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX one_time_tokens_by_user ON one_time_tokens (user_id);
"#,
    r#"
ALTER TABLE sessions ADD COLUMN previous_digest TEXT;
ALTER TABLE sessions ADD COLUMN rotated_at INTEGER;
ALTER TABLE sessions ADD COLUMN rotation_secret TEXT NOT NULL DEFAULT '';
CREATE TABLE refresh_tokens (
    digest TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
INSERT INTO refresh_tokens (digest, session_id, issued_at, expires_at)
    SELECT refresh_digest, id, created_at, expires_at FROM sessions;
ALTER TABLE signing_keys ADD COLUMN activates_at INTEGER NOT NULL DEFAULT 0;
UPDATE signing_keys SET activates_at = created_at;
"#,
    r#"
ALTER TABLE sessions ADD COLUMN access_key TEXT;
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    email TEXT,
    email_key TEXT,
    roles TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by TEXT
);
CREATE TABLE access_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    secret_digest TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX access_keys_by_user ON access_keys (user_id, created_at);
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT,
    ip TEXT,
    user_agent TEXT,
    detail TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX audit_by_time ON audit_events (at, id);
CREATE INDEX audit_by_user ON audit_events (user_id, at, id);
CREATE INDEX audit_by_expiry ON audit_events (expires_at);
CREATE TABLE oauth_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL,
    email_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX oauth_identities_by_user ON oauth_identities (user_id);
CREATE TABLE oauth_pending_sign_ins (
    state_digest TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    return_to TEXT NOT NULL,
    invitation_digest TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
"#,
];

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
        let tx = conn.transaction().map_err(sql)?;
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

const USER_COLUMNS: &str = "id, email, username, password_hash, first_name, last_name, \
                            email_verified, status, roles, created_at, session_epoch, password_epoch";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let status: String = row.get(7)?;
    let roles: String = row.get(8)?;
    Ok(User {
        id: row.get(0)?,
        email: Email::from_stored(row.get(1)?),
        username: Username::from_stored(row.get(2)?),
        password_hash: row.get(3)?,
        first_name: row.get(4)?,
        last_name: row.get(5)?,
        email_verified: row.get(6)?,
        status: UserStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, status.into())
        })?,
        roles: serde_json::from_str(&roles).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(8, rusqlite::types::Type::Text, Box::new(e))
        })?,
        created_at: UnixTime(row.get(9)?),
        session_epoch: row.get(10)?,
        password_epoch: row.get(11)?,
    })
}

const TOKEN_COLUMNS: &str =
    "digest, purpose, user_id, email_key, password_epoch, created_at, expires_at";

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<OneTimeToken> {
    let purpose: String = row.get(1)?;
    Ok(OneTimeToken {
        digest: row.get(0)?,
        purpose: TokenPurpose::parse(&purpose).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                1,
                rusqlite::types::Type::Text,
                purpose.into(),
            )
        })?,
        user_id: row.get(2)?,
        email_key: row.get(3)?,
        password_epoch: row.get(4)?,
        created_at: UnixTime(row.get(5)?),
        expires_at: UnixTime(row.get(6)?),
    })
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

fn lockout_from_row(row: &Row<'_>) -> rusqlite::Result<LockoutRecord> {
    Ok(LockoutRecord {
        failures: row.get(0)?,
        last_failure_at: UnixTime(row.get(1)?),
        locked_until: row.get::<_, Option<i64>>(2)?.map(UnixTime),
    })
}

fn session_from_row(row: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: row.get(0)?,
        user_id: row.get(1)?,
        refresh_digest: row.get(2)?,
        created_at: UnixTime(row.get(3)?),
        last_used_at: UnixTime(row.get(4)?),
        expires_at: UnixTime(row.get(5)?),
        ip: row.get(6)?,
        user_agent: row.get(7)?,
        revoked_at: row.get::<_, Option<i64>>(8)?.map(UnixTime),
        epoch: row.get(9)?,
        previous_digest: row.get(10)?,
        rotated_at: row.get::<_, Option<i64>>(11)?.map(UnixTime),
        rotation_secret: Secret::new(row.get::<_, String>(12)?),
        access_key: row.get(13)?,
    })
}

const SESSION_COLUMNS: &str = "s.id, s.user_id, s.refresh_digest, s.created_at, s.last_used_at, \
     s.expires_at, s.ip, s.user_agent, s.revoked_at, s.epoch, s.previous_digest, s.rotated_at, \
     s.rotation_secret, s.access_key";

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
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id != ?1 AND status = 'active' \
         AND EXISTS (SELECT 1 FROM json_each(users.roles) WHERE value = 'admin'))",
        [user_id],
        |row| row.get(0),
    )
    .map_err(sql)
}

const INVITATION_COLUMNS: &str =
    "id, digest, email, email_key, roles, created_by, created_at, expires_at, used_at, used_by";

fn invitation_from_row(row: &Row<'_>) -> rusqlite::Result<Invitation> {
    let roles: String = row.get(4)?;
    Ok(Invitation {
        id: row.get(0)?,
        digest: row.get(1)?,
        email: row.get::<_, Option<String>>(2)?.map(Email::from_stored),
        roles: serde_json::from_str(&roles).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
        })?,
        created_by: row.get(5)?,
        created_at: UnixTime(row.get(6)?),
        expires_at: UnixTime(row.get(7)?),
        used_at: row.get::<_, Option<i64>>(8)?.map(UnixTime),
        used_by: row.get(9)?,
    })
}

const ACCESS_KEY_COLUMNS: &str = "id, user_id, secret_digest, created_at, last_used_at";

fn access_key_from_row(row: &Row<'_>) -> rusqlite::Result<AccessKey> {
    Ok(AccessKey {
        id: row.get(0)?,
        user_id: row.get(1)?,
        secret_digest: row.get(2)?,
        created_at: UnixTime(row.get(3)?),
        last_used_at: row.get::<_, Option<i64>>(4)?.map(UnixTime),
    })
}

const EVENT_COLUMNS: &str = "id, at, kind, user_id, ip, user_agent, detail, expires_at";

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<AuditEvent> {
    let detail: String = row.get(6)?;
    Ok(AuditEvent {
        id: row.get(0)?,
        at: UnixTime(row.get(1)?),
        kind: row.get(2)?,
        user_id: row.get(3)?,
        ip: row.get(4)?,
        user_agent: row.get(5)?,
        detail: serde_json::from_str(&detail).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, Box::new(e))
        })?,
        expires_at: UnixTime(row.get(7)?),
    })
}

/// Marks the invitation used by `user_id` in `tx`, if it is usable: `Err(InvitationInvalid)`
/// otherwise.
fn use_invitation(
    tx: &rusqlite::Transaction<'_>,
    claim: &InvitationUse,
    user_id: &str,
) -> Result<()> {
    let used = tx
        .execute(
            "UPDATE invitations SET used_at = ?4, used_by = ?5 WHERE id = ?1 \
             AND digest = ?2 AND used_at IS NULL AND expires_at > ?4 \
             AND (email_key IS NULL OR email_key = ?3)",
            params![
                claim.id,
                claim.digest,
                claim.email_key,
                claim.now.seconds(),
                user_id
            ],
        )
        .map_err(sql)?;
    if used == 1 {
        Ok(())
    } else {
        Err(Error::InvitationInvalid)
    }
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
         password_epoch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
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

const IDENTITY_COLUMNS: &str = "provider, subject, user_id, email_key, created_at";

fn identity_from_row(row: &Row<'_>) -> rusqlite::Result<IdentityLink> {
    let provider: String = row.get(0)?;
    Ok(IdentityLink {
        provider: Provider::parse(&provider).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                provider.into(),
            )
        })?,
        subject: row.get(1)?,
        user_id: row.get(2)?,
        email_key: row.get(3)?,
        created_at: UnixTime(row.get(4)?),
    })
}

const PENDING_COLUMNS: &str = "state_digest, provider, pkce_verifier, nonce, return_to, \
                               invitation_digest, created_at, expires_at";

fn pending_from_row(row: &Row<'_>) -> rusqlite::Result<PendingSignIn> {
    let provider: String = row.get(1)?;
    Ok(PendingSignIn {
        state_digest: row.get(0)?,
        provider: Provider::parse(&provider).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                1,
                rusqlite::types::Type::Text,
                provider.into(),
            )
        })?,
        pkce_verifier: Secret::new(row.get::<_, String>(2)?),
        nonce: Secret::new(row.get::<_, String>(3)?),
        return_to: row.get(4)?,
        invitation_digest: row.get(5)?,
        created_at: UnixTime(row.get(6)?),
        expires_at: UnixTime(row.get(7)?),
    })
}

#[async_trait]
impl Store for SqliteStore {
    #[tracing::instrument(skip_all, fields(user_id = %user.id), err)]
    async fn create_user(&self, user: &User) -> Result<()> {
        let user = user.clone();
        self.call(move |conn| {
            let tx = conn.transaction().map_err(sql)?;
            insert_user(&tx, &user)?;
            tx.commit().map_err(sql)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user.id), err)]
    async fn create_invited_user(&self, user: &User, invitation: &InvitationUse) -> Result<()> {
        let (user, claim) = (user.clone(), invitation.clone());
        self.call(move |conn| {
            let tx = conn.transaction().map_err(sql)?;
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
        password_hash: &str,
        expected_epoch: u32,
    ) -> Result<Option<User>> {
        let (id, hash) = (user_id.to_owned(), password_hash.to_owned());
        self.call(move |conn| {
            conn.query_row(
                &format!(
                    "UPDATE users SET password_hash = ?2, session_epoch = session_epoch + 1, \
                     password_epoch = password_epoch + 1 WHERE id = ?1 AND password_epoch = ?3 \
                     RETURNING {USER_COLUMNS}"
                ),
                params![id, hash, expected_epoch],
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
            let tx = conn.transaction().map_err(sql)?;
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
            let tx = conn.transaction().map_err(sql)?;
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
                "DELETE FROM lockouts WHERE key = 'account#' || ?1",
                "DELETE FROM users WHERE id = ?1",
            ] {
                tx.execute(statement, [&id]).map_err(sql)?;
            }
            tx.commit().map_err(sql)?;
            Ok(true)
        })
        .await
    }

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

    #[tracing::instrument(skip_all, fields(user_id = %key.user_id), err)]
    async fn create_access_key(&self, key: &AccessKey, limit: u32) -> Result<()> {
        let key = key.clone();
        self.call(move |conn| {
            let tx = conn.transaction().map_err(sql)?;
            if !usable_account(&tx, &key.user_id)? {
                return Err(Error::Unauthorized);
            }
            let held: u32 = tx
                .query_row(
                    "SELECT COUNT(*) FROM access_keys WHERE user_id = ?1",
                    [&key.user_id],
                    |row| row.get(0),
                )
                .map_err(sql)?;
            if held >= limit {
                return Err(Error::TooManyAccessKeys { limit });
            }
            tx.execute(
                "INSERT INTO access_keys (id, user_id, secret_digest, created_at, last_used_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    key.id,
                    key.user_id,
                    key.secret_digest,
                    key.created_at.seconds(),
                    key.last_used_at.map(UnixTime::seconds)
                ],
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)
        })
        .await
    }

    async fn access_key(&self, id: &str) -> Result<Option<AccessKey>> {
        let id = id.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE id = ?1"),
                [id],
                access_key_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn access_keys_of(&self, user_id: &str) -> Result<Vec<AccessKey>> {
        let id = user_id.to_owned();
        self.call(move |conn| {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE user_id = ?1 \
                     ORDER BY created_at, id"
                ))
                .map_err(sql)?;
            statement
                .query_map([id], access_key_from_row)
                .map_err(sql)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql)
        })
        .await
    }

    async fn delete_access_key(&self, user_id: &str, id: &str) -> Result<bool> {
        let (user_id, id) = (user_id.to_owned(), id.to_owned());
        self.call(move |conn| {
            conn.execute(
                "DELETE FROM access_keys WHERE id = ?1 AND user_id = ?2",
                params![id, user_id],
            )
            .map(|n| n == 1)
            .map_err(sql)
        })
        .await
    }

    async fn touch_access_key(&self, id: &str, now: UnixTime) -> Result<()> {
        let id = id.to_owned();
        self.call(move |conn| {
            conn.execute(
                "UPDATE access_keys SET last_used_at = ?2 WHERE id = ?1",
                params![id, now.seconds()],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }

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

    async fn create_token(&self, token: &OneTimeToken) -> Result<()> {
        let t = token.clone();
        self.call(move |conn| {
            conn.execute(
                &format!("INSERT INTO one_time_tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![
                    t.digest,
                    t.purpose.as_str(),
                    t.user_id,
                    t.email_key,
                    t.password_epoch,
                    t.created_at.seconds(),
                    t.expires_at.seconds()
                ],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }

    async fn token(&self, digest: &str) -> Result<Option<OneTimeToken>> {
        let digest = digest.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {TOKEN_COLUMNS} FROM one_time_tokens WHERE digest = ?1"),
                [digest],
                token_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    #[tracing::instrument(skip_all, err)]
    async fn consume_token(
        &self,
        digest: &str,
        purpose: TokenPurpose,
        now: UnixTime,
    ) -> Result<Option<OneTimeToken>> {
        let digest = digest.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!(
                    "DELETE FROM one_time_tokens WHERE digest = ?1 AND purpose = ?2 AND expires_at > ?3 \
                     RETURNING {TOKEN_COLUMNS}"
                ),
                params![digest, purpose.as_str(), now.seconds()],
                token_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn lockout(&self, key: &str) -> Result<Option<LockoutRecord>> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.query_row(
                "SELECT failures, last_failure_at, locked_until FROM lockouts WHERE key = ?1",
                [key],
                lockout_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    #[tracing::instrument(skip_all, err)]
    async fn record_failure(&self, key: &str, write: FailureWrite) -> Result<LockoutRecord> {
        let key = key.to_owned();
        self.call(move |conn| {
            // One statement: the run goes on or starts over, decided on the row as it is now.
            // The right-hand sides all see the row as it was before the update.
            conn.query_row(
                "INSERT INTO lockouts (key, failures, last_failure_at, locked_until, expires_at) \
                 VALUES (?1, 1, ?2, NULL, ?4) \
                 ON CONFLICT (key) DO UPDATE SET \
                   failures = CASE WHEN last_failure_at > ?3 \
                       AND (locked_until IS NULL OR locked_until > ?2) \
                       THEN failures + 1 ELSE 1 END, \
                   locked_until = CASE WHEN last_failure_at > ?3 \
                       AND (locked_until IS NULL OR locked_until > ?2) \
                       THEN locked_until ELSE NULL END, \
                   last_failure_at = ?2, \
                   expires_at = ?4 \
                 RETURNING failures, last_failure_at, locked_until",
                params![
                    key,
                    write.now.seconds(),
                    write.stale_before.seconds(),
                    write.expires_at.seconds()
                ],
                lockout_from_row,
            )
            .map_err(sql)
        })
        .await
    }

    async fn lock(&self, key: &str, until: UnixTime, expires_at: UnixTime) -> Result<()> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.execute(
                "UPDATE lockouts SET locked_until = ?2, expires_at = max(expires_at, ?3) WHERE key = ?1",
                params![key, until.seconds(), expires_at.seconds()],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }

    async fn clear_lockout(&self, key: &str) -> Result<()> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.execute("DELETE FROM lockouts WHERE key = ?1", [key])
                .map(drop)
                .map_err(sql)
        })
        .await
    }

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

    async fn create_session(&self, session: &Session) -> Result<()> {
        let s = session.clone();
        self.call(move |conn| {
            let tx = conn.transaction().map_err(sql)?;
            tx.execute(
                "INSERT INTO sessions (id, user_id, refresh_digest, created_at, last_used_at, \
                 expires_at, ip, user_agent, revoked_at, epoch, previous_digest, rotated_at, \
                 rotation_secret, access_key) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    s.id,
                    s.user_id,
                    s.refresh_digest,
                    s.created_at.seconds(),
                    s.last_used_at.seconds(),
                    s.expires_at.seconds(),
                    s.ip,
                    s.user_agent,
                    s.revoked_at.map(UnixTime::seconds),
                    s.epoch,
                    s.previous_digest,
                    s.rotated_at.map(UnixTime::seconds),
                    s.rotation_secret.expose(),
                    s.access_key,
                ],
            )
            .map_err(sql)?;
            tx.execute(
                "INSERT INTO refresh_tokens (digest, session_id, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![s.refresh_digest, s.id, s.created_at.seconds(), s.expires_at.seconds()],
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)
        })
        .await
    }

    async fn session(&self, id: &str) -> Result<Option<Session>> {
        let id = id.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.id = ?1"),
                [id],
                session_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn session_by_refresh(&self, digest: &str) -> Result<Option<Session>> {
        let digest = digest.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id \
                     WHERE r.digest = ?1"
                ),
                [digest],
                session_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(session_id = %session.id), err)]
    async fn rotate_refresh(
        &self,
        session: &Session,
        from: &str,
        to: &str,
        now: UnixTime,
    ) -> Result<bool> {
        let (id, from, to) = (session.id.clone(), from.to_owned(), to.to_owned());
        self.call(move |conn| {
            let tx = conn.transaction().map_err(sql)?;
            let changed = tx
                .execute(
                    "UPDATE sessions SET previous_digest = refresh_digest, refresh_digest = ?3, \
                     rotated_at = ?4, last_used_at = ?4 \
                     WHERE id = ?1 AND refresh_digest = ?2 AND revoked_at IS NULL",
                    params![id, from, to, now.seconds()],
                )
                .map_err(sql)?;
            if changed == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO refresh_tokens (digest, session_id, issued_at, expires_at) \
                 SELECT ?2, id, ?3, expires_at FROM sessions WHERE id = ?1",
                params![id, to, now.seconds()],
            )
            .map_err(sql)?;
            tx.commit().map_err(sql)?;
            Ok(true)
        })
        .await
    }

    async fn revoke_session(&self, session_id: &str, now: UnixTime) -> Result<()> {
        let id = session_id.to_owned();
        self.call(move |conn| {
            conn.execute(
                "UPDATE sessions SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
                params![id, now.seconds()],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }

    async fn sessions_of(&self, user_id: &str) -> Result<Vec<Session>> {
        let id = user_id.to_owned();
        self.call(move |conn| {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.user_id = ?1 ORDER BY s.created_at, s.id"
                ))
                .map_err(sql)?;
            let rows = statement.query_map([id], session_from_row).map_err(sql)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
        })
        .await
    }

    async fn end_all_sessions(&self, user_id: &str) -> Result<()> {
        let id = user_id.to_owned();
        self.call(move |conn| {
            conn.execute(
                "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = ?1",
                [id],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user.id), err)]
    async fn create_user_with_identity(
        &self,
        user: &User,
        link: &IdentityLink,
        invitation: Option<&InvitationUse>,
    ) -> Result<bool> {
        let (user, link, claim) = (user.clone(), link.clone(), invitation.cloned());
        self.call(move |conn| {
            let tx = conn.transaction().map_err(sql)?;
            if !insert_identity(&tx, &link)? {
                return Ok(false);
            }
            if let Some(claim) = &claim {
                use_invitation(&tx, claim, &user.id)?;
            }
            insert_user(&tx, &user)?;
            tx.commit().map_err(sql)?;
            Ok(true)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %link.user_id), err)]
    async fn link_identity(&self, link: &IdentityLink) -> Result<bool> {
        let link = link.clone();
        self.call(move |conn| {
            let tx = conn.transaction().map_err(sql)?;
            // Only to an account that is there and not disabled (it may be being deleted).
            if !usable_account(&tx, &link.user_id)? || !insert_identity(&tx, &link)? {
                return Ok(false);
            }
            tx.commit().map_err(sql)?;
            Ok(true)
        })
        .await
    }

    async fn identity(&self, provider: Provider, subject: &str) -> Result<Option<IdentityLink>> {
        let subject = subject.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!(
                    "SELECT {IDENTITY_COLUMNS} FROM oauth_identities WHERE provider = ?1 AND subject = ?2"
                ),
                params![provider.as_str(), subject],
                identity_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

    async fn identities_of(&self, user_id: &str) -> Result<Vec<IdentityLink>> {
        let id = user_id.to_owned();
        self.call(move |conn| {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {IDENTITY_COLUMNS} FROM oauth_identities WHERE user_id = ?1 \
                     ORDER BY created_at, provider, subject"
                ))
                .map_err(sql)?;
            let rows = statement.query_map([id], identity_from_row).map_err(sql)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(sql)
        })
        .await
    }

    async fn create_pending_sign_in(&self, pending: &PendingSignIn) -> Result<()> {
        let p = pending.clone();
        self.call(move |conn| {
            // Sign-ins abandoned at the provider are swept here; DynamoDB's TTL does it there.
            conn.execute(
                "DELETE FROM oauth_pending_sign_ins WHERE expires_at <= ?1",
                [p.created_at.seconds()],
            )
            .map_err(sql)?;
            conn.execute(
                &format!(
                    "INSERT INTO oauth_pending_sign_ins ({PENDING_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ),
                params![
                    p.state_digest,
                    p.provider.as_str(),
                    p.pkce_verifier.expose(),
                    p.nonce.expose(),
                    p.return_to,
                    p.invitation_digest,
                    p.created_at.seconds(),
                    p.expires_at.seconds()
                ],
            )
            .map(drop)
            .map_err(sql)
        })
        .await
    }

    #[tracing::instrument(skip_all, err)]
    async fn consume_pending_sign_in(
        &self,
        state_digest: &str,
        now: UnixTime,
    ) -> Result<Option<PendingSignIn>> {
        let digest = state_digest.to_owned();
        self.call(move |conn| {
            conn.query_row(
                &format!(
                    "DELETE FROM oauth_pending_sign_ins WHERE state_digest = ?1 AND expires_at > ?2 \
                     RETURNING {PENDING_COLUMNS}"
                ),
                params![digest, now.seconds()],
                pending_from_row,
            )
            .optional()
            .map_err(sql)
        })
        .await
    }

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
