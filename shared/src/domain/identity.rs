//! What sign-in with a provider keeps in the store: identity links and sign-ins under way.

use crate::clock::UnixTime;
use crate::secret::Secret;

/// The providers Portcullis signs in with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    Google,
    GitHub,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::GitHub => "github",
        }
    }

    pub fn parse(value: &str) -> Option<Provider> {
        match value {
            "google" => Some(Provider::Google),
            "github" => Some(Provider::GitHub),
            _ => None,
        }
    }
}

/// A provider identity joined to an account: the provider's stable user id (`sub` for Google,
/// the numeric id for GitHub), never the email, which the person can change there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityLink {
    pub provider: Provider,
    pub subject: String,
    pub user_id: String,
    /// The verified email the provider gave when the link was made (lower-cased).
    pub email_key: String,
    pub created_at: UnixTime,
}

/// A sign-in begun at `/v1/oauth/{provider}/authorize` that has not come back yet: everything the
/// callback needs, kept server-side under the SHA-256 digest of `state`, for one use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingSignIn {
    pub state_digest: String,
    pub provider: Provider,
    /// The PKCE S256 code verifier: never leaves the server before the token request.
    pub pkce_verifier: Secret,
    /// The OpenID `nonce` the ID token must carry (Google).
    pub nonce: Secret,
    /// Where the browser goes back to, already checked against `PORTCULLIS_OAUTH_RETURN_TO`.
    pub return_to: String,
    /// The digest of the invitation passed to `/authorize`, when one was.
    pub invitation_digest: Option<String>,
    /// The caller's PKCE challenge (S256): the exchange code this sign-in ends with is traded
    /// only with its verifier, so a code can't be pushed into someone else's browser.
    pub client_challenge: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}
