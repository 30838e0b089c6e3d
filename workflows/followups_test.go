package workflows

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// The seeds' follow-ups (issue "the seeds' follow-ups"). Times are
// Shanghai's; the case arrives on Monday 23 November 2026 at 10:00, a
// working week without holidays, its policy DOMAIN's defaults as the README
// states them: progress every 2 working days, compensation above 500 CNY
// approved by a supervisor, confirmation within 5 working days, a score of
// 2 or less followed up within 2 working days.

func (f *fixture) messagesOf(kind complaint.MessageKind) []complaint.Message {
	var out []complaint.Message
	for _, m := range f.sent {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// acceptOneProposal has agent.li take the desk's case, after-sales
// investigate, and the customer accept a proposal of 100 CNY.
func (f *fixture) acceptOneProposal() {
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Takes the desk's case"})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("100"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
}

// closeFixed takes the case through one accepted proposal, confirmed, to
// its closing as upheld.
func (f *fixture) closeFixed() {
	f.acceptOneProposal()
	f.task(accept, complaint.TaskConfirmResolved, solved)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Fixed"})
}

func (f *fixture) stepAt(name string) time.Time {
	f.t.Helper()
	for _, s := range f.steps {
		if s.Name == name {
			return s.At
		}
	}
	f.t.Fatalf("no step %s among %v", name, f.stepNames())
	return time.Time{}
}

// "Still working on it": an investigation that runs two working days
// without a word to the customer tells them it goes on, and again two
// working days later; the weekend does not count.
func TestTheCustomerHearsTheInvestigationGoesOn(t *testing.T) {
	f := waitsFixture(t)
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Takes the desk's case"})
	f.task(accept, complaint.TaskStartInvestigation, start(complaint.DeptAfterSales)) // Monday 10:02, told
	f.after(8*day, func() {})                                                         // Tuesday of the next week
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "Solved elsewhere"})
	f.run(mediumCase(monday, complaint.DeptAfterSales))

	var at []time.Time
	for _, s := range f.steps {
		if s.Name == "progress_update" {
			at = append(at, s.At.In(shanghai))
		}
	}
	require.Len(t, at, 3, f.stepNames())
	startedAt := monday.Add(2 * time.Minute)
	require.Equal(t, startedAt.AddDate(0, 0, 2), at[0], "Wednesday, two working days after the last message")
	require.Equal(t, startedAt.AddDate(0, 0, 4), at[1], "Friday")
	require.Equal(t, startedAt.AddDate(0, 0, 8), at[2], "the next Tuesday: Saturday and Sunday do not count")
	require.Len(t, f.messagesOf(complaint.MsgProgressUpdate), 3)
	require.Equal(t, "zh", f.messagesOf(complaint.MsgProgressUpdate)[0].Language, "in the customer's language")
}

// The customer hears when their case moves: routed to another department,
// asked for information (told what is needed), a dispute stage, a reopening.
func TestTheCustomerHearsOfEveryMove(t *testing.T) {
	f := waitsFixture(t)
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Takes the desk's case"})
	f.task(accept, complaint.TaskRoute, complaint.Route{Departments: []complaint.Department{"after_sales", "logistics"},
		Reason: "The drum was damaged in transit"})
	f.task(accept, complaint.TaskWaitingOnCustomer, complaint.Reason{Reason: "A photo of the drum's serial plate"})
	f.task(accept, complaint.TaskCustomerReplied, complaint.Reason{Reason: "Photo received"})
	f.investigate(complaint.DeptAfterSales, complaint.DeptLogistics)
	f.task(accept, complaint.TaskProposeResolution, proposal("50"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: no()})
	f.task(accept, complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "negotiation", Note: "Second offer"})
	f.task(accept, complaint.TaskProposeResolution, proposal("300"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	f.task(accept, complaint.TaskConfirmResolved, solved)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Drum replaced"})
	f.task(accept, complaint.TaskReopen, complaint.Reason{Reason: "The noise is back"})
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "Bought another"})
	f.run(mediumCase(monday, complaint.DeptAfterSales))

	routed := f.messagesOf(complaint.MsgRouted)
	require.Len(t, routed, 1)
	require.Equal(t, "after_sales,logistics", routed[0].Text, "who handles the complaint now")
	needed := f.messagesOf(complaint.MsgInformationNeeded)
	require.Len(t, needed, 1)
	require.Equal(t, "A photo of the drum's serial plate", needed[0].Text, "saying what is needed")
	stage := f.messagesOf(complaint.MsgDisputeStage)
	require.Len(t, stage, 1)
	require.Equal(t, "negotiation", stage[0].Text)
	require.Len(t, f.messagesOf(complaint.MsgReopened), 1)
	for _, m := range f.sent {
		require.Equal(t, "zh", m.Language, "%s in the customer's language", m.Kind)
	}
}

