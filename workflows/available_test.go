package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/complaintdesk/complaintdesk/complaint"
)

func (f *fixture) taskStates() map[string]complaint.TaskState {
	f.t.Helper()
	res, err := f.env.QueryWorkflow(complaint.QueryTasks)
	require.NoError(f.t, err)
	var states []complaint.TaskState
	require.NoError(f.t, res.Get(&states))
	out := map[string]complaint.TaskState{}
	for _, s := range states {
		out[s.Name] = s
	}
	require.Len(f.t, out, len(states), "one state per task")
	return out
}

// The tasks query says what the case's state lets anyone do at each step
// of DOMAIN §1, and why not the rest.
func TestTheTasksQueryFollowsTheCase(t *testing.T) {
	f := setup(t)
	var acknowledged, investigating, proposed map[string]complaint.TaskState
	f.after(0, func() { acknowledged = f.taskStates() })
	f.task(accept, complaint.TaskStartInvestigation, start("after_sales"))
	f.after(0, func() { investigating = f.taskStates() })
	f.task(accept, complaint.TaskSubmitFindings, findings("after_sales"))
	f.task(accept, complaint.TaskProposeResolution, proposal("200"))
	f.after(0, func() { proposed = f.taskStates() })
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "Sorted it out myself"})
	c := newCase("after_sales")
	f.run(c)

	for _, name := range []string{"assign", "route", "startInvestigation", "waitingOnCustomer", "withdraw", "addNote"} {
		require.True(t, acknowledged[name].Allowed, "%s on an acknowledged case: %s", name, acknowledged[name].Reason)
	}
	for _, name := range []string{"submitFindings", "proposeResolution", "customerResponse", "close", "reopen",
		"surveyResponse", "escalateDispute", "customerReplied"} {
		require.False(t, acknowledged[name].Allowed, "%s on an acknowledged case", name)
		require.NotEmpty(t, acknowledged[name].Reason, "%s says why not", name)
	}
	require.Contains(t, acknowledged["proposeResolution"].Reason, "after the investigation")

	require.True(t, investigating["submitFindings"].Allowed, investigating["submitFindings"].Reason)
	require.False(t, investigating["startInvestigation"].Allowed, "the only department has started")
	require.False(t, investigating["proposeResolution"].Allowed)
	require.Contains(t, investigating["proposeResolution"].Reason, "every department must report")
	require.False(t, investigating["close"].Allowed, "no outcome's closing rule holds before the findings")
	require.Contains(t, investigating["close"].Reason, "closing rule")

	require.True(t, proposed["customerResponse"].Allowed, proposed["customerResponse"].Reason)
	require.False(t, proposed["proposeResolution"].Allowed)
	require.False(t, proposed["route"].Allowed)
	require.False(t, proposed["close"].Allowed, "the customer's answer is awaited")
}
