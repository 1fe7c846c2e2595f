//! Addresses. Lookalikes (hardening, item 5): an address is NFKC-normalised before it is keyed or
//! mailed, so `\u{212A}ate@…` (the Kelvin sign) is `Kate@…`, and invisible or direction-changing
//! characters are refused. And (item 6) signup can conceal which addresses have accounts. On both
//! stores.

use portcullis_tests::{Backend, PASSWORD, Server, on_both_stores};
use reqwest::StatusCode;
use serde_json::json;

fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_owned()
}

async fn a_lookalike_is_the_address_it_looks_like(backend: Backend) {
    let server = Server::with(backend, &[("PORTCULLIS_EMAIL_VERIFICATION", "optional")]).await;
    let tag = tag();
    let kelvin = format!("\u{212A}ate-{tag}@example.com");
    let plain = format!("Kate-{tag}@example.com");

    // Whoever signs up first with the lookalike gets the real address, not the lookalike.
    let reply = server.signup(&kelvin, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["email"], plain.as_str());
    assert!(
        !server.mail_to(&plain).await.is_empty(),
        "verification mail to Kate@…"
    );
    assert!(
        server.mail_to(&kelvin).await.is_empty(),
        "nothing to the lookalike"
    );

    // Every other spelling of it is the same account.
    for other in [
        plain.to_lowercase(),
        format!("\u{FF4B}ate-{tag}@example.com"),
        format!("\u{212A}ATE-{tag}@EXAMPLE.COM"),
    ] {
        let reply = server.signup(&other, PASSWORD).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::CONFLICT, "email_taken"),
            "{other:?}"
        );
    }

    // A reset asked for with the lookalike goes to the normalised address, the owner's.
    let reply = server
        .post("/v1/password/reset-request", json!({"email": kelvin}))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    assert!(
        server
            .mailed_token(&plain, "/reset-password")
            .await
            .is_some()
    );
    assert!(server.mail_to(&kelvin).await.is_empty());
    let reply = server.login(&kelvin, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "logs in to the same account");
}

async fn invisible_characters_are_refused_naming_the_field(backend: Backend) {
    let server = Server::start(backend).await;
    let tag = tag();
    for bad in [
        format!("ka\u{200B}te-{tag}@example.com"),
        format!("\u{202E}kate-{tag}@example.com"),
        format!("kate-{tag}\u{2066}@example.com"),
    ] {
        let reply = server.signup(&bad, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert_eq!(
            reply.errors("email"),
            vec!["must not contain invisible or direction-changing characters".to_owned()]
        );
        let reply = server
            .post("/v1/password/reset-request", json!({"email": bad}))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(!reply.errors("email").is_empty());
    }
}

/// Item 6: with `PORTCULLIS_SIGNUP_EXISTING_EMAIL=conceal`, a signup with an address that has an
/// account is answered like a new one, creates nothing, and mails the owner.
async fn signup_can_conceal_which_addresses_have_accounts(backend: Backend) {
    let server = Server::with(
        backend,
        &[
            ("PORTCULLIS_EMAIL_VERIFICATION", "required"),
            ("PORTCULLIS_SIGNUP_EXISTING_EMAIL", "conceal"),
        ],
    )
    .await;
    let tag = tag();
    let owner = format!("owner-{tag}@example.com");
    let first = server.signup(&owner, PASSWORD).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let stranger = server
        .signup(&owner.to_uppercase(), "Other#pass-word9")
        .await;
    let fresh = server
        .signup(&format!("fresh-{tag}@example.com"), PASSWORD)
        .await;
    // The same status and the same shape as a new account's.
    assert_eq!(stranger.status, fresh.status);
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&stranger.body), keys(&fresh.body));
    assert_eq!(stranger.body["status"], fresh.body["status"]);
    assert_ne!(stranger.body["user_id"], first.body["user_id"]);

    // Nothing was made or changed: the owner's account is the only one with the address.
    let account = server
        .app
        .store
        .user_by_email(&owner.to_lowercase())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.id, first.body["user_id"].as_str().unwrap());
    assert!(
        server
            .app
            .store
            .user_by_id(stranger.body["user_id"].as_str().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    // The owner is told.
    let mails = server.mail_to(&owner).await;
    assert!(
        mails
            .iter()
            .any(|m| m.subject.starts_with("Someone tried to sign up")),
        "{:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );

    // Usernames are public handles: a taken one still says so.
    let reply = server
        .post(
            "/v1/signup",
            json!({
                "email": format!("third-{tag}@example.com"),
                "password": PASSWORD,
                "username": first.body["username"],
                "accept_terms": true,
            }),
        )
        .await;
    assert_eq!(reply.code(), "username_taken");
}

on_both_stores!(
    a_lookalike_is_the_address_it_looks_like,
    invisible_characters_are_refused_naming_the_field,
    signup_can_conceal_which_addresses_have_accounts,
);