// After the resolution is carried out the customer is asked whether the
// problem is solved; "no" sends the case back to the owner with the next
// proposal due within the resolution target; "yes" lets it close.
func TestTheCustomerConfirmsTheFix(t *testing.T) {
	f := waitsFixture(t)
	f.acceptOneProposal()
	early := f.task(reject, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Fixed"})
	f.task(accept, complaint.TaskConfirmResolved, complaint.ConfirmResolved{Resolved: no(), Comment: "Still noisy"})
	persists := f.snapshot()
	f.task(reject, complaint.TaskConfirmResolved, solved) // nothing carried out awaits it now
	f.task(accept, complaint.TaskProposeResolution, proposal("200"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	f.task(accept, complaint.TaskConfirmResolved, complaint.ConfirmResolved{Resolved: yes(), Actor: "agent.li for the customer (phone)"})
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Drum replaced"})
	final := f.run(mediumCase(monday, complaint.DeptAfterSales))

	require.Contains(t, early.rejected.Error(), "confirmation")
	require.Equal(t, complaint.StatusInvestigating, persists.Status)
	require.False(t, *persists.Resolutions[0].Confirmation.Resolved)
	require.Equal(t, 1, f.staffTo(complaint.NoticeProblemPersists, "agent.li"), "the owner hears the problem persists")
	require.NotNil(t, deadline(t, *persists, "resolution#2"), "the next proposal has a clock")
	require.Len(t, f.messagesOf(complaint.MsgConfirmationRequest), 2, "asked after each resolution carried out")
	r := final.Resolutions[1]
	require.True(t, *r.Confirmation.Resolved)
	require.Equal(t, "agent.li for the customer (phone)", r.Confirmation.By)
	require.Equal(t, complaint.ClockMet, deadline(t, final, "confirmation#2").State)
}

// A customer who never confirms is reminded once at 75 % of the time and,
// five working days after the resolution was carried out, the case closes
// with their silence noted.
func TestAnUnconfirmedFixClosesTheCaseWhenItsTimeRunsOut(t *testing.T) {
	f := waitsFixture(t)
	f.acceptOneProposal()
	f.after(8*day, func() {})
	closed := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "x"}) // refused: closed; the window runs out
	f.results = f.results[:len(f.results)-1]
	f.run(mediumCase(monday, complaint.DeptAfterSales))

	executedAt := f.stepAt("resolution_executed").In(shanghai)
	require.Equal(t, complaint.StatusClosed, closed.Status)
	require.Equal(t, complaint.OutcomeUpheld, closed.Outcome)
	require.Contains(t, closed.CloseSummary, "did not confirm")
	require.True(t, closed.Resolutions[0].Confirmation.TimedOut)
	closedAt := f.stepAt("closed").In(shanghai)
	require.Equal(t, executedAt.AddDate(0, 0, 7), closedAt, "five working days: Monday to the next Monday")
	require.Equal(t, "system", f.steps[indexOf(f.stepNames(), "closed")].Actor)
	require.Less(t, indexOf(f.stepNames(), "confirmation_reminded"), indexOf(f.stepNames(), "closed"))
	closing := slices.Index(f.messages, complaint.MsgClosingSummary)
	require.Equal(t, []complaint.MessageKind{complaint.MsgConfirmationRequest, complaint.MsgConfirmationRequest,
		complaint.MsgClosingSummary}, f.messages[closing-2:closing+1], "asked, reminded, told of the closing")
	require.NotContains(t, f.stepNames(), "sla_escalated", "the customer's silence is not the owner's delay")
}

// A satisfaction score at or below 2 opens a follow-up for the owner with a
// clock, the supervisor is told, and the case stays open until it is done.
func TestALowScoreIsFollowedUp(t *testing.T) {
	f := waitsFixture(t)
	f.closeFixed()
	f.taskAfter(15*day, accept, complaint.TaskSurveyResponse, complaint.SurveyResponse{Score: 2, Comment: "Took too long"})
	opened := f.snapshot()
	f.taskAfter(20*day, reject, complaint.TaskCompleteFollowUp, complaint.CompleteFollowUp{Summary: "x", Actor: "cs.manager"}).want = accept
	final := f.run(mediumCase(monday, complaint.DeptAfterSales))

	fu := opened.FollowUp
	require.NotNil(t, fu)
	require.Equal(t, 2, fu.Score)
	require.Equal(t, "agent.li", fu.Owner)
	require.Equal(t, fu.OpenedAt.In(shanghai).AddDate(0, 0, 2), fu.DueAt.In(shanghai), "two working days")
	require.Equal(t, 1, f.staffTo(complaint.NoticeFollowUp, "agent.li"), "the owner is told to follow up")
	require.Equal(t, 1, f.staffTo(complaint.NoticeFollowUpOpened, "cs.supervisor"), "the supervisor is told")
	// Not done in time: the ladder climbs like any clock's.
	require.Positive(t, f.staffTo("escalation", "cs.supervisor"))
	require.NotNil(t, final.FollowUp.DoneAt)
	require.Equal(t, "cs.manager", final.FollowUp.DoneBy)
	// The reopen window ended 30 days after closing, but the case waited for the follow-up.
	require.True(t, f.env.Now().After(f.stepAt("closed").Add(30*day)))
	require.Equal(t, "follow_up_done", f.stepNames()[len(f.steps)-1])
}

// A good score opens nothing.
func TestAGoodScoreOpensNoFollowUp(t *testing.T) {
	f := waitsFixture(t)
	f.closeFixed()
	f.taskAfter(15*day, accept, complaint.TaskSurveyResponse, complaint.SurveyResponse{Score: 3})
	f.task(reject, complaint.TaskCompleteFollowUp, complaint.CompleteFollowUp{Summary: "x"})
	final := f.run(mediumCase(monday, complaint.DeptAfterSales))
	require.Nil(t, final.FollowUp)
	require.NotContains(t, f.stepNames(), "follow_up_opened")
}

// A proposal whose compensation is above 500 CNY waits for a supervisor:
// the customer sees nothing until it is approved; the proposer cannot
// approve it; a refusal sends it back to the owner.
func TestACompensationAboveTheLimitWaitsForApproval(t *testing.T) {
	f := waitsFixture(t)
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Takes the desk's case"})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("800"))
	waiting := f.snapshot()
	f.task(reject, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	f.task(reject, complaint.TaskProposeResolution, proposal("100"))
	f.task(reject, complaint.TaskApproveCompensation, complaint.ApproveCompensation{Approved: yes(), Actor: "agent.li"})
	f.task(accept, complaint.TaskApproveCompensation, complaint.ApproveCompensation{Approved: no(), Note: "Too much for a noise", Actor: "cs.supervisor"})
	refused := f.snapshot()
	f.task(accept, complaint.TaskProposeResolution, proposal("600"))
	f.task(accept, complaint.TaskApproveCompensation, complaint.ApproveCompensation{Approved: yes(), Actor: "cs.supervisor"})
	approved := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "x"})
	f.run(mediumCase(monday, complaint.DeptAfterSales))

	require.Equal(t, complaint.StatusInvestigating, waiting.Status, "not before the customer yet")
	require.Equal(t, "`approveCompensation` by cs.supervisor", waiting.NextTask)
	require.True(t, waiting.Resolutions[0].Approval.Pending())
	require.Equal(t, "500 CNY", waiting.Resolutions[0].Approval.Limit)
	require.Equal(t, complaint.ClockRunning, deadline(t, *waiting, "resolution").State, "the customer still waits for a proposal")
	require.Equal(t, complaint.ClockRunning, deadline(t, *waiting, "compensationApproval#1").State)
	require.Equal(t, 2, f.staffTo(complaint.NoticeApprovalRequested, "cs.supervisor"), "one request per proposal above the limit")
	require.False(t, *refused.Resolutions[0].Approval.Approved)
	require.Equal(t, 1, f.staffTo(complaint.NoticeApprovalDecided, "agent.li"))
	require.Equal(t, complaint.StatusResolutionProposed, approved.Status)
	require.Equal(t, "cs.supervisor", approved.Resolutions[1].Approval.By)
	proposals := f.messagesOf(complaint.MsgResolutionProposal)
	require.Len(t, proposals, 1, "only the approved proposal reached the customer")
	require.Equal(t, complaint.ClockMet, deadline(t, *approved, "resolution").State)
	require.Equal(t, complaint.ClockRunning, deadline(t, *approved, "customerAnswer#2").State)
}

