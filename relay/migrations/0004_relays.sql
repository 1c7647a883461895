-- Several relays on one PostgreSQL (issue 19): each relay's heartbeat, the codes each
-- handed out (under a keyed hash, never the digits), the mail relays send each other,
-- and which relay holds each resumable session. Empty with SQLite, where a relay is alone.

CREATE TABLE relays (
    id TEXT PRIMARY KEY,
    alive_at BIGINT NOT NULL
);

CREATE TABLE codes (
    tag TEXT PRIMARY KEY,
    relay TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE relay_mail (
    from_relay TEXT NOT NULL,
    seq BIGINT NOT NULL,
    to_relay TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (from_relay, seq)
);

CREATE INDEX relay_mail_to ON relay_mail (to_relay);

ALTER TABLE resumptions ADD COLUMN relay TEXT NOT NULL DEFAULT '';
