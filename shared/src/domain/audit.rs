//! The audit log: every security event, written to the store (with a retention TTL on DynamoDB)
//! and emitted as a structured log line under the `portcullis::audit` target. Details are small
//! and never hold a secret, a token, a password or what a stranger typed as an identifier.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::clock::UnixTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Signup,
    LoginSucceeded,
    LoginFailed,
    AccountLocked,
    /// A trusted device reached the threshold: its token is void, and it counts with strangers.
    DeviceLocked,
    /// Wrong access-key secrets reached the threshold: key logins are locked, passwords are not.
    AccessKeyLoginLocked,
    EmailVerified,
    PasswordResetRequested,
    PasswordReset,
    PasswordChanged,
    OauthLinked,
    AccessKeyCreated,
    AccessKeyUsed,
    AccessKeyDeleted,
    UserUpdated,
    UserApproved,
    UserUnlocked,
    UserDeleted,
    InvitationCreated,
    InvitationDeleted,
    /// A signup named this account's address; under `conceal` the owner was mailed.
    SignupExistingEmail,
    /// A provider identity was linked to an account whose password was set before its address
    /// was confirmed: the password was removed, and its sessions and keys ended.
    UnconfirmedPasswordRemoved,
    Logout,
    LogoutEverywhere,
    /// The account ended one of its own sessions.
    SessionRevoked,
    /// A refresh token was presented again after its grace: its session was revoked as stolen.
    RefreshTokenReused,
    ClientCreated,
    ClientUpdated,
    ClientDeleted,
    /// The OpenID provider handed a client an authorization code (sign-in is consent-free: the
    /// client was registered by an admin).
    ClientAuthorized,
    CodeRedeemed,
    /// A code was presented again: the tokens it gave were revoked.
    CodeReplayed,
    ClientTokenRevoked,
    ClientLogout,
    /// An administrator brought accounts in (`portcullis users import`).
    UsersImported,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Signup => "signup",
            EventKind::LoginSucceeded => "login_succeeded",
            EventKind::LoginFailed => "login_failed",
            EventKind::AccountLocked => "account_locked",
            EventKind::DeviceLocked => "device_locked",
            EventKind::AccessKeyLoginLocked => "access_key_login_locked",
            EventKind::EmailVerified => "email_verified",
            EventKind::PasswordResetRequested => "password_reset_requested",
            EventKind::PasswordReset => "password_reset",
            EventKind::PasswordChanged => "password_changed",
            EventKind::OauthLinked => "oauth_linked",
            EventKind::AccessKeyCreated => "access_key_created",
            EventKind::AccessKeyUsed => "access_key_used",
            EventKind::AccessKeyDeleted => "access_key_deleted",
            EventKind::UserUpdated => "admin_user_updated",
            EventKind::UserApproved => "admin_user_approved",
            EventKind::UserUnlocked => "admin_user_unlocked",
            EventKind::UserDeleted => "admin_user_deleted",
            EventKind::InvitationCreated => "admin_invitation_created",
            EventKind::InvitationDeleted => "admin_invitation_deleted",
            EventKind::SignupExistingEmail => "signup_existing_email",
            EventKind::UnconfirmedPasswordRemoved => "unconfirmed_password_removed",
            EventKind::Logout => "logout",
            EventKind::LogoutEverywhere => "logout_everywhere",
            EventKind::SessionRevoked => "session_revoked",
            EventKind::RefreshTokenReused => "refresh_token_reused",
            EventKind::ClientCreated => "admin_client_created",
            EventKind::ClientUpdated => "admin_client_updated",
            EventKind::ClientDeleted => "admin_client_deleted",
            EventKind::ClientAuthorized => "oidc_authorized",
            EventKind::CodeRedeemed => "oidc_code_redeemed",
            EventKind::CodeReplayed => "oidc_code_replayed",
            EventKind::ClientTokenRevoked => "oidc_token_revoked",
            EventKind::ClientLogout => "oidc_logout",
            EventKind::UsersImported => "admin_users_imported",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AuditEvent {
    pub id: String,
    pub at: UnixTime,
    pub kind: String,
    /// The account the event is about, when there is one.
    pub user_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// A small JSON object: which method, which admin, which key id.
    pub detail: Map<String, Value>,
    /// When the store may forget it (`PORTCULLIS_AUDIT_RETENTION` after `at`).
    pub expires_at: UnixTime,
}

/// How `GET /v1/admin/audit` shows an event.
#[derive(Debug, Serialize)]
pub struct EventView {
    pub at: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub user_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Map<String, Value>,
}

impl From<AuditEvent> for EventView {
    fn from(event: AuditEvent) -> EventView {
        EventView {
            at: event.at.rfc3339(),
            kind: event.kind,
            user_id: event.user_id,
            ip: event.ip,
            user_agent: event.user_agent,
            detail: event.detail,
        }
    }
}

/// Builds a detail object: `detail(&[("method", "password".into())])`.
pub fn detail(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}