// Within the limit, or in a currency without one, nothing waits.
func TestACompensationWithinTheLimitGoesStraightToTheCustomer(t *testing.T) {
	f := waitsFixture(t)
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Takes the desk's case"})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("500"))
	proposed := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "x"})
	f.run(mediumCase(monday, complaint.DeptAfterSales))
	require.Equal(t, complaint.StatusResolutionProposed, proposed.Status)
	require.Nil(t, proposed.Resolutions[0].Approval)
}

// Objectivity: the staff member a complaint concerns can neither own,
// investigate nor close it; a complaint about someone's service attitude is
// owned by their supervisor rung from the start.
func TestThePersonConcernedTakesNoPart(t *testing.T) {
	in := complaint.Intake{
		Channel: complaint.ChannelPhone, Category: complaint.CategoryServiceAttitude,
		Customer:    complaint.Customer{Name: "Chen Jing", Phone: "+86 138 0000 0000", Language: "en"},
		Subject:     "Rude waiter",
		Description: "The waiter shouted at us.",
		ReceivedBy:  "waiter.zhang",
		Concerns:    "waiter.zhang",
	}
	c := complaint.Register(in, "CMP-20261123-4F7K2Q", monday, complaint.DefaultRulesFrom(2025))
	require.Equal(t, "cs.supervisor", c.Owner, "owned by the supervisor rung, not by the person concerned")

	f := waitsFixture(t)
	f.task(reject, complaint.TaskAssign, complaint.Assign{Owner: "waiter.zhang", Reason: "x"})
	f.task(reject, complaint.TaskStartInvestigation, complaint.StartInvestigation{Department: "customer_service", Investigator: "waiter.zhang"})
	f.task(accept, complaint.TaskStartInvestigation, complaint.StartInvestigation{Department: "customer_service", Investigator: "cs.lead"})
	f.task(accept, complaint.TaskSubmitFindings, findings("customer_service"))
	f.task(reject, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "x", Actor: "waiter.zhang"})
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "Camera shows no shouting", Actor: "cs.supervisor"})
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "x"}).want = reject
	f.results = f.results[:len(f.results)-1]
	final := f.run(c)
	for _, r := range f.results {
		if r.rejected != nil {
			require.Contains(t, r.rejected.Error(), "objectivity", r.label)
		}
	}
	require.Equal(t, "waiter.zhang", final.Concerns)
	require.Equal(t, "cs.supervisor", final.Owner)
}

