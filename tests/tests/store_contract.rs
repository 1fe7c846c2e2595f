//! The `Store` contract, run against SQLite and against DynamoDB in the emulator: the same
//! calls, the same outcomes, including under concurrency.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use portcullis::Error;
use portcullis::access_key::AccessKey;
use portcullis::audit::AuditEvent;
use portcullis::clock::UnixTime;
use portcullis::email::Email;
use portcullis::invitations::{Invitation, InvitationUse};
use portcullis::lockout::{LockoutPolicy, LockoutRecord};
use portcullis::oauth::{IdentityLink, PendingSignIn, Provider};
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
    }
}

fn name() -> String {
    format!("u-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

async fn users_are_unique_by_email_and_username(backend: Backend) {
    let f = open(backend).await;
    let email = unique_email("Contract");
    let original = user(&email, &name());
    f.store.create_user(&original).await.unwrap();

    assert_eq!(
        f.store.user_by_id(&original.id).await.unwrap(),
        Some(original.clone())
    );
    assert_eq!(
        f.store.user_by_email(&email.to_lowercase()).await.unwrap(),
        Some(original.clone())
    );
    assert_eq!(
        f.store
            .user_by_username(original.username.key())
            .await
            .unwrap(),
        Some(original.clone())
    );
    assert_eq!(
        f.store.user_by_email("nobody@example.com").await.unwrap(),
        None
    );
    assert_eq!(f.store.user_by_id("no-such-id").await.unwrap(), None);

    let same_email = user(&email.to_uppercase(), &name());
    assert!(matches!(
        f.store.create_user(&same_email).await,
        Err(Error::EmailTaken)
    ));
    let same_name = user(
        &unique_email("other"),
        &original.username.as_str().to_uppercase(),
    );
    assert!(matches!(
        f.store.create_user(&same_name).await,
        Err(Error::UsernameTaken)
    ));
    let both = user(&email, original.username.as_str());
    assert!(matches!(
        f.store.create_user(&both).await,
        Err(Error::EmailTaken)
    ));

    // A refused account leaves nothing behind: its username is still free.
    assert_eq!(
        f.store
            .user_by_username(same_email.username.key())
            .await
            .unwrap(),
        None
    );
    assert_eq!(f.store.user_by_id(&same_email.id).await.unwrap(), None);
}

async fn concurrent_creates_for_one_email_make_one_account(backend: Backend) {
    let f = open(backend).await;
    let email = unique_email("race");
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let store = f.store.clone();
            let candidate = user(&email, &name());
            tokio::spawn(async move { store.create_user(&candidate).await })
        })
        .collect();
    let mut created = 0;
    let mut taken = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => created += 1,
            Err(Error::EmailTaken) => taken += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((created, taken), (1, 11));
}

fn policy() -> LockoutPolicy {
    LockoutPolicy {
        threshold: 3,
        duration: Duration::from_secs(1200),
    }
}

async fn lockout_runs_follow_the_policy(backend: Backend) {
    let f = open(backend).await;
    let p = policy();
    let key = format!("account#{}", name());
    assert_eq!(f.store.lockout(&key).await.unwrap(), None);

    let at = |t| p.failure_write(UnixTime(t));
    assert_eq!(
        f.store
            .record_failure(&key, at(1000))
            .await
            .unwrap()
            .failures,
        1
    );
    assert_eq!(
        f.store
            .record_failure(&key, at(1100))
            .await
            .unwrap()
            .failures,
        2
    );
    let third = f.store.record_failure(&key, at(1200)).await.unwrap();
    assert_eq!(third.failures, 3);
    assert!(p.locks(&third));
    f.store
        .lock(&key, UnixTime(2400), UnixTime(3600))
        .await
        .unwrap();
    assert_eq!(
        f.store.lockout(&key).await.unwrap(),
        Some(LockoutRecord {
            failures: 3,
            last_failure_at: UnixTime(1200),
            locked_until: Some(UnixTime(2400)),
        })
    );
    // Once the lock is over, the next failure starts a new run.
    let fresh = f.store.record_failure(&key, at(2400)).await.unwrap();
    assert_eq!((fresh.failures, fresh.locked_until), (1, None));
    // A failure a whole duration after the last one starts over too.
    assert_eq!(
        f.store
            .record_failure(&key, at(3600))
            .await
            .unwrap()
            .failures,
        1
    );

    f.store.clear_lockout(&key).await.unwrap();
    assert_eq!(f.store.lockout(&key).await.unwrap(), None);
    // Locking a cleared record is harmless.
    f.store
        .lock(&key, UnixTime(5000), UnixTime(6000))
        .await
        .unwrap();
}

