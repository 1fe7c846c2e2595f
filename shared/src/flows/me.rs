//! `GET /v1/me`: the account behind a Bearer token.

use serde::Serialize;

use crate::user::User;

#[derive(Debug, Serialize)]
pub struct Me {
    pub user_id: String,
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email_verified: bool,
    pub status: &'static str,
    pub roles: Vec<String>,
    pub created_at: String,
}

pub fn me(user: User) -> Me {
    Me {
        user_id: user.id,
        email: user.email.as_str().to_owned(),
        username: user.username.as_str().to_owned(),
        first_name: user.first_name,
        last_name: user.last_name,
        email_verified: user.email_verified,
        status: user.status.as_str(),
        roles: user.roles,
        created_at: user.created_at.rfc3339(),
    }
}