// Impact: many customers or a named batch widen a problem's scope and raise
// its priority one step, like legal exposure; the category alone does not.
func TestImpactWidensTheScope(t *testing.T) {
	base := complaint.Intake{Channel: complaint.ChannelWeb, Customer: complaint.Customer{Name: "A", Email: "a@example.com"},
		Category: complaint.CategoryProductQuality, Subject: "Battery swelling", Description: "It swells."}
	register := func(in complaint.Intake) complaint.Priority {
		return complaint.Register(in, "CMP-20261123-4F7K2Q", monday, complaint.DefaultRulesFrom(2025)).Priority
	}
	require.Equal(t, complaint.PriorityMedium, register(base))
	few := base
	few.Impact = &complaint.Impact{AffectedCustomers: 3}
	require.Equal(t, complaint.PriorityMedium, register(few))
	many := base
	many.Impact = &complaint.Impact{AffectedCustomers: 40}
	require.Equal(t, complaint.PriorityHigh, register(many))
	batch := base
	batch.Impact = &complaint.Impact{Batch: "B-2026-11-07"}
	require.Equal(t, complaint.PriorityHigh, register(batch))
	legal := base
	legal.Category = complaint.CategoryLegal
	require.Equal(t, complaint.PriorityHigh, register(legal))
	both := many
	both.Category = complaint.CategoryLegal
	require.Equal(t, complaint.PriorityHigh, register(both), "scope is one factor")
	require.True(t, slices.Contains(complaint.Priorities, register(both)))
}
