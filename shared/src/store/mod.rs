//! Storage: a small trait shaped for DynamoDB (single-item conditional writes, small transactions),
//! with an SQLite implementation for the embedded default.
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

use crate::clock::UnixTime;
use crate::error::Result;
use crate::lockout::{FailureWrite, LockoutRecord};
use crate::session::Session;
use crate::tokens::SigningKeyRecord;
use crate::user::User;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates the account, claiming its email and username atomically.
    /// `Err(EmailTaken)` or `Err(UsernameTaken)` when either is already claimed (email first).
    async fn create_user(&self, user: &User) -> Result<()>;
    async fn user_by_id(&self, id: &str) -> Result<Option<User>>;
    /// By the lower-cased email.
    async fn user_by_email(&self, email_key: &str) -> Result<Option<User>>;
    /// By the lower-cased username.
    async fn user_by_username(&self, username_key: &str) -> Result<Option<User>>;

    async fn lockout(&self, key: &str) -> Result<Option<LockoutRecord>>;
    /// Applies `LockoutPolicy::after_failure` atomically and returns the new record.
    async fn record_failure(&self, key: &str, write: FailureWrite) -> Result<LockoutRecord>;
    /// Sets the end of the lock on an existing record.
    async fn lock(&self, key: &str, until: UnixTime, expires_at: UnixTime) -> Result<()>;
    async fn clear_lockout(&self, key: &str) -> Result<()>;

    /// Adds one to the counter `key` (created at 1, deleted after `expires_at`) and returns it.
    async fn increment(&self, key: &str, expires_at: UnixTime) -> Result<u64>;

    async fn create_session(&self, session: &Session) -> Result<()>;
    async fn session(&self, id: &str) -> Result<Option<Session>>;

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>>;
    /// Stores `key` only if there is no signing key at all: of two instances starting at once,
    /// one key wins. Returns whether this one was stored.
    async fn add_first_signing_key(&self, key: &SigningKeyRecord) -> Result<bool>;
}
