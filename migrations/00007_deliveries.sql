-- Messages to customers, staff and upstream systems, each one row keyed by
-- the case, the step and the channel: a retried activity finds the row and
-- does not send again what is already sent. No address or text is kept
-- here; they travel with the case.

-- +goose Up
ALTER TABLE cases ADD COLUMN source text;

CREATE TABLE deliveries (
    id          text PRIMARY KEY,
    reference   text NOT NULL,
    event_key   text NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('email', 'sms', 'webhook', 'log')),
    kind        text NOT NULL,
    recipient   text NOT NULL,          -- customer, an upstream system, or a rung of the ladder
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    failed_at   timestamptz
);
CREATE INDEX deliveries_reference ON deliveries (reference, created_at);
CREATE INDEX deliveries_failed ON deliveries (failed_at DESC) WHERE status = 'failed';

-- +goose Down
DROP TABLE deliveries;
ALTER TABLE cases DROP COLUMN source;
