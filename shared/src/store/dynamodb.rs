//! The cloud store: one DynamoDB table (single-table design, docs/dynamodb.md).
//!
//! Every `Store` method is one conditional write or one transaction, so the outcome of concurrent
//! requests is decided by DynamoDB, never by a read followed by a write here. Reads that decide
//! anything are strongly consistent. Items that expire carry `expires_at` (the table's TTL
//! attribute), and are also checked on read, because TTL deletes late.

use std::collections::HashMap;
use std::error::Error as StdError;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, Put, ReturnValue, ScalarAttributeType,
    TimeToLiveSpecification, TransactWriteItem, Update,
};

use crate::access_key::AccessKey;
use crate::audit::AuditEvent;
use crate::clock::UnixTime;
use crate::email::Email;
use crate::error::{Error, Result};
use crate::identity::{IdentityLink, PendingSignIn, Provider};
use crate::invitation::{Invitation, InvitationUse};
use crate::lockout::{FailureWrite, LockoutRecord};
use crate::one_time_token::{OneTimeToken, TokenPurpose};
use crate::session::Session;
use crate::store::{EventQuery, Page, Store, UserQuery, UserUpdate, decode_cursor, encode_cursor};
use crate::tokens::SigningKeyRecord;
use crate::user::{User, UserStatus};
use crate::username::Username;

type Item = HashMap<String, AttributeValue>;

/// The TTL attribute of the table.
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// The first global secondary index: users by email (admin listing), a user's items (sessions,
/// tokens, access keys, provider links), invitations and the audit log by time.
pub const GSI1: &str = "gsi1";
/// The second: users by username (admin search).
pub const GSI2: &str = "gsi2";

