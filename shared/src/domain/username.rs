//! Usernames: 3–40 characters from ASCII letters, digits, `.`, `_`, `-`; unique case-insensitively.
//! They never contain `@`, so a login identifier with `@` is always an email.

use rand::Rng;

use crate::email::Email;

pub const MIN_LENGTH: usize = 3;
pub const MAX_LENGTH: usize = 40;
/// How long the part taken from an email may be, leaving room for a numeric suffix.
const SUGGESTION_BASE_LENGTH: usize = 32;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username {
    display: String,
    key: String,
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

impl Username {
    /// Every rule the input breaks, one message each.
    pub fn parse(input: &str) -> Result<Username, Vec<String>> {
        let name = input.trim();
        let mut problems = Vec::new();
        let length = name.chars().count();
        if length < MIN_LENGTH {
            problems.push(format!("must be at least {MIN_LENGTH} characters"));
        }
        if length > MAX_LENGTH {
            problems.push(format!("must be at most {MAX_LENGTH} characters"));
        }
        if !name.chars().all(allowed) {
            problems.push("may only contain letters, digits, '.', '_' and '-'".to_owned());
        }
        if problems.is_empty() {
            Ok(Username {
                display: name.to_owned(),
                key: name.to_ascii_lowercase(),
            })
        } else {
            Err(problems)
        }
    }

    pub fn from_stored(display: String) -> Username {
        let key = display.to_ascii_lowercase();
        Username { display, key }
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The lower-cased form that uniqueness and lookup use.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The email's local part lower-cased, characters outside the charset dropped, cut to 32,
/// padded to 3 when short. Always a valid username.
pub fn suggestion_base(email: &Email) -> String {
    let mut base: String = email
        .local_part()
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .filter(|c| allowed(*c))
        .take(SUGGESTION_BASE_LENGTH)
        .collect();
    if base.is_empty() {
        base.push_str("user");
    }
    while base.len() < MIN_LENGTH {
        base.push('0');
    }
    base
}

/// Names to try in order: the base, then `base1`..`base9`, then random numeric suffixes of growing
/// length, so a popular name costs a handful of look-ups, not one per existing account.
pub fn candidates(base: &str) -> impl Iterator<Item = Username> + '_ {
    let sequential = (0..10u32).map(move |n| {
        if n == 0 {
            base.to_owned()
        } else {
            format!("{base}{n}")
        }
    });
    let random = (2..=6u32).flat_map(move |digits| {
        (0..3).map(move |_| {
            let low = 10u32.pow(digits - 1);
            let n = rand::thread_rng().gen_range(low..low * 10);
            format!("{base}{n}")
        })
    });
    sequential.chain(random).map(Username::from_stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    #[test]
    fn accepts_the_charset_and_compares_case_insensitively() {
        let name = Username::parse("Alice_B-1.x").unwrap();
        assert_eq!(name.as_str(), "Alice_B-1.x");
        assert_eq!(name.key(), "alice_b-1.x");
    }

    #[test]
    fn lists_every_broken_rule() {
        assert_eq!(Username::parse("a@").unwrap_err().len(), 2);
        assert_eq!(
            Username::parse(&"x".repeat(41)).unwrap_err(),
            vec!["must be at most 40 characters"]
        );
        assert!(Username::parse("alice@example.com").is_err());
        assert!(Username::parse("ålice").is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse(&"x".repeat(40)).is_ok());
        assert!(Username::parse("abc").is_ok());
    }

    #[test]
    fn suggestion_follows_the_contract() {
        assert_eq!(
            suggestion_base(&email("Alice.Smith+news@example.com")),
            "alice.smithnews"
        );
        assert_eq!(suggestion_base(&email("al@example.com")), "al0");
        assert_eq!(suggestion_base(&email("++@example.com")), "user");
        assert_eq!(suggestion_base(&email("Zoë@example.com")), "zo0");
        let long = format!("{}@example.com", "b".repeat(60));
        assert_eq!(suggestion_base(&email(&long)).len(), 32);
    }

    #[test]
    fn candidates_are_valid_and_start_with_the_base() {
        let base = "a".repeat(32);
        let all: Vec<Username> = candidates(&base).collect();
        assert_eq!(all[0].as_str(), base);
        assert_eq!(all[1].as_str(), format!("{base}1"));
        assert!(all.len() > 20);
        for candidate in &all {
            assert!(Username::parse(candidate.as_str()).is_ok(), "{candidate:?}");
        }
    }
}
