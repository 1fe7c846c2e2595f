//! Email addresses: trimmed, NFKC-normalised, validated, compared case-insensitively.

use std::fmt;

use unicode_normalization::UnicodeNormalization as _;

/// Characters that show nothing or turn text around: an address holding one can look like
/// another (`ka\u{200B}te@…`), so it is refused. Soft hyphen, combining grapheme joiner, Arabic
/// letter mark, Hangul fillers, Khmer and Mongolian invisibles, zero-width characters and
/// marks, bidirectional embeddings, overrides and isolates, invisible operators, variation
/// selectors, the byte-order mark, and tag characters.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The key of an address: NFKC, lower-cased, NFKC again (lower-casing can denormalise).
fn key_of(display: &str) -> String {
    display
        .nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfkc()
        .collect()
}

/// A valid email address. `display` is what the person typed, trimmed and NFKC-normalised (so a
/// lookalike such as the Kelvin sign in `\u{212A}ate@…` becomes `Kate@…`, and mail goes to the
/// address it looks like); `key` is its lower-cased form, used for lookup and uniqueness. `Debug`
/// masks it so logs never hold it whole.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    display: String,
    key: String,
}

impl Email {
    pub fn parse(input: &str) -> Result<Email, &'static str> {
        let trimmed = input.trim();
        if trimmed.chars().any(is_invisible) {
            return Err("must not contain invisible or direction-changing characters");
        }
        let normalized: String = trimmed.nfkc().collect();
        let display = normalized.trim();
        if display.is_empty() {
            return Err("must not be empty");
        }
        if display.len() > 254 {
            return Err("must be at most 254 characters");
        }
        let (local, domain) = display
            .rsplit_once('@')
            .ok_or("must be a valid email address")?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| {
                c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) || !c.is_ascii()
            });
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok || display.chars().any(char::is_control) {
            return Err("must be a valid email address");
        }
        Ok(Email {
            display: display.to_owned(),
            key: key_of(display),
        })
    }

    /// Restores an address read back from the store (already validated when it was written).
    pub fn from_stored(display: String) -> Email {
        let key = key_of(&display);
        Email { display, key }
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The lower-cased form that uniqueness and lookup use.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The part before the `@`, lower-cased.
    pub fn local_part(&self) -> &str {
        self.key.rsplit_once('@').map_or("", |(local, _)| local)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (local, domain) = self.key.rsplit_once('@').unwrap_or(("", ""));
        let first = local.chars().next().unwrap_or('?');
        write!(f, "{first}***@{domain}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lowercases_the_key_but_keeps_the_display() {
        let email = Email::parse("  Alice.Smith@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Alice.Smith@Example.COM");
        assert_eq!(email.key(), "alice.smith@example.com");
        assert_eq!(email.local_part(), "alice.smith");
    }

    #[test]
    fn lookalikes_normalise_to_the_address_they_look_like() {
        // The Kelvin sign, fullwidth letters, and a ligature.
        let kelvin = Email::parse("\u{212A}ate@example.com").unwrap();
        assert_eq!(kelvin.as_str(), "Kate@example.com");
        assert_eq!(kelvin.key(), "kate@example.com");
        let fullwidth = Email::parse("\u{FF4B}\u{FF41}\u{FF54}\u{FF45}@example.com").unwrap();
        assert_eq!(fullwidth.key(), "kate@example.com");
        assert_eq!(
            Email::parse("\u{FB01}nn@example.com").unwrap().key(),
            "finn@example.com"
        );
        assert_eq!(
            Email::from_stored("\u{212A}ate@example.com".into()).key(),
            "kate@example.com"
        );
    }

    #[test]
    fn invisible_and_direction_changing_characters_are_refused() {
        for bad in [
            "ka\u{200B}te@example.com",
            "kate\u{200D}@example.com",
            "\u{202E}etak@example.com",
            "kate@exa\u{00AD}mple.com",
            "\u{FEFF}kate@example.com",
            "kate\u{2066}@example.com",
            "ka\u{E0041}te@example.com",
        ] {
            assert_eq!(
                Email::parse(bad).err(),
                Some("must not contain invisible or direction-changing characters"),
                "{bad:?}"
            );
        }
        // Other scripts are addresses like any other.
        assert!(Email::parse("김민수@example.com").is_ok());
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "",
            "   ",
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "alice@@example.com",
            "al ice@example.com",
            "alice@exa mple.com",
            ".alice@example.com",
            "alice..b@example.com",
            "alice@-example.com",
            "alice@example..com",
            "alice\n@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
    }

    #[test]
    fn accepts_ordinary_addresses() {
        for good in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "o'brien@example.ie",
        ] {
            assert!(Email::parse(good).is_ok(), "{good:?} should be accepted");
        }
    }

    #[test]
    fn debug_masks_the_address() {
        let email = Email::parse("alice@example.com").unwrap();
        assert_eq!(format!("{email:?}"), "a***@example.com");
    }
}
