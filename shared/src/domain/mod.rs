//! The bottom layer: what an account, a session, a token or an invitation is, and the rules about
//! them, with the current time passed in. Nothing here reads configuration, touches the store or
//! knows about HTTP.

pub mod access_key;
pub mod audit;
pub mod caller;
pub mod clock;
pub mod email;
pub mod error;
pub mod hash_caps;
pub mod identity;
pub mod invitation;
pub mod json_body;
pub mod jwt_crypto;
pub mod lockout;
pub mod one_time_token;
pub mod openid;
pub mod password_policy;
pub mod rate_limit;
pub mod roles;
pub mod secret;
pub mod session;
pub mod tokens;
pub mod user;
pub mod username;