/// Conditional writes that lose to a concurrent writer are tried again this many times.
const MAX_ATTEMPTS: usize = 8;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoStore {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    /// A client from the environment's AWS configuration (region, credentials), at `endpoint`
    /// when given (an emulator).
    pub async fn connect(table: &str, endpoint: Option<&str>) -> DynamoStore {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(endpoint) = endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let sdk = loader.load().await;
        DynamoStore::new(Client::new(&sdk), table)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table with its index and TTL; succeeds when it already exists.
    pub async fn create_table(&self) -> Result<()> {
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(Error::internal)
        };
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(Error::internal)
        };
        let index = |name: &str, pk: &str, sk: &str| {
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(pk, KeyType::Hash)?)
                .key_schema(key(sk, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(Error::internal)
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .attribute_definitions(attribute("pk")?)
            .attribute_definitions(attribute("sk")?)
            .attribute_definitions(attribute("gsi1pk")?)
            .attribute_definitions(attribute("gsi1sk")?)
            .attribute_definitions(attribute("gsi2pk")?)
            .attribute_definitions(attribute("gsi2sk")?)
            .global_secondary_indexes(index(GSI1, "gsi1pk", "gsi1sk")?)
            .global_secondary_indexes(index(GSI2, "gsi2pk", "gsi2sk")?)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) => {}
            Err(e) => return Err(sdk_error(e)),
        }
        self.wait_until_active().await?;
        let ttl = self
            .client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()
                    .map_err(Error::internal)?,
            )
            .send()
            .await;
        match ttl {
            Ok(_) => Ok(()),
            // Already enabled: DynamoDB refuses to set it twice.
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.code() == Some("ValidationException")
                        && s.message().is_some_and(|m| m.contains("already enabled"))
                }) =>
            {
                Ok(())
            }
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn wait_until_active(&self) -> Result<()> {
        for _ in 0..120 {
            let described = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(sdk_error)?;
            let status = described
                .table()
                .and_then(|t| t.table_status())
                .map(|s| s.as_str().to_owned());
            if status.as_deref() == Some("ACTIVE") {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        Err(Error::internal(format!(
            "table {} did not become active",
            self.table
        )))
    }

    /// A one-paragraph description of the table: status, items, index, TTL.
    pub async fn describe_table(&self) -> Result<String> {
        let described = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(sdk_error)?;
        let table = described
            .table()
            .ok_or_else(|| Error::internal("no table description"))?;
        let ttl = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(sdk_error)?;
        let ttl = ttl
            .time_to_live_description()
            .map(|d| {
                format!(
                    "{} on {}",
                    d.time_to_live_status().map_or("unknown", |s| s.as_str()),
                    d.attribute_name().unwrap_or("-")
                )
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let indexes: Vec<&str> = table
            .global_secondary_indexes()
            .iter()
            .filter_map(|i| i.index_name())
            .collect();
        Ok(format!(
            "table {}: {}, {} items, indexes [{}], TTL {}",
            self.table,
            table.table_status().map_or("unknown", |s| s.as_str()),
            table.item_count().unwrap_or(0),
            indexes.join(", "),
            ttl
        ))
    }

    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(output.item().cloned())
    }

    /// Writes `items` as one transaction, trying again with back-off while it only loses to
    /// concurrent transactions (503 when that goes on). `Ok(None)` when written; `Ok(Some(_))`
    /// when a condition failed, for the caller to say what that means.
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        what: &str,
    ) -> Result<Option<Cancelled>> {
        for attempt in 1..=MAX_ATTEMPTS {
            let written = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let Err(error) = written else {
                return Ok(None);
            };
            match cancellation(&error) {
                Some(reasons) if reasons.contains(&CONDITION_FAILED) => {
                    return Ok(Some(Cancelled(
                        reasons.into_iter().map(str::to_owned).collect(),
                    )));
                }
                Some(reasons)
                    if reasons.contains(&TRANSACTION_CONFLICT) && attempt < MAX_ATTEMPTS =>
                {
                    back_off(attempt).await;
                }
                _ => return Err(sdk_error(error)),
            }
        }
        Err(contended(what))
    }

    /// The account write of signup: the email and username claims and the account, each
    /// conditional on being new, (for an invited signup) the invitation marked used by it,
    /// conditional on being usable, and (for a provider sign-in) the identity link, conditional on
    /// being new, all in one transaction. `false` when the identity was linked meanwhile.
    async fn put_account(
        &self,
        user: &User,
        invitation: Option<&InvitationUse>,
        link: Option<&IdentityLink>,
    ) -> Result<bool> {
        let claim = |pk: String, sk: &str| {
            Item::from([
                ("pk".to_owned(), s(pk)),
                ("sk".to_owned(), s(sk)),
                ("type".to_owned(), s(sk.to_ascii_lowercase())),
                ("user_id".to_owned(), s(&user.id)),
            ])
        };
        let absent = "attribute_not_exists(pk)";
        let offset = usize::from(invitation.is_some());
        let mut account = user_item(user);
        if let Some(link) = link {
            account.insert(
                "identity_keys".into(),
                AttributeValue::Ss(vec![identity_pk(link.provider, &link.subject)]),
            );
        }
        let mut items = Vec::new();
        if let Some(used) = invitation {
            let update = Update::builder()
                .table_name(&self.table)
                .key("pk", s(invitation_pk(&used.id)))
                .key("sk", s("INVITATION"))
                .update_expression("SET used_at = :now, used_by = :user")
                .condition_expression(
                    "attribute_exists(pk) AND digest = :digest AND attribute_not_exists(used_at) \
                     AND valid_until > :now \
                     AND (attribute_not_exists(email_key) OR email_key = :email)",
                )
                .expression_attribute_values(":now", n(used.now.seconds()))
                .expression_attribute_values(":user", s(&user.id))
                .expression_attribute_values(":digest", s(&used.digest))
                .expression_attribute_values(":email", s(&used.email_key))
                .build()
                .map_err(Error::internal)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        items.push(put(
            &self.table,
            claim(email_pk(user.email.key()), "EMAIL"),
            absent,
        )?);
        items.push(put(
            &self.table,
            claim(username_pk(user.username.key()), "USERNAME"),
            absent,
        )?);
        items.push(put(&self.table, account, absent)?);
        if let Some(link) = link {
            items.push(put(&self.table, identity_item(link), absent)?);
        }
        match self.transact(items, "account claims").await? {
            None => Ok(true),
            // The identity first: a concurrent sign-in with it made the account already.
            Some(cancelled) if link.is_some() && cancelled.failed(offset + 3) => Ok(false),
            // Then the same precedence as every store: the invitation, email, username.
            Some(cancelled) if offset == 1 && cancelled.failed(0) => Err(Error::InvitationInvalid),
            Some(cancelled) if cancelled.failed(offset) => Err(Error::EmailTaken),
            Some(cancelled) if cancelled.failed(offset + 1) => Err(Error::UsernameTaken),
            Some(_) => Err(Error::internal(
                "an account write failed an unexpected condition",
            )),
        }
    }

    /// An active admin other than `user_id`, from the users index (eventually consistent: the
    /// transaction that relies on it checks it again, consistently).
    async fn other_active_admin(&self, user_id: &str) -> Result<Option<String>> {
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI1)
                .key_condition_expression("gsi1pk = :users")
                .filter_expression(
                    "contains(#roles, :admin) AND #status = :active AND user_id <> :me",
                )
                .expression_attribute_names("#roles", "roles")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":users", s(USERS_PARTITION))
                .expression_attribute_values(":admin", s(crate::roles::ADMIN))
                .expression_attribute_values(":active", s(UserStatus::Active.as_str()))
                .expression_attribute_values(":me", s(user_id))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_error)?;
            // The index may be behind: each candidate is confirmed with a consistent read.
            for item in page.items() {
                let id = get_s(item, "user_id")?;
                if self
                    .user_by_id(&id)
                    .await?
                    .is_some_and(|user| user.is_active_admin())
                {
                    return Ok(Some(id));
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(None);
            }
        }
    }

    /// Every key of the items that belong to the user: those in its `gsi1` partition.
    async fn items_of(&self, user_id: &str) -> Result<Vec<(String, String)>> {
        self.index_partition(&user_pk(user_id), "", true)
            .await?
            .iter()
            .map(|item| Ok((get_s(item, "pk")?, get_s(item, "sk")?)))
            .collect()
    }

    /// Every item of a `gsi1` partition whose sort key starts with `prefix`, in sort-key order
    /// (reversed unless `forward`).
    async fn index_partition(
        &self,
        partition: &str,
        prefix: &str,
        forward: bool,
    ) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI1)
                .expression_attribute_values(":partition", s(partition))
                .scan_index_forward(forward)
                .set_exclusive_start_key(start);
            // DynamoDB refuses an empty string as a key condition's value.
            query = if prefix.is_empty() {
                query.key_condition_expression("gsi1pk = :partition")
            } else {
                query
                    .key_condition_expression(
                        "gsi1pk = :partition AND begins_with(gsi1sk, :prefix)",
                    )
                    .expression_attribute_values(":prefix", s(prefix))
            };
            let page = query.send().await.map_err(sdk_error)?;
            items.extend(page.items().iter().cloned());
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    async fn delete_item(&self, pk: &str, sk: &str) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    /// Two consistent reads whether or not the claim exists: the claim, then the account (or an
    /// account that can't exist), so the time taken does not tell which emails or usernames
    /// have accounts.
    async fn user_by_claim(&self, pk: &str, sk: &str) -> Result<Option<User>> {
        match self.get(pk, sk).await? {
            Some(claim) => self.user_by_id(&get_s(&claim, "user_id")?).await,
            None => {
                self.get(&user_pk("#none"), "USER").await?;
                Ok(None)
            }
        }
    }
}

// Keys of every item type (docs/dynamodb.md).
fn user_pk(id: &str) -> String {
    format!("USER#{id}")
}
fn email_pk(key: &str) -> String {
    format!("EMAIL#{key}")
}
fn username_pk(key: &str) -> String {
    format!("USERNAME#{key}")
}
fn lockout_pk(key: &str) -> String {
    format!("LOCKOUT#{key}")
}
fn counter_pk(key: &str) -> String {
    format!("COUNTER#{key}")
}
fn session_pk(id: &str) -> String {
    format!("SESSION#{id}")
}
const SIGNING_KEYS_PK: &str = "SIGNING_KEYS";
/// Claimed once, by the instance whose first key is stored.
const FIRST_KEY_SK: &str = "#FIRST";

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn malformed(name: &str) -> Error {
    Error::internal(format!("stored item has a missing or malformed {name}"))
}

fn get_s(item: &Item, name: &str) -> Result<String> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(malformed(name)),
    }
}

fn get_opt_s(item: &Item, name: &str) -> Result<Option<String>> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::S(value)) => Ok(Some(value.clone())),
        Some(_) => Err(malformed(name)),
    }
}

fn get_n(item: &Item, name: &str) -> Result<i64> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value.parse().map_err(|_| malformed(name)),
        _ => Err(malformed(name)),
    }
}

fn get_opt_n(item: &Item, name: &str) -> Result<Option<i64>> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(value)) => value.parse().map(Some).map_err(|_| malformed(name)),
        Some(_) => Err(malformed(name)),
    }
}

