//! Storage: small traits, one per record kind, shaped for DynamoDB (single-item conditional
//! writes, small transactions), each implemented for DynamoDB (`dynamodb/<kind>.rs`) and for the
//! embedded SQLite default (`sqlite/<kind>.rs`), and joined by the `Store` supertrait.
//!
//! Every method is one atomic step. Uniqueness, counters and lockout runs are decided inside the
//! store, never by a read followed by a write in the flow, so concurrent requests can't lose or
//! duplicate anything.

#[cfg(feature = "dynamodb")]
mod dynamodb;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "dynamodb")]
pub use dynamodb::DynamoStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use async_trait::async_trait;

use crate::access_key::AccessKey;
use crate::audit::AuditEvent;
use crate::clock::UnixTime;
use crate::error::Result;
use crate::identity::{IdentityLink, PendingSignIn, Provider};
use crate::invitation::{Invitation, InvitationUse};
use crate::lockout::{FailureWrite, LockoutRecord};
use crate::one_time_token::{OneTimeToken, TokenPurpose};
use crate::openid::{AuthorizationCode, Client, Redemption};
use crate::session::Session;
use crate::tokens::SigningKeyRecord;
use crate::user::{User, UserStatus};

/// Accounts: their claims on an email and a username, passwords, status, the admin list.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates the account, claiming its email and username atomically.
    /// `Err(EmailTaken)` or `Err(UsernameTaken)` when either is already claimed (email first).
    async fn create_user(&self, user: &User) -> Result<()>;

    /// Creates the account like `create_user` and, in the same atomic step, marks the invitation
    /// used by it. `Err(InvitationInvalid)` when the invitation is unknown, used, expired or bound
    /// to another email at `invitation.now` (checked before the email and username).
    async fn create_invited_user(&self, user: &User, invitation: &InvitationUse) -> Result<()>;

    async fn user_by_id(&self, id: &str) -> Result<Option<User>>;

    /// By the lower-cased email.
    async fn user_by_email(&self, email_key: &str) -> Result<Option<User>>;

    /// By the lower-cased username.
    async fn user_by_username(&self, username_key: &str) -> Result<Option<User>>;

    /// Replaces the password hash (`None` removes the password) and its `password_unconfirmed`
    /// mark, and bumps both epochs, ending every session and voiding every outstanding reset
    /// token, in one write, if the account's password epoch is still `expected_epoch`. `None`
    /// when there is no such account or the epoch moved on.
    async fn set_password(
        &self,
        user_id: &str,
        password_hash: Option<&str>,
        expected_epoch: u32,
        unconfirmed: bool,
    ) -> Result<Option<User>>;

    /// Marks the email verified, if the account's email is still `email_key`, and moves a
    /// `pending_verification` account to `next` (any other status is kept: verifying never
    /// re-enables a disabled account). `None` when no account has that id and email.
    async fn verify_email(
        &self,
        user_id: &str,
        email_key: &str,
        next: UserStatus,
    ) -> Result<Option<User>>;

    /// Replaces the password hash with `new` if it is still `old` (a rehash at login: the same
    /// password, so nothing else changes). `false` when it changed meanwhile (a concurrent
    /// login rehashed first, or the password was changed).
    async fn replace_password_hash(&self, user_id: &str, old: &str, new: &str) -> Result<bool>;

    /// Sets the account's status; `None` when there is no such account.
    async fn set_status(&self, user_id: &str, status: UserStatus) -> Result<Option<User>>;

    /// One page of accounts, ordered by email (then, for a `q` that matches only usernames, by
    /// username), never reading more than a few pages of the store per call.
    async fn list_users(&self, query: &UserQuery) -> Result<Page<User>>;

    /// Applies an administrator's change. `Err(LastAdmin)` when the account is the last active
    /// admin and the change would make it not one, decided atomically with the write. Disabling
    /// also ends every session. `None` when there is no such account.
    async fn update_user(&self, user_id: &str, update: &UserUpdate) -> Result<Option<User>>;

    /// Erases the account and every item that belongs to it (claims, sessions, refresh and
    /// one-time tokens, lockout run, access keys, provider links). `Err(LastAdmin)` as
    /// `update_user`; `false` when there is no such account.
    async fn delete_user(&self, user_id: &str) -> Result<bool>;
}

