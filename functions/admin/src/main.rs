//! The admin function: the admin API and access keys of Portcullis, on the Lambda runtime.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> Result<(), portcullis::lambda::BoxError> {
    portcullis::lambda::run(portcullis::http::routes::admin::routes).await
}
