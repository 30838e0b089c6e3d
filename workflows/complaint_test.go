package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/complaint"
)

var receivedAt = time.Date(2026, 11, 23, 1, 30, 0, 0, time.UTC)

const day = 24 * time.Hour

func newCase(depts ...complaint.Department) complaint.NewCase {
	in := complaint.Intake{
		Channel:     complaint.ChannelSocial,
		Customer:    complaint.Customer{Name: "Liu Yang", Email: "liu.yang@example.com", Language: "en"},
		Severity:    complaint.SeverityHigh,
		Subject:     "Smartwatch dead on arrival",
		Description: "It does not turn on.",
		ReceivedBy:  "social.care.wu",
	}
	c := complaint.Register(in, "CMP-20261123-4F7K2Q", receivedAt, complaint.DefaultRulesFrom(2025))
	if len(depts) > 0 {
		c.Departments = depts
	}
	return c
}

// fixture runs one case in the test suite with its activities recorded.
type fixture struct {
	testsuite.WorkflowTestSuite
	t            *testing.T
	env          *testsuite.TestWorkflowEnvironment
	mu           sync.Mutex
	steps        []complaint.Step
	stepActs     []string // the steps recorded by an activity of their own (RecordStep)
	messages     []complaint.MessageKind
	sent         []complaint.Message
	executed     []int
	surveys      []complaint.Survey
	staff        []staffNotice
	childStarts  []childStart
	childReports []complaint.DepartmentProgress
	// registration is what RegisterCase reports (a repeat, say), after
	// registerFailures failed attempts (the database away).
	registration     complaint.Registration
	registerFailures int
	registered       complaint.NewCase // as the last RegisterCase was given it
	results          []*taskResult
	at               time.Duration
}

type childStart struct {
	at time.Time
	in DepartmentAssignment
}

type staffNotice struct {
	complaint.StaffMessage
	at time.Time
}

type taskResult struct {
	label    string
	want     outcome
	accepted bool
	rejected error
	err      error
	view     complaint.CaseView
	done     bool
}

type outcome int

const (
	accept outcome = iota
	reject
)

func setup(t *testing.T) *fixture { return setupSlow(t, nil) }

// setupSlow makes activities take the given time, to open the windows in
// which tasks and the main loop interleave: "register" is the case's
// registration, any other key the recording of the step of that name.
func setupSlow(t *testing.T, slow map[string]time.Duration) *fixture {
	f := &fixture{t: t}
	f.env = f.NewTestWorkflowEnvironment()
	f.env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{SignalOrder()}})
	f.env.SetStartTime(receivedAt)
	// The department's workflow, noting when it starts, with what, and what
	// it returns.
	department := func(ctx workflow.Context, in DepartmentAssignment) (complaint.DepartmentProgress, error) {
		f.mu.Lock()
		f.childStarts = append(f.childStarts, childStart{at: workflow.Now(ctx), in: in})
		f.mu.Unlock()
		p, err := DepartmentInvestigationWorkflow(ctx, in)
		if err == nil {
			f.mu.Lock()
			f.childReports = append(f.childReports, p)
			f.mu.Unlock()
		}
		return p, err
	}
	f.env.RegisterWorkflowWithOptions(department, workflow.RegisterOptions{Name: DepartmentWorkflowName})
	// The two activities of a case, by the names the workflow calls them.
	register := func(_ context.Context, in complaint.CaseIntake) (complaint.Registration, error) {
		f.mu.Lock()
		failing := f.registerFailures > 0
		f.registerFailures--
		f.mu.Unlock()
		if failing {
			return complaint.Registration{}, errors.New("register: failed to connect to the database")
		}
		f.mu.Lock()
		f.registered = in.Case
		f.mu.Unlock()
		f.notice(in.Acknowledgement)
		if in.Handover != nil {
			f.notice(*in.Handover)
		}
		return f.registration, nil
	}
	recordStep := func(_ context.Context, n complaint.StepNotice) error {
		f.mu.Lock()
		f.stepActs = append(f.stepActs, n.Step.Name)
		f.mu.Unlock()
		f.notice(n)
		return nil
	}
	f.env.RegisterActivityWithOptions(register, activity.RegisterOptions{Name: complaint.ActivityRegisterCase})
	f.env.RegisterActivityWithOptions(recordStep, activity.RegisterOptions{Name: complaint.ActivityRecordStep})
	if d := slow["register"]; d > 0 {
		f.env.OnActivity(complaint.ActivityRegisterCase, mock.Anything, mock.Anything).Return(register).After(d)
	}
	for name, d := range slow {
		if name == "register" {
			continue
		}
		f.env.OnActivity(complaint.ActivityRecordStep, mock.Anything, mock.MatchedBy(func(n complaint.StepNotice) bool {
			return n.Step.Name == name
		})).Return(recordStep).After(d)
	}
	if len(slow) > 0 { // every other step as it is
		f.env.OnActivity(complaint.ActivityRecordStep, mock.Anything, mock.Anything).Return(recordStep)
	}
	return f
}

