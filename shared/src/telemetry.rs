//! Logging: JSON lines with the request id of the span they belong to. Nothing secret is ever a
//! field: passwords and tokens are `Secret`, emails print masked, request bodies are never logged.

use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Where log lines go: stdout for servers and Lambda, stderr for commands whose output is on
/// stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogTo {
    Stdout,
    Stderr,
}

/// Installs the global subscriber; `filter` was validated by `Config`. Safe to call twice.
pub fn init(filter: &str) {
    init_to(filter, LogTo::Stdout);
}

pub fn init_to(filter: &str, to: LogTo) {
    let targets: Targets = filter
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(move || -> Box<dyn std::io::Write> {
            match to {
                LogTo::Stdout => Box::new(std::io::stdout()),
                LogTo::Stderr => Box::new(std::io::stderr()),
            }
        })
        .json()
        .with_current_span(false)
        .with_span_list(true)
        .with_target(false)
        .with_filter(targets);
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
