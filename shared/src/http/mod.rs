//! HTTP mapping: one router for every function. A Lambda function serves its own routes through
//! `handle(app, Function::Login, request)`; `portcullis serve` serves them all with
//! `Function::Local`. No flow is implemented twice.

mod json;
pub mod problem;

use std::time::Instant;

use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt as _, Response};
use serde::Serialize;
use tracing::Instrument as _;

pub use json::{JsonBody, body_bytes};

use crate::app::{App, Authenticated};
use crate::email::Email;
use crate::error::{Error, FieldErrors, Result};
use crate::secret::Secret;
use crate::store::{EventQuery, UserQuery};
use crate::user::UserStatus;
use crate::{
    access_keys, admin, discovery, invitations, login, me, oauth, password_change, password_reset,
    sessions, signup, verification,
};

/// Request bodies over this many bytes get 413.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The Lambda functions, each serving a group of routes; `Local` serves every route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Signup,
    Login,
    VerifyEmail,
    ResetRequest,
    ResetConfirm,
    ChangePassword,
    Session,
    Discovery,
    Admin,
    OauthCallback,
    Local,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Signup,
    UsernameSuggestion,
    Login,
    VerifyEmail,
    ResendVerification,
    ResetRequest,
    ResetConfirm,
    ChangePassword,
    Refresh,
    Logout,
    Sessions,
    DeleteSession,
    Me,
    Config,
    Health,
    OpenIdConfiguration,
    Jwks,
    AccessKeyLogin,
    CreateAccessKey,
    AccessKeys,
    DeleteAccessKey,
    AdminUsers,
    AdminUser,
    AdminUpdateUser,
    AdminDeleteUser,
    AdminApprove,
    AdminUnlock,
    AdminCreateInvitation,
    AdminInvitations,
    AdminDeleteInvitation,
    AdminAudit,
    OauthAuthorize,
    OauthCallback,
    OauthExchange,
}

/// Requests per client IP are counted per group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateGroup {
    Signup,
    Login,
    /// Routes that send mail.
    Mail,
    /// Routes that take a token.
    Token,
}

impl RateGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            RateGroup::Signup => "signup",
            RateGroup::Login => "login",
            RateGroup::Mail => "mail",
            RateGroup::Token => "token",
        }
    }
}

