//! Property tests of the parsers that read what clients send (hardening, "Faults and fuzzing"):
//! emails, usernames, JSON bodies, tokens, cursors, durations and `return_to`. Whatever the input,
//! nothing panics and every refusal is a 4xx; what is accepted reads back the same.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use portcullis::clock::UnixTime;
use portcullis::config::{Config, Environment};
use portcullis::email::Email;
use portcullis::http::problem::problem;
use portcullis::json_body::JsonBody;
use portcullis::tokens::{DeviceClaims, KeyWindows, Keyring, SigningKeyRecord};
use portcullis::username::Username;
use portcullis::{Error, access_keys, admin, clients, login, one_time_token, signup, store};
use proptest::prelude::*;
use serde_json::Value;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A refusal a client caused: a 4xx, never a 5xx.
fn is_client_error(error: &Error) -> bool {
    problem(error).status.is_client_error()
}

/// Any JSON value, nested a few levels, with the field names the parsers read mixed in.
fn json() -> impl Strategy<Value = Value> {
    let names = prop_oneof![
        Just("identifier".to_owned()),
        Just("password".to_owned()),
        Just("email".to_owned()),
        Just("username".to_owned()),
        Just("accept_terms".to_owned()),
        Just("device_token".to_owned()),
        Just("current_password".to_owned()),
        Just("expires_in".to_owned()),
        Just("roles".to_owned()),
        Just("status".to_owned()),
        Just("redirect_uris".to_owned()),
        Just("name".to_owned()),
        Just("access_key".to_owned()),
        Just("secret_key".to_owned()),
        ".{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        "[a-z0-9._+-]{1,12}@[a-z0-9-]{1,10}\\.[a-z]{2,4}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(names.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Reads `bytes` with every request parser: each answers or refuses with a 4xx.
fn every_parser_answers(bytes: &[u8]) -> Result<(), TestCaseError> {
    type Parser = fn(JsonBody) -> Result<(), Error>;
    let parsers: [(&str, Parser); 7] = [
        ("login", |b| login::LoginRequest::from_json(b).map(drop)),
        ("signup", |b| signup::SignupRequest::from_json(b).map(drop)),
        ("access-key login", |b| {
            access_keys::KeyLogin::from_json(b).map(drop)
        }),
        ("user update", |b| admin::parse_update(b).map(drop)),
        ("invitation", |b| admin::parse_invitation(b).map(drop)),
        ("new client", |b| clients::parse_fields(b, true).map(drop)),
        ("client update", |b| {
            clients::parse_fields(b, false).map(drop)
        }),
    ];
    for (name, parse) in parsers {
        let outcome = JsonBody::from_slice(bytes).and_then(parse);
        if let Err(error) = outcome {
            prop_assert!(is_client_error(&error), "{name}: {error:?}");
        }
    }
    if let Err(error) = access_keys::NewKey::from_bytes(bytes) {
        prop_assert!(is_client_error(&error), "new key: {error:?}");
    }
    Ok(())
}

fn keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let record = runtime
            .block_on(SigningKeyRecord::generate(UnixTime(0), UnixTime(0)))
            .unwrap();
        let windows = KeyWindows {
            access_token_ttl: Duration::from_secs(900),
            reload: Duration::from_secs(60),
        };
        Keyring::from_records(&[record], UnixTime(0), windows).unwrap()
    })
}

const ISSUER: &str = "https://id.example.com";

