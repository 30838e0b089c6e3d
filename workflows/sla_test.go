package workflows

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/complaintdesk/complaintdesk/complaint"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// mediumCase is a medium-priority case, held to DOMAIN §4's figures,
// received at the given moment.
func mediumCase(receivedAt time.Time, depts ...complaint.Department) complaint.NewCase {
	in := complaint.Intake{
		Channel:     complaint.ChannelWeb,
		Customer:    complaint.Customer{Name: "Zhao Lei", Email: "zhao.lei@example.com", Language: "zh"},
		Subject:     "Washing machine noise",
		Description: "Loud noise when spinning.",
		Category:    complaint.CategoryAfterSales,
	}
	c := complaint.Register(in, "CMP-20261123-4F7K2Q", receivedAt, complaint.DefaultRulesFrom(2025))
	if len(depts) > 0 {
		c.Departments = depts
	}
	return c
}

func (f *fixture) slaEvents() []complaint.SLAEvent {
	var out []complaint.SLAEvent
	for _, s := range f.steps {
		out = append(out, s.SLA...)
	}
	return out
}

func eventAt(events []complaint.SLAEvent, clock, event string, level int) (time.Time, bool) {
	for _, e := range events {
		label := e.Clock
		if e.Department != "" {
			label += ":" + string(e.Department)
		}
		if label == clock && e.Event == event && (level == 0 || e.Level == level) {
			return e.At, true
		}
	}
	return time.Time{}, false
}

func TestMissedDeadlinesWarnThenClimbTheLadder(t *testing.T) {
	f := setup(t)
	received := time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC) // Monday 09:00 in Shanghai
	f.env.SetStartTime(received)
	var upserts []temporal.SearchAttributes
	f.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		upserts = append(upserts, args.Get(0).(temporal.SearchAttributes))
	}).Return(nil)
	f.at = 0
	f.after(13*time.Hour, func() {}) // nobody acts for 13 hours
	mid := f.snapshot()
	f.after(20*time.Hour, func() {}) // past the department's 24 hours
	f.task(accept, complaint.TaskStartInvestigation, start(complaint.DeptAfterSales))
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(mediumCase(received, complaint.DeptAfterSales))

	events := f.slaEvents()
	// First response: 4 h, warned at 75 % (3 h), breached at 4 h, then a rung every 4 h.
	for _, want := range []struct {
		event string
		level int
		after time.Duration
	}{{"warned", 0, 3 * time.Hour}, {"breached", 0, 4 * time.Hour}, {"escalated", 1, 4 * time.Hour},
		{"escalated", 2, 8 * time.Hour}, {"escalated", 3, 12 * time.Hour}} {
		at, ok := eventAt(events, complaint.ClockFirstResponse, want.event, want.level)
		require.True(t, ok, "firstResponse %s level %d", want.event, want.level)
		require.Equal(t, received.Add(want.after), at.UTC(), "firstResponse %s level %d fires to the second", want.event, want.level)
	}
	require.Equal(t, 3, mid.EscalationLevel)
	// The ladder: supervisor, manager, director; the owner gets the warning.
	var ladder []string
	for _, n := range f.staff {
		if n.Clock == complaint.ClockFirstResponse {
			ladder = append(ladder, fmt.Sprintf("%s:%s", n.Kind, n.To))
		}
	}
	require.Equal(t, []string{"warning:" + complaint.DefaultOwner, "escalation:cs.supervisor", "escalation:cs.manager",
		"escalation:ops.director"}, ladder)
	// The department's start was missed at 24 h; starting at 33 h meets it late.
	at, ok := eventAt(events, "startInvestigation:after_sales", "breached", 0)
	require.True(t, ok)
	require.Equal(t, received.Add(24*time.Hour), at.UTC())
	_, ok = eventAt(events, "startInvestigation:after_sales", "met", 0)
	require.True(t, ok)
	at, ok = eventAt(events, "startInvestigation:after_sales", "escalated", 3)
	require.True(t, ok)
	require.Equal(t, received.Add(32*time.Hour), at.UTC(), "the director hears at 24 h + 2 × 4 h")
	// Search attributes carry the breach.
	last := upserts[len(upserts)-1]
	b, _ := last.GetBool(temporal.NewSearchAttributeKeyBool("SlaBreached"))
	require.True(t, b)
	lvl, _ := last.GetInt64(temporal.NewSearchAttributeKeyInt64("EscalationLevel"))
	require.Equal(t, int64(3), lvl)
}

