//! `Config`: read once from `PORTCULLIS_*` variables, the same way in Lambda and locally.
//!
//! An unknown `PORTCULLIS_*` variable or a malformed value stops start-up with an error naming the
//! variable, so a typo never silently falls back to a default.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::lockout::LockoutPolicy;
use crate::password_policy::PasswordPolicy;
use crate::rate_limit::RateLimit;

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    DynamoDb { table: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailerLocation {
    Outbox(PathBuf),
    Ses { from: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignupMode {
    Open,
    Invitation,
    Approval,
    Disabled,
}

impl SignupMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SignupMode::Open => "open",
            SignupMode::Invitation => "invitation",
            SignupMode::Approval => "approval",
            SignupMode::Disabled => "disabled",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailVerification {
    /// Login is refused until the email is verified.
    Required,
    /// A verification mail is sent, but login does not wait for it.
    Optional,
    Off,
}

impl EmailVerification {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailVerification::Required => "required",
            EmailVerification::Optional => "optional",
            EmailVerification::Off => "off",
        }
    }
}

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

/// argon2id cost: memory in KiB, iterations, parallelism.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// When a provider identity seen for the first time may join an existing account with the same
/// email (`PORTCULLIS_OAUTH_LINK_BY_EMAIL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkByEmail {
    /// Only when the provider vouches for the email and the account's email is verified too.
    Verified,
    /// Never: an identity joins only the account it was first linked to.
    Never,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthClient {
    pub client_id: String,
    /// Kept out of `Debug` by the custom impl of `Config`.
    pub client_secret: String,
}

#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub environment: Environment,
    pub store: StoreLocation,
    pub dynamodb_endpoint: Option<Url>,
    pub ses_endpoint: Option<Url>,
    pub mailer: Option<MailerLocation>,
    pub ses_configuration_set: Option<String>,
    /// `None` locally means "the server's own URL", decided when the listener is bound.
    pub public_url: Option<Url>,
    pub ui_url: Option<Url>,
    pub signup_mode: SignupMode,
    pub email_verification: EmailVerification,
    pub login_identifiers: LoginIdentifiers,
    pub password_reset_enabled: bool,
    pub password_policy: PasswordPolicy,
    pub lockout: LockoutPolicy,
    pub ip_rate_limit: RateLimit,
    pub mail_rate_limit: RateLimit,
    pub refresh_grace: Duration,
    pub token_audience: String,
    pub access_token_ttl: Duration,
    pub session_ttl: Duration,
    pub argon2: Argon2Cost,
    /// The name mail speaks in.
    pub product_name: String,
    /// Reset requests and verification resends answer no sooner than this, so the time taken
    /// does not tell whether a mail was sent.
    pub mail_response_time: Duration,
    pub verification_ttl: Duration,
    /// How long a rotated-in signing key is published before it signs.
    pub key_activation_delay: Duration,
    pub reset_ttl: Duration,
    /// Default life of an invitation (`expires_in` may ask for another).
    pub invitation_ttl: Duration,
    /// Access keys one account may hold.
    pub access_key_limit: u32,
    /// How long audit events are kept.
    pub audit_retention: Duration,
    pub google: Option<OAuthClient>,
    pub google_issuer: Url,
    pub github: Option<OAuthClient>,
    pub github_url: Url,
    pub github_api_url: Url,
    pub oauth_return_to: Vec<Url>,
    pub oauth_link_by_email: LinkByEmail,
    /// How long the one-time code a provider sign-in ends with may be exchanged for tokens.
    pub oauth_exchange_ttl: Duration,
    /// A `tracing` filter such as `info` or `portcullis=debug,info`.
    pub log: String,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("store", &self.store)
            .field("mailer", &self.mailer)
            .field("public_url", &self.public_url)
            .field("signup_mode", &self.signup_mode)
            .field("email_verification", &self.email_verification)
            .field("login_identifiers", &self.login_identifiers)
            .field("lockout", &self.lockout)
            .field("google", &self.google.as_ref().map(|c| &c.client_id))
            .field("github", &self.github.as_ref().map(|c| &c.client_id))
            .field("oauth_link_by_email", &self.oauth_link_by_email)
            .finish_non_exhaustive()
    }
}

