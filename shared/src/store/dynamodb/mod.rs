//! The cloud store: one DynamoDB table (single-table design, docs/dynamodb.md).
//!
//! Every `Store` method is one conditional write or one transaction, so the outcome of concurrent
//! requests is decided by DynamoDB, never by a read followed by a write here. Reads that decide
//! anything are strongly consistent. Items that expire carry `expires_at` (the table's TTL
//! attribute), and are also checked on read, because TTL deletes late.

mod access_keys;
mod audit;
mod clients;
mod codes;
mod counters;
mod errors;
mod expiry;
mod identities;
mod imports;
mod invitations;
mod items;
mod keys;
mod lockout;
mod schema;
mod sessions;
mod signing_keys;
mod tokens;
mod users;

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
use crate::openid::{AuthorizationCode, Redemption};
use crate::session::{ClientGrant, Session};
use crate::store::{
    EventQuery, Page, UserQuery, UserStore, UserUpdate, decode_cursor, encode_cursor,
};
use crate::tokens::SigningKeyRecord;
use crate::user::{User, UserStatus};
use crate::username::Username;

use errors::*;
use items::*;
use keys::*;

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
        let sdk = crate::aws::sdk_config(endpoint).await;
        DynamoStore::new(Client::new(&sdk), table)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
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

fn put(table: &str, item: Item, condition: &str) -> Result<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .build()
        .map_err(Error::internal)?;
    Ok(TransactWriteItem::builder().put(put).build())
}
