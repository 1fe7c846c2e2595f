//! Request limits: per client IP and route group, and mails per address.

use super::{ConfigError, Vars};
use crate::rate_limit::RateLimit;

pub(super) const VARIABLES: &[&str] = &["PORTCULLIS_IP_RATE_LIMIT", "PORTCULLIS_MAIL_RATE_LIMIT"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests per client IP per window, counted per route group.
    pub ip: RateLimit,
    /// Mails per address per window; over it, the request still answers 202 and sends nothing.
    pub mail: RateLimit,
}

impl RateLimits {
    pub(super) fn parse(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(RateLimits {
            ip: vars.rate("PORTCULLIS_IP_RATE_LIMIT", "60/5m")?,
            mail: vars.rate("PORTCULLIS_MAIL_RATE_LIMIT", "3/15m")?,
        })
    }
}
