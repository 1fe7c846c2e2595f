//! Portcullis: account access as small Lambda functions over one common crate.
//!
//! Layers, each using only the ones before it:
//! 1. `domain`: accounts, sessions, tokens, lockout, password policy, errors; no I/O.
//! 2. `config`: the `PORTCULLIS_*` settings, by group.
//! 3. `store` (SQLite, DynamoDB), `mail` (outbox, SES), `password` (argon2id).
//! 4. `app`: everything a request needs, built once per process.
//! 5. `flows`: what a person does (signup, login, reset, ...).
//! 6. `http`: one axum router per Lambda function, and the layers every response gets.
//! 7. `lambda` (and the `portcullis` CLI): run a function's router, or all of them.
//!
//! The domain and flow modules are also reachable from the crate root (`portcullis::clock`,
//! `portcullis::signup`).
#![forbid(unsafe_code)]

pub mod app;
#[cfg(any(feature = "dynamodb", feature = "ses"))]
pub mod aws;
pub mod config;
pub mod domain;
pub mod flows;
pub mod http;
pub mod lambda;
pub mod mail;
pub mod notices;
pub mod password;
pub mod store;
pub mod telemetry;

pub use app::{App, Authenticated, Deps};
pub use config::Config;
pub use domain::error::{Error, Result};
pub use domain::{
    access_key, audit, caller, clock, email, error, hash_caps, identity, invitation, json_body,
    jwt_crypto, lockout, one_time_token, openid, password_policy, rate_limit, roles, secret,
    session, tokens, user, username,
};
#[cfg(feature = "oauth")]
pub use flows::oauth;
pub use flows::{
    access_keys, admin, clients, discovery, exports, grant, imports, invitations, keys, links,
    login, me, password_change, password_reset, seed, sessions, signup, superuser, verification,
};
