//! The reset-request function: its routes of the Portcullis API, on the Lambda runtime.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> Result<(), portcullis::lambda::BoxError> {
    portcullis::lambda::run(portcullis::http::routes::reset_request::routes).await
}
