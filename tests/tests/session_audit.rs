//! Every way a session ends is a security event in the audit log (hardening, item 8): logout,
//! global logout, ending one session, and a reused refresh token (a theft) (item 8); and
//! sessions idle out when an idle timeout is set (item 7); IPv6 clients are rate-limited by their
//! /64 (item 9). On both stores.

use std::time::Duration;

use portcullis_tests::{Backend, PASSWORD, Server, on_both_stores};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn events_of(server: &Server, admin: &str, user_id: &str) -> Vec<Value> {
    let reply = server
        .get_with_token(
            &format!("/v1/admin/audit?user_id={user_id}&limit=200"),
            admin,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.body["events"].as_array().unwrap().clone()
}

fn count(events: &[Value], kind: &str) -> usize {
    events.iter().filter(|e| e["type"] == kind).count()
}

async fn sessions_ending_are_audited(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, admin) = server.admin().await;
    let (user_id, email, _) = server.member("audited").await;
    let login = || async { server.login(&email, PASSWORD).await.body };

    // Logout with the Bearer, and with the refresh token.
    let first = login().await;
    let reply = server
        .post_with_token(
            "/v1/logout",
            first["access_token"].as_str().unwrap(),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let second = login().await;
    let reply = server
        .post(
            "/v1/logout",
            json!({"refresh_token": second["refresh_token"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);

    // One session ended from another.
    let third = login().await;
    let fourth = login().await;
    let sessions = server
        .get_with_token("/v1/sessions", fourth["access_token"].as_str().unwrap())
        .await
        .body;
    let other = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = server
        .delete_with_token(
            &format!("/v1/sessions/{other}"),
            fourth["access_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let _ = third;

    // A refresh token used again after the grace: the session is revoked, and that is audited.
    let fifth = login().await;
    let old = fifth["refresh_token"].clone();
    let reply = server
        .post("/v1/token/refresh", json!({"refresh_token": old}))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    server.clock.advance(Duration::from_secs(11));
    let reply = server
        .post("/v1/token/refresh", json!({"refresh_token": old}))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // Everywhere.
    let reply = server
        .post_with_token(
            "/v1/logout",
            fourth["access_token"].as_str().unwrap(),
            json!({"scope": "global"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);

    let events = events_of(&server, &admin, &user_id).await;
    assert_eq!(count(&events, "logout"), 2, "{events:?}");
    assert_eq!(count(&events, "session_revoked"), 1);
    assert_eq!(count(&events, "refresh_token_reused"), 1);
    assert_eq!(count(&events, "logout_everywhere"), 1);
    let reused = events
        .iter()
        .find(|e| e["type"] == "refresh_token_reused")
        .unwrap();
    assert!(reused["detail"]["session_id"].is_string());
    assert!(
        !events
            .iter()
            .any(|e| e.to_string().contains(old.as_str().unwrap())),
        "no token in the log"
    );
}

async fn idle_sessions_end(backend: Backend) {
    let server = Server::with(
        backend,
        &[
            ("PORTCULLIS_SESSION_IDLE_TIMEOUT", "30m"),
            ("PORTCULLIS_ACCESS_TOKEN_TTL", "15m"),
        ],
    )
    .await;
    let (_, email, _) = server.member("idle").await;
    let tokens = server.login(&email, PASSWORD).await.body;
    // Used every 20 minutes: alive past the timeout.
    let mut refresh = tokens["refresh_token"].clone();
    for _ in 0..3 {
        server.clock.advance(Duration::from_secs(20 * 60));
        let reply = server
            .post("/v1/token/refresh", json!({"refresh_token": refresh}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        refresh = reply.body["refresh_token"].clone();
    }
    // Then left alone for 30 minutes: over.
    server.clock.advance(Duration::from_secs(30 * 60));
    let reply = server
        .post("/v1/token/refresh", json!({"refresh_token": refresh}))
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNAUTHORIZED, "invalid_refresh_token")
    );
}

/// Item 9: an IPv6 client is limited by its /64, so a fresh address per request gains nothing.
async fn ipv6_clients_share_the_limit_of_their_64(backend: Backend) {
    use portcullis::caller::Caller;
    use portcullis::rate_limit::RateGroup;
    let server = Server::with(backend, &[("PORTCULLIS_IP_RATE_LIMIT", "2/1m")]).await;
    let from = |ip: &str| Caller {
        ip: Some(ip.to_owned()),
        ..Caller::default()
    };
    let check = |ip: &'static str| {
        let app = server.app.clone();
        async move { app.check_ip_rate(RateGroup::Login, &from(ip)).await }
    };
    assert!(check("2001:db8:7:1::1").await.is_ok());
    assert!(check("2001:db8:7:1:ffff::2").await.is_ok());
    assert!(
        matches!(
            check("2001:db8:7:1:1234:5678:9abc:def0").await,
            Err(portcullis::Error::RateLimited { .. })
        ),
        "a third address of the same /64 is over the limit"
    );
    assert!(
        check("2001:db8:7:2::1").await.is_ok(),
        "another /64 is another client"
    );
    assert!(check("198.51.100.9").await.is_ok());
    assert!(check("::ffff:198.51.100.9").await.is_ok());
    assert!(
        check("198.51.100.9").await.is_err(),
        "an IPv4-mapped address is its IPv4 address"
    );
}

on_both_stores!(
    sessions_ending_are_audited,
    idle_sessions_end,
    ipv6_clients_share_the_limit_of_their_64,
);
