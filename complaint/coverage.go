package complaint

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// CalendarCoverage is how far a calendar's holiday table reaches. Working
// days past its end are counted on weekends only and flagged approximate, so
// operators are told in time to add the next year.
type CalendarCoverage struct {
	Country string
	// Years are the years of the table; empty for a library calendar,
	// which knows every year.
	Years []int
	// Until is the first moment the table no longer covers (1 January
	// after its last year, in the calendar's zone); zero when every year is
	// covered.
	Until time.Time
}

// CoverageOf says how far the holiday table of the calendar country
// (CALENDAR) reaches, with every year it holds.
func CoverageOf(country, zone string) (CalendarCoverage, error) {
	c := CalendarCoverage{Country: country}
	if libraryCalendars[country] != nil {
		return c, nil
	}
	spec, err := LoadCalendar(country, zone, DaySet{}, 0)
	if err != nil {
		return c, err
	}
	c.Years = slices.Sorted(maps.Keys(spec.Years))
	loc, err := time.LoadLocation(spec.Zone)
	if err != nil {
		return c, fmt.Errorf("calendar zone: %w", err)
	}
	if len(c.Years) > 0 {
		c.Until = time.Date(c.Years[len(c.Years)-1]+1, time.January, 1, 0, 0, 0, 0, loc)
	}
	return c, nil
}

// Warning is what operators are told from warnDays before the table ends:
// empty until then, and for a calendar that knows every year.
func (c CalendarCoverage) Warning(now time.Time, warnDays int) string {
	if c.Until.IsZero() || now.Before(c.Until.AddDate(0, 0, -warnDays)) {
		return ""
	}
	last := c.Until.AddDate(0, 0, -1).Format(time.DateOnly)
	if !now.Before(c.Until) {
		return fmt.Sprintf("the %s holiday table ended on %s: deadlines after it count weekends only and are flagged "+
			"approximate; add the next year (complaintctl calendar)", c.Country, last)
	}
	return fmt.Sprintf("the %s holiday table ends on %s: add the next year before then (complaintctl calendar)",
		c.Country, last)
}
