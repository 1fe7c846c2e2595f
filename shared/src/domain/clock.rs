//! Time as the domain sees it: whole seconds since the Unix epoch, from a clock that tests can set.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time, in whole seconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

impl UnixTime {
    pub fn seconds(self) -> i64 {
        self.0
    }

    pub fn plus(self, duration: Duration) -> UnixTime {
        UnixTime(self.0.saturating_add(duration_secs(duration)))
    }

    pub fn minus(self, duration: Duration) -> UnixTime {
        UnixTime(self.0.saturating_sub(duration_secs(duration)))
    }

    /// Whole seconds from `self` until `later`, at least 1: what a `Retry-After` header says.
    pub fn seconds_until(self, later: UnixTime) -> u64 {
        u64::try_from(later.0.saturating_sub(self.0))
            .unwrap_or(0)
            .max(1)
    }

    /// RFC 3339 in UTC, as the API shows times. RFC 3339 has four-digit years: an instant before
    /// the epoch shows as the epoch, and one past year 9999 as its last second.
    pub fn rfc3339(self) -> String {
        let secs = u64::try_from(self.0).unwrap_or(0).min(LAST_RFC3339_SECOND);
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// 9999-12-31T23:59:59Z.
const LAST_RFC3339_SECOND: u64 = 253_402_300_799;

fn duration_secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// Where the current time comes from. Flows never read the system time themselves.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> UnixTime;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl SystemClock {
    /// Milliseconds since the epoch, for names that sort by time (outbox files).
    pub fn now_millis(&self) -> u128 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    }
}

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        UnixTime(i64::try_from(secs).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to: lockout and expiry tests are exact with it.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// Starts at the current system time, so tokens it stamps look ordinary.
    pub fn starting_now() -> ManualClock {
        ManualClock(AtomicI64::new(SystemClock.now().0))
    }

    pub fn at(time: UnixTime) -> ManualClock {
        ManualClock(AtomicI64::new(time.0))
    }

    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(duration_secs(by), Ordering::SeqCst);
    }

    pub fn set(&self, time: UnixTime) {
        self.0.store(time.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(UnixTime(1_000));
        assert_eq!(clock.now(), UnixTime(1_000));
        clock.advance(Duration::from_secs(61));
        assert_eq!(clock.now(), UnixTime(1_061));
        clock.set(UnixTime(5));
        assert_eq!(clock.now(), UnixTime(5));
    }

    #[test]
    fn retry_after_is_never_zero() {
        assert_eq!(UnixTime(10).seconds_until(UnixTime(10)), 1);
        assert_eq!(UnixTime(10).seconds_until(UnixTime(5)), 1);
        assert_eq!(UnixTime(10).seconds_until(UnixTime(70)), 60);
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(UnixTime(0).rfc3339(), "1970-01-01T00:00:00Z");
    }
}
