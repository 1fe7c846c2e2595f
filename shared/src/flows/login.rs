//! Login with a password: `POST /v1/login`.
//!
//! Unknown identifiers take the same path as wrong passwords: a dummy hash is verified, a failure
//! is counted (under a digest of the identifier) and the same 401 comes back, so neither status,
//! body nor time tells which accounts exist. Account states are revealed only after a correct
//! password.
//!
//! Failures count where they lock out the one making them (`Counter`): a client that has signed
//! in to the account before presents its device token and counts on its own, so ten guesses by a
//! stranger lock strangers out while the owner's browser still signs in.

use crate::app::App;
use crate::audit::{self, EventKind};
use crate::caller::Caller;
use crate::clock::UnixTime;
use crate::config::EmailVerification;
use crate::email::Email;
use crate::error::{Error, Result};
use crate::grant::{TokenGrant, start_session};
use crate::json_body::JsonBody;
use crate::lockout::{self, FailureWrite, LockState, LockoutPolicy, LockoutRecord};
use crate::secret::Secret;
use crate::tokens::{DEVICE_AUDIENCE, DeviceClaims};
use crate::user::{User, UserStatus};

/// How long a device stays trusted after its latest password sign-in.
pub const DEVICE_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(180 * 86_400);

/// Longer device tokens are not read (a real one is under 700 characters).
const MAX_DEVICE_TOKEN_LENGTH: usize = 4096;

/// Longer identifiers are refused outright (the longest email is 254 characters).
const MAX_IDENTIFIER_LENGTH: usize = 320;

#[derive(Debug)]
pub struct LoginRequest {
    pub identifier: String,
    pub password: Secret,
    /// The device token a previous sign-in to this account gave this client, if it kept one.
    pub device_token: Option<String>,
}

