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

async fn sign_up(State(app): State<AppState>, caller: Caller, body: JsonBody) -> Result {
    let request = signup::SignupRequest::from_json(body)?;
    json(
        StatusCode::CREATED,
        &signup::signup(&app, &caller, request).await?,
    )
}

async fn username_suggestion(State(app): State<AppState>, query: Query) -> Result {
    let email = query.get("email").unwrap_or_default();
    let username = signup::suggest_username(&app, &email).await?;
    json(StatusCode::OK, &serde_json::json!({ "username": username }))
}
