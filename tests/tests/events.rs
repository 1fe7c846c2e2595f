//! Each function's handler called directly with the API Gateway (HTTP API, payload 2.0) events in
//! `events/`, exactly as the Lambda runtime would hand them over.

use std::sync::Arc;

use axum::body::Bytes;
use lambda_http::Request;
use lambda_http::http::Response;
use portcullis::App;
use portcullis::http::routes::{self, Routes};
use portcullis_tests::function::{self, json};
use serde_json::Value;

fn event(name: &str) -> Request {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

async fn app(dir: &tempfile::TempDir) -> Arc<App> {
    function::app(dir.path()).await
}

async fn handle(app: &Arc<App>, routes: Routes, request: Request) -> Response<Bytes> {
    function::call(app, routes, request).await
}

async fn call(app: &Arc<App>, function: Routes, name: &str) -> (u16, Value) {
    let response = handle(app, function, event(name)).await;
    (response.status().as_u16(), json(&response))
}

#[tokio::test]
async fn signup_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;

    let response = handle(&app, routes::signup::routes, event("signup-created")).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-request-id"], "signup-created-1");
    let body = json(&response);
    assert_eq!(body["email"], "Ada.Lovelace@example.com");
    assert_eq!(body["username"], "ada.lovelace");
    assert_eq!(body["status"], "active");

    let (status, body) = call(&app, routes::signup::routes, "signup-base64-body").await;
    assert_eq!((status, body["username"].as_str()), (201, Some("grace_h")));

    let (status, body) = call(&app, routes::signup::routes, "signup-weak-password").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("weak_password"))
    );
    assert_eq!(
        body["errors"]["password"],
        serde_json::json!(["is too common"])
    );

    let (status, body) = call(&app, routes::signup::routes, "signup-invalid-json").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request"))
    );
    assert!(body["errors"]["body"].is_array());

    let (status, body) = call(&app, routes::signup::routes, "signup-missing-fields").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["password"],
        serde_json::json!(["is required"])
    );
    assert_eq!(
        body["errors"]["accept_terms"],
        serde_json::json!(["is required"])
    );

    let (status, body) = call(&app, routes::signup::routes, "signup-terms-not-accepted").await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["accept_terms"],
        serde_json::json!(["must be accepted"])
    );

    let (status, body) = call(&app, routes::signup::routes, "signup-username-suggestion").await;
    assert_eq!(
        (status, body["username"].as_str()),
        (200, Some("ada.lovelace1"))
    );
}

#[tokio::test]
async fn login_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    assert_eq!(
        call(&app, routes::signup::routes, "signup-created").await.0,
        201
    );

    let response = handle(&app, routes::login::routes, event("login-success")).await;
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
        call(&app, routes::login::routes, "login-by-username")
            .await
            .0,
        200
    );

    let (status, wrong) = call(&app, routes::login::routes, "login-wrong-password").await;
    let (_, unknown) = call(&app, routes::login::routes, "login-unknown-user").await;
    assert_eq!(status, 401);
    assert_eq!(wrong["code"], "invalid_credentials");
    assert_eq!(wrong["detail"], unknown["detail"]);

    // A function serves only its own routes.
    let (status, body) = call(&app, routes::login::routes, "login-wrong-route").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn discovery_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let (status, body) = call(&app, routes::discovery::routes, "discovery-health").await;
    assert_eq!((status, body), (200, serde_json::json!({"status": "ok"})));
    let (status, body) = call(&app, routes::discovery::routes, "discovery-openapi").await;
    assert_eq!((status, body["openapi"].as_str()), (200, Some("3.1.0")));
    let (status, body) = call(&app, routes::discovery::routes, "discovery-config").await;
    assert_eq!((status, body["signup_mode"].as_str()), (200, Some("open")));
    let (status, body) = call(
        &app,
        routes::discovery::routes,
        "discovery-openid-configuration",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["issuer"], "https://id.example.com");
    assert_eq!(
        body["jwks_uri"],
        "https://id.example.com/.well-known/jwks.json"
    );
    assert_eq!(
        body["authorization_endpoint"],
        "https://id.example.com/oauth2/authorize"
    );
    assert_eq!(
        body["token_endpoint"],
        "https://id.example.com/oauth2/token"
    );
    let (status, body) = call(&app, routes::discovery::routes, "discovery-jwks").await;
    assert_eq!(status, 200);
    assert_eq!(body["keys"][0]["kid"], app.keys().signing_kid());
}

#[tokio::test]
async fn oidc_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let response = handle(
        &app,
        routes::oidc::routes,
        event("oidc-token-unknown-client"),
    )
    .await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"portcullis\""
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(json(&response)["error"], "invalid_client");
    let response = handle(
        &app,
        routes::oidc::routes,
        event("oidc-userinfo-without-token"),
    )
    .await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn session_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    for name in ["session-me-without-token", "session-me-bad-token"] {
        let (status, body) = call(&app, routes::session::routes, name).await;
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
        let (status, body) = call(&app, routes::admin::routes, name).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("unauthorized")),
            "{name}"
        );
    }
    let (status, _) = call(&app, routes::admin::routes, "admin-wrong-route").await;
    assert_eq!(status, 404, "the admin function serves only its own routes");
    let (status, body) = call(&app, routes::login::routes, "login-access-key-unknown").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_credentials"))
    );
}

#[tokio::test]
async fn mail_flow_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    assert_eq!(
        call(&app, routes::signup::routes, "signup-created").await.0,
        201
    );

    for name in ["verify-email-unknown-token", "verify-email-malformed-token"] {
        let (status, body) = call(&app, routes::verify_email::routes, name).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_token")),
            "{name}"
        );
    }
    let (status, _) = call(&app, routes::verify_email::routes, "verify-email-resend").await;
    assert_eq!(status, 202);

    let (known, known_body) =
        call(&app, routes::reset_request::routes, "reset-request-known").await;
    let (unknown, unknown_body) =
        call(&app, routes::reset_request::routes, "reset-request-unknown").await;
    assert_eq!((known, unknown), (202, 202));
    assert_eq!(known_body, unknown_body);

    let (status, body) = call(
        &app,
        routes::reset_confirm::routes,
        "reset-confirm-unknown-token",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_token"))
    );
    let (status, body) = call(
        &app,
        routes::reset_confirm::routes,
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
        routes::change_password::routes,
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
        routes::oauth_callback::routes,
        "oauth-callback-unknown-provider",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_provider"))
    );
    let (status, body) = call(
        &app,
        routes::oauth_callback::routes,
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
        routes::oauth_callback::routes,
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
        routes::oauth_callback::routes,
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
        routes::oauth_callback::routes,
        event_with_state("oauth-callback-denied", &state),
    )
    .await;
    assert_eq!(
        response.headers()["location"],
        "https://id.example.com/oauth/complete#error=invalid_state"
    );
    // A function serves only its own routes.
    let response = handle(
        &app,
        routes::login::routes,
        event("oauth-callback-authorize"),
    )
    .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn ui_events() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let response = handle(&app, routes::ui::routes, event("ui-login-page")).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    // `?lang=ko` wins over Accept-Language, and is remembered; over https cookies are Secure.
    let page = String::from_utf8(response.body().to_vec()).unwrap();
    assert!(page.contains("<html lang=\"ko\">"), "{page}");
    let cookies: Vec<&str> = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("pc_lang=ko")),
        "{cookies:?}"
    );
    assert!(
        cookies
            .iter()
            .all(|c| c.contains("Secure") && c.contains("HttpOnly"))
    );
    assert_eq!(headers["x-request-id"], "U1login0000=");
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
