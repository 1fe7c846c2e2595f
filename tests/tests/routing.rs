//! The routers themselves: which function serves which route, what every response carries, and
//! how a body that is not a JSON object is refused, before any flow runs.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use lambda_http::http::{Request, Response};
use portcullis::App;
use portcullis::http::routes::{self, FUNCTIONS, Routes};
use portcullis_tests::function::{self, json};

fn request(method: &str, path: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .unwrap()
}

fn post(path: &str, content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut builder = Request::builder().method("POST").uri(path);
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    builder.body(body.into()).unwrap()
}

async fn app() -> (tempfile::TempDir, Arc<App>) {
    let dir = tempfile::tempdir().unwrap();
    let app = function::app(dir.path()).await;
    (dir, app)
}

/// Whether `routes` has a route for the method and path: anything but the router's own 404 and
/// 405 (a flow's 404 has another code, or comes with a known path).
async fn serves(app: &Arc<App>, routes: Routes, method: &str, path: &str) -> bool {
    let response = function::call(app, routes, request(method, path)).await;
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap_or_default();
    let code = body["code"].as_str().unwrap_or("");
    !(response.status() == 404 && code == "not_found" || response.status() == 405)
}

/// Every route of the contract, with the function that serves it.
const CONTRACT: &[(&str, &str, &str)] = &[
    ("POST", "/v1/signup", "signup"),
    ("GET", "/v1/username-suggestion", "signup"),
    ("POST", "/v1/login", "login"),
    ("POST", "/v1/login/access-key", "login"),
    ("POST", "/v1/verify-email", "verify-email"),
    ("POST", "/v1/verify-email/resend", "verify-email"),
    ("POST", "/v1/password/reset-request", "reset-request"),
    ("POST", "/v1/password/reset-confirm", "reset-confirm"),
    ("POST", "/v1/password/change", "change-password"),
    ("GET", "/v1/me", "session"),
    ("POST", "/v1/token/refresh", "session"),
    ("POST", "/v1/logout", "session"),
    ("GET", "/v1/sessions", "session"),
    ("DELETE", "/v1/sessions/some-id", "session"),
    ("GET", "/v1/config", "discovery"),
    ("GET", "/v1/health", "discovery"),
    ("GET", "/.well-known/openid-configuration", "discovery"),
    ("GET", "/.well-known/jwks.json", "discovery"),
    ("POST", "/v1/access-keys", "admin"),
    ("GET", "/v1/access-keys", "admin"),
    ("DELETE", "/v1/access-keys/some-id", "admin"),
    ("GET", "/v1/admin/users", "admin"),
    ("GET", "/v1/admin/users/some-id", "admin"),
    ("PATCH", "/v1/admin/users/some-id", "admin"),
    ("DELETE", "/v1/admin/users/some-id", "admin"),
    ("POST", "/v1/admin/users/some-id/approve", "admin"),
    ("POST", "/v1/admin/users/some-id/unlock", "admin"),
    ("POST", "/v1/admin/invitations", "admin"),
    ("GET", "/v1/admin/invitations", "admin"),
    ("DELETE", "/v1/admin/invitations/some-id", "admin"),
    ("GET", "/v1/admin/audit", "admin"),
    ("POST", "/v1/admin/clients", "admin"),
    ("GET", "/v1/admin/clients", "admin"),
    ("GET", "/v1/admin/clients/some-id", "admin"),
    ("PATCH", "/v1/admin/clients/some-id", "admin"),
    ("DELETE", "/v1/admin/clients/some-id", "admin"),
    ("POST", "/oauth2/token", "oidc"),
    ("GET", "/oauth2/userinfo", "oidc"),
    ("POST", "/oauth2/userinfo", "oidc"),
    ("POST", "/oauth2/revoke", "oidc"),
    ("GET", "/oauth2/authorize", "ui"),
    ("POST", "/oauth2/authorize", "ui"),
    ("GET", "/oauth2/logout", "ui"),
    ("POST", "/oauth2/logout", "ui"),
    ("POST", "/oauth2/logout/confirm", "ui"),
    ("GET", "/v1/oauth/github/authorize", "oauth-callback"),
    ("GET", "/v1/oauth/github/callback", "oauth-callback"),
    ("POST", "/v1/oauth/exchange", "oauth-callback"),
    ("GET", "/", "ui"),
    ("GET", "/login", "ui"),
    ("POST", "/login", "ui"),
    ("GET", "/login/access-key", "ui"),
    ("GET", "/signup", "ui"),
    ("GET", "/verify-email", "ui"),
    ("GET", "/forgot-password", "ui"),
    ("GET", "/reset-password", "ui"),
    ("GET", "/oauth/complete", "ui"),
    ("GET", "/account", "ui"),
    ("POST", "/logout", "ui"),
];

#[tokio::test]
async fn every_route_is_served_by_its_function_and_no_other() {
    let (_dir, app) = app().await;
    for (method, path, owner) in CONTRACT {
        for (name, routes) in FUNCTIONS {
            assert_eq!(
                serves(&app, *routes, method, path).await,
                name == owner,
                "{method} {path} in the {name} function"
            );
        }
        assert!(
            serves(&app, routes::all, method, path).await,
            "{method} {path} locally"
        );
    }
    let folders = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../functions"))
        .unwrap()
        .count();
    assert_eq!(
        FUNCTIONS.len(),
        folders,
        "one router per function in functions/"
    );
}

