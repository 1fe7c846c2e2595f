//! `portcullis`: run Portcullis locally and operate it.
#![forbid(unsafe_code)]

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use portcullis::caller::Caller;
use portcullis::clock::SystemClock;
use portcullis::config::{Config, ConfigError, Environment, StoreLocation};
use portcullis::{App, Deps};
use tokio::net::TcpListener;

/// Where settings come from, under `portcullis --help`.
const SETTINGS_HELP: &str = "\
Settings:
  Every setting comes from a PORTCULLIS_* environment variable, read the same way here as in
  the Lambda functions. All of them, with their defaults, are listed in docs/api.md, section
  \"Configuration\". A misspelt PORTCULLIS_* variable or an invalid value stops any command with
  a message naming it (exit status 2).

  With nothing set, `portcullis serve` runs on SQLite in .portcullis/portcullis.db and writes
  mail to .portcullis/outbox/, both under the current directory.

  `portcullis config check` shows the configuration in effect.";

/// Where a configuration error is explained, after the error itself.
const CONFIG_HINT: &str = "Fix or unset that variable, then run `portcullis config check` to see \
the configuration in effect.\nEvery PORTCULLIS_* variable and the values it takes are listed in \
docs/api.md, section \"Configuration\".";

#[derive(Parser)]
#[command(
    name = "portcullis",
    version,
    about = "Account access: sign up, log in, keep it safe. Runs Portcullis locally and operates it.",
    after_help = SETTINGS_HELP,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every route in one process, on the configured store (SQLite by default).
    ///
    /// Stops on Ctrl-C or SIGTERM, letting open requests finish. Logs are JSON lines on standard
    /// output.
    Serve {
        /// Address to listen on, as IP:port. 0.0.0.0:8080 listens on every interface; port 0
        /// picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_addr)]
        addr: SocketAddr,
        /// Serve only this function's routes, the router its Lambda runs (signup, login,
        /// verify-email, reset-request, reset-confirm, change-password, session, discovery,
        /// admin, oidc, oauth-callback, ui): to load-test one function as Lambda would run it.
        #[arg(long, value_name = "NAME", value_parser = parse_function)]
        function: Option<String>,
    },
    /// Create an administrator: an active, verified account with the roles admin and user.
    ///
    /// The password is asked for twice on the terminal, or read from standard input with
    /// --password-stdin; never given as a flag. It must pass the password policy.
    Createsuperuser {
        /// Email address of the new account (stored as verified).
        #[arg(long, value_name = "ADDRESS")]
        email: String,
        /// Username of the new account.
        #[arg(long, value_name = "NAME")]
        username: String,
        /// Read the password from the first line of standard input instead of asking for it, as
        /// in scripts: echo "$PASSWORD" | portcullis createsuperuser ... --password-stdin
        #[arg(long)]
        password_stdin: bool,
    },
    /// Signing keys of access tokens, kept in the store.
    #[command(arg_required_else_help = true)]
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Apps that sign people in through Portcullis as an OpenID provider.
    #[command(arg_required_else_help = true)]
    Clients {
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// The DynamoDB table that PORTCULLIS_STORE names (dynamodb://<table>); needs a build with
    /// the AWS clients (--features aws).
    #[command(arg_required_else_help = true)]
    Table {
        #[command(subcommand)]
        command: TableCommand,
    },
    /// The configuration read from PORTCULLIS_* variables.
    #[command(arg_required_else_help = true)]
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Bring accounts in from another system, or take them all out, with their password hashes.
    #[command(arg_required_else_help = true)]
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Create verified accounts for a load test, each with its own password and access key.
    ///
    /// Accounts are named <prefix>-00001 (address <prefix>-00001@example.com), hashed with the
    /// configured argon2id cost on every core, and written through the store like an import. The
    /// credentials (CSV: email, username, password, access_key, secret_key) go to --output or
    /// standard output; the scenarios in loadtest/ read that file. Addresses that have an account
    /// already are left as they are and not listed.
    Seed {
        /// How many accounts to create.
        #[arg(long, value_name = "N")]
        users: usize,
        /// What the usernames and addresses start with: letters, digits or -, starting with a
        /// letter. A new prefix makes a new set of accounts.
        #[arg(long, value_name = "PREFIX", default_value = "load")]
        prefix: String,
        /// Where to write the credentials (created readable by you alone); standard output by
        /// default.
        #[arg(long, short, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Print the OpenAPI 3.1 document of the /v1 API (what GET /v1/openapi.json serves; kept in
    /// docs/openapi.json).
    Openapi,
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Import accounts from a file. Passwords keep their hashes (Django's, Backend.AI's, bcrypt,
    /// argon2) and become argon2id at each account's first login. Accounts whose email exists
    /// already are left as they are, so running the same file twice changes nothing.
    Import {
        /// The file: a Django dumpdata JSON, Backend.AI's users table as CSV, or Portcullis'
        /// JSONL (from `portcullis users export`).
        file: std::path::PathBuf,
        /// What the file holds: jsonl, django or backendai. By default from its name: .jsonl,
        /// .json (django) or .csv (backendai).
        #[arg(long, value_name = "FORMAT")]
        format: Option<String>,
        /// With --format backendai: the keypairs table as CSV; each active key comes along
        /// (Portcullis keeps only its secret's SHA-256).
        #[arg(long, value_name = "FILE")]
        keypairs: Option<std::path::PathBuf>,
        /// Check every record and say what would happen, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Stop once more records than this have failed.
        #[arg(long, value_name = "N", default_value_t = 100)]
        max_errors: usize,
    },
    /// Write every account as JSON lines: hash, roles, verification, provider links and access
    /// keys (their digests). `portcullis users import` reads it into another store.
    Export {
        /// Where to write; standard output by default.
        #[arg(long, short, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key, and delete the keys nothing can need any more.
    ///
    /// The new key is published in the JWKS at once and signs after
    /// PORTCULLIS_KEY_ACTIVATION_DELAY (10m), so verifiers know it first; the old key stays in the
    /// JWKS until its tokens have expired.
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
enum ClientsCommand {
    /// Register an app. A confidential client's secret is printed this once; keep it in the
    /// app's settings.
    Create {
        /// The app's name, as people and the audit log see it.
        #[arg(long)]
        name: String,
        /// Where the app receives the code (exact match; https, or http on localhost). Repeat
        /// for several.
        #[arg(long = "redirect-uri", value_name = "URI", required = true)]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may send people back to. Repeat for several.
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// Scopes the app may ask for (openid is required; default: openid profile email).
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// A public client (a browser or native app that can't keep a secret): no secret, and
        /// PKCE required.
        #[arg(long)]
        public: bool,
    },
    /// List the registered apps.
    List,
    /// Delete an app: its codes and tokens stop working at once.
    Delete {
        /// The client id.
        id: String,
    },
}

#[derive(Subcommand)]
enum TableCommand {
    /// Create the table with its index and TTL; succeeds when it already exists.
    Create,
    /// Show the table's status, item count, index and TTL.
    Describe,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Show the configuration in effect, with client secrets redacted.
    ///
    /// Reads the PORTCULLIS_* variables exactly as `portcullis serve` does and prints every
    /// setting, group by group. Exits 2, naming the variable at fault, when the configuration is
    /// invalid.
    Check,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env(Environment::Local) {
        Ok(config) => config,
        Err(error) => {
            print_config_error(&error);
            return ExitCode::from(2);
        }
    };
    let log_to = match cli.command {
        Command::Serve { .. } => portcullis::telemetry::LogTo::Stdout,
        _ => portcullis::telemetry::LogTo::Stderr,
    };
    portcullis::telemetry::init_to(&config.log.filter, log_to);
    // Before any work: a cloud store or mailer this build can't reach is named, with the fix.
    if !matches!(cli.command, Command::Config { .. } | Command::Openapi)
        && let Some(problem) =
            portcullis_cli::features::aws_missing(&config, portcullis_cli::features::WITH_AWS)
    {
        eprintln!("portcullis: {problem}");
        return ExitCode::from(2);
    }
    let outcome = match cli.command {
        Command::Serve { addr, function } => serve(config, addr, function.as_deref()).await,
        Command::Createsuperuser {
            email,
            username,
            password_stdin,
        } => createsuperuser(config, &email, &username, password_stdin).await,
        Command::Keys { command } => keys(config, command).await,
        Command::Clients { command } => clients(config, command).await,
        Command::Table { command } => table(config, command).await,
        Command::Users { command } => users(config, command).await,
        Command::Seed {
            users,
            prefix,
            output,
        } => seed(config, users, &prefix, output.as_deref()).await,
        Command::Openapi => {
            print!("{}", portcullis::http::routes::openapi::json());
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            print!(
                "{}",
                portcullis_cli::config_check::render(
                    &config,
                    portcullis_cli::config_check::set_in_env
                )
            );
            if let Some(problem) =
                portcullis_cli::features::aws_missing(&config, portcullis_cli::features::WITH_AWS)
            {
                eprintln!("portcullis: warning: {problem}");
            }
            Ok(())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Once, in words: no log line repeats it.
            eprintln!("portcullis: {error}");
            ExitCode::FAILURE
        }
    }
}

fn print_config_error(error: &ConfigError) {
    eprintln!("portcullis: configuration error: {error}\n{CONFIG_HINT}");
}

/// `--addr`: an IP and a port, with a word on what is wrong otherwise.
fn parse_addr(value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|_| {
        "expected IP:port, such as 127.0.0.1:8080 or 0.0.0.0:8080 (not a host name)".to_owned()
    })
}

fn parse_function(value: &str) -> Result<String, String> {
    let names: Vec<&str> = portcullis::http::routes::FUNCTIONS
        .iter()
        .map(|(name, _)| *name)
        .collect();
    if names.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "no function is named so; they are {}",
            names.join(", ")
        ))
    }
}