/// (path, method, route, function)
const ROUTES: &[(&str, Method, Route, Function)] = &[
    ("/v1/signup", Method::POST, Route::Signup, Function::Signup),
    (
        "/v1/username-suggestion",
        Method::GET,
        Route::UsernameSuggestion,
        Function::Signup,
    ),
    ("/v1/login", Method::POST, Route::Login, Function::Login),
    (
        "/v1/verify-email",
        Method::POST,
        Route::VerifyEmail,
        Function::VerifyEmail,
    ),
    (
        "/v1/verify-email/resend",
        Method::POST,
        Route::ResendVerification,
        Function::VerifyEmail,
    ),
    (
        "/v1/password/reset-request",
        Method::POST,
        Route::ResetRequest,
        Function::ResetRequest,
    ),
    (
        "/v1/password/reset-confirm",
        Method::POST,
        Route::ResetConfirm,
        Function::ResetConfirm,
    ),
    (
        "/v1/password/change",
        Method::POST,
        Route::ChangePassword,
        Function::ChangePassword,
    ),
    ("/v1/me", Method::GET, Route::Me, Function::Session),
    (
        "/v1/token/refresh",
        Method::POST,
        Route::Refresh,
        Function::Session,
    ),
    ("/v1/logout", Method::POST, Route::Logout, Function::Session),
    (
        "/v1/sessions",
        Method::GET,
        Route::Sessions,
        Function::Session,
    ),
    (
        "/v1/sessions/{id}",
        Method::DELETE,
        Route::DeleteSession,
        Function::Session,
    ),
    (
        "/v1/config",
        Method::GET,
        Route::Config,
        Function::Discovery,
    ),
    (
        "/v1/health",
        Method::GET,
        Route::Health,
        Function::Discovery,
    ),
    (
        "/.well-known/openid-configuration",
        Method::GET,
        Route::OpenIdConfiguration,
        Function::Discovery,
    ),
    (
        "/.well-known/jwks.json",
        Method::GET,
        Route::Jwks,
        Function::Discovery,
    ),
    (
        "/v1/login/access-key",
        Method::POST,
        Route::AccessKeyLogin,
        Function::Login,
    ),
    (
        "/v1/access-keys",
        Method::POST,
        Route::CreateAccessKey,
        Function::Admin,
    ),
    (
        "/v1/access-keys",
        Method::GET,
        Route::AccessKeys,
        Function::Admin,
    ),
    (
        "/v1/access-keys/{id}",
        Method::DELETE,
        Route::DeleteAccessKey,
        Function::Admin,
    ),
    (
        "/v1/admin/users",
        Method::GET,
        Route::AdminUsers,
        Function::Admin,
    ),
    (
        "/v1/admin/users/{id}",
        Method::GET,
        Route::AdminUser,
        Function::Admin,
    ),
    (
        "/v1/admin/users/{id}",
        Method::PATCH,
        Route::AdminUpdateUser,
        Function::Admin,
    ),
    (
        "/v1/admin/users/{id}",
        Method::DELETE,
        Route::AdminDeleteUser,
        Function::Admin,
    ),
    (
        "/v1/admin/users/{id}/approve",
        Method::POST,
        Route::AdminApprove,
        Function::Admin,
    ),
    (
        "/v1/admin/users/{id}/unlock",
        Method::POST,
        Route::AdminUnlock,
        Function::Admin,
    ),
    (
        "/v1/admin/invitations",
        Method::POST,
        Route::AdminCreateInvitation,
        Function::Admin,
    ),
    (
        "/v1/admin/invitations",
        Method::GET,
        Route::AdminInvitations,
        Function::Admin,
    ),
    (
        "/v1/admin/invitations/{id}",
        Method::DELETE,
        Route::AdminDeleteInvitation,
        Function::Admin,
    ),
    (
        "/v1/admin/audit",
        Method::GET,
        Route::AdminAudit,
        Function::Admin,
    ),
    (
        "/v1/oauth/{provider}/authorize",
        Method::GET,
        Route::OauthAuthorize,
        Function::OauthCallback,
    ),
    (
        "/v1/oauth/{provider}/callback",
        Method::GET,
        Route::OauthCallback,
        Function::OauthCallback,
    ),
    (
        "/v1/oauth/exchange",
        Method::POST,
        Route::OauthExchange,
        Function::OauthCallback,
    ),
];

fn find_route(function: Function, method: &Method, path: &str) -> Result<Route> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let mut path_known = false;
    for (route_path, route_method, route, owner) in ROUTES {
        if !path_matches(route_path, path) || (function != Function::Local && function != *owner) {
            continue;
        }
        path_known = true;
        if route_method == method {
            return Ok(*route);
        }
    }
    Err(if path_known {
        Error::MethodNotAllowed
    } else {
        Error::NotFound
    })
}

/// `/v1/sessions/{id}` matches `/v1/sessions/<one segment>`: a `{name}` segment matches any one
/// non-empty segment, every other segment only itself.
fn path_matches(pattern: &str, path: &str) -> bool {
    let mut expected = pattern.split('/');
    let mut actual = path.split('/');
    loop {
        match (expected.next(), actual.next()) {
            (None, None) => return true,
            (Some(want), Some(got)) if want.starts_with('{') => {
                if got.is_empty() {
                    return false;
                }
            }
            (Some(want), Some(got)) if want == got => {}
            _ => return false,
        }
    }
}

/// The segment of the path at `index` (0 is the empty one before the first `/`).
fn path_segment(request: &Request, index: usize) -> &str {
    request
        .uri()
        .path()
        .split('/')
        .nth(index)
        .unwrap_or_default()
}

/// The longest id a path or query may name; anything longer names nothing (and never reaches
/// the store, whose keys have size limits).
const MAX_ID_LENGTH: usize = 128;

/// The `{id}` segment of the request's path (its route has one). Ids are uuids, hex digests and
/// access keys: nothing that needs decoding, and anything else simply names nothing.
fn path_id(request: &Request) -> String {
    let path = request.uri().path().trim_end_matches('/');
    ROUTES
        .iter()
        .find(|(pattern, ..)| pattern.contains("{id}") && path_matches(pattern, path))
        .and_then(|(pattern, ..)| {
            let index = pattern.split('/').position(|s| s == "{id}")?;
            path.split('/').nth(index)
        })
        .filter(|id| id.len() <= MAX_ID_LENGTH)
        .unwrap_or_default()
        .to_owned()
}

