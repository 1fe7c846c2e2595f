//! Reading one variable: numbers, durations, rates, URLs and lists, each refused with a message
//! naming the variable.

use std::ops::RangeInclusive;
use std::time::Duration;

use url::Url;

use super::{ConfigError, Vars, invalid};
use crate::rate_limit::RateLimit;

impl Vars {
    /// A whole number in `range`, or `default` when unset.
    pub(super) fn number(
        &self,
        variable: &str,
        default: u32,
        range: RangeInclusive<u32>,
    ) -> Result<u32, ConfigError> {
        let Some(value) = self.get(variable) else {
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

    /// Whole seconds, zero allowed.
    pub(super) fn duration_or_zero(
        &self,
        variable: &str,
        default: &str,
    ) -> Result<Duration, ConfigError> {
        let value = self.get(variable).unwrap_or(default);
        let duration = humantime::parse_duration(value)
            .map_err(|e| invalid(variable, format!("expected a duration such as 20m: {e}")))?;
        if duration.subsec_nanos() != 0 {
            return Err(invalid(variable, "expected whole seconds"));
        }
        Ok(duration)
    }

    /// Whole seconds, at least one.
    pub(super) fn duration(&self, variable: &str, default: &str) -> Result<Duration, ConfigError> {
        let duration = self.duration_or_zero(variable, default)?;
        if duration.is_zero() {
            return Err(invalid(variable, "must be at least 1s"));
        }
        Ok(duration)
    }

    /// `<count>/<window>`, such as `60/5m`.
    pub(super) fn rate(&self, variable: &str, default: &str) -> Result<RateLimit, ConfigError> {
        let value = self.get(variable).unwrap_or(default);
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

    /// One of `choices` (its name, its value), or `default` when unset.
    pub(super) fn choice<T: Copy>(
        &self,
        variable: &str,
        default: &str,
        choices: &[(&str, T)],
    ) -> Result<T, ConfigError> {
        let value = self.get(variable).unwrap_or(default);
        choices
            .iter()
            .find(|(name, _)| *name == value)
            .map(|(_, choice)| *choice)
            .ok_or_else(|| {
                let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
                let (last, first) = names.split_last().unwrap_or((&"", &[]));
                invalid(variable, format!("expected {} or {last}", first.join(", ")))
            })
    }

    /// An absolute http(s) URL, when set.
    pub(super) fn url(&self, variable: &str) -> Result<Option<Url>, ConfigError> {
        self.get(variable)
            .map(|value| base_url(variable, value))
            .transpose()
    }

    /// The comma-separated items of a list, when set.
    pub(super) fn list(&self, variable: &str, default: &'static str) -> Vec<&str> {
        self.get(variable)
            .unwrap_or(default)
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// An absolute http(s) URL without a query or fragment, so paths can be appended.
pub(super) fn base_url(variable: &str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| invalid(variable, format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(variable, "expected an http:// or https:// URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(variable, "must not have a query or fragment"));
    }
    Ok(url)
}
