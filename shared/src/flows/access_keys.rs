//! Access keys: a user logs in with an access key and secret key instead of a password
//! (Backend.AI's IAM login). The secret is shown once; the store keeps its SHA-256 digest. A wrong
//! secret counts toward the owning account's lockout; deleting a key ends its use, and every
//! session it opened, at once.

use std::time::Duration;

use serde::Serialize;
use subtle::ConstantTimeEq as _;

use crate::access_key::{AccessKey, new_key_id, well_formed};
use crate::app::{App, Authenticated};
use crate::audit::{self, EventKind};
use crate::caller::Caller;
use crate::clock::UnixTime;
use crate::config::EmailVerification;
use crate::error::{Error, Result};
use crate::grant::{TokenGrant, start_session_with};
use crate::json_body::JsonBody;
use crate::lockout;
use crate::login::{Counter, begin_attempt, check_password, check_status, failed_attempt};
use crate::notices;
use crate::secret::Secret;
use crate::tokens::{OpaqueToken, digest};

/// `201 {access_key, secret_key}`.
pub struct CreatedKey {
    pub access_key: String,
    pub secret_key: Secret,
    pub created_at: UnixTime,
    pub expires_at: Option<UnixTime>,
}

impl Serialize for CreatedKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "access_key": self.access_key,
            "secret_key": self.secret_key.expose(),
            "created_at": self.created_at.rfc3339(),
            "expires_at": self.expires_at.map(UnixTime::rfc3339),
        })
        .serialize(serializer)
    }
}

#[derive(Debug, Serialize)]
pub struct KeyView {
    pub access_key: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
}

/// How recent a sign-in must be to create a key on an account that has no password.
pub const RECENT_LOGIN: Duration = Duration::from_secs(5 * 60);

/// The shortest lifetime a key may be given.
const MIN_LIFETIME: Duration = Duration::from_secs(60);

/// The longest: a hundred years, "never" for any key that will be used.
const MAX_LIFETIME: Duration = Duration::from_secs(100 * 365 * 86_400);

/// `POST /v1/access-keys`, read: `{"current_password", "expires_in", "device_token"}`.
#[derive(Debug, Default)]
pub struct NewKey {
    pub current_password: Option<Secret>,
    /// The client's device token: a wrong password counts where a login from it would.
    pub device_token: Option<String>,
    /// Seconds from now.
    pub expires_in: Option<u64>,
}

impl NewKey {
    /// An empty body is an empty request (an account without a password sends nothing).
    pub fn from_bytes(bytes: &[u8]) -> Result<NewKey> {
        if bytes.is_empty() {
            return Ok(NewKey::default());
        }
        let mut body = JsonBody::from_slice(bytes)?;
        let key = NewKey {
            current_password: body.secret("current_password", false),
            device_token: body.string("device_token", false),
            expires_in: body.unsigned("expires_in", false),
        };
        if key.expires_in.is_some_and(|s| s < MIN_LIFETIME.as_secs()) {
            body.error("expires_in", "must be at least 60 seconds");
        } else if key.expires_in.is_some_and(|s| s > MAX_LIFETIME.as_secs()) {
            body.error(
                "expires_in",
                format!("must be at most {} seconds", MAX_LIFETIME.as_secs()),
            );
        }
        for field in body.remaining_fields() {
            body.error(&field, "is not a field of a new access key");
        }
        body.finish()?;
        Ok(key)
    }
}

