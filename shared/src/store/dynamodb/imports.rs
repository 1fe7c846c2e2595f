//! Accounts brought in many at a time: one transaction per account (its claims, links and keys,
//! each conditional on being new), many transactions in flight at once.

use futures_util::StreamExt as _;

use super::*;
use crate::store::{ImportOutcome, ImportStore, ImportedAccount};

/// Transactions in flight at once.
const IN_FLIGHT: usize = 16;

#[async_trait]
impl ImportStore for DynamoStore {
    #[tracing::instrument(skip_all, fields(accounts = accounts.len()), err)]
    async fn import_accounts(&self, accounts: &[ImportedAccount]) -> Result<Vec<ImportOutcome>> {
        let store = self.clone();
        let outcomes: Vec<Result<ImportOutcome>> = futures_util::stream::iter(accounts.to_vec())
            .map(move |account| {
                let store = store.clone();
                async move { store.import_account(&account).await }
            })
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        outcomes.into_iter().collect()
    }
}

impl DynamoStore {
    async fn import_account(&self, account: &ImportedAccount) -> Result<ImportOutcome> {
        let user = &account.user;
        let claim = |pk: String, sk: &str| {
            Item::from([
                ("pk".to_owned(), s(pk)),
                ("sk".to_owned(), s(sk)),
                ("type".to_owned(), s(sk.to_ascii_lowercase())),
                ("user_id".to_owned(), s(&user.id)),
            ])
        };
        let absent = "attribute_not_exists(pk)";
        let mut item = user_item(user);
        if !account.identities.is_empty() {
            let keys = account
                .identities
                .iter()
                .map(|link| identity_pk(link.provider, &link.subject))
                .collect();
            item.insert("identity_keys".into(), AttributeValue::Ss(keys));
        }
        if !account.access_keys.is_empty() {
            let ids = account.access_keys.iter().map(|k| k.id.clone()).collect();
            item.insert("access_key_ids".into(), AttributeValue::Ss(ids));
            item.insert("access_keys".into(), n(account.access_keys.len()));
        }
        // The order the outcomes below read: email, username, account, links, keys.
        let mut items = vec![
            put(
                &self.table,
                claim(email_pk(user.email.key()), "EMAIL"),
                absent,
            )?,
            put(
                &self.table,
                claim(username_pk(user.username.key()), "USERNAME"),
                absent,
            )?,
            put(&self.table, item, absent)?,
        ];
        for link in &account.identities {
            items.push(put(&self.table, identity_item(link), absent)?);
        }
        for key in &account.access_keys {
            items.push(put(&self.table, access_key_item(key), absent)?);
        }
        let Some(cancelled) = self.transact(items, "imported account").await? else {
            return Ok(ImportOutcome::Created);
        };
        let links = account.identities.len();
        Ok(if cancelled.failed(0) {
            ImportOutcome::EmailTaken
        } else if cancelled.failed(1) {
            ImportOutcome::UsernameTaken
        } else if cancelled.failed(2) {
            ImportOutcome::IdTaken
        } else if (3..3 + links).any(|i| cancelled.failed(i)) {
            ImportOutcome::IdentityTaken
        } else {
            ImportOutcome::AccessKeyTaken
        })
    }
}
