//! The ui function: the hosted pages at the paths the mails link to. `/login` (identifier first,
//! then the password), `/login/access-key`, `/signup`, `/verify-email`, `/forgot-password`,
//! `/reset-password`, `/oauth/complete`, `/account`, and `/`.
//!
//! `openid` adds the OpenID provider's browser endpoints, `/oauth2/authorize` and
//! `/oauth2/logout`, which sign people in through these pages.
//!
//! Every form posts back to its own page and works without JavaScript; the script only makes it
//! smoother (the password field appears without a page load, the username follows the email).

mod openid;

use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequestParts as _, Path, Request, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};

use crate::app::{App, Authenticated};
use crate::config::SignupMode;
use crate::error::Error;
use crate::flows::{access_keys, login, password_change, password_reset, sessions, signup};
use crate::flows::{me, verification};
use crate::http::pages::{
    Form, Lang, Messages, PageContext, Pages, PagesState, Problems, same_passwords,
};
use crate::http::{AppState, Query};
use crate::rate_limit::RateGroup;
use crate::secret::Secret;

pub fn routes(app: &AppState) -> Router<AppState> {
    // Forms count against the client IP's limit of their group, as the JSON routes do.
    let limited = |router: Router<AppState>, group: RateGroup| {
        router.route_layer(from_fn_with_state((app.clone(), group), limit_forms))
    };
    let login = Router::new()
        .route("/login", get(login_page).post(log_in))
        .route(
            "/login/access-key",
            get(access_key_page).post(log_in_with_key),
        )
        .route("/oauth/complete", get(oauth_page).post(oauth_complete))
        .route("/account/password", post(change_password));
    let signup = Router::new().route("/signup", get(signup_page).post(sign_up));
    let mail = Router::new()
        .route("/verify-email/resend", post(resend))
        .route("/forgot-password", get(forgot_page).post(forgot));
    let token = Router::new()
        .route("/verify-email", get(verify_page).post(verify))
        .route("/reset-password", get(reset_page).post(reset));
    Router::new()
        .route("/", get(home))
        .route("/account", get(account))
        .route("/account/sessions/{id}/end", post(end_session))
        .route("/account/sessions/end-all", post(end_all_sessions))
        .route("/account/access-keys", post(create_key))
        .route("/account/access-keys/{id}/delete", post(delete_key))
        .route("/logout", post(log_out))
        .merge(openid::routes())
        .route("/assets/{name}", get(asset))
        .merge(limited(login, RateGroup::Login))
        .merge(limited(signup, RateGroup::Signup))
        .merge(limited(mail, RateGroup::Mail))
        .merge(limited(token, RateGroup::Token))
        .layer(Extension(Arc::new(Pages::new(app))))
}

/// A form posted from a client IP over its group's limit gets a page saying to wait (429, with
/// `Retry-After`); showing a page never counts.
async fn limit_forms(
    State((app, group)): State<(AppState, RateGroup)>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let page = match PageContext::from_request_parts(&mut parts, &app).await {
        Ok(page) => page,
        Err(error) => return error.into_response(),
    };
    match app.check_ip_rate(group, &page.caller).await {
        Ok(()) => next.run(Request::from_parts(parts, body)).await,
        Err(error) => {
            let Some(pages) = parts.extensions.get::<PagesState>().cloned() else {
                return error.into_response();
            };
            let t = pages.messages(page.lang);
            let retry_after = match &error {
                Error::RateLimited { retry_after } => Some(*retry_after),
                _ => None,
            };
            let view = MessagePage {
                chrome: chrome(&app, &pages, &page, "error-summary-title"),
                problems: Problems::of(&error, &t, &page.caller.request_id),
                paragraphs: Vec::new(),
                link: None,
            };
            let html = html(&view);
            let mut response = page.render(page_status(&error), html, &app);
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, seconds.into());
            }
            response
        }
    }
}

type PagesExt = Extension<PagesState>;

/// What the layout shows around every page.
struct Chrome<'a> {
    t: Messages<'a>,
    lang: &'static str,
    product: &'a str,
    logo: Option<String>,
    css: &'a str,
    js: &'a str,
    csrf: String,
    title: String,
    path: String,
    query: String,
    langs: Vec<(&'static str, String, bool)>,
    wide: bool,
}

