//! Single-use tokens sent by mail (email verification, password reset), and the one-time code a
//! provider sign-in ends with. The store keeps only
//! their SHA-256 digest, and consumes a token with one conditional delete, so of two concurrent
//! uses exactly one succeeds.

use crate::clock::UnixTime;
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
    /// The one-time code a provider sign-in hands the UI, traded for tokens once.
    OauthExchange,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
            TokenPurpose::OauthExchange => "oauth_exchange",
        }
    }

    pub fn parse(value: &str) -> Option<TokenPurpose> {
        match value {
            "verify_email" => Some(TokenPurpose::VerifyEmail),
            "reset_password" => Some(TokenPurpose::ResetPassword),
            "oauth_exchange" => Some(TokenPurpose::OauthExchange),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneTimeToken {
    pub digest: String,
    pub purpose: TokenPurpose,
    pub user_id: String,
    /// The address the token was mailed to (lower-cased): a verification token verifies only it.
    pub email_key: String,
    /// The account's password epoch when the token was made: a password set since voids it.
    pub password_epoch: u32,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    /// For a provider exchange code: the caller's PKCE challenge (S256), which the exchange must
    /// answer with its verifier.
    pub challenge: Option<String>,
}

impl OneTimeToken {
    pub fn is_live(&self, purpose: TokenPurpose, now: UnixTime) -> bool {
        self.purpose == purpose && now < self.expires_at
    }
}

/// The digest of a token as a client sent it, if it has the shape of one (43 base64url
/// characters); anything else is `invalid_token` without a store look-up.
pub fn parse(token: &str) -> Result<String> {
    let token = token.trim();
    let shaped = token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if shaped {
        Ok(crate::tokens::digest(token))
    } else {
        Err(Error::InvalidToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_token_shaped_input_is_looked_up() {
        let token = crate::tokens::OpaqueToken::generate();
        assert_eq!(parse(token.token.expose()).unwrap(), token.digest);
        for bad in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}=", "a".repeat(42)),
            &"é".repeat(43),
        ] {
            assert!(matches!(parse(bad), Err(Error::InvalidToken)), "{bad:?}");
        }
    }

    #[test]
    fn liveness_needs_the_purpose_and_time() {
        let token = OneTimeToken {
            digest: "d".into(),
            purpose: TokenPurpose::ResetPassword,
            user_id: "u".into(),
            email_key: "a@example.com".into(),
            password_epoch: 0,
            created_at: UnixTime(0),
            expires_at: UnixTime(3600),
            challenge: None,
        };
        assert!(token.is_live(TokenPurpose::ResetPassword, UnixTime(3599)));
        assert!(!token.is_live(TokenPurpose::ResetPassword, UnixTime(3600)));
        assert!(!token.is_live(TokenPurpose::VerifyEmail, UnixTime(0)));
    }
}