/// Creates a key for the signed-in account. Someone holding only a stolen access token can't:
/// the current password is asked (a wrong one counts toward the lockout like a failed login),
/// or, for an account without one, a sign-in under 5 minutes old. The address must be confirmed,
/// and the owner is mailed.
pub async fn create(
    app: &App,
    caller: &Caller,
    who: &Authenticated,
    request: NewKey,
) -> Result<CreatedKey> {
    // A key makes keys no more: a leaked key must not outlive its own deletion through another.
    if who.access_key.is_some() {
        return Err(Error::Forbidden);
    }
    let now = app.clock.now();
    let expires_at = lifetime(app, request.expires_in)?.map(|life| now.plus(life));
    // Someone who signed up with another person's address can't plant a key before the owner
    // confirms it (with verification `off` no address is ever confirmed, and none is asked).
    if !who.user.email_verified && app.config.signup.email_verification != EmailVerification::Off {
        return Err(Error::EmailNotVerified);
    }
    reauthenticate(
        app,
        caller,
        who,
        request.current_password.as_ref(),
        request.device_token.as_deref(),
    )
    .await?;
    let secret = OpaqueToken::generate();
    let key = AccessKey {
        id: new_key_id(),
        user_id: who.user.id.clone(),
        secret_digest: secret.digest,
        created_at: now,
        last_used_at: None,
        expires_at,
    };
    app.store
        .create_access_key(&key, app.config.login.access_key_limit)
        .await?;
    app.audit(
        caller,
        EventKind::AccessKeyCreated,
        Some(&key.user_id),
        audit::detail(&[("access_key", key.id.clone().into())]),
    )
    .await;
    let ui = app.ui_url();
    let sender = notices::Sender {
        product: &app.config.mail.product_name,
        ui: &ui,
    };
    app.deliver(notices::access_key_created(
        &sender,
        &who.user.email,
        who.user.username.as_str(),
        &key.id,
        &now.rfc3339(),
        caller.ip.as_deref().unwrap_or("an unknown address"),
    ))
    .await;
    Ok(CreatedKey {
        access_key: key.id,
        secret_key: secret.token,
        created_at: now,
        expires_at,
    })
}

/// The lifetime a new key gets: the one asked for, within the operator's cap (which is also the
/// default when one is set).
fn lifetime(app: &App, asked: Option<u64>) -> Result<Option<Duration>> {
    let cap = app.config.login.access_key_max_lifetime;
    match (asked.map(Duration::from_secs), cap) {
        (Some(asked), Some(cap)) if asked > cap => Err(Error::invalid_field(
            "expires_in",
            format!("must be at most {} seconds", cap.as_secs()),
        )),
        (Some(asked), _) => Ok(Some(asked)),
        (None, cap) => Ok(cap),
    }
}

/// The proof that the person, not only their token, is here.
async fn reauthenticate(
    app: &App,
    caller: &Caller,
    who: &Authenticated,
    current_password: Option<&Secret>,
    device_token: Option<&str>,
) -> Result<()> {
    if who.user.password_hash.is_none() {
        let session = app.store.session(&who.claims.sid).await?;
        let recent = session.is_some_and(|s| app.clock.now() < s.created_at.plus(RECENT_LOGIN));
        return if recent {
            Ok(())
        } else {
            Err(Error::RecentLoginRequired)
        };
    }
    let Some(password) = current_password.filter(|p| !p.expose().is_empty()) else {
        return Err(Error::invalid_field("current_password", "is required"));
    };
    let counter = Counter::for_password(app, &who.user, device_token).await?;
    if check_password(app, caller, &counter, password, Some(&who.user)).await? {
        Ok(())
    } else {
        Err(Error::InvalidCredentials)
    }
}

/// Deletes every key of the account (a completed password reset): whoever planted one loses it.
/// Returns how many there were.
pub async fn delete_all(app: &App, caller: &Caller, user_id: &str) -> Result<usize> {
    let keys = app.store.access_keys_of(user_id).await?;
    for key in &keys {
        if app.store.delete_access_key(user_id, &key.id).await? {
            app.audit(
                caller,
                EventKind::AccessKeyDeleted,
                Some(user_id),
                audit::detail(&[
                    ("access_key", key.id.clone().into()),
                    ("reason", "password_reset".into()),
                ]),
            )
            .await;
        }
    }
    Ok(keys.len())
}

pub async fn list(app: &App, who: &Authenticated) -> Result<Vec<KeyView>> {
    Ok(app
        .store
        .access_keys_of(&who.user.id)
        .await?
        .into_iter()
        .map(|k| KeyView {
            access_key: k.id,
            created_at: k.created_at.rfc3339(),
            last_used_at: k.last_used_at.map(|t| t.rfc3339()),
            expires_at: k.expires_at.map(|t| t.rfc3339()),
        })
        .collect())
}

