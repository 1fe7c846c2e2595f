//! Account lockout: after `threshold` consecutive failed password checks, every attempt is refused
//! for `duration`, counted from the failure that reached the threshold.
//!
//! Failures form a run. A failure extends the run when the previous one is less than `duration`
//! old and the run has not served a lock that is now over; otherwise it starts a new run of one.
//! So failures are forgotten `duration` after the latest one, and a success or a completed reset
//! clears the run. The store applies that rule atomically (one conditional write). Login counts
//! each attempt this way *before* checking its password (`login::begin_attempt`), so concurrent
//! attempts are counted exactly and at most `threshold` passwords are tested per run; attempts
//! past it are refused unchecked and never move the end of the lock.
//!
//! Runs are kept apart so that strangers lock themselves out, not the owner (OWASP's device
//! cookies): a client that has signed in to the account before counts under its device
//! (`device_key`), everyone else under the account (`account_key`), and access-key logins under
//! their own key (`key_login_key`), so password guesses never block keys and the reverse.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::clock::UnixTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub threshold: u32,
    pub duration: Duration,
}

/// What the store keeps per lockout key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutRecord {
    pub failures: u32,
    pub last_failure_at: UnixTime,
    pub locked_until: Option<UnixTime>,
}

/// The arguments of one atomic "record a failure" write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureWrite {
    pub now: UnixTime,
    /// The run goes on only if its latest failure is after this instant.
    pub stale_before: UnixTime,
    /// When the store may delete the record (its TTL).
    pub expires_at: UnixTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockState {
    Open,
    Locked { until: UnixTime },
}

/// The key a login attempt counts under: the account when the identifier names one, otherwise a
/// digest of the identifier, so unknown identifiers lock exactly like real accounts and the store
/// never holds what a stranger typed.
pub fn account_key(user_id: &str) -> String {
    format!("{ACCOUNT_PREFIX}{user_id}")
}

/// The key of a trusted device's run: the account and the device token's id.
pub fn device_key(user_id: &str, device_id: &str) -> String {
    format!("{DEVICE_PREFIX}{user_id}#{device_id}")
}

/// The key of the mark that voids a device's token for good once its run has locked. Nothing but
/// that lock writes it, so no later failure can shorten its life (its expiry is the token's).
pub fn device_void_key(user_id: &str, device_id: &str) -> String {
    format!("{DEVICE_VOID_PREFIX}{user_id}#{device_id}")
}

/// The key of the account's access-key logins.
pub fn key_login_key(user_id: &str) -> String {
    format!("{KEY_LOGIN_PREFIX}{user_id}")
}

/// The account a lockout key counts for, when it is an account's, a device's or key logins'.
pub fn account_of(key: &str) -> Option<&str> {
    if let Some(device) = key.strip_prefix(DEVICE_PREFIX) {
        return device.split_once('#').map(|(user_id, _)| user_id);
    }
    key.strip_prefix(ACCOUNT_PREFIX)
        .or_else(|| key.strip_prefix(KEY_LOGIN_PREFIX))
}

/// Whether `key` counts a trusted device's failures.
pub fn is_device_key(key: &str) -> bool {
    key.starts_with(DEVICE_PREFIX)
}

/// Whether `key` counts access-key logins.
pub fn is_key_login_key(key: &str) -> bool {
    key.starts_with(KEY_LOGIN_PREFIX)
}

const ACCOUNT_PREFIX: &str = "account#";
const DEVICE_PREFIX: &str = "device#";
const DEVICE_VOID_PREFIX: &str = "device-void#";
const KEY_LOGIN_PREFIX: &str = "key-login#";

