//! The `portcullis` binary as a person runs it.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    assert!(stderr.contains("portcullis config check"), "{stderr}");
    assert!(stderr.contains("docs/api.md"), "{stderr}");
}

/// The binary run in `dir`, with no `PORTCULLIS_*` variable of the environment running the tests.
fn isolated(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PORTCULLIS_") {
            command.env_remove(name);
        }
    }
    command
}

/// Runs `command` with `stdin` as its standard input (a pipe, so not a terminal); a process still
/// running after `limit` is killed and fails the test, so a prompt or a server can't hang it.
fn output_within(command: &mut Command, stdin: &str, limit: Duration) -> std::process::Output {
    use std::io::Write as _;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The child may exit before reading: a broken pipe is no failure.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}; stdout: {}; stderr: {}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn is_json_line(line: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(line).is_ok_and(|v| v.is_object())
}

#[test]
fn serve_on_an_address_in_use_says_so_once_and_how_to_choose_another() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = output_within(
        isolated(dir.path()).args(["serve", "--addr", &addr]),
        "",
        Duration::from_secs(30),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stdout}{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("portcullis: "), "{stderr}");
    assert!(lines[0].contains(&addr), "{stderr}");
    assert!(lines[0].contains("already in use"), "{stderr}");
    assert!(lines[0].contains("--addr"), "{stderr}");
    assert!(
        !stdout.lines().chain(stderr.lines()).any(is_json_line),
        "no log line repeats the error: {stdout}{stderr}"
    );
    assert!(!dir.path().join(".portcullis").exists());
    drop(taken);
}

#[test]
fn createsuperuser_without_a_terminal_wants_password_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("root.db");
    let output = output_within(
        isolated(dir.path())
            .args([
                "createsuperuser",
                "--email",
                "root@example.com",
                "--username",
                "root",
            ])
            .env("PORTCULLIS_STORE", format!("sqlite://{}", db.display()))
            .env("PORTCULLIS_ARGON2", "m=1024,t=1,p=1"),
        "Vx7#quartz-lamp\n",
        Duration::from_secs(30),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("--password-stdin"), "{stderr}");
    assert!(stderr.contains("not a terminal"), "{stderr}");
    assert!(!stderr.lines().any(is_json_line), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(!db.exists(), "nothing is created, not even the database");
    assert!(!dir.path().join(".portcullis").exists());
}

#[test]
fn config_check_prints_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let output = isolated(dir.path())
        .args(["config", "check"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = |variable: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(variable))
            .unwrap_or_else(|| panic!("no line for {variable}: {stdout}"))
            .to_owned()
    };
    assert!(
        line("PORTCULLIS_STORE").contains("sqlite://.portcullis/portcullis.db"),
        "{stdout}"
    );
    assert!(
        line("PORTCULLIS_MAILER").contains("outbox://.portcullis/outbox"),
        "{stdout}"
    );
    assert_eq!(
        line("PORTCULLIS_SIGNUP_MODE").split_whitespace().nth(1),
        Some("open"),
        "{stdout}"
    );
    assert!(
        line("PORTCULLIS_LOCKOUT_THRESHOLD").ends_with(" 10"),
        "{stdout}"
    );
    assert!(
        !stdout.lines().any(|l| l.ends_with("(set)")),
        "nothing is set: {stdout}"
    );
    assert!(
        !dir.path().join(".portcullis").exists(),
        "checking creates nothing"
    );
}

#[test]
fn config_check_shows_what_is_set_and_redacts_client_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let output = isolated(dir.path())
        .args(["config", "check"])
        .env("PORTCULLIS_OAUTH_GITHUB_CLIENT_ID", "gh-client-id")
        .env("PORTCULLIS_OAUTH_GITHUB_CLIENT_SECRET", "gh-very-secret")
        .env("PORTCULLIS_SIGNUP_MODE", "invitation")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("gh-client-id"), "{stdout}");
    assert!(
        stdout.lines().any(
            |l| l.contains("PORTCULLIS_OAUTH_GITHUB_CLIENT_SECRET") && l.contains("[redacted]")
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("gh-very-secret"), "{stdout}");
    assert!(!stderr.contains("gh-very-secret"), "{stderr}");
    assert!(
        stdout.lines().any(|l| l.contains("PORTCULLIS_SIGNUP_MODE")
            && l.contains("invitation")
            && l.contains("(set)")),
        "{stdout}"
    );
}

