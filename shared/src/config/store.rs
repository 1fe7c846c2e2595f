//! Where accounts live.

use std::path::PathBuf;

use url::Url;

use super::{ConfigError, Environment, Vars, invalid};

pub(super) const VARIABLES: &[&str] = &["PORTCULLIS_STORE", "PORTCULLIS_DYNAMODB_ENDPOINT"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    DynamoDb { table: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// `PORTCULLIS_STORE`: `sqlite://<path>` (locally, `.portcullis/portcullis.db`) or
    /// `dynamodb://<table>` (required in Lambda).
    pub location: StoreLocation,
    /// `PORTCULLIS_DYNAMODB_ENDPOINT`: another DynamoDB, such as an emulator.
    pub dynamodb_endpoint: Option<Url>,
}

impl StoreConfig {
    pub(super) fn parse(vars: &Vars, environment: Environment) -> Result<Self, ConfigError> {
        let location = match (vars.get("PORTCULLIS_STORE"), environment) {
            (Some(value), _) => parse_location(value)?,
            (None, Environment::Local) => StoreLocation::Sqlite(".portcullis/portcullis.db".into()),
            (None, Environment::Lambda) => {
                return Err(invalid(
                    "PORTCULLIS_STORE",
                    "must be set in Lambda (dynamodb://<table>)",
                ));
            }
        };
        Ok(StoreConfig {
            location,
            dynamodb_endpoint: vars.url("PORTCULLIS_DYNAMODB_ENDPOINT")?,
        })
    }
}

fn parse_location(value: &str) -> Result<StoreLocation, ConfigError> {
    const VAR: &str = "PORTCULLIS_STORE";
    if let Some(path) = value.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(invalid(VAR, "sqlite:// needs a file path"));
        }
        Ok(StoreLocation::Sqlite(PathBuf::from(path)))
    } else if let Some(table) = value.strip_prefix("dynamodb://") {
        let valid = (3..=255).contains(&table.len())
            && table
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            return Err(invalid(
                VAR,
                "dynamodb:// needs a table name of 3-255 characters from letters, digits, _ - .",
            ));
        }
        Ok(StoreLocation::DynamoDb {
            table: table.to_owned(),
        })
    } else {
        Err(invalid(
            VAR,
            "expected sqlite://<path> or dynamodb://<table>",
        ))
    }
}
