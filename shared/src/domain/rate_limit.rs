//! Fixed-window request counting per client IP and route group.

use std::time::Duration;

use crate::clock::UnixTime;

/// Requests per client IP are counted per group of routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateGroup {
    Signup,
    Login,
    /// Routes that send mail.
    Mail,
    /// Routes that take a token.
    Token,
}

impl RateGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            RateGroup::Signup => "signup",
            RateGroup::Login => "login",
            RateGroup::Mail => "mail",
            RateGroup::Token => "token",
        }
    }
}

/// At most `max` events per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub window: Duration,
}

/// The counter a request lands in: its key and when that window ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub key: String,
    pub ends_at: UnixTime,
}

impl RateLimit {
    /// Windows are aligned to multiples of their length, so every instance of a function counts
    /// into the same one.
    pub fn window(&self, scope: &str, now: UnixTime) -> Window {
        let length = i64::try_from(self.window.as_secs())
            .unwrap_or(i64::MAX)
            .max(1);
        let index = now.seconds().div_euclid(length);
        Window {
            key: format!("{scope}#{index}"),
            ends_at: UnixTime((index + 1).saturating_mul(length)),
        }
    }

    pub fn allows(&self, count: u64) -> bool {
        count <= u64::from(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_end_when_the_next_begins() {
        let limit = RateLimit {
            max: 3,
            window: Duration::from_secs(300),
        };
        let a = limit.window("login#1.2.3.4", UnixTime(600));
        let b = limit.window("login#1.2.3.4", UnixTime(899));
        let c = limit.window("login#1.2.3.4", UnixTime(900));
        assert_eq!(a, b);
        assert_eq!(a.ends_at, UnixTime(900));
        assert_ne!(a.key, c.key);
        assert!(limit.allows(3));
        assert!(!limit.allows(4));
    }
}
