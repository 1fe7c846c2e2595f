//! `Config`: read once from `PORTCULLIS_*` variables, the same way in Lambda and locally.
//!
//! Settings come in groups (store, mail, URLs, signup, passwords, login, rate limits, tokens,
//! provider sign-in, logs), one file each; each group names its own variables in `VARIABLES` and
//! parses them in one place. An unknown `PORTCULLIS_*` variable or a malformed value stops
//! start-up with an error naming the variable, so a typo never silently falls back to a default.

mod limits;
mod log;
mod login;
mod mail;
mod oauth;
mod parse;
mod passwords;
mod signup;
mod store;
mod tokens;
mod ui;
mod urls;

use std::collections::HashMap;

pub use limits::RateLimits;
pub use log::LogConfig;
pub use login::{LoginConfig, LoginIdentifiers};
pub use mail::{MailConfig, MailerLocation};
pub use oauth::{LinkByEmail, OAuthClient, OAuthConfig};
pub use passwords::{Argon2Cost, PasswordConfig};
pub use signup::{EmailVerification, SignupConfig, SignupMode};
pub use store::{StoreConfig, StoreLocation};
pub use tokens::TokenConfig;
pub use ui::UiConfig;
pub use urls::UrlConfig;

/// Where the process runs: it decides the defaults that depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    /// `portcullis serve` and the CLI: SQLite and a mail outbox under `.portcullis/`.
    Local,
    /// A Lambda function: the store, mailer and public URL must be given.
    Lambda,
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

fn invalid(variable: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.to_owned(),
        message: message.into(),
    }
}

/// Every setting, by group. `Debug` shows no secret (provider client secrets print redacted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub environment: Environment,
    pub store: StoreConfig,
    pub mail: MailConfig,
    pub urls: UrlConfig,
    pub signup: SignupConfig,
    pub passwords: PasswordConfig,
    pub login: LoginConfig,
    pub rate_limits: RateLimits,
    pub tokens: TokenConfig,
    pub oauth: OAuthConfig,
    pub log: LogConfig,
    pub ui: UiConfig,
}

