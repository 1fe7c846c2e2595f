//! The ui function: the hosted pages (login, signup, email verification, password reset,
//! provider sign-in's last step, the account page), on the Lambda runtime.
#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> Result<(), portcullis::lambda::BoxError> {
    portcullis::lambda::run(portcullis::http::routes::ui::routes).await
}
