//! Tokens: opaque random tokens stored as digests, RS256 signing keys, access-token JWTs and JWKS.

use std::fmt;

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
    /// Set once the key no longer signs; it stays in the JWKS until its tokens have expired.
    pub retired_at: Option<UnixTime>,
}

impl fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

impl SigningKeyRecord {
    /// Generates a new RSA key (on a blocking thread: it takes a while).
    pub async fn generate(now: UnixTime) -> Result<SigningKeyRecord> {
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
                retired_at: None,
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

/// The claims of an access token (API.md, "Access tokens").
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

/// The keys in use: one that signs, and every key whose tokens may still be presented.
pub struct Keyring {
    signing_kid: String,
    encoding: EncodingKey,
    verifying: Vec<VerifyingKey>,
}

impl Keyring {
    /// Builds the keyring from the store's records: the newest unretired key signs.
    pub fn from_records(records: &[SigningKeyRecord]) -> Result<Keyring> {
        let signing = records
            .iter()
            .filter(|r| r.retired_at.is_none())
            .max_by_key(|r| (r.created_at, r.kid.clone()))
            .ok_or_else(|| Error::internal("no active signing key"))?;
        let mut verifying = Vec::with_capacity(records.len());
        for record in records {
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
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.signing_kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map(Secret::new)
            .map_err(|e| Error::internal(format!("signing access token: {e}")))
    }

    /// The claims of a token this issuer signed for this audience that is valid at `now`.
    pub fn verify(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
        now: UnixTime,
    ) -> Option<AccessClaims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 {
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
        let record = SigningKeyRecord::generate(UnixTime(1_000)).await.unwrap();
        let keyring = Keyring::from_records(std::slice::from_ref(&record)).unwrap();
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
        let a = Keyring::from_records(&[SigningKeyRecord::generate(UnixTime(0)).await.unwrap()])
            .unwrap();
        let b = Keyring::from_records(&[SigningKeyRecord::generate(UnixTime(0)).await.unwrap()])
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
}
