-- +goose Up
-- The seeds' follow-ups: a department's findings archived with the case
-- (their root causes are the reports' hot spots), a proposal's approval and
-- the customer's confirmation, and the follow-up of a low satisfaction
-- score (cases.follow_up_due drives the staff's follow-up queue).
CREATE TABLE findings (
    reference    text NOT NULL REFERENCES cases (reference),
    round        integer NOT NULL,
    department   text NOT NULL,
    investigator text NOT NULL,
    findings     text NOT NULL,
    root_cause   text NOT NULL,
    evidence     text[] NOT NULL DEFAULT '{}',
    reported_at  timestamptz NOT NULL,
    PRIMARY KEY (reference, round, department)
);
CREATE INDEX findings_reported ON findings (reported_at);

ALTER TABLE resolutions
    ADD COLUMN approval_limit text,
    ADD COLUMN approved       boolean,
    ADD COLUMN approved_by    text,
    ADD COLUMN approved_at    timestamptz,
    ADD COLUMN confirmed      boolean,
    ADD COLUMN confirmed_at   timestamptz,
    ADD COLUMN confirmation_timed_out boolean NOT NULL DEFAULT false;

CREATE TABLE follow_ups (
    reference text NOT NULL REFERENCES cases (reference),
    round     integer NOT NULL,
    score     integer NOT NULL,
    owner     text NOT NULL,
    opened_at timestamptz NOT NULL,
    due_at    timestamptz NOT NULL,
    done_at   timestamptz,
    done_by   text,
    summary   text,
    PRIMARY KEY (reference, round)
);
CREATE INDEX follow_ups_opened ON follow_ups (opened_at);

ALTER TABLE cases ADD COLUMN follow_up_due timestamptz;
CREATE INDEX cases_follow_up_due ON cases (follow_up_due) WHERE follow_up_due IS NOT NULL;

-- +goose Down
DROP INDEX cases_follow_up_due;
ALTER TABLE cases DROP COLUMN follow_up_due;
DROP TABLE follow_ups;
ALTER TABLE resolutions DROP COLUMN approval_limit, DROP COLUMN approved, DROP COLUMN approved_by,
    DROP COLUMN approved_at, DROP COLUMN confirmed, DROP COLUMN confirmed_at, DROP COLUMN confirmation_timed_out;
DROP TABLE findings;
