//! The OpenID provider's browser endpoints, beside the pages whose cookies they read:
//! `/oauth2/authorize` (GET and POST) hands an app a code once the person is signed in here, and
//! `/oauth2/logout` (RP-initiated logout, GET and POST) ends the sign-in.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

use super::{Chrome, PagesExt, chrome, html, message};
use crate::app::App;
use crate::flows::oidc::{self, Authorize, LogoutRequest, SignedIn};
use crate::flows::sessions;
use crate::http::AppState;
use crate::http::pages::{Form, PageContext, Pages, Problems};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth2/authorize", get(authorize).post(authorize_form))
        .route("/oauth2/logout", get(logout).post(logout_form))
        .route("/oauth2/logout/confirm", post(logout_confirmed))
}

/// The parameters of a request; `None` when one is given twice (RFC 6749 3.1).
fn params_of(query: &str) -> Option<HashMap<String, String>> {
    crate::http::routes::oidc::unique_params(query.as_bytes()).ok()
}

/// Longest authorization request that may wait for a sign-in: it waits in a cookie (base64, with
/// its time), and browsers keep cookies up to 4 KiB.
const MAX_WAITING_QUERY: usize = 2800;

/// A POST from an app's page to a browser endpoint is answered with a 303 to the same request as
/// a GET. A cross-site POST carries no `SameSite=Lax` cookie, so only the GET sees who is signed
/// in; and this answer sets no cookie, so it can't replace the ones the browser holds.
fn as_get(path: &str, body: &[u8]) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(url::form_urlencoded::parse(body))
        .finish();
    let location = format!("{path}?{query}");
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&location) {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, value);
    }
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

async fn authorize(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
    uri: Uri,
) -> Response {
    let query = uri.query().unwrap_or_default().to_owned();
    authorize_with(&app, &pages, page, query).await
}

/// OpenID Connect Core 3.1.2.1: the same request, form-encoded, answered as the GET.
async fn authorize_form(body: Bytes) -> Response {
    as_get("/oauth2/authorize", &body)
}

async fn authorize_with(
    app: &App,
    pages: &Pages,
    mut page: PageContext,
    query: String,
) -> Response {
    let Some(params) = params_of(&query) else {
        return refusal(app, pages, page, "oidc-bad-request");
    };
    if query.len() > MAX_WAITING_QUERY {
        return refusal(app, pages, page, "oidc-bad-request");
    }
    let signed_in = match page.signed_in(app).await {
        Some(who) => match app.store.session(&who.claims.sid).await {
            Ok(Some(session)) => Some(SignedIn {
                user: who.user,
                auth_time: session.created_at,
                access_key: session.access_key,
            }),
            Ok(None) => None,
            Err(error) => return failed(app, pages, page, &error),
        },
        None => None,
    };
    let fresh_since = page
        .pending_authorization()
        .filter(|(pending, _)| *pending == query)
        .map(|(_, since)| since);
    match oidc::authorize(app, &page.caller, &params, signed_in, fresh_since).await {
        Ok(Authorize::Redirect(location)) => {
            page.forget_authorization();
            page.redirect(&location)
        }
        Ok(Authorize::SignIn { login_hint }) => {
            page.remember_authorization(&query, app.clock.now());
            let location = match login_hint {
                Some(hint) => {
                    let hint: String =
                        url::form_urlencoded::byte_serialize(hint.as_bytes()).collect();
                    format!("/login?login_hint={hint}")
                }
                None => "/login".to_owned(),
            };
            page.redirect(&location)
        }
        Ok(Authorize::Refuse(reason)) => {
            page.forget_authorization();
            refusal(app, pages, page, reason)
        }
        Err(error) => failed(app, pages, page, &error),
    }
}

/// An error page that never sends the person on: the request can't be trusted with a redirect.
fn refusal(app: &App, pages: &Pages, page: PageContext, reason: &str) -> Response {
    let t = pages.messages(page.lang);
    let view = super::MessagePage {
        chrome: chrome(app, pages, &page, "oidc-error-title"),
        problems: Problems::default(),
        paragraphs: vec![t.get(reason), t.get("oidc-error-advice")],
        link: None,
    };
    let html = html(&view);
    page.render(StatusCode::BAD_REQUEST, html, app)
}

