//! The OpenAPI 3.1 document of the `/v1` API and discovery, from the `#[utoipa::path]`
//! annotation on each handler and the body schemas below.
//!
//! Handlers read their bodies field by field (`JsonBody`), so the request schemas here say what
//! the handlers read; the response schemas say what the flows write. Both are checked against
//! the running server: `tests/schemathesis` sends generated requests and validates every answer
//! against this document, and `tests/tests/openapi.rs` compares its operations with the route
//! table of docs/api.md. `portcullis openapi` prints it; docs/openapi.json is that output, which
//! the discovery function serves at `/v1/openapi.json`.

#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    let document = Api::openapi();
    #[cfg(feature = "oauth")]
    let document = {
        let mut document = document;
        document.merge(SignIns::openapi());
        document
    };
    document
}

/// The document as served: pretty JSON with a trailing newline.
pub fn json() -> String {
    let mut text = document()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portcullis",
        description = "Account access: signup, login, sessions, access keys, administration. \
                       Errors are RFC 9457 problem+json with a stable `code` (docs/api.md).",
        license(name = "Apache-2.0"),
    ),
    paths(
        super::signup::sign_up,
        super::signup::username_suggestion,
        super::verify_email::verify,
        super::verify_email::resend,
        super::login::log_in,
        super::login::log_in_with_access_key,
        super::reset_request::request_reset,
        super::reset_confirm::confirm_reset,
        super::change_password::change_password,
        super::session::refresh,
        super::session::log_out,
        super::session::who_am_i,
        super::session::list_sessions,
        super::session::end_session,
        super::admin::create_key,
        super::admin::list_keys,
        super::admin::delete_key,
        super::admin::list_users,
        super::admin::import_users,
        super::admin::get_user,
        super::admin::update_user,
        super::admin::delete_user,
        super::admin::approve,
        super::admin::unlock,
        super::admin::create_invitation,
        super::admin::list_invitations,
        super::admin::delete_invitation,
        super::admin::audit,
        super::admin::create_client,
        super::admin::list_clients,
        super::admin::get_client,
        super::admin::update_client,
        super::admin::delete_client,
        super::discovery::client_config,
        super::discovery::health,
        super::discovery::openapi,
        super::discovery::openid_configuration,
        super::discovery::jwks,
    ),
    modifiers(&Bearer),
)]
struct Api;

#[cfg(feature = "oauth")]
#[derive(OpenApi)]
#[openapi(paths(
    super::oauth_callback::authorize,
    super::oauth_callback::callback,
    super::oauth_callback::exchange,
))]
struct SignIns;

/// `Authorization: Bearer <access token>`.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// What any route may also answer, as problem+json.
#[derive(utoipa::IntoResponses)]
#[response(
    status = "default",
    description = "Any other refusal: 400 for a body that is not JSON, 405, 413 for a body over \
                   16 KiB, 415 for one that is not application/json, 429 when rate limited and \
                   503 when unavailable (both with Retry-After)",
    content_type = "application/problem+json"
)]
pub struct Refusals(Problem);

/// An error (RFC 9457), as every route answers one.
#[derive(ToSchema)]
pub struct Problem {
    /// `urn:portcullis:problem:<code>`.
    #[schema(rename = "type")]
    type_: String,
    title: String,
    status: u16,
    /// Stable: what clients branch on.
    code: String,
    detail: Option<String>,
    request_id: String,
    /// For `invalid_request` and `weak_password`: the messages of each field at fault.
    errors: Option<BTreeMap<String, Vec<String>>>,
}

/// The token response of every sign-in (docs/api.md, section 4).
#[derive(ToSchema)]
pub struct Tokens {
    access_token: String,
    /// Always `Bearer`.
    token_type: String,
    /// Seconds.
    expires_in: u64,
    refresh_token: String,
    user: TokenUser,
    /// After a password login: the client's device token (docs/api.md, section 6).
    device_token: Option<String>,
}

#[derive(ToSchema)]
pub struct TokenUser {
    user_id: String,
    username: String,
    email: String,
}

#[derive(ToSchema)]
pub struct Signup {
    email: String,
    password: String,
    accept_terms: bool,
    username: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    invitation_token: Option<String>,
}

#[derive(ToSchema)]
pub struct SignedUp {
    user_id: String,
    username: String,
    email: String,
    /// `pending_verification`, `pending_approval` or `active`.
    status: String,
}

#[derive(ToSchema)]
pub struct UsernameSuggestion {
    username: String,
}

#[derive(ToSchema)]
pub struct TokenBody {
    token: String,
}

#[derive(ToSchema)]
pub struct EmailBody {
    email: String,
}

#[derive(ToSchema)]
pub struct Status {
    status: String,
}

#[derive(ToSchema)]
pub struct Empty {}

#[derive(ToSchema)]
pub struct Login {
    /// An email or a username.
    identifier: String,
    password: String,
    device_token: Option<String>,
}

#[derive(ToSchema)]
pub struct KeyLogin {
    access_key: String,
    secret_key: String,
}

#[derive(ToSchema)]
pub struct ResetConfirm {
    token: String,
    new_password: String,
}

#[derive(ToSchema)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
    device_token: Option<String>,
}

