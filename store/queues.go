package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// Queue is one of the staff desk's work queues.
type Queue string

const (
	QueueMine       Queue = "mine"       // open cases the person owns
	QueueDepartment Queue = "department" // open cases routed to the person's departments
	QueueDesk       Queue = "desk"       // open cases the desk owns (no first-contact employee): awaiting a person
	QueueDueSoon    Queue = "due"        // open cases whose next deadline is within DueSoonWithin
	QueueBreached   Queue = "breached"   // open cases whose next deadline has passed, or a clock was breached
	QueueWaiting    Queue = "waiting"    // open cases waiting on the customer
	QueueFollowUps  Queue = "followups"  // cases with a follow-up of a low score open (cases.follow_up_due)
	QueueSearch     Queue = "search"     // every case, by reference, order id or subject
)

// Queues are the desk's queues in the order it shows them.
var Queues = []Queue{QueueMine, QueueDepartment, QueueDesk, QueueDueSoon, QueueBreached, QueueWaiting, QueueFollowUps,
	QueueSearch}

// DueSoonWithin is how near a next deadline puts a case in the due-soon queue.
const DueSoonWithin = 24 * time.Hour

// QueueFilter selects a queue's cases for one person.
type QueueFilter struct {
	Queue Queue
	// Person is the one asking: their own cases; Departments are theirs;
	// Scoped restricts every queue to cases routed to Departments (department staff).
	Person      string
	Departments []string
	Scoped      bool
	// Narrowing filters, as in the address.
	Q        string // reference, order id or words in the subject
	Category string
	Priority string
	Status   string
	Owner    string
	Dept     string
	Channel  string
	Breached bool   // only cases with a clock breached
	From, To string // received on these days (YYYY-MM-DD, inclusive) in the reports' time zone, as the reports count
	// The reports' other figures, each a set of the cases behind it:
	// escalated at least once, a repeat complaint, closed upheld or
	// partially upheld, a survey answered with Score (1–5), the SLA clock
	// Clock breached (in any round), a finding naming RootCause (compared
	// trimmed and case-insensitively, as the hot spots count).
	Escalated, Repeat, Resolved bool
	Score                       int
	Clock                       string
	RootCause                   string
	// ByDeadline orders by the next deadline (soonest first) instead of newest first.
	ByDeadline bool
	Now        time.Time
	Limit      int
}

// QueueItem is one case in a queue.
type QueueItem struct {
	ListItem
	// NextDeadline is the due time of the soonest running clock; nil when
	// no clock runs.
	NextDeadline *time.Time `json:"nextDeadline,omitempty"`
	Waiting      bool       `json:"waitingOnCustomer"`
}

// openCase is a case someone still has to work on.
const openCase = `c.status NOT IN ('closed', 'survey_pending', 'completed', 'withdrawn')`

// nextDeadline is the soonest due time of the clocks still running: each
// clock's (by department and round) latest event, unless it met, stopped or
// paused.
const nextDeadline = `(SELECT min(last.due_at) FROM (
		SELECT DISTINCT ON (e.clock, e.department, e.round) e.event, e.due_at FROM sla_events e
		WHERE e.reference = c.reference
		ORDER BY e.clock, e.department, e.round, e.occurred_at DESC, e.event_key DESC) last
	WHERE last.event NOT IN ('met', 'stopped', 'paused'))`

// waiting is whether the case's latest wait-or-reply step is a wait.
const waiting = `coalesce((SELECT e.step = 'waiting_on_customer' FROM case_events e
		WHERE e.reference = c.reference AND e.step IN ('waiting_on_customer', 'customer_replied')
		ORDER BY e.occurred_at DESC, e.recorded_at DESC LIMIT 1), false)`

// queueCondition is the SQL condition of a queue; arg adds a parameter.
func queueCondition(q Queue, f QueueFilter, arg func(any) string) (string, error) {
	switch q {
	case QueueMine:
		return openCase + " AND c.owner = " + arg(f.Person), nil
	case QueueDepartment:
		return openCase + " AND c.departments && " + arg(f.Departments) + "::text[]", nil
	case QueueDesk:
		return openCase + " AND c.owner = " + arg(complaint.DefaultOwner), nil
	case QueueDueSoon:
		return openCase + " AND d.next_deadline >= " + arg(f.Now) + " AND d.next_deadline < " + arg(f.Now.Add(DueSoonWithin)), nil
	case QueueBreached:
		return openCase + " AND (d.next_deadline < " + arg(f.Now) + " OR c.sla_breached)", nil
	case QueueWaiting:
		return openCase + " AND w.waiting", nil
	case QueueFollowUps:
		return "c.follow_up_due IS NOT NULL", nil
	case QueueSearch:
		return "true", nil
	}
	return "", fmt.Errorf("no queue %q", q)
}

