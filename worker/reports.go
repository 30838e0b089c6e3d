package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// reportRefresher is what keepReportsCurrent needs of the store.
type reportRefresher interface {
	RefreshReports(ctx context.Context) (int64, error)
}

// keepReportsCurrent brings the reports' rollup up to date every `every`
// until ctx ends (a write only queues its case: migration 00017). The
// reports are exact without it, as every read refreshes first; with it a
// read finds at most a second's changes to add. A failure is logged once
// and its end once, not every second of an outage: the next round retries.
func keepReportsCurrent(ctx context.Context, db reportRefresher, every time.Duration, logger *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		_, err := db.RefreshReports(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && !failing:
			logger.Warn("reports: the rollup could not be brought up to date; retrying every round", "error", err)
		case err == nil && failing:
			logger.Info("reports: the rollup is up to date again")
		}
		failing = err != nil
	}
}

// checkReportsRefresh refuses an interval the ticker cannot take.
func checkReportsRefresh(every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("REPORTS_REFRESH_EVERY=%s: want a positive duration such as 1s", every)
	}
	return nil
}
