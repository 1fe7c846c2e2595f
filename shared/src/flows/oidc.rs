//! Portcullis as an OpenID provider: the authorization-code flow (OpenID Connect Core 1.0,
//! RFC 6749, PKCE by RFC 7636, RFC 9700's best practice), UserInfo, revocation (RFC 7009) and
//! RP-initiated logout.
//!
//! A person signs in on the hosted pages; `/oauth2/authorize` then hands the client a code
//! (single use, 60 s, bound to the client, the redirect URI and the PKCE challenge) at its
//! registered redirect URI. The token endpoint trades the code for an ID token, an access token
//! (`at+jwt`, for UserInfo) and a refresh token that rotates like the `/v1` API's, within a
//! session of its own bound to the client. Presenting a code twice revokes that session.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;
use subtle::ConstantTimeEq as _;

use crate::app::App;
use crate::audit::{self, EventKind};
use crate::caller::Caller;
use crate::clock::UnixTime;
use crate::error::{Error, Result};
use crate::grant::new_session;
use crate::login::check_status;
use crate::openid::{
    AuthorizationCode, CODE_TTL_SECONDS, Client, OAuthError, Redemption, at_hash, is_challenge,
    pkce_matches,
};
use crate::secret::Secret;
use crate::session::ClientGrant;
use crate::sessions;
use crate::tokens::{ClientAccessClaims, IdClaims, OpaqueToken, ScopedClaims, digest};
use crate::user::{User, UserStatus};

/// Longest `state` and `nonce` carried.
const MAX_STATE_LENGTH: usize = 1024;

/// A refusal at the token, UserInfo or revocation endpoint: an RFC 6749 error, or an error of
/// Portcullis' own (a store that is down).
#[derive(Debug)]
pub enum Failure {
    OAuth(OAuthError),
    Other(Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::Other(error)
    }
}

impl From<OAuthError> for Failure {
    fn from(error: OAuthError) -> Failure {
        Failure::OAuth(error)
    }
}

// ---------------------------------------------------------------------------------------------
// The authorization endpoint

/// The browser session an authorization request comes with.
pub struct SignedIn {
    pub user: User,
    /// When the person authenticated: the start of the browser session.
    pub auth_time: UnixTime,
    /// The access key the browser session was opened with, if one was.
    pub access_key: Option<String>,
}

/// What `/oauth2/authorize` does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Authorize {
    /// An error page, never a redirect: the client is unknown, or the redirect URI is not one
    /// it registered (RFC 6749 4.1.2.1). The text is a message id of the pages.
    Refuse(&'static str),
    /// A 303 to the client's redirect URI, with a code or an error.
    Redirect(String),
    /// The person must sign in (again) first; the pages come back here afterwards.
    SignIn { login_hint: Option<String> },
}

