//! Tokens: opaque random tokens stored as digests, RS256 signing keys, access-token JWTs and JWKS.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore as _;
use rand::rngs::OsRng;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
use rsa::traits::PublicKeyParts as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::UnixTime;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// RSA modulus size of signing keys.
const RSA_BITS: usize = 2048;

/// A fresh single-use token (32 random bytes, base64url, 43 characters) and the digest that is
/// all the store ever keeps of it.
pub struct OpaqueToken {
    pub token: Secret,
    pub digest: String,
}

impl OpaqueToken {
    pub fn generate() -> OpaqueToken {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let digest = digest(&token);
        OpaqueToken {
            token: Secret::new(token),
            digest,
        }
    }
}

/// 32 random bytes, base64url: a session's rotation secret.
pub fn random_secret() -> Secret {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    Secret::new(URL_SAFE_NO_PAD.encode(bytes))
}

/// The refresh token that follows `current` in a session: HMAC-SHA256 of it under the session's
/// rotation secret. Knowing the secret without the current token (a copy of the store holds only
/// digests) gives nothing; two retries of one refresh get the same next token.
pub fn next_refresh_token(rotation_secret: &Secret, current: &Secret) -> Result<OpaqueToken> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<Sha256>::new_from_slice(rotation_secret.expose().as_bytes())
        .map_err(|e| Error::internal(format!("rotation key: {e}")))?;
    mac.update(b"portcullis refresh rotation\0");
    mac.update(current.expose().as_bytes());
    let token = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    Ok(OpaqueToken {
        digest: digest(&token),
        token: Secret::new(token),
    })
}

/// SHA-256 of a token, hex: how tokens are looked up.
pub fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A signing key as the store keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// PKCS#1 DER of the RSA private key.
    pub private_der: Vec<u8>,
    pub created_at: UnixTime,
    /// When the key starts signing. Until then it is only published in the JWKS, so verifiers
    /// that cache the JWKS know it before they meet a token it signed.
    pub activates_at: UnixTime,
}

impl fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("activates_at", &self.activates_at)
            .finish_non_exhaustive()
    }
}

impl SigningKeyRecord {
    /// Generates a new RSA key (on a blocking thread: it takes a while) that signs from
    /// `activates_at`.
    pub async fn generate(now: UnixTime, activates_at: UnixTime) -> Result<SigningKeyRecord> {
        tokio::task::spawn_blocking(move || {
            let key = rsa::RsaPrivateKey::new(&mut OsRng, RSA_BITS)
                .map_err(|e| Error::internal(format!("RSA key generation: {e}")))?;
            let der = key
                .to_pkcs1_der()
                .map_err(|e| Error::internal(format!("RSA key encoding: {e}")))?;
            let public = PublicJwk::of(&key);
            Ok(SigningKeyRecord {
                kid: public.thumbprint(),
                private_der: der.as_bytes().to_vec(),
                created_at: now,
                activates_at,
            })
        })
        .await
        .map_err(|e| Error::internal(format!("key generation task: {e}")))?
    }
}

/// The public half of a key, as JWKS shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct PublicJwk {
    kty: &'static str,
    #[serde(rename = "use")]
    use_: &'static str,
    alg: &'static str,
    kid: String,
    n: String,
    e: String,
}

impl PublicJwk {
    fn of(key: &rsa::RsaPrivateKey) -> PublicJwk {
        PublicJwk {
            kty: "RSA",
            use_: "sig",
            alg: "RS256",
            kid: String::new(),
            n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        }
    }

    /// RFC 7638 thumbprint: the key id, stable for the key and for nothing else.
    fn thumbprint(&self) -> String {
        let canonical = format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, self.e, self.n);
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }
}

struct VerifyingKey {
    jwk: PublicJwk,
    decoding: DecodingKey,
}

/// The claims of an access token (docs/api.md, "Tokens").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub sid: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    pub email: String,
    pub username: String,
    pub roles: Vec<String>,
    pub email_verified: bool,
}

