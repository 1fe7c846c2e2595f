//! What every hosted page shares: the message catalogs (English and Korean), the page's own
//! session in HttpOnly cookies, protection of every form against cross-site request forgery, the
//! strict Content-Security-Policy, and the stylesheet and script under cache-busting names.
//!
//! Pages call the flows directly, as the JSON routes do; a form's field names are the API's, so
//! a flow's field errors land next to the field that caused them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use rand::RngCore as _;
use subtle::ConstantTimeEq as _;

use super::AppState;
use crate::app::{App, Authenticated};
use crate::caller::Caller;
use crate::clock::UnixTime;
use crate::error::Error;
use crate::flows::grant::TokenGrant;
use crate::flows::sessions;
use crate::secret::Secret;

/// The page session: a short-lived access token and the refresh token, both HttpOnly.
pub const ACCESS_COOKIE: &str = "pc_at";
pub const REFRESH_COOKIE: &str = "pc_rt";
/// The anti-forgery token every form repeats.
pub const CSRF_COOKIE: &str = "pc_csrf";
/// The language the person chose.
pub const LANG_COOKIE: &str = "pc_lang";
/// The PKCE verifier of the pages' own Google and GitHub sign-ins: the provider links carry its
/// challenge, and the exchange answers with it, so a code from someone else's sign-in is refused.
pub const PKCE_COOKIE: &str = "pc_pkce";
/// The OpenID authorization request waiting while the person signs in.
pub const AUTHORIZE_COOKIE: &str = "pc_authz";
/// The device token of the account this browser last signed in to with its password: its wrong
/// passwords count apart from strangers' (`login::Counter`). It outlives signing out.
pub const DEVICE_COOKIE: &str = "pc_device";

/// How long a waiting authorization request is kept: long enough to sign up and confirm the
/// address on the way.
const AUTHORIZE_COOKIE_SECONDS: i64 = 30 * 60;

/// The languages of the pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Ko,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ko];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }

    fn parse(value: &str) -> Option<Lang> {
        match value.trim().to_ascii_lowercase().split(['-', '_']).next()? {
            "en" => Some(Lang::En),
            "ko" => Some(Lang::Ko),
            _ => None,
        }
    }

    /// The first language of `Accept-Language` the pages speak, by the order of its `q`s.
    fn from_accept_language(value: &str) -> Option<Lang> {
        let mut ranked: Vec<(f32, Lang)> = value
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let lang = Lang::parse(pieces.next()?)?;
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(1.0);
                Some((q, lang))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map(|(_, lang)| *lang)
    }
}

type Bundle = FluentBundle<FluentResource>;

/// The message catalogs and the asset names: built once per process.
pub struct Pages {
    en: Bundle,
    ko: Bundle,
    pub css_path: String,
    pub js_path: String,
    /// The stylesheet with the configured accent colour at its end.
    css: String,
    js: &'static str,
}

const CSS: &str = include_str!("../../assets/portcullis.css");
const JS: &str = include_str!("../../assets/portcullis.js");

fn bundle(lang: &str, source: &'static str) -> Bundle {
    let resource = FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("the {lang} catalog does not parse: {errors:?}"));
    let id = lang.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around arguments: the pages are HTML, not bidirectional text.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("the {lang} catalog repeats a message: {errors:?}"));
    bundle
}

/// `name-<first 10 hex of its SHA-256>.ext`: a new name whenever the content changes.
fn busted(name: &str, ext: &str, content: &str) -> String {
    let digest = crate::tokens::digest(content);
    format!("/assets/{name}-{}.{ext}", &digest[..10])
}

impl Pages {
    pub fn new(app: &App) -> Pages {
        let css = format!(
            "{CSS}:root {{ --accent: {}; }}\n",
            app.config.ui.accent_color
        );
        Pages {
            en: bundle("en", include_str!("../../i18n/en.ftl")),
            ko: bundle("ko", include_str!("../../i18n/ko.ftl")),
            css_path: busted("portcullis", "css", &css),
            js_path: busted("portcullis", "js", JS),
            css,
            js: JS,
        }
    }

