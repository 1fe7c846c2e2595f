//! `portcullis users export`: every account as one line of JSON (`imports::Line`), with its
//! password hash, roles, verification, provider links and access keys (their digests), so that
//! importing the file into another store moves the installation. Sessions are not exported: people
//! sign in again.

use crate::app::App;
use crate::error::{Error, Result};
use crate::imports::Line;
use crate::store::UserQuery;

/// Accounts read per page.
const PAGE: usize = 200;

/// Writes each account's line to `out`, `progress` told the count so far; how many were written.
pub async fn export(
    app: &App,
    out: &mut (dyn std::io::Write + Send),
    progress: &(dyn Fn(usize) + Sync),
) -> Result<usize> {
    let mut cursor = None;
    let mut written = 0;
    loop {
        let page = app
            .store
            .list_users(&UserQuery {
                prefix: None,
                status: None,
                limit: PAGE,
                cursor,
            })
            .await?;
        for user in &page.items {
            let identities = app.store.identities_of(&user.id).await?;
            let keys = app.store.access_keys_of(&user.id).await?;
            let line = serde_json::to_string(&Line::of(user, &identities, &keys))
                .map_err(Error::internal)?;
            writeln!(out, "{line}").map_err(|e| Error::internal(format!("writing: {e}")))?;
            written += 1;
        }
        progress(written);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(written),
        }
    }
}
