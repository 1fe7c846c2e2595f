//! `portcullis serve`: every function's router merged into one, on one local port.
//!
//! The router is the very one each Lambda function runs (`portcullis::http::routes`), plus CORS,
//! which API Gateway does in Lambda. Connections are served by hyper with a header-read timeout, so
//! a half-sent request can't hold a connection forever; `axum::serve` has no such setting, which is
//! why this file keeps its own short accept loop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use portcullis::App;
use portcullis::http::{self, routes};
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// How long in-flight requests get to finish after shutdown was asked for.
const DRAIN: Duration = Duration::from_secs(10);

/// How long a client may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves every route of `app` on `listener` until `shutdown` completes, then lets open requests
/// finish.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let all = routes::all(&app);
    serve_with_housekeeping(all, app, listener, shutdown).await
}

/// Serves one function's routes (an entry of `routes::FUNCTIONS`), exactly the router its Lambda
/// runs, with the local server's layers: `portcullis serve --function <name>`.
pub async fn serve_function(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    function: routes::Routes,
) -> std::io::Result<()> {
    let one = function(&app);
    serve_with_housekeeping(one, app, listener, shutdown).await
}

async fn serve_with_housekeeping(
    routes: axum::Router<http::AppState>,
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let housekeeping = tokio::spawn(purge_expired_now_and_then(app.clone()));
    let served = serve_routes(routes, app, listener, shutdown, HEADER_READ_TIMEOUT).await;
    housekeeping.abort();
    served
}

/// How often the local server forgets what has expired (the embedded store has no TTL).
pub const PURGE_EVERY: Duration = Duration::from_secs(10 * 60);

/// Deletes expired sessions, tokens, counters and audit events every `PURGE_EVERY`, starting at
/// once. A failure is logged and tried again next time.
async fn purge_expired_now_and_then(app: Arc<App>) {
    let mut ticks = tokio::time::interval(PURGE_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match app.store.purge_expired(app.clock.now()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "expired items deleted"),
            Err(error) => tracing::warn!(%error, "deleting expired items failed"),
        }
    }
}

/// Serves `routes` (one function's, or all of them) with the local server's layers; a client that
/// has not sent a request's headers within `header_read_timeout` is disconnected.
pub async fn serve_routes(
    routes: axum::Router<http::AppState>,
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    header_read_timeout: Duration,
) -> std::io::Result<()> {
    let service = http::local_service(routes, &app);
    let graceful = GracefulShutdown::new();
    let mut connections = hyper::server::conn::http1::Builder::new();
    connections
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            // The shutdown future first, so its signal handlers are in place before the first
            // connection is served (a SIGTERM right after start-up then still shuts down cleanly).
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                // The peer's address is what the `Caller` extractor reads as the client IP.
                let service = service.clone().map_request(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    request.map(axum::body::Body::new)
                });
                let connection = connections
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "connection closed with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    tracing::info!("shutting down: finishing open requests");
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still open after {DRAIN:?}; closing them");
    }
    Ok(())
}
