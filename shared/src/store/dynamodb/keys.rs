//! Where each record lives in the table: every partition and sort key format, in one place.

use super::*;

// Keys of every item type (docs/dynamodb.md).
pub(super) fn user_pk(id: &str) -> String {
    format!("USER#{id}")
}

pub(super) fn email_pk(key: &str) -> String {
    format!("EMAIL#{key}")
}

pub(super) fn username_pk(key: &str) -> String {
    format!("USERNAME#{key}")
}

pub(super) fn lockout_pk(key: &str) -> String {
    format!("LOCKOUT#{key}")
}

pub(super) fn counter_pk(key: &str) -> String {
    format!("COUNTER#{key}")
}

pub(super) fn session_pk(id: &str) -> String {
    format!("SESSION#{id}")
}

pub(super) const SIGNING_KEYS_PK: &str = "SIGNING_KEYS";

/// Claimed once, by the instance whose first key is stored.
pub(super) const FIRST_KEY_SK: &str = "#FIRST";

pub(super) fn token_pk(digest: &str) -> String {
    format!("TOKEN#{digest}")
}

pub(super) fn identity_pk(provider: Provider, subject: &str) -> String {
    format!("IDENTITY#{}#{subject}", provider.as_str())
}

pub(super) fn pending_pk(state_digest: &str) -> String {
    format!("OAUTH_STATE#{state_digest}")
}

pub(super) fn refresh_pk(digest: &str) -> String {
    format!("REFRESH#{digest}")
}

pub(super) const USERS_PARTITION: &str = "USERS";

pub(super) const INVITATIONS_PARTITION: &str = "INVITATIONS";

pub(super) const AUDIT_PARTITION: &str = "AUDIT";

pub(super) fn invitation_pk(id: &str) -> String {
    format!("INVITATION#{id}")
}

pub(super) fn access_key_pk(id: &str) -> String {
    format!("ACCESSKEY#{id}")
}

pub(super) const CLIENTS_PARTITION: &str = "CLIENTS";

pub(super) fn client_pk(id: &str) -> String {
    format!("CLIENT#{id}")
}

pub(super) fn code_pk(digest: &str) -> String {
    format!("CODE#{digest}")
}