impl Route {
    fn rate_group(self) -> Option<RateGroup> {
        match self {
            Route::Signup | Route::UsernameSuggestion => Some(RateGroup::Signup),
            Route::Login
            | Route::ChangePassword
            | Route::AccessKeyLogin
            | Route::OauthAuthorize
            | Route::OauthCallback
            | Route::OauthExchange => Some(RateGroup::Login),
            Route::ResendVerification | Route::ResetRequest => Some(RateGroup::Mail),
            Route::VerifyEmail | Route::ResetConfirm | Route::Refresh => Some(RateGroup::Token),
            Route::Logout | Route::Sessions | Route::DeleteSession => None,
            Route::CreateAccessKey
            | Route::AccessKeys
            | Route::DeleteAccessKey
            | Route::AdminUsers
            | Route::AdminUser
            | Route::AdminUpdateUser
            | Route::AdminDeleteUser
            | Route::AdminApprove
            | Route::AdminUnlock
            | Route::AdminCreateInvitation
            | Route::AdminInvitations
            | Route::AdminDeleteInvitation
            | Route::AdminAudit => None,
            Route::Me
            | Route::Config
            | Route::Health
            | Route::OpenIdConfiguration
            | Route::Jwks => None,
        }
    }

    /// Routes whose answer must take the same time whether or not a mail went out.
    fn answers_in_constant_time(self) -> bool {
        matches!(self, Route::ResendVerification | Route::ResetRequest)
    }
}

/// Who is asking: what the flows may record about a request, and its id for the logs.
#[derive(Clone, Debug)]
pub struct Caller {
    pub request_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Caller {
    pub fn of(request: &Request) -> Caller {
        let (context_id, ip) = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => {
                (context.request_id.clone(), context.http.source_ip.clone())
            }
            _ => (None, None),
        };
        let request_id = context_id
            .or_else(|| request.lambda_context_ref().map(|c| c.request_id.clone()))
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let user_agent = request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(256).collect());
        Caller {
            request_id,
            ip,
            user_agent,
        }
    }
}

/// Serves one request for `function`: routing, rate limits, the flow, and the mapping of its
/// outcome to a response. Never fails: errors become problem+json.
pub async fn handle(app: &App, function: Function, request: Request) -> Response<Body> {
    let caller = Caller::of(&request);
    let span = tracing::info_span!(
        "request",
        request_id = %caller.request_id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    async move {
        let started = Instant::now();
        app.reload_keys_if_due().await;
        let mut response = match dispatch(app, function, &caller, &request).await {
            Ok(response) => response,
            Err(error) => {
                let problem = problem::problem(&error);
                if let Some(cause) = problem.cause {
                    tracing::error!(code = problem.code, cause = %cause, "request failed");
                }
                problem.into_response(&caller.request_id)
            }
        };
        if let Ok(id) = HeaderValue::from_str(&caller.request_id) {
            response.headers_mut().insert("x-request-id", id);
        }
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request"
        );
        response
    }
    .instrument(span)
    .await
}

async fn dispatch(
    app: &App,
    function: Function,
    caller: &Caller,
    request: &Request,
) -> Result<Response<Body>> {
    if body_bytes(request).len() > MAX_BODY_BYTES {
        return Err(Error::PayloadTooLarge);
    }
    let route = find_route(function, request.method(), request.uri().path())?;
    if let Some(group) = route.rate_group() {
        app.check_ip_rate(group, caller).await?;
    }
    if route.answers_in_constant_time() {
        let floor = tokio::time::Instant::now() + app.config.mail_response_time;
        let response = serve(app, route, caller, request).await;
        if response
            .as_ref()
            .is_ok_and(|r| r.status() == StatusCode::ACCEPTED)
        {
            tokio::time::sleep_until(floor).await;
        }
        return response;
    }
    serve(app, route, caller, request).await
}

/// A body with one required `email` field, validated.
fn email_body(request: &Request) -> Result<Email> {
    let mut body = JsonBody::parse(request)?;
    let email = body.string("email", true);
    let email = email.and_then(|e| match Email::parse(&e) {
        Ok(email) => Some(email),
        Err(message) => {
            body.error("email", message);
            None
        }
    });
    body.finish()?;
    email.ok_or_else(|| Error::internal("a missing field was not reported"))
}

