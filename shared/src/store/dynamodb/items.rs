//! Records to and from DynamoDB items.

use super::*;

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn malformed(name: &str) -> Error {
    Error::internal(format!("stored item has a missing or malformed {name}"))
}

pub(super) fn get_s(item: &Item, name: &str) -> Result<String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(malformed(name)),
    }
}

pub(super) fn get_opt_s(item: &Item, name: &str) -> Result<Option<String>> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(value)) => Ok(Some(value.clone())),
        Some(_) => Err(malformed(name)),
    }
}

pub(super) fn get_n(item: &Item, name: &str) -> Result<i64> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().map_err(|_| malformed(name)),
        _ => Err(malformed(name)),
    }
}

pub(super) fn get_opt_n(item: &Item, name: &str) -> Result<Option<i64>> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(value)) => value.parse().map(Some).map_err(|_| malformed(name)),
        Some(_) => Err(malformed(name)),
    }
}

pub(super) fn get_bool(item: &Item, name: &str) -> Result<bool> {
    match item.get(name) {
        Some(AttributeValue::Bool(value)) => Ok(*value),
        _ => Err(malformed(name)),
    }
}

pub(super) fn user_item(user: &User) -> Item {
    let mut item = Item::from([
        ("pk".into(), s(user_pk(&user.id))),
        ("sk".into(), s("USER")),
        ("type".into(), s("user")),
        ("user_id".into(), s(&user.id)),
        ("email".into(), s(user.email.as_str())),
        ("email_key".into(), s(user.email.key())),
        ("username".into(), s(user.username.as_str())),
        ("username_key".into(), s(user.username.key())),
        ("first_name".into(), s(&user.first_name)),
        ("last_name".into(), s(&user.last_name)),
        (
            "email_verified".into(),
            AttributeValue::Bool(user.email_verified),
        ),
        ("status".into(), s(user.status.as_str())),
        (
            "roles".into(),
            AttributeValue::L(user.roles.iter().map(s).collect()),
        ),
        ("created_at".into(), n(user.created_at.seconds())),
        ("session_epoch".into(), n(user.session_epoch)),
        ("password_epoch".into(), n(user.password_epoch)),
        (
            "password_unconfirmed".into(),
            AttributeValue::Bool(user.password_unconfirmed),
        ),
        // Admin listing: every user in one index partition, ordered by email, and again by
        // username for search.
        ("gsi1pk".into(), s(USERS_PARTITION)),
        ("gsi1sk".into(), s(user.email.key())),
        ("gsi2pk".into(), s(USERS_PARTITION)),
        ("gsi2sk".into(), s(user.username.key())),
    ]);
    if let Some(hash) = &user.password_hash {
        item.insert("password_hash".into(), s(hash));
    }
    item
}

pub(super) fn user_from_item(item: &Item) -> Result<User> {
    let status = get_s(item, "status")?;
    let roles = match item.get("roles") {
        Some(AttributeValue::L(list)) => list
            .iter()
            .map(|v| match v {
                AttributeValue::S(role) => Ok(role.clone()),
                _ => Err(malformed("roles")),
            })
            .collect::<Result<Vec<_>>>()?,
        _ => return Err(malformed("roles")),
    };
    Ok(User {
        id: get_s(item, "user_id")?,
        email: Email::from_stored(get_s(item, "email")?),
        username: Username::from_stored(get_s(item, "username")?),
        password_hash: get_opt_s(item, "password_hash")?,
        first_name: get_s(item, "first_name")?,
        last_name: get_s(item, "last_name")?,
        email_verified: get_bool(item, "email_verified")?,
        status: UserStatus::parse(&status).ok_or_else(|| malformed("status"))?,
        roles,
        created_at: UnixTime(get_n(item, "created_at")?),
        session_epoch: epoch(item, "session_epoch")?,
        password_epoch: epoch(item, "password_epoch")?,
        // Accounts stored before the attribute existed count as confirmed.
        password_unconfirmed: matches!(
            item.get("password_unconfirmed"),
            Some(AttributeValue::Bool(true))
        ),
    })
}

pub(super) fn epoch(item: &Item, name: &str) -> Result<u32> {
    u32::try_from(get_n(item, name)?).map_err(|_| malformed(name))
}

