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

async fn request_reset(State(app): State<AppState>, caller: Caller, body: JsonBody) -> Result {
    if !app.config.passwords.reset_enabled {
        return Err(Error::PasswordResetDisabled);
    }
    let email = body.email("email")?;
    password_reset::request(&app, &caller, &email).await?;
    accepted()
}
