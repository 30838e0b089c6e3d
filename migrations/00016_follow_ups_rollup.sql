-- +goose Up
-- The seeds' follow-ups in the reports (00013) join the rollup: the hot
-- spots (the root causes the departments' findings name most often, per
-- category) and the follow-ups of low scores. They were counted from the
-- findings and follow-ups joined to the cases received in the period, which
-- reads every case: about a second for a million. Now they are summed from
-- report_rollup like every other figure. New measures:
--   cause            the case's spelling  n = cases naming it
--   follow_up        ''                   n = follow-ups opened
--   follow_up_done   ''                   n = ... done
--   follow_up_open   due day (YYYY-MM-DD) n = ... still open, by the day they
--                                          fall due in report_settings.time_zone
-- A case votes once for each root cause its findings name, compared trimmed
-- and without case, under its own first spelling byte by byte (a case whose
-- two departments wrote "Billing" and "billing " counts once, as "Billing");
-- the summary groups the keys by lower(key) and shows the smallest spelling.
-- Overdue follow-ups are the open ones due before today, from the rollup,
-- and those due earlier today, from follow_ups (a day's worth at most).
--
-- Root causes are kept per category only (category <> '*'): a hot spot
-- belongs to a category, and the summary of all categories reads fewer rows.
--
-- report_case_counts keeps, per case, what it last added to these measures,
-- as report_case does for the others. report_refresh and report_rebuild keep
-- their names and callers (the triggers, store.Seed): they do the earlier
-- work under a new name, and then these measures'. report_rebuild_counts
-- starts only these measures over (this migration runs it: the rest of the
-- rollup stays as it is, and writers wait less).

CREATE TABLE report_case_counts (
    reference   text NOT NULL,
    measure     text NOT NULL,
    key         text NOT NULL,
    day         date NOT NULL,
    category    text NOT NULL,
    departments text[] NOT NULL,
    n           bigint NOT NULL,
    PRIMARY KEY (reference, measure, key)
);

CREATE INDEX report_rollup_causes ON report_rollup (department, day) INCLUDE (category, key, n) WHERE measure = 'cause';
CREATE INDEX follow_ups_open ON follow_ups (due_at) WHERE done_at IS NULL;

ALTER FUNCTION report_refresh(text[]) RENAME TO report_refresh_measures;
ALTER FUNCTION report_rebuild() RENAME TO report_rebuild_measures;

-- Each case's counts, from its facts in report_case (which must be up to
-- date). A filter on the reference reaches into each part.
CREATE VIEW report_count_facts AS
SELECT f.reference, 'cause' AS measure, min(btrim(x.root_cause) COLLATE "C") COLLATE "default" AS key,
       f.day, f.category, f.departments, 1::bigint AS n
FROM report_case f
JOIN findings x ON x.reference = f.reference
GROUP BY f.reference, f.day, f.category, f.departments, lower(btrim(x.root_cause))
UNION ALL
SELECT f.reference, m.measure, m.key, f.day, f.category, f.departments, m.n
FROM report_case f
CROSS JOIN report_settings z
JOIN LATERAL (
    SELECT 'follow_up' AS measure, '' AS key, count(*) AS n
    FROM follow_ups u WHERE u.reference = f.reference
    UNION ALL
    SELECT 'follow_up_done', '', count(*)
    FROM follow_ups u WHERE u.reference = f.reference AND u.done_at IS NOT NULL
    UNION ALL
    SELECT 'follow_up_open', to_char(u.due_at AT TIME ZONE z.time_zone, 'YYYY-MM-DD'), count(*)
    FROM follow_ups u WHERE u.reference = f.reference AND u.done_at IS NULL
    GROUP BY 2
) m ON m.n > 0;

