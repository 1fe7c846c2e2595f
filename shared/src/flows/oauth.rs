//! Sign in with Google and GitHub: `GET /v1/oauth/{provider}/authorize`,
//! `GET /v1/oauth/{provider}/callback` and `POST /v1/oauth/exchange`.
//!
//! The authorization-code flow with PKCE S256. `/authorize` keeps a [`PendingSignIn`] (the PKCE
//! verifier, the OpenID nonce, where to go back to) under the SHA-256 digest of a random `state`,
//! and binds `state` to the browser with an HttpOnly, Secure, SameSite=Lax cookie holding it: the
//! callback needs both, so a callback URL replayed into another browser (login CSRF) is refused.
//! The callback consumes the sign-in (one use, ten minutes), gets the identity from the provider,
//! finds or makes the account (see [`resolve_account`] for the linking rules) and sends the
//! browser back to the UI with a one-time exchange code in the fragment; the UI trades it for
//! tokens with `POST /v1/oauth/exchange`, once. Every failure of the callback comes back to the UI
//! as `#error=<code>`, never as a 500.

mod github;
mod google;

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use oauth2::{HttpRequest, HttpResponse};
use url::Url;

pub use crate::identity::{IdentityLink, PendingSignIn, Provider};

use crate::app::App;
use crate::audit::{self, EventKind};
use crate::caller::Caller;
use crate::config::{LinkByEmail, OAuthClient, SignupMode};
use crate::email::Email;
use crate::error::{Error, Result};
use crate::grant::{TokenGrant, start_session};
use crate::invitations::{self, Invitation, InvitationUse};
use crate::login::check_status;
use crate::one_time_token::{self, OneTimeToken, TokenPurpose};
use crate::secret::Secret;
use crate::tokens::{OpaqueToken, digest};
use crate::user::{User, UserStatus, new_user_id};
use crate::username;

/// How long a sign-in may stay at the provider.
pub const SIGN_IN_TTL: Duration = Duration::from_secs(10 * 60);
/// The cookie that binds `state` to the browser that began the sign-in.
pub const STATE_COOKIE: &str = "portcullis_oauth_state";
/// Where the browser goes back to when no `return_to` was given, or the sign-in is unknown.
const COMPLETE_PATH: &str = "/oauth/complete";
/// Times the callback tries to settle an account against concurrent sign-ins.
const MAX_RESOLVE_ATTEMPTS: usize = 3;

/// The app as provider sign-in sees it: the app itself (every field of `App` reads through), plus
/// the HTTP client every provider call goes through and what is cached about providers. Only the
/// oauth-callback function builds one, so no other function carries an HTTP client.
pub struct Context {
    app: Arc<App>,
    /// Built on first use, not at start-up: a TLS client (its root certificates) costs time.
    http: OnceLock<reqwest::Client>,
    google: Mutex<google::Cache>,
}

impl std::ops::Deref for Context {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

impl Context {
    pub fn new(app: Arc<App>) -> Context {
        Context {
            app,
            http: OnceLock::new(),
            google: Mutex::new(google::Cache::default()),
        }
    }

    fn http(&self) -> Result<&reqwest::Client> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls_config()?)
            // A provider's redirect is never followed: the token endpoint answers itself.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent("Portcullis")
            .build()
            .map_err(Error::internal)?;
        Ok(self.http.get_or_init(|| http))
    }

    /// The client `oauth2` sends its token requests through.
    fn token_client(&self) -> Result<TokenClient<'_>> {
        Ok(TokenClient(self.http()?))
    }
}

/// TLS for provider calls: rustls with ring, and the platform's trusted roots.
fn tls_config() -> Result<rustls::ClientConfig> {
    use rustls_platform_verifier::BuilderVerifierExt as _;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::internal)?
        .with_platform_verifier()
        .map_err(Error::internal)?
        .with_no_client_auth())
}

