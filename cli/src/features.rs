//! What this build of `portcullis` can reach: the AWS clients (DynamoDB and SES) come with the
//! `aws` feature only, so the local server's first build skips the AWS SDK.

use portcullis::config::{Config, MailerLocation, StoreLocation};

/// Whether this binary was built with the AWS clients.
pub const WITH_AWS: bool = cfg!(feature = "aws");

/// How to get a binary that has them.
pub const HOW_TO_ADD_AWS: &str = "build portcullis with the AWS clients: \
`cargo install --path cli --locked --features aws`, or `cargo run -p portcullis-cli \
--features aws -- <command>`";

/// What the configuration names that a build without the AWS clients can't reach, in words with
/// what to do; `None` when nothing is missing.
pub fn aws_missing(config: &Config, built_with_aws: bool) -> Option<String> {
    if built_with_aws {
        return None;
    }
    let mut needs = Vec::new();
    if let StoreLocation::DynamoDb { table } = &config.store.location {
        needs.push(format!("PORTCULLIS_STORE=dynamodb://{table}"));
    }
    if let Some(MailerLocation::Ses { from }) = &config.mail.mailer {
        needs.push(format!("PORTCULLIS_MAILER=ses://{from}"));
    }
    (!needs.is_empty()).then(|| {
        format!(
            "{} needs the AWS clients, and this portcullis was built without them. Either unset \
             it (SQLite and the outbox folder are the local defaults), or {HOW_TO_ADD_AWS}",
            needs.join(" and ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis::config::Environment;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_vars(
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())),
            Environment::Local,
        )
        .unwrap()
    }

    #[test]
    fn the_local_defaults_need_nothing_more() {
        assert_eq!(aws_missing(&config(&[]), false), None);
    }

    #[test]
    fn a_cloud_store_or_mailer_without_the_aws_clients_says_what_to_do() {
        let cloud = config(&[
            ("PORTCULLIS_STORE", "dynamodb://accounts"),
            ("PORTCULLIS_MAILER", "ses://auth@example.com"),
        ]);
        let message = aws_missing(&cloud, false).expect("both need the AWS clients");
        assert!(message.starts_with(
            "PORTCULLIS_STORE=dynamodb://accounts and PORTCULLIS_MAILER=ses://auth@example.com \
             needs the AWS clients"
        ));
        assert!(message.contains("--features aws"), "{message}");
        assert_eq!(aws_missing(&cloud, true), None);
        let mail_only = config(&[("PORTCULLIS_MAILER", "ses://auth@example.com")]);
        assert!(aws_missing(&mail_only, false).is_some());
    }
}