async fn serve(config: Config, addr: SocketAddr, function: Option<&str>) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|error| bind_error(addr, &error))?;
    let local = listener.local_addr()?;
    let public_url = match &config.urls.public_url {
        Some(url) => url.clone(),
        None => format!("http://{local}").parse()?,
    };
    tracing::info!(
        url = %public_url,
        function = function.unwrap_or("all"),
        "Portcullis listening on http://{local}"
    );
    let deps = Deps::from_config(&config)
        .await
        .map_err(|error| store_error(&config, error))?;
    let app = Arc::new(
        App::new(config.clone(), &public_url, deps)
            .await
            .map_err(|error| store_error(&config, error))?,
    );
    let routes = portcullis::http::routes::FUNCTIONS
        .iter()
        .find(|(name, _)| Some(*name) == function)
        .map(|(_, routes)| *routes);
    match routes {
        Some(routes) => {
            portcullis_cli::serve::serve_function(app, listener, shutdown_signal(), routes).await?
        }
        None => portcullis_cli::serve::serve(app, listener, shutdown_signal()).await?,
    }
    Ok(())
}

/// Why `addr` cannot be listened on, and what to do instead.
fn bind_error(addr: SocketAddr, error: &std::io::Error) -> anyhow::Error {
    let mut other = addr;
    other.set_port(addr.port().checked_add(1).unwrap_or(8080));
    match error.kind() {
        std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
            "{addr} is already in use (another portcullis serve?). Stop it, or choose another \
             address with --addr {other}"
        ),
        std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
            "not allowed to listen on {addr} (ports below 1024 need privileges). Choose another \
             address with --addr {}",
            SocketAddr::new(addr.ip(), 8080)
        ),
        std::io::ErrorKind::AddrNotAvailable => anyhow::anyhow!(
            "{} is not an address of this machine. Choose another with --addr, such as \
             --addr 127.0.0.1:{} (or 0.0.0.0:{} for every interface)",
            addr.ip(),
            addr.port(),
            addr.port()
        ),
        _ => {
            anyhow::anyhow!("cannot listen on {addr}: {error}. Choose another address with --addr")
        }
    }
}