// notice takes in what a step's activity records and sends.
func (f *fixture) notice(n complaint.StepNotice) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m := n.Customer; m != nil {
		require.Equal(f.t, "CMP-20261123-4F7K2Q", m.Reference)
		require.Equal(f.t, fmt.Sprintf("%04d-%s", n.Step.Seq, m.Kind), m.Key, "a message is keyed by its step")
		f.messages = append(f.messages, m.Kind)
		f.sent = append(f.sent, *m)
	}
	if n.Staff != nil {
		f.staff = append(f.staff, staffNotice{StaffMessage: *n.Staff, at: f.env.Now()})
	}
	if n.Survey != nil {
		f.surveys = append(f.surveys, *n.Survey)
	}
	if r := n.Resolution; r != nil && r.ExecutedAt != nil && n.Step.Name == "resolution_executed" {
		f.executed = append(f.executed, r.Attempt)
	}
	f.steps = append(f.steps, n.Step)
}

// after schedules fn a little after the previous scheduled step, or after
// the given gap when one is given.
func (f *fixture) after(gap time.Duration, fn func()) {
	if gap == 0 {
		gap = time.Minute
	}
	f.at += gap
	f.env.RegisterDelayedCallback(fn, f.at)
}

// task schedules an update and records what became of it.
func (f *fixture) task(want outcome, name string, payload any) *taskResult {
	return f.taskAfter(0, want, name, payload)
}

func (f *fixture) taskAfter(gap time.Duration, want outcome, name string, payload any) *taskResult {
	return f.taskWithID(gap, want, name, "", payload)
}

// taskWithID schedules an update with the given update id ("": a new one).
func (f *fixture) taskWithID(gap time.Duration, want outcome, name, updateID string, payload any) *taskResult {
	r := &taskResult{label: fmt.Sprintf("%s %s at +%s", name, updateID, f.at+max(gap, time.Minute)), want: want}
	f.results = append(f.results, r)
	f.after(gap, func() {
		f.env.UpdateWorkflow(name, updateID, &testsuite.TestUpdateCallback{
			OnAccept: func() { r.accepted = true },
			OnReject: func(err error) { r.rejected, r.done = err, true },
			OnComplete: func(v any, err error) {
				r.err, r.done = err, true
				if cv, ok := v.(complaint.CaseView); ok {
					r.view = cv
				}
			},
		}, payload)
	})
	return r
}

func (f *fixture) signal(name string, payload any) {
	f.after(0, func() { f.env.SignalWorkflow(name, payload) })
}

func (f *fixture) query() complaint.CaseView {
	f.t.Helper()
	res, err := f.env.QueryWorkflow(complaint.QueryCase)
	require.NoError(f.t, err)
	var v complaint.CaseView
	require.NoError(f.t, res.Get(&v))
	return v
}

// snapshot schedules a query of the case.
func (f *fixture) snapshot() *complaint.CaseView {
	v := &complaint.CaseView{}
	f.after(0, func() { *v = f.query() })
	return v
}

// run executes the case to its end and checks every task's fate.
func (f *fixture) run(c complaint.NewCase) complaint.CaseView {
	f.t.Helper()
	f.env.ExecuteWorkflow(ComplaintWorkflow, c)
	require.True(f.t, f.env.IsWorkflowCompleted())
	require.NoError(f.t, f.env.GetWorkflowError())
	for _, r := range f.results {
		switch r.want {
		case accept:
			require.True(f.t, r.accepted, "%s was not accepted: %v", r.label, r.rejected)
			require.NoError(f.t, r.err, r.label)
		case reject:
			require.False(f.t, r.accepted, "%s was accepted", r.label)
			require.Error(f.t, r.rejected, r.label)
		}
	}
	var final complaint.CaseView
	require.NoError(f.t, f.env.GetWorkflowResult(&final))
	return final
}

func (f *fixture) stepNames() []string {
	out := make([]string, len(f.steps))
	for i, s := range f.steps {
		out[i] = s.Name
	}
	return out
}

// solved is the customer's confirmation that the fix worked.
var solved = complaint.ConfirmResolved{Resolved: yes(), Comment: "Works now"}

