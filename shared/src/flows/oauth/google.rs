//! Google: OpenID Connect, from the discovery document of the configured issuer. The ID token is
//! checked with `jsonwebtoken` against the issuer's JWKS: signature, `iss`, `aud` (and `azp`),
//! `exp` on the app's clock, and the `nonce` of the sign-in; `email_verified` decides whether the
//! email is vouched for.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, ExtraTokenFields,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::{Context, Failure, PendingSignIn, Provider, ProviderIdentity};
use crate::clock::UnixTime;
use crate::config::OAuthClient;
use crate::email::Email;
use crate::secret::Secret;
use crate::tokens::digest;

/// How long the discovery document and keys are kept before they are read again.
const CACHE_TTL: Duration = Duration::from_secs(60 * 60);
/// An unknown `kid` reads the keys again, at most this often (a rotation at the provider).
const KEY_REFRESH_MIN: Duration = Duration::from_secs(60);
/// Clock difference allowed between the provider and Portcullis.
const LEEWAY: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, Deserialize)]
pub(super) struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

#[derive(Default)]
pub(super) struct Cache {
    discovery: Option<(Arc<Discovery>, UnixTime)>,
    keys: Option<(Arc<JwkSet>, UnixTime)>,
}

/// The token response of an OpenID provider: the standard one plus `id_token`.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct IdTokenField {
    id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type OidcClient<HasAuthUrl, HasTokenUrl> = oauth2::Client<
    BasicErrorResponse,
    StandardTokenResponse<IdTokenField, BasicTokenType>,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuthUrl,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    HasTokenUrl,
>;

fn client(
    app: &Context,
    client: &OAuthClient,
    discovery: &Discovery,
) -> Result<OidcClient<oauth2::EndpointSet, oauth2::EndpointSet>, Failure> {
    let bad = |what: &str| Failure::Provider(format!("the discovery document has a bad {what}"));
    Ok(oauth2::Client::new(ClientId::new(client.client_id.clone()))
        .set_client_secret(ClientSecret::new(client.client_secret.clone()))
        .set_auth_uri(
            AuthUrl::new(discovery.authorization_endpoint.clone())
                .map_err(|_| bad("authorization_endpoint"))?,
        )
        .set_token_uri(
            TokenUrl::new(discovery.token_endpoint.clone()).map_err(|_| bad("token_endpoint"))?,
        )
        .set_redirect_uri(
            RedirectUrl::new(super::redirect_uri(app, Provider::Google))
                .map_err(|e| Failure::Internal(crate::Error::internal(e)))?,
        ))
}

fn issuer(app: &Context) -> String {
    app.config
        .oauth
        .google_issuer
        .as_str()
        .trim_end_matches('/')
        .to_owned()
}

/// The issuer's discovery document, cached for an hour. Its `issuer` must be the configured one.
async fn discovery(app: &Context) -> Result<Arc<Discovery>, Failure> {
    let now = app.clock.now();
    if let Ok(cache) = app.google.lock()
        && let Some((discovery, at)) = &cache.discovery
        && now < at.plus(CACHE_TTL)
    {
        return Ok(discovery.clone());
    }
    let url = format!("{}/.well-known/openid-configuration", issuer(app));
    let discovery: Discovery = get_json(app, &url).await?;
    if discovery.issuer.trim_end_matches('/') != issuer(app) {
        return Err(Failure::Provider(format!(
            "the discovery document names the issuer {}",
            discovery.issuer
        )));
    }
    let discovery = Arc::new(discovery);
    if let Ok(mut cache) = app.google.lock() {
        cache.discovery = Some((discovery.clone(), now));
    }
    Ok(discovery)
}

/// The issuer's keys: cached, and read again when a token names a key they lack.
async fn keys(
    app: &Context,
    discovery: &Discovery,
    kid: Option<&str>,
) -> Result<Arc<JwkSet>, Failure> {
    let now = app.clock.now();
    let cached = app.google.lock().ok().and_then(|c| c.keys.clone());
    if let Some((keys, at)) = cached {
        let has_key = kid.is_none_or(|kid| keys.find(kid).is_some());
        let fresh = now < at.plus(CACHE_TTL);
        if (has_key && fresh) || now < at.plus(KEY_REFRESH_MIN) {
            return Ok(keys);
        }
    }
    let keys: Arc<JwkSet> = Arc::new(get_json(app, &discovery.jwks_uri).await?);
    if let Ok(mut cache) = app.google.lock() {
        cache.keys = Some((keys.clone(), now));
    }
    Ok(keys)
}

