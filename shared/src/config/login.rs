//! Logging in: which identifiers are accepted, when failures lock, and how many access keys an
//! account may hold.

use std::time::Duration;

use super::{ConfigError, Vars, invalid};
use crate::lockout::LockoutPolicy;

pub(super) const VARIABLES: &[&str] = &[
    "PORTCULLIS_LOGIN_IDENTIFIERS",
    "PORTCULLIS_LOCKOUT_THRESHOLD",
    "PORTCULLIS_LOCKOUT_DURATION",
    "PORTCULLIS_ACCESS_KEY_LIMIT",
    "PORTCULLIS_ACCESS_KEY_LOGIN",
    "PORTCULLIS_ACCESS_KEY_MAX_LIFETIME",
];

/// Which identifiers `POST /v1/login` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginIdentifiers {
    pub email: bool,
    pub username: bool,
}

impl LoginIdentifiers {
    pub fn names(self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.email {
            names.push("email");
        }
        if self.username {
            names.push("username");
        }
        names
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginConfig {
    pub identifiers: LoginIdentifiers,
    pub lockout: LockoutPolicy,
    /// Access keys one account may hold.
    pub access_key_limit: u32,
    /// `PORTCULLIS_ACCESS_KEY_LOGIN=disabled` turns access-key login off (403 on its route).
    pub access_key_login: bool,
    /// The longest an access key may live; a key asked for without an expiry gets this one.
    /// `None`: keys may last until they are deleted.
    pub access_key_max_lifetime: Option<Duration>,
}

impl LoginConfig {
    pub(super) fn parse(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(LoginConfig {
            identifiers: parse_identifiers(
                vars.get("PORTCULLIS_LOGIN_IDENTIFIERS")
                    .unwrap_or("email,username"),
            )?,
            lockout: LockoutPolicy {
                threshold: vars.number("PORTCULLIS_LOCKOUT_THRESHOLD", 10, 1..=1000)?,
                duration: vars.duration("PORTCULLIS_LOCKOUT_DURATION", "20m")?,
            },
            access_key_limit: vars.number("PORTCULLIS_ACCESS_KEY_LIMIT", 5, 1..=100)?,
            access_key_login: vars.choice(
                "PORTCULLIS_ACCESS_KEY_LOGIN",
                "enabled",
                &[("enabled", true), ("disabled", false)],
            )?,
            access_key_max_lifetime: match vars.get("PORTCULLIS_ACCESS_KEY_MAX_LIFETIME") {
                None => None,
                Some(_) => Some(vars.duration("PORTCULLIS_ACCESS_KEY_MAX_LIFETIME", "0s")?),
            },
        })
    }
}

fn parse_identifiers(value: &str) -> Result<LoginIdentifiers, ConfigError> {
    const VAR: &str = "PORTCULLIS_LOGIN_IDENTIFIERS";
    let mut ids = LoginIdentifiers {
        email: false,
        username: false,
    };
    for part in value.split(',').map(str::trim) {
        match part {
            "email" => ids.email = true,
            "username" => ids.username = true,
            _ => return Err(invalid(VAR, "expected a list of email and username")),
        }
    }
    Ok(ids)
}