pub(super) fn token_item(token: &OneTimeToken) -> Item {
    let mut item = Item::from([
        ("pk".into(), s(token_pk(&token.digest))),
        ("sk".into(), s("TOKEN")),
        ("type".into(), s("one_time_token")),
        ("digest".into(), s(&token.digest)),
        ("purpose".into(), s(token.purpose.as_str())),
        ("user_id".into(), s(&token.user_id)),
        ("email_key".into(), s(&token.email_key)),
        ("password_epoch".into(), n(token.password_epoch)),
        ("created_at".into(), n(token.created_at.seconds())),
        (TTL_ATTRIBUTE.into(), n(token.expires_at.seconds())),
        // A user's tokens, so erasing the user finds them.
        ("gsi1pk".into(), s(user_pk(&token.user_id))),
        ("gsi1sk".into(), s(format!("TOKEN#{}", token.digest))),
    ]);
    if let Some(challenge) = &token.challenge {
        item.insert("challenge".into(), s(challenge));
    }
    item
}

pub(super) fn token_from_item(item: &Item) -> Result<OneTimeToken> {
    Ok(OneTimeToken {
        digest: get_s(item, "digest")?,
        purpose: TokenPurpose::parse(&get_s(item, "purpose")?)
            .ok_or_else(|| malformed("purpose"))?,
        user_id: get_s(item, "user_id")?,
        email_key: get_s(item, "email_key")?,
        password_epoch: epoch(item, "password_epoch")?,
        created_at: UnixTime(get_n(item, "created_at")?),
        expires_at: UnixTime(get_n(item, TTL_ATTRIBUTE)?),
        challenge: get_opt_s(item, "challenge")?,
    })
}

pub(super) fn identity_item(link: &IdentityLink) -> Item {
    let key = identity_pk(link.provider, &link.subject);
    Item::from([
        ("pk".into(), s(&key)),
        ("sk".into(), s("IDENTITY")),
        ("type".into(), s("identity")),
        ("provider".into(), s(link.provider.as_str())),
        ("subject".into(), s(&link.subject)),
        ("user_id".into(), s(&link.user_id)),
        ("email_key".into(), s(&link.email_key)),
        ("created_at".into(), n(link.created_at.seconds())),
        // A user's identities, so the account can list and erase them.
        ("gsi1pk".into(), s(user_pk(&link.user_id))),
        ("gsi1sk".into(), s(key)),
    ])
}

pub(super) fn identity_from_item(item: &Item) -> Result<IdentityLink> {
    Ok(IdentityLink {
        provider: Provider::parse(&get_s(item, "provider")?)
            .ok_or_else(|| malformed("provider"))?,
        subject: get_s(item, "subject")?,
        user_id: get_s(item, "user_id")?,
        email_key: get_s(item, "email_key")?,
        created_at: UnixTime(get_n(item, "created_at")?),
    })
}

pub(super) fn pending_item(pending: &PendingSignIn) -> Item {
    let mut item = Item::from([
        ("pk".into(), s(pending_pk(&pending.state_digest))),
        ("sk".into(), s("OAUTH_STATE")),
        ("type".into(), s("oauth_state")),
        ("state_digest".into(), s(&pending.state_digest)),
        ("provider".into(), s(pending.provider.as_str())),
        ("pkce_verifier".into(), s(pending.pkce_verifier.expose())),
        ("nonce".into(), s(pending.nonce.expose())),
        ("return_to".into(), s(&pending.return_to)),
        ("client_challenge".into(), s(&pending.client_challenge)),
        ("created_at".into(), n(pending.created_at.seconds())),
        (TTL_ATTRIBUTE.into(), n(pending.expires_at.seconds())),
    ]);
    if let Some(digest) = &pending.invitation_digest {
        item.insert("invitation_digest".into(), s(digest));
    }
    item
}

pub(super) fn pending_from_item(item: &Item) -> Result<PendingSignIn> {
    Ok(PendingSignIn {
        state_digest: get_s(item, "state_digest")?,
        provider: Provider::parse(&get_s(item, "provider")?)
            .ok_or_else(|| malformed("provider"))?,
        pkce_verifier: crate::secret::Secret::new(get_s(item, "pkce_verifier")?),
        nonce: crate::secret::Secret::new(get_s(item, "nonce")?),
        return_to: get_s(item, "return_to")?,
        invitation_digest: get_opt_s(item, "invitation_digest")?,
        client_challenge: get_opt_s(item, "client_challenge")?.unwrap_or_default(),
        created_at: UnixTime(get_n(item, "created_at")?),
        expires_at: UnixTime(get_n(item, TTL_ATTRIBUTE)?),
    })
}

