-- +goose Up
-- Which case each idempotency key (external id or Idempotency-Key, by its
-- SHA-256) started: a repeat finds its case whatever the day, with one
-- indexed read instead of a call to Temporal per earlier day. The workflow
-- ID policy still decides between concurrent first submissions.
CREATE TABLE intake_keys (
    key_hash   text PRIMARY KEY,
    reference  text NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE intake_keys;
