package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultExactUpTo is how many cases a report may cover and still rank
// its durations exactly; above it they come from the rollup's histograms.
const DefaultExactUpTo = 10000

// ReportFilter chooses the cases a report is about: those received in the
// period, of the category, routed to the department.
type ReportFilter struct {
	From, To   string // days received (YYYY-MM-DD, inclusive) in the reports' time zone; empty: open
	Category   string
	Department string
	// Interval is the trend's bucket: day, week or month; empty chooses by
	// the length of the period.
	Interval string
	// ExactUpTo: medians and 90th percentiles are exact for at most this many
	// cases (0: DefaultExactUpTo; negative: never), read from the rollup's
	// histograms above (within a few per cent).
	ExactUpTo int
}

// Summary is DOMAIN §5's measures for the cases a ReportFilter chooses.
// Rates are shares between 0 and 1, null when there is nothing to share.
type Summary struct {
	From       string `json:"from,omitempty"`
	To         string `json:"to,omitempty"`
	Category   string `json:"category,omitempty"`
	Department string `json:"department,omitempty"`
	// TimeZone is where the days of the report begin and end.
	TimeZone string `json:"timeZone"`
	Cases    int64  `json:"cases" doc:"Cases received in the period."`

	Satisfaction Satisfaction `json:"satisfaction"`
	Resolution   Rate         `json:"resolution" doc:"Closed upheld or partially upheld, of the closed cases."`
	Repeat       Rate         `json:"repeat" doc:"Repeat complaints (same customer, same problem), of all cases."`
	Escalated    Rate         `json:"escalated" doc:"Cases escalated at least once, of all cases."`
	SLABreached  Rate         `json:"slaBreached" doc:"Cases with at least one SLA clock breached, of all cases."`

	Acknowledgement Durations `json:"acknowledgement" doc:"Receipt to acknowledgement."`
	FirstResponse   Durations `json:"firstResponse" doc:"Receipt to first response (the firstResponse clock met)."`
	Handling        Durations `json:"handling" doc:"Receipt to closing, of the closed cases."`
	// Percentiles says how medians and 90th percentiles were ranked.
	Percentiles string `json:"percentiles" enum:"exact,approximate"`

	SLA          []ClockCompliance   `json:"sla" doc:"Per SLA clock: met in time, of the clocks met or breached."`
	ByCategory   []Share             `json:"byCategory"`
	ByChannel    []Share             `json:"byChannel"`
	ByDepartment []Share             `json:"byDepartment" doc:"A case routed to several departments counts for each."`
	ByStatus     []Share             `json:"byStatus"`
	Trend        Trend               `json:"trend"`
	Compensation []CompensationTotal `json:"compensation" doc:"Compensation carried out, per currency."`
	FollowUps    FollowUps           `json:"followUps" doc:"Follow-ups of low satisfaction scores, of the cases of the period."`
	RootCauses   []RootCause         `json:"rootCauses" doc:"Hot spots: per category, the root causes the departments' findings name most often (up to 5 each)."`
}

// FollowUps counts the follow-ups of low satisfaction scores.
type FollowUps struct {
	Opened  int64 `json:"opened"`
	Done    int64 `json:"done"`
	Open    int64 `json:"open"`
	Overdue int64 `json:"overdue" doc:"Open and past their due time."`
}

// RootCause is one hot spot: a root cause and how many cases it was found in.
type RootCause struct {
	Category  string `json:"category"`
	RootCause string `json:"rootCause"`
	Cases     int64  `json:"cases"`
}

// topRootCauses is how many root causes a category lists.
const topRootCauses = 5

// Satisfaction is what the surveys answered say.
type Satisfaction struct {
	Responses    int64        `json:"responses"`
	Average      *float64     `json:"average"`
	Distribution []ScoreCount `json:"distribution" doc:"Answers per score, 1 to 5."`
}

// ScoreCount is how many answers gave a score.
type ScoreCount struct {
	Score int   `json:"score"`
	Count int64 `json:"count"`
}

// Rate is Count of Of.
type Rate struct {
	Count int64    `json:"count"`
	Of    int64    `json:"of"`
	Rate  *float64 `json:"rate"`
}