func yes() *bool { v := true; return &v }
func no() *bool  { v := false; return &v }

func start(d complaint.Department) complaint.StartInvestigation {
	return complaint.StartInvestigation{Department: d, Investigator: string(d) + ".lead"}
}

func findings(d complaint.Department) complaint.SubmitFindings {
	return complaint.SubmitFindings{Department: d, Findings: "Battery cell defective in batch 7", RootCause: "Supplier QA gap",
		Evidence: []string{"QA-report-7781"}}
}

func proposal(amount string) complaint.ProposeResolution {
	return complaint.ProposeResolution{
		Actions:      []string{"Replace the watch", "Extend the warranty by 12 months"},
		Compensation: complaint.Compensation{Kind: "voucher", Amount: amount, Currency: "CNY"},
		Message:      "We will replace your watch and add a voucher.",
	}
}

// investigate schedules the start and findings of each department.
func (f *fixture) investigate(depts ...complaint.Department) {
	for _, d := range depts {
		f.task(accept, complaint.TaskStartInvestigation, start(d))
	}
	for _, d := range depts {
		f.task(accept, complaint.TaskSubmitFindings, findings(d))
	}
}

func TestHappyPathOneDepartmentToTheSurvey(t *testing.T) {
	f := setup(t)
	acked := f.snapshot()
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("200"))
	proposed := f.snapshot()
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes(), Comment: "OK"})
	f.task(accept, complaint.TaskConfirmResolved, solved)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Watch replaced"})
	closed := f.snapshot()
	f.after(15*day, func() {})
	surveyed := f.snapshot()
	f.task(accept, complaint.TaskSurveyResponse, complaint.SurveyResponse{Score: 5, Comment: "Great"})

	final := f.run(newCase(complaint.DeptAfterSales))

	require.Equal(t, complaint.StatusAcknowledged, acked.Status)
	require.Equal(t, complaint.StatusResolutionProposed, proposed.Status)
	require.Equal(t, complaint.StatusClosed, closed.Status)
	require.Equal(t, complaint.OutcomeUpheld, closed.Outcome)
	require.Equal(t, complaint.StatusSurveyPending, surveyed.Status)
	require.Equal(t, complaint.StatusCompleted, final.Status)
	require.Equal(t, 5, final.Survey.Score)
	require.Equal(t, []int{1}, f.executed)
	require.Equal(t, []string{"acknowledged", "investigation_started", "findings_submitted", "resolution_proposed",
		"resolution_accepted", "resolution_executed", "resolution_confirmed", "closed", "survey_sent", "survey_answered"}, f.stepNames())
	require.Equal(t, []complaint.MessageKind{complaint.MsgAcknowledgement, complaint.MsgInvestigationStarted,
		complaint.MsgResolutionProposal, complaint.MsgConfirmationRequest, complaint.MsgClosingSummary,
		complaint.MsgSurveyInvitation}, f.messages)
	// The case stays open for reopening 30 days after closing, then ends.
	require.Equal(t, receivedAt.Add(30*day).Truncate(day), f.env.Now().UTC().Truncate(day))
	// Audit keys are unique and ordered.
	keys := make([]string, len(f.steps))
	for i, s := range f.steps {
		keys[i] = s.Key
	}
	require.True(t, slices.IsSorted(keys))
	require.Len(t, slices.Compact(keys), len(f.steps))
}

// The registration (a local activity) retries as long as the database or
// the mail server is away — here for minutes, its attempts a minute apart
// at the end — and the case goes on: a local activity's attempts are
// bounded by its schedule-to-close timeout, 30 seconds had it been left
// to the SDK, after which the case itself would have failed.
func TestRegistrationOutlastsAnOutage(t *testing.T) {
	f := setup(t)
	f.registerFailures = 8 // 1+2+4+8+16+32+60+60 s of backoff
	f.taskAfter(10*time.Minute, accept, complaint.TaskWithdraw, complaint.Reason{Reason: "Bought another watch"})
	final := f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, complaint.StatusWithdrawn, final.Status)
	require.Equal(t, -1, f.registerFailures, "every failed attempt and then the one that worked")
	require.Equal(t, "acknowledged", f.stepNames()[0])
}

