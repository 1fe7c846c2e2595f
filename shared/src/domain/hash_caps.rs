//! The most work a stored password hash may ask of one login: hashes over these caps are refused
//! when they are imported and when they are read (`password::formats`), and the configured
//! argon2 cost must stay within them.

/// The most PBKDF2 iterations (and Backend.AI hash rounds) accepted.
pub const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;
/// The highest bcrypt cost accepted.
pub const MAX_BCRYPT_COST: u32 = 15;
/// The most memory an scrypt or argon2 hash may ask for, in KiB (256 MiB).
pub const MAX_MEMORY_KIB: u64 = 256 * 1024;
/// The most argon2 passes, and argon2 or scrypt lanes.
pub const MAX_PASSES: u32 = 16;
/// The most work an argon2 hash may ask for: memory (KiB) times passes. Django's default
/// (100 MiB, 2 passes) is a fifth of it; 256 MiB may take 4 passes.
pub const MAX_ARGON2_WORK: u64 = 1024 * 1024;
/// The most work an scrypt hash may ask for: n × r × p. Django's default (2^14 × 8 × 5) is a
/// twenty-fifth of it.
pub const MAX_SCRYPT_WORK: u64 = 1 << 24;
/// The longest salt read (bytes, or characters for Backend.AI's SHA hashes), since each round or
/// block hashes it again.
pub const MAX_SALT: usize = 128;
