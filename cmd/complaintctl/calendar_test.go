package main

import (
	"strings"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
)

func TestCalendarCommandShowsCoverageAndHowToAddAYear(t *testing.T) {
	cov, err := complaint.CoverageOf("cn", "")
	if err != nil {
		t.Fatal(err)
	}
	last := cov.Years[len(cov.Years)-1]
	cfg := starter.CaseConfig{Calendar: "cn", CalendarWarnDays: 60}
	var out strings.Builder
	if err := showCalendar(&out, cfg, cov.Until.AddDate(0, 0, -30)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"covered until " + time.Date(last, 12, 31, 0, 0, 0, 0, time.UTC).Format(time.DateOnly),
		"WARNING:", "complaint/calendars/cn.json", "CALENDAR_EXTRA_HOLIDAYS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := showCalendar(&out, cfg, cov.Until.AddDate(0, 0, -90)); err != nil || strings.Contains(out.String(), "WARNING") {
		t.Errorf("a warning 90 days ahead: %v\n%s", err, out.String())
	}
}
