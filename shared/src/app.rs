//! `App`: everything a request needs, built once per process (per Lambda instance).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::{Map, Value};
use url::Url;

use crate::audit::{AuditEvent, EventKind};
use crate::caller::Caller;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, MailerLocation, StoreLocation};
use crate::email::Email;
use crate::error::{Error, Result};
use crate::mail::Message;
use crate::mail::{Mailer, NoMailer};
use crate::password::PasswordHasher;
use crate::rate_limit::RateGroup;
use crate::store::Store;
use crate::tokens::{AccessClaims, KeyWindows, Keyring, SigningKeyRecord};
use crate::user::{User, UserStatus};

/// Who a Bearer token speaks for.
pub struct Authenticated {
    pub claims: AccessClaims,
    pub user: User,
    /// The access key that opened the session, if one did.
    pub access_key: Option<String>,
}

pub struct App {
    pub config: Config,
    /// `iss` of access tokens: the public URL without a trailing slash.
    pub issuer: String,
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub passwords: PasswordHasher,
    keys: RwLock<Arc<Keyring>>,
    keys_loaded_at: AtomicI64,
    mail_failures: AtomicU64,
}

/// How often an instance reads the signing keys again, to pick up a rotation.
pub const KEY_RELOAD: Duration = Duration::from_secs(60);

/// What the app talks to: built from `Config` in production, by hand in tests.
pub struct Deps {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
}

impl Deps {
    /// The store and mailer that `PORTCULLIS_STORE` and `PORTCULLIS_MAILER` name, on the real clock.
    pub async fn from_config(config: &Config) -> Result<Deps> {
        Ok(Deps {
            store: open_store(config).await?,
            mailer: open_mailer(config).await?,
            clock: Arc::new(SystemClock),
        })
    }
}

fn key_windows(config: &Config) -> KeyWindows {
    KeyWindows {
        access_token_ttl: config.tokens.access_token_ttl,
        reload: KEY_RELOAD,
    }
}

/// Opens the store that `PORTCULLIS_STORE` names.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>> {
    match &config.store.location {
        #[cfg(feature = "sqlite")]
        StoreLocation::Sqlite(path) => Ok(Arc::new(crate::store::SqliteStore::open(path).await?)),
        #[cfg(feature = "dynamodb")]
        StoreLocation::DynamoDb { table } => Ok(Arc::new(
            crate::store::DynamoStore::connect(
                table,
                config.store.dynamodb_endpoint.as_ref().map(|u| u.as_str()),
            )
            .await,
        )),
        #[allow(unreachable_patterns)]
        other => Err(Error::internal(format!(
            "this build has no support for the store {other:?}"
        ))),
    }
}

/// Opens the mailer that `PORTCULLIS_MAILER` names. A Lambda function built without mail (login,
/// session, discovery, oauth-callback) sends none: its mailer refuses and the refusal is logged.
pub async fn open_mailer(config: &Config) -> Result<Arc<dyn Mailer>> {
    match &config.mail.mailer {
        None => Ok(Arc::new(NoMailer)),
        #[cfg(feature = "outbox")]
        Some(MailerLocation::Outbox(dir)) => Ok(Arc::new(crate::mail::Outbox::new(dir))),
        #[cfg(feature = "ses")]
        Some(MailerLocation::Ses { from }) => Ok(Arc::new(
            crate::mail::Ses::connect(
                from,
                config.mail.ses_configuration_set.clone(),
                config.mail.ses_endpoint.as_ref().map(|u| u.as_str()),
            )
            .await,
        )),
        #[cfg(not(feature = "ses"))]
        Some(MailerLocation::Ses { .. }) => Ok(Arc::new(NoMailer)),
        #[allow(unreachable_patterns)]
        Some(other) => Err(Error::internal(format!(
            "this build has no support for the mailer {other:?}"
        ))),
    }
}

impl App {
    /// Builds the app over an open store. On the very first start this generates the signing key
    /// and keeps it in the store; of several instances starting at once, one key wins.
    pub async fn new(config: Config, public_url: &Url, deps: Deps) -> Result<App> {
        let Deps {
            store,
            mailer,
            clock,
        } = deps;
        let now = clock.now();
        let mut records = store.signing_keys().await?;
        if records.is_empty() {
            let record = SigningKeyRecord::generate(now, now).await?;
            if store.add_first_signing_key(&record).await? {
                tracing::info!(kid = %record.kid, "generated the first signing key");
            }
            records = store.signing_keys().await?;
        }
        let keys = Keyring::from_records(&records, now, key_windows(&config))?;
        Ok(App {
            issuer: public_url.as_str().trim_end_matches('/').to_owned(),
            passwords: PasswordHasher::new(config.passwords.argon2)?,
            config,
            store,
            mailer,
            clock,
            keys: RwLock::new(Arc::new(keys)),
            keys_loaded_at: AtomicI64::new(now.seconds()),
            mail_failures: AtomicU64::new(0),
        })
    }

