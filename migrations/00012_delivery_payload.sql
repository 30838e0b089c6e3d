-- +goose Up
-- A webhook's body is kept with its delivery so that an operator can send
-- a failed one again exactly as it was (same id, same body, a new
-- signature). Webhook bodies hold no personal data; other channels keep
-- none here.
ALTER TABLE deliveries ADD COLUMN payload bytea;

-- +goose Down
ALTER TABLE deliveries DROP COLUMN payload;