-- +goose StatementBegin
CREATE FUNCTION report_refresh(refs text[]) RETURNS void
LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
BEGIN
    PERFORM report_refresh_measures(refs); -- takes the rollup's lock
    WITH changes AS (
        SELECT x.day, x.category, x.departments, x.measure, x.key, sum(x.n) AS n
        FROM (SELECT v.day, v.category, v.departments, v.measure, v.key, v.n
              FROM report_count_facts v WHERE v.reference = ANY (refs)
              UNION ALL
              SELECT o.day, o.category, o.departments, o.measure, o.key, -o.n
              FROM report_case_counts o WHERE o.reference = ANY (refs)) x
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(x.n) <> 0
    )
    INSERT INTO report_rollup AS r (category, department, day, measure, key, n, total)
    SELECT dm.category, dm.department, c.day, c.measure, c.key, sum(c.n), 0
    FROM changes c, LATERAL report_dims(c.category, c.departments) dm
    WHERE dm.category <> '*' OR c.measure <> 'cause'
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (category, department, day, measure, key) DO UPDATE SET n = r.n + EXCLUDED.n;
    DELETE FROM report_case_counts WHERE reference = ANY (refs);
    INSERT INTO report_case_counts SELECT * FROM report_count_facts WHERE reference = ANY (refs);
END
$$;
-- +goose StatementEnd

-- Starts these measures over from the base tables (the rest of the rollup
-- as it is).
-- +goose StatementBegin
CREATE FUNCTION report_rebuild_counts() RETURNS void
LANGUAGE plpgsql SET jit = off SET work_mem = '256MB' AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7354392110); -- the rollup's lock
    DELETE FROM report_rollup WHERE measure IN ('cause', 'follow_up', 'follow_up_done', 'follow_up_open');
    DELETE FROM report_case_counts;
    INSERT INTO report_case_counts SELECT * FROM report_count_facts;
    INSERT INTO report_rollup (category, department, day, measure, key, n, total)
    SELECT dm.category, dm.department, v.day, v.measure, v.key, sum(v.n), 0
    FROM (SELECT day, category, departments, measure, key, sum(n) AS n
          FROM report_case_counts GROUP BY 1, 2, 3, 4, 5) v,
         LATERAL report_dims(v.category, v.departments) dm
    WHERE dm.category <> '*' OR v.measure <> 'cause'
    GROUP BY 1, 2, 3, 4, 5;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION report_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM report_rebuild_measures();
    PERFORM report_rebuild_counts();
END
$$;
-- +goose StatementEnd

-- A finding or follow-up added or taken away, a root cause changed, or a
-- follow-up done or given another due time changes the case's counts.
CREATE CONSTRAINT TRIGGER report_findings_insert_delete AFTER INSERT OR DELETE ON findings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION report_touch();
CREATE CONSTRAINT TRIGGER report_findings_update AFTER UPDATE ON findings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((OLD.reference, OLD.root_cause) IS DISTINCT FROM (NEW.reference, NEW.root_cause))
    EXECUTE FUNCTION report_touch();
CREATE CONSTRAINT TRIGGER report_follow_ups_insert_delete AFTER INSERT OR DELETE ON follow_ups
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION report_touch();
CREATE CONSTRAINT TRIGGER report_follow_ups_update AFTER UPDATE ON follow_ups
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((OLD.reference, OLD.due_at, OLD.done_at IS NULL) IS DISTINCT FROM (NEW.reference, NEW.due_at, NEW.done_at IS NULL))
    EXECUTE FUNCTION report_touch();

SELECT report_rebuild_counts();

-- +goose Down
DROP TRIGGER report_follow_ups_update ON follow_ups;
DROP TRIGGER report_follow_ups_insert_delete ON follow_ups;
DROP TRIGGER report_findings_update ON findings;
DROP TRIGGER report_findings_insert_delete ON findings;
DROP FUNCTION report_rebuild();
DROP FUNCTION report_rebuild_counts();
DROP FUNCTION report_refresh(text[]);
DROP VIEW report_count_facts;
ALTER FUNCTION report_rebuild_measures() RENAME TO report_rebuild;
ALTER FUNCTION report_refresh_measures(text[]) RENAME TO report_refresh;
DELETE FROM report_rollup WHERE measure IN ('cause', 'follow_up', 'follow_up_done', 'follow_up_open');
DROP INDEX follow_ups_open;
DROP INDEX report_rollup_causes;
DROP TABLE report_case_counts;