#[tokio::test]
async fn routes_belong_to_their_function() {
    let (_dir, app) = app().await;
    assert!(serves(&app, routes::login::routes, "POST", "/v1/login").await);
    // A trailing slash names the same route.
    assert!(serves(&app, routes::all, "POST", "/v1/login/").await);
    assert!(!serves(&app, routes::signup::routes, "POST", "/v1/login").await);

    let response = function::call(&app, routes::all, request("GET", "/v1/login")).await;
    assert_eq!(response.status(), 405);
    assert_eq!(json(&response)["code"], "method_not_allowed");
    let response = function::call(&app, routes::all, request("GET", "/v1/nope")).await;
    assert_eq!(response.status(), 404);
    assert_eq!(json(&response)["code"], "not_found");

    assert!(
        serves(
            &app,
            routes::oauth_callback::routes,
            "GET",
            "/v1/oauth/github/callback"
        )
        .await
    );
    for path in [
        "/v1/oauth//callback",
        "/v1/oauth/github/callback/x",
        "/v1/oauth/callback",
        "/v1/sessions/a/b",
    ] {
        let response = function::call(&app, routes::all, request("GET", path)).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(json(&response)["code"], "not_found", "{path}");
    }
}

async fn signup(app: &Arc<App>, request: Request<Body>) -> Response<Bytes> {
    function::call(app, routes::signup::routes, request).await
}

#[tokio::test]
async fn bodies_must_be_one_json_object_of_at_most_16_kib() {
    let (_dir, app) = app().await;
    for (content_type, body) in [(Some("text/plain"), "{}"), (None, "{}")] {
        let response = signup(&app, post("/v1/signup", content_type, body)).await;
        assert_eq!(response.status(), 415, "{content_type:?}");
        assert_eq!(json(&response)["code"], "unsupported_media_type");
    }
    for body in ["[1]", "{", ""] {
        let response = signup(&app, post("/v1/signup", Some("application/json"), body)).await;
        assert_eq!(response.status(), 400, "{body:?}");
        assert!(json(&response)["errors"]["body"].is_array(), "{body:?}");
    }
    // A charset is fine: the fields are read, and the missing ones named.
    let response = signup(
        &app,
        post("/v1/signup", Some("application/json; charset=utf-8"), "{}"),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(json(&response)["errors"]["email"].is_array());

    let big = format!(
        r#"{{"a":"{}"}}"#,
        "x".repeat(portcullis::http::MAX_BODY_BYTES)
    );
    let response = signup(
        &app,
        post("/v1/signup", Some("application/json"), big.clone()),
    )
    .await;
    assert_eq!(response.status(), 413);
    assert_eq!(json(&response)["code"], "payload_too_large");
    // Also when no length is declared up front (a chunked body).
    let chunks = futures_stream(big.into_bytes());
    let response = signup(&app, post("/v1/signup", Some("application/json"), chunks)).await;
    assert_eq!(response.status(), 413);
    assert_eq!(json(&response)["code"], "payload_too_large");
}

/// A body in 1 KiB chunks, with no length known before it is read.
fn futures_stream(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Body::from_stream(futures_util::stream::iter(chunks))
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_the_servers_request_id() {
    let (_dir, app) = app().await;
    let mut spoofed = request("GET", "/v1/health");
    spoofed
        .headers_mut()
        .insert("x-request-id", "client-chosen".parse().unwrap());
    for request in [spoofed, request("GET", "/v1/nope")] {
        let response = function::call(&app, routes::all, request).await;
        let header = |name| response.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "no-referrer");
        // The public URL is https, so browsers are told to stay on it.
        assert!(header("strict-transport-security").starts_with("max-age="));
        let id = header("x-request-id");
        assert_ne!(id, "client-chosen");
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        if response.status() == 404 {
            assert_eq!(json(&response)["request_id"], id);
        }
    }
}

#[tokio::test]
async fn the_local_server_answers_cors_as_api_gateway_does() {
    let (_dir, app) = app().await;
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/v1/login")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let local = portcullis::http::local_service(routes::all(&app), &app);
    let answer = tower::ServiceExt::oneshot(local.clone(), preflight(function::PUBLIC_URL))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        function::PUBLIC_URL
    );
    let methods = answer.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");

    let answer = tower::ServiceExt::oneshot(local, preflight("https://evil.example"))
        .await
        .unwrap();
    // Another origin is never echoed back: the browser sees only the allowed one.
    assert_eq!(
        answer.headers().get("access-control-allow-origin"),
        Some(&function::PUBLIC_URL.parse().unwrap())
    );
}

#[tokio::test]
async fn the_local_server_drops_a_client_that_never_finishes_its_headers() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let (_dir, app) = app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(portcullis_cli::serve::serve_routes(
        routes::all(&app),
        app,
        listener,
        async {
            let _ = stopped.await;
        },
        std::time::Duration::from_millis(200),
    ));

    // A whole request is answered on the same server.
    let mut whole = tokio::net::TcpStream::connect(addr).await.unwrap();
    whole
        .write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    whole.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Half a request: the server closes the connection instead of waiting for the rest.
    let mut half = tokio::net::TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        half.read_to_end(&mut rest),
    )
    .await;
    assert!(
        matches!(closed, Ok(Ok(_)) | Ok(Err(_))),
        "the connection is still open"
    );
    let rest = String::from_utf8_lossy(&rest);
    assert!(
        rest.is_empty() || rest.starts_with("HTTP/1.1 408"),
        "{rest}"
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
