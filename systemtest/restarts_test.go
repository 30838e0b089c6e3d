package systemtest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"

	"github.com/complaintdesk/complaintdesk/api"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

// Temporal stops while a case waits on its deadline timer and comes back
// after the deadline has passed: the timer fires once the server is back,
// late by the downtime and no more than a reconnection.
func TestTemporalRestartWithACaseWaitingOnItsDeadline(t *testing.T) {
	ctx := context.Background()
	base := liveAPI(t, func(c *api.Config) {
		c.Cases.SLAPolicy = `{"medium": {"firstResponse": "8s"}}`
		c.Cases.EscalateEvery = time.Hour
	})
	body := demoCase(t, "demo-washing-machine-noise")
	body["externalId"] = "systemtest-temporal-restart"
	body["customer"] = map[string]any{"id": "temporal-restart", "name": "Restart Test", "phone": "+86 139 0000 0098"}
	r := post(t, base, "/v1/complaints", body)
	if r.status != http.StatusCreated {
		t.Fatalf("intake: %d %v", r.status, r.body)
	}
	ref := r.body["reference"].(string)
	// Registered and acknowledged, the case sleeps on its clock's timer.
	Eventually(t, "the clock's timer", func() error {
		if !timerStarted(t, ref) {
			return fmt.Errorf("no timer started yet")
		}
		return nil
	})

	if err := sys.StopTemporal(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second) // the 8 s first response passes while the server is down
	if err := sys.StartTemporal(ctx); err != nil {
		t.Fatal(err)
	}
	back := time.Now()

	var breach store.SLAEventRow
	EventuallyWithin(t, 2*time.Minute, "the missed first response, after the restart", func() error {
		events, err := sys.Store.SLAEvents(ctx, ref)
		if err != nil {
			return err
		}
		for _, e := range events {
			if e.Clock == complaint.ClockFirstResponse && e.Event == "breached" {
				breach = e
				return nil
			}
		}
		return fmt.Errorf("SLA events so far: %v", events)
	})
	fired := firstTimerFiredAfter(t, ref, back.Add(-time.Minute))
	t.Logf("first response due %s; the server was back %s later, fired the timer %s after that, and the "+
		"worker recorded the breach %s after the server was back", breach.DueAt.Format(time.RFC3339),
		back.Sub(breach.DueAt).Round(time.Millisecond), fired.Sub(back).Round(time.Millisecond),
		breach.At.Sub(back).Round(time.Millisecond))
	if breach.At.Before(breach.DueAt) {
		t.Fatalf("breach recorded at %s, before its due time %s", breach.At, breach.DueAt)
	}
	// The server fires a timer that fell due while it was down as soon as it
	// is up: late by the downtime. (A generous bound: this is not a speed
	// measurement; the worker then takes a few seconds more to reconnect.)
	if fired.After(back.Add(30 * time.Second)) {
		t.Fatalf("the timer fired %s after the server was back", fired.Sub(back))
	}
	task(t, base, ref, "withdraw", map[string]any{"reason": "test over"}, 200)
	final := waitEnded(t, ref)
	assertAuditMatches(t, ref, final)
}

// timerStarted is whether the case has started a timer.
func timerStarted(t *testing.T, ref string) bool {
	t.Helper()
	for _, e := range historyOf(t, sys.Client, complaint.WorkflowID(ref)).GetEvents() {
		if e.GetEventType() == enums.EVENT_TYPE_TIMER_STARTED {
			return true
		}
	}
	return false
}

// firstTimerFiredAfter is when the server fired the case's first timer
// after since.
func firstTimerFiredAfter(t *testing.T, ref string, since time.Time) time.Time {
	t.Helper()
	for _, e := range historyOf(t, sys.Client, complaint.WorkflowID(ref)).GetEvents() {
		if e.GetEventType() == enums.EVENT_TYPE_TIMER_FIRED && e.GetEventTime().AsTime().After(since) {
			return e.GetEventTime().AsTime()
		}
	}
	t.Fatalf("no timer of %s fired after %s", ref, since)
	return time.Time{}
}

