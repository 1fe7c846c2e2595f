//! Lockout locks out attackers, not owners (hardening, item 3): a client that signed in to the
//! account before counts its failures under its device token, strangers under the account, and
//! access-key logins under their own run. On both stores.

use std::time::Duration;

use portcullis_tests::{Backend, PASSWORD, Reply, Server, on_both_stores};
use reqwest::StatusCode;
use serde_json::json;

const WRONG: &str = "Wrong-pass-1!";

async fn login_from(server: &Server, email: &str, password: &str, device: Option<&str>) -> Reply {
    let mut body = json!({ "identifier": email, "password": password });
    if let Some(device) = device {
        body["device_token"] = device.into();
    }
    server.post("/v1/login", body).await
}

fn device_token(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["device_token"]
        .as_str()
        .expect("a password login hands out a device token")
        .to_owned()
}

async fn fail(server: &Server, email: &str, device: Option<&str>, times: usize) {
    for attempt in 0..times {
        let reply = login_from(server, email, WRONG, device).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}: {:?}",
            reply.body
        );
    }
}

fn locked(reply: &Reply) -> bool {
    reply.status == StatusCode::TOO_MANY_REQUESTS && reply.code() == "account_locked"
}

async fn audit_kinds(server: &Server, user_id: &str) -> Vec<String> {
    let (_, admin) = server.admin().await;
    let reply = server
        .get_with_token(
            &format!("/v1/admin/audit?user_id={user_id}&limit=200"),
            &admin,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

async fn strangers_lock_themselves_out_not_the_owners_device(backend: Backend) {
    let server = Server::start(backend).await;
    let (user_id, email, _) = server.member("owner").await;
    let device = device_token(&login_from(&server, &email, PASSWORD, None).await);

    fail(&server, &email, None, 10).await;
    assert!(locked(&login_from(&server, &email, PASSWORD, None).await));

    // The owner's device still signs in, and gets a fresh token.
    let reply = login_from(&server, &email, PASSWORD, Some(&device)).await;
    let renewed = device_token(&reply);
    assert_ne!(renewed, device);
    // Its success clears only its own run: strangers are still locked out.
    assert!(locked(&login_from(&server, &email, PASSWORD, None).await));
    // The token is no bearer token.
    assert_eq!(
        server.get_with_token("/v1/me", &renewed).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        audit_kinds(&server, &user_id)
            .await
            .contains(&"account_locked".to_owned())
    );
}

async fn a_device_gets_its_own_ten_tries_then_it_is_void(backend: Backend) {
    let server = Server::start(backend).await;
    let (user_id, email, _) = server.member("stolen").await;
    let stolen = device_token(&login_from(&server, &email, PASSWORD, None).await);
    let owners = device_token(&login_from(&server, &email, PASSWORD, None).await);

    // Ten wrong passwords with the stolen token lock that device, not the account.
    fail(&server, &email, Some(&stolen), 10).await;
    assert!(
        audit_kinds(&server, &user_id)
            .await
            .contains(&"device_locked".to_owned())
    );
    let reply = login_from(&server, &email, PASSWORD, None).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "strangers were not locked out"
    );

    // From now on the stolen token counts with strangers: ten more lock the account for them…
    fail(&server, &email, Some(&stolen), 10).await;
    assert!(locked(
        &login_from(&server, &email, PASSWORD, Some(&stolen)).await
    ));
    assert!(locked(&login_from(&server, &email, PASSWORD, None).await));
    // …while the owner's own device signs in.
    device_token(&login_from(&server, &email, PASSWORD, Some(&owners)).await);

    // A failure still in flight when the device locked is counted after the lock: it must not
    // shorten how long the token stays void.
    let device_id = stolen_device_id(&server, &stolen);
    let device_key = portcullis::lockout::device_key(&user_id, &device_id);
    let policy = server.app.config.login.lockout;
    server
        .app
        .store
        .record_failure(&device_key, policy.failure_write(server.app.clock.now()))
        .await
        .unwrap();

    // Long after the locks are over, and after expired records are purged, the stolen token is
    // still void: the next stranger lock holds it too.
    server.clock.advance(Duration::from_secs(3 * 3600));
    server
        .app
        .store
        .purge_expired(server.app.clock.now())
        .await
        .unwrap();
    fail(&server, &email, None, 10).await;
    assert!(locked(
        &login_from(&server, &email, PASSWORD, Some(&stolen)).await
    ));
    device_token(&login_from(&server, &email, PASSWORD, Some(&owners)).await);
}

/// The device id a device token carries.
fn stolen_device_id(server: &Server, token: &str) -> String {
    server
        .app
        .keys()
        .verify_device(token, &server.app.issuer, server.app.clock.now())
        .expect("a device token of this server")
        .jti
}

async fn a_device_token_is_for_its_own_account_only(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, first, _) = server.member("first").await;
    let (_, second, _) = server.member("second").await;
    let firsts = device_token(&login_from(&server, &first, PASSWORD, None).await);

    fail(&server, &second, None, 10).await;
    assert!(locked(
        &login_from(&server, &second, PASSWORD, Some(&firsts)).await
    ));
    // Forged or garbled tokens make a stranger, never an error.
    for garbage in ["", "x", &"a.b.c".repeat(2000), &format!("{firsts}x")] {
        assert!(locked(
            &login_from(&server, &second, PASSWORD, Some(garbage)).await
        ));
    }
    let reply = server
        .post(
            "/v1/login",
            json!({"identifier": second, "password": PASSWORD, "device_token": 7}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(!reply.errors("device_token").is_empty(), "{:?}", reply.body);
}

async fn access_key_logins_count_apart_from_passwords(backend: Backend) {
    let server = Server::start(backend).await;
    let (user_id, email, token) = server.member("keyrun").await;
    let created = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let key_login = |secret: &str| {
        server.post(
            "/v1/login/access-key",
            json!({"access_key": created.body["access_key"], "secret_key": secret}),
        )
    };
    let secret = created.body["secret_key"].as_str().unwrap().to_owned();

    // A key login between guesses does not reset them.
    fail(&server, &email, None, 9).await;
    assert_eq!(key_login(&secret).await.status, StatusCode::OK);
    fail(&server, &email, None, 1).await;
    assert!(locked(&login_from(&server, &email, PASSWORD, None).await));
    // Locked password logins never block the key.
    assert_eq!(key_login(&secret).await.status, StatusCode::OK);

    // Wrong secrets lock key logins, never password logins.
    server.clock.advance(Duration::from_secs(21 * 60));
    for _ in 0..10 {
        assert_eq!(
            key_login(&"y".repeat(43)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert!(locked(&key_login(&secret).await));
    assert_eq!(
        login_from(&server, &email, PASSWORD, None).await.status,
        StatusCode::OK
    );
    assert!(
        audit_kinds(&server, &user_id)
            .await
            .contains(&"access_key_login_locked".to_owned())
    );

    // An admin's unlock ends the key lock too.
    let (_, admin) = server.admin().await;
    let reply = server
        .post_with_token(
            &format!("/v1/admin/users/{user_id}/unlock"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(key_login(&secret).await.status, StatusCode::OK);
}

async fn wrong_current_passwords_count_where_the_client_would(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, email, stolen_access) = server.member("changer").await;
    let owners = device_token(&login_from(&server, &email, PASSWORD, None).await);
    let change = |token: String, current: &str, device: Option<&str>| {
        let mut body = json!({"current_password": current, "new_password": "Another#pass-2"});
        if let Some(device) = device {
            body["device_token"] = device.into();
        }
        let api = server.api.clone();
        async move {
            api.post_with_token("/v1/password/change", &token, body)
                .await
        }
    };

    // Someone with only a stolen access token guesses: strangers are locked out…
    for _ in 0..10 {
        let reply = change(stolen_access.clone(), WRONG, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:?}", reply.body);
    }
    assert!(locked(&change(stolen_access.clone(), PASSWORD, None).await));
    assert!(locked(&login_from(&server, &email, PASSWORD, None).await));
    // …the owner's device is not, for a login or a change.
    let reply = login_from(&server, &email, PASSWORD, Some(&owners)).await;
    let access = reply.body["access_token"].as_str().unwrap().to_owned();
    let reply = change(access, PASSWORD, Some(&owners)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    // Ten wrong ones from the owner's device lock that device: it is a stranger from then on,
    // and strangers are still locked out.
    let access = reply.body["access_token"].as_str().unwrap().to_owned();
    for _ in 0..10 {
        let reply = change(access.clone(), WRONG, Some(&owners)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:?}", reply.body);
    }
    assert!(locked(
        &login_from(&server, &email, "Another#pass-2", Some(&owners)).await
    ));
    server.clock.advance(Duration::from_secs(20 * 60));
    device_token(&login_from(&server, &email, "Another#pass-2", Some(&owners)).await);
}

on_both_stores!(
    strangers_lock_themselves_out_not_the_owners_device,
    a_device_gets_its_own_ten_tries_then_it_is_void,
    a_device_token_is_for_its_own_account_only,
    access_key_logins_count_apart_from_passwords,
    wrong_current_passwords_count_where_the_client_would,
);