func TestMultiDepartmentNeedsEveryReportAndAcceptsLateRouting(t *testing.T) {
	f := setup(t)
	f.task(accept, complaint.TaskStartInvestigation, start(complaint.DeptProduct))
	f.task(accept, complaint.TaskStartInvestigation, start(complaint.DeptTechnical))
	f.task(accept, complaint.TaskSubmitFindings, findings(complaint.DeptProduct))
	f.task(reject, complaint.TaskProposeResolution, proposal("200")) // technical has not reported
	// Logistics joins while technical still works.
	f.task(accept, complaint.TaskRoute, complaint.Route{
		Departments: []complaint.Department{complaint.DeptProduct, complaint.DeptTechnical, complaint.DeptLogistics},
		Reason:      "The box was crushed as well"})
	routed := f.snapshot()
	f.task(accept, complaint.TaskSubmitFindings, findings(complaint.DeptTechnical))
	f.task(reject, complaint.TaskProposeResolution, proposal("200")) // logistics has not reported
	f.investigate(complaint.DeptLogistics)
	f.task(accept, complaint.TaskProposeResolution, proposal("200"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	f.task(accept, complaint.TaskConfirmResolved, solved)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Replaced"})
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "x"}) // not accepted: already closed
	f.results[len(f.results)-1].want = reject

	final := f.run(newCase(complaint.DeptProduct, complaint.DeptTechnical))
	require.Len(t, routed.Investigation, 3)
	require.Equal(t, complaint.DeptPending, routed.Investigation[2].State)
	for _, p := range final.Investigation {
		require.Equal(t, complaint.DeptReported, p.State, p.Department)
		require.Equal(t, "Supplier QA gap", p.RootCause)
	}
	require.Equal(t, complaint.StatusCompleted, final.Status) // survey expired
	require.True(t, final.Survey.Expired)
}

func TestRejectedProposalLoopsUntilAccepted(t *testing.T) {
	f := setup(t)
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("50"))
	f.task(reject, complaint.TaskProposeResolution, proposal("60")) // one proposal at a time
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: no(), Comment: "Too little"})
	rejected := f.snapshot()
	f.task(reject, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()}) // nothing to answer
	f.task(accept, complaint.TaskProposeResolution, proposal("200"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	f.task(reject, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()}) // second acceptance
	f.task(accept, complaint.TaskConfirmResolved, solved)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomePartiallyUpheld, Summary: "Voucher"})

	final := f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, complaint.StatusInvestigating, rejected.Status)
	require.Len(t, final.Resolutions, 2)
	require.False(t, *final.Resolutions[0].Accepted)
	require.True(t, *final.Resolutions[1].Accepted)
	require.Equal(t, []int{2}, f.executed)
	require.Equal(t, complaint.OutcomePartiallyUpheld, final.Outcome)
}

func TestDisputePathToMediationThenAgreement(t *testing.T) {
	f := setup(t)
	f.investigate(complaint.DeptAfterSales)
	f.task(reject, complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "negotiation", Note: "too early"})
	f.task(accept, complaint.TaskProposeResolution, proposal("50"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: no(), Comment: "Unacceptable"})
	f.task(accept, complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "negotiation", Note: "Manager call"})
	f.task(accept, complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "mediation", Note: "Neutral team incl. legal"})
	f.task(reject, complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "negotiation", Note: "backwards"})
	inDispute := f.snapshot()
	f.task(accept, complaint.TaskProposeResolution, proposal("500"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes(), Comment: "Mediated"})
	f.task(accept, complaint.TaskConfirmResolved, solved)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Settled in mediation"})

	final := f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, complaint.StatusInDispute, inDispute.Status)
	require.Len(t, final.Dispute, 2)
	require.Equal(t, complaint.DisputeStage("mediation"), final.Dispute[1].Stage)
	require.Contains(t, f.stepNames(), "dispute_mediation")
	var disputeStep complaint.Step
	for _, s := range f.steps {
		if s.Name == "dispute_mediation" {
			disputeStep = s
		}
	}
	require.Equal(t, complaint.DisputeStage("mediation"), disputeStep.DisputeStage)
}

func TestWithdrawalCancelsTheInvestigation(t *testing.T) {
	f := setup(t)
	f.task(accept, complaint.TaskStartInvestigation, start(complaint.DeptProduct))
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "Bought another watch"})
	final := f.run(newCase(complaint.DeptProduct, complaint.DeptTechnical))
	require.Equal(t, complaint.StatusWithdrawn, final.Status)
	require.Equal(t, complaint.OutcomeWithdrawn, final.Outcome)
	require.Nil(t, final.Survey)
	last := f.steps[len(f.steps)-1]
	require.Equal(t, "withdrawn", last.Name)
	require.NotNil(t, last.Closed)
	require.Less(t, f.env.Now().Sub(receivedAt), time.Hour, "a withdrawn case ends at once")
}

