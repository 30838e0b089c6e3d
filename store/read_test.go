package store

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	c := cursor{at: time.Date(2026, 11, 23, 9, 14, 3, 913761000, time.UTC), key: "CMP-20261123-ADT2C7"}
	got, err := parseCursor(c.String())
	if err != nil || got != c {
		t.Fatalf("parsed %+v, %v; want %+v", got, err, c)
	}
	for _, bad := range []string{"", "!!!", "MTox", "MjoxOkNNUA", "MTphYmM6Q01Q", "MToxOg"} {
		if _, err := parseCursor(bad); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %q: %v, want ErrBadCursor", bad, err)
		}
	}
}

func TestEscapeLike(t *testing.T) {
	if got := escapeLike(`100% _sure_ \o/`); got != `100\% \_sure\_ \\o/` {
		t.Fatalf("escaped %q", got)
	}
}

// buckets as report_buckets() makes them: eight to an octave.
func testBuckets() []bucket {
	out := []bucket{{lo: 0, hi: 1}}
	for b := 1; b <= 208; b++ {
		out = append(out, bucket{lo: math.Pow(2, float64(b-1)/8), hi: math.Pow(2, float64(b)/8)})
	}
	return out
}

func TestHistogramPercentilesAreCloseToTheExactOnes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	bounds := testBuckets()
	for _, median := range []float64{20, 3 * 3600, 4 * 86400} {
		values := make([]float64, 20000)
		counts := make([]int64, len(bounds))
		for i := range values {
			v := median * math.Exp(rnd.NormFloat64())
			values[i] = v
			b := 0
			if v >= 1 {
				b = min(1+int(math.Floor(8*math.Log2(v))), 208)
			}
			counts[b]++
		}
		var hist []bucket
		for i, n := range counts {
			if n > 0 {
				hist = append(hist, bucket{lo: bounds[i].lo, hi: bounds[i].hi, n: n})
			}
		}
		slices.Sort(values)
		for _, q := range []float64{0.5, 0.9} {
			exact := values[int(q*float64(len(values)-1))]
			got := histPercentile(hist, q)
			if got == nil || math.Abs(*got-exact)/exact > 0.03 {
				t.Errorf("median %g: q%.1f from the histogram %v, exact %g", median, q, *got, exact)
			}
		}
	}
	if histPercentile(nil, 0.5) != nil {
		t.Error("no durations have a median")
	}
	one := histPercentile([]bucket{{lo: 8, hi: 9, n: 1}}, 0.9)
	if *one < 8 || *one >= 9 {
		t.Errorf("one duration in [8, 9): %v", *one)
	}
}

func TestTrendFillsEmptyPeriods(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	days := []dayRow{{Day: day("2001-01-02"), Cases: 2, Breached: 1}, {Day: day("2001-01-03"), Cases: 1},
		{Day: day("2001-01-17"), Cases: 4, Escalated: 2}}
	weekly := buildTrend(days, ReportFilter{From: "2001-01-01", To: "2001-01-31", Interval: "week"},
		day("2001-01-01"), day("2001-01-31"))
	want := []TrendPoint{{"2001-01-01", 3, 1, 0}, {"2001-01-08", 0, 0, 0}, {"2001-01-15", 4, 0, 2},
		{"2001-01-22", 0, 0, 0}, {"2001-01-29", 0, 0, 0}}
	if weekly.Interval != "week" || !slices.Equal(weekly.Points, want) {
		t.Fatalf("weekly trend %+v", weekly)
	}
	auto := buildTrend(days, ReportFilter{}, time.Time{}, time.Time{})
	if auto.Interval != "day" || len(auto.Points) != 16 || auto.Points[0].Period != "2001-01-02" || auto.Points[15].Cases != 4 {
		t.Fatalf("open trend %+v", auto)
	}
	year := buildTrend(days, ReportFilter{From: "2001-01-01", To: "2001-12-31"}, day("2001-01-01"), day("2001-12-31"))
	if year.Interval != "week" {
		t.Fatalf("a year by %s", year.Interval)
	}
	monthly := buildTrend(days, ReportFilter{Interval: "month"}, time.Time{}, time.Time{})
	if len(monthly.Points) != 1 || monthly.Points[0] != (TrendPoint{"2001-01-01", 7, 1, 2}) {
		t.Fatalf("monthly %+v", monthly)
	}
}
