-- +goose Up
-- Every SLA event (started, warned, breached, escalated, paused, resumed,
-- met, stopped) with its due and actual times, for the compliance reports.
CREATE TABLE sla_events (
    reference   text NOT NULL REFERENCES cases (reference),
    event_key   text NOT NULL,
    clock       text NOT NULL,
    department  text,
    round       integer NOT NULL,
    event       text NOT NULL,
    level       integer NOT NULL DEFAULT 0,
    due_at      timestamptz NOT NULL,
    occurred_at timestamptz NOT NULL,
    approximate boolean NOT NULL DEFAULT false,
    PRIMARY KEY (reference, event_key)
);
CREATE INDEX sla_events_clock ON sla_events (clock, event, occurred_at);

-- +goose Down
DROP TABLE sla_events;
