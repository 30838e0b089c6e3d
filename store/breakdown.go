package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Breakdown is what managers compare people and departments on, for the
// cases a ReportFilter chooses, read from the case rows (not the rollup):
// SLA compliance and handling time per owner and per department, the
// reopen rate, CSAT, created against closed over time, the open backlog
// by age, and the same key figures for the period before.
type Breakdown struct {
	From       string `json:"from,omitempty"`
	To         string `json:"to,omitempty"`
	Category   string `json:"category,omitempty"`
	Department string `json:"department,omitempty"`
	TimeZone   string `json:"timeZone"`
	KeyFigures
	ByOwner      []GroupFigures `json:"byOwner" doc:"Per case owner, busiest first."`
	ByDepartment []GroupFigures `json:"byDepartment" doc:"Per department; a case routed to several counts for each."`
	// CreatedVsClosed counts, per period, the cases received and the cases
	// closed (whenever received) of the category and department.
	CreatedVsClosed []FlowPoint `json:"createdVsClosed"`
	Interval        string      `json:"interval" enum:"day,week,month"`
	Backlog         Backlog     `json:"backlog"`
	Previous        *KeyFigures `json:"previous,omitempty" doc:"The same figures for the period of the same length just before; only with from and to."`
	PreviousFrom    string      `json:"previousFrom,omitempty"`
	PreviousTo      string      `json:"previousTo,omitempty"`
}

// KeyFigures are a period's headline figures.
type KeyFigures struct {
	Cases int64 `json:"cases"`
	// SLA is clock instances met in time, of those met or breached.
	SLA Rate `json:"sla" doc:"SLA clocks met without a breach, of the clocks met or breached."`
	// Handling is the average receipt-to-closing time of the closed cases.
	Handling Durations `json:"handling" doc:"Receipt to closing of the closed cases (average only)."`
	Reopen   Rate      `json:"reopen" doc:"Cases reopened at least once, of the cases closed at least once."`
	CSAT     Rate      `json:"csat" doc:"Survey answers of 4 or 5, of all answers (the last answer of each case)."`
}

// GroupFigures are the figures of one owner or department.
type GroupFigures struct {
	Key string `json:"key"`
	KeyFigures
}

// FlowPoint is one period's intake and closings.
type FlowPoint struct {
	Period  string `json:"period"`
	Created int64  `json:"created"`
	Closed  int64  `json:"closed"`
}

// Backlog is the cases open at AsOf by how long they had been open.
type Backlog struct {
	AsOf  time.Time    `json:"asOf"`
	Open  int64        `json:"open"`
	ByAge []BacklogAge `json:"byAge"`
}

// BacklogAge is one age band of the backlog.
type BacklogAge struct {
	Age   string `json:"age" enum:"0-1d,1-3d,3-7d,7-14d,14-30d,30d+"`
	Count int64  `json:"count"`
}

// backlogBand is an age band of the backlog: its name and upper bound in
// days (negative: open).
type backlogBand struct {
	name string
	days float64
}

// backlogAges are the backlog's bands, youngest first.
var backlogAges = []backlogBand{{"0-1d", 1}, {"1-3d", 3}, {"3-7d", 7}, {"7-14d", 14}, {"14-30d", 30}, {"30d+", -1}}

// BacklogAgeNames are the backlog's age bands, youngest first.
func BacklogAgeNames() []string {
	out := make([]string, len(backlogAges))
	for i, a := range backlogAges {
		out[i] = a.name
	}
	return out
}

// caseFacts is one case as the breakdown counts it.
type caseFacts struct {
	owner       string
	departments []string
	handling    *float64 // seconds, when closed
	slaDecided  int64
	slaMet      int64
	everClosed  bool
	reopened    bool
	score       *int
}

// caseFilterSQL narrows cases (alias c) to a ReportFilter's period,
// category and department; args grows with its values.
func caseFilterSQL(f ReportFilter, args *[]any) (string, error) {
	arg := func(v any) string {
		*args = append(*args, v)
		return fmt.Sprintf("$%d", len(*args))
	}
	where := "true"
	for _, d := range []struct{ day, cond string }{
		{f.From, " AND c.received_at >= (%s::date)::timestamp AT TIME ZONE (SELECT time_zone FROM report_settings)"},
		{f.To, " AND c.received_at < (%s::date + 1)::timestamp AT TIME ZONE (SELECT time_zone FROM report_settings)"},
	} {
		if d.day != "" {
			if _, err := time.Parse(time.DateOnly, d.day); err != nil {
				return "", fmt.Errorf("%w: day %q", ErrBadFilter, d.day)
			}
			where += fmt.Sprintf(d.cond, arg(d.day))
		}
	}
	if f.Category != "" {
		where += " AND c.category = " + arg(f.Category)
	}
	if f.Department != "" {
		where += " AND c.departments @> ARRAY[" + arg(f.Department) + "]::text[]"
	}
	return where, nil
}

