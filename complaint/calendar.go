package complaint

import (
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/fr"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/jp"
	"github.com/rickar/cal/v2/us"
)

//go:embed calendars/cn.json
var calendarFiles embed.FS

// DaySet lists dates (YYYY-MM-DD) that are days off, and weekend days that
// are working days (China's make-up days, 调休).
type DaySet struct {
	Holidays []string `json:"holidays,omitempty"`
	Workdays []string `json:"workdays,omitempty"`
}

// CalendarSpec is the working-day calendar a case's deadlines count on. It
// is captured into the case's policy when the case starts: the dates of our
// own table travel with the case, so a later edit of the table never moves
// the deadlines of a running case (nor breaks its replay).
type CalendarSpec struct {
	// Country is "cn" (our table of State Council notices) or one of the
	// calendar library's countries: us, gb, de, fr, jp.
	Country string `json:"country"`
	Zone    string `json:"zone"`
	// Years holds the table's dates by year, for "cn"; a year missing here
	// is counted on weekends only and the deadline is flagged approximate.
	Years map[int]DaySet `json:"years,omitempty"`
	// Extra adds company holidays and working days, for any country.
	Extra DaySet `json:"extra,omitempty"`
}

type calendarFile struct {
	Country string            `json:"country"`
	Zone    string            `json:"zone"`
	Years   map[string]DaySet `json:"years"`
}

var libraryCalendars = map[string][]*cal.Holiday{"us": us.Holidays, "gb": gb.Holidays, "de": de.Holidays,
	"fr": fr.Holidays, "jp": jp.Holidays}

// Countries lists the calendars that can be chosen.
func Countries() []string {
	return append([]string{"cn"}, slices.Sorted(maps.Keys(libraryCalendars))...)
}

// LoadCalendar returns the spec of a country's calendar in zone (empty: the
// country's own), with extra dates, keeping from our table the years from
// `from` on: the years a case opened then can reach.
func LoadCalendar(country, zone string, extra DaySet, from int) (CalendarSpec, error) {
	spec := CalendarSpec{Country: country, Zone: zone, Extra: extra}
	switch {
	case country == "cn":
		data, err := calendarFiles.ReadFile("calendars/cn.json")
		if err != nil {
			return spec, err
		}
		var f calendarFile
		if err := json.Unmarshal(data, &f); err != nil {
			return spec, fmt.Errorf("calendar table: %w", err)
		}
		spec.Years = map[int]DaySet{}
		for y, days := range f.Years {
			year, err := strconv.Atoi(y)
			if err != nil {
				return spec, fmt.Errorf("calendar table: year %q", y)
			}
			if year >= from {
				spec.Years[year] = days
			}
		}
		if spec.Zone == "" {
			spec.Zone = f.Zone
		}
	case libraryCalendars[country] != nil:
		if spec.Zone == "" {
			return spec, fmt.Errorf("calendar %s needs a time zone", country)
		}
	default:
		return spec, fmt.Errorf("unknown calendar %q (known: %v)", country, Countries())
	}
	_, err := spec.Build()
	return spec, err
}

// WorkCalendar answers working-day questions for the cases of one spec.
type WorkCalendar struct {
	loc *time.Location
	// daysOff and workdays are the spec's own dates (our table's and the
	// company's), by dayKey: a deadline walks its days one by one, and a
	// lookup is what each day costs.
	daysOff, workdays map[int]bool
	// library holds the calendar library's rules, for its countries; nil
	// for "cn", whose days are all in the table.
	library *cal.Calendar
	covered func(year int) bool
}

// dayKey is a calendar day as one number, 20261001 for 1 October 2026.
func dayKey(y int, m time.Month, d int) int { return y*10000 + int(m)*100 + d }

// Build makes the calendar. It is deterministic: the same spec gives the same
// answers on every worker and on replay.
func (s CalendarSpec) Build() (*WorkCalendar, error) {
	loc, err := time.LoadLocation(s.Zone)
	if err != nil {
		return nil, fmt.Errorf("calendar zone: %w", err)
	}
	wc := &WorkCalendar{loc: loc, daysOff: map[int]bool{}, workdays: map[int]bool{}}
	mark := func(into map[int]bool, what string, dates []string) error {
		for _, d := range dates {
			t, err := time.Parse(time.DateOnly, d)
			if err != nil {
				return fmt.Errorf("%s %q: %w", what, d, err)
			}
			if t.Year() < 1 {
				return fmt.Errorf("%s %q: no such year", what, d)
			}
			into[dayKey(t.Date())] = true
		}
		return nil
	}
	add := func(days DaySet) error {
		if err := mark(wc.daysOff, "holiday", days.Holidays); err != nil {
			return err
		}
		return mark(wc.workdays, "working day", days.Workdays)
	}
	if hs := libraryCalendars[s.Country]; hs != nil {
		wc.library = &cal.Calendar{}
		wc.library.AddHoliday(ownCopies(hs)...)
		wc.covered = func(int) bool { return true }
	} else {
		known := map[int]bool{} // its own copy: a shared calendar keeps no case's map
		for _, y := range slices.Sorted(maps.Keys(s.Years)) {
			if err := add(s.Years[y]); err != nil {
				return nil, err
			}
			known[y] = true
		}
		wc.covered = func(y int) bool { return known[y] }
	}
	if err := add(s.Extra); err != nil {
		return nil, err
	}
	return wc, nil
}

