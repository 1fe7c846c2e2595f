//! RFC 9457 problem details: the one exhaustive mapping from `Error` to status and `code`.

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::error::{Error, FieldErrors};

pub struct Problem<'a> {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: Option<String>,
    pub errors: Option<FieldErrors>,
    pub retry_after: Option<u64>,
    /// The cause, for the log line only.
    pub cause: Option<&'a (dyn std::error::Error + Send + Sync)>,
}

impl<'a> Problem<'a> {
    fn new(status: StatusCode, code: &'static str, title: &'static str) -> Problem<'a> {
        Problem {
            status,
            code,
            title,
            detail: None,
            errors: None,
            retry_after: None,
            cause: None,
        }
    }

    fn detail(mut self, detail: impl Into<String>) -> Problem<'a> {
        self.detail = Some(detail.into());
        self
    }

    fn retry_after(mut self, seconds: u64) -> Problem<'a> {
        self.retry_after = Some(seconds);
        self
    }
}

pub fn problem(error: &Error) -> Problem<'_> {
    use StatusCode as S;
    match error {
        Error::InvalidRequest { detail, errors } => {
            let mut p =
                Problem::new(S::BAD_REQUEST, "invalid_request", "Invalid request").detail(detail);
            p.errors = Some(errors.clone());
            p
        }
        Error::WeakPassword { field, problems } => {
            let mut errors = FieldErrors::default();
            for problem in problems {
                errors.add(field, problem.clone());
            }
            let mut p = Problem::new(S::UNPROCESSABLE_ENTITY, "weak_password", "Weak password")
                .detail("The password does not meet the password policy.");
            p.errors = Some(errors);
            p
        }
        Error::EmailTaken => Problem::new(S::CONFLICT, "email_taken", "Email already registered")
            .detail("An account with this email already exists."),
        Error::UsernameTaken => Problem::new(S::CONFLICT, "username_taken", "Username taken")
            .detail("This username is already taken."),
        Error::SignupDisabled => Problem::new(S::FORBIDDEN, "signup_disabled", "Signup disabled")
            .detail("Signup is disabled on this server. Contact the administrator."),
        Error::InvitationRequired => {
            Problem::new(S::FORBIDDEN, "invitation_required", "Invitation required")
                .detail("Signup on this server needs an invitation token.")
        }
        Error::InvitationInvalid => {
            Problem::new(S::FORBIDDEN, "invitation_invalid", "Invitation invalid")
                .detail("The invitation is unknown, used, expired or meant for another email.")
        }
        Error::RateLimited { retry_after } => {
            Problem::new(S::TOO_MANY_REQUESTS, "rate_limited", "Too many requests")
                .detail("Too many requests. Try again later.")
                .retry_after(*retry_after)
        }
        Error::InvalidCredentials => Problem::new(
            S::UNAUTHORIZED,
            "invalid_credentials",
            "Invalid credentials",
        )
        .detail("The identifier or password is incorrect."),
        Error::EmailNotVerified => {
            Problem::new(S::FORBIDDEN, "email_not_verified", "Email not verified")
                .detail("Verify your email address before logging in.")
        }
        Error::PendingApproval => {
            Problem::new(S::FORBIDDEN, "pending_approval", "Pending approval")
                .detail("The account is waiting for an administrator's approval.")
        }
        Error::AccountDisabled => {
            Problem::new(S::FORBIDDEN, "account_disabled", "Account disabled")
                .detail("The account is disabled. Contact the administrator.")
        }
        Error::AccountLocked { retry_after } => {
            Problem::new(S::TOO_MANY_REQUESTS, "account_locked", "Account locked")
                .detail("Too many failed attempts. Try again later.")
                .retry_after(*retry_after)
        }
        Error::Unauthorized => Problem::new(S::UNAUTHORIZED, "unauthorized", "Unauthorized")
            .detail("A valid Bearer access token is required."),
        Error::InvalidToken => Problem::new(S::BAD_REQUEST, "invalid_token", "Invalid token")
            .detail("The token is unknown, already used or expired."),
        Error::InvalidRefreshToken => Problem::new(
            S::UNAUTHORIZED,
            "invalid_refresh_token",
            "Invalid refresh token",
        )
        .detail("The refresh token is unknown, expired, revoked or already used. Log in again."),
        Error::PasswordResetDisabled => Problem::new(
            S::FORBIDDEN,
            "password_reset_disabled",
            "Password reset disabled",
        )
        .detail("Password reset is disabled on this server. Contact the administrator."),
        Error::Forbidden => Problem::new(S::FORBIDDEN, "forbidden", "Forbidden")
            .detail("Not allowed for this account or session (admin routes need the admin role on an active account)."),
        Error::LastAdmin => Problem::new(S::CONFLICT, "last_admin", "Last active admin")
            .detail("The last active admin can't be demoted, disabled or deleted."),
        Error::TooManyAccessKeys { limit } => {
            Problem::new(S::CONFLICT, "access_key_limit", "Access key limit reached").detail(
                format!("An account may hold at most {limit} access keys. Delete one first."),
            )
        }
        Error::NotFound => Problem::new(S::NOT_FOUND, "not_found", "Not found"),
        Error::UnknownProvider => {
            Problem::new(S::NOT_FOUND, "unknown_provider", "Unknown provider")
                .detail("This sign-in provider is not configured on this server.")
        }
        Error::MethodNotAllowed => Problem::new(
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
        ),
        Error::PayloadTooLarge => Problem::new(
            S::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Payload too large",
        )
        .detail(format!(
            "Request bodies are limited to {} bytes.",
            super::MAX_BODY_BYTES
        )),
        Error::UnsupportedMediaType => Problem::new(
            S::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
        )
        .detail("Send the body as application/json."),
        Error::Unavailable { retry_after, cause } => {
            let mut p = Problem::new(S::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable")
                .retry_after(*retry_after);
            p.cause = Some(cause.as_ref());
            p
        }
        Error::Internal(cause) => {
            let mut p = Problem::new(S::INTERNAL_SERVER_ERROR, "internal", "Internal error");
            p.cause = Some(cause.as_ref());
            p
        }
    }
}

