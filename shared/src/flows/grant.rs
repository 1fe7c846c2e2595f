//! Starting a session: the token response every successful login ends with.

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::app::App;
use crate::caller::Caller;
use crate::error::Result;
use crate::secret::Secret;
use crate::session::Session;
use crate::tokens::{AccessClaims, OpaqueToken};
use crate::user::User;

/// `{"access_token", "token_type", "expires_in", "refresh_token", "user"}` (docs/api.md, "Tokens").
pub struct TokenGrant {
    pub access_token: Secret,
    pub expires_in: u64,
    pub refresh_token: Secret,
    pub session_id: String,
    pub user_id: String,
    pub username: String,
    pub email: String,
    /// For a password login: the token that makes this client a trusted device of the account
    /// (`login::Counter`).
    pub device_token: Option<Secret>,
}

impl Serialize for TokenGrant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("TokenGrant", 6)?;
        s.serialize_field("access_token", self.access_token.expose())?;
        s.serialize_field("token_type", "Bearer")?;
        s.serialize_field("expires_in", &self.expires_in)?;
        s.serialize_field("refresh_token", self.refresh_token.expose())?;
        s.serialize_field(
            "user",
            &serde_json::json!({
                "user_id": self.user_id,
                "username": self.username,
                "email": self.email,
            }),
        )?;
        if let Some(device_token) = &self.device_token {
            s.serialize_field("device_token", device_token.expose())?;
        }
        s.end()
    }
}

/// Creates a session for `user` and signs its first access token.
#[tracing::instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn start_session(app: &App, user: &User, caller: &Caller) -> Result<TokenGrant> {
    start_session_with(app, user, caller, None).await
}

/// Like `start_session`, for a login with the access key `access_key`.
pub async fn start_session_with(
    app: &App,
    user: &User,
    caller: &Caller,
    access_key: Option<&str>,
) -> Result<TokenGrant> {
    let refresh = OpaqueToken::generate();
    let mut session = new_session(
        app,
        uuid::Uuid::new_v4().to_string(),
        user,
        caller,
        refresh.digest,
    );
    session.access_key = access_key.map(str::to_owned);
    app.store.create_session(&session).await?;
    grant(app, user, &session.id, refresh.token)
}

/// A session of `user` that starts now, whose first refresh token has the digest
/// `refresh_digest`: for the `/v1` API and the pages unless the caller sets its access key or
/// its client.
pub fn new_session(
    app: &App,
    id: String,
    user: &User,
    caller: &Caller,
    refresh_digest: String,
) -> Session {
    let now = app.clock.now();
    Session {
        id,
        user_id: user.id.clone(),
        refresh_digest,
        previous_digest: None,
        rotated_at: None,
        rotation_secret: crate::tokens::random_secret(),
        created_at: now,
        last_used_at: now,
        expires_at: now.plus(app.config.tokens.session_ttl),
        ip: caller.ip.clone(),
        user_agent: caller.user_agent.clone(),
        revoked_at: None,
        epoch: user.session_epoch,
        access_key: None,
        client: None,
    }
}

/// Signs an access token for `user` in session `session_id` and pairs it with `refresh_token`.
pub fn grant(
    app: &App,
    user: &User,
    session_id: &str,
    refresh_token: Secret,
) -> Result<TokenGrant> {
    let now = app.clock.now();
    let ttl = app.config.tokens.access_token_ttl;
    let claims = AccessClaims {
        iss: app.issuer.clone(),
        aud: app.config.tokens.audience.clone(),
        sub: user.id.clone(),
        sid: session_id.to_owned(),
        iat: now.seconds(),
        nbf: now.seconds(),
        exp: now.plus(ttl).seconds(),
        jti: uuid::Uuid::new_v4().to_string(),
        email: user.email.as_str().to_owned(),
        username: user.username.as_str().to_owned(),
        roles: user.roles.clone(),
        email_verified: user.email_verified,
    };
    Ok(TokenGrant {
        access_token: app.keys().sign(&claims)?,
        expires_in: ttl.as_secs(),
        refresh_token,
        session_id: session_id.to_owned(),
        user_id: user.id.clone(),
        username: user.username.as_str().to_owned(),
        email: user.email.as_str().to_owned(),
        device_token: None,
    })
}
