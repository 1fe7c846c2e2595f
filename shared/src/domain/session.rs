//! Sessions: what a refresh token is tied to, and what an access token's `sid` names.

use crate::clock::UnixTime;
use crate::secret::Secret;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    /// SHA-256 digest of the current refresh token; the token itself is never stored.
    pub refresh_digest: String,
    /// The token the current one replaced, still accepted for the grace period after
    /// `rotated_at` (a client retrying a refresh whose answer it lost).
    pub previous_digest: Option<String>,
    pub rotated_at: Option<UnixTime>,
    /// The key each next refresh token is derived with (`tokens::next_refresh_token`), so a
    /// retry of a refresh gets the very token the first attempt got.
    pub rotation_secret: Secret,
    pub created_at: UnixTime,
    pub last_used_at: UnixTime,
    /// The absolute end of the session, whatever the refreshes.
    pub expires_at: UnixTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<UnixTime>,
    /// The account's session epoch when the session began.
    pub epoch: u32,
    /// The access key that opened the session, if one did: deleting the key ends it.
    pub access_key: Option<String>,
    /// The app the session was granted to through the OpenID provider; `None` for a session of
    /// the `/v1` API or the hosted pages. Its refresh tokens work only at the token endpoint,
    /// for that client.
    pub client: Option<ClientGrant>,
}

/// What an app was granted: the session's scopes and when the person authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientGrant {
    pub client_id: String,
    /// Space-separated, in `openid::SCOPES` order.
    pub scope: String,
    pub auth_time: UnixTime,
}

impl Session {
    /// Not revoked, not past its absolute end, and not ended by a later password change.
    pub fn is_live(&self, now: UnixTime, user_session_epoch: u32) -> bool {
        self.revoked_at.is_none() && now < self.expires_at && self.epoch == user_session_epoch
    }
}
