package worker

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/telemetry"
)

// watchCalendar tells operators, from CALENDAR_WARN_DAYS before the
// working-day calendar's holiday table ends, to add the next year: the
// gauge complaints_calendar_covered_until always, and a warning in the log
// at start and once a day.
func watchCalendar(ctx context.Context, cfg Config, mp metric.MeterProvider, logger *slog.Logger) error {
	cov, err := complaint.CoverageOf(cfg.Calendar, cfg.CalendarZone)
	if err != nil {
		return err
	}
	if err := telemetry.ObserveCalendarCoverage(mp, cov.Until); err != nil {
		return err
	}
	go func() {
		tick := time.NewTicker(24 * time.Hour)
		defer tick.Stop()
		for {
			warnCalendar(logger, cov, cfg.CalendarWarnDays, time.Now())
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return nil
}

// warnCalendar logs the calendar's warning at now, if it has one.
func warnCalendar(logger *slog.Logger, cov complaint.CalendarCoverage, warnDays int, now time.Time) {
	if w := cov.Warning(now, warnDays); w != "" {
		logger.Warn("working-day calendar: "+w, "coveredUntil", cov.Until, "years", cov.Years)
	}
}
