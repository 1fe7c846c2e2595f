//! Access tokens, sessions and signing keys.

use std::time::Duration;

use super::{ConfigError, Vars, invalid};

pub(super) const VARIABLES: &[&str] = &[
    "PORTCULLIS_TOKEN_AUDIENCE",
    "PORTCULLIS_ACCESS_TOKEN_TTL",
    "PORTCULLIS_SESSION_TTL",
    "PORTCULLIS_SESSION_IDLE_TIMEOUT",
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
    /// A session not refreshed for this long is over (`None`: sessions never idle out).
    pub session_idle_timeout: Option<Duration>,
    /// How long a rotated refresh token is still accepted.
    pub refresh_grace: Duration,
    /// How long a rotated-in signing key is published before it signs.
    pub key_activation_delay: Duration,
}

impl TokenConfig {
    pub(super) fn parse(vars: &Vars) -> Result<Self, ConfigError> {
        let config = TokenConfig {
            audience: vars
                .get("PORTCULLIS_TOKEN_AUDIENCE")
                .unwrap_or("portcullis")
                .to_owned(),
            access_token_ttl: vars.duration("PORTCULLIS_ACCESS_TOKEN_TTL", "15m")?,
            session_ttl: vars.duration("PORTCULLIS_SESSION_TTL", "30d")?,
            session_idle_timeout: match vars.get("PORTCULLIS_SESSION_IDLE_TIMEOUT") {
                None => None,
                Some(_) => Some(vars.duration("PORTCULLIS_SESSION_IDLE_TIMEOUT", "0s")?),
            },
            refresh_grace: vars.duration_or_zero("PORTCULLIS_REFRESH_GRACE", "10s")?,
            key_activation_delay: vars
                .duration_or_zero("PORTCULLIS_KEY_ACTIVATION_DELAY", "10m")?,
        };
        // Activity shows at refreshes, which come once an access token runs out.
        if config
            .session_idle_timeout
            .is_some_and(|idle| idle <= config.access_token_ttl)
        {
            return Err(invalid(
                "PORTCULLIS_SESSION_IDLE_TIMEOUT",
                "must be longer than PORTCULLIS_ACCESS_TOKEN_TTL",
            ));
        }
        Ok(config)
    }
}
