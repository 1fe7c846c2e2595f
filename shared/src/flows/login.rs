//! Login with a password: `POST /v1/login`.
//!
//! Unknown identifiers take the same path as wrong passwords: a dummy hash is verified, a failure
//! is counted (under a digest of the identifier) and the same 401 comes back, so neither status,
//! body nor time tells which accounts exist. Account states are revealed only after a correct
//! password.

use crate::app::App;
use crate::audit::{self, EventKind};
use crate::caller::Caller;
use crate::config::EmailVerification;
use crate::email::Email;
use crate::error::{Error, Result};
use crate::grant::{TokenGrant, start_session};
use crate::json_body::JsonBody;
use crate::lockout::{self, FailureWrite, LockState, LockoutPolicy, LockoutRecord};
use crate::secret::Secret;
use crate::user::{User, UserStatus};

/// Longer identifiers are refused outright (the longest email is 254 characters).
const MAX_IDENTIFIER_LENGTH: usize = 320;

#[derive(Debug)]
pub struct LoginRequest {
    pub identifier: String,
    pub password: Secret,
}

impl LoginRequest {
    pub fn from_json(mut body: JsonBody) -> Result<LoginRequest> {
        let identifier = body.string("identifier", true).map(|i| i.trim().to_owned());
        let password = body.secret("password", true);
        if let Some(identifier) = &identifier {
            if identifier.is_empty() {
                body.error("identifier", "must not be empty");
            } else if identifier.chars().count() > MAX_IDENTIFIER_LENGTH {
                body.error(
                    "identifier",
                    format!("must be at most {MAX_IDENTIFIER_LENGTH} characters"),
                );
            }
        }
        if password.as_ref().is_some_and(|p| p.expose().is_empty()) {
            body.error("password", "must not be empty");
        }
        body.finish()?;
        let (Some(identifier), Some(password)) = (identifier, password) else {
            return Err(Error::internal("a missing field was not reported"));
        };
        Ok(LoginRequest {
            identifier,
            password,
        })
    }
}

/// The account an identifier names, if login accepts that kind of identifier.
async fn find_account(app: &App, identifier: &str) -> Result<Option<User>> {
    let accepted = app.config.login.identifiers;
    if identifier.contains('@') {
        match Email::parse(identifier) {
            Ok(email) if accepted.email => app.store.user_by_email(email.key()).await,
            _ => Ok(None),
        }
    } else if accepted.username {
        app.store
            .user_by_username(&identifier.to_ascii_lowercase())
            .await
    } else {
        Ok(None)
    }
}

#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn login(app: &App, caller: &Caller, request: LoginRequest) -> Result<TokenGrant> {
    let user = find_account(app, &request.identifier).await?;
    let key = match &user {
        Some(user) => lockout::account_key(&user.id),
        None => lockout::identifier_key(&request.identifier.to_lowercase()),
    };
    let attempt = begin_attempt(app, &key).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let matched = app.passwords.verify(&request.password, hash).await?;
    let Some(user) = user.filter(|_| matched) else {
        failed_attempt(app, caller, &key, &attempt).await?;
        app.audit(
            caller,
            EventKind::LoginFailed,
            lockout::account_of(&key),
            audit::detail(&[("method", "password".into())]),
        )
        .await;
        return Err(Error::InvalidCredentials);
    };
    app.store.clear_lockout(&key).await?;
    check_status(app, &user)?;
    let grant = start_session(app, &user, caller).await?;
    tracing::info!(user_id = %user.id, session_id = %grant.session_id, "logged in");
    app.audit(
        caller,
        EventKind::LoginSucceeded,
        Some(&user.id),
        audit::detail(&[("method", "password".into())]),
    )
    .await;
    Ok(grant)
}

/// One password attempt, counted before the password is checked.
pub struct Attempt {
    record: LockoutRecord,
    at: FailureWrite,
}

/// Counts an attempt against `key` *before* its password is checked, in one atomic write, so
/// however many attempts arrive at once, at most `threshold` passwords are tested per run:
/// attempts past the threshold are refused (429) without a password check. The count goes on
/// as a failure unless the attempt succeeds and clears it.
pub async fn begin_attempt(app: &App, key: &str) -> Result<Attempt> {
    let policy = app.config.login.lockout;
    let at = policy.failure_write(app.clock.now());
    let record = app.store.record_failure(key, at).await?;
    if record.failures > policy.threshold {
        let until = match policy.state(Some(&record), at.now) {
            LockState::Locked { until } => until,
            LockState::Open => at.now.plus(policy.duration),
        };
        return Err(Error::AccountLocked {
            retry_after: at.now.seconds_until(until),
        });
    }
    Ok(Attempt { record, at })
}

/// The attempt's password was wrong: it stays counted, and the one that reached the threshold
/// writes the lock (20 minutes from it, by default).
pub async fn failed_attempt(
    app: &App,
    caller: &Caller,
    key: &str,
    attempt: &Attempt,
) -> Result<()> {
    let policy: LockoutPolicy = app.config.login.lockout;
    if policy.locks(&attempt.record) {
        let until = attempt.at.now.plus(policy.duration);
        app.store
            .lock(key, until, attempt.at.expires_at.max(until))
            .await?;
        tracing::warn!(failures = attempt.record.failures, "login locked");
        app.audit(
            caller,
            EventKind::AccountLocked,
            lockout::account_of(key),
            audit::detail(&[("until", until.rfc3339().into())]),
        )
        .await;
    }
    Ok(())
}

/// Whether an account whose password was right may have a session.
pub fn check_status(app: &App, user: &User) -> Result<()> {
    match user.status {
        UserStatus::Active => Ok(()),
        UserStatus::PendingVerification => match app.config.signup.email_verification {
            EmailVerification::Required => Err(Error::EmailNotVerified),
            EmailVerification::Optional | EmailVerification::Off => Ok(()),
        },
        UserStatus::PendingApproval => Err(Error::PendingApproval),
        UserStatus::Disabled => Err(Error::AccountDisabled),
    }
}
