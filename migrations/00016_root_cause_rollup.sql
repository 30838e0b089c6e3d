-- +goose Up
-- The reports' hot spots (the root causes the departments' findings name
-- most often, per category) join the rollup. They were ranked from the
-- findings joined to the cases received in the period, which takes seconds
-- over a million cases; now they are summed from report_rollup like every
-- other figure.
--
-- A case votes once for each root cause its findings name, compared trimmed
-- and without case, under its own first spelling byte by byte (so a case
-- whose two departments wrote "Billing" and "billing " counts once, as
-- "Billing"). Measure 'cause', key = that spelling, n = cases; the summary
-- groups the keys by lower(key) and shows the smallest spelling. Only
-- per-category rows are kept (a hot spot always belongs to a category):
-- category <> '*', department as in report_dims.
--
-- report_case_cause keeps, per case, the votes last added to the rollup,
-- as report_case does for the other measures. report_refresh and
-- report_rebuild keep their names and callers (the triggers, store.Seed):
-- they now do the earlier work, under a new name, and then the causes'.

CREATE TABLE report_case_cause (
    reference   text NOT NULL,
    cause       text NOT NULL,             -- the case's spelling of it
    day         date NOT NULL,
    category    text NOT NULL,
    departments text[] NOT NULL,
    PRIMARY KEY (reference, cause)
);

CREATE INDEX report_rollup_causes ON report_rollup (department, day) INCLUDE (category, key, n) WHERE measure = 'cause';

ALTER FUNCTION report_refresh(text[]) RENAME TO report_refresh_measures;
ALTER FUNCTION report_rebuild() RENAME TO report_rebuild_measures;

-- Each case's votes, from its facts in report_case (which must be up to
-- date). A filter on the reference reaches below the grouping.
CREATE VIEW report_cause_votes AS
SELECT f.reference, min(btrim(x.root_cause) COLLATE "C") AS cause, f.day, f.category, f.departments
FROM report_case f
JOIN findings x ON x.reference = f.reference
GROUP BY f.reference, f.day, f.category, f.departments, lower(btrim(x.root_cause));

-- +goose StatementBegin
CREATE FUNCTION report_refresh(refs text[]) RETURNS void
LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    PERFORM report_refresh_measures(refs); -- takes the rollup's lock
    WITH changes AS (
        SELECT x.day, x.category, x.departments, x.cause, sum(x.n) AS n
        FROM (SELECT v.day, v.category, v.departments, v.cause, 1 AS n FROM report_cause_votes v
              WHERE v.reference = ANY (refs)
              UNION ALL
              SELECT o.day, o.category, o.departments, o.cause, -1 FROM report_case_cause o
              WHERE o.reference = ANY (refs)) x
        GROUP BY 1, 2, 3, 4
        HAVING sum(x.n) <> 0
    )
    INSERT INTO report_rollup AS r (category, department, day, measure, key, n, total)
    SELECT dm.category, dm.department, c.day, 'cause', c.cause, sum(c.n), 0
    FROM changes c, LATERAL report_dims(c.category, c.departments) dm
    WHERE dm.category <> '*'
    GROUP BY 1, 2, 3, 5
    ORDER BY 1, 2, 3, 5
    ON CONFLICT (category, department, day, measure, key) DO UPDATE SET n = r.n + EXCLUDED.n;
    DELETE FROM report_case_cause WHERE reference = ANY (refs);
    INSERT INTO report_case_cause SELECT * FROM report_cause_votes WHERE reference = ANY (refs);
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION report_rebuild() RETURNS void
LANGUAGE plpgsql SET jit = off SET work_mem = '256MB' AS $$
BEGIN
    PERFORM report_rebuild_measures(); -- empties report_rollup, causes included
    DELETE FROM report_case_cause;
    INSERT INTO report_case_cause SELECT * FROM report_cause_votes;
    INSERT INTO report_rollup (category, department, day, measure, key, n, total)
    SELECT dm.category, dm.department, v.day, 'cause', v.cause, sum(v.n), 0
    FROM (SELECT day, category, departments, cause, count(*) AS n
          FROM report_case_cause GROUP BY 1, 2, 3, 4) v,
         LATERAL report_dims(v.category, v.departments) dm
    WHERE dm.category <> '*'
    GROUP BY 1, 2, 3, 5;
END
$$;
-- +goose StatementEnd

-- A finding added, taken away or given another root cause changes the
-- case's votes.
CREATE CONSTRAINT TRIGGER report_findings_insert_delete AFTER INSERT OR DELETE ON findings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION report_touch();
CREATE CONSTRAINT TRIGGER report_findings_update AFTER UPDATE ON findings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((OLD.reference, OLD.root_cause) IS DISTINCT FROM (NEW.reference, NEW.root_cause))
    EXECUTE FUNCTION report_touch();

SELECT report_rebuild();

-- +goose Down
DROP TRIGGER report_findings_update ON findings;
DROP TRIGGER report_findings_insert_delete ON findings;
DROP FUNCTION report_rebuild();
DROP FUNCTION report_refresh(text[]);
DROP VIEW report_cause_votes;
ALTER FUNCTION report_rebuild_measures() RENAME TO report_rebuild;
ALTER FUNCTION report_refresh_measures(text[]) RENAME TO report_refresh;
DELETE FROM report_rollup WHERE measure = 'cause';
DROP INDEX report_rollup_causes;
DROP TABLE report_case_cause;
