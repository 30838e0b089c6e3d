// Command reportbench measures the list and report queries on a realistic
// volume: it starts a private PostgreSQL (as the tests do), seeds it with N
// made-up cases, runs each query repeatedly and prints p50/p99/max per
// query as a table and as JSON. It reports timings; it never fails on one.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	var o options
	flag.IntVar(&o.cases, "n", 1000000, "cases to seed")
	flag.IntVar(&o.runs, "runs", 50, "runs of each query")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed of the made-up cases")
	flag.StringVar(&o.dsn, "dsn", "", "measure this database as it is (no private server, no seeding)")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "reportbench:", err)
		os.Exit(1)
	}
}