/// Sessions and the refresh tokens that rotate within them.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Creates the session and records its first refresh token.
    async fn create_session(&self, session: &Session) -> Result<()>;

    async fn session(&self, id: &str) -> Result<Option<Session>>;

    /// The session that issued the refresh token with this digest, whether it is the current
    /// one, the previous one, or an older one (a reuse).
    async fn session_by_refresh(&self, digest: &str) -> Result<Option<Session>>;

    /// Replaces the session's current refresh token `from` with `to` (compare-and-swap): `false`
    /// when `from` is no longer current or the session was revoked meanwhile.
    async fn rotate_refresh(
        &self,
        session: &Session,
        from: &str,
        to: &str,
        now: UnixTime,
    ) -> Result<bool>;

    /// Marks the session revoked (idempotent).
    async fn revoke_session(&self, session_id: &str, now: UnixTime) -> Result<()>;

    /// Every session of the user, live or not, oldest first.
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<Session>>;

    /// Bumps the account's session epoch, ending all its sessions at once.
    async fn end_all_sessions(&self, user_id: &str) -> Result<()>;
}

/// Lockout runs: consecutive failures per account (or device), and the lock they lead to.
#[async_trait]
pub trait LockoutStore: Send + Sync {
    async fn lockout(&self, key: &str) -> Result<Option<LockoutRecord>>;

    /// Applies `LockoutPolicy::after_failure` atomically and returns the new record.
    async fn record_failure(&self, key: &str, write: FailureWrite) -> Result<LockoutRecord>;

    /// Sets the end of the lock on an existing record.
    async fn lock(&self, key: &str, until: UnixTime, expires_at: UnixTime) -> Result<()>;

    async fn clear_lockout(&self, key: &str) -> Result<()>;
}

/// Fixed-window counters: per-IP rate limits and per-address mail limits.
#[async_trait]
pub trait CounterStore: Send + Sync {
    /// Adds one to the counter `key` (created at 1, deleted after `expires_at`) and returns it.
    async fn increment(&self, key: &str, expires_at: UnixTime) -> Result<u64>;
}

/// Single-use tokens: email verification, password reset, provider exchange codes.
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn create_token(&self, token: &OneTimeToken) -> Result<()>;

    async fn token(&self, digest: &str) -> Result<Option<OneTimeToken>>;

    /// Deletes the token if it has `purpose` and is unexpired at `now`, and returns it when this
    /// call is the one that deleted it.
    async fn consume_token(
        &self,
        digest: &str,
        purpose: TokenPurpose,
        now: UnixTime,
    ) -> Result<Option<OneTimeToken>>;
}

/// Invitations, used up in the same step that creates the account.
#[async_trait]
pub trait InvitationStore: Send + Sync {
    async fn create_invitation(&self, invitation: &Invitation) -> Result<()>;

    async fn invitation(&self, id: &str) -> Result<Option<Invitation>>;

    /// Every invitation, newest first.
    async fn invitations(&self) -> Result<Vec<Invitation>>;

    /// `false` when there was none.
    async fn delete_invitation(&self, id: &str) -> Result<bool>;
}

/// Access keys, at most a few per account.
#[async_trait]
pub trait AccessKeyStore: Send + Sync {
    /// Stores the key if its owner has fewer than `limit` keys (decided atomically):
    /// `Err(TooManyAccessKeys)` otherwise.
    async fn create_access_key(&self, key: &AccessKey, limit: u32) -> Result<()>;

    async fn access_key(&self, id: &str) -> Result<Option<AccessKey>>;

