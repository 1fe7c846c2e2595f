//! The DynamoDB and SES emulator (moto's server) that the DynamoDB runs of the suite use.
//!
//! It runs through `scripts/emulator.py`, which applies requests one at a time as DynamoDB's
//! conditional writes are (moto alone does not). `scripts/test` starts one for the whole run and names it in `MOTO_ENDPOINT_URL`. Run
//! without it (`cargo nextest run` directly), the harness starts its own from `.venv`. Either way,
//! when no emulator can be had the tests fail with the reason: they never pass without one.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

pub const URL_VARIABLE: &str = "MOTO_ENDPOINT_URL";
/// The verified SES identity test mail is sent from.
pub const SENDER: &str = "noreply@portcullis.test";

struct Emulator {
    url: String,
    /// Kept open for the life of the process: when it closes, the wrapper stops moto.
    _child: Option<Child>,
}

static EMULATOR: OnceLock<Emulator> = OnceLock::new();

/// The emulator's base URL, starting it on first use.
pub fn url() -> &'static str {
    &EMULATOR.get_or_init(start).url
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

fn start() -> Emulator {
    if let Ok(url) = std::env::var(URL_VARIABLE) {
        return Emulator { url, _child: None };
    }
    let root = workspace_root();
    let venv = root.join(".venv/bin/python");
    let python = if venv.exists() {
        venv.display().to_string()
    } else {
        "python3".to_owned()
    };
    let program = format!("{python} {}", root.join("scripts/emulator.py").display());
    // moto runs under a shell that waits on our stdin: when this process ends, however it
    // ends, the pipe closes and the shell stops moto. No emulator outlives its tests.
    let script =
        format!("{program} 0 2>&1 & m=$!; trap 'kill $m 2>/dev/null' EXIT; cat >/dev/null");
    let mut child = Command::new("bash")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the DynamoDB emulator ({program}): {e}"));
    let stdout = child.stdout.take().expect("emulator output");
    let (found, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut announced = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !announced {
                if let Some(at) = line.find("Running on http://") {
                    let url = line[at + "Running on ".len()..].trim().to_owned();
                    let _ = found.send(Ok(url));
                    announced = true;
                } else {
                    let _ = found.send(Err(line));
                }
            }
            // Keep draining, or moto blocks on a full pipe.
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut output = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match seen.recv_timeout(left) {
            Ok(Ok(url)) => {
                return Emulator {
                    url,
                    _child: Some(child),
                };
            }
            Ok(Err(line)) => output.push(line),
            Err(_) => panic!(
                "the DynamoDB emulator did not start ({program}). Run scripts/test, which \
                 installs moto in .venv, or `pip install 'moto[server]'`. Its output:\n{}",
                output.join("\n")
            ),
        }
    }
}

const FIRST_RETRY: Duration = Duration::from_millis(20);

fn credentials() -> Credentials {
    Credentials::new("testing", "testing", None, None, "portcullis-tests")
}

pub fn dynamodb() -> aws_sdk_dynamodb::Client {
    dynamodb_at(url())
}

/// A DynamoDB client at `endpoint` (the emulator, or something in front of it), retrying as the
/// SDK's defaults do in Lambda (standard mode, three attempts), except that the first pause is
/// 20 ms rather than up to a second, so tests that meet faults don't sleep.
pub fn dynamodb_at(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .retry_config(
            aws_sdk_dynamodb::config::retry::RetryConfig::standard()
                .with_initial_backoff(FIRST_RETRY),
        )
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .http_client(portcullis::aws::http_client())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

pub fn ses() -> aws_sdk_sesv2::Client {
    ses_at(url())
}

/// An SES client at `endpoint`, retrying as `dynamodb_at` does.
pub fn ses_at(endpoint: &str) -> aws_sdk_sesv2::Client {
    let config = aws_sdk_sesv2::Config::builder()
        .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
        .retry_config(
            aws_sdk_sesv2::config::retry::RetryConfig::standard().with_initial_backoff(FIRST_RETRY),
        )
        .region(aws_sdk_sesv2::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .http_client(portcullis::aws::http_client())
        .credentials_provider(aws_sdk_sesv2::config::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "portcullis-tests",
        ))
        .build();
    aws_sdk_sesv2::Client::from_conf(config)
}

/// A new, empty table with Portcullis' schema: every test gets its own.
pub async fn fresh_table() -> portcullis::store::DynamoStore {
    let table = format!("portcullis-test-{}", uuid::Uuid::new_v4().simple());
    let store = portcullis::store::DynamoStore::new(dynamodb(), table);
    store
        .create_table()
        .await
        .unwrap_or_else(|e| panic!("creating a table in the emulator at {}: {e}", url()));
    store
}

/// SES refuses to send from an identity it has not seen: declare the test sender.
pub async fn verified_sender() -> portcullis::mail::Ses {
    let client = ses();
    client
        .create_email_identity()
        .email_identity(SENDER)
        .send()
        .await
        .unwrap_or_else(|e| panic!("declaring the SES sender in the emulator: {e:?}"));
    portcullis::mail::Ses::new(client, SENDER, None)
}

/// A message SES accepted, as the emulator recorded it (it keeps only the HTML body when a
/// message has both parts).
#[derive(Debug, Clone)]
pub struct SentMail {
    pub source: String,
    pub subject: String,
    pub body: String,
}

/// Every message the emulator has for `address`, oldest first.
pub async fn sent_to(address: &str) -> Vec<SentMail> {
    let data: serde_json::Value = crate::http_client()
        .get(format!("{}/moto-api/data.json", url()))
        .send()
        .await
        .expect("emulator data")
        .json()
        .await
        .expect("emulator data JSON");
    data["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| {
            m["destinations"]["ToAddresses"]
                .as_array()
                .is_some_and(|to| to.iter().any(|a| a.as_str() == Some(address)))
        })
        .map(|m| SentMail {
            source: m["source"].as_str().unwrap_or_default().to_owned(),
            subject: m["subject"].as_str().unwrap_or_default().to_owned(),
            body: m["body"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}