#[derive(ToSchema)]
pub struct Refresh {
    refresh_token: String,
}

/// With a Bearer token: `scope` (`local`, the default, or `global`). Without one:
/// `refresh_token`.
#[derive(ToSchema)]
pub struct Logout {
    scope: Option<String>,
    refresh_token: Option<String>,
}

/// An account, as `GET /v1/me` and the admin routes show it.
#[derive(ToSchema)]
pub struct User {
    user_id: String,
    email: String,
    username: String,
    first_name: String,
    last_name: String,
    email_verified: bool,
    status: String,
    roles: Vec<String>,
    created_at: String,
}

#[derive(ToSchema)]
pub struct Sessions {
    sessions: Vec<Session>,
}

#[derive(ToSchema)]
pub struct Session {
    session_id: String,
    created_at: String,
    last_used_at: String,
    ip: Option<String>,
    user_agent: Option<String>,
    current: bool,
    client_id: Option<String>,
    client_name: Option<String>,
}

#[derive(ToSchema)]
pub struct NewKey {
    current_password: Option<String>,
    device_token: Option<String>,
    /// Seconds, 60 to 3,153,600,000.
    expires_in: Option<u64>,
}

#[derive(ToSchema)]
pub struct CreatedKey {
    access_key: String,
    /// Shown once.
    secret_key: String,
    created_at: String,
    expires_at: Option<String>,
}

#[derive(ToSchema)]
pub struct Keys {
    access_keys: Vec<Key>,
}

#[derive(ToSchema)]
pub struct Key {
    access_key: String,
    created_at: String,
    last_used_at: Option<String>,
    expires_at: Option<String>,
}

#[derive(ToSchema)]
pub struct Users {
    users: Vec<User>,
    next_cursor: Option<String>,
}

#[derive(ToSchema)]
pub struct UserUpdate {
    /// `active` or `disabled`.
    status: Option<String>,
    roles: Option<Vec<String>>,
    email_verified: Option<bool>,
}

#[derive(ToSchema)]
pub struct NewInvitation {
    email: Option<String>,
    roles: Option<Vec<String>>,
    /// Seconds, 60 to 7,776,000.
    expires_in: Option<u64>,
}

#[derive(ToSchema)]
pub struct CreatedInvitation {
    invitation_id: String,
    /// Shown once.
    token: String,
    expires_at: String,
}

#[derive(ToSchema)]
pub struct Invitations {
    invitations: Vec<Invitation>,
}

#[derive(ToSchema)]
pub struct Invitation {
    invitation_id: String,
    email: Option<String>,
    roles: Vec<String>,
    /// `pending`, `used` or `expired`.
    status: String,
    created_by: String,
    created_at: String,
    expires_at: String,
    used_at: Option<String>,
    used_by: Option<String>,
}

#[derive(ToSchema)]
pub struct Events {
    events: Vec<Event>,
    next_cursor: Option<String>,
}

#[derive(ToSchema)]
pub struct Event {
    at: String,
    #[schema(rename = "type")]
    type_: String,
    user_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: BTreeMap<String, serde_json::Value>,
}

/// `data` is the file: Portcullis' JSONL (`portcullis users export`), a Django `dumpdata` JSON
/// array, or Backend.AI's `users` table as CSV with a header (`keypairs`: its `keypairs` table).
#[derive(ToSchema)]
pub struct ImportRequest {
    /// `jsonl`, `django` or `backendai`.
    format: String,
    data: String,
    keypairs: Option<String>,
    /// Check and report, writing nothing.
    dry_run: Option<bool>,
    /// Stop once more records than this have failed (default 100).
    max_errors: Option<u64>,
}

#[derive(ToSchema)]
pub struct ImportReport {
    dry_run: bool,
    records: u64,
    created: u64,
    /// Records whose address has an account already: left as they are.
    existing: u64,
    errors: Vec<ImportProblem>,
    stopped: bool,
}

#[derive(ToSchema)]
pub struct ImportProblem {
    /// `line 12`, or `record 3 (auth.user 7)`.
    at: String,
    reason: String,
}

#[derive(ToSchema)]
pub struct NewClient {
    name: String,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
    public: Option<bool>,
}

#[derive(ToSchema)]
pub struct ClientUpdate {
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
}

/// An app of the OpenID provider. `client_secret` only in the answer to its creation.
#[derive(ToSchema)]
pub struct Client {
    client_id: String,
    name: String,
    /// `confidential` or `public`.
    #[schema(rename = "type")]
    type_: String,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    scopes: Vec<String>,
    created_at: String,
    updated_at: String,
    client_secret: Option<String>,
}

#[derive(ToSchema)]
pub struct Clients {
    clients: Vec<Client>,
}

#[derive(ToSchema)]
pub struct ClientConfig {
    signup_mode: String,
    email_verification: String,
    login_identifiers: Vec<String>,
    password_reset_enabled: bool,
    password_policy: PasswordPolicy,
    oauth_providers: Vec<String>,
}

#[derive(ToSchema)]
pub struct PasswordPolicy {
    min_length: u32,
    max_length: u32,
    require_letter: bool,
    require_digit: bool,
    require_special: bool,
}

#[derive(ToSchema)]
pub struct Exchange {
    code: String,
    code_verifier: String,
}