pub(super) fn lockout_from_item(item: &Item) -> Result<LockoutRecord> {
    Ok(LockoutRecord {
        failures: u32::try_from(get_n(item, "failures")?).map_err(|_| malformed("failures"))?,
        last_failure_at: UnixTime(get_n(item, "last_failure_at")?),
        locked_until: get_opt_n(item, "locked_until")?.map(UnixTime),
    })
}

pub(super) fn session_item(session: &Session) -> Item {
    let mut item = Item::from([
        ("pk".into(), s(session_pk(&session.id))),
        ("sk".into(), s("SESSION")),
        ("type".into(), s("session")),
        ("session_id".into(), s(&session.id)),
        ("user_id".into(), s(&session.user_id)),
        ("refresh_digest".into(), s(&session.refresh_digest)),
        ("created_at".into(), n(session.created_at.seconds())),
        ("last_used_at".into(), n(session.last_used_at.seconds())),
        ("epoch".into(), n(session.epoch)),
        (
            "rotation_secret".into(),
            s(session.rotation_secret.expose()),
        ),
        (TTL_ATTRIBUTE.into(), n(session.expires_at.seconds())),
        // A user's sessions, newest last.
        ("gsi1pk".into(), s(user_pk(&session.user_id))),
        (
            "gsi1sk".into(),
            s(format!(
                "SESSION#{:020}#{}",
                session.created_at.seconds(),
                session.id
            )),
        ),
    ]);
    if let Some(ip) = &session.ip {
        item.insert("ip".into(), s(ip));
    }
    if let Some(agent) = &session.user_agent {
        item.insert("user_agent".into(), s(agent));
    }
    if let Some(revoked) = session.revoked_at {
        item.insert("revoked_at".into(), n(revoked.seconds()));
    }
    if let Some(previous) = &session.previous_digest {
        item.insert("previous_digest".into(), s(previous));
    }
    if let Some(rotated) = session.rotated_at {
        item.insert("rotated_at".into(), n(rotated.seconds()));
    }
    if let Some(key) = &session.access_key {
        item.insert("access_key".into(), s(key));
    }
    if let Some(client) = &session.client {
        item.insert("client_id".into(), s(&client.client_id));
        item.insert("scope".into(), s(&client.scope));
        item.insert("auth_time".into(), n(client.auth_time.seconds()));
    }
    item
}

/// Every refresh token a session issued points back to it, so a reused old one is recognised.
pub(super) fn refresh_item(digest: &str, session: &Session, issued_at: UnixTime) -> Item {
    Item::from([
        ("pk".into(), s(refresh_pk(digest))),
        ("sk".into(), s("REFRESH")),
        ("type".into(), s("refresh_token")),
        ("session_id".into(), s(&session.id)),
        ("user_id".into(), s(&session.user_id)),
        ("issued_at".into(), n(issued_at.seconds())),
        (TTL_ATTRIBUTE.into(), n(session.expires_at.seconds())),
        ("gsi1pk".into(), s(user_pk(&session.user_id))),
        ("gsi1sk".into(), s(format!("REFRESH#{digest}"))),
    ])
}

pub(super) fn session_from_item(item: &Item) -> Result<Session> {
    Ok(Session {
        id: get_s(item, "session_id")?,
        user_id: get_s(item, "user_id")?,
        refresh_digest: get_s(item, "refresh_digest")?,
        created_at: UnixTime(get_n(item, "created_at")?),
        last_used_at: UnixTime(get_n(item, "last_used_at")?),
        expires_at: UnixTime(get_n(item, TTL_ATTRIBUTE)?),
        ip: get_opt_s(item, "ip")?,
        user_agent: get_opt_s(item, "user_agent")?,
        revoked_at: get_opt_n(item, "revoked_at")?.map(UnixTime),
        epoch: epoch(item, "epoch")?,
        previous_digest: get_opt_s(item, "previous_digest")?,
        rotated_at: get_opt_n(item, "rotated_at")?.map(UnixTime),
        rotation_secret: crate::secret::Secret::new(get_s(item, "rotation_secret")?),
        access_key: get_opt_s(item, "access_key")?,
        client: match get_opt_s(item, "client_id")? {
            Some(client_id) => Some(ClientGrant {
                client_id,
                scope: get_s(item, "scope")?,
                auth_time: UnixTime(get_n(item, "auth_time")?),
            }),
            None => None,
        },
    })
}

