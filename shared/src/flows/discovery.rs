//! Discovery: what clients and token verifiers may learn without credentials.

use serde_json::{Value, json};

use crate::app::App;
use crate::config::Config;
use crate::openid::SCOPES;

/// `GET /v1/config`: what a UI needs to draw the right forms.
pub fn client_config(config: &Config) -> Value {
    let policy = &config.passwords.policy;
    let mut providers = Vec::new();
    if config.oauth.google.is_some() {
        providers.push("google");
    }
    if config.oauth.github.is_some() {
        providers.push("github");
    }
    json!({
        "signup_mode": config.signup.mode.as_str(),
        "email_verification": config.signup.email_verification.as_str(),
        "login_identifiers": config.login.identifiers.names(),
        "password_reset_enabled": config.passwords.reset_enabled,
        "password_policy": {
            "min_length": policy.min_length,
            "max_length": policy.max_length,
            "require_letter": policy.require_letter,
            "require_digit": policy.require_digit,
            "require_special": policy.require_special,
        },
        "oauth_providers": providers,
        "access_key_login": config.login.access_key_login,
        "terms_url": config.ui.terms_url.as_ref().map(|u| u.as_str()),
        "privacy_url": config.ui.privacy_url.as_ref().map(|u| u.as_str()),
    })
}

/// `GET /.well-known/openid-configuration`: OpenID Provider Metadata (OpenID Connect Discovery
/// 1.0, 3) naming only what is supported. The issuer and `jwks_uri` are also what any JWT library,
/// or an API Gateway JWT authorizer, needs to verify `/v1` access tokens.
pub fn openid_configuration(app: &App) -> Value {
    let issuer = &app.issuer;
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
        "end_session_endpoint": format!("{issuer}/oauth2/logout"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "none"
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "none"
        ],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid",
            "email", "email_verified", "preferred_username", "name", "given_name", "family_name"
        ],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "ui_locales_supported": ["en", "ko"],
    })
}
