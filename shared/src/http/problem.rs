//! RFC 9457 problem details: the one exhaustive mapping from `Error` to status, title and detail
//! (the `code` is the error's own). A handler's `Err` becomes a response carrying its `Problem`;
//! the layer that knows the request id renders the body (`http::render_problems`).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{Error, FieldErrors};

#[derive(Clone, Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: Option<String>,
    pub errors: Option<FieldErrors>,
    pub retry_after: Option<u64>,
}

impl Problem {
    fn new(status: StatusCode, title: &'static str) -> Problem {
        Problem {
            status,
            code: "",
            title,
            detail: None,
            errors: None,
            retry_after: None,
        }
    }

    fn detail(mut self, detail: impl Into<String>) -> Problem {
        self.detail = Some(detail.into());
        self
    }

    fn retry_after(mut self, seconds: u64) -> Problem {
        self.retry_after = Some(seconds);
        self
    }
}

pub fn problem(error: &Error) -> Problem {
    let mut problem = status_and_words(error);
    problem.code = error.code();
    problem
}

fn status_and_words(error: &Error) -> Problem {
    use StatusCode as S;
    match error {
        Error::InvalidRequest { detail, errors } => {
            let mut p = Problem::new(S::BAD_REQUEST, "Invalid request").detail(detail);
            p.errors = Some(errors.clone());
            p
        }
        Error::WeakPassword { field, problems } => {
            let mut errors = FieldErrors::default();
            for problem in problems {
                errors.add(field, problem.clone());
            }
            let mut p = Problem::new(S::UNPROCESSABLE_ENTITY, "Weak password")
                .detail("The password does not meet the password policy.");
            p.errors = Some(errors);
            p
        }
        Error::EmailTaken => Problem::new(S::CONFLICT, "Email already registered")
            .detail("An account with this email already exists."),
        Error::UsernameTaken => Problem::new(S::CONFLICT, "Username taken")
            .detail("This username is already taken."),
        Error::SignupDisabled => Problem::new(S::FORBIDDEN, "Signup disabled")
            .detail("Signup is disabled on this server. Contact the administrator."),
        Error::InvitationRequired => {
            Problem::new(S::FORBIDDEN, "Invitation required")
                .detail("Signup on this server needs an invitation token.")
        }
        Error::InvitationInvalid => {
            Problem::new(S::FORBIDDEN, "Invitation invalid")
                .detail("The invitation is unknown, used, expired or meant for another email.")
        }
        Error::RateLimited { retry_after } => {
            Problem::new(S::TOO_MANY_REQUESTS, "Too many requests")
                .detail("Too many requests. Try again later.")
                .retry_after(*retry_after)
        }
        Error::InvalidCredentials => Problem::new(S::UNAUTHORIZED, "Invalid credentials",
        )
        .detail("The identifier or password is incorrect."),
        Error::RecentLoginRequired => Problem::new(S::UNAUTHORIZED, "Recent sign-in required")
            .detail("Sign in again, then retry within 5 minutes."),
        Error::EmailNotVerified => {
            Problem::new(S::FORBIDDEN, "Email not verified")
                .detail("Verify your email address before logging in.")
        }
        Error::PendingApproval => {
            Problem::new(S::FORBIDDEN, "Pending approval")
                .detail("The account is waiting for an administrator's approval.")
        }
        Error::AccountDisabled => {
            Problem::new(S::FORBIDDEN, "Account disabled")
                .detail("The account is disabled. Contact the administrator.")
        }
        Error::AccountLocked { retry_after } => {
            Problem::new(S::TOO_MANY_REQUESTS, "Account locked")
                .detail("Too many failed attempts. Try again later.")
                .retry_after(*retry_after)
        }
        Error::Unauthorized => Problem::new(S::UNAUTHORIZED, "Unauthorized")
            .detail("A valid Bearer access token is required."),
        Error::InvalidToken => Problem::new(S::BAD_REQUEST, "Invalid token")
            .detail("The token is unknown, already used or expired."),
        Error::InvalidRefreshToken => Problem::new(S::UNAUTHORIZED, "Invalid refresh token",
        )
        .detail("The refresh token is unknown, expired, revoked or already used. Log in again."),
        Error::PasswordResetDisabled => Problem::new(S::FORBIDDEN, "Password reset disabled",
        )
        .detail("Password reset is disabled on this server. Contact the administrator."),
        Error::AccessKeyLoginDisabled => {
            Problem::new(S::FORBIDDEN, "Access-key login disabled")
                .detail("Login with an access key is turned off on this server.")
        }
        Error::Forbidden => Problem::new(S::FORBIDDEN, "Forbidden")
            .detail("Not allowed for this account or session (admin routes need the admin role on an active account)."),
        Error::LastAdmin => Problem::new(S::CONFLICT, "Last active admin")
            .detail("The last active admin can't be demoted, disabled or deleted."),
        Error::TooManyAccessKeys { limit } => {
            Problem::new(S::CONFLICT, "Access key limit reached").detail(
                format!("An account may hold at most {limit} access keys. Delete one first."),
            )
        }
        Error::NotFound => Problem::new(S::NOT_FOUND, "Not found"),
        Error::UnknownProvider => {
            Problem::new(S::NOT_FOUND, "Unknown provider")
                .detail("This sign-in provider is not configured on this server.")
        }
        Error::MethodNotAllowed => Problem::new(S::METHOD_NOT_ALLOWED, "Method not allowed",
        ),
        Error::PayloadTooLarge => Problem::new(S::PAYLOAD_TOO_LARGE, "Payload too large",
        )
        .detail(format!(
            "Request bodies are limited to {} bytes.",
            super::MAX_BODY_BYTES
        )),
        Error::UnsupportedMediaType => Problem::new(S::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type",
        )
        .detail("Send the body as application/json."),
        Error::Unavailable { retry_after, .. } => {
            Problem::new(S::SERVICE_UNAVAILABLE, "Service unavailable").retry_after(*retry_after)
        }
        Error::Internal(_) => Problem::new(S::INTERNAL_SERVER_ERROR, "Internal error"),
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

impl Problem {
    /// The problem+json response, naming the request so a person can quote it.
    pub fn render(&self, request_id: &str) -> Response {
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
        let mut response = Response::new(Body::from(json));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A handler's error: the status now, the body once the request id is known. The cause of a 5xx
/// goes to the log line here, inside the request's span.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let problem = problem(&self);
        if let Some(cause) = self.cause() {
            tracing::error!(code = problem.code, %cause, "request failed");
        }
        let mut response = problem.status.into_response();
        response.extensions_mut().insert(problem);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn internal_errors_show_nothing_but_the_request_id() {
        let error = Error::internal("disk on fire at /var/secret/path");
        let response = problem(&error).render("req-1");
        assert_eq!(response.status(), 500);
        let body = body(response).await;
        assert!(!body.to_string().contains("disk"), "{body}");
        assert_eq!(body["request_id"], "req-1");
        assert_eq!(body["code"], "internal");
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
            let response = problem(&error).render("r");
            assert_eq!(response.headers()[header::RETRY_AFTER], "7");
        }
    }

    #[tokio::test]
    async fn weak_password_lists_each_problem_under_its_field() {
        let error = Error::WeakPassword {
            field: "new_password",
            problems: vec!["a".into(), "b".into()],
        };
        let response = problem(&error).render("r");
        assert_eq!(response.status(), 422);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert_eq!(
            body(response).await["errors"]["new_password"],
            serde_json::json!(["a", "b"])
        );
    }

    #[test]
    fn every_error_renders_its_own_code() {
        for error in [Error::NotFound, Error::LastAdmin, Error::PayloadTooLarge] {
            assert_eq!(problem(&error).code, error.code());
        }
    }
}
