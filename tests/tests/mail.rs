//! The SES mailer against the emulator: what it sends is read back from the emulator.

use portcullis::mail::{Mailer, Message, Ses};
use portcullis_tests::{emulator, unique_email};

fn message(to: &str) -> Message {
    Message {
        to: to.to_owned(),
        subject: "Welcome to Portcullis".to_owned(),
        text: "Plain part: https://ui.example/verify-email?token=abc".to_owned(),
        html: "<p>HTML part: <a href=\"https://ui.example/verify-email?token=abc\">verify</a></p>"
            .to_owned(),
    }
}

#[tokio::test]
async fn ses_delivers_the_message_from_the_verified_sender() {
    let ses = emulator::verified_sender().await;
    let to = unique_email("ses");
    ses.send(&message(&to)).await.unwrap();
    let sent = emulator::sent_to(&to).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].source, emulator::SENDER);
    assert_eq!(sent[0].subject, "Welcome to Portcullis");
    assert!(
        sent[0]
            .body
            .contains("<a href=\"https://ui.example/verify-email?token=abc\">")
    );
}

#[tokio::test]
async fn ses_refuses_a_sender_that_is_not_verified() {
    let ses = Ses::new(emulator::ses(), "stranger@unverified.test", None);
    let to = unique_email("refused");
    let error = ses.send(&message(&to)).await.unwrap_err();
    assert!(matches!(error, portcullis::Error::Internal(_)), "{error:?}");
    assert!(emulator::sent_to(&to).await.is_empty());
}