// Breakdown computes the figures of f, the backlog as of asOf, and the
// previous period's key figures when f has both ends.
func (s *Store) Breakdown(ctx context.Context, f ReportFilter, asOf time.Time) (Breakdown, error) {
	out := Breakdown{From: f.From, To: f.To, Category: f.Category, Department: f.Department}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead},
		func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT time_zone FROM report_settings`).Scan(&out.TimeZone); err != nil {
				return err
			}
			facts, err := readCaseFacts(ctx, tx, f)
			if err != nil {
				return err
			}
			out.KeyFigures = keyFigures(facts)
			out.ByOwner = groupFigures(facts, func(c caseFacts) []string { return []string{c.owner} })
			out.ByDepartment = groupFigures(facts, func(c caseFacts) []string { return c.departments })
			if out.Interval, out.CreatedVsClosed, err = readFlow(ctx, tx, f); err != nil {
				return err
			}
			if out.Backlog, err = readBacklog(ctx, tx, f, asOf); err != nil {
				return err
			}
			if f.From != "" && f.To != "" {
				from, _ := time.Parse(time.DateOnly, f.From)
				to, _ := time.Parse(time.DateOnly, f.To)
				if to.Before(from) {
					return fmt.Errorf("%w: to is before from", ErrBadFilter)
				}
				days := int(to.Sub(from).Hours()/24) + 1
				prev := f
				prev.From, prev.To = from.AddDate(0, 0, -days).Format(time.DateOnly), from.AddDate(0, 0, -1).Format(time.DateOnly)
				pf, err := readCaseFacts(ctx, tx, prev)
				if err != nil {
					return err
				}
				k := keyFigures(pf)
				out.Previous, out.PreviousFrom, out.PreviousTo = &k, prev.From, prev.To
			}
			return nil
		})
	if err != nil {
		return Breakdown{}, readError(err)
	}
	return out, nil
}

func readCaseFacts(ctx context.Context, tx pgx.Tx, f ReportFilter) ([]caseFacts, error) {
	var args []any
	where, err := caseFilterSQL(f, &args)
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `
		SELECT c.owner, c.departments, EXTRACT(EPOCH FROM c.closed_at - c.received_at)::float8,
			COALESCE(k.decided, 0), COALESCE(k.met, 0),
			c.closed_at IS NOT NULL OR EXISTS (SELECT 1 FROM case_events e WHERE e.reference = c.reference AND e.step = 'closed'),
			EXISTS (SELECT 1 FROM case_events e WHERE e.reference = c.reference AND e.step = 'reopened'),
			(SELECT s.score FROM surveys s WHERE s.reference = c.reference AND s.score IS NOT NULL ORDER BY s.round DESC LIMIT 1)
		FROM cases c
		LEFT JOIN LATERAL (
			SELECT count(*) FILTER (WHERE met OR breached) AS decided, count(*) FILTER (WHERE met AND NOT breached) AS met
			FROM (SELECT bool_or(e.event = 'met') AS met, bool_or(e.event = 'breached') AS breached
				FROM sla_events e WHERE e.reference = c.reference GROUP BY e.clock, e.department, e.round) clocks
		) k ON true
		WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (caseFacts, error) {
		var c caseFacts
		err := r.Scan(&c.owner, &c.departments, &c.handling, &c.slaDecided, &c.slaMet, &c.everClosed, &c.reopened, &c.score)
		return c, err
	})
}

func keyFigures(facts []caseFacts) KeyFigures {
	var k KeyFigures
	var slaMet, slaDecided, closed, reopened, satisfied, answers int64
	var handling float64
	for _, c := range facts {
		k.Cases++
		slaMet, slaDecided = slaMet+c.slaMet, slaDecided+c.slaDecided
		if c.handling != nil {
			k.Handling.Count++
			handling += *c.handling
		}
		if c.everClosed {
			closed++
			if c.reopened {
				reopened++
			}
		}
		if c.score != nil {
			answers++
			if *c.score >= 4 {
				satisfied++
			}
		}
	}
	if k.Handling.Count > 0 {
		avg := handling / float64(k.Handling.Count)
		k.Handling.AverageSeconds = &avg
	}
	k.SLA, k.Reopen, k.CSAT = rate(slaMet, slaDecided), rate(reopened, closed), rate(satisfied, answers)
	return k
}

