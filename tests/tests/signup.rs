//! Signup over real HTTP.

use portcullis_tests::{Backend, PASSWORD, Server, concurrently, on_both_stores, unique_email};
use reqwest::StatusCode;
use serde_json::json;

async fn signup_creates_an_active_account_with_a_suggested_username(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("Alice.Smith");
    let reply = server.signup(&format!("  {email} "), PASSWORD).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["email"], email.as_str());
    assert_eq!(reply.body["status"], "active");
    let expected = email.split('@').next().unwrap().to_lowercase();
    assert_eq!(reply.body["username"], expected.as_str());
    assert!(uuid::Uuid::parse_str(reply.body["user_id"].as_str().unwrap()).is_ok());
}

async fn verification_required_makes_the_account_pending(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_EMAIL_VERIFICATION", "required")]).await;
    let reply = server.signup(&unique_email("pending"), PASSWORD).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["status"], "pending_verification");
}

async fn approval_mode_makes_the_account_wait_for_an_admin(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_SIGNUP_MODE", "approval")]).await;
    let reply = server.signup(&unique_email("approval"), PASSWORD).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["status"], "pending_approval");
}

async fn closed_and_invitation_modes_refuse_plain_signups(backend: Backend) {
    let closed = Server::with(backend, &[("PORTCULLIS_SIGNUP_MODE", "disabled")]).await;
    let reply = closed.signup(&unique_email("closed"), PASSWORD).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "signup_disabled");

    let invited = Server::with(backend, &[("PORTCULLIS_SIGNUP_MODE", "invitation")]).await;
    let reply = invited.signup(&unique_email("uninvited"), PASSWORD).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.code(), "invitation_required");
    let reply = invited
        .post(
            "/v1/signup",
            json!({"email": unique_email("x"), "password": PASSWORD, "accept_terms": true,
                   "invitation_token": "made-up"}),
        )
        .await;
    assert_eq!(reply.code(), "invitation_invalid");
}