async fn serve(
    app: &App,
    route: Route,
    caller: &Caller,
    request: &Request,
) -> Result<Response<Body>> {
    match route {
        Route::Signup => {
            let signed_up = signup::signup(
                app,
                caller,
                signup::SignupRequest::from_json(JsonBody::parse(request)?)?,
            )
            .await?;
            json(StatusCode::CREATED, &signed_up)
        }
        Route::UsernameSuggestion => {
            let email = query_param(request, "email").unwrap_or_default();
            let username = signup::suggest_username(app, &email).await?;
            json(StatusCode::OK, &serde_json::json!({ "username": username }))
        }
        Route::Login => {
            let grant = login::login(
                app,
                caller,
                login::LoginRequest::from_json(JsonBody::parse(request)?)?,
            )
            .await?;
            tokens(&grant)
        }
        Route::VerifyEmail => {
            let mut body = JsonBody::parse(request)?;
            let token = body.string("token", true);
            body.finish()?;
            let status =
                verification::verify(app, caller, token.as_deref().unwrap_or_default()).await?;
            json(
                StatusCode::OK,
                &serde_json::json!({ "status": status.as_str() }),
            )
        }
        Route::ResendVerification => {
            verification::resend(app, &email_body(request)?).await?;
            accepted()
        }
        Route::ResetRequest => {
            if !app.config.password_reset_enabled {
                return Err(Error::PasswordResetDisabled);
            }
            password_reset::request(app, caller, &email_body(request)?).await?;
            accepted()
        }
        Route::ResetConfirm => {
            let mut body = JsonBody::parse(request)?;
            let token = body.string("token", true);
            let password = body.secret("new_password", true);
            body.finish()?;
            let (Some(token), Some(password)) = (token, password) else {
                return Err(Error::internal("a missing field was not reported"));
            };
            password_reset::confirm(app, caller, &token, &password).await?;
            json(StatusCode::OK, &serde_json::json!({}))
        }
        Route::ChangePassword => {
            let who = app.authenticate(bearer(request)?).await?;
            let mut body = JsonBody::parse(request)?;
            let current = body.secret("current_password", true);
            let new = body.secret("new_password", true);
            body.finish()?;
            let (Some(current), Some(new)) = (current, new) else {
                return Err(Error::internal("a missing field was not reported"));
            };
            tokens(&password_change::change(app, caller, who, &current, &new).await?)
        }
        Route::Me => {
            let who = app.authenticate(bearer(request)?).await?;
            json(StatusCode::OK, &me::me(who.user))
        }
        Route::Refresh => {
            let mut body = JsonBody::parse(request)?;
            let token = body.secret("refresh_token", true);
            body.finish()?;
            let token = token.ok_or_else(|| Error::internal("a missing field was not reported"))?;
            tokens(&sessions::refresh(app, caller, &token).await?)
        }
        Route::Logout => {
            if request.headers().contains_key(header::AUTHORIZATION) {
                let who = app.authenticate(bearer(request)?).await?;
                let global = if body_bytes(request).is_empty() {
                    false
                } else {
                    let mut body = JsonBody::parse(request)?;
                    let scope = body.string("scope", false);
                    let global = match scope.as_deref() {
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
                sessions::logout_with_bearer(app, &who, global).await?;
            } else {
                let mut body = JsonBody::parse(request)?;
                let token = body.secret("refresh_token", true);
                body.finish()?;
                let token =
                    token.ok_or_else(|| Error::internal("a missing field was not reported"))?;
                sessions::logout_with_refresh(app, &token).await?;
            }
            no_content()
        }
        Route::Sessions => {
            let who = app.authenticate(bearer(request)?).await?;
            let list = sessions::list(app, &who).await?;
            json(StatusCode::OK, &serde_json::json!({ "sessions": list }))
        }
        Route::DeleteSession => {
            let who = app.authenticate(bearer(request)?).await?;
            sessions::delete(app, &who, &path_id(request)).await?;
            no_content()
        }
        Route::Config => json(StatusCode::OK, &discovery::client_config(&app.config)),
        Route::Health => json(StatusCode::OK, &serde_json::json!({ "status": "ok" })),
        Route::OpenIdConfiguration => {
            cacheable(json(StatusCode::OK, &discovery::openid_configuration(app)))
        }
        Route::Jwks => cacheable(json(StatusCode::OK, &app.keys().jwks())),
        Route::AccessKeyLogin => {
            let request = access_keys::KeyLogin::from_json(JsonBody::parse(request)?)?;
            tokens(&access_keys::login(app, caller, request).await?)
        }
        Route::CreateAccessKey => {
            let who = app.authenticate(bearer(request)?).await?;
            let created = access_keys::create(app, caller, &who).await?;
            json(StatusCode::CREATED, &created)
        }
        Route::AccessKeys => {
            let who = app.authenticate(bearer(request)?).await?;
            let keys = access_keys::list(app, &who).await?;
            json(StatusCode::OK, &serde_json::json!({ "access_keys": keys }))
        }
        Route::DeleteAccessKey => {
            let who = app.authenticate(bearer(request)?).await?;
            access_keys::delete(app, caller, &who, &path_id(request)).await?;
            no_content()
        }
        Route::OauthAuthorize => {
            // `/v1/oauth/{provider}/authorize`
            let provider = path_segment(request, 3);
            let return_to = query_param(request, "return_to");
            let invitation = query_param(request, "invitation")
                .filter(|i| !i.trim().is_empty())
                .map(Secret::new);
            redirect(&oauth::authorize(app, provider, return_to.as_deref(), invitation).await?)
        }
        Route::OauthCallback => {
            let query = oauth::CallbackQuery {
                code: query_param(request, "code").map(Secret::new),
                state: query_param(request, "state").map(Secret::new),
                error: query_param(request, "error"),
                iss: query_param(request, "iss"),
            };
            let cookie = cookie(request, oauth::STATE_COOKIE).map(Secret::new);
            redirect(&oauth::callback(app, caller, path_segment(request, 3), query, cookie).await?)
        }
        Route::OauthExchange => {
            let mut body = JsonBody::parse(request)?;
            let code = body.secret("code", true);
            body.finish()?;
            let code = code.ok_or_else(|| Error::internal("a missing field was not reported"))?;
            tokens(&oauth::exchange(app, caller, code.expose()).await?)
        }
        Route::AdminUsers
        | Route::AdminUser
        | Route::AdminUpdateUser
        | Route::AdminDeleteUser
        | Route::AdminApprove
        | Route::AdminUnlock
        | Route::AdminCreateInvitation
        | Route::AdminInvitations
        | Route::AdminDeleteInvitation
        | Route::AdminAudit => {
            let who = app.authenticate(bearer(request)?).await?;
            admin::require_admin(&who)?;
            serve_admin(app, route, caller, &who, request).await
        }
    }
}

/// The admin routes, once the caller is known to be an active admin.
async fn serve_admin(
    app: &App,
    route: Route,
    caller: &Caller,
    who: &Authenticated,
    request: &Request,
) -> Result<Response<Body>> {
    match route {
        Route::AdminUsers => {
            let mut errors = FieldErrors::default();
            let limit = admin::page_params(query_param(request, "limit").as_deref(), &mut errors);
            let status = query_param(request, "status").and_then(|s| {
                let parsed = UserStatus::parse(&s);
                if parsed.is_none() {
                    errors.add(
                        "status",
                        "must be pending_verification, pending_approval, active or disabled",
                    );
                }
                parsed
            });
            let prefix = query_param(request, "q")
                .map(|q| q.trim().to_lowercase())
                .filter(|q| !q.is_empty());
            if prefix.as_ref().is_some_and(|q| q.chars().count() > 254) {
                errors.add("q", "must be at most 254 characters");
            }
            errors.into_result()?;
            let query = UserQuery {
                prefix,
                status,
                limit,
                cursor: query_param(request, "cursor"),
            };
            json(StatusCode::OK, &admin::list_users(app, query).await?)
        }
        Route::AdminUser => json(
            StatusCode::OK,
            &admin::get_user(app, &path_id(request)).await?,
        ),
        Route::AdminUpdateUser => {
            let update = admin::parse_update(JsonBody::parse(request)?)?;
            let user = admin::update_user(app, caller, who, &path_id(request), update).await?;
            json(StatusCode::OK, &user)
        }
        Route::AdminDeleteUser => {
            admin::delete_user(app, caller, who, &path_id(request)).await?;
            no_content()
        }
        Route::AdminApprove => {
            let user = admin::approve(app, caller, who, &path_id(request)).await?;
            json(StatusCode::OK, &user)
        }
        Route::AdminUnlock => {
            let user = admin::unlock(app, caller, who, &path_id(request)).await?;
            json(StatusCode::OK, &user)
        }
        Route::AdminCreateInvitation => {
            let new = admin::parse_invitation(JsonBody::parse(request)?)?;
            let created = admin::create_invitation(app, caller, who, new).await?;
            json(StatusCode::CREATED, &created)
        }
        Route::AdminInvitations => {
            let list = invitations::list(app).await?;
            json(StatusCode::OK, &serde_json::json!({ "invitations": list }))
        }
        Route::AdminDeleteInvitation => {
            admin::delete_invitation(app, caller, who, &path_id(request)).await?;
            no_content()
        }
        Route::AdminAudit => {
            let mut errors = FieldErrors::default();
            let limit = admin::page_params(query_param(request, "limit").as_deref(), &mut errors);
            let user_id = query_param(request, "user_id").filter(|id| !id.is_empty());
            if user_id.as_ref().is_some_and(|id| id.len() > MAX_ID_LENGTH) {
                errors.add(
                    "user_id",
                    format!("must be at most {MAX_ID_LENGTH} characters"),
                );
            }
            errors.into_result()?;
            let query = EventQuery {
                user_id,
                limit,
                cursor: query_param(request, "cursor"),
            };
            json(StatusCode::OK, &admin::events(app, query).await?)
        }
        _ => Err(Error::internal("not an admin route")),
    }
}

/// The value of the cookie `name`, from the `Cookie` header (lambda_http joins API Gateway's
/// `cookies` array into it).
fn cookie(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// A 302 for the browser; the location may carry a one-time code in its fragment, so nothing
/// keeps it and no `Referer` repeats the callback's query.
fn redirect(to: &oauth::Redirect) -> Result<Response<Body>> {
    let mut response = Response::builder();
    if let Some(cookie) = &to.set_cookie {
        response = response.header(header::SET_COOKIE, cookie);
    }
    response
        .status(StatusCode::FOUND)
        .header(header::LOCATION, &to.location)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::REFERRER_POLICY, "no-referrer")
        .body(Body::Empty)
        .map_err(Error::internal)
}

fn query_param(request: &Request, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The Bearer token of the request, or 401.
fn bearer(request: &Request) -> Result<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(Error::Unauthorized)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(Error::Unauthorized)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(Error::Unauthorized);
    }
    Ok(token.trim())
}

pub fn json(status: StatusCode, value: &impl Serialize) -> Result<Response<Body>> {
    let body = serde_json::to_string(value).map_err(Error::internal)?;
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Text(body))
        .map_err(Error::internal)
}

