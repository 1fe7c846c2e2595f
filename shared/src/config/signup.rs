//! Who may sign up, and whether the email must be verified first.

use std::time::Duration;

use super::{ConfigError, Vars};

pub(super) const VARIABLES: &[&str] = &[
    "PORTCULLIS_SIGNUP_MODE",
    "PORTCULLIS_EMAIL_VERIFICATION",
    "PORTCULLIS_VERIFICATION_TTL",
    "PORTCULLIS_INVITATION_TTL",
    "PORTCULLIS_SIGNUP_EXISTING_EMAIL",
];

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignupConfig {
    pub mode: SignupMode,
    pub email_verification: EmailVerification,
    /// Life of a verification link.
    pub verification_ttl: Duration,
    /// Default life of an invitation (`expires_in` may ask for another).
    pub invitation_ttl: Duration,
    /// `PORTCULLIS_SIGNUP_EXISTING_EMAIL=conceal`: a signup with an address that has an account
    /// is answered like a new one, and the owner is mailed instead (`reveal`, the default,
    /// answers 409 `email_taken`, as the products Portcullis serves do).
    pub conceal_existing_email: bool,
}

impl SignupConfig {
    pub(super) fn parse(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(SignupConfig {
            mode: vars.choice(
                "PORTCULLIS_SIGNUP_MODE",
                "open",
                &[
                    ("open", SignupMode::Open),
                    ("invitation", SignupMode::Invitation),
                    ("approval", SignupMode::Approval),
                    ("disabled", SignupMode::Disabled),
                ],
            )?,
            email_verification: vars.choice(
                "PORTCULLIS_EMAIL_VERIFICATION",
                "required",
                &[
                    ("required", EmailVerification::Required),
                    ("optional", EmailVerification::Optional),
                    ("off", EmailVerification::Off),
                ],
            )?,
            verification_ttl: vars.duration("PORTCULLIS_VERIFICATION_TTL", "24h")?,
            invitation_ttl: vars.duration("PORTCULLIS_INVITATION_TTL", "7days")?,
            conceal_existing_email: vars.choice(
                "PORTCULLIS_SIGNUP_EXISTING_EMAIL",
                "reveal",
                &[("reveal", false), ("conceal", true)],
            )?,
        })
    }
}
