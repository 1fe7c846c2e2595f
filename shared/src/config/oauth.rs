//! Sign in with Google and GitHub.

use std::fmt;
use std::time::Duration;

use url::Url;

use super::parse::base_url;
use super::{ConfigError, Vars, invalid};

pub(super) const VARIABLES: &[&str] = &[
    "PORTCULLIS_OAUTH_GOOGLE_CLIENT_ID",
    "PORTCULLIS_OAUTH_GOOGLE_CLIENT_SECRET",
    "PORTCULLIS_OAUTH_GOOGLE_ISSUER",
    "PORTCULLIS_OAUTH_GITHUB_CLIENT_ID",
    "PORTCULLIS_OAUTH_GITHUB_CLIENT_SECRET",
    "PORTCULLIS_OAUTH_GITHUB_URL",
    "PORTCULLIS_OAUTH_GITHUB_API_URL",
    "PORTCULLIS_OAUTH_RETURN_TO",
    "PORTCULLIS_OAUTH_LINK_BY_EMAIL",
    "PORTCULLIS_OAUTH_EXCHANGE_TTL",
];

/// When a provider identity seen for the first time may join an existing account with the same
/// email (`PORTCULLIS_OAUTH_LINK_BY_EMAIL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkByEmail {
    /// Only when the provider vouches for the email and the account's email is verified too.
    Verified,
    /// Never: an identity joins only the account it was first linked to.
    Never,
}

#[derive(Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub client_id: String,
    /// Never printed: `Debug` shows it redacted.
    pub client_secret: String,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthConfig {
    pub google: Option<OAuthClient>,
    pub google_issuer: Url,
    pub github: Option<OAuthClient>,
    pub github_url: Url,
    pub github_api_url: Url,
    /// Where a sign-in may return to (besides the UI URL).
    pub return_to: Vec<Url>,
    pub link_by_email: LinkByEmail,
    /// How long the one-time code a provider sign-in ends with may be exchanged for tokens.
    pub exchange_ttl: Duration,
}

impl OAuthConfig {
    pub(super) fn parse(vars: &Vars) -> Result<Self, ConfigError> {
        let url_or = |variable: &str, default: &str| {
            base_url(variable, vars.get(variable).unwrap_or(default))
        };
        let return_to = vars
            .list("PORTCULLIS_OAUTH_RETURN_TO", "")
            .into_iter()
            .map(|s| base_url("PORTCULLIS_OAUTH_RETURN_TO", s))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OAuthConfig {
            google: parse_oauth_client(vars, "GOOGLE")?,
            google_issuer: url_or(
                "PORTCULLIS_OAUTH_GOOGLE_ISSUER",
                "https://accounts.google.com",
            )?,
            github: parse_oauth_client(vars, "GITHUB")?,
            github_url: url_or("PORTCULLIS_OAUTH_GITHUB_URL", "https://github.com")?,
            github_api_url: url_or("PORTCULLIS_OAUTH_GITHUB_API_URL", "https://api.github.com")?,
            return_to,
            link_by_email: vars.choice(
                "PORTCULLIS_OAUTH_LINK_BY_EMAIL",
                "verified",
                &[
                    ("verified", LinkByEmail::Verified),
                    ("never", LinkByEmail::Never),
                ],
            )?,
            exchange_ttl: vars.duration("PORTCULLIS_OAUTH_EXCHANGE_TTL", "60s")?,
        })
    }
}

fn parse_oauth_client(vars: &Vars, provider: &str) -> Result<Option<OAuthClient>, ConfigError> {
    let id_var = format!("PORTCULLIS_OAUTH_{provider}_CLIENT_ID");
    let secret_var = format!("PORTCULLIS_OAUTH_{provider}_CLIENT_SECRET");
    match (vars.get(&id_var), vars.get(&secret_var)) {
        (None, None) => Ok(None),
        (Some(id), Some(secret)) => Ok(Some(OAuthClient {
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
        })),
        (Some(_), None) => Err(invalid(&secret_var, "must be set with the client id")),
        (None, Some(_)) => Err(invalid(&id_var, "must be set with the client secret")),
    }
}
