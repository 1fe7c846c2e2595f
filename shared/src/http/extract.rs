//! What handlers take from a request: who is calling, the Bearer's account, a JSON body read field
//! by field, query parameters and path ids. Each refusal is the domain `Error`, so it reaches the
//! client as problem+json like any other.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, header};
use lambda_http::request::RequestContext;

use super::{AppState, REQUEST_ID};
use crate::app::Authenticated;
use crate::caller::Caller;
use crate::error::{Error, Result};
use crate::json_body::JsonBody;

/// The caller of a request: the request id the server set, and the client IP from API Gateway's
/// request context in Lambda or from the socket locally.
pub(super) fn caller_of(headers: &HeaderMap, extensions: &Extensions) -> Caller {
    let from_gateway = match extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        _ => None,
    };
    let ip = from_gateway.or_else(|| {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip().to_string())
    });
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    Caller {
        request_id: text(REQUEST_ID).unwrap_or_default().to_owned(),
        ip,
        user_agent: text(header::USER_AGENT).map(|ua| ua.chars().take(256).collect()),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller> {
        Ok(caller_of(&parts.headers, &parts.extensions))
    }
}

/// The Bearer token of the request, or 401.
pub(super) fn bearer(headers: &HeaderMap) -> Result<&str> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(Error::Unauthorized)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(Error::Unauthorized)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(Error::Unauthorized);
    }
    Ok(token.trim())
}

/// The account behind a valid Bearer access token of a live session; otherwise 401.
impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Authenticated> {
        app.authenticate(bearer(&parts.headers)?).await
    }
}

/// An active admin's Bearer: 401 without a valid one, 403 when the account is not an admin now.
pub struct Admin(pub Authenticated);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Admin> {
        let who = Authenticated::from_request_parts(parts, app).await?;
        crate::admin::require_admin(&who)?;
        Ok(Admin(who))
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The body's bytes, at most `MAX_BODY_BYTES` of them (413 past that), and whether they were
/// declared JSON (415 when a body is something else).
pub(super) async fn json_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("").to_owned());
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge
            } else {
                Error::invalid_field("body", "could not be read")
            }
        })?;
    match content_type {
        Some(ct) if is_json(&ct) => Ok(bytes),
        None if bytes.is_empty() => Ok(bytes),
        _ => Err(Error::UnsupportedMediaType),
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<JsonBody> {
        JsonBody::from_slice(&json_bytes(request, state).await?)
    }
}

/// The query string's parameters, in order; a malformed one is simply absent.
pub struct Query(Vec<(String, String)>);

impl Query {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Query> {
        let pairs = parts.uri.query().map_or_else(Vec::new, |query| {
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        });
        Ok(Query(pairs))
    }
}

/// The longest id a path may name; anything longer names nothing (and never reaches the store,
/// whose keys have size limits).
pub const MAX_ID_LENGTH: usize = 128;

/// The one parameter of a route's path (`{id}`, `{provider}`). Ids are uuids, hex digests and
/// access keys: nothing that needs decoding, and anything else simply names nothing (404 from the
/// flow). An empty segment names no route at all: 404 `not_found`.
pub struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Id> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::NotFound)?;
        if id.is_empty() {
            return Err(Error::NotFound);
        }
        Ok(Id(if id.len() <= MAX_ID_LENGTH {
            id
        } else {
            String::new()
        }))
    }
}
