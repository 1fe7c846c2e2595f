//! Portcullis as an OpenID provider: the apps (clients) registered with it, the authorization codes
//! it hands them, and the rules of OpenID Connect Core 1.0, RFC 6749, RFC 7636 (PKCE) and RFC 9700
//! that need no I/O.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use url::Url;

use crate::clock::UnixTime;
use crate::error::FieldErrors;

/// The scopes Portcullis understands. `openid` is required in every authorization request.
pub const SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// How long an authorization code can be redeemed (RFC 6749 recommends at most 10 minutes).
pub const CODE_TTL_SECONDS: i64 = 60;

/// How many redirect URIs (and post-logout ones) a client may register.
pub const MAX_REDIRECT_URIS: usize = 20;

/// Longest redirect URI accepted at registration.
pub const MAX_URI_LENGTH: usize = 2000;

/// Longest client name.
pub const MAX_NAME_LENGTH: usize = 100;

/// An app that signs people in through Portcullis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    /// Compared exactly, character for character, with a request's `redirect_uri`.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the person afterwards.
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes this client may be granted, a subset of `SCOPES` that includes `openid`.
    pub scopes: Vec<String>,
    /// SHA-256 digest (hex) of the client secret: `Some` for a confidential client, `None` for a
    /// public one (a browser or native app), which must use PKCE.
    pub secret_digest: Option<String>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.secret_digest.is_none()
    }

    pub fn kind(&self) -> &'static str {
        if self.is_public() {
            "public"
        } else {
            "confidential"
        }
    }

    /// The scopes of a request that this client may have: those it asked for, that Portcullis
    /// knows and the client is allowed, in `SCOPES` order. Unknown scopes are ignored, as OpenID
    /// Connect Core 3.1.2.1 says.
    pub fn grantable(&self, requested: &str) -> Vec<&'static str> {
        let asked: Vec<&str> = requested.split(' ').filter(|s| !s.is_empty()).collect();
        SCOPES
            .into_iter()
            .filter(|scope| asked.contains(scope) && self.scopes.iter().any(|s| s == scope))
            .collect()
    }
}

/// Checks a redirect URI (or a post-logout one) for registration: absolute, no fragment, and
/// https, except http on a loopback host for apps on the person's own machine (RFC 8252 7.3).
pub fn check_redirect_uri(field: &str, uri: &str, errors: &mut FieldErrors) {
    if uri.len() > MAX_URI_LENGTH {
        errors.add(
            field,
            format!("must each be at most {MAX_URI_LENGTH} characters"),
        );
        return;
    }
    let Ok(parsed) = Url::parse(uri) else {
        errors.add(field, format!("{uri:?} is not an absolute URL"));
        return;
    };
    if parsed.fragment().is_some() {
        errors.add(field, format!("{uri:?} must not have a fragment"));
    } else if !parsed.username().is_empty() || parsed.password().is_some() {
        errors.add(field, format!("{uri:?} must not hold credentials"));
    } else if parsed.scheme() == "http" {
        let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if !loopback {
            errors.add(
                field,
                format!("{uri:?} must use https (http is allowed on localhost only)"),
            );
        }
    } else if parsed.scheme() != "https" {
        errors.add(field, format!("{uri:?} must use https"));
    }
}

/// Checks a client's allowed scopes: known ones, `openid` among them.
pub fn check_scopes(scopes: &[String], errors: &mut FieldErrors) {
    for scope in scopes {
        if !SCOPES.contains(&scope.as_str()) {
            errors.add(
                "scopes",
                format!("{scope:?} is not one of openid, profile, email"),
            );
        }
    }
    if !scopes.iter().any(|s| s == "openid") {
        errors.add("scopes", "must include openid");
    }
}

