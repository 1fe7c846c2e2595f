//! The login function: `POST /v1/login` and `POST /v1/login/access-key`.

use axum::Router;
use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::routing::post;

use crate::caller::Caller;
use crate::http::{AppState, Result, limit_rate, tokens};
use crate::json_body::JsonBody;
use crate::rate_limit::RateGroup;
use crate::{access_keys, login};

pub fn routes(app: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/login", post(log_in))
        .route("/v1/login/access-key", post(log_in_with_access_key))
        .route_layer(from_fn_with_state(
            (app.clone(), RateGroup::Login),
            limit_rate,
        ))
}

#[utoipa::path(
    post,
    path = "/v1/login",
    tag = "login",
    summary = "Log in with an email or username and the password",
    request_body = super::openapi::Login,
    responses(
        (status = 200, description = "The token response", body = super::openapi::Tokens),
        (status = 400, description = "`invalid_request`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`invalid_credentials`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`email_not_verified`, `pending_approval` or `account_disabled`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 429, description = "`account_locked` (with Retry-After) or `rate_limited`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn log_in(State(app): State<AppState>, caller: Caller, body: JsonBody) -> Result {
    let request = login::LoginRequest::from_json(body)?;
    tokens(&login::login(&app, &caller, request).await?)
}

#[utoipa::path(
    post,
    path = "/v1/login/access-key",
    tag = "login",
    summary = "Log in with an access key and its secret",
    request_body = super::openapi::KeyLogin,
    responses(
        (status = 200, description = "The token response", body = super::openapi::Tokens),
        (status = 400, description = "`invalid_request`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`invalid_credentials`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`email_not_verified`, `pending_approval`, `account_disabled` or `access_key_login_disabled`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 429, description = "`account_locked` (with Retry-After) or `rate_limited`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn log_in_with_access_key(
    State(app): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result {
    let request = access_keys::KeyLogin::from_json(body)?;
    tokens(&access_keys::login(&app, &caller, request).await?)
}
