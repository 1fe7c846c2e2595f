//! Signup: `POST /v1/signup` and `GET /v1/username-suggestion`.

use serde::Serialize;

use crate::app::App;
use crate::audit::{self, EventKind};
use crate::caller::Caller;
use crate::config::{EmailVerification, SignupMode};
use crate::email::Email;
use crate::error::{Error, Result};
use crate::invitations::{self, InvitationUse};
use crate::json_body::JsonBody;
use crate::notices;
use crate::password_policy::PersonalWords;
use crate::secret::Secret;
use crate::user::{User, UserStatus, new_user_id};
use crate::username::{self, Username};
use crate::verification;

const MAX_NAME_LENGTH: usize = 150;

#[derive(Debug)]
pub struct SignupRequest {
    pub email: Email,
    pub password: Secret,
    pub username: Option<Username>,
    pub first_name: String,
    pub last_name: String,
    pub invitation_token: Option<Secret>,
}

impl SignupRequest {
    /// Reads and validates the body, naming every bad field at once.
    pub fn from_json(mut body: JsonBody) -> Result<SignupRequest> {
        let email = body.string("email", true);
        let password = body.secret("password", true);
        let accept_terms = body.bool("accept_terms", true);
        let username = body.string("username", false);
        let first_name = body.string("first_name", false).unwrap_or_default();
        let last_name = body.string("last_name", false).unwrap_or_default();
        let invitation_token = body.secret("invitation_token", false);

        let email = email.and_then(|e| match Email::parse(&e) {
            Ok(email) => Some(email),
            Err(message) => {
                body.error("email", message);
                None
            }
        });
        let username = match username.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => match Username::parse(name) {
                Ok(name) => Some(name),
                Err(problems) => {
                    for problem in problems {
                        body.error("username", problem);
                    }
                    None
                }
            },
        };
        if accept_terms == Some(false) {
            body.error("accept_terms", "must be accepted");
        }
        for (field, value) in [("first_name", &first_name), ("last_name", &last_name)] {
            if value.chars().count() > MAX_NAME_LENGTH {
                body.error(
                    field,
                    format!("must be at most {MAX_NAME_LENGTH} characters"),
                );
            }
            if value.chars().any(char::is_control) {
                body.error(field, "must not contain control characters");
            }
        }
        body.finish()?;
        let (Some(email), Some(password)) = (email, password) else {
            return Err(Error::internal("a missing field was not reported"));
        };
        Ok(SignupRequest {
            email,
            password,
            username,
            first_name: first_name.trim().to_owned(),
            last_name: last_name.trim().to_owned(),
            invitation_token,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct SignedUp {
    pub user_id: String,
    pub username: String,
    pub email: String,
    pub status: &'static str,
}

#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn signup(app: &App, caller: &Caller, request: SignupRequest) -> Result<SignedUp> {
    let config = &app.config;
    // An invitation is needed in invitation mode; in open and approval modes one may still be
    // given (it grants its roles; approval mode still waits for an admin, as verification
    // would lead there anyway), and then it must be valid.
    let invitation = match (config.signup.mode, &request.invitation_token) {
        (SignupMode::Disabled, _) => return Err(Error::SignupDisabled),
        (SignupMode::Invitation, None) => return Err(Error::InvitationRequired),
        (_, Some(token)) => Some(invitations::admit(app, token, &request.email).await?),
        (SignupMode::Open | SignupMode::Approval, None) => None,
    };

    let base = match &request.username {
        Some(name) => name.as_str().to_owned(),
        None => username::suggestion_base(&request.email),
    };
    let problems = config.passwords.policy.check(
        request.password.expose(),
        PersonalWords {
            username: Some(&base),
            email_local_part: Some(request.email.local_part()),
        },
    );
    if !problems.is_empty() {
        return Err(Error::WeakPassword {
            field: "password",
            problems,
        });
    }

    // An invitation does not verify the email, even one mailed there: its token is also in the
    // admin's hands, and a verified email is what provider sign-ins link on.
    let email_verified = false;
    let status =
        if config.signup.email_verification == EmailVerification::Required && !email_verified {
            UserStatus::PendingVerification
        } else if config.signup.mode == SignupMode::Approval {
            UserStatus::PendingApproval
        } else {
            UserStatus::Active
        };
    let roles = match &invitation {
        Some((invitation, _)) => invitation.roles.clone(),
        None => vec![crate::roles::USER.to_owned()],
    };
    let mut user = User {
        id: new_user_id(),
        email: request.email,
        username: request
            .username
            .clone()
            .unwrap_or_else(|| Username::from_stored(base.clone())),
        password_hash: Some(app.passwords.hash(&request.password).await?),
        first_name: request.first_name,
        last_name: request.last_name,
        email_verified,
        status,
        roles,
        created_at: app.clock.now(),
        session_epoch: 0,
        password_epoch: 0,
        // Set before the address is confirmed: whoever typed it may not own the address.
        password_unconfirmed: true,
    };
    let claim = invitation.as_ref().map(|(_, claim)| claim);
    let stored = if request.username.is_some() {
        store_user(app, &user, claim).await
    } else {
        // A suggested name may be claimed between the look-up and the write: try the next one.
        let mut stored = Err(Error::UsernameTaken);
        for candidate in username::candidates(&base) {
            if app.store.user_by_username(candidate.key()).await?.is_some() {
                continue;
            }
            user.username = candidate;
            stored = store_user(app, &user, claim).await;
            if !matches!(stored, Err(Error::UsernameTaken)) {
                break;
            }
        }
        stored
    };
    match stored {
        Ok(()) => {}
        Err(Error::EmailTaken) if config.signup.conceal_existing_email => {
            return conceal_existing(app, caller, user).await;
        }
        Err(error) => return Err(error),
    }
    tracing::info!(user_id = %user.id, status = user.status.as_str(), "account created");
    let mut detail = vec![("status", user.status.as_str().into())];
    if let Some((invitation, _)) = &invitation {
        detail.push(("invitation_id", invitation.id.clone().into()));
    }
    app.audit(
        caller,
        EventKind::Signup,
        Some(&user.id),
        audit::detail(&detail),
    )
    .await;
    if config.signup.email_verification != EmailVerification::Off && !user.email_verified {
        verification::send(app, &user).await?;
    }
    Ok(SignedUp {
        user_id: user.id,
        username: user.username.as_str().to_owned(),
        email: user.email.as_str().to_owned(),
        status: user.status.as_str(),
    })
}

/// A signup with an address that has an account, under `PORTCULLIS_SIGNUP_EXISTING_EMAIL=conceal`:
/// the answer is a new account's (the password was hashed all the same, so the time matches too),
/// nothing is created, and the address's owner is told instead of the caller.
async fn conceal_existing(app: &App, caller: &Caller, attempt: User) -> Result<SignedUp> {
    if let Some(owner) = app.store.user_by_email(attempt.email.key()).await? {
        app.audit(
            caller,
            EventKind::SignupExistingEmail,
            Some(&owner.id),
            audit::detail(&[]),
        )
        .await;
        if app.mail_allowed(&owner.email).await? {
            let ui = app.ui_url();
            let sender = notices::Sender {
                product: &app.config.mail.product_name,
                ui: &ui,
            };
            app.deliver(notices::signup_existing(
                &sender,
                &owner.email,
                owner.username.as_str(),
            ))
            .await;
        }
    }
    Ok(SignedUp {
        user_id: attempt.id,
        username: attempt.username.as_str().to_owned(),
        email: attempt.email.as_str().to_owned(),
        status: attempt.status.as_str(),
    })
}

/// Creates the account, using up the invitation in the same atomic step when there is one.
async fn store_user(app: &App, user: &User, invitation: Option<&InvitationUse>) -> Result<()> {
    match invitation {
        Some(claim) => app.store.create_invited_user(user, claim).await,
        None => app.store.create_user(user).await,
    }
}

/// A username derived from the email's local part that is free right now.
pub async fn suggest_username(app: &App, email: &str) -> Result<String> {
    let email = Email::parse(email).map_err(|message| Error::invalid_field("email", message))?;
    let base = username::suggestion_base(&email);
    for candidate in username::candidates(&base) {
        if app.store.user_by_username(candidate.key()).await?.is_none() {
            return Ok(candidate.as_str().to_owned());
        }
    }
    Err(Error::UsernameTaken)
}
