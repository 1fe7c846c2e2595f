//! The cryptography under `jsonwebtoken`: RS256, the one algorithm Portcullis signs and accepts,
//! on ring (already in every function, under rustls), installed as jsonwebtoken's process-wide
//! `CryptoProvider`.
//!
//! jsonwebtoken's own RustCrypto backend parses the private key's DER at every signature and signs
//! with the `rsa` crate; a profile of refreshes showed most of their CPU there. Here a key is
//! parsed once (ring's `RsaKeyPair`, kept while it is among the few most recently used) and ring
//! does the arithmetic. Any other algorithm is refused.

use std::sync::{Arc, Mutex, Once};

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::jwk::ThumbprintHash;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair, RsaPublicKeyComponents,
};

/// Installs the provider; every use of jsonwebtoken calls this first. Installing twice (or after
/// another provider, in tests) leaves the first one in place.
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = PROVIDER.install_default();
    });
}

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: public_components,
        rsa_pub_components_from_public_key: |_| Err(ErrorKind::InvalidAlgorithm.into()),
        ec_pub_components_from_private_key: |_, _| Err(ErrorKind::InvalidAlgorithm.into()),
        ed_pub_components_from_private_key: |_, _| Err(ErrorKind::InvalidAlgorithm.into()),
        compute_digest,
    },
};

/// How many parsed signing keys are kept: the signing key and a rotation's next one, with room.
const KEPT: usize = 4;

/// Parsed key pairs by the DER they came from, most recently used last.
static PARSED: Mutex<Vec<(Vec<u8>, Arc<RsaKeyPair>)>> = Mutex::new(Vec::new());

fn key_pair(der: &[u8]) -> Result<Arc<RsaKeyPair>, Error> {
    let mut parsed = PARSED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(at) = parsed.iter().position(|(bytes, _)| bytes == der) {
        let entry = parsed.remove(at);
        let pair = entry.1.clone();
        parsed.push(entry);
        return Ok(pair);
    }
    let pair =
        Arc::new(RsaKeyPair::from_der(der).map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()))?);
    if parsed.len() == KEPT {
        parsed.remove(0);
    }
    parsed.push((der.to_vec(), pair.clone()));
    Ok(pair)
}

struct Rs256Signer(Arc<RsaKeyPair>);

impl signature::Signer<Vec<u8>> for Rs256Signer {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut signature = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| signature::Error::new())?;
        Ok(signature)
    }
}

impl JwtSigner for Rs256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

struct Rs256Verifier {
    n: Vec<u8>,
    e: Vec<u8>,
}

impl signature::Verifier<Vec<u8>> for Rs256Verifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        RsaPublicKeyComponents {
            n: &self.n,
            e: &self.e,
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
        .map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for Rs256Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    if *algorithm != Algorithm::RS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(Box::new(Rs256Signer(key_pair(key.as_bytes())?)))
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    if *algorithm != Algorithm::RS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    match key.kind() {
        jsonwebtoken::DecodingKeyKind::RsaModulusExponent { n, e } => Ok(Box::new(Rs256Verifier {
            n: n.clone(),
            e: e.clone(),
        })),
        jsonwebtoken::DecodingKeyKind::SecretOrDer(_) => Err(ErrorKind::InvalidKeyFormat.into()),
    }
}

fn public_components(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let pair = key_pair(der)?;
    let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
    Ok((public.n, public.e))
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>, Error> {
    use sha2::Digest as _;
    Ok(match hash {
        ThumbprintHash::SHA256 => sha2::Sha256::digest(data).to_vec(),
        ThumbprintHash::SHA384 => sha2::Sha384::digest(data).to_vec(),
        ThumbprintHash::SHA512 => sha2::Sha512::digest(data).to_vec(),
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Header, Validation};
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::traits::PublicKeyParts as _;

    fn keys() -> (EncodingKey, DecodingKey) {
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
        let der = private.to_pkcs1_der().unwrap();
        let public = private.to_public_key();
        (
            EncodingKey::from_rsa_der(der.as_bytes()),
            DecodingKey::from_rsa_raw_components(
                &public.n().to_bytes_be(),
                &public.e().to_bytes_be(),
            ),
        )
    }

    #[test]
    fn rs256_signs_and_verifies_and_nothing_else_passes() {
        install();
        let (encoding, decoding) = keys();
        let claims = serde_json::json!({"sub": "ada", "exp": 4_000_000_000u64});
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &encoding).unwrap();
        let decoded = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &decoding,
            &Validation::new(Algorithm::RS256),
        )
        .unwrap();
        assert_eq!(decoded.claims["sub"], "ada");

        // One changed byte of the payload, or another key, and it no longer verifies.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let swap = if parts[1].starts_with('e') { "f" } else { "e" };
        parts[1].replace_range(0..1, swap);
        let tampered = parts.join(".");
        let validation = Validation::new(Algorithm::RS256);
        assert!(
            jsonwebtoken::decode::<serde_json::Value>(&tampered, &decoding, &validation).is_err()
        );
        let (_, other) = keys();
        assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &other, &validation).is_err());

        // HMAC with the public key as its secret (the algorithm-confusion attack) is refused.
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"secret"),
        );
        assert!(hs.is_err(), "only RS256 is signed");
    }

    #[test]
    fn parsed_keys_are_kept_up_to_a_few() {
        let ders: Vec<Vec<u8>> = (0..KEPT + 2)
            .map(|_| {
                rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
                    .unwrap()
                    .to_pkcs1_der()
                    .unwrap()
                    .as_bytes()
                    .to_vec()
            })
            .collect();
        for der in &ders {
            let first = key_pair(der).unwrap();
            let again = key_pair(der).unwrap();
            assert!(Arc::ptr_eq(&first, &again), "a key is parsed once");
        }
        assert!(PARSED.lock().unwrap().len() <= KEPT);
        assert!(key_pair(b"not a key").is_err());
    }
}
