package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// The regulator's long-stop (issue 25): a clock from receipt that never
// pauses. UK (FCA DISP 1.6): a final response within 8 weeks telling the
// customer of the Financial Ombudsman within 6 months; DISP 1.5: a complaint
// resolved by the close of the third business day gets a summary
// resolution message. China: 10 working days of negotiation, then the
// market-regulation authority (12315). The figures are written here, not
// read from the code.

func withJurisdiction(c complaint.NewCase, j complaint.Jurisdiction) complaint.NewCase {
	ls, err := complaint.LongStopFor(j)
	if err != nil {
		panic(err)
	}
	c.Policy.LongStop = ls
	return c
}

func (f *fixture) sentOf(kind complaint.MessageKind) []complaint.Message {
	var out []complaint.Message
	for _, m := range f.sent {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func TestUKLongStopIsEightWeeksThatNoWaitStretches(t *testing.T) {
	f := waitsFixture(t) // received Monday 23 November 2026, 10:00 Shanghai
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskWaitingOnCustomer, complaint.Reason{Reason: "Photos, please"})
	f.after(20*day, func() {}) // three weeks waiting for the customer
	f.task(accept, complaint.TaskCustomerReplied, complaint.Reason{Reason: "Photos received"})
	before := f.snapshot()
	f.after(36*day, func() {}) // 8 weeks and a little after receipt
	reached := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	c := withJurisdiction(mediumCase(monday, complaint.DeptAfterSales), complaint.JurisdictionUK)
	c.Intake.Customer.Language = "en"
	f.run(c)

	ls := deadline(t, *before, complaint.ClockLongStop)
	require.True(t, monday.AddDate(0, 0, 56).Equal(ls.DueAt), "8 weeks from receipt, the wait not counted: %s", ls.DueAt)
	require.Equal(t, complaint.ClockRunning, ls.State)
	require.Equal(t, complaint.ClockBreached, deadline(t, *reached, complaint.ClockLongStop).State)
	letters := f.sentOf(complaint.MsgFinalResponse)
	require.Len(t, letters, 1, "one final-response letter")
	require.Equal(t, "en", letters[0].Language)
	require.Contains(t, letters[0].Text, "Financial Ombudsman Service")
	require.Contains(t, letters[0].Text, "six months")
	require.GreaterOrEqual(t, f.staffTo("escalation", "cs.supervisor"), 1, "the ladder as for other clocks")
	_, breached := eventAt(f.slaEvents(), complaint.ClockLongStop, "breached", 0)
	require.True(t, breached, "reported in SLA compliance")
}

func TestChinaLongStopIsTenWorkingDaysThenThe12315Referral(t *testing.T) {
	f := waitsFixture(t)
	f.investigate(complaint.DeptAfterSales)
	before := f.snapshot()
	f.after(15*day, func() {})
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(withJurisdiction(mediumCase(monday, complaint.DeptAfterSales), complaint.JurisdictionCN))

	ls := deadline(t, *before, complaint.ClockLongStop)
	// Ten working days from Monday 23 November 10:00 (no holidays those weeks): Monday 7 December 10:00.
	require.True(t, time.Date(2026, 12, 7, 10, 0, 0, 0, shanghai).Equal(ls.DueAt), "due %s", ls.DueAt.In(shanghai))
	letters := f.sentOf(complaint.MsgFinalResponse)
	require.Len(t, letters, 1)
	require.Equal(t, "zh", letters[0].Language)
	require.Contains(t, letters[0].Text, "12315")
	require.Contains(t, letters[0].Text, "市场监督管理部门")
	require.Empty(t, f.sentOf(complaint.MsgSummaryResolution))
}

func TestUKQuickResolutionSendsTheSummaryResolution(t *testing.T) {
	f := waitsFixture(t)
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Takes the desk's case"})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("50"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	f.task(accept, complaint.TaskConfirmResolved, solved)
	f.taskAfter(2*day, accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Refunded"})
	closed := f.snapshot()
	f.task(accept, complaint.TaskReopen, complaint.Reason{Reason: "again"}) // ends the follow-up for the test
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	c := withJurisdiction(mediumCase(monday, complaint.DeptAfterSales), complaint.JurisdictionUK)
	c.Intake.Customer.Language = "en"
	f.run(c)

	require.Equal(t, complaint.ClockMet, deadline(t, *closed, complaint.ClockLongStop).State)
	summaries := f.sentOf(complaint.MsgSummaryResolution)
	require.Len(t, summaries, 1, "closed on Wednesday, within three business days")
	require.Contains(t, summaries[0].Text, "Financial Ombudsman Service")
	require.Empty(t, f.sentOf(complaint.MsgFinalResponse))
}

func TestUKSlowerResolutionSendsNoSummary(t *testing.T) {
	f := waitsFixture(t)
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Takes the desk's case"})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("50"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	f.task(accept, complaint.TaskConfirmResolved, solved)
	f.taskAfter(8*day, accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Refunded"})
	f.task(accept, complaint.TaskReopen, complaint.Reason{Reason: "again"})
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	c := withJurisdiction(mediumCase(monday, complaint.DeptAfterSales), complaint.JurisdictionUK)
	f.run(c)
	require.Empty(t, f.sentOf(complaint.MsgSummaryResolution))
}

func TestNoJurisdictionNoLongStop(t *testing.T) {
	f := waitsFixture(t)
	f.after(70*day, func() {})
	final := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(withJurisdiction(mediumCase(monday, complaint.DeptAfterSales), complaint.JurisdictionNone))
	for _, d := range final.Deadlines {
		require.False(t, strings.HasPrefix(d.Name, complaint.ClockLongStop), "no long-stop without a jurisdiction")
	}
	require.Empty(t, f.sentOf(complaint.MsgFinalResponse))
}