    /// The keys in use now.
    pub fn keys(&self) -> Arc<Keyring> {
        match self.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn key_windows(&self) -> KeyWindows {
        key_windows(&self.config)
    }

    /// Reads the signing keys again when the last read is `KEY_RELOAD` old, so a rotation
    /// reaches every instance within a minute. A failed read keeps the keys it had.
    pub async fn reload_keys_if_due(&self) {
        let now = self.clock.now();
        let loaded = self.keys_loaded_at.load(Ordering::Relaxed);
        if now.seconds() - loaded < KEY_RELOAD.as_secs() as i64 {
            return;
        }
        // One request reloads; the others go on with the keys they have.
        if self
            .keys_loaded_at
            .compare_exchange(loaded, now.seconds(), Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let reloaded = match self.store.signing_keys().await {
            Ok(records) => Keyring::from_records(&records, now, self.key_windows()),
            Err(error) => Err(error),
        };
        match reloaded {
            Ok(keys) => {
                if let Ok(mut slot) = self.keys.write() {
                    *slot = Arc::new(keys);
                }
            }
            Err(error) => tracing::error!(%error, "reloading the signing keys failed"),
        }
    }

    /// Counts the request against its client IP's limit for the route group.
    pub async fn check_ip_rate(&self, group: RateGroup, caller: &Caller) -> Result<()> {
        let now = self.clock.now();
        let limit = self.config.rate_limits.ip;
        let client = crate::rate_limit::client_group(caller.ip.as_deref().unwrap_or("unknown"));
        let window = limit.window(&format!("ip#{}#{client}", group.as_str()), now);
        let count = self.store.increment(&window.key, window.ends_at).await?;
        if limit.allows(count) {
            Ok(())
        } else {
            Err(Error::RateLimited {
                retry_after: now.seconds_until(window.ends_at),
            })
        }
    }

    /// The claims and account behind a valid access token whose session is still live (not
    /// revoked, expired, or ended by a password change) and whose account is not disabled;
    /// otherwise 401.
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated> {
        let now = self.clock.now();
        let claims = self
            .keys()
            .verify(token, &self.issuer, &self.config.tokens.audience, now)
            .ok_or(Error::Unauthorized)?;
        let session = self
            .store
            .session(&claims.sid)
            .await?
            .ok_or(Error::Unauthorized)?;
        let user = self
            .store
            .user_by_id(&claims.sub)
            .await?
            .ok_or(Error::Unauthorized)?;
        if session.user_id != user.id
            || !session.is_live(now, user.session_epoch)
            || user.status == UserStatus::Disabled
            || !self.session_key_held(&session).await?
        {
            return Err(Error::Unauthorized);
        }
        Ok(Authenticated {
            claims,
            user,
            access_key: session.access_key,
        })
    }

    /// A session opened with an access key lives only as long as the key does (until it is
    /// deleted or expires, and while it still belongs to the session's user): one consistent
    /// read, for key sessions only.
    pub async fn session_key_held(&self, session: &crate::session::Session) -> Result<bool> {
        match &session.access_key {
            None => Ok(true),
            Some(id) => Ok(self.store.access_key(id).await?.is_some_and(|key| {
                key.user_id == session.user_id && key.is_live(self.clock.now())
            })),
        }
    }

    /// Where mail links point: the UI, or the server itself.
    pub fn ui_url(&self) -> String {
        self.config.urls.ui_url.as_ref().map_or_else(
            || self.issuer.clone(),
            |u| u.as_str().trim_end_matches('/').to_owned(),
        )
    }

    /// Counts one mail to `email` against its per-address limit; `false` when over it.
    pub async fn mail_allowed(&self, email: &Email) -> Result<bool> {
        let limit = self.config.rate_limits.mail;
        let scope = format!("mail#{}", crate::tokens::digest(email.key()));
        let window = limit.window(&scope, self.clock.now());
        let count = self.store.increment(&window.key, window.ends_at).await?;
        Ok(limit.allows(count))
    }

    /// Sends a message. A failure is logged (with the request id of the span) and swallowed:
    /// the account is never lost over a mail, and the person can ask for it again.
    pub async fn deliver(&self, message: Result<Message>) {
        let sent = match message {
            Ok(message) => self.mailer.send(&message).await,
            Err(error) => Err(error),
        };
        if let Err(error) = sent {
            let failures = self.mail_failures.fetch_add(1, Ordering::Relaxed) + 1;
            // `event` is what a log metric filter counts (docs/deploy.md, "Watching it run").
            tracing::error!(%error, event = "mail_not_sent", failures, "mail not sent");
        }
    }

    /// How many messages this instance failed to send since it started.
    pub fn mail_failures(&self) -> u64 {
        self.mail_failures.load(Ordering::Relaxed)
    }

    /// Records an event about `user_id`. The log line is always written; a store that fails to
    /// keep the event is logged as an error, never turned into a failed request (the account
    /// action has happened, and the log line still holds it).
    pub async fn audit(
        &self,
        caller: &Caller,
        kind: EventKind,
        user_id: Option<&str>,
        detail: Map<String, Value>,
    ) {
        let at = self.clock.now();
        let event = AuditEvent {
            id: uuid::Uuid::new_v4().to_string(),
            at,
            kind: kind.as_str().to_owned(),
            user_id: user_id.map(str::to_owned),
            ip: caller.ip.clone(),
            user_agent: caller.user_agent.clone(),
            detail,
            expires_at: at.plus(self.config.log.audit_retention),
        };
        let detail_text = Value::Object(event.detail.clone()).to_string();
        tracing::info!(
            target: "portcullis::audit",
            event = event.kind,
            user_id = event.user_id.as_deref().unwrap_or(""),
            ip = event.ip.as_deref().unwrap_or(""),
            user_agent = event.user_agent.as_deref().unwrap_or(""),
            detail = %detail_text,
            "audit"
        );
        if let Err(error) = self.store.record_event(&event).await {
            tracing::error!(%error, event = event.kind, "audit event not stored");
        }
    }
}
