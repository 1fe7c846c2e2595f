//! One Lambda function's router, called in process: an app built as a Lambda function builds it
//! (public URL `https://id.example.com`, SQLite in a temporary folder), and requests run through
//! the function's routes with every layer, as `lambda_http::run` runs them.

use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use lambda_http::http::{Request, Response};
use portcullis::clock::ManualClock;
use portcullis::config::{Config, Environment};
use portcullis::http::routes::Routes;
use portcullis::mail::Outbox;
use portcullis::{App, Deps};
use serde_json::Value;
use tower::ServiceExt as _;

/// The public URL of every function app.
pub const PUBLIC_URL: &str = "https://id.example.com";

/// An app as a Lambda function builds it, with GitHub sign-in configured, on SQLite in `dir`.
pub async fn app(dir: &Path) -> Arc<App> {
    let config = Config::from_vars(
        [
            (
                "PORTCULLIS_STORE",
                format!("sqlite://{}", dir.join("p.db").display()),
            ),
            ("PORTCULLIS_PUBLIC_URL", PUBLIC_URL.to_owned()),
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
        mailer: Arc::new(Outbox::new(dir.join("outbox"))),
        clock: Arc::new(ManualClock::starting_now()),
    };
    let url = config.urls.public_url.clone().expect("public url");
    Arc::new(App::new(config, &url, deps).await.expect("app"))
}

/// Runs `request` through the function's own router with every layer, and reads the whole body.
pub async fn call<B>(app: &Arc<App>, routes: Routes, request: Request<B>) -> Response<Bytes>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let response = portcullis::http::service(routes(app), app)
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    let (parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body)
        .await
        .expect("the body")
        .to_bytes();
    Response::from_parts(parts, bytes)
}

/// The body as JSON.
pub fn json(response: &Response<Bytes>) -> Value {
    serde_json::from_slice(response.body()).expect("JSON body")
}
