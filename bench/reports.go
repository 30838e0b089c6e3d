package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/seed"
	"github.com/complaintdesk/complaintdesk/store"
)

// ReportsResult is the list and report queries timed on a large database.
type ReportsResult struct {
	Cases       int64         `json:"cases"`
	SeedSeconds float64       `json:"seedSeconds,omitempty"`
	Queries     []QueryTiming `json:"queries"`
}

// QueryTiming is one query's timings over its runs.
type QueryTiming struct {
	Query string  `json:"query"`
	Runs  int     `json:"runs"`
	Rows  int     `json:"rows"`
	P50ms float64 `json:"p50Ms"`
	P99ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
}

// measureReports times the list and report queries: on cfg.ReportDSN as it
// is, or on a private PostgreSQL seeded with cfg.ReportCases made-up cases
// of the last twelve months.
func measureReports(ctx context.Context, cfg Config, out io.Writer) (*ReportsResult, error) {
	var res ReportsResult
	dsn := cfg.ReportDSN
	if dsn == "" {
		dir, err := os.MkdirTemp("", "bench-reports-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		port, err := devenv.FreePort()
		if err != nil {
			return nil, err
		}
		pg := devenv.Postgres{Dir: filepath.Join(dir, "postgres"), Port: port, User: "complaints",
			Password: "complaints", Database: "complaints", Ephemeral: true}
		proc, err := pg.Start(ctx)
		if err != nil {
			return nil, err
		}
		defer func() {
			if err := proc.Stop(30 * time.Second); err != nil {
				fmt.Fprintln(out, "stopping the reports' PostgreSQL:", err)
			}
		}()
		dsn = pg.DSN()
		if err := store.Migrate(ctx, dsn); err != nil {
			return nil, err
		}
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if cfg.ReportDSN == "" {
		fmt.Fprintf(out, "reports: seeding %d cases ...\n", cfg.ReportCases)
		start, last := time.Now(), time.Now()
		err := seed.Write(ctx, dsn, cfg.ReportCases, rand.New(rand.NewPCG(cfg.ReportSeed, cfg.ReportSeed)), func(done int) {
			if time.Since(last) > 30*time.Second || done == cfg.ReportCases {
				fmt.Fprintf(out, "  %d cases, %s\n", done, time.Since(start).Round(time.Second))
				last = time.Now()
			}
		})
		if err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
		res.SeedSeconds = time.Since(start).Seconds()
	}
	all, err := db.Summary(ctx, store.ReportFilter{})
	if err != nil {
		return nil, err
	}
	res.Cases = all.Cases
	fmt.Fprintf(out, "reports: each query %d times on %d cases ...\n", cfg.ReportRuns, res.Cases)
	res.Queries, err = timeQueries(ctx, db, max(cfg.ReportRuns, 1), time.Now())
	return &res, err
}

type reportQuery struct {
	name string
	run  func(ctx context.Context) (rows int, err error)
}

// timeQueries runs each query once to warm the caches, then runs times.
func timeQueries(ctx context.Context, db *store.Store, runs int, now time.Time) ([]QueryTiming, error) {
	day := func(daysAgo int) string { return now.AddDate(0, 0, -daysAgo).Format(time.DateOnly) }
	yes := true
	list := func(f store.ListFilter) func(context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			p, err := db.ListCases(ctx, f)
			return len(p.Items), err
		}
	}
	summary := func(f store.ReportFilter) func(context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			s, err := db.Summary(ctx, f)
			return int(s.Cases), err
		}
	}
	// A page deep in the list: the cursor of page 20 of the unfiltered list.
	deep := store.ListFilter{}
	for range 20 {
		p, err := db.ListCases(ctx, deep)
		if err != nil {
			return nil, err
		}
		deep.Cursor = p.NextCursor
	}
	queries := []reportQuery{
		{"list: newest 50", list(store.ListFilter{})},
		{"list: page 21 by cursor", list(deep)},
		{"list: limit 200", list(store.ListFilter{Limit: 200})},
		{"list: status=investigating", list(store.ListFilter{Status: "investigating"})},
		{"list: status=received", list(store.ListFilter{Status: "received"})},
		{"list: category=logistics channel=chat", list(store.ListFilter{Category: "logistics", Channel: "chat"})},
		{"list: department=legal", list(store.ListFilter{Department: "legal"})},
		{"list: owner=agent.042", list(store.ListFilter{Owner: "agent.042"})},
		{"list: breached category=billing", list(store.ListFilter{Breached: &yes, Category: "billing"})},
		{"list: q=damaged", list(store.ListFilter{Q: "damaged"})},
		{"list: q=appointment department=after_sales", list(store.ListFilter{Q: "appointment", Department: "after_sales"})},
		{"list: last 30 days department=product", list(store.ListFilter{From: day(30), To: day(0), Department: "product"})},
		{"list: legal partner breached in_dispute", list(store.ListFilter{Category: "legal", Channel: "partner", Breached: &yes, Status: "in_dispute"})},
		{"list: 3 months ago, q=refund", list(store.ListFilter{From: day(100), To: day(90), Q: "refund"})},
		{"summary: everything", summary(store.ReportFilter{})},
		{"summary: last 12 months by month", summary(store.ReportFilter{From: day(365), To: day(0), Interval: "month"})},
		{"summary: last 30 days", summary(store.ReportFilter{From: day(30), To: day(0)})},
		{"summary: category=logistics", summary(store.ReportFilter{Category: "logistics"})},
		{"summary: department=customer_service last 90 days", summary(store.ReportFilter{From: day(90), To: day(0), Department: "customer_service"})},
		{"summary: category=legal department=legal last 7 days", summary(store.ReportFilter{From: day(7), To: day(0), Category: "legal", Department: "legal"})},
		{"summary: last 3 days (exact percentiles)", summary(store.ReportFilter{From: day(3), To: day(0)})},
	}
	// The queries timed before one fails (or the run is stopped) are kept.
	var timings []QueryTiming
	for _, q := range queries {
		rows, err := q.run(ctx)
		if err != nil {
			return timings, fmt.Errorf("%s: %w", q.name, err)
		}
		times := make([]time.Duration, runs)
		for i := range runs {
			start := time.Now()
			if _, err := q.run(ctx); err != nil {
				return timings, fmt.Errorf("%s: %w", q.name, err)
			}
			times[i] = time.Since(start)
		}
		l := summarise(times)
		timings = append(timings, QueryTiming{Query: q.name, Runs: runs, Rows: rows, P50ms: l.P50ms, P99ms: l.P99ms, MaxMs: l.MaxMs})
	}
	return timings, nil
}

func printReports(out io.Writer, r *ReportsResult) {
	fmt.Fprintf(out, "\nList and reports on %d cases", r.Cases)
	if r.SeedSeconds > 0 {
		fmt.Fprintf(out, " (seeded in %s)", (time.Duration(r.SeedSeconds * float64(time.Second))).Round(time.Second))
	}
	fmt.Fprintf(out, "\n  %-55s %6s %8s %8s %8s\n", "query", "rows", "p50 ms", "p99 ms", "max ms")
	for _, q := range r.Queries {
		fmt.Fprintf(out, "  %-55s %6d %8.1f %8.1f %8.1f\n", q.Query, q.Rows, q.P50ms, q.P99ms, q.MaxMs)
	}
}