fn no_content() -> Result<Response<Body>> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Empty)
        .map_err(Error::internal)
}

/// 202 with an empty JSON object: "if that address has an account, a mail is on its way".
fn accepted() -> Result<Response<Body>> {
    json(StatusCode::ACCEPTED, &serde_json::json!({}))
}

/// A response that carries tokens: never cached anywhere.
fn tokens(value: &impl Serialize) -> Result<Response<Body>> {
    json(StatusCode::OK, value)
}

/// Discovery documents: shared caches may keep them a few minutes.
fn cacheable(response: Result<Response<Body>>) -> Result<Response<Body>> {
    let mut response = response?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_belong_to_their_function() {
        assert_eq!(
            find_route(Function::Login, &Method::POST, "/v1/login").unwrap(),
            Route::Login
        );
        assert_eq!(
            find_route(Function::Local, &Method::POST, "/v1/login/").unwrap(),
            Route::Login
        );
        assert!(matches!(
            find_route(Function::Signup, &Method::POST, "/v1/login"),
            Err(Error::NotFound)
        ));
        assert!(matches!(
            find_route(Function::Local, &Method::GET, "/v1/login"),
            Err(Error::MethodNotAllowed)
        ));
        assert!(matches!(
            find_route(Function::Local, &Method::GET, "/v1/nope"),
            Err(Error::NotFound)
        ));
        assert_eq!(
            find_route(
                Function::OauthCallback,
                &Method::GET,
                "/v1/oauth/github/callback"
            )
            .unwrap(),
            Route::OauthCallback
        );
        for path in [
            "/v1/oauth//callback",
            "/v1/oauth/github/callback/x",
            "/v1/oauth/callback",
            "/v1/sessions/a/b",
        ] {
            assert!(
                matches!(
                    find_route(Function::Local, &Method::GET, path),
                    Err(Error::NotFound)
                ),
                "{path}"
            );
        }
    }

    #[test]
    fn every_route_has_a_function_that_serves_it() {
        for (path, method, route, owner) in ROUTES {
            let path = path
                .replace("{id}", "some-id")
                .replace("{provider}", "google");
            assert_eq!(find_route(*owner, method, &path).unwrap(), *route);
        }
    }
}
