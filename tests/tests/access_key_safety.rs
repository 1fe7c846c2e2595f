//! Access keys can't outlive account recovery (hardening, item 1): a key needs the current
//! password (or a sign-in minutes old), a confirmed address, and the owner is told; a completed
//! password reset deletes every key; keys may expire, within an operator's cap. On both stores.

use std::time::Duration;

use portcullis::caller::Caller;
use portcullis::email::Email;
use portcullis::user::{User, UserStatus};
use portcullis::username::Username;
use portcullis_tests::{Backend, PASSWORD, Server, on_both_stores, unique_email};
use reqwest::StatusCode;
use serde_json::json;

async fn key_login(server: &Server, key: &str, secret: &str) -> StatusCode {
    server
        .post(
            "/v1/login/access-key",
            json!({"access_key": key, "secret_key": secret}),
        )
        .await
        .status
}

async fn a_key_needs_the_password_and_the_owner_is_told(backend: Backend) {
    let server = Server::start(backend).await;
    let (user_id, email, token) = server.member("keyowner").await;

    // What a stolen access token alone can do: nothing.
    let reply = server
        .post_with_token("/v1/access-keys", &token, json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        !reply.errors("current_password").is_empty(),
        "{:?}",
        reply.body
    );
    let reply = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": "Not#the-password1"}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );
    let run = server
        .app
        .store
        .lockout(&portcullis::lockout::account_key(&user_id))
        .await
        .unwrap()
        .expect("the wrong password was counted");
    assert_eq!(
        run.failures, 1,
        "a wrong password counts like a failed login"
    );
    let reply = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": PASSWORD, "colour": "blue"}),
        )
        .await;
    assert!(!reply.errors("colour").is_empty());

    let reply = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert!(
        reply.body["expires_at"].is_null(),
        "no cap, no expiry asked"
    );
    let key = reply.body["access_key"].as_str().unwrap();
    let mails = server.mail_to(&email).await;
    let notice = mails
        .iter()
        .find(|m| m.subject.contains("access key"))
        .expect("the owner is mailed");
    assert!(notice.body.contains(key), "{}", notice.body);
    assert!(
        !notice
            .body
            .contains(reply.body["secret_key"].as_str().unwrap()),
        "never the secret"
    );
}

async fn no_key_before_the_address_is_confirmed(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_EMAIL_VERIFICATION", "optional")]).await;
    let (user_id, email, token) = server.member("unconfirmed").await;
    let reply = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "email_not_verified")
    );
    server
        .app
        .store
        .verify_email(&user_id, &email.to_lowercase(), UserStatus::Active)
        .await
        .unwrap();
    let token = server.login(&email, PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
}