/// `PORTCULLIS_STORE` as it would be written.
fn store_name(config: &Config) -> String {
    match &config.store.location {
        StoreLocation::Sqlite(path) => format!("sqlite://{}", path.display()),
        StoreLocation::DynamoDb { table } => match &config.store.dynamodb_endpoint {
            Some(endpoint) => format!("dynamodb://{table} at {endpoint}"),
            None => format!("dynamodb://{table}"),
        },
    }
}

/// A failure of the store, naming which store.
fn store_error(config: &Config, error: portcullis::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "the store {} failed: {error}. Check PORTCULLIS_STORE{}",
        store_name(config),
        match config.store.location {
            StoreLocation::Sqlite(_) => " (its folder must be writable)",
            StoreLocation::DynamoDb { .. } =>
                ", PORTCULLIS_DYNAMODB_ENDPOINT and the AWS credentials; \
                 `portcullis table describe` shows whether the table is there",
        }
    )
}

async fn createsuperuser(
    config: Config,
    email: &str,
    username: &str,
    from_stdin: bool,
) -> anyhow::Result<()> {
    let example = format!(
        "echo \"$PASSWORD\" | portcullis createsuperuser --email {email} --username {username} \
         --password-stdin"
    );
    let password = if from_stdin {
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line)? == 0 {
            anyhow::bail!(
                "--password-stdin found standard input empty: nothing was created. Pipe the \
                 password in:\n  {example}"
            );
        }
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            anyhow::bail!(
                "standard input is not a terminal, so the password cannot be asked for: nothing \
                 was created. Give it on standard input with --password-stdin:\n  {example}"
            );
        }
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password (again): ")?;
        anyhow::ensure!(
            first == again,
            "the two passwords differ: nothing was created. Run the command again"
        );
        first
    };
    let password = portcullis::secret::Secret::new(password);
    let store = portcullis::app::open_store(&config)
        .await
        .map_err(|error| store_error(&config, error))?;
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
        Err(portcullis::Error::EmailTaken) => anyhow::bail!(
            "an account with the email {email} already exists: nothing was created. Choose \
             another --email"
        ),
        Err(portcullis::Error::UsernameTaken) => anyhow::bail!(
            "the username {username} is taken: nothing was created. Choose another --username"
        ),
        Err(portcullis::Error::WeakPassword { problems, .. }) => anyhow::bail!(
            "the password is too weak: it {}. Nothing was created; choose a stronger password \
             (the rules are PORTCULLIS_PASSWORD_* in docs/api.md, section \"Configuration\")",
            problems.join("; it ")
        ),
        Err(portcullis::Error::InvalidRequest { errors, .. }) => {
            let problems: Vec<String> = [("email", email), ("username", username)]
                .into_iter()
                .filter_map(|(field, value)| {
                    errors
                        .get(field)
                        .map(|messages| format!("--{field} {value}: {}", messages.join("; ")))
                })
                .collect();
            anyhow::bail!("{}. Nothing was created", problems.join("; "))
        }
        Err(other) => Err(store_error(&config, other)),
    }
}