/// `oauth2`'s `AsyncHttpClient` over the workspace's reqwest, so one reqwest is in the tree.
struct TokenClient<'a>(&'a reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for TokenClient<'_> {
    type Error = reqwest::Error;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = std::result::Result<HttpResponse, reqwest::Error>> + Send + 'c>,
    >;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)?;
            let response = self.0.execute(request).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?.to_vec();
            let mut answer = HttpResponse::new(body);
            *answer.status_mut() = status;
            *answer.headers_mut() = headers;
            Ok(answer)
        })
    }
}

/// Sends a provider GET and reads its JSON answer; anything but a 2xx with JSON is a provider
/// error naming the URL (never a token: those travel in headers).
async fn fetch_json<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
    url: &str,
) -> std::result::Result<T, Failure> {
    let response = request
        .send()
        .await
        .map_err(|e| Failure::Provider(format!("GET {url}: {e}")))?;
    if !response.status().is_success() {
        return Err(Failure::Provider(format!(
            "GET {url}: status {}",
            response.status()
        )));
    }
    response
        .json()
        .await
        .map_err(|e| Failure::Provider(format!("GET {url}: {e}")))
}

/// Why a callback did not end with an exchange code: the `#error=<code>` the UI gets.
#[derive(Debug)]
pub enum Failure {
    /// The person declined at the provider.
    AccessDenied,
    /// The provider answered with an error, or not as it should (token exchange, user info).
    Provider(String),
    /// No sign-in with this `state` is under way in this browser (unknown, used, expired, or
    /// without the browser's cookie).
    InvalidState,
    /// The ID token failed a check: signature, `iss`, `aud`, `exp` or `nonce`.
    InvalidIdToken(String),
    /// The provider does not vouch for the email.
    EmailNotVerified,
    /// An account has this email but the identity may not join it (see `resolve_account`).
    EmailTaken,
    /// Refused by the signup mode or the account's status.
    Refused(Error),
    Internal(Error),
}

impl Failure {
    pub fn code(&self) -> &'static str {
        match self {
            Failure::AccessDenied => "access_denied",
            Failure::Provider(_) => "provider_error",
            Failure::InvalidState => "invalid_state",
            Failure::InvalidIdToken(_) => "invalid_id_token",
            Failure::EmailNotVerified => "email_not_verified",
            Failure::EmailTaken => "email_taken",
            Failure::Refused(error) => error.code(),
            Failure::Internal(_) => "server_error",
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::Internal(error)
    }
}

/// Who the provider says signed in.
#[derive(Debug)]
pub struct ProviderIdentity {
    pub provider: Provider,
    /// The provider's stable user id.
    pub subject: String,
    /// The email, only when the provider vouches for it.
    pub verified_email: Option<Email>,
}

/// A redirect for the browser, with the state cookie to set or clear.
#[derive(Debug)]
pub struct Redirect {
    pub location: String,
    pub set_cookie: Option<String>,
}

/// The provider `name` names, if it is configured.
pub fn configured(app: &Context, name: &str) -> Result<(Provider, OAuthClient)> {
    let provider = Provider::parse(name).ok_or(Error::UnknownProvider)?;
    let client = match provider {
        Provider::Google => app.config.oauth.google.clone(),
        Provider::GitHub => app.config.oauth.github.clone(),
    };
    client
        .map(|client| (provider, client))
        .ok_or(Error::UnknownProvider)
}

/// `{public}/v1/oauth/{provider}/callback`: the redirect URI to register with the provider.
pub fn redirect_uri(app: &Context, provider: Provider) -> String {
    format!("{}/v1/oauth/{}/callback", app.issuer, provider.as_str())
}

/// Where the UI gets the outcome when it named no `return_to`.
fn default_return_to(app: &Context) -> String {
    format!("{}{COMPLETE_PATH}", app.ui_url())
}

