//! Outgoing mail: an outbox folder of `.eml` files locally, SES v2 in the cloud, one trait.

use std::fmt;

use async_trait::async_trait;

use crate::error::{Error, Result};

/// One message with a plain-text and an HTML part. `Debug` shows neither the recipient in full
/// nor the bodies: they carry single-use links.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let masked = crate::email::Email::parse(&self.to)
            .map(|e| format!("{e:?}"))
            .unwrap_or_else(|_| "[invalid]".to_owned());
        f.debug_struct("Message")
            .field("to", &masked)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, message: &Message) -> Result<()>;
}

#[cfg(feature = "outbox")]
pub use outbox::{Outbox, rfc5322};

/// The outbox folder of the local server: built only where `serve` and the tests need it, so no
/// Lambda function carries a MIME builder.
#[cfg(feature = "outbox")]
mod outbox {
    use async_trait::async_trait;
    use std::path::PathBuf;

    use super::{Mailer, Message};
    use crate::error::{Error, Result};

    /// Writes each message as one RFC 5322 file in a folder, and logs the file's name.
    pub struct Outbox {
        dir: PathBuf,
        from: String,
        /// Orders messages written in the same millisecond.
        sequence: std::sync::atomic::AtomicU64,
    }

    impl Outbox {
        pub fn new(dir: impl Into<PathBuf>) -> Outbox {
            Outbox {
                dir: dir.into(),
                from: "Portcullis <noreply@localhost>".to_owned(),
                sequence: std::sync::atomic::AtomicU64::new(0),
            }
        }

        pub fn dir(&self) -> &std::path::Path {
            &self.dir
        }
    }

    /// The message in RFC 5322 form, multipart/alternative (text, then HTML).
    pub fn rfc5322(from: &str, message: &Message) -> Result<Vec<u8>> {
        use lettre::message::{Mailbox, MultiPart};
        let from: Mailbox = from
            .parse()
            .map_err(|e| Error::internal(format!("sender address: {e}")))?;
        let to: Mailbox = message
            .to
            .parse()
            .map_err(|e| Error::internal(format!("recipient address: {e}")))?;
        let built = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(message.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                message.html.clone(),
            ))
            .map_err(|e| Error::internal(format!("building the message: {e}")))?;
        Ok(built.formatted())
    }

    #[async_trait]
    impl Mailer for Outbox {
        async fn send(&self, message: &Message) -> Result<()> {
            let bytes = rfc5322(&self.from, message)?;
            tokio::fs::create_dir_all(&self.dir).await.map_err(|e| {
                Error::internal(format!("creating the outbox {}: {e}", self.dir.display()))
            })?;
            // Names sort in the order the messages were written.
            let name = format!(
                "{:013}-{:06}-{}.eml",
                crate::clock::SystemClock.now_millis(),
                self.sequence
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                uuid::Uuid::new_v4().simple()
            );
            let path = self.dir.join(name);
            tokio::fs::write(&path, bytes)
                .await
                .map_err(|e| Error::internal(format!("writing {}: {e}", path.display())))?;
            tracing::info!(file = %path.display(), subject = %message.subject, "mail written to the outbox");
            Ok(())
        }
    }
}

/// A mailer for functions that send no mail: sending is an error, and says why.
pub struct NoMailer;

#[async_trait]
impl Mailer for NoMailer {
    async fn send(&self, _message: &Message) -> Result<()> {
        Err(Error::internal(
            "no mailer is configured (PORTCULLIS_MAILER)",
        ))
    }
}

#[cfg(feature = "ses")]
pub use ses::Ses;

#[cfg(feature = "ses")]
mod ses {
    use async_trait::async_trait;
    use aws_sdk_sesv2::Client;
    use aws_sdk_sesv2::error::DisplayErrorContext;
    use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message as SesMessage};

    use super::{Mailer, Message};
    use crate::error::{Error, Result};

    /// Sends through Amazon SES v2, from a verified identity.
    pub struct Ses {
        client: Client,
        from: String,
        configuration_set: Option<String>,
    }

    impl Ses {
        pub fn new(
            client: Client,
            from: impl Into<String>,
            configuration_set: Option<String>,
        ) -> Ses {
            Ses {
                client,
                from: from.into(),
                configuration_set,
            }
        }

        /// A client from the environment's AWS configuration, at `endpoint` when given.
        pub async fn connect(
            from: &str,
            configuration_set: Option<String>,
            endpoint: Option<&str>,
        ) -> Ses {
            let sdk = crate::aws::sdk_config(endpoint).await;
            Ses::new(Client::new(&sdk), from, configuration_set)
        }
    }

    fn content(data: &str) -> Result<Content> {
        Content::builder()
            .data(data)
            .charset("UTF-8")
            .build()
            .map_err(Error::internal)
    }

    #[async_trait]
    impl Mailer for Ses {
        async fn send(&self, message: &Message) -> Result<()> {
            let body = Body::builder()
                .text(content(&message.text)?)
                .html(content(&message.html)?)
                .build();
            let email = EmailContent::builder()
                .simple(
                    SesMessage::builder()
                        .subject(content(&message.subject)?)
                        .body(body)
                        .build(),
                )
                .build();
            let sent = self
                .client
                .send_email()
                .from_email_address(&self.from)
                .destination(Destination::builder().to_addresses(&message.to).build())
                .content(email)
                .set_configuration_set_name(self.configuration_set.clone())
                .send()
                .await
                .map_err(|e| Error::internal(format!("SES: {}", DisplayErrorContext(&e))))?;
            tracing::info!(
                message_id = sent.message_id().unwrap_or("-"),
                "mail sent through SES"
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message {
            to: "ada@example.com".into(),
            subject: "Vérifiez votre adresse".into(),
            text: "Open https://ui.example/verify-email?token=SECRET".into(),
            html: "<p><a href=\"https://ui.example/verify-email?token=SECRET\">Verify</a></p>"
                .into(),
        }
    }

    #[test]
    fn debug_hides_the_bodies_and_masks_the_recipient() {
        let printed = format!("{:?}", message());
        assert!(!printed.contains("SECRET"));
        assert!(!printed.contains("ada@"));
        assert!(printed.contains("a***@example.com"));
    }

    #[tokio::test]
    async fn the_outbox_writes_one_rfc5322_file_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path().join("outbox"));
        outbox.send(&message()).await.unwrap();
        outbox.send(&message()).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(outbox.dir()).unwrap().collect();
        assert_eq!(files.len(), 2);
        let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        assert!(text.contains("To: ada@example.com"), "{text}");
        assert!(text.contains("multipart/alternative"));
        assert!(text.contains("text/plain"));
        assert!(text.contains("text/html"));
        assert!(
            text.contains("Subject: =?utf-8?"),
            "non-ASCII subjects are encoded: {text}"
        );
    }
}
