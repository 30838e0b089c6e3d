-- +goose Up
-- The files a customer sends with an email reply or through the status
-- page. Each is encrypted with its case's data key before it is written
-- (key_id names the version), so destroying the case's keys at erasure
-- leaves nothing readable; erasure deletes the rows as well. Kept here, not
-- in Temporal, because a workflow's payloads are limited to a few MB and
-- its history would carry every byte forever; the case holds only the id.
CREATE TABLE customer_attachments (
    id           text PRIMARY KEY,
    reference    text NOT NULL,
    message_id   text NOT NULL,
    filename     text NOT NULL,
    content_type text NOT NULL,
    size         bigint NOT NULL,
    key_id       text NOT NULL,
    sealed       bytea NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_attachments_reference ON customer_attachments (reference, received_at);

-- +goose Down
DROP TABLE customer_attachments;
