//! argon2id password hashing, always off the async runtime (`spawn_blocking`), with the cost
//! from config and as many hashes at once as there are cores, so a burst of logins neither
//! exhausts memory nor makes every hash wait on the others. Each hash works in a block of memory
//! (19 MiB at the default cost) taken from a pool and put back, rather than mapped and zeroed
//! afresh: the pool holds at most one block per hash that may run at once.
//! Hashes other systems made (`formats`) verify too, and are due for a rehash when they match.

pub mod formats;

use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
    /// Work memory of finished hashes, for the next ones: at most `parallel` blocks, none larger
    /// than the configured cost needs.
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
    parallel: usize,
}

impl PasswordHasher {
    pub fn new(cost: Argon2Cost) -> Result<PasswordHasher> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| Error::internal(format!("argon2 parameters: {e}")))?;
        let dummy = dummy_hash(&params)?;
        // One hash per core: more at once would only share the cores and hold more memory.
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(PasswordHasher {
            params,
            dummy: dummy.into(),
            permits: Arc::new(Semaphore::new(parallel)),
            memory: Arc::new(Mutex::new(Vec::with_capacity(parallel))),
            parallel,
        })
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    pub async fn hash(&self, password: &Secret) -> Result<String> {
        let password = password.clone();
        let params = self.params.clone();
        self.run(move |memory| {
            let salt = SaltString::generate(&mut OsRng);
            let mut salt_bytes = [0u8; 64];
            let salt_bytes = salt
                .decode_b64(&mut salt_bytes)
                .map_err(|e| Error::internal(format!("argon2 salt: {e}")))?;
            let argon2 = PasswordHasher::argon2(params.clone());
            let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
                argon2_into(
                    &argon2,
                    password.expose().as_bytes(),
                    salt_bytes,
                    out,
                    memory,
                )
                .map_err(|_| argon2::password_hash::Error::Crypto)
            })
            .map_err(|e| Error::internal(format!("argon2 hash: {e}")))?;
            let hash = PasswordHash {
                algorithm: argon2::ARGON2ID_IDENT,
                version: Some(Version::V0x13.into()),
                params: (&params)
                    .try_into()
                    .map_err(|e| Error::internal(format!("argon2 params: {e}")))?,
                salt: Some(salt.as_salt()),
                hash: Some(output),
            };
            Ok(hash.to_string())
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
            .run(move |memory| {
                // Every stored hash, Portcullis' own too, is read within the work-factor caps.
                let stored = formats::StoredHash::parse(&hash)
                    .map_err(|e| Error::internal(format!("stored hash unreadable: {e}")))?;
                let matched = stored.verify(password.expose(), memory);
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

    /// Runs `work` on a blocking thread once a permit is free, with a block of work memory from
    /// the pool (empty when none is there yet), put back afterwards. The permit goes with the
    /// work, so a caller that gives up (a client gone) does not free it while the hash still
    /// runs; a block larger than the configured cost needs (a stronger imported hash) is not
    /// kept.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::internal(format!("hash permits closed: {e}")))?;
        let pool = self.memory.clone();
        let (keep, usual) = (self.parallel, self.params.block_count());
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut memory = pool.lock().map_or_else(
                |_| Vec::new(),
                |mut blocks| blocks.pop().unwrap_or_default(),
            );
            let result = work(&mut memory);
            if memory.len() <= usual
                && let Ok(mut blocks) = pool.lock()
                && blocks.len() < keep
            {
                blocks.push(memory);
            }
            result
        })
        .await
        .map_err(|e| Error::internal(format!("hash task failed: {e}")))?
    }
}

/// argon2 of `password` and `salt` into `out`, working in `memory` (grown to the cost's size when
/// smaller; every block is written before it is read, so what a previous hash left is never used).
fn argon2_into(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> argon2::Result<()> {
    let needed = argon2.params().block_count();
    if memory.len() < needed {
        memory.resize(needed, Block::default());
    }
    argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..needed])
}

/// Whether `password` matches the argon2id or argon2i PHC string `phc`, compared in constant
/// time, working in `memory`.
fn argon2_matches(phc: &str, password: &[u8], memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    Output::init_with(expected.len(), |out| {
        argon2_into(&argon2, password, salt_bytes, out, memory)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    // `Output`'s equality is constant-time.
    .is_ok_and(|computed| computed == expected)
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
    async fn the_memory_pool_keeps_only_blocks_of_the_configured_size_and_no_more_than_permits() {
        let hasher = hasher();
        let stronger = PasswordHasher::new(Argon2Cost {
            memory_kib: 4096,
            iterations: 1,
            parallelism: 1,
        })
        .unwrap()
        .hash(&Secret::new("pw-of-an-import"))
        .await
        .unwrap();
        // A stronger (imported) hash verifies, and its larger block is not kept.
        assert!(
            hasher
                .verify(&Secret::new("pw-of-an-import"), Some(&stronger))
                .await
                .unwrap()
        );
        assert!(
            hasher
                .memory
                .lock()
                .unwrap()
                .iter()
                .all(|b| b.len() <= 1024)
        );
        let many: Vec<_> = (0..8)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash(&Secret::new("pw")).await })
            })
            .collect();
        for task in many {
            task.await.unwrap().unwrap();
        }
        let kept = hasher.memory.lock().unwrap();
        assert!(kept.len() <= hasher.parallel, "{} blocks kept", kept.len());
        assert!(kept.iter().all(|b| b.len() == 1024));
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
