//! The oidc function: what apps call on the OpenID provider from their servers (or, for public
//! clients, from their code): `POST /oauth2/token`, `GET`/`POST /oauth2/userinfo` and
//! `POST /oauth2/revoke`. The browser-facing endpoints (`/oauth2/authorize`, `/oauth2/logout`)
//! belong to the ui function, which has the hosted pages' cookies.
//!
//! These endpoints speak RFC 6749's language, not problem+json: form-encoded requests, and errors
//! as `{"error", "error_description"}`.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::caller::Caller;
use crate::flows::oidc::{self, ClientCredentials, Failure};
use crate::http::AppState;
use crate::openid::OAuthError;
use crate::secret::Secret;

pub fn routes(_: &AppState) -> Router<AppState> {
    Router::new()
        .route("/oauth2/token", post(token))
        .route("/oauth2/userinfo", get(userinfo).post(userinfo))
        .route("/oauth2/revoke", post(revoke))
}

/// The parameters of a form-encoded body. A parameter given twice is refused (RFC 6749 3.1,
/// 3.2), as is any other content type.
pub fn form(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type && !body.is_empty() {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    unique_params(body)
        .map_err(|name| OAuthError::invalid_request(format!("{name} is given more than once")))
}

/// The parameters of a form-encoded body or query string, or the name of one given twice
/// (RFC 6749 3.1 and 3.2 refuse repeated parameters).
pub fn unique_params(bytes: &[u8]) -> Result<HashMap<String, String>, String> {
    let mut params = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(bytes) {
        if params
            .insert(name.to_string(), value.into_owned())
            .is_some()
        {
            return Err(name.into_owned());
        }
    }
    Ok(params)
}

/// `Authorization: Basic` as RFC 6749 2.3.1 has it: the id and secret each form-urlencoded.
/// `Err` when the header is there but is not Basic credentials.
fn basic(headers: &HeaderMap) -> Result<Option<(String, Option<Secret>)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let decoded = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, credentials)| STANDARD.decode(credentials.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
        return Err(OAuthError::invalid_client());
    };
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    // Some libraries send a public client's id with an empty secret.
    let secret = Some(unescape(secret))
        .filter(|s| !s.is_empty())
        .map(Secret::new);
    Ok(Some((unescape(id), secret)))
}

/// An RFC 6749 5.2 error: 401 with a `WWW-Authenticate` challenge for `invalid_client`, 400
/// otherwise; Portcullis' own errors as everywhere else.
fn failure(failure: Failure) -> Response {
    match failure {
        Failure::Other(error) => error.into_response(),
        Failure::OAuth(error) => {
            let status = if error.error == "invalid_client" {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_REQUEST
            };
            let body = serde_json::json!({
                "error": error.error,
                "error_description": error.description,
            });
            let mut response = answer(status, &body);
            if status == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"portcullis\""),
                );
            }
            response
        }
    }
}

/// JSON that no cache keeps (RFC 6749 5.1).
fn answer(status: StatusCode, value: &impl serde::Serialize) -> Response {
    let mut response = match crate::http::json(status, value) {
        Ok(response) => response,
        Err(error) => return error.into_response(),
    };
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}

/// The client a token or revocation request authenticates as, and its form.
async fn client_and_form(
    app: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(crate::openid::Client, HashMap<String, String>), Failure> {
    let mut params = form(headers, body)?;
    let credentials = ClientCredentials {
        basic: basic(headers)?,
        form_id: params.remove("client_id").filter(|v| !v.is_empty()),
        form_secret: params
            .remove("client_secret")
            .filter(|v| !v.is_empty())
            .map(Secret::new),
    };
    let client = oidc::authenticate_client(app, credentials).await?;
    Ok((client, params))
}

async fn token(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome = async {
        let (client, params) = client_and_form(&app, &headers, &body).await?;
        match params.get("grant_type").map(String::as_str) {
            Some("authorization_code") => oidc::redeem_code(&app, &caller, &client, &params).await,
            Some("refresh_token") => oidc::refresh(&app, &caller, &client, &params).await,
            Some(_) => Err(OAuthError::new(
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token",
            )
            .into()),
            None => Err(OAuthError::invalid_request("grant_type is missing").into()),
        }
    };
    match outcome.await {
        Ok(tokens) => answer(StatusCode::OK, &tokens),
        Err(error) => failure(error),
    }
}

/// RFC 6750: the token from `Authorization: Bearer`, or from a POST's form (not both).
async fn userinfo(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    let from_form = form(&headers, &body)
        .ok()
        .and_then(|mut params| params.remove("access_token"));
    let token = match (from_header, from_form) {
        (Some(token), None) | (None, Some(token)) => token,
        (None, None) => return bearer_challenge(None),
        (Some(_), Some(_)) => return bearer_challenge(Some("invalid_request")),
    };
    match oidc::userinfo(&app, &token).await {
        Ok(Some(claims)) => answer(StatusCode::OK, &claims),
        Ok(None) => bearer_challenge(Some("invalid_token")),
        Err(error) => error.into_response(),
    }
}

fn bearer_challenge(error: Option<&'static str>) -> Response {
    let (status, challenge) = match error {
        None => (StatusCode::UNAUTHORIZED, "Bearer".to_owned()),
        Some("invalid_request") => (
            StatusCode::BAD_REQUEST,
            "Bearer error=\"invalid_request\"".to_owned(),
        ),
        Some(error) => (
            StatusCode::UNAUTHORIZED,
            format!("Bearer error=\"{error}\""),
        ),
    };
    let mut response = (status, no_store()).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

async fn revoke(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome = async {
        let (client, params) = client_and_form(&app, &headers, &body).await?;
        let token = params
            .get("token")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
        oidc::revoke(&app, &caller, &client, token)
            .await
            .map_err(Failure::from)
    };
    match outcome.await {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(error) => failure(error),
    }
}