/// `return_to` when it is allowed: same scheme, host and port as one of
/// `PORTCULLIS_OAUTH_RETURN_TO` (the UI URL by default), and a path under that one's path at a
/// `/` boundary. No credentials and no fragment (the outcome goes in the fragment).
pub fn allowed_return_to(app: &Context, return_to: Option<&str>) -> Result<String> {
    let Some(value) = return_to.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(default_return_to(app));
    };
    let refused = || Error::invalid_field("return_to", "is not an allowed return URL");
    let url = Url::parse(value).map_err(|_| refused())?;
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(refused());
    }
    let allowed = if app.config.oauth.return_to.is_empty() {
        vec![Url::parse(&app.ui_url()).map_err(Error::internal)?]
    } else {
        app.config.oauth.return_to.clone()
    };
    let fits = allowed.iter().any(|base| {
        let base_path = base.path().trim_end_matches('/');
        url.scheme() == base.scheme()
            && url.host() == base.host()
            && url.port_or_known_default() == base.port_or_known_default()
            && url
                .path()
                .strip_prefix(base_path)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    });
    if fits {
        Ok(url.to_string())
    } else {
        Err(refused())
    }
}

/// The caller's PKCE parameters on `/authorize`: `code_challenge` (S256, required) and
/// `code_challenge_method` (`S256`).
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientPkce<'a> {
    pub challenge: Option<&'a str>,
    pub method: Option<&'a str>,
}

impl ClientPkce<'_> {
    /// The challenge, or 400 naming the field at fault.
    fn checked(self) -> Result<String> {
        let mut errors = crate::error::FieldErrors::default();
        match self.challenge.map(str::trim) {
            None | Some("") => errors.add("code_challenge", "is required (PKCE, S256)"),
            Some(challenge) if !crate::openid::is_challenge(challenge) => errors.add(
                "code_challenge",
                "must be the S256 of a verifier: 43 base64url characters",
            ),
            Some(_) => {}
        }
        if self.method.map(str::trim) != Some("S256") {
            errors.add("code_challenge_method", "must be S256");
        }
        errors.into_result()?;
        Ok(self.challenge.unwrap_or_default().trim().to_owned())
    }
}

/// `GET /v1/oauth/{provider}/authorize`: begins a sign-in and sends the browser to the provider.
/// `invitation` is kept (as its digest) with the sign-in for the signup-mode decision.
#[tracing::instrument(skip_all, fields(provider = name), err(level = "info"))]
pub async fn authorize(
    app: &Context,
    name: &str,
    return_to: Option<&str>,
    invitation: Option<Secret>,
    pkce: ClientPkce<'_>,
) -> Result<Redirect> {
    let (provider, client) = configured(app, name)?;
    let return_to = allowed_return_to(app, return_to)?;
    let client_challenge = pkce.checked()?;
    let now = app.clock.now();
    let state = OpaqueToken::generate();
    let nonce = OpaqueToken::generate().token;
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let location = match provider {
        Provider::Google => {
            google::authorize_url(app, &client, &state.token, &challenge, &nonce).await
        }
        Provider::GitHub => github::authorize_url(app, &client, &state.token, &challenge),
    };
    let location = match location {
        Ok(location) => location,
        Err(failure) => {
            log_failure(&failure);
            return Ok(Redirect {
                location: with_fragment(&return_to, "error", failure.code()),
                set_cookie: None,
            });
        }
    };
    app.store
        .create_pending_sign_in(&PendingSignIn {
            state_digest: state.digest,
            provider,
            pkce_verifier: Secret::new(verifier.secret().as_str()),
            nonce,
            return_to,
            invitation_digest: invitation.map(|token| digest(token.expose().trim())),
            client_challenge,
            created_at: now,
            expires_at: now.plus(SIGN_IN_TTL),
        })
        .await?;
    Ok(Redirect {
        location,
        set_cookie: Some(format!(
            "{STATE_COOKIE}={}; Path=/v1/oauth; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
            state.token.expose(),
            SIGN_IN_TTL.as_secs()
        )),
    })
}

/// What the provider sent the browser back with.
#[derive(Debug, Default)]
pub struct CallbackQuery {
    pub code: Option<Secret>,
    pub state: Option<Secret>,
    pub error: Option<String>,
    /// RFC 9207: the issuer that answered, when the provider says.
    pub iss: Option<String>,
}

