-- Passkeys (WebAuthn credentials) of caseworkers (issue 16 item 11). `passkey` is the
-- credential as webauthn-rs serialises it (public key, counter; no secret); `cred_id`
-- is its credential id, base64url, unique across all accounts.

CREATE TABLE passkeys (
    id BIGINT PRIMARY KEY,
    login TEXT NOT NULL REFERENCES accounts (login),
    cred_id TEXT NOT NULL UNIQUE,
    passkey TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE INDEX passkeys_login ON passkeys (login);
