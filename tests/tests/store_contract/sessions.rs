//! Sessions.

use super::*;

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
        client: Some(portcullis::session::ClientGrant {
            client_id: "client-1".into(),
            scope: "openid email".into(),
            auth_time: UnixTime(90),
        }),
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

on_both_stores!(sessions_round_trip);