#[test]
fn config_check_with_a_misspelt_variable_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = isolated(dir.path())
        .args(["config", "check"])
        .env("PORTCULLIS_SINGUP_MODE", "open")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("PORTCULLIS_SINGUP_MODE"), "{stderr}");
    assert!(stderr.contains("docs/api.md"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn help_says_where_settings_come_from() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "PORTCULLIS_",
        "docs/api.md",
        ".portcullis/portcullis.db",
        ".portcullis/outbox",
        "config check",
    ] {
        assert!(stdout.contains(needle), "{needle}: {stdout}");
    }
}

#[tokio::test]
async fn serve_one_function_answers_only_its_routes() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--function", "login", "--addr", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("PORTCULLIS_ARGON2", "m=1024,t=1,p=1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["fields"]["function"], "login");
    let url = first["fields"]["message"]
        .as_str()
        .unwrap()
        .trim_start_matches("Portcullis listening on ")
        .to_owned();
    std::thread::spawn(move || for _ in lines {});
    let client = portcullis_tests::http_client();
    let mut login = None;
    for _ in 0..100 {
        if let Ok(response) = client
            .post(format!("{url}/v1/login"))
            .json(&serde_json::json!({"identifier": "nobody", "password": "Wrong-pass-1"}))
            .send()
            .await
        {
            login = Some(response.status().as_u16());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(login, Some(401), "the login function's own route");
    for path in ["/v1/health", "/v1/me", "/login"] {
        let status = client
            .get(format!("{url}{path}"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 404, "{path} belongs to another function");
    }
    child.kill().unwrap();
    let _ = child.wait();

    let output = Command::new(BIN)
        .args(["serve", "--function", "logn"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("signup, login"), "{stderr}");
}

#[test]
fn every_command_and_flag_has_help() {
    for path in [
        &[][..],
        &["serve"],
        &["createsuperuser"],
        &["keys"],
        &["keys", "rotate"],
        &["keys", "list"],
        &["table"],
        &["table", "create"],
        &["table", "describe"],
        &["config"],
        &["config", "check"],
        &["users"],
        &["users", "import"],
        &["users", "export"],
        &["seed"],
    ] {
        let output = Command::new(BIN).args(path).arg("-h").output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{path:?}: {stdout}");
        let mut section = "";
        let mut entries = 0;
        for line in stdout.lines() {
            if !line.starts_with(' ') {
                section = line;
                continue;
            }
            if !matches!(section, "Commands:" | "Options:") || line.trim().is_empty() {
                continue;
            }
            // `  --email <ADDRESS>  Email address ...`: a name, two spaces, its help.
            let help = line.trim_start().split_once("  ").map(|(_, h)| h.trim());
            assert!(
                help.is_some_and(|h| !h.is_empty()),
                "{path:?}: no help for {line:?}\n{stdout}"
            );
            entries += 1;
        }
        assert!(entries > 0, "{path:?}: {stdout}");
        let flags: &[&str] = match path {
            ["serve"] => &["--addr", "--function"],
            ["users", "import"] => &["--format", "--keypairs", "--dry-run", "--max-errors"],
            ["createsuperuser"] => &["--email", "--username", "--password-stdin"],
            ["keys", "rotate"] => &["--now"],
            ["seed"] => &["--users", "--prefix", "--output"],
            _ => &[],
        };
        for flag in flags {
            assert!(stdout.contains(flag), "{path:?}: {flag}\n{stdout}");
        }
    }
}

/// The variables that put a command on `table` in the emulator.
#[cfg(feature = "aws")]
fn emulator_envs(table: &str) -> Vec<(&'static str, String)> {
    vec![
        ("PORTCULLIS_STORE", format!("dynamodb://{table}")),
        (
            "PORTCULLIS_DYNAMODB_ENDPOINT",
            portcullis_tests::emulator::url().to_owned(),
        ),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ]
}

#[cfg(feature = "aws")]
fn emulator_command(args: &[&str], table: &str) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .envs(emulator_envs(table))
        .output()
        .unwrap()
}

#[cfg(feature = "aws")]
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

#[cfg(feature = "aws")]
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

#[cfg(feature = "aws")]
#[tokio::test]
async fn createsuperuser_on_dynamodb() {
    let table = portcullis_tests::emulator::fresh_table().await;
    let envs = emulator_envs(table.table());
    superuser_on(envs, std::sync::Arc::new(table)).await;
}

fn seed(envs: &[(&str, String)], dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("seed")
        .args(args)
        .current_dir(dir)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PORTCULLIS_ARGON2", "m=1024,t=1,p=1")
        .output()
        .unwrap()
}

/// Reads a credentials file: its header, then one row of five fields per account.
fn credentials(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("email,username,password,access_key,secret_key")
    );
    lines
        .map(|line| line.split(',').map(str::to_owned).collect::<Vec<_>>())
        .inspect(|row| assert_eq!(row.len(), 5, "{row:?}"))
        .collect()
}

async fn seed_on(envs: Vec<(&str, String)>, store: std::sync::Arc<dyn portcullis::store::Store>) {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("s{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    // A file there before, readable by all: it is replaced, and made private.
    let path = dir.path().join("creds.csv");
    std::fs::write(&path, "old\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let made = seed(
        &envs,
        dir.path(),
        &["--users", "4", "--prefix", &prefix, "-o", "creds.csv"],
    );
    let stderr = String::from_utf8_lossy(&made.stderr);
    assert!(made.status.success(), "{stderr}");
    assert!(
        stderr.contains("4 accounts created, credentials in creds.csv"),
        "{stderr}"
    );
    assert!(!dir.path().join("creds.csv.partial").exists());
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600,
        "passwords readable by their owner alone"
    );
    let rows = credentials(&path);
    assert_eq!(rows.len(), 4);
    let hasher = portcullis::password::PasswordHasher::new(portcullis::config::Argon2Cost {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap();
    for (n, row) in rows.iter().enumerate() {
        let name = format!("{prefix}-{:05}", n + 1);
        assert_eq!(row[0], format!("{name}@example.com"));
        assert_eq!(row[1], name);
        let user = store
            .user_by_username(&name)
            .await
            .unwrap()
            .expect("the account exists");
        assert_eq!(user.status, portcullis::user::UserStatus::Active);
        assert!(user.email_verified);
        assert_eq!(user.roles, vec!["user".to_owned()]);
        let password = portcullis::secret::Secret::new(row[2].clone());
        assert!(
            hasher
                .verify(&password, user.password_hash.as_deref())
                .await
                .unwrap(),
            "the password is the account's"
        );
        let key = store
            .access_key(&row[3])
            .await
            .unwrap()
            .expect("the access key exists");
        assert_eq!(key.user_id, user.id);
        assert_eq!(key.secret_digest, portcullis::tokens::digest(&row[4]));
    }
    let passwords: std::collections::HashSet<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(passwords.len(), 4, "each account its own password");

    // Again with one more: the four are left as they are, and only the new one is listed.
    let again = seed(&envs, dir.path(), &["--users", "5", "--prefix", &prefix]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(
        stderr.contains("1 accounts created; 4 left out"),
        "{stderr}"
    );
    let stdout = dir.path().join("stdout.csv");
    std::fs::write(&stdout, &again.stdout).unwrap();
    let rows = credentials(&stdout);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][1], format!("{prefix}-00005"));
    let first = store
        .user_by_username(&format!("{prefix}-00001"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        hasher
            .verify(
                &portcullis::secret::Secret::new(credentials(&path)[0][2].clone()),
                first.password_hash.as_deref()
            )
            .await
            .unwrap(),
        "a second run keeps the first one's passwords"
    );

    // A run that fails leaves the earlier credentials as they were.
    let before = std::fs::read_to_string(&path).unwrap();
    let refused = seed(
        &envs,
        dir.path(),
        &["--users", "2", "--prefix", "9lives", "-o", "creds.csv"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--prefix must be"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    assert!(!dir.path().join("creds.csv.partial").exists());
}

#[tokio::test]
async fn seed_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.db");
    let envs = vec![("PORTCULLIS_STORE", format!("sqlite://{}", path.display()))];
    let store = std::sync::Arc::new(portcullis::store::SqliteStore::open(&path).await.unwrap());
    seed_on(envs, store).await;
}

#[cfg(feature = "aws")]
#[tokio::test]
async fn seed_on_dynamodb() {
    let table = portcullis_tests::emulator::fresh_table().await;
    let envs = emulator_envs(table.table());
    seed_on(envs, std::sync::Arc::new(table)).await;
}

/// The DynamoDB and SES tests above exist only in a build with the AWS clients: this one fails,
/// saying how to run them, when the suite runs without (scripts/test passes --all-features).
#[test]
fn the_suite_runs_with_the_aws_clients() {
    let output = Command::new(BIN)
        .args(["config", "check"])
        .env("PORTCULLIS_STORE", "dynamodb://accounts")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("built without"),
        "the DynamoDB tests of the CLI were left out: run with --all-features (or --features \
         aws)\n{stderr}"
    );
}