/// The claims of an access token the OpenID provider gives a client (RFC 9068's profile, `typ`
/// `at+jwt`): accepted at the UserInfo endpoint only, never by the `/v1` API, whose audience it
/// does not name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAccessClaims {
    pub iss: String,
    pub sub: String,
    /// The client's id.
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub sid: String,
    pub auth_time: i64,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

/// The claims of an ID token (OpenID Connect Core 2, and 5.1 for the scope claims).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    pub sid: String,
    #[serde(flatten)]
    pub scoped: ScopedClaims,
}

/// What the `email` and `profile` scopes add to an ID token and to UserInfo.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopedClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
}

/// The `typ` header of a client's access token.
const CLIENT_ACCESS_TYP: &str = "at+jwt";

/// The claims of a device token: proof that a client has signed in to account `sub` before, so
/// that its failed logins count apart from everyone else's (`login::Counter`). It opens nothing:
/// no route takes it as a credential, and its `typ` and audience keep it from passing for one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    /// The device's id: its failures count under it.
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// The `typ` header and audience of a device token.
const DEVICE_TYP: &str = "device+jwt";
pub const DEVICE_AUDIENCE: &str = "portcullis-device";

/// How long keys stay around once they stop signing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyWindows {
    /// Tokens signed just before a key stopped signing live this long.
    pub access_token_ttl: Duration,
    /// Instances may go on signing with a key this long after the next one activates, until
    /// they reload their keys.
    pub reload: Duration,
}

/// Allowance for clocks that disagree a little.
const CLOCK_SKEW: Duration = Duration::from_secs(60);

impl KeyWindows {
    /// How long a key stays in the JWKS after the next key activates.
    pub fn retention(&self) -> Duration {
        self.access_token_ttl + self.reload + CLOCK_SKEW
    }
}

/// Where a key is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Published in the JWKS, signs from then.
    Pending {
        activates_at: UnixTime,
    },
    Signing,
    /// No longer signs; still in the JWKS for the tokens it signed, until then.
    Verifying {
        until: UnixTime,
    },
    /// Out of the JWKS: nothing it signed can still be valid.
    Expired,
}

/// The state of every key at `now`, in activation order. The newest key whose activation has come
/// signs; each key before it verifies until the one after it has been active for the retention.
pub fn key_states(
    records: &[SigningKeyRecord],
    now: UnixTime,
    windows: KeyWindows,
) -> Vec<(&SigningKeyRecord, KeyState)> {
    let mut sorted: Vec<&SigningKeyRecord> = records.iter().collect();
    sorted.sort_by(|a, b| (a.activates_at, &a.kid).cmp(&(b.activates_at, &b.kid)));
    let signing = sorted
        .iter()
        .rposition(|r| r.activates_at <= now)
        .unwrap_or(0);
    sorted
        .iter()
        .enumerate()
        .map(|(i, record)| {
            let state = if i == signing {
                KeyState::Signing
            } else if i > signing {
                KeyState::Pending {
                    activates_at: record.activates_at,
                }
            } else {
                let until = sorted[i + 1].activates_at.plus(windows.retention());
                if now < until {
                    KeyState::Verifying { until }
                } else {
                    KeyState::Expired
                }
            };
            (*record, state)
        })
        .collect()
}

/// The keys in use at one moment: one that signs, and every key whose tokens may be presented.
pub struct Keyring {
    signing_kid: String,
    encoding: EncodingKey,
    verifying: Vec<VerifyingKey>,
}