func rate(count, of int64) Rate {
	r := Rate{Count: count, Of: of}
	if of > 0 {
		v := float64(count) / float64(of)
		r.Rate = &v
	}
	return r
}

// Durations summarises how long something took, in seconds.
type Durations struct {
	Count          int64    `json:"count"`
	AverageSeconds *float64 `json:"averageSeconds"`
	MedianSeconds  *float64 `json:"medianSeconds"`
	P90Seconds     *float64 `json:"p90Seconds"`
}

// ClockCompliance is one SLA clock's record.
type ClockCompliance struct {
	Clock      string   `json:"clock"`
	Decided    int64    `json:"decided" doc:"Clocks met or breached."`
	Met        int64    `json:"met" doc:"Met without a breach."`
	Breached   int64    `json:"breached"`
	Compliance *float64 `json:"compliance"`
}

// Share is how many cases have one value of a dimension.
type Share struct {
	Key   string   `json:"key"`
	Count int64    `json:"count"`
	Share *float64 `json:"share" doc:"Of all the cases of the report."`
}

// Trend is the cases received per period.
type Trend struct {
	Interval string       `json:"interval" enum:"day,week,month"`
	Points   []TrendPoint `json:"points"`
}

// TrendPoint is one period of the trend, named by its first day.
type TrendPoint struct {
	Period      string `json:"period"`
	Cases       int64  `json:"cases"`
	SLABreached int64  `json:"slaBreached"`
	Escalated   int64  `json:"escalated"`
}

// CompensationTotal is what was given in one currency.
type CompensationTotal struct {
	Currency string `json:"currency"`
	Cases    int64  `json:"cases"`
	Amount   string `json:"amount" doc:"Decimal sum, e.g. 1234.50."`
}

// ErrBadFilter is returned for a report filter that cannot be met.
var ErrBadFilter = errors.New("bad report filter")

type rollupRow struct {
	measure, key string
	n            int64
	total        float64
	totalText    string
}

