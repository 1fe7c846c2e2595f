//! The first administrator: `portcullis createsuperuser`. An active account with a verified
//! email and the roles `admin` and `user`, on whichever store `PORTCULLIS_STORE` names.

use crate::clock::Clock;
use crate::config::Config;
use crate::email::Email;
use crate::error::{Error, Result};
use crate::password::PasswordHasher;
use crate::password_policy::PersonalWords;
use crate::secret::Secret;
use crate::store::Store;
use crate::user::{User, new_user_id};
use crate::username::Username;

/// Creates the superuser. Bad input is `InvalidRequest`/`WeakPassword` naming what is wrong; an
/// email or username already in use is `EmailTaken`/`UsernameTaken`, never a second account.
pub async fn create(
    config: &Config,
    store: &dyn Store,
    clock: &dyn Clock,
    email: &str,
    username: &str,
    password: &Secret,
) -> Result<User> {
    let email = Email::parse(email).map_err(|m| Error::invalid_field("email", m))?;
    let username = Username::parse(username)
        .map_err(|problems| Error::invalid_field("username", problems.join("; ")))?;
    let problems = config.passwords.policy.check(
        password.expose(),
        PersonalWords {
            username: Some(username.as_str()),
            email_local_part: Some(email.local_part()),
        },
    );
    if !problems.is_empty() {
        return Err(Error::WeakPassword {
            field: "password",
            problems,
        });
    }
    let hash = PasswordHasher::new(config.passwords.argon2)?
        .hash(password)
        .await?;
    let user = User::new_verified(
        new_user_id(),
        email,
        username,
        hash,
        vec!["admin".to_owned(), "user".to_owned()],
        clock.now(),
    );
    store.create_user(&user).await?;
    tracing::info!(user_id = %user.id, "superuser created");
    Ok(user)
}
