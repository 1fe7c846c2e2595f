//! Access keys (Backend.AI's IAM login): an id that names the key and a secret shown once, kept
//! only as its SHA-256 digest.

use rand::RngCore as _;
use rand::rngs::OsRng;

use crate::clock::UnixTime;

/// Access key ids: `PCAK` and 16 characters of base32 (80 random bits).
const PREFIX: &str = "PCAK";
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKey {
    /// The access key itself: an identifier, not a secret.
    pub id: String,
    pub user_id: String,
    /// SHA-256 of the secret key, hex.
    pub secret_digest: String,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
    /// When the key stops working; `None` for a key that lasts until it is deleted.
    pub expires_at: Option<UnixTime>,
}

impl AccessKey {
    /// Not past its expiry at `now`.
    pub fn is_live(&self, now: UnixTime) -> bool {
        self.expires_at.is_none_or(|end| now < end)
    }
}

pub fn new_key_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    let mut id = String::from(PREFIX);
    id.extend(bytes.iter().map(|b| ALPHABET[(b & 31) as usize] as char));
    id
}

/// Whether `value` has the shape of an access key id (checked before any store read): one of
/// Portcullis' own, or one brought in from another system (Backend.AI's are 20 upper-case
/// letters and digits), 16 to 64 letters and digits.
pub fn well_formed(value: &str) -> bool {
    (16..=64).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric())
}
