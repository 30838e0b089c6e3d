package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/store"
)

type options struct {
	cases, runs int
	seed        uint64
	dsn         string
	jsonOut     string
}

// result is one query's timings, in milliseconds.
type result struct {
	Query string  `json:"query"`
	Runs  int     `json:"runs"`
	Rows  int     `json:"rows"`
	P50   float64 `json:"p50Ms"`
	P99   float64 `json:"p99Ms"`
	Max   float64 `json:"maxMs"`
}

type report struct {
	Cases       int64    `json:"cases"`
	SeedSeconds float64  `json:"seedSeconds,omitempty"`
	Results     []result `json:"results"`
}

func run(ctx context.Context, o options) error {
	var rep report
	dsn := o.dsn
	if dsn == "" {
		dir, err := os.MkdirTemp("", "reportbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		port, err := devenv.FreePort()
		if err != nil {
			return err
		}
		pg := devenv.Postgres{Dir: filepath.Join(dir, "postgres"), Port: port, User: "complaints",
			Password: "complaints", Database: "complaints", Ephemeral: true}
		proc, err := pg.Start(ctx)
		if err != nil {
			return err
		}
		defer proc.Stop(30 * time.Second)
		dsn = pg.DSN()
		if err := store.Migrate(ctx, dsn); err != nil {
			return err
		}
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if o.dsn == "" {
		fmt.Fprintf(os.Stderr, "seeding %d cases...\n", o.cases)
		start := time.Now()
		last := time.Now()
		err := db.Seed(ctx, o.cases, rand.New(rand.NewPCG(o.seed, o.seed)), func(done int) {
			if time.Since(last) > 10*time.Second || done == o.cases {
				fmt.Fprintf(os.Stderr, "  %d cases, %s\n", done, time.Since(start).Round(time.Second))
				last = time.Now()
			}
		})
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		rep.SeedSeconds = time.Since(start).Seconds()
	}
	all, err := db.Summary(ctx, store.ReportFilter{})
	if err != nil {
		return err
	}
	rep.Cases = all.Cases
	rep.Results, err = measure(ctx, db, o.runs, time.Now())
	if err != nil {
		return err
	}
	printTable(rep)
	out, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	if o.jsonOut != "" {
		return os.WriteFile(o.jsonOut, append(out, '\n'), 0o644)
	}
	return nil
}

type query struct {
	name string
	run  func(ctx context.Context) (rows int, err error)
}

func measure(ctx context.Context, db *store.Store, runs int, now time.Time) ([]result, error) {
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
	queries := []query{
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
	var out []result
	for _, q := range queries {
		rows, err := q.run(ctx) // warm the caches and the statement cache
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.name, err)
		}
		times := make([]float64, runs)
		for i := range runs {
			start := time.Now()
			if _, err := q.run(ctx); err != nil {
				return nil, fmt.Errorf("%s: %w", q.name, err)
			}
			times[i] = float64(time.Since(start).Microseconds()) / 1000
		}
		slices.Sort(times)
		out = append(out, result{Query: q.name, Runs: runs, Rows: rows, P50: pct(times, 0.50), P99: pct(times, 0.99),
			Max: times[len(times)-1]})
	}
	return out, nil
}

// pct is the nearest-rank percentile of sorted times.
func pct(sorted []float64, q float64) float64 {
	i := int(q*float64(len(sorted)) + 0.999999)
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func printTable(rep report) {
	fmt.Printf("%d cases", rep.Cases)
	if rep.SeedSeconds > 0 {
		fmt.Printf(", seeded in %s", (time.Duration(rep.SeedSeconds * float64(time.Second))).Round(time.Second))
	}
	fmt.Println()
	fmt.Printf("%-55s %6s %6s %9s %9s %9s\n", "query", "runs", "rows", "p50 ms", "p99 ms", "max ms")
	for _, r := range rep.Results {
		fmt.Printf("%-55s %6d %6d %9.2f %9.2f %9.2f\n", r.Query, r.Runs, r.Rows, r.P50, r.P99, r.Max)
	}
}
