//! Logging: JSON lines with the request id of the span they belong to. Nothing secret is ever a
//! field: passwords and tokens are `Secret`, emails print masked, request bodies are never logged.

use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Installs the global subscriber; `filter` was validated by `Config`. Safe to call twice.
pub fn init(filter: &str) {
    let targets: Targets = filter
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO));
    let layer = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_span_list(true)
        .with_target(false)
        .with_filter(targets);
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
