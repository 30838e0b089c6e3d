-- +goose Up
-- The complaint record (投诉处理记录表). Nothing personal lives here: the
-- customer's contact details and free text are in customer_contacts, so that
-- erasing a person leaves the case and its statistics intact.
CREATE TABLE cases (
    reference        text PRIMARY KEY,
    workflow_id      text NOT NULL UNIQUE,
    external_id      text,
    channel          text NOT NULL,
    category         text NOT NULL,
    classified       boolean NOT NULL DEFAULT false,
    severity         text NOT NULL,
    priority         text NOT NULL,
    status           text NOT NULL,
    owner            text NOT NULL,
    departments      text[] NOT NULL,
    subject          text NOT NULL,
    order_id         text,
    product          text,
    desired_outcome  text,
    received_by      text,
    occurred_at      timestamptz,
    received_at      timestamptz NOT NULL,
    acknowledged_at  timestamptz,
    closed_at        timestamptz,
    outcome          text,
    escalation_level integer NOT NULL DEFAULT 0,
    sla_breached     boolean NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX cases_status_received ON cases (status, received_at DESC);
CREATE INDEX cases_received ON cases (received_at DESC, reference);

CREATE TABLE customer_contacts (
    reference     text PRIMARY KEY REFERENCES cases (reference) ON DELETE CASCADE,
    customer_id   text,
    name          text NOT NULL,
    email         text,
    phone         text,
    language      text NOT NULL,
    description   text NOT NULL,
    already_tried text,
    erased_at     timestamptz
);
CREATE INDEX customer_contacts_customer ON customer_contacts (customer_id) WHERE customer_id IS NOT NULL;

-- The append-only audit trail. event_key is derived from the workflow, so an
-- activity that retries writes the same key and adds no second row.
CREATE TABLE case_events (
    reference   text NOT NULL REFERENCES cases (reference),
    event_key   text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    step        text NOT NULL,
    summary     text NOT NULL,
    PRIMARY KEY (reference, event_key)
);

-- +goose Down
DROP TABLE case_events;
DROP TABLE customer_contacts;
DROP TABLE cases;