async fn keys(config: Config, command: KeysCommand) -> anyhow::Result<()> {
    use portcullis::clock::Clock as _;
    let store = portcullis::app::open_store(&config)
        .await
        .map_err(|error| store_error(&config, error))?;
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
            let key = portcullis::keys::rotate(store.as_ref(), now, delay, windows)
                .await
                .map_err(|error| store_error(&config, error))?;
            println!(
                "added {}: signs from {}",
                key.kid,
                key.activates_at.rfc3339()
            );
        }
        KeysCommand::List => {
            let lines = portcullis::keys::list(store.as_ref(), now, windows)
                .await
                .map_err(|error| store_error(&config, error))?;
            for line in lines {
                println!("{line}");
            }
        }
    }
    Ok(())
}

/// The app a command works on (the configured store and mailer), and the caller its audit
/// events name: `portcullis <command>`.
async fn command_app(config: &Config, command: &str) -> anyhow::Result<(App, Caller)> {
    let public_url = match &config.urls.public_url {
        Some(url) => url.clone(),
        None => "http://127.0.0.1:8080".parse()?,
    };
    let deps = Deps::from_config(config)
        .await
        .map_err(|error| store_error(config, error))?;
    let app = App::new(config.clone(), &public_url, deps)
        .await
        .map_err(|error| store_error(config, error))?;
    let caller = Caller {
        request_id: "cli".into(),
        ip: None,
        user_agent: Some(format!("portcullis {command}")),
    };
    Ok((app, caller))
}