func TestReopenBeforeTheSurveyCancelsItAndInvestigatesAgain(t *testing.T) {
	f := setup(t)
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "No fault found"})
	f.taskAfter(5*day, accept, complaint.TaskReopen, complaint.Reason{Reason: "The noise is back"})
	reopened := f.snapshot()
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("0"))
	f.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	f.task(accept, complaint.TaskConfirmResolved, solved)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Drum replaced"})
	f.taskAfter(15*day, accept, complaint.TaskSurveyResponse, complaint.SurveyResponse{Score: 4})

	final := f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, 2, reopened.Round)
	require.Equal(t, complaint.StatusInvestigating, reopened.Status)
	require.Equal(t, complaint.DeptPending, reopened.Investigation[0].State)
	require.Empty(t, reopened.Outcome)
	require.Equal(t, 2, final.Round)
	require.Equal(t, complaint.StatusCompleted, final.Status)
	require.Equal(t, 2, final.Survey.Round)
	// Only the second closing was surveyed: the first was reopened before its survey.
	require.Equal(t, 1, countOf(f.messages, complaint.MsgSurveyInvitation))
	for _, s := range f.steps {
		if s.Name == "reopened" {
			require.True(t, s.Reopened)
			require.Equal(t, 2, s.Round)
		}
	}
}

func TestReopenAfterTheSurveyAndNotAfterTheWindow(t *testing.T) {
	f := setup(t)
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "No fault"})
	f.taskAfter(15*day, accept, complaint.TaskSurveyResponse, complaint.SurveyResponse{Score: 2, Comment: "Meh"})
	f.taskAfter(5*day, accept, complaint.TaskReopen, complaint.Reason{Reason: "Still broken"})
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "Still no fault"})
	final := f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, 2, final.Round)
	require.Equal(t, 2, countOf(f.messages, complaint.MsgSurveyInvitation))
	require.Equal(t, 1, countOf(f.messages, complaint.MsgSurveyReminder), "only the second survey went unanswered")
	require.True(t, final.Survey.Expired)

	// Reopening a case whose window has passed: the case has ended and takes no task.
	g := setup(t)
	g.investigate(complaint.DeptAfterSales)
	g.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "No fault"})
	late := g.taskAfter(31*day, reject, complaint.TaskReopen, complaint.Reason{Reason: "Too late"})
	g.results = g.results[:len(g.results)-1] // the update never reaches an ended case
	g.run(newCase(complaint.DeptAfterSales))
	require.False(t, late.accepted)
}

func TestSurveyIsRemindedThenExpires(t *testing.T) {
	f := setup(t)
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "No fault"})
	f.after(14*day+time.Hour, func() {})
	sent := f.snapshot()
	f.after(3*day, func() {})
	reminded := f.snapshot()
	f.taskAfter(5*day, reject, complaint.TaskSurveyResponse, complaint.SurveyResponse{Score: 3}) // expired
	final := f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, complaint.StatusSurveyPending, sent.Status)
	require.NotNil(t, reminded.Survey.RemindedAt)
	require.True(t, final.Survey.Expired)
	require.Zero(t, final.Survey.Score)
	require.Equal(t, complaint.StatusCompleted, final.Status)
	require.Equal(t, []string{"survey_sent", "survey_reminded", "survey_expired"}, f.stepNames()[len(f.steps)-3:])
	// DOMAIN §4: the survey two weeks after closing, to the second; the
	// README's reminder three days and expiry seven days after it.
	sv := final.Survey
	require.NotNil(t, final.ClosedAt)
	require.True(t, sv.SentAt.Equal(final.ClosedAt.Add(14*day)), "sent %s, closed %s", sv.SentAt, final.ClosedAt)
	require.True(t, sv.RemindedAt.Equal(sv.SentAt.Add(3*day)), "reminded %s, sent %s", sv.RemindedAt, sv.SentAt)
	expired := f.steps[len(f.steps)-1]
	require.True(t, expired.At.Equal(sv.SentAt.Add(7*day)), "expired %s, sent %s", expired.At, sv.SentAt)
}

