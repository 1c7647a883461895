-- What must survive a relay restart (SIGKILL included) for people to carry on: the
-- sessions that may resume, and caseworkers' web sessions. Only hashes of tokens and
-- cookies are kept, so a copy of the database resumes nothing and signs nobody in.

CREATE TABLE resumptions (
    session TEXT PRIMARY KEY,
    agent_hash TEXT NOT NULL,
    viewer_hash TEXT NOT NULL,
    login TEXT NOT NULL
);

-- One row: the last time this relay was known alive, so a restart can tell how much of
-- the 60 s resumption window is left (none after a long outage).
CREATE TABLE relay_clock (
    id BIGINT PRIMARY KEY,
    alive_at BIGINT NOT NULL
);

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
