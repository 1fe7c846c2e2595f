//! Bringing users in (`portcullis users import`) and taking them out (`export`), on both stores,
//! with hashes made by the real libraries: Django's own `make_password` and `dumpdata` (with
//! django-allauth), Python's `bcrypt`, and Backend.AI's hasher code (tests/import/*.py).

use std::sync::OnceLock;

use portcullis::imports::{self, Format, Options, Report};
use portcullis_tests::{Backend, Server, on_both_stores};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The output of `tests/import/<script>`, run with the workspace's `.venv` Python.
fn python(script: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/import").join(script))
        .output()
        .unwrap_or_else(|e| {
            panic!("running tests/import/{script} needs .venv (scripts/test makes it): {e}")
        });
    assert!(
        output.status.success(),
        "tests/import/{script} failed (scripts/lib.sh installs django, django-allauth, bcrypt \
         and argon2-cffi in .venv):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

struct Made {
    format: String,
    password: String,
    hash: String,
}

fn hashes() -> &'static [Made] {
    static MADE: OnceLock<Vec<Made>> = OnceLock::new();
    MADE.get_or_init(|| {
        let made: Vec<Value> = serde_json::from_str(&python("make_hashes.py")).unwrap();
        made.into_iter()
            .map(|m| Made {
                format: m["format"].as_str().unwrap().to_owned(),
                password: m["password"].as_str().unwrap().to_owned(),
                hash: m["hash"].as_str().unwrap().to_owned(),
            })
            .collect()
    })
}

fn dumpdata() -> &'static str {
    static DUMP: OnceLock<String> = OnceLock::new();
    DUMP.get_or_init(|| python("make_dumpdata.py"))
}

async fn import(
    server: &Server,
    format: Format,
    data: &str,
    keypairs: Option<&str>,
    dry_run: bool,
) -> Report {
    let records = imports::read(format, data, keypairs, server.app.clock.now()).unwrap();
    imports::run(
        &server.app,
        &portcullis::caller::Caller::default(),
        None,
        records,
        Options {
            dry_run,
            max_errors: 1000,
        },
        &|_| {},
    )
    .await
    .unwrap()
}

async fn stored_hash(server: &Server, email: &str) -> Option<String> {
    let key = portcullis::email::Email::parse(email).unwrap();
    server
        .app
        .store
        .user_by_email(key.key())
        .await
        .unwrap()
        .expect("the account")
        .password_hash
}

async fn every_format_logs_in_and_becomes_argon2id(backend: Backend) {
    let server = Server::start(backend).await;
    let lines: Vec<String> = hashes()
        .iter()
        .enumerate()
        .map(|(i, made)| {
            json!({
                "email": format!("format{i}@example.com"),
                "username": format!("format{i}"),
                "password_hash": made.hash,
                "email_verified": true,
            })
            .to_string()
        })
        .collect();
    let report = import(&server, Format::Jsonl, &lines.join("\n"), None, false).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.created, hashes().len());

    for (i, made) in hashes().iter().enumerate() {
        let email = format!("format{i}@example.com");
        let reply = server.login(&email, "Not-the-password-1").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", made.format);
        assert_eq!(
            stored_hash(&server, &email).await.as_deref(),
            Some(made.hash.as_str()),
            "{}: a wrong password changes nothing",
            made.format
        );
        let user_id = server
            .app
            .store
            .user_by_email(&email)
            .await
            .unwrap()
            .unwrap()
            .id;
        let run = server
            .app
            .store
            .lockout(&portcullis::lockout::account_key(&user_id))
            .await
            .unwrap()
            .expect("counted");
        assert_eq!(run.failures, 1, "{}", made.format);

        let reply = server.login(&email, &made.password).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}: {:?}",
            made.format,
            reply.body
        );
        let renewed = stored_hash(&server, &email).await.unwrap();
        assert!(
            renewed.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"),
            "{}: {renewed}",
            made.format
        );
        let reply = server.login(&format!("format{i}"), &made.password).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}: again, by username",
            made.format
        );
    }
}