#[derive(Serialize)]
struct Body_<'a> {
    #[serde(rename = "type")]
    type_: String,
    title: &'a str,
    status: u16,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a FieldErrors>,
    request_id: &'a str,
}

impl Problem<'_> {
    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let body = Body_ {
            type_: format!("urn:portcullis:problem:{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            code: self.code,
            detail: self.detail.as_deref(),
            errors: self.errors.as_ref(),
            request_id,
        };
        let json = serde_json::to_string(&body).unwrap_or_else(|_| "{}".to_owned());
        let mut builder = Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, "application/problem+json")
            .header(header::CACHE_CONTROL, "no-store");
        if let Some(seconds) = self.retry_after {
            builder = builder.header(header::RETRY_AFTER, seconds.to_string());
        }
        builder
            .body(Body::Text(json))
            .unwrap_or_else(|_| Response::new(Body::Empty))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[test]
    fn internal_errors_show_nothing_but_the_request_id() {
        let error = Error::internal("disk on fire at /var/secret/path");
        let response = problem(&error).into_response("req-1");
        assert_eq!(response.status(), 500);
        let text = String::from_utf8(response.body().to_vec()).unwrap();
        assert!(!text.contains("disk"), "{text}");
        assert_eq!(body(&response)["request_id"], "req-1");
        assert_eq!(body(&response)["code"], "internal");
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        for error in [
            Error::RateLimited { retry_after: 7 },
            Error::AccountLocked { retry_after: 7 },
            Error::Unavailable {
                retry_after: 7,
                cause: "throttled".into(),
            },
        ] {
            let response = problem(&error).into_response("r");
            assert_eq!(response.headers()[header::RETRY_AFTER], "7");
        }
    }

    #[test]
    fn weak_password_lists_each_problem_under_its_field() {
        let error = Error::WeakPassword {
            field: "new_password",
            problems: vec!["a".into(), "b".into()],
        };
        let response = problem(&error).into_response("r");
        assert_eq!(response.status(), 422);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(
            body(&response)["errors"]["new_password"],
            serde_json::json!(["a", "b"])
        );
    }
}
