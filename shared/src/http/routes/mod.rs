//! One module per Lambda function, each building that function's `Router`. Adding a route means
//! one line in its function's module and the flow it calls.

pub mod admin;
pub mod change_password;
pub mod discovery;
pub mod login;
#[cfg(feature = "oauth")]
pub mod oauth_callback;
pub mod oidc;
pub mod openapi;
pub mod reset_confirm;
pub mod reset_request;
pub mod session;
pub mod signup;
#[cfg(feature = "ui")]
pub mod ui;
pub mod verify_email;

use axum::Router;

use super::AppState;

/// A function's routes, built over the app they serve.
pub type Routes = fn(&AppState) -> Router<AppState>;

/// Every function by the name its Lambda function and `functions/<name>` folder have.
pub const FUNCTIONS: &[(&str, Routes)] = &[
    ("signup", signup::routes),
    ("login", login::routes),
    ("verify-email", verify_email::routes),
    ("reset-request", reset_request::routes),
    ("reset-confirm", reset_confirm::routes),
    ("change-password", change_password::routes),
    ("session", session::routes),
    ("discovery", discovery::routes),
    ("admin", admin::routes),
    ("oidc", oidc::routes),
    #[cfg(feature = "oauth")]
    ("oauth-callback", oauth_callback::routes),
    #[cfg(feature = "ui")]
    ("ui", ui::routes),
];

/// Every function's routes in one router: what `portcullis serve` runs.
pub fn all(app: &AppState) -> Router<AppState> {
    FUNCTIONS.iter().fold(Router::new(), |router, (_, routes)| {
        router.merge(routes(app))
    })
}