async fn concurrent_failures_are_each_counted_once(backend: Backend) {
    let f = open(backend).await;
    let key = format!("identifier#{}", name());
    let write = policy().failure_write(UnixTime(10_000));
    let tasks: Vec<_> = (0..25)
        .map(|_| {
            let store = f.store.clone();
            let key = key.clone();
            tokio::spawn(async move { store.record_failure(&key, write).await.unwrap().failures })
        })
        .collect();
    let mut seen = BTreeSet::new();
    for task in tasks {
        assert!(
            seen.insert(task.await.unwrap()),
            "a count was handed out twice"
        );
    }
    assert_eq!(seen, (1..=25).collect());
    assert_eq!(f.store.lockout(&key).await.unwrap().unwrap().failures, 25);
}

async fn counters_count_every_increment(backend: Backend) {
    let f = open(backend).await;
    let key = format!("ip#login#{}#1", name());
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let store = f.store.clone();
            let key = key.clone();
            tokio::spawn(async move { store.increment(&key, UnixTime(99_999)).await.unwrap() })
        })
        .collect();
    let mut seen = BTreeSet::new();
    for task in tasks {
        seen.insert(task.await.unwrap());
    }
    assert_eq!(seen, (1..=30).collect());
    assert_eq!(f.store.increment("another", UnixTime(1)).await.unwrap(), 1);
}

