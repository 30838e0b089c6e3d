-- +goose Up
-- API keys of upstream systems. Only the SHA-256 of a key is kept: a leaked
-- table does not hand out working keys.
CREATE TABLE api_keys (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    system      text NOT NULL,
    key_hash    text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Which upstream system submitted a case: a system reads its own cases only.
CREATE TABLE case_submitters (
    reference   text PRIMARY KEY,
    system      text NOT NULL,
    key_id      text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- Data keys of the payload codec, each wrapped (AES-256-GCM) by a master key
-- from the environment. scope is case:<reference> for a case's payloads and
-- default for payloads that belong to no case. Erasure sets wrapped to NULL:
-- without the data key, the case's history in Temporal cannot be read again.
CREATE TABLE data_keys (
    scope         text NOT NULL,
    version       integer NOT NULL,
    master_key_id text NOT NULL,
    wrapped       bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    destroyed_at  timestamptz,
    PRIMARY KEY (scope, version)
);

-- +goose Down
DROP TABLE data_keys;
DROP TABLE case_submitters;
DROP TABLE api_keys;