async fn a_chosen_username_is_kept_and_must_be_unique_case_insensitively(backend: Backend) {
    let server = Server::start(backend).await;
    let name = format!("Chosen_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let reply = server
        .post(
            "/v1/signup",
            json!({"email": unique_email("a"), "password": PASSWORD, "accept_terms": true,
                   "username": name, "first_name": "Ada", "last_name": "Lovelace"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["username"], name.as_str());

    let reply = server
        .post(
            "/v1/signup",
            json!({"email": unique_email("b"), "password": PASSWORD, "accept_terms": true,
                   "username": name.to_uppercase()}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.code(), "username_taken");
}

async fn an_email_registers_once_whatever_its_case(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("twice");
    server.signed_up(&email).await;
    let reply = server.signup(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.code(), "email_taken");
}

async fn suggestions_are_free_at_the_time_of_asking(backend: Backend) {
    let server = Server::start(backend).await;
    let local = format!("sugg{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let reply = server
        .get(&format!(
            "/v1/username-suggestion?email={local}%40example.com"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["username"], local.as_str());

    let (_, taken) = server.signed_up(&format!("{local}@example.com")).await;
    assert_eq!(taken, local);
    let reply = server
        .get(&format!(
            "/v1/username-suggestion?email={local}%40other.org"
        ))
        .await;
    assert_eq!(reply.body["username"], format!("{local}1").as_str());

    // A second signup from the same local part gets the suffixed name.
    let (_, second) = server.signed_up(&format!("{local}@other.org")).await;
    assert_eq!(second, format!("{local}1"));

    let reply = server
        .get("/v1/username-suggestion?email=not-an-email")
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.errors("email"), vec!["must be a valid email address"]);
    let reply = server.get("/v1/username-suggestion").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

async fn every_broken_password_rule_is_listed(backend: Backend) {
    let server = Server::start(backend).await;
    let cases: &[(&str, &[&str])] = &[
        (
            "short",
            &[
                "must be at least 8 characters",
                "must contain a digit",
                "must contain a special character",
            ],
        ),
        ("12345678!", &["must contain a letter", "is too common"]),
        ("quartzlamp7", &["must contain a special character"]),
        ("quartz-lamp!", &["must contain a digit"]),
        ("P@ssw0rd", &["is too common"]),
        ("Passw0rd!", &["is too common"]),
    ];
    for (password, expected) in cases {
        let reply = server.signup(&unique_email("weak"), password).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{password}");
        assert_eq!(reply.code(), "weak_password");
        assert_eq!(reply.errors("password"), *expected, "{password}");
    }
    let long = format!("{}1!", "q".repeat(300));
    let reply = server.signup(&unique_email("long"), &long).await;
    assert_eq!(
        reply.errors("password"),
        vec!["must be at most 256 characters"]
    );

    let reply = server
        .post(
            "/v1/signup",
            json!({"email": "someone.special@example.com", "password": "x-Someone.Special-9",
                   "accept_terms": true, "username": "zed-the-user"}),
        )
        .await;
    assert_eq!(
        reply.errors("password"),
        vec!["must not contain your email address"]
    );
    let reply = server
        .post(
            "/v1/signup",
            json!({"email": unique_email("u"), "password": "9!Zed-The-User",
                   "accept_terms": true, "username": "zed-the-user"}),
        )
        .await;
    assert_eq!(
        reply.errors("password"),
        vec!["must not contain your username"]
    );
}

async fn bad_fields_are_each_named(backend: Backend) {
    let server = Server::start(backend).await;
    let reply = server
        .post(
            "/v1/signup",
            json!({"email": "nope", "password": PASSWORD, "accept_terms": false,
                   "username": "a b", "first_name": "x".repeat(151)}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "invalid_request");
    assert_eq!(reply.errors("email"), vec!["must be a valid email address"]);
    assert_eq!(reply.errors("accept_terms"), vec!["must be accepted"]);
    assert_eq!(
        reply.errors("username"),
        vec!["may only contain letters, digits, '.', '_' and '-'"]
    );
    assert_eq!(
        reply.errors("first_name"),
        vec!["must be at most 150 characters"]
    );
    assert!(reply.errors("password").is_empty());
}

async fn wrong_types_and_missing_fields_are_each_named(backend: Backend) {
    let server = Server::start(backend).await;
    let reply = server
        .post(
            "/v1/signup",
            json!({"email": 42, "accept_terms": "yes", "username": ["x"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.errors("email"), vec!["must be a string"]);
    assert_eq!(reply.errors("accept_terms"), vec!["must be a boolean"]);
    assert_eq!(reply.errors("username"), vec!["must be a string"]);
    assert_eq!(reply.errors("password"), vec!["is required"]);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert!(
        reply.body["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
}

async fn malformed_bodies_get_clear_4xx(backend: Backend) {
    let server = Server::start(backend).await;
    let reply = server
        .post_raw("/v1/signup", "application/json", "{\"email\": ")
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "invalid_request");
    assert_eq!(reply.errors("body").len(), 1);

    let reply = server
        .post_raw("/v1/signup", "application/json", "[1, 2]")
        .await;
    assert_eq!(reply.errors("body"), vec!["must be a JSON object"]);

    let reply = server
        .post_raw("/v1/signup", "application/json", vec![0xff, 0xfe, 0x00])
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let reply = server
        .post_raw(
            "/v1/signup",
            "application/x-www-form-urlencoded",
            "email=a&password=b",
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(reply.code(), "unsupported_media_type");

    let big = format!(
        r#"{{"email":"{}","password":"{PASSWORD}","accept_terms":true}}"#,
        "a".repeat(17 * 1024)
    );
    let reply = server.post_raw("/v1/signup", "application/json", big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.code(), "payload_too_large");
}

async fn concurrent_signups_for_one_email_make_exactly_one_account(backend: Backend) {
    let server = Server::start(backend).await;
    let email = unique_email("race");
    let replies = concurrently(8, |i| {
        let api = server.api.clone();
        let email = if i % 2 == 0 {
            email.clone()
        } else {
            email.to_uppercase()
        };
        async move { api.signup(&email, PASSWORD).await }
    })
    .await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let conflicts = replies
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT && r.code() == "email_taken")
        .count();
    assert_eq!((created, conflicts), (1, 7));
    let login = server.login(&email, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK);
}

async fn concurrent_signups_with_one_suggested_name_all_get_distinct_names(backend: Backend) {
    let server = Server::start(backend).await;
    let local = format!("same{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    let replies = concurrently(6, |i| {
        let api = server.api.clone();
        let email = format!("{local}@domain{i}.example");
        async move { api.signup(&email, PASSWORD).await }
    })
    .await;
    let mut names: Vec<String> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
            r.body["username"].as_str().unwrap().to_owned()
        })
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 6);
    assert!(names.iter().all(|n| n.starts_with(&local)));
}

on_both_stores!(
    signup_creates_an_active_account_with_a_suggested_username,
    verification_required_makes_the_account_pending,
    approval_mode_makes_the_account_wait_for_an_admin,
    closed_and_invitation_modes_refuse_plain_signups,
    a_chosen_username_is_kept_and_must_be_unique_case_insensitively,
    an_email_registers_once_whatever_its_case,
    suggestions_are_free_at_the_time_of_asking,
    every_broken_password_rule_is_listed,
    bad_fields_are_each_named,
    wrong_types_and_missing_fields_are_each_named,
    malformed_bodies_get_clear_4xx,
    concurrent_signups_for_one_email_make_exactly_one_account,
    concurrent_signups_with_one_suggested_name_all_get_distinct_names,
);
