//! Forgotten passwords: `POST /v1/password/reset-request` mails a link,
//! `POST /v1/password/reset-confirm` uses it.

use crate::app::App;
use crate::audit::{self, EventKind};
use crate::caller::Caller;
use crate::email::Email;
use crate::error::{Error, Result};
use crate::lockout;
use crate::notices::{self, PasswordChange};
use crate::one_time_token::{self, TokenPurpose};
use crate::password_policy::PersonalWords;
use crate::secret::Secret;
use crate::user::{User, UserStatus};
use crate::verification;

/// Mails a reset link when the address belongs to an account that may have one. The answer is
/// the same whatever the case.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn request(app: &App, caller: &Caller, email: &Email) -> Result<()> {
    if !app.config.passwords.reset_enabled {
        return Err(Error::PasswordResetDisabled);
    }
    let user = app.store.user_by_email(email.key()).await?;
    let allowed = app.mail_allowed(email).await?;
    let Some(user) = user.filter(|u| u.status != UserStatus::Disabled) else {
        return Ok(());
    };
    if !allowed {
        tracing::info!(user_id = %user.id, "reset mail throttled");
        return Ok(());
    }
    crate::links::mail(app, &user, TokenPurpose::ResetPassword).await?;
    tracing::info!(user_id = %user.id, "reset mail sent");
    app.audit(
        caller,
        EventKind::PasswordResetRequested,
        Some(&user.id),
        audit::detail(&[]),
    )
    .await;
    Ok(())
}

/// Sets a new password with a reset token. A password the policy refuses leaves the token
/// usable; of two concurrent uses of one token, one succeeds. Every session of the account ends,
/// every other reset token is void, the lockout is cleared, and the email counts as verified
/// (the link proved the person reads it).
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn confirm(app: &App, caller: &Caller, token: &str, new_password: &Secret) -> Result<()> {
    let digest = one_time_token::parse(token)?;
    let now = app.clock.now();
    let invalid = || Error::InvalidToken;
    let found = app
        .store
        .token(&digest)
        .await?
        .filter(|t| t.is_live(TokenPurpose::ResetPassword, now))
        .ok_or_else(invalid)?;
    let user = app
        .store
        .user_by_id(&found.user_id)
        .await?
        .filter(|u| u.password_epoch == found.password_epoch && u.status != UserStatus::Disabled)
        .ok_or_else(invalid)?;

    check_policy(app, &user, new_password, "new_password")?;
    let hash = app.passwords.hash(new_password).await?;
    let used = app
        .store
        .consume_token(&digest, TokenPurpose::ResetPassword, now)
        .await?
        .ok_or_else(invalid)?;
    // Conditional on the token's epoch: if another reset or a change won meanwhile, this
    // token is void and sets nothing.
    let user = app
        .store
        // The mailed link proved the address: the password is its owner's now.
        .set_password(&used.user_id, Some(&hash), used.password_epoch, false)
        .await?
        .ok_or_else(invalid)?;
    app.store
        .clear_lockout(&lockout::account_key(&user.id))
        .await?;
    if !user.email_verified {
        app.store
            .verify_email(
                &user.id,
                &used.email_key,
                verification::status_after_verification(app),
            )
            .await?;
    }
    // Whoever held the account before the reset may have planted keys: they all go.
    let keys = crate::access_keys::delete_all(app, caller, &user.id).await?;
    tracing::info!(user_id = %user.id, access_keys_deleted = keys, "password reset");
    app.audit(
        caller,
        EventKind::PasswordReset,
        Some(&user.id),
        audit::detail(&[]),
    )
    .await;
    notify_password_changed(app, &user, PasswordChange::Reset).await;
    Ok(())
}

/// The password policy for `user`'s new password, reported under `field`.
pub fn check_policy(app: &App, user: &User, password: &Secret, field: &'static str) -> Result<()> {
    let problems = app.config.passwords.policy.check(
        password.expose(),
        PersonalWords {
            username: Some(user.username.as_str()),
            email_local_part: Some(user.email.local_part()),
        },
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::WeakPassword { field, problems })
    }
}

/// "Your password was changed; if this wasn't you…"
pub async fn notify_password_changed(app: &App, user: &User, how: PasswordChange) {
    let ui = app.ui_url();
    let sender = notices::Sender {
        product: &app.config.mail.product_name,
        ui: &ui,
    };
    let when = app.clock.now().rfc3339();
    app.deliver(notices::password_changed(
        &sender,
        &user.email,
        user.username.as_str(),
        how,
        &when,
    ))
    .await;
}