// groupFigures computes the key figures of each group the cases fall in,
// the group with most cases first.
func groupFigures(facts []caseFacts, groups func(caseFacts) []string) []GroupFigures {
	byKey := map[string][]caseFacts{}
	for _, c := range facts {
		for _, g := range groups(c) {
			byKey[g] = append(byKey[g], c)
		}
	}
	out := make([]GroupFigures, 0, len(byKey))
	for key, cs := range byKey {
		out = append(out, GroupFigures{Key: key, KeyFigures: keyFigures(cs)})
	}
	slices.SortFunc(out, func(a, b GroupFigures) int {
		if a.Cases != b.Cases {
			return int(b.Cases - a.Cases)
		}
		if a.Key < b.Key {
			return -1
		}
		return 1
	})
	return out
}

// readFlow counts, per period, the cases received and closed.
func readFlow(ctx context.Context, tx pgx.Tx, f ReportFilter) (string, []FlowPoint, error) {
	interval := f.Interval
	if interval == "" {
		interval = "month" // an open-ended period
		if from, err := time.Parse(time.DateOnly, f.From); err == nil {
			if to, err := time.Parse(time.DateOnly, f.To); err == nil {
				interval = intervalFor(to.Sub(from).Hours() / 24)
			}
		}
	}
	if interval != "day" && interval != "week" && interval != "month" {
		return "", nil, fmt.Errorf("%w: interval %q", ErrBadFilter, interval)
	}
	var args []any
	received, err := caseFilterSQL(f, &args)
	if err != nil {
		return "", nil, err
	}
	closedFilter := f
	closedFilter.From, closedFilter.To = "", ""
	closedWhere, err := caseFilterSQL(closedFilter, &args)
	if err != nil {
		return "", nil, err
	}
	args = append(args, interval)
	iv := fmt.Sprintf("$%d", len(args))
	bounds := ""
	for _, d := range []struct{ day, cond string }{
		{f.From, " AND c.closed_at >= (%s::date)::timestamp AT TIME ZONE (SELECT time_zone FROM report_settings)"},
		{f.To, " AND c.closed_at < (%s::date + 1)::timestamp AT TIME ZONE (SELECT time_zone FROM report_settings)"},
	} {
		if d.day != "" {
			args = append(args, d.day)
			bounds += fmt.Sprintf(d.cond, fmt.Sprintf("$%d", len(args)))
		}
	}
	rows, err := tx.Query(ctx, `
		WITH tz AS (SELECT time_zone FROM report_settings),
		events AS (
			SELECT date_trunc(`+iv+`, c.received_at AT TIME ZONE (SELECT time_zone FROM tz))::date AS period, 1 AS created, 0 AS closed
			FROM cases c WHERE `+received+`
			UNION ALL
			SELECT date_trunc(`+iv+`, c.closed_at AT TIME ZONE (SELECT time_zone FROM tz))::date, 0, 1
			FROM cases c WHERE c.closed_at IS NOT NULL AND `+closedWhere+bounds+`)
		SELECT to_char(period, 'YYYY-MM-DD'), sum(created)::bigint, sum(closed)::bigint FROM events GROUP BY period ORDER BY period`,
		args...)
	if err != nil {
		return "", nil, err
	}
	points, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FlowPoint, error) {
		var p FlowPoint
		err := r.Scan(&p.Period, &p.Created, &p.Closed)
		return p, err
	})
	return interval, points, err
}

// readBacklog counts the cases of the category and department open at
// asOf (received, not closed by then, not withdrawn) by their age then.
func readBacklog(ctx context.Context, tx pgx.Tx, f ReportFilter, asOf time.Time) (Backlog, error) {
	b := Backlog{AsOf: asOf.UTC()}
	open := f
	open.From, open.To = "", ""
	args := []any{asOf}
	where, err := caseFilterSQL(open, &args)
	if err != nil {
		return b, err
	}
	rows, err := tx.Query(ctx, `
		SELECT EXTRACT(EPOCH FROM $1 - c.received_at)::float8 / 86400 FROM cases c
		WHERE c.received_at <= $1 AND (c.closed_at IS NULL OR c.closed_at > $1) AND c.status <> 'withdrawn' AND `+where,
		args...)
	if err != nil {
		return b, err
	}
	ages, err := pgx.CollectRows(rows, pgx.RowTo[float64])
	if err != nil {
		return b, err
	}
	b.ByAge = make([]BacklogAge, len(backlogAges))
	for i, a := range backlogAges {
		b.ByAge[i].Age = a.name
	}
	for _, age := range ages {
		b.Open++
		b.ByAge[ageBand(age)].Count++
	}
	return b, nil
}

