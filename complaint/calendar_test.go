package complaint

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

func chinaCalendar(t testing.TB) *WorkCalendar {
	t.Helper()
	spec, err := LoadCalendar("cn", "", DaySet{}, 2024)
	if err != nil {
		t.Fatal(err)
	}
	c, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func TestChinaWorkdays(t *testing.T) {
	c := chinaCalendar(t)
	for date, want := range map[string]bool{
		"2026-11-23 10:00": true,  // Monday
		"2026-11-28 10:00": false, // Saturday
		"2026-10-01 10:00": false, // National Day
		"2026-10-07 10:00": false, // National Day week
		"2026-10-10 10:00": true,  // Saturday make-up working day
		"2026-02-14 10:00": true,  // Saturday make-up before the Spring Festival
		"2026-02-16 10:00": false, // Spring Festival eve
		"2025-09-28 10:00": true,  // Sunday make-up day
		"2024-06-10 10:00": false, // Dragon Boat Festival
	} {
		if got := c.IsWorkday(at(date)); got != want {
			t.Errorf("IsWorkday(%s) = %v, want %v", date, got, want)
		}
	}
}

func TestThreeWorkingDays(t *testing.T) {
	c := chinaCalendar(t)
	tests := []struct {
		from, want string
		approx     bool
	}{
		{"2026-11-23 10:00", "2026-11-26 10:00", false}, // Monday → Thursday
		{"2026-11-27 18:00", "2026-12-02 18:00", false}, // Friday evening: the weekend does not count
		{"2026-11-28 10:00", "2026-12-03 00:00", false}, // received on Saturday: counting starts Monday
		// Wednesday evening before the National Day week: 6 h of 30 Sep, 8 and
		// 9 Oct, and 18 h of Saturday 10 Oct, a make-up working day.
		{"2026-09-30 18:00", "2026-10-10 18:00", false},
		// Friday evening before the 2025 National Day week: Saturday is off,
		// Sunday 28 Sep is a make-up working day, then Monday and Tuesday.
		{"2025-09-26 18:00", "2025-09-30 18:00", false},
		{"2026-04-30 18:00", "2026-05-08 18:00", false}, // Labour Day week
		{"2026-02-13 12:00", "2026-02-25 12:00", false}, // Spring Festival: 14 Feb make-up, 24, 25 Feb
		{"2026-12-30 09:00", "2027-01-04 09:00", true},  // 2027 is not in the table: weekends only, flagged
	}
	for _, tt := range tests {
		got, approx := c.AddWorking(at(tt.from), WorkingDays(3))
		if !got.Equal(at(tt.want)) || approx != tt.approx {
			t.Errorf("%s + 3 working days = %s (approx %v), want %s (approx %v)",
				tt.from, got.In(shanghai).Format("2006-01-02 15:04 Mon"), approx, tt.want, tt.approx)
		}
	}
}

func TestWorkingBetweenInvertsAddWorking(t *testing.T) {
	c := chinaCalendar(t)
	from := at("2026-09-30 18:00")
	due, _ := c.AddWorking(from, WorkingDays(3))
	if got := c.WorkingBetween(from, due); got != WorkingDays(3) {
		t.Fatalf("WorkingBetween = %s, want 72h", got)
	}
}

// Properties over random starts and lengths in the table's years.
func TestCalendarProperties(t *testing.T) {
	c := chinaCalendar(t)
	rnd := rand.New(rand.NewPCG(7, 11))
	start := at("2024-01-01 00:00")
	for range 2000 {
		from := start.Add(time.Duration(rnd.Int64N(int64(2 * 365 * 24 * time.Hour))))
		n := 1 + rnd.IntN(10)
		due, _ := c.AddWorking(from, WorkingDays(float64(n)))
		if !c.IsWorkday(due) {
			t.Fatalf("%s + %d working days lands on a non-working day %s", from, n, due)
		}
		longer, _ := c.AddWorking(from, WorkingDays(float64(n+1)))
		if !longer.After(due) {
			t.Fatalf("not monotonic: +%d = %s, +%d = %s", n, due, n+1, longer)
		}
		// Pausing for a while and resuming with the remaining budget never
		// gives an earlier deadline.
		pause := from.Add(time.Duration(rnd.Int64N(int64(due.Sub(from)) + 1)))
		resume := pause.Add(time.Duration(rnd.Int64N(int64(10 * 24 * time.Hour))))
		used := c.WorkingBetween(from, pause)
		resumed, _ := c.AddWorking(resume, WorkingDays(float64(n))-used)
		if resumed.Before(due) {
			t.Fatalf("pause %s–%s shortened the deadline %s to %s", pause, resume, due, resumed)
		}
	}
}

func TestLibraryCalendarsAndExtraDays(t *testing.T) {
	spec, err := LoadCalendar("us", "America/New_York", DaySet{Holidays: []string{"2026-11-27"}}, 2026)
	if err != nil {
		t.Fatal(err)
	}
	c, err := spec.Build()
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	thanksgiving := time.Date(2026, 11, 26, 12, 0, 0, 0, ny)
	if c.IsWorkday(thanksgiving) || c.IsWorkday(thanksgiving.AddDate(0, 0, 1)) {
		t.Fatal("Thanksgiving (library) and the day after (company extra) are days off")
	}
	// A library holiday on a Saturday is observed on the Friday before:
	// Independence Day 2026.
	if c.IsWorkday(time.Date(2026, 7, 3, 12, 0, 0, 0, ny)) || !c.IsWorkday(time.Date(2026, 7, 2, 12, 0, 0, 0, ny)) {
		t.Fatal("4 July 2026 is a Saturday: Friday 3 July is the day off, Thursday is not")
	}
	// A date that is both a company holiday and a make-up working day is a
	// day off: the holiday wins.
	both, err := (CalendarSpec{Country: "cn", Zone: "Asia/Shanghai",
		Extra: DaySet{Holidays: []string{"2026-11-28"}, Workdays: []string{"2026-11-28", "2026-11-29"}}}).Build()
	if err != nil {
		t.Fatal(err)
	}
	if both.IsWorkday(at("2026-11-28 10:00")) || !both.IsWorkday(at("2026-11-29 10:00")) {
		t.Fatal("Saturday 28 Nov is both: a day off; Sunday 29 Nov is only a make-up day: working")
	}
	// Also where the library has a holiday of its own that day (observed on
	// another).
	usBoth, err := (CalendarSpec{Country: "us", Zone: "America/New_York",
		Extra: DaySet{Holidays: []string{"2026-07-04"}, Workdays: []string{"2026-07-04"}}}).Build()
	if err != nil {
		t.Fatal(err)
	}
	if usBoth.IsWorkday(time.Date(2026, 7, 4, 12, 0, 0, 0, ny)) {
		t.Fatal("4 July 2026, listed both as a company holiday and a working day, is a day off")
	}
	if _, err := (CalendarSpec{Country: "us", Zone: "UTC", Extra: DaySet{Holidays: []string{"0000-06-15"}}}).Build(); err == nil {
		t.Fatal("a date in year 0 must be refused")
	}
	if _, err := LoadCalendar("xx", "UTC", DaySet{}, 2026); err == nil {
		t.Fatal("an unknown country must be refused")
	}
	if _, err := LoadCalendar("cn", "", DaySet{Holidays: []string{"26-1-1"}}, 2026); err == nil {
		t.Fatal("a malformed extra date must be refused")
	}
}

// Cases with equal policies share one calendar; a spec that differs, even
// by one company holiday, gets its own; many cases ask a shared calendar at
// once.
func TestEqualSpecsShareOneCalendar(t *testing.T) {
	load := func(extra DaySet) CalendarSpec {
		spec, err := LoadCalendar("cn", "", extra, 2024)
		if err != nil {
			t.Fatal(err)
		}
		return spec
	}
	first, err := load(DaySet{}).Shared()
	if err != nil {
		t.Fatal(err)
	}
	again, err := load(DaySet{}).Shared()
	if err != nil {
		t.Fatal(err)
	}
	if first != again {
		t.Fatal("two equal specs built two calendars")
	}
	withDayOff, err := load(DaySet{Holidays: []string{"2026-11-23"}}).Shared()
	if err != nil {
		t.Fatal(err)
	}
	monday := at("2026-11-23 10:00")
	if !first.IsWorkday(monday) || withDayOff.IsWorkday(monday) {
		t.Fatal("a company holiday must change only the calendar of the spec that has it")
	}
	for range 2 { // and refused again: a spec that fails is not kept
		if c, err := (CalendarSpec{Country: "cn", Zone: "Nowhere/Atlantis"}).Shared(); err == nil || c != nil {
			t.Fatal("a spec Build refuses must be refused")
		}
	}
	// The shared calendar keeps no map of the spec it was built from.
	spec := load(DaySet{})
	kept, err := spec.Shared()
	if err != nil {
		t.Fatal(err)
	}
	delete(spec.Years, 2026)
	if !kept.Covered(at("2026-06-01 10:00")) {
		t.Fatal("a change to a case's spec must not reach the calendar it shares")
	}
	// The National Day week, 2026: a Wednesday evening's three working days
	// end on the Saturday make-up day (see TestThreeWorkingDays).
	want := at("2026-10-10 18:00")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if due, _ := first.AddWorking(at("2026-09-30 18:00"), WorkingDays(3)); !due.Equal(want) {
					t.Errorf("due %v, want %v", due, want)
					return
				}
			}
		})
	}
	// The library's holidays too: Japan's Vernal Equinox Day falls on
	// Friday 20 March 2026 and on Sunday 21 March 2027, observed Monday 22.
	japan, err := (CalendarSpec{Country: "jp", Zone: "Asia/Tokyo"}).Shared()
	if err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	noon := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, tokyo) }
	for i := range 8 {
		wg.Go(func() {
			for range 200 {
				if i%2 == 0 && japan.IsWorkday(noon(2026, 3, 20)) ||
					i%2 == 1 && (japan.IsWorkday(noon(2027, 3, 22)) || !japan.IsWorkday(noon(2027, 3, 19))) {
					t.Error("Vernal Equinox Day: 2026-03-20 and 2027-03-22 off, 2027-03-19 working")
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkAddThreeWorkingDays(b *testing.B) {
	c := chinaCalendar(b)
	from := at("2026-09-30 18:00")
	for b.Loop() {
		c.AddWorking(from, WorkingDays(3))
	}
}

// Operators are told from a configurable number of days before the
// holiday table ends; a pinned clock, never today's.
func TestCalendarCoverageWarnsBeforeTheTableEnds(t *testing.T) {
	c, err := CoverageOf("cn", "")
	if err != nil {
		t.Fatal(err)
	}
	shanghai := mustLoad("Asia/Shanghai")
	last := c.Years[len(c.Years)-1]
	if want := time.Date(last+1, 1, 1, 0, 0, 0, 0, shanghai); !c.Until.Equal(want) {
		t.Fatalf("covered until %s, want %s", c.Until, want)
	}
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{time.Date(last, 10, 1, 0, 0, 0, 0, shanghai), ""},
		{time.Date(last, 11, 15, 0, 0, 0, 0, shanghai), fmt.Sprintf("ends on %d-12-31", last)},
		{time.Date(last+1, 1, 2, 0, 0, 0, 0, shanghai), fmt.Sprintf("ended on %d-12-31", last)},
	} {
		got := c.Warning(tc.now, 60)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("at %s: %q, want %q", tc.now, got, tc.want)
		}
	}
	us, err := CoverageOf("us", "America/New_York")
	if err != nil || !us.Until.IsZero() || us.Warning(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), 60) != "" {
		t.Fatalf("a library calendar knows every year: %+v %v", us, err)
	}
}