fn failed(app: &App, pages: &Pages, page: PageContext, error: &crate::error::Error) -> Response {
    tracing::error!(%error, "authorization failed");
    let t = pages.messages(page.lang);
    let view = super::MessagePage {
        chrome: chrome(app, pages, &page, "oidc-error-title"),
        problems: Problems::default(),
        paragraphs: vec![t.error(error, &page.caller.request_id)],
        link: None,
    };
    let html = html(&view);
    let status = crate::http::problem::problem(error).status;
    page.render(status, html, app)
}

#[derive(Template)]
#[template(path = "pages/logout.html")]
struct LogoutPage<'a> {
    chrome: Chrome<'a>,
    fields: Vec<(&'static str, String)>,
}

async fn logout(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
    uri: Uri,
) -> Response {
    let Some(params) = params_of(uri.query().unwrap_or_default()) else {
        return refusal(&app, &pages, page, "oidc-bad-request");
    };
    logout_with(&app, &pages, page, params).await
}

/// RP-initiated logout by a form the app posts: answered as the GET.
async fn logout_form(body: Bytes) -> Response {
    as_get("/oauth2/logout", &body)
}

/// With an `id_token_hint` of the account signed in here (or of anyone, when no one is), the
/// sign-in ends at once. Otherwise the person is asked first: a link alone must not sign
/// someone out (OpenID Connect RP-Initiated Logout 1.0, 2).
async fn logout_with(
    app: &App,
    pages: &Pages,
    mut page: PageContext,
    params: HashMap<String, String>,
) -> Response {
    let request = match oidc::logout_request(app, &params).await {
        Ok(request) => request,
        Err(error) => return failed(app, pages, page, &error),
    };
    if let Some(reason) = request.problem {
        return refusal(app, pages, page, reason);
    }
    let who = page.signed_in(app).await;
    let hinted = request
        .hint
        .as_ref()
        .is_some_and(|hint| who.as_ref().is_none_or(|who| who.user.id == hint.sub));
    if hinted {
        return end_sign_in(app, pages, page, request, false).await;
    }
    let fields = [
        "id_token_hint",
        "post_logout_redirect_uri",
        "state",
        "client_id",
    ]
    .into_iter()
    .filter_map(|name| {
        params
            .get(name)
            .filter(|v| !v.is_empty())
            .map(|v| (name, v.clone()))
    })
    .collect();
    let view = LogoutPage {
        chrome: chrome(app, pages, &page, "oidc-logout-title"),
        fields,
    };
    let html = html(&view);
    page.render(StatusCode::OK, html, app)
}

/// The person confirmed on the page above.
async fn logout_confirmed(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
    form: Form,
) -> Response {
    let request = match oidc::logout_request(&app, &form.0).await {
        Ok(request) => request,
        Err(error) => return failed(&app, &pages, page, &error),
    };
    if let Some(reason) = request.problem {
        return refusal(&app, &pages, page, reason);
    }
    end_sign_in(&app, &pages, page, request, true).await
}

async fn end_sign_in(
    app: &App,
    pages: &Pages,
    mut page: PageContext,
    request: LogoutRequest,
    from_form: bool,
) -> Response {
    if let Some(hint) = &request.hint
        && let Err(error) = oidc::end_client_session(app, &page.caller, hint).await
    {
        return failed(app, pages, page, &error);
    }
    if let Some(who) = page.signed_in(app).await
        && let Err(error) = sessions::logout_with_bearer(app, &page.caller, &who, false).await
    {
        return failed(app, pages, page, &error);
    }
    page.sign_out();
    page.forget_authorization();
    if let Some(location) = &request.redirect {
        // After our own form, a redirect off the site is stopped by `form-action 'self'`: the
        // way back to the app is a page of its own.
        return if from_form {
            super::continue_to(app, pages, page, "oidc-signed-out-title", location.clone())
        } else {
            page.redirect(location)
        };
    }
    let t = pages.messages(page.lang);
    message(
        app,
        pages,
        page,
        "oidc-signed-out-title",
        vec![t.get("oidc-signed-out")],
        Some(("/login".to_owned(), t.get("login-title"))),
    )
}
