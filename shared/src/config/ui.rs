//! The hosted pages: how they look and what they link to.

use url::Url;

use super::{ConfigError, Vars, invalid};

pub(super) const VARIABLES: &[&str] = &[
    "PORTCULLIS_LOGO_URL",
    "PORTCULLIS_ACCENT_COLOR",
    "PORTCULLIS_TERMS_URL",
    "PORTCULLIS_PRIVACY_URL",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UiConfig {
    /// An image shown beside the product name.
    pub logo_url: Option<Url>,
    /// The colour of buttons and links, as `#rrggbb`.
    pub accent_color: String,
    /// Linked from the signup page's terms checkbox.
    pub terms_url: Option<Url>,
    pub privacy_url: Option<Url>,
}

impl UiConfig {
    pub(super) fn parse(vars: &Vars) -> Result<Self, ConfigError> {
        let accent_color = vars
            .get("PORTCULLIS_ACCENT_COLOR")
            .unwrap_or("#1d4ed8")
            .to_owned();
        let hex = accent_color.strip_prefix('#').unwrap_or_default();
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid(
                "PORTCULLIS_ACCENT_COLOR",
                "expected a colour such as #1d4ed8",
            ));
        }
        Ok(UiConfig {
            logo_url: vars.url("PORTCULLIS_LOGO_URL")?,
            accent_color,
            terms_url: vars.url("PORTCULLIS_TERMS_URL")?,
            privacy_url: vars.url("PORTCULLIS_PRIVACY_URL")?,
        })
    }
}