/// Every variable Portcullis reads. Anything else starting with `PORTCULLIS_` is a mistake.
pub const VARIABLES: &[&str] = &[
    "PORTCULLIS_STORE",
    "PORTCULLIS_DYNAMODB_ENDPOINT",
    "PORTCULLIS_SES_ENDPOINT",
    "PORTCULLIS_MAILER",
    "PORTCULLIS_SES_CONFIGURATION_SET",
    "PORTCULLIS_PUBLIC_URL",
    "PORTCULLIS_UI_URL",
    "PORTCULLIS_SIGNUP_MODE",
    "PORTCULLIS_EMAIL_VERIFICATION",
    "PORTCULLIS_LOGIN_IDENTIFIERS",
    "PORTCULLIS_PASSWORD_RESET",
    "PORTCULLIS_PASSWORD_MIN_LENGTH",
    "PORTCULLIS_PASSWORD_MAX_LENGTH",
    "PORTCULLIS_PASSWORD_REQUIRE",
    "PORTCULLIS_LOCKOUT_THRESHOLD",
    "PORTCULLIS_LOCKOUT_DURATION",
    "PORTCULLIS_IP_RATE_LIMIT",
    "PORTCULLIS_MAIL_RATE_LIMIT",
    "PORTCULLIS_REFRESH_GRACE",
    "PORTCULLIS_TOKEN_AUDIENCE",
    "PORTCULLIS_ACCESS_TOKEN_TTL",
    "PORTCULLIS_SESSION_TTL",
    "PORTCULLIS_ARGON2",
    "PORTCULLIS_PRODUCT_NAME",
    "PORTCULLIS_MAIL_RESPONSE_TIME",
    "PORTCULLIS_VERIFICATION_TTL",
    "PORTCULLIS_KEY_ACTIVATION_DELAY",
    "PORTCULLIS_RESET_TTL",
    "PORTCULLIS_INVITATION_TTL",
    "PORTCULLIS_ACCESS_KEY_LIMIT",
    "PORTCULLIS_AUDIT_RETENTION",
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
    "PORTCULLIS_LOG",
];

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
        let vars: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(k, _)| k.starts_with("PORTCULLIS_"))
            .collect();
        let mut unknown: Vec<&String> = vars
            .keys()
            .filter(|k| !VARIABLES.contains(&k.as_str()))
            .collect();
        unknown.sort();
        if let Some(name) = unknown.first() {
            return Err(invalid(name, "unknown variable (check the spelling)"));
        }
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let store = match (get("PORTCULLIS_STORE"), environment) {
            (Some(value), _) => parse_store(value)?,
            (None, Environment::Local) => StoreLocation::Sqlite(".portcullis/portcullis.db".into()),
            (None, Environment::Lambda) => {
                return Err(invalid(
                    "PORTCULLIS_STORE",
                    "must be set in Lambda (dynamodb://<table>)",
                ));
            }
        };
        let mailer = match (get("PORTCULLIS_MAILER"), environment) {
            (Some(value), _) => Some(parse_mailer(value)?),
            (None, Environment::Local) => Some(MailerLocation::Outbox(".portcullis/outbox".into())),
            (None, Environment::Lambda) => None,
        };
        let public_url = get("PORTCULLIS_PUBLIC_URL")
            .map(|v| parse_base_url("PORTCULLIS_PUBLIC_URL", v))
            .transpose()?;
        if environment == Environment::Lambda && public_url.is_none() {
            return Err(invalid(
                "PORTCULLIS_PUBLIC_URL",
                "must be set in Lambda: it is the token issuer",
            ));
        }
        let ui_url = get("PORTCULLIS_UI_URL")
            .map(|v| parse_base_url("PORTCULLIS_UI_URL", v))
            .transpose()?;

        let signup_mode = match get("PORTCULLIS_SIGNUP_MODE").unwrap_or("open") {
            "open" => SignupMode::Open,
            "invitation" => SignupMode::Invitation,
            "approval" => SignupMode::Approval,
            "disabled" => SignupMode::Disabled,
            _ => {
                return Err(invalid(
                    "PORTCULLIS_SIGNUP_MODE",
                    "expected open, invitation, approval or disabled",
                ));
            }
        };
        let email_verification = match get("PORTCULLIS_EMAIL_VERIFICATION").unwrap_or("required") {
            "required" => EmailVerification::Required,
            "optional" => EmailVerification::Optional,
            "off" => EmailVerification::Off,
            _ => {
                return Err(invalid(
                    "PORTCULLIS_EMAIL_VERIFICATION",
                    "expected required, optional or off",
                ));
            }
        };
        let login_identifiers =
            parse_identifiers(get("PORTCULLIS_LOGIN_IDENTIFIERS").unwrap_or("email,username"))?;
        let password_reset_enabled = match get("PORTCULLIS_PASSWORD_RESET").unwrap_or("enabled") {
            "enabled" => true,
            "disabled" => false,
            _ => {
                return Err(invalid(
                    "PORTCULLIS_PASSWORD_RESET",
                    "expected enabled or disabled",
                ));
            }
        };
        let password_policy = parse_password_policy(&get)?;

        let lockout = LockoutPolicy {
            threshold: parse_number(&get, "PORTCULLIS_LOCKOUT_THRESHOLD", 10, 1..=1000)?,
            duration: parse_duration(&get, "PORTCULLIS_LOCKOUT_DURATION", "20m")?,
        };
        let ip_rate_limit = parse_rate(&get, "PORTCULLIS_IP_RATE_LIMIT", "60/5m")?;
        let mail_rate_limit = parse_rate(&get, "PORTCULLIS_MAIL_RATE_LIMIT", "3/15m")?;
        let refresh_grace = parse_duration_allow_zero(&get, "PORTCULLIS_REFRESH_GRACE", "10s")?;
        let token_audience = get("PORTCULLIS_TOKEN_AUDIENCE")
            .unwrap_or("portcullis")
            .to_owned();
        let access_token_ttl = parse_duration(&get, "PORTCULLIS_ACCESS_TOKEN_TTL", "15m")?;
        let session_ttl = parse_duration(&get, "PORTCULLIS_SESSION_TTL", "30d")?;
        let argon2 = parse_argon2(get("PORTCULLIS_ARGON2").unwrap_or("m=19456,t=2,p=1"))?;

        let product_name = get("PORTCULLIS_PRODUCT_NAME")
            .unwrap_or("Portcullis")
            .to_owned();
        let mail_response_time =
            humantime::parse_duration(get("PORTCULLIS_MAIL_RESPONSE_TIME").unwrap_or("400ms"))
                .map_err(|e| {
                    invalid(
                        "PORTCULLIS_MAIL_RESPONSE_TIME",
                        format!("expected a duration such as 400ms: {e}"),
                    )
                })?;
        let verification_ttl = parse_duration(&get, "PORTCULLIS_VERIFICATION_TTL", "24h")?;
        let reset_ttl = parse_duration(&get, "PORTCULLIS_RESET_TTL", "1h")?;
        let invitation_ttl = parse_duration(&get, "PORTCULLIS_INVITATION_TTL", "7days")?;
        let access_key_limit = parse_number(&get, "PORTCULLIS_ACCESS_KEY_LIMIT", 5, 1..=100)?;
        let audit_retention = parse_duration(&get, "PORTCULLIS_AUDIT_RETENTION", "90days")?;
        let key_activation_delay =
            parse_duration_allow_zero(&get, "PORTCULLIS_KEY_ACTIVATION_DELAY", "10m")?;
        let google = parse_oauth_client(&get, "GOOGLE")?;
        let github = parse_oauth_client(&get, "GITHUB")?;
        let google_issuer = parse_base_url(
            "PORTCULLIS_OAUTH_GOOGLE_ISSUER",
            get("PORTCULLIS_OAUTH_GOOGLE_ISSUER").unwrap_or("https://accounts.google.com"),
        )?;
        let github_url = parse_base_url(
            "PORTCULLIS_OAUTH_GITHUB_URL",
            get("PORTCULLIS_OAUTH_GITHUB_URL").unwrap_or("https://github.com"),
        )?;
        let github_api_url = parse_base_url(
            "PORTCULLIS_OAUTH_GITHUB_API_URL",
            get("PORTCULLIS_OAUTH_GITHUB_API_URL").unwrap_or("https://api.github.com"),
        )?;
        let oauth_return_to = get("PORTCULLIS_OAUTH_RETURN_TO")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| parse_base_url("PORTCULLIS_OAUTH_RETURN_TO", s))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let oauth_link_by_email = match get("PORTCULLIS_OAUTH_LINK_BY_EMAIL").unwrap_or("verified")
        {
            "verified" => LinkByEmail::Verified,
            "never" => LinkByEmail::Never,
            _ => {
                return Err(invalid(
                    "PORTCULLIS_OAUTH_LINK_BY_EMAIL",
                    "expected verified or never",
                ));
            }
        };
        let oauth_exchange_ttl = parse_duration(&get, "PORTCULLIS_OAUTH_EXCHANGE_TTL", "60s")?;
        let log = get("PORTCULLIS_LOG").unwrap_or("info").to_owned();
        if log.parse::<tracing_subscriber::filter::Targets>().is_err() {
            return Err(invalid(
                "PORTCULLIS_LOG",
                "expected a filter such as info or portcullis=debug,info",
            ));
        }

        Ok(Config {
            environment,
            store,
            dynamodb_endpoint: get("PORTCULLIS_DYNAMODB_ENDPOINT")
                .map(|v| parse_base_url("PORTCULLIS_DYNAMODB_ENDPOINT", v))
                .transpose()?,
            ses_endpoint: get("PORTCULLIS_SES_ENDPOINT")
                .map(|v| parse_base_url("PORTCULLIS_SES_ENDPOINT", v))
                .transpose()?,
            mailer,
            ses_configuration_set: get("PORTCULLIS_SES_CONFIGURATION_SET").map(str::to_owned),
            public_url,
            ui_url,
            signup_mode,
            email_verification,
            login_identifiers,
            password_reset_enabled,
            password_policy,
            lockout,
            ip_rate_limit,
            mail_rate_limit,
            refresh_grace,
            token_audience,
            access_token_ttl,
            session_ttl,
            argon2,
            product_name,
            mail_response_time,
            verification_ttl,
            key_activation_delay,
            reset_ttl,
            invitation_ttl,
            access_key_limit,
            audit_retention,
            google,
            google_issuer,
            github,
            github_url,
            github_api_url,
            oauth_return_to,
            oauth_link_by_email,
            oauth_exchange_ttl,
            log,
        })
    }
}

