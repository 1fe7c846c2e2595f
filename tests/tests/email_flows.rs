//! Email verification, password reset and change password, over HTTP, reading the real mail:
//! from the outbox on SQLite, from the emulator's SES on DynamoDB.

use std::time::Duration;

use portcullis_tests::{Backend, PASSWORD, Server, concurrently, on_both_stores, unique_email};
use reqwest::StatusCode;
use serde_json::json;

const NEW_PASSWORD: &str = "Pl4in-Sailing-Orbit";
const HOUR: Duration = Duration::from_secs(3600);

async fn verify(server: &Server, token: &str) -> portcullis_tests::Reply {
    server
        .post("/v1/verify-email", json!({ "token": token }))
        .await
}

async fn signup_mail_verify_then_login(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_EMAIL_VERIFICATION", "required")]).await;
    let email = unique_email("verify");
    let (_, username) = server.signed_up(&email).await;
    assert_eq!(
        server.login(&email, PASSWORD).await.code(),
        "email_not_verified"
    );

    let mail = server.mail_to(&email).await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0].subject, "Verify your email address for Portcullis");
    assert!(mail[0].body.contains(&username));
    assert!(
        mail[0]
            .body
            .contains("https://ui.example/verify-email?token=")
    );
    let token = server
        .mailed_token(&email, "/verify-email")
        .await
        .expect("a token in the mail");

    let reply = verify(&server, &token).await;
    assert_eq!(
        (reply.status, reply.body.clone()),
        (StatusCode::OK, json!({"status": "active"}))
    );
    let login = server.login(&email, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK);
    let me = server
        .get_with_token("/v1/me", login.body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me.body["email_verified"], true);

    let again = verify(&server, &token).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::BAD_REQUEST, "invalid_token")
    );
}

async fn verification_in_approval_mode_waits_for_an_admin(backend: Backend) {
    let server = Server::with(
        backend,
        &[
            ("PORTCULLIS_EMAIL_VERIFICATION", "required"),
            ("PORTCULLIS_SIGNUP_MODE", "approval"),
        ],
    )
    .await;
    let email = unique_email("approve");
    let reply = server.signup(&email, PASSWORD).await;
    assert_eq!(reply.body["status"], "pending_verification");
    let token = server.mailed_token(&email, "/verify-email").await.unwrap();
    assert_eq!(
        verify(&server, &token).await.body,
        json!({"status": "pending_approval"})
    );
    assert_eq!(
        server.login(&email, PASSWORD).await.code(),
        "pending_approval"
    );
}

async fn bad_verification_tokens_are_refused(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_EMAIL_VERIFICATION", "required")]).await;
    let email = unique_email("expired");
    server.signed_up(&email).await;
    let token = server.mailed_token(&email, "/verify-email").await.unwrap();

    for bad in ["", "not-a-token", &"A".repeat(43), &format!("{token}x")] {
        let reply = verify(&server, bad).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, "invalid_token"),
            "{bad:?}"
        );
    }
    let reply = server.post("/v1/verify-email", json!({})).await;
    assert_eq!(reply.errors("token"), vec!["is required"]);

    server.clock.advance(24 * HOUR);
    assert_eq!(
        verify(&server, &token).await.code(),
        "invalid_token",
        "expired after 24 h"
    );
    assert_eq!(
        server.login(&email, PASSWORD).await.code(),
        "email_not_verified"
    );
}

async fn resend_sends_a_new_mail_only_where_one_is_needed(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_EMAIL_VERIFICATION", "required")]).await;
    let pending = unique_email("resend");
    server.signed_up(&pending).await;
    let nobody = unique_email("nobody");

    let replies = [
        server
            .post("/v1/verify-email/resend", json!({"email": pending}))
            .await,
        server
            .post("/v1/verify-email/resend", json!({"email": nobody}))
            .await,
    ];
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::ACCEPTED);
        assert_eq!(
            reply.body_without_request_id(),
            replies[0].body_without_request_id()
        );
    }
    assert_eq!(server.mail_to(&pending).await.len(), 2);
    assert!(server.mail_to(&nobody).await.is_empty());

    let token = server
        .mailed_token(&pending, "/verify-email")
        .await
        .unwrap();
    assert_eq!(verify(&server, &token).await.status, StatusCode::OK);
    let reply = server
        .post("/v1/verify-email/resend", json!({"email": pending}))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    assert_eq!(
        server.mail_to(&pending).await.len(),
        2,
        "a verified address gets nothing"
    );

    let reply = server
        .post("/v1/verify-email/resend", json!({"email": "nope"}))
        .await;
    assert_eq!(reply.errors("email"), vec!["must be a valid email address"]);
}