func TestInvalidTasksAreRejectedAndChangeNothing(t *testing.T) {
	f := setup(t)
	before := f.snapshot()
	for _, tc := range []struct {
		name    string
		payload any
	}{
		{complaint.TaskStartInvestigation, start(complaint.DeptLegal)},                                         // wrong department
		{complaint.TaskSubmitFindings, findings(complaint.DeptAfterSales)},                                     // before the start
		{complaint.TaskProposeResolution, proposal("200")},                                                     // before findings
		{complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()}},                          // nothing proposed
		{complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "x"}},                 // no findings
		{complaint.TaskReopen, complaint.Reason{Reason: "x"}},                                                  // not closed
		{complaint.TaskSurveyResponse, complaint.SurveyResponse{Score: 5}},                                     // no survey
		{complaint.TaskAssign, complaint.Assign{Owner: "social.care.wu", Reason: "same owner"}},                // no change
		{complaint.TaskRoute, complaint.Route{Departments: []complaint.Department{"kitchen"}, Reason: "x"}},    // unknown
		{complaint.TaskCustomerReplied, complaint.Reason{Reason: "not waiting"}},                               // not waiting
		{complaint.TaskAddNote, json.RawMessage(`{"author":"a","text":"t","extra":true}`)},                     // unknown field
		{complaint.TaskWithdraw, json.RawMessage(`{"reason":42}`)},                                             // wrong type
		{complaint.TaskSurveyResponse, complaint.SurveyResponse{Score: 9}},                                     // out of range
		{complaint.TaskClose, complaint.Close{Outcome: "vanished", Summary: "x"}},                              // bad enum
		{complaint.TaskEscalateDispute, complaint.EscalateDispute{Stage: "negotiation", Note: "no rejection"}}, // nothing rejected
	} {
		f.task(reject, tc.name, tc.payload)
	}
	after := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, *before, *after)
	require.Equal(t, []string{"acknowledged", "withdrawn"}, f.stepNames())
}

func TestTheWholeCaseBySignalsAloneIgnoringInvalidOnes(t *testing.T) {
	f := setup(t)
	f.signal(complaint.TaskStartInvestigation, start(complaint.DeptLegal)) // wrong department: ignored
	f.signal(complaint.TaskAddNote, json.RawMessage(`{"author":"a","text":"t","bogus":1}`))
	f.signal(complaint.TaskSubmitFindings, findings(complaint.DeptAfterSales)) // before the start: ignored
	untouched := f.snapshot()
	f.signal(complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Shift change"})
	f.signal(complaint.TaskStartInvestigation, start(complaint.DeptAfterSales))
	f.signal(complaint.TaskSubmitFindings, findings(complaint.DeptAfterSales))
	f.signal(complaint.TaskProposeResolution, proposal("100"))
	f.signal(complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	f.signal(complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: no()}) // already answered: ignored
	f.signal(complaint.TaskConfirmResolved, solved)
	f.signal(complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Repaired"})
	f.after(15*day, func() { f.env.SignalWorkflow(complaint.TaskSurveyResponse, complaint.SurveyResponse{Score: 5}) })

	final := f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, complaint.StatusAcknowledged, untouched.Status)
	require.Len(t, untouched.History, 2)
	require.Equal(t, "agent.li", final.Owner)
	require.Equal(t, complaint.StatusCompleted, final.Status)
	require.True(t, *final.Resolutions[0].Accepted)
	require.Equal(t, []string{"acknowledged", "assigned", "investigation_started", "findings_submitted",
		"resolution_proposed", "resolution_accepted", "resolution_executed", "resolution_confirmed", "closed", "survey_sent",
		"survey_answered"},
		f.stepNames())
	for _, s := range f.steps {
		if s.Name == "assigned" {
			require.Equal(t, "agent.li", s.Owner)
			require.Equal(t, "social.care.wu", s.Actor)
		}
	}
}

func TestWaitingOnTheCustomerIsRecordedAndResumed(t *testing.T) {
	f := setup(t)
	f.task(accept, complaint.TaskWaitingOnCustomer, complaint.Reason{Reason: "Asked for photos of the device"})
	f.task(reject, complaint.TaskWaitingOnCustomer, complaint.Reason{Reason: "twice"})
	waiting := f.snapshot()
	f.task(accept, complaint.TaskCustomerReplied, complaint.Reason{Reason: "Photos received"})
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	final := f.run(newCase(complaint.DeptAfterSales))
	require.Equal(t, "Asked for photos of the device", waiting.WaitingOnCustomer)
	require.Empty(t, final.WaitingOnCustomer)
}

func TestSearchAttributesFollowTheCase(t *testing.T) {
	f := setup(t)
	var upserts []temporal.SearchAttributes
	f.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		upserts = append(upserts, args.Get(0).(temporal.SearchAttributes))
	}).Return(nil)
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Shift change"})
	f.task(accept, complaint.TaskRoute, complaint.Route{
		Departments: []complaint.Department{complaint.DeptAfterSales, complaint.DeptLegal}, Reason: "Customer mentions a lawyer"})
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(newCase(complaint.DeptAfterSales))
	require.NotEmpty(t, upserts)
	// The case starts with its attributes set, "received"; its first
	// upsert comes with the acknowledgement, in the same activity as its
	// registration.
	// The names INTERFACE.md gives operators.
	saStatus := temporal.NewSearchAttributeKeyKeyword("ComplaintStatus")
	saOwner := temporal.NewSearchAttributeKeyKeyword("CaseOwner")
	saDepartments := temporal.NewSearchAttributeKeyKeywordList("Departments")
	first, _ := upserts[0].GetKeyword(saStatus)
	require.Equal(t, "acknowledged", first)
	last := upserts[len(upserts)-1]
	status, _ := last.GetKeyword(saStatus)
	require.Equal(t, "withdrawn", status)
	owner, _ := last.GetKeyword(saOwner)
	require.Equal(t, "agent.li", owner)
	depts, _ := last.GetKeywordList(saDepartments)
	require.Equal(t, []string{"after_sales", "legal"}, depts)
}

