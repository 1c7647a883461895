-- Sign-in failure counts shared by relays on one PostgreSQL (issue 19): per login and
-- address, per login, per address, under a keyed hash (a login field may hold what a
-- stranger typed). Empty with SQLite, where the relay keeps them in memory only.

CREATE TABLE sign_in_counts (
    kind TEXT NOT NULL,
    tag TEXT NOT NULL,
    failures BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    locked_until BIGINT,
    PRIMARY KEY (kind, tag)
);