/// DynamoDB forgets an invitation this long after it expires (used or not).
pub(super) const INVITATION_KEPT_AFTER_EXPIRY: i64 = 30 * 24 * 3600;

pub(super) fn invitation_item(invitation: &Invitation) -> Item {
    let mut item = Item::from([
        ("pk".into(), s(invitation_pk(&invitation.id))),
        ("sk".into(), s("INVITATION")),
        ("type".into(), s("invitation")),
        ("invitation_id".into(), s(&invitation.id)),
        ("digest".into(), s(&invitation.digest)),
        (
            "roles".into(),
            AttributeValue::L(invitation.roles.iter().map(s).collect()),
        ),
        ("created_by".into(), s(&invitation.created_by)),
        ("created_at".into(), n(invitation.created_at.seconds())),
        ("valid_until".into(), n(invitation.expires_at.seconds())),
        (
            TTL_ATTRIBUTE.into(),
            n(invitation.expires_at.seconds() + INVITATION_KEPT_AFTER_EXPIRY),
        ),
        ("gsi1pk".into(), s(INVITATIONS_PARTITION)),
        (
            "gsi1sk".into(),
            s(format!(
                "{:020}#{}",
                invitation.created_at.seconds(),
                invitation.id
            )),
        ),
    ]);
    if let Some(email) = &invitation.email {
        item.insert("email".into(), s(email.as_str()));
        item.insert("email_key".into(), s(email.key()));
    }
    if let Some(used) = invitation.used_at {
        item.insert("used_at".into(), n(used.seconds()));
    }
    if let Some(by) = &invitation.used_by {
        item.insert("used_by".into(), s(by));
    }
    item
}

pub(super) fn invitation_from_item(item: &Item) -> Result<Invitation> {
    Ok(Invitation {
        id: get_s(item, "invitation_id")?,
        digest: get_s(item, "digest")?,
        email: get_opt_s(item, "email")?.map(Email::from_stored),
        roles: string_list(item, "roles")?,
        created_by: get_s(item, "created_by")?,
        created_at: UnixTime(get_n(item, "created_at")?),
        expires_at: UnixTime(get_n(item, "valid_until")?),
        used_at: get_opt_n(item, "used_at")?.map(UnixTime),
        used_by: get_opt_s(item, "used_by")?,
    })
}

pub(super) fn access_key_item(key: &AccessKey) -> Item {
    let mut item = Item::from([
        ("pk".into(), s(access_key_pk(&key.id))),
        ("sk".into(), s("ACCESSKEY")),
        ("type".into(), s("access_key")),
        ("access_key".into(), s(&key.id)),
        ("user_id".into(), s(&key.user_id)),
        ("secret_digest".into(), s(&key.secret_digest)),
        ("created_at".into(), n(key.created_at.seconds())),
        ("gsi1pk".into(), s(user_pk(&key.user_id))),
        (
            "gsi1sk".into(),
            s(format!(
                "ACCESSKEY#{:020}#{}",
                key.created_at.seconds(),
                key.id
            )),
        ),
    ]);
    // Not the TTL attribute: an expired key stays counted against the account's limit until it
    // is deleted, and is refused at login meanwhile.
    if let Some(end) = key.expires_at {
        item.insert("valid_until".into(), n(end.seconds()));
    }
    item
}

pub(super) fn access_key_from_item(item: &Item) -> Result<AccessKey> {
    Ok(AccessKey {
        id: get_s(item, "access_key")?,
        user_id: get_s(item, "user_id")?,
        secret_digest: get_s(item, "secret_digest")?,
        created_at: UnixTime(get_n(item, "created_at")?),
        last_used_at: get_opt_n(item, "last_used_at")?.map(UnixTime),
        expires_at: get_opt_n(item, "valid_until")?.map(UnixTime),
    })
}