// RefreshReports brings the rollup and each case's facts (report_case) up
// to date with every change committed so far, and says how many cases it
// refreshed. A write only queues its case (migration 00017); the worker
// calls this every second, and every read of the rollup or report_case
// calls it first, so that what the reports show is exact.
func (s *Store) RefreshReports(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT report_flush()`).Scan(&n); err != nil {
		return 0, fmt.Errorf("refresh the reports: %w", readError(err))
	}
	return n, nil
}

// Summary computes the measures of DOMAIN §5 from the rollup, in one
// consistent snapshot.
func (s *Store) Summary(ctx context.Context, f ReportFilter) (Summary, error) {
	from, to, err := reportPeriod(f)
	if err != nil {
		return Summary{}, err
	}
	if f.Interval != "" && f.Interval != "day" && f.Interval != "week" && f.Interval != "month" {
		return Summary{}, fmt.Errorf("%w: interval %q", ErrBadFilter, f.Interval)
	}
	if _, err := s.RefreshReports(ctx); err != nil {
		return Summary{}, err
	}
	cat, dept := cmp.Or(f.Category, "*"), cmp.Or(f.Department, "*")
	out := Summary{From: f.From, To: f.To, Category: f.Category, Department: f.Department}
	var rows []rollupRow
	var days []dayRow
	dayIndex := map[time.Time]int{}
	var byCategory, byDepartment []Share
	var due dueToday
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			b.Queue(`SELECT time_zone FROM report_settings`).QueryRow(func(row pgx.Row) error {
				return row.Scan(&out.TimeZone)
			})
			// A few milliseconds of work each: compiling them or starting
			// parallel workers would take longer.
			b.Queue(`SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true)`)
			// Every measure in one scan; the trend's, day by day.
			b.Queue(`
				SELECT measure, key, CASE WHEN measure IN ('cases', 'breached', 'escalated') THEN day END,
					sum(n)::bigint, sum(total)::text
				FROM report_rollup
				WHERE category = $1 AND department = $2 AND day BETWEEN $3 AND $4 AND measure <> 'cause'
				GROUP BY 1, 2, 3`,
				cat, dept, from, to).Query(func(rs pgx.Rows) error {
				var r rollupRow
				var day *time.Time
				_, err := pgx.ForEachRow(rs, []any{&r.measure, &r.key, &day, &r.n, &r.totalText}, func() error {
					total, err := strconv.ParseFloat(r.totalText, 64)
					if err != nil {
						return err
					}
					if day != nil {
						days = addDay(days, dayIndex, *day, r.measure, r.n)
						i := slices.IndexFunc(rows, func(x rollupRow) bool { return x.measure == r.measure && x.key == r.key })
						if i >= 0 {
							rows[i].n += r.n
							return nil
						}
					}
					rows = append(rows, rollupRow{measure: r.measure, key: r.key, n: r.n, total: total, totalText: r.totalText})
					return nil
				})
				return err
			})
			b.Queue(`
				SELECT 'category', category, sum(n)::bigint FROM report_rollup
				WHERE measure = 'cases' AND department = $2 AND category <> '*' AND ($1 = '*' OR category = $1)
					AND day BETWEEN $3 AND $4
				GROUP BY category
				UNION ALL
				SELECT 'department', department, sum(n)::bigint FROM report_rollup
				WHERE measure = 'cases' AND category = $1 AND department <> '*' AND ($2 = '*' OR department = $2)
					AND day BETWEEN $3 AND $4
				GROUP BY department`, cat, dept, from, to).Query(func(rs pgx.Rows) error {
				var dim, key string
				var n int64
				_, err := pgx.ForEachRow(rs, []any{&dim, &key, &n}, func() error {
					if dim == "category" {
						byCategory = append(byCategory, Share{Key: key, Count: n})
					} else {
						byDepartment = append(byDepartment, Share{Key: key, Count: n})
					}
					return nil
				})
				return err
			})
			s.queueFollowUpsAndHotSpots(b, &out, &due, cat, dept, from, to)
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			out.build(rows, byCategory, byDepartment, due)
			limit := cmp.Or(f.ExactUpTo, DefaultExactUpTo)
			if out.Cases <= int64(limit) {
				out.Percentiles = "exact"
				return s.exactPercentiles(ctx, tx, &out, cat, dept, from, to)
			}
			out.Percentiles = "approximate"
			return s.approximatePercentiles(ctx, tx, &out, cat, dept, from, to)
		})
	if err != nil {
		return Summary{}, readError(err)
	}
	out.Trend = buildTrend(days, f, from, to)
	return out, nil
}

// queueFollowUpsAndHotSpots adds to the batch what the rollup cannot know
// of the follow-ups, and the hot spots. Both are in the rollup (migration
// 00016); only whether a follow-up due today is overdue yet depends on the
// time of day, so those are counted from follow_ups (a day's worth).
func (s *Store) queueFollowUpsAndHotSpots(b *pgx.Batch, out *Summary, due *dueToday, cat, dept string, from, to time.Time) {
	b.Queue(`
		WITH zone AS (SELECT time_zone AS tz FROM report_settings),
		today AS (SELECT (now() AT TIME ZONE tz)::date AS day, tz FROM zone)
		SELECT to_char(today.day, 'YYYY-MM-DD'), (
			SELECT count(*) FROM follow_ups x JOIN cases c ON c.reference = x.reference
			WHERE x.done_at IS NULL AND x.due_at < now() AND x.due_at >= (today.day::timestamp AT TIME ZONE today.tz)
				AND (c.received_at AT TIME ZONE today.tz)::date BETWEEN $3 AND $4
				AND ($1 = '*' OR c.category = $1) AND ($2 = '*' OR c.departments @> ARRAY[$2]))
		FROM today`, cat, dept, from, to).QueryRow(func(row pgx.Row) error {
		return row.Scan(&due.day, &due.overdue)
	})
	// One vote per case and root cause, compared trimmed and without case,
	// kept under the case's first spelling; shown as the first spelling
	// byte by byte.
	b.Queue(`
		SELECT category, shown, cases FROM (
			SELECT category, min(key COLLATE "C") AS shown, sum(n)::bigint AS cases,
				row_number() OVER (PARTITION BY category ORDER BY sum(n) DESC, lower(key)) AS rank
			FROM report_rollup
			WHERE measure = 'cause' AND n > 0 AND department = $2 AND category <> '*'
				AND ($1 = '*' OR category = $1) AND day BETWEEN $3 AND $4
			GROUP BY category, lower(key)) ranked
		WHERE rank <= $5 ORDER BY category, rank`,
		cat, dept, from, to, topRootCauses).Query(func(rs pgx.Rows) error {
		var r RootCause
		out.RootCauses = []RootCause{}
		_, err := pgx.ForEachRow(rs, []any{&r.Category, &r.RootCause, &r.Cases}, func() error {
			out.RootCauses = append(out.RootCauses, r)
			return nil
		})
		return err
	})
}

// dueToday is today's date in the reports' zone (YYYY-MM-DD) and how many
// open follow-ups fell due earlier today.
type dueToday struct {
	day     string
	overdue int64
}

// reportPeriod reads the period's days; open ends reach as far as the data.
func reportPeriod(f ReportFilter) (from, to time.Time, err error) {
	from, to = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	if f.From != "" {
		if from, err = time.Parse(time.DateOnly, f.From); err != nil {
			return from, to, fmt.Errorf("%w: from: %w", ErrBadFilter, err)
		}
	}
	if f.To != "" {
		if to, err = time.Parse(time.DateOnly, f.To); err != nil {
			return from, to, fmt.Errorf("%w: to: %w", ErrBadFilter, err)
		}
	}
	if to.Before(from) {
		return from, to, fmt.Errorf("%w: the period ends before it starts", ErrBadFilter)
	}
	return from, to, nil
}

func (out *Summary) build(rows []rollupRow, byCategory, byDepartment []Share, due dueToday) {
	get := func(measure, key string) rollupRow {
		for _, r := range rows {
			if r.measure == measure && r.key == key {
				return r
			}
		}
		return rollupRow{}
	}
	out.Cases = get("cases", "").n
	closed := get("closed", "").n
	out.Resolution = rate(get("resolved", "").n, closed)
	out.Repeat = rate(get("repeat", "").n, out.Cases)
	out.Escalated = rate(get("escalated", "").n, out.Cases)
	out.SLABreached = rate(get("breached", "").n, out.Cases)
	for _, d := range []struct {
		measure string
		into    *Durations
	}{{"ack", &out.Acknowledgement}, {"response", &out.FirstResponse}, {"handling", &out.Handling}} {
		r := get(d.measure, "")
		d.into.Count = r.n
		if r.n > 0 {
			avg := r.total / float64(r.n)
			d.into.AverageSeconds = &avg
		}
	}
	var sum float64
	out.Satisfaction.Distribution = make([]ScoreCount, 5)
	for i := range 5 {
		n := get("score", strconv.Itoa(i+1)).n
		out.Satisfaction.Distribution[i] = ScoreCount{Score: i + 1, Count: n}
		out.Satisfaction.Responses += n
		sum += float64((i + 1) * int(n))
	}
	if out.Satisfaction.Responses > 0 {
		avg := sum / float64(out.Satisfaction.Responses)
		out.Satisfaction.Average = &avg
	}
	out.FollowUps = FollowUps{Opened: get("follow_up", "").n, Done: get("follow_up_done", "").n, Overdue: due.overdue}
	out.SLA = []ClockCompliance{}
	out.Compensation = []CompensationTotal{}
	var channels, statuses []Share
	for _, r := range rows {
		switch {
		case r.measure == "clock":
			met := get("clock_met", r.key).n
			c := ClockCompliance{Clock: r.key, Decided: r.n, Met: met, Breached: r.n - met}
			if r.n > 0 {
				v := float64(met) / float64(r.n)
				c.Compliance = &v
			}
			if r.n != 0 {
				out.SLA = append(out.SLA, c)
			}
		case r.measure == "compensation" && r.n != 0:
			out.Compensation = append(out.Compensation, CompensationTotal{Currency: r.key, Cases: r.n, Amount: r.totalText})
		case r.measure == "channel" && r.n != 0:
			channels = append(channels, Share{Key: r.key, Count: r.n})
		case r.measure == "status" && r.n != 0:
			statuses = append(statuses, Share{Key: r.key, Count: r.n})
		case r.measure == "follow_up_open": // keyed by the day they fall due
			out.FollowUps.Open += r.n
			if r.key < due.day {
				out.FollowUps.Overdue += r.n
			}
		}
	}
	slices.SortFunc(out.SLA, func(a, b ClockCompliance) int { return clockOrder(a.Clock) - clockOrder(b.Clock) })
	slices.SortFunc(out.Compensation, func(a, b CompensationTotal) int { return strings.Compare(a.Currency, b.Currency) })
	out.ByCategory = shares(byCategory, out.Cases)
	out.ByChannel = shares(channels, out.Cases)
	out.ByDepartment = shares(byDepartment, out.Cases)
	out.ByStatus = shares(statuses, out.Cases)
}

// clockOrder lists the clocks in the order a case meets them.
func clockOrder(clock string) int {
	order := []string{"acknowledge", "firstResponse", "startInvestigation", "resolution"}
	if i := slices.Index(order, clock); i >= 0 {
		return i
	}
	return len(order)
}

// shares drops the empty ones, sorts the rest largest first and divides
// each by all.
func shares(in []Share, all int64) []Share {
	out := []Share{}
	for _, s := range in {
		if s.Count == 0 {
			continue
		}
		if all > 0 {
			v := float64(s.Count) / float64(all)
			s.Share = &v
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Share) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Key, b.Key))
	})
	return out
}

func (s *Store) exactPercentiles(ctx context.Context, tx pgx.Tx, out *Summary, cat, dept string, from, to time.Time) error {
	q := `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ack_s), percentile_cont(0.9) WITHIN GROUP (ORDER BY ack_s),
			percentile_cont(0.5) WITHIN GROUP (ORDER BY response_s), percentile_cont(0.9) WITHIN GROUP (ORDER BY response_s),
			percentile_cont(0.5) WITHIN GROUP (ORDER BY handling_s), percentile_cont(0.9) WITHIN GROUP (ORDER BY handling_s)
		FROM report_case WHERE day BETWEEN $1 AND $2`
	args := []any{from, to}
	if cat != "*" {
		args = append(args, cat)
		q += fmt.Sprintf(" AND category = $%d", len(args))
	}
	if dept != "*" {
		args = append(args, dept)
		q += fmt.Sprintf(" AND departments @> ARRAY[$%d]::text[]", len(args))
	}
	return tx.QueryRow(ctx, q, args...).Scan(
		&out.Acknowledgement.MedianSeconds, &out.Acknowledgement.P90Seconds,
		&out.FirstResponse.MedianSeconds, &out.FirstResponse.P90Seconds,
		&out.Handling.MedianSeconds, &out.Handling.P90Seconds)
}

// bucket is one bar of a duration histogram: n durations in [lo, hi).
type bucket struct {
	lo, hi float64
	n      int64
}

// approximatePercentiles ranks the durations in the rollup's histograms,
// spreading each bucket's durations evenly over it.
func (s *Store) approximatePercentiles(ctx context.Context, tx pgx.Tx, out *Summary, cat, dept string, from, to time.Time) error {
	var bounds []bucket
	sums := map[string][]int64{}
	b := &pgx.Batch{}
	b.Queue(`SELECT lo, hi FROM report_buckets() ORDER BY bucket`).Query(func(rs pgx.Rows) error {
		var err error
		bounds, err = pgx.CollectRows(rs, func(row pgx.CollectableRow) (bucket, error) {
			var b bucket
			return b, row.Scan(&b.lo, &b.hi)
		})
		return err
	})
	b.Queue(`SELECT metric, counts FROM report_hist
		WHERE category = $1 AND department = $2 AND day BETWEEN $3 AND $4`, cat, dept, from, to).
		Query(func(rs pgx.Rows) error {
			var metric string
			var counts []int32
			_, err := pgx.ForEachRow(rs, []any{&metric, &counts}, func() error {
				sum := sums[metric]
				if len(sum) < len(counts) {
					sum = append(sum, make([]int64, len(counts)-len(sum))...)
				}
				for i, n := range counts {
					sum[i] += int64(n)
				}
				sums[metric] = sum
				return nil
			})
			return err
		})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	for _, d := range []struct {
		metric string
		into   *Durations
	}{{"ack", &out.Acknowledgement}, {"response", &out.FirstResponse}, {"handling", &out.Handling}} {
		var hist []bucket
		for i, n := range sums[d.metric] {
			if n > 0 && i < len(bounds) {
				hist = append(hist, bucket{lo: bounds[i].lo, hi: bounds[i].hi, n: n})
			}
		}
		d.into.MedianSeconds = histPercentile(hist, 0.5)
		d.into.P90Seconds = histPercentile(hist, 0.9)
	}
	return nil
}

// histPercentile is the q-quantile of the durations in hist, interpolated
// as percentile_cont does between ranks.
func histPercentile(hist []bucket, q float64) *float64 {
	slices.SortFunc(hist, func(a, b bucket) int { return cmp.Compare(a.lo, b.lo) })
	var total int64
	for _, b := range hist {
		total += b.n
	}
	if total == 0 {
		return nil
	}
	rank := q * float64(total-1) // 0-based position among the sorted durations
	var before int64
	for _, b := range hist {
		if rank < float64(before+b.n) {
			v := b.lo + (b.hi-b.lo)*(rank-float64(before)+0.5)/float64(b.n)
			return &v
		}
		before += b.n
	}
	v := hist[len(hist)-1].hi
	return &v
}

type dayRow struct {
	Day                        time.Time
	Cases, Breached, Escalated int64
}

// addDay adds n of the measure to the day's row of days; index finds the
// rows by day.
func addDay(days []dayRow, index map[time.Time]int, day time.Time, measure string, n int64) []dayRow {
	i, ok := index[day]
	if !ok {
		days = append(days, dayRow{Day: day})
		i = len(days) - 1
		index[day] = i
	}
	switch measure {
	case "cases":
		days[i].Cases += n
	case "breached":
		days[i].Breached += n
	case "escalated":
		days[i].Escalated += n
	}
	return days
}

// buildTrend puts the days into periods, with the empty periods between.
func buildTrend(days []dayRow, f ReportFilter, from, to time.Time) Trend {
	slices.SortFunc(days, func(a, b dayRow) int { return a.Day.Compare(b.Day) })
	first, last := from, to
	if f.From == "" && len(days) > 0 {
		first = days[0].Day
	}
	if f.To == "" && len(days) > 0 {
		last = days[len(days)-1].Day
	}
	interval := f.Interval
	if interval == "" {
		interval = intervalFor(last.Sub(first).Hours() / 24)
		if len(days) == 0 && f.From == "" && f.To == "" {
			interval = "day"
		}
	}
	start := func(d time.Time) time.Time {
		switch interval {
		case "week":
			return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)) // Monday
		case "month":
			return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
		}
		return d
	}
	next := func(d time.Time) time.Time {
		switch interval {
		case "week":
			return d.AddDate(0, 0, 7)
		case "month":
			return d.AddDate(0, 1, 0)
		}
		return d.AddDate(0, 0, 1)
	}
	points := map[time.Time]*TrendPoint{}
	var keys []time.Time
	point := func(p time.Time) *TrendPoint {
		if tp, ok := points[p]; ok {
			return tp
		}
		tp := &TrendPoint{Period: p.Format(time.DateOnly)}
		points[p] = tp
		keys = append(keys, p)
		return tp
	}
	if len(days) > 0 || (f.From != "" && f.To != "") {
		// Every period of the range, empty ones too, unless there are too many.
		const maxPoints = 1000
		for p, i := start(first), 0; !p.After(last) && i < maxPoints; p, i = next(p), i+1 {
			point(p)
		}
	}
	for _, d := range days {
		tp := point(start(d.Day))
		tp.Cases += d.Cases
		tp.SLABreached += d.Breached
		tp.Escalated += d.Escalated
	}
	slices.SortFunc(keys, func(a, b time.Time) int { return a.Compare(b) })
	out := Trend{Interval: interval, Points: make([]TrendPoint, len(keys))}
	for i, k := range keys {
		out.Points[i] = *points[k]
	}
	return out
}

// intervalFor is the trend's bucket for a period of span days: days up to
// a quarter, weeks up to two years, months beyond.
func intervalFor(span float64) string {
	switch {
	case span <= 92:
		return "day"
	case span <= 731:
		return "week"
	}
	return "month"
}
