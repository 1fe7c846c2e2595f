//! Authorization codes: one item each, redeemed with one conditional update, gone by TTL.

use super::*;
use crate::store::AuthorizationCodeStore;

/// A code is kept this long after it expires, so that a late replay is still recognised and the
/// tokens it gave revoked.
const CODE_KEPT_AFTER_EXPIRY: i64 = 600;

fn code_item(code: &AuthorizationCode) -> Item {
    let mut item = Item::from([
        ("pk".into(), s(code_pk(&code.digest))),
        ("sk".into(), s("CODE")),
        ("type".into(), s("authorization_code")),
        ("digest".into(), s(&code.digest)),
        ("client_id".into(), s(&code.client_id)),
        ("redirect_uri".into(), s(&code.redirect_uri)),
        ("user_id".into(), s(&code.user_id)),
        ("scope".into(), s(&code.scope)),
        ("auth_time".into(), n(code.auth_time.seconds())),
        ("session_epoch".into(), n(code.session_epoch)),
        ("created_at".into(), n(code.created_at.seconds())),
        ("valid_until".into(), n(code.expires_at.seconds())),
        (
            TTL_ATTRIBUTE.into(),
            n(code.expires_at.seconds() + CODE_KEPT_AFTER_EXPIRY),
        ),
    ]);
    if let Some(nonce) = &code.nonce {
        item.insert("nonce".into(), s(nonce));
    }
    if let Some(challenge) = &code.code_challenge {
        item.insert("code_challenge".into(), s(challenge));
    }
    if let Some(session) = &code.session_id {
        item.insert("session_id".into(), s(session));
    }
    if let Some(key) = &code.access_key {
        item.insert("access_key".into(), s(key));
    }
    item
}

fn code_from_item(item: &Item) -> Result<AuthorizationCode> {
    Ok(AuthorizationCode {
        digest: get_s(item, "digest")?,
        client_id: get_s(item, "client_id")?,
        redirect_uri: get_s(item, "redirect_uri")?,
        user_id: get_s(item, "user_id")?,
        scope: get_s(item, "scope")?,
        nonce: get_opt_s(item, "nonce")?,
        code_challenge: get_opt_s(item, "code_challenge")?,
        auth_time: UnixTime(get_n(item, "auth_time")?),
        created_at: UnixTime(get_n(item, "created_at")?),
        expires_at: UnixTime(get_n(item, "valid_until")?),
        session_id: get_opt_s(item, "session_id")?,
        access_key: get_opt_s(item, "access_key")?,
        session_epoch: epoch(item, "session_epoch")?,
    })
}

#[async_trait]
impl AuthorizationCodeStore for DynamoStore {
    async fn create_code(&self, code: &AuthorizationCode) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(code_item(code)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    async fn code(&self, digest: &str) -> Result<Option<AuthorizationCode>> {
        self.get(&code_pk(digest), "CODE")
            .await?
            .map(|item| code_from_item(&item))
            .transpose()
    }

    async fn redeem_code(&self, digest: &str, session_id: &str) -> Result<Redemption> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(code_pk(digest)))
            .key("sk", s("CODE"))
            .update_expression("SET session_id = :session")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(session_id)")
            .expression_attribute_values(":session", s(session_id))
            .send()
            .await;
        match updated {
            Ok(_) => Ok(Redemption::Redeemed),
            Err(error) if condition_failed(&error) => {
                match self.code(digest).await?.and_then(|code| code.session_id) {
                    Some(earlier) => Ok(Redemption::AlreadyRedeemed(earlier)),
                    None => Ok(Redemption::Unknown),
                }
            }
            Err(error) => Err(sdk_error(error)),
        }
    }
}
