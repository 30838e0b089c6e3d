-- +goose Up
-- The SHA-256 of the body each idempotency key was first submitted with: a
-- repeat with another body is refused (422) instead of silently answering
-- with the first case. Keys recorded before this column have none; their
-- next submission records it.
ALTER TABLE intake_keys ADD COLUMN body_sha256 text;

-- +goose Down
ALTER TABLE intake_keys DROP COLUMN body_sha256;
