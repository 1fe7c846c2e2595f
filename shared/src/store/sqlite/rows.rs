//! Records to and from SQLite rows.

use super::*;

pub(super) const USER_COLUMNS: &str = "id, email, username, password_hash, first_name, last_name, \
                            email_verified, status, roles, created_at, session_epoch, password_epoch, \
                            password_unconfirmed";

pub(super) fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
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
        password_unconfirmed: row.get(12)?,
    })
}

pub(super) const TOKEN_COLUMNS: &str =
    "digest, purpose, user_id, email_key, password_epoch, created_at, expires_at, challenge";

pub(super) fn token_from_row(row: &Row<'_>) -> rusqlite::Result<OneTimeToken> {
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
        challenge: row.get(7)?,
    })
}

pub(super) fn lockout_from_row(row: &Row<'_>) -> rusqlite::Result<LockoutRecord> {
    Ok(LockoutRecord {
        failures: row.get(0)?,
        last_failure_at: UnixTime(row.get(1)?),
        locked_until: row.get::<_, Option<i64>>(2)?.map(UnixTime),
    })
}

pub(super) fn session_from_row(row: &Row<'_>) -> rusqlite::Result<Session> {
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
        client: match (
            row.get::<_, Option<String>>(14)?,
            row.get::<_, Option<String>>(15)?,
        ) {
            (Some(client_id), Some(scope)) => Some(ClientGrant {
                client_id,
                scope,
                auth_time: UnixTime(row.get::<_, Option<i64>>(16)?.unwrap_or(0)),
            }),
            _ => None,
        },
    })
}

pub(super) const SESSION_COLUMNS: &str = "s.id, s.user_id, s.refresh_digest, s.created_at, s.last_used_at, \
     s.expires_at, s.ip, s.user_agent, s.revoked_at, s.epoch, s.previous_digest, s.rotated_at, \
     s.rotation_secret, s.access_key, s.client_id, s.scope, s.auth_time";

pub(super) const INVITATION_COLUMNS: &str =
    "id, digest, email, email_key, roles, created_by, created_at, expires_at, used_at, used_by";

pub(super) fn invitation_from_row(row: &Row<'_>) -> rusqlite::Result<Invitation> {
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

pub(super) const ACCESS_KEY_COLUMNS: &str =
    "id, user_id, secret_digest, created_at, last_used_at, expires_at";

pub(super) fn access_key_from_row(row: &Row<'_>) -> rusqlite::Result<AccessKey> {
    Ok(AccessKey {
        id: row.get(0)?,
        user_id: row.get(1)?,
        secret_digest: row.get(2)?,
        created_at: UnixTime(row.get(3)?),
        last_used_at: row.get::<_, Option<i64>>(4)?.map(UnixTime),
        expires_at: row.get::<_, Option<i64>>(5)?.map(UnixTime),
    })
}

pub(super) const EVENT_COLUMNS: &str = "id, at, kind, user_id, ip, user_agent, detail, expires_at";

pub(super) fn event_from_row(row: &Row<'_>) -> rusqlite::Result<AuditEvent> {
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

pub(super) const IDENTITY_COLUMNS: &str = "provider, subject, user_id, email_key, created_at";

pub(super) fn identity_from_row(row: &Row<'_>) -> rusqlite::Result<IdentityLink> {
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

pub(super) const PENDING_COLUMNS: &str = "state_digest, provider, pkce_verifier, nonce, return_to, \
                               invitation_digest, created_at, expires_at, client_challenge";

pub(super) fn pending_from_row(row: &Row<'_>) -> rusqlite::Result<PendingSignIn> {
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
        client_challenge: row.get(8)?,
    })
}