    pub fn messages(&self, lang: Lang) -> Messages<'_> {
        Messages {
            bundle: match lang {
                Lang::En => &self.en,
                Lang::Ko => &self.ko,
            },
            lang,
        }
    }

    /// The asset at `path`, if it is one of ours (any other name is 404).
    pub fn asset(&self, path: &str) -> Option<(&'static str, String)> {
        if path == self.css_path {
            Some(("text/css; charset=utf-8", self.css.clone()))
        } else if path == self.js_path {
            Some(("text/javascript; charset=utf-8", self.js.to_owned()))
        } else {
            None
        }
    }
}

/// One language's messages, as templates use them: `t.get("login-title")`.
#[derive(Clone, Copy)]
pub struct Messages<'a> {
    bundle: &'a Bundle,
    pub lang: Lang,
}

impl Messages<'_> {
    pub fn get(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// A message with one argument: `t.arg("error-account_locked", "minutes", 20)`.
    pub fn arg(&self, id: &str, name: &str, value: impl Into<FluentValue<'static>>) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), value.into());
        self.format(id, Some(&args))
    }

    /// A message with several whole-number arguments.
    pub fn args(&self, id: &str, values: &[(&str, u64)]) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in values {
            args.set((*name).to_owned(), *value);
        }
        self.format(id, Some(&args))
    }

    fn format(&self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        let Some(pattern) = self.bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_owned();
        };
        let mut errors = Vec::new();
        self.bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }

    /// The sentence for an error, by its code.
    pub fn error(&self, error: &Error, request_id: &str) -> String {
        match error {
            Error::AccountLocked { retry_after } => self.arg(
                "error-account_locked",
                "minutes",
                retry_after.div_ceil(60).max(1),
            ),
            Error::Internal(_) => self.arg("error-internal", "request_id", request_id.to_owned()),
            other => self.get(&format!("error-{}", other.code())),
        }
    }

    /// A flow's message about a field, in this language when the catalog knows it.
    pub fn field(&self, message: &str) -> String {
        let number = |prefix: &str| {
            message
                .strip_prefix(prefix)?
                .strip_suffix(" characters")?
                .parse::<u64>()
                .ok()
        };
        if let Some(n) = number("must be at least ") {
            return self.arg("field-min-length", "n", n);
        }
        if let Some(n) = number("must be at most ") {
            return self.arg("field-max-length", "n", n);
        }
        let id = match message {
            "is required" => "field-required",
            "must be accepted" => "field-accepted",
            "must be a valid email address" => "field-email",
            "is too common" => "field-too-common",
            "must contain a letter" => "field-letter",
            "must contain a digit" => "field-digit",
            "must contain a special character" => "field-special",
            "must not contain your username" => "field-no-username",
            "must not contain your email address" => "field-no-email",
            "must not be empty" => "field-not-empty",
            other => return other.to_owned(),
        };
        self.get(id)
    }
}

/// What went wrong on a form: one sentence for the summary, and messages per field.
#[derive(Default)]
pub struct Problems {
    pub summary: Option<String>,
    pub fields: BTreeMap<String, Vec<String>>,
}

impl Problems {
    pub fn of(error: &Error, t: &Messages<'_>, request_id: &str) -> Problems {
        let mut problems = Problems {
            summary: Some(t.error(error, request_id)),
            fields: BTreeMap::new(),
        };
        let mut add = |field: &str, message: &str| {
            problems
                .fields
                .entry(field.to_owned())
                .or_default()
                .push(t.field(message));
        };
        match error {
            Error::InvalidRequest { errors, .. } => {
                for (field, messages) in errors.iter() {
                    for message in messages {
                        add(field, message);
                    }
                }
            }
            Error::WeakPassword { field, problems } => {
                for message in problems {
                    add(field, message);
                }
            }
            Error::EmailTaken => add("email", &t.get("error-email_taken")),
            Error::UsernameTaken => add("username", &t.get("error-username_taken")),
            _ => {}
        }
        problems
    }

    pub fn field(field: &str, message: String) -> Problems {
        let mut problems = Problems::default();
        problems.fields.insert(field.to_owned(), vec![message]);
        problems
    }

    pub fn is_empty(&self) -> bool {
        self.summary.is_none() && self.fields.is_empty()
    }

