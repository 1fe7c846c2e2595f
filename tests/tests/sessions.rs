//! Sessions over HTTP: refresh rotation, reuse detection, logout, the session list, and signing
//! key rotation checked with an independent JWT library (PyJWT) through the discovery document.

use std::process::Command;
use std::time::Duration;

use portcullis::clock::Clock;
use portcullis::user::UserStatus;
use portcullis_tests::{
    Backend, PASSWORD, Reply, Server, concurrently, on_both_stores, unique_email,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

struct Tokens {
    access: String,
    refresh: String,
}

fn tokens(reply: &Reply) -> Tokens {
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    Tokens {
        access: reply.body["access_token"].as_str().unwrap().to_owned(),
        refresh: reply.body["refresh_token"].as_str().unwrap().to_owned(),
    }
}

async fn login(server: &Server, email: &str) -> Tokens {
    tokens(&server.login(email, PASSWORD).await)
}

async fn refresh(server: &Server, token: &str) -> Reply {
    server
        .post("/v1/token/refresh", json!({ "refresh_token": token }))
        .await
}

async fn signed_in(server: &Server, tag: &str) -> (String, Tokens) {
    let email = unique_email(tag);
    server.signed_up(&email).await;
    let tokens = login(server, &email).await;
    (email, tokens)
}

async fn refresh_rotates_and_a_retry_in_the_grace_gets_the_same_token(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, first) = signed_in(&server, "rotate").await;

    let reply = refresh(&server, &first.refresh).await;
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let second = tokens(&reply);
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(
        server.get_with_token("/v1/me", &second.access).await.status,
        StatusCode::OK
    );

    server.clock.advance(9 * SECOND);
    let retry = tokens(&refresh(&server, &first.refresh).await);
    assert_eq!(
        retry.refresh, second.refresh,
        "a retry gets the token the first attempt got"
    );

    let third = tokens(&refresh(&server, &second.refresh).await);
    assert_ne!(third.refresh, second.refresh);
    assert_eq!(
        server.get_with_token("/v1/me", &third.access).await.status,
        StatusCode::OK
    );
}

async fn reuse_after_the_grace_revokes_the_whole_session(backend: Backend) {
    let server = Server::start(backend).await;
    let (email, first) = signed_in(&server, "theft").await;
    let other = login(&server, &email).await;
    let second = tokens(&refresh(&server, &first.refresh).await);

    server.clock.advance(11 * SECOND);
    let reused = refresh(&server, &first.refresh).await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::UNAUTHORIZED, "invalid_refresh_token")
    );
    // The thief's copy and the owner's are both dead now, and so is the session's access token.
    assert_eq!(
        refresh(&server, &second.refresh).await.code(),
        "invalid_refresh_token"
    );
    assert_eq!(
        server.get_with_token("/v1/me", &second.access).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The account's other session is untouched.
    assert_eq!(
        server.get_with_token("/v1/me", &other.access).await.status,
        StatusCode::OK
    );
    assert_eq!(
        refresh(&server, &other.refresh).await.status,
        StatusCode::OK
    );
}

async fn concurrent_refreshes_agree_on_one_token(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, first) = signed_in(&server, "race").await;
    let replies = concurrently(6, |_| {
        let api = server.api.clone();
        let token = first.refresh.clone();
        async move {
            api.post("/v1/token/refresh", json!({ "refresh_token": token }))
                .await
        }
    })
    .await;
    let refreshed: Vec<String> = replies.iter().map(|r| tokens(r).refresh).collect();
    assert!(
        refreshed.iter().all(|t| *t == refreshed[0]),
        "{refreshed:?}"
    );
    let sessions = server
        .get_with_token("/v1/sessions", &tokens(&replies[0]).access)
        .await;
    assert_eq!(sessions.body["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(refresh(&server, &refreshed[0]).await.status, StatusCode::OK);
}

async fn bad_refresh_requests(backend: Backend) {
    let server = Server::start(backend).await;
    for token in ["", "short", &"A".repeat(43)] {
        let reply = refresh(&server, token).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::UNAUTHORIZED, "invalid_refresh_token"),
            "{token:?}"
        );
    }
    let reply = server.post("/v1/token/refresh", json!({})).await;
    assert_eq!(reply.errors("refresh_token"), vec!["is required"]);
}

async fn logout(server: &Server, body: Value, bearer: Option<&str>) -> Reply {
    match bearer {
        Some(token) => server.post_with_token("/v1/logout", token, body).await,
        None => server.post("/v1/logout", body).await,
    }
}

