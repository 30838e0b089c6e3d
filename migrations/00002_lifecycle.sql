-- +goose Up
ALTER TABLE cases
    ADD COLUMN dispute_stage  text,
    ADD COLUMN round          integer NOT NULL DEFAULT 1,
    ADD COLUMN close_summary  text;

-- Every proposal made to the customer, its answer and its execution. One row
-- per attempt: a retried activity rewrites the same row.
CREATE TABLE resolutions (
    reference         text NOT NULL REFERENCES cases (reference),
    attempt           integer NOT NULL,
    actions           text[] NOT NULL,
    compensation_kind text NOT NULL,
    amount            numeric(12, 2),
    currency          text,
    message           text NOT NULL,
    proposed_by       text NOT NULL,
    proposed_at       timestamptz NOT NULL,
    accepted          boolean,
    answered_at       timestamptz,
    executed_at       timestamptz,
    PRIMARY KEY (reference, attempt)
);

-- Satisfaction surveys, one per closing of the case.
CREATE TABLE surveys (
    reference   text NOT NULL REFERENCES cases (reference),
    round       integer NOT NULL,
    sent_at     timestamptz NOT NULL,
    reminded_at timestamptz,
    score       integer CHECK (score BETWEEN 1 AND 5),
    comment     text,
    answered_at timestamptz,
    expired     boolean NOT NULL DEFAULT false,
    cancelled   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (reference, round)
);

-- +goose Down
DROP TABLE surveys;
DROP TABLE resolutions;
ALTER TABLE cases DROP COLUMN dispute_stage, DROP COLUMN round, DROP COLUMN close_summary;