    /// The messages about `field` (empty when none).
    pub fn on(&self, field: &str) -> Vec<String> {
        self.fields.get(field).cloned().unwrap_or_default()
    }

    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }
}

/// Everything a page needs about the request: its language, its anti-forgery token and the
/// cookies to send back.
pub struct PageContext {
    pub lang: Lang,
    pub csrf: String,
    pub jar: CookieJar,
    pub caller: Caller,
    /// The verifier in `pc_pkce` (made on the first page that needs one).
    pub pkce_verifier: String,
    /// Cookies are `Secure` when the public URL is https.
    pub secure: bool,
    /// The request's path and its query without `lang` (ending in `&` when not empty), for
    /// the language links: switching language keeps a link's token.
    pub path: String,
    pub query: String,
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<PageContext, Error> {
        let caller = Caller::from_request_parts(parts, app).await?;
        let mut jar = CookieJar::from_headers(&parts.headers);
        let secure = app.issuer.starts_with("https://");
        let asked = parts.uri.query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "lang")
                .and_then(|(_, v)| Lang::parse(&v))
        });
        let lang = asked
            .or_else(|| jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())))
            .or_else(|| {
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or(Lang::En);
        if let Some(lang) = asked {
            jar = jar.add(cookie(LANG_COOKIE, lang.code(), secure, Some(365 * 86400)));
        }
        let csrf = match jar.get(CSRF_COOKIE).map(|c| c.value().to_owned()) {
            Some(token) if token.len() == 43 => token,
            _ => {
                let token = random_token();
                jar = jar.add(cookie(CSRF_COOKIE, &token, secure, None));
                token
            }
        };
        let pkce_verifier = match jar.get(PKCE_COOKIE).map(|c| c.value().to_owned()) {
            Some(verifier) if verifier.len() == 43 => verifier,
            _ => {
                let verifier = random_token();
                jar = jar.add(cookie(PKCE_COOKIE, &verifier, secure, None));
                verifier
            }
        };
        Ok(PageContext {
            lang,
            csrf,
            jar,
            caller,
            pkce_verifier,
            secure,
            path: parts.uri.path().to_owned(),
            query: parts
                .uri
                .query()
                .map(|q| {
                    let kept: String = url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(
                            url::form_urlencoded::parse(q.as_bytes()).filter(|(k, _)| k != "lang"),
                        )
                        .finish();
                    if kept.is_empty() { kept } else { kept + "&" }
                })
                .unwrap_or_default(),
        })
    }
}

fn random_token() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// An HttpOnly, SameSite=Lax cookie for the whole site (`Secure` over https); `max_age` in
/// seconds, or a browser-session cookie.
pub fn cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> Cookie<'static> {
    let mut cookie = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build();
    if let Some(seconds) = max_age {
        cookie.set_max_age(cookie::time::Duration::seconds(seconds));
    }
    cookie
}

impl PageContext {
    /// Keeps a new session in the page's cookies.
    pub fn sign_in(&mut self, app: &App, grant: &TokenGrant) {
        let jar = std::mem::take(&mut self.jar);
        let access_ttl = i64::try_from(grant.expires_in).unwrap_or(900);
        let session_ttl =
            i64::try_from(app.config.tokens.session_ttl.as_secs()).unwrap_or(30 * 86400);
        self.jar = jar
            .add(cookie(
                ACCESS_COOKIE,
                grant.access_token.expose(),
                self.secure,
                Some(access_ttl),
            ))
            .add(cookie(
                REFRESH_COOKIE,
                grant.refresh_token.expose(),
                self.secure,
                Some(session_ttl),
            ));
        if let Some(device_token) = &grant.device_token {
            let jar = std::mem::take(&mut self.jar);
            let device_ttl = i64::try_from(crate::login::DEVICE_TOKEN_TTL.as_secs()).ok();
            self.jar = jar.add(cookie(
                DEVICE_COOKIE,
                device_token.expose(),
                self.secure,
                device_ttl,
            ));
        }
    }

    /// The device token this browser holds, if any.
    pub fn device_token(&self) -> Option<String> {
        self.jar.get(DEVICE_COOKIE).map(|c| c.value().to_owned())
    }

