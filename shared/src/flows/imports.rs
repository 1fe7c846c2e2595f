//! Bringing accounts in from elsewhere (`portcullis users import`, `POST /v1/admin/users/import`):
//! Django's `dumpdata` (CVAT), Backend.AI's `users` and `keypairs` tables as CSV, and Portcullis'
//! own JSONL (`exports`). Passwords keep their hashes (`password::formats`) and are renewed as
//! argon2id at each account's first login.
//!
//! Every record is checked before anything is written: an address, a username by Portcullis'
//! rules, roles, a hash Portcullis can verify within its work-factor caps, and no two records of
//! one file sharing an address or a username (compared case-insensitively). A record that fails
//! is reported with its line and reason, never changed to fit, and the rest goes on. Importing is
//! idempotent by address: an account whose address exists already is left as it is.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::access_key::{AccessKey, well_formed};
use crate::app::App;
use crate::audit::{self, EventKind};
use crate::caller::Caller;
use crate::clock::UnixTime;
use crate::email::Email;
use crate::error::{Error, Result};
use crate::identity::{IdentityLink, Provider};
use crate::password::formats::StoredHash;
use crate::store::{ImportOutcome, ImportedAccount};
use crate::user::{User, UserStatus};
use crate::username::Username;

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Portcullis' own, one account per line (`portcullis users export`).
    Jsonl,
    /// `manage.py dumpdata auth.user account.emailaddress socialaccount.socialaccount`.
    Django,
    /// Backend.AI's `users` table as CSV with a header (`\copy users to 'users.csv' csv header`),
    /// and optionally its `keypairs` table the same way.
    BackendAi,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "jsonl" => Some(Format::Jsonl),
            "django" => Some(Format::Django),
            "backendai" | "backend.ai" => Some(Format::BackendAi),
            _ => None,
        }
    }
}

/// One record of a file: where it is (a line, or a record of a JSON array) and what it became.
#[derive(Debug)]
pub struct Record {
    pub at: String,
    pub account: std::result::Result<ImportedAccount, String>,
}

/// The outcome of an import.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub dry_run: bool,
    /// Records read.
    pub records: usize,
    /// Accounts made (or, in a dry run, that would be).
    pub created: usize,
    /// Records whose address has an account already: left as they are.
    pub existing: usize,
    /// Where each account made now was read (`Record::at`), in order; not part of the answer.
    #[serde(skip)]
    pub created_at: Vec<String>,
    pub errors: Vec<Problem>,
    /// Whether the import stopped at `max_errors` before the end.
    pub stopped: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    pub at: String,
    pub reason: String,
}

#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub dry_run: bool,
    /// Stop once more records than this have failed.
    pub max_errors: usize,
}

/// Accounts written per store call.
const CHUNK: usize = 500;

/// The most provider links and access keys one imported account may bring.
const MAX_LINKS: usize = 20;
const MAX_KEYS: usize = 50;

/// Reads `data` (and Backend.AI's `keypairs`) into records, each checked on its own and against
/// the others.
pub fn read(
    format: Format,
    data: &str,
    keypairs: Option<&str>,
    now: UnixTime,
) -> Result<Vec<Record>> {
    let mut records = match format {
        Format::Jsonl => jsonl(data, now),
        Format::Django => django(data, now)?,
        Format::BackendAi => backend_ai(data, keypairs, now)?,
    };
    refuse_collisions(&mut records);
    Ok(records)
}