async fn get_json<T: serde::de::DeserializeOwned>(app: &Context, url: &str) -> Result<T, Failure> {
    let request = app.http()?.get(url).header("accept", "application/json");
    super::fetch_json(request, url).await
}

/// Where the browser signs in: the issuer's authorization endpoint with `state`, the PKCE S256
/// challenge and the `nonce`.
pub(super) async fn authorize_url(
    app: &Context,
    oauth: &OAuthClient,
    state: &Secret,
    challenge: &PkceCodeChallenge,
    nonce: &Secret,
) -> Result<String, Failure> {
    let discovery = discovery(app).await?;
    let state = state.expose().to_owned();
    let (url, _) = client(app, oauth, &discovery)?
        .authorize_url(|| CsrfToken::new(state))
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge.clone())
        .add_extra_param("nonce", nonce.expose())
        .url();
    Ok(url.to_string())
}

/// The claims of an ID token that Portcullis reads; `iss` and `aud` are checked by `jsonwebtoken`.
#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    exp: i64,
    nonce: Option<String>,
    azp: Option<String>,
    email: Option<String>,
    /// A boolean, though some issuers have sent the string `"true"`.
    email_verified: Option<serde_json::Value>,
}

/// Trades the code (with the PKCE verifier) for tokens and reads the identity from the ID token.
pub(super) async fn identity(
    app: &Context,
    oauth: &OAuthClient,
    pending: &PendingSignIn,
    code: &Secret,
    iss: Option<&str>,
) -> Result<ProviderIdentity, Failure> {
    let discovery = discovery(app).await?;
    // RFC 9207: an issuer that names itself in the callback must be ours.
    if let Some(iss) = iss
        && iss.trim_end_matches('/') != issuer(app)
    {
        return Err(Failure::Provider(format!(
            "the callback came from the issuer {iss}"
        )));
    }
    let response = client(app, oauth, &discovery)?
        .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(
            pending.pkce_verifier.expose().to_owned(),
        ))
        .request_async(&app.token_client()?)
        .await
        .map_err(|e| {
            Failure::Provider(format!("the token request failed: {}", super::describe(&e)))
        })?;
    let id_token = response
        .extra_fields()
        .id_token
        .clone()
        .ok_or_else(|| Failure::Provider("the token response has no id_token".into()))?;
    let claims = verify_id_token(app, oauth, &discovery, &id_token, &pending.nonce).await?;
    let verified = match &claims.email_verified {
        Some(serde_json::Value::Bool(verified)) => *verified,
        Some(serde_json::Value::String(verified)) => verified == "true",
        _ => false,
    };
    let verified_email = claims
        .email
        .as_deref()
        .filter(|_| verified)
        .and_then(|email| Email::parse(email).ok());
    Ok(ProviderIdentity {
        provider: Provider::Google,
        subject: claims.sub,
        verified_email,
    })
}

/// The only signature algorithm an ID token may use: RS256, which Google signs with, OpenID
/// Connect requires of every provider, and Portcullis' crypto provider verifies (`jwt_crypto`);
/// never `none` or HMAC.
const ALGORITHMS: &[Algorithm] = &[Algorithm::RS256];

async fn verify_id_token(
    app: &Context,
    oauth: &OAuthClient,
    discovery: &Discovery,
    token: &str,
    nonce: &Secret,
) -> Result<IdClaims, Failure> {
    let invalid = |why: &str| Failure::InvalidIdToken(why.to_owned());
    crate::jwt_crypto::install();
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("unreadable header"))?;
    if !ALGORITHMS.contains(&header.alg) {
        return Err(invalid("a signature algorithm that is not allowed"));
    }
    let keys = keys(app, discovery, header.kid.as_deref()).await?;
    let jwk = match &header.kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
    .ok_or_else(|| invalid("signed with a key the issuer does not publish"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| invalid("an unusable key"))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[discovery.issuer.as_str()]);
    validation.set_audience(&[oauth.client_id.as_str()]);
    // Expiry is checked below on the app's clock, which tests can move.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
        .map_err(|e| Failure::InvalidIdToken(format!("{:?}", e.kind())))?
        .claims;
    let now = app.clock.now();
    if UnixTime(claims.exp).plus(LEEWAY) <= now {
        return Err(invalid("expired"));
    }
    if claims
        .azp
        .as_deref()
        .is_some_and(|azp| azp != oauth.client_id)
    {
        return Err(invalid("issued to another client (azp)"));
    }
    let nonce_matches = claims
        .nonce
        .as_deref()
        .is_some_and(|claimed| digest(claimed) == digest(nonce.expose()));
    if !nonce_matches {
        return Err(invalid("a nonce that is not this sign-in's"));
    }
    Ok(claims)
}
