-- +goose Up
-- The staff desk's sessions and sign-ins in progress, shared by every API
-- replica (a browser's requests may reach any of them). Rows are keyed by
-- the SHA-256 of the cookie's or the state's value: reading this table
-- gives no one a cookie that works. A session's row holds the person's
-- access token until the session ends (sign-out deletes it; expired rows
-- are purged as new sessions start).
CREATE TABLE desk_sessions (
    id_hash    text PRIMARY KEY,
    subject    text NOT NULL,
    data       jsonb NOT NULL,
    started_at timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX desk_sessions_expires ON desk_sessions (expires_at);

CREATE TABLE desk_sign_ins (
    state_hash text PRIMARY KEY,
    data       jsonb NOT NULL,
    expires_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE desk_sign_ins;
DROP TABLE desk_sessions;
