//! The audit log.

use super::*;

fn event(user_id: Option<&str>, at: i64) -> AuditEvent {
    AuditEvent {
        id: uuid::Uuid::new_v4().to_string(),
        at: UnixTime(at),
        kind: "login_failed".into(),
        user_id: user_id.map(str::to_owned),
        ip: Some("203.0.113.9".into()),
        user_agent: None,
        detail: portcullis::audit::detail(&[("method", "password".into())]),
        expires_at: UnixTime(at + 1_000_000),
    }
}

async fn audit_events_page_newest_first(backend: Backend) {
    let f = open(backend).await;
    let mut mine = Vec::new();
    for at in [10, 20, 20, 30, 40] {
        let e = event(Some("user-a"), at);
        f.store.record_event(&e).await.unwrap();
        mine.push(e);
    }
    f.store
        .record_event(&event(Some("user-b"), 25))
        .await
        .unwrap();
    f.store.record_event(&event(None, 35)).await.unwrap();

    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let page = f
            .store
            .events(&EventQuery {
                user_id: Some("user-a".into()),
                limit: 2,
                cursor: cursor.clone(),
            })
            .await
            .unwrap();
        seen.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 5);
    assert!(seen.windows(2).all(|w| w[0].at >= w[1].at), "newest first");
    assert_eq!(
        seen.iter().map(|e| e.id.clone()).collect::<BTreeSet<_>>(),
        mine.iter().map(|e| e.id.clone()).collect()
    );
    assert_eq!(seen[0], mine[4]);

    let all = f
        .store
        .events(&EventQuery {
            user_id: None,
            limit: 100,
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!(all.items.len(), 7);
    let stray = f
        .store
        .events(&EventQuery {
            user_id: Some("user-b".into()),
            limit: 100,
            cursor: Some("bm90LWEtY3Vyc29y".into()),
        })
        .await;
    assert!(
        matches!(stray, Err(Error::InvalidRequest { .. })),
        "{stray:?}"
    );
}

on_both_stores!(audit_events_page_newest_first);
