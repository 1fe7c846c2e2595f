//! Accounts.

use super::*;

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

async fn setting_a_password_bumps_both_epochs(backend: Backend) {
    let f = open(backend).await;
    let original = user(&unique_email("epoch"), &name());
    f.store.create_user(&original).await.unwrap();
    assert_eq!(
        f.store
            .set_password(&original.id, Some("$argon2id$stale"), 6, false)
            .await
            .unwrap(),
        None,
        "an older epoch sets nothing"
    );
    let updated = f
        .store
        .set_password(&original.id, Some("$argon2id$new"), 7, false)
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
        f.store
            .set_password("no-such-user", Some("x"), 0, false)
            .await
            .unwrap(),
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

on_both_stores!(
    users_are_unique_by_email_and_username,
    concurrent_creates_for_one_email_make_one_account,
    setting_a_password_bumps_both_epochs,
    verifying_an_email_moves_only_pending_accounts,
    users_list_in_pages_by_email_and_username
);
