//! Invitations.

use super::*;

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

on_both_stores!(invitations_are_used_once_by_their_email_before_they_expire);
