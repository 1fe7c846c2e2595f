//! `portcullis config check`: the configuration in effect, group by group, one line per
//! `PORTCULLIS_*` variable, written the way the variable would be set. Provider client secrets
//! print as `[redacted]`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use portcullis::config::{
    Argon2Cost, Config, EmailVerification, LinkByEmail, LogConfig, LoginConfig, MailConfig,
    MailerLocation, OAuthClient, OAuthConfig, PasswordConfig, RateLimits, SignupConfig,
    StoreConfig, StoreLocation, TokenConfig, UiConfig, UrlConfig,
};
use portcullis::lockout::LockoutPolicy;
use portcullis::password_policy::PasswordPolicy;
use portcullis::rate_limit::RateLimit;

/// What a client secret prints as.
pub const REDACTED: &str = "[redacted]";

/// One group of settings: its title and, per variable, the value in effect.
pub struct Group {
    pub title: &'static str,
    pub rows: Vec<(&'static str, String)>,
}

/// Every setting of `config`, in the groups of `portcullis::config`. The destructuring is
/// exhaustive, so a new setting does not compile until it is shown here.
pub fn groups(config: &Config) -> Vec<Group> {
    let Config {
        environment: _,
        store,
        mail,
        urls,
        signup,
        passwords,
        login,
        rate_limits,
        tokens,
        oauth,
        log,
        ui,
    } = config;
    vec![
        store_group(store),
        mail_group(mail),
        urls_group(urls),
        signup_group(signup),
        passwords_group(passwords),
        login_group(login),
        rate_limits_group(rate_limits),
        tokens_group(tokens),
        oauth_group(oauth),
        log_group(log),
        ui_group(ui),
    ]
}

/// The printed report. `is_set` tells whether a variable was given (the others show defaults).
pub fn render(config: &Config, is_set: impl Fn(&str) -> bool) -> String {
    let groups = groups(config);
    let width = groups
        .iter()
        .flat_map(|g| g.rows.iter().map(|(name, _)| name.len()))
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    out.push_str(
        "The configuration is valid. `portcullis serve` and the other commands run with these \
         settings\n(from PORTCULLIS_* variables; \"(set)\" marks those given, the others are \
         defaults).\nEvery variable is described in docs/api.md, section \"Configuration\".\n",
    );
    for group in groups {
        let _ = write!(out, "\n{}\n", group.title);
        for (name, value) in group.rows {
            let mark = if is_set(name) { "  (set)" } else { "" };
            let _ = writeln!(out, "  {name:<width$}  {value}{mark}");
        }
    }
    out
}

/// Whether `name` is set in the process environment, as `Config` reads it: empty or only
/// whitespace counts as unset.
pub fn set_in_env(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.to_string_lossy().trim().is_empty())
}

fn store_group(store: &StoreConfig) -> Group {
    let StoreConfig {
        location,
        dynamodb_endpoint,
    } = store;
    let location = match location {
        StoreLocation::Sqlite(path) => format!("sqlite://{}", with_absolute(path)),
        StoreLocation::DynamoDb { table } => format!("dynamodb://{table}"),
    };
    Group {
        title: "Store",
        rows: vec![
            ("PORTCULLIS_STORE", location),
            (
                "PORTCULLIS_DYNAMODB_ENDPOINT",
                or_unset(dynamodb_endpoint, "AWS's own endpoint"),
            ),
        ],
    }
}

fn mail_group(mail: &MailConfig) -> Group {
    let MailConfig {
        mailer,
        ses_endpoint,
        ses_configuration_set,
        product_name,
        response_time,
    } = mail;
    let mailer = match mailer {
        Some(MailerLocation::Outbox(path)) => format!("outbox://{}", with_absolute(path)),
        Some(MailerLocation::Ses { from }) => format!("ses://{from}"),
        None => "unset: no mail is sent".to_owned(),
    };
    Group {
        title: "Mail",
        rows: vec![
            ("PORTCULLIS_MAILER", mailer),
            (
                "PORTCULLIS_SES_ENDPOINT",
                or_unset(ses_endpoint, "AWS's own endpoint"),
            ),
            (
                "PORTCULLIS_SES_CONFIGURATION_SET",
                or_unset(ses_configuration_set, "no configuration set"),
            ),
            ("PORTCULLIS_PRODUCT_NAME", product_name.clone()),
            ("PORTCULLIS_MAIL_RESPONSE_TIME", duration(*response_time)),
        ],
    }
}

