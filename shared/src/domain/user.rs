//! Accounts.

use std::fmt;

use crate::clock::UnixTime;
use crate::email::Email;
use crate::username::Username;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserStatus {
    PendingVerification,
    PendingApproval,
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::PendingVerification => "pending_verification",
            UserStatus::PendingApproval => "pending_approval",
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }

    pub fn parse(value: &str) -> Option<UserStatus> {
        Some(match value {
            "pending_verification" => UserStatus::PendingVerification,
            "pending_approval" => UserStatus::PendingApproval,
            "active" => UserStatus::Active,
            "disabled" => UserStatus::Disabled,
            _ => return None,
        })
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: Email,
    pub username: Username,
    /// argon2id PHC string; `None` for accounts that only sign in through a provider.
    pub password_hash: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email_verified: bool,
    pub status: UserStatus,
    pub roles: Vec<String>,
    pub created_at: UnixTime,
    /// Sessions made under an older epoch are over: a password reset or change bumps it.
    pub session_epoch: u32,
    /// Reset tokens made under an older epoch are void: setting a password bumps it.
    pub password_epoch: u32,
    /// The password was set while the address was unconfirmed (at signup), and no mailed reset
    /// has replaced it since: whoever set it may not own the address. Linking a provider identity
    /// to such an account clears the password.
    pub password_unconfirmed: bool,
}

impl User {
    /// A new account that may sign in at once: active, its address verified, no names, the
    /// password `hash` (made by a trusted hand: `createsuperuser`, `seed`).
    pub fn new_verified(
        id: String,
        email: Email,
        username: Username,
        password_hash: String,
        roles: Vec<String>,
        now: UnixTime,
    ) -> User {
        User {
            id,
            email,
            username,
            password_hash: Some(password_hash),
            first_name: String::new(),
            last_name: String::new(),
            email_verified: true,
            status: UserStatus::Active,
            roles,
            created_at: now,
            session_epoch: 0,
            password_epoch: 0,
            password_unconfirmed: false,
        }
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// An active account with the `admin` role: one the last-admin rule protects.
    pub fn is_active_admin(&self) -> bool {
        self.status == UserStatus::Active && self.has_role(crate::roles::ADMIN)
    }
}

/// Only what is safe to log: never the email, name or hash.
impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

pub fn new_user_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
