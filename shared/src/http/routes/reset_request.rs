//! The reset-request function: `POST /v1/password/reset-request`.

use axum::Router;
use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::routing::post;

use crate::caller::Caller;
use crate::error::Error;
use crate::http::{AppState, Result, accepted, answer_no_sooner, limit_rate};
use crate::json_body::JsonBody;
use crate::password_reset;
use crate::rate_limit::RateGroup;

pub fn routes(app: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/password/reset-request", post(request_reset))
        .route_layer(from_fn_with_state(app.clone(), answer_no_sooner))
        .route_layer(from_fn_with_state(
            (app.clone(), RateGroup::Mail),
            limit_rate,
        ))
}

#[utoipa::path(
    post,
    path = "/v1/password/reset-request",
    tag = "reset-request",
    summary = "Mail a password reset link",
    request_body = super::openapi::EmailBody,
    responses(
        (status = 202, description = "The same answer whatever the address", body = super::openapi::Empty),
        (status = 400, description = "`invalid_request`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`password_reset_disabled`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn request_reset(State(app): State<AppState>, caller: Caller, body: JsonBody) -> Result {
    if !app.config.passwords.reset_enabled {
        return Err(Error::PasswordResetDisabled);
    }
    let email = body.email("email")?;
    password_reset::request(&app, &caller, &email).await?;
    accepted()
}
