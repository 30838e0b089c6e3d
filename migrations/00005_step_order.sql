-- +goose Up
-- The case record follows the newest step only: a retried activity that
-- carries an older step adds its audit row but never turns the record back.
ALTER TABLE cases ADD COLUMN last_step integer NOT NULL DEFAULT 1;
-- Repeat-complaint detection looks customers up by these.
CREATE INDEX customer_contacts_email ON customer_contacts (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX customer_contacts_phone ON customer_contacts (phone) WHERE phone IS NOT NULL;

-- +goose Down
DROP INDEX customer_contacts_phone;
DROP INDEX customer_contacts_email;
ALTER TABLE cases DROP COLUMN last_step;