async fn reset_request(server: &Server, email: &str) -> portcullis_tests::Reply {
    server
        .post("/v1/password/reset-request", json!({ "email": email }))
        .await
}

async fn reset_confirm(server: &Server, token: &str, password: &str) -> portcullis_tests::Reply {
    server
        .post(
            "/v1/password/reset-confirm",
            json!({ "token": token, "new_password": password }),
        )
        .await
}

async fn the_reset_journey(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("reset");
    server.signed_up(&email).await;
    let old_session = server.login(&email, PASSWORD).await;
    let old_access = old_session.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        server.get_with_token("/v1/me", &old_access).await.status,
        StatusCode::OK
    );

    let reply = reset_request(&server, &email).await;
    assert_eq!(
        (reply.status, reply.body_without_request_id()),
        (StatusCode::ACCEPTED, json!({}))
    );
    let mail = server.mail_to(&email).await;
    assert_eq!(
        mail.last().unwrap().subject,
        "Reset your Portcullis password"
    );
    let token = server
        .mailed_token(&email, "/reset-password")
        .await
        .unwrap();

    // A weak password is refused and leaves the token usable.
    let weak = reset_confirm(&server, &token, "P@ssw0rd").await;
    assert_eq!(
        (weak.status, weak.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "weak_password")
    );
    assert_eq!(weak.errors("new_password"), vec!["is too common"]);

    let done = reset_confirm(&server, &token, NEW_PASSWORD).await;
    assert_eq!(
        (done.status, done.body_without_request_id()),
        (StatusCode::OK, json!({}))
    );
    assert_eq!(
        server.login(&email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.login(&email, NEW_PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.get_with_token("/v1/me", &old_access).await.status,
        StatusCode::UNAUTHORIZED,
        "every session ended with the reset"
    );
    assert_eq!(
        reset_confirm(&server, &token, "Another-0k-pass")
            .await
            .code(),
        "invalid_token"
    );

    let notice = server.mail_to(&email).await.last().cloned().unwrap();
    assert_eq!(notice.subject, "Your Portcullis password was changed");
    assert!(notice.body.contains("If this wasn't you"));
}

async fn a_reset_clears_the_lockout_and_verifies_the_email(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_EMAIL_VERIFICATION", "required")]).await;
    let email = unique_email("unlock");
    server.signed_up(&email).await;
    for _ in 0..10 {
        server.login(&email, "Wrong-pass-1!").await;
    }
    assert_eq!(
        server.login(&email, PASSWORD).await.code(),
        "account_locked"
    );
    reset_request(&server, &email).await;
    let token = server
        .mailed_token(&email, "/reset-password")
        .await
        .unwrap();
    assert_eq!(
        reset_confirm(&server, &token, NEW_PASSWORD).await.status,
        StatusCode::OK
    );
    // The link proved the mailbox: no verification step left.
    assert_eq!(
        server.login(&email, NEW_PASSWORD).await.status,
        StatusCode::OK
    );
}

async fn a_completed_reset_voids_every_other_reset_link(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("void");
    server.signed_up(&email).await;
    reset_request(&server, &email).await;
    let first = server
        .mailed_token(&email, "/reset-password")
        .await
        .unwrap();
    reset_request(&server, &email).await;
    let second = server
        .mailed_token(&email, "/reset-password")
        .await
        .unwrap();
    assert_ne!(first, second);
    assert_eq!(
        reset_confirm(&server, &second, NEW_PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        reset_confirm(&server, &first, "Another-0k-pass")
            .await
            .code(),
        "invalid_token"
    );
}

async fn two_reset_links_confirmed_at_once_set_one_password(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("twolinks");
    server.signed_up(&email).await;
    reset_request(&server, &email).await;
    let first = server
        .mailed_token(&email, "/reset-password")
        .await
        .unwrap();
    reset_request(&server, &email).await;
    let second = server
        .mailed_token(&email, "/reset-password")
        .await
        .unwrap();
    let replies = concurrently(2, |i| {
        let api = server.api.clone();
        let token = if i == 0 {
            first.clone()
        } else {
            second.clone()
        };
        async move {
            api.post(
                "/v1/password/reset-confirm",
                json!({ "token": token, "new_password": format!("{NEW_PASSWORD}-{i}") }),
            )
            .await
        }
    })
    .await;
    let winners: Vec<usize> = (0..2)
        .filter(|i| replies[*i].status == StatusCode::OK)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let loser = 1 - winners[0];
    assert_eq!(replies[loser].code(), "invalid_token");
    let password = format!("{NEW_PASSWORD}-{}", winners[0]);
    assert_eq!(server.login(&email, &password).await.status, StatusCode::OK);
}

async fn a_disabled_account_cannot_verify(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_EMAIL_VERIFICATION", "required")]).await;
    let email = unique_email("disabledverify");
    let (user_id, _) = server.signed_up(&email).await;
    let token = server.mailed_token(&email, "/verify-email").await.unwrap();
    server
        .app
        .store
        .set_status(&user_id, portcullis::user::UserStatus::Disabled)
        .await
        .unwrap();
    let reply = verify(&server, &token).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::BAD_REQUEST, "invalid_token")
    );
}

