package systemtest

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/complaintdesk/complaintdesk/api"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/seed"
	"github.com/complaintdesk/complaintdesk/store"
)

// The list and the reports are tested on a known set of cases written
// straight into the database in a year long past, so that the cases the
// other tests start never count: every figure below is worked out by hand
// from the table in knownCases.

type knownSLA struct {
	clock, dept string
	breachedAt  time.Duration // after receipt; 0: never breached
	metAt       time.Duration // after receipt; 0: never met
}

type knownCase struct {
	suffix      string
	received    string // month-day and time in UTC; the reference's day is Shanghai's
	category    string
	departments []string
	channel     string
	status      string
	owner       string
	subject     string
	ack         time.Duration
	closed      time.Duration // 0: open
	outcome     string
	escalation  int
	breached    bool
	repeatOf    string // suffix of the case repeated
	score       int    // -1: survey sent, unanswered; 0: no survey
	comp        []knownComp
	sla         []knownSLA
}

type knownComp struct {
	amount, currency string
	executed         bool
}

const h, d = time.Hour, 24 * time.Hour

var knownCases = []knownCase{
	{"AAAAAA", "01-10T02:00", "logistics", []string{"logistics"}, "web", "completed", "agent.li", "Parcel arrived damaged",
		60 * time.Second, 2 * d, "upheld", 0, false, "", 5, []knownComp{{"100.00", "CNY", true}},
		[]knownSLA{{"firstResponse", "", 0, h}, {"resolution", "", 0, d}, {"startInvestigation", "logistics", 0, h}}},
	{"BBBBBB", "01-10T02:00", "logistics", []string{"logistics"}, "phone", "completed", "agent.li", "Late delivery of the parcel",
		120 * time.Second, 4 * d, "partially_upheld", 0, false, "", 4, []knownComp{{"50.00", "CNY", true}},
		[]knownSLA{{"firstResponse", "", 0, 2 * h}, {"resolution", "", 0, 2 * d}}},
	{"CCCCCC", "02-15T02:00", "product_quality", []string{"product", "technical"}, "chat", "survey_pending", "agent.wu",
		"Smartwatch dead on arrival", 30 * time.Second, 6 * d, "upheld", 1, true, "", -1,
		[]knownComp{{"", "", true}},
		[]knownSLA{{"firstResponse", "", 4 * h, 5 * h}, {"resolution", "", 0, 2 * d},
			{"startInvestigation", "product", 0, 3 * h}, {"startInvestigation", "technical", 24 * h, 30 * h}}},
	{"DDDDDD", "02-16T02:00", "product_quality", []string{"product", "technical"}, "chat", "completed", "agent.wu",
		"Laptop screen flickers", 90 * time.Second, 10 * d, "rejected", 0, true, "", 1, nil,
		[]knownSLA{{"firstResponse", "", 0, 3 * h}, {"resolution", "", 3 * d, 4 * d}}},
	{"EEEEEE", "03-20T02:00", "legal", []string{"legal", "customer_service"}, "email", "in_dispute", "agent.sun",
		"Personal data shared without consent", 600 * time.Second, 0, "", 2, true, "", 0, nil,
		[]knownSLA{{"firstResponse", "", 4 * h, 0}}},
	{"FFFFFF", "03-21T02:00", "legal", []string{"legal", "customer_service"}, "email", "closed", "agent.sun",
		"Personal data still shared", 45 * time.Second, 3 * d, "upheld", 0, false, "EEEEEE", 0,
		[]knownComp{{"999.00", "USD", false}, {"20.00", "USD", true}},
		[]knownSLA{{"firstResponse", "", 0, 30 * time.Minute}, {"resolution", "", 0, d}}},
	{"GGGGGG", "03-22T02:00", "billing", []string{"billing"}, "social", "investigating", "agent.zhao", "Charged twice",
		15 * time.Second, 0, "", 0, false, "", 0, nil, []knownSLA{{"firstResponse", "", 0, 0}}},
	{"HHHHHH", "03-31T20:00", "billing", []string{"billing"}, "social", "withdrawn", "agent.zhao", "Charged twice again",
		20 * time.Second, 0, "", 0, false, "GGGGGG", 0, nil, []knownSLA{{"firstResponse", "", 0, h}}},
}

func knownRef(year int, c knownCase) string {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("CMP-%s-%s", knownReceived(year, c).In(shanghai).Format("20060102"), c.suffix)
}

func knownReceived(year int, c knownCase) time.Time {
	t, err := time.Parse("2006-01-02T15:04Z", fmt.Sprintf("%d-%sZ", year, c.received))
	if err != nil {
		panic(err)
	}
	return t
}

