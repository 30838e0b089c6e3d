package workflows

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/complaintdesk/complaintdesk/activities"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

var receivedAt = time.Date(2026, 11, 23, 1, 30, 0, 0, time.UTC)

func newCase() complaint.NewCase {
	in := complaint.Intake{
		Channel:     complaint.ChannelSocial,
		Customer:    complaint.Customer{Name: "Liu Yang", Email: "liu.yang@example.com", Language: "en"},
		Severity:    complaint.SeverityHigh,
		Subject:     "Smartwatch dead on arrival",
		Description: "It does not turn on.",
		ReceivedBy:  "social.care.wu",
	}
	return complaint.Register(in, "CMP-20261123-4F7K2Q", receivedAt, complaint.DefaultRouting)
}

type fixture struct {
	testsuite.WorkflowTestSuite
	env   *testsuite.TestWorkflowEnvironment
	steps []store.Step
}

func setup(t *testing.T) *fixture {
	f := &fixture{}
	f.env = f.NewTestWorkflowEnvironment()
	f.env.SetStartTime(receivedAt)
	var a *activities.Activities
	f.env.RegisterActivity(a)
	f.env.OnActivity(a.RegisterCase, mock.Anything, mock.Anything).Return(nil)
	f.env.OnActivity(a.AcknowledgeCustomer, mock.Anything, mock.Anything).Return(
		func(_ context.Context, ack activities.Acknowledgement) error {
			require.Equal(t, "CMP-20261123-4F7K2Q", ack.Reference)
			require.Equal(t, "en", ack.Language)
			return nil
		})
	f.env.OnActivity(a.RecordStep, mock.Anything, mock.Anything).Return(
		func(_ context.Context, st store.Step) error {
			f.steps = append(f.steps, st)
			return nil
		})
	return f
}

func (f *fixture) query(t *testing.T) complaint.CaseView {
	t.Helper()
	res, err := f.env.QueryWorkflow(complaint.QueryCase)
	require.NoError(t, err)
	var v complaint.CaseView
	require.NoError(t, res.Get(&v))
	return v
}

type updateResult struct {
	accepted bool
	rejected error
	err      error
	view     complaint.CaseView
}

func (f *fixture) update(name string, payload any) *updateResult {
	r := &updateResult{}
	f.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnAccept: func() { r.accepted = true },
		OnReject: func(err error) { r.rejected = err },
		OnComplete: func(v any, err error) {
			r.err = err
			if cv, ok := v.(complaint.CaseView); ok {
				r.view = cv
			}
		},
	}, payload)
	return r
}

func TestNewCaseIsRegisteredAcknowledgedAndWaits(t *testing.T) {
	f := setup(t)
	var view complaint.CaseView
	f.env.RegisterDelayedCallback(func() {
		view = f.query(t)
		f.update(complaint.TaskWithdraw, complaint.Withdraw{Reason: "solved it myself"})
	}, time.Hour)
	f.env.ExecuteWorkflow(ComplaintWorkflow, newCase())
	require.NoError(t, f.env.GetWorkflowError())

	require.Equal(t, complaint.StatusAcknowledged, view.Status)
	require.Equal(t, "social.care.wu", view.Owner)
	require.Equal(t, complaint.PriorityCritical, view.Priority)
	require.NotNil(t, view.AcknowledgedAt)
	require.Equal(t, complaint.ClockMet, view.Deadlines[0].State)
	require.Equal(t, complaint.ClockRunning, view.Deadlines[1].State)

	var final complaint.CaseView
	require.NoError(t, f.env.GetWorkflowResult(&final))
	require.Equal(t, complaint.StatusWithdrawn, final.Status)
	require.Equal(t, []string{"acknowledged", "withdrawn"}, stepNames(f.steps))
	require.Equal(t, "0002-acknowledged", f.steps[0].Key)
	require.Equal(t, "0003-withdrawn", f.steps[1].Key)
	require.Equal(t, "customer", f.steps[1].Actor)
}