    /// The user's keys, oldest first.
    async fn access_keys_of(&self, user_id: &str) -> Result<Vec<AccessKey>>;

    /// Deletes the user's key; `false` when the user has no such key.
    async fn delete_access_key(&self, user_id: &str, id: &str) -> Result<bool>;

    async fn touch_access_key(&self, id: &str, now: UnixTime) -> Result<()>;
}

/// The audit log, newest first.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn record_event(&self, event: &AuditEvent) -> Result<()>;

    /// One page of audit events, newest first.
    async fn events(&self, query: &EventQuery) -> Result<Page<AuditEvent>>;
}

/// Provider identities linked to accounts, and provider sign-ins under way.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Creates the account and links the provider identity to it in one atomic step: the claims
    /// of `create_user` plus the identity's. `Ok(false)` when the identity is already linked
    /// (a concurrent sign-in got there first), with nothing written; `Err(EmailTaken)` or
    /// `Err(UsernameTaken)` as `create_user`, and with an invitation, `Err(InvitationInvalid)` as
    /// `create_invited_user`.
    async fn create_user_with_identity(
        &self,
        user: &User,
        link: &IdentityLink,
        invitation: Option<&InvitationUse>,
    ) -> Result<bool>;

    /// Links the identity to its account unless the identity is linked already (to anyone):
    /// `false` then, with nothing written. Of two concurrent links, exactly one is made.
    async fn link_identity(&self, link: &IdentityLink) -> Result<bool>;

    async fn identity(&self, provider: Provider, subject: &str) -> Result<Option<IdentityLink>>;

    /// Every identity linked to the account, oldest first.
    async fn identities_of(&self, user_id: &str) -> Result<Vec<IdentityLink>>;

    async fn create_pending_sign_in(&self, pending: &PendingSignIn) -> Result<()>;

    /// Deletes the sign-in if it is unexpired at `now`, and returns it when this call is the one
    /// that deleted it: a `state` is good for one callback.
    async fn consume_pending_sign_in(
        &self,
        state_digest: &str,
        now: UnixTime,
    ) -> Result<Option<PendingSignIn>>;
}

/// The signing keys of access tokens.
#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>>;

    /// Adds a key (rotation).
    async fn add_signing_key(&self, key: &SigningKeyRecord) -> Result<()>;

    async fn delete_signing_key(&self, kid: &str) -> Result<()>;

    /// Stores `key` only if there is no signing key at all: of two instances starting at once,
    /// one key wins. Returns whether this one was stored.
    async fn add_first_signing_key(&self, key: &SigningKeyRecord) -> Result<bool>;
}

/// The apps registered with the OpenID provider.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// `false` when a client with that id exists already.
    async fn create_client(&self, client: &Client) -> Result<bool>;

    async fn client(&self, id: &str) -> Result<Option<Client>>;

    /// Every client, oldest first.
    async fn clients(&self) -> Result<Vec<Client>>;

    /// Replaces an existing client; `false` when there is none with that id.
    async fn update_client(&self, client: &Client) -> Result<bool>;

    async fn delete_client(&self, id: &str) -> Result<bool>;
}

/// Authorization codes, redeemed once.
#[async_trait]
pub trait AuthorizationCodeStore: Send + Sync {
    async fn create_code(&self, code: &AuthorizationCode) -> Result<()>;

    async fn code(&self, digest: &str) -> Result<Option<AuthorizationCode>>;

    /// Marks the code redeemed for `session_id` if nothing redeemed it yet (one conditional
    /// write: of two concurrent redemptions exactly one gets `Redeemed`).
    async fn redeem_code(&self, digest: &str, session_id: &str) -> Result<Redemption>;
}

/// Forgetting what has expired. DynamoDB's TTL does this by itself (within a day or two, reads
/// already ignore what is past its end); the embedded SQLite store does it when asked, in small
/// batches, so requests are never held up for long.
#[async_trait]
pub trait ExpiryStore: Send + Sync {
    /// Deletes what expired before `now`; how many items went.
    async fn purge_expired(&self, now: UnixTime) -> Result<u64>;
}