fn chrome<'a>(app: &'a App, pages: &'a Pages, page: &PageContext, title_id: &str) -> Chrome<'a> {
    let t = pages.messages(page.lang);
    Chrome {
        t,
        lang: page.lang.code(),
        product: &app.config.mail.product_name,
        logo: app.config.ui.logo_url.as_ref().map(|u| u.to_string()),
        css: &pages.css_path,
        js: &pages.js_path,
        csrf: page.csrf.clone(),
        title: t.get(title_id),
        path: page.path.clone(),
        query: page.query.clone(),
        langs: Lang::ALL
            .iter()
            .map(|l| {
                (
                    l.code(),
                    pages.messages(*l).get("lang-name"),
                    *l == page.lang,
                )
            })
            .collect(),
        wide: false,
    }
}

fn html(template: &impl Template) -> String {
    template.render().unwrap_or_else(|error| {
        tracing::error!(%error, "a page did not render");
        String::from("<!doctype html><title>Error</title><p>Something went wrong.")
    })
}

#[derive(Template)]
#[template(path = "pages/login.html")]
struct LoginPage<'a> {
    chrome: Chrome<'a>,
    step: &'static str,
    identifier: String,
    problems: Problems,
    notice: Option<String>,
    show_resend: bool,
    resend_email: String,
    providers: Vec<(String, String)>,
    reset_enabled: bool,
    access_key_login: bool,
    signup_open: bool,
}

fn login_view<'a>(app: &'a App, pages: &'a Pages, page: &PageContext) -> LoginPage<'a> {
    let chrome = chrome(app, pages, page, "login-title");
    let mut providers = Vec::new();
    let return_to = format!("{}/oauth/complete", app.issuer);
    let encoded: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    let challenge = crate::openid::challenge_of(&page.pkce_verifier);
    let pkce = format!("code_challenge={challenge}&code_challenge_method=S256");
    if app.config.oauth.google.is_some() {
        providers.push((
            format!("/v1/oauth/google/authorize?return_to={encoded}&{pkce}"),
            chrome.t.get("login-google"),
        ));
    }
    if app.config.oauth.github.is_some() {
        providers.push((
            format!("/v1/oauth/github/authorize?return_to={encoded}&{pkce}"),
            chrome.t.get("login-github"),
        ));
    }
    LoginPage {
        chrome,
        step: "identifier",
        identifier: String::new(),
        problems: Problems::default(),
        notice: None,
        show_resend: false,
        resend_email: String::new(),
        providers,
        reset_enabled: app.config.passwords.reset_enabled,
        access_key_login: app.config.login.access_key_login,
        signup_open: app.config.signup.mode != SignupMode::Disabled,
    }
}

async fn home(State(app): State<AppState>, mut page: PageContext) -> Response {
    let to = if page.signed_in(&app).await.is_some() {
        "/account"
    } else {
        "/login"
    };
    page.redirect(to)
}

async fn login_page(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    mut page: PageContext,
    query: Query,
) -> Response {
    // Signed in already, the form is shown only to sign in again for an app that asked for it.
    if page.signed_in(&app).await.is_some() && page.pending_authorization().is_none() {
        return page.redirect("/account");
    }
    let mut view = login_view(&app, &pages, &page);
    if let Some(hint) = query.get("login_hint") {
        view.identifier = hint;
    }
    let html = html(&view);
    page.render(StatusCode::OK, html, &app)
}