/// `GET /v1/oauth/{provider}/callback`: always a redirect to the UI, with `#code=<one-time code>`
/// or `#error=<code>`. `UnknownProvider` is the only error.
#[tracing::instrument(skip_all, fields(provider = name))]
pub async fn callback(
    app: &Context,
    caller: &Caller,
    name: &str,
    query: CallbackQuery,
    state_cookie: Option<Secret>,
) -> Result<Redirect> {
    let (provider, client) = configured(app, name)?;
    // The cookie is cleared only with the sign-in it names: a forged callback must not end the
    // browser's real sign-in.
    let (location, outcome, set_cookie) =
        match pending_sign_in(app, provider, &query, state_cookie).await {
            Err(failure) => (default_return_to(app), Err(failure), None),
            Ok(pending) => {
                let outcome = finish(app, caller, &client, &pending, query).await;
                (pending.return_to, outcome, Some(clear_state_cookie()))
            }
        };
    let location = match outcome {
        Ok(code) => with_fragment(&location, "code", code.expose()),
        Err(failure) => {
            log_failure(&failure);
            with_fragment(&location, "error", failure.code())
        }
    };
    Ok(Redirect {
        location,
        set_cookie,
    })
}

/// The sign-in this callback belongs to, consumed: the `state` must be the one this browser's
/// cookie holds, under way, unexpired, and for this provider.
async fn pending_sign_in(
    app: &Context,
    provider: Provider,
    query: &CallbackQuery,
    state_cookie: Option<Secret>,
) -> std::result::Result<PendingSignIn, Failure> {
    let (Some(state), Some(cookie)) = (&query.state, state_cookie) else {
        return Err(Failure::InvalidState);
    };
    let state_digest = digest(state.expose());
    if state_digest != digest(cookie.expose()) {
        return Err(Failure::InvalidState);
    }
    let pending = app
        .store
        .consume_pending_sign_in(&state_digest, app.clock.now())
        .await?
        .ok_or(Failure::InvalidState)?;
    if pending.provider != provider {
        return Err(Failure::InvalidState);
    }
    Ok(pending)
}

/// From the provider's answer to an exchange code.
async fn finish(
    app: &Context,
    caller: &Caller,
    client: &OAuthClient,
    pending: &PendingSignIn,
    query: CallbackQuery,
) -> std::result::Result<Secret, Failure> {
    if let Some(error) = query.error {
        return Err(if error == "access_denied" {
            Failure::AccessDenied
        } else {
            Failure::Provider(format!("the provider answered {error}"))
        });
    }
    let code = query
        .code
        .ok_or_else(|| Failure::Provider("no code in the callback".into()))?;
    let identity = match pending.provider {
        Provider::Google => {
            google::identity(app, client, pending, &code, query.iss.as_deref()).await?
        }
        Provider::GitHub => github::identity(app, client, pending, &code).await?,
    };
    let user =
        resolve_account(app, caller, &identity, pending.invitation_digest.as_deref()).await?;
    check_status(app, &user).map_err(Failure::Refused)?;
    tracing::info!(user_id = %user.id, provider = identity.provider.as_str(), "signed in with a provider");
    Ok(exchange_code(app, &user, &pending.client_challenge).await?)
}

