//! Invitations: how accounts are made when `PORTCULLIS_SIGNUP_MODE=invitation`. An admin creates
//! one (optionally bound to an email, and then mailed there); the token is shown once and the
//! store keeps only its digest. Signup uses it up in the same atomic step that creates the
//! account, so of two signups racing for one invitation exactly one succeeds.

use std::time::Duration;

use serde::Serialize;

use crate::app::App;
use crate::clock::UnixTime;
use crate::email::Email;
use crate::error::{Error, Result};
pub use crate::invitation::{Invitation, InvitationUse, MAX_LIFETIME, MIN_LIFETIME, id_of};
use crate::notices;
use crate::secret::Secret;
use crate::tokens::OpaqueToken;
use crate::user::User;

/// How the admin API shows an invitation (never its token).
#[derive(Debug, Serialize)]
pub struct InvitationView {
    pub invitation_id: String,
    pub email: Option<String>,
    pub roles: Vec<String>,
    pub status: &'static str,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub used_at: Option<String>,
    pub used_by: Option<String>,
}

impl InvitationView {
    fn of(invitation: Invitation, now: UnixTime) -> InvitationView {
        InvitationView {
            status: invitation.status(now),
            invitation_id: invitation.id,
            email: invitation.email.map(|e| e.as_str().to_owned()),
            roles: invitation.roles,
            created_by: invitation.created_by,
            created_at: invitation.created_at.rfc3339(),
            expires_at: invitation.expires_at.rfc3339(),
            used_at: invitation.used_at.map(|t| t.rfc3339()),
            used_by: invitation.used_by,
        }
    }
}

/// `POST /v1/admin/invitations`, validated.
#[derive(Debug)]
pub struct NewInvitation {
    pub email: Option<Email>,
    pub roles: Vec<String>,
    pub expires_in: Option<Duration>,
}

/// `201 {invitation_id, token, expires_at}`: the token is shown this once.
pub struct CreatedInvitation {
    pub invitation_id: String,
    pub token: Secret,
    pub expires_at: UnixTime,
}

impl Serialize for CreatedInvitation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "invitation_id": self.invitation_id,
            "token": self.token.expose(),
            "expires_at": self.expires_at.rfc3339(),
        })
        .serialize(serializer)
    }
}

/// Creates an invitation and, when it is bound to an email, mails the signup link there.
pub async fn create(app: &App, admin: &User, new: NewInvitation) -> Result<CreatedInvitation> {
    let now = app.clock.now();
    let lifetime = new.expires_in.unwrap_or(app.config.signup.invitation_ttl);
    let token = OpaqueToken::generate();
    let invitation = Invitation {
        id: id_of(&token.digest),
        digest: token.digest,
        email: new.email,
        roles: new.roles,
        created_by: admin.id.clone(),
        created_at: now,
        expires_at: now.plus(lifetime),
        used_at: None,
        used_by: None,
    };
    app.store.create_invitation(&invitation).await?;
    if let Some(email) = &invitation.email {
        let ui = app.ui_url();
        let sender = notices::Sender {
            product: &app.config.mail.product_name,
            ui: &ui,
        };
        app.deliver(notices::invitation(
            &sender,
            email,
            token.token.expose(),
            &notices::lifetime(lifetime),
        ))
        .await;
    }
    Ok(CreatedInvitation {
        invitation_id: invitation.id,
        token: token.token,
        expires_at: invitation.expires_at,
    })
}

pub async fn list(app: &App) -> Result<Vec<InvitationView>> {
    let now = app.clock.now();
    Ok(app
        .store
        .invitations()
        .await?
        .into_iter()
        .map(|i| InvitationView::of(i, now))
        .collect())
}

pub async fn delete(app: &App, id: &str) -> Result<()> {
    if app.store.delete_invitation(id).await? {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// The invitation a signup with `email` presents, if it may use it now, and the claim the store
/// applies with the account write. `Err(InvitationInvalid)` otherwise, whatever the reason.
pub async fn admit(
    app: &App,
    token: &Secret,
    email: &Email,
) -> Result<(Invitation, InvitationUse)> {
    let digest =
        crate::one_time_token::parse(token.expose()).map_err(|_| Error::InvitationInvalid)?;
    admit_digest(app, &digest, email).await
}

/// `admit` for a token known by its digest (a provider sign-in keeps only that).
pub async fn admit_digest(
    app: &App,
    digest: &str,
    email: &Email,
) -> Result<(Invitation, InvitationUse)> {
    let digest = digest.to_owned();
    let now = app.clock.now();
    let id = id_of(&digest);
    let invitation = app
        .store
        .invitation(&id)
        .await?
        .filter(|i| i.admits(&digest, email.key(), now))
        .ok_or(Error::InvitationInvalid)?;
    let claim = InvitationUse {
        id,
        digest,
        email_key: email.key().to_owned(),
        now,
    };
    Ok((invitation, claim))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(email: Option<&str>) -> Invitation {
        Invitation {
            id: "i".into(),
            digest: "d".into(),
            email: email.map(|e| Email::parse(e).unwrap()),
            roles: vec!["user".into()],
            created_by: "admin".into(),
            created_at: UnixTime(0),
            expires_at: UnixTime(100),
            used_at: None,
            used_by: None,
        }
    }

    #[test]
    fn a_bound_invitation_admits_only_its_email() {
        let bound = invitation(Some("Ada@Example.com"));
        assert!(bound.admits("d", "ada@example.com", UnixTime(1)));
        assert!(!bound.admits("d", "eve@example.com", UnixTime(1)));
        assert!(invitation(None).admits("d", "eve@example.com", UnixTime(1)));
    }

    #[test]
    fn used_expired_or_wrong_digest_admit_nobody() {
        let mut used = invitation(None);
        used.used_at = Some(UnixTime(2));
        assert!(!used.admits("d", "a@example.com", UnixTime(3)));
        assert!(!invitation(None).admits("d", "a@example.com", UnixTime(100)));
        assert!(!invitation(None).admits("x", "a@example.com", UnixTime(1)));
    }
}
