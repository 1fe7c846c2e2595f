//! Passwords: the policy a new one must meet, how it is hashed, and whether it can be reset.

use std::time::Duration;

use super::{ConfigError, Vars, invalid};
use crate::password_policy::PasswordPolicy;

pub(super) const VARIABLES: &[&str] = &[
    "PORTCULLIS_PASSWORD_MIN_LENGTH",
    "PORTCULLIS_PASSWORD_MAX_LENGTH",
    "PORTCULLIS_PASSWORD_REQUIRE",
    "PORTCULLIS_ARGON2",
    "PORTCULLIS_PASSWORD_RESET",
    "PORTCULLIS_RESET_TTL",
];

/// argon2id cost: memory in KiB, iterations, parallelism.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordConfig {
    pub policy: PasswordPolicy,
    pub argon2: Argon2Cost,
    /// `PORTCULLIS_PASSWORD_RESET=disabled` makes reset-request answer 403.
    pub reset_enabled: bool,
    /// Life of a reset link.
    pub reset_ttl: Duration,
}

impl PasswordConfig {
    pub(super) fn parse(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(PasswordConfig {
            policy: parse_policy(vars)?,
            argon2: parse_argon2(vars.get("PORTCULLIS_ARGON2").unwrap_or("m=19456,t=2,p=1"))?,
            reset_enabled: vars.choice(
                "PORTCULLIS_PASSWORD_RESET",
                "enabled",
                &[("enabled", true), ("disabled", false)],
            )?,
            reset_ttl: vars.duration("PORTCULLIS_RESET_TTL", "1h")?,
        })
    }
}

fn parse_policy(vars: &Vars) -> Result<PasswordPolicy, ConfigError> {
    let min_length = vars.number("PORTCULLIS_PASSWORD_MIN_LENGTH", 8, 1..=256)? as usize;
    let max_length = vars.number("PORTCULLIS_PASSWORD_MAX_LENGTH", 256, 8..=1024)? as usize;
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
    for part in vars.list("PORTCULLIS_PASSWORD_REQUIRE", "letter,digit,special") {
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
    // Within the caps every stored hash is read under (`password::formats`), or no login could
    // verify the hashes it makes.
    use crate::hash_caps::{MAX_ARGON2_WORK, MAX_MEMORY_KIB, MAX_PASSES};
    let work = u64::from(cost.memory_kib) * u64::from(cost.iterations);
    if u64::from(cost.memory_kib) > MAX_MEMORY_KIB
        || work > MAX_ARGON2_WORK
        || cost.iterations > MAX_PASSES
        || cost.parallelism > MAX_PASSES
    {
        return Err(invalid(
            VAR,
            format!(
                "at most m={MAX_MEMORY_KIB}, t={MAX_PASSES}, p={MAX_PASSES}, and m × t at most \
                 {MAX_ARGON2_WORK}"
            ),
        ));
    }
    Ok(cost)
}
