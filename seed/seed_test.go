package seed

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
)

func TestSeededCasesHangTogether(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	g := newSeeder(rand.New(rand.NewPCG(7, 7)), loc, now)
	times := g.receivedTimes(5000)
	if !slices.IsSortedFunc(times, func(a, b time.Time) int { return a.Compare(b) }) ||
		times[0].Before(now.AddDate(-1, 0, -1)) || times[len(times)-1].After(now) {
		t.Fatalf("intake times from %s to %s", times[0], times[len(times)-1])
	}
	refs := map[string]bool{}
	statuses := map[complaint.Status]int{}
	repeats := 0
	for _, at := range times {
		c := g.makeCase(at)
		if !complaint.ValidReference(c.ref) || refs[c.ref] {
			t.Fatalf("reference %q invalid or repeated", c.ref)
		}
		refs[c.ref] = true
		statuses[c.status]++
		if c.repeatOf != "" {
			repeats++
			if !refs[c.repeatOf] {
				t.Fatalf("%s repeats %s, which is not an earlier case", c.ref, c.repeatOf)
			}
		}
		closed := c.closedAt != nil
		if closed != (c.outcome != "") || (closed && c.closedAt.Before(c.received)) {
			t.Fatalf("%s: closed at %v with outcome %q", c.ref, c.closedAt, c.outcome)
		}
		if c.survey != nil && (!closed || c.survey.sentAt.Before(*c.closedAt) || c.survey.sentAt.After(now)) {
			t.Fatalf("%s: survey sent %s, closed %v", c.ref, c.survey.sentAt, c.closedAt)
		}
		keys := map[string]bool{}
		for _, e := range c.sla {
			if keys[e.Key()] || e.At.After(now) || e.At.Before(c.received) {
				t.Fatalf("%s: SLA event %+v repeated or out of time", c.ref, e)
			}
			keys[e.Key()] = true
		}
		if breached := slices.ContainsFunc(c.sla, func(e complaint.SLAEvent) bool { return e.Event == "breached" }); breached != c.breached {
			t.Fatalf("%s: sla_breached %v but breach events %v", c.ref, c.breached, breached)
		}
		for _, e := range c.events {
			if e.at.After(now) {
				t.Fatalf("%s: event %+v in the future", c.ref, e)
			}
		}
		for _, r := range c.resolutions {
			if r.proposedAt.After(now) || (r.executedAt != nil && (r.accepted == nil || !*r.accepted)) {
				t.Fatalf("%s: resolution %+v", c.ref, r)
			}
		}
	}
	// Mostly finished cases, some of every kind still open.
	for _, s := range []complaint.Status{complaint.StatusCompleted, complaint.StatusSurveyPending, complaint.StatusClosed,
		complaint.StatusInvestigating, complaint.StatusWithdrawn} {
		if statuses[s] == 0 {
			t.Errorf("no case is %s: %v", s, statuses)
		}
	}
	if statuses[complaint.StatusCompleted] < len(times)/2 {
		t.Errorf("statuses %v", statuses)
	}
	if repeats == 0 || repeats > len(times)/5 {
		t.Errorf("%d repeat complaints of %d", repeats, len(times))
	}
}