async fn users(config: Config, command: UsersCommand) -> anyhow::Result<()> {
    use portcullis::imports::{self, Format, Options};
    let (app, caller) = command_app(&config, "users").await?;
    match command {
        UsersCommand::Import {
            file,
            format,
            keypairs,
            dry_run,
            max_errors,
        } => {
            let format = match format.as_deref() {
                Some(name) => Format::parse(name).ok_or_else(|| {
                    anyhow::anyhow!("--format {name}: expected jsonl, django or backendai")
                })?,
                None => match file.extension().and_then(|e| e.to_str()) {
                    Some("jsonl") => Format::Jsonl,
                    Some("json") => Format::Django,
                    Some("csv") => Format::BackendAi,
                    _ => anyhow::bail!(
                        "can't tell the format of {} from its name: give --format jsonl, \
                         django or backendai",
                        file.display()
                    ),
                },
            };
            let read = |path: &std::path::Path| {
                std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
            };
            let data = read(&file)?;
            let keypairs = keypairs.as_deref().map(read).transpose()?;
            let records = imports::read(format, &data, keypairs.as_deref(), app.clock.now())
                .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), describe(&e)))?;
            let bar = progress_bar(records.len() as u64, "accounts");
            let report = imports::run(
                &app,
                &caller,
                None,
                records,
                Options {
                    dry_run,
                    max_errors,
                },
                &|done| bar.set_position(done as u64),
            )
            .await?;
            bar.finish_and_clear();
            for problem in &report.errors {
                eprintln!("{}: {}", problem.at, problem.reason);
            }
            let verb = if dry_run {
                "would be created"
            } else {
                "created"
            };
            println!(
                "{} records: {} {verb}, {} already there (left as they are), {} refused{}",
                report.records,
                report.created,
                report.existing,
                report.errors.len(),
                if report.stopped {
                    format!("; stopped after more than {max_errors} refusals")
                } else {
                    String::new()
                }
            );
            if report.errors.is_empty() {
                Ok(())
            } else {
                std::process::exit(1)
            }
        }
        UsersCommand::Export { output } => {
            let mut out: Box<dyn std::io::Write + Send> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .map_err(|e| anyhow::anyhow!("creating {}: {e}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout())),
            };
            let bar = progress_bar(0, "accounts");
            let written = portcullis::exports::export(&app, out.as_mut(), &|done| {
                bar.set_position(done as u64)
            })
            .await?;
            out.flush()?;
            bar.finish_and_clear();
            eprintln!("{written} accounts exported");
            Ok(())
        }
    }
}

async fn seed(
    config: Config,
    count: usize,
    prefix: &str,
    output: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    // A file beside the destination first, so a path that can't be written fails before minutes
    // of hashing; it replaces the destination only once every account is written, so a failed
    // run never destroys the credentials of an earlier one.
    let partial = output.map(|path| {
        let mut name = path.as_os_str().to_owned();
        name.push(".partial");
        std::path::PathBuf::from(name)
    });
    let result = seed_to(config, count, prefix, output, partial.as_deref()).await;
    if result.is_err()
        && let Some(partial) = &partial
    {
        let _ = std::fs::remove_file(partial);
    }
    result
}