pub(super) fn event_item(event: &AuditEvent) -> Item {
    let sort = format!("{:020}#{}", event.at.seconds(), event.id);
    let mut item = Item::from([
        (
            "pk".into(),
            s(format!("AUDIT#{}", event.user_id.as_deref().unwrap_or("-"))),
        ),
        ("sk".into(), s(&sort)),
        ("type".into(), s("audit_event")),
        ("event_id".into(), s(&event.id)),
        ("at".into(), n(event.at.seconds())),
        ("kind".into(), s(&event.kind)),
        (
            "detail".into(),
            s(serde_json::Value::Object(event.detail.clone()).to_string()),
        ),
        (TTL_ATTRIBUTE.into(), n(event.expires_at.seconds())),
        ("gsi1pk".into(), s(AUDIT_PARTITION)),
        ("gsi1sk".into(), s(sort)),
    ]);
    for (name, value) in [
        ("user_id", &event.user_id),
        ("ip", &event.ip),
        ("user_agent", &event.user_agent),
    ] {
        if let Some(value) = value {
            item.insert(name.into(), s(value));
        }
    }
    item
}

pub(super) fn event_from_item(item: &Item) -> Result<AuditEvent> {
    let detail = get_s(item, "detail")?;
    Ok(AuditEvent {
        id: get_s(item, "event_id")?,
        at: UnixTime(get_n(item, "at")?),
        kind: get_s(item, "kind")?,
        user_id: get_opt_s(item, "user_id")?,
        ip: get_opt_s(item, "ip")?,
        user_agent: get_opt_s(item, "user_agent")?,
        detail: serde_json::from_str(&detail).map_err(|_| malformed("detail"))?,
        expires_at: UnixTime(get_n(item, TTL_ATTRIBUTE)?),
    })
}

pub(super) fn string_list(item: &Item, name: &str) -> Result<Vec<String>> {
    match item.get(name) {
        Some(AttributeValue::L(list)) => list
            .iter()
            .map(|v| match v {
                AttributeValue::S(value) => Ok(value.clone()),
                _ => Err(malformed(name)),
            })
            .collect(),
        _ => Err(malformed(name)),
    }
}

/// A page's last key as an opaque cursor (every key attribute of this table is a string).
pub(super) fn key_cursor(key: &Item, phase: &str) -> Result<String> {
    let mut fields = serde_json::Map::new();
    for (name, value) in key {
        match value {
            AttributeValue::S(text) => {
                fields.insert(name.clone(), text.clone().into());
            }
            _ => return Err(malformed(name)),
        }
    }
    Ok(encode_cursor(
        &serde_json::json!({ "phase": phase, "key": fields }),
    ))
}

/// The key and phase a cursor holds, if it holds exactly the `expected` key attributes.
pub(super) fn cursor_key(cursor: &str, expected: &[&str]) -> Result<(String, Item)> {
    let invalid = || Error::invalid_field("cursor", "is not a cursor this server gave");
    let value = decode_cursor(cursor)?;
    let phase = value
        .get("phase")
        .and_then(|p| p.as_str())
        .ok_or_else(invalid)?
        .to_owned();
    let fields = value
        .get("key")
        .and_then(|k| k.as_object())
        .ok_or_else(invalid)?;
    if fields.len() != expected.len() {
        return Err(invalid());
    }
    let mut key = Item::new();
    for name in expected {
        let text = fields
            .get(*name)
            .and_then(|v| v.as_str())
            .ok_or_else(invalid)?;
        key.insert((*name).to_owned(), s(text));
    }
    Ok((phase, key))
}

pub(super) fn signing_key_item(key: &SigningKeyRecord) -> Item {
    use base64::Engine as _;
    Item::from([
        ("pk".into(), s(SIGNING_KEYS_PK)),
        ("sk".into(), s(format!("KEY#{}", key.kid))),
        ("type".into(), s("signing_key")),
        ("kid".into(), s(&key.kid)),
        (
            "private_der".into(),
            s(base64::engine::general_purpose::STANDARD.encode(&key.private_der)),
        ),
        ("created_at".into(), n(key.created_at.seconds())),
        ("activates_at".into(), n(key.activates_at.seconds())),
    ])
}

pub(super) fn signing_key_from_item(item: &Item) -> Result<SigningKeyRecord> {
    use base64::Engine as _;
    Ok(SigningKeyRecord {
        kid: get_s(item, "kid")?,
        private_der: base64::engine::general_purpose::STANDARD
            .decode(get_s(item, "private_der")?)
            .map_err(|_| malformed("private_der"))?,
        created_at: UnixTime(get_n(item, "created_at")?),
        activates_at: UnixTime(get_n(item, "activates_at")?),
    })
}
