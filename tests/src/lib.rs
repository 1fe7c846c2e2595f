//! The end-to-end harness: a real `portcullis serve` (the same `serve` function, in process) on an
//! ephemeral loopback port, over its own store, with a clock the test can move.
#![forbid(unsafe_code)]

pub mod emulator;
pub mod function;

use std::path::PathBuf;
use std::sync::Arc;

use portcullis::clock::ManualClock;
use portcullis::config::{Config, Environment};
use portcullis::mail::{Mailer, Outbox};
use portcullis::store::Store;
use portcullis::{App, Deps};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// An HTTP client for the tests. Portcullis builds reqwest on rustls without a default crypto
/// provider (it gives its own client ring explicitly), so the tests' clients name ring too.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Installs ring as the process's rustls provider, for tests that build their own reqwest client.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A password that passes the default policy.
pub const PASSWORD: &str = "Vx7#quartz-lamp";

/// A fresh address no other test uses.
pub fn unique_email(tag: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{tag}-{}@example.com", &id[..12])
}

/// Settings every test server starts with: cheap hashing (the cost is measured in benches, not
/// here), no IP limit in the way, and no verification step unless a test asks for it.
const TEST_DEFAULTS: &[(&str, &str)] = &[
    ("PORTCULLIS_ARGON2", "m=1024,t=1,p=1"),
    ("PORTCULLIS_IP_RATE_LIMIT", "100000/1m"),
    ("PORTCULLIS_EMAIL_VERIFICATION", "off"),
    ("PORTCULLIS_MAIL_RESPONSE_TIME", "0s"),
    ("PORTCULLIS_UI_URL", "https://ui.example"),
];

/// Which store (and mailer) a server runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite and the outbox folder: the embedded defaults.
    Sqlite,
    /// DynamoDB and SES, in the emulator.
    DynamoDb,
}

/// Runs each named `async fn(Backend)` test twice, as `sqlite::name` and `dynamodb::name`.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::Backend::DynamoDb).await;
                }
            )*
        }
    };
}

pub struct Server {
    pub api: Api,
    pub backend: Backend,
    pub clock: Arc<ManualClock>,
    pub app: Arc<App>,
    pub dir: tempfile::TempDir,
    /// The emulator table of a DynamoDB server, to look at the items directly.
    pub table: Option<String>,
    stop: Option<oneshot::Sender<()>>,
}

/// A client of one server: cheap to clone into concurrently running tasks.
#[derive(Clone)]
pub struct Api {
    pub url: String,
    pub http: reqwest::Client,
}

impl std::ops::Deref for Server {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

/// Runs `count` copies of a request at once, each on its own task, and returns every reply.
pub async fn concurrently<F, Fut>(count: usize, request: F) -> Vec<Reply>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Reply> + Send + 'static,
{
    let tasks: Vec<_> = (0..count).map(|i| tokio::spawn(request(i))).collect();
    let mut replies = Vec::with_capacity(count);
    for task in tasks {
        replies.push(task.await.expect("request task"));
    }
    replies
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// The messages for one field of a problem's `errors`.
    pub fn errors(&self, field: &str) -> Vec<String> {
        self.body["errors"][field]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| m.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body without its `request_id`, to compare two problems.
    pub fn body_without_request_id(&self) -> Value {
        let mut body = self.body.clone();
        if let Some(map) = body.as_object_mut() {
            map.remove("request_id");
        }
        body
    }
}

impl Server {
    pub async fn start(backend: Backend) -> Server {
        Server::with(backend, &[]).await
    }

    /// A server whose configuration is the test defaults overridden by `vars`.
    pub async fn with(backend: Backend, vars: &[(&str, &str)]) -> Server {
        Server::build(backend, vars, None, None).await
    }

    /// A server that sends its mail through `mailer` instead of the backend's own.
    pub async fn with_mailer(
        backend: Backend,
        vars: &[(&str, &str)],
        mailer: Arc<dyn Mailer>,
    ) -> Server {
        Server::build(backend, vars, Some(mailer), None).await
    }

    /// A DynamoDB server on `store` (a table of the emulator reached some other way, such as
    /// through a proxy that injects faults), mailing through `mailer`.
    pub async fn on_dynamodb(
        vars: &[(&str, &str)],
        store: portcullis::store::DynamoStore,
        mailer: Arc<dyn Mailer>,
    ) -> Server {
        Server::build(Backend::DynamoDb, vars, Some(mailer), Some(store)).await
    }

    async fn build(
        backend: Backend,
        vars: &[(&str, &str)],
        mailer_override: Option<Arc<dyn Mailer>>,
        store_override: Option<portcullis::store::DynamoStore>,
    ) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store_var, mailer_var) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("portcullis.db").display()),
                format!("outbox://{}", dir.path().join("outbox").display()),
            ),
            Backend::DynamoDb => (
                "dynamodb://set-by-the-harness".to_owned(),
                format!("ses://{}", emulator::SENDER),
            ),
        };
        let mut all: Vec<(String, String)> = vec![
            ("PORTCULLIS_STORE".into(), store_var),
            ("PORTCULLIS_MAILER".into(), mailer_var),
        ];
        all.extend(
            TEST_DEFAULTS
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::from_vars(all, Environment::Local).expect("test configuration");

        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let clock = Arc::new(ManualClock::starting_now());
        let mut table = None;
        let (store, mailer): (Arc<dyn Store>, Arc<dyn Mailer>) = match backend {
            Backend::Sqlite => (
                portcullis::app::open_store(&config)
                    .await
                    .expect("open store"),
                Arc::new(Outbox::new(dir.path().join("outbox"))),
            ),
            Backend::DynamoDb => {
                let store = match store_override {
                    Some(store) => store,
                    None => emulator::fresh_table().await,
                };
                table = Some(store.table().to_owned());
                (Arc::new(store), Arc::new(emulator::verified_sender().await))
            }
        };
        let deps = Deps {
            store,
            mailer: mailer_override.unwrap_or(mailer),
            clock: clock.clone(),
        };
        let app = Arc::new(
            App::new(config, &url.parse().expect("url"), deps)
                .await
                .expect("app"),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(portcullis_cli::serve::serve(app.clone(), listener, async {
            let _ = stopped.await;
        }));
        Server {
            api: Api {
                url,
                http: http_client(),
            },
            backend,
            clock,
            app,
            dir,
            table,
            stop: Some(stop),
        }
    }

    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }

    /// Every mail this server sent to `address`, oldest first: from the outbox files on SQLite,
    /// from the emulator's record of SES on DynamoDB (which keeps the HTML part only).
    pub async fn mail_to(&self, address: &str) -> Vec<Mail> {
        match self.backend {
            Backend::Sqlite => {
                let Ok(entries) = std::fs::read_dir(self.outbox()) else {
                    return Vec::new();
                };
                let mut paths: Vec<PathBuf> =
                    entries.map(|e| e.expect("outbox entry").path()).collect();
                paths.sort();
                paths
                    .iter()
                    .filter_map(|path| {
                        let bytes = std::fs::read(path).expect("outbox file");
                        let message = mail_parser::MessageParser::default()
                            .parse(&bytes)
                            .expect("an RFC 5322 message");
                        let to = message.to()?.first()?.address()?.to_owned();
                        (to == address).then(|| Mail {
                            subject: message.subject().unwrap_or_default().to_owned(),
                            body: message.body_text(0).unwrap_or_default().into_owned(),
                            html: message.body_html(0).map(|h| h.into_owned()),
                        })
                    })
                    .collect()
            }
            Backend::DynamoDb => emulator::sent_to(address)
                .await
                .into_iter()
                .map(|m| Mail {
                    subject: m.subject,
                    body: m.body.clone(),
                    html: Some(m.body),
                })
                .collect(),
        }
    }

    /// The token of the newest link to `{ui}{path}?token=` mailed to `address`.
    pub async fn mailed_token(&self, address: &str, path: &str) -> Option<String> {
        let marker = format!("{path}?token=");
        self.mail_to(address).await.iter().rev().find_map(|mail| {
            let at = mail.body.find(&marker)? + marker.len();
            let token: String = mail.body[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            (token.len() == 43).then_some(token)
        })
    }
}

