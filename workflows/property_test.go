package workflows

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/visibility"
)

// The promise of the issue "no case stalls": driven by random sequences of
// tasks, whenever an open case waits on people (anyone but the customer
// asked for something with `waitingOnCustomer`), some clock runs and
// NextDeadline is set. Each seed is one sequence; a failure names it.
func TestWheneverTheCaseWaitsOnPeopleAClockRuns(t *testing.T) {
	for seed := uint64(1); seed <= 25; seed++ {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) { waitsOnPeopleProperty(t, seed) })
	}
}

func waitsOnPeopleProperty(t *testing.T, seed uint64) {
	rnd := rand.New(rand.NewPCG(seed, 18))
	f := waitsFixture(t)
	depts := []complaint.Department{complaint.DeptAfterSales, complaint.DeptTechnical}
	var trail []string
	check := func(v complaint.CaseView) {
		switch v.Status {
		case complaint.StatusClosed, complaint.StatusSurveyPending, complaint.StatusCompleted, complaint.StatusWithdrawn:
			return
		}
		if v.WaitingOnCustomer != "" {
			return
		}
		running := slices.ContainsFunc(v.Deadlines, func(d complaint.Deadline) bool {
			return d.State == complaint.ClockRunning || d.State == complaint.ClockBreached
		})
		_, next := visibility.NextDeadline(v)
		require.True(t, running && next, "seed %d: the case is %s with no clock running after %v; clocks %+v",
			seed, v.Status, trail, v.Deadlines)
	}
	candidates := func(v complaint.CaseView) []struct {
		name    string
		payload any
	} {
		type task = struct {
			name    string
			payload any
		}
		var out []task
		for _, d := range depts {
			out = append(out, task{complaint.TaskStartInvestigation, start(d)}, task{complaint.TaskSubmitFindings, findings(d)})
		}
		stage := complaint.DisputeStages[min(len(v.Dispute), len(complaint.DisputeStages)-1)]
		out = append(out,
			task{complaint.TaskAssign, complaint.Assign{Owner: []string{"agent.li", "agent.wu"}[rnd.IntN(2)], Reason: "Shift"}},
			task{complaint.TaskProposeResolution, proposal("100")},
			task{complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: []*bool{yes(), no(), no()}[rnd.IntN(3)]}},
			task{complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: stage, Note: "Next stage"}},
			task{complaint.TaskClose, complaint.Close{Outcome: complaint.Outcomes[rnd.IntN(3)], Summary: "Closing"}},
			task{complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "Award", Decision: "Award"}},
			task{complaint.TaskReopen, complaint.Reason{Reason: "Back again"}},
			task{complaint.TaskWaitingOnCustomer, complaint.Reason{Reason: "Photos"}},
			task{complaint.TaskCustomerReplied, complaint.Reason{Reason: "Photos in"}},
			// The follow-ups: a proposal above the approval limit, its
			// decision, the customer's word on the fix.
			task{complaint.TaskProposeResolution, proposal("800")},
			task{complaint.TaskApproveCompensation, complaint.ApproveCompensation{Approved: []*bool{yes(), no()}[rnd.IntN(2)],
				Note: "Decided", Actor: "cs.supervisor"}},
			task{complaint.TaskConfirmResolved, complaint.ConfirmResolved{Resolved: []*bool{yes(), yes(), no()}[rnd.IntN(3)]}},
		)
		return out
	}
	const steps = 60
	for i := 1; i <= steps; i++ {
		f.env.RegisterDelayedCallback(func() {
			v := f.query()
			check(v)
			if i == steps {
				if v.Status != complaint.StatusWithdrawn && v.Status != complaint.StatusCompleted {
					f.env.UpdateWorkflow(complaint.TaskWithdraw, "", &testsuite.TestUpdateCallback{
						OnAccept: func() {}, OnReject: func(error) {}, OnComplete: func(any, error) {}}, complaint.Reason{Reason: "end"})
				}
				return
			}
			c := candidates(v)
			pick := c[rnd.IntN(len(c))]
			f.env.UpdateWorkflow(pick.name, "", &testsuite.TestUpdateCallback{
				OnAccept: func() {}, OnReject: func(error) {},
				OnComplete: func(_ any, err error) {
					if err == nil {
						trail = append(trail, pick.name)
					}
				},
			}, pick.payload)
		}, time.Duration(i)*time.Minute)
	}
	f.env.ExecuteWorkflow(ComplaintWorkflow, mediumCase(monday, depts...))
	require.True(t, f.env.IsWorkflowCompleted())
	require.NoError(t, f.env.GetWorkflowError())
	require.NotEmpty(t, trail)
}