    pub fn sign_out(&mut self) {
        let jar = std::mem::take(&mut self.jar);
        self.jar = jar
            .remove(Cookie::build(ACCESS_COOKIE).path("/"))
            .remove(Cookie::build(REFRESH_COOKIE).path("/"));
    }

    /// The account the page's cookies speak for, refreshing an expired access token once.
    pub async fn signed_in(&mut self, app: &App) -> Option<Authenticated> {
        if let Some(token) = self.jar.get(ACCESS_COOKIE).map(|c| c.value().to_owned())
            && let Ok(who) = app.authenticate(&token).await
        {
            return Some(who);
        }
        let refresh = self.jar.get(REFRESH_COOKIE).map(|c| c.value().to_owned())?;
        match sessions::refresh(app, &self.caller, &Secret::new(refresh)).await {
            Ok(grant) => {
                let who = app.authenticate(grant.access_token.expose()).await.ok()?;
                self.sign_in(app, &grant);
                Some(who)
            }
            Err(_) => {
                self.sign_out();
                None
            }
        }
    }

    /// The OpenID authorization request waiting for a sign-in: its query string, and since when
    /// a sign-in counts as fresh for it.
    pub fn pending_authorization(&self) -> Option<(String, UnixTime)> {
        use base64::Engine as _;
        let value = self.jar.get(AUTHORIZE_COOKIE)?.value().to_owned();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value)
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (since, query) = text.split_once('\n')?;
        Some((query.to_owned(), UnixTime(since.parse().ok()?)))
    }

    /// Keeps an authorization request (its query string) while the person signs in: any
    /// sign-in from `fresh_since` on answers it.
    pub fn remember_authorization(&mut self, query: &str, fresh_since: UnixTime) {
        use base64::Engine as _;
        let value = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("{}\n{query}", fresh_since.seconds()));
        let jar = std::mem::take(&mut self.jar);
        self.jar = jar.add(cookie(
            AUTHORIZE_COOKIE,
            &value,
            self.secure,
            Some(AUTHORIZE_COOKIE_SECONDS),
        ));
    }

    pub fn forget_authorization(&mut self) {
        let jar = std::mem::take(&mut self.jar);
        self.jar = jar.remove(Cookie::build(AUTHORIZE_COOKIE).path("/"));
    }

    /// The access token of the page session (after `signed_in`).
    pub fn access_token(&self) -> Option<String> {
        self.jar.get(ACCESS_COOKIE).map(|c| c.value().to_owned())
    }

    /// The page as a response: HTML with the security headers and the cookies.
    pub fn render(self, status: StatusCode, html: String, app: &App) -> Response {
        let mut response = (status, self.jar, Html(html)).into_response();
        page_headers(response.headers_mut(), app);
        response
    }

    /// A 303 to `location` (after a form), with the cookies.
    pub fn redirect(self, location: &str) -> Response {
        let mut response = (StatusCode::SEE_OTHER, self.jar).into_response();
        if let Ok(value) = HeaderValue::from_str(location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// The security headers of every page: nothing inline runs or applies, nothing frames the page,
/// nothing is cached (pages show account details and carry one-time secrets).
pub fn page_headers(headers: &mut HeaderMap, app: &App) {
    let images = app
        .config
        .ui
        .logo_url
        .as_ref()
        .map(|u| format!(" {}", u.origin().ascii_serialization()))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:{images}; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// A submitted form: its fields by name (the last value of a repeated name wins), after the
/// anti-forgery checks. A forged or stale form is refused before any field is read.
pub struct Form(pub HashMap<String, String>);

/// Why a form was refused before it was read.
pub enum FormRejection {
    /// The anti-forgery token or the origin did not match.
    Forged,
    Unreadable(Error),
}

impl IntoResponse for FormRejection {
    fn into_response(self) -> Response {
        match self {
            FormRejection::Forged => (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "This form has expired or did not come from this site. Go back, reload the page \
                 and try again.",
            )
                .into_response(),
            FormRejection::Unreadable(error) => error.into_response(),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = FormRejection;

    async fn from_request(request: Request, state: &S) -> Result<Form, FormRejection> {
        let headers = request.headers().clone();
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| FormRejection::Unreadable(Error::PayloadTooLarge))?;
        let fields: HashMap<String, String> =
            url::form_urlencoded::parse(&bytes).into_owned().collect();
        if !same_origin(&headers) {
            return Err(FormRejection::Forged);
        }
        let jar = CookieJar::from_headers(&headers);
        let expected = jar.get(CSRF_COOKIE).map(|c| c.value().to_owned());
        let sent = fields.get("csrf").cloned().unwrap_or_default();
        let matches =
            expected.is_some_and(|expected| bool::from(expected.as_bytes().ct_eq(sent.as_bytes())));
        if !matches || sent.len() != 43 {
            return Err(FormRejection::Forged);
        }
        Ok(Form(fields))
    }
}

/// Whether the browser says the form came from this site. `Sec-Fetch-Site` when sent;
/// otherwise `Origin` must name the host the request was sent to. Under `Referrer-Policy:
/// no-referrer` a browser sends `Origin: null` on the site's own forms, so `null` is accepted
/// only beside `Sec-Fetch-Site: same-origin`.
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return site == "same-origin" || site == "none";
    }
    match text("origin") {
        None => true,
        Some("null") => false,
        Some(origin) => {
            let host = origin.split("://").nth(1).unwrap_or_default();
            text("host").is_some_and(|h| h.eq_ignore_ascii_case(host))
        }
    }
}

impl Form {
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    /// The fields as the JSON body a flow reads: text fields as strings, a checkbox as a bool.
    pub fn json(&self, names: &[&str], checkboxes: &[&str]) -> crate::json_body::JsonBody {
        let mut object = serde_json::Map::new();
        for name in names {
            if let Some(value) = self.0.get(*name) {
                object.insert((*name).to_owned(), serde_json::Value::String(value.clone()));
            }
        }
        for name in checkboxes {
            object.insert(
                (*name).to_owned(),
                serde_json::Value::Bool(self.0.contains_key(*name)),
            );
        }
        let bytes = serde_json::to_vec(&object).unwrap_or_default();
        crate::json_body::JsonBody::from_slice(&bytes)
            .unwrap_or_else(|_| unreachable!("an object always parses"))
    }
}

/// The pages' shared state beside the app.
pub type PagesState = Arc<Pages>;

/// Checks the two new-password fields agree: a message on the second one when they don't.
pub fn same_passwords(first: &str, second: &str, field: &str, t: &Messages<'_>) -> Problems {
    if first == second {
        Problems::default()
    } else {
        Problems::field(field, t.get("passwords-differ"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_spoken_language() {
        assert_eq!(
            Lang::from_accept_language("ko-KR,ko;q=0.9,en;q=0.8"),
            Some(Lang::Ko)
        );
        assert_eq!(
            Lang::from_accept_language("fr;q=1, en;q=0.5, ko;q=0.7"),
            Some(Lang::Ko)
        );
        assert_eq!(Lang::from_accept_language("fr, de"), None);
    }

    #[test]
    fn forms_from_elsewhere_are_refused() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.insert(*k, HeaderValue::from_static(v));
            }
            map
        };
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(&headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[("origin", "null")])));
    }

    #[test]
    fn every_error_code_has_a_message_in_both_languages() {
        let catalogs = [
            ("en", include_str!("../../i18n/en.ftl")),
            ("ko", include_str!("../../i18n/ko.ftl")),
        ];
        let codes = include_str!("../domain/error.rs")
            .lines()
            .filter_map(|l| l.split("=> \"").nth(1))
            .filter_map(|l| l.split('"').next())
            .collect::<Vec<_>>();
        assert!(codes.len() > 20, "{codes:?}");
        for (lang, catalog) in catalogs {
            for code in &codes {
                assert!(
                    catalog.contains(&format!("\nerror-{code} =")),
                    "{lang} has no message for {code}"
                );
            }
        }
        // Both catalogs have the same messages.
        let ids = |catalog: &str| {
            catalog
                .lines()
                .filter_map(|l| l.split_once(" = ").map(|(id, _)| id.trim().to_owned()))
                .filter(|id| !id.starts_with('#') && !id.contains(' '))
                .collect::<std::collections::BTreeSet<_>>()
        };
        assert_eq!(ids(catalogs[0].1), ids(catalogs[1].1));
    }
}