/// A mail as the person would read it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub subject: String,
    /// The plain-text part on the outbox; the HTML part on SES (the emulator keeps only that).
    pub body: String,
    pub html: Option<String>,
}

impl Api {
    async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .expect("request");
        Api::reply(response).await
    }

    /// A POST with a raw body and content type, for malformed input.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        Api::reply(response).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("request");
        Api::reply(response).await
    }

    pub async fn post_with_token(&self, path: &str, token: &str, body: Value) -> Reply {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request");
        Api::reply(response).await
    }

    pub async fn get_with_token(&self, path: &str, token: &str) -> Reply {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        Api::reply(response).await
    }

    pub async fn patch_with_token(&self, path: &str, token: &str, body: Value) -> Reply {
        let response = self
            .http
            .patch(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request");
        Api::reply(response).await
    }

    pub async fn delete_with_token(&self, path: &str, token: &str) -> Reply {
        let response = self
            .http
            .delete(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        Api::reply(response).await
    }

    pub async fn signup(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/v1/signup",
            json!({ "email": email, "password": password, "accept_terms": true }),
        )
        .await
    }

    /// Signs up and asserts it worked; returns the user's id and username.
    pub async fn signed_up(&self, email: &str) -> (String, String) {
        let reply = self.signup(email, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        (
            reply.body["user_id"].as_str().unwrap().to_owned(),
            reply.body["username"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn login(&self, identifier: &str, password: &str) -> Reply {
        self.post(
            "/v1/login",
            json!({ "identifier": identifier, "password": password }),
        )
        .await
    }
}

impl Server {
    /// Makes an admin with `portcullis createsuperuser`'s code on this server's store, logs it in
    /// and returns its user id and access token.
    pub async fn admin(&self) -> (String, String) {
        let email = unique_email("admin");
        let username = format!("admin-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let user = portcullis::superuser::create(
            &self.app.config,
            self.app.store.as_ref(),
            self.app.clock.as_ref(),
            &email,
            &username,
            &portcullis::secret::Secret::new(PASSWORD),
        )
        .await
        .expect("superuser");
        let reply = self.login(&email, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        (
            user.id,
            reply.body["access_token"]
                .as_str()
                .expect("token")
                .to_owned(),
        )
    }

    /// Signs up, logs in, and returns the user id and access token.
    pub async fn member(&self, tag: &str) -> (String, String, String) {
        let email = unique_email(tag);
        let (user_id, _) = self.signed_up(&email).await;
        let reply = self.login(&email, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        (
            user_id,
            email,
            reply.body["access_token"]
                .as_str()
                .expect("token")
                .to_owned(),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
