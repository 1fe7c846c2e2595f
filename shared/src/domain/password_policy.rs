//! The password policy: length, character classes, the common-password blocklist, and not
//! containing the person's own username or email local part. Every broken rule is reported.

use std::collections::HashSet;
use std::sync::LazyLock;

/// The 19,640 most common passwords, from Django's `common-passwords.txt` (BSD-3-Clause), one per
/// line, lower-cased.
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

static BLOCKLIST: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// Bases shorter than this are not looked up, so `x1!` stripped to `x` blocks nothing.
const MIN_BASE_LENGTH: usize = 4;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    pub require_letter: bool,
    pub require_digit: bool,
    pub require_special: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            max_length: 256,
            require_letter: true,
            require_digit: true,
            require_special: true,
        }
    }
}

/// What the password must not contain: the account's own names.
#[derive(Clone, Copy, Debug, Default)]
pub struct PersonalWords<'a> {
    pub username: Option<&'a str>,
    pub email_local_part: Option<&'a str>,
}

impl PasswordPolicy {
    /// One message per broken rule; empty when the password is acceptable.
    pub fn check(&self, password: &str, personal: PersonalWords<'_>) -> Vec<String> {
        let mut problems = Vec::new();
        let length = password.chars().count();
        if length < self.min_length {
            problems.push(format!("must be at least {} characters", self.min_length));
        }
        if length > self.max_length {
            problems.push(format!("must be at most {} characters", self.max_length));
        }
        if self.require_letter && !password.chars().any(char::is_alphabetic) {
            problems.push("must contain a letter".to_owned());
        }
        if self.require_digit && !password.chars().any(char::is_numeric) {
            problems.push("must contain a digit".to_owned());
        }
        if self.require_special && password.chars().all(char::is_alphanumeric) {
            problems.push("must contain a special character".to_owned());
        }
        if length <= self.max_length && is_common(password) {
            problems.push("is too common".to_owned());
        }
        let lower = password.to_lowercase();
        let contains = |word: Option<&str>| {
            word.map(str::to_lowercase)
                .is_some_and(|w| w.chars().count() >= 3 && lower.contains(&w))
        };
        if contains(personal.username) {
            problems.push("must not contain your username".to_owned());
        }
        if contains(personal.email_local_part) {
            problems.push("must not contain your email address".to_owned());
        }
        problems
    }

    pub fn require_names(&self) -> impl Iterator<Item = &'static str> {
        [
            (self.require_letter, "letter"),
            (self.require_digit, "digit"),
            (self.require_special, "special"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
    }
}

/// In the blocklist as typed, or once the usual decorations are undone: leading and trailing
/// digits and symbols (`Summer2024!`), l33t substitutions (`P@ssw0rd`), or both (`Passw0rd!`).
/// A list compared only as typed would miss nearly every common password that passes the
/// character-class rules.
pub fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    if BLOCKLIST.contains(lower.as_str()) {
        return true;
    }
    let stripped = lower.trim_matches(|c: char| !c.is_alphabetic());
    let unsymbolled = lower.trim_matches(|c: char| !c.is_alphanumeric());
    let mut forms = vec![stripped.to_owned(), unsymbolled.to_owned()];
    for one in ['i', 'l'] {
        forms.push(unleet(&lower, one));
        forms.push(
            unleet(&lower, one)
                .trim_matches(|c: char| !c.is_alphabetic())
                .to_owned(),
        );
        forms.push(unleet(stripped, one));
    }
    forms
        .iter()
        .any(|form| form.chars().count() >= MIN_BASE_LENGTH && BLOCKLIST.contains(form.as_str()))
}

fn unleet(text: &str, one: char) -> String {
    text.chars()
        .map(|c| match c {
            '@' | '4' => 'a',
            '8' => 'b',
            '3' => 'e',
            '6' | '9' => 'g',
            '1' | '!' | '|' => one,
            '0' => 'o',
            '$' | '5' => 's',
            '7' | '+' => 't',
            '2' => 'z',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(password: &str) -> Vec<String> {
        PasswordPolicy::default().check(password, PersonalWords::default())
    }

    #[test]
    fn the_blocklist_is_large() {
        assert!(BLOCKLIST.len() >= 10_000, "{}", BLOCKLIST.len());
    }

    #[test]
    fn accepts_a_decent_password() {
        assert!(check("correct-horse-7-battery").is_empty());
        assert!(check("Tr0ub4dor&3x").is_empty());
    }

    #[test]
    fn lists_every_broken_rule() {
        assert_eq!(
            check("ab"),
            vec![
                "must be at least 8 characters",
                "must contain a digit",
                "must contain a special character",
            ]
        );
        assert_eq!(
            check("12345678!"),
            vec!["must contain a letter", "is too common"]
        );
        assert_eq!(
            check(&format!("{}1!", "z".repeat(255))),
            vec!["must be at most 256 characters"]
        );
    }

    #[test]
    fn common_passwords_that_pass_the_other_rules_are_refused() {
        for common in [
            "P@ssw0rd",
            "Passw0rd!",
            "password1!",
            "P@ssword1",
            "Qwerty123!",
            "Welcome1!",
            "Summer2024!",
            "!Dragon99",
            "iloveyou<3",
            "Football#1",
        ] {
            assert_eq!(check(common), vec!["is too common"], "{common}");
        }
    }

    #[test]
    fn personal_words_are_refused_case_insensitively() {
        let personal = PersonalWords {
            username: Some("Marguerite"),
            email_local_part: Some("m.duras"),
        };
        let problems = PasswordPolicy::default().check("xMARGUERITE-9", personal);
        assert_eq!(problems, vec!["must not contain your username"]);
        let problems = PasswordPolicy::default().check("8!m.Duras.q", personal);
        assert_eq!(problems, vec!["must not contain your email address"]);
        // Very short names would forbid half the alphabet: they are not checked.
        let short = PersonalWords {
            username: None,
            email_local_part: Some("al"),
        };
        assert!(
            PasswordPolicy::default()
                .check("zeal-9!xyz", short)
                .is_empty()
        );
    }

    #[test]
    fn requirements_follow_the_policy() {
        let relaxed = PasswordPolicy {
            require_digit: false,
            require_special: false,
            ..PasswordPolicy::default()
        };
        assert!(
            relaxed
                .check("quite long passphrase here", PersonalWords::default())
                .is_empty()
        );
        assert_eq!(relaxed.require_names().collect::<Vec<_>>(), vec!["letter"]);
    }
}