/// Decides an authorization request. `fresh_since` is set when the pages sent the person to sign
/// in for this very request: a sign-in since then satisfies `prompt=login` and `max_age`.
pub async fn authorize(
    app: &App,
    caller: &Caller,
    params: &HashMap<String, String>,
    signed_in: Option<SignedIn>,
    fresh_since: Option<UnixTime>,
) -> Result<Authorize> {
    let param = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let client = match param("client_id") {
        Some(id) if id.len() <= 128 => app.store.client(id).await?,
        _ => None,
    };
    let Some(client) = client else {
        return Ok(Authorize::Refuse("oidc-unknown-client"));
    };
    let Some(redirect_uri) =
        param("redirect_uri").filter(|uri| client.redirect_uris.iter().any(|r| r == uri))
    else {
        return Ok(Authorize::Refuse("oidc-bad-redirect-uri"));
    };
    let state = param("state");
    let back = |error: OAuthError| {
        Ok(Authorize::Redirect(with_params(
            redirect_uri,
            &[
                ("error", Some(error.error)),
                ("error_description", Some(&error.description)),
                ("state", state),
                ("iss", Some(&app.issuer)),
            ],
        )))
    };
    if param("request").is_some() {
        return back(OAuthError::new(
            "request_not_supported",
            "request objects are not supported",
        ));
    }
    if param("request_uri").is_some() {
        return back(OAuthError::new(
            "request_uri_not_supported",
            "request_uri is not supported",
        ));
    }
    if param("response_type") != Some("code") {
        return back(OAuthError::new(
            "unsupported_response_type",
            "response_type must be code",
        ));
    }
    if param("response_mode").is_some_and(|mode| mode != "query") {
        return back(OAuthError::invalid_request("response_mode must be query"));
    }
    let requested = param("scope").unwrap_or_default();
    if !requested.split(' ').any(|s| s == "openid") {
        return back(OAuthError::new(
            "invalid_scope",
            "scope must include openid",
        ));
    }
    let scope = client.grantable(requested).join(" ");
    if state.is_some_and(|s| s.len() > MAX_STATE_LENGTH)
        || param("nonce").is_some_and(|n| n.len() > MAX_STATE_LENGTH)
    {
        return back(OAuthError::invalid_request(format!(
            "state and nonce must be at most {MAX_STATE_LENGTH} characters"
        )));
    }
    let challenge = param("code_challenge");
    match (challenge, param("code_challenge_method")) {
        (None, None) if client.is_public() => {
            return back(OAuthError::invalid_request(
                "a public client must send a PKCE code_challenge (S256)",
            ));
        }
        (None, None) => {}
        (Some(challenge), Some("S256")) if is_challenge(challenge) => {}
        (Some(_), Some("S256")) => {
            return back(OAuthError::invalid_request(
                "code_challenge must be 43 base64url characters",
            ));
        }
        (None, Some(_)) => {
            return back(OAuthError::invalid_request(
                "code_challenge_method without code_challenge",
            ));
        }
        (Some(_), _) => {
            return back(OAuthError::invalid_request(
                "code_challenge_method must be S256",
            ));
        }
    }
    let prompts: Vec<&str> = param("prompt").unwrap_or_default().split(' ').collect();
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return back(OAuthError::invalid_request(
            "prompt=none may not be combined with other values",
        ));
    }
    let max_age = match param("max_age").map(str::parse::<u64>) {
        None => None,
        Some(Ok(seconds)) => Some(seconds),
        Some(Err(_)) => {
            return back(OAuthError::invalid_request(
                "max_age must be a number of seconds",
            ));
        }
    };
    let now = app.clock.now();
    let sign_in = || {
        Ok(Authorize::SignIn {
            login_hint: param("login_hint").map(str::to_owned),
        })
    };
    let Some(signed_in) = signed_in else {
        if prompt_none {
            return back(OAuthError::new("login_required", "no one is signed in"));
        }
        return sign_in();
    };
    let fresh = fresh_since.is_some_and(|since| signed_in.auth_time >= since);
    let too_old = max_age.is_some_and(|age| {
        now.seconds() - signed_in.auth_time.seconds() > i64::try_from(age).unwrap_or(i64::MAX)
    });
    if !fresh && (prompts.contains(&"login") || too_old) {
        if prompt_none {
            return back(OAuthError::new(
                "login_required",
                "the sign-in is older than max_age",
            ));
        }
        return sign_in();
    }
    let code = OpaqueToken::generate();
    let record = AuthorizationCode {
        digest: code.digest,
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        user_id: signed_in.user.id.clone(),
        scope: scope.clone(),
        nonce: param("nonce").map(str::to_owned),
        code_challenge: challenge.map(str::to_owned),
        auth_time: signed_in.auth_time,
        access_key: signed_in.access_key.clone(),
        session_epoch: signed_in.user.session_epoch,
        created_at: now,
        expires_at: now.plus(std::time::Duration::from_secs(
            CODE_TTL_SECONDS.unsigned_abs(),
        )),
        session_id: None,
    };
    app.store.create_code(&record).await?;
    app.audit(
        caller,
        EventKind::ClientAuthorized,
        Some(&signed_in.user.id),
        audit::detail(&[("client_id", json!(client.id)), ("scope", json!(scope))]),
    )
    .await;
    Ok(Authorize::Redirect(with_params(
        redirect_uri,
        &[
            ("code", Some(code.token.expose())),
            ("state", state),
            ("iss", Some(&app.issuer)),
        ],
    )))
}

