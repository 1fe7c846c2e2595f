//! The OpenID provider's browser endpoints, beside the pages whose cookies they read:
//! `/oauth2/authorize` (GET and POST) hands an app a code once the person is signed in here, and
//! `/oauth2/logout` (RP-initiated logout, GET and POST) ends the sign-in.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
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

fn params_of(query: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
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

/// OpenID Connect Core 3.1.2.1: the same request, form-encoded. It changes nothing a GET could
/// not, so it carries no anti-forgery token; it is answered as the GET with its query.
async fn authorize_form(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
    body: Bytes,
) -> Response {
    // Re-encoded, so the request that may wait in a cookie is a well-formed query string.
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(url::form_urlencoded::parse(&body))
        .finish();
    authorize_with(&app, &pages, page, query).await
}

async fn authorize_with(
    app: &App,
    pages: &Pages,
    mut page: PageContext,
    query: String,
) -> Response {
    let params = params_of(&query);
    let signed_in = match page.signed_in(app).await {
        Some(who) => match app.store.session(&who.claims.sid).await {
            Ok(Some(session)) => Some(SignedIn {
                user: who.user,
                auth_time: session.created_at,
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
    let params = params_of(uri.query().unwrap_or_default());
    logout_with(&app, &pages, page, params).await
}

/// RP-initiated logout by a form the app posts: like the GET.
async fn logout_form(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
    body: Bytes,
) -> Response {
    let params = params_of(&String::from_utf8_lossy(&body));
    logout_with(&app, &pages, page, params).await
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
        return end_sign_in(app, pages, page, request).await;
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
    end_sign_in(&app, &pages, page, request).await
}

async fn end_sign_in(
    app: &App,
    pages: &Pages,
    mut page: PageContext,
    request: LogoutRequest,
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
        return page.redirect(location);
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
