// Package bench measures the system against the raw Temporal server on the
// same machine in one run, and prints the figures as a table and as JSON.
// It never fails on a timing: every claim about speed is a ratio measured
// side by side.
package bench

import (
	"slices"
	"time"
)

// Latencies summarises a set of durations.
type Latencies struct {
	Count int     `json:"count"`
	P50ms float64 `json:"p50Ms"`
	P99ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
}

func summarise(ds []time.Duration) Latencies {
	if len(ds) == 0 {
		return Latencies{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := min(int(q*float64(len(s))), len(s)-1)
		return ms(s[i])
	}
	return Latencies{Count: len(s), P50ms: at(0.50), P99ms: at(0.99), MaxMs: ms(s[len(s)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