impl Keyring {
    /// The keyring at `now`: the signing key, and the pending and verifying ones beside it.
    pub fn from_records(
        records: &[SigningKeyRecord],
        now: UnixTime,
        windows: KeyWindows,
    ) -> Result<Keyring> {
        let states = key_states(records, now, windows);
        let signing = states
            .iter()
            .find(|(_, state)| *state == KeyState::Signing)
            .map(|(record, _)| *record)
            .ok_or_else(|| Error::internal("no signing key"))?;
        let mut verifying = Vec::with_capacity(states.len());
        for (record, state) in &states {
            if *state == KeyState::Expired {
                continue;
            }
            let key = rsa::RsaPrivateKey::from_pkcs1_der(&record.private_der).map_err(|e| {
                Error::internal(format!("signing key {} unreadable: {e}", record.kid))
            })?;
            let mut jwk = PublicJwk::of(&key);
            jwk.kid = record.kid.clone();
            let decoding = DecodingKey::from_rsa_components(&jwk.n, &jwk.e)
                .map_err(|e| Error::internal(format!("signing key {}: {e}", record.kid)))?;
            verifying.push(VerifyingKey { jwk, decoding });
        }
        Ok(Keyring {
            signing_kid: signing.kid.clone(),
            encoding: EncodingKey::from_rsa_der(&signing.private_der),
            verifying,
        })
    }

