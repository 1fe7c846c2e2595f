//! Portcullis: account access as small Lambda functions over one common crate.
//!
//! Domain rules live in modules named for them (`signup`, `login`, `lockout`, `password_policy`,
//! ...); `store` keeps accounts; `http` maps requests to flows and errors to problem+json.
#![forbid(unsafe_code)]

pub mod access_keys;
pub mod admin;
pub mod app;
pub mod audit;
pub mod clock;
pub mod config;
pub mod discovery;
pub mod email;
pub mod error;
pub mod grant;
pub mod http;
pub mod invitations;
pub mod keys;
pub mod lambda;
pub mod lockout;
pub mod login;
pub mod mail;
pub mod me;
pub mod notices;
pub mod oauth;
pub mod one_time_token;
pub mod password;
pub mod password_change;
pub mod password_policy;
pub mod password_reset;
pub mod rate_limit;
pub mod roles;
pub mod secret;
pub mod session;
pub mod sessions;
pub mod signup;
pub mod store;
pub mod superuser;
pub mod telemetry;
pub mod tokens;
pub mod user;
pub mod username;
pub mod verification;

pub use app::{App, Authenticated, Deps};
pub use config::Config;
pub use error::{Error, Result};
pub use http::{Function, handle};