/// The account a provider identity signs in to, made or linked when needed:
///
/// 1. An identity linked before signs in to its account, whatever the emails say now.
/// 2. Otherwise the provider must vouch for the email (`email_not_verified` if not).
/// 3. An account with that email gets the identity linked only when its own email is verified
///    too and `PORTCULLIS_OAUTH_LINK_BY_EMAIL` is `verified`; otherwise `email_taken`. So an
///    account someone signed up for with another person's address (never verified) can't be
///    taken over by, nor take over, that person's provider identity.
/// 4. Otherwise a new account: a suggested username, no password, the email verified, the
///    signup mode applied (`signup_status`).
///
/// Every write is conditional, so of two callbacks racing with one identity exactly one link is
/// made; the other looks again and finds it.
/// The provider has just shown who owns the address. A password set before the address was
/// confirmed may be a squatter's (someone who signed up with another person's address and waited
/// for them to confirm it): it is removed, and every session and access key of the account ends.
/// The owner can set a password again by reset.
async fn forget_unconfirmed_password(app: &Context, caller: &Caller, user: User) -> Result<User> {
    if user.password_hash.is_none() || !user.password_unconfirmed {
        return Ok(user);
    }
    let Some(cleared) = app
        .store
        .set_password(&user.id, None, user.password_epoch, false)
        .await?
    else {
        // A reset won meanwhile: its password is the owner's.
        return app
            .store
            .user_by_id(&user.id)
            .await?
            .ok_or_else(|| Error::internal("an account vanished while it was linked"));
    };
    let keys = crate::access_keys::delete_all(app, caller, &user.id).await?;
    tracing::warn!(user_id = %user.id, access_keys_deleted = keys, "unconfirmed password removed at provider link");
    app.audit(
        caller,
        EventKind::UnconfirmedPasswordRemoved,
        Some(&user.id),
        audit::detail(&[]),
    )
    .await;
    Ok(cleared)
}

pub async fn resolve_account(
    app: &Context,
    caller: &Caller,
    identity: &ProviderIdentity,
    invitation_digest: Option<&str>,
) -> std::result::Result<User, Failure> {
    for _ in 0..MAX_RESOLVE_ATTEMPTS {
        if let Some(link) = app
            .store
            .identity(identity.provider, &identity.subject)
            .await?
        {
            return app.store.user_by_id(&link.user_id).await?.ok_or_else(|| {
                Failure::Internal(Error::internal("an identity is linked to no account"))
            });
        }
        let Some(email) = &identity.verified_email else {
            return Err(Failure::EmailNotVerified);
        };
        let link = IdentityLink {
            provider: identity.provider,
            subject: identity.subject.clone(),
            user_id: String::new(),
            email_key: email.key().to_owned(),
            created_at: app.clock.now(),
        };
        if let Some(user) = app.store.user_by_email(email.key()).await? {
            if app.config.oauth.link_by_email == LinkByEmail::Never || !user.email_verified {
                return Err(Failure::EmailTaken);
            }
            // A disabled account gets no new way in (and is refused the same way as at login).
            check_status(app, &user).map_err(Failure::Refused)?;
            let link = IdentityLink {
                user_id: user.id.clone(),
                ..link
            };
            if app.store.link_identity(&link).await? {
                tracing::info!(user_id = %user.id, provider = identity.provider.as_str(), "identity linked to an existing account");
                audit_link(app, caller, &link, false).await;
                return Ok(forget_unconfirmed_password(app, caller, user).await?);
            }
            continue;
        }
        let status = signup_status(app.config.signup.mode, invitation_digest.is_some())
            .map_err(Failure::Refused)?;
        let invitation = match invitation_digest {
            Some(digest) => Some(
                invitations::admit_digest(app, digest, email)
                    .await
                    .map_err(refused_invitation)?,
            ),
            None => None,
        };
        match create_account(app, email, status, link, invitation.as_ref()).await {
            Ok(Some(user)) => {
                audit_link(app, caller, &identity_link(identity, &user), true).await;
                return Ok(user);
            }
            // A concurrent sign-in made the account or the link: look again.
            Ok(None) | Err(Error::EmailTaken) => continue,
            Err(other) => return Err(refused_invitation(other)),
        }
    }
    Err(Failure::Internal(Error::internal(
        "the account of an identity did not settle",
    )))
}

/// The signup mode's word on a new account made through a provider: its status, or why not.
/// The invitation itself (the one passed to `/authorize`) is checked by `invitations::admit_digest`
/// and used up in the account's write, as on signup with a password.
pub fn signup_status(mode: SignupMode, invited: bool) -> std::result::Result<UserStatus, Error> {
    match mode {
        SignupMode::Open => Ok(UserStatus::Active),
        SignupMode::Approval => Ok(UserStatus::PendingApproval),
        SignupMode::Disabled => Err(Error::SignupDisabled),
        SignupMode::Invitation if invited => Ok(UserStatus::Active),
        SignupMode::Invitation => Err(Error::InvitationRequired),
    }
}

