//! The one domain error of Portcullis. Each variant has a stable `code` (here); `http::problem`
//! maps every variant to a status and problem+json.

use std::collections::BTreeMap;

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A cause kept for the log line of a 5xx, never shown to the client.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Messages per request field, in field order: `{"email": ["must be a valid email address"]}`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each field with its messages, in field order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<String>)> {
        self.0.iter()
    }

    pub fn get(&self, field: &str) -> Option<&[String]> {
        self.0.get(field).map(Vec::as_slice)
    }

    /// `Err(InvalidRequest)` naming every field when there is anything to say.
    pub fn into_result(self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidRequest {
                detail: "The request has invalid fields.".into(),
                errors: self,
            })
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid request: {detail}")]
    InvalidRequest { detail: String, errors: FieldErrors },
    #[error("weak password")]
    WeakPassword {
        field: &'static str,
        problems: Vec<String>,
    },
    #[error("email already registered")]
    EmailTaken,
    #[error("username already taken")]
    UsernameTaken,
    #[error("signup is disabled")]
    SignupDisabled,
    #[error("signup needs an invitation")]
    InvitationRequired,
    #[error("invitation is invalid")]
    InvitationInvalid,
    #[error("rate limited")]
    RateLimited { retry_after: u64 },
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("email not verified")]
    EmailNotVerified,
    /// The action needs a sign-in that is only minutes old (an account without a password
    /// proves itself that way).
    #[error("recent sign-in required")]
    RecentLoginRequired,
    #[error("account pending approval")]
    PendingApproval,
    #[error("account disabled")]
    AccountDisabled,
    #[error("account locked")]
    AccountLocked { retry_after: u64 },
    #[error("unauthorized")]
    Unauthorized,
    #[error("invalid token")]
    InvalidToken,
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("password reset disabled")]
    PasswordResetDisabled,
    /// `PORTCULLIS_ACCESS_KEY_LOGIN=disabled`.
    #[error("access-key login disabled")]
    AccessKeyLoginDisabled,
    /// Authenticated, but not allowed: an admin route without the `admin` role.
    #[error("forbidden")]
    Forbidden,
    /// The change would leave no active administrator.
    #[error("last active admin")]
    LastAdmin,
    #[error("access key limit reached")]
    TooManyAccessKeys { limit: u32 },
    #[error("not found")]
    NotFound,
    /// `/v1/oauth/{provider}/...` for a provider that is unknown or not configured.
    #[error("unknown provider")]
    UnknownProvider,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A dependency is overloaded or briefly down: the client may retry.
    #[error("service unavailable: {cause}")]
    Unavailable { retry_after: u64, cause: Cause },
    /// Anything unexpected. The client sees a bare 500; the log line holds the cause.
    #[error("internal error: {0}")]
    Internal(Cause),
}

impl Error {
    /// The stable, machine-readable name of the error: the `code` of problem+json, and the
    /// `error` of a provider sign-in's redirect.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidRequest { .. } => "invalid_request",
            Error::WeakPassword { .. } => "weak_password",
            Error::EmailTaken => "email_taken",
            Error::UsernameTaken => "username_taken",
            Error::SignupDisabled => "signup_disabled",
            Error::InvitationRequired => "invitation_required",
            Error::InvitationInvalid => "invitation_invalid",
            Error::RateLimited { .. } => "rate_limited",
            Error::InvalidCredentials => "invalid_credentials",
            Error::EmailNotVerified => "email_not_verified",
            Error::RecentLoginRequired => "recent_login_required",
            Error::PendingApproval => "pending_approval",
            Error::AccountDisabled => "account_disabled",
            Error::AccountLocked { .. } => "account_locked",
            Error::Unauthorized => "unauthorized",
            Error::InvalidToken => "invalid_token",
            Error::InvalidRefreshToken => "invalid_refresh_token",
            Error::PasswordResetDisabled => "password_reset_disabled",
            Error::AccessKeyLoginDisabled => "access_key_login_disabled",
            Error::Forbidden => "forbidden",
            Error::LastAdmin => "last_admin",
            Error::TooManyAccessKeys { .. } => "access_key_limit",
            Error::NotFound => "not_found",
            Error::UnknownProvider => "unknown_provider",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::PayloadTooLarge => "payload_too_large",
            Error::UnsupportedMediaType => "unsupported_media_type",
            Error::Unavailable { .. } => "unavailable",
            Error::Internal(_) => "internal",
        }
    }

    /// What went wrong underneath a 5xx, for the log line only.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            Error::Unavailable { cause, .. } | Error::Internal(cause) => Some(cause.as_ref()),
            _ => None,
        }
    }

    pub fn internal(cause: impl Into<Cause>) -> Error {
        Error::Internal(cause.into())
    }

    /// One field with one message.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Error {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        Error::InvalidRequest {
            detail: "The request has invalid fields.".into(),
            errors,
        }
    }
}
