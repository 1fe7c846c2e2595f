//! Lookalike addresses (hardening, item 5): an address is NFKC-normalised before it is keyed or
//! mailed, so `\u{212A}ate@…` (the Kelvin sign) is `Kate@…`, and invisible or direction-changing
//! characters are refused. On both stores.

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

on_both_stores!(
    a_lookalike_is_the_address_it_looks_like,
    invisible_characters_are_refused_naming_the_field,
);