fn urls_group(urls: &UrlConfig) -> Group {
    let UrlConfig { public_url, ui_url } = urls;
    Group {
        title: "URLs",
        rows: vec![
            (
                "PORTCULLIS_PUBLIC_URL",
                or_unset(public_url, "http://<the address serve listens on>"),
            ),
            ("PORTCULLIS_UI_URL", or_unset(ui_url, "the public URL")),
        ],
    }
}

fn signup_group(signup: &SignupConfig) -> Group {
    let SignupConfig {
        mode,
        email_verification,
        verification_ttl,
        invitation_ttl,
        conceal_existing_email,
    } = signup;
    let verification = match email_verification {
        EmailVerification::Required => "required: login waits for the email to be verified",
        EmailVerification::Optional => "optional: a mail is sent, login does not wait",
        EmailVerification::Off => "off: no verification mail",
    };
    Group {
        title: "Signup",
        rows: vec![
            ("PORTCULLIS_SIGNUP_MODE", mode.as_str().to_owned()),
            ("PORTCULLIS_EMAIL_VERIFICATION", verification.to_owned()),
            ("PORTCULLIS_VERIFICATION_TTL", duration(*verification_ttl)),
            ("PORTCULLIS_INVITATION_TTL", duration(*invitation_ttl)),
            (
                "PORTCULLIS_SIGNUP_EXISTING_EMAIL",
                if *conceal_existing_email {
                    "conceal"
                } else {
                    "reveal"
                }
                .to_owned(),
            ),
        ],
    }
}

