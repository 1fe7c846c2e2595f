//! What a person does, one module per flow, each reading top to bottom over the `App`: sign up,
//! log in, verify, reset, sessions, access keys, administration, provider sign-in. A flow never
//! imports the HTTP layer; the routes call flows.

pub mod access_keys;
pub mod admin;
pub mod clients;
pub mod discovery;
pub mod exports;
pub mod grant;
pub mod imports;
pub mod invitations;
pub mod keys;
pub mod links;
pub mod login;
pub mod me;
#[cfg(feature = "oauth")]
pub mod oauth;
pub mod oidc;
pub mod password_change;
pub mod password_reset;
pub mod seed;
pub mod sessions;
pub mod signup;
pub mod superuser;
pub mod verification;