func countOf[T comparable](s []T, v T) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

func TestContinueAsNewCarriesTheCaseAcrossRuns(t *testing.T) {
	// First run: the investigation ends while history is long; the case
	// continues as new, in the resolution phase.
	f := setup(t)
	f.investigate(complaint.DeptAfterSales)
	f.after(0, func() { f.env.SetContinueAsNewSuggested(true) })
	f.env.ExecuteWorkflow(ComplaintWorkflow, newCase(complaint.DeptAfterSales))
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, f.env.GetWorkflowError(), &can)
	var next complaint.NewCase
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Resume)
	require.Equal(t, phaseResolution, next.Resume.Phase)
	require.Equal(t, complaint.DeptReported, next.Resume.View.Investigation[0].State)

	// Second run: it goes on from there without registering or
	// acknowledging again, with the audit keys continuing.
	g := setup(t)
	g.task(accept, complaint.TaskProposeResolution, proposal("100"))
	g.task(accept, complaint.TaskCustomerResponse, complaint.CustomerResponse{Accepted: yes()})
	g.task(accept, complaint.TaskConfirmResolved, solved)
	g.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeUpheld, Summary: "Done"})
	final := g.run(next)
	require.Equal(t, complaint.StatusCompleted, final.Status)
	require.NotContains(t, g.stepNames(), "acknowledged")
	require.Equal(t, fmt.Sprintf("%04d-resolution_proposed", next.Resume.Steps+1), g.steps[0].Key)
	require.Equal(t, len(f.steps)+len(g.steps)+1, len(final.History), "history spans both runs")
}

func TestRepeatComplaintIsLinkedAndRaised(t *testing.T) {
	f := setup(t)
	f.registration = complaint.Registration{RepeatOf: "CMP-20261101-AAAAAA", Priority: complaint.PriorityHigh}
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	c := newCase(complaint.DeptAfterSales)
	c.Priority = complaint.PriorityMedium
	final := f.run(c)
	require.Equal(t, "CMP-20261101-AAAAAA", final.RepeatOf)
	require.Equal(t, complaint.PriorityHigh, final.Priority)
	// The registration finds the earlier case; the acknowledgement went out
	// with it, the repeat is recorded next.
	require.Equal(t, []string{"acknowledged", "repeat_detected"}, f.stepNames()[:2])
	require.Equal(t, complaint.PriorityHigh, f.steps[1].Priority)
}

// A department's child workflow starts when the department starts
// investigating, already investigating: no signal tells it of the start.
func TestDepartmentChildStartsWithItsInvestigation(t *testing.T) {
	f := setup(t)
	f.taskAfter(3*time.Hour, accept, complaint.TaskStartInvestigation, start(complaint.DeptAfterSales))
	f.task(accept, complaint.TaskSubmitFindings, findings(complaint.DeptAfterSales))
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	final := f.run(newCase(complaint.DeptAfterSales))
	starts := f.childStarts
	require.Len(t, starts, 1)
	require.Equal(t, receivedAt.Add(3*time.Hour), starts[0].at, "the child starts with the investigation, not before")
	require.NotNil(t, starts[0].in.Progress)
	require.Equal(t, complaint.DeptInvestigating, starts[0].in.Progress.State)
	require.Equal(t, "after_sales.lead", starts[0].in.Progress.Investigator)
	require.Len(t, f.childReports, 1, "the findings reached the child, which reported")
	require.Equal(t, complaint.DeptReported, f.childReports[0].State)
	require.Equal(t, "after_sales.lead", f.childReports[0].Investigator)
	require.Equal(t, complaint.DeptReported, final.Investigation[0].State)
}

