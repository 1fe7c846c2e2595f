//! HTTP: each Lambda function's routes are an axum `Router` built in `routes/<function>.rs`; the
//! function's `main` runs its own router on Lambda, and `portcullis serve` merges them all.
//! Every router gets the same layers here (`service`): request id, tracing, security headers,
//! body limit, timeout, signing-key reload, and problem+json for every error.

pub mod extract;
#[cfg(feature = "ui")]
pub mod pages;
pub mod problem;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use lambda_http::RequestExt as _;
use lambda_http::request::RequestContext;
use serde::Serialize;
use tower::Layer as _;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};
use tower_http::request_id::PropagateRequestIdLayer;
use tower_http::set_header::{SetRequestHeaderLayer, SetResponseHeaderLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use extract::{Admin, Id, Query};

use crate::app::App;
use crate::caller::Caller;
use crate::error::Error;
use crate::rate_limit::RateGroup;

/// What every handler and layer shares: the app of this process (of this Lambda instance).
pub type AppState = Arc<App>;

/// Request bodies over this many bytes get 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The one route that takes more: `POST /v1/admin/users/import`, a file of a few thousand
/// accounts (within Lambda's 6 MB payload).
pub const IMPORT_PATH: &str = "/v1/admin/users/import";
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;

/// 413 for a body over the route's limit: at once when its length is declared, otherwise when
/// reading passes the limit.
async fn limit_body(request: Request, next: Next) -> Response {
    let limit = if request.uri().path().trim_end_matches('/') == IMPORT_PATH {
        MAX_IMPORT_BYTES
    } else {
        MAX_BODY_BYTES
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Error::PayloadTooLarge.into_response();
    }
    let request =
        request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    next.run(request).await
}

/// A request still running after this answers 503 `unavailable` (API Gateway gives up at 30 s).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(29);

/// The header carrying the request id, set by the server on every request and response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A router with every layer, ready for `lambda_http::run` or `axum::serve`. Paths are matched
/// with a trailing slash trimmed (`/v1/login/` is `/v1/login`).
pub type Service = NormalizePath<Router>;

/// One function's routes (or all of them, merged) with the layers every response gets.
pub fn service(routes: Router<AppState>, app: &AppState) -> Service {
    layered(routes, app, None)
}

fn layered(routes: Router<AppState>, app: &AppState, cors: Option<CorsLayer>) -> Service {
    let https = app.issuer.starts_with("https://");
    let router = routes
        .fallback(|| async { Error::NotFound })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(app.clone(), reload_keys))
        .layer(middleware::from_fn(limit_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(middleware::from_fn(render_problems))
        .layer(tower::util::option_layer(cors))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            https.then(|| HeaderValue::from_static("max-age=63072000; includeSubDomains")),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestHeaderLayer::overriding(REQUEST_ID, request_id))
        .with_state(app.clone());
    NormalizePathLayer::trim_trailing_slash().layer(router)
}

/// `service` plus what API Gateway does in front of Lambda and the local server must do itself:
/// CORS with the template's policy (the UI's origin, or the server's own).
pub fn local_service(routes: Router<AppState>, app: &AppState) -> Service {
    let origin = app
        .config
        .urls
        .ui_url
        .as_ref()
        .map_or_else(|| app.issuer.clone(), |u| u.origin().ascii_serialization());
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::exact(
            HeaderValue::from_str(&origin).unwrap_or(HeaderValue::from_static("null")),
        ))
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .max_age(Duration::from_secs(600));
    layered(routes, app, Some(cors))
}

/// The request's id: API Gateway's in Lambda, a new uuid locally. Whatever the client sent in
/// `x-request-id` is replaced, so a log line's id is always the server's own.
fn request_id<B>(request: &axum::http::Request<B>) -> Option<HeaderValue> {
    let from_gateway = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
        _ => None,
    };
    let id = from_gateway
        .or_else(|| request.lambda_context_ref().map(|c| c.request_id.clone()))
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    HeaderValue::from_str(&id).ok()
}

fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}

/// Reads the signing keys again when they are a minute old, before the request is served.
async fn reload_keys(State(app): State<AppState>, request: Request, next: Next) -> Response {
    app.reload_keys_if_due().await;
    next.run(request).await
}

/// Gives every error its problem+json body with the request id: a handler's `Error`, and the
/// plain answers of the layers underneath (413 from the body limit, 503 from the timeout).
async fn render_problems(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let response = next.run(request).await;
    if let Some(problem) = response.extensions().get::<problem::Problem>() {
        return problem.render(&id);
    }
    let status = response.status();
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    let error = match status {
        _ if is_page => return response,
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
        StatusCode::NOT_FOUND => Error::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Error::MethodNotAllowed,
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => Error::Unavailable {
            retry_after: 1,
            cause: "the request took too long".into(),
        },
        _ => return response,
    };
    problem::problem(&error).render(&id)
}

/// Counts the request against its client IP's limit for its group. A route layer of each group's
/// routes: `.route_layer(from_fn_with_state((app.clone(), RateGroup::Login), limit_rate))`.
pub async fn limit_rate(
    State((app, group)): State<(AppState, RateGroup)>,
    caller: Caller,
    request: Request,
    next: Next,
) -> Response {
    match app.check_ip_rate(group, &caller).await {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// For routes whose answer must take the same time whether or not a mail went out: a 202 waits
/// until `PORTCULLIS_MAIL_RESPONSE_TIME` after the request arrived. A route layer:
/// `.route_layer(from_fn_with_state(app.clone(), answer_no_sooner))`.
pub async fn answer_no_sooner(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let deadline = tokio::time::Instant::now() + app.config.mail.response_time;
    let response = next.run(request).await;
    if response.status() == StatusCode::ACCEPTED {
        tokio::time::sleep_until(deadline).await;
    }
    response
}

pub type Result<T = Response> = crate::error::Result<T>;

pub fn json(status: StatusCode, value: &impl Serialize) -> Result {
    let body = serde_json::to_string(value).map_err(Error::internal)?;
    Ok((
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

pub fn no_content() -> Result {
    Ok((
        StatusCode::NO_CONTENT,
        [(header::CACHE_CONTROL, "no-store")],
    )
        .into_response())
}

/// 202 with an empty JSON object: "if that address has an account, a mail is on its way".
pub fn accepted() -> Result {
    json(StatusCode::ACCEPTED, &serde_json::json!({}))
}

/// A response that carries tokens: never cached anywhere.
pub fn tokens(value: &impl Serialize) -> Result {
    json(StatusCode::OK, value)
}

/// Discovery documents: shared caches may keep them a few minutes.
pub fn cacheable(response: Result) -> Result {
    let mut response = response?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}