proptest! {
    #![proptest_config(config())]

    #[test]
    fn an_email_parses_or_is_refused_and_reads_back_the_same(input in ".{0,80}") {
        if let Ok(email) = Email::parse(&input) {
            let again = Email::parse(email.as_str()).expect("an accepted address parses again");
            prop_assert_eq!(again.as_str(), email.as_str());
            prop_assert_eq!(again.key(), email.key());
            let stored = Email::from_stored(email.as_str().to_owned());
            prop_assert_eq!(stored.key(), email.key());
            prop_assert!(email.as_str().len() <= 254);
        }
    }

    #[test]
    fn addresses_differing_only_in_case_share_a_key(
        local in "[a-zA-Z0-9._+-]{1,20}",
        domain in "[a-zA-Z0-9-]{1,12}\\.[a-zA-Z]{2,6}",
    ) {
        let address = format!("{local}@{domain}");
        if let Ok(email) = Email::parse(&address) {
            let upper = Email::parse(&address.to_uppercase()).expect("the same address");
            prop_assert_eq!(upper.key(), email.key());
        }
    }

    #[test]
    fn a_username_parses_or_names_each_broken_rule(input in ".{0,60}") {
        match Username::parse(&input) {
            Ok(name) => {
                let again = Username::parse(name.as_str()).expect("an accepted name parses again");
                prop_assert_eq!(again.key(), name.key());
                prop_assert_eq!(name.key(), name.as_str().to_ascii_lowercase());
            }
            Err(problems) => prop_assert!(!problems.is_empty()),
        }
    }

    #[test]
    fn any_json_body_is_answered_or_refused_with_a_4xx(body in json()) {
        every_parser_answers(&serde_json::to_vec(&body).unwrap())?;
    }

    #[test]
    fn any_bytes_are_answered_or_refused_with_a_4xx(
        bytes in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        every_parser_answers(&bytes)?;
    }

    #[test]
    fn a_cursor_round_trips_and_anything_else_is_a_400(
        // What the stores put in cursors: keys with strings and whole numbers.
        value in prop::collection::btree_map(
            ".{0,12}",
            prop_oneof![any::<i64>().prop_map(Value::from), ".{0,40}".prop_map(Value::from)],
            0..4,
        ).prop_map(|m| Value::Object(m.into_iter().collect())),
        junk in ".{0,60}",
    ) {
        let cursor = store::encode_cursor(&value);
        prop_assert_eq!(store::decode_cursor(&cursor).unwrap(), value);
        if let Err(error) = store::decode_cursor(&junk) {
            prop_assert!(is_client_error(&error));
        }
    }

    #[test]
    fn only_token_shaped_strings_are_looked_up(input in ".{0,60}", token in "[A-Za-z0-9_-]{43}") {
        prop_assert_eq!(
            one_time_token::parse(&token).unwrap(),
            portcullis::tokens::digest(&token)
        );
        if let Err(error) = one_time_token::parse(&input) {
            prop_assert!(is_client_error(&error));
        }
    }

    #[test]
    fn signed_tokens_verify_only_unaltered(
        garbage in ".{0,200}",
        position in any::<prop::sample::Index>(),
        replacement in "[A-Za-z0-9_.-]",
    ) {
        let keys = keyring();
        prop_assert!(keys.verify(&garbage, ISSUER, "portcullis", UnixTime(10)).is_none());
        prop_assert!(keys.verify_device(&garbage, ISSUER, UnixTime(10)).is_none());
        let claims = DeviceClaims {
            iss: ISSUER.into(),
            aud: portcullis::tokens::DEVICE_AUDIENCE.into(),
            sub: "user-1".into(),
            jti: "device-1".into(),
            iat: 0,
            exp: 1_000,
        };
        let token = keys.sign_device(&claims).unwrap().expose().to_owned();
        prop_assert_eq!(keys.verify_device(&token, ISSUER, UnixTime(10)), Some(claims));
        let at = position.index(token.len());
        let mut altered = token.clone();
        altered.replace_range(at..=at, &replacement);
        if altered != token {
            // A changed character of the header, payload or signature. (The last character
            // of the signature carries spare bits; changing only those leaves the bytes.)
            let same_bytes = at == token.len() - 1;
            if !same_bytes {
                prop_assert!(keys.verify_device(&altered, ISSUER, UnixTime(10)).is_none());
            }
        }
    }

    #[test]
    fn a_duration_setting_reads_back_or_names_its_variable(
        seconds in 1u64..10_000_000_000,
        junk in ".{0,20}",
    ) {
        let read = |value: String| {
            Config::from_vars([("PORTCULLIS_LOCKOUT_DURATION", value)], Environment::Local)
        };
        let written = humantime::format_duration(Duration::from_secs(seconds)).to_string();
        prop_assert_eq!(
            read(written).unwrap().login.lockout.duration,
            Duration::from_secs(seconds)
        );
        if let Err(error) = read(junk) {
            prop_assert!(error.to_string().contains("PORTCULLIS_LOCKOUT_DURATION"), "{}", error);
        }
    }

    #[test]
    fn any_instant_has_an_rfc3339_form(seconds in any::<i64>()) {
        let text = UnixTime(seconds).rfc3339();
        let parsed = humantime::parse_rfc3339(&text).expect("RFC 3339");
        let back = parsed.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        // Before the epoch reads as the epoch, past year 9999 as its last second.
        prop_assert_eq!(i64::try_from(back).unwrap(), seconds.clamp(0, 253_402_300_799));
    }
}

/// `return_to`: only URLs under the UI's origin and path come back, unchanged; anything else is a
/// 400 naming the field.
#[test]
fn return_to_is_the_uis_or_refused() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = runtime.block_on(portcullis_tests::function::app(dir.path()));
    let context = portcullis::oauth::Context::new(Arc::clone(&app));
    let ui = portcullis_tests::function::PUBLIC_URL;
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(&(".{0,80}", "[a-zA-Z0-9/_.~-]{0,40}"), |(input, path)| {
            match portcullis::oauth::allowed_return_to(&context, Some(&input)) {
                Ok(url) => {
                    let parsed = url::Url::parse(&url).unwrap();
                    prop_assert_eq!(parsed.origin().ascii_serialization(), ui);
                    prop_assert!(parsed.fragment().is_none() && parsed.username().is_empty());
                }
                Err(error) => {
                    prop_assert!(is_client_error(&error));
                    let named = matches!(
                        &error,
                        Error::InvalidRequest { errors, .. } if errors.get("return_to").is_some()
                    );
                    prop_assert!(named, "{:?}", error);
                }
            }
            let own = format!("{ui}/{path}");
            let accepted = portcullis::oauth::allowed_return_to(&context, Some(&own));
            prop_assert!(accepted.is_ok(), "{own}: {accepted:?}");
            prop_assert_eq!(
                url::Url::parse(&accepted.unwrap()).unwrap(),
                url::Url::parse(&own).unwrap()
            );
            Ok(())
        })
        .unwrap();
}
