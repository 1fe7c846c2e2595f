//! The mail Portcullis sends, composed from the templates in `shared/templates/`. Each template
//! pair is a plain-text file (its first line is `Subject: …`) and an HTML file; `{{name}}` marks
//! a value. Values are HTML-escaped in the HTML part.

use crate::email::Email;
use crate::error::{Error, Result};
use crate::mail::Message;

struct Template {
    text: &'static str,
    html: &'static str,
}

const VERIFY_EMAIL: Template = Template {
    text: include_str!("../templates/verify-email.txt"),
    html: include_str!("../templates/verify-email.html"),
};
const RESET_PASSWORD: Template = Template {
    text: include_str!("../templates/reset-password.txt"),
    html: include_str!("../templates/reset-password.html"),
};
const INVITATION: Template = Template {
    text: include_str!("../templates/invitation.txt"),
    html: include_str!("../templates/invitation.html"),
};
const ACCESS_KEY_CREATED: Template = Template {
    text: include_str!("../templates/access-key-created.txt"),
    html: include_str!("../templates/access-key-created.html"),
};
const SIGNUP_EXISTING: Template = Template {
    text: include_str!("../templates/signup-existing.txt"),
    html: include_str!("../templates/signup-existing.html"),
};
const PASSWORD_CHANGED: Template = Template {
    text: include_str!("../templates/password-changed.txt"),
    html: include_str!("../templates/password-changed.html"),
};

fn fill(template: &str, values: &[(&str, &str)], escape: bool) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        let value = if escape {
            html_escape(value)
        } else {
            (*value).to_owned()
        };
        out = out.replace(&format!("{{{{{name}}}}}"), &value);
    }
    out
}

fn html_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn compose(template: &Template, to: &Email, values: &[(&str, &str)]) -> Result<Message> {
    let text = fill(template.text, values, false);
    let (subject_line, body) = text
        .split_once("\n\n")
        .ok_or_else(|| Error::internal("mail template without a subject line"))?;
    let subject = subject_line
        .strip_prefix("Subject: ")
        .ok_or_else(|| Error::internal("mail template must start with `Subject: `"))?;
    Ok(Message {
        to: to.as_str().to_owned(),
        subject: subject.trim().to_owned(),
        text: body.to_owned(),
        html: fill(template.html, values, true),
    })
}

