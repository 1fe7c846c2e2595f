//! Forgetting what has expired: the embedded store deletes it when asked; DynamoDB leaves it to
//! the table's TTL (which the emulator does not run). Neither ever forgets a live item.

use super::*;

fn session(id: &str, expires_at: i64) -> Session {
    Session {
        id: id.to_owned(),
        user_id: "user-1".into(),
        refresh_digest: portcullis::tokens::digest(&name()),
        previous_digest: None,
        rotated_at: None,
        rotation_secret: portcullis::tokens::random_secret(),
        created_at: UnixTime(100),
        last_used_at: UnixTime(100),
        expires_at: UnixTime(expires_at),
        ip: None,
        user_agent: None,
        revoked_at: None,
        epoch: 0,
        access_key: None,
        client: None,
    }
}

async fn purging_forgets_only_what_has_expired(backend: Backend) {
    let f = open(backend).await;
    let now = UnixTime(10_000);
    let (gone, kept) = (name(), name());
    f.store
        .create_session(&session(&gone, 9_999))
        .await
        .unwrap();
    f.store
        .create_session(&session(&kept, 10_001))
        .await
        .unwrap();
    let old_token = OneTimeToken {
        digest: portcullis::tokens::digest(&name()),
        purpose: TokenPurpose::VerifyEmail,
        user_id: "user-1".into(),
        email_key: "a@example.com".into(),
        password_epoch: 0,
        created_at: UnixTime(100),
        expires_at: UnixTime(5_000),
        challenge: None,
    };
    f.store.create_token(&old_token).await.unwrap();
    let old_counter = format!("test#{}", name());
    f.store
        .increment(&old_counter, UnixTime(9_000))
        .await
        .unwrap();

    let deleted = f.store.purge_expired(now).await.unwrap();
    assert!(
        f.store.session(&kept).await.unwrap().is_some(),
        "a live session is never purged"
    );
    match backend {
        Backend::Sqlite => {
            assert!(
                deleted >= 4,
                "session, its refresh token, token, counter: {deleted}"
            );
            assert!(f.store.session(&gone).await.unwrap().is_none());
            assert!(f.store.token(&old_token.digest).await.unwrap().is_none());
            assert_eq!(
                f.store
                    .increment(&old_counter, UnixTime(20_000))
                    .await
                    .unwrap(),
                1,
                "the old counter went: counting starts again"
            );
        }
        Backend::DynamoDb => assert_eq!(deleted, 0, "the table's TTL does this"),
    }
}

on_both_stores!(purging_forgets_only_what_has_expired);