async fn log_in(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    mut page: PageContext,
    form: Form,
) -> Response {
    let identifier = form.get("identifier").unwrap_or_default().trim().to_owned();
    let password = form.get("password").unwrap_or_default();
    let mut view = login_view(&app, &pages, &page);
    view.identifier = identifier.clone();
    if identifier.is_empty() {
        view.problems = Problems::field("identifier", view.chrome.t.get("field-required"));
        let html = html(&view);
        return page.render(StatusCode::BAD_REQUEST, html, &app);
    }
    // The second step looks the same whatever the identifier: nothing is looked up before it.
    view.step = "password";
    if password.is_empty() {
        if form.0.contains_key("password") {
            view.problems = Problems::field("password", view.chrome.t.get("field-required"));
        }
        let html = html(&view);
        return page.render(StatusCode::OK, html, &app);
    }
    let request = login::LoginRequest {
        identifier: identifier.clone(),
        password: Secret::new(password),
        device_token: page.device_token(),
    };
    match login::login(&app, &page.caller, request).await {
        Ok(grant) => {
            page.sign_in(&app, &grant);
            after_sign_in(&app, &pages, page)
        }
        Err(error) => {
            let status = page_status(&error);
            view.problems = Problems::of(&error, &view.chrome.t, &page.caller.request_id);
            if matches!(error, Error::EmailNotVerified) {
                view.show_resend = true;
                if identifier.contains('@') {
                    view.resend_email = identifier;
                }
            }
            let html = html(&view);
            page.render(status, html, &app)
        }
    }
}

/// The status a page answers with after a flow refused.
fn page_status(error: &Error) -> StatusCode {
    crate::http::problem::problem(error).status
}

#[derive(Template)]
#[template(path = "pages/access_key.html")]
struct AccessKeyPage<'a> {
    chrome: Chrome<'a>,
    access_key: String,
    problems: Problems,
}

async fn access_key_page(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
) -> Response {
    if !app.config.login.access_key_login {
        return not_found(&app, &pages, page);
    }
    let view = AccessKeyPage {
        chrome: chrome(&app, &pages, &page, "access-key-title"),
        access_key: String::new(),
        problems: Problems::default(),
    };
    let html = html(&view);
    page.render(StatusCode::OK, html, &app)
}

async fn log_in_with_key(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    mut page: PageContext,
    form: Form,
) -> Response {
    let mut view = AccessKeyPage {
        chrome: chrome(&app, &pages, &page, "access-key-title"),
        access_key: form.get("access_key").unwrap_or_default(),
        problems: Problems::default(),
    };
    let outcome =
        match access_keys::KeyLogin::from_json(form.json(&["access_key", "secret_key"], &[])) {
            Ok(request) => access_keys::login(&app, &page.caller, request).await,
            Err(error) => Err(error),
        };
    match outcome {
        Ok(grant) => {
            page.sign_in(&app, &grant);
            after_sign_in(&app, &pages, page)
        }
        Err(error) => {
            view.problems = Problems::of(&error, &view.chrome.t, &page.caller.request_id);
            let html = html(&view);
            page.render(page_status(&error), html, &app)
        }
    }
}

#[derive(Template)]
#[template(path = "pages/signup.html")]
struct SignupPage<'a> {
    chrome: Chrome<'a>,
    closed: bool,
    invitation_needed: bool,
    show_invitation: bool,
    problems: Problems,
    first_name: String,
    last_name: String,
    email: String,
    username: String,
    invitation: String,
    rules: Vec<(&'static str, String, usize, usize)>,
    /// The terms of service and privacy policy, when both are configured.
    legal: Option<(String, String)>,
}

fn signup_view<'a>(app: &'a App, pages: &'a Pages, page: &PageContext) -> SignupPage<'a> {
    let chrome = chrome(app, pages, page, "signup-title");
    let policy = &app.config.passwords.policy;
    let mut rules = vec![(
        "length",
        chrome.t.args(
            "rule-length",
            &[
                ("min", policy.min_length as u64),
                ("max", policy.max_length as u64),
            ],
        ),
        policy.min_length,
        policy.max_length,
    )];
    for (on, rule) in [
        (policy.require_letter, "letter"),
        (policy.require_digit, "digit"),
        (policy.require_special, "special"),
    ] {
        if on {
            rules.push((rule, chrome.t.get(&format!("rule-{rule}")), 0, 0));
        }
    }
    let mode = app.config.signup.mode;
    SignupPage {
        chrome,
        closed: mode == SignupMode::Disabled,
        invitation_needed: mode == SignupMode::Invitation,
        show_invitation: mode == SignupMode::Invitation,
        problems: Problems::default(),
        first_name: String::new(),
        last_name: String::new(),
        email: String::new(),
        username: String::new(),
        invitation: String::new(),
        rules,
        legal: app
            .config
            .ui
            .terms_url
            .as_ref()
            .zip(app.config.ui.privacy_url.as_ref())
            .map(|(terms, privacy)| (terms.to_string(), privacy.to_string())),
    }
}

