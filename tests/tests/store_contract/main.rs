//! The `Store` contract, run against SQLite and against DynamoDB in the emulator: the same
//! calls, the same outcomes, including under concurrency.
//!
//! One file per record kind, as in `store/sqlite/` and `store/dynamodb/`.

mod access_keys;
mod audit;
mod counters;
mod expiry;
mod identities;
mod invitations;
mod lockout;
mod openid;
mod sessions;
mod signing_keys;
mod tokens;
mod users;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use portcullis::Error;
use portcullis::access_key::AccessKey;
use portcullis::audit::AuditEvent;
use portcullis::clock::UnixTime;
use portcullis::email::Email;
use portcullis::identity::{IdentityLink, PendingSignIn, Provider};
use portcullis::invitation::{Invitation, InvitationUse};
use portcullis::lockout::{LockoutPolicy, LockoutRecord};
use portcullis::one_time_token::{OneTimeToken, TokenPurpose};
use portcullis::secret::Secret;
use portcullis::session::Session;
use portcullis::store::{EventQuery, Store, UserQuery};
use portcullis::tokens::SigningKeyRecord;
use portcullis::user::{User, UserStatus};
use portcullis::username::Username;
use portcullis_tests::{Backend, emulator, on_both_stores, unique_email};

struct Fixture {
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

async fn open(backend: Backend) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = match backend {
        Backend::Sqlite => Arc::new(
            portcullis::store::SqliteStore::open(&dir.path().join("contract.db"))
                .await
                .unwrap(),
        ),
        Backend::DynamoDb => Arc::new(emulator::fresh_table().await),
    };
    Fixture { store, _dir: dir }
}

fn user(email: &str, username: &str) -> User {
    User {
        id: uuid::Uuid::new_v4().to_string(),
        email: Email::parse(email).unwrap(),
        username: Username::parse(username).unwrap(),
        password_hash: Some(
            "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
        ),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        email_verified: false,
        status: UserStatus::Active,
        roles: vec!["user".into(), "auditor".into()],
        created_at: UnixTime(1_700_000_000),
        session_epoch: 3,
        password_epoch: 7,
        password_unconfirmed: true,
    }
}

fn name() -> String {
    format!("u-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}
