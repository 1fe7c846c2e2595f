//! The signup function: `POST /v1/signup`, `GET /v1/username-suggestion`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::caller::Caller;
use crate::http::{AppState, Query, Result, json, limit_rate};
use crate::json_body::JsonBody;
use crate::rate_limit::RateGroup;
use crate::signup;

pub fn routes(app: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/signup", post(sign_up))
        .route("/v1/username-suggestion", get(username_suggestion))
        .route_layer(from_fn_with_state(
            (app.clone(), RateGroup::Signup),
            limit_rate,
        ))
}

#[utoipa::path(
    post,
    path = "/v1/signup",
    tag = "signup",
    summary = "Create an account",
    request_body = super::openapi::Signup,
    responses(
        (status = 201, description = "Created", body = super::openapi::SignedUp),
        (status = 400, description = "`invalid_request`: field errors", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`signup_disabled`, `invitation_required` or `invitation_invalid`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 409, description = "`email_taken` or `username_taken`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 422, description = "`weak_password`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn sign_up(State(app): State<AppState>, caller: Caller, body: JsonBody) -> Result {
    let request = signup::SignupRequest::from_json(body)?;
    json(
        StatusCode::CREATED,
        &signup::signup(&app, &caller, request).await?,
    )
}

#[utoipa::path(
    get,
    path = "/v1/username-suggestion",
    tag = "signup",
    summary = "A free username derived from an email",
    params(("email" = String, Query)),
    responses(
        (status = 200, description = "A username", body = super::openapi::UsernameSuggestion),
        (status = 400, description = "`invalid_request`: `email` missing or invalid", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 409, description = "`username_taken`: no candidate is free", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn username_suggestion(State(app): State<AppState>, query: Query) -> Result {
    let email = query.get("email").unwrap_or_default();
    let username = signup::suggest_username(&app, &email).await?;
    json(StatusCode::OK, &serde_json::json!({ "username": username }))
}