/// Deletes one of the caller's keys and revokes every session it opened. Another user's key is
/// 404, like a key that doesn't exist.
pub async fn delete(app: &App, caller: &Caller, who: &Authenticated, id: &str) -> Result<()> {
    if !app.store.delete_access_key(&who.user.id, id).await? {
        return Err(Error::NotFound);
    }
    let now = app.clock.now();
    for session in app.store.sessions_of(&who.user.id).await? {
        if session.access_key.as_deref() == Some(id) && session.revoked_at.is_none() {
            app.store.revoke_session(&session.id, now).await?;
        }
    }
    app.audit(
        caller,
        EventKind::AccessKeyDeleted,
        Some(&who.user.id),
        audit::detail(&[("access_key", id.into())]),
    )
    .await;
    Ok(())
}

#[derive(Debug)]
pub struct KeyLogin {
    pub access_key: String,
    pub secret_key: Secret,
}

impl KeyLogin {
    pub fn from_json(mut body: JsonBody) -> Result<KeyLogin> {
        let access_key = body.string("access_key", true).map(|k| k.trim().to_owned());
        let secret_key = body.secret("secret_key", true);
        if access_key
            .as_ref()
            .is_some_and(|k| k.is_empty() || k.len() > 64)
        {
            body.error("access_key", "must be 1 to 64 characters");
        }
        if secret_key.as_ref().is_some_and(|s| s.expose().is_empty()) {
            body.error("secret_key", "must not be empty");
        }
        body.finish()?;
        let (Some(access_key), Some(secret_key)) = (access_key, secret_key) else {
            return Err(Error::internal("a missing field was not reported"));
        };
        Ok(KeyLogin {
            access_key,
            secret_key,
        })
    }
}

/// `POST /v1/login/access-key`. Like a password login: the attempt is counted before the secret is
/// checked, a wrong secret or unknown key is the same 401, and the account's state is told only
/// after a right secret. Key logins count in a run of their own (an unknown key under a digest
/// of itself): password guesses never block them, wrong secrets never lock password logins, and
/// a key login never clears password failures.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn login(app: &App, caller: &Caller, request: KeyLogin) -> Result<TokenGrant> {
    if !app.config.login.access_key_login {
        return Err(Error::AccessKeyLoginDisabled);
    }
    let key = if well_formed(&request.access_key) {
        app.store.access_key(&request.access_key).await?
    } else {
        None
    };
    // Read the account whether or not the key exists, so both paths take the same store trips.
    let owner = app
        .store
        .user_by_id(key.as_ref().map_or("#none", |k| k.user_id.as_str()))
        .await?;
    let counter = Counter::new(match &owner {
        Some(user) => lockout::key_login_key(&user.id),
        None => lockout::identifier_key(&format!("access-key#{}", request.access_key)),
    });
    let attempt = begin_attempt(app, counter.key()).await?;
    let presented = digest(request.secret_key.expose());
    let expected = key.as_ref().map_or("", |k| k.secret_digest.as_str());
    let matched: bool = presented.as_bytes().ct_eq(expected.as_bytes()).into();
    // An expired key is refused like a wrong secret.
    let live = key.as_ref().is_some_and(|k| k.is_live(app.clock.now()));
    let (Some(key), Some(user)) = (key.filter(|_| matched && live), owner) else {
        failed_attempt(app, caller, &counter, &attempt).await?;
        let user_id = lockout::account_of(counter.key());
        app.audit(
            caller,
            EventKind::LoginFailed,
            user_id,
            audit::detail(&[("method", "access_key".into())]),
        )
        .await;
        return Err(Error::InvalidCredentials);
    };
    app.store.clear_lockout(counter.key()).await?;
    check_status(app, &user)?;
    let now = app.clock.now();
    app.store.touch_access_key(&key.id, now).await?;
    let grant = start_session_with(app, &user, caller, Some(&key.id)).await?;
    app.audit(
        caller,
        EventKind::AccessKeyUsed,
        Some(&user.id),
        audit::detail(&[("access_key", key.id.clone().into())]),
    )
    .await;
    Ok(grant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_well_formed_and_distinct() {
        let a = new_key_id();
        assert!(well_formed(&a), "{a}");
        assert_ne!(a, new_key_id());
        assert!(!well_formed("PCAKshort"));
        assert!(!well_formed("PCAK-0000-0000-0000"));
        assert!(well_formed("AKIAIOSFODNN7EXAMPLE"), "Backend.AI's shape");
    }
}
