//! Login over real HTTP: identifiers, enumeration safety, lockout, tokens.

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use portcullis_tests::{Backend, PASSWORD, Server, concurrently, on_both_stores, unique_email};
use reqwest::StatusCode;
use serde_json::{Value, json};

const MINUTE: Duration = Duration::from_secs(60);

async fn logs_in_by_email_in_any_case_and_by_username(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("login");
    let (user_id, username) = server.signed_up(&email).await;

    for identifier in [
        email.clone(),
        email.to_uppercase(),
        username.clone(),
        username.to_uppercase(),
    ] {
        let reply = server.login(&identifier, PASSWORD).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{identifier}: {:?}",
            reply.body
        );
        assert_eq!(reply.body["token_type"], "Bearer");
        assert_eq!(reply.body["expires_in"], 900);
        assert_eq!(reply.body["user"]["user_id"], user_id.as_str());
        assert_eq!(reply.body["user"]["username"], username.as_str());
        assert_eq!(reply.body["user"]["email"], email.as_str());
        assert_eq!(reply.body["refresh_token"].as_str().unwrap().len(), 43);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
}

async fn wrong_password_and_unknown_user_look_the_same(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("same");
    let (_, username) = server.signed_up(&email).await;

    let wrong = server.login(&email, "Wrong-pass-1!").await;
    let unknown = server.login(&unique_email("nobody"), "Wrong-pass-1!").await;
    let wrong_name = server.login(&username, "Wrong-pass-1!").await;
    let unknown_name = server.login("no-such-user-here", "Wrong-pass-1!").await;
    for reply in [&wrong, &unknown, &wrong_name, &unknown_name] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.code(), "invalid_credentials");
        assert_eq!(
            reply.body_without_request_id(),
            wrong.body_without_request_id()
        );
        let mut names: Vec<&str> = reply.headers.keys().map(|k| k.as_str()).collect();
        names.sort();
        let mut expected: Vec<&str> = wrong.headers.keys().map(|k| k.as_str()).collect();
        expected.sort();
        assert_eq!(names, expected);
    }
}

