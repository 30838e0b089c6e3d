package main

import (
	"fmt"
	"io"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
)

// showCalendar prints what the working-day calendar covers at now, the
// warning operators get (from CALENDAR_WARN_DAYS before its end) and how to
// add the next year.
func showCalendar(out io.Writer, cfg starter.CaseConfig, now time.Time) error {
	cov, err := complaint.CoverageOf(cfg.Calendar, cfg.CalendarZone)
	if err != nil {
		return fmt.Errorf("CALENDAR: %w", err)
	}
	if cov.Until.IsZero() {
		_, err := fmt.Fprintf(out, "calendar %s: the calendar library knows every year's holidays\n", cov.Country)
		return err
	}
	last := cov.Until.AddDate(0, 0, -1)
	fmt.Fprintf(out, "calendar %s: holidays and make-up working days of %v, covered until %s\n",
		cov.Country, cov.Years, last.Format(time.DateOnly))
	if w := cov.Warning(now, cfg.CalendarWarnDays); w != "" {
		fmt.Fprintf(out, "WARNING: %s\n", w)
	}
	_, err = fmt.Fprintf(out, `To add %d: when the State Council publishes its holiday arrangement (国务院办公厅关于%d年部分节假日安排的通知),
add "%d": {"holidays": [...], "workdays": [...]} to complaint/calendars/cn.json with the notice in "source",
then release the API and the worker. Until then, CALENDAR_EXTRA_HOLIDAYS and CALENDAR_EXTRA_WORKDAYS
(comma-separated YYYY-MM-DD) add days from the configuration; deadlines past the table are counted
on weekends only and flagged approximate.
`, last.Year()+1, last.Year()+1, last.Year()+1)
	return err
}