async fn reset_links_expire_after_an_hour(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("late");
    server.signed_up(&email).await;
    reset_request(&server, &email).await;
    let token = server
        .mailed_token(&email, "/reset-password")
        .await
        .unwrap();
    server.clock.advance(HOUR);
    assert_eq!(
        reset_confirm(&server, &token, NEW_PASSWORD).await.code(),
        "invalid_token"
    );
    assert_eq!(server.login(&email, PASSWORD).await.status, StatusCode::OK);
}

async fn concurrent_confirms_of_one_token_have_one_winner(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("double");
    server.signed_up(&email).await;
    reset_request(&server, &email).await;
    let token = server
        .mailed_token(&email, "/reset-password")
        .await
        .unwrap();
    let replies = concurrently(6, |i| {
        let api = server.api.clone();
        let token = token.clone();
        async move {
            api.post(
                "/v1/password/reset-confirm",
                json!({ "token": token, "new_password": format!("{NEW_PASSWORD}-{i}") }),
            )
            .await
        }
    })
    .await;
    let winners: Vec<usize> = replies
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == StatusCode::OK)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(
        replies
            .iter()
            .all(|r| r.status == StatusCode::OK || r.code() == "invalid_token")
    );
    let password = format!("{NEW_PASSWORD}-{}", winners[0]);
    assert_eq!(server.login(&email, &password).await.status, StatusCode::OK);
}

async fn reset_requests_look_the_same_for_every_address(backend: Backend) {
    let server = Server::start(backend).await;
    let known = unique_email("known");
    server.signed_up(&known).await;
    let unknown = unique_email("unknown");
    let replies = [
        reset_request(&server, &known).await,
        reset_request(&server, &unknown).await,
        reset_request(&server, &known.to_uppercase()).await,
    ];
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::ACCEPTED);
        assert_eq!(
            reply.body_without_request_id(),
            replies[0].body_without_request_id()
        );
        let mut names: Vec<&str> = reply.headers.keys().map(|k| k.as_str()).collect();
        let mut expected: Vec<&str> = replies[0].headers.keys().map(|k| k.as_str()).collect();
        names.sort();
        expected.sort();
        assert_eq!(names, expected);
    }
    assert_eq!(server.mail_to(&known).await.len(), 2);
    assert!(server.mail_to(&unknown).await.is_empty());
}

async fn at_most_three_mails_per_address_per_window(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("throttle");
    server.signed_up(&email).await;
    for _ in 0..5 {
        assert_eq!(
            reset_request(&server, &email).await.status,
            StatusCode::ACCEPTED
        );
    }
    assert_eq!(server.mail_to(&email).await.len(), 3);
    server.clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(
        reset_request(&server, &email).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(server.mail_to(&email).await.len(), 4);
}

async fn reset_can_be_disabled(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_PASSWORD_RESET", "disabled")]).await;
    let reply = reset_request(&server, &unique_email("off")).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "password_reset_disabled")
    );
}

