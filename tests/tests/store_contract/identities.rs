//! Provider identities and sign-ins under way.

use super::*;

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
        client_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
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

on_both_stores!(
    identities_link_once_and_list_per_user,
    concurrent_links_of_one_identity_make_one,
    accounts_made_with_an_identity_are_all_or_nothing,
    sign_ins_are_consumed_once_before_they_expire
);
