//! Sign in with Google and GitHub over real HTTP, on both stores.
//!
//! Google's path runs against a real OpenID provider (`oidc-provider`, started from
//! `tests/oidc/provider.mjs` on loopback), driven through its own login and consent pages by a
//! cookie-keeping browser. GitHub's path runs against a stand-in server that implements the
//! endpoints GitHub documents: authorize, access_token (checking the client secret, code,
//! redirect URI and PKCE verifier), `/user` and `/user/emails`, under a GitHub Enterprise style
//! `/api/v3` API URL.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use portcullis::clock::Clock as _;
use portcullis::oauth::Provider;
use portcullis::user::UserStatus;
use portcullis_tests::{Backend, Server, on_both_stores, unique_email};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest as _;
use url::Url;

const UI: &str = "https://ui.example";
/// The caller's PKCE pair (RFC 7636, appendix B): the challenge goes to `/authorize`, the verifier
/// to `/v1/oauth/exchange`.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const PKCE: &str =
    "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
const GOOGLE_CLIENT: &str = "portcullis";
const GOOGLE_SECRET: &str = "portcullis-test-secret";
const GITHUB_CLIENT: &str = "gh-client";
const GITHUB_SECRET: &str = "gh-secret";

// ---------------------------------------------------------------------------------------------
// A browser: follows nothing by itself, keeps cookies per host, fills in the provider's forms.

