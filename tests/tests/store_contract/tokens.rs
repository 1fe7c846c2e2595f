//! Single-use tokens.

use super::*;

fn token(purpose: TokenPurpose, expires_at: i64) -> OneTimeToken {
    OneTimeToken {
        digest: portcullis::tokens::digest(&name()),
        purpose,
        user_id: "user-1".into(),
        email_key: "a@example.com".into(),
        password_epoch: 2,
        created_at: UnixTime(100),
        expires_at: UnixTime(expires_at),
        challenge: (purpose == TokenPurpose::OauthExchange)
            .then(|| "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned()),
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

on_both_stores!(
    tokens_are_consumed_once_for_their_purpose_before_they_expire,
    concurrent_uses_of_one_token_have_one_winner
);
