//! Each function's handler called directly with the API Gateway (HTTP API, payload 2.0) events in
//! `events/`, exactly as the Lambda runtime would hand them over.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use portcullis::clock::ManualClock;
use portcullis::config::{Config, Environment};
use portcullis::mail::Outbox;
use portcullis::{App, Deps, Function, handle};
use serde_json::Value;

fn event(name: &str) -> Request {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

async fn app(dir: &tempfile::TempDir) -> App {
    let config = Config::from_vars(
        [
            (
                "PORTCULLIS_STORE",
                format!("sqlite://{}", dir.path().join("p.db").display()),
            ),
            ("PORTCULLIS_PUBLIC_URL", "https://id.example.com".to_owned()),
            ("PORTCULLIS_ARGON2", "m=1024,t=1,p=1".to_owned()),
            ("PORTCULLIS_EMAIL_VERIFICATION", "off".to_owned()),
            ("PORTCULLIS_MAIL_RESPONSE_TIME", "0s".to_owned()),
            ("PORTCULLIS_OAUTH_GITHUB_CLIENT_ID", "gh-client".to_owned()),
            (
                "PORTCULLIS_OAUTH_GITHUB_CLIENT_SECRET",
                "gh-secret".to_owned(),
            ),
            (
                "PORTCULLIS_OAUTH_GITHUB_URL",
                "https://github.example".to_owned(),
            ),
        ],
        Environment::Lambda,
    )
    .expect("config");
    let deps = Deps {
        store: portcullis::app::open_store(&config).await.expect("store"),
        mailer: Arc::new(Outbox::new(dir.path().join("outbox"))),
        clock: Arc::new(ManualClock::starting_now()),
    };
    let url = config.public_url.clone().expect("public url");
    App::new(config, &url, deps).await.expect("app")
}

fn json(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).expect("JSON body")
}

async fn call(app: &App, function: Function, name: &str) -> (u16, Value) {
    let response = handle(app, function, event(name)).await;
    (response.status().as_u16(), json(&response))
}

#[tokio::test]
async fn signup_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;

    let response = handle(&app, Function::Signup, event("signup-created")).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-request-id"], "signup-created-1");
    let body = json(&response);
    assert_eq!(body["email"], "Ada.Lovelace@example.com");
    assert_eq!(body["username"], "ada.lovelace");
    assert_eq!(body["status"], "active");

    let (status, body) = call(&app, Function::Signup, "signup-base64-body").await;
    assert_eq!((status, body["username"].as_str()), (201, Some("grace_h")));

    let (status, body) = call(&app, Function::Signup, "signup-weak-password").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("weak_password"))
    );
    assert_eq!(
        body["errors"]["password"],
        serde_json::json!(["is too common"])
    );

    let (status, body) = call(&app, Function::Signup, "signup-invalid-json").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request"))
    );
    assert!(body["errors"]["body"].is_array());

    let (status, body) = call(&app, Function::Signup, "signup-missing-fields").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["password"],
        serde_json::json!(["is required"])
    );
    assert_eq!(
        body["errors"]["accept_terms"],
        serde_json::json!(["is required"])
    );

    let (status, body) = call(&app, Function::Signup, "signup-terms-not-accepted").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["accept_terms"],
        serde_json::json!(["must be accepted"])
    );

    let (status, body) = call(&app, Function::Signup, "signup-username-suggestion").await;
    assert_eq!(
        (status, body["username"].as_str()),
        (200, Some("ada.lovelace1"))
    );
}

#[tokio::test]
async fn login_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    assert_eq!(call(&app, Function::Signup, "signup-created").await.0, 201);

    let response = handle(&app, Function::Login, event("login-success")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json(&response);
    let claims = app
        .keys()
        .verify(
            body["access_token"].as_str().unwrap(),
            "https://id.example.com",
            "portcullis",
            app.clock.now(),
        )
        .expect("a valid access token");
    assert_eq!(claims.username, "ada.lovelace");

    // The session remembers where the login came from (the event's source IP and user agent).
    let session = app.store.session(&claims.sid).await.unwrap().unwrap();
    assert_eq!(session.ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(session.user_agent.as_deref(), Some("curl/8.5.0"));

    assert_eq!(
        call(&app, Function::Login, "login-by-username").await.0,
        200
    );

    let (status, wrong) = call(&app, Function::Login, "login-wrong-password").await;
    let (_, unknown) = call(&app, Function::Login, "login-unknown-user").await;
    assert_eq!(status, 401);
    assert_eq!(wrong["code"], "invalid_credentials");
    assert_eq!(wrong["detail"], unknown["detail"]);

    // A function serves only its own routes.
    let (status, body) = call(&app, Function::Login, "login-wrong-route").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn discovery_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let (status, body) = call(&app, Function::Discovery, "discovery-health").await;
    assert_eq!((status, body), (200, serde_json::json!({"status": "ok"})));
    let (status, body) = call(&app, Function::Discovery, "discovery-config").await;
    assert_eq!((status, body["signup_mode"].as_str()), (200, Some("open")));
    let (status, body) = call(&app, Function::Discovery, "discovery-openid-configuration").await;
    assert_eq!(status, 200);
    assert_eq!(body["issuer"], "https://id.example.com");
    assert_eq!(
        body["jwks_uri"],
        "https://id.example.com/.well-known/jwks.json"
    );
    let (status, body) = call(&app, Function::Discovery, "discovery-jwks").await;
    assert_eq!(status, 200);
    assert_eq!(body["keys"][0]["kid"], app.keys().signing_kid());
}

#[tokio::test]
async fn session_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    for name in ["session-me-without-token", "session-me-bad-token"] {
        let (status, body) = call(&app, Function::Session, name).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("unauthorized")),
            "{name}"
        );
    }
}