pub fn identifier_key(normalized_identifier: &str) -> String {
    let digest = Sha256::digest(normalized_identifier.as_bytes());
    format!("identifier#{}", hex(&digest))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl LockoutPolicy {
    pub fn state(&self, record: Option<&LockoutRecord>, now: UnixTime) -> LockState {
        let Some(record) = record else {
            return LockState::Open;
        };
        let until = match record.locked_until {
            Some(until) => until,
            // Reached the threshold but the lock is not written yet (a concurrent request is
            // writing it): the lock runs from the latest failure.
            None if record.failures >= self.threshold => record.last_failure_at.plus(self.duration),
            None => return LockState::Open,
        };
        if now < until {
            LockState::Locked { until }
        } else {
            LockState::Open
        }
    }

    pub fn failure_write(&self, now: UnixTime) -> FailureWrite {
        FailureWrite {
            now,
            stale_before: now.minus(self.duration),
            // Long enough for the run and a lock that may start at its last failure.
            expires_at: now.plus(self.duration * 2),
        }
    }

    /// The record after one more failure: the rule every store implements atomically.
    pub fn after_failure(previous: Option<&LockoutRecord>, write: FailureWrite) -> LockoutRecord {
        let continues = previous.is_some_and(|r| {
            r.last_failure_at > write.stale_before && r.locked_until.is_none_or(|u| u > write.now)
        });
        match previous {
            Some(r) if continues => LockoutRecord {
                failures: r.failures.saturating_add(1),
                last_failure_at: write.now,
                locked_until: r.locked_until,
            },
            _ => LockoutRecord {
                failures: 1,
                last_failure_at: write.now,
                locked_until: None,
            },
        }
    }

    /// Whether this failure is the one that locks (exactly one failure of a run reaches it).
    pub fn locks(&self, record: &LockoutRecord) -> bool {
        record.failures == self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn policy() -> LockoutPolicy {
        LockoutPolicy {
            threshold: 3,
            duration: 20 * MINUTE,
        }
    }

    fn fail(policy: &LockoutPolicy, record: Option<LockoutRecord>, at: i64) -> LockoutRecord {
        let mut next =
            LockoutPolicy::after_failure(record.as_ref(), policy.failure_write(UnixTime(at)));
        if policy.locks(&next) {
            next.locked_until = Some(UnixTime(at).plus(policy.duration));
        }
        next
    }

    #[test]
    fn locks_at_the_threshold_for_the_duration_from_that_failure() {
        let p = policy();
        let r = fail(&p, None, 0);
        let r = fail(&p, Some(r), 60);
        assert_eq!(p.state(Some(&r), UnixTime(61)), LockState::Open);
        let r = fail(&p, Some(r), 120);
        assert_eq!(r.failures, 3);
        let until = UnixTime(120 + 20 * 60);
        assert_eq!(
            p.state(Some(&r), UnixTime(121)),
            LockState::Locked { until }
        );
        assert_eq!(
            p.state(Some(&r), UnixTime(until.0 - 1)),
            LockState::Locked { until }
        );
        assert_eq!(p.state(Some(&r), until), LockState::Open);
    }

    #[test]
    fn a_failure_after_the_lock_starts_a_new_run() {
        let p = policy();
        let mut r = None;
        for at in [0, 1, 2] {
            r = Some(fail(&p, r, at));
        }
        let after = 2 + 20 * 60;
        let r = fail(&p, r, after);
        assert_eq!(r.failures, 1);
        assert_eq!(r.locked_until, None);
        assert_eq!(p.state(Some(&r), UnixTime(after)), LockState::Open);
    }

    #[test]
    fn failures_are_forgotten_a_duration_after_the_latest() {
        let p = policy();
        let r = fail(&p, None, 0);
        let r = fail(&p, Some(r), 19 * 60);
        assert_eq!(r.failures, 2);
        let r = fail(&p, Some(r), 19 * 60 + 20 * 60);
        assert_eq!(r.failures, 1);
    }

    #[test]
    fn threshold_reached_but_lock_not_yet_written_counts_as_locked() {
        let p = policy();
        let r = LockoutRecord {
            failures: 4,
            last_failure_at: UnixTime(100),
            locked_until: None,
        };
        assert_eq!(
            p.state(Some(&r), UnixTime(100)),
            LockState::Locked {
                until: UnixTime(100 + 20 * 60)
            }
        );
    }

    #[test]
    fn only_the_failure_reaching_the_threshold_locks() {
        let p = policy();
        let at = |failures| LockoutRecord {
            failures,
            last_failure_at: UnixTime(0),
            locked_until: None,
        };
        assert!(!p.locks(&at(2)));
        assert!(p.locks(&at(3)));
        assert!(!p.locks(&at(4)));
    }

    #[test]
    fn keys_never_hold_the_identifier() {
        let key = identifier_key("alice@example.com");
        assert!(key.starts_with("identifier#"));
        assert!(!key.contains("alice"));
        assert_eq!(key, identifier_key("alice@example.com"));
        assert_eq!(account_key("u1"), "account#u1");
        assert_eq!(account_of(&account_key("u1")), Some("u1"));
        assert_eq!(account_of(&identifier_key("ada")), None);
        let device = device_key("u1", "d1");
        assert_eq!(account_of(&device), Some("u1"));
        assert!(is_device_key(&device) && !is_key_login_key(&device));
        let keys = key_login_key("u1");
        assert_eq!(account_of(&keys), Some("u1"));
        assert!(is_key_login_key(&keys) && !is_device_key(&keys));
        assert_ne!(keys, account_key("u1"));
        assert_ne!(device, account_key("u1"));
    }
}