fn get_bool(item: &Item, name: &str) -> Result<bool> {
    match item.get(name) {
        Some(AttributeValue::Bool(value)) => Ok(*value),
        _ => Err(malformed(name)),
    }
}

fn user_item(user: &User) -> Item {
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

fn user_from_item(item: &Item) -> Result<User> {
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
    })
}

fn epoch(item: &Item, name: &str) -> Result<u32> {
    u32::try_from(get_n(item, name)?).map_err(|_| malformed(name))
}

fn token_pk(digest: &str) -> String {
    format!("TOKEN#{digest}")
}

fn token_item(token: &OneTimeToken) -> Item {
    Item::from([
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
    ])
}

fn token_from_item(item: &Item) -> Result<OneTimeToken> {
    Ok(OneTimeToken {
        digest: get_s(item, "digest")?,
        purpose: TokenPurpose::parse(&get_s(item, "purpose")?)
            .ok_or_else(|| malformed("purpose"))?,
        user_id: get_s(item, "user_id")?,
        email_key: get_s(item, "email_key")?,
        password_epoch: epoch(item, "password_epoch")?,
        created_at: UnixTime(get_n(item, "created_at")?),
        expires_at: UnixTime(get_n(item, TTL_ATTRIBUTE)?),
    })
}

fn identity_pk(provider: Provider, subject: &str) -> String {
    format!("IDENTITY#{}#{subject}", provider.as_str())
}

fn identity_item(link: &IdentityLink) -> Item {
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

fn identity_from_item(item: &Item) -> Result<IdentityLink> {
    Ok(IdentityLink {
        provider: Provider::parse(&get_s(item, "provider")?)
            .ok_or_else(|| malformed("provider"))?,
        subject: get_s(item, "subject")?,
        user_id: get_s(item, "user_id")?,
        email_key: get_s(item, "email_key")?,
        created_at: UnixTime(get_n(item, "created_at")?),
    })
}

fn pending_pk(state_digest: &str) -> String {
    format!("OAUTH_STATE#{state_digest}")
}

fn pending_item(pending: &PendingSignIn) -> Item {
    let mut item = Item::from([
        ("pk".into(), s(pending_pk(&pending.state_digest))),
        ("sk".into(), s("OAUTH_STATE")),
        ("type".into(), s("oauth_state")),
        ("state_digest".into(), s(&pending.state_digest)),
        ("provider".into(), s(pending.provider.as_str())),
        ("pkce_verifier".into(), s(pending.pkce_verifier.expose())),
        ("nonce".into(), s(pending.nonce.expose())),
        ("return_to".into(), s(&pending.return_to)),
        ("created_at".into(), n(pending.created_at.seconds())),
        (TTL_ATTRIBUTE.into(), n(pending.expires_at.seconds())),
    ]);
    if let Some(digest) = &pending.invitation_digest {
        item.insert("invitation_digest".into(), s(digest));
    }
    item
}

fn pending_from_item(item: &Item) -> Result<PendingSignIn> {
    Ok(PendingSignIn {
        state_digest: get_s(item, "state_digest")?,
        provider: Provider::parse(&get_s(item, "provider")?)
            .ok_or_else(|| malformed("provider"))?,
        pkce_verifier: crate::secret::Secret::new(get_s(item, "pkce_verifier")?),
        nonce: crate::secret::Secret::new(get_s(item, "nonce")?),
        return_to: get_s(item, "return_to")?,
        invitation_digest: get_opt_s(item, "invitation_digest")?,
        created_at: UnixTime(get_n(item, "created_at")?),
        expires_at: UnixTime(get_n(item, TTL_ATTRIBUTE)?),
    })
}

fn lockout_from_item(item: &Item) -> Result<LockoutRecord> {
    Ok(LockoutRecord {
        failures: u32::try_from(get_n(item, "failures")?).map_err(|_| malformed("failures"))?,
        last_failure_at: UnixTime(get_n(item, "last_failure_at")?),
        locked_until: get_opt_n(item, "locked_until")?.map(UnixTime),
    })
}

fn session_item(session: &Session) -> Item {
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
    item
}

fn refresh_pk(digest: &str) -> String {
    format!("REFRESH#{digest}")
}

/// Every refresh token a session issued points back to it, so a reused old one is recognised.
fn refresh_item(digest: &str, session: &Session, issued_at: UnixTime) -> Item {
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

fn session_from_item(item: &Item) -> Result<Session> {
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
    })
}

const USERS_PARTITION: &str = "USERS";
const INVITATIONS_PARTITION: &str = "INVITATIONS";
const AUDIT_PARTITION: &str = "AUDIT";
/// DynamoDB forgets an invitation this long after it expires (used or not).
const INVITATION_KEPT_AFTER_EXPIRY: i64 = 30 * 24 * 3600;

fn invitation_pk(id: &str) -> String {
    format!("INVITATION#{id}")
}