async fn signup_page(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
    query: Query,
) -> Response {
    let mut view = signup_view(&app, &pages, &page);
    if let Some(invitation) = query.get("invitation").filter(|i| !i.is_empty()) {
        view.invitation = invitation;
        view.show_invitation = true;
        view.invitation_needed = false;
    }
    let status = if view.closed {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::OK
    };
    let html = html(&view);
    page.render(status, html, &app)
}

const SIGNUP_FIELDS: &[&str] = &[
    "email",
    "password",
    "username",
    "first_name",
    "last_name",
    "invitation_token",
];

async fn sign_up(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    mut page: PageContext,
    form: Form,
) -> Response {
    let mut view = signup_view(&app, &pages, &page);
    view.first_name = form.get("first_name").unwrap_or_default();
    view.last_name = form.get("last_name").unwrap_or_default();
    view.email = form.get("email").unwrap_or_default();
    view.username = form.get("username").unwrap_or_default();
    if let Some(invitation) = form.get("invitation_token").filter(|i| !i.is_empty()) {
        view.invitation = invitation;
        view.show_invitation = true;
        view.invitation_needed = false;
    }
    let outcome =
        match signup::SignupRequest::from_json(form.json(SIGNUP_FIELDS, &["accept_terms"])) {
            Ok(request) => signup::signup(&app, &page.caller, request).await,
            Err(error) => Err(error),
        };
    let signed_up = match outcome {
        Ok(signed_up) => signed_up,
        Err(error) => {
            view.problems = Problems::of(&error, &view.chrome.t, &page.caller.request_id);
            let html = html(&view);
            return page.render(page_status(&error), html, &app);
        }
    };
    let t = pages.messages(page.lang);
    match signed_up.status {
        "active" => {
            // Signed in at once: the same password, through the same login flow.
            let request = login::LoginRequest {
                identifier: signed_up.email.clone(),
                password: Secret::new(form.get("password").unwrap_or_default()),
                device_token: None,
            };
            match login::login(&app, &page.caller, request).await {
                Ok(grant) => {
                    page.sign_in(&app, &grant);
                    after_sign_in(&app, &pages, page)
                }
                Err(_) => page.redirect("/login"),
            }
        }
        "pending_approval" => message(
            &app,
            &pages,
            page,
            "signup-waiting-title",
            vec![t.get("signup-waiting")],
            None,
        ),
        _ => message(
            &app,
            &pages,
            page,
            "signup-check-mail-title",
            vec![t.arg("signup-check-mail", "email", signed_up.email.clone())],
            Some(("/login".to_owned(), t.get("login-title"))),
        ),
    }
}

#[derive(Template)]
#[template(path = "pages/message.html")]
struct MessagePage<'a> {
    chrome: Chrome<'a>,
    problems: Problems,
    paragraphs: Vec<String>,
    link: Option<(String, String)>,
}

fn message(
    app: &App,
    pages: &Pages,
    page: PageContext,
    title_id: &str,
    paragraphs: Vec<String>,
    link: Option<(String, String)>,
) -> Response {
    let view = MessagePage {
        chrome: chrome(app, pages, &page, title_id),
        problems: Problems::default(),
        paragraphs,
        link,
    };
    let html = html(&view);
    page.render(StatusCode::OK, html, app)
}

#[derive(Template)]
#[template(path = "pages/continue.html")]
struct ContinuePage<'a> {
    chrome: Chrome<'a>,
    next: String,
}

/// A page that goes on to `next` by itself (and by a link): for a way off the site after a form,
/// which the forms' `form-action 'self'` would stop as a redirect.
fn continue_to(
    app: &App,
    pages: &Pages,
    page: PageContext,
    title_id: &str,
    next: String,
) -> Response {
    let view = ContinuePage {
        chrome: chrome(app, pages, &page, title_id),
        next,
    };
    let html = html(&view);
    page.render(StatusCode::OK, html, app)
}

