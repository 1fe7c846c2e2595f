//! The oauth-callback function: sign in with Google and GitHub.
//! `GET /v1/oauth/{provider}/authorize`, `GET /v1/oauth/{provider}/callback`,
//! `POST /v1/oauth/exchange`.

use axum::Router;
use std::sync::Arc;

use axum::Extension;
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse as _;
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;

use crate::caller::Caller;
use crate::error::Error;
use crate::http::{AppState, Id, Query, Result, limit_rate, tokens};
use crate::json_body::JsonBody;
use crate::oauth;
use crate::rate_limit::RateGroup;
use crate::secret::Secret;

/// The provider client and caches live as long as the function instance, beside the app.
type SignIns = Extension<Arc<oauth::Context>>;

pub fn routes(app: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/oauth/{provider}/authorize", get(authorize))
        .route("/v1/oauth/{provider}/callback", get(callback))
        .route("/v1/oauth/exchange", post(exchange))
        .route_layer(from_fn_with_state(
            (app.clone(), RateGroup::Login),
            limit_rate,
        ))
        .layer(Extension(Arc::new(oauth::Context::new(app.clone()))))
}

#[utoipa::path(
    get,
    path = "/v1/oauth/{provider}/authorize",
    tag = "oauth",
    summary = "Start a Google or GitHub sign-in",
    params(("provider" = String, Path), ("code_challenge" = String, Query), ("code_challenge_method" = Option<String>, Query), ("return_to" = Option<String>, Query), ("invitation" = Option<String>, Query)),
    responses(
        (status = 302, description = "To the provider"),
        (status = 400, description = "`invalid_request`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 404, description = "`unknown_provider`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn authorize(Extension(app): SignIns, Id(provider): Id, query: Query) -> Result {
    let invitation = query
        .get("invitation")
        .filter(|i| !i.trim().is_empty())
        .map(Secret::new);
    let return_to = query.get("return_to");
    let (challenge, method) = (
        query.get("code_challenge"),
        query.get("code_challenge_method"),
    );
    let pkce = oauth::ClientPkce {
        challenge: challenge.as_deref(),
        method: method.as_deref(),
    };
    redirect(&oauth::authorize(&app, &provider, return_to.as_deref(), invitation, pkce).await?)
}

#[utoipa::path(
    get,
    path = "/v1/oauth/{provider}/callback",
    tag = "oauth",
    summary = "Where the provider sends the browser back",
    params(("provider" = String, Path), ("code" = Option<String>, Query), ("state" = Option<String>, Query), ("error" = Option<String>, Query)),
    responses(
        (status = 302, description = "To `return_to` with `#code=` or `#error=`"),
        (status = 404, description = "`unknown_provider`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn callback(
    Extension(app): SignIns,
    caller: Caller,
    Id(provider): Id,
    query: Query,
    cookies: CookieJar,
) -> Result {
    let answer = oauth::CallbackQuery {
        code: query.get("code").map(Secret::new),
        state: query.get("state").map(Secret::new),
        error: query.get("error"),
        iss: query.get("iss"),
    };
    let cookie = cookies
        .get(oauth::STATE_COOKIE)
        .map(|c| Secret::new(c.value().to_owned()));
    redirect(&oauth::callback(&app, &caller, &provider, answer, cookie).await?)
}

#[utoipa::path(
    post,
    path = "/v1/oauth/exchange",
    tag = "oauth",
    summary = "Exchange the one-time code for tokens",
    request_body = super::openapi::Exchange,
    responses(
        (status = 200, description = "The token response", body = super::openapi::Tokens),
        (status = 400, description = "`invalid_request` or `invalid_token`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`email_not_verified`, `pending_approval` or `account_disabled`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn exchange(Extension(app): SignIns, caller: Caller, mut body: JsonBody) -> Result {
    let code = body.secret("code", true);
    // Not required here: a code sent without its verifier is refused and used up, like a wrong one.
    let verifier = body.secret("code_verifier", false);
    body.finish()?;
    let code = code.ok_or_else(|| Error::internal("a missing field was not reported"))?;
    let verifier = verifier.as_ref().map(Secret::expose);
    tokens(&oauth::exchange(&app, &caller, code.expose(), verifier).await?)
}

/// A 302 for the browser; the location may carry a one-time code in its fragment, so nothing
/// keeps it and no `Referer` repeats the callback's query.
fn redirect(to: &oauth::Redirect) -> Result {
    let mut response = (
        StatusCode::FOUND,
        [
            (header::LOCATION, to.location.as_str()),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
    )
        .into_response();
    if let Some(cookie) = &to.set_cookie {
        let value = cookie.parse().map_err(Error::internal)?;
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}