/// An invitation that can't be used refuses the sign-in; anything else is unexpected.
fn refused_invitation(error: Error) -> Failure {
    match error {
        Error::InvitationInvalid => Failure::Refused(error),
        other => Failure::Internal(other),
    }
}

fn identity_link(identity: &ProviderIdentity, user: &User) -> IdentityLink {
    IdentityLink {
        provider: identity.provider,
        subject: identity.subject.clone(),
        user_id: user.id.clone(),
        email_key: user.email.key().to_owned(),
        created_at: user.created_at,
    }
}

/// The `oauth_linked` audit event: a provider identity now opens `link.user_id`.
async fn audit_link(app: &Context, caller: &Caller, link: &IdentityLink, new_account: bool) {
    app.audit(
        caller,
        EventKind::OauthLinked,
        Some(&link.user_id),
        audit::detail(&[
            ("provider", link.provider.as_str().into()),
            ("new_account", new_account.into()),
        ]),
    )
    .await;
}

/// A new account for a provider identity, linked to it in the same write. `None` when the
/// identity was linked meanwhile.
async fn create_account(
    app: &Context,
    email: &Email,
    status: UserStatus,
    link: IdentityLink,
    invitation: Option<&(Invitation, InvitationUse)>,
) -> Result<Option<User>> {
    let base = username::suggestion_base(email);
    let mut user = User {
        id: new_user_id(),
        email: email.clone(),
        username: username::Username::from_stored(base.clone()),
        password_hash: None,
        first_name: String::new(),
        last_name: String::new(),
        email_verified: true,
        status,
        roles: invitation.map_or_else(
            || vec![crate::roles::USER.to_owned()],
            |(invitation, _)| invitation.roles.clone(),
        ),
        created_at: app.clock.now(),
        session_epoch: 0,
        password_epoch: 0,
        password_unconfirmed: false,
    };
    let link = IdentityLink {
        user_id: user.id.clone(),
        ..link
    };
    // A suggested name may be claimed between the look-up and the write: try the next one.
    for candidate in username::candidates(&base) {
        if app.store.user_by_username(candidate.key()).await?.is_some() {
            continue;
        }
        user.username = candidate;
        let claim = invitation.map(|(_, claim)| claim);
        match app
            .store
            .create_user_with_identity(&user, &link, claim)
            .await
        {
            Ok(true) => {
                tracing::info!(user_id = %user.id, status = user.status.as_str(), provider = link.provider.as_str(), "account created through a provider");
                return Ok(Some(user));
            }
            Ok(false) => return Ok(None),
            Err(Error::UsernameTaken) => continue,
            Err(other) => return Err(other),
        }
    }
    Err(Error::UsernameTaken)
}

/// A one-time code for `user`, kept as its digest, good for `PORTCULLIS_OAUTH_EXCHANGE_TTL`.
async fn exchange_code(app: &Context, user: &User, challenge: &str) -> Result<Secret> {
    let now = app.clock.now();
    let code = OpaqueToken::generate();
    app.store
        .create_token(&OneTimeToken {
            digest: code.digest,
            purpose: TokenPurpose::OauthExchange,
            user_id: user.id.clone(),
            email_key: user.email.key().to_owned(),
            password_epoch: user.password_epoch,
            created_at: now,
            expires_at: now.plus(app.config.oauth.exchange_ttl),
            challenge: Some(challenge.to_owned()),
        })
        .await?;
    Ok(code.token)
}

