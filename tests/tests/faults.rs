//! Faults between Portcullis and AWS (hardening, "Faults and fuzzing"). A proxy in front of the
//! emulator answers a share of DynamoDB's requests with throttling
//! (`ProvisionedThroughputExceededException`, `ThrottlingException`), 500s, or a dropped
//! connection, before the request reaches the table. The SDK retries as it does in Lambda;
//! every flow then answers 503 with `Retry-After` or succeeds, and afterwards the table holds no
//! half-made account, no orphan session and no lost lockout count. SES failing: the mail routes
//! still answer, and the failure is logged and counted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use portcullis_tests::{PASSWORD, Reply, Server, emulator, unique_email};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Mutex;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Fault {
    ProvisionedThroughputExceeded,
    Throttling,
    InternalServerError,
    /// The connection closes without an answer; the request never reached the table.
    Dropped,
    /// The table applied the request, and the connection closed before its answer.
    AnswerLost,
}

const FAULTS: [Fault; 5] = [
    Fault::ProvisionedThroughputExceeded,
    Fault::Throttling,
    Fault::InternalServerError,
    Fault::Dropped,
    Fault::AnswerLost,
];

/// A proxy to the emulator that fails `share` per mille of the requests, chosen by a seeded
/// random generator, and counts what it did.
struct FaultyProxy {
    url: String,
    share: Arc<AtomicU64>,
    injected: Arc<std::sync::Mutex<BTreeMap<Fault, u64>>>,
    forwarded: Arc<AtomicU64>,
}

struct Shared {
    target: String,
    http: reqwest::Client,
    share: Arc<AtomicU64>,
    random: Mutex<StdRng>,
    injected: Arc<std::sync::Mutex<BTreeMap<Fault, u64>>>,
    forwarded: Arc<AtomicU64>,
    kinds: &'static [Fault],
}

impl FaultyProxy {
    /// A proxy that fails with faults of `kinds`.
    async fn start(seed: u64, kinds: &'static [Fault]) -> FaultyProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            target: emulator::url().to_owned(),
            http: portcullis_tests::http_client(),
            share: Arc::new(AtomicU64::new(0)),
            random: Mutex::new(StdRng::seed_from_u64(seed)),
            injected: Arc::default(),
            forwarded: Arc::default(),
            kinds,
        });
        let proxy = FaultyProxy {
            url,
            share: shared.share.clone(),
            injected: shared.injected.clone(),
            forwarded: shared.forwarded.clone(),
        };
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                let service = service_fn(move |request| {
                    let shared = shared.clone();
                    async move { answer(&shared, request).await }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        proxy
    }

    /// Fails `per_mille` of the requests from now on.
    fn fail(&self, per_mille: u64) {
        self.share.store(per_mille, Ordering::SeqCst);
    }

    fn injected(&self) -> BTreeMap<Fault, u64> {
        self.injected.lock().unwrap().clone()
    }
}

async fn answer(
    shared: &Shared,
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, std::io::Error> {
    let fault = {
        let mut random = shared.random.lock().await;
        let share = shared.share.load(Ordering::SeqCst);
        let kinds = shared.kinds;
        (random.gen_range(0..1000) < share).then(|| kinds[random.gen_range(0..kinds.len())])
    };
    if let Some(fault) = fault {
        *shared.injected.lock().unwrap().entry(fault).or_default() += 1;
    }
    if let Some(fault) = fault.filter(|f| *f != Fault::AnswerLost) {
        let (status, kind) = match fault {
            Fault::ProvisionedThroughputExceeded => (
                400,
                "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            ),
            Fault::Throttling => (400, "com.amazon.coral.availability#ThrottlingException"),
            Fault::InternalServerError => {
                (500, "com.amazonaws.dynamodb.v20120810#InternalServerError")
            }
            Fault::Dropped | Fault::AnswerLost => {
                // An error from the service makes hyper close the connection, unanswered.
                return Err(std::io::Error::other("dropped by the fault proxy"));
            }
        };
        let body = json!({"__type": kind, "message": "injected by the fault proxy"});
        return Ok(hyper::Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.0")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap());
    }
    shared.forwarded.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut forward = shared.http.request(
        reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).unwrap(),
        format!("{}{path}", shared.target),
    );
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            forward = forward.header(name.as_str(), value.as_bytes());
        }
    }
    let reply = forward
        .body(body)
        .send()
        .await
        .map_err(std::io::Error::other)?;
    let mut response = hyper::Response::builder().status(reply.status().as_u16());
    for (name, value) in reply.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            response = response.header(name.as_str(), value.as_bytes());
        }
    }
    let bytes = reply.bytes().await.map_err(std::io::Error::other)?;
    if fault == Some(Fault::AnswerLost) {
        return Err(std::io::Error::other("answer lost by the fault proxy"));
    }
    Ok(response.body(Full::new(bytes)).unwrap())
}

