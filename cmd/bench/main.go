// Command bench measures the system against the raw Temporal server on this
// machine in one run: intake, the cost of a case, deadline lateness and
// worker memory on the Temporal servers, then the list and report queries
// on a million cases. It prints a table and writes the figures as JSON.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the same zone rules on every machine

	"github.com/complaintdesk/complaintdesk/bench"
)

func main() {
	var cfg bench.Config
	flag.IntVar(&cfg.Requests, "requests", 1000, "intake: calls of each kind (0 skips)")
	flag.IntVar(&cfg.Concurrency, "concurrency", 16, "intake: calls in flight")
	flag.Func("deadlines", "the deadline bursts' sizes, the growth curve: for each, as many bare timers and then as many "+
		"cases due in the same second (default 1000,5000; 0 skips; 1000,5000,10000 adds the curve's third point, over half an hour a form)", func(s string) error {
		sizes, err := bench.ParseSizes(s)
		cfg.Deadlines = sizes
		return err
	})
	flag.DurationVar(&cfg.DeadlineLead, "deadline-lead", 0, "how far ahead of their start a burst's deadlines fall "+
		"(0: 100 ms per case, at least a minute: time to start them all and let them rest)")
	flag.StringVar(&cfg.BurstProfiles, "burst-profiles", "", "a folder for CPU profiles of the bench process during the dev server's "+
		"bursts (floor-N.pprof, breach-N.pprof: the worker of both runs in it), for `go tool pprof`")
	flag.IntVar(&cfg.MemoryCases, "memory-cases", 10000, "open cases on one worker for the memory figure (0 skips)")
	flag.StringVar(&cfg.Form, "form", "dev", "where to measure: dev (the Temporal dev server: every measure), "+
		"prod (the production form of `make prod`: intake, cost and deadlines; needs `make prod-tools`), both (side by side), "+
		"none (only the reports)")
	flag.IntVar(&cfg.ReportCases, "report-cases", 1000000, "reports: made-up cases seeded into a private PostgreSQL (0 skips)")
	flag.IntVar(&cfg.ReportRuns, "report-runs", 50, "reports: runs of each query")
	flag.Uint64Var(&cfg.ReportSeed, "report-seed", 1, "reports: random seed of the made-up cases")
	flag.StringVar(&cfg.ReportDSN, "report-dsn", "", "reports: time the queries on this database as it is (no private server, no seeding)")
	flag.StringVar(&cfg.Out, "out", "bench-results.json", "where to write the figures as JSON")
	flag.Parse()
	if cfg.Deadlines == nil {
		cfg.Deadlines = []int{1000, 5000}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := bench.Run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
