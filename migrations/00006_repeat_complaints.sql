-- +goose Up
-- A complaint from the same customer about the same category or order
-- within the repeat window is flagged and linked to the earlier case.
ALTER TABLE cases ADD COLUMN IF NOT EXISTS repeat_of text;
ALTER TABLE cases ADD COLUMN IF NOT EXISTS repeat boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE cases DROP COLUMN IF EXISTS repeat;
ALTER TABLE cases DROP COLUMN IF EXISTS repeat_of;
