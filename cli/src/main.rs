//! `portcullis`: run Portcullis locally and operate it.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use portcullis::clock::SystemClock;
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
    /// Create an administrator: an active, verified account with the roles admin and user.
    /// The password is read from standard input (--password-stdin) or asked for; never a flag.
    Createsuperuser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Signing keys of access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The DynamoDB table that PORTCULLIS_STORE names (dynamodb://<table>).
    Table {
        #[command(subcommand)]
        command: TableCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key. It is published in the JWKS at once and signs after
    /// PORTCULLIS_KEY_ACTIVATION_DELAY (10m), so verifiers know it first; the old key stays in the
    /// JWKS until its tokens have expired. Also deletes keys nothing can need any more.
    Rotate {
        /// Sign with the new key at once (a compromised key): tokens it signs may be refused
        /// for a few minutes by verifiers holding a cached JWKS.
        #[arg(long)]
        now: bool,
    },
    /// List the keys and where each is in its life.
    List,
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
    let log_to = match cli.command {
        Command::Serve { .. } => portcullis::telemetry::LogTo::Stdout,
        _ => portcullis::telemetry::LogTo::Stderr,
    };
    portcullis::telemetry::init_to(&config.log.filter, log_to);
    let outcome = match cli.command {
        Command::Serve { addr } => serve(config, addr).await,
        Command::Createsuperuser {
            email,
            username,
            password_stdin,
        } => createsuperuser(config, &email, &username, password_stdin).await,
        Command::Keys { command } => keys(config, command).await,
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
    let public_url = match &config.urls.public_url {
        Some(url) => url.clone(),
        None => format!("http://{local}").parse()?,
    };
    tracing::info!(url = %public_url, "Portcullis listening on http://{local}");
    let deps = Deps::from_config(&config).await?;
    let app = Arc::new(App::new(config, &public_url, deps).await?);
    portcullis_cli::serve::serve(app, listener, shutdown_signal()).await?;
    Ok(())
}

async fn createsuperuser(
    config: Config,
    email: &str,
    username: &str,
    from_stdin: bool,
) -> anyhow::Result<()> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password (again): ")?;
        anyhow::ensure!(first == again, "the passwords differ");
        first
    };
    let password = portcullis::secret::Secret::new(password);
    let store = portcullis::app::open_store(&config).await?;
    let created = portcullis::superuser::create(
        &config,
        store.as_ref(),
        &SystemClock,
        email,
        username,
        &password,
    )
    .await;
    match created {
        Ok(user) => {
            println!("created superuser {} ({})", user.username.as_str(), user.id);
            Ok(())
        }
        Err(portcullis::Error::EmailTaken) => {
            anyhow::bail!("an account with the email {email} already exists")
        }
        Err(portcullis::Error::UsernameTaken) => anyhow::bail!("the username {username} is taken"),
        Err(portcullis::Error::WeakPassword { problems, .. }) => {
            anyhow::bail!("the password is too weak: it {}", problems.join("; it "))
        }
        Err(portcullis::Error::InvalidRequest { errors, .. }) => {
            anyhow::bail!("invalid input: {errors:?}")
        }
        Err(other) => Err(other.into()),
    }
}

async fn keys(config: Config, command: KeysCommand) -> anyhow::Result<()> {
    use portcullis::clock::Clock as _;
    let store = portcullis::app::open_store(&config).await?;
    let windows = portcullis::tokens::KeyWindows {
        access_token_ttl: config.tokens.access_token_ttl,
        reload: portcullis::app::KEY_RELOAD,
    };
    let now = SystemClock.now();
    match command {
        KeysCommand::Rotate { now: at_once } => {
            let delay = if at_once {
                std::time::Duration::ZERO
            } else {
                config.tokens.key_activation_delay
            };
            let key = portcullis::keys::rotate(store.as_ref(), now, delay, windows).await?;
            println!(
                "added {}: signs from {}",
                key.kid,
                key.activates_at.rfc3339()
            );
        }
        KeysCommand::List => {
            for line in portcullis::keys::list(store.as_ref(), now, windows).await? {
                println!("{line}");
            }
        }
    }
    Ok(())
}

async fn table(config: Config, command: TableCommand) -> anyhow::Result<()> {
    let portcullis::config::StoreLocation::DynamoDb { table } = &config.store.location else {
        anyhow::bail!("PORTCULLIS_STORE does not name a DynamoDB table (dynamodb://<table>)");
    };
    let endpoint = config.store.dynamodb_endpoint.as_ref().map(|u| u.as_str());
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