// PostgreSQL stops mid-case: what needs the database answers 503, the
// case's activities retry, and once the database is back every step is in
// the audit trail exactly once.
func TestPostgresStoppedMidCase(t *testing.T) {
	ctx := context.Background()
	body := demoCase(t, "demo-laptop-flicker")
	body["externalId"] = "systemtest-postgres-stopped-1"
	body["customer"] = map[string]any{"id": "postgres-stop", "name": "Stop Test", "email": "pg.stop@example.com"}
	r := post(t, sys.APIURL, "/v1/complaints", body)
	if r.status != http.StatusCreated {
		t.Fatalf("intake: %d %v", r.status, r.body)
	}
	first := r.body["reference"].(string)
	// The worker may still be reconnecting after the Temporal restart of the
	// test before (its pollers back off while the server is away).
	EventuallyWithin(t, 2*time.Minute, "the first case acknowledged", func() error {
		if g := get(t, sys.APIURL, "/v1/complaints/"+first); g.body["status"] != string(complaint.StatusAcknowledged) {
			return fmt.Errorf("status %v", g.body["status"])
		}
		return nil
	})

	if err := sys.StopPostgres(); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			if err := sys.StartPostgres(ctx); err != nil {
				t.Errorf("restart PostgreSQL: %v", err)
			}
		}
	}()
	for _, path := range []string{"/v1/complaints?limit=5", "/v1/reports/summary", "/readyz"} {
		if g := get(t, sys.APIURL, path); g.status != http.StatusServiceUnavailable || g.body["status"] != 503.0 {
			t.Fatalf("GET %s without the database: %d %v", path, g.status, g.body)
		}
	}
	// A complaint cannot be taken: its data key lives in the database. The
	// client is told to retry, and its retry after the database returns
	// makes the case.
	body["externalId"] = "systemtest-postgres-stopped-2"
	if r = post(t, sys.APIURL, "/v1/complaints", body); r.status != http.StatusServiceUnavailable {
		t.Fatalf("intake without the database: %d %v", r.status, r.body)
	}
	// A task on the first case changes it at once; its audit write waits.
	signal := post(t, sys.APIURL, "/v1/complaints/"+first+"/addNote",
		map[string]any{"author": "agent.li", "text": "Database away"}, "Idempotency-Key", "pg-stopped-note")
	if signal.status != http.StatusServiceUnavailable && signal.status != http.StatusOK {
		t.Fatalf("task without the database: %d %v", signal.status, signal.body)
	}
	time.Sleep(3 * time.Second) // activities fail and back off meanwhile

	if err := sys.StartPostgres(ctx); err != nil {
		t.Fatal(err)
	}
	restarted = true
	// The same task again, with the same key, is the same task; it answers
	// once the step's audit write, retried with backoff, has gone through.
	if _, err := retryingCall(sys.APIURL+"/v1/complaints/"+first+"/addNote",
		map[string]any{"author": "agent.li", "text": "Database away"}, "pg-stopped-note"); err != nil {
		t.Fatalf("retried task: %v", err)
	}
	if r = post(t, sys.APIURL, "/v1/complaints", body); r.status != http.StatusCreated {
		t.Fatalf("intake retried after the database returned: %d %v", r.status, r.body)
	}
	second := r.body["reference"].(string)
	waitStatus(t, sys.APIURL, second, complaint.StatusAcknowledged)
	for _, ref := range []string{first, second} {
		post(t, sys.APIURL, "/v1/complaints/"+ref+"/withdraw", map[string]any{"reason": "test over"})
		final := waitEnded(t, ref)
		assertAuditMatches(t, ref, final)
	}
	events, err := sys.Store.Events(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	notes := 0
	for _, e := range events {
		if e.Step == "note" {
			notes++
		}
	}
	if notes != 1 {
		t.Fatalf("%d notes recorded, want 1", notes)
	}
}

// assertAuditMatches checks that the database holds every step of the
// ended case once: as many audit rows as steps, in the same order. It
// returns the audit rows.
func assertAuditMatches(t *testing.T, ref string, final complaint.CaseView) []complaint.Event {
	t.Helper()
	var events []complaint.Event
	Eventually(t, "the audit trail of "+ref, func() error {
		var err error
		if events, err = sys.Store.Events(context.Background(), ref); err != nil {
			return err
		}
		if len(events) != len(final.History) {
			return fmt.Errorf("%d audit rows for %d steps", len(events), len(final.History))
		}
		return nil
	})
	for i, e := range final.History {
		if events[i].Step != e.Step {
			t.Fatalf("audit row %d is %s, the case's step %d is %s", i, events[i].Step, i, e.Step)
		}
	}
	return events
}
