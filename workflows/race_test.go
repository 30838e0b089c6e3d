package workflows

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// Tasks and the case's own steps interleave at every activity. These tests
// slow one activity down to hold such a window open.

func TestReopenWhileTheSurveyInvitationGoesOut(t *testing.T) {
	f := setupSlow(t, map[string]time.Duration{"survey_sent": 30 * time.Minute})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "No fault"})
	// The survey goes out 14 days after closing and takes 30 minutes to send.
	f.taskAfter(14*day-time.Minute, accept, complaint.TaskReopen, complaint.Reason{Reason: "The noise is back"})
	f.taskAfter(2*time.Hour, accept, complaint.TaskStartInvestigation, start(complaint.DeptAfterSales))
	reopened := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, 2, reopened.Round)
	require.Equal(t, complaint.StatusInvestigating, reopened.Status)
	require.Nil(t, reopened.Survey, "no survey is recorded for a case reopened while it was sent")
}

// The customer confirms what was done: a confirmation given while the
// resolution is being carried out waits for it.
func TestConfirmationWaitsForTheResolutionToBeCarriedOut(t *testing.T) {
	f := setupSlow(t, map[string]time.Duration{"resolution_executed": time.Hour})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("200"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	f.task(accept, complaint.TaskConfirmResolved, solved)
	f.taskAfter(2*time.Hour, accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Done"})
	f.taskAfter(2*time.Hour, accept, complaint.TaskReopen, complaint.Reason{Reason: "Not done after all"})
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(newCase(complaint.DeptAfterSales))
	names := f.stepNames()
	require.Less(t, indexOf(names, "resolution_accepted"), indexOf(names, "resolution_executed"))
	require.Less(t, indexOf(names, "resolution_executed"), indexOf(names, "resolution_confirmed"))
	require.Less(t, indexOf(names, "resolution_confirmed"), indexOf(names, "closed"))
	require.Contains(t, names, "reopened")
}

func TestTwoReopensAtOnceMakeOneRound(t *testing.T) {
	f := setupSlow(t, map[string]time.Duration{"reopened": 10 * time.Minute})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "No fault"})
	f.after(15*day, func() {})
	r1 := f.task(accept, complaint.TaskReopen, complaint.Reason{Reason: "one"})
	f.results = f.results[:len(f.results)-1]
	f.at -= time.Minute - time.Second // the second arrives one second later
	r2 := f.task(reject, complaint.TaskReopen, complaint.Reason{Reason: "two"})
	f.results = f.results[:len(f.results)-1]
	after := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(newCase(complaint.DeptAfterSales))
	require.True(t, r1.accepted)
	require.False(t, r2.accepted && r2.err == nil, "the second reopen must not succeed")
	require.Equal(t, 2, after.Round)
	clocks := 0
	for _, d := range after.Deadlines {
		if d.Name == complaint.ClockResolution && d.Round == 2 {
			clocks++
		}
	}
	require.Equal(t, 1, clocks)
}

func TestDuplicateTasksDuringRegistrationApplyOnce(t *testing.T) {
	f := setupSlow(t, map[string]time.Duration{"register": time.Hour})
	a1 := f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "bob", Reason: "Shift change"})
	a2 := f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "bob", Reason: "Shift change"})
	f.results = f.results[:0]
	f.taskAfter(2*time.Hour, accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(newCase(complaint.DeptAfterSales))
	require.True(t, a1.accepted && a2.accepted, "both pass validation while the case is being registered")
	require.True(t, (a1.err == nil) != (a2.err == nil), "exactly one applies: %v / %v", a1.err, a2.err)
	require.Equal(t, 1, countOf(f.stepNames(), "assigned"))
}

func TestRoutingADepartmentAwayAndBack(t *testing.T) {
	f := setup(t)
	p, tech := complaint.DeptProduct, complaint.DeptTechnical
	f.task(accept, complaint.TaskRoute, complaint.Route{Departments: []complaint.Department{p}, Reason: "Not technical"})
	f.task(accept, complaint.TaskRoute, complaint.Route{Departments: []complaint.Department{p, tech}, Reason: "Technical after all"})
	f.task(accept, complaint.TaskStartInvestigation, start(tech))
	f.task(accept, complaint.TaskStartInvestigation, start(p))
	f.task(accept, complaint.TaskSubmitFindings, findings(tech))
	f.task(accept, complaint.TaskSubmitFindings, findings(p))
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "No fault"})
	final := f.run(newCase(p, tech))
	for _, d := range final.Investigation {
		require.Equal(t, complaint.DeptReported, d.State, d.Department)
	}
}

