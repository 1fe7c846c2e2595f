//! Accounts: their claims on an email and a username, passwords, status, the admin list.

use super::*;
use crate::store::UserStore;

#[async_trait]
impl UserStore for DynamoStore {
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
        password_hash: Option<&str>,
        expected_epoch: u32,
        unconfirmed: bool,
    ) -> Result<Option<User>> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(user_pk(user_id)))
            .key("sk", s("USER"));
        request = match password_hash {
            Some(hash) => request
                .update_expression(
                    "SET password_hash = :hash, password_unconfirmed = :unconfirmed \
                     ADD session_epoch :one, password_epoch :one",
                )
                .expression_attribute_values(":hash", s(hash)),
            None => request.update_expression(
                "SET password_unconfirmed = :unconfirmed REMOVE password_hash \
                 ADD session_epoch :one, password_epoch :one",
            ),
        };
        let updated = request
            .condition_expression("attribute_exists(pk) AND password_epoch = :epoch")
            .expression_attribute_values(":unconfirmed", AttributeValue::Bool(unconfirmed))
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

    async fn replace_password_hash(&self, user_id: &str, old: &str, new: &str) -> Result<bool> {
        let replaced = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(user_pk(user_id)))
            .key("sk", s("USER"))
            .update_expression("SET password_hash = :new")
            .condition_expression("password_hash = :old")
            .expression_attribute_values(":old", s(old))
            .expression_attribute_values(":new", s(new))
            .send()
            .await;
        match replaced {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(sdk_error(e)),
        }
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
        // Device runs expire on their own: they name no one but the account's id.
        for key in [
            crate::lockout::account_key(user_id),
            crate::lockout::key_login_key(user_id),
        ] {
            self.delete_item(&lockout_pk(&key), "LOCKOUT").await?;
        }
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
}
