-- +goose Up
-- The read side: the list of cases (GET /v1/complaints) and the reports of
-- DOMAIN §5 (GET /v1/reports/summary, /reports).
--
-- The list reads cases through the indexes below. The reports read a rollup,
-- report_rollup and report_hist, kept exact by triggers: a million cases
-- cannot be counted, averaged and ranked in under 100 ms on two cores, the
-- rollup's rows of a year can. How it stays correct:
--   * report_facts (a view) derives everything the reports need to know about
--     one case from cases, surveys, resolutions and sla_events;
--   * report_case keeps, per case, the facts last added to the rollup;
--   * report_refresh(refs) recomputes the facts of those cases, adds the new
--     ones' contribution to the rollup and takes the old ones' away, in one
--     statement, one refresh at a time (a transaction-scoped advisory lock);
--   * a deferred constraint trigger on each of the four tables refreshes a
--     changed case when its transaction commits, once per case.
-- Bulk loads (store.Seed) set complaints.report_rollup = 'off' for their
-- transaction and call report_refresh themselves; report_rebuild() starts
-- the whole rollup over (after changing report_settings.time_zone, say).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Who complained about the same thing before (filled at intake; 00006
-- adds the same columns for databases that had it before this one).
ALTER TABLE cases
    ADD COLUMN IF NOT EXISTS repeat_of text,
    ADD COLUMN IF NOT EXISTS repeat    boolean NOT NULL DEFAULT false;

-- The list is newest first, ties by reference: every filter's index is in
-- that order, so a page is a short ordered index scan from the cursor.
DROP INDEX cases_status_received;
CREATE INDEX cases_status_received ON cases (status, received_at DESC, reference);
CREATE INDEX cases_category_received ON cases (category, received_at DESC, reference);
CREATE INDEX cases_channel_received ON cases (channel, received_at DESC, reference);
CREATE INDEX cases_owner_received ON cases (owner, received_at DESC, reference);
CREATE INDEX cases_breached_received ON cases (received_at DESC, reference) WHERE sla_breached;
CREATE INDEX cases_departments ON cases USING gin (departments);
CREATE INDEX cases_subject_trgm ON cases USING gin (subject gin_trgm_ops);

-- The days of the reports are days in this time zone (keep it equal to
-- REFERENCE_TIME_ZONE; after changing it, SELECT report_rebuild()).
CREATE TABLE report_settings (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    time_zone text NOT NULL
);
INSERT INTO report_settings (time_zone) VALUES ('Asia/Shanghai');

-- What the reports know of one case, as last added to the rollup.
CREATE TABLE report_case (
    reference      text PRIMARY KEY,
    day            date NOT NULL,             -- received, in report_settings.time_zone
    category       text NOT NULL,
    departments    text[] NOT NULL,
    channel        text NOT NULL,
    status         text NOT NULL,
    closed         boolean NOT NULL,          -- closed with an outcome
    resolved       boolean NOT NULL,          -- ... upheld or partially upheld
    repeat         boolean NOT NULL,          -- repeat_of is set
    escalated      boolean NOT NULL,          -- escalation_level > 0
    breached       boolean NOT NULL,          -- sla_breached
    ack_s          double precision,          -- acknowledged_at - received_at
    response_s     double precision,          -- firstResponse clock met - received_at
    handling_s     double precision,          -- closed_at - received_at
    scores         integer[] NOT NULL,        -- answered surveys
    clocks_decided text[] NOT NULL,           -- one entry per SLA clock met or breached
    clocks_met     text[] NOT NULL,           -- ... met without a breach
    comp_currency  text[] NOT NULL,           -- compensation carried out, per currency
    comp_amount    numeric[] NOT NULL
);
CREATE INDEX report_case_day ON report_case (day);
CREATE INDEX report_case_category_day ON report_case (category, day);

