-- +goose Up
-- The rollup (00004, 00016) is brought up to date in batches instead of at
-- every commit. Refreshing one case at its commit cost PostgreSQL about
-- 5 ms of CPU, under the rollup's lock, so every write of every case waited
-- in one line: a burst of deadlines or of complaints spent more of the
-- database on the reports than on the cases. Now:
--   * the triggers (same ones, same conditions) only queue the case in
--     report_pending, at commit, once per transaction;
--   * report_flush() refreshes everything queued, in batches, under the
--     rollup's lock; a batch costs little more than one case;
--   * the store flushes before it reads the reports or the queues that
--     filter on report_case, so what they show is exact as before, and the
--     worker flushes every second (REPORTS_REFRESH_EVERY) so that a read
--     finds little to do.
-- A case's row stays queued until a flush has refreshed it and committed:
-- a crash in between leaves it queued for the next flush. The queue has no
-- key on purpose: a case changed by several transactions is queued several
-- times and refreshed once, and an insert never waits for another
-- transaction's row (two transactions queueing the same two cases in
-- opposite orders could otherwise deadlock at commit).

CREATE TABLE report_pending (
    reference text NOT NULL
);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION report_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ref  text;
    -- The cases this transaction has queued already, once each.
    done text := coalesce(current_setting('complaints.report_queued', true), '');
BEGIN
    IF current_setting('complaints.report_rollup', true) = 'off' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        ref := OLD.reference;
    ELSE
        ref := NEW.reference;
    END IF;
    IF position('|' || ref || '|' IN done) > 0 THEN
        RETURN NULL;
    END IF;
    -- Visible to a flush only once this transaction has committed: a flush
    -- that runs meanwhile leaves it for the next, whose refresh sees the
    -- change.
    INSERT INTO report_pending (reference) VALUES (ref);
    PERFORM set_config('complaints.report_queued', done || '|' || ref || '|', true);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- Refreshes the queued cases, 10,000 queue rows at a time, and returns how
-- many cases. It stops after a batch smaller than that, so that writers
-- that keep queueing cannot keep it running; what they queued meanwhile is
-- the next flush's. Each statement reads what was committed before it
-- began, so the refresh sees every change whose row the batch took.
-- +goose StatementBegin
CREATE FUNCTION report_flush() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    refs  text[];
    taken bigint;
    total bigint := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM report_pending) THEN
        RETURN 0; -- the usual answer, without waiting for the lock
    END IF;
    PERFORM pg_advisory_xact_lock(7354392110); -- the rollup's lock
    LOOP
        WITH batch AS (
            DELETE FROM report_pending
            WHERE ctid = ANY (ARRAY(SELECT ctid FROM report_pending LIMIT 10000))
            RETURNING reference
        )
        SELECT array_agg(DISTINCT reference), count(*) INTO refs, taken FROM batch;
        EXIT WHEN taken = 0;
        PERFORM report_refresh(refs);
        total := total + cardinality(refs);
        EXIT WHEN taken < 10000;
    END LOOP;
    RETURN total;
END
$$;
-- +goose StatementEnd

-- +goose Down
SELECT report_flush();

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION report_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ref  text;
    done text := coalesce(current_setting('complaints.report_refreshed', true), '');
BEGIN
    IF current_setting('complaints.report_rollup', true) = 'off' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        ref := OLD.reference;
    ELSE
        ref := NEW.reference;
    END IF;
    IF position('|' || ref || '|' IN done) > 0 THEN
        RETURN NULL;
    END IF;
    PERFORM report_refresh(ARRAY[ref]);
    PERFORM set_config('complaints.report_refreshed', done || '|' || ref || '|', true);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

DROP FUNCTION report_flush();
DROP TABLE report_pending;
