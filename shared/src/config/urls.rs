//! Where Portcullis is reached, and where the pages its mail links to are.

use url::Url;

use super::{ConfigError, Environment, Vars, invalid};

pub(super) const VARIABLES: &[&str] = &["PORTCULLIS_PUBLIC_URL", "PORTCULLIS_UI_URL"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlConfig {
    /// The token issuer and the base of provider redirect URIs. `None` locally means "the
    /// server's own URL", decided when the listener is bound.
    pub public_url: Option<Url>,
    /// Where mail links point; the server itself when unset.
    pub ui_url: Option<Url>,
}

impl UrlConfig {
    pub(super) fn parse(vars: &Vars, environment: Environment) -> Result<Self, ConfigError> {
        let public_url = vars.url("PORTCULLIS_PUBLIC_URL")?;
        if environment == Environment::Lambda && public_url.is_none() {
            return Err(invalid(
                "PORTCULLIS_PUBLIC_URL",
                "must be set in Lambda: it is the token issuer",
            ));
        }
        Ok(UrlConfig {
            public_url,
            ui_url: vars.url("PORTCULLIS_UI_URL")?,
        })
    }
}