fn parse_store(value: &str) -> Result<StoreLocation, ConfigError> {
    const VAR: &str = "PORTCULLIS_STORE";
    if let Some(path) = value.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(invalid(VAR, "sqlite:// needs a file path"));
        }
        Ok(StoreLocation::Sqlite(PathBuf::from(path)))
    } else if let Some(table) = value.strip_prefix("dynamodb://") {
        let valid = (3..=255).contains(&table.len())
            && table
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            return Err(invalid(
                VAR,
                "dynamodb:// needs a table name of 3-255 characters from letters, digits, _ - .",
            ));
        }
        Ok(StoreLocation::DynamoDb {
            table: table.to_owned(),
        })
    } else {
        Err(invalid(
            VAR,
            "expected sqlite://<path> or dynamodb://<table>",
        ))
    }
}

fn parse_mailer(value: &str) -> Result<MailerLocation, ConfigError> {
    const VAR: &str = "PORTCULLIS_MAILER";
    if let Some(path) = value.strip_prefix("outbox://") {
        if path.is_empty() {
            return Err(invalid(VAR, "outbox:// needs a folder path"));
        }
        Ok(MailerLocation::Outbox(PathBuf::from(path)))
    } else if let Some(from) = value.strip_prefix("ses://") {
        if crate::email::Email::parse(from).is_err() {
            return Err(invalid(VAR, "ses:// needs a sender address"));
        }
        Ok(MailerLocation::Ses {
            from: from.to_owned(),
        })
    } else {
        Err(invalid(
            VAR,
            "expected outbox://<folder> or ses://<from address>",
        ))
    }
}

