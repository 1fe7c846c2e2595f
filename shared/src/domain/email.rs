//! Email addresses: trimmed, validated, compared case-insensitively, shown as typed.

use std::fmt;

/// A valid email address. `key` is the lower-cased form used for lookup and uniqueness;
/// `display` is what the person typed (trimmed). `Debug` masks it so logs never hold it whole.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    display: String,
    key: String,
}

impl Email {
    pub fn parse(input: &str) -> Result<Email, &'static str> {
        let display = input.trim();
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
            key: display.to_lowercase(),
        })
    }

    /// Restores an address read back from the store (already validated when it was written).
    pub fn from_stored(display: String) -> Email {
        let key = display.to_lowercase();
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
