//! The session function: `GET /v1/me`, `POST /v1/token/refresh`, `POST /v1/logout`,
//! `GET /v1/sessions`, `DELETE /v1/sessions/{id}`.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post};

use crate::app::Authenticated;
use crate::caller::Caller;
use crate::error::Error;
use crate::http::extract::{Id, bearer, json_bytes};
use crate::http::{AppState, Result, json, limit_rate, no_content, tokens};
use crate::json_body::JsonBody;
use crate::rate_limit::RateGroup;
use crate::{me, sessions};

pub fn routes(app: &AppState) -> Router<AppState> {
    let refresh = Router::new()
        .route("/v1/token/refresh", post(refresh))
        .route_layer(from_fn_with_state(
            (app.clone(), RateGroup::Token),
            limit_rate,
        ));
    Router::new()
        .route("/v1/me", get(who_am_i))
        .route("/v1/logout", post(log_out))
        .route("/v1/sessions", get(list_sessions))
        .route("/v1/sessions/{id}", delete(end_session))
        .merge(refresh)
}

#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "session",
    summary = "The account behind the token",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = super::openapi::User),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn who_am_i(who: Authenticated) -> Result {
    json(StatusCode::OK, &me::me(who.user))
}

#[utoipa::path(
    post,
    path = "/v1/token/refresh",
    tag = "session",
    summary = "Exchange a refresh token for new tokens",
    request_body = super::openapi::Refresh,
    responses(
        (status = 200, description = "The token response (the refresh token rotated)", body = super::openapi::Tokens),
        (status = 400, description = "`invalid_request`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`invalid_refresh_token`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn refresh(State(app): State<AppState>, caller: Caller, mut body: JsonBody) -> Result {
    let token = body.secret("refresh_token", true);
    body.finish()?;
    let token = token.ok_or_else(|| Error::internal("a missing field was not reported"))?;
    tokens(&sessions::refresh(&app, &caller, &token).await?)
}

/// With a Bearer: this session, or every session with `{"scope": "global"}` (the body is
/// optional). Without one: the session of the `refresh_token` in the body.
#[utoipa::path(
    post,
    path = "/v1/logout",
    tag = "session",
    summary = "End this session (or every session), by Bearer or by refresh token",
    request_body = super::openapi::Logout,
    security((), ("bearer" = [])),
    responses(
        (status = 204, description = "Ended"),
        (status = 400, description = "`invalid_request`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized` or `invalid_refresh_token`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn log_out(State(app): State<AppState>, caller: Caller, request: Request) -> Result {
    if request.headers().contains_key(header::AUTHORIZATION) {
        let who = app.authenticate(bearer(request.headers())?).await?;
        let bytes = json_bytes(request, &app).await?;
        let global = if bytes.is_empty() {
            false
        } else {
            let mut body = JsonBody::from_slice(&bytes)?;
            let global = match body.string("scope", false).as_deref() {
                None | Some("local") => false,
                Some("global") => true,
                Some(_) => {
                    body.error("scope", "must be local or global");
                    false
                }
            };
            body.finish()?;
            global
        };
        sessions::logout_with_bearer(&app, &caller, &who, global).await?;
    } else {
        let mut body = JsonBody::from_slice(&json_bytes(request, &app).await?)?;
        let token = body.secret("refresh_token", true);
        body.finish()?;
        let token = token.ok_or_else(|| Error::internal("a missing field was not reported"))?;
        sessions::logout_with_refresh(&app, &caller, &token).await?;
    }
    no_content()
}

#[utoipa::path(
    get,
    path = "/v1/sessions",
    tag = "session",
    summary = "The account's live sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Oldest first", body = super::openapi::Sessions),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn list_sessions(State(app): State<AppState>, who: Authenticated) -> Result {
    let list = sessions::list(&app, &who).await?;
    json(StatusCode::OK, &serde_json::json!({ "sessions": list }))
}

#[utoipa::path(
    delete,
    path = "/v1/sessions/{id}",
    tag = "session",
    summary = "End one of the account's sessions",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Ended"),
        (status = 400, description = "`invalid_request`: a malformed id", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 404, description = "`not_found`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn end_session(
    State(app): State<AppState>,
    caller: Caller,
    who: Authenticated,
    Id(id): Id,
) -> Result {
    sessions::delete(&app, &caller, &who, &id).await?;
    no_content()
}