/// An account brought in from elsewhere, with what belongs to it.
#[derive(Clone, Debug)]
pub struct ImportedAccount {
    pub user: User,
    pub identities: Vec<IdentityLink>,
    pub access_keys: Vec<AccessKey>,
}

/// What became of one imported account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    Created,
    /// Another account (or this one, imported before) has the email.
    EmailTaken,
    UsernameTaken,
    /// An account with this id exists.
    IdTaken,
    /// One of its provider identities is linked to another account.
    IdentityTaken,
    /// One of its access keys exists.
    AccessKeyTaken,
}

/// Accounts brought in many at a time (`portcullis users import`).
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Creates each account with its links and keys, each account all or nothing, and answers
    /// one outcome per account in order. Many accounts per call: SQLite writes them in one
    /// transaction, DynamoDB in one transaction per account, many at once.
    async fn import_accounts(&self, accounts: &[ImportedAccount]) -> Result<Vec<ImportOutcome>>;
}

/// Everything the app keeps, joined: what `App` holds as `Arc<dyn Store>`. Each capability is its
/// own small trait above, implemented by both stores in a file per record kind
/// (`store/sqlite/<kind>.rs` beside `store/dynamodb/<kind>.rs`).
pub trait Store:
    UserStore
    + SessionStore
    + LockoutStore
    + CounterStore
    + TokenStore
    + InvitationStore
    + AccessKeyStore
    + AuditStore
    + IdentityStore
    + SigningKeyStore
    + ClientStore
    + AuthorizationCodeStore
    + ExpiryStore
    + ImportStore
    + 'static
{
}

impl<T> Store for T where
    T: UserStore
        + SessionStore
        + LockoutStore
        + CounterStore
        + TokenStore
        + InvitationStore
        + AccessKeyStore
        + AuditStore
        + IdentityStore
        + SigningKeyStore
        + ClientStore
        + AuthorizationCodeStore
        + ExpiryStore
        + ImportStore
        + 'static
{
}

/// One page of a listing and where the next one starts (opaque to clients).
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `GET /v1/admin/users`: `q` is a lower-cased prefix of the email or the username.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    pub prefix: Option<String>,
    pub status: Option<UserStatus>,
    pub limit: usize,
    pub cursor: Option<String>,
}

/// An administrator's change to an account; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserUpdate {
    pub status: Option<UserStatus>,
    pub roles: Option<Vec<String>>,
    pub email_verified: Option<bool>,
    /// Change nothing unless the account has this status now (approval).
    pub only_from: Option<UserStatus>,
}

impl UserUpdate {
    /// The account after the change, or `None` when `only_from` rules it out.
    pub fn apply(&self, user: &User) -> Option<User> {
        if self.only_from.is_some_and(|from| from != user.status) {
            return None;
        }
        let mut after = user.clone();
        if let Some(status) = self.status {
            after.status = status;
            if status == UserStatus::Disabled && user.status != UserStatus::Disabled {
                after.session_epoch += 1;
            }
        }
        if let Some(roles) = &self.roles {
            after.roles = roles.clone();
        }
        if let Some(verified) = self.email_verified {
            after.email_verified = verified;
        }
        Some(after)
    }
}

/// `GET /v1/admin/audit`.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    pub user_id: Option<String>,
    pub limit: usize,
    pub cursor: Option<String>,
}

/// Cursors are base64url JSON, opaque to clients; a cursor that doesn't decode is a 400 naming
/// the `cursor` parameter.
pub fn encode_cursor(value: &serde_json::Value) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

pub fn decode_cursor(cursor: &str) -> Result<serde_json::Value> {
    use base64::Engine as _;
    let invalid =
        || crate::error::Error::invalid_field("cursor", "is not a cursor this server gave");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}
