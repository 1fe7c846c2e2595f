//! The verify-email function: `POST /v1/verify-email`, `POST /v1/verify-email/resend`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::post;

use crate::caller::Caller;
use crate::http::{AppState, Result, accepted, answer_no_sooner, json, limit_rate};
use crate::json_body::JsonBody;
use crate::rate_limit::RateGroup;
use crate::verification;

pub fn routes(app: &AppState) -> Router<AppState> {
    let verify = Router::new()
        .route("/v1/verify-email", post(verify))
        .route_layer(from_fn_with_state(
            (app.clone(), RateGroup::Token),
            limit_rate,
        ));
    let resend = Router::new()
        .route("/v1/verify-email/resend", post(resend))
        .route_layer(from_fn_with_state(app.clone(), answer_no_sooner))
        .route_layer(from_fn_with_state(
            (app.clone(), RateGroup::Mail),
            limit_rate,
        ));
    verify.merge(resend)
}

#[utoipa::path(
    post,
    path = "/v1/verify-email",
    tag = "verify-email",
    summary = "Confirm an email with the mailed token",
    request_body = super::openapi::TokenBody,
    responses(
        (status = 200, description = "The account's status afterwards", body = super::openapi::Status),
        (status = 400, description = "`invalid_request` or `invalid_token`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn verify(State(app): State<AppState>, caller: Caller, mut body: JsonBody) -> Result {
    let token = body.string("token", true);
    body.finish()?;
    let status = verification::verify(&app, &caller, token.as_deref().unwrap_or_default()).await?;
    json(
        StatusCode::OK,
        &serde_json::json!({ "status": status.as_str() }),
    )
}

#[utoipa::path(
    post,
    path = "/v1/verify-email/resend",
    tag = "verify-email",
    summary = "Mail the verification link again",
    request_body = super::openapi::EmailBody,
    responses(
        (status = 202, description = "The same answer whatever the address", body = super::openapi::Empty),
        (status = 400, description = "`invalid_request`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn resend(State(app): State<AppState>, body: JsonBody) -> Result {
    let email = body.email("email")?;
    verification::resend(&app, &email).await?;
    accepted()
}