// ageBand is the index of the backlog band of an age in days.
func ageBand(days float64) int {
	for i, a := range backlogAges {
		if a.days < 0 || days < a.days {
			return i
		}
	}
	return len(backlogAges) - 1
}

// CaseFigure narrows the cases of a report to those behind one figure.
type CaseFigure struct {
	Owner     string
	Breached  *bool // an SLA clock breached
	Reopened  *bool
	Satisfied *bool // the last survey answer 4–5 (true) or 1–3 (false)
	Closed    *bool
	// OpenAt, when set, keeps the cases open then (the backlog), and Age
	// one band of it.
	OpenAt *time.Time
	Age    string
}

// ReportCase is one case behind a figure, as exported.
type ReportCase struct {
	Reference       string     `json:"reference"`
	ReceivedAt      time.Time  `json:"receivedAt"`
	Status          string     `json:"status"`
	Category        string     `json:"category"`
	Channel         string     `json:"channel"`
	Priority        string     `json:"priority"`
	Owner           string     `json:"owner"`
	Departments     []string   `json:"departments"`
	ClosedAt        *time.Time `json:"closedAt"`
	Outcome         *string    `json:"outcome"`
	SLABreached     bool       `json:"slaBreached"`
	EscalationLevel int        `json:"escalationLevel"`
	Reopened        bool       `json:"reopened"`
	Score           *int       `json:"score"`
}

// MaxReportCases bounds one export.
const MaxReportCases = 100000

// ReportCases lists the cases behind a figure of the report f, oldest
// first, at most MaxReportCases.
func (s *Store) ReportCases(ctx context.Context, f ReportFilter, fig CaseFigure) ([]ReportCase, error) {
	var args []any
	if fig.OpenAt != nil {
		f.From, f.To = "", ""
	}
	where, err := caseFilterSQL(f, &args)
	if err != nil {
		return nil, err
	}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	flag := func(v *bool, cond string) {
		if v != nil {
			where += " AND " + map[bool]string{true: "", false: "NOT "}[*v] + "(" + cond + ")"
		}
	}
	if fig.Owner != "" {
		where += " AND c.owner = " + arg(fig.Owner)
	}
	flag(fig.Breached, "c.sla_breached")
	flag(fig.Reopened, "reopened")
	flag(fig.Closed, "c.closed_at IS NOT NULL")
	if fig.Satisfied != nil {
		where += " AND score IS NOT NULL"
		flag(fig.Satisfied, "score >= 4")
	}
	if fig.OpenAt != nil {
		at := arg(*fig.OpenAt)
		where += " AND c.received_at <= " + at + " AND (c.closed_at IS NULL OR c.closed_at > " + at + ") AND c.status <> 'withdrawn'"
		if fig.Age != "" {
			i := slices.IndexFunc(backlogAges, func(a backlogBand) bool { return a.name == fig.Age })
			if i < 0 {
				return nil, fmt.Errorf("%w: age %q", ErrBadFilter, fig.Age)
			}
			age := "EXTRACT(EPOCH FROM " + at + " - c.received_at) / 86400"
			if i > 0 {
				where += fmt.Sprintf(" AND %s >= %g", age, backlogAges[i-1].days)
			}
			if backlogAges[i].days > 0 {
				where += fmt.Sprintf(" AND %s < %g", age, backlogAges[i].days)
			}
		}
	}
	rows, err := s.pool.Query(ctx, `
		SELECT * FROM (
			SELECT c.reference, c.received_at, c.status, c.category, c.channel, c.priority, c.owner, c.departments,
				c.closed_at, c.outcome, c.sla_breached, c.escalation_level,
				EXISTS (SELECT 1 FROM case_events e WHERE e.reference = c.reference AND e.step = 'reopened') AS reopened,
				(SELECT s.score FROM surveys s WHERE s.reference = c.reference AND s.score IS NOT NULL
					ORDER BY s.round DESC LIMIT 1) AS score
			FROM cases c) c
		WHERE `+where+fmt.Sprintf(" ORDER BY c.received_at, c.reference LIMIT %d", MaxReportCases), args...)
	if err != nil {
		return nil, readError(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ReportCase])
	if err != nil {
		return nil, readError(err)
	}
	for i := range out {
		out[i].ReceivedAt = out[i].ReceivedAt.UTC()
	}
	return out, nil
}
