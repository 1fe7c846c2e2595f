//! Signing-key rotation, behind `portcullis keys rotate|list`.
//!
//! `rotate` adds a key that activates after `PORTCULLIS_KEY_ACTIVATION_DELAY` (10 minutes by
//! default): until then it is only published in the JWKS, so verifiers that cache the JWKS
//! (5 minutes, by its Cache-Control) know it before any token it signed reaches them. The key it
//! replaces stays in the JWKS until every token it signed has expired (`KeyWindows::retention`),
//! then drops out, and the next rotation deletes it.

use std::time::Duration;

use crate::clock::UnixTime;
use crate::error::Result;
use crate::store::Store;
use crate::tokens::{KeyState, KeyWindows, SigningKeyRecord, key_states};

/// Adds a key that signs from `now + delay`, and deletes keys that nothing can need any more.
pub async fn rotate(
    store: &dyn Store,
    now: UnixTime,
    delay: Duration,
    windows: KeyWindows,
) -> Result<SigningKeyRecord> {
    let records = store.signing_keys().await?;
    for (record, state) in key_states(&records, now, windows) {
        if state == KeyState::Expired {
            store.delete_signing_key(&record.kid).await?;
            tracing::info!(kid = %record.kid, "expired signing key deleted");
        }
    }
    let key = SigningKeyRecord::generate(now, now.plus(delay)).await?;
    store.add_signing_key(&key).await?;
    tracing::info!(kid = %key.kid, activates_at = %key.activates_at.rfc3339(), "signing key added");
    Ok(key)
}

/// One line per key: its id, when it was made, and where it is in its life.
pub async fn list(store: &dyn Store, now: UnixTime, windows: KeyWindows) -> Result<Vec<String>> {
    let records = store.signing_keys().await?;
    Ok(key_states(&records, now, windows)
        .into_iter()
        .map(|(record, state)| {
            let state = match state {
                KeyState::Pending { activates_at } => {
                    format!("pending, signs from {}", activates_at.rfc3339())
                }
                KeyState::Signing => "signing".to_owned(),
                KeyState::Verifying { until } => {
                    format!("verifying only, until {}", until.rfc3339())
                }
                KeyState::Expired => "expired (deleted at the next rotation)".to_owned(),
            };
            format!(
                "{}  created {}  {state}",
                record.kid,
                record.created_at.rfc3339()
            )
        })
        .collect())
}