fn passwords_group(passwords: &PasswordConfig) -> Group {
    let PasswordConfig {
        policy,
        argon2,
        reset_enabled,
        reset_ttl,
    } = passwords;
    let PasswordPolicy {
        min_length,
        max_length,
        require_letter,
        require_digit,
        require_special,
    } = policy;
    let classes: Vec<&str> = [
        (*require_letter, "letter"),
        (*require_digit, "digit"),
        (*require_special, "special"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    let require = if classes.is_empty() {
        "none".to_owned()
    } else {
        classes.join(",")
    };
    let Argon2Cost {
        memory_kib,
        iterations,
        parallelism,
    } = argon2;
    Group {
        title: "Passwords",
        rows: vec![
            ("PORTCULLIS_PASSWORD_MIN_LENGTH", min_length.to_string()),
            ("PORTCULLIS_PASSWORD_MAX_LENGTH", max_length.to_string()),
            ("PORTCULLIS_PASSWORD_REQUIRE", require),
            (
                "PORTCULLIS_ARGON2",
                format!("m={memory_kib},t={iterations},p={parallelism}"),
            ),
            (
                "PORTCULLIS_PASSWORD_RESET",
                if *reset_enabled {
                    "enabled"
                } else {
                    "disabled"
                }
                .to_owned(),
            ),
            ("PORTCULLIS_RESET_TTL", duration(*reset_ttl)),
        ],
    }
}

fn login_group(login: &LoginConfig) -> Group {
    let LoginConfig {
        identifiers,
        lockout,
        access_key_limit,
        access_key_login,
        access_key_max_lifetime,
    } = login;
    let LockoutPolicy {
        threshold,
        duration: lock,
    } = lockout;
    Group {
        title: "Login",
        rows: vec![
            (
                "PORTCULLIS_LOGIN_IDENTIFIERS",
                identifiers.names().join(","),
            ),
            ("PORTCULLIS_LOCKOUT_THRESHOLD", threshold.to_string()),
            ("PORTCULLIS_LOCKOUT_DURATION", duration(*lock)),
            ("PORTCULLIS_ACCESS_KEY_LIMIT", access_key_limit.to_string()),
            (
                "PORTCULLIS_ACCESS_KEY_LOGIN",
                if *access_key_login {
                    "enabled"
                } else {
                    "disabled"
                }
                .to_owned(),
            ),
            (
                "PORTCULLIS_ACCESS_KEY_MAX_LIFETIME",
                access_key_max_lifetime
                    .map_or_else(|| "unset: keys last until deleted".to_owned(), duration),
            ),
        ],
    }
}

fn rate_limits_group(limits: &RateLimits) -> Group {
    let RateLimits { ip, mail } = limits;
    Group {
        title: "Rate limits",
        rows: vec![
            ("PORTCULLIS_IP_RATE_LIMIT", rate(ip)),
            ("PORTCULLIS_MAIL_RATE_LIMIT", rate(mail)),
        ],
    }
}

fn tokens_group(tokens: &TokenConfig) -> Group {
    let TokenConfig {
        audience,
        access_token_ttl,
        session_ttl,
        session_idle_timeout,
        refresh_grace,
        key_activation_delay,
    } = tokens;
    Group {
        title: "Tokens and signing keys",
        rows: vec![
            ("PORTCULLIS_TOKEN_AUDIENCE", audience.clone()),
            ("PORTCULLIS_ACCESS_TOKEN_TTL", duration(*access_token_ttl)),
            ("PORTCULLIS_SESSION_TTL", duration(*session_ttl)),
            (
                "PORTCULLIS_SESSION_IDLE_TIMEOUT",
                session_idle_timeout
                    .map_or_else(|| "unset: sessions never idle out".to_owned(), duration),
            ),
            ("PORTCULLIS_REFRESH_GRACE", duration(*refresh_grace)),
            (
                "PORTCULLIS_KEY_ACTIVATION_DELAY",
                duration(*key_activation_delay),
            ),
        ],
    }
}

fn oauth_group(oauth: &OAuthConfig) -> Group {
    let OAuthConfig {
        google,
        google_issuer,
        github,
        github_url,
        github_api_url,
        return_to,
        link_by_email,
        exchange_ttl,
    } = oauth;
    let [google_id, google_secret] = client(google, "Google");
    let [github_id, github_secret] = client(github, "GitHub");
    let return_to = if return_to.is_empty() {
        "unset: the UI URL".to_owned()
    } else {
        return_to
            .iter()
            .map(|url| url.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let link_by_email = match link_by_email {
        LinkByEmail::Verified => "verified",
        LinkByEmail::Never => "never",
    };
    Group {
        title: "Sign-in with Google and GitHub",
        rows: vec![
            ("PORTCULLIS_OAUTH_GOOGLE_CLIENT_ID", google_id),
            ("PORTCULLIS_OAUTH_GOOGLE_CLIENT_SECRET", google_secret),
            ("PORTCULLIS_OAUTH_GOOGLE_ISSUER", google_issuer.to_string()),
            ("PORTCULLIS_OAUTH_GITHUB_CLIENT_ID", github_id),
            ("PORTCULLIS_OAUTH_GITHUB_CLIENT_SECRET", github_secret),
            ("PORTCULLIS_OAUTH_GITHUB_URL", github_url.to_string()),
            (
                "PORTCULLIS_OAUTH_GITHUB_API_URL",
                github_api_url.to_string(),
            ),
            ("PORTCULLIS_OAUTH_RETURN_TO", return_to),
            ("PORTCULLIS_OAUTH_LINK_BY_EMAIL", link_by_email.to_owned()),
            ("PORTCULLIS_OAUTH_EXCHANGE_TTL", duration(*exchange_ttl)),
        ],
    }
}

fn log_group(log: &LogConfig) -> Group {
    let LogConfig {
        filter,
        audit_retention,
    } = log;
    Group {
        title: "Logs",
        rows: vec![
            ("PORTCULLIS_LOG", filter.clone()),
            ("PORTCULLIS_AUDIT_RETENTION", duration(*audit_retention)),
        ],
    }
}

fn ui_group(ui: &UiConfig) -> Group {
    let UiConfig {
        logo_url,
        accent_color,
        terms_url,
        privacy_url,
    } = ui;
    Group {
        title: "Hosted pages",
        rows: vec![
            ("PORTCULLIS_LOGO_URL", or_unset(logo_url, "no logo")),
            ("PORTCULLIS_ACCENT_COLOR", accent_color.clone()),
            ("PORTCULLIS_TERMS_URL", or_unset(terms_url, "no terms link")),
            (
                "PORTCULLIS_PRIVACY_URL",
                or_unset(privacy_url, "no privacy link"),
            ),
        ],
    }
}

/// The client id and the redacted secret, or "unset" twice.
fn client(client: &Option<OAuthClient>, provider: &str) -> [String; 2] {
    match client {
        Some(OAuthClient {
            client_id,
            client_secret: _,
        }) => [client_id.clone(), REDACTED.to_owned()],
        None => {
            let unset = format!("unset: no {provider} sign-in");
            [unset.clone(), unset]
        }
    }
}

fn or_unset(value: &Option<impl ToString>, meaning: &str) -> String {
    match value {
        Some(value) => value.to_string(),
        None => format!("unset: {meaning}"),
    }
}

/// A relative path as written, followed by where it is from the current directory.
fn with_absolute(path: &Path) -> String {
    match std::env::current_dir() {
        Ok(dir) if path.is_relative() => {
            format!("{}  ({})", path.display(), dir.join(path).display())
        }
        _ => path.display().to_string(),
    }
}

fn rate(limit: &RateLimit) -> String {
    let RateLimit { max, window } = limit;
    format!("{max}/{}", duration(*window))
}

/// A duration as a `PORTCULLIS_*` variable would give it: `400ms`, `60s`, `20m`, `24h`, `30d`.
pub fn duration(d: Duration) -> String {
    if d.subsec_nanos() != 0 {
        return if d.as_nanos().is_multiple_of(1_000_000) {
            format!("{}ms", d.as_millis())
        } else {
            format!("{d:?}")
        };
    }
    // A unit is used from two of it (one for hours), as docs/api.md writes them: 60s, 1h, 24h,
    // 30d.
    let secs = d.as_secs();
    match secs {
        _ if secs >= 2 * 86_400 && secs.is_multiple_of(86_400) => format!("{}d", secs / 86_400),
        _ if secs >= 3_600 && secs.is_multiple_of(3_600) => format!("{}h", secs / 3_600),
        _ if secs >= 120 && secs.is_multiple_of(60) => format!("{}m", secs / 60),
        _ => format!("{secs}s"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use portcullis::config::Environment;

    use super::*;

    #[test]
    fn every_variable_has_one_line() {
        let shown: Vec<&str> = groups(&Config::local_defaults())
            .into_iter()
            .flat_map(|g| g.rows.into_iter().map(|(name, _)| name))
            .collect();
        let unique: BTreeSet<&str> = shown.iter().copied().collect();
        assert_eq!(shown.len(), unique.len(), "a variable shown twice");
        let known: BTreeSet<&str> = portcullis::config::variables().collect();
        assert_eq!(unique, known);
    }

    #[test]
    fn values_read_back_as_the_same_configuration() {
        let config = Config::from_vars(
            [
                ("PORTCULLIS_STORE", "dynamodb://accounts"),
                ("PORTCULLIS_MAILER", "ses://no-reply@example.com"),
                ("PORTCULLIS_SIGNUP_MODE", "approval"),
                ("PORTCULLIS_PASSWORD_REQUIRE", "none"),
                ("PORTCULLIS_LOGIN_IDENTIFIERS", "username"),
                ("PORTCULLIS_IP_RATE_LIMIT", "100/90s"),
                (
                    "PORTCULLIS_OAUTH_RETURN_TO",
                    "https://a.example,https://b.example",
                ),
                ("PORTCULLIS_OAUTH_LINK_BY_EMAIL", "never"),
            ],
            Environment::Local,
        )
        .unwrap();
        let vars: Vec<(&str, String)> = groups(&config)
            .into_iter()
            .flat_map(|g| g.rows)
            .filter(|(_, value)| !value.starts_with("unset"))
            .filter(|(name, _)| *name != "PORTCULLIS_EMAIL_VERIFICATION")
            .collect();
        let again = Config::from_vars(
            vars.iter().map(|(name, value)| (*name, value.as_str())),
            Environment::Local,
        )
        .unwrap();
        assert_eq!(again, config);
    }

    #[test]
    fn secrets_are_redacted() {
        let config = Config::from_vars(
            [
                ("PORTCULLIS_OAUTH_GOOGLE_CLIENT_ID", "g-id"),
                ("PORTCULLIS_OAUTH_GOOGLE_CLIENT_SECRET", "g-very-secret"),
            ],
            Environment::Local,
        )
        .unwrap();
        let printed = render(&config, |_| false);
        assert!(printed.contains("g-id"), "{printed}");
        assert!(printed.contains(REDACTED), "{printed}");
        assert!(!printed.contains("g-very-secret"), "{printed}");
    }

    #[test]
    fn durations_print_in_their_largest_whole_unit() {
        for (secs, text) in [
            (0, "0s"),
            (10, "10s"),
            (60, "60s"),
            (90, "90s"),
            (600, "10m"),
            (3_600, "1h"),
            (86_400, "24h"),
            (90 * 60, "90m"),
            (2 * 86_400, "2d"),
            (90 * 86_400, "90d"),
        ] {
            assert_eq!(duration(Duration::from_secs(secs)), text);
        }
        assert_eq!(duration(Duration::from_millis(400)), "400ms");
    }
}
