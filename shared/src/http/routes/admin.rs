//! The admin function: the account's own access keys, and the administration API (users,
//! invitations, audit) for active admins.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::admin;
use crate::app::Authenticated;
use crate::caller::Caller;
use crate::error::{Error, FieldErrors};
use crate::http::extract::{Id, MAX_ID_LENGTH, bearer, json_bytes};
use crate::http::{Admin, AppState, Query, Result, json, no_content};
use crate::json_body::JsonBody;
use crate::store::{EventQuery, UserQuery};
use crate::user::UserStatus;
use crate::{access_keys, clients, invitations};

pub fn routes(_: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/access-keys", post(create_key).get(list_keys))
        .route("/v1/access-keys/{id}", axum::routing::delete(delete_key))
        .route("/v1/admin/users", get(list_users))
        .route(
            crate::http::IMPORT_PATH,
            post(import_users).layer(axum::extract::DefaultBodyLimit::max(
                crate::http::MAX_IMPORT_BYTES,
            )),
        )
        .route(
            "/v1/admin/users/{id}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .route("/v1/admin/users/{id}/approve", post(approve))
        .route("/v1/admin/users/{id}/unlock", post(unlock))
        .route(
            "/v1/admin/invitations",
            post(create_invitation).get(list_invitations),
        )
        .route(
            "/v1/admin/invitations/{id}",
            axum::routing::delete(delete_invitation),
        )
        .route("/v1/admin/audit", get(audit))
        .route("/v1/admin/clients", post(create_client).get(list_clients))
        .route(
            "/v1/admin/clients/{id}",
            get(get_client).patch(update_client).delete(delete_client),
        )
}

#[utoipa::path(
    post,
    path = "/v1/admin/clients",
    tag = "admin",
    summary = "Register an app with the OpenID provider",
    request_body = super::openapi::NewClient,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The app, with its secret (shown once) when confidential", body = super::openapi::Client),
        (status = 400, description = "`invalid_request`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn create_client(
    State(app): State<AppState>,
    caller: Caller,
    Admin(who): Admin,
    body: JsonBody,
) -> Result {
    let fields = clients::parse_fields(body, true)?;
    let created = clients::create(&app, &caller, Some(&who.user), fields).await?;
    json(StatusCode::CREATED, &created)
}

#[utoipa::path(
    get,
    path = "/v1/admin/clients",
    tag = "admin",
    summary = "Every app",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Oldest first", body = super::openapi::Clients),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn list_clients(State(app): State<AppState>, _: Admin) -> Result {
    let list = clients::list(&app).await?;
    json(StatusCode::OK, &serde_json::json!({ "clients": list }))
}

#[utoipa::path(
    get,
    path = "/v1/admin/clients/{id}",
    tag = "admin",
    summary = "One app",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The app", body = super::openapi::Client),
        (status = 400, description = "`invalid_request`: a malformed id", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 404, description = "`not_found`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn get_client(State(app): State<AppState>, _: Admin, Id(id): Id) -> Result {
    json(StatusCode::OK, &clients::get(&app, &id).await?)
}

#[utoipa::path(
    patch,
    path = "/v1/admin/clients/{id}",
    tag = "admin",
    summary = "Change an app",
    request_body = super::openapi::ClientUpdate,
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The app after the change", body = super::openapi::Client),
        (status = 400, description = "`invalid_request`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 404, description = "`not_found`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn update_client(
    State(app): State<AppState>,
    caller: Caller,
    Admin(who): Admin,
    Id(id): Id,
    body: JsonBody,
) -> Result {
    let fields = clients::parse_fields(body, false)?;
    let updated = clients::update(&app, &caller, &who.user, &id, fields).await?;
    json(StatusCode::OK, &updated)
}

#[utoipa::path(
    delete,
    path = "/v1/admin/clients/{id}",
    tag = "admin",
    summary = "Remove an app",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "`invalid_request`: a malformed id", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 404, description = "`not_found`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn delete_client(
    State(app): State<AppState>,
    caller: Caller,
    Admin(who): Admin,
    Id(id): Id,
) -> Result {
    clients::delete(&app, &caller, Some(&who.user), &id).await?;
    no_content()
}

#[utoipa::path(
    post,
    path = "/v1/access-keys",
    tag = "access-keys",
    summary = "Create an access key",
    request_body = super::openapi::NewKey,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The key and its secret (shown once)", body = super::openapi::CreatedKey),
        (status = 400, description = "`invalid_request`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`, `invalid_credentials` or `recent_login_required`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden` (from a key's session) or `email_not_verified`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 409, description = "`access_key_limit`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 429, description = "`account_locked`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn create_key(State(app): State<AppState>, caller: Caller, request: Request) -> Result {
    let who = app.authenticate(bearer(request.headers())?).await?;
    let new = access_keys::NewKey::from_bytes(&json_bytes(request, &app).await?)?;
    let created = access_keys::create(&app, &caller, &who, new).await?;
    json(StatusCode::CREATED, &created)
}

