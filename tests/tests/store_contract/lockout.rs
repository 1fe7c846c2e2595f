//! Lockout runs.

use super::*;

fn policy() -> LockoutPolicy {
    LockoutPolicy {
        threshold: 3,
        duration: Duration::from_secs(1200),
    }
}

async fn lockout_runs_follow_the_policy(backend: Backend) {
    let f = open(backend).await;
    let p = policy();
    let key = portcullis::lockout::account_key(&name());
    assert_eq!(f.store.lockout(&key).await.unwrap(), None);

    let at = |t| p.failure_write(UnixTime(t));
    assert_eq!(
        f.store
            .record_failure(&key, at(1000))
            .await
            .unwrap()
            .failures,
        1
    );
    assert_eq!(
        f.store
            .record_failure(&key, at(1100))
            .await
            .unwrap()
            .failures,
        2
    );
    let third = f.store.record_failure(&key, at(1200)).await.unwrap();
    assert_eq!(third.failures, 3);
    assert!(p.locks(&third));
    f.store
        .lock(&key, UnixTime(2400), UnixTime(3600))
        .await
        .unwrap();
    assert_eq!(
        f.store.lockout(&key).await.unwrap(),
        Some(LockoutRecord {
            failures: 3,
            last_failure_at: UnixTime(1200),
            locked_until: Some(UnixTime(2400)),
        })
    );
    // Once the lock is over, the next failure starts a new run.
    let fresh = f.store.record_failure(&key, at(2400)).await.unwrap();
    assert_eq!((fresh.failures, fresh.locked_until), (1, None));
    // A failure a whole duration after the last one starts over too.
    assert_eq!(
        f.store
            .record_failure(&key, at(3600))
            .await
            .unwrap()
            .failures,
        1
    );

    f.store.clear_lockout(&key).await.unwrap();
    assert_eq!(f.store.lockout(&key).await.unwrap(), None);
    // Locking a cleared record is harmless.
    f.store
        .lock(&key, UnixTime(5000), UnixTime(6000))
        .await
        .unwrap();
}

async fn concurrent_failures_are_each_counted_once(backend: Backend) {
    let f = open(backend).await;
    let key = format!("identifier#{}", name());
    let write = policy().failure_write(UnixTime(10_000));
    let tasks: Vec<_> = (0..25)
        .map(|_| {
            let store = f.store.clone();
            let key = key.clone();
            tokio::spawn(async move { store.record_failure(&key, write).await.unwrap().failures })
        })
        .collect();
    let mut seen = BTreeSet::new();
    for task in tasks {
        assert!(
            seen.insert(task.await.unwrap()),
            "a count was handed out twice"
        );
    }
    assert_eq!(seen, (1..=25).collect());
    assert_eq!(f.store.lockout(&key).await.unwrap().unwrap().failures, 25);
}

on_both_stores!(
    lockout_runs_follow_the_policy,
    concurrent_failures_are_each_counted_once
);