async fn logout_ends_one_session_or_all(backend: Backend) {
    let server = Server::start(backend).await;
    let (email, a) = signed_in(&server, "logout").await;
    let b = login(&server, &email).await;
    let c = login(&server, &email).await;

    let reply = logout(&server, json!({ "refresh_token": a.refresh }), None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        refresh(&server, &a.refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.get_with_token("/v1/me", &a.access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.get_with_token("/v1/me", &b.access).await.status,
        StatusCode::OK
    );

    let reply = logout(&server, json!({}), Some(&b.access)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get_with_token("/v1/me", &b.access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.get_with_token("/v1/me", &c.access).await.status,
        StatusCode::OK
    );

    let d = login(&server, &email).await;
    let reply = logout(&server, json!({ "scope": "global" }), Some(&d.access)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    for t in [&c, &d] {
        assert_eq!(
            server.get_with_token("/v1/me", &t.access).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            refresh(&server, &t.refresh).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        server.login(&email, PASSWORD).await.status,
        StatusCode::OK,
        "logging in again works"
    );

    let reply = logout(&server, json!({ "refresh_token": "A".repeat(43) }), None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = logout(
        &server,
        json!({ "scope": "everything" }),
        Some(&login(&server, &email).await.access),
    )
    .await;
    assert_eq!(reply.errors("scope"), vec!["must be local or global"]);
}

async fn the_session_list_and_ending_one(backend: Backend) {
    let server = Server::start(backend).await;
    let (email, laptop) = signed_in(&server, "list").await;
    let phone = tokens(
        &server
            .http
            .post(format!("{}/v1/login", server.url))
            .header("user-agent", "PortcullisPhone/1.0")
            .json(&json!({ "identifier": email, "password": PASSWORD }))
            .send()
            .await
            .map(reply_of)
            .unwrap()
            .await,
    );
    let list = server.get_with_token("/v1/sessions", &laptop.access).await;
    let sessions = list.body["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["user_agent"], "PortcullisPhone/1.0");
    assert_eq!(other["ip"], "127.0.0.1");
    for field in ["session_id", "created_at", "last_used_at"] {
        assert!(other[field].is_string(), "{field}");
    }

    // Someone else's session is not found, exactly like one that does not exist.
    let (_, stranger) = signed_in(&server, "stranger").await;
    let id = other["session_id"].as_str().unwrap();
    let path = format!("/v1/sessions/{id}");
    let denied = server
        .http
        .delete(format!("{}{path}", server.url))
        .bearer_auth(&stranger.access)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::NOT_FOUND);
    let missing = server
        .http
        .delete(format!("{}/v1/sessions/nope", server.url))
        .bearer_auth(&laptop.access)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        server.get_with_token("/v1/me", &phone.access).await.status,
        StatusCode::OK
    );

    let ended = server
        .http
        .delete(format!("{}{path}", server.url))
        .bearer_auth(&laptop.access)
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        server.get_with_token("/v1/me", &phone.access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&server, &phone.refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    let list = server.get_with_token("/v1/sessions", &laptop.access).await;
    assert_eq!(list.body["sessions"].as_array().unwrap().len(), 1);
}

async fn reply_of(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap();
    Reply {
        status,
        headers,
        body,
    }
}

async fn sessions_end_at_their_absolute_lifetime(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_SESSION_TTL", "1h")]).await;
    let (_, first) = signed_in(&server, "lifetime").await;
    server.clock.advance(59 * MINUTE);
    let second = tokens(&refresh(&server, &first.refresh).await);
    server.clock.advance(MINUTE);
    assert_eq!(
        refresh(&server, &second.refresh).await.code(),
        "invalid_refresh_token"
    );
}

async fn a_disabled_account_cannot_refresh_or_use_its_tokens(backend: Backend) {
    let server = Server::start(backend).await;
    let (email, t) = signed_in(&server, "disabled").await;
    let user = server
        .app
        .store
        .user_by_email(&email.to_lowercase())
        .await
        .unwrap()
        .unwrap();
    server
        .app
        .store
        .set_status(&user.id, UserStatus::Disabled)
        .await
        .unwrap();
    assert_eq!(
        refresh(&server, &t.refresh).await.code(),
        "invalid_refresh_token"
    );
    assert_eq!(
        server.get_with_token("/v1/me", &t.access).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.login(&email, PASSWORD).await.code(),
        "account_disabled"
    );
}

/// Runs the PyJWT verifier; `Ok(claims)` or `Err(reason)`.
fn pyjwt(server: &Server, token: &str) -> Result<Value, String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let python = root.join(".venv/bin/python");
    let output = Command::new(&python)
        .arg(root.join("scripts/verify_jwt.py"))
        .arg(format!("{}/.well-known/openid-configuration", server.url))
        .arg(token)
        .arg("portcullis")
        .arg(
            (server.clock.now().seconds() - portcullis::clock::SystemClock.now().seconds())
                .to_string(),
        )
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "PyJWT verifier ({}): {e}. Run scripts/test to create .venv",
                python.display()
            )
        });
    if output.status.success() {
        Ok(serde_json::from_slice(&output.stdout).expect("verifier output"))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

async fn tokens_verify_with_pyjwt_through_discovery(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("pyjwt");
    let (user_id, _) = server.signed_up(&email).await;
    let t = login(&server, &email).await;
    let verified = pyjwt(&server, &t.access).expect("PyJWT accepts the token");
    // What an API Gateway HTTP API JWT authorizer relies on.
    assert_eq!(verified["header"]["alg"], "RS256");
    assert!(verified["header"]["kid"].is_string());
    assert_eq!(verified["claims"]["iss"], server.url.as_str());
    assert_eq!(verified["claims"]["aud"], "portcullis");
    assert_eq!(verified["claims"]["sub"], user_id.as_str());
    let mut tampered = t.access.clone();
    tampered.replace_range(tampered.len() - 5.., "AAAAA");
    assert!(pyjwt(&server, &tampered).is_err());
}

async fn signing_key_rotation_journey(backend: Backend) {
    let server = Server::start(backend).await;
    let jwks = server.get("/.well-known/jwks.json").await;
    let max_age: u64 = jwks
        .header("cache-control")
        .and_then(|c| c.split("max-age=").nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a max-age on the JWKS");
    let delay = server.app.config.tokens.key_activation_delay;
    assert!(
        Duration::from_secs(max_age) + portcullis::app::KEY_RELOAD < delay,
        "a cached JWKS learns new keys before they sign"
    );

    let email = unique_email("rotation");
    server.signed_up(&email).await;
    let before = login(&server, &email).await;
    let old_kid = jsonwebtoken::decode_header(&before.access)
        .unwrap()
        .kid
        .unwrap();

    let new = portcullis::keys::rotate(
        server.app.store.as_ref(),
        server.clock.now(),
        delay,
        server.app.key_windows(),
    )
    .await
    .unwrap();
    server.clock.advance(portcullis::app::KEY_RELOAD);
    let kids = |jwks: &Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let published = server.get("/.well-known/jwks.json").await.body;
    assert!(
        kids(&published).contains(&new.kid),
        "the new key is published before it signs"
    );
    let still_old = login(&server, &email).await;
    assert_eq!(
        jsonwebtoken::decode_header(&still_old.access)
            .unwrap()
            .kid
            .unwrap(),
        old_kid
    );

    server.clock.advance(delay);
    let after = login(&server, &email).await;
    assert_eq!(
        jsonwebtoken::decode_header(&after.access)
            .unwrap()
            .kid
            .unwrap(),
        new.kid
    );
    assert!(pyjwt(&server, &after.access).is_ok());
    assert!(
        pyjwt(&server, &still_old.access).is_ok(),
        "tokens signed before the rotation still verify"
    );
    assert_eq!(
        server
            .get_with_token("/v1/me", &still_old.access)
            .await
            .status,
        StatusCode::OK
    );

    server.clock.advance(server.app.key_windows().retention());
    let published = server.get("/.well-known/jwks.json").await.body;
    assert!(
        !kids(&published).contains(&old_kid),
        "the retired key has left the JWKS"
    );
    let reason = pyjwt(&server, &still_old.access).unwrap_err();
    assert!(
        reason.contains("PyJWKClientError") || reason.contains("kid"),
        "{reason}"
    );
}

on_both_stores!(
    refresh_rotates_and_a_retry_in_the_grace_gets_the_same_token,
    reuse_after_the_grace_revokes_the_whole_session,
    concurrent_refreshes_agree_on_one_token,
    bad_refresh_requests,
    logout_ends_one_session_or_all,
    the_session_list_and_ending_one,
    sessions_end_at_their_absolute_lifetime,
    a_disabled_account_cannot_refresh_or_use_its_tokens,
    tokens_verify_with_pyjwt_through_discovery,
    signing_key_rotation_journey,
);