// ownCopies gives each of the library's holidays a function that works on
// its own copy of the holiday: some write to the holiday they are given
// (jp's Vernal Equinox Day sets its day for the year asked), and the
// library's holidays are package variables, so cases asking at once on
// different goroutines would otherwise see each other's year.
func ownCopies(hs []*cal.Holiday) []*cal.Holiday {
	out := make([]*cal.Holiday, len(hs))
	for i, h := range hs {
		out[i] = h.Clone(nil)
		if f := h.Func; f != nil {
			out[i].Func = func(h *cal.Holiday, year int) time.Time {
				own := *h
				return f(&own, year)
			}
		}
	}
	return out
}

// shared holds the calendars built by Shared, by their spec's JSON. A
// worker holds thousands of cases in memory, nearly all with one of a few
// specs (the configuration they started under); built once per spec, their
// holidays and zone are held once instead of once a case (a fifth of a
// cached case's memory), and a case loaded from its history does not build
// them again.
var shared = struct {
	sync.Mutex
	byKey map[string]*WorkCalendar
}{byKey: map[string]*WorkCalendar{}}

// maxShared bounds shared: past it the map starts over. Distinct specs come
// from configuration changes, a handful in a worker's life.
const maxShared = 64

// Shared returns the calendar of s, built once for every spec equal to it
// (again only after maxShared specs). A WorkCalendar is never changed after
// Build, so any number of cases may ask it at once, and equal specs give the
// same answers.
func (s CalendarSpec) Shared() (*WorkCalendar, error) {
	key, err := json.Marshal(s) // map keys sorted: equal specs, equal keys
	if err != nil {
		return nil, err
	}
	shared.Lock()
	c := shared.byKey[string(key)]
	shared.Unlock()
	if c != nil {
		return c, nil
	}
	if c, err = s.Build(); err != nil {
		return nil, err
	}
	shared.Lock()
	defer shared.Unlock()
	if len(shared.byKey) >= maxShared {
		clear(shared.byKey)
	}
	shared.byKey[string(key)] = c
	return c, nil
}

// IsWorkday reports whether the calendar day of t (in the calendar's zone)
// is a working day. A day off in the spec wins over a working day on the
// same date; a library holiday counts on the day the country's rules
// observe it (in the us, a Saturday's on the Friday before).
func (c *WorkCalendar) IsWorkday(t time.Time) bool {
	t = t.In(c.loc)
	key := dayKey(t.Date())
	weekend := t.Weekday() == time.Saturday || t.Weekday() == time.Sunday
	switch {
	case weekend && !c.workdays[key], c.daysOff[key]:
		return false
	case c.library != nil:
		_, observed, _ := c.library.IsHoliday(t)
		return !observed
	}
	return true
}

// Covered reports whether the calendar knows the holidays of t's year.
func (c *WorkCalendar) Covered(t time.Time) bool { return c.covered(t.In(c.loc).Year()) }

// maxDays bounds the walks below: no deadline is ten years of working days away.
const maxDays = 3660

// AddWorking returns the moment when d of working time has passed after
// from, counting only the hours of working days (whole days, midnight to
// midnight). approx is true when the walk crossed a year whose holidays the
// calendar does not know.
func (c *WorkCalendar) AddWorking(from time.Time, d time.Duration) (due time.Time, approx bool) {
	t := from.In(c.loc)
	for range maxDays {
		dayEnd := midnight(t).AddDate(0, 0, 1)
		if !c.Covered(t) {
			approx = true
		}
		if c.IsWorkday(t) {
			avail := dayEnd.Sub(t)
			if d < avail {
				return t.Add(d), approx
			}
			d -= avail
		}
		t = dayEnd
	}
	return t, true
}

// WorkingBetween is the working time between from and to.
func (c *WorkCalendar) WorkingBetween(from, to time.Time) time.Duration {
	var total time.Duration
	t := from.In(c.loc)
	for range maxDays {
		if !t.Before(to) {
			return total
		}
		end := midnight(t).AddDate(0, 0, 1)
		if to.Before(end) {
			end = to.In(c.loc)
		}
		if c.IsWorkday(t) {
			total += end.Sub(t)
		}
		t = end
	}
	return total
}

// WorkingDays is n working days as a duration of working time.
func WorkingDays(n float64) time.Duration { return time.Duration(n * float64(24*time.Hour)) }

func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}