/// An absolute http(s) URL, kept without a trailing slash so paths can be appended.
fn parse_base_url(variable: &str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| invalid(variable, format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(variable, "expected an http:// or https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(variable, "must not have a query or fragment"));
    }
    Ok(url)
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

type Getter<'a> = dyn Fn(&str) -> Option<&'a str> + 'a;

fn parse_number(
    get: &Getter<'_>,
    variable: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    let Some(value) = get(variable) else {
        return Ok(default);
    };
    let n: u32 = value
        .parse()
        .map_err(|_| invalid(variable, "expected a whole number"))?;
    if !range.contains(&n) {
        return Err(invalid(
            variable,
            format!("expected {}..={}", range.start(), range.end()),
        ));
    }
    Ok(n)
}

fn parse_duration_allow_zero(
    get: &Getter<'_>,
    variable: &str,
    default: &str,
) -> Result<Duration, ConfigError> {
    let value = get(variable).unwrap_or(default);
    let duration = humantime::parse_duration(value)
        .map_err(|e| invalid(variable, format!("expected a duration such as 20m: {e}")))?;
    if duration.subsec_nanos() != 0 {
        return Err(invalid(variable, "expected whole seconds"));
    }
    Ok(duration)
}

fn parse_duration(
    get: &Getter<'_>,
    variable: &str,
    default: &str,
) -> Result<Duration, ConfigError> {
    let duration = parse_duration_allow_zero(get, variable, default)?;
    if duration.is_zero() {
        return Err(invalid(variable, "must be at least 1s"));
    }
    Ok(duration)
}

fn parse_rate(get: &Getter<'_>, variable: &str, default: &str) -> Result<RateLimit, ConfigError> {
    let value = get(variable).unwrap_or(default);
    let (count, window) = value
        .split_once('/')
        .ok_or_else(|| invalid(variable, "expected <count>/<window>, such as 60/5m"))?;
    let max: u32 = count
        .trim()
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| invalid(variable, "the count must be a positive whole number"))?;
    let window = humantime::parse_duration(window.trim())
        .ok()
        .filter(|d| d.as_secs() >= 1 && d.subsec_nanos() == 0)
        .ok_or_else(|| invalid(variable, "the window must be whole seconds, such as 5m"))?;
    Ok(RateLimit { max, window })
}

fn parse_argon2(value: &str) -> Result<Argon2Cost, ConfigError> {
    const VAR: &str = "PORTCULLIS_ARGON2";
    let mut cost = Argon2Cost {
        memory_kib: 0,
        iterations: 0,
        parallelism: 0,
    };
    for part in value.split(',') {
        let (key, number) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| invalid(VAR, "expected m=<KiB>,t=<iterations>,p=<lanes>"))?;
        let number: u32 = number
            .parse()
            .map_err(|_| invalid(VAR, format!("{key} must be a whole number")))?;
        match key {
            "m" => cost.memory_kib = number,
            "t" => cost.iterations = number,
            "p" => cost.parallelism = number,
            _ => return Err(invalid(VAR, format!("unknown parameter {key}"))),
        }
    }
    // argon2's own limits, checked here so a bad value fails at start-up, not at the first login.
    argon2::Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|e| invalid(VAR, e.to_string()))?;
    Ok(cost)
}

