//! Accounts brought in many at a time: one transaction per call, a savepoint per account.

use super::*;
use crate::store::{ImportOutcome, ImportStore, ImportedAccount};
use rusqlite::TransactionBehavior;

#[async_trait]
impl ImportStore for SqliteStore {
    #[tracing::instrument(skip_all, fields(accounts = accounts.len()), err)]
    async fn import_accounts(&self, accounts: &[ImportedAccount]) -> Result<Vec<ImportOutcome>> {
        let accounts = accounts.to_vec();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql)?;
            let mut outcomes = Vec::with_capacity(accounts.len());
            for account in &accounts {
                tx.execute_batch("SAVEPOINT account").map_err(sql)?;
                let outcome = insert_account(&tx, account)?;
                if outcome != ImportOutcome::Created {
                    tx.execute_batch("ROLLBACK TO account").map_err(sql)?;
                }
                tx.execute_batch("RELEASE account").map_err(sql)?;
                outcomes.push(outcome);
            }
            tx.commit().map_err(sql)?;
            Ok(outcomes)
        })
        .await
    }
}

fn insert_account(
    tx: &rusqlite::Transaction<'_>,
    account: &ImportedAccount,
) -> Result<ImportOutcome> {
    let id_taken = tx
        .query_row(
            "SELECT 1 FROM users WHERE id = ?1",
            [&account.user.id],
            |_| Ok(()),
        )
        .optional()
        .map_err(sql)?
        .is_some();
    match insert_user(tx, &account.user) {
        Err(Error::EmailTaken) => return Ok(ImportOutcome::EmailTaken),
        Err(Error::UsernameTaken) => return Ok(ImportOutcome::UsernameTaken),
        Err(_) | Ok(()) if id_taken => return Ok(ImportOutcome::IdTaken),
        Err(error) => return Err(error),
        Ok(()) => {}
    }
    for link in &account.identities {
        if !insert_identity(tx, link)? {
            return Ok(ImportOutcome::IdentityTaken);
        }
    }
    for key in &account.access_keys {
        let inserted = tx.execute(
            &format!(
                "INSERT INTO access_keys ({ACCESS_KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (id) DO NOTHING"
            ),
            params![
                key.id,
                key.user_id,
                key.secret_digest,
                key.created_at.seconds(),
                key.last_used_at.map(UnixTime::seconds),
                key.expires_at.map(UnixTime::seconds),
            ],
        );
        if inserted.map_err(sql)? == 0 {
            return Ok(ImportOutcome::AccessKeyTaken);
        }
    }
    Ok(ImportOutcome::Created)
}
