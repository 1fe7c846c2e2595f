//! The oauth-callback function: sign in with Google and GitHub (authorize, callback, exchange),
//! on the Lambda runtime.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> Result<(), portcullis::lambda::BoxError> {
    portcullis::lambda::run(portcullis::http::routes::oauth_callback::routes).await
}
