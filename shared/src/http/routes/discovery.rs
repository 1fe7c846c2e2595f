//! The discovery function: `GET /v1/config`, `GET /v1/health`, the OpenID configuration and the
//! JWKS.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::discovery;
use crate::http::{AppState, Result, cacheable, json};

pub fn routes(_: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/config", get(client_config))
        .route("/v1/health", get(health))
        .route(
            "/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/.well-known/jwks.json", get(jwks))
}

async fn client_config(State(app): State<AppState>) -> Result {
    json(StatusCode::OK, &discovery::client_config(&app.config))
}

async fn health() -> Result {
    json(StatusCode::OK, &serde_json::json!({ "status": "ok" }))
}

async fn openid_configuration(State(app): State<AppState>) -> Result {
    cacheable(json(StatusCode::OK, &discovery::openid_configuration(&app)))
}

async fn jwks(State(app): State<AppState>) -> Result {
    cacheable(json(StatusCode::OK, &app.keys().jwks()))
}