func TestResolutionDeadlineCountsWorkingDaysAcrossAHolidayWeek(t *testing.T) {
	f := setup(t)
	// Friday 26 Sep 2025, 18:00 in Shanghai, before the National Day week:
	// Saturday off, Sunday 28 Sep a make-up working day, so 3 working days
	// end on Tuesday 30 Sep at 18:00.
	received := time.Date(2025, 9, 26, 18, 0, 0, 0, shanghai)
	f.env.SetStartTime(received)
	f.at = 0
	f.investigate(complaint.DeptAfterSales)
	open := f.snapshot()
	f.after(10*day, func() {})
	f.task(accept, complaint.TaskProposeResolution, proposal("100"))
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(mediumCase(received, complaint.DeptAfterSales))

	var res complaint.Deadline
	for _, d := range open.Deadlines {
		if d.Name == complaint.ClockResolution {
			res = d
		}
	}
	want := time.Date(2025, 9, 30, 18, 0, 0, 0, shanghai)
	require.True(t, want.Equal(res.DueAt), "due %s, want %s", res.DueAt.In(shanghai), want)
	require.False(t, res.Approximate)
	at, ok := eventAt(f.slaEvents(), complaint.ClockResolution, "breached", 0)
	require.True(t, ok)
	require.True(t, want.Equal(at), "breached at %s", at.In(shanghai))
	_, ok = eventAt(f.slaEvents(), complaint.ClockResolution, "met", 0)
	require.True(t, ok, "met late when the proposal came")
}

func TestWaitingOnTheCustomerPausesTheResolutionClock(t *testing.T) {
	f := setup(t)
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, shanghai) // Monday
	f.env.SetStartTime(received)
	f.at = 0
	f.investigate(complaint.DeptAfterSales)
	// Waiting from Tuesday 10:00 to Thursday 10:00: two working days that do not count.
	f.after(day-4*time.Minute, func() {})
	f.task(accept, complaint.TaskWaitingOnCustomer, complaint.Reason{Reason: "Photos of the label, please"})
	f.taskAfter(2*day, accept, complaint.TaskCustomerReplied, complaint.Reason{Reason: "Photos received"})
	resumed := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(mediumCase(received, complaint.DeptAfterSales))

	var res complaint.Deadline
	for _, d := range resumed.Deadlines {
		if d.Name == complaint.ClockResolution {
			res = d
		}
	}
	plain := time.Date(2026, 11, 26, 10, 0, 0, 0, shanghai) // Thursday without the pause
	require.Equal(t, complaint.ClockRunning, res.State)
	require.True(t, res.DueAt.After(plain), "resuming must push the deadline out: %s", res.DueAt.In(shanghai))
	// Two days paused (plus the minutes the test's steps take): Monday 30 Nov.
	require.Equal(t, time.Date(2026, 11, 30, 10, 0, 0, 0, shanghai).Truncate(time.Hour), res.DueAt.In(shanghai).Truncate(time.Hour))
	_, paused := eventAt(f.slaEvents(), complaint.ClockResolution, "paused", 0)
	_, back := eventAt(f.slaEvents(), complaint.ClockResolution, "resumed", 0)
	require.True(t, paused && back)
	_, breached := eventAt(f.slaEvents(), complaint.ClockResolution, "breached", 0)
	require.False(t, breached)
}

