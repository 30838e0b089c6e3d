package systemtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/api"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
)

// A worker that is down when a deadline passes misses nothing: the timer
// lives in Temporal, and the escalation happens when a worker is back.
func TestDeadlineFiresAfterAWorkerRestart(t *testing.T) {
	// The first response is due 10 s after intake: time to stop the worker
	// before it on a busy machine.
	base := liveAPI(t, func(c *api.Config) {
		c.Cases.SLAPolicy = `{"medium": {"firstResponse": "10s"}}`
		c.Cases.EscalateEvery = 2 * time.Second
		c.Cases.EscalationLadder = "*=sup.x+mgr.x+dir.x"
	})
	body := demoCase(t, "demo-washing-machine-noise")
	body["externalId"] = "systemtest-sla-restart"
	// A customer of its own: a repeat complaint would be raised above medium.
	body["customer"] = map[string]any{"name": "Restart Test", "phone": "+86 139 0000 0099"}
	r := post(t, base, "/v1/complaints", body)
	if r.status != 201 {
		t.Fatalf("intake: %d %v", r.status, r.body)
	}
	ref := r.body["reference"].(string)
	waitStatus(t, base, ref, complaint.StatusAcknowledged)
	var dueAt time.Time
	deadlines, _ := get(t, base, "/v1/complaints/"+ref).body["deadlines"].([]any)
	for _, d := range deadlines {
		if d, _ := d.(map[string]any); d["name"] == complaint.ClockFirstResponse {
			dueAt, _ = time.Parse(time.RFC3339Nano, fmt.Sprint(d["dueAt"]))
		}
	}

	if err := sys.StopWorker(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	if dueAt.IsZero() || !dueAt.After(stopped) {
		t.Fatalf("the first response (due %s) must fall due after the worker stopped (%s)", dueAt, stopped)
	}
	// No worker runs when the first response falls due.
	time.Sleep(time.Until(dueAt) + time.Second)
	restarted := time.Now()
	if err := sys.StartWorker(context.Background()); err != nil {
		t.Fatal(err)
	}

	var due time.Time
	Eventually(t, "the missed first response climbs the whole ladder", func() error {
		events, err := sys.Store.SLAEvents(context.Background(), ref)
		if err != nil {
			return err
		}
		levels := map[int]bool{}
		for _, e := range events {
			if e.Clock == complaint.ClockFirstResponse && e.Event == "breached" {
				due = e.DueAt
			}
			if e.Clock == complaint.ClockFirstResponse && e.Event == "escalated" {
				levels[e.Level] = true
			}
		}
		if !levels[1] || !levels[2] || !levels[3] {
			return fmt.Errorf("escalations so far: %v", levels)
		}
		return nil
	})
	g := get(t, base, "/v1/complaints/"+ref)
	if g.body["escalationLevel"] != float64(3) {
		t.Fatalf("escalation level %v", g.body["escalationLevel"])
	}
	// The breach the ladder climbed from fell due while the worker was down.
	if due.IsZero() || !due.After(stopped) || !due.Before(restarted) {
		t.Fatalf("breach due %s, not while the worker was down (%s to %s)", due, stopped, restarted)
	}
	Eventually(t, "the UI finds the breached case", func() error {
		q := fmt.Sprintf("WorkflowId = '%s' AND SlaBreached = true AND EscalationLevel = 3", complaint.WorkflowID(ref))
		if n := countWorkflows(t, q); n != 1 {
			return fmt.Errorf("visibility found %d", n)
		}
		return nil
	})
	// Each rung was told by email, once, with a link to the case.
	for _, rung := range []string{"sup.x", "mgr.x", "dir.x"} {
		var got []mailbox.Message
		for _, m := range sys.Mailbox.Messages(mailbox.To(rung + "@staff.example.com")) {
			if strings.Contains(m.Subject, ref) && strings.Contains(m.Subject, "escalation level") {
				got = append(got, m)
			}
		}
		if len(got) != 1 || !strings.Contains(got[0].Text, complaint.WorkflowID(ref)) {
			t.Fatalf("%s got %d escalation emails: %v", rung, len(got), subjects(got))
		}
	}
	task(t, base, ref, "withdraw", map[string]any{"reason": "test over"}, 200)
}
