//! Email verification: the mail sent at signup, `POST /v1/verify-email` and
//! `POST /v1/verify-email/resend`.

use crate::app::App;
use crate::audit::{self, EventKind};
use crate::caller::Caller;
use crate::config::{EmailVerification, SignupMode};
use crate::email::Email;
use crate::error::{Error, Result};
use crate::one_time_token::{self, TokenPurpose};
use crate::user::{User, UserStatus};

/// Mails `user` a verification link, unless the address has had its share of mail lately.
pub async fn send(app: &App, user: &User) -> Result<()> {
    if !app.mail_allowed(&user.email).await? {
        tracing::info!(user_id = %user.id, "verification mail throttled");
        return Ok(());
    }
    crate::links::mail(app, user, TokenPurpose::VerifyEmail).await
}

/// Where a verified account goes next: to an administrator when signup needs approval.
pub fn status_after_verification(app: &App) -> UserStatus {
    if app.config.signup.mode == SignupMode::Approval {
        UserStatus::PendingApproval
    } else {
        UserStatus::Active
    }
}

/// Uses a verification token: the account's email becomes verified.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn verify(app: &App, caller: &Caller, token: &str) -> Result<UserStatus> {
    let digest = one_time_token::parse(token)?;
    let used = app
        .store
        .consume_token(&digest, TokenPurpose::VerifyEmail, app.clock.now())
        .await?
        .ok_or(Error::InvalidToken)?;
    // The account may have changed its email since the mail was sent: then nothing is verified.
    let user = app
        .store
        .verify_email(
            &used.user_id,
            &used.email_key,
            status_after_verification(app),
        )
        .await?
        .filter(|u| u.status != UserStatus::Disabled)
        .ok_or(Error::InvalidToken)?;
    tracing::info!(user_id = %user.id, status = user.status.as_str(), "email verified");
    app.audit(
        caller,
        EventKind::EmailVerified,
        Some(&user.id),
        audit::detail(&[("status", user.status.as_str().into())]),
    )
    .await;
    Ok(user.status)
}

/// Sends a new verification mail when the address belongs to an account that still needs one.
/// The answer is the same whatever the case.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn resend(app: &App, email: &Email) -> Result<()> {
    let user = app.store.user_by_email(email.key()).await?;
    let wanted = app.config.signup.email_verification != EmailVerification::Off;
    match user {
        Some(user) if wanted && !user.email_verified && user.status != UserStatus::Disabled => {
            send(app, &user).await
        }
        // Count the address all the same, so the work done does not differ.
        _ => app.mail_allowed(email).await.map(drop),
    }
}