#[tokio::test]
async fn admin_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    for name in [
        "admin-users-without-token",
        "admin-delete-user-without-token",
    ] {
        let (status, body) = call(&app, Function::Admin, name).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("unauthorized")),
            "{name}"
        );
    }
    let (status, _) = call(&app, Function::Admin, "admin-wrong-route").await;
    assert_eq!(status, 404, "the admin function serves only its own routes");
    let (status, body) = call(&app, Function::Login, "login-access-key-unknown").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_credentials"))
    );
}

#[tokio::test]
async fn mail_flow_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    assert_eq!(call(&app, Function::Signup, "signup-created").await.0, 201);

    for name in ["verify-email-unknown-token", "verify-email-malformed-token"] {
        let (status, body) = call(&app, Function::VerifyEmail, name).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_token")),
            "{name}"
        );
    }
    let (status, _) = call(&app, Function::VerifyEmail, "verify-email-resend").await;
    assert_eq!(status, 202);

    let (known, known_body) = call(&app, Function::ResetRequest, "reset-request-known").await;
    let (unknown, unknown_body) = call(&app, Function::ResetRequest, "reset-request-unknown").await;
    assert_eq!((known, unknown), (202, 202));
    assert_eq!(known_body, unknown_body);

    let (status, body) = call(&app, Function::ResetConfirm, "reset-confirm-unknown-token").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_token"))
    );
    let (status, body) = call(
        &app,
        Function::ResetConfirm,
        "reset-confirm-missing-password",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["new_password"],
        serde_json::json!(["is required"])
    );

    let (status, body) = call(
        &app,
        Function::ChangePassword,
        "change-password-without-token",
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
}

/// An event with `STATE_FROM_AUTHORIZE` replaced, as API Gateway would hand over a callback.
fn event_with_state(name: &str, state: &str) -> Request {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let text = text.replace("STATE_FROM_AUTHORIZE", state);
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[tokio::test]
async fn oauth_callback_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;

    let (status, body) = call(
        &app,
        Function::OauthCallback,
        "oauth-callback-unknown-provider",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_provider"))
    );
    let (status, body) = call(
        &app,
        Function::OauthCallback,
        "oauth-callback-exchange-unknown-code",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_token"))
    );

    // Authorize: to GitHub, with the state cookie (lambda_http hands a `set-cookie` header to
    // API Gateway v2 as the response's `cookies`).
    let response = handle(
        &app,
        Function::OauthCallback,
        event("oauth-callback-authorize"),
    )
    .await;
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("https://github.example/login/oauth/authorize?"),
        "{location}"
    );
    assert!(
        location
            .contains("redirect_uri=https%3A%2F%2Fid.example.com%2Fv1%2Foauth%2Fgithub%2Fcallback")
    );
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("portcullis_oauth_state="), "{cookie}");
    let state = url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();

    // The callback's cookie arrives in the event's `cookies` array, next to another cookie: the
    // sign-in is found, and the denial goes back to its return_to.
    let response = handle(
        &app,
        Function::OauthCallback,
        event_with_state("oauth-callback-denied", &state),
    )
    .await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        "https://id.example.com/signed-in#error=access_denied"
    );
    // The same callback again: the sign-in is spent.
    let response = handle(
        &app,
        Function::OauthCallback,
        event_with_state("oauth-callback-denied", &state),
    )
    .await;
    assert_eq!(
        response.headers()["location"],
        "https://id.example.com/oauth/complete#error=invalid_state"
    );
    // A function serves only its own routes.
    let response = handle(&app, Function::Login, event("oauth-callback-authorize")).await;
    assert_eq!(response.status(), 404);
}

#[test]
fn every_fixture_is_used_by_a_test() {
    let this = include_str!("events.rs");
    let dir = format!("{}/../events", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let stem = name.trim_end_matches(".json");
        assert!(
            this.contains(&format!("\"{stem}\"")),
            "events/{name} is not exercised"
        );
    }
}