/// A code handed to a client's redirect URI, traded once for tokens at the token endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// SHA-256 digest (hex) of the code; the code itself is never stored.
    pub digest: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: String,
    /// The granted scopes, space-separated.
    pub scope: String,
    pub nonce: Option<String>,
    /// The S256 PKCE challenge, when the client sent one.
    pub code_challenge: Option<String>,
    /// When the person last authenticated (the browser session's start).
    pub auth_time: UnixTime,
    /// The access key the sign-in was made with, if one was: the app's session lives only as
    /// long as the key does.
    pub access_key: Option<String>,
    /// The account's session epoch when the code was issued: a logout everywhere or a password
    /// change or reset since voids the code, as it ends the sign-in the code came from.
    pub session_epoch: u32,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    /// Set once, when the code is redeemed: the session its tokens belong to. A second
    /// redemption finds it set and revokes that session.
    pub session_id: Option<String>,
}

/// What a redemption found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redemption {
    /// This redemption used the code up.
    Redeemed,
    /// The code was redeemed before, for the session named here.
    AlreadyRedeemed(String),
    /// No such code (or it is gone).
    Unknown,
}

/// RFC 7636 4.6: `BASE64URL(SHA256(verifier)) == challenge`, with the verifier's form checked
/// (43 to 128 unreserved characters).
pub fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    let shaped = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !shaped {
        return false;
    }
    let computed = challenge_of(verifier);
    subtle::ConstantTimeEq::ct_eq(computed.as_bytes(), challenge.as_bytes()).into()
}

/// RFC 7636 4.2: the S256 challenge of a verifier.
pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A code challenge as RFC 7636 4.2 allows it: the S256 of a verifier, 43 base64url characters.
pub fn is_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// OpenID Connect Core 3.1.3.6: the left half of the access token's SHA-256, base64url.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// An error as RFC 6749 (and OpenID Connect) name them: sent as JSON from the token endpoint, or
/// as query parameters to a client's redirect URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            error,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_request", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> OAuthError {
        OAuthError::new("invalid_grant", description)
    }

    pub fn invalid_client() -> OAuthError {
        OAuthError::new("invalid_client", "client authentication failed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(scopes: &[&str]) -> Client {
        Client {
            id: "c".into(),
            name: "App".into(),
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            secret_digest: None,
            created_at: UnixTime(0),
            updated_at: UnixTime(0),
        }
    }

    #[test]
    fn pkce_follows_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(challenge, verifier));
        assert!(!pkce_matches(challenge, &verifier.replace('d', "e")));
        assert!(!pkce_matches(challenge, "short"));
        assert!(is_challenge(challenge));
        assert!(!is_challenge("plain-challenge"));
    }

    #[test]
    fn at_hash_is_the_left_half_of_sha256() {
        // OpenID Connect Core, A.4 (the access token and at_hash of its example).
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn grantable_scopes_are_asked_known_and_allowed() {
        let c = client(&["openid", "email"]);
        assert_eq!(
            c.grantable("email openid profile offline_access"),
            vec!["openid", "email"]
        );
        assert_eq!(c.grantable(""), Vec::<&str>::new());
    }

    #[test]
    fn redirect_uris_are_https_or_loopback_http() {
        let check = |uri: &str| {
            let mut errors = FieldErrors::default();
            check_redirect_uri("redirect_uris", uri, &mut errors);
            errors.is_empty()
        };
        assert!(check("https://app.example.com/cb"));
        assert!(check(
            "http://127.0.0.1:8000/accounts/oidc/portcullis/login/callback/"
        ));
        assert!(check("http://localhost/cb"));
        assert!(!check("http://app.example.com/cb"));
        assert!(!check("https://app.example.com/cb#x"));
        assert!(!check("/relative"));
        assert!(!check("javascript:alert(1)"));
        assert!(!check("https://user:pw@app.example.com/cb"));
    }

    #[test]
    fn scopes_must_be_known_and_include_openid() {
        let check = |scopes: &[&str]| {
            let mut errors = FieldErrors::default();
            let owned: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
            check_scopes(&owned, &mut errors);
            errors.is_empty()
        };
        assert!(check(&["openid", "email"]));
        assert!(!check(&["email"]));
        assert!(!check(&["openid", "admin"]));
    }
}
