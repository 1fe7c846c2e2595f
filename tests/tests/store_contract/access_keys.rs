//! Access keys.

use super::*;

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
        expires_at: (at % 2 == 0).then_some(UnixTime(at + 3600)),
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

on_both_stores!(access_keys_are_limited_and_belong_to_their_owner);

/// Two stores on one SQLite file, as `portcullis serve` and a command such as `createsuperuser`
/// or `seed` run beside it: writes that read first wait for each other rather than fail. (Each
/// store is one connection, as each process has.)
#[tokio::test]
async fn two_sqlite_stores_on_one_file_write_without_refusing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let first: Arc<dyn Store> =
        Arc::new(portcullis::store::SqliteStore::open(&path).await.unwrap());
    let second: Arc<dyn Store> =
        Arc::new(portcullis::store::SqliteStore::open(&path).await.unwrap());
    let owner = user(&unique_email("two"), &name());
    first.create_user(&owner).await.unwrap();
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let key = access_key(&owner, 100 + i);
            tokio::spawn(async move { store.create_access_key(&key, 100).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("no write refused as busy");
    }
    assert_eq!(second.access_keys_of(&owner.id).await.unwrap().len(), 40);
}