/// `uri` with `pairs` appended to its query (the ones that are `Some`).
pub fn with_params(uri: &str, pairs: &[(&str, Option<&str>)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (name, value) in pairs {
                    if let Some(value) = value {
                        query.append_pair(name, value);
                    }
                }
            }
            url.to_string()
        }
        // Registered URIs were parsed at registration; this is unreachable in practice.
        Err(_) => uri.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Client authentication at the token and revocation endpoints

/// What a request says about the client: `Authorization: Basic` (`client_secret_basic`), or
/// `client_id` and `client_secret` in the form (`client_secret_post`, or a public client).
#[derive(Default)]
pub struct ClientCredentials {
    pub basic: Option<(String, Option<Secret>)>,
    pub form_id: Option<String>,
    pub form_secret: Option<Secret>,
}

/// The client a request authenticates as, or `invalid_client` (RFC 6749 2.3 and 3.2.1).
pub async fn authenticate_client(
    app: &App,
    credentials: ClientCredentials,
) -> Result<Client, Failure> {
    let (id, secret) = match (credentials.basic, credentials.form_secret) {
        (Some((_, Some(_))), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not two",
            )
            .into());
        }
        (Some((id, basic_secret)), form_secret) => {
            let secret = basic_secret.or(form_secret);
            if credentials.form_id.as_ref().is_some_and(|form| *form != id) {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the authenticated client",
                )
                .into());
            }
            (id, secret)
        }
        (None, secret) => match credentials.form_id {
            Some(id) => (id, secret),
            None => return Err(OAuthError::invalid_client().into()),
        },
    };
    if id.is_empty() || id.len() > 128 {
        return Err(OAuthError::invalid_client().into());
    }
    let client = app
        .store
        .client(&id)
        .await?
        .ok_or_else(OAuthError::invalid_client)?;
    let authenticated = match (&client.secret_digest, secret) {
        (Some(expected), Some(secret)) => {
            let presented = digest(secret.expose());
            bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
        }
        // A public client has no secret to send; one that sends a secret is confused.
        (None, None) => true,
        _ => false,
    };
    if authenticated {
        Ok(client)
    } else {
        Err(OAuthError::invalid_client().into())
    }
}

// ---------------------------------------------------------------------------------------------
// The token endpoint

/// The token endpoint's answer (RFC 6749 5.1, OpenID Connect Core 3.1.3.3).
pub struct Tokens {
    pub access_token: Secret,
    pub expires_in: u64,
    pub refresh_token: Secret,
    pub id_token: Secret,
    pub scope: String,
}

impl Serialize for Tokens {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        json!({
            "access_token": self.access_token.expose(),
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token.expose(),
            "id_token": self.id_token.expose(),
            "scope": self.scope,
        })
        .serialize(serializer)
    }
}