func TestSearchAttributesFollowTheCase(t *testing.T) {
	f := setup(t)
	var upserts []temporal.SearchAttributes
	f.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		upserts = append(upserts, args.Get(0).(temporal.SearchAttributes))
	}).Return(nil)
	f.env.RegisterDelayedCallback(func() {
		f.update(complaint.TaskWithdraw, complaint.Withdraw{Reason: "no longer needed"})
	}, time.Minute)
	f.env.ExecuteWorkflow(ComplaintWorkflow, newCase())
	require.NoError(t, f.env.GetWorkflowError())
	require.NotEmpty(t, upserts)
	first, _ := upserts[0].GetKeyword(saStatus)
	require.Equal(t, "received", first)
	acked, _ := upserts[1].GetKeyword(saStatus)
	require.Equal(t, "acknowledged", acked)
	sa := upserts[len(upserts)-1]
	status, _ := sa.GetKeyword(saStatus)
	require.Equal(t, "withdrawn", status)
	depts, _ := sa.GetKeywordList(saDepartments)
	require.Equal(t, []string{"product", "technical"}, depts)
	owner, _ := sa.GetKeyword(saOwner)
	require.Equal(t, "social.care.wu", owner)
}

func TestInvalidUpdatesAreRejectedAndChangeNothing(t *testing.T) {
	f := setup(t)
	var before, after complaint.CaseView
	results := map[string]*updateResult{}
	f.env.RegisterDelayedCallback(func() {
		before = f.query(t)
		results["unknown field"] = f.update(complaint.TaskAddNote, json.RawMessage(`{"author":"a","text":"t","extra":true}`))
		results["missing text"] = f.update(complaint.TaskAddNote, map[string]string{"author": "a"})
		results["wrong type"] = f.update(complaint.TaskWithdraw, json.RawMessage(`{"reason":42}`))
		after = f.query(t)
	}, time.Minute)
	f.env.RegisterDelayedCallback(func() {
		f.update(complaint.TaskWithdraw, complaint.Withdraw{Reason: "done"})
	}, 2*time.Minute)
	f.env.RegisterDelayedCallback(func() {
		results["after withdrawal"] = f.update(complaint.TaskWithdraw, complaint.Withdraw{Reason: "again"})
	}, 2*time.Minute+time.Second)
	f.env.ExecuteWorkflow(ComplaintWorkflow, newCase())
	require.NoError(t, f.env.GetWorkflowError())
	for name, r := range results {
		if name == "after withdrawal" && r.rejected == nil && !r.accepted {
			continue // the workflow had already completed: the update never reached it
		}
		require.Error(t, r.rejected, name)
		require.False(t, r.accepted, name)
	}
	require.Equal(t, before, after)
	require.Equal(t, []string{"acknowledged", "withdrawn"}, stepNames(f.steps))
}

func TestInvalidSignalIsIgnoredAndValidSignalApplies(t *testing.T) {
	f := setup(t)
	var afterBad complaint.CaseView
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(complaint.TaskAddNote, json.RawMessage(`{"author":"a","text":"t","bogus":1}`))
		f.env.SignalWorkflow(complaint.TaskWithdraw, map[string]any{"reason": ""})
	}, time.Minute)
	f.env.RegisterDelayedCallback(func() {
		afterBad = f.query(t)
		f.env.SignalWorkflow(complaint.TaskAddNote, complaint.AddNote{Author: "agent.li", Text: "Called the customer"})
		f.env.SignalWorkflow(complaint.TaskWithdraw, complaint.Withdraw{Reason: "resolved by phone", Actor: "agent.li"})
	}, 2*time.Minute)
	f.env.ExecuteWorkflow(ComplaintWorkflow, newCase())
	require.NoError(t, f.env.GetWorkflowError())
	require.Equal(t, complaint.StatusAcknowledged, afterBad.Status)
	require.Len(t, afterBad.History, 2)
	var final complaint.CaseView
	require.NoError(t, f.env.GetWorkflowResult(&final))
	require.Equal(t, complaint.StatusWithdrawn, final.Status)
	require.Equal(t, []string{"acknowledged", "note", "withdrawn"}, stepNames(f.steps))
	require.Equal(t, "agent.li", f.steps[2].Actor)
}

func stepNames(steps []store.Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Name
	}
	return out
}
