package worker

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// flakyReports fails the rounds in fail (counted from 1) and ends the test's
// context after the last round.
type flakyReports struct {
	mu     sync.Mutex
	rounds int
	fail   map[int]bool
	last   int
	done   context.CancelFunc
}

func (f *flakyReports) RefreshReports(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rounds++
	if f.rounds == f.last {
		f.done()
	}
	if f.fail[f.rounds] {
		return 0, errors.New("connection refused")
	}
	return 1, nil
}

// The worker refreshes the reports round after round; an outage is logged
// when it starts and when it ends, not every round.
func TestTheWorkerKeepsTheReportsCurrentAndLogsAnOutageOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := &flakyReports{fail: map[int]bool{2: true, 3: true, 4: true, 7: true}, last: 9, done: cancel}
	var logged bytes.Buffer
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		keepReportsCurrent(ctx, db, time.Millisecond, slog.New(slog.NewTextHandler(&logged, nil)))
	}()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		t.Fatal("keepReportsCurrent did not return when its context ended")
	}
	if db.rounds < 9 {
		t.Errorf("%d rounds, want 9", db.rounds)
	}
	out := logged.String()
	if n := strings.Count(out, "could not be brought up to date"); n != 2 {
		t.Errorf("%d failure lines for two outages, want 2:\n%s", n, out)
	}
	if n := strings.Count(out, "up to date again"); n != 2 {
		t.Errorf("%d recovery lines for two outages, want 2:\n%s", n, out)
	}
}

func TestReportsRefreshMustBePositive(t *testing.T) {
	for _, bad := range []time.Duration{0, -time.Second} {
		if err := checkReportsRefresh(bad); err == nil || !strings.Contains(err.Error(), "REPORTS_REFRESH_EVERY") {
			t.Errorf("REPORTS_REFRESH_EVERY=%s: %v", bad, err)
		}
	}
	if err := checkReportsRefresh(time.Second); err != nil {
		t.Error(err)
	}
}