func TestClocksStopWhenTheirTaskIsDone(t *testing.T) {
	f := setup(t)
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, shanghai)
	f.env.SetStartTime(received)
	f.at = 0
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Takes the desk's case"})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("100"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	f.task(accept, complaint.TaskConfirmResolved, solved)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Fixed"})
	final := f.run(mediumCase(received, complaint.DeptAfterSales))
	require.Empty(t, f.staff, "no warning, no escalation")
	require.Zero(t, final.EscalationLevel)
	for _, d := range final.Deadlines {
		require.Equal(t, complaint.ClockMet, d.State, d.Label())
		require.Nil(t, d.BreachedAt, d.Label())
	}
	labels := map[string]bool{}
	for _, d := range final.Deadlines {
		labels[d.Label()] = true
	}
	require.Equal(t, map[string]bool{"acknowledge": true, "firstResponse": true, "startInvestigation:after_sales": true,
		"resolution": true, "takeOwnership": true, "customerAnswer#1": true, "execution#1": true, "confirmation#1": true},
		labels)
}

func TestApplyPolicyRecomputesOpenClocks(t *testing.T) {
	f := setup(t)
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, shanghai)
	f.env.SetStartTime(received)
	f.at = 0
	f.after(5*time.Hour, func() {}) // the 4 h first response is breached
	breached := f.snapshot()
	looser := mediumCase(received).Policy.SLA
	looser.FirstResponse = 8 * time.Hour
	f.task(reject, complaint.TaskApplyPolicy, complaint.ApplyPolicy{Reason: "no targets"})
	f.task(accept, complaint.TaskApplyPolicy, complaint.ApplyPolicy{Reason: "Targets agreed with the works council", SLA: &looser})
	applied := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(mediumCase(received, complaint.DeptAfterSales))

	find := func(v complaint.CaseView) complaint.Deadline {
		for _, d := range v.Deadlines {
			if d.Name == complaint.ClockFirstResponse {
				return d
			}
		}
		t.Fatal("no firstResponse clock")
		return complaint.Deadline{}
	}
	require.Equal(t, complaint.ClockBreached, find(*breached).State)
	fr := find(*applied)
	require.Equal(t, complaint.ClockRunning, fr.State)
	require.True(t, received.Add(8*time.Hour).Equal(fr.DueAt))
	require.Contains(t, f.stepNames(), "policy_applied")
}

// A repeat complaint is raised one priority at registration; its open clocks
// are recomputed from the moment of receipt with the raised priority's
// targets (DOMAIN §4, the README's table: high is 2 h to a first response,
// 12 h to start investigating, 2 working days to a proposal).
func TestRepeatComplaintGetsTheClocksOfItsRaisedPriority(t *testing.T) {
	f := setup(t)
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, shanghai) // Monday 10:00 in Shanghai
	f.env.SetStartTime(received)
	f.at = 0
	f.registration = complaint.Registration{RepeatOf: "CMP-20261101-AAAAAA", Priority: complaint.PriorityHigh}
	f.after(3*time.Hour, func() {}) // past the high first response (2 h), short of the medium one (4 h)
	later := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	c := mediumCase(received, complaint.DeptAfterSales)
	require.Equal(t, complaint.PriorityMedium, c.Priority)
	f.run(c)

	due := map[string]time.Time{}
	for _, d := range later.Deadlines {
		due[d.Label()] = d.DueAt
	}
	require.Equal(t, complaint.PriorityHigh, later.Priority)
	require.True(t, received.Add(2*time.Hour).Equal(due["firstResponse"]), "first response due %s", due["firstResponse"])
	require.True(t, received.Add(12*time.Hour).Equal(due["startInvestigation:after_sales"]))
	require.True(t, time.Date(2026, 11, 25, 10, 0, 0, 0, shanghai).Equal(due["resolution"]), "resolution due %s", due["resolution"])
	breachedAt, breached := eventAt(f.slaEvents(), "firstResponse", "breached", 0)
	require.True(t, breached, "the raised first response was breached")
	require.True(t, received.Add(2*time.Hour).Equal(breachedAt), "breached at %s", breachedAt)
	_, rescheduled := eventAt(f.slaEvents(), "resolution", "rescheduled", 0)
	require.True(t, rescheduled)
}