/// Writes the records (or, in a dry run, says what writing them would do), `progress` told how
/// many records are done after each chunk.
pub async fn run(
    app: &App,
    caller: &Caller,
    admin_id: Option<&str>,
    records: Vec<Record>,
    options: Options,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Report> {
    let mut report = Report {
        dry_run: options.dry_run,
        records: records.len(),
        ..Report::default()
    };
    let mut done = 0;
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let chunk: Vec<Record> = records.by_ref().take(CHUNK).collect();
        let mut accounts = Vec::with_capacity(chunk.len());
        let mut places = Vec::with_capacity(chunk.len());
        for record in chunk {
            match record.account {
                Ok(account) => {
                    accounts.push(account);
                    places.push(record.at);
                }
                Err(reason) => report.errors.push(Problem {
                    at: record.at,
                    reason,
                }),
            }
            done += 1;
        }
        let outcomes = if options.dry_run {
            would_be(app, &accounts).await?
        } else {
            app.store.import_accounts(&accounts).await?
        };
        for (outcome, at) in outcomes.into_iter().zip(places) {
            let reason = match outcome {
                ImportOutcome::Created => {
                    report.created += 1;
                    report.created_at.push(at);
                    continue;
                }
                ImportOutcome::EmailTaken => {
                    report.existing += 1;
                    continue;
                }
                ImportOutcome::UsernameTaken => "the username belongs to another account",
                ImportOutcome::IdTaken => "another account has this account's id",
                ImportOutcome::IdentityTaken => {
                    "a Google or GitHub identity of it is linked to another account"
                }
                ImportOutcome::AccessKeyTaken => "one of its access keys exists already",
            };
            report.errors.push(Problem {
                at,
                reason: reason.to_owned(),
            });
        }
        progress(done);
        if report.errors.len() > options.max_errors {
            report.stopped = done < report.records;
            break;
        }
    }
    report.errors.sort_by_key(|p| place_order(&p.at));
    if !options.dry_run {
        tracing::info!(
            created = report.created,
            existing = report.existing,
            errors = report.errors.len(),
            "users imported"
        );
        app.audit(
            caller,
            EventKind::UsersImported,
            None,
            audit::detail(&[
                ("admin_id", admin_id.unwrap_or("command line").into()),
                ("created", report.created.into()),
                ("existing", report.existing.into()),
                ("errors", report.errors.len().into()),
            ]),
        )
        .await;
    }
    Ok(report)
}

/// Sorts "line 10" after "line 9".
fn place_order(at: &str) -> (String, u64) {
    let digits: String = at.chars().filter(char::is_ascii_digit).collect();
    let words: String = at.chars().filter(|c| !c.is_ascii_digit()).collect();
    (words, digits.parse().unwrap_or(0))
}