async fn work_factors_over_the_caps_are_refused_at_import(backend: Backend) {
    let server = Server::start(backend).await;
    let find = |format: &str| {
        hashes()
            .iter()
            .find(|m| m.format == format)
            .unwrap()
            .hash
            .clone()
    };
    let over = [
        find("django pbkdf2_sha256").replacen("$1000000$", "$3000000$", 1),
        find("bcrypt $2b$").replacen("$2b$10$", "$2b$16$", 1),
        find("django scrypt").replacen("scrypt$16384$", "scrypt$4194304$", 1),
        find("django argon2").replacen("m=102400", "m=1048576", 1),
        find("backend.ai sha256").replacen("sha256$1000$", "sha256$5000000$", 1),
    ];
    let lines: Vec<String> = over
        .iter()
        .enumerate()
        .map(|(i, hash)| {
            json!({"email": format!("over{i}@example.com"), "username": format!("over{i}"), "password_hash": hash})
                .to_string()
        })
        .collect();
    let report = import(&server, Format::Jsonl, &lines.join("\n"), None, false).await;
    assert_eq!(report.created, 0);
    assert_eq!(report.errors.len(), over.len(), "{:?}", report.errors);
    for problem in &report.errors {
        assert!(problem.reason.contains("cap"), "{problem:?}");
    }
}

async fn a_cvat_dumpdata_comes_in_whole_and_once(backend: Backend) {
    let server = Server::start(backend).await;
    let dry = import(&server, Format::Django, dumpdata(), None, true).await;
    assert_eq!((dry.created, dry.existing, dry.errors.len()), (4, 0, 0));
    assert!(
        server
            .app
            .store
            .user_by_username("cvat_admin")
            .await
            .unwrap()
            .is_none(),
        "a dry run writes nothing"
    );

    let report = import(&server, Format::Django, dumpdata(), None, false).await;
    assert_eq!(
        (report.created, report.existing),
        (4, 0),
        "{:?}",
        report.errors
    );
    let again = import(&server, Format::Django, dumpdata(), None, false).await;
    assert_eq!(
        (again.created, again.existing, again.errors.len()),
        (0, 4, 0)
    );

    // The superuser is an admin, with its verified address.
    let reply = server.login("cvat_admin", "Admin-pass-1").await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let token = reply.body["access_token"].as_str().unwrap().to_owned();
    let me = server.get_with_token("/v1/me", &token).await.body;
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["email"], "Admin@cvat.example");
    let roles = me["roles"].as_array().unwrap();
    assert!(roles.contains(&json!("admin")) && roles.contains(&json!("staff")));
    let users = server
        .get_with_token("/v1/admin/users?limit=10", &token)
        .await;
    assert_eq!(users.status, StatusCode::OK);

    // The inactive one is disabled: the right password says so, and nothing more.
    let reply = server.login("former", "Former-pass-1").await;
    assert_eq!(
        (reply.status, reply.code()),
        (StatusCode::FORBIDDEN, "account_disabled")
    );
    // The unverified address stays unverified.
    let reply = server
        .login("unverified@cvat.example", "Fresh-pass-1")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let token = reply.body["access_token"].as_str().unwrap().to_owned();
    let me = server.get_with_token("/v1/me", &token).await.body;
    assert_eq!(me["email_verified"], false);
    let unverified = server
        .app
        .store
        .user_by_username("unverified")
        .await
        .unwrap()
        .unwrap();
    assert!(
        unverified.password_unconfirmed,
        "as at signup: a provider link to it would remove the password"
    );
    // The Google-only account has no password, and its Google identity is linked.
    let googler = server
        .app
        .store
        .user_by_username("googler")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(googler.password_hash, None);
    let link = server
        .app
        .store
        .identity(portcullis::identity::Provider::Google, "109876543210")
        .await
        .unwrap()
        .expect("the Google link");
    assert_eq!(link.user_id, googler.id);
}

