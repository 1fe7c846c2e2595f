//! The oidc function: the OpenID provider's token, UserInfo and revocation endpoints, on the
//! Lambda runtime.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> Result<(), portcullis::lambda::BoxError> {
    portcullis::lambda::run(portcullis::http::routes::oidc::routes).await
}
