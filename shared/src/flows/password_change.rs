//! `POST /v1/password/change`: a signed-in person replaces their password.

use crate::app::{App, Authenticated};
use crate::audit::{self, EventKind};
use crate::caller::Caller;
use crate::error::{Error, Result};
use crate::grant::{TokenGrant, start_session};
use crate::login;
use crate::notices::PasswordChange;
use crate::password_reset::{check_policy, notify_password_changed};
use crate::secret::Secret;

/// Checks the current password (a wrong one counts like a failed login from the same client, so
/// under its device when `device_token` is one of this account's: a stolen access token can't
/// lock the owner's devices out), sets the new one, ends every session of the account (the
/// asking one too) and starts a new one.
#[tracing::instrument(skip_all, fields(user_id = %who.user.id), err(level = "info"))]
pub async fn change(
    app: &App,
    caller: &Caller,
    who: Authenticated,
    current: &Secret,
    new: &Secret,
    device_token: Option<&str>,
) -> Result<TokenGrant> {
    let user = who.user;
    let counter = login::Counter::for_password(app, &user, device_token).await?;
    if !login::check_password(app, caller, &counter, current, Some(&user)).await? {
        return Err(Error::InvalidCredentials);
    }
    check_policy(app, &user, new, "new_password")?;
    let hash = app.passwords.hash(new).await?;
    // Conditional on the epoch read when the request was authenticated: a concurrent change
    // or reset has already ended this session.
    let user = app
        .store
        // Knowing the password proves nothing about the address: the mark stays as it was.
        .set_password(
            &user.id,
            Some(&hash),
            user.password_epoch,
            user.password_unconfirmed,
        )
        .await?
        .ok_or(Error::Unauthorized)?;
    tracing::info!(user_id = %user.id, "password changed");
    app.audit(
        caller,
        EventKind::PasswordChanged,
        Some(&user.id),
        audit::detail(&[]),
    )
    .await;
    notify_password_changed(app, &user, PasswordChange::Changed).await;
    start_session(app, &user, caller).await
}
