//! A session's life after login: `POST /v1/token/refresh`, `POST /v1/logout`, `GET /v1/sessions`,
//! `DELETE /v1/sessions/{id}`.
//!
//! Refresh tokens rotate on every use. The token just replaced stays usable for the refresh grace
//! (`PORTCULLIS_REFRESH_GRACE`, 10 s by default), for a client that retries a refresh whose answer
//! it lost: the retry gets the very token the first attempt got (each next token is derived from
//! the current one under the session's rotation secret), so concurrent refreshes agree on one
//! token and a session never forks. After the grace, presenting the replaced token, or any older
//! one of the session, is treated as theft: the whole session (its refresh family) is revoked and
//! the answer is 401. Every rotation is a compare-and-swap on the session's current token.

use std::collections::HashMap;

use serde::Serialize;

use crate::app::{App, Authenticated};
use crate::audit::{self, EventKind};
use crate::caller::Caller;
use crate::error::{Error, Result};
use crate::grant::{TokenGrant, grant};
use crate::login;
use crate::secret::Secret;
use crate::session::Session;
use crate::tokens::{digest, next_refresh_token};
use crate::user::User;

/// A lost compare-and-swap means another refresh of the same session just won: read it again.
const MAX_ROTATIONS: usize = 4;

fn refresh_digest(token: &Secret) -> Result<String> {
    let token = token.expose();
    let shaped = token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if shaped {
        Ok(digest(token))
    } else {
        Err(Error::InvalidRefreshToken)
    }
}

#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn refresh(app: &App, caller: &Caller, token: &Secret) -> Result<TokenGrant> {
    let rotated = rotate(app, caller, token, None).await?;
    grant(
        app,
        &rotated.user,
        &rotated.session.id,
        rotated.refresh_token,
    )
}

/// A refresh token traded for the next one.
pub struct Rotated {
    pub user: User,
    pub session: Session,
    pub refresh_token: Secret,
}

/// Rotates the refresh token of a session of the `/v1` API (`client` `None`) or of the OpenID
/// client `client`: a token of any other kind of session is `InvalidRefreshToken`, and left
/// alone.
pub async fn rotate(
    app: &App,
    caller: &Caller,
    token: &Secret,
    client: Option<&str>,
) -> Result<Rotated> {
    let presented = refresh_digest(token)?;
    let mut session = app
        .store
        .session_by_refresh(&presented)
        .await?
        .ok_or(Error::InvalidRefreshToken)?;
    if session.client.as_ref().map(|c| c.client_id.as_str()) != client {
        return Err(Error::InvalidRefreshToken);
    }
    let user = app
        .store
        .user_by_id(&session.user_id)
        .await?
        .ok_or(Error::InvalidRefreshToken)?;
    let grace = app.config.tokens.refresh_grace;
    let next = next_refresh_token(&session.rotation_secret, token)?;
    for _ in 0..MAX_ROTATIONS {
        let now = app.clock.now();
        // A session left unused past the idle timeout is over, whatever its absolute end.
        let idle = app
            .config
            .tokens
            .session_idle_timeout
            .is_some_and(|timeout| now >= session.last_used_at.plus(timeout));
        // The same rule as login: an account that could not log in now cannot refresh either.
        if idle
            || !session.is_live(now, user.session_epoch)
            || login::check_status(app, &user).is_err()
            || !app.session_key_held(&session).await?
        {
            return Err(Error::InvalidRefreshToken);
        }
        if session.refresh_digest == presented {
            if app
                .store
                .rotate_refresh(&session, &presented, &next.digest, now)
                .await?
            {
                return Ok(Rotated {
                    user,
                    session,
                    refresh_token: next.token,
                });
            }
            // Another refresh with this token won the swap: read what it wrote.
            session = app
                .store
                .session(&session.id)
                .await?
                .ok_or(Error::InvalidRefreshToken)?;
            continue;
        }
        let retry_in_grace = session.previous_digest.as_deref() == Some(presented.as_str())
            && session.refresh_digest == next.digest
            && session.rotated_at.is_some_and(|at| now < at.plus(grace));
        if retry_in_grace {
            // The same token the first attempt got: no second rotation, no second family.
            return Ok(Rotated {
                user,
                session,
                refresh_token: next.token,
            });
        }
        app.store.revoke_session(&session.id, now).await?;
        tracing::warn!(user_id = %user.id, session_id = %session.id, "refresh token reused: session revoked");
        // A theft, most likely: a security event, not only a log line.
        app.audit(
            caller,
            EventKind::RefreshTokenReused,
            Some(&user.id),
            audit::detail(&[("session_id", session.id.clone().into())]),
        )
        .await;
        return Err(Error::InvalidRefreshToken);
    }
    Err(Error::Unavailable {
        retry_after: 1,
        cause: "refresh rotation contended".into(),
    })
}

