// Package store is the application's PostgreSQL database: the complaint
// record, the customer's contact details kept apart from it, and the audit
// trail. Every write is idempotent on a key the workflow derives, so a retried
// activity never adds a second row.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/migrations"
)

// Store is a pool of connections to the application database.
type Store struct {
	pool *pgxpool.Pool
}

// Option adjusts the pool's configuration before it connects.
type Option func(*pgxpool.Config)

// WithQueryTracer has t trace every query, batch and connection acquisition
// of the pool (telemetry.PgxTracer: a span per query under the caller's span).
func WithQueryTracer(t pgx.QueryTracer) Option {
	return func(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = t }
}

// Open connects to the database at dsn. The pool connects lazily, so a
// process can start while the database is still coming up.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	for _, opt := range opts {
		opt(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close releases every connection.
func (s *Store) Close() { s.pool.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Migrate brings the schema at dsn up to date with the embedded migrations.
func Migrate(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("database url: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	// Migrations written in parallel branches may land out of order.
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// RegisterCase writes a new case, its customer's contact details and the
// "received" audit event, and links it to the earlier case it repeats.
// Registering the same reference again changes nothing and finds the same.
func (s *Store) RegisterCase(ctx context.Context, c complaint.NewCase) (complaint.Registration, error) {
	var reg complaint.Registration
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		in := c.Intake
		tag, err := tx.Exec(ctx, `
			INSERT INTO cases (reference, workflow_id, external_id, channel, category, classified, severity,
				priority, status, owner, departments, subject, order_id, product, desired_outcome,
				received_by, occurred_at, received_at, updated_at, source)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$18,$19)
			ON CONFLICT (reference) DO NOTHING`,
			c.Reference, complaint.WorkflowID(c.Reference), nullable(in.ExternalID), in.Channel, c.Category,
			c.Classified, in.Severity, c.Priority, complaint.StatusReceived, c.Owner, c.Departments, in.Subject,
			nullable(in.OrderID), nullable(in.Product), nullable(string(in.DesiredOutcome)), nullable(in.ReceivedBy),
			in.OccurredAt, c.ReceivedAt, nullable(in.Source))
		if err != nil {
			return fmt.Errorf("insert case: %w", err)
		}
		if tag.RowsAffected() == 0 { // registered before: report what was found then
			var repeatOf *string
			err := tx.QueryRow(ctx, `SELECT repeat_of, priority FROM cases WHERE reference = $1`, c.Reference).
				Scan(&repeatOf, &reg.Priority)
			if repeatOf != nil {
				reg.RepeatOf = *repeatOf
			} else {
				reg.Priority = ""
			}
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO customer_contacts (reference, customer_id, name, email, phone, language, description, already_tried)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			c.Reference, nullable(in.Customer.ID), in.Customer.Name, nullable(in.Customer.Email),
			nullable(in.Customer.Phone), in.Customer.Language, in.Description, nullable(in.AlreadyTried))
		if err != nil {
			return fmt.Errorf("insert customer contact: %w", err)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO case_events (reference, event_key, occurred_at, actor, step, summary)
			VALUES ($1, 'received', $2, $3, 'received', $4)`,
			c.Reference, c.ReceivedAt, c.Owner,
			fmt.Sprintf("Received by %s via %s; %s, priority %s", c.Owner, in.Channel, c.Category, c.Priority))
		if err != nil {
			return fmt.Errorf("insert received event: %w", err)
		}
		return s.linkRepeat(ctx, tx, c, &reg)
	})
	return reg, err
}

// linkRepeat finds the latest earlier case of the same customer (by their
// upstream id, email or phone) about the same category or order within the
// repeat window, links the new case to it and raises its priority.
func (s *Store) linkRepeat(ctx context.Context, tx pgx.Tx, c complaint.NewCase, reg *complaint.Registration) error {
	window := c.Policy.RepeatWindow
	cust := c.Intake.Customer
	if window <= 0 || (cust.ID == "" && cust.Email == "" && cust.Phone == "") {
		return nil
	}
	err := tx.QueryRow(ctx, `
		SELECT c.reference FROM cases c JOIN customer_contacts p USING (reference)
		WHERE c.reference <> $1 AND c.received_at >= $2 AND c.received_at <= $3
		  AND ((p.customer_id IS NOT NULL AND p.customer_id = $4)
		    OR (p.email IS NOT NULL AND lower(p.email) = lower($5))
		    OR (p.phone IS NOT NULL AND p.phone = $6))
		  AND (c.category = $7 OR (c.order_id IS NOT NULL AND c.order_id = $8))
		ORDER BY c.received_at DESC, c.reference LIMIT 1`,
		c.Reference, c.ReceivedAt.Add(-window), c.ReceivedAt, cust.ID, cust.Email, cust.Phone, c.Category,
		c.Intake.OrderID).Scan(&reg.RepeatOf)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look for an earlier case: %w", err)
	}
	reg.Priority = complaint.Raise(c.Priority)
	_, err = tx.Exec(ctx, `UPDATE cases SET repeat_of = $2, repeat = true, priority = $3 WHERE reference = $1`,
		c.Reference, reg.RepeatOf, reg.Priority)
	if err != nil {
		return fmt.Errorf("link repeat: %w", err)
	}
	return nil
}

// RecordStep appends a step to the audit trail and applies what it changes to
// the case record, once: a second call with the same key does nothing.
//
// It is one statement, so one round trip in its own transaction: every
// deadline a case meets or misses writes one, and a burst of them queues on
// the database's round trips, not on its work. The clock events and the
// case's update happen only when the step's event is new.
func (s *Store) RecordStep(ctx context.Context, st complaint.Step) error {
	n := len(st.SLA)
	keys, clocks, events := make([]string, n), make([]string, n), make([]string, n)
	departments := make([]sql.NullString, n)
	rounds, levels := make([]int, n), make([]int, n)
	dues, ats := make([]time.Time, n), make([]time.Time, n)
	approximate := make([]bool, n)
	for i, e := range st.SLA {
		keys[i], clocks[i], events[i], departments[i] = e.Key(), e.Clock, e.Event, nullable(string(e.Department))
		rounds[i], levels[i], dues[i], ats[i], approximate[i] = e.Round, e.Level, e.DueAt, e.At, e.Approximate
	}
	var depts []string
	if st.Departments != nil {
		depts = complaint.Names(st.Departments)
	}
	var closedAt *time.Time
	var outcome, summary string
	if st.Closed != nil {
		closedAt, outcome, summary = &st.Closed.At, string(st.Closed.Outcome), st.Closed.Summary
	}
	_, err := s.pool.Exec(ctx, `
		WITH event AS (
			INSERT INTO case_events (reference, event_key, occurred_at, actor, step, summary)
			VALUES ($1,$17,$4,$18,$19,$20) ON CONFLICT (reference, event_key) DO NOTHING
			RETURNING reference
		), clock_events AS (
			INSERT INTO sla_events (reference, event_key, clock, department, round, event, level, due_at, occurred_at, approximate)
			SELECT event.reference, e.* FROM event,
				unnest($21::text[], $22::text[], $23::text[], $24::integer[], $25::text[], $26::integer[],
					$27::timestamptz[], $28::timestamptz[], $29::boolean[])
					AS e (event_key, clock, department, round, event, level, due_at, occurred_at, approximate)
			ON CONFLICT (reference, event_key) DO NOTHING
		)
		UPDATE cases SET
			status = COALESCE($2, status),
			owner = COALESCE($3, owner),
			acknowledged_at = COALESCE(acknowledged_at, $15),
			departments = COALESCE($5, departments),
			dispute_stage = COALESCE($6, dispute_stage),
			closed_at = CASE WHEN $9 THEN NULL ELSE COALESCE($7, closed_at) END,
			outcome = CASE WHEN $9 THEN NULL ELSE COALESCE($8, outcome) END,
			close_summary = CASE WHEN $9 THEN NULL ELSE COALESCE($10, close_summary) END,
			round = GREATEST(round, $11),
			escalation_level = $12,
			sla_breached = $13,
			last_step = $14,
			priority = COALESCE($16, priority),
			updated_at = $4
		WHERE reference = $1 AND last_step < $14 AND EXISTS (SELECT FROM event)`,
		st.Reference, nullable(string(st.Status)), nullable(st.Owner), st.At, depts,
		nullable(string(st.DisputeStage)), closedAt, nullable(outcome), st.Reopened, nullable(summary), st.Round,
		st.EscalationLevel, st.SLABreached, st.Seq, st.AcknowledgedAt, nullable(string(st.Priority)),
		st.Key, st.Actor, st.Name, st.Summary,
		keys, clocks, departments, rounds, events, levels, dues, ats, approximate)
	if err != nil {
		return fmt.Errorf("record step %s: %w", st.Key, err)
	}
	return nil
}

// CaseRow is a case as the database records it.
type CaseRow struct {
	Reference      string
	WorkflowID     string
	Status         complaint.Status
	Owner          string
	Category       complaint.Category
	Priority       complaint.Priority
	Channel        complaint.Channel
	Departments    []string
	ReceivedAt     time.Time
	AcknowledgedAt *time.Time
	ClosedAt       *time.Time
	Outcome        *string
	DisputeStage   *string
	Round          int
}

// ErrNotFound is returned when no case has the reference.
var ErrNotFound = errors.New("case not found")

// Case reads one case record.
func (s *Store) Case(ctx context.Context, reference string) (CaseRow, error) {
	var r CaseRow
	err := s.pool.QueryRow(ctx, `
		SELECT reference, workflow_id, status, owner, category, priority, channel, departments, received_at,
			acknowledged_at, closed_at, outcome, dispute_stage, round
		FROM cases WHERE reference = $1`, reference).
		Scan(&r.Reference, &r.WorkflowID, &r.Status, &r.Owner, &r.Category, &r.Priority, &r.Channel,
			&r.Departments, &r.ReceivedAt, &r.AcknowledgedAt, &r.ClosedAt, &r.Outcome, &r.DisputeStage, &r.Round)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// Events reads a case's audit trail in order.
func (s *Store) Events(ctx context.Context, reference string) ([]complaint.Event, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT occurred_at, step, actor, summary FROM case_events
		WHERE reference = $1 ORDER BY occurred_at, recorded_at`, reference)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (complaint.Event, error) {
		var e complaint.Event
		err := row.Scan(&e.At, &e.Step, &e.Actor, &e.Summary)
		return e, err
	})
}

func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// SaveResolution writes a proposal, its answer and its execution, keyed by
// the attempt: saving the same attempt again overwrites it with what is
// known now, so retries and later answers never add rows.
func (s *Store) SaveResolution(ctx context.Context, reference string, r complaint.Resolution) error {
	var amount any
	if r.Compensation.Amount != "" {
		amount = r.Compensation.Amount
	}
	var (
		limit, approvedBy       sql.NullString
		approved, confirmed     *bool
		approvedAt, confirmedAt *time.Time
		timedOut                bool
	)
	if a := r.Approval; a != nil {
		limit, approved, approvedBy, approvedAt = nullable(a.Limit), a.Approved, nullable(a.By), a.At
	}
	if c := r.Confirmation; c != nil {
		confirmed, confirmedAt, timedOut = c.Resolved, c.At, c.TimedOut
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO resolutions (reference, attempt, actions, compensation_kind, amount, currency, message,
			proposed_by, proposed_at, accepted, answered_at, executed_at,
			approval_limit, approved, approved_by, approved_at, confirmed, confirmed_at, confirmation_timed_out)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)
		ON CONFLICT (reference, attempt) DO UPDATE SET
			accepted = COALESCE(EXCLUDED.accepted, resolutions.accepted),
			answered_at = COALESCE(EXCLUDED.answered_at, resolutions.answered_at),
			executed_at = COALESCE(EXCLUDED.executed_at, resolutions.executed_at),
			approved = COALESCE(EXCLUDED.approved, resolutions.approved),
			approved_by = COALESCE(EXCLUDED.approved_by, resolutions.approved_by),
			approved_at = COALESCE(EXCLUDED.approved_at, resolutions.approved_at),
			confirmed = COALESCE(EXCLUDED.confirmed, resolutions.confirmed),
			confirmed_at = COALESCE(EXCLUDED.confirmed_at, resolutions.confirmed_at),
			confirmation_timed_out = EXCLUDED.confirmation_timed_out OR resolutions.confirmation_timed_out`,
		reference, r.Attempt, r.Actions, r.Compensation.Kind, amount, nullable(r.Compensation.Currency), r.Message,
		r.ProposedBy, r.ProposedAt, r.Accepted, r.AnsweredAt, r.ExecutedAt,
		limit, approved, approvedBy, approvedAt, confirmed, confirmedAt, timedOut)
	if err != nil {
		return fmt.Errorf("save resolution %d: %w", r.Attempt, err)
	}
	return nil
}

// SaveFinding archives a department's report for a round of the case;
// the same report saved again changes nothing.
func (s *Store) SaveFinding(ctx context.Context, reference string, f complaint.Finding) error {
	evidence := f.Evidence
	if evidence == nil {
		evidence = []string{}
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO findings (reference, round, department, investigator, findings, root_cause, evidence, reported_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (reference, round, department) DO NOTHING`,
		reference, f.Round, string(f.Department), f.Investigator, f.Findings, f.RootCause, evidence, f.ReportedAt)
	if err != nil {
		return fmt.Errorf("save findings of %s: %w", f.Department, err)
	}
	return nil
}

// SaveFollowUp writes the follow-up of a low score as it stands, and keeps
// the case's follow_up_due (the staff's follow-up queue) with it.
func (s *Store) SaveFollowUp(ctx context.Context, reference string, f complaint.FollowUp) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO follow_ups (reference, round, score, owner, opened_at, due_at, done_at, done_by, summary)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
			ON CONFLICT (reference, round) DO UPDATE SET
				done_at = COALESCE(EXCLUDED.done_at, follow_ups.done_at),
				done_by = COALESCE(EXCLUDED.done_by, follow_ups.done_by),
				summary = COALESCE(EXCLUDED.summary, follow_ups.summary)`,
			reference, f.Round, f.Score, f.Owner, f.OpenedAt, f.DueAt, f.DoneAt, nullable(f.DoneBy), nullable(f.Summary)); err != nil {
			return fmt.Errorf("save follow-up of %s: %w", reference, err)
		}
		_, err := tx.Exec(ctx, `UPDATE cases SET follow_up_due = (
				SELECT min(due_at) FROM follow_ups WHERE reference = $1 AND done_at IS NULL)
			WHERE reference = $1`, reference)
		return err
	})
}

// SaveSurvey writes a survey as it stands, keyed by its round.
func (s *Store) SaveSurvey(ctx context.Context, reference string, sv complaint.Survey) error {
	var score any
	if sv.Score > 0 {
		score = sv.Score
	}
	// A case whose customer was erased keeps no comment, even one an
	// activity in flight during the erasure brings (its data key is gone).
	_, err := s.pool.Exec(ctx, `
		INSERT INTO surveys (reference, round, sent_at, reminded_at, score, comment, answered_at, expired, cancelled)
		SELECT $1,$2,$3,$4,$5,
			CASE WHEN EXISTS (SELECT 1 FROM data_keys WHERE scope = 'case:' || $1 AND wrapped IS NULL) THEN NULL ELSE $6 END,
			$7,$8,$9
		ON CONFLICT (reference, round) DO UPDATE SET
			reminded_at = COALESCE(EXCLUDED.reminded_at, surveys.reminded_at),
			score = COALESCE(EXCLUDED.score, surveys.score),
			comment = COALESCE(EXCLUDED.comment, surveys.comment),
			answered_at = COALESCE(EXCLUDED.answered_at, surveys.answered_at),
			expired = EXCLUDED.expired OR surveys.expired,
			cancelled = EXCLUDED.cancelled OR surveys.cancelled`,
		reference, sv.Round, sv.SentAt, sv.RemindedAt, score, nullable(sv.Comment), sv.AnsweredAt, sv.Expired, sv.Cancelled)
	if err != nil {
		return fmt.Errorf("save survey %d: %w", sv.Round, err)
	}
	return nil
}

// SurveyRow is a survey as the database records it.
type SurveyRow struct {
	Round   int
	Score   *int
	Expired bool
	Comment *string
}

// Surveys reads a case's surveys in order.
func (s *Store) Surveys(ctx context.Context, reference string) ([]SurveyRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT round, score, expired, comment FROM surveys WHERE reference = $1 ORDER BY round`, reference)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[SurveyRow])
}

// ResolutionCount counts the proposals recorded for a case.
func (s *Store) ResolutionCount(ctx context.Context, reference string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM resolutions WHERE reference = $1`, reference).Scan(&n)
	return n, err
}

// SLAEventRow is an SLA event as the database records it.
type SLAEventRow struct {
	Clock      string
	Department *string
	Event      string
	Level      int
	DueAt      time.Time
	At         time.Time
}

// SLAEvents reads a case's SLA events in order.
func (s *Store) SLAEvents(ctx context.Context, reference string) ([]SLAEventRow, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT clock, department, event, level, due_at, occurred_at FROM sla_events
		WHERE reference = $1 ORDER BY occurred_at, event_key`, reference)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[SLAEventRow])
}