async fn broken_records_are_reported_and_the_rest_goes_on(backend: Backend) {
    let server = Server::start(backend).await;
    let hash = &hashes()[0].hash;
    let lines = [
        json!({"email": "fine@example.com", "username": "fine", "password_hash": hash}).to_string(),
        "{not json".to_owned(),
        json!({"email": "no-at-sign", "username": "nobody"}).to_string(),
        json!({"email": "spaces@example.com", "username": "has space"}).to_string(),
        json!({"email": "twin@example.com", "username": "Fine"}).to_string(),
        json!({"email": "FINE@example.com", "username": "other"}).to_string(),
        json!({"email": "weak@example.com", "username": "weak", "password_hash": "md5$x$y"})
            .to_string(),
        json!({"email": "extra@example.com", "username": "extra", "colour": "blue"}).to_string(),
        String::new(),
        json!({"email": "last@example.com", "username": "last"}).to_string(),
    ];
    let report = import(&server, Format::Jsonl, &lines.join("\n"), None, false).await;
    assert_eq!(report.created, 2, "{:?}", report.errors);
    let at: Vec<&str> = report.errors.iter().map(|p| p.at.as_str()).collect();
    assert_eq!(
        at,
        [
            "line 2", "line 3", "line 4", "line 5", "line 6", "line 7", "line 8"
        ]
    );
    assert!(
        report.errors[3].reason.contains("line 1"),
        "{:?}",
        report.errors[3]
    );
    assert!(
        report.errors[2].reason.contains("username"),
        "{:?}",
        report.errors[2]
    );
    assert!(
        report.errors[5].reason.contains("too weak"),
        "{:?}",
        report.errors[5]
    );
    assert!(
        report.errors[6].reason.contains("colour"),
        "{:?}",
        report.errors[6]
    );
    // Nothing was changed to fit: the username with a space is not there under another name.
    assert!(
        server
            .app
            .store
            .user_by_email("spaces@example.com")
            .await
            .unwrap()
            .is_none()
    );

    // max_errors stops the run.
    let records = imports::read(
        Format::Jsonl,
        &lines.join("\n"),
        None,
        server.app.clock.now(),
    )
    .unwrap();
    let stopped = imports::run(
        &server.app,
        &portcullis::caller::Caller::default(),
        None,
        records,
        Options {
            dry_run: true,
            max_errors: 0,
        },
        &|_| {},
    )
    .await
    .unwrap();
    assert!(!stopped.errors.is_empty());
    assert_eq!(stopped.existing, 2, "the first chunk was still read");
}

/// Backend.AI's tables as `\copy … csv header` writes them (the columns Portcullis reads, among
/// others it ignores).
fn backend_ai_csv() -> (String, String) {
    let find = |format: &str| hashes().iter().find(|m| m.format == format).unwrap();
    let mut users = String::from(
        "uuid,username,email,password,need_password_change,full_name,description,status,\
         status_info,created_at,modified_at,domain_name,role\n",
    );
    for (uuid, name, format, status, role) in [
        (
            "6a3f0c1e-0000-4000-8000-000000000001",
            "kim",
            "backend.ai pbkdf2_sha256",
            "active",
            "superadmin",
        ),
        (
            "6a3f0c1e-0000-4000-8000-000000000002",
            "lee",
            "backend.ai sha3_256",
            "active",
            "user",
        ),
        (
            "6a3f0c1e-0000-4000-8000-000000000003",
            "park",
            "bcrypt $2b$",
            "inactive",
            "user",
        ),
        (
            "6a3f0c1e-0000-4000-8000-000000000004",
            "choi",
            "backend.ai sha256",
            "deleted",
            "user",
        ),
    ] {
        users.push_str(&format!(
            "{uuid},{name},{name}@backend.example,{},f,{name} full,,{status},,2024-03-01 09:00:00.123456+00,\
             2024-03-01 09:00:00+00,default,{role}\n",
            find(format).hash
        ));
    }
    let keypairs = "user_id,access_key,secret_key,is_active,is_admin,created_at,last_used,user\n\
        kim@backend.example,AKIAKIMKEY0000000001,kimsecret0000000000000000000000000000001,t,t,\
        2024-03-01 09:00:00+00,,6a3f0c1e-0000-4000-8000-000000000001\n\
        kim@backend.example,AKIAKIMKEY0000000002,kimsecret0000000000000000000000000000002,f,t,\
        2024-03-01 09:00:00+00,,6a3f0c1e-0000-4000-8000-000000000001\n"
        .to_owned();
    (users, keypairs)
}

