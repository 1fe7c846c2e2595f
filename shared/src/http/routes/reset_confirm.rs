//! The reset-confirm function: `POST /v1/password/reset-confirm`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::post;

use crate::caller::Caller;
use crate::http::{AppState, Result, json, limit_rate};
use crate::json_body::JsonBody;
use crate::password_reset;
use crate::rate_limit::RateGroup;

pub fn routes(app: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/password/reset-confirm", post(confirm_reset))
        .route_layer(from_fn_with_state(
            (app.clone(), RateGroup::Token),
            limit_rate,
        ))
}

#[utoipa::path(
    post,
    path = "/v1/password/reset-confirm",
    tag = "reset-confirm",
    summary = "Set a new password with the mailed token",
    request_body = super::openapi::ResetConfirm,
    responses(
        (status = 200, description = "Done", body = super::openapi::Empty),
        (status = 400, description = "`invalid_request` or `invalid_token`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 422, description = "`weak_password`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn confirm_reset(State(app): State<AppState>, caller: Caller, mut body: JsonBody) -> Result {
    let token = body.string("token", true);
    let password = body.secret("new_password", true);
    body.finish()?;
    let (Some(token), Some(password)) = (token, password) else {
        return Err(crate::error::Error::internal(
            "a missing field was not reported",
        ));
    };
    password_reset::confirm(&app, &caller, &token, &password).await?;
    json(StatusCode::OK, &serde_json::json!({}))
}
