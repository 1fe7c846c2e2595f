//! Discovery: what clients and token verifiers may learn without credentials.

use serde_json::{Value, json};

use crate::app::App;
use crate::config::Config;

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

/// `GET /.well-known/openid-configuration`: enough for any JWT library, or an API Gateway JWT
/// authorizer, to find the keys that verify Portcullis access tokens.
pub fn openid_configuration(app: &App) -> Value {
    json!({
        "issuer": app.issuer,
        "jwks_uri": format!("{}/.well-known/jwks.json", app.issuer),
        "token_endpoint": format!("{}/v1/login", app.issuer),
        "userinfo_endpoint": format!("{}/v1/me", app.issuer),
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "claims_supported": [
            "iss", "aud", "sub", "sid", "iat", "nbf", "exp", "jti",
            "email", "username", "roles", "email_verified"
        ],
    })
}
