//! Access tokens, sessions and signing keys.

use std::time::Duration;

use super::{ConfigError, Vars};

pub(super) const VARIABLES: &[&str] = &[
    "PORTCULLIS_TOKEN_AUDIENCE",
    "PORTCULLIS_ACCESS_TOKEN_TTL",
    "PORTCULLIS_SESSION_TTL",
    "PORTCULLIS_REFRESH_GRACE",
    "PORTCULLIS_KEY_ACTIVATION_DELAY",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenConfig {
    /// `aud` of access tokens.
    pub audience: String,
    pub access_token_ttl: Duration,
    /// A session's absolute life.
    pub session_ttl: Duration,
    /// How long a rotated refresh token is still accepted.
    pub refresh_grace: Duration,
    /// How long a rotated-in signing key is published before it signs.
    pub key_activation_delay: Duration,
}

impl TokenConfig {
    pub(super) fn parse(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(TokenConfig {
            audience: vars
                .get("PORTCULLIS_TOKEN_AUDIENCE")
                .unwrap_or("portcullis")
                .to_owned(),
            access_token_ttl: vars.duration("PORTCULLIS_ACCESS_TOKEN_TTL", "15m")?,
            session_ttl: vars.duration("PORTCULLIS_SESSION_TTL", "30d")?,
            refresh_grace: vars.duration_or_zero("PORTCULLIS_REFRESH_GRACE", "10s")?,
            key_activation_delay: vars
                .duration_or_zero("PORTCULLIS_KEY_ACTIVATION_DELAY", "10m")?,
        })
    }
}