// writeKnownCases deletes what year holds and writes knownCases in it, as
// the workflow would have, through the triggers that keep the rollup.
func writeKnownCases(t *testing.T, year int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	prefix := fmt.Sprintf("CMP-%d%%", year)
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, table := range []string{"sla_events", "surveys", "resolutions", "case_events", "customer_contacts", "findings",
			"follow_ups", "cases"} {
			if _, err := tx.Exec(ctx, "DELETE FROM "+table+" WHERE reference LIKE $1", prefix); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum := summary(t, url.Values{"from": {fmt.Sprint(year, "-01-01")}, "to": {fmt.Sprint(year, "-12-31")}}); sum.Cases != 0 {
		t.Fatalf("%d cases left in %d after deleting them all", sum.Cases, year)
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, c := range knownCases {
			ref, r := knownRef(year, c), knownReceived(year, c)
			ack := r.Add(c.ack)
			var closedAt *time.Time
			var outcome, repeatOf any
			if c.closed > 0 {
				at := r.Add(c.closed)
				closedAt, outcome = &at, c.outcome
			}
			if c.repeatOf != "" {
				i := slices.IndexFunc(knownCases, func(k knownCase) bool { return k.suffix == c.repeatOf })
				repeatOf = knownRef(year, knownCases[i])
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO cases (reference, workflow_id, channel, category, severity, priority, status, owner,
					departments, subject, received_at, acknowledged_at, closed_at, outcome, escalation_level,
					sla_breached, repeat_of, repeat, updated_at)
				VALUES ($1, 'complaint-' || $1, $2, $3, 'medium', 'medium', $4, $5, $6, $7, $8, $9, $10, $11, $12,
					$13, $14::text, $14::text IS NOT NULL, $8)`,
				ref, c.channel, c.category, c.status, c.owner, c.departments, c.subject, r, ack, closedAt, outcome,
				c.escalation, c.breached, repeatOf); err != nil {
				return err
			}
			if c.score != 0 {
				var score any
				if c.score > 0 {
					score = c.score
				}
				if _, err := tx.Exec(ctx, `INSERT INTO surveys (reference, round, sent_at, score) VALUES ($1, 1, $2, $3)`,
					ref, closedAt.Add(14*d), score); err != nil {
					return err
				}
			}
			for i, comp := range c.comp {
				var amount, currency, executed any
				if comp.amount != "" {
					amount, currency = comp.amount, comp.currency
				}
				if comp.executed {
					executed = r.Add(c.closed - h)
				}
				if _, err := tx.Exec(ctx, `
					INSERT INTO resolutions (reference, attempt, actions, compensation_kind, amount, currency, message,
						proposed_by, proposed_at, accepted, executed_at)
					VALUES ($1, $2, '{apologise}', 'refund', $3::numeric, $4, 'sorry', $5, $6, $7, $8)`,
					ref, i+1, amount, currency, c.owner, r.Add(d), comp.executed, executed); err != nil {
					return err
				}
			}
			sla := append([]knownSLA{{"acknowledge", "", 0, c.ack}}, c.sla...)
			for _, k := range sla {
				clock := func(event string, level int, at time.Duration) complaint.SLAEvent {
					return complaint.SLAEvent{Clock: k.clock, Department: complaint.Department(k.dept), Round: 1,
						Event: event, Level: level, DueAt: r.Add(h), At: r.Add(at)}
				}
				events := []complaint.SLAEvent{clock("started", 0, 0)}
				if k.breachedAt > 0 {
					events = append(events, clock("breached", 0, k.breachedAt), clock("escalated", 1, k.breachedAt))
				}
				if k.metAt > 0 {
					events = append(events, clock("met", 0, k.metAt))
				}
				for _, e := range events {
					var dept any
					if k.dept != "" {
						dept = k.dept
					}
					if _, err := tx.Exec(ctx, `
						INSERT INTO sla_events (reference, event_key, clock, department, round, event, level, due_at, occurred_at)
						VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8)`,
						ref, e.Key(), e.Clock, dept, e.Event, e.Level, e.DueAt, e.At); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func getRaw(t *testing.T, path string) (int, http.Header, string) {
	t.Helper()
	return rawCall(t, http.MethodGet, sys.APIURL+path, nil)
}

// rawCall makes a request as an admin (a form when form is set) and
// returns the answer as it came: for pages, CSV and other non-JSON bodies.
func rawCall(t *testing.T, method, u string, form url.Values) (int, http.Header, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Authorization", "Bearer "+sys.AdminToken)
	resp, data := Do(t, req)
	return resp.StatusCode, resp.Header, string(data)
}

func summary(t *testing.T, q url.Values) store.Summary {
	t.Helper()
	status, _, body := getRaw(t, "/v1/reports/summary?"+q.Encode())
	if status != 200 {
		t.Fatalf("summary %s: %d %s", q.Encode(), status, body)
	}
	var s store.Summary
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func f64(v float64) *float64 { return &v }

func sameFloat(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return math.Abs(*a-*b) < 1e-9
}

// checkFigure fails unless got equals want (floats to 1e-9, nil as null).
func checkFigure(t *testing.T, name string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case *float64:
		if g := got.(*float64); !sameFloat(g, w) {
			t.Errorf("%s = %v, want %v", name, deref(g), deref(w))
		}
	default:
		g, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(g) != string(wj) {
			t.Errorf("%s = %s, want %s", name, g, wj)
		}
	}
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func rateOf(count, of int64) store.Rate {
	r := store.Rate{Count: count, Of: of}
	if of > 0 {
		r.Rate = f64(float64(count) / float64(of))
	}
	return r
}

func TestReportFiguresOfKnownCases(t *testing.T) {
	writeKnownCases(t, 2001)
	s := summary(t, url.Values{"from": {"2001-01-01"}, "to": {"2001-12-31"}, "interval": {"month"}})
	checkFigure(t, "cases", s.Cases, int64(8))
	checkFigure(t, "time zone", s.TimeZone, "Asia/Shanghai")
	checkFigure(t, "satisfaction responses", s.Satisfaction.Responses, int64(3))
	checkFigure(t, "satisfaction average", s.Satisfaction.Average, f64(10.0/3))
	checkFigure(t, "satisfaction distribution", s.Satisfaction.Distribution,
		[]store.ScoreCount{{Score: 1, Count: 1}, {Score: 2}, {Score: 3}, {Score: 4, Count: 1}, {Score: 5, Count: 1}})
	checkFigure(t, "resolution", s.Resolution, rateOf(4, 5))
	checkFigure(t, "repeat", s.Repeat, rateOf(2, 8))
	checkFigure(t, "escalated", s.Escalated, rateOf(2, 8))
	checkFigure(t, "sla breached", s.SLABreached, rateOf(3, 8))
	checkFigure(t, "percentiles", s.Percentiles, "exact")
	// acknowledgement: 15 20 30 45 60 90 120 600 s
	checkFigure(t, "acknowledgement count", s.Acknowledgement.Count, int64(8))
	checkFigure(t, "acknowledgement average", s.Acknowledgement.AverageSeconds, f64(122.5))
	checkFigure(t, "acknowledgement median", s.Acknowledgement.MedianSeconds, f64(52.5))
	checkFigure(t, "acknowledgement p90", s.Acknowledgement.P90Seconds, f64(120+0.3*480))
	// first response (the clock met): 0.5 1 1 2 3 5 h
	checkFigure(t, "first response count", s.FirstResponse.Count, int64(6))
	checkFigure(t, "first response average", s.FirstResponse.AverageSeconds, f64(7500))
	checkFigure(t, "first response median", s.FirstResponse.MedianSeconds, f64(5400))
	checkFigure(t, "first response p90", s.FirstResponse.P90Seconds, f64(14400))
	// handling: 2 3 4 6 10 days
	checkFigure(t, "handling count", s.Handling.Count, int64(5))
	checkFigure(t, "handling average", s.Handling.AverageSeconds, f64(5*86400))
	checkFigure(t, "handling median", s.Handling.MedianSeconds, f64(4*86400))
	checkFigure(t, "handling p90", s.Handling.P90Seconds, f64((6+0.6*4)*86400))
	checkFigure(t, "sla", s.SLA, []store.ClockCompliance{
		{Clock: "acknowledge", Decided: 8, Met: 8, Compliance: f64(1)},
		{Clock: "firstResponse", Decided: 7, Met: 5, Breached: 2, Compliance: f64(5.0 / 7)},
		{Clock: "startInvestigation", Decided: 3, Met: 2, Breached: 1, Compliance: f64(2.0 / 3)},
		{Clock: "resolution", Decided: 5, Met: 4, Breached: 1, Compliance: f64(0.8)},
	})
	share := func(key string, n int64) store.Share {
		return store.Share{Key: key, Count: n, Share: f64(float64(n) / 8)}
	}
	checkFigure(t, "by category", s.ByCategory, []store.Share{share("billing", 2), share("legal", 2),
		share("logistics", 2), share("product_quality", 2)})
	checkFigure(t, "by channel", s.ByChannel, []store.Share{share("chat", 2), share("email", 2), share("social", 2),
		share("phone", 1), share("web", 1)})
	checkFigure(t, "by department", s.ByDepartment, []store.Share{share("billing", 2), share("customer_service", 2),
		share("legal", 2), share("logistics", 2), share("product", 2), share("technical", 2)})
	checkFigure(t, "by status", s.ByStatus, []store.Share{share("completed", 3), share("closed", 1),
		share("in_dispute", 1), share("investigating", 1), share("survey_pending", 1), share("withdrawn", 1)})
	checkFigure(t, "compensation", s.Compensation, []store.CompensationTotal{
		{Currency: "CNY", Cases: 2, Amount: "150.00"}, {Currency: "USD", Cases: 1, Amount: "20.00"}})
	wantTrend := store.Trend{Interval: "month"}
	for m := 1; m <= 12; m++ {
		p := store.TrendPoint{Period: fmt.Sprintf("2001-%02d-01", m)}
		switch m {
		case 1:
			p.Cases = 2
		case 2:
			p.Cases, p.SLABreached, p.Escalated = 2, 2, 1
		case 3:
			p.Cases, p.SLABreached, p.Escalated = 3, 1, 1
		case 4:
			p.Cases = 1
		}
		wantTrend.Points = append(wantTrend.Points, p)
	}
	checkFigure(t, "trend", s.Trend, wantTrend)

	// The filters.
	legal := summary(t, url.Values{"from": {"2001-01-01"}, "to": {"2001-12-31"}, "category": {"legal"}})
	checkFigure(t, "legal cases", legal.Cases, int64(2))
	checkFigure(t, "legal satisfaction", legal.Satisfaction.Average, (*float64)(nil))
	checkFigure(t, "legal resolution", legal.Resolution, rateOf(1, 1))
	checkFigure(t, "legal repeat", legal.Repeat, rateOf(1, 2))
	checkFigure(t, "legal compensation", legal.Compensation, []store.CompensationTotal{{Currency: "USD", Cases: 1, Amount: "20.00"}})
	checkFigure(t, "legal by department", legal.ByDepartment, []store.Share{
		{Key: "customer_service", Count: 2, Share: f64(1)}, {Key: "legal", Count: 2, Share: f64(1)}})
	checkFigure(t, "legal by category", legal.ByCategory, []store.Share{{Key: "legal", Count: 2, Share: f64(1)}})

	technical := summary(t, url.Values{"from": {"2001-01-01"}, "to": {"2001-12-31"}, "department": {"technical"}})
	checkFigure(t, "technical cases", technical.Cases, int64(2))
	checkFigure(t, "technical handling median", technical.Handling.MedianSeconds, f64(8*86400))
	checkFigure(t, "technical by category", technical.ByCategory, []store.Share{{Key: "product_quality", Count: 2, Share: f64(1)}})
	checkFigure(t, "technical by department", technical.ByDepartment, []store.Share{{Key: "technical", Count: 2, Share: f64(1)}})
	checkFigure(t, "technical satisfaction", technical.Satisfaction.Distribution,
		[]store.ScoreCount{{Score: 1, Count: 1}, {Score: 2}, {Score: 3}, {Score: 4}, {Score: 5}})

	both := summary(t, url.Values{"from": {"2001-01-01"}, "to": {"2001-12-31"}, "department": {"customer_service"}, "category": {"legal"}})
	checkFigure(t, "legal customer service cases", both.Cases, int64(2))
	none := summary(t, url.Values{"from": {"2001-01-01"}, "to": {"2001-12-31"}, "department": {"logistics"}, "category": {"legal"}})
	checkFigure(t, "legal logistics cases", none.Cases, int64(0))

	march := summary(t, url.Values{"from": {"2001-03-01"}, "to": {"2001-03-31"}})
	checkFigure(t, "march cases", march.Cases, int64(3))
	checkFigure(t, "march trend interval", march.Trend.Interval, "day")
	checkFigure(t, "march trend days", len(march.Trend.Points), 31)
	checkFigure(t, "march 21", march.Trend.Points[20], store.TrendPoint{Period: "2001-03-21", Cases: 1})

	// A day is a day in Shanghai: the case received at 20:00 UTC on 31 March
	// was received on 1 April.
	day := summary(t, url.Values{"from": {"2001-01-10"}, "to": {"2001-01-10"}})
	checkFigure(t, "10 January", day.Cases, int64(2))
	april := summary(t, url.Values{"from": {"2001-04-01"}, "to": {"2001-04-01"}})
	checkFigure(t, "1 April", april.Cases, int64(1))

	empty := summary(t, url.Values{"from": {"2001-06-01"}, "to": {"2001-06-30"}})
	checkFigure(t, "june cases", empty.Cases, int64(0))
	checkFigure(t, "june resolution", empty.Resolution, store.Rate{})
	checkFigure(t, "june handling median", empty.Handling.MedianSeconds, (*float64)(nil))
	checkFigure(t, "june trend", len(empty.Trend.Points), 30)

	// The same figures as CSV.
	status, header, body := getRaw(t, "/v1/reports/summary?from=2001-01-01&to=2001-12-31&interval=month&format=csv")
	if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s %s", status, header.Get("Content-Type"), body)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	figures := map[string]string{}
	for _, r := range rows[1:] {
		figures[r[0]+"|"+r[1]] = r[2]
	}
	for k, v := range map[string]string{
		"cases|": "8", "resolution.rate|": "0.8", "satisfaction.score|1": "1", "handling.medianSeconds|": "345600",
		"sla.compliance|resolution": "0.8", "byChannel.count|chat": "2", "byDepartment.share|technical": "0.25",
		"trend.cases|2001-03-01": "3", "compensation.amount|CNY": "150.00", "repeat.count|": "2",
		"firstResponse.p90Seconds|": "14400", "percentiles|": "exact",
	} {
		if figures[k] != v {
			t.Errorf("CSV %s = %q, want %q", k, figures[k], v)
		}
	}
	if strings.Join(rows[0], ",") != "measure,key,value" {
		t.Errorf("CSV header %v", rows[0])
	}
}

// The rollup follows every change of a case, and stays what a rebuild
// from scratch makes of the same rows.
func TestReportsFollowChangesToTheCases(t *testing.T) {
	writeKnownCases(t, 2002)
	year := url.Values{"from": {"2002-01-01"}, "to": {"2002-12-31"}}
	before := summary(t, year)
	checkFigure(t, "cases before", before.Cases, int64(8))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ref := knownRef(2002, knownCases[6]) // GGGGGG, investigating
	received := knownReceived(2002, knownCases[6])
	// Closed two days after receipt, then answered the survey; one statement
	// and one transaction at a time, as the workflow's activities do.
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE cases SET status = 'closed', closed_at = $2, outcome = 'upheld', sla_breached = true,
			escalation_level = 3 WHERE reference = $1`, []any{ref, received.Add(2 * d)}},
		{`INSERT INTO sla_events (reference, event_key, clock, round, event, due_at, occurred_at)
			VALUES ($1, 'firstResponse/1/met', 'firstResponse', 1, 'met', $2, $3)`, []any{ref, received.Add(h), received.Add(2 * d)}},
		{`INSERT INTO surveys (reference, round, sent_at, score) VALUES ($1, 1, $2, 2)`, []any{ref, received.Add(16 * d)}},
		{`INSERT INTO resolutions (reference, attempt, actions, compensation_kind, amount, currency, message, proposed_by,
			proposed_at, accepted, executed_at) VALUES ($1, 1, '{refund}', 'refund', 7.25, 'CNY', 'sorry', 'agent.zhao', $2, true, $3)`,
			[]any{ref, received.Add(d), received.Add(2 * d)}},
		// A root cause found, then the case moved to another category.
		{`INSERT INTO findings (reference, round, department, investigator, findings, root_cause, reported_at)
			VALUES ($1, 1, 'billing', 'lead', 'Seen', 'Tariff table out of date', $2)`,
			[]any{knownRef(2002, knownCases[7]), received.Add(d)}},
		{`UPDATE cases SET category = 'other' WHERE reference = $1`, []any{knownRef(2002, knownCases[7])}},
	} {
		if _, err := conn.Exec(ctx, stmt.sql, stmt.args...); err != nil {
			t.Fatal(err)
		}
	}
	after := summary(t, year)
	checkFigure(t, "cases after", after.Cases, int64(8))
	checkFigure(t, "resolution after", after.Resolution, rateOf(5, 6))
	checkFigure(t, "escalated after", after.Escalated, rateOf(3, 8))
	checkFigure(t, "breached after", after.SLABreached, rateOf(4, 8))
	checkFigure(t, "satisfaction after", after.Satisfaction.Average, f64(12.0/4))
	checkFigure(t, "handling count after", after.Handling.Count, int64(6))
	checkFigure(t, "first response after", after.SLA[1], store.ClockCompliance{Clock: "firstResponse", Decided: 8,
		Met: 6, Breached: 2, Compliance: f64(6.0 / 8)})
	checkFigure(t, "compensation after", after.Compensation, []store.CompensationTotal{
		{Currency: "CNY", Cases: 3, Amount: "157.25"}, {Currency: "USD", Cases: 1, Amount: "20.00"}})
	checkFigure(t, "by status after", after.ByStatus[:2], []store.Share{
		{Key: "completed", Count: 3, Share: f64(3.0 / 8)}, {Key: "closed", Count: 2, Share: f64(2.0 / 8)}})
	billing := summary(t, url.Values{"from": {"2002-01-01"}, "to": {"2002-12-31"}, "category": {"billing"}})
	checkFigure(t, "billing after", billing.Cases, int64(1))
	other := summary(t, url.Values{"from": {"2002-01-01"}, "to": {"2002-12-31"}, "category": {"other"}})
	checkFigure(t, "other after", other.Cases, int64(1))
	checkFigure(t, "other's root causes after", other.RootCauses, []store.RootCause{
		{Category: "other", RootCause: "Tariff table out of date", Cases: 1}})

	// What the triggers kept equals a rebuild from the base tables.
	snapshot := func() string {
		var out string
		err := conn.QueryRow(ctx, `
			SELECT string_agg(x, E'\n' ORDER BY x) FROM (
				SELECT format('%s %s %s %s %s %s %s', category, department, day, measure, key, n, total) AS x
				FROM report_rollup WHERE day BETWEEN '2001-01-01' AND '2002-12-31' AND (n <> 0 OR total <> 0)
				UNION ALL
				SELECT format('%s %s %s %s %s', category, department, day, metric, counts)
				FROM report_hist WHERE day BETWEEN '2001-01-01' AND '2002-12-31' AND counts <> array_fill(0, ARRAY[209])
			) rows`).Scan(&out)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	kept := snapshot()
	if _, err := conn.Exec(ctx, `SELECT report_rebuild()`); err != nil {
		t.Fatal(err)
	}
	if rebuilt := snapshot(); rebuilt != kept || kept == "" {
		t.Fatalf("the rollup kept by the triggers differs from a rebuild:\n%s\n--- rebuilt ---\n%s", kept, rebuilt)
	}
}

// A write does not wait for the reports: it queues its case and commits,
// even while a refresh holds the rollup's lock, and the worker brings the
// rollup up to date within seconds, without anyone reading the reports.
func TestWritesQueueTheirCaseAndTheWorkerRefreshesTheReports(t *testing.T) {
	const year = 2004
	writeKnownCases(t, year)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ref := knownRef(year, knownCases[6]) // investigating, not escalated
	escalated := func() bool {
		var e bool
		if err := conn.QueryRow(ctx, `SELECT escalated FROM report_case WHERE reference = $1`, ref).Scan(&e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	// Bring the rollup up to date, then hold its lock as a long refresh would.
	if _, err := conn.Exec(ctx, `SELECT report_flush()`); err != nil {
		t.Fatal(err)
	}
	if escalated() {
		t.Fatalf("%s is escalated in report_case before the change", ref)
	}
	holder, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	lock, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, `SELECT pg_advisory_xact_lock(7354392110)`); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = conn.Exec(wctx, `UPDATE cases SET escalation_level = 1 WHERE reference = $1`, ref)
	cancel()
	if err != nil {
		t.Fatalf("a case's write while the rollup is locked: %v (it must not wait for the reports)", err)
	}
	var queued bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM report_pending WHERE reference = $1)`, ref).Scan(&queued); err != nil || !queued {
		t.Fatalf("%s queued for the reports: %v, %v", ref, queued, err)
	}
	if escalated() {
		t.Fatal("report_case changed while the rollup was locked")
	}
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !escalated(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the worker did not bring %s's report facts up to date within 30 s", ref)
		}
	}
	// What the worker refreshed equals a rebuild of that case's facts.
	var same bool
	if err := conn.QueryRow(ctx, `SELECT (SELECT f FROM report_facts f WHERE reference = $1)::text =
		(SELECT c FROM report_case c WHERE reference = $1)::text`, ref).Scan(&same); err != nil || !same {
		t.Fatalf("report_case of %s equals its facts: %v, %v", ref, same, err)
	}
}

func listRefs(t *testing.T, q url.Values) ([]string, string) {
	t.Helper()
	status, _, body := getRaw(t, "/v1/complaints?"+q.Encode())
	if status != 200 {
		t.Fatalf("list %s: %d %s", q.Encode(), status, body)
	}
	var page store.CasePage
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	refs := []string{}
	for _, it := range page.Items {
		refs = append(refs, it.Reference[len("CMP-20010101-"):])
	}
	return refs, page.NextCursor
}

func TestListFiltersAndPages(t *testing.T) {
	writeKnownCases(t, 2001)
	year := func(kv ...string) url.Values {
		q := url.Values{"from": {"2001-01-01"}, "to": {"2001-12-31"}}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	// Newest first; the two cases of the same moment by reference.
	all := []string{"HHHHHH", "GGGGGG", "FFFFFF", "EEEEEE", "DDDDDD", "CCCCCC", "AAAAAA", "BBBBBB"}
	for name, tc := range map[string]struct {
		q    url.Values
		want []string
	}{
		"the year":           {year(), all},
		"status":             {year("status", "completed"), []string{"DDDDDD", "AAAAAA", "BBBBBB"}},
		"category":           {year("category", "legal"), []string{"FFFFFF", "EEEEEE"}},
		"department":         {year("department", "customer_service"), []string{"FFFFFF", "EEEEEE"}},
		"second department":  {year("department", "technical"), []string{"DDDDDD", "CCCCCC"}},
		"owner":              {year("owner", "agent.wu"), []string{"DDDDDD", "CCCCCC"}},
		"channel":            {year("channel", "social"), []string{"HHHHHH", "GGGGGG"}},
		"breached":           {year("breached", "true"), []string{"EEEEEE", "DDDDDD", "CCCCCC"}},
		"not breached":       {year("breached", "false"), []string{"HHHHHH", "GGGGGG", "FFFFFF", "AAAAAA", "BBBBBB"}},
		"text":               {year("q", "PARCEL"), []string{"AAAAAA", "BBBBBB"}},
		"text in the middle": {year("q", "data still"), []string{"FFFFFF"}},
		"wildcards are text": {year("q", "%"), []string{}},
		"march":              {year("from", "2001-03-01", "to", "2001-03-31"), []string{"GGGGGG", "FFFFFF", "EEEEEE"}},
		"one day":            {year("from", "2001-01-10", "to", "2001-01-10"), []string{"AAAAAA", "BBBBBB"}},
		"combined":           {year("category", "billing", "status", "withdrawn", "q", "twice"), []string{"HHHHHH"}},
		"nothing":            {year("category", "legal", "channel", "web"), []string{}},
	} {
		got, next := listRefs(t, tc.q)
		if !slices.Equal(got, tc.want) || next != "" {
			t.Errorf("%s: %v (next %q), want %v", name, got, next, tc.want)
		}
	}

	// Page by page, at every page size: no case twice, none missing, in order.
	for _, limit := range []int{1, 2, 3, 7, 8} {
		q := year("limit", fmt.Sprint(limit))
		var seen []string
		pages := 0
		for {
			refs, next := listRefs(t, q)
			pages++
			if len(refs) > limit || (next != "" && len(refs) != limit) {
				t.Fatalf("limit %d: page of %d, next %q", limit, len(refs), next)
			}
			seen = append(seen, refs...)
			if next == "" {
				break
			}
			q.Set("cursor", next)
			if pages > 10 {
				t.Fatalf("limit %d: the pages never end", limit)
			}
		}
		if !slices.Equal(seen, all) {
			t.Errorf("limit %d: paged through %v, want %v", limit, seen, all)
		}
	}
	// A cursor keeps its place when a newer case arrives meanwhile.
	first, next := listRefs(t, year("limit", "3"))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `
		INSERT INTO cases (reference, workflow_id, channel, category, severity, priority, status, owner, departments,
			subject, received_at, updated_at)
		VALUES ('CMP-20011201-ZZZZZZ', 'complaint-CMP-20011201-ZZZZZZ', 'web', 'other', 'low', 'low', 'received',
			'agent.li', '{customer_service}', 'Late arrival', '2001-12-01T02:00:00Z', now())`); err != nil {
		t.Fatal(err)
	}
	rest, _ := listRefs(t, year("limit", "3", "cursor", next))
	if !slices.Equal(append(first, rest...), all[:6]) {
		t.Errorf("pages %v then %v", first, rest)
	}
	if now, _ := listRefs(t, year("limit", "1")); !slices.Equal(now, []string{"ZZZZZZ"}) {
		t.Errorf("the newest case %v", now)
	}
	if _, err := conn.Exec(ctx, `DELETE FROM cases WHERE reference = 'CMP-20011201-ZZZZZZ'`); err != nil {
		t.Fatal(err)
	}

	// The items carry the record.
	status, _, body := getRaw(t, "/v1/complaints?"+year("q", "still").Encode())
	var page struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil || status != 200 || len(page.Items) != 1 {
		t.Fatalf("%d %s", status, body)
	}
	item := page.Items[0]
	for k, v := range map[string]any{"reference": "CMP-20010321-FFFFFF", "status": "closed", "category": "legal",
		"channel": "email", "owner": "agent.sun", "subject": "Personal data still shared", "outcome": "upheld",
		"receivedAt": "2001-03-21T02:00:00Z", "repeatOf": "CMP-20010320-EEEEEE", "slaBreached": false,
		"departments": []any{"legal", "customer_service"}} {
		if !reflect.DeepEqual(item[k], v) {
			t.Errorf("item %s = %#v, want %#v", k, item[k], v)
		}
	}
}

func TestBadReadParametersAre422(t *testing.T) {
	for path, location := range map[string]string{
		"/v1/complaints?status=lost":                        "query.status",
		"/v1/complaints?limit=500":                          "query.limit",
		"/v1/complaints?breached=yes":                       "query.breached",
		"/v1/complaints?cursor=bm90LWEtY3Vyc29y":            "query.cursor",
		"/v1/complaints?from=2001-02-01&to=2001-01-01":      "query.to",
		"/v1/complaints?sort=oldest":                        "query.sort",
		"/v1/reports/summary?from=01/02/2001":               "query.from",
		"/v1/reports/summary?interval=quarter":              "query.interval",
		"/v1/reports/summary?format=pdf":                    "query.format",
		"/v1/reports/summary?from=2001-12-31&to=2001-01-01": "query.to",
	} {
		r := get(t, sys.APIURL, path)
		if r.status != 422 || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %v", path, r.status, r.body)
			continue
		}
		named := false
		errs, _ := r.body["errors"].([]any)
		for _, e := range errs {
			if m, _ := e.(map[string]any); m["location"] == location {
				named = true
			}
		}
		if !named {
			t.Errorf("%s: the problem does not name %s: %v", path, location, r.body)
		}
	}
}

func TestReadsWhenTheDatabaseIsAway(t *testing.T) {
	base := unreachableAPI(t, func(c *api.Config) {
		c.DatabaseURL = "postgres://complaints:complaints@127.0.0.1:DEAD/complaints?sslmode=disable"
	})
	for _, path := range []string{"/v1/complaints", "/v1/reports/summary", "/v1/reports/summary?format=csv"} {
		r := get(t, base, path)
		if r.status != http.StatusServiceUnavailable || r.body["title"] == nil {
			t.Errorf("%s: %d %v", path, r.status, r.body)
		}
	}
}

// Seed writes cases whose reports agree with the base tables, and the
// rollup it refreshes chunk by chunk is the one a rebuild makes.
func TestSeedAgreesWithTheBaseTables(t *testing.T) {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, strings.Replace(sys.Postgres.DSN(), "/complaints?", "/postgres?", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS seedcheck`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `CREATE DATABASE seedcheck`); err != nil {
		t.Fatal(err)
	}
	dsn := strings.Replace(sys.Postgres.DSN(), "/complaints?", "/seedcheck?", 1)
	if err := store.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 25000 // two chunks, on two connections
	calls := 0
	if err := seed.Write(ctx, dsn, n, rand.New(rand.NewPCG(3, 4)), func(int) { calls++ }); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("progress told %d times", calls)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	s, err := db.Summary(ctx, store.ReportFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var cases, closed, resolved, repeats, escalated, breached, answers int64
	var avgHandling, avgScore float64
	if err := conn.QueryRow(ctx, `
		SELECT count(*), count(outcome), count(*) FILTER (WHERE outcome IN ('upheld', 'partially_upheld')),
			count(repeat_of), count(*) FILTER (WHERE escalation_level > 0), count(*) FILTER (WHERE sla_breached),
			avg(extract(epoch FROM closed_at - received_at))::float8,
			(SELECT count(score) FROM surveys), (SELECT avg(score)::float8 FROM surveys)
		FROM cases`).Scan(&cases, &closed, &resolved, &repeats, &escalated, &breached, &avgHandling, &answers, &avgScore); err != nil {
		t.Fatal(err)
	}
	checkFigure(t, "cases", s.Cases, int64(n))
	checkFigure(t, "cases in the table", cases, int64(n))
	checkFigure(t, "resolution", s.Resolution, rateOf(resolved, closed))
	checkFigure(t, "repeat", s.Repeat, rateOf(repeats, cases))
	checkFigure(t, "escalated", s.Escalated, rateOf(escalated, cases))
	checkFigure(t, "breached", s.SLABreached, rateOf(breached, cases))
	checkFigure(t, "answers", s.Satisfaction.Responses, answers)
	if math.Abs(*s.Handling.AverageSeconds-avgHandling) > 1e-6*avgHandling ||
		math.Abs(*s.Satisfaction.Average-avgScore) > 1e-9 {
		t.Errorf("averages: handling %v vs %v, score %v vs %v", *s.Handling.AverageSeconds, avgHandling,
			*s.Satisfaction.Average, avgScore)
	}
	var decided, met int64
	if err := conn.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE decided), count(*) FILTER (WHERE decided AND NOT breached) FROM (
			SELECT bool_or(event IN ('met', 'breached')) AS decided, bool_or(event = 'breached') AS breached
			FROM sla_events WHERE clock = 'resolution' GROUP BY reference, department, round) k`).Scan(&decided, &met); err != nil {
		t.Fatal(err)
	}
	for _, c := range s.SLA {
		if c.Clock == "resolution" && (c.Decided != decided || c.Met != met) {
			t.Errorf("resolution clock %+v, want %d decided, %d met", c, decided, met)
		}
	}
	// The hot spots, counted from the findings themselves: per category,
	// cases per root cause (trimmed, without case; one vote per case), the
	// first spelling byte by byte, five at most, most cases first.
	rows, err := conn.Query(ctx, `
		SELECT category, shown, cases FROM (
			SELECT c.category, min(btrim(x.root_cause) COLLATE "C") AS shown, count(DISTINCT x.reference) AS cases,
				row_number() OVER (PARTITION BY c.category
					ORDER BY count(DISTINCT x.reference) DESC, lower(btrim(x.root_cause))) AS rank
			FROM findings x JOIN cases c ON c.reference = x.reference
			GROUP BY c.category, lower(btrim(x.root_cause))) r
		WHERE rank <= 5 ORDER BY category, rank`)
	if err != nil {
		t.Fatal(err)
	}
	hotSpots, err := pgx.CollectRows(rows, pgx.RowToStructByPos[store.RootCause])
	if err != nil {
		t.Fatal(err)
	}
	if len(hotSpots) == 0 {
		t.Error("the seed wrote no findings")
	}
	checkFigure(t, "root causes", s.RootCauses, hotSpots)
	var followUps store.FollowUps
	if err := conn.QueryRow(ctx, `
		SELECT count(*), count(done_at), count(*) FILTER (WHERE done_at IS NULL),
			count(*) FILTER (WHERE done_at IS NULL AND due_at < now())
		FROM follow_ups`).Scan(&followUps.Opened, &followUps.Done, &followUps.Open, &followUps.Overdue); err != nil {
		t.Fatal(err)
	}
	if followUps.Open == 0 || followUps.Done == 0 {
		t.Errorf("the seed wrote follow-ups %+v: none open or none done", followUps)
	}
	checkFigure(t, "follow-ups", s.FollowUps, followUps)
	if s.Percentiles != "approximate" {
		t.Errorf("percentiles of %d cases %s", n, s.Percentiles)
	}
	// The histograms' medians are within a few per cent of the exact ones.
	exact, err := db.Summary(ctx, store.ReportFilter{ExactUpTo: n})
	if err != nil {
		t.Fatal(err)
	}
	if exact.Percentiles != "exact" {
		t.Fatalf("percentiles %s", exact.Percentiles)
	}
	for _, p := range []struct {
		name          string
		approx, exact *float64
	}{
		{"acknowledgement median", s.Acknowledgement.MedianSeconds, exact.Acknowledgement.MedianSeconds},
		{"first response median", s.FirstResponse.MedianSeconds, exact.FirstResponse.MedianSeconds},
		{"first response p90", s.FirstResponse.P90Seconds, exact.FirstResponse.P90Seconds},
		{"handling median", s.Handling.MedianSeconds, exact.Handling.MedianSeconds},
		{"handling p90", s.Handling.P90Seconds, exact.Handling.P90Seconds},
	} {
		if p.approx == nil || p.exact == nil || math.Abs(*p.approx-*p.exact) > 0.05**p.exact {
			t.Errorf("%s: %v from the histograms, %v exact", p.name, deref(p.approx), deref(p.exact))
		}
	}
	// Every chunk's refresh adds up to what a rebuild makes.
	snapshot := func() string {
		var out string
		if err := conn.QueryRow(ctx, `
			SELECT md5(string_agg(x, E'\n' ORDER BY x)) FROM (
				SELECT format('%s %s %s %s %s %s %s', category, department, day, measure, key, n, total) AS x
				FROM report_rollup WHERE n <> 0 OR total <> 0
				UNION ALL
				SELECT format('%s %s %s %s %s', category, department, day, metric, counts) FROM report_hist
			) rows`).Scan(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	kept := snapshot()
	if _, err := conn.Exec(ctx, `SELECT report_rebuild()`); err != nil {
		t.Fatal(err)
	}
	if rebuilt := snapshot(); rebuilt != kept {
		t.Errorf("the seeded rollup differs from a rebuild")
	}
	// And the list reads the seeded cases, newest first.
	page, err := db.ListCases(ctx, store.ListFilter{Limit: 200})
	if err != nil || len(page.Items) != 200 || page.NextCursor == "" ||
		!slices.IsSortedFunc(page.Items, func(a, b store.ListItem) int { return b.ReceivedAt.Compare(a.ReceivedAt) }) {
		t.Fatalf("list of the seeded cases: %d items, %v", len(page.Items), err)
	}
}

// chartHolds is a check-ui expectation that the page's chart name was drawn
// with these labels and, dataset by dataset, this data.
func chartHolds(t *testing.T, name string, labels any, data ...any) string {
	t.Helper()
	l, err := json.Marshal(labels)
	if err != nil {
		t.Fatal(err)
	}
	d, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`js:(() => { const c = window.reportCharts && window.reportCharts[%q]; return !!c && `+
		`JSON.stringify(c.data.labels) === %q && JSON.stringify(c.data.datasets.map((s) => s.data)) === %q; })()`,
		name, l, d)
}

// everyChartDrawn holds when the page's four canvases have pixels painted.
const everyChartDrawn = `js:(() => { const cs = [...document.querySelectorAll('canvas')]; return cs.length === 4 && ` +
	`cs.every((c) => { const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; ` +
	`for (let i = 3; i < px.length; i += 4) { if (px[i] > 0) n++; } return n > 2000; }); })()`

func TestReportsPageDrawsTheCharts(t *testing.T) {
	writeKnownCases(t, 2001)
	months := []string{}
	for m := 1; m <= 12; m++ {
		months = append(months, fmt.Sprintf("2001-%02d-01", m))
	}
	page := sys.APIURL + "/reports?from=2001-01-01&to=2001-12-31&interval=month#token=" + sys.OperatorToken
	checkUI(t,
		uiPage{Name: "reports", URL: page, Expect: []string{
			"8 cases received from 2001-01-01 to 2001-12-31", // the status line, once the figures are in
			"3.33 / 5",   // satisfaction
			"80.0 %",     // resolution rate
			"150.00 CNY", // compensation
			chartHolds(t, "category", []string{"billing", "legal", "logistics", "product quality"}, []int{2, 2, 2, 2}),
			chartHolds(t, "trend", months, []int{2, 2, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0}, []int{0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
			chartHolds(t, "sla", []string{"Acknowledge", "First response", "Start investigating", "Resolution proposed"},
				[]float64{100, 71.4, 66.7, 80}),
			chartHolds(t, "satisfaction", []string{"1 ★", "2 ★", "3 ★", "4 ★", "5 ★"}, []int{1, 0, 0, 1, 1}),
			everyChartDrawn,
			// Drill-downs: a trend point opens its period's cases (within the
			// page's days), a figure or row the cases behind it.
			`js:periodList('2001-02-01', 'month', true) === '/desk/?queue=search&from=2001-02-01&to=2001-02-28&breached=true'`,
			`js:periodList('2001-12-31', 'week', false) === '/desk/?queue=search&from=2001-12-31&to=2001-12-31'`,
			`js:['clock=resolution', 'escalated=true', 'repeat=true', 'resolved=true', 'queue=followups', 'category=logistics'].every((f) => [...document.querySelectorAll('a.drill')].some((a) => a.getAttribute('href').includes(f)))`,
		}},
		uiPage{Name: "reports-legal", URL: sys.APIURL + "/reports?from=2001-01-01&to=2001-12-31&category=legal#token=" + sys.OperatorToken, Expect: []string{
			"2 cases received from 2001-01-01 to 2001-12-31 in legal",
			chartHolds(t, "category", []string{"legal"}, []int{2}),
			`js:document.querySelector('select[name=category]').value === 'legal'`,
			`js:document.getElementById('csv').getAttribute('href').includes('category=legal')`,
		}},
		uiPage{Name: "reports-bad-period", URL: sys.APIURL + "/reports?from=2001-12-31&to=2001-01-01#token=" + sys.OperatorToken, Expect: []string{
			"The reports could not be loaded", "query.to",
		}},
	)
}
