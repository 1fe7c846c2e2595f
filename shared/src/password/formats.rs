//! Password hashes Portcullis verifies besides its own: what other systems store, so their
//! accounts can be brought in (`portcullis users import`) without anyone resetting a password.
//! A login that matches one of these replaces it with argon2id at the configured cost.
//!
//! | stored as | from | how it is checked |
//! |---|---|---|
//! | `$argon2id$…`, `$argon2i$…` (PHC) | Portcullis, Kratos, many | the `argon2` crate |
//! | `$2a$`, `$2b$`, `$2y$` | Backend.AI (legacy), many | the `bcrypt` crate |
//! | `pbkdf2_sha256$<iterations>$<salt>$<base64>`, `pbkdf2_sha1$…` | Django (CVAT) | PBKDF2-HMAC, the salt's UTF-8 bytes |
//! | `argon2$argon2id$…` | Django | the PHC string after `argon2` |
//! | `bcrypt_sha256$$2b$…` | Django | bcrypt of the hex SHA-256 of the password |
//! | `bcrypt$$2b$…` | Django | bcrypt |
//! | `scrypt$<n>$<salt>$<r>$<p>$<base64>` | Django | scrypt, 64 bytes |
//! | `pbkdf2_sha256$<rounds>$<hex salt>$<hex>`, `pbkdf2_sha3_256$…` | Backend.AI | PBKDF2-HMAC, the hex-decoded salt |
//! | `sha256$<rounds>$<salt>$<hex>`, `sha3_256$…` | Backend.AI | `h = hex(H(salt + h))`, `rounds` times from the password |
//!
//! Django and Backend.AI both write `pbkdf2_sha256$`. They differ in the hash's encoding: Django's
//! is base64 (44 characters for 32 bytes, ending in `=`), Backend.AI's is 64 hexadecimal digits,
//! which is never valid as Django's. So 64 hex digits with an even-length hex salt read as
//! Backend.AI's, anything else as Django's.
//!
//! Work factors above the caps below are refused when a hash is read, so no stored hash can make
//! one login burn seconds of CPU or a large block of memory.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

pub use crate::hash_caps::*;

