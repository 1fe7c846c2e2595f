//! Latency figures for docs/performance.md: argon2id at the production cost, and signup and login
//! over real HTTP against the local server. Run with `scripts/bench` (or `cargo bench --bench
//! latency`). It prints figures; it asserts nothing about speed.

use std::time::{Duration, Instant};

use portcullis::config::Argon2Cost;
use portcullis::password::PasswordHasher;
use portcullis::secret::Secret;
use portcullis_tests::{Backend, PASSWORD, Server, unique_email};
use serde_json::json;

const SAMPLES: usize = 50;

fn summary(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p95 = samples[(samples.len() * 95 / 100).min(samples.len() - 1)];
    println!(
        "{label:<58} n={:<3} median {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms",
        samples.len(),
        ms(samples[samples.len() / 2]),
        ms(p95),
        ms(*samples.last().unwrap()),
    );
}

async fn time<F: std::future::Future>(f: impl Fn() -> F, n: usize) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        f().await;
        samples.push(started.elapsed());
    }
    samples
}

#[tokio::main]
async fn main() {
    let production = Argon2Cost {
        memory_kib: 19456,
        iterations: 2,
        parallelism: 1,
    };
    let hasher = PasswordHasher::new(production).unwrap();
    let password = Secret::new(PASSWORD);
    summary(
        "argon2id hash (m=19456,t=2,p=1)",
        time(|| hasher.hash(&password), 20).await,
    );
    let hash = hasher.hash(&password).await.unwrap();
    summary(
        "argon2id verify (m=19456,t=2,p=1)",
        time(|| hasher.verify(&password, Some(&hash)), 20).await,
    );

    for (backend, store) in [
        (Backend::Sqlite, "SQLite"),
        (Backend::DynamoDb, "DynamoDB emulator"),
    ] {
        let server = Server::with(backend, &[("PORTCULLIS_ARGON2", "m=19456,t=2,p=1")]).await;
        requests(&server, store).await;
        access_keys_and_admin(&server, store).await;
    }
    // Reset requests for a known and an unknown address, interleaved: without the response
    // floor (what the work itself takes) and with the default floor of 400 ms.
    for (backend, store) in [
        (Backend::Sqlite, "SQLite"),
        (Backend::DynamoDb, "DynamoDB emulator"),
    ] {
        for floor in ["0s", "400ms"] {
            let server = Server::with(
                backend,
                &[
                    ("PORTCULLIS_MAIL_RESPONSE_TIME", floor),
                    ("PORTCULLIS_MAIL_RATE_LIMIT", "1000/1m"),
                ],
            )
            .await;
            reset_requests(&server, &format!("{store}, floor {floor}")).await;
        }
    }
}

async fn reset_requests(server: &Server, label: &str) {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..SAMPLES {
        let email = unique_email("bench-reset");
        server.signed_up(&email).await;
        let nobody = unique_email("bench-reset-nobody");
        for (address, samples) in [(&email, &mut known), (&nobody, &mut unknown)] {
            let started = Instant::now();
            let reply = server
                .post(
                    "/v1/password/reset-request",
                    serde_json::json!({ "email": address }),
                )
                .await;
            samples.push(started.elapsed());
            assert_eq!(reply.status, 202);
        }
    }
    summary(&format!("reset-request, known email ({label})"), known);
    summary(&format!("reset-request, unknown email ({label})"), unknown);
}

async fn requests(server: &Server, store: &str) {
    let signups = time(
        || async {
            let reply = server.signup(&unique_email("bench"), PASSWORD).await;
            assert_eq!(reply.status, 201);
        },
        SAMPLES,
    )
    .await;
    summary(&format!("POST /v1/signup ({store})"), signups);

    let email = unique_email("bench-login");
    server.signed_up(&email).await;
    summary(
        &format!("POST /v1/login, right password ({store})"),
        time(|| server.login(&email, PASSWORD), SAMPLES).await,
    );
    // Interleaved so both see the same machine state; every identifier is fresh so no lockout.
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..SAMPLES {
        let victim = unique_email("bench-wrong");
        server.signed_up(&victim).await;
        let started = Instant::now();
        server.login(&victim, "Wrong-pass-1!").await;
        wrong.push(started.elapsed());
        let nobody = unique_email("bench-nobody");
        let started = Instant::now();
        server.login(&nobody, "Wrong-pass-1!").await;
        unknown.push(started.elapsed());
    }
    summary(&format!("POST /v1/login, wrong password ({store})"), wrong);
    summary(&format!("POST /v1/login, unknown user ({store})"), unknown);
}

/// A well-formed access key that no account holds, fresh each time so no lockout builds up.
fn unknown_key() -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let tail: String = bytes
        .iter()
        .map(|b| ALPHABET[(b & 31) as usize] as char)
        .collect();
    format!("PCAK{tail}")
}

/// Access-key login (right secret, wrong secret, unknown key: the last two must look alike) and a
/// page of the admin user list.
async fn access_keys_and_admin(server: &Server, store: &str) {
    let (_, _, token) = server.member("bench-key").await;
    let created = server
        .post_with_token(
            "/v1/access-keys",
            &token,
            json!({"current_password": PASSWORD}),
        )
        .await;
    let key = created.body["access_key"].as_str().unwrap().to_owned();
    let secret = created.body["secret_key"].as_str().unwrap().to_owned();
    let key_login = |access_key: String, secret_key: String| {
        let api = server.api.clone();
        async move {
            api.post(
                "/v1/login/access-key",
                json!({ "access_key": access_key, "secret_key": secret_key }),
            )
            .await
        }
    };
    summary(
        &format!("POST /v1/login/access-key, right secret ({store})"),
        time(|| key_login(key.clone(), secret.clone()), SAMPLES).await,
    );
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..SAMPLES {
        // A fresh key each time, so the lockout never answers first.
        let (_, _, token) = server.member("bench-key-wrong").await;
        let created = server
            .post_with_token(
                "/v1/access-keys",
                &token,
                json!({"current_password": PASSWORD}),
            )
            .await;
        let victim = created.body["access_key"].as_str().unwrap().to_owned();
        let started = Instant::now();
        key_login(victim, "x".repeat(43)).await;
        wrong.push(started.elapsed());
        let started = Instant::now();
        key_login(unknown_key(), "x".repeat(43)).await;
        unknown.push(started.elapsed());
    }
    summary(
        &format!("POST /v1/login/access-key, wrong secret ({store})"),
        wrong,
    );
    summary(
        &format!("POST /v1/login/access-key, unknown key ({store})"),
        unknown,
    );

    let (_, admin) = server.admin().await;
    summary(
        &format!("GET /v1/admin/users?limit=50 ({store})"),
        time(
            || server.get_with_token("/v1/admin/users?limit=50", &admin),
            SAMPLES,
        )
        .await,
    );
}
