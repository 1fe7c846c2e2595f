//! What every Lambda function's `main` does: set up logging, read `Config` once, open the store,
//! load the signing keys, then run that function's own router.

use std::sync::Arc;

use crate::app::{App, Deps};
use crate::config::{Config, Environment};
use crate::http::routes::Routes;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Builds the function's dependencies during the Lambda init phase, so the first request does not
/// pay for them.
pub async fn init() -> Result<App, BoxError> {
    let config = Config::from_env(Environment::Lambda)?;
    crate::telemetry::init(&config.log.filter);
    let public_url = config
        .urls
        .public_url
        .clone()
        .ok_or("PORTCULLIS_PUBLIC_URL: must be set in Lambda")?;
    // Opening the store reads the signing keys: that also opens the connection (and its TLS
    // session) during init, so the first request does not pay for it.
    let deps = Deps::from_config(&config).await?;
    Ok(App::new(config, &public_url, deps).await?)
}

/// Runs one function's `routes` on the Lambda runtime until the instance is shut down:
/// `lambda::run(http::routes::login::routes)`.
pub async fn run(routes: Routes) -> Result<(), BoxError> {
    let app = Arc::new(
        init()
            .await
            .inspect_err(|e| eprintln!("start-up failed: {e}"))?,
    );
    lambda_http::run(crate::http::service(routes(&app), &app)).await
}