#[utoipa::path(
    get,
    path = "/v1/access-keys",
    tag = "access-keys",
    summary = "The account's access keys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Oldest first, never their secrets", body = super::openapi::Keys),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn list_keys(State(app): State<AppState>, who: Authenticated) -> Result {
    let keys = access_keys::list(&app, &who).await?;
    json(StatusCode::OK, &serde_json::json!({ "access_keys": keys }))
}

#[utoipa::path(
    delete,
    path = "/v1/access-keys/{id}",
    tag = "access-keys",
    summary = "Delete an access key and end its sessions",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "`invalid_request`: a malformed id", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 404, description = "`not_found`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn delete_key(
    State(app): State<AppState>,
    caller: Caller,
    who: Authenticated,
    Id(id): Id,
) -> Result {
    access_keys::delete(&app, &caller, &who, &id).await?;
    no_content()
}

#[utoipa::path(
    get,
    path = "/v1/admin/users",
    tag = "admin",
    summary = "List and search accounts",
    security(("bearer" = [])),
    params(("q" = Option<String>, Query), ("status" = Option<String>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses(
        (status = 200, description = "A page of accounts", body = super::openapi::Users),
        (status = 400, description = "`invalid_request`: a bad parameter", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn list_users(State(app): State<AppState>, _: Admin, query: Query) -> Result {
    let mut errors = FieldErrors::default();
    let limit = admin::page_params(query.get("limit").as_deref(), &mut errors);
    let status = query.get("status").and_then(|s| {
        let parsed = UserStatus::parse(&s);
        if parsed.is_none() {
            errors.add(
                "status",
                "must be pending_verification, pending_approval, active or disabled",
            );
        }
        parsed
    });
    let prefix = query
        .get("q")
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty());
    if prefix.as_ref().is_some_and(|q| q.chars().count() > 254) {
        errors.add("q", "must be at most 254 characters");
    }
    errors.into_result()?;
    let query = UserQuery {
        prefix,
        status,
        limit,
        cursor: query.get("cursor"),
    };
    json(StatusCode::OK, &admin::list_users(&app, query).await?)
}

#[utoipa::path(
    get,
    path = "/v1/admin/users/{id}",
    tag = "admin",
    summary = "One account",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The account", body = super::openapi::User),
        (status = 400, description = "`invalid_request`: a malformed id", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 404, description = "`not_found`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn get_user(State(app): State<AppState>, _: Admin, Id(id): Id) -> Result {
    json(StatusCode::OK, &admin::get_user(&app, &id).await?)
}

#[utoipa::path(
    patch,
    path = "/v1/admin/users/{id}",
    tag = "admin",
    summary = "Change an account's status, roles or verification",
    request_body = super::openapi::UserUpdate,
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The account after the change", body = super::openapi::User),
        (status = 400, description = "`invalid_request`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 404, description = "`not_found`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 409, description = "`last_admin`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn update_user(
    State(app): State<AppState>,
    caller: Caller,
    Admin(who): Admin,
    Id(id): Id,
    body: JsonBody,
) -> Result {
    let update = admin::parse_update(body)?;
    let user = admin::update_user(&app, &caller, &who, &id, update).await?;
    json(StatusCode::OK, &user)
}

#[utoipa::path(
    delete,
    path = "/v1/admin/users/{id}",
    tag = "admin",
    summary = "Erase an account",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Erased"),
        (status = 400, description = "`invalid_request`: a malformed id", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 404, description = "`not_found`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 409, description = "`last_admin`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn delete_user(
    State(app): State<AppState>,
    caller: Caller,
    Admin(who): Admin,
    Id(id): Id,
) -> Result {
    admin::delete_user(&app, &caller, &who, &id).await?;
    no_content()
}

#[utoipa::path(
    post,
    path = "/v1/admin/users/{id}/approve",
    tag = "admin",
    summary = "Approve an account",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The account", body = super::openapi::User),
        (status = 400, description = "`invalid_request`: a malformed id", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 404, description = "`not_found`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn approve(
    State(app): State<AppState>,
    caller: Caller,
    Admin(who): Admin,
    Id(id): Id,
) -> Result {
    json(
        StatusCode::OK,
        &admin::approve(&app, &caller, &who, &id).await?,
    )
}

#[utoipa::path(
    post,
    path = "/v1/admin/users/{id}/unlock",
    tag = "admin",
    summary = "End an account's lockout",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The account", body = super::openapi::User),
        (status = 400, description = "`invalid_request`: a malformed id", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 404, description = "`not_found`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn unlock(
    State(app): State<AppState>,
    caller: Caller,
    Admin(who): Admin,
    Id(id): Id,
) -> Result {
    json(
        StatusCode::OK,
        &admin::unlock(&app, &caller, &who, &id).await?,
    )
}

#[utoipa::path(
    post,
    path = "/v1/admin/invitations",
    tag = "admin",
    summary = "Invite someone",
    request_body = super::openapi::NewInvitation,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The invitation and its token (shown once)", body = super::openapi::CreatedInvitation),
        (status = 400, description = "`invalid_request`", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn create_invitation(
    State(app): State<AppState>,
    caller: Caller,
    Admin(who): Admin,
    body: JsonBody,
) -> Result {
    let new = admin::parse_invitation(body)?;
    let created = admin::create_invitation(&app, &caller, &who, new).await?;
    json(StatusCode::CREATED, &created)
}

#[utoipa::path(
    get,
    path = "/v1/admin/invitations",
    tag = "admin",
    summary = "Every invitation",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Newest first", body = super::openapi::Invitations),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn list_invitations(State(app): State<AppState>, _: Admin) -> Result {
    let list = invitations::list(&app).await?;
    json(StatusCode::OK, &serde_json::json!({ "invitations": list }))
}

#[utoipa::path(
    delete,
    path = "/v1/admin/invitations/{id}",
    tag = "admin",
    summary = "Withdraw an invitation",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 400, description = "`invalid_request`: a malformed id", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 404, description = "`not_found`", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn delete_invitation(
    State(app): State<AppState>,
    caller: Caller,
    Admin(who): Admin,
    Id(id): Id,
) -> Result {
    admin::delete_invitation(&app, &caller, &who, &id).await?;
    no_content()
}

#[utoipa::path(
    get,
    path = "/v1/admin/audit",
    tag = "admin",
    summary = "The audit log",
    security(("bearer" = [])),
    params(("user_id" = Option<String>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses(
        (status = 200, description = "Newest first", body = super::openapi::Events),
        (status = 400, description = "`invalid_request`: a bad parameter", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn audit(State(app): State<AppState>, _: Admin, query: Query) -> Result {
    let mut errors = FieldErrors::default();
    let limit = admin::page_params(query.get("limit").as_deref(), &mut errors);
    let user_id = query.get("user_id").filter(|id| !id.is_empty());
    if user_id.as_ref().is_some_and(|id| id.len() > MAX_ID_LENGTH) {
        errors.add(
            "user_id",
            format!("must be at most {MAX_ID_LENGTH} characters"),
        );
    }
    errors.into_result()?;
    let query = EventQuery {
        user_id,
        limit,
        cursor: query.get("cursor"),
    };
    json(StatusCode::OK, &admin::events(&app, query).await?)
}

/// Records one request may bring in; more go through `portcullis users import`.
const MAX_IMPORT_RECORDS: usize = 5000;

#[utoipa::path(
    post,
    path = "/v1/admin/users/import",
    tag = "admin",
    summary = "Bring accounts in from Django (CVAT), Backend.AI or a Portcullis export",
    request_body = super::openapi::ImportRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What was created, what was there already, and each refusal with its place and reason", body = super::openapi::ImportReport),
        (status = 400, description = "`invalid_request`: a bad field, a file that can't be read, or over 5000 records", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 401, description = "`unauthorized`: no valid Bearer token", content_type = "application/problem+json", body = super::openapi::Problem),
        (status = 403, description = "`forbidden`: not an admin", content_type = "application/problem+json", body = super::openapi::Problem),
        super::openapi::Refusals,
    ),
)]
async fn import_users(
    State(app): State<AppState>,
    caller: Caller,
    Admin(admin): Admin,
    mut body: JsonBody,
) -> Result {
    use crate::imports::{self, Format, Options};
    let format = body.string("format", true);
    let data = body.string("data", true);
    let keypairs = body.string("keypairs", false);
    let dry_run = body.bool("dry_run", false).unwrap_or(false);
    let max_errors = body.unsigned("max_errors", false).unwrap_or(100);
    let format = match format.as_deref().map(Format::parse) {
        Some(Some(format)) => Some(format),
        Some(None) => {
            body.error("format", "must be jsonl, django or backendai");
            None
        }
        None => None,
    };
    if keypairs.is_some() && format != Some(Format::BackendAi) {
        body.error("keypairs", "goes only with the backendai format");
    }
    for field in body.remaining_fields() {
        body.error(&field, "is not a field of an import");
    }
    body.finish()?;
    let (Some(format), Some(data)) = (format, data) else {
        return Err(Error::internal("a missing field was not reported"));
    };
    let records = imports::read(format, &data, keypairs.as_deref(), app.clock.now())?;
    if records.len() > MAX_IMPORT_RECORDS {
        return Err(Error::invalid_field(
            "data",
            format!(
                "holds {} records, over {MAX_IMPORT_RECORDS}: split it, or use `portcullis \
                 users import`",
                records.len()
            ),
        ));
    }
    let options = Options {
        dry_run,
        max_errors: usize::try_from(max_errors).unwrap_or(usize::MAX),
    };
    let report = imports::run(
        &app,
        &caller,
        Some(&admin.user.id),
        records,
        options,
        &|_| {},
    )
    .await?;
    json(StatusCode::OK, &report)
}
