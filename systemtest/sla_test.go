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
	base := liveAPI(t, func(c *api.Config) {
		c.Cases.SLAPolicy = `{"medium": {"firstResponse": "4s"}}`
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

	if err := sys.StopWorker(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	time.Sleep(6 * time.Second) // the 4 s first response passes while no worker runs
	if err := sys.StartWorker(context.Background()); err != nil {
		t.Fatal(err)
	}
	downtime := time.Since(stopped)

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
	t.Logf("first response due %s; worker down for %s", due.Format(time.RFC3339), downtime.Round(time.Millisecond))
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
