//! Accounts for load tests (`portcullis seed`): active, verified accounts, each with its own random
//! password and access key, so every virtual user of a load test signs in as someone else and
//! lockout never skews a run. Passwords are hashed with the configured argon2id cost, as many at
//! once as the hasher allows, and the accounts are written the way an import writes them
//! (`imports::run`), a chunk per store call.
//!
//! Seeding is idempotent by address like an import: an address that has an account already is
//! left as it is, and its credentials are not given (its password is not the one made now).

use futures_util::StreamExt as _;

use crate::access_key::{AccessKey, new_key_id};
use crate::app::App;
use crate::caller::Caller;
use crate::email::Email;
use crate::error::{Error, Result};
use crate::imports::{self, Options, Record, Report};
use crate::secret::Secret;
use crate::store::ImportedAccount;
use crate::tokens::{OpaqueToken, random_secret};
use crate::user::{User, new_user_id};
use crate::username::Username;

/// The most accounts one run makes.
pub const MAX_ACCOUNTS: usize = 1_000_000;

/// What a load test signs in with, for one seeded account.
pub struct Credential {
    pub email: String,
    pub username: String,
    pub password: Secret,
    pub access_key: String,
    pub secret_key: Secret,
}

impl Credential {
    /// The header of `csv_row`'s lines.
    pub const CSV_HEADER: &'static str = "email,username,password,access_key,secret_key";

    /// One CSV line. None of the fields holds a comma, a quote or a line break: addresses and
    /// usernames are made from the prefix (checked), the secrets are base64url.
    pub fn csv_row(&self) -> String {
        format!(
            "{},{},{},{},{}",
            self.email,
            self.username,
            self.password.expose(),
            self.access_key,
            self.secret_key.expose()
        )
    }
}

/// What was seeded: the credentials of the accounts made now, and the import's report.
pub struct Seeded {
    pub credentials: Vec<Credential>,
    pub report: Report,
}

/// Whether `prefix` makes usernames and addresses Portcullis accepts: letters, digits and `-`,
/// starting with a letter, at most 20 characters.
pub fn valid_prefix(prefix: &str) -> bool {
    (1..=20).contains(&prefix.len())
        && prefix.starts_with(|c: char| c.is_ascii_alphabetic())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Makes `count` accounts named `<prefix>-<n>` (n from 1, zero-padded), with addresses
/// `<prefix>-<n>@example.com` and the role user. `progress` is told how many passwords are hashed,
/// then how many accounts are written.
pub async fn run(
    app: &App,
    caller: &Caller,
    prefix: &str,
    count: usize,
    hashed: &(dyn Fn(usize) + Sync),
    written: &(dyn Fn(usize) + Sync),
) -> Result<Seeded> {
    if !valid_prefix(prefix) {
        return Err(Error::invalid_field(
            "prefix",
            "must be 1 to 20 letters, digits or -, starting with a letter",
        ));
    }
    if count == 0 || count > MAX_ACCOUNTS {
        return Err(Error::invalid_field(
            "users",
            format!("must be from 1 to {MAX_ACCOUNTS}"),
        ));
    }
    let width = count.to_string().len().max(5);
    let now = app.clock.now();
    // The hasher runs each hash on a blocking thread, as many at once as it has permits: more in
    // flight here would only queue.
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
    let mut made = Vec::with_capacity(count);
    let mut hashes = futures_util::stream::iter(1..=count)
        .map(|n| async move {
            let password = random_secret();
            let hash = app.passwords.hash(&password).await?;
            Ok::<_, Error>((n, password, hash))
        })
        .buffered(parallel);
    while let Some(result) = hashes.next().await {
        made.push(result?);
        hashed(made.len());
    }
    let mut credentials = Vec::with_capacity(count);
    let mut records = Vec::with_capacity(count);
    let mut places = Vec::with_capacity(count);
    for (n, password, hash) in made {
        let name = format!("{prefix}-{n:0width$}");
        let email = Email::parse(&format!("{name}@example.com"))
            .map_err(|reason| Error::internal(format!("seeded address {name}: {reason}")))?;
        let username = Username::parse(&name)
            .map_err(|reasons| Error::internal(format!("seeded username {name}: {reasons:?}")))?;
        let id = new_user_id();
        let secret = OpaqueToken::generate();
        let key = AccessKey {
            id: new_key_id(),
            user_id: id.clone(),
            secret_digest: secret.digest,
            created_at: now,
            last_used_at: None,
            expires_at: None,
        };
        credentials.push(Credential {
            email: email.as_str().to_owned(),
            username: username.as_str().to_owned(),
            password,
            access_key: key.id.clone(),
            secret_key: secret.token,
        });
        let at = format!("account {n}");
        places.push(at.clone());
        records.push(Record {
            at,
            account: Ok(ImportedAccount {
                user: User::new_verified(
                    id,
                    email,
                    username,
                    hash,
                    vec![crate::roles::USER.to_owned()],
                    now,
                ),
                identities: Vec::new(),
                access_keys: vec![key],
            }),
        });
    }
    let report = imports::run(
        app,
        caller,
        None,
        records,
        Options {
            dry_run: false,
            max_errors: count,
        },
        written,
    )
    .await?;
    // Only the accounts made now have these passwords: those whose address or username was
    // there already were left as they are.
    let created: std::collections::HashSet<&str> =
        report.created_at.iter().map(String::as_str).collect();
    let credentials = credentials
        .into_iter()
        .zip(places)
        .filter(|(_, at)| created.contains(at.as_str()))
        .map(|(credential, _)| credential)
        .collect();
    Ok(Seeded {
        credentials,
        report,
    })
}
