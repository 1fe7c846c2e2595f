//! Logs and the audit log.

use std::time::Duration;

use super::{ConfigError, Vars, invalid};

pub(super) const VARIABLES: &[&str] = &["PORTCULLIS_LOG", "PORTCULLIS_AUDIT_RETENTION"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// A `tracing` filter such as `info` or `portcullis=debug,info`.
    pub filter: String,
    /// How long audit events are kept.
    pub audit_retention: Duration,
}

impl LogConfig {
    pub(super) fn parse(vars: &Vars) -> Result<Self, ConfigError> {
        let filter = vars.get("PORTCULLIS_LOG").unwrap_or("info").to_owned();
        if filter
            .parse::<tracing_subscriber::filter::Targets>()
            .is_err()
        {
            return Err(invalid(
                "PORTCULLIS_LOG",
                "expected a filter such as info or portcullis=debug,info",
            ));
        }
        Ok(LogConfig {
            filter,
            audit_retention: vars.duration("PORTCULLIS_AUDIT_RETENTION", "90days")?,
        })
    }
}