-- The rollup: per day received, category and department ('*' = all, so any
-- filter reads one row per day and measure), the sum n and total of each
-- measure. Measures and their keys:
--   cases, closed, resolved, repeat, escalated, breached   ''           n = cases
--   channel, status                                        the value    n = cases
--   ack, response, handling                                ''           n = cases timed, total = seconds
--   score                                                  '1'..'5'     n = survey answers
--   clock, clock_met                                       clock name   n = clocks decided, met in time
--   compensation                                           currency     n = cases, total = amount
CREATE TABLE report_rollup (
    category   text NOT NULL,
    department text NOT NULL,
    day        date NOT NULL,
    measure    text NOT NULL,
    key        text NOT NULL,
    n          bigint NOT NULL,
    total      numeric NOT NULL,
    PRIMARY KEY (category, department, day, measure, key)
);
-- Cases by category (of a department or '*') and by department (of a
-- category or '*'). Partial, so that the other measures' updates stay HOT.
CREATE INDEX report_rollup_by_category ON report_rollup (department, day) INCLUDE (category, n) WHERE measure = 'cases';
CREATE INDEX report_rollup_by_department ON report_rollup (category, day) INCLUDE (department, n) WHERE measure = 'cases';

-- The durations (metric ack, response or handling) of the same cases as
-- histograms, for their medians and 90th percentiles: counts[b + 1] is how
-- many fell into bucket b of report_buckets().
CREATE TABLE report_hist (
    category   text NOT NULL,
    department text NOT NULL,
    day        date NOT NULL,
    metric     text NOT NULL,
    counts     integer[] NOT NULL,
    PRIMARY KEY (category, department, day, metric)
);

-- Durations fall into buckets eight to an octave: bucket 0 holds less than
-- a second, bucket b [2^((b-1)/8), 2^(b/8)) seconds, the last one the rest
-- (from 2^(207/8) s, about 600 days).
-- +goose StatementBegin
CREATE FUNCTION report_buckets() RETURNS TABLE (bucket integer, lo double precision, hi double precision)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT b, CASE WHEN b = 0 THEN 0 ELSE power(2, (b - 1) / 8.0) END, power(2, b / 8.0)
    FROM generate_series(0, 208) AS b
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION report_bucket(seconds double precision) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN seconds < 1 THEN 0 ELSE least(1 + floor(8 * ln(seconds) / ln(2))::integer, 208) END
$$;
-- +goose StatementEnd

