//! Cold start of each Lambda function: from exec of its bootstrap to its first response, under a
//! small emulator of the Lambda Runtime API, with the store on DynamoDB (the emulator) so the
//! client is built and its first request made during init. Prints median and worst of 20.
//!
//! Needs the release binaries: `scripts/bench` builds them and names their folder in
//! `BENCH_BIN_DIR`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use portcullis_tests::emulator;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const RUNS: usize = 20;

/// What the emulated runtime API hands out and what it has received.
struct RuntimeApi {
    events: Mutex<VecDeque<String>>,
    responses: mpsc::UnboundedSender<(Instant, String)>,
}

async fn runtime_api(api: Arc<RuntimeApi>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    if path.ends_with("/runtime/invocation/next") {
        loop {
            let next = api.events.lock().unwrap().pop_front();
            if let Some(event) = next {
                let deadline = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis()
                    + 10_000;
                return Response::builder()
                    .header(
                        "lambda-runtime-aws-request-id",
                        uuid::Uuid::new_v4().to_string(),
                    )
                    .header("lambda-runtime-deadline-ms", deadline.to_string())
                    .header(
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:bench",
                    )
                    .header(
                        "lambda-runtime-trace-id",
                        "Root=1-00000000-000000000000000000000000",
                    )
                    .body(Full::new(Bytes::from(event)))
                    .unwrap();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let body = http_body_util::BodyExt::collect(request.into_body())
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    let _ = api
        .responses
        .send((Instant::now(), format!("{path} {body}")));
    Response::builder()
        .status(202)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

async fn serve(listener: TcpListener, api: Arc<RuntimeApi>) {
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        let api = api.clone();
        tokio::spawn(async move {
            let service = service_fn(move |r| {
                let api = api.clone();
                async move { Ok::<_, Infallible>(runtime_api(api, r).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[tokio::main]
async fn main() {
    let bin_dir =
        std::env::var("BENCH_BIN_DIR").expect("BENCH_BIN_DIR: the folder of the release binaries");
    let store = emulator::fresh_table().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (sent, mut received) = mpsc::unbounded_channel();
    let api = Arc::new(RuntimeApi {
        events: Mutex::new(VecDeque::new()),
        responses: sent,
    });
    tokio::spawn(serve(listener, api.clone()));

    println!(
        "{:<16} {:>12} {:>12}   (n={RUNS}, exec to first response)",
        "function", "median", "worst"
    );
    for (function, event) in [
        ("discovery", "discovery-jwks"),
        ("session", "session-me-without-token"),
        ("signup", "signup-username-suggestion"),
        ("login", "login-wrong-password"),
        ("verify-email", "verify-email-malformed-token"),
        ("reset-request", "reset-request-unknown"),
        ("reset-confirm", "reset-confirm-unknown-token"),
        ("change-password", "change-password-without-token"),
        ("admin", "admin-users-without-token"),
        ("oauth-callback", "oauth-callback-unknown-provider"),
        ("ui", "ui-login-page"),
    ] {
        let mut samples = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            api.events.lock().unwrap().push_back(fixture(event));
            let started = Instant::now();
            let mut child = tokio::process::Command::new(format!("{bin_dir}/{function}"))
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .env("AWS_LAMBDA_RUNTIME_API", &address)
                .env("AWS_LAMBDA_FUNCTION_NAME", function)
                .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
                .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
                .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env("AWS_REGION", "us-east-1")
                .env("PORTCULLIS_STORE", format!("dynamodb://{}", store.table()))
                .env("PORTCULLIS_DYNAMODB_ENDPOINT", emulator::url())
                .env("PORTCULLIS_PUBLIC_URL", "https://id.example.com")
                .env("PORTCULLIS_MAILER", format!("ses://{}", emulator::SENDER))
                .env("PORTCULLIS_SES_ENDPOINT", emulator::url())
                .env("PORTCULLIS_MAIL_RESPONSE_TIME", "0s")
                .env("PORTCULLIS_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let (at, what) = tokio::time::timeout(Duration::from_secs(30), received.recv())
                .await
                .expect("the function answered within 30 s")
                .unwrap();
            assert!(what.contains("/response"), "{function} failed: {what}");
            samples.push(at - started);
            child.kill().await.unwrap();
        }
        samples.sort();
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        println!(
            "{function:<16} {:>12} {:>12}",
            ms(samples[RUNS / 2]),
            ms(samples[RUNS - 1])
        );
    }
}