/// `POST /v1/oauth/exchange`: the one-time code for tokens, once, with the verifier of the PKCE
/// challenge the sign-in began with (so a code pushed into someone else's browser is worth
/// nothing there). The code is used up whether or not the verifier matches. The account's
/// status is checked again (it may have been disabled in the meantime).
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn exchange(
    app: &App,
    caller: &Caller,
    code: &str,
    verifier: Option<&str>,
) -> Result<TokenGrant> {
    let digest = one_time_token::parse(code)?;
    let token = app
        .store
        .consume_token(&digest, TokenPurpose::OauthExchange, app.clock.now())
        .await?
        .ok_or(Error::InvalidToken)?;
    let proven = match (token.challenge.as_deref(), verifier) {
        (Some(challenge), Some(verifier)) => crate::openid::pkce_matches(challenge, verifier),
        _ => false,
    };
    if !proven {
        return Err(Error::InvalidToken);
    }
    let user = app
        .store
        .user_by_id(&token.user_id)
        .await?
        .filter(|user| user.password_epoch == token.password_epoch)
        .ok_or(Error::InvalidToken)?;
    check_status(app, &user)?;
    let grant = start_session(app, &user, caller).await?;
    tracing::info!(user_id = %user.id, session_id = %grant.session_id, "logged in through a provider");
    app.audit(
        caller,
        EventKind::LoginSucceeded,
        Some(&user.id),
        audit::detail(&[("method", "oauth".into())]),
    )
    .await;
    Ok(grant)
}

/// What a failed token request says, without the body (which may echo secrets).
fn describe<E: std::error::Error>(
    error: &oauth2::RequestTokenError<E, oauth2::basic::BasicErrorResponse>,
) -> String {
    match error {
        oauth2::RequestTokenError::ServerResponse(response) => {
            format!("the provider answered {}", response.error())
        }
        oauth2::RequestTokenError::Request(e) => format!("request: {e}"),
        oauth2::RequestTokenError::Parse(e, _) => format!("unreadable answer: {e}"),
        oauth2::RequestTokenError::Other(e) => e.clone(),
    }
}

fn with_fragment(location: &str, name: &str, value: &str) -> String {
    let fragment: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair(name, value)
        .finish();
    format!("{location}#{fragment}")
}

fn clear_state_cookie() -> String {
    format!("{STATE_COOKIE}=; Path=/v1/oauth; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
}

/// The cause goes to the log (never a code, token or secret); the browser gets only the code.
fn log_failure(failure: &Failure) {
    match failure {
        Failure::Internal(error) => match error.cause() {
            Some(cause) => {
                tracing::error!(code = failure.code(), %cause, "provider sign-in failed")
            }
            None => tracing::error!(code = failure.code(), %error, "provider sign-in failed"),
        },
        Failure::Provider(cause) | Failure::InvalidIdToken(cause) => {
            tracing::warn!(code = failure.code(), %cause, "provider sign-in refused");
        }
        other => tracing::info!(code = other.code(), "provider sign-in refused"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signup_modes_decide_new_accounts() {
        assert_eq!(
            signup_status(SignupMode::Open, false).unwrap(),
            UserStatus::Active
        );
        assert_eq!(
            signup_status(SignupMode::Approval, false).unwrap(),
            UserStatus::PendingApproval
        );
        assert!(matches!(
            signup_status(SignupMode::Disabled, false),
            Err(Error::SignupDisabled)
        ));
        assert!(matches!(
            signup_status(SignupMode::Invitation, false),
            Err(Error::InvitationRequired)
        ));
        assert_eq!(
            signup_status(SignupMode::Invitation, true).unwrap(),
            UserStatus::Active
        );
        assert!(matches!(
            signup_status(SignupMode::Disabled, true),
            Err(Error::SignupDisabled)
        ));
    }

    #[test]
    fn failures_have_the_codes_the_ui_reads() {
        assert_eq!(
            Failure::Refused(Error::AccountDisabled).code(),
            "account_disabled"
        );
        assert_eq!(
            Failure::Refused(Error::PendingApproval).code(),
            "pending_approval"
        );
        assert_eq!(
            Failure::Internal(Error::internal("x")).code(),
            "server_error"
        );
        assert_eq!(
            with_fragment("https://ui.example/done", "error", "access_denied"),
            "https://ui.example/done#error=access_denied"
        );
    }
}
