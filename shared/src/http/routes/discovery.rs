//! The discovery function: `GET /v1/config`, `GET /v1/health`, `GET /v1/openapi.json`, the
//! OpenID configuration and the JWKS.

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
        .route("/v1/openapi.json", get(openapi))
}

/// docs/openapi.json, which `portcullis openapi` writes and a test keeps current.
const OPENAPI: &str = include_str!("../../../../docs/openapi.json");

#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "discovery",
    summary = "This document",
    responses(
        (status = 200, description = "OpenAPI 3.1", body = serde_json::Value),
        super::openapi::Refusals,
    ),
)]
async fn openapi() -> Result {
    use axum::response::IntoResponse as _;
    cacheable(Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
        .into_response()))
}

#[utoipa::path(
    get,
    path = "/v1/config",
    tag = "discovery",
    summary = "What a UI needs to draw its forms",
    responses(
        (status = 200, description = "The settings", body = super::openapi::ClientConfig),
        super::openapi::Refusals,
    ),
)]
async fn client_config(State(app): State<AppState>) -> Result {
    json(StatusCode::OK, &discovery::client_config(&app.config))
}

#[utoipa::path(
    get,
    path = "/v1/health",
    tag = "discovery",
    summary = "Liveness",
    responses(
        (status = 200, description = "`{\"status\": \"ok\"}`", body = super::openapi::Status),
        super::openapi::Refusals,
    ),
)]
async fn health() -> Result {
    json(StatusCode::OK, &serde_json::json!({ "status": "ok" }))
}

#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    tag = "discovery",
    summary = "OpenID Provider Metadata",
    responses(
        (status = 200, description = "The metadata", body = serde_json::Value),
        super::openapi::Refusals,
    ),
)]
async fn openid_configuration(State(app): State<AppState>) -> Result {
    cacheable(json(StatusCode::OK, &discovery::openid_configuration(&app)))
}

#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "discovery",
    summary = "The public signing keys",
    responses(
        (status = 200, description = "A JWK Set", body = serde_json::Value),
        super::openapi::Refusals,
    ),
)]
async fn jwks(State(app): State<AppState>) -> Result {
    cacheable(json(StatusCode::OK, &app.keys().jwks()))
}
