package systemtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// A step is recorded once, with its clock events, however often the
// activity that writes it is retried; an older step that arrives late adds
// its audit row and clock events but does not turn the case back.
func TestAStepIsRecordedOnceWithItsClockEvents(t *testing.T) {
	ctx := context.Background()
	received := time.Date(2003, 5, 6, 9, 0, 0, 0, time.UTC)
	in := complaint.Intake{Channel: complaint.ChannelEmail, Subject: "Late delivery", Description: "The parcel is a week late.",
		Category: complaint.CategoryLogistics, ExternalID: "systemtest-record-step",
		Customer: complaint.Customer{Name: "Qian Yu", Email: "qian.yu@example.com"}, ReceivedBy: "agent.li"}
	ref := complaint.KeyedReference("external:systemtest-record-step", received, time.UTC, 0)
	if _, err := sys.Store.RegisterCase(ctx, complaint.Register(in, ref, received, complaint.DefaultRules())); err != nil {
		t.Fatal(err)
	}
	breachedAt := received.Add(4*time.Hour + 3*time.Second)
	breach := complaint.Step{Reference: ref, Seq: 5, Key: "0005-breached", At: breachedAt, Actor: "system",
		Name: "sla_breached", Summary: "First response is late", EscalationLevel: 1, SLABreached: true,
		SLA: []complaint.SLAEvent{
			{Clock: "firstResponse", Round: 1, Event: "breached", DueAt: received.Add(4 * time.Hour), At: breachedAt},
			{Clock: "department", Department: "logistics", Round: 1, Event: "warned", Level: 1,
				DueAt: received.Add(48 * time.Hour), At: breachedAt, Approximate: true},
		}}
	for range 2 { // the retry of an activity that had written it
		if err := sys.Store.RecordStep(ctx, breach); err != nil {
			t.Fatal(err)
		}
	}
	late := complaint.Step{Reference: ref, Seq: 4, Key: "0004-routed", At: received.Add(time.Hour), Actor: "system",
		Name: "routed", Summary: "Routed to logistics", Status: complaint.StatusInvestigating,
		SLA: []complaint.SLAEvent{{Clock: "department", Department: "logistics", Round: 1, Event: "started",
			DueAt: received.Add(48 * time.Hour), At: received.Add(time.Hour)}}}
	if err := sys.Store.RecordStep(ctx, late); err != nil {
		t.Fatal(err)
	}

	conn, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var steps []string
	rows, err := conn.Query(ctx, `SELECT event_key FROM case_events WHERE reference = $1 ORDER BY event_key`, ref)
	if err == nil {
		steps, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 || steps[0] != "0004-routed" || steps[1] != "0005-breached" || steps[2] != "received" {
		t.Errorf("audit trail %v, want the intake's row, 0004-routed and 0005-breached once each", steps)
	}
	type clockEvent struct {
		Clock       string
		Department  *string
		Event       string
		Level       int
		DueAt       time.Time
		Approximate bool
	}
	rows, err = conn.Query(ctx, `SELECT clock, department, event, level, due_at, approximate FROM sla_events
		WHERE reference = $1 ORDER BY occurred_at, clock, event`, ref)
	if err != nil {
		t.Fatal(err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowToStructByPos[clockEvent])
	if err != nil {
		t.Fatal(err)
	}
	logistics := "logistics"
	want := []clockEvent{
		{Clock: "department", Department: &logistics, Event: "started", DueAt: received.Add(48 * time.Hour)},
		{Clock: "department", Department: &logistics, Event: "warned", Level: 1, DueAt: received.Add(48 * time.Hour), Approximate: true},
		{Clock: "firstResponse", Event: "breached", DueAt: received.Add(4 * time.Hour)},
	}
	if len(events) != len(want) {
		t.Fatalf("clock events %+v, want %+v", events, want)
	}
	for i, w := range want {
		g := events[i]
		if g.Clock != w.Clock || g.Event != w.Event || g.Level != w.Level || !g.DueAt.Equal(w.DueAt) ||
			g.Approximate != w.Approximate || (g.Department == nil) != (w.Department == nil) ||
			(g.Department != nil && *g.Department != *w.Department) {
			t.Errorf("clock event %d: %+v, want %+v", i, g, w)
		}
	}
	var level, lastStep int
	var breached bool
	var status string
	if err := conn.QueryRow(ctx, `SELECT escalation_level, sla_breached, last_step, status FROM cases WHERE reference = $1`,
		ref).Scan(&level, &breached, &lastStep, &status); err != nil {
		t.Fatal(err)
	}
	if level != 1 || !breached || lastStep != 5 || status == string(complaint.StatusInvestigating) {
		t.Errorf("case after the steps: level %d, breached %v, last step %d, status %s; want the breach's (1, true, 5) "+
			"and not the late step's status", level, breached, lastStep, status)
	}
}