    pub fn signing_kid(&self) -> &str {
        &self.signing_kid
    }

    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<&PublicJwk> = self.verifying.iter().map(|k| &k.jwk).collect();
        serde_json::json!({ "keys": keys })
    }

    pub fn sign(&self, claims: &AccessClaims) -> Result<Secret> {
        self.sign_as(claims, "JWT")
    }

    /// Signs a client's access token (`typ` `at+jwt`).
    pub fn sign_client_access(&self, claims: &ClientAccessClaims) -> Result<Secret> {
        self.sign_as(claims, CLIENT_ACCESS_TYP)
    }

    pub fn sign_id_token(&self, claims: &IdClaims) -> Result<Secret> {
        self.sign_as(claims, "JWT")
    }

    /// Signs a device token (`typ` `device+jwt`).
    pub fn sign_device(&self, claims: &DeviceClaims) -> Result<Secret> {
        self.sign_as(claims, DEVICE_TYP)
    }

    /// The claims of a device token this issuer signed that is valid at `now`.
    pub fn verify_device(&self, token: &str, issuer: &str, now: UnixTime) -> Option<DeviceClaims> {
        let claims: DeviceClaims = self.decode(token, issuer, DEVICE_TYP)?;
        (claims.aud == DEVICE_AUDIENCE
            && claims.iat <= now.plus(CLOCK_SKEW).seconds()
            && now.seconds() < claims.exp)
            .then_some(claims)
    }

    fn sign_as(&self, claims: &impl Serialize, typ: &str) -> Result<Secret> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.signing_kid.clone());
        header.typ = Some(typ.to_owned());
        super::jwt_crypto::install();
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map(Secret::new)
            .map_err(|e| Error::internal(format!("signing a token: {e}")))
    }

    /// Decodes a token this issuer signed with one of its keys, of header type `typ`, checking
    /// the issuer; the audience and the times are left to the caller.
    fn decode<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        issuer: &str,
        typ: &str,
    ) -> Option<T> {
        super::jwt_crypto::install();
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 || header.typ.as_deref().unwrap_or("JWT") != typ {
            return None;
        }
        let kid = header.kid?;
        let key = self.verifying.iter().find(|k| k.jwk.kid == kid)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.validate_aud = false;
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<T>(token, &key.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }

    /// The claims of a client's access token that is valid at `now`.
    pub fn verify_client_access(
        &self,
        token: &str,
        issuer: &str,
        now: UnixTime,
    ) -> Option<ClientAccessClaims> {
        let claims: ClientAccessClaims = self.decode(token, issuer, CLIENT_ACCESS_TYP)?;
        (claims.aud == claims.client_id
            && claims.nbf <= now.seconds()
            && now.seconds() < claims.exp)
            .then_some(claims)
    }

    /// The claims of an ID token this issuer signed, expired or not: what RP-initiated logout's
    /// `id_token_hint` may be (OpenID Connect RP-Initiated Logout 1.0, 2).
    pub fn verify_id_token_hint(&self, token: &str, issuer: &str) -> Option<IdClaims> {
        self.decode(token, issuer, "JWT")
    }

    /// The claims of a token this issuer signed for this audience that is valid at `now`.
    pub fn verify(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
        now: UnixTime,
    ) -> Option<AccessClaims> {
        super::jwt_crypto::install();
        let header = jsonwebtoken::decode_header(token).ok()?;
        // Only the API's own access tokens: never a client's, a device's or anything else typed.
        if header.alg != Algorithm::RS256 || header.typ.as_deref().is_some_and(|t| t != "JWT") {
            return None;
        }
        let kid = header.kid?;
        let key = self.verifying.iter().find(|k| k.jwk.kid == kid)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        // Time is checked below against the injected clock, not the system's.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation)
            .ok()?
            .claims;
        (claims.nbf <= now.seconds() && now.seconds() < claims.exp).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOWS: KeyWindows = KeyWindows {
        access_token_ttl: Duration::from_secs(900),
        reload: Duration::from_secs(60),
    };

    fn record(kid: &str, activates_at: i64) -> SigningKeyRecord {
        SigningKeyRecord {
            kid: kid.into(),
            private_der: Vec::new(),
            created_at: UnixTime(0),
            activates_at: UnixTime(activates_at),
        }
    }

    #[test]
    fn keys_are_published_before_they_sign_and_kept_until_their_tokens_are_gone() {
        let records = [record("old", 0), record("new", 1_000)];
        let states = |now| {
            key_states(&records, UnixTime(now), WINDOWS)
                .into_iter()
                .map(|(r, s)| (r.kid.clone(), s))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            states(999),
            vec![
                ("old".into(), KeyState::Signing),
                (
                    "new".into(),
                    KeyState::Pending {
                        activates_at: UnixTime(1_000)
                    }
                )
            ]
        );
        let until = UnixTime(1_000 + 900 + 60 + 60);
        assert_eq!(
            states(1_000),
            vec![
                ("old".into(), KeyState::Verifying { until }),
                ("new".into(), KeyState::Signing)
            ]
        );
        assert_eq!(states(until.0)[0].1, KeyState::Expired);
    }

    #[test]
    fn the_next_refresh_token_depends_on_the_secret_and_the_current_token() {
        let secret = random_secret();
        let current = OpaqueToken::generate();
        let next = next_refresh_token(&secret, &current.token).unwrap();
        assert_eq!(next.token.expose().len(), 43);
        assert_eq!(
            next.digest,
            next_refresh_token(&secret, &current.token).unwrap().digest
        );
        assert_ne!(
            next.digest,
            next_refresh_token(&random_secret(), &current.token)
                .unwrap()
                .digest
        );
        let other = OpaqueToken::generate();
        assert_ne!(
            next.digest,
            next_refresh_token(&secret, &other.token).unwrap().digest
        );
        assert_ne!(next.digest, current.digest);
    }

    #[test]
    fn opaque_tokens_are_43_characters_and_stored_as_digests() {
        let a = OpaqueToken::generate();
        let b = OpaqueToken::generate();
        assert_eq!(a.token.expose().len(), 43);
        assert_ne!(a.token.expose(), b.token.expose());
        assert_eq!(a.digest, digest(a.token.expose()));
        assert_eq!(a.digest.len(), 64);
        assert!(!a.digest.contains(a.token.expose()));
    }

    fn claims(now: i64) -> AccessClaims {
        AccessClaims {
            iss: "http://issuer.test".into(),
            aud: "portcullis".into(),
            sub: "user-1".into(),
            sid: "session-1".into(),
            iat: now,
            nbf: now,
            exp: now + 900,
            jti: "jti-1".into(),
            email: "a@example.com".into(),
            username: "alice".into(),
            roles: vec!["user".into()],
            email_verified: true,
        }
    }

    #[tokio::test]
    async fn signs_and_verifies_with_the_clock() {
        let record = SigningKeyRecord::generate(UnixTime(1_000), UnixTime(1_000))
            .await
            .unwrap();
        let keyring =
            Keyring::from_records(std::slice::from_ref(&record), UnixTime(1_000), WINDOWS).unwrap();
        assert_eq!(keyring.signing_kid(), record.kid);
        let token = keyring.sign(&claims(1_000)).unwrap();
        let header = jsonwebtoken::decode_header(token.expose()).unwrap();
        assert_eq!(header.kid.as_deref(), Some(record.kid.as_str()));

        let verify = |at| {
            keyring.verify(
                token.expose(),
                "http://issuer.test",
                "portcullis",
                UnixTime(at),
            )
        };
        assert_eq!(verify(1_000), Some(claims(1_000)));
        assert_eq!(verify(1_899).map(|c| c.sub), Some("user-1".to_owned()));
        assert_eq!(verify(1_900), None, "expired");
        assert_eq!(verify(999), None, "not yet valid");
        assert_eq!(
            keyring.verify(
                token.expose(),
                "http://other",
                "portcullis",
                UnixTime(1_000)
            ),
            None
        );
        assert_eq!(
            keyring.verify(
                token.expose(),
                "http://issuer.test",
                "other",
                UnixTime(1_000)
            ),
            None
        );

        let mut tampered = token.expose().to_owned();
        tampered.replace_range(tampered.len() - 4.., "AAAA");
        assert_eq!(
            keyring.verify(
                &tampered,
                "http://issuer.test",
                "portcullis",
                UnixTime(1_000)
            ),
            None
        );

        let jwks = keyring.jwks();
        assert_eq!(jwks["keys"][0]["kid"], record.kid.as_str());
        assert_eq!(jwks["keys"][0]["alg"], "RS256");
        assert_eq!(jwks["keys"][0]["e"], "AQAB");
    }

    #[tokio::test]
    async fn a_token_signed_by_an_unknown_key_is_refused() {
        let a = Keyring::from_records(
            &[SigningKeyRecord::generate(UnixTime(0), UnixTime(0))
                .await
                .unwrap()],
            UnixTime(0),
            WINDOWS,
        )
        .unwrap();
        let b = Keyring::from_records(
            &[SigningKeyRecord::generate(UnixTime(0), UnixTime(0))
                .await
                .unwrap()],
            UnixTime(0),
            WINDOWS,
        )
        .unwrap();
        let token = a.sign(&claims(10)).unwrap();
        assert!(
            b.verify(
                token.expose(),
                "http://issuer.test",
                "portcullis",
                UnixTime(10)
            )
            .is_none()
        );
    }

    #[tokio::test]
    async fn a_device_token_is_never_an_access_token_and_the_reverse() {
        let keyring = Keyring::from_records(
            &[SigningKeyRecord::generate(UnixTime(0), UnixTime(0))
                .await
                .unwrap()],
            UnixTime(0),
            WINDOWS,
        )
        .unwrap();
        let issuer = "http://issuer.test";
        let device = DeviceClaims {
            iss: issuer.into(),
            aud: DEVICE_AUDIENCE.into(),
            sub: "user-1".into(),
            jti: "device-1".into(),
            iat: 10,
            exp: 1_000,
        };
        let token = keyring.sign_device(&device).unwrap();
        assert_eq!(
            keyring.verify_device(token.expose(), issuer, UnixTime(10)),
            Some(device.clone())
        );
        assert_eq!(
            keyring.verify_device(token.expose(), issuer, UnixTime(1_000)),
            None,
            "expired"
        );
        assert_eq!(
            keyring.verify_device(token.expose(), "http://other", UnixTime(10)),
            None
        );
        // Even with the API's audience, a device token opens nothing.
        let as_api = DeviceClaims {
            aud: "portcullis".into(),
            ..device
        };
        let forged = keyring.sign_device(&as_api).unwrap();
        assert!(
            keyring
                .verify(forged.expose(), issuer, "portcullis", UnixTime(10))
                .is_none()
        );
        assert!(
            keyring
                .verify_device(forged.expose(), issuer, UnixTime(10))
                .is_none()
        );
        let access = keyring.sign(&claims(10)).unwrap();
        assert!(
            keyring
                .verify_device(access.expose(), issuer, UnixTime(10))
                .is_none()
        );
    }
}
