package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/complaintdesk/complaintdesk/seed"
)

// seedCases fills the database with made-up cases for the reports: demonstration
// and measurement data, not cases Temporal knows of.
func seedCases(ctx context.Context, cfg config, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	n := fs.Int("n", 100000, "cases to write")
	seedValue := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (the same seed gives the same cases)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *n < 1 {
		return errors.New(usage)
	}
	start, last := time.Now(), time.Now()
	err := seed.Write(ctx, cfg.DatabaseURL, *n, rand.New(rand.NewPCG(*seedValue, *seedValue)), func(done int) {
		if time.Since(last) > 5*time.Second || done == *n {
			fmt.Fprintf(os.Stderr, "%d of %d cases written, %s\n", done, *n, time.Since(start).Round(time.Second))
			last = time.Now()
		}
	})
	if err != nil {
		return err
	}
	fmt.Printf("%d cases written in %s\n", *n, time.Since(start).Round(time.Second))
	return nil
}