#[derive(Default)]
struct Browser {
    http: reqwest::Client,
    /// host:port -> cookie name -> value
    jar: Mutex<HashMap<String, HashMap<String, String>>>,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

fn origin(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

impl Browser {
    fn new() -> Browser {
        portcullis_tests::install_crypto_provider();
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: Mutex::default(),
        }
    }

    async fn request(&self, url: &str, form: Option<&[(&str, &str)]>) -> Page {
        let parsed = Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        let mut request = match form {
            None => self.http.get(url),
            Some(fields) => self
                .http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(fields)
                        .finish(),
                ),
        };
        let cookies = self
            .jar
            .lock()
            .unwrap()
            .get(&origin(&parsed))
            .map(|jar| {
                jar.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        if !cookies.is_empty() {
            request = request.header("cookie", cookies);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|l| parsed.join(l.to_str().unwrap()).unwrap().to_string());
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        {
            let mut jar = self.jar.lock().unwrap();
            let jar = jar.entry(origin(&parsed)).or_default();
            for cookie in &set_cookies {
                let pair = cookie.split(';').next().unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                let expired = cookie.to_ascii_lowercase().contains("max-age=0")
                    || cookie.contains("expires=Thu, 01 Jan 1970");
                if value.is_empty() || expired {
                    jar.remove(name);
                } else {
                    jar.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let body = response.text().await.unwrap_or_default();
        Page {
            status,
            location,
            set_cookies,
            body,
        }
    }

    async fn get(&self, url: &str) -> Page {
        self.request(url, None).await
    }

    /// Follows redirects from `url`, signing in as `login` and consenting on the way, until the
    /// next stop starts with `stop_at`; returns that URL (not fetched).
    async fn walk(&self, url: &str, login: &str, stop_at: &str) -> String {
        let mut page = self.get(url).await;
        let mut at = url.to_owned();
        for _ in 0..20 {
            if let Some(next) = page.location.clone() {
                if next.starts_with(stop_at) {
                    return next;
                }
                page = self.get(&next).await;
                at = next;
                continue;
            }
            assert_eq!(page.status, StatusCode::OK, "{at}: {}", page.body);
            let form: Vec<(&str, &str)> = if page.body.contains(r#"value="login""#) {
                vec![("prompt", "login"), ("login", login), ("password", "any")]
            } else if page.body.contains(r#"value="consent""#) {
                vec![("prompt", "consent")]
            } else {
                panic!("{at}: an unexpected page: {}", page.body);
            };
            page = self.request(&at, Some(&form)).await;
        }
        panic!("too many steps from {url}");
    }
}

fn fragment(location: &str) -> HashMap<String, String> {
    let (_, fragment) = location
        .split_once('#')
        .unwrap_or_else(|| panic!("no fragment in {location}"));
    url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect()
}

fn query(url: &str) -> HashMap<String, String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn with_query(url: &str, name: &str, value: &str) -> String {
    let mut url = Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != name)
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    url.to_string()
}

// ---------------------------------------------------------------------------------------------
// The OpenID provider: `node tests/oidc/provider.mjs`, stopped when dropped.

struct OpenIdProvider {
    issuer: String,
    child: Child,
}

impl OpenIdProvider {
    fn start() -> OpenIdProvider {
        let dir = format!("{}/oidc", env!("CARGO_MANIFEST_DIR"));
        assert!(
            std::path::Path::new(&dir)
                .join("node_modules/oidc-provider")
                .exists(),
            "oidc-provider is not installed in {dir}: run scripts/test, or `npm ci` there"
        );
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node, to run the OpenID provider");
        let stdout = child.stdout.take().expect("stdout");
        let mut stdout = std::io::BufReader::new(stdout);
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the provider's first line");
        // Keep reading what it prints, so it never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let issuer = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the OpenID provider did not start: {line:?}"))
            .to_owned();
        OpenIdProvider { issuer, child }
    }
}

impl Drop for OpenIdProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn google_server(backend: Backend, extra: &[(&str, &str)]) -> (Server, OpenIdProvider) {
    let provider = OpenIdProvider::start();
    let mut vars = vec![
        ("PORTCULLIS_OAUTH_GOOGLE_CLIENT_ID", GOOGLE_CLIENT),
        ("PORTCULLIS_OAUTH_GOOGLE_CLIENT_SECRET", GOOGLE_SECRET),
        ("PORTCULLIS_OAUTH_GOOGLE_ISSUER", provider.issuer.as_str()),
    ];
    vars.extend_from_slice(extra);
    (Server::with(backend, &vars).await, provider)
}

/// A Google sign-in from the start to the UI's URL with its fragment.
async fn google_sign_in(server: &Server, browser: &Browser, login: &str) -> String {
    let url = format!("{}/v1/oauth/google/authorize?{PKCE}", server.url);
    browser.walk(&url, login, UI).await
}

/// Starts a sign-in and walks it at the provider up to (not into) Portcullis' callback.
async fn google_until_callback(server: &Server, browser: &Browser, login: &str) -> String {
    let start = browser
        .get(&format!("{}/v1/oauth/google/authorize?{PKCE}", server.url))
        .await;
    let at_provider = start.location.expect("a redirect to the provider");
    browser
        .walk(&at_provider, login, &format!("{}/v1/oauth", server.url))
        .await
}

async fn exchange(server: &Server, location: &str) -> portcullis_tests::Reply {
    let code = fragment(location)
        .get("code")
        .unwrap_or_else(|| panic!("no code in {location}"))
        .clone();
    server
        .post(
            "/v1/oauth/exchange",
            json!({ "code": code, "code_verifier": VERIFIER }),
        )
        .await
}

/// Signs in and trades the code: the token response.
async fn signed_in_with_google(server: &Server, login: &str) -> Value {
    let location = google_sign_in(server, &Browser::new(), login).await;
    assert!(
        location.starts_with(&format!("{UI}/oauth/complete#code=")),
        "{location}"
    );
    let reply = exchange(server, &location).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    reply.body
}

/// An active account with a verified email, made in the store (signup may be closed).
async fn verified_account(server: &Server, email: &str) -> String {
    let user = portcullis::user::User {
        id: portcullis::user::new_user_id(),
        email: portcullis::email::Email::parse(email).unwrap(),
        username: portcullis::username::Username::parse(&format!("m-{}", &random()[..12])).unwrap(),
        password_hash: None,
        first_name: String::new(),
        last_name: String::new(),
        email_verified: true,
        status: UserStatus::Active,
        roles: vec!["user".into()],
        created_at: server.clock.now(),
        session_epoch: 0,
        password_epoch: 0,
        password_unconfirmed: false,
    };
    server.app.store.create_user(&user).await.unwrap();
    user.id
}

fn error_of(location: &str) -> String {
    fragment(location)
        .get("error")
        .cloned()
        .unwrap_or_else(|| panic!("no error in {location}"))
}

// ---------------------------------------------------------------------------------------------
// Google

async fn google_new_user_then_returning_user(backend: Backend) {
    let (server, _provider) = google_server(backend, &[]).await;
    let email = unique_email("g.new");

    let first = signed_in_with_google(&server, &email).await;
    let user_id = first["user"]["user_id"].as_str().unwrap().to_owned();
    assert_eq!(first["user"]["email"], email.as_str());
    // The username is suggested from the email's local part.
    assert_eq!(first["user"]["username"], email.split('@').next().unwrap());
    let me = server
        .get_with_token("/v1/me", first["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email_verified"], true);
    assert_eq!(me.body["status"], "active");
    let user = server
        .app
        .store
        .user_by_id(&user_id)
        .await
        .unwrap()
        .unwrap();
    assert!(user.password_hash.is_none());
    let links = server.app.store.identities_of(&user_id).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].provider, Provider::Google);
    // oidc-provider's `sub` is the account id, which the test provider makes the login.
    assert_eq!(links[0].subject, email);

    // Returning: the same account, a new session.
    let again = signed_in_with_google(&server, &email).await;
    assert_eq!(again["user"]["user_id"], user_id.as_str());
    assert_ne!(again["refresh_token"], first["refresh_token"]);
    assert_eq!(
        server
            .app
            .store
            .identities_of(&user_id)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn google_links_to_an_existing_verified_account(backend: Backend) {
    let (server, _provider) = google_server(backend, &[]).await;
    let email = unique_email("g.link");
    let (user_id, username) = server.signed_up(&email).await;
    server
        .app
        .store
        .verify_email(&user_id, &email.to_lowercase(), UserStatus::Active)
        .await
        .unwrap()
        .unwrap();
    // The owner set a password by a mailed reset: it is theirs, and linking takes nothing away.
    server
        .post("/v1/password/reset-request", json!({ "email": email }))
        .await;
    let reset = server
        .mailed_token(&email, "/reset-password")
        .await
        .expect("a reset mail");
    let reply = server
        .post(
            "/v1/password/reset-confirm",
            json!({ "token": reset, "new_password": "Owner#chosen-9" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);

    let tokens = signed_in_with_google(&server, &email).await;
    assert_eq!(tokens["user"]["user_id"], user_id.as_str());
    assert_eq!(tokens["user"]["username"], username.as_str());
    let links = server.app.store.identities_of(&user_id).await.unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(
        server.login(&email, "Owner#chosen-9").await.status,
        StatusCode::OK
    );
}

/// Hardening, item 4: someone signs up with another person's address and waits; the owner
/// confirms the mail, later signs in with Google, and the squatter's password must not still
/// open the account.
async fn a_password_set_before_the_address_was_confirmed_goes_at_the_link(backend: Backend) {
    let (server, _provider) = google_server(backend, &[]).await;
    let email = unique_email("g.squat");
    let (user_id, _) = server.signed_up(&email).await;
    server
        .app
        .store
        .verify_email(&user_id, &email.to_lowercase(), UserStatus::Active)
        .await
        .unwrap()
        .unwrap();
    let squatter = server.login(&email, portcullis_tests::PASSWORD).await;
    assert_eq!(squatter.status, StatusCode::OK);
    let squatter_token = squatter.body["access_token"].as_str().unwrap().to_owned();
    let key = server
        .post_with_token(
            "/v1/access-keys",
            &squatter_token,
            json!({ "current_password": portcullis_tests::PASSWORD }),
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED);

    let tokens = signed_in_with_google(&server, &email).await;
    assert_eq!(tokens["user"]["user_id"], user_id.as_str());
    assert_eq!(
        server
            .login(&email, portcullis_tests::PASSWORD)
            .await
            .code(),
        "invalid_credentials",
        "the squatter's password is gone"
    );
    assert_eq!(
        server
            .get_with_token("/v1/me", &squatter_token)
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "and the sessions it opened"
    );
    let reply = server
        .post(
            "/v1/login/access-key",
            json!({ "access_key": key.body["access_key"], "secret_key": key.body["secret_key"] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "and its keys");
    let owner = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        server.get_with_token("/v1/me", owner).await.status,
        StatusCode::OK,
        "the owner's own sign-in goes on"
    );
}

async fn google_never_links_to_an_unverified_account(backend: Backend) {
    let (server, _provider) = google_server(backend, &[]).await;
    // Someone signed up with this address but never proved it is theirs.
    let email = unique_email("g.squat");
    let (user_id, _) = server.signed_up(&email).await;

    let location = google_sign_in(&server, &Browser::new(), &email).await;
    assert_eq!(error_of(&location), "email_taken");
    assert!(
        server
            .app
            .store
            .identity(Provider::Google, &email)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        server
            .app
            .store
            .identities_of(&user_id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn google_links_by_email_only_when_configured(backend: Backend) {
    let (server, _provider) =
        google_server(backend, &[("PORTCULLIS_OAUTH_LINK_BY_EMAIL", "never")]).await;
    let email = unique_email("g.never");
    let (user_id, _) = server.signed_up(&email).await;
    server
        .app
        .store
        .verify_email(&user_id, &email.to_lowercase(), UserStatus::Active)
        .await
        .unwrap()
        .unwrap();
    let location = google_sign_in(&server, &Browser::new(), &email).await;
    assert_eq!(error_of(&location), "email_taken");
    assert!(
        server
            .app
            .store
            .identities_of(&user_id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn google_unverified_email_makes_no_account(backend: Backend) {
    let (server, _provider) = google_server(backend, &[]).await;
    let email = format!("unverified-{}", unique_email("g"));
    let location = google_sign_in(&server, &Browser::new(), &email).await;
    assert_eq!(error_of(&location), "email_not_verified");
    assert!(
        server
            .app
            .store
            .user_by_email(&email.to_lowercase())
            .await
            .unwrap()
            .is_none()
    );
}

async fn google_state_must_belong_to_the_browser(backend: Backend) {
    let (server, _provider) = google_server(backend, &[]).await;
    let email = unique_email("g.state");
    let victim = Browser::new();
    let attacker = Browser::new();
    let callback = google_until_callback(&server, &attacker, &email).await;

    // The attacker's callback URL, opened in another browser that began its own sign-in.
    victim
        .get(&format!("{}/v1/oauth/google/authorize?{PKCE}", server.url))
        .await;
    let page = victim.get(&callback).await;
    assert_eq!(page.status, StatusCode::FOUND);
    let location = page.location.unwrap();
    assert!(location.starts_with(&format!("{UI}/oauth/complete#")));
    assert_eq!(error_of(&location), "invalid_state");

    // Without any cookie, and with a made-up state.
    let page = Browser::new().get(&callback).await;
    assert_eq!(error_of(&page.location.unwrap()), "invalid_state");
    let forged = with_query(&callback, "state", &"A".repeat(43));
    assert_eq!(
        error_of(&attacker.get(&forged).await.location.unwrap()),
        "invalid_state"
    );

    // The browser that began it still finishes it.
    let page = attacker.get(&callback).await;
    let location = page.location.unwrap();
    assert!(fragment(&location).contains_key("code"), "{location}");
}

async fn google_codes_are_single_use(backend: Backend) {
    let (server, _provider) = google_server(backend, &[]).await;
    let email = unique_email("g.replay");
    let browser = Browser::new();
    let callback = google_until_callback(&server, &browser, &email).await;
    let done = browser.get(&callback).await.location.unwrap();
    assert!(fragment(&done).contains_key("code"), "{done}");

    // The same callback again: its state is spent.
    let again = browser.get(&callback).await.location.unwrap();
    assert_eq!(error_of(&again), "invalid_state");

    // The provider's code under a fresh, valid state: the provider refuses it.
    let fresh = browser
        .get(&format!("{}/v1/oauth/google/authorize?{PKCE}", server.url))
        .await;
    let state = query(&fresh.location.unwrap())["state"].clone();
    let replayed = with_query(&callback, "state", &state);
    let location = browser.get(&replayed).await.location.unwrap();
    assert_eq!(error_of(&location), "provider_error");

    // The exchange code trades once.
    let first = exchange(&server, &done).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let second = exchange(&server, &done).await;
    assert_eq!(second.status, StatusCode::BAD_REQUEST);
    assert_eq!(second.code(), "invalid_token");
}

async fn google_exchange_codes_expire(backend: Backend) {
    let (server, _provider) = google_server(backend, &[]).await;
    let location = google_sign_in(&server, &Browser::new(), &unique_email("g.late")).await;
    server.clock.advance(Duration::from_secs(61));
    let reply = exchange(&server, &location).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "invalid_token");
    let reply = server
        .post("/v1/oauth/exchange", json!({ "code": "not-a-code" }))
        .await;
    assert_eq!(reply.code(), "invalid_token");
}

async fn google_wrong_nonce_is_refused(backend: Backend) {
    let (server, _provider) = google_server(backend, &[]).await;
    let email = unique_email("g.nonce");
    let browser = Browser::new();
    let start = browser
        .get(&format!("{}/v1/oauth/google/authorize?{PKCE}", server.url))
        .await;
    let at_provider = start.location.unwrap();
    assert_eq!(query(&at_provider)["code_challenge_method"], "S256");
    assert!(query(&at_provider)["nonce"].len() >= 43);
    // The provider is asked for a token with another nonce than the one Portcullis kept.
    let tampered = with_query(&at_provider, "nonce", "someone-elses-nonce");
    let location = browser.walk(&tampered, &email, UI).await;
    assert_eq!(error_of(&location), "invalid_id_token");
    assert!(
        server
            .app
            .store
            .user_by_email(&email.to_lowercase())
            .await
            .unwrap()
            .is_none()
    );
}

async fn google_expired_id_token_is_refused(backend: Backend) {
    let (server, _provider) = google_server(backend, &[]).await;
    let email = unique_email("g.expired");
    let browser = Browser::new();
    let callback = google_until_callback(&server, &browser, &email).await;
    // The provider's ID tokens live 120 s; the sign-in itself 10 minutes.
    server.clock.advance(Duration::from_secs(5 * 60));
    let location = browser.get(&callback).await.location.unwrap();
    assert_eq!(error_of(&location), "invalid_id_token");
}

async fn google_provider_errors_come_back_to_the_ui(backend: Backend) {
    // A wrong client secret: the provider refuses the token request.
    let provider = OpenIdProvider::start();
    let server = Server::with(
        backend,
        &[
            ("PORTCULLIS_OAUTH_GOOGLE_CLIENT_ID", GOOGLE_CLIENT),
            ("PORTCULLIS_OAUTH_GOOGLE_CLIENT_SECRET", "not-the-secret"),
            ("PORTCULLIS_OAUTH_GOOGLE_ISSUER", provider.issuer.as_str()),
        ],
    )
    .await;
    let location = google_sign_in(&server, &Browser::new(), &unique_email("g.err")).await;
    assert_eq!(error_of(&location), "provider_error");

    // The person declines at the provider.
    let browser = Browser::new();
    let start = browser
        .get(&format!("{}/v1/oauth/google/authorize?{PKCE}", server.url))
        .await;
    let interaction = browser
        .get(&start.location.unwrap())
        .await
        .location
        .unwrap();
    let aborted = browser
        .walk(&format!("{interaction}/abort"), "nobody", UI)
        .await;
    assert_eq!(error_of(&aborted), "access_denied");

    // A provider that is down (once what Portcullis cached about it is stale).
    drop(provider);
    server.clock.advance(Duration::from_secs(2 * 60 * 60));
    let location = Browser::new()
        .get(&format!("{}/v1/oauth/google/authorize?{PKCE}", server.url))
        .await
        .location
        .unwrap();
    assert_eq!(error_of(&location), "provider_error");
}

async fn google_disabled_account_cannot_get_in(backend: Backend) {
    let (server, _provider) = google_server(backend, &[]).await;
    let email = unique_email("g.disabled");
    let tokens = signed_in_with_google(&server, &email).await;
    let user_id = tokens["user"]["user_id"].as_str().unwrap();

    // Disabled between the callback and the exchange: the exchange is refused too.
    let location = google_sign_in(&server, &Browser::new(), &email).await;
    server
        .app
        .store
        .set_status(user_id, UserStatus::Disabled)
        .await
        .unwrap();
    let reply = exchange(&server, &location).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "account_disabled");

    let location = google_sign_in(&server, &Browser::new(), &email).await;
    assert_eq!(error_of(&location), "account_disabled");
}

async fn google_signup_modes_apply_to_new_accounts(backend: Backend) {
    let (server, _provider) =
        google_server(backend, &[("PORTCULLIS_SIGNUP_MODE", "invitation")]).await;
    let email = unique_email("g.invite");
    let location = google_sign_in(&server, &Browser::new(), &email).await;
    assert_eq!(error_of(&location), "invitation_required");
    let url = format!(
        "{}/v1/oauth/google/authorize?invitation=some-invitation-token&{PKCE}",
        server.url
    );
    let location = Browser::new().walk(&url, &email, UI).await;
    assert_eq!(error_of(&location), "invitation_invalid");
    assert!(
        server
            .app
            .store
            .user_by_email(&email.to_lowercase())
            .await
            .unwrap()
            .is_none()
    );
    // A real invitation, bound to this email, carried through the sign-in: used up by the
    // account it makes, and that account has its roles.
    let (_, admin) = server.admin().await;
    let invited = server
        .post_with_token(
            "/v1/admin/invitations",
            &admin,
            json!({"email": email, "roles": ["user", "staff"]}),
        )
        .await;
    let token = invited.body["token"].as_str().unwrap().to_owned();
    let url = format!(
        "{}/v1/oauth/google/authorize?invitation={token}&{PKCE}",
        server.url
    );
    let location = Browser::new().walk(&url, &email, UI).await;
    let reply = exchange(&server, &location).await;
    assert_eq!(reply.status, StatusCode::OK, "{location}: {:?}", reply.body);
    let user = server
        .app
        .store
        .user_by_email(&email.to_lowercase())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.roles, vec!["user", "staff"]);
    let audit = server
        .get_with_token(&format!("/v1/admin/audit?user_id={}", user.id), &admin)
        .await;
    let kinds: Vec<&str> = audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"oauth_linked") && kinds.contains(&"login_succeeded"),
        "{kinds:?}"
    );
    let url = format!(
        "{}/v1/oauth/google/authorize?invitation={token}&{PKCE}",
        server.url
    );
    let location = Browser::new()
        .walk(&url, &unique_email("g.second"), UI)
        .await;
    assert_eq!(error_of(&location), "invitation_invalid", "used once");

    // An existing account still signs in: the mode is about new accounts.
    let member = unique_email("g.member");
    let user_id = verified_account(&server, &member).await;
    let location = google_sign_in(&server, &Browser::new(), &member).await;
    let reply = exchange(&server, &location).await;
    assert_eq!(reply.body["user"]["user_id"], user_id.as_str());

    let (server, _provider) =
        google_server(backend, &[("PORTCULLIS_SIGNUP_MODE", "approval")]).await;
    let email = unique_email("g.approval");
    let location = google_sign_in(&server, &Browser::new(), &email).await;
    assert_eq!(error_of(&location), "pending_approval");
    let user = server
        .app
        .store
        .user_by_email(&email.to_lowercase())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.status, UserStatus::PendingApproval);

    let (server, _provider) =
        google_server(backend, &[("PORTCULLIS_SIGNUP_MODE", "disabled")]).await;
    let location = google_sign_in(&server, &Browser::new(), &unique_email("g.off")).await;
    assert_eq!(error_of(&location), "signup_disabled");
}

/// Hardening, item 2: a code from someone else's sign-in can't be pushed into a victim's browser
/// (login CSRF): `/authorize` needs the caller's S256 challenge, and the exchange its verifier.
async fn google_exchange_needs_the_callers_pkce_verifier(backend: Backend) {
    let (server, _provider) = google_server(backend, &[]).await;
    for (query, field) in [
        ("", "code_challenge"),
        (
            "code_challenge=short&code_challenge_method=S256",
            "code_challenge",
        ),
        (
            "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=plain",
            "code_challenge_method",
        ),
    ] {
        let reply = server
            .get(&format!("/v1/oauth/google/authorize?{query}"))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(reply.errors(field).len(), 1, "{query}: {:?}", reply.body);
    }

    // The attacker's code, redeemed without the verifier (as a victim's page would): refused,
    // and used up, so the right verifier can't bring it back.
    let location = google_sign_in(&server, &Browser::new(), &unique_email("attacker")).await;
    let code = fragment(&location)["code"].clone();
    let reply = server
        .post("/v1/oauth/exchange", json!({ "code": code }))
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::BAD_REQUEST, "invalid_token")
    );
    let reply = server
        .post(
            "/v1/oauth/exchange",
            json!({ "code": code, "code_verifier": VERIFIER }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "used up");

    // A wrong verifier is refused the same way.
    let location = google_sign_in(&server, &Browser::new(), &unique_email("other")).await;
    let code = fragment(&location)["code"].clone();
    let reply = server
        .post(
            "/v1/oauth/exchange",
            json!({ "code": code, "code_verifier": "x".repeat(43) }),
        )
        .await;
    assert_eq!(reply.code(), "invalid_token");

    // The right one signs in.
    let location = google_sign_in(&server, &Browser::new(), &unique_email("owner")).await;
    assert_eq!(exchange(&server, &location).await.status, StatusCode::OK);
}

async fn authorize_checks_provider_and_return_to(backend: Backend) {
    let (server, _provider) = google_server(
        backend,
        &[(
            "PORTCULLIS_OAUTH_RETURN_TO",
            "https://ui.example/app, http://localhost:3000",
        )],
    )
    .await;
    let reply = server.get("/v1/oauth/github/authorize").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "unknown_provider");
    let reply = server.get("/v1/oauth/myspace/authorize").await;
    assert_eq!(reply.code(), "unknown_provider");
    let reply = server
        .get("/v1/oauth/myspace/callback?code=x&state=y")
        .await;
    assert_eq!(reply.code(), "unknown_provider");

    for refused in [
        "https://evil.example/app",
        "https://ui.example/application",
        "https://ui.example/other",
        "https://ui.example@evil.example/app",
        "https://ui.example.evil.example/app",
        "http://ui.example/app",
        "https://ui.example:8443/app",
        "https://ui.example/app#x",
        "javascript:alert(1)",
        "/app",
    ] {
        let path = format!(
            "/v1/oauth/google/authorize?return_to={}&{PKCE}",
            url::form_urlencoded::byte_serialize(refused.as_bytes()).collect::<String>()
        );
        let reply = server.get(&path).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{refused}");
        assert_eq!(reply.errors("return_to").len(), 1, "{refused}");
    }

    let browser = Browser::new();
    for allowed in [
        "https://ui.example/app",
        "https://ui.example/app/signed-in",
        "http://localhost:3000/x?tab=1",
    ] {
        let path = format!(
            "{}/v1/oauth/google/authorize?return_to={}&{PKCE}",
            server.url,
            url::form_urlencoded::byte_serialize(allowed.as_bytes()).collect::<String>()
        );
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::FOUND, "{allowed}: {}", page.body);
        let cookie = &page.set_cookies[0];
        for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/v1/oauth"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
    }
    let location = browser
        .walk(
            &format!(
                "{}/v1/oauth/google/authorize?return_to=https%3A%2F%2Fui.example%2Fapp%2Fdone&{PKCE}",
                server.url
            ),
            &unique_email("g.back"),
            "https://ui.example",
        )
        .await;
    assert!(
        location.starts_with("https://ui.example/app/done#code="),
        "{location}"
    );
}

// ---------------------------------------------------------------------------------------------
// The GitHub stand-in.

#[derive(Clone)]
struct GitHubUser {
    id: u64,
    login: String,
    /// (email, primary, verified)
    emails: Vec<(String, bool, bool)>,
    denies: bool,
}

struct Grant {
    login: String,
    redirect_uri: String,
    challenge: String,
}

#[derive(Default)]
struct GitHubState {
    users: HashMap<String, GitHubUser>,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, String>,
}

struct GitHub {
    url: String,
    state: Arc<Mutex<GitHubState>>,
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl GitHub {
    async fn start() -> GitHub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(GitHubState::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = shared.clone();
                let service = service_fn(move |request| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(github_answer(&state, request).await) }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        GitHub { url, state }
    }

    /// A user whose `emails` are (address, primary, verified).
    fn user(&self, emails: &[(&str, bool, bool)]) -> GitHubUser {
        let id = rand_id();
        let user = GitHubUser {
            id,
            login: format!("octo-{id}"),
            emails: emails
                .iter()
                .map(|(e, p, v)| ((*e).to_owned(), *p, *v))
                .collect(),
            denies: false,
        };
        self.state
            .lock()
            .unwrap()
            .users
            .insert(user.login.clone(), user.clone());
        user
    }

    fn denying_user(&self) -> GitHubUser {
        let mut user = self.user(&[]);
        user.denies = true;
        self.state
            .lock()
            .unwrap()
            .users
            .insert(user.login.clone(), user.clone());
        user
    }
}

fn rand_id() -> u64 {
    u64::from_str_radix(&random()[..12], 16).unwrap()
}

fn respond(status: u16, content_type: &str, body: String) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn redirect_to(location: String) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(302)
        .header("location", location)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

async fn github_answer(
    state: &Mutex<GitHubState>,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .chain(url::form_urlencoded::parse(&body).into_owned())
            .collect();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let json_error = |error: &str| {
        respond(
            200,
            "application/json",
            json!({ "error": error, "error_description": error }).to_string(),
        )
    };
    match (parts.method.as_str(), parts.uri.path()) {
        // The signed-in user is the one the documented `login` parameter suggests.
        ("GET", "/login/oauth/authorize") => {
            let param = |name: &str| params.get(name).cloned().unwrap_or_default();
            if param("client_id") != GITHUB_CLIENT || param("code_challenge_method") != "S256" {
                return respond(400, "text/plain", "bad authorize request".into());
            }
            let mut redirect = Url::parse(&param("redirect_uri")).unwrap();
            let mut state = state.lock().unwrap();
            let Some(user) = state.users.get(&param("login")).cloned() else {
                return respond(404, "text/plain", "no such user".into());
            };
            if user.denies {
                redirect
                    .query_pairs_mut()
                    .append_pair("error", "access_denied")
                    .append_pair(
                        "error_description",
                        "The user has denied your application access.",
                    )
                    .append_pair("state", &param("state"));
                return redirect_to(redirect.to_string());
            }
            let code = random();
            state.codes.insert(
                code.clone(),
                Grant {
                    login: user.login,
                    redirect_uri: param("redirect_uri"),
                    challenge: param("code_challenge"),
                },
            );
            redirect
                .query_pairs_mut()
                .append_pair("code", &code)
                .append_pair("state", &param("state"));
            redirect_to(redirect.to_string())
        }
        ("POST", "/login/oauth/access_token") => {
            if !header("accept").contains("application/json") {
                return respond(406, "text/plain", "ask for JSON".into());
            }
            let param = |name: &str| params.get(name).cloned().unwrap_or_default();
            if param("client_id") != GITHUB_CLIENT || param("client_secret") != GITHUB_SECRET {
                return json_error("incorrect_client_credentials");
            }
            let mut state = state.lock().unwrap();
            // A code is good once, whatever happens next.
            let Some(grant) = state.codes.remove(&param("code")) else {
                return json_error("bad_verification_code");
            };
            if grant.redirect_uri != param("redirect_uri") {
                return json_error("redirect_uri_mismatch");
            }
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(param("code_verifier").as_bytes()));
            if challenge != grant.challenge {
                return json_error("bad_verification_code");
            }
            let token = format!("gho_{}", random());
            state.tokens.insert(token.clone(), grant.login);
            respond(
                200,
                "application/json",
                json!({ "access_token": token, "token_type": "bearer", "scope": "read:user,user:email" })
                    .to_string(),
            )
        }
        ("GET", path @ ("/api/v3/user" | "/api/v3/user/emails")) => {
            if header("user-agent").is_empty() {
                return respond(403, "text/plain", "a User-Agent is required".into());
            }
            let authorization = header("authorization");
            let token = authorization
                .strip_prefix("Bearer ")
                .or_else(|| authorization.strip_prefix("token "))
                .unwrap_or_default();
            let state = state.lock().unwrap();
            let Some(user) = state
                .tokens
                .get(token)
                .and_then(|login| state.users.get(login))
            else {
                return respond(
                    401,
                    "application/json",
                    json!({"message": "Bad credentials"}).to_string(),
                );
            };
            let body = if path.ends_with("/emails") {
                json!(
                    user.emails
                        .iter()
                        .map(|(email, primary, verified)| json!({
                            "email": email, "primary": primary, "verified": verified,
                            "visibility": if *primary { Value::from("private") } else { Value::Null },
                        }))
                        .collect::<Vec<_>>()
                )
            } else {
                json!({ "login": user.login, "id": user.id, "email": null, "name": "Octo Cat" })
            };
            respond(200, "application/json", body.to_string())
        }
        _ => respond(
            404,
            "application/json",
            json!({"message": "Not Found"}).to_string(),
        ),
    }
}

async fn github_server(backend: Backend, secret: &str) -> (Server, GitHub) {
    let github = GitHub::start().await;
    let api = format!("{}/api/v3", github.url);
    let server = Server::with(
        backend,
        &[
            ("PORTCULLIS_OAUTH_GITHUB_CLIENT_ID", GITHUB_CLIENT),
            ("PORTCULLIS_OAUTH_GITHUB_CLIENT_SECRET", secret),
            ("PORTCULLIS_OAUTH_GITHUB_URL", github.url.as_str()),
            ("PORTCULLIS_OAUTH_GITHUB_API_URL", api.as_str()),
        ],
    )
    .await;
    (server, github)
}

/// A GitHub sign-in as `user`, to the UI's URL with its fragment.
async fn github_sign_in(server: &Server, user: &GitHubUser) -> String {
    let browser = Browser::new();
    let start = browser
        .get(&format!("{}/v1/oauth/github/authorize?{PKCE}", server.url))
        .await;
    let at_github = start.location.expect("a redirect to GitHub");
    assert!(at_github.contains("/login/oauth/authorize?"), "{at_github}");
    browser
        .walk(&with_query(&at_github, "login", &user.login), "-", UI)
        .await
}

async fn github_new_user_then_returning_user(backend: Backend) {
    let (server, github) = github_server(backend, GITHUB_SECRET).await;
    let email = unique_email("gh.new");
    let other = unique_email("gh.other");
    let user = github.user(&[(&other, false, true), (&email, true, true)]);

    let location = github_sign_in(&server, &user).await;
    let first = exchange(&server, &location).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["user"]["email"], email.as_str());
    let user_id = first.body["user"]["user_id"].as_str().unwrap().to_owned();
    let link = server
        .app
        .store
        .identity(Provider::GitHub, &user.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.user_id, user_id);

    // The primary email changed at GitHub: the identity, not the email, finds the account.
    github
        .state
        .lock()
        .unwrap()
        .users
        .get_mut(&user.login)
        .unwrap()
        .emails = vec![(unique_email("gh.moved"), true, true)];
    let location = github_sign_in(&server, &user).await;
    let again = exchange(&server, &location).await;
    assert_eq!(again.body["user"]["user_id"], user_id.as_str());
}

async fn github_uses_only_a_verified_primary_email(backend: Backend) {
    let (server, github) = github_server(backend, GITHUB_SECRET).await;
    let primary = unique_email("gh.unverified");
    let secondary = unique_email("gh.secondary");
    let user = github.user(&[(&primary, true, false), (&secondary, false, true)]);
    let location = github_sign_in(&server, &user).await;
    assert_eq!(error_of(&location), "email_not_verified");
    for email in [&primary, &secondary] {
        assert!(
            server
                .app
                .store
                .user_by_email(&email.to_lowercase())
                .await
                .unwrap()
                .is_none()
        );
    }
}

async fn github_links_only_to_verified_accounts(backend: Backend) {
    let (server, github) = github_server(backend, GITHUB_SECRET).await;
    let email = unique_email("gh.link");
    let (user_id, _) = server.signed_up(&email).await;
    let user = github.user(&[(&email, true, true)]);

    // The account's email is unverified: whoever signed up may not be the address's owner.
    let location = github_sign_in(&server, &user).await;
    assert_eq!(error_of(&location), "email_taken");

    server
        .app
        .store
        .verify_email(&user_id, &email.to_lowercase(), UserStatus::Active)
        .await
        .unwrap()
        .unwrap();
    let location = github_sign_in(&server, &user).await;
    let reply = exchange(&server, &location).await;
    assert_eq!(reply.body["user"]["user_id"], user_id.as_str());
}

async fn github_denied_consent_and_errors_come_back_to_the_ui(backend: Backend) {
    let (server, github) = github_server(backend, GITHUB_SECRET).await;
    let location = github_sign_in(&server, &github.denying_user()).await;
    assert_eq!(error_of(&location), "access_denied");

    let (server, github) = github_server(backend, "wrong-secret").await;
    let user = github.user(&[(&unique_email("gh.err"), true, true)]);
    let location = github_sign_in(&server, &user).await;
    assert_eq!(error_of(&location), "provider_error");
}

async fn github_identity_links_race_to_one(backend: Backend) {
    let (server, github) = github_server(backend, GITHUB_SECRET).await;
    let email = unique_email("gh.race");
    let user = github.user(&[(&email, true, true)]);
    // Eight sign-ins with one new identity at once: one account, one link, all in it.
    let mut callbacks = Vec::new();
    for _ in 0..8 {
        let browser = Browser::new();
        let start = browser
            .get(&format!("{}/v1/oauth/github/authorize?{PKCE}", server.url))
            .await;
        let at_github = with_query(&start.location.unwrap(), "login", &user.login);
        let callback = browser
            .walk(&at_github, "-", &format!("{}/v1/oauth", server.url))
            .await;
        callbacks.push((browser, callback));
    }
    let tasks: Vec<_> = callbacks
        .into_iter()
        .map(|(browser, callback)| {
            tokio::spawn(async move { browser.get(&callback).await.location.unwrap() })
        })
        .collect();
    let mut users = std::collections::BTreeSet::new();
    for task in tasks {
        let location = task.await.unwrap();
        let reply = exchange(&server, &location).await;
        assert_eq!(reply.status, StatusCode::OK, "{location}: {:?}", reply.body);
        users.insert(reply.body["user"]["user_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(users.len(), 1, "{users:?}");
    let user_id = users.into_iter().next().unwrap();
    assert_eq!(
        server
            .app
            .store
            .identities_of(&user_id)
            .await
            .unwrap()
            .len(),
        1
    );
}

on_both_stores!(
    google_new_user_then_returning_user,
    google_links_to_an_existing_verified_account,
    google_never_links_to_an_unverified_account,
    google_links_by_email_only_when_configured,
    google_unverified_email_makes_no_account,
    google_state_must_belong_to_the_browser,
    google_codes_are_single_use,
    google_exchange_codes_expire,
    google_wrong_nonce_is_refused,
    google_expired_id_token_is_refused,
    google_provider_errors_come_back_to_the_ui,
    google_disabled_account_cannot_get_in,
    google_signup_modes_apply_to_new_accounts,
    authorize_checks_provider_and_return_to,
    google_exchange_needs_the_callers_pkce_verifier,
    a_password_set_before_the_address_was_confirmed_goes_at_the_link,
    github_new_user_then_returning_user,
    github_uses_only_a_verified_primary_email,
    github_links_only_to_verified_accounts,
    github_denied_consent_and_errors_come_back_to_the_ui,
    github_identity_links_race_to_one,
);