/// Where a sign-in on the pages leads: to the account page, or back to the app whose
/// authorization request waits for it. That way goes through a page of its own: the form's
/// Content-Security-Policy (`form-action 'self'`) rightly stops a form's redirects from leaving
/// the site, and the app is elsewhere.
fn after_sign_in(app: &App, pages: &Pages, page: PageContext) -> Response {
    match page.pending_authorization() {
        Some((query, _)) => {
            let next = format!("/oauth2/authorize?{query}");
            continue_to(app, pages, page, "oidc-continue-title", next)
        }
        None => page.redirect("/account"),
    }
}

fn not_found(app: &App, pages: &Pages, page: PageContext) -> Response {
    let t = pages.messages(page.lang);
    let view = MessagePage {
        chrome: chrome(app, pages, &page, "not-found-title"),
        problems: Problems::default(),
        paragraphs: vec![t.get("error-not_found")],
        link: Some(("/".to_owned(), t.get("login-back"))),
    };
    let html = html(&view);
    page.render(StatusCode::NOT_FOUND, html, app)
}

#[derive(Template)]
#[template(path = "pages/verify.html")]
struct VerifyPage<'a> {
    chrome: Chrome<'a>,
    problems: Problems,
    token: String,
}

/// Opening the link uses nothing (mail scanners open links): the button does.
async fn verify_page(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
    query: Query,
) -> Response {
    let token = query.get("token").unwrap_or_default();
    if token.is_empty() {
        let t = pages.messages(page.lang);
        return message(
            &app,
            &pages,
            page,
            "verify-title",
            vec![t.get("verify-missing")],
            None,
        );
    }
    let view = VerifyPage {
        chrome: chrome(&app, &pages, &page, "verify-title"),
        problems: Problems::default(),
        token,
    };
    let html = html(&view);
    page.render(StatusCode::OK, html, &app)
}

async fn verify(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
    form: Form,
) -> Response {
    let token = form.get("token").unwrap_or_default();
    let t = pages.messages(page.lang);
    match verification::verify(&app, &page.caller, &token).await {
        Ok(status) => {
            let (text, link) = if status == crate::user::UserStatus::PendingApproval {
                (t.get("verify-done-approval"), None)
            } else {
                (
                    t.get("verify-done"),
                    Some(("/login".to_owned(), t.get("login-title"))),
                )
            };
            message(&app, &pages, page, "verify-done-title", vec![text], link)
        }
        Err(error) => {
            let view = VerifyPage {
                chrome: chrome(&app, &pages, &page, "verify-title"),
                problems: Problems::of(&error, &t, &page.caller.request_id),
                token,
            };
            let html = html(&view);
            page.render(page_status(&error), html, &app)
        }
    }
}

/// "Send the mail again", from the login page: the same answer for every address.
async fn resend(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
    form: Form,
) -> Response {
    let floor = tokio::time::Instant::now() + app.config.mail.response_time;
    let t = pages.messages(page.lang);
    if let Ok(email) = form.json(&["email"], &[]).email("email")
        && let Err(error) = verification::resend(&app, &email).await
    {
        tracing::warn!(%error, "resending a verification mail failed");
    }
    tokio::time::sleep_until(floor).await;
    message(
        &app,
        &pages,
        page,
        "verify-title",
        vec![t.get("resend-verification-sent")],
        Some(("/login".to_owned(), t.get("login-back"))),
    )
}

#[derive(Template)]
#[template(path = "pages/forgot.html")]
struct ForgotPage<'a> {
    chrome: Chrome<'a>,
    problems: Problems,
    email: String,
}

async fn forgot_page(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
) -> Response {
    if !app.config.passwords.reset_enabled {
        let t = pages.messages(page.lang);
        return message(
            &app,
            &pages,
            page,
            "forgot-title",
            vec![t.get("error-password_reset_disabled")],
            None,
        );
    }
    let view = ForgotPage {
        chrome: chrome(&app, &pages, &page, "forgot-title"),
        problems: Problems::default(),
        email: String::new(),
    };
    let html = html(&view);
    page.render(StatusCode::OK, html, &app)
}