/// Ends the session a refresh token belongs to.
pub async fn logout_with_refresh(app: &App, caller: &Caller, token: &Secret) -> Result<()> {
    let presented = refresh_digest(token)?;
    let session = app
        .store
        .session_by_refresh(&presented)
        .await?
        .ok_or(Error::InvalidRefreshToken)?;
    app.store
        .revoke_session(&session.id, app.clock.now())
        .await?;
    tracing::info!(session_id = %session.id, "logged out");
    app.audit(
        caller,
        EventKind::Logout,
        Some(&session.user_id),
        audit::detail(&[("session_id", session.id.clone().into())]),
    )
    .await;
    Ok(())
}

/// Ends the Bearer's session, or with `global` every session of the account.
pub async fn logout_with_bearer(
    app: &App,
    caller: &Caller,
    who: &Authenticated,
    global: bool,
) -> Result<()> {
    if global {
        app.store.end_all_sessions(&who.user.id).await?;
        tracing::info!(user_id = %who.user.id, "logged out everywhere");
        app.audit(
            caller,
            EventKind::LogoutEverywhere,
            Some(&who.user.id),
            audit::detail(&[]),
        )
        .await;
    } else {
        app.store
            .revoke_session(&who.claims.sid, app.clock.now())
            .await?;
        tracing::info!(session_id = %who.claims.sid, "logged out");
        app.audit(
            caller,
            EventKind::Logout,
            Some(&who.user.id),
            audit::detail(&[("session_id", who.claims.sid.clone().into())]),
        )
        .await;
    }
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    pub session_id: String,
    pub created_at: String,
    pub last_used_at: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub current: bool,
    /// For a session an app holds through the OpenID provider: the app's client id and name.
    pub client_id: Option<String>,
    pub client_name: Option<String>,
}

/// The account's live sessions, oldest first, with the app each app session belongs to.
pub async fn list(app: &App, who: &Authenticated) -> Result<Vec<SessionView>> {
    let now = app.clock.now();
    let sessions = app.store.sessions_of(&who.user.id).await?;
    let mut names: HashMap<String, Option<String>> = HashMap::new();
    let mut views = Vec::new();
    for s in sessions
        .into_iter()
        .filter(|s| s.is_live(now, who.user.session_epoch))
    {
        let client_id = s.client.map(|c| c.client_id);
        let client_name = match &client_id {
            Some(id) => match names.get(id) {
                Some(name) => name.clone(),
                None => {
                    let name = app.store.client(id).await?.map(|c| c.name);
                    names.insert(id.clone(), name.clone());
                    name
                }
            },
            None => None,
        };
        views.push(SessionView {
            current: s.id == who.claims.sid,
            session_id: s.id,
            created_at: s.created_at.rfc3339(),
            last_used_at: s.last_used_at.rfc3339(),
            ip: s.ip,
            user_agent: s.user_agent,
            client_id,
            client_name,
        });
    }
    Ok(views)
}

/// Ends one of the account's own sessions; anyone else's (or none) is 404.
pub async fn delete(
    app: &App,
    caller: &Caller,
    who: &Authenticated,
    session_id: &str,
) -> Result<()> {
    let now = app.clock.now();
    match app.store.session(session_id).await? {
        Some(session)
            if session.user_id == who.user.id && session.is_live(now, who.user.session_epoch) =>
        {
            app.store.revoke_session(&session.id, now).await?;
            app.audit(
                caller,
                EventKind::SessionRevoked,
                Some(&who.user.id),
                audit::detail(&[("session_id", session.id.into())]),
            )
            .await;
            Ok(())
        }
        _ => Err(Error::NotFound),
    }
}