async fn backend_ai_tables_come_in_with_their_keys(backend: Backend) {
    let server = Server::start(backend).await;
    let (users, keypairs) = backend_ai_csv();
    let report = import(&server, Format::BackendAi, &users, Some(&keypairs), false).await;
    assert_eq!(report.created, 3, "{:?}", report.errors);
    assert_eq!(report.errors.len(), 1);
    assert!(
        report.errors[0].reason.contains("deleted"),
        "{:?}",
        report.errors
    );

    let kim = hashes()
        .iter()
        .find(|m| m.format == "backend.ai pbkdf2_sha256")
        .unwrap();
    let reply = server.login("kim", &kim.password).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(
        reply.body["user"]["user_id"], "6a3f0c1e-0000-4000-8000-000000000001",
        "the account keeps its Backend.AI id"
    );
    let reply = server
        .post(
            "/v1/login/access-key",
            json!({"access_key": "AKIAKIMKEY0000000001", "secret_key": "kimsecret0000000000000000000000000000001"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let reply = server
        .post(
            "/v1/login/access-key",
            json!({"access_key": "AKIAKIMKEY0000000002", "secret_key": "kimsecret0000000000000000000000000000002"}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "an inactive key stays behind"
    );
    let park = hashes().iter().find(|m| m.format == "bcrypt $2b$").unwrap();
    assert_eq!(
        server.login("park", &park.password).await.code(),
        "account_disabled"
    );
}

async fn an_export_moves_everyone_to_the_other_store(backend: Backend) {
    let source = Server::start(backend).await;
    import(&source, Format::Django, dumpdata(), None, false).await;
    let (users, keypairs) = backend_ai_csv();
    import(&source, Format::BackendAi, &users, Some(&keypairs), false).await;
    let mut exported = Vec::new();
    let written = portcullis::exports::export(&source.app, &mut exported, &|_| {})
        .await
        .unwrap();
    assert_eq!(written, 7);
    let exported = String::from_utf8(exported).unwrap();
    assert!(!exported.contains("kimsecret"), "keys leave as digests");

    let other = match backend {
        Backend::Sqlite => Backend::DynamoDb,
        Backend::DynamoDb => Backend::Sqlite,
    };
    let target = Server::start(other).await;
    let report = import(&target, Format::Jsonl, &exported, None, false).await;
    assert_eq!(
        (report.created, report.errors.len()),
        (7, 0),
        "{:?}",
        report.errors
    );
    let again = import(&target, Format::Jsonl, &exported, None, false).await;
    assert_eq!((again.created, again.existing), (0, 7));

    for (identifier, password, status) in [
        ("cvat_admin", "Admin-pass-1", StatusCode::OK),
        ("unverified", "Fresh-pass-1", StatusCode::OK),
        ("former", "Former-pass-1", StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            target.login(identifier, password).await.status,
            status,
            "{identifier}"
        );
    }
    let kim = hashes()
        .iter()
        .find(|m| m.format == "backend.ai pbkdf2_sha256")
        .unwrap();
    assert_eq!(
        target.login("kim", &kim.password).await.status,
        StatusCode::OK
    );
    let reply = target
        .post(
            "/v1/login/access-key",
            json!({"access_key": "AKIAKIMKEY0000000001", "secret_key": "kimsecret0000000000000000000000000000001"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    for username in ["cvat_admin", "googler", "kim", "unverified"] {
        let (a, b) = (
            source
                .app
                .store
                .user_by_username(username)
                .await
                .unwrap()
                .unwrap(),
            target
                .app
                .store
                .user_by_username(username)
                .await
                .unwrap()
                .unwrap(),
        );
        assert_eq!(
            (a.id, a.roles, a.email_verified, a.password_unconfirmed),
            (b.id, b.roles, b.email_verified, b.password_unconfirmed)
        );
    }
    let link = target
        .app
        .store
        .identity(portcullis::identity::Provider::Google, "109876543210")
        .await
        .unwrap();
    assert!(link.is_some(), "the Google link moved");
}

async fn racing_logins_renew_a_hash_once(backend: Backend) {
    let server = Server::start(backend).await;
    let made = hashes().iter().find(|m| m.format == "bcrypt $2b$").unwrap();
    let line =
        json!({"email": "racer@example.com", "username": "racer", "password_hash": made.hash});
    import(&server, Format::Jsonl, &line.to_string(), None, false).await;
    let user = server
        .app
        .store
        .user_by_username("racer")
        .await
        .unwrap()
        .unwrap();
    // The store's side: of two renewals of one hash, one wins.
    let store = &server.app.store;
    assert!(
        store
            .replace_password_hash(&user.id, &made.hash, "$argon2id$first")
            .await
            .unwrap()
    );
    assert!(
        !store
            .replace_password_hash(&user.id, &made.hash, "$argon2id$second")
            .await
            .unwrap()
    );
    assert!(
        store
            .replace_password_hash(&user.id, "$argon2id$first", &made.hash)
            .await
            .unwrap()
    );

    let replies = portcullis_tests::concurrently(6, |_| {
        let (api, password) = (server.api.clone(), made.password.clone());
        async move {
            api.post(
                "/v1/login",
                json!({"identifier": "racer", "password": password}),
            )
            .await
        }
    })
    .await;
    assert!(replies.iter().all(|r| r.status == StatusCode::OK));
    let renewed = stored_hash(&server, "racer@example.com").await.unwrap();
    assert!(renewed.starts_with("$argon2id$"), "{renewed}");
    assert_eq!(
        server.login("racer", &made.password).await.status,
        StatusCode::OK
    );
}

async fn the_admin_api_imports_too(backend: Backend) {
    let server = Server::start(backend).await;
    let (_, admin) = server.admin().await;
    let hash = &hashes()[0].hash;
    // Over the 16 KiB every other route takes.
    let lines: Vec<String> = (0..150)
        .map(|i| {
            json!({"email": format!("bulk{i}@example.com"), "username": format!("bulk{i}"),
                   "password_hash": hash, "first_name": "x".repeat(60)})
            .to_string()
        })
        .collect();
    let data = lines.join("\n");
    assert!(data.len() > 16 * 1024);
    let body = json!({"format": "jsonl", "data": data, "dry_run": true});
    let reply = server
        .post_with_token("/v1/admin/users/import", &admin, body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(
        (
            reply.body["created"].as_u64(),
            reply.body["dry_run"].as_bool()
        ),
        (Some(150), Some(true))
    );
    let reply = server
        .post_with_token(
            "/v1/admin/users/import",
            &admin,
            json!({"format": "jsonl", "data": data}),
        )
        .await;
    assert_eq!(reply.body["created"], 150, "{:?}", reply.body);
    assert_eq!(
        server.login("bulk7", &hashes()[0].password).await.status,
        StatusCode::OK
    );

    // A small body: a refusal answered before a large body is read closes the connection, and
    // the client's next request on it could find it closed (a race of the test, not the route).
    let (_, _, member) = server.member("notadmin").await;
    let reply = server
        .post_with_token(
            "/v1/admin/users/import",
            &member,
            json!({"format": "jsonl", "data": lines[0]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = server
        .post_with_token(
            "/v1/admin/users/import",
            &admin,
            json!({"format": "csv", "data": "", "keypairs": "x", "colour": 1}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    for field in ["format", "keypairs", "colour"] {
        assert!(!reply.errors(field).is_empty(), "{field}: {:?}", reply.body);
    }
}

/// The larger body limit is the import route's alone. In process, through the admin function's
/// router: over TCP a 413 sent before the client has finished writing can reach it as a reset.
#[tokio::test]
async fn only_the_import_route_takes_large_bodies() {
    use lambda_http::http::Request;
    let dir = tempfile::tempdir().unwrap();
    let app = portcullis_tests::function::app(dir.path()).await;
    let big = json!({"format": "jsonl", "data": "x".repeat(20_000)}).to_string();
    let request = |path: &str| {
        Request::post(path)
            .header("content-type", "application/json")
            .header("content-length", big.len())
            .body(axum::body::Body::from(big.clone()))
            .unwrap()
    };
    let admin = portcullis::http::routes::admin::routes;
    let reply =
        portcullis_tests::function::call(&app, admin, request("/v1/admin/invitations")).await;
    assert_eq!(reply.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Read whole, then refused for want of a token: past the body limit.
    let reply =
        portcullis_tests::function::call(&app, admin, request("/v1/admin/users/import")).await;
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
}

on_both_stores!(
    the_admin_api_imports_too,
    every_format_logs_in_and_becomes_argon2id,
    work_factors_over_the_caps_are_refused_at_import,
    a_cvat_dumpdata_comes_in_whole_and_once,
    broken_records_are_reported_and_the_rest_goes_on,
    backend_ai_tables_come_in_with_their_keys,
    an_export_moves_everyone_to_the_other_store,
    racing_logins_renew_a_hash_once,
);
