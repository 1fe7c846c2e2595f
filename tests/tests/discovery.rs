//! Discovery and the fixed HTTP behaviours.

use portcullis_tests::{Backend, Server, on_both_stores};
use reqwest::StatusCode;
use serde_json::json;

async fn health_config_and_discovery_answer(backend: Backend) {
    let server = Server::with(
        backend,
        &[
            ("PORTCULLIS_SIGNUP_MODE", "approval"),
            ("PORTCULLIS_LOGIN_IDENTIFIERS", "email"),
            ("PORTCULLIS_PASSWORD_RESET", "disabled"),
            ("PORTCULLIS_OAUTH_GITHUB_CLIENT_ID", "id"),
            ("PORTCULLIS_OAUTH_GITHUB_CLIENT_SECRET", "secret"),
        ],
    )
    .await;
    let health = server.get("/v1/health").await;
    assert_eq!(
        (health.status, health.body.clone()),
        (StatusCode::OK, json!({"status": "ok"}))
    );

    let config = server.get("/v1/config").await;
    assert_eq!(
        config.body,
        json!({
            "signup_mode": "approval",
            "email_verification": "off",
            "login_identifiers": ["email"],
            "password_reset_enabled": false,
            "password_policy": {"min_length": 8, "max_length": 256, "require_letter": true,
                                "require_digit": true, "require_special": true},
            "oauth_providers": ["github"],
            "access_key_login": true,
            "terms_url": null,
            "privacy_url": null,
        })
    );

    let jwks = server.get("/.well-known/jwks.json").await;
    assert_eq!(jwks.status, StatusCode::OK);
    let key = &jwks.body["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["alg"].as_str(),
            key["use"].as_str()
        ),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert!(key.get("d").is_none(), "no private parts in the JWKS");
    assert!(jwks.header("cache-control").unwrap().starts_with("public"));
}

async fn unknown_routes_and_methods_are_problems(backend: Backend) {
    let server = Server::start(backend).await;
    let reply = server.get("/v1/nothing-here").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "not_found");
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );

    let reply = server.get("/v1/signup").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.code(), "method_not_allowed");

    let request_id = reply.body["request_id"].as_str().unwrap();
    assert_eq!(reply.header("x-request-id"), Some(request_id));
}

#[tokio::test]
async fn the_signing_key_survives_a_restart() {
    let server = Server::start(Backend::Sqlite).await;
    let first = server.get("/.well-known/jwks.json").await.body;
    let store = server.dir.path().join("portcullis.db");
    let config = portcullis::Config::from_vars(
        [
            ("PORTCULLIS_STORE", format!("sqlite://{}", store.display())),
            ("PORTCULLIS_ARGON2", "m=1024,t=1,p=1".to_owned()),
        ],
        portcullis::config::Environment::Local,
    )
    .unwrap();
    let deps = portcullis::Deps::from_config(&config).await.unwrap();
    let app = portcullis::App::new(config, &server.url.parse().unwrap(), deps)
        .await
        .unwrap();
    assert_eq!(app.keys().jwks(), first);
}

on_both_stores!(
    health_config_and_discovery_answer,
    unknown_routes_and_methods_are_problems,
);
