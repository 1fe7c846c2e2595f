//! Outgoing mail: where it goes and how it reads.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::{ConfigError, Environment, Vars, invalid};

pub(super) const VARIABLES: &[&str] = &[
    "PORTCULLIS_MAILER",
    "PORTCULLIS_SES_ENDPOINT",
    "PORTCULLIS_SES_CONFIGURATION_SET",
    "PORTCULLIS_PRODUCT_NAME",
    "PORTCULLIS_MAIL_RESPONSE_TIME",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailerLocation {
    Outbox(PathBuf),
    Ses { from: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailConfig {
    /// `PORTCULLIS_MAILER`: `outbox://<folder>` (locally, `.portcullis/outbox`) or
    /// `ses://<from address>`; unset in Lambda means no mail.
    pub mailer: Option<MailerLocation>,
    /// `PORTCULLIS_SES_ENDPOINT`: another SES, such as an emulator.
    pub ses_endpoint: Option<Url>,
    pub ses_configuration_set: Option<String>,
    /// The name mail speaks in.
    pub product_name: String,
    /// Reset requests and verification resends answer no sooner than this, so the time taken
    /// does not tell whether a mail was sent.
    pub response_time: Duration,
}

impl MailConfig {
    pub(super) fn parse(vars: &Vars, environment: Environment) -> Result<Self, ConfigError> {
        let mailer = match (vars.get("PORTCULLIS_MAILER"), environment) {
            (Some(value), _) => Some(parse_mailer(value)?),
            (None, Environment::Local) => Some(MailerLocation::Outbox(".portcullis/outbox".into())),
            (None, Environment::Lambda) => None,
        };
        let response_time =
            humantime::parse_duration(vars.get("PORTCULLIS_MAIL_RESPONSE_TIME").unwrap_or("400ms"))
                .map_err(|e| {
                    invalid(
                        "PORTCULLIS_MAIL_RESPONSE_TIME",
                        format!("expected a duration such as 400ms: {e}"),
                    )
                })?;
        Ok(MailConfig {
            mailer,
            ses_endpoint: vars.url("PORTCULLIS_SES_ENDPOINT")?,
            ses_configuration_set: vars
                .get("PORTCULLIS_SES_CONFIGURATION_SET")
                .map(str::to_owned),
            product_name: vars
                .get("PORTCULLIS_PRODUCT_NAME")
                .unwrap_or("Portcullis")
                .to_owned(),
            response_time,
        })
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