/// `grant_type=authorization_code`.
pub async fn redeem_code(
    app: &App,
    caller: &Caller,
    client: &Client,
    form: &HashMap<String, String>,
) -> Result<Tokens, Failure> {
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let code = field("code").ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
    let redirect_uri = field("redirect_uri")
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is missing"))?;
    let code_digest = digest(code);
    let invalid = || OAuthError::invalid_grant("the code is invalid, expired or used");
    let record = app.store.code(&code_digest).await?.ok_or_else(invalid)?;
    // A code of another client says nothing to this one and stays usable by its own.
    if record.client_id != client.id {
        return Err(invalid().into());
    }
    // Everything about the request is checked first; the code is used up below whatever the
    // outcome (a wrong guess at the verifier costs the code).
    let now = app.clock.now();
    let verifier = field("code_verifier");
    let pkce_ok = match (&record.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) => pkce_matches(challenge, verifier),
        (None, None) => true,
        // A verifier for a code issued without a challenge is a downgrade attempt (RFC 9700
        // 2.1.1); a challenge without its verifier is a stolen code.
        _ => false,
    };
    let checked = if now >= record.expires_at || record.redirect_uri != redirect_uri {
        Err(invalid())
    } else if !pkce_ok {
        Err(OAuthError::invalid_grant("code_verifier does not match"))
    } else {
        Ok(())
    };
    let user = match checked {
        Ok(()) => app.store.user_by_id(&record.user_id).await?.filter(|user| {
            user.session_epoch == record.session_epoch && check_status(app, user).is_ok()
        }),
        Err(_) => None,
    };
    let refresh = OpaqueToken::generate();
    let grant = ClientGrant {
        client_id: client.id.clone(),
        scope: record.scope.clone(),
        auth_time: record.auth_time,
    };
    // The session exists before the code names it, so a replay arriving at any moment after the
    // redemption finds the session, and revokes it.
    let session_id = uuid::Uuid::new_v4().to_string();
    let prepared = match &user {
        Some(user) => {
            let mut session = new_session(app, session_id.clone(), user, caller, refresh.digest);
            session.client = Some(grant.clone());
            // A sign-in made with an access key lends the app no more than the key's life.
            session.access_key = record.access_key.clone();
            app.store.create_session(&session).await?;
            Some(session)
        }
        None => None,
    };
    let redemption = app.store.redeem_code(&code_digest, &session_id).await?;
    if redemption != Redemption::Redeemed
        && let Some(session) = &prepared
    {
        app.store.revoke_session(&session.id, now).await?;
    }
    match redemption {
        Redemption::Redeemed => {}
        Redemption::Unknown => return Err(invalid().into()),
        Redemption::AlreadyRedeemed(earlier) => {
            app.store.revoke_session(&earlier, now).await?;
            tracing::warn!(client_id = %client.id, session_id = %earlier, "authorization code replayed: its tokens revoked");
            app.audit(
                caller,
                EventKind::CodeReplayed,
                Some(&record.user_id),
                audit::detail(&[("client_id", json!(client.id))]),
            )
            .await;
            return Err(invalid().into());
        }
    }
    checked?;
    let (Some(session), Some(user)) = (prepared, user) else {
        return Err(invalid().into());
    };
    app.audit(
        caller,
        EventKind::CodeRedeemed,
        Some(&user.id),
        audit::detail(&[("client_id", json!(client.id))]),
    )
    .await;
    Ok(issue(
        app,
        &user,
        &session.id,
        &grant,
        &grant.scope,
        record.nonce,
        refresh.token,
    )?)
}

