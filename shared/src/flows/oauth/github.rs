//! GitHub: plain OAuth 2 (with PKCE S256). The identity is the numeric id from `GET /user`; the
//! email is the primary one from `GET /user/emails`, and only when GitHub marks it verified.
//! Base and API URLs come from config, so GitHub Enterprise (`https://ghe.example/api/v3`) works.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _, TokenUrl,
};
use serde::Deserialize;

use super::{Context, Failure, PendingSignIn, Provider, ProviderIdentity};
use crate::config::OAuthClient;
use crate::email::Email;
use crate::error::Error;
use crate::secret::Secret;

fn base(url: &url::Url) -> &str {
    url.as_str().trim_end_matches('/')
}

type GitHubClient = BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn client(app: &Context, oauth: &OAuthClient) -> Result<GitHubClient, Error> {
    let web = base(&app.config.oauth.github_url);
    Ok(BasicClient::new(ClientId::new(oauth.client_id.clone()))
        .set_client_secret(ClientSecret::new(oauth.client_secret.clone()))
        // GitHub documents client_id and client_secret as parameters of the token request.
        .set_auth_type(AuthType::RequestBody)
        .set_auth_uri(
            AuthUrl::new(format!("{web}/login/oauth/authorize")).map_err(Error::internal)?,
        )
        .set_token_uri(
            TokenUrl::new(format!("{web}/login/oauth/access_token")).map_err(Error::internal)?,
        )
        .set_redirect_uri(
            RedirectUrl::new(super::redirect_uri(app, Provider::GitHub))
                .map_err(Error::internal)?,
        ))
}

/// `{github}/login/oauth/authorize` with `state`, the PKCE challenge and the scopes that read
/// the profile and the email addresses.
pub(super) fn authorize_url(
    app: &Context,
    oauth: &OAuthClient,
    state: &Secret,
    challenge: &PkceCodeChallenge,
) -> Result<String, Failure> {
    let state = state.expose().to_owned();
    let (url, _) = client(app, oauth)?
        .authorize_url(|| CsrfToken::new(state))
        .add_scope(Scope::new("read:user".into()))
        .add_scope(Scope::new("user:email".into()))
        .set_pkce_challenge(challenge.clone())
        .url();
    Ok(url.to_string())
}

#[derive(Deserialize)]
struct GitHubUser {
    id: u64,
}

#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

pub(super) async fn identity(
    app: &Context,
    oauth: &OAuthClient,
    pending: &PendingSignIn,
    code: &Secret,
) -> Result<ProviderIdentity, Failure> {
    // GitHub answers a refused code with 200 and `{"error": ...}`: that fails to parse as a
    // token, which is a provider error like any other.
    let response = client(app, oauth)?
        .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(
            pending.pkce_verifier.expose().to_owned(),
        ))
        .request_async(&app.token_client()?)
        .await
        .map_err(|e| {
            Failure::Provider(format!("the token request failed: {}", super::describe(&e)))
        })?;
    let token = Secret::new(response.access_token().secret().as_str());
    let api = base(&app.config.oauth.github_api_url);
    let user: GitHubUser = get(app, &format!("{api}/user"), &token).await?;
    let emails: Vec<GitHubEmail> = get(app, &format!("{api}/user/emails"), &token).await?;
    let verified_email = emails
        .iter()
        .find(|e| e.primary && e.verified)
        .and_then(|e| Email::parse(&e.email).ok());
    Ok(ProviderIdentity {
        provider: Provider::GitHub,
        subject: user.id.to_string(),
        verified_email,
    })
}

/// A GET of GitHub's REST API with the user's access token.
async fn get<T: serde::de::DeserializeOwned>(
    app: &Context,
    url: &str,
    token: &Secret,
) -> Result<T, Failure> {
    let request = app
        .http()?
        .get(url)
        .bearer_auth(token.expose())
        .header("accept", "application/vnd.github+json")
        .header("x-github-api-version", "2022-11-28");
    super::fetch_json(request, url).await
}
