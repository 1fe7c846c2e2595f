//! The OpenID provider's clients and authorization codes.

use portcullis::openid::{AuthorizationCode, Client, Redemption};

use super::*;

fn client(created_at: i64, public: bool) -> Client {
    Client {
        id: name(),
        name: "Annotation tool".into(),
        redirect_uris: vec![
            "https://app.example.com/cb".into(),
            "http://127.0.0.1:8000/cb".into(),
        ],
        post_logout_redirect_uris: vec!["https://app.example.com/bye".into()],
        scopes: vec!["openid".into(), "email".into()],
        secret_digest: (!public).then(|| portcullis::tokens::digest("secret")),
        created_at: UnixTime(created_at),
        updated_at: UnixTime(created_at),
    }
}

async fn clients_round_trip_update_and_delete(backend: Backend) {
    let f = open(backend).await;
    let first = client(100, false);
    let second = client(200, true);
    assert!(f.store.create_client(&second).await.unwrap());
    assert!(f.store.create_client(&first).await.unwrap());
    assert!(
        !f.store.create_client(&first).await.unwrap(),
        "an id is registered once"
    );
    assert_eq!(
        f.store.client(&first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(f.store.client("missing").await.unwrap(), None);
    assert_eq!(
        f.store.clients().await.unwrap(),
        vec![first.clone(), second.clone()],
        "oldest first"
    );

    let mut changed = first.clone();
    changed.name = "Renamed".into();
    changed.redirect_uris = vec!["https://other.example.com/cb".into()];
    changed.updated_at = UnixTime(300);
    assert!(f.store.update_client(&changed).await.unwrap());
    assert_eq!(f.store.client(&first.id).await.unwrap(), Some(changed));
    let mut ghost = client(400, true);
    ghost.id = name();
    assert!(
        !f.store.update_client(&ghost).await.unwrap(),
        "an update never creates"
    );
    assert_eq!(f.store.client(&ghost.id).await.unwrap(), None);

    assert!(f.store.delete_client(&first.id).await.unwrap());
    assert!(!f.store.delete_client(&first.id).await.unwrap());
    assert_eq!(f.store.clients().await.unwrap(), vec![second]);
}

fn code(nonce: Option<&str>) -> AuthorizationCode {
    AuthorizationCode {
        digest: portcullis::tokens::digest(&name()),
        client_id: "client-1".into(),
        redirect_uri: "https://app.example.com/cb".into(),
        user_id: "user-1".into(),
        scope: "openid email".into(),
        nonce: nonce.map(str::to_owned),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        auth_time: UnixTime(90),
        access_key: nonce.map(|_| "PCAKABCDEFGHIJKLMNOP".to_owned()),
        session_epoch: 3,
        created_at: UnixTime(100),
        expires_at: UnixTime(160),
        session_id: None,
    }
}

async fn codes_are_redeemed_once_and_remember_for_whom(backend: Backend) {
    let f = open(backend).await;
    let with_nonce = code(Some("n-0S6_WzA2Mj"));
    let without = code(None);
    f.store.create_code(&with_nonce).await.unwrap();
    f.store.create_code(&without).await.unwrap();
    assert_eq!(
        f.store.code(&with_nonce.digest).await.unwrap(),
        Some(with_nonce.clone())
    );
    assert_eq!(
        f.store.code(&without.digest).await.unwrap(),
        Some(without.clone())
    );
    assert_eq!(f.store.code("missing").await.unwrap(), None);

    assert_eq!(
        f.store
            .redeem_code(&with_nonce.digest, "session-1")
            .await
            .unwrap(),
        Redemption::Redeemed
    );
    assert_eq!(
        f.store
            .redeem_code(&with_nonce.digest, "session-2")
            .await
            .unwrap(),
        Redemption::AlreadyRedeemed("session-1".into()),
        "the second redemption learns which session the first made"
    );
    assert_eq!(
        f.store
            .code(&with_nonce.digest)
            .await
            .unwrap()
            .and_then(|c| c.session_id),
        Some("session-1".into())
    );
    assert_eq!(
        f.store.redeem_code("missing", "session-3").await.unwrap(),
        Redemption::Unknown
    );
}

async fn concurrent_redemptions_of_one_code_have_one_winner(backend: Backend) {
    let f = open(backend).await;
    let record = code(None);
    f.store.create_code(&record).await.unwrap();
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = f.store.clone();
            let digest = record.digest.clone();
            tokio::spawn(async move { store.redeem_code(&digest, &format!("s-{i}")).await })
        })
        .collect();
    let mut won = Vec::new();
    let mut told = BTreeSet::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap().unwrap() {
            Redemption::Redeemed => won.push(format!("s-{i}")),
            Redemption::AlreadyRedeemed(winner) => {
                told.insert(winner);
            }
            Redemption::Unknown => panic!("the code exists"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one redemption wins");
    assert!(
        told.iter().all(|t| *t == won[0]),
        "every loser is told the winner's session: {told:?} vs {won:?}"
    );
}

on_both_stores!(
    clients_round_trip_update_and_delete,
    codes_are_redeemed_once_and_remember_for_whom,
    concurrent_redemptions_of_one_code_have_one_winner,
);