/// `grant_type=refresh_token`: the session's refresh token rotates as on the `/v1` API, and only
/// for the client it was issued to.
pub async fn refresh(
    app: &App,
    caller: &Caller,
    client: &Client,
    form: &HashMap<String, String>,
) -> Result<Tokens, Failure> {
    let token = form
        .get("refresh_token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    let rotated = sessions::rotate(app, caller, &Secret::new(token.as_str()), Some(&client.id))
        .await
        .map_err(|error| match error {
            Error::InvalidRefreshToken => {
                Failure::OAuth(OAuthError::invalid_grant("the refresh token is invalid"))
            }
            other => Failure::Other(other),
        })?;
    let grant = rotated
        .session
        .client
        .clone()
        .ok_or_else(|| Error::internal("a client session without its client"))?;
    // A narrower scope may be asked for (RFC 6749 6); never a wider one, nor one the client is
    // no longer allowed.
    let allowed: Vec<&str> = grant
        .scope
        .split(' ')
        .filter(|s| client.scopes.iter().any(|c| c == s))
        .collect();
    let scope = match form.get("scope").filter(|s| !s.is_empty()) {
        None => allowed.join(" "),
        Some(asked) => {
            let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
            if !asked.iter().all(|s| allowed.contains(s)) {
                return Err(OAuthError::new(
                    "invalid_scope",
                    "scope may not be wider than the one granted",
                )
                .into());
            }
            allowed
                .iter()
                .filter(|g| asked.contains(g))
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    Ok(issue(
        app,
        &rotated.user,
        &rotated.session.id,
        &grant,
        &scope,
        None,
        rotated.refresh_token,
    )?)
}

/// Signs the access token and ID token of a client session.
fn issue(
    app: &App,
    user: &User,
    session_id: &str,
    grant: &ClientGrant,
    scope: &str,
    nonce: Option<String>,
    refresh_token: Secret,
) -> Result<Tokens> {
    let now = app.clock.now();
    let ttl = app.config.tokens.access_token_ttl;
    let keys = app.keys();
    let access_token = keys.sign_client_access(&ClientAccessClaims {
        iss: app.issuer.clone(),
        sub: user.id.clone(),
        aud: grant.client_id.clone(),
        client_id: grant.client_id.clone(),
        scope: scope.to_owned(),
        sid: session_id.to_owned(),
        auth_time: grant.auth_time.seconds(),
        iat: now.seconds(),
        nbf: now.seconds(),
        exp: now.plus(ttl).seconds(),
        jti: uuid::Uuid::new_v4().to_string(),
    })?;
    let id_token = keys.sign_id_token(&IdClaims {
        iss: app.issuer.clone(),
        sub: user.id.clone(),
        aud: grant.client_id.clone(),
        exp: now.plus(ttl).seconds(),
        iat: now.seconds(),
        auth_time: grant.auth_time.seconds(),
        nonce,
        at_hash: Some(at_hash(access_token.expose())),
        sid: session_id.to_owned(),
        scoped: scoped_claims(user, scope),
    })?;
    Ok(Tokens {
        access_token,
        expires_in: ttl.as_secs(),
        refresh_token,
        id_token,
        scope: scope.to_owned(),
    })
}

/// The claims the granted scopes release (OpenID Connect Core 5.4).
pub fn scoped_claims(user: &User, scope: &str) -> ScopedClaims {
    let has = |name: &str| scope.split(' ').any(|s| s == name);
    let mut claims = ScopedClaims::default();
    if has("email") {
        claims.email = Some(user.email.as_str().to_owned());
        claims.email_verified = Some(user.email_verified);
    }
    if has("profile") {
        let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        claims.preferred_username = Some(user.username.as_str().to_owned());
        claims.given_name = non_empty(&user.first_name);
        claims.family_name = non_empty(&user.last_name);
        claims.name = non_empty(&format!(
            "{} {}",
            user.first_name.trim(),
            user.last_name.trim()
        ));
    }
    claims
}

// ---------------------------------------------------------------------------------------------
// UserInfo and revocation

/// `GET`/`POST /oauth2/userinfo`: `sub` and the claims of the token's scopes. `None` for a token
/// that is not a live client access token (the answer is 401 `invalid_token`).
pub async fn userinfo(app: &App, token: &str) -> Result<Option<serde_json::Value>> {
    let Some((claims, user)) = live_access(app, token).await? else {
        return Ok(None);
    };
    let mut body =
        serde_json::to_value(scoped_claims(&user, &claims.scope)).map_err(Error::internal)?;
    if let Some(object) = body.as_object_mut() {
        object.insert("sub".into(), json!(user.id));
    }
    Ok(Some(body))
}

/// A client access token whose session, client and account are all still good.
async fn live_access(app: &App, token: &str) -> Result<Option<(ClientAccessClaims, User)>> {
    let now = app.clock.now();
    let Some(claims) = app.keys().verify_client_access(token, &app.issuer, now) else {
        return Ok(None);
    };
    let Some(session) = app.store.session(&claims.sid).await? else {
        return Ok(None);
    };
    let Some(user) = app.store.user_by_id(&claims.sub).await? else {
        return Ok(None);
    };
    let bound = session
        .client
        .as_ref()
        .is_some_and(|c| c.client_id == claims.client_id);
    let good = bound
        && session.user_id == user.id
        && session.is_live(now, user.session_epoch)
        && user.status != UserStatus::Disabled
        && app.session_key_held(&session).await?
        && app.store.client(&claims.client_id).await?.is_some();
    Ok(good.then_some((claims, user)))
}

/// RFC 7009: revokes the session a refresh token or access token of this client belongs to.
/// A token that is unknown, invalid or another client's is answered the same way (200) and
/// changes nothing.
pub async fn revoke(app: &App, caller: &Caller, client: &Client, token: &str) -> Result<()> {
    let now = app.clock.now();
    let session = match app.store.session_by_refresh(&digest(token)).await? {
        Some(session) => Some(session),
        None => match app.keys().verify_client_access(token, &app.issuer, now) {
            Some(claims) => app.store.session(&claims.sid).await?,
            None => None,
        },
    };
    let Some(session) = session.filter(|s| {
        s.client
            .as_ref()
            .is_some_and(|grant| grant.client_id == client.id)
    }) else {
        return Ok(());
    };
    app.store.revoke_session(&session.id, now).await?;
    app.audit(
        caller,
        EventKind::ClientTokenRevoked,
        Some(&session.user_id),
        audit::detail(&[("client_id", json!(client.id))]),
    )
    .await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// RP-initiated logout

/// What `/oauth2/logout` was asked, checked.
#[derive(Debug, Default)]
pub struct LogoutRequest {
    /// The account of a valid `id_token_hint`, and the client session it names.
    pub hint: Option<IdClaims>,
    /// Where to send the person afterwards: a `post_logout_redirect_uri` registered by the client
    /// named by the hint or by `client_id`, with `state` added.
    pub redirect: Option<String>,
    /// Set when the request was malformed: a message id of the pages. Nothing is redirected to.
    pub problem: Option<&'static str>,
}

/// Checks an RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0, 2 and 3).
pub async fn logout_request(app: &App, params: &HashMap<String, String>) -> Result<LogoutRequest> {
    let param = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let mut request = LogoutRequest::default();
    if let Some(hint) = param("id_token_hint") {
        match app.keys().verify_id_token_hint(hint, &app.issuer) {
            Some(claims) => request.hint = Some(claims),
            None => {
                request.problem = Some("oidc-bad-logout-hint");
                return Ok(request);
            }
        }
    }
    let client_id = match (param("client_id"), &request.hint) {
        (Some(id), Some(hint)) if id != hint.aud => {
            request.problem = Some("oidc-bad-logout-hint");
            return Ok(request);
        }
        (Some(id), _) => Some(id.to_owned()),
        (None, Some(hint)) => Some(hint.aud.clone()),
        (None, None) => None,
    };
    if let Some(uri) = param("post_logout_redirect_uri") {
        let client = match &client_id {
            Some(id) if id.len() <= 128 => app.store.client(id).await?,
            _ => None,
        };
        match client {
            Some(client) if client.post_logout_redirect_uris.iter().any(|u| u == uri) => {
                request.redirect = Some(with_params(uri, &[("state", param("state"))]));
            }
            _ => request.problem = Some("oidc-bad-logout-redirect"),
        }
    }
    Ok(request)
}

/// Ends the client session an `id_token_hint` names (when it is still the hint's account's).
pub async fn end_client_session(app: &App, caller: &Caller, hint: &IdClaims) -> Result<()> {
    if let Some(session) = app.store.session(&hint.sid).await?
        && session.user_id == hint.sub
        && session.client.is_some()
    {
        app.store
            .revoke_session(&session.id, app.clock.now())
            .await?;
    }
    app.audit(
        caller,
        EventKind::ClientLogout,
        Some(&hint.sub),
        audit::detail(&[("client_id", json!(hint.aud))]),
    )
    .await;
    Ok(())
}