async fn identifiers_follow_the_configuration(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_LOGIN_IDENTIFIERS", "email")]).await;
    let email = unique_email("emailonly");
    let (_, username) = server.signed_up(&email).await;
    assert_eq!(server.login(&email, PASSWORD).await.status, StatusCode::OK);
    let reply = server.login(&username, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "invalid_credentials");

    let server = Server::with(backend, &[("PORTCULLIS_LOGIN_IDENTIFIERS", "username")]).await;
    let email = unique_email("nameonly");
    let (_, username) = server.signed_up(&email).await;
    assert_eq!(
        server.login(&username, PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.login(&email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn account_states_show_only_after_a_correct_password(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_EMAIL_VERIFICATION", "required")]).await;
    let email = unique_email("unverified");
    server.signed_up(&email).await;
    let reply = server.login(&email, "Wrong-pass-1!").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = server.login(&email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "email_not_verified");

    let server = Server::with(backend, &[("PORTCULLIS_SIGNUP_MODE", "approval")]).await;
    let email = unique_email("waiting");
    server.signed_up(&email).await;
    assert_eq!(
        server.login(&email, "Wrong-pass-1!").await.status,
        StatusCode::UNAUTHORIZED
    );
    let reply = server.login(&email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "pending_approval");
}

async fn bad_login_bodies_name_their_fields(backend: Backend) {
    let server = Server::start(backend).await;
    let reply = server.post("/v1/login", json!({"identifier": 7})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.errors("identifier"), vec!["must be a string"]);
    assert_eq!(reply.errors("password"), vec!["is required"]);
    let reply = server
        .post("/v1/login", json!({"identifier": "  ", "password": ""}))
        .await;
    assert_eq!(reply.errors("identifier"), vec!["must not be empty"]);
    assert_eq!(reply.errors("password"), vec!["must not be empty"]);
}

async fn fail(server: &Server, identifier: &str, times: usize) {
    for _ in 0..times {
        let reply = server.login(identifier, "Wrong-pass-1!").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:?}", reply.body);
    }
}

async fn ten_failures_lock_the_account_for_twenty_minutes(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("lock");
    let (_, username) = server.signed_up(&email).await;

    // Email and username attempts share one count.
    fail(&server, &email, 5).await;
    fail(&server, &username, 4).await;
    assert_eq!(
        server.login(&email, PASSWORD).await.status,
        StatusCode::OK,
        "9 failures do not lock"
    );

    // The success cleared the count: ten more are needed.
    fail(&server, &email, 9).await;
    server.clock.advance(MINUTE);
    fail(&server, &username, 1).await;

    let locked = server.login(&email, PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(locked.code(), "account_locked");
    assert_eq!(locked.header("retry-after"), Some("1200"));

    // Refused attempts do not extend the lock.
    server.clock.advance(19 * MINUTE);
    let still = server.login(&username, "Wrong-pass-1!").await;
    assert_eq!(still.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(still.header("retry-after"), Some("60"));
    server.clock.advance(Duration::from_secs(59));
    assert_eq!(
        server.login(&email, PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );

    server.clock.advance(Duration::from_secs(1));
    assert_eq!(server.login(&email, PASSWORD).await.status, StatusCode::OK);
}

async fn after_a_lock_expires_the_count_starts_over(backend: Backend) {
    let server = Server::with(
        backend,
        &[
            ("PORTCULLIS_LOCKOUT_THRESHOLD", "3"),
            ("PORTCULLIS_LOCKOUT_DURATION", "2m"),
        ],
    )
    .await;
    let email = unique_email("relock");
    server.signed_up(&email).await;
    fail(&server, &email, 3).await;
    let reply = server.login(&email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header("retry-after"), Some("120"));

    server.clock.advance(2 * MINUTE);
    fail(&server, &email, 2).await;
    assert_eq!(server.login(&email, PASSWORD).await.status, StatusCode::OK);
}

async fn failures_are_forgotten_after_the_lockout_duration(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_LOCKOUT_THRESHOLD", "3")]).await;
    let email = unique_email("forget");
    server.signed_up(&email).await;
    fail(&server, &email, 2).await;
    server.clock.advance(20 * MINUTE);
    fail(&server, &email, 2).await;
    assert_eq!(server.login(&email, PASSWORD).await.status, StatusCode::OK);
}

async fn unknown_identifiers_lock_exactly_like_accounts(backend: Backend) {
    let server = Server::start(backend).await;
    let nobody = unique_email("ghost");
    fail(&server, &nobody, 10).await;
    let reply = server.login(&nobody, "Wrong-pass-1!").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.code(), "account_locked");
    assert_eq!(reply.header("retry-after"), Some("1200"));
    // Case does not give a fresh count either.
    let reply = server.login(&nobody.to_uppercase(), "Wrong-pass-1!").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

async fn concurrent_wrong_passwords_are_counted_exactly(backend: Backend) {
    let server = Server::start(backend).await;

    // Nine at once leave the account open: the next right password gets in.
    let email = unique_email("nine");
    server.signed_up(&email).await;
    let replies = concurrently(9, |_| {
        let api = server.api.clone();
        let email = email.clone();
        async move { api.login(&email, "Wrong-pass-1!").await }
    })
    .await;
    assert!(replies.iter().all(|r| r.status == StatusCode::UNAUTHORIZED));
    assert_eq!(server.login(&email, PASSWORD).await.status, StatusCode::OK);

    // Ten at once lock it: not one failure is lost.
    let email = unique_email("ten");
    server.signed_up(&email).await;
    let replies = concurrently(10, |_| {
        let api = server.api.clone();
        let email = email.clone();
        async move { api.login(&email, "Wrong-pass-1!").await }
    })
    .await;
    assert!(replies.iter().all(|r| r.status == StatusCode::UNAUTHORIZED));
    let reply = server.login(&email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header("retry-after"), Some("1200"));
}

async fn concurrent_attempts_never_test_more_than_the_threshold(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("flood");
    server.signed_up(&email).await;
    // Fifteen wrong guesses at once: ten are checked, five are refused without a check.
    let replies = concurrently(15, |i| {
        let api = server.api.clone();
        let email = email.clone();
        async move { api.login(&email, &format!("Wrong-pass-{i}!")).await }
    })
    .await;
    let statuses: Vec<StatusCode> = replies.iter().map(|r| r.status).collect();
    let checked = replies
        .iter()
        .filter(|r| r.status == StatusCode::UNAUTHORIZED)
        .count();
    let refused = replies
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS && r.code() == "account_locked")
        .count();
    assert_eq!((checked, refused), (10, 5), "{statuses:?}");
    assert_eq!(
        server.login(&email, PASSWORD).await.code(),
        "account_locked"
    );
}

async fn the_ip_rate_limit_answers_429_with_retry_after(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_IP_RATE_LIMIT", "3/1m")]).await;
    for _ in 0..3 {
        assert_eq!(
            server.login("someone", "Wrong-pass-1!").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let reply = server.login("someone", "Wrong-pass-1!").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.code(), "rate_limited");
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Signup counts in its own group.
    assert_eq!(
        server
            .signup(&unique_email("own-group"), PASSWORD)
            .await
            .status,
        StatusCode::CREATED
    );
    server.clock.advance(MINUTE);
    assert_eq!(
        server.login("someone", "Wrong-pass-1!").await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn the_access_token_verifies_against_the_served_jwks(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("jwt");
    let (user_id, username) = server.signed_up(&email).await;
    let reply = server.login(&email, PASSWORD).await;
    let token = reply.body["access_token"].as_str().unwrap().to_owned();

    let discovery = server.get("/.well-known/openid-configuration").await;
    assert_eq!(discovery.body["issuer"], server.url.as_str());
    let jwks_uri = discovery.body["jwks_uri"].as_str().unwrap();
    let jwks: JwkSet = server
        .http
        .get(jwks_uri)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    portcullis::jwt_crypto::install();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("kid in the header");
    let jwk = jwks.find(&kid).expect("the kid is in the JWKS");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[server.url.as_str()]);
    validation.set_audience(&["portcullis"]);
    let claims: Value = jsonwebtoken::decode(&token, &key, &validation)
        .unwrap()
        .claims;

    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["email"], email.as_str());
    assert_eq!(claims["username"], username.as_str());
    assert_eq!(claims["roles"], json!(["user"]));
    assert_eq!(claims["email_verified"], false);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    for claim in ["sid", "jti", "nbf"] {
        assert!(!claims[claim].is_null(), "{claim}");
    }

    let me = server.get_with_token("/v1/me", &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user_id"], user_id.as_str());
    assert_eq!(me.body["status"], "active");
}

async fn me_refuses_missing_malformed_and_expired_tokens(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("me");
    server.signed_up(&email).await;
    let token = server.login(&email, PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(server.get("/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let reply = server.get_with_token("/v1/me", "not.a.jwt").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.code(), "unauthorized");
    let mut tampered = token.clone();
    tampered.replace_range(tampered.len() - 6.., "AAAAAA");
    assert_eq!(
        server.get_with_token("/v1/me", &tampered).await.status,
        StatusCode::UNAUTHORIZED
    );

    assert_eq!(
        server.get_with_token("/v1/me", &token).await.status,
        StatusCode::OK
    );
    server.clock.advance(15 * MINUTE);
    assert_eq!(
        server.get_with_token("/v1/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_token_from_another_issuer_is_refused(backend: Backend) {
    let a = Server::start(backend).await;
    let b = Server::start(backend).await;
    let email = unique_email("cross");
    a.signed_up(&email).await;
    let token = a.login(&email, PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        b.get_with_token("/v1/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

on_both_stores!(
    concurrent_attempts_never_test_more_than_the_threshold,
    logs_in_by_email_in_any_case_and_by_username,
    wrong_password_and_unknown_user_look_the_same,
    identifiers_follow_the_configuration,
    account_states_show_only_after_a_correct_password,
    bad_login_bodies_name_their_fields,
    ten_failures_lock_the_account_for_twenty_minutes,
    after_a_lock_expires_the_count_starts_over,
    failures_are_forgotten_after_the_lockout_duration,
    unknown_identifiers_lock_exactly_like_accounts,
    concurrent_wrong_passwords_are_counted_exactly,
    the_ip_rate_limit_answers_429_with_retry_after,
    the_access_token_verifies_against_the_served_jwks,
    me_refuses_missing_malformed_and_expired_tokens,
    a_token_from_another_issuer_is_refused,
);