/// What importing would do, read without writing.
async fn would_be(app: &App, accounts: &[ImportedAccount]) -> Result<Vec<ImportOutcome>> {
    let mut outcomes = Vec::with_capacity(accounts.len());
    for account in accounts {
        let user = &account.user;
        let outcome = if app.store.user_by_email(user.email.key()).await?.is_some() {
            ImportOutcome::EmailTaken
        } else if app
            .store
            .user_by_username(user.username.key())
            .await?
            .is_some()
        {
            ImportOutcome::UsernameTaken
        } else if app.store.user_by_id(&user.id).await?.is_some() {
            ImportOutcome::IdTaken
        } else {
            ImportOutcome::Created
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// A later record with the address or username of an earlier one (case-insensitively) is
/// refused, naming the earlier.
fn refuse_collisions(records: &mut [Record]) {
    let mut emails: HashMap<String, String> = HashMap::new();
    let mut usernames: HashMap<String, String> = HashMap::new();
    for record in records.iter_mut() {
        let Ok(account) = &record.account else {
            continue;
        };
        let (email, username) = (
            account.user.email.key().to_owned(),
            account.user.username.key().to_owned(),
        );
        let clash = if let Some(first) = emails.get(&email) {
            Some(format!("its address is also the address of {first}"))
        } else {
            usernames.get(&username).map(|first| {
                format!("its username is also the username of {first} (letter case aside)")
            })
        };
        match clash {
            Some(reason) => record.account = Err(reason),
            None => {
                emails.insert(email, record.at.clone());
                usernames.insert(username, record.at.clone());
            }
        }
    }
}

/// The fields every format fills in, checked into an account.
struct Fields<'a> {
    id: Option<String>,
    /// `None`: when the address is not verified.
    password_unconfirmed: Option<bool>,
    email: &'a str,
    username: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    password_hash: Option<&'a str>,
    email_verified: bool,
    status: UserStatus,
    roles: Vec<String>,
    created_at: UnixTime,
}

impl Fields<'_> {
    fn account(
        self,
        identities: Vec<(Provider, String, UnixTime)>,
        keys: Vec<AccessKey>,
    ) -> std::result::Result<ImportedAccount, String> {
        let email = Email::parse(self.email).map_err(|e| format!("email {e}"))?;
        let username = Username::parse(self.username).map_err(|problems| {
            format!(
                "the username {:?} breaks Portcullis' rules: it {}",
                self.username,
                problems.join(", and it ")
            )
        })?;
        let roles = crate::roles::parse(&self.roles)
            .map_err(|problems| format!("roles: {}", problems.join("; ")))?;
        // Within one transaction of DynamoDB (100 writes), and distinct.
        if identities.len() > MAX_LINKS || keys.len() > MAX_KEYS {
            return Err(format!(
                "more than {MAX_LINKS} provider links or {MAX_KEYS} access keys"
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (provider, subject, _) in &identities {
            if subject.is_empty() || subject.len() > 255 {
                return Err("a provider subject is empty or over 255 characters".into());
            }
            if !seen.insert(format!("{}#{subject}", provider.as_str())) {
                return Err(format!(
                    "the {} identity {subject} is given twice",
                    provider.as_str()
                ));
            }
        }
        for key in &keys {
            if !seen.insert(format!("key#{}", key.id)) {
                return Err(format!("the access key {} is given twice", key.id));
            }
        }
        let password_hash = match self.password_hash.filter(|h| !h.is_empty()) {
            Some(hash) if hash.len() > 1024 => {
                return Err("the password hash is over 1024 characters".into());
            }
            Some(hash) => {
                StoredHash::parse(hash).map_err(|reason| format!("password hash: {reason}"))?;
                Some(hash.to_owned())
            }
            None => None,
        };
        for name in [self.first_name, self.last_name] {
            if name.chars().count() > 150 || name.chars().any(char::is_control) {
                return Err("a name is over 150 characters or holds control characters".into());
            }
        }
        let id = self
            .id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if id.len() > 128 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("the id {id:?} is not one Portcullis can keep"));
        }
        let identities = identities
            .into_iter()
            .map(|(provider, subject, created_at)| IdentityLink {
                provider,
                subject,
                user_id: id.clone(),
                email_key: email.key().to_owned(),
                created_at,
            })
            .collect();
        let access_keys = keys
            .into_iter()
            .map(|key| AccessKey {
                user_id: id.clone(),
                ..key
            })
            .collect();
        Ok(ImportedAccount {
            user: User {
                id,
                email,
                username,
                password_hash,
                first_name: self.first_name.trim().to_owned(),
                last_name: self.last_name.trim().to_owned(),
                email_verified: self.email_verified,
                status: self.status,
                roles,
                created_at: self.created_at,
                session_epoch: 0,
                password_epoch: 0,
                // As at signup: a password on an address nobody confirmed may not be its
                // owner's, and linking a provider identity to the account removes it.
                password_unconfirmed: self.password_unconfirmed.unwrap_or(!self.email_verified),
            },
            identities,
            access_keys,
        })
    }
}

fn time_or(text: Option<&str>, now: UnixTime) -> UnixTime {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return now;
    };
    // RFC 3339, or PostgreSQL's "2024-05-01 12:34:56.789+00" as `\copy` writes it.
    let text = text.replace(' ', "T");
    let text = text
        .strip_suffix("+00:00")
        .or_else(|| text.strip_suffix("+00"))
        .map_or(text.clone(), |t| format!("{t}Z"));
    humantime::parse_rfc3339_weak(&text)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .map_or(now, UnixTime)
}

fn rfc3339(at: UnixTime) -> String {
    at.rfc3339()
}

/// One line of Portcullis' JSONL: an account and what belongs to it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    #[serde(default)]
    pub user_id: Option<String>,
    pub email: String,
    pub username: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    /// Whether the password was set before the address was confirmed and no mailed reset has
    /// replaced it since (by default: when the address is not verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_unconfirmed: Option<bool>,
    #[serde(default = "active")]
    pub status: String,
    #[serde(default = "user_role")]
    pub roles: Vec<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub identities: Vec<LineIdentity>,
    #[serde(default)]
    pub access_keys: Vec<LineKey>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineIdentity {
    pub provider: String,
    pub subject: String,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineKey {
    pub access_key: String,
    /// SHA-256 of the secret key, hex.
    pub secret_digest: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub last_used_at: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
}

fn active() -> String {
    "active".into()
}

fn user_role() -> Vec<String> {
    vec![crate::roles::USER.to_owned()]
}

impl Line {
    /// The line for an account (`portcullis users export`).
    pub fn of(user: &User, identities: &[IdentityLink], keys: &[AccessKey]) -> Line {
        Line {
            user_id: Some(user.id.clone()),
            email: user.email.as_str().to_owned(),
            username: user.username.as_str().to_owned(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            password_hash: user.password_hash.clone(),
            email_verified: user.email_verified,
            password_unconfirmed: Some(user.password_unconfirmed),
            status: user.status.as_str().to_owned(),
            roles: user.roles.clone(),
            created_at: Some(rfc3339(user.created_at)),
            identities: identities
                .iter()
                .map(|link| LineIdentity {
                    provider: link.provider.as_str().to_owned(),
                    subject: link.subject.clone(),
                    created_at: Some(rfc3339(link.created_at)),
                })
                .collect(),
            access_keys: keys
                .iter()
                .map(|key| LineKey {
                    access_key: key.id.clone(),
                    secret_digest: key.secret_digest.clone(),
                    created_at: Some(rfc3339(key.created_at)),
                    last_used_at: key.last_used_at.map(rfc3339),
                    expires_at: key.expires_at.map(rfc3339),
                })
                .collect(),
        }
    }

    fn account(self, now: UnixTime) -> std::result::Result<ImportedAccount, String> {
        let status = UserStatus::parse(&self.status)
            .ok_or_else(|| format!("status {:?} is not one Portcullis knows", self.status))?;
        let mut identities = Vec::new();
        for identity in &self.identities {
            let provider = Provider::parse(&identity.provider).ok_or_else(|| {
                format!("provider {:?} is not google or github", identity.provider)
            })?;
            identities.push((
                provider,
                identity.subject.clone(),
                time_or(identity.created_at.as_deref(), now),
            ));
        }
        let mut keys = Vec::new();
        for key in &self.access_keys {
            let digest_ok = key.secret_digest.len() == 64
                && key.secret_digest.bytes().all(|b| b.is_ascii_hexdigit());
            if !well_formed(&key.access_key) || !digest_ok {
                return Err(format!(
                    "access key {:?} needs 16 to 64 letters and digits and a 64-digit hex digest",
                    key.access_key
                ));
            }
            keys.push(AccessKey {
                id: key.access_key.clone(),
                user_id: String::new(),
                secret_digest: key.secret_digest.to_ascii_lowercase(),
                created_at: time_or(key.created_at.as_deref(), now),
                last_used_at: key.last_used_at.as_deref().map(|t| time_or(Some(t), now)),
                expires_at: key.expires_at.as_deref().map(|t| time_or(Some(t), now)),
            });
        }
        Fields {
            id: self.user_id.clone(),
            password_unconfirmed: self.password_unconfirmed,
            email: &self.email,
            username: &self.username,
            first_name: &self.first_name,
            last_name: &self.last_name,
            password_hash: self.password_hash.as_deref(),
            email_verified: self.email_verified,
            status,
            roles: self.roles.clone(),
            created_at: time_or(self.created_at.as_deref(), now),
        }
        .account(identities, keys)
    }
}

fn jsonl(data: &str, now: UnixTime) -> Vec<Record> {
    data.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| Record {
            at: format!("line {}", index + 1),
            account: serde_json::from_str::<Line>(line)
                .map_err(|e| format!("not an account: {e}"))
                .and_then(|line| line.account(now)),
        })
        .collect()
}

/// One object of a `dumpdata` file.
#[derive(Deserialize)]
struct DumpObject {
    model: String,
    #[serde(default)]
    pk: serde_json::Value,
    #[serde(default)]
    fields: serde_json::Map<String, serde_json::Value>,
}

fn django(data: &str, now: UnixTime) -> Result<Vec<Record>> {
    let objects: Vec<DumpObject> = serde_json::from_str(data)
        .map_err(|e| Error::invalid_field("data", format!("is not a dumpdata JSON array: {e}")))?;
    let text = |fields: &serde_json::Map<String, serde_json::Value>, name: &str| {
        fields
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let flag = |fields: &serde_json::Map<String, serde_json::Value>, name: &str| {
        fields
            .get(name)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    // allauth's verified addresses and provider accounts, by the user's primary key.
    let mut verified: HashMap<String, Vec<String>> = HashMap::new();
    let mut social: HashMap<String, Vec<(Provider, String, UnixTime)>> = HashMap::new();
    for object in &objects {
        let user = object.fields.get("user").map(ToString::to_string);
        match (object.model.as_str(), user) {
            ("account.emailaddress", Some(user)) if flag(&object.fields, "verified") => {
                verified
                    .entry(user)
                    .or_default()
                    .push(text(&object.fields, "email").to_lowercase());
            }
            ("socialaccount.socialaccount", Some(user)) => {
                if let Some(provider) = Provider::parse(&text(&object.fields, "provider")) {
                    let joined = time_or(Some(&text(&object.fields, "date_joined")), now);
                    social.entry(user).or_default().push((
                        provider,
                        text(&object.fields, "uid"),
                        joined,
                    ));
                }
            }
            _ => {}
        }
    }
    let mut records = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        if object.model != "auth.user" {
            continue;
        }
        let fields = &object.fields;
        let pk = object.pk.to_string();
        let email = text(fields, "email");
        let mut roles = user_role();
        if flag(fields, "is_staff") {
            roles.push("staff".into());
        }
        if flag(fields, "is_superuser") {
            roles.push(crate::roles::ADMIN.into());
        }
        let password = text(fields, "password");
        let (username, first_name, last_name) = (
            text(fields, "username"),
            text(fields, "first_name"),
            text(fields, "last_name"),
        );
        let account = Fields {
            id: None,
            password_unconfirmed: None,
            email: &email,
            username: &username,
            first_name: &first_name,
            last_name: &last_name,
            // Django marks an unusable password (a provider-only account) with a leading "!".
            password_hash: Some(password.as_str()).filter(|p| !p.starts_with('!')),
            email_verified: verified
                .get(&pk)
                .is_some_and(|addresses| addresses.contains(&email.to_lowercase())),
            status: if flag(fields, "is_active") {
                UserStatus::Active
            } else {
                UserStatus::Disabled
            },
            roles,
            created_at: time_or(fields.get("date_joined").and_then(|v| v.as_str()), now),
        }
        .account(social.remove(&pk).unwrap_or_default(), Vec::new());
        records.push(Record {
            at: format!("record {} (auth.user {pk})", index + 1),
            account,
        });
    }
    Ok(records)
}

fn csv_rows(data: &str, what: &str) -> Result<Vec<(usize, HashMap<String, String>)>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(data.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::invalid_field(what, format!("has no CSV header: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut rows = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| Error::invalid_field(what, format!("is not CSV: {e}")))?;
        let line = row.position().map_or(0, |p| p.line() as usize);
        let fields = headers
            .iter()
            .cloned()
            .zip(row.iter().map(str::to_owned))
            .collect();
        rows.push((line, fields));
    }
    Ok(rows)
}

fn backend_ai(users: &str, keypairs: Option<&str>, now: UnixTime) -> Result<Vec<Record>> {
    let get =
        |row: &HashMap<String, String>, name: &str| row.get(name).cloned().unwrap_or_default();
    // Keys by their owner: the `user` column (the account's uuid) in current schemas, the
    // `user_id` column (the account's email) in older ones.
    let mut keys: HashMap<String, Vec<AccessKey>> = HashMap::new();
    let mut key_problems: HashMap<String, String> = HashMap::new();
    for (line, row) in keypairs
        .map(|k| csv_rows(k, "keypairs"))
        .transpose()?
        .unwrap_or_default()
    {
        if get(&row, "is_active") == "f" || get(&row, "is_active") == "false" {
            continue;
        }
        let owner = Some(get(&row, "user"))
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| get(&row, "user_id").to_lowercase());
        let (id, secret) = (get(&row, "access_key"), get(&row, "secret_key"));
        if !well_formed(&id) || secret.is_empty() {
            key_problems.insert(owner, format!("keypairs line {line}: not an access key"));
            continue;
        }
        keys.entry(owner).or_default().push(AccessKey {
            id,
            user_id: String::new(),
            // Backend.AI keeps the secret itself; Portcullis keeps only its digest.
            secret_digest: crate::tokens::digest(&secret),
            created_at: time_or(Some(&get(&row, "created_at")), now),
            last_used_at: Some(get(&row, "last_used"))
                .filter(|t| !t.is_empty())
                .map(|t| time_or(Some(&t), now)),
            expires_at: None,
        });
    }
    let mut records = Vec::new();
    for (line, row) in csv_rows(users, "data")? {
        let at = format!("line {line}");
        let status = match get(&row, "status").as_str() {
            "active" | "" => UserStatus::Active,
            "inactive" => UserStatus::Disabled,
            "before-verification" => UserStatus::PendingVerification,
            "deleted" => {
                records.push(Record {
                    at,
                    account: Err("the account is deleted in Backend.AI".into()),
                });
                continue;
            }
            other => {
                records.push(Record {
                    at,
                    account: Err(format!("status {other:?} is not one of Backend.AI's")),
                });
                continue;
            }
        };
        let mut roles = user_role();
        match get(&row, "role").as_str() {
            "superadmin" => roles.push(crate::roles::ADMIN.into()),
            "admin" => roles.push("domain_admin".into()),
            "monitor" => roles.push("monitor".into()),
            _ => {}
        }
        let uuid = get(&row, "uuid");
        let email = get(&row, "email");
        let owned = keys
            .remove(&uuid)
            .or_else(|| keys.remove(&email.to_lowercase()))
            .unwrap_or_default();
        let problem = key_problems
            .remove(&uuid)
            .or_else(|| key_problems.remove(&email.to_lowercase()));
        let (username, full_name, password) = (
            get(&row, "username"),
            get(&row, "full_name"),
            get(&row, "password"),
        );
        let account = match problem {
            Some(problem) => Err(problem),
            None => Fields {
                id: Some(uuid.clone()),
                // Backend.AI may have run without confirming addresses: a provider link to one
                // of these accounts removes the password, as for an unconfirmed signup.
                password_unconfirmed: Some(true),
                email: &email,
                username: &username,
                first_name: &full_name,
                last_name: "",
                password_hash: Some(password.as_str()).filter(|p| !p.is_empty()),
                email_verified: status == UserStatus::Active,
                status,
                roles,
                created_at: time_or(Some(&get(&row, "created_at")), now),
            }
            .account(Vec::new(), owned),
        };
        records.push(Record { at, account });
    }
    Ok(records)
}