/// Every variable Portcullis reads, group by group. Anything else starting with `PORTCULLIS_` is
/// a mistake.
pub fn variables() -> impl Iterator<Item = &'static str> {
    [
        store::VARIABLES,
        mail::VARIABLES,
        urls::VARIABLES,
        signup::VARIABLES,
        passwords::VARIABLES,
        login::VARIABLES,
        limits::VARIABLES,
        tokens::VARIABLES,
        oauth::VARIABLES,
        log::VARIABLES,
        ui::VARIABLES,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// The `PORTCULLIS_*` variables given, trimmed; an empty one counts as unset.
struct Vars(HashMap<String, String>);

impl Vars {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

impl Config {
    /// Reads the process environment. The only place Portcullis looks at it.
    pub fn from_env(environment: Environment) -> Result<Config, ConfigError> {
        Config::from_vars(std::env::vars(), environment)
    }

    /// The local defaults with nothing set: what `portcullis serve` runs on out of the box.
    pub fn local_defaults() -> Config {
        Config::from_vars(std::iter::empty::<(String, String)>(), Environment::Local)
            .unwrap_or_else(|e| unreachable!("the built-in defaults are valid: {e}"))
    }

    pub fn from_vars<K, V>(
        vars: impl IntoIterator<Item = (K, V)>,
        environment: Environment,
    ) -> Result<Config, ConfigError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars = Vars(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .filter(|(k, _)| k.starts_with("PORTCULLIS_"))
                .collect(),
        );
        let mut unknown: Vec<&String> = vars
            .0
            .keys()
            .filter(|k| !variables().any(|known| known == k.as_str()))
            .collect();
        unknown.sort();
        if let Some(name) = unknown.first() {
            return Err(invalid(name, "unknown variable (check the spelling)"));
        }
        Ok(Config {
            environment,
            store: StoreConfig::parse(&vars, environment)?,
            mail: MailConfig::parse(&vars, environment)?,
            urls: UrlConfig::parse(&vars, environment)?,
            signup: SignupConfig::parse(&vars)?,
            passwords: PasswordConfig::parse(&vars)?,
            login: LoginConfig::parse(&vars)?,
            rate_limits: RateLimits::parse(&vars)?,
            tokens: TokenConfig::parse(&vars)?,
            oauth: OAuthConfig::parse(&vars)?,
            log: LogConfig::parse(&vars)?,
            ui: UiConfig::parse(&vars)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::password_policy::PasswordPolicy;

    fn local(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_vars(vars.iter().copied(), Environment::Local)
    }

    #[test]
    fn defaults_match_the_api_contract() {
        let config = local(&[]).unwrap();
        assert_eq!(
            config.store.location,
            StoreLocation::Sqlite(".portcullis/portcullis.db".into())
        );
        assert_eq!(
            config.mail.mailer,
            Some(MailerLocation::Outbox(".portcullis/outbox".into()))
        );
        assert_eq!(config.signup.mode, SignupMode::Open);
        assert_eq!(
            config.signup.email_verification,
            EmailVerification::Required
        );
        assert!(config.login.identifiers.email && config.login.identifiers.username);
        assert_eq!(config.login.lockout.threshold, 10);
        assert_eq!(config.login.lockout.duration, Duration::from_secs(20 * 60));
        assert_eq!(config.rate_limits.ip.max, 60);
        assert_eq!(config.rate_limits.ip.window, Duration::from_secs(300));
        assert_eq!(config.tokens.access_token_ttl, Duration::from_secs(900));
        assert_eq!(config.tokens.session_ttl, Duration::from_secs(30 * 86400));
        assert_eq!(config.tokens.audience, "portcullis");
        assert_eq!(
            config.passwords.argon2,
            Argon2Cost {
                memory_kib: 19456,
                iterations: 2,
                parallelism: 1
            }
        );
        assert_eq!(config.passwords.policy, PasswordPolicy::default());
        assert_eq!(config.oauth.link_by_email, LinkByEmail::Verified);
        assert_eq!(config.oauth.exchange_ttl, Duration::from_secs(60));
    }

    #[test]
    fn unknown_variable_is_named() {
        let err = local(&[("PORTCULLIS_LOCKOUT_TRESHOLD", "5")]).unwrap_err();
        assert_eq!(err.variable, "PORTCULLIS_LOCKOUT_TRESHOLD");
    }

    #[test]
    fn other_variables_are_ignored() {
        assert!(local(&[("HOME", "/root"), ("RUST_LOG", "debug")]).is_ok());
    }

    #[test]
    fn malformed_values_are_named() {
        for (var, value) in [
            ("PORTCULLIS_LOCKOUT_DURATION", "twenty minutes"),
            ("PORTCULLIS_LOCKOUT_DURATION", "0s"),
            ("PORTCULLIS_LOCKOUT_THRESHOLD", "-1"),
            ("PORTCULLIS_STORE", "postgres://x"),
            ("PORTCULLIS_SIGNUP_MODE", "closed"),
            ("PORTCULLIS_IP_RATE_LIMIT", "60"),
            ("PORTCULLIS_IP_RATE_LIMIT", "0/5m"),
            ("PORTCULLIS_ARGON2", "m=1,t=1,p=1"),
            ("PORTCULLIS_PUBLIC_URL", "ftp://example.com"),
            ("PORTCULLIS_LOGIN_IDENTIFIERS", "email,phone"),
            ("PORTCULLIS_OAUTH_GOOGLE_CLIENT_ID", "id-without-secret"),
            ("PORTCULLIS_OAUTH_LINK_BY_EMAIL", "always"),
            ("PORTCULLIS_OAUTH_EXCHANGE_TTL", "0s"),
        ] {
            let err = local(&[(var, value)]).unwrap_err();
            let expected = if var == "PORTCULLIS_OAUTH_GOOGLE_CLIENT_ID" {
                "PORTCULLIS_OAUTH_GOOGLE_CLIENT_SECRET"
            } else {
                var
            };
            assert_eq!(err.variable, expected, "{var}={value}");
        }
    }

    #[test]
    fn lambda_needs_store_and_public_url() {
        let err = Config::from_vars(
            [("PORTCULLIS_PUBLIC_URL", "https://id.example")],
            Environment::Lambda,
        )
        .unwrap_err();
        assert_eq!(err.variable, "PORTCULLIS_STORE");
        let err = Config::from_vars(
            [("PORTCULLIS_STORE", "dynamodb://portcullis")],
            Environment::Lambda,
        )
        .unwrap_err();
        assert_eq!(err.variable, "PORTCULLIS_PUBLIC_URL");
        let config = Config::from_vars(
            [
                ("PORTCULLIS_STORE", "dynamodb://portcullis"),
                ("PORTCULLIS_PUBLIC_URL", "https://id.example"),
            ],
            Environment::Lambda,
        )
        .unwrap();
        assert_eq!(
            config.store.location,
            StoreLocation::DynamoDb {
                table: "portcullis".into()
            }
        );
    }

    #[test]
    fn each_variable_belongs_to_one_group() {
        let all: Vec<&str> = variables().collect();
        let unique: std::collections::BTreeSet<&str> = all.iter().copied().collect();
        assert_eq!(all.len(), unique.len(), "a variable listed twice");
        assert!(all.iter().all(|v| v.starts_with("PORTCULLIS_")));
        assert_eq!(all.len(), 50);
    }

    #[test]
    fn debug_hides_oauth_secrets() {
        let config = local(&[
            ("PORTCULLIS_OAUTH_GITHUB_CLIENT_ID", "gh-id"),
            ("PORTCULLIS_OAUTH_GITHUB_CLIENT_SECRET", "gh-very-secret"),
        ])
        .unwrap();
        let printed = format!("{config:?}");
        assert!(printed.contains("gh-id"));
        assert!(!printed.contains("gh-very-secret"));
    }

    #[test]
    fn password_policy_is_configurable() {
        let config = local(&[
            ("PORTCULLIS_PASSWORD_MIN_LENGTH", "12"),
            ("PORTCULLIS_PASSWORD_REQUIRE", "letter"),
        ])
        .unwrap();
        assert_eq!(config.passwords.policy.min_length, 12);
        assert!(config.passwords.policy.require_letter);
        assert!(!config.passwords.policy.require_digit);
        assert!(!config.passwords.policy.require_special);
    }
}