async fn a_password_reset_deletes_every_key(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, email, token) = server.member("reset-keys").await;
    let mut keys = Vec::new();
    for _ in 0..2 {
        let reply = server
            .post_with_token(
                "/v1/access-keys",
                &token,
                json!({"current_password": PASSWORD}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        keys.push((
            reply.body["access_key"].as_str().unwrap().to_owned(),
            reply.body["secret_key"].as_str().unwrap().to_owned(),
        ));
    }
    let opened = server
        .post(
            "/v1/login/access-key",
            json!({"access_key": keys[0].0, "secret_key": keys[0].1}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::OK);
    let key_session = opened.body["access_token"].as_str().unwrap().to_owned();

    server
        .post("/v1/password/reset-request", json!({"email": email}))
        .await;
    let reset = server
        .mailed_token(&email, "/reset-password")
        .await
        .expect("a reset mail");
    let reply = server
        .post(
            "/v1/password/reset-confirm",
            json!({"token": reset, "new_password": "Brand#new-pass9"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);

    for (key, secret) in &keys {
        assert_eq!(
            key_login(&server, key, secret).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        server.get_with_token("/v1/me", &key_session).await.status,
        StatusCode::UNAUTHORIZED
    );
    let token = server.login(&email, "Brand#new-pass9").await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = server.get_with_token("/v1/access-keys", &token).await;
    assert_eq!(list.body["access_keys"], json!([]));
    let notice = server
        .mail_to(&email)
        .await
        .into_iter()
        .find(|m| m.subject.contains("password was changed"))
        .expect("the notice");
    assert!(
        notice.body.contains("every access key of it deleted"),
        "{}",
        notice.body
    );
}

async fn keys_expire_within_the_operators_cap(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_ACCESS_KEY_MAX_LIFETIME", "1h")]).await;
    let (_, _, token) = server.member("expiring").await;
    let create = |body: serde_json::Value| server.post_with_token("/v1/access-keys", &token, body);

    let reply = create(json!({"current_password": PASSWORD, "expires_in": 7200})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.errors("expires_in"),
        vec!["must be at most 3600 seconds".to_owned()]
    );
    let reply = create(json!({"current_password": PASSWORD, "expires_in": 30})).await;
    assert!(!reply.errors("expires_in").is_empty());

    let now = server.app.clock.now();
    let capped = create(json!({"current_password": PASSWORD})).await;
    assert_eq!(capped.status, StatusCode::CREATED);
    assert_eq!(
        capped.body["expires_at"],
        now.plus(Duration::from_secs(3600)).rfc3339(),
        "without expires_in, the cap"
    );
    let short = create(json!({"current_password": PASSWORD, "expires_in": 120})).await;
    assert_eq!(short.status, StatusCode::CREATED);
    let (key, secret) = (
        short.body["access_key"].as_str().unwrap(),
        short.body["secret_key"].as_str().unwrap(),
    );
    let opened = server
        .post(
            "/v1/login/access-key",
            json!({"access_key": key, "secret_key": secret}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::OK);
    let key_session = opened.body["access_token"].as_str().unwrap();

    server.clock.advance(Duration::from_secs(121));
    assert_eq!(
        key_login(&server, key, secret).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.get_with_token("/v1/me", key_session).await.status,
        StatusCode::UNAUTHORIZED,
        "a session a key opened ends when the key expires"
    );
    let list = server.get_with_token("/v1/access-keys", &token).await;
    assert!(
        list.body["access_keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["expires_at"].is_string())
    );
}

/// Found by the property tests: a lifetime past year 9999 made the answer's date unprintable.
async fn an_absurd_lifetime_is_a_400_without_a_cap(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, _, token) = server.member("forever").await;
    for seconds in [u64::MAX, 100 * 365 * 86_400 + 1_u64] {
        let reply = server
            .post_with_token(
                "/v1/access-keys",
                &token,
                json!({"current_password": PASSWORD, "expires_in": seconds}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
        assert_eq!(
            reply.errors("expires_in"),
            vec!["must be at most 3153600000 seconds".to_owned()]
        );
    }
    let reply = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": PASSWORD, "expires_in": 100 * 365 * 86_400_u64}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
}

async fn an_account_without_a_password_needs_a_recent_sign_in(backend: Backend) {
    let server = Server::start(backend).await;
    let now = server.app.clock.now();
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        email: Email::parse(&unique_email("provider-only")).unwrap(),
        username: Username::parse(&format!(
            "p{}",
            &uuid::Uuid::new_v4().simple().to_string()[..10]
        ))
        .unwrap(),
        password_hash: None,
        first_name: String::new(),
        last_name: String::new(),
        email_verified: true,
        status: UserStatus::Active,
        roles: vec!["user".into()],
        created_at: now,
        session_epoch: 0,
        password_epoch: 0,
        password_unconfirmed: false,
    };
    server.app.store.create_user(&user).await.unwrap();
    let grant = portcullis::grant::start_session(&server.app, &user, &Caller::default())
        .await
        .unwrap();
    let token = grant.access_token.expose().to_owned();

    let reply = server
        .post_with_token("/v1/access-keys", &token, json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);

    server.clock.advance(Duration::from_secs(6 * 60));
    let reply = server
        .post_with_token("/v1/access-keys", &token, json!({}))
        .await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::UNAUTHORIZED, "recent_login_required")
    );
}

on_both_stores!(
    an_absurd_lifetime_is_a_400_without_a_cap,
    a_key_needs_the_password_and_the_owner_is_told,
    no_key_before_the_address_is_confirmed,
    a_password_reset_deletes_every_key,
    keys_expire_within_the_operators_cap,
    an_account_without_a_password_needs_a_recent_sign_in,
);