func (f QueueFilter) where(arg func(any) string) []string {
	var where []string
	if f.Scoped {
		where = append(where, "c.departments && "+arg(f.Departments)+"::text[]")
	}
	for _, eq := range []struct{ column, value string }{
		{"c.category", f.Category}, {"c.priority", f.Priority}, {"c.status", f.Status}, {"c.owner", f.Owner},
	} {
		if eq.value != "" {
			where = append(where, eq.column+" = "+arg(eq.value))
		}
	}
	if f.Dept != "" {
		where = append(where, "c.departments @> ARRAY["+arg(f.Dept)+"]::text[]")
	}
	if f.Channel != "" {
		where = append(where, "c.channel = "+arg(f.Channel))
	}
	if f.Breached {
		where = append(where, "c.sla_breached")
	}
	// Days are the reports' days, so a figure's drill-down lists its cases.
	if _, err := time.Parse(time.DateOnly, f.From); err == nil {
		where = append(where, "c.received_at >= ("+arg(f.From)+"::date)::timestamp AT TIME ZONE (SELECT time_zone FROM report_settings)")
	}
	if _, err := time.Parse(time.DateOnly, f.To); err == nil {
		where = append(where, "c.received_at < ("+arg(f.To)+"::date + 1)::timestamp AT TIME ZONE (SELECT time_zone FROM report_settings)")
	}
	// report_case holds each case's facts as the reports count them.
	var facts []string
	for _, flag := range []struct {
		on     bool
		column string
	}{{f.Escalated, "rc.escalated"}, {f.Repeat, "rc.repeat"}, {f.Resolved, "rc.resolved"}} {
		if flag.on {
			facts = append(facts, flag.column)
		}
	}
	if f.Score >= 1 && f.Score <= 5 {
		facts = append(facts, arg(f.Score)+"::integer = ANY(rc.scores)")
	}
	if f.Clock != "" { // decided more often than met: breached at least once
		c := arg(f.Clock)
		facts = append(facts, fmt.Sprintf("cardinality(array_positions(rc.clocks_decided, %s::text)) > cardinality(array_positions(rc.clocks_met, %s::text))", c, c))
	}
	if len(facts) > 0 {
		where = append(where, "EXISTS (SELECT 1 FROM report_case rc WHERE rc.reference = c.reference AND "+strings.Join(facts, " AND ")+")")
	}
	if rc := strings.TrimSpace(f.RootCause); rc != "" {
		where = append(where, "EXISTS (SELECT 1 FROM findings fi WHERE fi.reference = c.reference AND lower(btrim(fi.root_cause)) = lower("+arg(rc)+"))")
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		p := arg("%" + escapeLike(q) + "%")
		where = append(where, fmt.Sprintf("(c.reference ILIKE %s OR c.order_id ILIKE %s OR c.subject ILIKE %s)", p, p, p))
	}
	return where
}

const queueFrom = ` FROM cases c
	CROSS JOIN LATERAL (SELECT ` + nextDeadline + ` AS next_deadline) d
	CROSS JOIN LATERAL (SELECT ` + waiting + ` AS waiting) w`

// QueueCases reads the cases of f's queue, newest first or by deadline.
func (s *Store) QueueCases(ctx context.Context, f QueueFilter) ([]QueueItem, error) {
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	limit := f.Limit
	if limit <= 0 || limit > MaxListLimit {
		limit = DefaultListLimit
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	cond, err := queueCondition(f.Queue, f, arg)
	if err != nil {
		return nil, err
	}
	where := append([]string{cond}, f.where(arg)...)
	if _, err := s.RefreshReports(ctx); err != nil { // the facts filters read report_case
		return nil, err
	}
	order := "c.received_at DESC, c.reference"
	switch {
	case f.Queue == QueueFollowUps:
		order = "c.follow_up_due ASC, c.reference"
	case f.ByDeadline || f.Queue == QueueDueSoon || f.Queue == QueueBreached:
		order = "d.next_deadline ASC NULLS LAST, c.received_at DESC, c.reference"
	}
	q := `SELECT c.reference, c.status, c.category, c.priority, c.channel, c.owner, c.departments, c.subject,
		c.received_at, c.acknowledged_at, c.closed_at, c.outcome, c.escalation_level, c.sla_breached, c.repeat_of,
		d.next_deadline, w.waiting` + queueFrom + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + order + fmt.Sprintf(" LIMIT %d", limit)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, readError(err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (QueueItem, error) {
		var it QueueItem
		err := row.Scan(&it.Reference, &it.Status, &it.Category, &it.Priority, &it.Channel, &it.Owner, &it.Departments,
			&it.Subject, &it.ReceivedAt, &it.AcknowledgedAt, &it.ClosedAt, &it.Outcome, &it.EscalationLevel,
			&it.SLABreached, &it.RepeatOf, &it.NextDeadline, &it.Waiting)
		return it, err
	})
	return items, readError(err)
}

// QueueCounts counts the cases of every queue for f's person, with f's
// narrowing filters (the search counts every case matching them).
func (s *Store) QueueCounts(ctx context.Context, f QueueFilter) (map[Queue]int, error) {
	if f.Now.IsZero() {
		f.Now = time.Now()
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	var cols []string
	for _, q := range Queues {
		cond, err := queueCondition(q, f, arg)
		if err != nil {
			return nil, err
		}
		cols = append(cols, "count(*) FILTER (WHERE "+cond+")")
	}
	if _, err := s.RefreshReports(ctx); err != nil { // the facts filters read report_case
		return nil, err
	}
	q := "SELECT " + strings.Join(cols, ", ") + queueFrom
	if where := f.where(arg); len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	counts := make([]int, len(Queues))
	dst := make([]any, len(Queues))
	for i := range counts {
		dst[i] = &counts[i]
	}
	if err := s.pool.QueryRow(ctx, q, args...).Scan(dst...); err != nil {
		return nil, readError(err)
	}
	out := make(map[Queue]int, len(Queues))
	for i, q := range Queues {
		out[q] = counts[i]
	}
	return out, nil
}