// A department routed away while it investigates, and back: its new start
// waits for the cancelled child to end, then starts a new one, which gets
// the findings.
func TestDepartmentRoutedAwayAndBackWhileInvestigating(t *testing.T) {
	f := setup(t)
	p, tech := complaint.DeptProduct, complaint.DeptTechnical
	f.task(accept, complaint.TaskStartInvestigation, start(tech))
	f.task(accept, complaint.TaskRoute, complaint.Route{Departments: []complaint.Department{p}, Reason: "Not technical"})
	f.task(accept, complaint.TaskRoute, complaint.Route{Departments: []complaint.Department{p, tech}, Reason: "Technical after all"})
	f.task(accept, complaint.TaskStartInvestigation, start(tech))
	f.task(accept, complaint.TaskSubmitFindings, findings(tech))
	f.investigate(p)
	f.task(accept, complaint.TaskClose, complaint.Close{Outcome: complaint.OutcomeRejected, Summary: "No fault"})
	final := f.run(newCase(p, tech))
	var techStarts int
	for _, s := range f.childStarts {
		if s.in.Department == tech {
			techStarts++
			require.NotNil(t, s.in.Progress, "each start of technical's child is an investigation")
		}
	}
	require.Equal(t, 2, techStarts, "technical's child: cancelled when routed away, started again")
	require.Len(t, f.childReports, 2, "both departments' children reported")
	for _, d := range final.Investigation {
		require.Equal(t, complaint.DeptReported, d.State, d.Department)
	}
}

// Everything in one moment: a department investigating is routed away (its
// child cancelled), routed back and started again (waiting for the
// cancelled child to end) and the customer withdraws meanwhile. The start
// is refused or applied, never the case failed: it ends withdrawn.
func TestWithdrawalWhileAStartWaitsForACancelledChild(t *testing.T) {
	f := setup(t)
	p, tech := complaint.DeptProduct, complaint.DeptTechnical
	f.task(accept, complaint.TaskStartInvestigation, start(tech))
	var ended []error
	f.after(0, func() {
		for _, u := range []struct {
			name    string
			payload any
		}{
			{complaint.TaskRoute, complaint.Route{Departments: []complaint.Department{p}, Reason: "Not technical"}},
			{complaint.TaskRoute, complaint.Route{Departments: []complaint.Department{p, tech}, Reason: "Technical after all"}},
			{complaint.TaskStartInvestigation, start(tech)},
			{complaint.TaskWithdraw, complaint.Reason{Reason: "Sorted it out myself"}},
		} {
			f.env.UpdateWorkflow(u.name, "", &testsuite.TestUpdateCallback{
				OnAccept:   func() {},
				OnReject:   func(err error) { ended = append(ended, err) },
				OnComplete: func(_ any, err error) { ended = append(ended, err) },
			}, u.payload)
		}
	})
	final := f.run(newCase(p, tech))
	require.Equal(t, complaint.StatusWithdrawn, final.Status)
	require.Len(t, ended, 4, "every task came to an end: %v", ended)
	refused := 0
	for _, err := range ended {
		if err != nil {
			require.ErrorContains(t, err, "technical no longer investigates this case")
			refused++
		}
	}
	require.Equal(t, 1, refused, "the start waited for the cancelled child, then found the case withdrawn")
	require.Len(t, f.childStarts, 1, "no child started for a withdrawn case")
}

// A complaint entered by one employee for the colleague who took it starts
// with the one who entered it and is handed to the first contact on record,
// right after the acknowledgement, by the registration's own activity
// (DOMAIN §2).
func TestEnteredForAColleagueIsHandedToTheFirstContact(t *testing.T) {
	f := setup(t)
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	c := newCase(complaint.DeptAfterSales)
	c.Intake.ReceivedBy = "agent.wu"
	c.EnteredBy("agent.li")
	final := f.run(c)
	require.Equal(t, "agent.wu", final.Owner)
	require.Equal(t, []string{"acknowledged", "assigned", "withdrawn"}, f.stepNames())
	assigned := f.steps[1]
	require.Equal(t, "agent.wu", assigned.Owner)
	require.Equal(t, "agent.li", assigned.Actor)
	require.Contains(t, assigned.Summary, "First contact: agent.wu took the complaint; agent.li entered it")
	require.Equal(t, "agent.li", final.History[0].Actor, "received by the one who entered it")
	require.Equal(t, []string{"withdrawn"}, f.stepActs, "the handover is recorded by the registration's activity")
	require.Equal(t, "agent.li", f.registered.Owner, "registered as entered, then handed over")
}
