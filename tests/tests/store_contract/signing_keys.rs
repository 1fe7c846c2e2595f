//! Signing keys.

use super::*;

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

on_both_stores!(exactly_one_first_signing_key);
