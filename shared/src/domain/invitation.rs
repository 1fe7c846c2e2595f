//! Invitations as the store keeps them, and the rule for using one.

use std::time::Duration;

use crate::clock::UnixTime;
use crate::email::Email;

/// `expires_in` may ask for anything from a minute to 90 days.
pub const MIN_LIFETIME: Duration = Duration::from_secs(60);
pub const MAX_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// The first 32 hex characters of the token's digest: an admin can name the invitation
    /// without anything that leads back to the token.
    pub id: String,
    /// SHA-256 of the token, hex.
    pub digest: String,
    /// When set, only a signup with this email may use the invitation.
    pub email: Option<Email>,
    /// The roles the new account gets.
    pub roles: Vec<String>,
    pub created_by: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub used_at: Option<UnixTime>,
    pub used_by: Option<String>,
}

/// A signup's claim on an invitation, checked and applied by the store with the account write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationUse {
    pub id: String,
    pub digest: String,
    /// The signup's lower-cased email.
    pub email_key: String,
    pub now: UnixTime,
}

pub fn id_of(digest: &str) -> String {
    digest.chars().take(32).collect()
}

impl Invitation {
    /// Whether a signup with `email_key` may use it at `now`.
    pub fn admits(&self, digest: &str, email_key: &str, now: UnixTime) -> bool {
        self.digest == digest
            && self.used_at.is_none()
            && now < self.expires_at
            && self.email.as_ref().is_none_or(|e| e.key() == email_key)
    }

    pub fn status(&self, now: UnixTime) -> &'static str {
        if self.used_at.is_some() {
            "used"
        } else if now >= self.expires_at {
            "expired"
        } else {
            "pending"
        }
    }
}
