//! Counters.

use super::*;

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

on_both_stores!(counters_count_every_increment);