// A withdrawal that arrives while the case is registered and acknowledged
// (one activity) waits for it, then ends the case.
func TestWithdrawalDuringIntakeWaitsForTheRegistration(t *testing.T) {
	f := setupSlow(t, map[string]time.Duration{"register": time.Hour})
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "Sent by mistake"})
	final := f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, complaint.StatusWithdrawn, final.Status)
	names := f.stepNames()
	require.Equal(t, "acknowledged", names[0])
	require.Contains(t, names, "withdrawn")
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// Signals are applied in the order they arrived, whichever tasks they are:
// a confirmation and then a closing, sent while the case was still recording
// the acceptance, confirm first and then close.
func TestSignalsWaitingTogetherApplyInTheOrderTheyArrived(t *testing.T) {
	f := setupSlow(t, map[string]time.Duration{"resolution_accepted": time.Hour})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("200"))
	f.signal(complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	f.signal(complaint.TaskConfirmResolved, solved)
	f.signal(complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Repaired"})
	closed := &complaint.CaseView{}
	f.after(2*time.Hour, func() { *closed = f.query() })
	f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, complaint.StatusClosed, closed.Status, "the closing after the confirmation applies")
	names := f.stepNames()
	require.Less(t, indexOf(names, "resolution_executed"), indexOf(names, "resolution_confirmed"))
	require.Less(t, indexOf(names, "resolution_confirmed"), indexOf(names, "closed"))
}

// A signal that names no task is logged and dropped: it neither runs
// anything nor keeps the case from ending.
func TestASignalNamingNoTaskDoesNotHoldTheCaseOpen(t *testing.T) {
	f := setup(t)
	f.signal("closee", complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "a typo"})
	f.signal(complaint.TaskWithdraw, complaint.Reason{Reason: "Sorted it myself"})
	final := f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, complaint.StatusWithdrawn, final.Status)
}

// A worker without SignalOrder must not run a case: its workflow task fails,
// naming what is missing, rather than apply signals in the wrong order.
func TestACaseNeedsTheSignalOrderInterceptor(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterActivityWithOptions(func(context.Context, complaint.CaseIntake) (complaint.Registration, error) {
		return complaint.Registration{}, nil
	}, activity.RegisterOptions{Name: complaint.ActivityRegisterCase})
	env.ExecuteWorkflow(ComplaintWorkflow, newCase(complaint.DeptAfterSales))
	require.ErrorContains(t, env.GetWorkflowError(), "SignalOrder")
}

// A signal whose payload does not decode is dropped where it arrived: the
// next signal of its name still waits for its own turn.
func TestACorruptSignalDoesNotMoveTheNextOfItsNameAhead(t *testing.T) {
	f := setupSlow(t, map[string]time.Duration{"note": time.Hour})
	f.signal(complaint.TaskAddNote, complaint.AddNote{Author: "agent.li", Text: "first"})
	f.signal(complaint.TaskAddNote, converter.NewRawValue(&commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte("{not json"),
	}))
	f.signal(complaint.TaskAssign, complaint.Assign{Owner: "bob", Reason: "Shift change"})
	f.signal(complaint.TaskAddNote, complaint.AddNote{Author: "agent.li", Text: "last"})
	f.taskAfter(5*time.Hour, accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, []string{"note: first", "assigned", "note: last"}, f.stepOrder("assigned"))
}

// stepOrder lists the case's notes (with their text) and its steps of the
// names given, in the order they were recorded.
func (f *fixture) stepOrder(names ...string) []string {
	var order []string
	for _, s := range f.steps {
		switch {
		case s.Name == "note":
			order = append(order, "note: "+s.Summary)
		case slices.Contains(names, s.Name):
			order = append(order, s.Name)
		}
	}
	return order
}

// Signals that arrive while the case is still being registered wait for
// the registration, then apply in the order they arrived.
func TestSignalsDuringRegistrationApplyInTheOrderTheyArrived(t *testing.T) {
	f := setupSlow(t, map[string]time.Duration{"register": time.Hour})
	f.signal(complaint.TaskAddNote, complaint.AddNote{Author: "agent.li", Text: "first"})
	f.signal(complaint.TaskAssign, complaint.Assign{Owner: "bob", Reason: "Shift change"})
	f.signal(complaint.TaskAddNote, complaint.AddNote{Author: "agent.li", Text: "last"})
	f.signal(complaint.TaskRoute, complaint.Route{Departments: []complaint.Department{complaint.DeptAfterSales,
		complaint.DeptProduct}, Reason: "A product fault too"})
	f.taskAfter(2*time.Hour, accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, []string{"acknowledged", "note: first", "assigned", "note: last", "routed", "withdrawn"},
		f.stepOrder("acknowledged", "assigned", "routed", "withdrawn"))
}
