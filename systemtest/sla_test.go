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
	deadlines, _ := caseOf(t, base, ref)["deadlines"].([]any)
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
	if level := caseOf(t, base, ref)["escalationLevel"]; level != float64(3) {
		t.Fatalf("escalation level %v", level)
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

// A customer who never answers a proposal is reminded, the owner is told to
// act and the ladder climbs, and the case waits for the owner: silence never
// ends it. The answer's target is working time, so the test makes today and
// tomorrow (in the calendar's zone) working days, whatever day it runs on.
func TestAnUnansweredProposalIsRemindedEscalatedAndWaitsForTheOwner(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(shanghai)
	base := liveAPI(t, func(c *api.Config) {
		surveyPolicy(c)                                                         // the case ends a minute after closing: its history is recorded for the replay test
		c.Cases.SLAPolicy = `{"medium": {"customerAnswerWorkingDays": 0.0001}}` // 8.64 s
		c.Cases.EscalateEvery = 2 * time.Second
		c.Cases.EscalationLadder = "*=sup.q+mgr.q+dir.q"
		c.Cases.ExtraWorkdays = []string{now.Format(time.DateOnly), now.AddDate(0, 0, 1).Format(time.DateOnly)}
	})
	body := demoCase(t, "demo-washing-machine-noise")
	body["externalId"] = "systemtest-sla-unanswered"
	email := "quiet.customer@example.com"
	body["customer"] = map[string]any{"name": "Quiet Customer", "email": email, "language": "en"}
	body["receivedBy"] = "agent.quiet"
	r := post(t, base, "/v1/complaints", body)
	if r.status != 201 {
		t.Fatalf("intake: %d %v", r.status, r.body)
	}
	ref := r.body["reference"].(string)
	waitStatus(t, base, ref, complaint.StatusAcknowledged)
	var depts []string
	for _, d := range caseOf(t, base, ref)["departments"].([]any) {
		depts = append(depts, d.(string))
	}
	for _, d := range depts {
		task(t, base, ref, "startInvestigation", map[string]any{"department": d, "investigator": d + ".lead"}, 200)
		task(t, base, ref, "submitFindings", map[string]any{"department": d, "findings": "Bearing worn",
			"rootCause": "Wear", "evidence": []string{}}, 200)
	}
	task(t, base, ref, "proposeResolution", map[string]any{"actions": []string{"Replace the bearing"},
		"compensation": map[string]any{"kind": "repair"}, "message": "We replace the bearing for free."}, 200)

	Eventually(t, "the reminder, the owner's notice and the first rung", func() error {
		reminders := 0
		for _, m := range sys.Mailbox.Messages(mailbox.To(email)) {
			if strings.Contains(m.Subject, "Reminder: our proposal") && strings.Contains(m.Subject, ref) {
				reminders++
			}
		}
		told := len(sys.Mailbox.Messages(mailbox.To("agent.quiet@staff.example.com")))
		rung := len(sys.Mailbox.Messages(mailbox.To("sup.q@staff.example.com")))
		if reminders != 1 || told != 1 || rung != 1 {
			return fmt.Errorf("reminders %d, owner told %d, supervisor told %d", reminders, told, rung)
		}
		return nil
	})
	if status := caseOf(t, base, ref)["status"]; status != string(complaint.StatusResolutionProposed) {
		t.Fatalf("the case moved by itself: %v", status)
	}
	task(t, base, ref, "close", map[string]any{"outcome": "rejected",
		"summary": "The customer did not answer our proposal; closed after the reminder"}, 200)
	waitStatus(t, base, ref, complaint.StatusClosed)
	// The clock's own steps (reminder, notice, escalations) are local
	// activities: the replay test replays them.
	record(t, sys, "washer-unanswered-by-clock", ref, depts...)
}
