//! The table, its indexes and its TTL.

/// Schema versions, applied in order and recorded in `PRAGMA user_version`.
pub(super) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email_verified INTEGER NOT NULL,
    status TEXT NOT NULL,
    roles TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE lockouts (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    locked_until INTEGER,
    expires_at INTEGER NOT NULL
);
CREATE TABLE counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    refresh_digest TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ip TEXT,
    user_agent TEXT,
    revoked_at INTEGER
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    private_der BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);
"#,
    r#"
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
CREATE TABLE one_time_tokens (
    digest TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    user_id TEXT NOT NULL,
    email_key TEXT NOT NULL,
    password_epoch INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX one_time_tokens_by_user ON one_time_tokens (user_id);
"#,
    r#"
ALTER TABLE sessions ADD COLUMN previous_digest TEXT;
ALTER TABLE sessions ADD COLUMN rotated_at INTEGER;
ALTER TABLE sessions ADD COLUMN rotation_secret TEXT NOT NULL DEFAULT '';
CREATE TABLE refresh_tokens (
    digest TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
INSERT INTO refresh_tokens (digest, session_id, issued_at, expires_at)
    SELECT refresh_digest, id, created_at, expires_at FROM sessions;
ALTER TABLE signing_keys ADD COLUMN activates_at INTEGER NOT NULL DEFAULT 0;
UPDATE signing_keys SET activates_at = created_at;
"#,
    r#"
ALTER TABLE sessions ADD COLUMN access_key TEXT;
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    email TEXT,
    email_key TEXT,
    roles TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by TEXT
);
CREATE TABLE access_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    secret_digest TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX access_keys_by_user ON access_keys (user_id, created_at);
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT,
    ip TEXT,
    user_agent TEXT,
    detail TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX audit_by_time ON audit_events (at, id);
CREATE INDEX audit_by_user ON audit_events (user_id, at, id);
CREATE INDEX audit_by_expiry ON audit_events (expires_at);
CREATE TABLE oauth_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL,
    email_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX oauth_identities_by_user ON oauth_identities (user_id);
CREATE TABLE oauth_pending_sign_ins (
    state_digest TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    return_to TEXT NOT NULL,
    invitation_digest TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
"#,
    r#"
ALTER TABLE sessions ADD COLUMN client_id TEXT;
ALTER TABLE sessions ADD COLUMN scope TEXT;
ALTER TABLE sessions ADD COLUMN auth_time INTEGER;
CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    scopes TEXT NOT NULL,
    secret_digest TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE authorization_codes (
    digest TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    auth_time INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    session_id TEXT
);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);
ALTER TABLE access_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE one_time_tokens ADD COLUMN challenge TEXT;
ALTER TABLE oauth_pending_sign_ins ADD COLUMN client_challenge TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN password_unconfirmed INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
ALTER TABLE authorization_codes ADD COLUMN access_key TEXT;
"#,
    r#"
ALTER TABLE authorization_codes ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
"#,
];