/// A stored hash, read and checked against the caps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredHash {
    /// A PHC string of argon2id or argon2i (Portcullis' own, or Django's after its prefix).
    Argon2(String),
    /// A bcrypt hash; `sha256_hex` when the password is first turned into its hex SHA-256
    /// (Django's `bcrypt_sha256`).
    Bcrypt { hash: String, sha256_hex: bool },
    Pbkdf2 {
        prf: Prf,
        iterations: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// Backend.AI's `sha256$`/`sha3_256$`: the hex digest of `salt + previous`, `rounds` times.
    Iterated {
        sha3: bool,
        rounds: u32,
        salt: String,
        hex: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prf {
    Sha1,
    Sha256,
    Sha3_256,
}

impl StoredHash {
    /// Reads `stored`, or says in a few words why it can't be used.
    pub fn parse(stored: &str) -> Result<StoredHash, String> {
        if stored.starts_with("$argon2") {
            return argon2_phc(stored);
        }
        if stored.starts_with("$2") {
            return bcrypt(stored, false);
        }
        let (scheme, rest) = stored
            .split_once('$')
            .ok_or_else(|| "not a password hash Portcullis knows".to_owned())?;
        match scheme {
            // Django writes `<algorithm>$<the library's own string>`.
            "argon2" => argon2_phc(&format!("${rest}")),
            "bcrypt" => bcrypt(rest, false),
            "bcrypt_sha256" => bcrypt(rest, true),
            "scrypt" => scrypt(rest),
            "pbkdf2_sha1" => django_pbkdf2(Prf::Sha1, rest),
            "pbkdf2_sha256" => match backend_ai_pbkdf2(Prf::Sha256, rest) {
                Some(hash) => hash,
                None => django_pbkdf2(Prf::Sha256, rest),
            },
            "pbkdf2_sha3_256" => backend_ai_pbkdf2(Prf::Sha3_256, rest)
                .unwrap_or_else(|| Err("pbkdf2_sha3_256 needs a hex salt and a hex hash".into())),
            "sha256" => iterated(false, rest),
            "sha3_256" => iterated(true, rest),
            "md5" | "sha1" | "unsalted_md5" | "unsalted_sha1" | "crypt" => Err(format!(
                "{scheme} hashes are too weak to keep: the account needs a password reset"
            )),
            _ => Err(format!("{scheme} is not a password hash Portcullis knows")),
        }
    }

    /// Whether `password` is the one this hash was made from. CPU-bound: run it off the async
    /// runtime. An argon2 hash works in `memory`, grown as its cost needs and kept for the next.
    pub fn verify(&self, password: &str, memory: &mut Vec<argon2::Block>) -> bool {
        match self {
            StoredHash::Argon2(phc) => super::argon2_matches(phc, password.as_bytes(), memory),
            StoredHash::Bcrypt { hash, sha256_hex } => {
                let input = if *sha256_hex {
                    hex(&Sha256::digest(password.as_bytes()))
                } else {
                    password.to_owned()
                };
                ::bcrypt::verify(input, hash).unwrap_or(false)
            }
            StoredHash::Pbkdf2 {
                prf,
                iterations,
                salt,
                hash,
            } => {
                let mut derived = vec![0u8; hash.len()];
                let password = password.as_bytes();
                let done = match prf {
                    Prf::Sha1 => pbkdf2::pbkdf2::<hmac::Hmac<sha1::Sha1>>(
                        password,
                        salt,
                        *iterations,
                        &mut derived,
                    ),
                    Prf::Sha256 => pbkdf2::pbkdf2::<hmac::Hmac<Sha256>>(
                        password,
                        salt,
                        *iterations,
                        &mut derived,
                    ),
                    Prf::Sha3_256 => pbkdf2::pbkdf2::<hmac::Hmac<sha3::Sha3_256>>(
                        password,
                        salt,
                        *iterations,
                        &mut derived,
                    ),
                };
                done.is_ok() && bool::from(derived.ct_eq(hash))
            }
            StoredHash::Scrypt {
                log_n,
                r,
                p,
                salt,
                hash,
            } => {
                let Ok(params) = ::scrypt::Params::new(*log_n, *r, *p, hash.len()) else {
                    return false;
                };
                let mut derived = vec![0u8; hash.len()];
                ::scrypt::scrypt(password.as_bytes(), salt, &params, &mut derived).is_ok()
                    && bool::from(derived.ct_eq(hash))
            }
            StoredHash::Iterated {
                sha3,
                rounds,
                salt,
                hex: expected,
            } => {
                let mut current = password.to_owned();
                for _ in 0..*rounds {
                    let input = format!("{salt}{current}");
                    current = if *sha3 {
                        hex(&sha3::Sha3_256::digest(input.as_bytes()))
                    } else {
                        hex(&Sha256::digest(input.as_bytes()))
                    };
                }
                bool::from(current.as_bytes().ct_eq(expected.as_bytes()))
            }
        }
    }

    /// The name of the format, for reports.
    pub fn format(&self) -> &'static str {
        match self {
            StoredHash::Argon2(_) => "argon2",
            StoredHash::Bcrypt {
                sha256_hex: true, ..
            } => "bcrypt_sha256",
            StoredHash::Bcrypt { .. } => "bcrypt",
            StoredHash::Pbkdf2 { prf: Prf::Sha1, .. } => "pbkdf2_sha1",
            StoredHash::Pbkdf2 {
                prf: Prf::Sha256, ..
            } => "pbkdf2_sha256",
            StoredHash::Pbkdf2 {
                prf: Prf::Sha3_256, ..
            } => "pbkdf2_sha3_256",
            StoredHash::Scrypt { .. } => "scrypt",
            StoredHash::Iterated { sha3: false, .. } => "sha256",
            StoredHash::Iterated { sha3: true, .. } => "sha3_256",
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

fn iterations(text: &str) -> Result<u32, String> {
    let count: u32 = text
        .parse()
        .map_err(|_| format!("the iteration count {text:?} is not a number"))?;
    if count == 0 {
        return Err("the iteration count is zero".into());
    }
    if count > MAX_PBKDF2_ITERATIONS {
        return Err(format!(
            "{count} iterations is over the cap of {MAX_PBKDF2_ITERATIONS}"
        ));
    }
    Ok(count)
}

fn argon2_phc(phc: &str) -> Result<StoredHash, String> {
    use argon2::password_hash::PasswordHash;
    let parsed = PasswordHash::new(phc).map_err(|e| format!("not a valid argon2 hash: {e}"))?;
    let algorithm = parsed.algorithm.as_str();
    if algorithm != "argon2id" && algorithm != "argon2i" {
        return Err(format!("{algorithm} is not argon2id or argon2i"));
    }
    let params =
        argon2::Params::try_from(&parsed).map_err(|e| format!("argon2 parameters: {e}"))?;
    if u64::from(params.m_cost()) > MAX_MEMORY_KIB {
        return Err(format!(
            "argon2 memory of {} KiB is over the cap of {MAX_MEMORY_KIB} KiB",
            params.m_cost()
        ));
    }
    if u64::from(params.m_cost()) * u64::from(params.t_cost()) > MAX_ARGON2_WORK {
        return Err(format!(
            "argon2 m={} KiB × t={} is over the cap of {MAX_ARGON2_WORK}",
            params.m_cost(),
            params.t_cost()
        ));
    }
    if params.t_cost() > MAX_PASSES || params.p_cost() > MAX_PASSES {
        return Err(format!(
            "argon2 t={} p={} is over the cap of {MAX_PASSES}",
            params.t_cost(),
            params.p_cost()
        ));
    }
    if parsed.hash.is_none() {
        return Err("the argon2 hash has no output".into());
    }
    Ok(StoredHash::Argon2(phc.to_owned()))
}

fn bcrypt(hash: &str, sha256_hex: bool) -> Result<StoredHash, String> {
    let parts: Vec<&str> = hash.split('$').collect();
    let ["", version, cost, body] = parts.as_slice() else {
        return Err("not a valid bcrypt hash".into());
    };
    if !matches!(*version, "2a" | "2b" | "2y") || body.len() != 53 {
        return Err("not a valid bcrypt hash".into());
    }
    let cost: u32 = cost
        .parse()
        .map_err(|_| "not a valid bcrypt cost".to_owned())?;
    if cost > MAX_BCRYPT_COST {
        return Err(format!(
            "bcrypt cost {cost} is over the cap of {MAX_BCRYPT_COST}"
        ));
    }
    Ok(StoredHash::Bcrypt {
        hash: hash.to_owned(),
        sha256_hex,
    })
}

fn django_pbkdf2(prf: Prf, rest: &str) -> Result<StoredHash, String> {
    let [count, salt, encoded] = rest.split('$').collect::<Vec<_>>()[..] else {
        return Err("not a valid Django PBKDF2 hash".into());
    };
    let hash = STANDARD.decode(encoded).map_err(|_| {
        "the PBKDF2 hash is neither base64 (Django) nor hex (Backend.AI)".to_owned()
    })?;
    // Exactly the digest's size: a longer output would multiply the work, a shorter one weaken it.
    let size = if prf == Prf::Sha1 { 20 } else { 32 };
    if hash.len() != size || salt.is_empty() || salt.len() > MAX_SALT {
        return Err("not a valid Django PBKDF2 hash".into());
    }
    Ok(StoredHash::Pbkdf2 {
        prf,
        iterations: iterations(count)?,
        salt: salt.as_bytes().to_vec(),
        hash,
    })
}

/// Backend.AI's form, when `rest` has its shape (a hex salt and 64 hex digits).
fn backend_ai_pbkdf2(prf: Prf, rest: &str) -> Option<Result<StoredHash, String>> {
    let [count, salt, encoded] = rest.split('$').collect::<Vec<_>>()[..] else {
        return None;
    };
    if encoded.len() != 64 {
        return None;
    }
    let (salt, hash) = (unhex(salt)?, unhex(encoded)?);
    if salt.len() > MAX_SALT {
        return Some(Err(format!("the salt is over {MAX_SALT} bytes")));
    }
    Some(iterations(count).map(|iterations| StoredHash::Pbkdf2 {
        prf,
        iterations,
        salt,
        hash,
    }))
}

fn iterated(sha3: bool, rest: &str) -> Result<StoredHash, String> {
    let [count, salt, encoded] = rest.split('$').collect::<Vec<_>>()[..] else {
        return Err("not a valid Backend.AI SHA hash".into());
    };
    if encoded.len() != 64 || unhex(encoded).is_none() {
        return Err("the SHA hash is not 64 hexadecimal digits".into());
    }
    if salt.len() > MAX_SALT {
        return Err(format!("the salt is over {MAX_SALT} characters"));
    }
    Ok(StoredHash::Iterated {
        sha3,
        rounds: iterations(count)?,
        salt: salt.to_owned(),
        hex: encoded.to_ascii_lowercase(),
    })
}

/// Django's `scrypt$<n>$<salt>$<r>$<p>$<base64>`.
fn scrypt(rest: &str) -> Result<StoredHash, String> {
    let [n, salt, r, p, encoded] = rest.split('$').collect::<Vec<_>>()[..] else {
        return Err("not a valid Django scrypt hash".into());
    };
    let number = |text: &str| -> Result<u64, String> {
        text.parse()
            .map_err(|_| format!("the scrypt parameter {text:?} is not a number"))
    };
    let (n, r, p) = (number(n)?, number(r)?, number(p)?);
    if n < 2 || !n.is_power_of_two() {
        return Err("scrypt's n must be a power of two".into());
    }
    if r == 0 || p == 0 || r > 32 || p > u64::from(MAX_PASSES) {
        return Err(format!(
            "scrypt r={r} p={p} is over the cap (r at most 32, p at most {MAX_PASSES})"
        ));
    }
    // scrypt holds 128 × r × (n + p + 2) bytes, and works in proportion to n × r × p.
    let memory_kib = 128u64.saturating_mul(r).saturating_mul(n + p + 2) / 1024;
    let work = n.saturating_mul(r).saturating_mul(p);
    if memory_kib > MAX_MEMORY_KIB || work > MAX_SCRYPT_WORK {
        return Err(format!(
            "scrypt n={n} r={r} p={p} is over the cap ({MAX_MEMORY_KIB} KiB, work {MAX_SCRYPT_WORK})"
        ));
    }
    let hash = STANDARD
        .decode(encoded)
        .map_err(|_| "the scrypt hash is not base64".to_owned())?;
    if hash.len() != 64 || salt.is_empty() || salt.len() > MAX_SALT {
        return Err("not a valid Django scrypt hash (64 bytes)".into());
    }
    Ok(StoredHash::Scrypt {
        log_n: n.trailing_zeros() as u8,
        r: r as u32,
        p: p as u32,
        salt: salt.as_bytes().to_vec(),
        hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_pbkdf2_sha256_forms_are_told_apart_by_the_hash_encoding() {
        let django = "pbkdf2_sha256$870000$abc$\
                      Wjpeg6Nfw4H2UoMGptbkUvNzBaPcd7sWjT3L+6zGO0s=";
        let backend_ai = format!(
            "pbkdf2_sha256$100000$00ff$\
             {}",
            "a".repeat(64)
        );
        match StoredHash::parse(django).unwrap() {
            StoredHash::Pbkdf2 { salt, hash, .. } => {
                assert_eq!(salt, b"abc");
                assert_eq!(hash.len(), 32);
            }
            other => panic!("{other:?}"),
        }
        match StoredHash::parse(&backend_ai).unwrap() {
            StoredHash::Pbkdf2 { salt, hash, .. } => {
                assert_eq!(salt, vec![0x00, 0xff]);
                assert_eq!(hash, vec![0xaa; 32]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn work_factors_over_the_caps_are_refused() {
        let over = [
            format!("pbkdf2_sha256$2000001$abc${}", STANDARD.encode([0u8; 32])),
            format!("scrypt$2$salt$1048576$16${}", STANDARD.encode([0u8; 64])),
            format!("scrypt$1048576$salt$16$1${}", STANDARD.encode([0u8; 64])),
            "$argon2id$v=19$m=262144,t=16,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
            format!("sha256$3000000$ab${}", "0".repeat(64)),
            format!("$2b$16${}", "a".repeat(53)),
            format!("scrypt$4194304$salt$8$1${}", STANDARD.encode([0u8; 64])),
            "$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
        ];
        for hash in over {
            let refusal = StoredHash::parse(&hash).unwrap_err();
            assert!(refusal.contains("cap"), "{hash}: {refusal}");
        }
    }

    #[test]
    fn outputs_and_salts_that_would_multiply_the_work_are_refused() {
        // A Django PBKDF2 output longer than its digest would cost a round per 32 bytes.
        let long = format!("pbkdf2_sha256$1000$abc${}", STANDARD.encode([0u8; 64]));
        assert!(StoredHash::parse(&long).is_err());
        let short = format!("pbkdf2_sha256$1000$abc${}", STANDARD.encode([0u8; 1]));
        assert!(StoredHash::parse(&short).is_err());
        let salted = format!("sha256$1000${}${}", "s".repeat(129), "0".repeat(64));
        assert!(StoredHash::parse(&salted).unwrap_err().contains("salt"));
    }

    #[test]
    fn unknown_and_weak_formats_are_refused_with_a_reason() {
        assert!(
            StoredHash::parse("md5$salt$abc")
                .unwrap_err()
                .contains("too weak")
        );
        assert!(StoredHash::parse("plaintext").is_err());
        assert!(StoredHash::parse("!unusable").is_err());
    }

    #[test]
    fn iterated_sha256_follows_backend_ai() {
        // h = password; twice: h = sha256(salt + h).hexdigest()
        let first = hex(&Sha256::digest(b"saltpw"));
        let second = hex(&Sha256::digest(format!("salt{first}").as_bytes()));
        let stored = StoredHash::parse(&format!("sha256$2$salt${second}")).unwrap();
        assert!(stored.verify("pw", &mut Vec::new()));
        assert!(!stored.verify("pw2", &mut Vec::new()));
    }
}