/// A server on a fresh table of the emulator, reached through `proxy`.
async fn server_behind(
    proxy: &FaultyProxy,
    vars: &[(&str, &str)],
    mailer: Arc<dyn portcullis::mail::Mailer>,
) -> Server {
    let table = emulator::fresh_table().await;
    let store = portcullis::store::DynamoStore::new(
        emulator::dynamodb_at(&proxy.url),
        table.table().to_owned(),
    );
    Server::on_dynamodb(vars, store, mailer).await
}

/// What the flows answered: by route, each status and how often.
#[derive(Default)]
struct Outcomes(BTreeMap<&'static str, BTreeMap<u16, u32>>);

impl Outcomes {
    /// Records `reply` to `route`, which must have answered `expected` or 503 with
    /// `Retry-After`. Returns whether it answered `expected`.
    fn check(&mut self, route: &'static str, reply: &Reply, expected: StatusCode) -> bool {
        *self
            .0
            .entry(route)
            .or_default()
            .entry(reply.status.as_u16())
            .or_default() += 1;
        if reply.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(reply.code(), "unavailable", "{route}: {:?}", reply.body);
            assert!(
                reply.header("retry-after").is_some(),
                "{route}: a 503 says when to retry"
            );
            return false;
        }
        assert_eq!(reply.status, expected, "{route}: {:?}", reply.body);
        true
    }

    fn count(&self, route: &str, status: StatusCode) -> u32 {
        self.0
            .get(route)
            .and_then(|s| s.get(&status.as_u16()))
            .copied()
            .unwrap_or(0)
    }
}

fn string(item: &HashMap<String, AttributeValue>, name: &str) -> String {
    match item.get(name) {
        Some(AttributeValue::S(s)) => s.clone(),
        other => panic!("{name}: {other:?} in {item:?}"),
    }
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().unwrap(),
        other => panic!("{name}: {other:?} in {item:?}"),
    }
}

