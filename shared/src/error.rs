//! The one domain error of Portcullis. `http::problem` maps every variant to a status and a `code`.

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