/// The same page, in the same time, whether or not the address has an account.
async fn forgot(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
    form: Form,
) -> Response {
    let floor = tokio::time::Instant::now() + app.config.mail.response_time;
    let t = pages.messages(page.lang);
    if !app.config.passwords.reset_enabled {
        return message(
            &app,
            &pages,
            page,
            "forgot-title",
            vec![t.get("error-password_reset_disabled")],
            None,
        );
    }
    let email = match form.json(&["email"], &[]).email("email") {
        Ok(email) => email,
        Err(error) => {
            let view = ForgotPage {
                chrome: chrome(&app, &pages, &page, "forgot-title"),
                problems: Problems::of(&error, &t, &page.caller.request_id),
                email: form.get("email").unwrap_or_default(),
            };
            let html = html(&view);
            return page.render(StatusCode::BAD_REQUEST, html, &app);
        }
    };
    if let Err(error) = password_reset::request(&app, &page.caller, &email).await
        && !matches!(error, Error::RateLimited { .. })
    {
        tracing::warn!(%error, "a reset request failed");
    }
    tokio::time::sleep_until(floor).await;
    message(
        &app,
        &pages,
        page,
        "forgot-sent-title",
        vec![t.get("forgot-sent")],
        Some(("/login".to_owned(), t.get("login-back"))),
    )
}

#[derive(Template)]
#[template(path = "pages/reset.html")]
struct ResetPage<'a> {
    chrome: Chrome<'a>,
    problems: Problems,
    token: String,
}

async fn reset_page(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
    query: Query,
) -> Response {
    let view = ResetPage {
        chrome: chrome(&app, &pages, &page, "reset-title"),
        problems: Problems::default(),
        token: query.get("token").unwrap_or_default(),
    };
    let html = html(&view);
    page.render(StatusCode::OK, html, &app)
}

async fn reset(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    mut page: PageContext,
    form: Form,
) -> Response {
    let t = pages.messages(page.lang);
    let token = form.get("token").unwrap_or_default();
    let new = form.get("new_password").unwrap_or_default();
    let again = form.get("new_password_again").unwrap_or_default();
    let mut problems = same_passwords(&new, &again, "new_password_again", &t);
    if problems.is_empty() {
        match password_reset::confirm(&app, &page.caller, &token, &Secret::new(new)).await {
            Ok(()) => {
                page.sign_out();
                return message(
                    &app,
                    &pages,
                    page,
                    "reset-done-title",
                    vec![t.get("reset-done")],
                    Some(("/login".to_owned(), t.get("login-title"))),
                );
            }
            Err(error) => problems = Problems::of(&error, &t, &page.caller.request_id),
        }
    } else {
        problems.summary = Some(t.get("error-invalid_request"));
    }
    let view = ResetPage {
        chrome: chrome(&app, &pages, &page, "reset-title"),
        problems,
        token,
    };
    let html = html(&view);
    page.render(StatusCode::BAD_REQUEST, html, &app)
}

#[derive(Template)]
#[template(path = "pages/oauth_complete.html")]
struct OauthPage<'a> {
    chrome: Chrome<'a>,
}

async fn oauth_page(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    page: PageContext,
) -> Response {
    let view = OauthPage {
        chrome: chrome(&app, &pages, &page, "oauth-complete-title"),
    };
    let html = html(&view);
    page.render(StatusCode::OK, html, &app)
}

/// The one-time code of a provider sign-in, sent on by the page's script: exchanged here, so the
/// tokens go straight into the page's HttpOnly cookies.
async fn oauth_complete(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    mut page: PageContext,
    form: Form,
) -> Response {
    let code = form.get("code").unwrap_or_default();
    let outcome = if code.is_empty() {
        Err(form
            .get("error")
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "invalid_state".to_owned()))
    } else {
        exchange(&app, &page, &code)
            .await
            .map_err(|e| e.code().to_owned())
    };
    match outcome {
        Ok(grant) => {
            page.sign_in(&app, &grant);
            after_sign_in(&app, &pages, page)
        }
        Err(code) => {
            let t = pages.messages(page.lang);
            let mut view = login_view(&app, &pages, &page);
            let text = t.get(&format!("error-{code}"));
            let text = if text.starts_with("error-") {
                t.get("error-invalid_token")
            } else {
                text
            };
            view.problems.summary = Some(text);
            let html = html(&view);
            page.render(StatusCode::BAD_REQUEST, html, &app)
        }
    }
}

