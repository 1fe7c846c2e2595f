//! argon2id password hashing, always off the async runtime (`spawn_blocking`), with the cost
//! from config and a bounded number of hashes at once so a burst of logins can't exhaust memory.
//! Hashes other systems made (`formats`) verify too, and are due for a rehash when they match.

pub mod formats;

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use tokio::sync::Semaphore;

use crate::config::Argon2Cost;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// What checking a password found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Check {
    pub matched: bool,
    /// The password matched a hash that should be replaced (`PasswordHasher::check`).
    pub rehash: bool,
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A well-formed hash of nothing anyone knows, with the configured cost: verifying against it
    /// takes as long as verifying a real account's password.
    dummy: Arc<str>,
    permits: Arc<Semaphore>,
}

impl PasswordHasher {
    pub fn new(cost: Argon2Cost) -> Result<PasswordHasher> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| Error::internal(format!("argon2 parameters: {e}")))?;
        let dummy = dummy_hash(&params)?;
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(PasswordHasher {
            params,
            dummy: dummy.into(),
            permits: Arc::new(Semaphore::new(parallel * 2)),
        })
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    pub async fn hash(&self, password: &Secret) -> Result<String> {
        let password = password.clone();
        let params = self.params.clone();
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            PasswordHasher::argon2(params)
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::internal(format!("argon2 hash: {e}")))
        })
        .await
    }

    /// Checks `password` against `hash`, or against the dummy hash when there is no account (or no
    /// password on it), so the time taken does not tell which identifiers exist.
    pub async fn verify(&self, password: &Secret, hash: Option<&str>) -> Result<bool> {
        Ok(self.check(password, hash).await?.matched)
    }

    /// Like `verify`, and says whether a matching hash should be replaced by one made now: it is
    /// another system's format, argon2i, or argon2id below the configured memory or passes.
    pub async fn check(&self, password: &Secret, hash: Option<&str>) -> Result<Check> {
        let real = hash.is_some();
        let hash: Arc<str> = hash.map_or_else(|| self.dummy.clone(), Arc::from);
        let password = password.clone();
        let params = self.params.clone();
        let check = self
            .run(move || {
                // Every stored hash, Portcullis' own too, is read within the work-factor caps.
                let stored = formats::StoredHash::parse(&hash)
                    .map_err(|e| Error::internal(format!("stored hash unreadable: {e}")))?;
                let matched = stored.verify(password.expose());
                // Portcullis' own form stays unless its cost is below the configured one; any
                // other form is replaced.
                let current = hash.starts_with("$argon2id$")
                    && PasswordHash::new(&hash)
                        .ok()
                        .and_then(|parsed| Params::try_from(&parsed).ok())
                        .is_some_and(|stored| {
                            stored.m_cost() >= params.m_cost() && stored.t_cost() >= params.t_cost()
                        });
                Ok(Check {
                    matched,
                    rehash: matched && !current,
                })
            })
            .await?;
        Ok(Check {
            matched: real && check.matched,
            rehash: real && check.rehash,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::internal(format!("hash permits closed: {e}")))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::internal(format!("hash task failed: {e}")))?
    }
}

fn dummy_hash(params: &Params) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut output = [0u8; 32];
    rand::RngCore::fill_bytes(&mut OsRng, &mut output);
    let output = argon2::password_hash::Output::new(&output)
        .map_err(|e| Error::internal(format!("dummy hash: {e}")))?;
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: params
            .try_into()
            .map_err(|e| Error::internal(format!("dummy hash params: {e}")))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(Argon2Cost {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() {
        let hasher = hasher();
        let hash = hasher.hash(&Secret::new("s3cret-Pass!")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(
            hasher
                .verify(&Secret::new("s3cret-Pass!"), Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(&Secret::new("s3cret-Pass?"), Some(&hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn no_account_never_verifies_but_does_the_work() {
        let hasher = hasher();
        assert!(hasher.dummy.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(!hasher.verify(&Secret::new("anything"), None).await.unwrap());
    }

    #[tokio::test]
    async fn a_corrupt_stored_hash_is_an_internal_error() {
        let err = hasher()
            .verify(&Secret::new("x"), Some("not a hash"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Internal(_)));
    }
}
