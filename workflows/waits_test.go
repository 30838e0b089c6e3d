package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// Every wait after the first proposal has a clock (DOMAIN §4: deadlines
// never pass silently). Targets are the README's for a medium case: the
// next proposal within 3 working days, the customer's answer within 5, a
// negotiation within 5, a desk case taken within 4 hours. The case is
// received on Monday 23 November 2026, 10:00 in Shanghai, a week without
// holidays.

var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, shanghai)

func waitsFixture(t *testing.T) *fixture {
	f := setup(t)
	f.env.SetStartTime(monday)
	f.at = 0
	return f
}

func deadline(t *testing.T, v complaint.CaseView, label string) complaint.Deadline {
	t.Helper()
	for _, d := range v.Deadlines {
		if d.Label() == label {
			return d
		}
	}
	t.Fatalf("no clock %s among %v", label, v.Deadlines)
	return complaint.Deadline{}
}

func (f *fixture) staffTo(kind, to string) int {
	n := 0
	for _, s := range f.staff {
		if s.Kind == kind && s.To == to {
			n++
		}
	}
	return n
}

func TestARejectedProposalRestartsTheResolutionClock(t *testing.T) {
	f := waitsFixture(t)
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Takes the desk's case"})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("50"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: no()})
	rejected := f.snapshot()
	f.after(4*day, func() {}) // Friday: the next proposal is late
	late := f.snapshot()
	f.task(accept, complaint.TaskProposeResolution, proposal("200"))
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	final := f.run(mediumCase(monday, complaint.DeptAfterSales))

	next := deadline(t, *rejected, "resolution#2")
	require.Equal(t, complaint.ClockRunning, next.State)
	require.True(t, next.StartedAt.AddDate(0, 0, 3).Equal(next.DueAt), "3 working days from the rejection: %s", next.DueAt)
	require.Equal(t, complaint.ClockBreached, deadline(t, *late, "resolution#2").State)
	require.NotNil(t, deadline(t, final, "resolution#2").MetAt, "the next proposal met it, late")
	require.Equal(t, 1, f.staffTo("escalation", "cs.supervisor"))
}

func TestAnUnansweredProposalIsChasedAndWaitsForTheOwner(t *testing.T) {
	f := waitsFixture(t)
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Takes the desk's case"})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("50"))
	early := f.task(reject, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "No answer"})
	proposed := f.snapshot()
	f.after(30*day, func() {}) // the customer never answers
	waiting := f.snapshot()
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected,
		Summary: "The customer did not answer our proposal in 30 days"})
	final := f.run(mediumCase(monday, complaint.DeptAfterSales))

	answer := deadline(t, *proposed, "customerAnswer#1")
	require.True(t, answer.StartedAt.AddDate(0, 0, 7).Equal(answer.DueAt), "5 working days: %s", answer.DueAt)
	require.ErrorContains(t, early.rejected, "the customer's answer is awaited until")
	// The customer was reminded once, the owner told at the due time, then
	// the ladder climbed; the case still waited for the owner.
	require.Equal(t, 1, countOf(f.messages, complaint.MsgProposalReminder))
	require.Equal(t, 1, f.staffTo("unanswered", "agent.li"))
	require.Equal(t, 1, f.staffTo("escalation", "cs.supervisor"))
	require.Equal(t, 1, f.staffTo("escalation", "ops.director"))
	require.Equal(t, complaint.StatusResolutionProposed, waiting.Status)
	names := f.stepNames()
	require.Less(t, indexOf(names, "proposal_reminded"), indexOf(names, "proposal_unanswered"))
	reminded := f.steps[indexOf(names, "proposal_reminded")].At
	require.True(t, answer.WarnAt.Equal(reminded), "reminded at the warning point %s, not %s", answer.WarnAt, reminded)
	require.Equal(t, complaint.StatusCompleted, final.Status)
	require.Contains(t, f.steps[indexOf(names, "closed")].Summary, "resolution 1 unanswered")
}

func TestDisputeStagesHaveTargetsAndGoOneAtATime(t *testing.T) {
	f := waitsFixture(t)
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("50"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: no()})
	f.task(accept, complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "negotiation", Note: "Manager call"})
	negotiating := f.snapshot()
	skip := f.task(reject, complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "litigation", Note: "Sue"})
	f.task(accept, complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "arbitration", Note: "Filed",
		SkipReason: "The customer refuses mediation in writing"})
	arbitrating := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	final := f.run(mediumCase(monday, complaint.DeptAfterSales))

	n := deadline(t, *negotiating, "dispute:negotiation")
	require.True(t, n.StartedAt.AddDate(0, 0, 7).Equal(n.DueAt), "5 working days: %s", n.DueAt)
	require.Equal(t, complaint.ClockStopped, deadline(t, *negotiating, "resolution#2").State, "the dispute paces the case")
	require.ErrorContains(t, skip.rejected, "the dispute goes one stage at a time: mediation comes next")
	require.Equal(t, complaint.ClockMet, deadline(t, *arbitrating, "dispute:negotiation").State)
	require.Equal(t, complaint.ClockRunning, deadline(t, *arbitrating, "dispute:arbitration").State)
	require.Equal(t, "The customer refuses mediation in writing", final.Dispute[1].SkipReason)
}

func TestADeskCaseMustBeTakenByAPerson(t *testing.T) {
	f := waitsFixture(t)
	f.after(5*time.Hour, func() {})
	untaken := f.snapshot()
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Takes it"})
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	c := mediumCase(monday, complaint.DeptAfterSales)
	require.Equal(t, complaint.DefaultOwner, c.Owner)
	final := f.run(c)

	take := deadline(t, *untaken, "takeOwnership")
	require.True(t, monday.Add(4*time.Hour).Equal(take.DueAt))
	require.Equal(t, complaint.ClockBreached, take.State)
	met := deadline(t, final, "takeOwnership")
	require.Equal(t, complaint.ClockMet, met.State)
	require.True(t, monday.Add(5*time.Hour+2*time.Minute).Equal(*met.MetAt), "met at %s", met.MetAt)

	// A case with a named first contact has no such clock.
	g := waitsFixture(t)
	g.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	owned := mediumCase(monday, complaint.DeptAfterSales)
	owned.Owner = "agent.li"
	for _, d := range g.run(owned).Deadlines {
		require.NotEqual(t, complaint.ClockTakeOwnership, d.Name)
	}
}

// Escalating an unanswered proposal is the owner acting: the answer's clock
// stops climbing, the dispute stage's clock runs.
func TestEscalatingAnUnansweredProposalHandsTheClockToTheDispute(t *testing.T) {
	f := waitsFixture(t)
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Takes the desk's case"})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("50"))
	early := f.task(reject, complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "negotiation", Note: "Too early"})
	f.after(8*day, func() {}) // past the answer's 5 working days
	f.task(accept, complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "negotiation", Note: "No answer: we call"})
	escalated := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(mediumCase(monday, complaint.DeptAfterSales))

	require.ErrorContains(t, early.rejected, "a dispute follows a rejected resolution")
	require.Equal(t, complaint.ClockMet, deadline(t, *escalated, "customerAnswer#1").State)
	require.Equal(t, complaint.ClockRunning, deadline(t, *escalated, "dispute:negotiation").State)
}
