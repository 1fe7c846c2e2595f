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

async fn log_in(State(app): State<AppState>, caller: Caller, body: JsonBody) -> Result {
    let request = login::LoginRequest::from_json(body)?;
    tokens(&login::login(&app, &caller, request).await?)
}

async fn log_in_with_access_key(
    State(app): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> Result {
    let request = access_keys::KeyLogin::from_json(body)?;
    tokens(&access_keys::login(&app, &caller, request).await?)
}