async fn seed_to(
    config: Config,
    count: usize,
    prefix: &str,
    output: Option<&std::path::Path>,
    partial: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out: Box<dyn std::io::Write + Send> = match partial {
        Some(path) => Box::new(std::io::BufWriter::new(private_file(path)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let (app, caller) = command_app(&config, "seed").await?;
    let hashing = progress_bar(count as u64, "passwords hashed");
    let writing = progress_bar(count as u64, "accounts written");
    let seeded = portcullis::seed::run(
        &app,
        &caller,
        prefix,
        count,
        &|done| hashing.set_position(done as u64),
        &|done| {
            hashing.finish_and_clear();
            writing.set_position(done as u64)
        },
    )
    .await
    .map_err(|error| match error {
        // The flow names its fields after the flags.
        portcullis::Error::InvalidRequest { errors, .. } => anyhow::anyhow!(
            "{}: nothing was created",
            errors
                .iter()
                .map(|(field, messages)| format!("--{field} {}", messages.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => store_error(&config, other),
    })?;
    writing.finish_and_clear();
    writeln!(out, "{}", portcullis::seed::Credential::CSV_HEADER)?;
    for credential in &seeded.credentials {
        writeln!(out, "{}", credential.csv_row())?;
    }
    out.flush()?;
    drop(out);
    if let (Some(partial), Some(path)) = (partial, output) {
        std::fs::rename(partial, path).map_err(|e| {
            anyhow::anyhow!("renaming {} to {}: {e}", partial.display(), path.display())
        })?;
    }
    let report = &seeded.report;
    eprintln!(
        "{} accounts created{}{}",
        seeded.credentials.len(),
        match output {
            Some(path) => format!(", credentials in {}", path.display()),
            None => String::new(),
        },
        if report.existing + report.errors.len() > 0 {
            format!(
                "; {} left out because their address or username has an account already \
                 (choose another --prefix for a new set)",
                report.existing + report.errors.len()
            )
        } else {
            String::new()
        }
    );
    Ok(())
}

/// A file only its owner can read (it holds passwords), made so even when it was there before.
fn private_file(path: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(path)
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", path.display()))?;
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .map_err(|e| anyhow::anyhow!("making {} private: {e}", path.display()))?;
    Ok(file)
}

/// A flow's refusal in words: the fields at fault and what is wrong with each.
fn describe(error: &portcullis::Error) -> String {
    match error {
        portcullis::Error::InvalidRequest { errors, .. } => errors
            .iter()
            .map(|(field, messages)| format!("{field} {}", messages.join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// A progress bar on standard error when it is a terminal; hidden otherwise (scripts, CI).
fn progress_bar(length: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = if length == 0 {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::new(length)
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}}, {{eta}} left)"
    )) {
        bar.set_style(style);
    }
    bar
}

async fn clients(config: Config, command: ClientsCommand) -> anyhow::Result<()> {
    use portcullis::clients;
    let (app, caller) = command_app(&config, "clients").await?;
    match command {
        ClientsCommand::Create {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            scopes,
            public,
        } => {
            let mut body = serde_json::json!({
                "name": name,
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": post_logout_redirect_uris,
                "public": public,
            });
            if !scopes.is_empty() {
                body["scopes"] = serde_json::json!(scopes);
            }
            let body = portcullis::json_body::JsonBody::from_slice(body.to_string().as_bytes())
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            let fields = match clients::parse_fields(body, true) {
                Ok(fields) => fields,
                Err(portcullis::Error::InvalidRequest { errors, .. }) => {
                    let lines: Vec<String> = errors
                        .iter()
                        .flat_map(|(field, messages)| {
                            messages
                                .iter()
                                .map(move |m| format!("  --{}: {m}", flag(field)))
                        })
                        .collect();
                    anyhow::bail!("nothing was registered:\n{}", lines.join("\n"));
                }
                Err(other) => return Err(store_error(&config, other)),
            };
            let created = clients::create(&app, &caller, None, fields)
                .await
                .map_err(|error| store_error(&config, error))?;
            println!("client_id:     {}", created.client.client_id);
            match &created.secret {
                Some(secret) => println!(
                    "client_secret: {}\n(shown this once: keep it in the app's settings)",
                    secret.expose()
                ),
                None => println!("public client: no secret; the app must use PKCE (S256)"),
            }
            println!("issuer:        {}", app.issuer);
        }
        ClientsCommand::List => {
            for client in clients::list(&app)
                .await
                .map_err(|error| store_error(&config, error))?
            {
                println!(
                    "{}  {}  {}  {}",
                    client.client_id,
                    client.kind,
                    client.name,
                    client.redirect_uris.join(" ")
                );
            }
        }
        ClientsCommand::Delete { id } => match clients::delete(&app, &caller, None, &id).await {
            Ok(()) => println!("deleted {id}"),
            Err(portcullis::Error::NotFound) => anyhow::bail!("no client has the id {id}"),
            Err(other) => return Err(store_error(&config, other)),
        },
    }
    Ok(())
}

/// The flag that sets a field of a client.
fn flag(field: &str) -> &str {
    match field {
        "redirect_uris" => "redirect-uri",
        "post_logout_redirect_uris" => "post-logout-redirect-uri",
        "scopes" => "scope",
        other => other,
    }
}

#[cfg(not(feature = "aws"))]
async fn table(_config: Config, _command: TableCommand) -> anyhow::Result<()> {
    anyhow::bail!(
        "the table commands need the AWS clients, and this portcullis was built without them: {}",
        portcullis_cli::features::HOW_TO_ADD_AWS
    )
}

#[cfg(feature = "aws")]
async fn table(config: Config, command: TableCommand) -> anyhow::Result<()> {
    let StoreLocation::DynamoDb { table } = &config.store.location else {
        anyhow::bail!(
            "PORTCULLIS_STORE ({}) does not name a DynamoDB table: set \
             PORTCULLIS_STORE=dynamodb://<table> (and PORTCULLIS_DYNAMODB_ENDPOINT for an \
             emulator)",
            store_name(&config)
        );
    };
    let endpoint = config.store.dynamodb_endpoint.as_ref().map(|u| u.as_str());
    let store = portcullis::store::DynamoStore::connect(table, endpoint).await;
    let failed = |error: portcullis::Error| store_error(&config, error);
    match command {
        TableCommand::Create => {
            store.create_table().await.map_err(failed)?;
            println!("{}", store.describe_table().await.map_err(failed)?);
        }
        TableCommand::Describe => println!("{}", store.describe_table().await.map_err(failed)?),
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