/// Every item of the table, read straight from the emulator.
async fn scan(table: &str) -> Vec<HashMap<String, AttributeValue>> {
    let client = emulator::dynamodb();
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        items.extend(page.items().iter().cloned());
        match page.last_evaluated_key() {
            Some(key) => start = Some(key.clone()),
            None => return items,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_a_quarter_of_faults_every_flow_succeeds_or_says_503() {
    // Mostly successes after the SDK's retries.
    faulty_run(15, 250).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_half_of_faults_every_flow_succeeds_or_says_503() {
    // Retries run out often: many flows stop half-way, and must leave nothing half-made.
    faulty_run(16, 550).await;
}

/// Signs people up and through every flow while `per_mille` of DynamoDB's requests fail, then
/// checks every answer and the table.
async fn faulty_run(seed: u64, per_mille: u64) {
    let proxy = FaultyProxy::start(seed, &FAULTS).await;
    let server = server_behind(&proxy, &[], Arc::new(emulator::verified_sender().await)).await;
    let table = server.table.clone().unwrap();
    let target_email = unique_email("target");
    let target = server.signup(&target_email, PASSWORD).await;
    assert_eq!(target.status, StatusCode::CREATED, "{:?}", target.body);
    let target_id = target.body["user_id"].as_str().unwrap().to_owned();

    proxy.fail(per_mille);
    let mut outcomes = Outcomes::default();
    let mut signed_up = Vec::new();
    for round in 0..12 {
        let email = unique_email("faulty");
        let reply = server.signup(&email, PASSWORD).await;
        if outcomes.check("signup", &reply, StatusCode::CREATED) {
            signed_up.push(email.clone());
        }

        // Wrong passwords on one account, fewer than lock it: each 401 is a counted failure.
        if round < 9 {
            let reply = server.login(&target_email, "Wrong-pass-1!").await;
            outcomes.check("wrong password", &reply, StatusCode::UNAUTHORIZED);
        }

        let Some(email) = signed_up.last().cloned() else {
            continue;
        };
        let reply = server.login(&email, PASSWORD).await;
        if !outcomes.check("login", &reply, StatusCode::OK) {
            continue;
        }
        let access = reply.body["access_token"].as_str().unwrap().to_owned();
        let refresh = reply.body["refresh_token"].as_str().unwrap().to_owned();
        let reply = server.get_with_token("/v1/me", &access).await;
        outcomes.check("me", &reply, StatusCode::OK);
        let reply = server
            .post("/v1/token/refresh", json!({"refresh_token": refresh}))
            .await;
        let refreshed = outcomes.check("refresh", &reply, StatusCode::OK);
        let reply = server
            .post("/v1/password/reset-request", json!({"email": email}))
            .await;
        outcomes.check("reset request", &reply, StatusCode::ACCEPTED);
        let reply = server
            .post_with_token(
                "/v1/access-keys",
                &access,
                json!({"current_password": PASSWORD}),
            )
            .await;
        outcomes.check("new access key", &reply, StatusCode::CREATED);
        if round % 3 == 0 {
            let reply = server
                .post_with_token(
                    "/v1/password/change",
                    &access,
                    json!({"current_password": PASSWORD, "new_password": PASSWORD}),
                )
                .await;
            // The same password again is allowed; a change ends the session it came from.
            outcomes.check("change password", &reply, StatusCode::OK);
        } else if refreshed {
            let reply = server
                .post_with_token("/v1/logout", &access, json!({}))
                .await;
            outcomes.check("logout", &reply, StatusCode::NO_CONTENT);
        }
    }
    proxy.fail(0);

    // The faults happened, of every kind, and so did successes and 503s.
    let injected = proxy.injected();
    for fault in FAULTS {
        assert!(
            injected.get(&fault).copied().unwrap_or(0) >= 3,
            "{injected:?}"
        );
    }
    assert!(proxy.forwarded.load(Ordering::SeqCst) > 50);
    let answered: u32 = outcomes.0.values().flat_map(|s| s.values()).sum();
    let unavailable: u32 = outcomes.0.values().filter_map(|s| s.get(&503)).sum();
    assert!(
        unavailable > 0 && unavailable < answered,
        "both successes and 503s: {:?}",
        outcomes.0
    );
    assert!(!signed_up.is_empty());

    let items = scan(&table).await;
    let of = |kind: &str| -> Vec<&HashMap<String, AttributeValue>> {
        items.iter().filter(|i| string(i, "sk") == kind).collect()
    };
    let users: HashMap<String, &HashMap<String, AttributeValue>> = of("USER")
        .into_iter()
        .map(|u| (string(u, "user_id"), u))
        .collect();

    // No half-made account: each account has both its claims, and each claim its account.
    let claims = |kind: &str| -> HashMap<String, String> {
        of(kind)
            .into_iter()
            .map(|c| (string(c, "pk"), string(c, "user_id")))
            .collect()
    };
    let (emails, usernames) = (claims("EMAIL"), claims("USERNAME"));
    for (id, user) in &users {
        let email = format!("EMAIL#{}", string(user, "email_key"));
        let username = format!("USERNAME#{}", string(user, "username_key"));
        assert_eq!(emails.get(&email), Some(id), "{email}");
        assert_eq!(usernames.get(&username), Some(id), "{username}");
    }
    for (claim, owner) in emails.iter().chain(&usernames) {
        assert!(
            users.contains_key(owner),
            "{claim} claims for a missing account"
        );
    }
    // Everyone told 201 has an account.
    for email in &signed_up {
        let key = format!("EMAIL#{}", email.to_lowercase());
        assert!(emails.contains_key(&key), "{email} was told it signed up");
    }

    // No orphan session, refresh token or key.
    let sessions: HashSet<String> = of("SESSION")
        .into_iter()
        .map(|s| {
            assert!(users.contains_key(&string(s, "user_id")), "{s:?}");
            string(s, "session_id")
        })
        .collect();
    for refresh in of("REFRESH") {
        assert!(
            sessions.contains(&string(refresh, "session_id")),
            "{refresh:?}"
        );
    }
    for key in of("ACCESSKEY") {
        let owner = users
            .get(&string(key, "user_id"))
            .unwrap_or_else(|| panic!("{key:?}"));
        let id = string(key, "pk")
            .trim_start_matches("ACCESSKEY#")
            .to_owned();
        match owner.get("access_key_ids") {
            Some(AttributeValue::Ss(ids)) => assert!(ids.contains(&id), "{owner:?}"),
            other => panic!("{id} is not among its owner's keys: {other:?}"),
        }
    }
    for user in users.values() {
        let held = match user.get("access_key_ids") {
            Some(AttributeValue::Ss(ids)) => ids.len() as i64,
            _ => 0,
        };
        let counted = user
            .get("access_keys")
            .map_or(0, |_| number(user, "access_keys"));
        assert_eq!(counted, held, "{user:?}");
    }

    // No lost lockout count, and none counted twice: every 401 was counted once, and a 503 at
    // most once (its write may have been applied with its answer lost after the last retry).
    let run = of("LOCKOUT")
        .into_iter()
        .find(|l| string(l, "pk") == format!("LOCKOUT#account#{target_id}"))
        .expect("the target's failures were counted");
    let counted = number(run, "failures");
    let refused = i64::from(outcomes.count("wrong password", StatusCode::UNAUTHORIZED));
    let unsure = i64::from(outcomes.count("wrong password", StatusCode::SERVICE_UNAVAILABLE));
    assert!(
        refused <= counted && counted <= refused + unsure,
        "{counted} counted: {:?}",
        outcomes.0
    );
    eprintln!("outcomes: {:?}\ninjected: {injected:?}", outcomes.0);
}

/// SES failing on every call: the routes that mail still answer as they would, and each
/// unsent message is logged and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_ses_fails_the_mail_routes_still_answer_and_the_failure_is_counted() {
    let store_proxy = FaultyProxy::start(1, &FAULTS).await;
    // Faults SES never saw: a message whose answer was lost went out, and its retry is a second
    // copy (SES' SendEmail takes no idempotency token).
    let ses_proxy = FaultyProxy::start(2, &[Fault::InternalServerError, Fault::Dropped]).await;
    ses_proxy.fail(1000);
    let ses = portcullis::mail::Ses::new(emulator::ses_at(&ses_proxy.url), emulator::SENDER, None);
    let server = server_behind(
        &store_proxy,
        &[("PORTCULLIS_EMAIL_VERIFICATION", "required")],
        Arc::new(ses),
    )
    .await;
    let email = unique_email("unmailed");
    let reply = server.signup(&email, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let reply = server
        .post("/v1/verify-email/resend", json!({"email": email}))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    let reply = server
        .post("/v1/password/reset-request", json!({"email": email}))
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{:?}", reply.body);
    assert_eq!(server.app.mail_failures(), 3);
    assert!(ses_proxy.injected().values().sum::<u64>() >= 3);
    assert!(emulator::sent_to(&email).await.is_empty());
}
