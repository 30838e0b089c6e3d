package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/complaintdesk/complaintdesk/seed"
	"github.com/spf13/cobra"
)

// seedCommand fills the database with made-up cases for the reports:
// demonstration and measurement data, not cases Temporal knows of.
func seedCommand() *cobra.Command {
	var n int
	var seedValue uint64
	cmd := &cobra.Command{
		Use: "seed [-n N] [--seed S]", Short: "Write N made-up cases of the last 12 months into the database",
		Args: cobra.NoArgs,
		RunE: runs(func(cmd *cobra.Command, _ []string) error {
			if n < 1 {
				return fmt.Errorf("-n must be at least 1")
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			p := newProgress(n, time.Now())
			last := time.Now()
			err = seed.Write(cmd.Context(), cfg.DatabaseURL, n, rand.New(rand.NewPCG(seedValue, seedValue)), func(done int) {
				if now := time.Now(); now.Sub(last) >= 5*time.Second || done == n {
					cmd.PrintErrln(p.line(done, now))
					last = now
				}
			})
			if err != nil {
				return err
			}
			took := time.Since(p.start).Round(time.Second)
			return printOut(cmd, map[string]any{"cases": n, "seconds": took.Seconds()},
				func(w io.Writer) { row(w, fmt.Sprintf("%d cases written in %s", n, took)) })
		}),
	}
	cmd.Flags().IntVarP(&n, "n", "n", 100000, "cases to write")
	cmd.Flags().Uint64Var(&seedValue, "seed", uint64(time.Now().UnixNano()), "random seed (the same seed gives the same cases)")
	return cmd
}

// progress says how far a long write has come and when it will end, from
// the rate so far.
type progress struct {
	total int
	start time.Time
}

func newProgress(total int, start time.Time) progress { return progress{total: total, start: start} }

func (p progress) line(done int, now time.Time) string {
	elapsed := now.Sub(p.start)
	s := fmt.Sprintf("%d of %d cases written (%.0f %%), %s", done, p.total, 100*float64(done)/float64(p.total),
		elapsed.Round(time.Second))
	if done > 0 && done < p.total {
		eta := time.Duration(float64(elapsed) / float64(done) * float64(p.total-done))
		s += fmt.Sprintf(", about %s to go", eta.Round(time.Second))
	}
	return s
}
