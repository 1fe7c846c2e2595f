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

/// The client a per-IP limit counts: an IPv4 address as it is, an IPv6 address by its /64 (one
/// subscriber or host usually holds a whole /64, and could otherwise take a fresh address per
/// request), an IPv4-mapped IPv6 address as its IPv4 address. Anything else (no address) as it
/// is.
pub fn client_group(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_owned(),
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
    fn ipv6_clients_are_grouped_by_their_64() {
        assert_eq!(
            client_group("2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(client_group("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(client_group("2001:db8:1:3::1"), "2001:db8:1:3::/64");
        assert_eq!(client_group("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(client_group("203.0.113.7"), "203.0.113.7");
        assert_eq!(client_group("unknown"), "unknown");
    }

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