#[cfg(feature = "oauth")]
async fn exchange(
    app: &App,
    page: &PageContext,
    code: &str,
) -> crate::error::Result<crate::flows::grant::TokenGrant> {
    crate::flows::oauth::exchange(app, &page.caller, code, Some(&page.pkce_verifier)).await
}

#[cfg(not(feature = "oauth"))]
async fn exchange(
    _: &App,
    _: &PageContext,
    _: &str,
) -> crate::error::Result<crate::flows::grant::TokenGrant> {
    Err(Error::UnknownProvider)
}

#[derive(Template)]
#[template(path = "pages/account.html")]
struct AccountPage<'a> {
    chrome: Chrome<'a>,
    notice: Option<String>,
    problems: Problems,
    name: String,
    username: String,
    email: String,
    verified: bool,
    sessions: Vec<sessions::SessionView>,
    keys: Vec<access_keys::KeyView>,
    new_key: Option<(String, String)>,
    /// Whether the account has a password (the key form asks for it).
    has_password: bool,
}

/// The account page for `who`, with a notice, problems or a new key to show once.
async fn account_view(
    app: &AppState,
    pages: &Pages,
    page: PageContext,
    who: &Authenticated,
    notice: Option<String>,
    problems: Problems,
    new_key: Option<(String, String)>,
) -> Response {
    let (sessions, keys) = match (
        sessions::list(app, who).await,
        access_keys::list(app, who).await,
    ) {
        (Ok(sessions), Ok(keys)) => (sessions, keys),
        (Err(error), _) | (_, Err(error)) => return error.into_response(),
    };
    let me = me::me(who.user.clone());
    let mut chrome = chrome(app, pages, &page, "account-title");
    chrome.wide = true;
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let view = AccountPage {
        chrome,
        notice,
        problems,
        name: format!("{} {}", me.first_name, me.last_name)
            .trim()
            .to_owned(),
        username: me.username,
        email: me.email,
        verified: me.email_verified,
        sessions,
        keys,
        new_key,
        has_password: who.user.password_hash.is_some(),
    };
    let html = html(&view);
    page.render(status, html, app)
}

async fn account(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    mut page: PageContext,
) -> Response {
    let Some(who) = page.signed_in(&app).await else {
        return page.redirect("/login");
    };
    account_view(&app, &pages, page, &who, None, Problems::default(), None).await
}

async fn change_password(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    mut page: PageContext,
    form: Form,
) -> Response {
    let Some(who) = page.signed_in(&app).await else {
        return page.redirect("/login");
    };
    let t = pages.messages(page.lang);
    let current = form.get("current_password").unwrap_or_default();
    let new = form.get("new_password").unwrap_or_default();
    let again = form.get("new_password_again").unwrap_or_default();
    let mut problems = same_passwords(&new, &again, "new_password_again", &t);
    if current.is_empty() {
        problems
            .fields
            .insert("current_password".into(), vec![t.get("field-required")]);
    }
    if !problems.is_empty() {
        problems.summary = Some(t.get("error-invalid_request"));
        return account_view(&app, &pages, page, &who, None, problems, None).await;
    }
    let user_id = who.user.id.clone();
    let outcome = password_change::change(
        &app,
        &page.caller,
        who,
        &Secret::new(current),
        &Secret::new(new),
        page.device_token().as_deref(),
    )
    .await;
    match outcome {
        Ok(grant) => {
            page.sign_in(&app, &grant);
            let Ok(who) = app.authenticate(grant.access_token.expose()).await else {
                return page.redirect("/login");
            };
            let notice = Some(t.get("account-password-changed"));
            account_view(&app, &pages, page, &who, notice, Problems::default(), None).await
        }
        Err(error) => {
            let problems = Problems::of(&error, &t, &page.caller.request_id);
            let mut problems = problems;
            if matches!(error, Error::InvalidCredentials) {
                problems.fields.insert(
                    "current_password".into(),
                    vec![t.get("error-invalid_credentials")],
                );
            }
            match page.signed_in(&app).await {
                Some(who) if who.user.id == user_id => {
                    account_view(&app, &pages, page, &who, None, problems, None).await
                }
                _ => page.redirect("/login"),
            }
        }
    }
}