/// A lifetime as mail says it: "24 hours", "1 hour", "30 minutes".
pub fn lifetime(duration: std::time::Duration) -> String {
    let secs = duration.as_secs();
    let (n, unit) = if secs >= 3600 && secs.is_multiple_of(3600) {
        (secs / 3600, "hour")
    } else if secs >= 60 && secs.is_multiple_of(60) {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// The composer of a mail that carries a single-use link:
/// `(sender, to, username, token, lifetime)`.
pub type LinkMail = fn(&Sender<'_>, &Email, &str, &str, &str) -> Result<Message>;

/// Who the mail is from and where its links go.
pub struct Sender<'a> {
    pub product: &'a str,
    /// The UI's base URL, without a trailing slash.
    pub ui: &'a str,
}

pub fn verify_email(
    sender: &Sender<'_>,
    to: &Email,
    username: &str,
    token: &str,
    lifetime: &str,
) -> Result<Message> {
    link_mail(
        &VERIFY_EMAIL,
        "verify-email",
        sender,
        to,
        username,
        token,
        lifetime,
    )
}

pub fn reset_password(
    sender: &Sender<'_>,
    to: &Email,
    username: &str,
    token: &str,
    lifetime: &str,
) -> Result<Message> {
    link_mail(
        &RESET_PASSWORD,
        "reset-password",
        sender,
        to,
        username,
        token,
        lifetime,
    )
}

/// A mail carrying the single-use link `{ui}/{path}?token=…`.
fn link_mail(
    template: &Template,
    path: &str,
    sender: &Sender<'_>,
    to: &Email,
    username: &str,
    token: &str,
    lifetime: &str,
) -> Result<Message> {
    let link = format!("{}/{path}?token={token}", sender.ui);
    compose(
        template,
        to,
        &[
            ("product", sender.product),
            ("username", username),
            ("email", to.as_str()),
            ("link", &link),
            ("lifetime", lifetime),
        ],
    )
}

/// An invitation bound to `to`: the link `{ui}/signup?invitation=…`.
pub fn invitation(sender: &Sender<'_>, to: &Email, token: &str, lifetime: &str) -> Result<Message> {
    let link = format!("{}/signup?invitation={token}", sender.ui);
    compose(
        &INVITATION,
        to,
        &[
            ("product", sender.product),
            ("email", to.as_str()),
            ("link", &link),
            ("lifetime", lifetime),
        ],
    )
}

/// "An access key was created for your account; if this wasn't you…"
pub fn access_key_created(
    sender: &Sender<'_>,
    to: &Email,
    username: &str,
    access_key: &str,
    when: &str,
    from: &str,
) -> Result<Message> {
    let account_link = format!("{}/account", sender.ui);
    let reset_link = format!("{}/reset-password", sender.ui);
    compose(
        &ACCESS_KEY_CREATED,
        to,
        &[
            ("product", sender.product),
            ("username", username),
            ("email", to.as_str()),
            ("access_key", access_key),
            ("when", when),
            ("from", from),
            ("account_link", &account_link),
            ("reset_link", &reset_link),
        ],
    )
}

/// "Someone tried to create an account with your address."
pub fn signup_existing(sender: &Sender<'_>, to: &Email, username: &str) -> Result<Message> {
    let login_link = format!("{}/login", sender.ui);
    let reset_link = format!("{}/forgot-password", sender.ui);
    compose(
        &SIGNUP_EXISTING,
        to,
        &[
            ("product", sender.product),
            ("username", username),
            ("email", to.as_str()),
            ("login_link", &login_link),
            ("reset_link", &reset_link),
        ],
    )
}

/// How the password was replaced, for the notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordChange {
    Reset,
    Changed,
}

pub fn password_changed(
    sender: &Sender<'_>,
    to: &Email,
    username: &str,
    how: PasswordChange,
    when: &str,
) -> Result<Message> {
    let reset_link = format!("{}/reset-password", sender.ui);
    let (how, ended) = match how {
        PasswordChange::Reset => (
            "reset",
            "Every session of the account was signed out, and every access key of it deleted.",
        ),
        PasswordChange::Changed => ("changed", "Every session of the account was signed out."),
    };
    compose(
        &PASSWORD_CHANGED,
        to,
        &[
            ("product", sender.product),
            ("username", username),
            ("email", to.as_str()),
            ("how", how),
            ("ended", ended),
            ("when", when),
            ("reset_link", &reset_link),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender() -> Sender<'static> {
        Sender {
            product: "Acme <ID>",
            ui: "https://ui.example",
        }
    }

    #[test]
    fn lifetimes_read_as_a_person_would_say_them() {
        use std::time::Duration;
        assert_eq!(lifetime(Duration::from_secs(86_400)), "24 hours");
        assert_eq!(lifetime(Duration::from_secs(3_600)), "1 hour");
        assert_eq!(lifetime(Duration::from_secs(1_800)), "30 minutes");
        assert_eq!(lifetime(Duration::from_secs(90)), "90 seconds");
    }

    #[test]
    fn verification_mail_has_both_parts_the_link_and_the_product() {
        let to = Email::parse("Ada@Example.com").unwrap();
        let m = verify_email(&sender(), &to, "ada", "TOKEN43", "24 hours").unwrap();
        assert_eq!(m.to, "Ada@Example.com");
        assert_eq!(m.subject, "Verify your email address for Acme <ID>");
        assert!(
            m.text
                .contains("https://ui.example/verify-email?token=TOKEN43")
        );
        assert!(m.text.starts_with("Hello ada,"));
        assert!(
            m.html
                .contains("href=\"https://ui.example/verify-email?token=TOKEN43\"")
        );
        assert!(
            m.html.contains("Acme &lt;ID&gt;"),
            "values are escaped in HTML"
        );
        assert!(
            !m.text.contains("{{") && !m.html.contains("{{"),
            "every value is filled"
        );
    }

    #[test]
    fn reset_and_notice_mails_fill_every_value() {
        let to = Email::parse("ada@example.com").unwrap();
        for m in [
            reset_password(&sender(), &to, "ada", "T", "1 hour").unwrap(),
            password_changed(
                &sender(),
                &to,
                "ada",
                PasswordChange::Reset,
                "2026-11-25T12:00:00Z",
            )
            .unwrap(),
            password_changed(
                &sender(),
                &to,
                "ada",
                PasswordChange::Changed,
                "2026-11-25T12:00:00Z",
            )
            .unwrap(),
        ] {
            assert!(
                !m.text.contains("{{") && !m.html.contains("{{"),
                "{}",
                m.subject
            );
            assert!(!m.subject.is_empty());
        }
        let notice =
            password_changed(&sender(), &to, "ada", PasswordChange::Changed, "then").unwrap();
        assert!(notice.text.contains("If this wasn't you"));
        assert!(notice.text.contains("https://ui.example/reset-password"));
    }
}
