//! `portcullis serve`: every route in one process. Each HTTP request becomes a
//! `lambda_http::Request` carrying an API Gateway (HTTP API) request context, and goes through
//! `portcullis::handle` exactly as it would in Lambda.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt as _};
use portcullis::http::MAX_BODY_BYTES;
use portcullis::{App, Error, Function};
use tokio::net::TcpListener;

/// How long in-flight requests get to finish after shutdown was asked for.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes, then lets open requests finish.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let app = app.clone();
                let service = service_fn(move |request| {
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(respond(&app, request, peer).await) }
                });
                let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "connection closed with an error");
                    }
                });
            }
            () = &mut shutdown => break,
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

async fn respond(
    app: &App,
    request: hyper::Request<Incoming>,
    peer: SocketAddr,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let request_id = uuid::Uuid::new_v4().to_string();

    // Read at most one byte past the limit: a larger body is refused without buffering it.
    let bytes = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            let problem = if error.is::<http_body_util::LengthLimitError>() {
                Error::PayloadTooLarge
            } else {
                Error::invalid_field("body", "could not be read")
            };
            return into_hyper(
                portcullis::http::problem::problem(&problem).into_response(&request_id),
            );
        }
    };

    let mut context = ApiGatewayV2httpRequestContext::default();
    context.request_id = Some(request_id);
    context.stage = Some("$default".to_owned());
    context.http.method = parts.method.clone();
    context.http.path = Some(parts.uri.path().to_owned());
    context.http.protocol = Some(format!("{:?}", parts.version));
    context.http.source_ip = Some(peer.ip().to_string());
    context.http.user_agent = parts
        .headers
        .get(hyper::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(not_text) => Body::Binary(not_text.into_bytes()),
        }
    };
    let request = lambda_http::Request::from_parts(parts, body)
        .with_request_context(RequestContext::ApiGatewayV2(context));
    into_hyper(portcullis::handle(app, Function::Local, request).await)
}

fn into_hyper(response: lambda_http::Response<Body>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes = Bytes::copy_from_slice(body.as_ref());
    hyper::Response::from_parts(parts, Full::new(bytes))
}