async fn end_session(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    mut page: PageContext,
    Path(id): Path<String>,
    _form: Form,
) -> Response {
    let Some(who) = page.signed_in(&app).await else {
        return page.redirect("/login");
    };
    let t = pages.messages(page.lang);
    let (notice, problems) = match sessions::delete(&app, &page.caller, &who, &id).await {
        Ok(()) => (Some(t.get("account-session-ended")), Problems::default()),
        Err(error) => (None, Problems::of(&error, &t, &page.caller.request_id)),
    };
    account_view(&app, &pages, page, &who, notice, problems, None).await
}

async fn end_all_sessions(
    State(app): State<AppState>,
    mut page: PageContext,
    _form: Form,
) -> Response {
    if let Some(who) = page.signed_in(&app).await
        && let Err(error) = sessions::logout_with_bearer(&app, &page.caller, &who, true).await
    {
        return error.into_response();
    }
    page.sign_out();
    page.redirect("/login")
}

async fn create_key(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    mut page: PageContext,
    form: Form,
) -> Response {
    let Some(who) = page.signed_in(&app).await else {
        return page.redirect("/login");
    };
    let t = pages.messages(page.lang);
    let password = form.get("key_password").unwrap_or_default();
    if password.is_empty() && who.user.password_hash.is_some() {
        let problems = Problems::field("key_password", t.get("field-required"));
        return account_view(&app, &pages, page, &who, None, problems, None).await;
    }
    let request = access_keys::NewKey {
        current_password: Some(Secret::new(password)),
        device_token: page.device_token(),
        expires_in: None,
    };
    match access_keys::create(&app, &page.caller, &who, request).await {
        Ok(created) => {
            let new_key = Some((
                created.access_key.clone(),
                created.secret_key.expose().to_owned(),
            ));
            account_view(&app, &pages, page, &who, None, Problems::default(), new_key).await
        }
        Err(error) => {
            let mut problems = Problems::of(&error, &t, &page.caller.request_id);
            // The flow names `current_password`; on this page the key form's field is its own.
            if let Some(messages) = problems.fields.remove("current_password") {
                problems.fields.insert("key_password".into(), messages);
            }
            if matches!(error, Error::InvalidCredentials) {
                problems.fields.insert(
                    "key_password".into(),
                    vec![t.get("error-invalid_credentials")],
                );
            }
            account_view(&app, &pages, page, &who, None, problems, None).await
        }
    }
}

async fn delete_key(
    State(app): State<AppState>,
    Extension(pages): PagesExt,
    mut page: PageContext,
    Path(id): Path<String>,
    _form: Form,
) -> Response {
    let Some(who) = page.signed_in(&app).await else {
        return page.redirect("/login");
    };
    let t = pages.messages(page.lang);
    let (notice, problems) = match access_keys::delete(&app, &page.caller, &who, &id).await {
        Ok(()) => (Some(t.get("account-key-deleted")), Problems::default()),
        Err(error) => (None, Problems::of(&error, &t, &page.caller.request_id)),
    };
    account_view(&app, &pages, page, &who, notice, problems, None).await
}

async fn log_out(State(app): State<AppState>, mut page: PageContext, _form: Form) -> Response {
    if let Some(who) = page.signed_in(&app).await
        && let Err(error) = sessions::logout_with_bearer(&app, &page.caller, &who, false).await
    {
        tracing::warn!(%error, "logging out failed");
    }
    page.sign_out();
    page.redirect("/login")
}

/// The stylesheet and script, under names that change with their content: cached for a year.
async fn asset(Extension(pages): PagesExt, uri: Uri) -> Response {
    match pages.asset(uri.path()) {
        Some((content_type, body)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            body,
        )
            .into_response(),
        None => Error::NotFound.into_response(),
    }
}
