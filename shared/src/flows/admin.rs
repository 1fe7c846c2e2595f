//! The admin API: `/v1/admin/...`. Every route checks the caller's role from a verified access
//! token *and* the account's current state (a demoted or disabled admin loses access at once),
//! and every change is an audit event naming the admin.

use std::time::Duration;

use serde::Serialize;

use crate::app::{App, Authenticated};
use crate::audit::{self, EventKind};
use crate::caller::Caller;
use crate::email::Email;
use crate::error::{Error, FieldErrors, Result};
use crate::invitations::{self, NewInvitation};
use crate::json_body::JsonBody;
use crate::lockout;
use crate::me::{Me, me};
use crate::roles;
use crate::store::{EventQuery, Page, UserQuery, UserUpdate};
use crate::user::UserStatus;

pub const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 200;

/// The caller may use the admin API: the token carries `admin` and the account, read now, is an
/// active admin. 403 `forbidden` otherwise (401 comes earlier, from `authenticate`).
pub fn require_admin(who: &Authenticated) -> Result<()> {
    let in_token = who.claims.roles.iter().any(|r| r == roles::ADMIN);
    if in_token && who.user.is_active_admin() {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Query parameters of the list routes: `limit` (1–200) and `cursor`.
pub fn page_params(limit: Option<&str>, errors: &mut FieldErrors) -> usize {
    match limit.map(str::parse::<usize>) {
        None => DEFAULT_PAGE,
        Some(Ok(n)) if (1..=MAX_PAGE).contains(&n) => n,
        Some(_) => {
            errors.add(
                "limit",
                format!("must be a whole number from 1 to {MAX_PAGE}"),
            );
            DEFAULT_PAGE
        }
    }
}

#[derive(Debug, Serialize)]
pub struct UserList {
    pub users: Vec<Me>,
    pub next_cursor: Option<String>,
}

pub async fn list_users(app: &App, query: UserQuery) -> Result<UserList> {
    let Page { items, next_cursor } = app.store.list_users(&query).await?;
    Ok(UserList {
        users: items.into_iter().map(me).collect(),
        next_cursor,
    })
}

pub async fn get_user(app: &App, id: &str) -> Result<Me> {
    let user = app.store.user_by_id(id).await?.ok_or(Error::NotFound)?;
    Ok(me(user))
}

/// `PATCH /v1/admin/users/{id}`: any of `status` (`active`, `disabled`), `roles`,
/// `email_verified`. Unknown fields are refused so a typo never passes for a no-op.
pub fn parse_update(mut body: JsonBody) -> Result<UserUpdate> {
    let status = body.string("status", false);
    let role_list = body.string_list("roles", false);
    let email_verified = body.bool("email_verified", false);
    let status = status.and_then(|s| match s.as_str() {
        "active" => Some(UserStatus::Active),
        "disabled" => Some(UserStatus::Disabled),
        _ => {
            body.error("status", "must be active or disabled");
            None
        }
    });
    let role_list = role_list.and_then(|list| match roles::parse(&list) {
        Ok(list) => Some(list),
        Err(problems) => {
            for problem in problems {
                body.error("roles", problem);
            }
            None
        }
    });
    for field in body.remaining_fields() {
        body.error(&field, "is not a field that can be changed");
    }
    body.finish()?;
    Ok(UserUpdate {
        status,
        roles: role_list,
        email_verified,
        only_from: None,
    })
}

pub async fn update_user(
    app: &App,
    caller: &Caller,
    admin: &Authenticated,
    id: &str,
    update: UserUpdate,
) -> Result<Me> {
    let user = app
        .store
        .update_user(id, &update)
        .await?
        .ok_or(Error::NotFound)?;
    let mut detail = vec![("admin_id", admin.user.id.clone().into())];
    if let Some(status) = update.status {
        detail.push(("status", status.as_str().into()));
    }
    if let Some(list) = &update.roles {
        detail.push(("roles", list.clone().into()));
    }
    if let Some(verified) = update.email_verified {
        detail.push(("email_verified", verified.into()));
    }
    app.audit(
        caller,
        EventKind::UserUpdated,
        Some(&user.id),
        audit::detail(&detail),
    )
    .await;
    Ok(me(user))
}

/// `pending_approval` becomes `active`; any other state is left as it is (approving twice is
/// harmless, and approval never re-enables a disabled account).
pub async fn approve(app: &App, caller: &Caller, admin: &Authenticated, id: &str) -> Result<Me> {
    let update = UserUpdate {
        status: Some(UserStatus::Active),
        only_from: Some(UserStatus::PendingApproval),
        ..UserUpdate::default()
    };
    let user = app
        .store
        .update_user(id, &update)
        .await?
        .ok_or(Error::NotFound)?;
    app.audit(
        caller,
        EventKind::UserApproved,
        Some(&user.id),
        audit::detail(&[
            ("admin_id", admin.user.id.clone().into()),
            ("status", user.status.as_str().into()),
        ]),
    )
    .await;
    Ok(me(user))
}

/// Ends a lockout now: of password logins from strangers and of access-key logins (a locked
/// device stays void; its next sign-in makes it trusted again).
pub async fn unlock(app: &App, caller: &Caller, admin: &Authenticated, id: &str) -> Result<Me> {
    let user = app.store.user_by_id(id).await?.ok_or(Error::NotFound)?;
    for key in [
        lockout::account_key(&user.id),
        lockout::key_login_key(&user.id),
    ] {
        app.store.clear_lockout(&key).await?;
    }
    app.audit(
        caller,
        EventKind::UserUnlocked,
        Some(&user.id),
        audit::detail(&[("admin_id", admin.user.id.clone().into())]),
    )
    .await;
    Ok(me(user))
}

pub async fn delete_user(
    app: &App,
    caller: &Caller,
    admin: &Authenticated,
    id: &str,
) -> Result<()> {
    if !app.store.delete_user(id).await? {
        return Err(Error::NotFound);
    }
    app.audit(
        caller,
        EventKind::UserDeleted,
        Some(id),
        audit::detail(&[("admin_id", admin.user.id.clone().into())]),
    )
    .await;
    Ok(())
}

/// `POST /v1/admin/invitations`: optional `email`, `roles` (default `["user"]`), `expires_in`
/// (seconds, default `PORTCULLIS_INVITATION_TTL`).
pub fn parse_invitation(mut body: JsonBody) -> Result<NewInvitation> {
    let email = body.string("email", false);
    let role_list = body.string_list("roles", false);
    let expires_in = body.unsigned("expires_in", false);
    let email = match email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(e) => match Email::parse(e) {
            Ok(email) => Some(email),
            Err(message) => {
                body.error("email", message);
                None
            }
        },
    };
    let role_list = match role_list {
        None => vec![roles::USER.to_owned()],
        Some(list) => match roles::parse(&list) {
            Ok(list) => list,
            Err(problems) => {
                for problem in problems {
                    body.error("roles", problem);
                }
                Vec::new()
            }
        },
    };
    let expires_in = expires_in.map(Duration::from_secs);
    if expires_in
        .is_some_and(|d| !(invitations::MIN_LIFETIME..=invitations::MAX_LIFETIME).contains(&d))
    {
        body.error(
            "expires_in",
            format!(
                "must be from {} to {} seconds",
                invitations::MIN_LIFETIME.as_secs(),
                invitations::MAX_LIFETIME.as_secs()
            ),
        );
    }
    body.finish()?;
    Ok(NewInvitation {
        email,
        roles: role_list,
        expires_in,
    })
}

pub async fn create_invitation(
    app: &App,
    caller: &Caller,
    admin: &Authenticated,
    new: NewInvitation,
) -> Result<invitations::CreatedInvitation> {
    let bound = new.email.is_some();
    let roles_given = new.roles.clone();
    let created = invitations::create(app, &admin.user, new).await?;
    app.audit(
        caller,
        EventKind::InvitationCreated,
        None,
        audit::detail(&[
            ("admin_id", admin.user.id.clone().into()),
            ("invitation_id", created.invitation_id.clone().into()),
            ("bound_to_email", bound.into()),
            ("roles", roles_given.into()),
        ]),
    )
    .await;
    Ok(created)
}

pub async fn delete_invitation(
    app: &App,
    caller: &Caller,
    admin: &Authenticated,
    id: &str,
) -> Result<()> {
    invitations::delete(app, id).await?;
    app.audit(
        caller,
        EventKind::InvitationDeleted,
        None,
        audit::detail(&[
            ("admin_id", admin.user.id.clone().into()),
            ("invitation_id", id.into()),
        ]),
    )
    .await;
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct EventList {
    pub events: Vec<audit::EventView>,
    pub next_cursor: Option<String>,
}

pub async fn events(app: &App, query: EventQuery) -> Result<EventList> {
    let Page { items, next_cursor } = app.store.events(&query).await?;
    Ok(EventList {
        events: items.into_iter().map(Into::into).collect(),
        next_cursor,
    })
}