async fn sessions_round_trip(backend: Backend) {
    let f = open(backend).await;
    let session = Session {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: "user-1".into(),
        refresh_digest: portcullis::tokens::digest(&name()),
        previous_digest: None,
        rotated_at: None,
        rotation_secret: portcullis::tokens::random_secret(),
        created_at: UnixTime(100),
        last_used_at: UnixTime(150),
        expires_at: UnixTime(10_000),
        ip: Some("203.0.113.7".into()),
        user_agent: None,
        access_key: Some("PCAKABCDEFGHIJKLMNOP".into()),
        revoked_at: None,
        epoch: 4,
    };
    f.store.create_session(&session).await.unwrap();
    assert_eq!(
        f.store.session(&session.id).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(f.store.session("missing").await.unwrap(), None);
    assert!(
        f.store.create_session(&session).await.is_err(),
        "ids are never reused"
    );
}

async fn exactly_one_first_signing_key(backend: Backend) {
    let f = open(backend).await;
    let mut keys = Vec::new();
    for _ in 0..3 {
        keys.push(
            SigningKeyRecord::generate(UnixTime(5), UnixTime(5))
                .await
                .unwrap(),
        );
    }
    let tasks: Vec<_> = keys
        .iter()
        .cloned()
        .map(|key| {
            let store = f.store.clone();
            tokio::spawn(async move { store.add_first_signing_key(&key).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        won += usize::from(task.await.unwrap());
    }
    assert_eq!(won, 1);
    let stored = f.store.signing_keys().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(keys.contains(&stored[0]));
}

async fn setting_a_password_bumps_both_epochs(backend: Backend) {
    let f = open(backend).await;
    let original = user(&unique_email("epoch"), &name());
    f.store.create_user(&original).await.unwrap();
    assert_eq!(
        f.store
            .set_password(&original.id, "$argon2id$stale", 6)
            .await
            .unwrap(),
        None,
        "an older epoch sets nothing"
    );
    let updated = f
        .store
        .set_password(&original.id, "$argon2id$new", 7)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.password_hash.as_deref(), Some("$argon2id$new"));
    assert_eq!((updated.session_epoch, updated.password_epoch), (4, 8));
    assert_eq!(
        f.store.user_by_id(&original.id).await.unwrap(),
        Some(updated)
    );
    assert_eq!(
        f.store.set_password("no-such-user", "x", 0).await.unwrap(),
        None
    );
}

async fn verifying_an_email_moves_only_pending_accounts(backend: Backend) {
    let f = open(backend).await;
    let email = unique_email("verify");
    let mut pending = user(&email, &name());
    pending.status = UserStatus::PendingVerification;
    f.store.create_user(&pending).await.unwrap();

    // Not for another address (the account changed its email since the mail went out).
    assert_eq!(
        f.store
            .verify_email(&pending.id, "other@example.com", UserStatus::Active)
            .await
            .unwrap(),
        None
    );
    let verified = f
        .store
        .verify_email(
            &pending.id,
            &email.to_lowercase(),
            UserStatus::PendingApproval,
        )
        .await
        .unwrap()
        .unwrap();
    assert!(verified.email_verified);
    assert_eq!(verified.status, UserStatus::PendingApproval);

    let mut disabled = user(&unique_email("disabled"), &name());
    disabled.status = UserStatus::Disabled;
    f.store.create_user(&disabled).await.unwrap();
    let still = f
        .store
        .verify_email(&disabled.id, disabled.email.key(), UserStatus::Active)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (still.email_verified, still.status),
        (true, UserStatus::Disabled)
    );
}

fn token(purpose: TokenPurpose, expires_at: i64) -> OneTimeToken {
    OneTimeToken {
        digest: portcullis::tokens::digest(&name()),
        purpose,
        user_id: "user-1".into(),
        email_key: "a@example.com".into(),
        password_epoch: 2,
        created_at: UnixTime(100),
        expires_at: UnixTime(expires_at),
    }
}

async fn tokens_are_consumed_once_for_their_purpose_before_they_expire(backend: Backend) {
    let f = open(backend).await;
    let reset = token(TokenPurpose::ResetPassword, 1_000);
    f.store.create_token(&reset).await.unwrap();
    assert_eq!(
        f.store.token(&reset.digest).await.unwrap(),
        Some(reset.clone())
    );

    let consume = |purpose, now| f.store.consume_token(&reset.digest, purpose, UnixTime(now));
    assert_eq!(
        consume(TokenPurpose::VerifyEmail, 500).await.unwrap(),
        None,
        "wrong purpose"
    );
    assert_eq!(
        consume(TokenPurpose::ResetPassword, 1_000).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        consume(TokenPurpose::ResetPassword, 999).await.unwrap(),
        Some(reset.clone())
    );
    assert_eq!(
        consume(TokenPurpose::ResetPassword, 999).await.unwrap(),
        None,
        "used"
    );
    assert_eq!(f.store.token(&reset.digest).await.unwrap(), None);
}

async fn concurrent_uses_of_one_token_have_one_winner(backend: Backend) {
    let f = open(backend).await;
    let verify = token(TokenPurpose::VerifyEmail, 10_000);
    f.store.create_token(&verify).await.unwrap();
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = f.store.clone();
            let digest = verify.digest.clone();
            tokio::spawn(async move {
                store
                    .consume_token(&digest, TokenPurpose::VerifyEmail, UnixTime(200))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap().is_some());
    }
    assert_eq!(winners, 1);
}

fn link(provider: Provider, subject: &str, user: &User, at: i64) -> IdentityLink {
    IdentityLink {
        provider,
        subject: subject.to_owned(),
        user_id: user.id.clone(),
        email_key: user.email.key().to_owned(),
        created_at: UnixTime(at),
    }
}

async fn identities_link_once_and_list_per_user(backend: Backend) {
    let f = open(backend).await;
    let alice = user(&unique_email("alice"), &name());
    let bob = user(&unique_email("bob"), &name());
    f.store.create_user(&alice).await.unwrap();
    f.store.create_user(&bob).await.unwrap();
    let subject = name();
    assert!(
        f.store
            .identity(Provider::GitHub, &subject)
            .await
            .unwrap()
            .is_none()
    );

    let github = link(Provider::GitHub, &subject, &alice, 100);
    assert!(f.store.link_identity(&github).await.unwrap());
    // Linked already: neither to Alice again nor to Bob.
    assert!(!f.store.link_identity(&github).await.unwrap());
    assert!(
        !f.store
            .link_identity(&link(Provider::GitHub, &subject, &bob, 101))
            .await
            .unwrap()
    );
    assert_eq!(
        f.store.identity(Provider::GitHub, &subject).await.unwrap(),
        Some(github.clone())
    );
    // The same subject at another provider is another identity.
    assert!(
        f.store
            .identity(Provider::Google, &subject)
            .await
            .unwrap()
            .is_none()
    );
    let google = link(Provider::Google, &subject, &alice, 200);
    assert!(f.store.link_identity(&google).await.unwrap());

    assert_eq!(
        f.store.identities_of(&alice.id).await.unwrap(),
        vec![github, google]
    );
    assert!(f.store.identities_of(&bob.id).await.unwrap().is_empty());
}

async fn concurrent_links_of_one_identity_make_one(backend: Backend) {
    let f = open(backend).await;
    let subject = name();
    let mut users = Vec::new();
    for _ in 0..8 {
        let u = user(&unique_email("racer"), &name());
        f.store.create_user(&u).await.unwrap();
        users.push(u);
    }
    let tasks: Vec<_> = users
        .iter()
        .map(|u| {
            let store = f.store.clone();
            let link = link(Provider::Google, &subject, u, 1);
            tokio::spawn(async move {
                (
                    link.user_id.clone(),
                    store.link_identity(&link).await.unwrap(),
                )
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (user_id, linked) = task.await.unwrap();
        if linked {
            winners.push(user_id);
        }
    }
    assert_eq!(winners.len(), 1);
    let stored = f
        .store
        .identity(Provider::Google, &subject)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.user_id, winners[0]);
}

async fn accounts_made_with_an_identity_are_all_or_nothing(backend: Backend) {
    let f = open(backend).await;
    let mut first = user(&unique_email("new"), &name());
    first.password_hash = None;
    let subject = name();
    let identity = link(Provider::GitHub, &subject, &first, 5);
    assert!(
        f.store
            .create_user_with_identity(&first, &identity, None)
            .await
            .unwrap()
    );
    assert_eq!(
        f.store.user_by_id(&first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        f.store.identity(Provider::GitHub, &subject).await.unwrap(),
        Some(identity.clone())
    );

    // The identity is linked already: no second account.
    let second = user(&unique_email("again"), &name());
    let again = link(Provider::GitHub, &subject, &second, 6);
    assert!(
        !f.store
            .create_user_with_identity(&second, &again, None)
            .await
            .unwrap()
    );
    assert!(f.store.user_by_id(&second.id).await.unwrap().is_none());
    assert!(
        f.store
            .user_by_email(second.email.key())
            .await
            .unwrap()
            .is_none()
    );

    // The email is taken: no link either.
    let taken = user(first.email.as_str(), &name());
    let other = name();
    assert!(matches!(
        f.store
            .create_user_with_identity(&taken, &link(Provider::GitHub, &other, &taken, 7), None)
            .await,
        Err(Error::EmailTaken)
    ));
    assert!(
        f.store
            .identity(Provider::GitHub, &other)
            .await
            .unwrap()
            .is_none()
    );
}

fn pending(digest: &str, expires_at: i64) -> PendingSignIn {
    PendingSignIn {
        state_digest: digest.to_owned(),
        provider: Provider::Google,
        pkce_verifier: Secret::new("verifier-verifier-verifier-verifier-verifier"),
        nonce: Secret::new("nonce"),
        return_to: "https://ui.example/oauth/complete".into(),
        invitation_digest: Some("invitation-digest".into()),
        created_at: UnixTime(100),
        expires_at: UnixTime(expires_at),
    }
}

async fn sign_ins_are_consumed_once_before_they_expire(backend: Backend) {
    let f = open(backend).await;
    let live = pending(&name(), 700);
    f.store.create_pending_sign_in(&live).await.unwrap();
    let expired = PendingSignIn {
        invitation_digest: None,
        ..pending(&name(), 150)
    };
    f.store.create_pending_sign_in(&expired).await.unwrap();

    assert_eq!(
        f.store
            .consume_pending_sign_in(&expired.state_digest, UnixTime(150))
            .await
            .unwrap(),
        None
    );
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = f.store.clone();
            let digest = live.state_digest.clone();
            tokio::spawn(async move {
                store
                    .consume_pending_sign_in(&digest, UnixTime(699))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut consumed = Vec::new();
    for task in tasks {
        consumed.extend(task.await.unwrap());
    }
    assert_eq!(consumed, vec![live]);
}

fn invitation(email: Option<&str>, valid_until: i64) -> Invitation {
    let token = portcullis::tokens::OpaqueToken::generate();
    Invitation {
        id: portcullis::invitations::id_of(&token.digest),
        digest: token.digest,
        email: email.map(|e| Email::parse(e).unwrap()),
        roles: vec!["user".into(), "staff".into()],
        created_by: "admin-1".into(),
        created_at: UnixTime(100),
        expires_at: UnixTime(valid_until),
        used_at: None,
        used_by: None,
    }
}

fn claim(invitation: &Invitation, email: &str, now: i64) -> InvitationUse {
    InvitationUse {
        id: invitation.id.clone(),
        digest: invitation.digest.clone(),
        email_key: email.to_lowercase(),
        now: UnixTime(now),
    }
}

async fn invitations_are_used_once_by_their_email_before_they_expire(backend: Backend) {
    let f = open(backend).await;
    let bound_email = unique_email("bound");
    let bound = invitation(Some(&bound_email), 1_000);
    let open_one = invitation(None, 1_000);
    f.store.create_invitation(&bound).await.unwrap();
    f.store.create_invitation(&open_one).await.unwrap();
    assert_eq!(
        f.store.invitation(&bound.id).await.unwrap(),
        Some(bound.clone())
    );
    assert_eq!(f.store.invitations().await.unwrap().len(), 2);

    // Another email, an expired one, a wrong digest: nothing is written.
    let stranger = user(&unique_email("stranger"), &name());
    let refused = f
        .store
        .create_invited_user(&stranger, &claim(&bound, stranger.email.as_str(), 500))
        .await;
    assert!(
        matches!(refused, Err(Error::InvitationInvalid)),
        "{refused:?}"
    );
    let late = user(&bound_email, &name());
    let expired = f
        .store
        .create_invited_user(&late, &claim(&bound, &bound_email, 1_000))
        .await;
    assert!(matches!(expired, Err(Error::InvitationInvalid)));
    let mut forged = claim(&open_one, &bound_email, 500);
    forged.digest = "0".repeat(64);
    assert!(matches!(
        f.store.create_invited_user(&late, &forged).await,
        Err(Error::InvitationInvalid)
    ));
    assert!(f.store.user_by_id(&late.id).await.unwrap().is_none());

    // The bound email uses it once; it is then marked used by that account.
    let invited = user(&bound_email.to_uppercase(), &name());
    f.store
        .create_invited_user(&invited, &claim(&bound, &bound_email, 500))
        .await
        .unwrap();
    let used = f.store.invitation(&bound.id).await.unwrap().unwrap();
    assert_eq!(
        (used.used_at, used.used_by.as_deref()),
        (Some(UnixTime(500)), Some(invited.id.as_str()))
    );
    let again = user(&unique_email("again"), &name());
    assert!(matches!(
        f.store
            .create_invited_user(&again, &claim(&bound, &bound_email, 501))
            .await,
        Err(Error::InvitationInvalid)
    ));

    // Racing for one open invitation: exactly one account.
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let store = f.store.clone();
            let racer = user(&unique_email("racer"), &name());
            let claim = claim(&open_one, racer.email.as_str(), 500);
            tokio::spawn(async move { store.create_invited_user(&racer, &claim).await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => won += 1,
            Err(Error::InvitationInvalid) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert!(f.store.delete_invitation(&open_one.id).await.unwrap());
    assert!(!f.store.delete_invitation(&open_one.id).await.unwrap());
}

fn access_key(owner: &User, at: i64) -> AccessKey {
    AccessKey {
        id: format!(
            "PCAK{}",
            &uuid::Uuid::new_v4().simple().to_string()[..16].to_uppercase()
        ),
        user_id: owner.id.clone(),
        secret_digest: portcullis::tokens::digest(&name()),
        created_at: UnixTime(at),
        last_used_at: None,
    }
}

async fn access_keys_are_limited_and_belong_to_their_owner(backend: Backend) {
    let f = open(backend).await;
    let owner = user(&unique_email("keys"), &name());
    let other = user(&unique_email("other"), &name());
    f.store.create_user(&owner).await.unwrap();
    f.store.create_user(&other).await.unwrap();

    // Eight at once against a limit of three: exactly three are kept.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = f.store.clone();
            let key = access_key(&owner, 100 + i);
            tokio::spawn(async move { store.create_access_key(&key, 3).await })
        })
        .collect();
    let mut kept = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => kept += 1,
            Err(Error::TooManyAccessKeys { limit: 3 }) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(kept, 3);
    let keys = f.store.access_keys_of(&owner.id).await.unwrap();
    assert_eq!(keys.len(), 3);
    assert!(
        keys.windows(2).all(|w| w[0].created_at <= w[1].created_at),
        "oldest first"
    );

    let first = keys[0].clone();
    assert_eq!(
        f.store.access_key(&first.id).await.unwrap(),
        Some(first.clone())
    );
    f.store
        .touch_access_key(&first.id, UnixTime(900))
        .await
        .unwrap();
    assert_eq!(
        f.store
            .access_key(&first.id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(UnixTime(900))
    );
    assert!(
        !f.store
            .delete_access_key(&other.id, &first.id)
            .await
            .unwrap(),
        "not theirs"
    );
    assert!(
        f.store
            .delete_access_key(&owner.id, &first.id)
            .await
            .unwrap()
    );
    assert!(f.store.access_key(&first.id).await.unwrap().is_none());
    // A slot is free again.
    f.store
        .create_access_key(&access_key(&owner, 200), 3)
        .await
        .unwrap();
    assert!(matches!(
        f.store.create_access_key(&access_key(&owner, 201), 3).await,
        Err(Error::TooManyAccessKeys { .. })
    ));
}

async fn users_list_in_pages_by_email_and_username(backend: Backend) {
    let f = open(backend).await;
    let tag = format!("ls{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut expected = BTreeSet::new();
    for i in 0..5 {
        let mut account = user(&format!("{tag}-{i}@example.com"), &name());
        if i == 4 {
            account.status = UserStatus::Disabled;
        }
        f.store.create_user(&account).await.unwrap();
        expected.insert(account.id);
    }
    // Found by username only.
    let by_name = user(&unique_email("zz"), &format!("{tag}-name"));
    f.store.create_user(&by_name).await.unwrap();
    expected.insert(by_name.id.clone());

    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let page = f
            .store
            .list_users(&UserQuery {
                prefix: Some(tag.clone()),
                status: None,
                limit: 2,
                cursor: cursor.clone(),
            })
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|u| u.id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), expected.len(), "each once");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);

    let disabled = f
        .store
        .list_users(&UserQuery {
            prefix: Some(tag.clone()),
            status: Some(UserStatus::Disabled),
            limit: 10,
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!(disabled.items.len(), 1);
    assert_eq!(
        disabled.items[0].email.as_str(),
        format!("{tag}-4@example.com")
    );
}

fn event(user_id: Option<&str>, at: i64) -> AuditEvent {
    AuditEvent {
        id: uuid::Uuid::new_v4().to_string(),
        at: UnixTime(at),
        kind: "login_failed".into(),
        user_id: user_id.map(str::to_owned),
        ip: Some("203.0.113.9".into()),
        user_agent: None,
        detail: portcullis::audit::detail(&[("method", "password".into())]),
        expires_at: UnixTime(at + 1_000_000),
    }
}

async fn audit_events_page_newest_first(backend: Backend) {
    let f = open(backend).await;
    let mut mine = Vec::new();
    for at in [10, 20, 20, 30, 40] {
        let e = event(Some("user-a"), at);
        f.store.record_event(&e).await.unwrap();
        mine.push(e);
    }
    f.store
        .record_event(&event(Some("user-b"), 25))
        .await
        .unwrap();
    f.store.record_event(&event(None, 35)).await.unwrap();

    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let page = f
            .store
            .events(&EventQuery {
                user_id: Some("user-a".into()),
                limit: 2,
                cursor: cursor.clone(),
            })
            .await
            .unwrap();
        seen.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 5);
    assert!(seen.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
    assert_eq!(
        seen.iter().map(|e| e.id.clone()).collect::<BTreeSet<_>>(),
        mine.iter().map(|e| e.id.clone()).collect()
    );
    assert_eq!(seen[0], mine[4]);

    let all = f
        .store
        .events(&EventQuery {
            user_id: None,
            limit: 100,
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!(all.items.len(), 7);
    let stray = f
        .store
        .events(&EventQuery {
            user_id: Some("user-b".into()),
            limit: 100,
            cursor: Some("bm90LWEtY3Vyc29y".into()),
        })
        .await;
    assert!(
        matches!(stray, Err(Error::InvalidRequest { .. })),
        "{stray:?}"
    );
}

on_both_stores!(
    identities_link_once_and_list_per_user,
    invitations_are_used_once_by_their_email_before_they_expire,
    access_keys_are_limited_and_belong_to_their_owner,
    users_list_in_pages_by_email_and_username,
    audit_events_page_newest_first,
    concurrent_links_of_one_identity_make_one,
    accounts_made_with_an_identity_are_all_or_nothing,
    sign_ins_are_consumed_once_before_they_expire,
    setting_a_password_bumps_both_epochs,
    verifying_an_email_moves_only_pending_accounts,
    tokens_are_consumed_once_for_their_purpose_before_they_expire,
    concurrent_uses_of_one_token_have_one_winner,
    users_are_unique_by_email_and_username,
    concurrent_creates_for_one_email_make_one_account,
    lockout_runs_follow_the_policy,
    concurrent_failures_are_each_counted_once,
    counters_count_every_increment,
    sessions_round_trip,
    exactly_one_first_signing_key,
);
