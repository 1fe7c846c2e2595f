//! The change-password function: `POST /v1/password/change`.

use axum::Router;
use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::routing::post;

use crate::app::Authenticated;
use crate::caller::Caller;
use crate::error::Error;
use crate::http::{AppState, Result, limit_rate, tokens};
use crate::json_body::JsonBody;
use crate::password_change;
use crate::rate_limit::RateGroup;

pub fn routes(app: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/password/change", post(change_password))
        .route_layer(from_fn_with_state(
            (app.clone(), RateGroup::Login),
            limit_rate,
        ))
}

#[utoipa::path(
    post,
    path = "/v1/password/change",
    tag = "change-password",
    summary = "Change the password",
    request_body = super::openapi::PasswordChange,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The token response for a new session", body = super::openapi::Tokens),
        (status = 400, description = "`invalid_request`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized` or `invalid_credentials`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 422, description = "`weak_password`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 429, description = "`account_locked` or `rate_limited`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn change_password(
    State(app): State<AppState>,
    caller: Caller,
    who: Authenticated,
    mut body: JsonBody,
) -> Result {
    let current = body.secret("current_password", true);
    let new = body.secret("new_password", true);
    let device_token = body.string("device_token", false);
    body.finish()?;
    let (Some(current), Some(new)) = (current, new) else {
        return Err(Error::internal("a missing field was not reported"));
    };
    tokens(
        &password_change::change(&app, &caller, who, &current, &new, device_token.as_deref())
            .await?,
    )
}