async fn mail_routes_are_rate_limited_per_ip(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_IP_RATE_LIMIT", "2/1m")]).await;
    for _ in 0..2 {
        assert_eq!(
            reset_request(&server, &unique_email("ip")).await.status,
            StatusCode::ACCEPTED
        );
    }
    let reply = reset_request(&server, &unique_email("ip")).await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    assert!(reply.header("retry-after").is_some());
}

async fn change(
    server: &Server,
    access: &str,
    current: &str,
    new: &str,
) -> portcullis_tests::Reply {
    server
        .post_with_token(
            "/v1/password/change",
            access,
            json!({ "current_password": current, "new_password": new }),
        )
        .await
}

async fn changing_the_password(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_LOCKOUT_THRESHOLD", "3")]).await;
    let email = unique_email("change");
    server.signed_up(&email).await;
    let other_device = server.login(&email, PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let access = server.login(&email, PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let reply = change(&server, "not-a-token", PASSWORD, NEW_PASSWORD).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let weak = change(&server, &access, PASSWORD, "short").await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!weak.errors("new_password").is_empty());

    let wrong = change(&server, &access, "Wrong-pass-1!", NEW_PASSWORD).await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::UNAUTHORIZED, "invalid_credentials")
    );

    let done = change(&server, &access, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(done.header("cache-control"), Some("no-store"));
    let fresh = done.body["access_token"].as_str().unwrap();
    assert_eq!(
        server.get_with_token("/v1/me", fresh).await.status,
        StatusCode::OK
    );
    for old in [&access, &other_device] {
        assert_eq!(
            server.get_with_token("/v1/me", old).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        server.login(&email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.login(&email, NEW_PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.mail_to(&email).await.last().unwrap().subject,
        "Your Portcullis password was changed"
    );
}

async fn wrong_current_passwords_count_toward_the_lockout(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_LOCKOUT_THRESHOLD", "3")]).await;
    let email = unique_email("changelock");
    server.signed_up(&email).await;
    let access = server.login(&email, PASSWORD).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..2 {
        assert_eq!(
            change(&server, &access, "Wrong-pass-1!", NEW_PASSWORD)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    // The login failure is the third of the same count.
    assert_eq!(
        server.login(&email, "Wrong-pass-1!").await.status,
        StatusCode::UNAUTHORIZED
    );
    let locked = change(&server, &access, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(
        (locked.status, locked.code()),
        (StatusCode::TOO_MANY_REQUESTS, "account_locked")
    );
    assert_eq!(
        server.login(&email, PASSWORD).await.code(),
        "account_locked"
    );
}

async fn a_mail_that_fails_never_loses_the_account(backend: Backend) {
    let server = Server::with_mailer(
        backend,
        &[("PORTCULLIS_EMAIL_VERIFICATION", "required")],
        std::sync::Arc::new(portcullis::mail::NoMailer),
    )
    .await;
    let email = unique_email("nomail");
    let reply = server.signup(&email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    // The account is there; the person can ask for the mail again.
    assert_eq!(
        server.login(&email, PASSWORD).await.code(),
        "email_not_verified"
    );
    let resend = server
        .post("/v1/verify-email/resend", json!({"email": email}))
        .await;
    assert_eq!(resend.status, StatusCode::ACCEPTED);
}

on_both_stores!(
    two_reset_links_confirmed_at_once_set_one_password,
    a_disabled_account_cannot_verify,
    a_mail_that_fails_never_loses_the_account,
    signup_mail_verify_then_login,
    verification_in_approval_mode_waits_for_an_admin,
    bad_verification_tokens_are_refused,
    resend_sends_a_new_mail_only_where_one_is_needed,
    the_reset_journey,
    a_reset_clears_the_lockout_and_verifies_the_email,
    a_completed_reset_voids_every_other_reset_link,
    reset_links_expire_after_an_hour,
    concurrent_confirms_of_one_token_have_one_winner,
    reset_requests_look_the_same_for_every_address,
    at_most_three_mails_per_address_per_window,
    reset_can_be_disabled,
    mail_routes_are_rate_limited_per_ip,
    changing_the_password,
    wrong_current_passwords_count_toward_the_lockout,
);
