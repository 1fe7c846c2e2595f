//! `portcullis`: run Portcullis locally and operate it.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use portcullis::config::{Config, Environment};
use portcullis::{App, Deps};
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    name = "portcullis",
    version,
    about = "Account access: sign up, log in, keep it safe."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every route in one process, on the configured store (SQLite by default).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
    },
    /// The DynamoDB table that PORTCULLIS_STORE names (dynamodb://<table>).
    Table {
        #[command(subcommand)]
        command: TableCommand,
    },
}

#[derive(Subcommand)]
enum TableCommand {
    /// Create the table with its index and TTL; succeeds when it already exists.
    Create,
    /// Show the table's status, item count, index and TTL.
    Describe,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env(Environment::Local) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("portcullis: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    portcullis::telemetry::init(&config.log);
    let outcome = match cli.command {
        Command::Serve { addr } => serve(config, addr).await,
        Command::Table { command } => table(config, command).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "portcullis stopped");
            eprintln!("portcullis: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let public_url = match &config.public_url {
        Some(url) => url.clone(),
        None => format!("http://{local}").parse()?,
    };
    tracing::info!(url = %public_url, "Portcullis listening on http://{local}");
    let deps = Deps::from_config(&config).await?;
    let app = Arc::new(App::new(config, &public_url, deps).await?);
    portcullis_cli::serve::serve(app, listener, shutdown_signal()).await?;
    Ok(())
}

async fn table(config: Config, command: TableCommand) -> anyhow::Result<()> {
    let portcullis::config::StoreLocation::DynamoDb { table } = &config.store else {
        anyhow::bail!("PORTCULLIS_STORE does not name a DynamoDB table (dynamodb://<table>)");
    };
    let endpoint = config.dynamodb_endpoint.as_ref().map(|u| u.as_str());
    let store = portcullis::store::DynamoStore::connect(table, endpoint).await;
    match command {
        TableCommand::Create => {
            store.create_table().await?;
            println!("{}", store.describe_table().await?);
        }
        TableCommand::Describe => println!("{}", store.describe_table().await?),
    }
    Ok(())
}

/// Ctrl-C, or SIGTERM from a process manager.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