fn parse_password_policy(get: &Getter<'_>) -> Result<PasswordPolicy, ConfigError> {
    let min_length = parse_number(get, "PORTCULLIS_PASSWORD_MIN_LENGTH", 8, 1..=256)? as usize;
    let max_length = parse_number(get, "PORTCULLIS_PASSWORD_MAX_LENGTH", 256, 8..=1024)? as usize;
    if min_length > max_length {
        return Err(invalid(
            "PORTCULLIS_PASSWORD_MIN_LENGTH",
            "must not exceed PORTCULLIS_PASSWORD_MAX_LENGTH",
        ));
    }
    let mut policy = PasswordPolicy {
        min_length,
        max_length,
        require_letter: false,
        require_digit: false,
        require_special: false,
    };
    let require = vars_list(get("PORTCULLIS_PASSWORD_REQUIRE").unwrap_or("letter,digit,special"));
    for part in require {
        match part {
            "letter" => policy.require_letter = true,
            "digit" => policy.require_digit = true,
            "special" => policy.require_special = true,
            "none" => {}
            _ => {
                return Err(invalid(
                    "PORTCULLIS_PASSWORD_REQUIRE",
                    "expected a list of letter, digit, special (or none)",
                ));
            }
        }
    }
    Ok(policy)
}

fn vars_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn parse_oauth_client(
    get: &Getter<'_>,
    provider: &str,
) -> Result<Option<OAuthClient>, ConfigError> {
    let id_var = format!("PORTCULLIS_OAUTH_{provider}_CLIENT_ID");
    let secret_var = format!("PORTCULLIS_OAUTH_{provider}_CLIENT_SECRET");
    match (get(&id_var), get(&secret_var)) {
        (None, None) => Ok(None),
        (Some(id), Some(secret)) => Ok(Some(OAuthClient {
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
        })),
        (Some(_), None) => Err(invalid(&secret_var, "must be set with the client id")),
        (None, Some(_)) => Err(invalid(&id_var, "must be set with the client secret")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_vars(vars.iter().copied(), Environment::Local)
    }

    #[test]
    fn defaults_match_the_api_contract() {
        let config = local(&[]).unwrap();
        assert_eq!(
            config.store,
            StoreLocation::Sqlite(".portcullis/portcullis.db".into())
        );
        assert_eq!(
            config.mailer,
            Some(MailerLocation::Outbox(".portcullis/outbox".into()))
        );
        assert_eq!(config.signup_mode, SignupMode::Open);
        assert_eq!(config.email_verification, EmailVerification::Required);
        assert!(config.login_identifiers.email && config.login_identifiers.username);
        assert_eq!(config.lockout.threshold, 10);
        assert_eq!(config.lockout.duration, Duration::from_secs(20 * 60));
        assert_eq!(config.ip_rate_limit.max, 60);
        assert_eq!(config.ip_rate_limit.window, Duration::from_secs(300));
        assert_eq!(config.access_token_ttl, Duration::from_secs(900));
        assert_eq!(config.session_ttl, Duration::from_secs(30 * 86400));
        assert_eq!(config.token_audience, "portcullis");
        assert_eq!(
            config.argon2,
            Argon2Cost {
                memory_kib: 19456,
                iterations: 2,
                parallelism: 1
            }
        );
        assert_eq!(config.password_policy, PasswordPolicy::default());
        assert_eq!(config.oauth_link_by_email, LinkByEmail::Verified);
        assert_eq!(config.oauth_exchange_ttl, Duration::from_secs(60));
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
            config.store,
            StoreLocation::DynamoDb {
                table: "portcullis".into()
            }
        );
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
        assert_eq!(config.password_policy.min_length, 12);
        assert!(config.password_policy.require_letter);
        assert!(!config.password_policy.require_digit);
        assert!(!config.password_policy.require_special);
    }
}