impl LoginRequest {
    pub fn from_json(mut body: JsonBody) -> Result<LoginRequest> {
        let identifier = body.string("identifier", true).map(|i| i.trim().to_owned());
        let password = body.secret("password", true);
        // Optional, and never an error: an expired or foreign token only makes the client a
        // stranger.
        let device_token = body.string("device_token", false);
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
            device_token,
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
    let counter = match &user {
        Some(user) => Counter::for_password(app, user, request.device_token.as_deref()).await?,
        None => Counter::new(lockout::identifier_key(&request.identifier.to_lowercase())),
    };
    let matched = check_password(app, caller, &counter, &request.password, user.as_ref()).await?;
    let Some(user) = user.filter(|_| matched) else {
        app.audit(
            caller,
            EventKind::LoginFailed,
            lockout::account_of(&counter.key),
            audit::detail(&[
                ("method", "password".into()),
                ("trusted_device", counter.is_device().into()),
            ]),
        )
        .await;
        return Err(Error::InvalidCredentials);
    };
    check_status(app, &user)?;
    let mut grant = start_session(app, &user, caller).await?;
    grant.device_token = Some(device_token(app, &user)?);
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

/// The run a password attempt counts in.
#[derive(Clone, Debug)]
pub struct Counter {
    key: String,
    /// For a trusted device: the key of the mark that voids it, and when its token expires (how
    /// long the mark must last).
    device: Option<(String, UnixTime)>,
}

impl Counter {
    /// A run under `key` (an account's, an unknown identifier's, or key logins').
    pub fn new(key: String) -> Counter {
        Counter { key, device: None }
    }

    /// Where a password attempt on `user`'s account counts: under the client's device when it
    /// presents a valid device token of this account that has not locked, otherwise under the
    /// account with everyone else. A stolen device token thus buys its own ten tries at most,
    /// then it is void.
    pub async fn for_password(
        app: &App,
        user: &User,
        device_token: Option<&str>,
    ) -> Result<Counter> {
        let now = app.clock.now();
        let device = device_token
            .filter(|t| t.len() <= MAX_DEVICE_TOKEN_LENGTH)
            .and_then(|t| app.keys().verify_device(t, &app.issuer, now))
            .filter(|claims| claims.sub == user.id);
        if let Some(device) = device {
            let key = lockout::device_key(&user.id, &device.jti);
            let void_key = lockout::device_void_key(&user.id, &device.jti);
            // Void once marked, and already when its run reached the threshold (the mark is
            // written just after).
            let threshold = app.config.login.lockout.threshold;
            let reached = app
                .store
                .lockout(&key)
                .await?
                .is_some_and(|run| run.failures >= threshold || run.locked_until.is_some());
            let void = reached || app.store.lockout(&void_key).await?.is_some();
            if !void {
                return Ok(Counter {
                    key,
                    device: Some((void_key, UnixTime(device.exp))),
                });
            }
        }
        Ok(Counter::new(lockout::account_key(&user.id)))
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether the attempt counts under a trusted device.
    pub fn is_device(&self) -> bool {
        self.device.is_some()
    }
}

/// A fresh device token for `user`: it makes the client that holds it a trusted device.
pub fn device_token(app: &App, user: &User) -> Result<Secret> {
    let now = app.clock.now();
    app.keys().sign_device(&DeviceClaims {
        iss: app.issuer.clone(),
        aud: DEVICE_AUDIENCE.to_owned(),
        sub: user.id.clone(),
        jti: uuid::Uuid::new_v4().to_string(),
        iat: now.seconds(),
        exp: now.plus(DEVICE_TOKEN_TTL).seconds(),
    })
}

/// Checks `password` against `user`'s hash (a dummy one without an account) as one attempt of
/// `counter`'s run: counted before the check, left counted when wrong (the one reaching the
/// threshold locks), and the run cleared when right. Only that run: a success never clears
/// another's failures. A right password on a hash due for renewal (another system's format, or a
/// lower argon2 cost) replaces it with argon2id at the configured cost.
pub async fn check_password(
    app: &App,
    caller: &Caller,
    counter: &Counter,
    password: &Secret,
    user: Option<&User>,
) -> Result<bool> {
    let hash = user.and_then(|u| u.password_hash.as_deref());
    let attempt = begin_attempt(app, &counter.key).await?;
    let check = app.passwords.check(password, hash).await?;
    if !check.matched {
        failed_attempt(app, caller, counter, &attempt).await?;
        return Ok(false);
    }
    app.store.clear_lockout(&counter.key).await?;
    if let (true, Some(user), Some(old)) = (check.rehash, user, hash) {
        rehash(app, user, password, old).await;
    }
    Ok(true)
}

/// Replaces `old` with a hash made now, in one write conditional on `old`: of two logins racing,
/// one rehashes. The login stands whatever happens here.
async fn rehash(app: &App, user: &User, password: &Secret, old: &str) {
    let replaced = match app.passwords.hash(password).await {
        Ok(new) => app.store.replace_password_hash(&user.id, old, &new).await,
        Err(error) => Err(error),
    };
    match replaced {
        Ok(true) => tracing::info!(user_id = %user.id, "password hash renewed"),
        Ok(false) => {}
        Err(error) => tracing::warn!(user_id = %user.id, %error, "password hash not renewed"),
    }
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
    counter: &Counter,
    attempt: &Attempt,
) -> Result<()> {
    let policy: LockoutPolicy = app.config.login.lockout;
    if policy.locks(&attempt.record) {
        let until = attempt.at.now.plus(policy.duration);
        app.store
            .lock(&counter.key, until, attempt.at.expires_at.max(until))
            .await?;
        if let Some((void_key, token_expires_at)) = &counter.device {
            // The mark that voids the token until it would have expired anyway.
            let mark = FailureWrite {
                now: attempt.at.now,
                stale_before: attempt.at.now,
                expires_at: (*token_expires_at).max(until),
            };
            app.store.record_failure(void_key, mark).await?;
        }
        let kind = if counter.is_device() {
            EventKind::DeviceLocked
        } else if lockout::is_key_login_key(&counter.key) {
            EventKind::AccessKeyLoginLocked
        } else {
            EventKind::AccountLocked
        };
        tracing::warn!(
            failures = attempt.record.failures,
            event = kind.as_str(),
            "login locked"
        );
        app.audit(
            caller,
            kind,
            lockout::account_of(&counter.key),
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
