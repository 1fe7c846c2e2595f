//! Single-use links by mail: email verification and password reset.

use crate::app::App;
use crate::error::{Error, Result};
use crate::notices;
use crate::one_time_token::{OneTimeToken, TokenPurpose};
use crate::tokens::OpaqueToken;
use crate::user::User;

/// Makes a token of `purpose` for `user`, keeps its digest, and mails the link that carries it:
/// `{ui}/verify-email?token=…` or `{ui}/reset-password?token=…`. A mail that fails is logged,
/// never an error: the token is there, and the person can ask for another mail.
pub async fn mail(app: &App, user: &User, purpose: TokenPurpose) -> Result<()> {
    let (ttl, compose): (_, notices::LinkMail) = match purpose {
        TokenPurpose::VerifyEmail => (app.config.signup.verification_ttl, notices::verify_email),
        TokenPurpose::ResetPassword => (app.config.passwords.reset_ttl, notices::reset_password),
        TokenPurpose::OauthExchange => {
            return Err(Error::internal("an OAuth exchange code is never mailed"));
        }
    };
    let now = app.clock.now();
    let token = OpaqueToken::generate();
    app.store
        .create_token(&OneTimeToken {
            digest: token.digest,
            purpose,
            user_id: user.id.clone(),
            email_key: user.email.key().to_owned(),
            password_epoch: user.password_epoch,
            created_at: now,
            expires_at: now.plus(ttl),
            challenge: None,
        })
        .await?;
    let ui = app.ui_url();
    let sender = notices::Sender {
        product: &app.config.mail.product_name,
        ui: &ui,
    };
    app.deliver(compose(
        &sender,
        &user.email,
        user.username.as_str(),
        token.token.expose(),
        &notices::lifetime(ttl),
    ))
    .await;
    Ok(())
}
