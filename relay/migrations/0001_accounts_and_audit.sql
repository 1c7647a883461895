-- Caseworker accounts and the hash-chained audit log. Portable SQL on purpose (integer
-- unix seconds, TEXT, BIGINT): a PostgreSQL backend can reuse it.

CREATE TABLE accounts (
    id BIGINT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    site TEXT NOT NULL,
    -- argon2id PHC string; NULL until the caseworker sets a password.
    password_hash TEXT,
    disabled BIGINT NOT NULL DEFAULT 0,
    -- SHA-256 of the one-time set-password token, and when it stops working.
    setup_token_hash TEXT,
    setup_expires_at BIGINT,
    wrong_codes BIGINT NOT NULL DEFAULT 0,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT
);

CREATE UNIQUE INDEX accounts_setup_token ON accounts (setup_token_hash);

-- Append-only: rows are only ever inserted, and deleted from the oldest end by the
-- retention rule (which appends a record saying so). Each row carries the hash of the
-- previous one, so a deleted or altered row breaks the chain.
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    actor TEXT NOT NULL,
    session TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE INDEX audit_at ON audit (at);