fn invitation_item(invitation: &Invitation) -> Item {
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

fn invitation_from_item(item: &Item) -> Result<Invitation> {
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

fn access_key_pk(id: &str) -> String {
    format!("ACCESSKEY#{id}")
}

fn access_key_item(key: &AccessKey) -> Item {
    Item::from([
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
    ])
}

fn access_key_from_item(item: &Item) -> Result<AccessKey> {
    Ok(AccessKey {
        id: get_s(item, "access_key")?,
        user_id: get_s(item, "user_id")?,
        secret_digest: get_s(item, "secret_digest")?,
        created_at: UnixTime(get_n(item, "created_at")?),
        last_used_at: get_opt_n(item, "last_used_at")?.map(UnixTime),
    })
}

fn event_item(event: &AuditEvent) -> Item {
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

fn event_from_item(item: &Item) -> Result<AuditEvent> {
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

fn string_list(item: &Item, name: &str) -> Result<Vec<String>> {
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
fn key_cursor(key: &Item, phase: &str) -> Result<String> {
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
fn cursor_key(cursor: &str, expected: &[&str]) -> Result<(String, Item)> {
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

fn signing_key_item(key: &SigningKeyRecord) -> Item {
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

fn signing_key_from_item(item: &Item) -> Result<SigningKeyRecord> {
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

/// Throttling and DynamoDB's own passing failures are 503 with `Retry-After`; the rest is a 500.
/// The cause is kept for the log line, never shown to the client.
fn sdk_error<E, R>(error: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let passing = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "TransactionConflictException"
                    | "TransactionInProgressException"
            )
        ),
        _ => false,
    };
    let cause = DisplayErrorContext(&error).to_string();
    if passing {
        Error::Unavailable {
            retry_after: 1,
            cause: cause.into(),
        }
    } else {
        Error::internal(cause)
    }
}

/// Whether a conditional write failed because its condition did not hold: a domain outcome
/// (someone else got there first), never a service error.
fn condition_failed<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}

const CONDITION_FAILED: &str = "ConditionalCheckFailed";
/// Another transaction was touching one of the items at the same moment: try again.
const TRANSACTION_CONFLICT: &str = "TransactionConflict";

/// The reason code of each item of a cancelled transaction (`"None"` for those that were fine).
fn cancellation(error: &SdkError<TransactWriteItemsError, HttpResponse>) -> Option<Vec<&str>> {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => Some(
            cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect(),
        ),
        _ => None,
    }
}

/// A short, growing, jittered pause before trying a contended write again.
async fn back_off(attempt: usize) {
    let base = 10u64 << attempt.min(5);
    let jitter = rand::random::<u64>() % base;
    tokio::time::sleep(std::time::Duration::from_millis(base + jitter)).await;
}

fn contended(what: &str) -> Error {
    Error::Unavailable {
        retry_after: 1,
        cause: format!("{what}: still contended after {MAX_ATTEMPTS} attempts").into(),
    }
}

/// Why a transaction was cancelled: each item's reason, in the order the items were given.
struct Cancelled(Vec<String>);

impl Cancelled {
    /// Whether the condition of the item at `index` failed.
    fn failed(&self, index: usize) -> bool {
        self.0.get(index).is_some_and(|r| r == CONDITION_FAILED)
    }
}

fn put(table: &str, item: Item, condition: &str) -> Result<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .build()
        .map_err(Error::internal)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

#[async_trait]
impl Store for DynamoStore {
    #[tracing::instrument(skip_all, fields(user_id = %user.id), err)]
    async fn create_user(&self, user: &User) -> Result<()> {
        self.put_account(user, None, None).await.map(drop)
    }

    #[tracing::instrument(skip_all, fields(user_id = %user.id), err)]
    async fn create_invited_user(&self, user: &User, invitation: &InvitationUse) -> Result<()> {
        self.put_account(user, Some(invitation), None)
            .await
            .map(drop)
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<User>> {
        self.get(&user_pk(id), "USER")
            .await?
            .as_ref()
            .map(user_from_item)
            .transpose()
    }

    async fn user_by_email(&self, email_key: &str) -> Result<Option<User>> {
        self.user_by_claim(&email_pk(email_key), "EMAIL").await
    }

    async fn user_by_username(&self, username_key: &str) -> Result<Option<User>> {
        self.user_by_claim(&username_pk(username_key), "USERNAME")
            .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id), err)]
    async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        expected_epoch: u32,
    ) -> Result<Option<User>> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(user_pk(user_id)))
            .key("sk", s("USER"))
            .update_expression(
                "SET password_hash = :hash ADD session_epoch :one, password_epoch :one",
            )
            .condition_expression("attribute_exists(pk) AND password_epoch = :epoch")
            .expression_attribute_values(":hash", s(password_hash))
            .expression_attribute_values(":epoch", n(expected_epoch))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match updated {
            Ok(output) => output.attributes().map(user_from_item).transpose(),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(sdk_error(e)),
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id), err)]
    async fn verify_email(
        &self,
        user_id: &str,
        email_key: &str,
        next: UserStatus,
    ) -> Result<Option<User>> {
        // First as a pending account moving on; failing that, any other status kept as it is.
        let attempts = [
            (
                "SET email_verified = :yes, #status = :next",
                "email_key = :email AND #status = :pending",
            ),
            ("SET email_verified = :yes", "email_key = :email"),
        ];
        for (update, condition) in attempts {
            let mut request = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(user_pk(user_id)))
                .key("sk", s("USER"))
                .update_expression(update)
                .condition_expression(condition)
                .expression_attribute_values(":yes", AttributeValue::Bool(true))
                .expression_attribute_values(":email", s(email_key))
                .return_values(ReturnValue::AllNew);
            if update.contains("#status") {
                request = request
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":next", s(next.as_str()))
                    .expression_attribute_values(
                        ":pending",
                        s(UserStatus::PendingVerification.as_str()),
                    );
            }
            match request.send().await {
                Ok(output) => return output.attributes().map(user_from_item).transpose(),
                Err(e) if condition_failed(&e) => {}
                Err(e) => return Err(sdk_error(e)),
            }
        }
        Ok(None)
    }

    async fn set_status(&self, user_id: &str, status: UserStatus) -> Result<Option<User>> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(user_pk(user_id)))
            .key("sk", s("USER"))
            .update_expression("SET #status = :status")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status.as_str()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match updated {
            Ok(output) => output.attributes().map(user_from_item).transpose(),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Page<User>> {
        const EMAIL: &str = "email";
        const USERNAME: &str = "username";
        /// Items read per query, and queries per call: a filter that matches few users still
        /// answers in bounded time, with a short page and a cursor.
        const READ_PER_QUERY: i32 = 100;
        const QUERIES_PER_CALL: usize = 10;
        let prefix = query.prefix.clone().unwrap_or_default();
        let status = query.status.map(UserStatus::as_str).unwrap_or("");
        let invalid = || Error::invalid_field("cursor", "is not a cursor this server gave");
        // A cursor holds where the listing stopped and what it listed, so one from another
        // search is refused rather than handed to DynamoDB.
        let (mut phase, mut start) = match &query.cursor {
            None => (EMAIL.to_owned(), None),
            Some(cursor) => {
                let value = decode_cursor(cursor)?;
                let same_search = value.get("q").and_then(|v| v.as_str()) == Some(prefix.as_str())
                    && value.get("status").and_then(|v| v.as_str()) == Some(status);
                let phase = value
                    .get("phase")
                    .and_then(|p| p.as_str())
                    .unwrap_or_default();
                let (pk, sk) = match phase {
                    EMAIL => ("gsi1pk", "gsi1sk"),
                    USERNAME => ("gsi2pk", "gsi2sk"),
                    _ => return Err(invalid()),
                };
                if !same_search {
                    return Err(invalid());
                }
                if value
                    .get("key")
                    .and_then(|k| k.as_object())
                    .is_some_and(|k| k.is_empty())
                {
                    (phase.to_owned(), None)
                } else {
                    let (_, key) = cursor_key(cursor, &["pk", "sk", pk, sk])?;
                    let text = |name: &str| key.get(name).and_then(|v| v.as_s().ok());
                    let fits = text(pk).map(String::as_str) == Some(USERS_PARTITION)
                        && text("sk").map(String::as_str) == Some("USER")
                        && text("pk").is_some_and(|v| v.starts_with("USER#"))
                        && text(sk).is_some_and(|v| v.starts_with(&prefix));
                    if !fits {
                        return Err(invalid());
                    }
                    (phase.to_owned(), Some(key))
                }
            }
        };
        let cursor = |phase: &str, key: &Item| -> Result<String> {
            let mut fields = serde_json::Map::new();
            for (name, value) in key {
                let text = value.as_s().map_err(|_| malformed(name))?;
                fields.insert(name.clone(), text.clone().into());
            }
            Ok(encode_cursor(&serde_json::json!({
                "phase": phase, "key": fields, "q": prefix, "status": status,
            })))
        };
        let mut users = Vec::new();
        for _ in 0..QUERIES_PER_CALL {
            // Emails first; then, for a search, the users whose username matches but whose
            // email does not (so nobody is listed twice).
            let (index, pk, sk) = if phase == USERNAME {
                (GSI2, "gsi2pk", "gsi2sk")
            } else {
                (GSI1, "gsi1pk", "gsi1sk")
            };
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .expression_attribute_names("#pk", pk)
                .expression_attribute_values(":users", s(USERS_PARTITION))
                // Unfiltered email listing reads just what the page needs; a filter or the
                // username phase (which skips users listed by email) reads ahead.
                .limit(if query.status.is_none() && phase == EMAIL {
                    (query.limit - users.len()).clamp(1, READ_PER_QUERY as usize) as i32
                } else {
                    READ_PER_QUERY
                })
                .set_exclusive_start_key(start.take());
            request = if prefix.is_empty() {
                request.key_condition_expression("#pk = :users")
            } else {
                request
                    .key_condition_expression("#pk = :users AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#sk", sk)
                    .expression_attribute_values(":prefix", s(&prefix))
            };
            if let Some(wanted) = query.status {
                request = request
                    .filter_expression("#status = :status")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":status", s(wanted.as_str()));
            }
            let page = request.send().await.map_err(sdk_error)?;
            for item in page.items() {
                let user = user_from_item(item)?;
                if phase == USERNAME && user.email.key().starts_with(&prefix) {
                    continue;
                }
                users.push(user);
                if users.len() == query.limit {
                    let key: Item = ["pk", "sk", pk, sk]
                        .iter()
                        .filter_map(|name| item.get(*name).map(|v| ((*name).to_owned(), v.clone())))
                        .collect();
                    return Ok(Page {
                        items: users,
                        next_cursor: Some(cursor(&phase, &key)?),
                    });
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                if phase == EMAIL && !prefix.is_empty() {
                    phase = USERNAME.to_owned();
                    continue;
                }
                return Ok(Page {
                    items: users,
                    next_cursor: None,
                });
            }
        }
        // The read budget is spent: a short page, and where to go on.
        let next = match &start {
            Some(key) => cursor(&phase, key)?,
            None => cursor(&phase, &Item::new())?,
        };
        Ok(Page {
            items: users,
            next_cursor: Some(next),
        })
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id), err)]
    async fn update_user(&self, user_id: &str, update: &UserUpdate) -> Result<Option<User>> {
        for attempt in 1..=MAX_ATTEMPTS {
            let Some(before) = self.user_by_id(user_id).await? else {
                return Ok(None);
            };
            let Some(after) = update.apply(&before).filter(|after| *after != before) else {
                return Ok(Some(before));
            };
            // The last active admin stays one: the write is conditional on another active admin
            // being one at that moment, checked in the same transaction.
            let witness = if before.is_active_admin() && !after.is_active_admin() {
                Some(
                    self.other_active_admin(user_id)
                        .await?
                        .ok_or(Error::LastAdmin)?,
                )
            } else {
                None
            };
            let change = Update::builder()
                .table_name(&self.table)
                .key("pk", s(user_pk(user_id)))
                .key("sk", s("USER"))
                .update_expression(
                    "SET #status = :status, #roles = :roles, email_verified = :verified, \
                     session_epoch = :epoch",
                )
                .condition_expression(
                    "attribute_exists(pk) AND #status = :was_status AND #roles = :was_roles \
                     AND email_verified = :was_verified AND session_epoch = :was_epoch",
                )
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#roles", "roles")
                .expression_attribute_values(":status", s(after.status.as_str()))
                .expression_attribute_values(
                    ":roles",
                    AttributeValue::L(after.roles.iter().map(s).collect()),
                )
                .expression_attribute_values(
                    ":verified",
                    AttributeValue::Bool(after.email_verified),
                )
                .expression_attribute_values(":epoch", n(after.session_epoch))
                .expression_attribute_values(":was_status", s(before.status.as_str()))
                .expression_attribute_values(
                    ":was_roles",
                    AttributeValue::L(before.roles.iter().map(s).collect()),
                )
                .expression_attribute_values(
                    ":was_verified",
                    AttributeValue::Bool(before.email_verified),
                )
                .expression_attribute_values(":was_epoch", n(before.session_epoch))
                .build()
                .map_err(Error::internal)?;
            let mut items = vec![TransactWriteItem::builder().update(change).build()];
            if let Some(witness) = &witness {
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .key("pk", s(user_pk(witness)))
                    .key("sk", s("USER"))
                    .condition_expression("contains(#roles, :admin) AND #status = :active")
                    .expression_attribute_names("#roles", "roles")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":admin", s(crate::roles::ADMIN))
                    .expression_attribute_values(":active", s(UserStatus::Active.as_str()))
                    .build()
                    .map_err(Error::internal)?;
                items.push(TransactWriteItem::builder().condition_check(check).build());
            }
            if self.transact(items, "account update").await?.is_none() {
                return Ok(Some(after));
            }
            // The account or the other admin changed meanwhile: decide again on what is there
            // now.
            back_off(attempt).await;
        }
        Err(contended("account update"))
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id), err)]
    async fn delete_user(&self, user_id: &str) -> Result<bool> {
        // 1. Disable it (under the last-admin rule), which ends its sessions and stops every
        //    way in, so nothing new belongs to it while it is erased.
        let disable = UserUpdate {
            status: Some(UserStatus::Disabled),
            ..UserUpdate::default()
        };
        let Some(user) = self.update_user(user_id, &disable).await? else {
            return Ok(false);
        };
        // 2. Its items. Access keys and provider links (which never expire) are named on the
        //    account itself, read consistently; sessions, refresh and one-time tokens (which
        //    expire, and are dead once the account is gone) are found through the index, which
        //    may miss one written an instant ago. A failure here leaves a disabled account that
        //    a repeated DELETE finishes erasing.
        let account = self
            .get(&user_pk(user_id), "USER")
            .await?
            .ok_or_else(|| Error::internal("the account vanished while being deleted"))?;
        let named = |name: &str| match account.get(name) {
            Some(AttributeValue::Ss(values)) => values.clone(),
            _ => Vec::new(),
        };
        for id in named("access_key_ids") {
            self.delete_item(&access_key_pk(&id), "ACCESSKEY").await?;
        }
        for key in named("identity_keys") {
            self.delete_item(&key, "IDENTITY").await?;
        }
        for (pk, sk) in self.items_of(user_id).await? {
            self.delete_item(&pk, &sk).await?;
        }
        self.delete_item(
            &lockout_pk(&crate::lockout::account_key(user_id)),
            "LOCKOUT",
        )
        .await?;
        // 3. The account and its claims, together.
        let delete = |pk: String, sk: &str| {
            aws_sdk_dynamodb::types::Delete::builder()
                .table_name(&self.table)
                .key("pk", s(pk))
                .key("sk", s(sk))
                .build()
                .map(|d| TransactWriteItem::builder().delete(d).build())
                .map_err(Error::internal)
        };
        self.client
            .transact_write_items()
            .transact_items(delete(user_pk(user_id), "USER")?)
            .transact_items(delete(email_pk(user.email.key()), "EMAIL")?)
            .transact_items(delete(username_pk(user.username.key()), "USERNAME")?)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(true)
    }

    async fn create_invitation(&self, invitation: &Invitation) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(invitation_item(invitation)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    async fn invitation(&self, id: &str) -> Result<Option<Invitation>> {
        self.get(&invitation_pk(id), "INVITATION")
            .await?
            .map(|item| invitation_from_item(&item))
            .transpose()
    }

    async fn invitations(&self) -> Result<Vec<Invitation>> {
        self.index_partition(INVITATIONS_PARTITION, "", false)
            .await?
            .iter()
            .map(invitation_from_item)
            .collect()
    }

    async fn delete_invitation(&self, id: &str) -> Result<bool> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(invitation_pk(id)))
            .key("sk", s("INVITATION"))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(true),
            Err(error) if condition_failed(&error) => Ok(false),
            Err(error) => Err(sdk_error(error)),
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %key.user_id), err)]
    async fn create_access_key(&self, key: &AccessKey, limit: u32) -> Result<()> {
        // The account counts its keys: the count and the key are written together.
        let count = Update::builder()
            .table_name(&self.table)
            .key("pk", s(user_pk(&key.user_id)))
            .key("sk", s("USER"))
            .update_expression("ADD access_keys :one, access_key_ids :id")
            .condition_expression(
                "attribute_exists(pk) AND #status <> :disabled \
                 AND (attribute_not_exists(access_keys) OR access_keys < :limit)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":disabled", s(UserStatus::Disabled.as_str()))
            .expression_attribute_values(":id", AttributeValue::Ss(vec![key.id.clone()]))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .build()
            .map_err(Error::internal)?;
        let items = vec![
            TransactWriteItem::builder().update(count).build(),
            put(
                &self.table,
                access_key_item(key),
                "attribute_not_exists(pk)",
            )?,
        ];
        match self.transact(items, "access key").await? {
            None => Ok(()),
            Some(cancelled) if cancelled.failed(0) => {
                let usable = self
                    .user_by_id(&key.user_id)
                    .await?
                    .is_some_and(|user| user.status != UserStatus::Disabled);
                Err(if usable {
                    Error::TooManyAccessKeys { limit }
                } else {
                    Error::Unauthorized
                })
            }
            Some(_) => Err(Error::internal("an access key id was reused")),
        }
    }

    async fn access_key(&self, id: &str) -> Result<Option<AccessKey>> {
        self.get(&access_key_pk(id), "ACCESSKEY")
            .await?
            .map(|item| access_key_from_item(&item))
            .transpose()
    }

    async fn access_keys_of(&self, user_id: &str) -> Result<Vec<AccessKey>> {
        self.index_partition(&user_pk(user_id), "ACCESSKEY#", true)
            .await?
            .iter()
            .map(access_key_from_item)
            .collect()
    }

    async fn delete_access_key(&self, user_id: &str, id: &str) -> Result<bool> {
        let key = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .key("pk", s(access_key_pk(id)))
            .key("sk", s("ACCESSKEY"))
            .condition_expression("user_id = :user")
            .expression_attribute_values(":user", s(user_id))
            .build()
            .map_err(Error::internal)?;
        let count = Update::builder()
            .table_name(&self.table)
            .key("pk", s(user_pk(user_id)))
            .key("sk", s("USER"))
            .update_expression("ADD access_keys :minus_one DELETE access_key_ids :id")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":id", AttributeValue::Ss(vec![id.to_owned()]))
            .build()
            .map_err(Error::internal)?;
        let items = vec![
            TransactWriteItem::builder().delete(key).build(),
            TransactWriteItem::builder().update(count).build(),
        ];
        Ok(self.transact(items, "access key").await?.is_none())
    }

    async fn touch_access_key(&self, id: &str, now: UnixTime) -> Result<()> {
        let touched = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(access_key_pk(id)))
            .key("sk", s("ACCESSKEY"))
            .update_expression("SET last_used_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(now.seconds()))
            .send()
            .await;
        match touched {
            // Deleted meanwhile: nothing to note.
            Err(error) if !condition_failed(&error) => Err(sdk_error(error)),
            _ => Ok(()),
        }
    }

    async fn record_event(&self, event: &AuditEvent) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(event_item(event)))
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    async fn events(&self, query: &EventQuery) -> Result<Page<AuditEvent>> {
        // One user's events are a partition of the table; everyone's are the index's `AUDIT`
        // partition. Both are ordered by time.
        let (expected, phase): (&[&str], &str) = match &query.user_id {
            Some(_) => (&["pk", "sk"], "user"),
            None => (&["pk", "sk", "gsi1pk", "gsi1sk"], "all"),
        };
        // The cursor must be from this very listing (one user's, or everyone's).
        let partition = match &query.user_id {
            Some(user_id) => ("pk", format!("AUDIT#{user_id}")),
            None => ("gsi1pk", AUDIT_PARTITION.to_owned()),
        };
        let start = match &query.cursor {
            Some(cursor) => match cursor_key(cursor, expected)? {
                (p, key)
                    if p == phase
                        && key.get(partition.0).and_then(|v| v.as_s().ok())
                            == Some(&partition.1)
                        && key
                            .get("pk")
                            .and_then(|v| v.as_s().ok())
                            .is_some_and(|pk| pk.starts_with("AUDIT#")) =>
                {
                    Some(key)
                }
                _ => {
                    return Err(Error::invalid_field(
                        "cursor",
                        "is not a cursor this server gave",
                    ));
                }
            },
            None => None,
        };
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .scan_index_forward(false)
            .limit(query.limit as i32)
            .set_exclusive_start_key(start);
        request = match &query.user_id {
            Some(user_id) => request
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(format!("AUDIT#{user_id}"))),
            None => request
                .index_name(GSI1)
                .key_condition_expression("gsi1pk = :audit")
                .expression_attribute_values(":audit", s(AUDIT_PARTITION)),
        };
        let page = request.send().await.map_err(sdk_error)?;
        let items = page
            .items()
            .iter()
            .map(event_from_item)
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = match page.last_evaluated_key() {
            Some(key) if items.len() == query.limit => Some(key_cursor(key, phase)?),
            _ => None,
        };
        Ok(Page { items, next_cursor })
    }

    async fn create_token(&self, token: &OneTimeToken) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(token_item(token)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    async fn token(&self, digest: &str) -> Result<Option<OneTimeToken>> {
        self.get(&token_pk(digest), "TOKEN")
            .await?
            .as_ref()
            .map(token_from_item)
            .transpose()
    }

    #[tracing::instrument(skip_all, err)]
    async fn consume_token(
        &self,
        digest: &str,
        purpose: TokenPurpose,
        now: UnixTime,
    ) -> Result<Option<OneTimeToken>> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(token_pk(digest)))
            .key("sk", s("TOKEN"))
            .condition_expression(
                "attribute_exists(pk) AND purpose = :purpose AND expires_at > :now",
            )
            .expression_attribute_values(":purpose", s(purpose.as_str()))
            .expression_attribute_values(":now", n(now.seconds()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match deleted {
            Ok(output) => output.attributes().map(token_from_item).transpose(),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn lockout(&self, key: &str) -> Result<Option<LockoutRecord>> {
        self.get(&lockout_pk(key), "LOCKOUT")
            .await?
            .as_ref()
            .map(lockout_from_item)
            .transpose()
    }

    #[tracing::instrument(skip_all, err)]
    async fn record_failure(&self, key: &str, write: FailureWrite) -> Result<LockoutRecord> {
        let pk = lockout_pk(key);
        // The run goes on: one more failure, if the item still says so when DynamoDB applies it.
        let continues = "last_failure_at > :stale AND (attribute_not_exists(locked_until) OR locked_until > :now)";
        for _ in 0..MAX_ATTEMPTS {
            let added = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", s(&pk))
                .key("sk", s("LOCKOUT"))
                .update_expression(
                    "ADD failures :one SET last_failure_at = :now, expires_at = :expires",
                )
                .condition_expression(continues)
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(write.now.seconds()))
                .expression_attribute_values(":stale", n(write.stale_before.seconds()))
                .expression_attribute_values(":expires", n(write.expires_at.seconds()))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match added {
                Ok(output) => {
                    let item = output.attributes().ok_or_else(|| malformed("lockout"))?;
                    return lockout_from_item(item);
                }
                Err(e) if condition_failed(&e) => {}
                Err(e) => return Err(sdk_error(e)),
            }
            // No run to extend: start one, unless a concurrent failure just did.
            let started = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("pk", s(&pk))
                .item("sk", s("LOCKOUT"))
                .item("type", s("lockout"))
                .item("failures", n(1))
                .item("last_failure_at", n(write.now.seconds()))
                .item(TTL_ATTRIBUTE, n(write.expires_at.seconds()))
                .condition_expression(format!("attribute_not_exists(pk) OR NOT ({continues})"))
                .expression_attribute_values(":now", n(write.now.seconds()))
                .expression_attribute_values(":stale", n(write.stale_before.seconds()))
                .send()
                .await;
            match started {
                Ok(_) => {
                    return Ok(LockoutRecord {
                        failures: 1,
                        last_failure_at: write.now,
                        locked_until: None,
                    });
                }
                Err(e) if condition_failed(&e) => {}
                Err(e) => return Err(sdk_error(e)),
            }
        }
        Err(contended("lockout record"))
    }

    async fn lock(&self, key: &str, until: UnixTime, expires_at: UnixTime) -> Result<()> {
        let locked = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(lockout_pk(key)))
            .key("sk", s("LOCKOUT"))
            .update_expression("SET locked_until = :until, expires_at = :expires")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":until", n(until.seconds()))
            .expression_attribute_values(":expires", n(expires_at.seconds()))
            .send()
            .await;
        match locked {
            Ok(_) => Ok(()),
            // Cleared by a concurrent success in between: nothing left to lock.
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn clear_lockout(&self, key: &str) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(lockout_pk(key)))
            .key("sk", s("LOCKOUT"))
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    async fn increment(&self, key: &str, expires_at: UnixTime) -> Result<u64> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(counter_pk(key)))
            .key("sk", s("COUNTER"))
            .update_expression("ADD #count :one SET expires_at = if_not_exists(expires_at, :expires), #type = :type")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#type", "type")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expires", n(expires_at.seconds()))
            .expression_attribute_values(":type", s("counter"))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(sdk_error)?;
        let item = output.attributes().ok_or_else(|| malformed("count"))?;
        u64::try_from(get_n(item, "count")?).map_err(|_| malformed("count"))
    }

    async fn create_session(&self, session: &Session) -> Result<()> {
        let absent = "attribute_not_exists(pk)";
        let items = vec![
            put(&self.table, session_item(session), absent)?,
            put(
                &self.table,
                refresh_item(&session.refresh_digest, session, session.created_at),
                absent,
            )?,
        ];
        match self.transact(items, "a new session").await? {
            None => Ok(()),
            Some(_) => Err(Error::internal("a session id or refresh token was reused")),
        }
    }

    async fn session(&self, id: &str) -> Result<Option<Session>> {
        self.get(&session_pk(id), "SESSION")
            .await?
            .as_ref()
            .map(session_from_item)
            .transpose()
    }

    async fn session_by_refresh(&self, digest: &str) -> Result<Option<Session>> {
        let Some(refresh) = self.get(&refresh_pk(digest), "REFRESH").await? else {
            return Ok(None);
        };
        self.session(&get_s(&refresh, "session_id")?).await
    }

    #[tracing::instrument(skip_all, fields(session_id = %session.id), err)]
    async fn rotate_refresh(
        &self,
        session: &Session,
        from: &str,
        to: &str,
        now: UnixTime,
    ) -> Result<bool> {
        let swap = Update::builder()
            .table_name(&self.table)
            .key("pk", s(session_pk(&session.id)))
            .key("sk", s("SESSION"))
            .update_expression(
                "SET previous_digest = :from, refresh_digest = :to, rotated_at = :now, last_used_at = :now",
            )
            .condition_expression("refresh_digest = :from AND attribute_not_exists(revoked_at)")
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":to", s(to))
            .expression_attribute_values(":now", n(now.seconds()))
            .build()
            .map_err(Error::internal)?;
        let items = vec![
            TransactWriteItem::builder().update(swap).build(),
            put(
                &self.table,
                refresh_item(to, session, now),
                "attribute_not_exists(pk)",
            )?,
        ];
        match self.transact(items, "a refresh rotation").await? {
            None => Ok(true),
            Some(cancelled) if cancelled.failed(0) => Ok(false),
            Some(_) => Err(Error::internal("a refresh token was reused")),
        }
    }

    async fn revoke_session(&self, session_id: &str, now: UnixTime) -> Result<()> {
        let revoked = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(session_pk(session_id)))
            .key("sk", s("SESSION"))
            .update_expression("SET revoked_at = if_not_exists(revoked_at, :now)")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(now.seconds()))
            .send()
            .await;
        match revoked {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error(e)),
        }
    }

    /// From the index, so eventually consistent: a session begun a moment ago may be missing
    /// from the list for that moment. Nothing is decided on this list.
    async fn sessions_of(&self, user_id: &str) -> Result<Vec<Session>> {
        self.index_partition(&user_pk(user_id), "SESSION#", true)
            .await?
            .iter()
            .map(session_from_item)
            .collect()
    }

    async fn end_all_sessions(&self, user_id: &str) -> Result<()> {
        let ended = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(user_pk(user_id)))
            .key("sk", s("USER"))
            .update_expression("ADD session_epoch :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        match ended {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error(e)),
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %user.id), err)]
    async fn create_user_with_identity(
        &self,
        user: &User,
        link: &IdentityLink,
        invitation: Option<&InvitationUse>,
    ) -> Result<bool> {
        self.put_account(user, invitation, Some(link)).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %link.user_id), err)]
    async fn link_identity(&self, link: &IdentityLink) -> Result<bool> {
        // The link and its mirror on the account (which erasing the account reads), only to an
        // account that is there and not disabled.
        let mirror = Update::builder()
            .table_name(&self.table)
            .key("pk", s(user_pk(&link.user_id)))
            .key("sk", s("USER"))
            .update_expression("ADD identity_keys :key")
            .condition_expression("attribute_exists(pk) AND #status <> :disabled")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(
                ":key",
                AttributeValue::Ss(vec![identity_pk(link.provider, &link.subject)]),
            )
            .expression_attribute_values(":disabled", s(UserStatus::Disabled.as_str()))
            .build()
            .map_err(Error::internal)?;
        let items = vec![
            put(&self.table, identity_item(link), "attribute_not_exists(pk)")?,
            TransactWriteItem::builder().update(mirror).build(),
        ];
        // Not written: linked already, or the account is gone or disabled meanwhile.
        Ok(self.transact(items, "identity link").await?.is_none())
    }

    async fn identity(&self, provider: Provider, subject: &str) -> Result<Option<IdentityLink>> {
        self.get(&identity_pk(provider, subject), "IDENTITY")
            .await?
            .as_ref()
            .map(identity_from_item)
            .transpose()
    }

    /// From the index, so eventually consistent; sign-in decides on `identity`, never on this.
    async fn identities_of(&self, user_id: &str) -> Result<Vec<IdentityLink>> {
        let mut links = self
            .index_partition(&user_pk(user_id), "IDENTITY#", true)
            .await?
            .iter()
            .map(identity_from_item)
            .collect::<Result<Vec<_>>>()?;
        links.sort_by(|a, b| {
            (a.created_at, a.provider.as_str(), &a.subject).cmp(&(
                b.created_at,
                b.provider.as_str(),
                &b.subject,
            ))
        });
        Ok(links)
    }

    async fn create_pending_sign_in(&self, pending: &PendingSignIn) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(pending_item(pending)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    #[tracing::instrument(skip_all, err)]
    async fn consume_pending_sign_in(
        &self,
        state_digest: &str,
        now: UnixTime,
    ) -> Result<Option<PendingSignIn>> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pending_pk(state_digest)))
            .key("sk", s("OAUTH_STATE"))
            .condition_expression("attribute_exists(pk) AND expires_at > :now")
            .expression_attribute_values(":now", n(now.seconds()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match deleted {
            Ok(output) => output.attributes().map(pending_from_item).transpose(),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(sdk_error(e)),
        }
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :key)")
            .expression_attribute_values(":pk", s(SIGNING_KEYS_PK))
            .expression_attribute_values(":key", s("KEY#"))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_error)?;
        output.items().iter().map(signing_key_from_item).collect()
    }

    async fn add_signing_key(&self, key: &SigningKeyRecord) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(signing_key_item(key)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    async fn delete_signing_key(&self, kid: &str) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(SIGNING_KEYS_PK))
            .key("sk", s(format!("KEY#{kid}")))
            .send()
            .await
            .map(drop)
            .map_err(sdk_error)
    }

    async fn add_first_signing_key(&self, key: &SigningKeyRecord) -> Result<bool> {
        let marker = Item::from([
            ("pk".to_owned(), s(SIGNING_KEYS_PK)),
            ("sk".to_owned(), s(FIRST_KEY_SK)),
            ("kid".to_owned(), s(&key.kid)),
        ]);
        let items = vec![
            put(&self.table, marker, "attribute_not_exists(pk)")?,
            put(
                &self.table,
                signing_key_item(key),
                "attribute_not_exists(pk)",
            )?,
        ];
        Ok(self
            .transact(items, "the first signing key")
            .await?
            .is_none())
    }
}
