//! The `portcullis` binary as a person runs it.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

#[tokio::test]
async fn serve_starts_on_the_embedded_defaults_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("PORTCULLIS_ARGON2", "m=1024,t=1,p=1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let message = first["fields"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("Portcullis listening on http://127.0.0.1:"),
        "{message}"
    );
    let url = message
        .trim_start_matches("Portcullis listening on ")
        .to_owned();
    std::thread::spawn(move || for _ in lines {});

    let mut health = None;
    for _ in 0..100 {
        if let Ok(response) = portcullis_tests::http_client()
            .get(format!("{url}/v1/health"))
            .send()
            .await
        {
            health = Some(response.json::<serde_json::Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(health, Some(serde_json::json!({"status": "ok"})));
    assert!(dir.path().join(".portcullis/portcullis.db").exists());

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_misspelt_variable_stops_start_up_and_is_named() {
    let output = Command::new(BIN)
        .args(["serve"])
        .env("PORTCULLIS_LOCKOUT_TRESHOLD", "5")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("PORTCULLIS_LOCKOUT_TRESHOLD"), "{stderr}");
}

fn emulator_command(args: &[&str], table: &str) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("PORTCULLIS_STORE", format!("dynamodb://{table}"))
        .env(
            "PORTCULLIS_DYNAMODB_ENDPOINT",
            portcullis_tests::emulator::url(),
        )
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap()
}

#[test]
fn table_create_makes_the_table_with_its_index_and_ttl_and_may_run_twice() {
    let table = format!("portcullis-cli-{}", uuid::Uuid::new_v4().simple());
    for _ in 0..2 {
        let output = emulator_command(&["table", "create"], &table);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout.contains(&format!("table {table}: ACTIVE")),
            "{stdout}"
        );
        assert!(stdout.contains("indexes [gsi1, gsi2]"), "{stdout}");
        assert!(stdout.contains("TTL ENABLED on expires_at"), "{stdout}");
    }
    let output = emulator_command(&["table", "describe"], &table);
    assert!(output.status.success());
}

#[test]
fn table_commands_need_a_dynamodb_store() {
    let output = Command::new(BIN)
        .args(["table", "describe"])
        .env("PORTCULLIS_STORE", "sqlite:///tmp/x.db")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not name a DynamoDB table"));
}

#[test]
fn keys_rotate_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("keys.db").display());
    let run = |args: &[&str]| {
        let output = Command::new(BIN)
            .args(args)
            .env("PORTCULLIS_STORE", &store)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let added = run(&["keys", "rotate", "--now"]);
    assert!(added.starts_with("added "), "{added}");
    let pending = run(&["keys", "rotate"]);
    assert!(pending.starts_with("added "), "{pending}");
    let list = run(&["keys", "list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines[0].ends_with("signing"), "{list}");
    assert!(lines[1].contains("pending, signs from"), "{list}");
}

fn createsuperuser(
    envs: &[(&str, String)],
    email: &str,
    username: &str,
    password: &str,
) -> std::process::Output {
    use std::io::Write as _;
    let mut child = Command::new(BIN)
        .args([
            "createsuperuser",
            "--email",
            email,
            "--username",
            username,
            "--password-stdin",
        ])
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PORTCULLIS_ARGON2", "m=1024,t=1,p=1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

async fn superuser_on(
    envs: Vec<(&str, String)>,
    store: std::sync::Arc<dyn portcullis::store::Store>,
) {
    let email = format!("root-{}@example.com", uuid::Uuid::new_v4().simple());
    let username = format!("root{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let weak = createsuperuser(&envs, &email, &username, "password");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("too weak"));

    let made = createsuperuser(&envs, &email, &username, "Vx7#quartz-lamp");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(
        String::from_utf8_lossy(&made.stdout)
            .starts_with(&format!("created superuser {username} ("))
    );
    let user = store
        .user_by_email(&email)
        .await
        .unwrap()
        .expect("the account exists");
    assert_eq!(user.status, portcullis::user::UserStatus::Active);
    assert!(user.email_verified);
    assert_eq!(user.roles, vec!["admin".to_owned(), "user".to_owned()]);

    let again = createsuperuser(&envs, &email, &format!("{username}x"), "Vx7#quartz-lamp");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(
        store
            .user_by_username(&format!("{username}x"))
            .await
            .unwrap(),
        None,
        "no second account"
    );
}

#[tokio::test]
async fn createsuperuser_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("root.db");
    let envs = vec![("PORTCULLIS_STORE", format!("sqlite://{}", path.display()))];
    let store = std::sync::Arc::new(portcullis::store::SqliteStore::open(&path).await.unwrap());
    superuser_on(envs, store).await;
}

#[tokio::test]
async fn createsuperuser_on_dynamodb() {
    let table = portcullis_tests::emulator::fresh_table().await;
    let envs = vec![
        ("PORTCULLIS_STORE", format!("dynamodb://{}", table.table())),
        (
            "PORTCULLIS_DYNAMODB_ENDPOINT",
            portcullis_tests::emulator::url().to_owned(),
        ),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ];
    superuser_on(envs, std::sync::Arc::new(table)).await;
}