-- A histogram of counts[i] durations in buckets[i].
-- +goose StatementBegin
CREATE FUNCTION report_hist_array(buckets integer[], counts bigint[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(coalesce(c.n, 0)::integer ORDER BY b.bucket)
    FROM report_buckets() AS b
    LEFT JOIN (SELECT x.b, sum(x.n) AS n FROM unnest(buckets, counts) AS x (b, n) GROUP BY x.b) AS c ON c.b = b.bucket
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION report_hist_add(a integer[], b integer[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(coalesce(x, 0) + coalesce(y, 0) ORDER BY i) FROM unnest(a, b) WITH ORDINALITY AS t (x, y, i)
$$;
-- +goose StatementEnd

-- The rollup rows a case of this category and these departments adds to.
-- +goose StatementBegin
CREATE FUNCTION report_dims(case_category text, case_departments text[])
RETURNS TABLE (category text, department text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT c, d
    FROM unnest(ARRAY[case_category, '*']) AS c,
         (SELECT DISTINCT unnest(case_departments || '{*}'::text[])) AS ds (d)
$$;
-- +goose StatementEnd

-- Seconds from one time to a later one; null when either is unknown.
-- +goose StatementBegin
CREATE FUNCTION report_seconds(from_time timestamptz, to_time timestamptz) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT greatest(extract(epoch FROM to_time - from_time), 0)::double precision
$$;
-- +goose StatementEnd

CREATE VIEW report_facts AS
SELECT c.reference,
       (c.received_at AT TIME ZONE z.time_zone)::date AS day,
       c.category,
       c.departments,
       c.channel,
       c.status,
       c.outcome IS NOT NULL AS closed,
       coalesce(c.outcome IN ('upheld', 'partially_upheld'), false) AS resolved,
       c.repeat_of IS NOT NULL AS repeat,
       c.escalation_level > 0 AS escalated,
       c.sla_breached AS breached,
       report_seconds(c.received_at, c.acknowledged_at) AS ack_s,
       report_seconds(c.received_at, e.first_response_at) AS response_s,
       report_seconds(c.received_at, c.closed_at) AS handling_s,
       coalesce(sv.scores, '{}') AS scores,
       coalesce(e.decided, '{}') AS clocks_decided,
       coalesce(e.met, '{}') AS clocks_met,
       coalesce(r.currencies, '{}') AS comp_currency,
       coalesce(r.amounts, '{}') AS comp_amount
FROM cases c
CROSS JOIN report_settings z
LEFT JOIN LATERAL (
    SELECT array_agg(s.score ORDER BY s.round) AS scores
    FROM surveys s
    WHERE s.reference = c.reference AND s.score IS NOT NULL
) sv ON true
LEFT JOIN LATERAL (
    -- One row per clock instance (clock, department, round): decided once
    -- met or breached, in time when met without a breach.
    SELECT min(k.met_at) FILTER (WHERE k.clock = 'firstResponse') AS first_response_at,
           array_agg(k.clock ORDER BY k.clock) FILTER (WHERE k.decided) AS decided,
           array_agg(k.clock ORDER BY k.clock) FILTER (WHERE k.decided AND NOT k.breached) AS met
    FROM (SELECT se.clock,
                 bool_or(se.event IN ('met', 'breached')) AS decided,
                 bool_or(se.event = 'breached') AS breached,
                 min(se.occurred_at) FILTER (WHERE se.event = 'met') AS met_at
          FROM sla_events se
          WHERE se.reference = c.reference
          GROUP BY se.clock, se.department, se.round) k
) e ON true
LEFT JOIN LATERAL (
    SELECT array_agg(x.currency ORDER BY x.currency) AS currencies,
           array_agg(x.amount ORDER BY x.currency) AS amounts
    FROM (SELECT coalesce(re.currency, '') AS currency, sum(re.amount) AS amount
          FROM resolutions re
          WHERE re.reference = c.reference AND re.executed_at IS NOT NULL AND re.amount IS NOT NULL
          GROUP BY 1) x
) r ON true;

-- What one case's facts add to each measure (see report_rollup).
-- +goose StatementBegin
CREATE FUNCTION report_measures(f report_case)
RETURNS TABLE (measure text, key text, n bigint, total numeric)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT m.measure, m.key, m.n, m.total
    FROM unnest(
        ARRAY['cases', 'channel', 'status', 'closed', 'resolved', 'repeat', 'escalated', 'breached',
              'ack', 'response', 'handling'],
        ARRAY['', f.channel, f.status, '', '', '', '', '', '', '', ''],
        ARRAY[1, 1, 1, f.closed::integer, f.resolved::integer, f.repeat::integer, f.escalated::integer,
              f.breached::integer, (f.ack_s IS NOT NULL)::integer, (f.response_s IS NOT NULL)::integer,
              (f.handling_s IS NOT NULL)::integer]::bigint[],
        ARRAY[0, 0, 0, 0, 0, 0, 0, 0, coalesce(f.ack_s, 0), coalesce(f.response_s, 0), coalesce(f.handling_s, 0)]::numeric[]
    ) AS m (measure, key, n, total)
    WHERE m.n <> 0
    UNION ALL SELECT 'score', s::text, count(*), 0 FROM unnest(f.scores) AS s GROUP BY s
    UNION ALL SELECT 'clock', c, count(*), 0 FROM unnest(f.clocks_decided) AS c GROUP BY c
    UNION ALL SELECT 'clock_met', c, count(*), 0 FROM unnest(f.clocks_met) AS c GROUP BY c
    UNION ALL SELECT 'compensation', cur, 1, amt FROM unnest(f.comp_currency, f.comp_amount) AS t (cur, amt)
$$;
-- +goose StatementEnd

-- The durations one case's facts add to the histograms.
-- +goose StatementBegin
CREATE FUNCTION report_durations(f report_case) RETURNS TABLE (metric text, bucket integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT d.metric, report_bucket(d.seconds)
    FROM unnest(ARRAY['ack', 'response', 'handling'], ARRAY[f.ack_s, f.response_s, f.handling_s]) AS d (metric, seconds)
    WHERE d.seconds IS NOT NULL
$$;
-- +goose StatementEnd

-- Brings the facts of these cases and the rollup up to date with the base
-- tables. The change is summed per day, category and departments first,
-- then spread over the rollup's rows ('*' included). One refresh at a
-- time: the old facts read here are then the ones the rollup holds.
-- +goose StatementBegin
CREATE FUNCTION report_refresh(refs text[]) RETURNS void
LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7354392110); -- the rollup's lock
    WITH keys AS MATERIALIZED (
        SELECT DISTINCT unnest(refs) AS reference
    ), old AS MATERIALIZED (
        SELECT f.* FROM report_case f WHERE f.reference IN (SELECT reference FROM keys)
    ), new AS MATERIALIZED (
        SELECT f.* FROM report_facts f WHERE f.reference IN (SELECT reference FROM keys)
    ), put AS (
        INSERT INTO report_case SELECT * FROM new
        ON CONFLICT (reference) DO UPDATE SET
            day = EXCLUDED.day, category = EXCLUDED.category, departments = EXCLUDED.departments,
            channel = EXCLUDED.channel, status = EXCLUDED.status, closed = EXCLUDED.closed,
            resolved = EXCLUDED.resolved, repeat = EXCLUDED.repeat, escalated = EXCLUDED.escalated,
            breached = EXCLUDED.breached, ack_s = EXCLUDED.ack_s, response_s = EXCLUDED.response_s,
            handling_s = EXCLUDED.handling_s, scores = EXCLUDED.scores, clocks_decided = EXCLUDED.clocks_decided,
            clocks_met = EXCLUDED.clocks_met, comp_currency = EXCLUDED.comp_currency, comp_amount = EXCLUDED.comp_amount
    ), gone AS (
        DELETE FROM report_case WHERE reference IN (SELECT reference FROM old EXCEPT SELECT reference FROM new)
    ), durations AS (
        SELECT x.day, x.category, x.departments, x.metric, x.bucket, sum(x.n)::bigint AS n
        FROM (SELECT f.day, f.category, f.departments, d.metric, d.bucket, 1 AS n
              FROM new f, LATERAL report_durations(f::report_case) d
              UNION ALL
              SELECT f.day, f.category, f.departments, d.metric, d.bucket, -1
              FROM old f, LATERAL report_durations(f::report_case) d) x
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(x.n) <> 0
    ), hist AS (
        INSERT INTO report_hist AS h (category, department, day, metric, counts)
        SELECT dm.category, dm.department, c.day, c.metric, report_hist_array(array_agg(c.bucket), array_agg(c.n))
        FROM durations c, LATERAL report_dims(c.category, c.departments) dm
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (category, department, day, metric) DO UPDATE SET counts = report_hist_add(h.counts, EXCLUDED.counts)
    ), changes AS (
        SELECT x.day, x.category, x.departments, x.measure, x.key, sum(x.n) AS n, sum(x.total) AS total
        FROM (SELECT f.day, f.category, f.departments, m.measure, m.key, m.n, m.total
              FROM new f, LATERAL report_measures(f::report_case) m
              UNION ALL
              SELECT f.day, f.category, f.departments, m.measure, m.key, -m.n, -m.total
              FROM old f, LATERAL report_measures(f::report_case) m) x
        GROUP BY 1, 2, 3, 4, 5
        HAVING sum(x.n) <> 0 OR sum(x.total) <> 0
    )
    INSERT INTO report_rollup AS r (category, department, day, measure, key, n, total)
    SELECT dm.category, dm.department, c.day, c.measure, c.key, sum(c.n), sum(c.total)
    FROM changes c, LATERAL report_dims(c.category, c.departments) dm
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (category, department, day, measure, key)
        DO UPDATE SET n = r.n + EXCLUDED.n, total = r.total + EXCLUDED.total;
END
$$;
-- +goose StatementEnd

-- Starts the rollup over from the base tables.
-- +goose StatementBegin
CREATE FUNCTION report_rebuild() RETURNS void
LANGUAGE plpgsql SET jit = off SET work_mem = '256MB' AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7354392110);
    DELETE FROM report_hist;
    DELETE FROM report_rollup;
    DELETE FROM report_case;
    INSERT INTO report_case SELECT * FROM report_facts;
    INSERT INTO report_rollup (category, department, day, measure, key, n, total)
    SELECT dm.category, dm.department, c.day, c.measure, c.key, sum(c.n), sum(c.total)
    FROM (SELECT f.day, f.category, f.departments, m.measure, m.key, sum(m.n) AS n, sum(m.total) AS total
          FROM report_case f, LATERAL report_measures(f) m
          GROUP BY 1, 2, 3, 4, 5) c,
         LATERAL report_dims(c.category, c.departments) dm
    GROUP BY 1, 2, 3, 4, 5;
    INSERT INTO report_hist (category, department, day, metric, counts)
    SELECT dm.category, dm.department, c.day, c.metric, report_hist_array(array_agg(c.bucket), array_agg(c.n))
    FROM (SELECT f.day, f.category, f.departments, d.metric, d.bucket, count(*) AS n
          FROM report_case f, LATERAL report_durations(f) d
          GROUP BY 1, 2, 3, 4, 5) c,
         LATERAL report_dims(c.category, c.departments) dm
    GROUP BY 1, 2, 3, 4;
END
$$;
-- +goose StatementEnd

-- The trigger: at commit, refresh the case a row belongs to, once per
-- transaction (every change of the transaction is in by then).
-- +goose StatementBegin
CREATE FUNCTION report_touch() RETURNS trigger
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

CREATE CONSTRAINT TRIGGER report_cases_insert_delete AFTER INSERT OR DELETE ON cases
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION report_touch();
CREATE CONSTRAINT TRIGGER report_cases_update AFTER UPDATE ON cases
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((OLD.received_at, OLD.category, OLD.departments, OLD.channel, OLD.status, OLD.outcome, OLD.repeat_of,
           OLD.escalation_level, OLD.sla_breached, OLD.acknowledged_at, OLD.closed_at)
          IS DISTINCT FROM
          (NEW.received_at, NEW.category, NEW.departments, NEW.channel, NEW.status, NEW.outcome, NEW.repeat_of,
           NEW.escalation_level, NEW.sla_breached, NEW.acknowledged_at, NEW.closed_at))
    EXECUTE FUNCTION report_touch();
CREATE CONSTRAINT TRIGGER report_surveys AFTER INSERT OR UPDATE OR DELETE ON surveys
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION report_touch();
CREATE CONSTRAINT TRIGGER report_resolutions AFTER INSERT OR UPDATE OR DELETE ON resolutions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION report_touch();
-- Only a clock met or breached changes what the reports know.
CREATE CONSTRAINT TRIGGER report_sla_events_insert AFTER INSERT ON sla_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.event IN ('met', 'breached'))
    EXECUTE FUNCTION report_touch();
CREATE CONSTRAINT TRIGGER report_sla_events_change AFTER UPDATE OR DELETE ON sla_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION report_touch();

SELECT report_rebuild();

-- +goose Down
DROP TRIGGER report_sla_events_change ON sla_events;
DROP TRIGGER report_sla_events_insert ON sla_events;
DROP TRIGGER report_resolutions ON resolutions;
DROP TRIGGER report_surveys ON surveys;
DROP TRIGGER report_cases_update ON cases;
DROP TRIGGER report_cases_insert_delete ON cases;
DROP FUNCTION report_touch();
DROP FUNCTION report_rebuild();
DROP FUNCTION report_refresh(text[]);
DROP FUNCTION report_durations(report_case);
DROP FUNCTION report_measures(report_case);
DROP VIEW report_facts;
DROP FUNCTION report_seconds(timestamptz, timestamptz);
DROP FUNCTION report_dims(text, text[]);
DROP FUNCTION report_hist_add(integer[], integer[]);
DROP FUNCTION report_hist_array(integer[], bigint[]);
DROP FUNCTION report_bucket(double precision);
DROP FUNCTION report_buckets();
DROP TABLE report_hist;
DROP TABLE report_rollup;
DROP TABLE report_case;
DROP TABLE report_settings;
DROP INDEX cases_subject_trgm;
DROP INDEX cases_departments;
DROP INDEX cases_breached_received;
DROP INDEX cases_owner_received;
DROP INDEX cases_channel_received;
DROP INDEX cases_category_received;
DROP INDEX cases_status_received;
CREATE INDEX cases_status_received ON cases (status, received_at DESC);
ALTER TABLE cases DROP COLUMN IF EXISTS repeat, DROP COLUMN IF EXISTS repeat_of;
