// Package workflows holds the case as a durable process. Everything here is
// deterministic: time, randomness and I/O come from the SDK or from
// activities, which the workflow calls by the names complaint declares.
package workflows

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/visibility"
)

// The phases of a case; the phase is carried across continue-as-new.
const (
	phaseIntake        = ""
	phaseInvestigation = "investigation"
	phaseResolution    = "resolution"
	phaseFollowUp      = "followUp"
	phaseDone          = "done"
)

// ComplaintWorkflow is one complaint, from receipt to the end of its life.
func ComplaintWorkflow(ctx workflow.Context, c complaint.NewCase) (complaint.CaseView, error) {
	w := newCaseWorkflow(c)
	if err := w.setup(ctx); err != nil {
		return w.View, err
	}
	return w.run(ctx)
}

// run walks the steps of DOMAIN §1 in order. Reopening goes back to the
// investigation; a withdrawal ends the case wherever it stands.
func (w *caseWorkflow) run(ctx workflow.Context) (complaint.CaseView, error) {
	if w.Phase == phaseIntake {
		// 1–3. Received, classified, prioritised and routed by the starter;
		// the clocks of DOMAIN §4 run from the moment of receipt.
		w.startIntakeClocks()
	}
	workflow.Go(ctx, w.watchClocks)
	if w.Phase == phaseIntake {
		// 2 and 4. Write the record and acknowledge the customer, in one
		// activity. Tasks that arrived meanwhile go next.
		if err := w.registerAndAcknowledge(ctx); err != nil {
			return w.View, err
		}
		if err := workflow.Await(ctx, func() bool { return w.gated == 0 }); err != nil {
			return w.View, err
		}
		if w.Phase == phaseIntake {
			w.Phase = phaseInvestigation
		}
	}
	for w.Phase != phaseDone {
		var err error
		switch w.Phase {
		case phaseInvestigation:
			// 5. Every responsible department investigates, in parallel.
			err = w.investigate(ctx)
		case phaseResolution:
			// 6. Propose, talk with the customer until they accept, carry it out, close.
			err = w.resolve(ctx)
		case phaseFollowUp:
			// 7. Two weeks after closing, ask whether the customer is satisfied.
			err = w.followUp(ctx)
		}
		if err != nil {
			return w.View, err
		}
		if w.Phase != phaseDone && w.shouldContinueAsNew(ctx) {
			return w.View, w.continueAsNew(ctx)
		}
	}
	// Let every task in flight finish, and every signal that came in with
	// them be handled, before the case ends.
	err := workflow.Await(ctx, func() bool { return w.quiet(ctx) })
	return w.View, err
}

// caseWorkflow carries the state of one case. The exported part is
// complaint.CaseState, which continue-as-new hands to the next run.
type caseWorkflow struct {
	complaint.CaseState
	registered bool
	gated      int // tasks that arrived before the case was registered and wait for it
	inFlight   int // signal-driven tasks and deadline events still running; the case waits for them
	children   map[complaint.Department]*child

	handover  *complaint.Assign // from the staff member who entered the case to its first contact
	executing bool              // the accepted resolution is being carried out
	answering bool              // the customer's answer is being recorded; nothing acts on it before

	signalTasks   map[string]signalTask // by task name
	publishedSA   string                // the search attribute values last upserted
	cal           *complaint.WorkCalendar
	clocksChanged int                  // bumped on every clock change, to wake the clock watcher
	pendingSLA    []complaint.SLAEvent // SLA events for the next recorded step
}

// child is a running department investigation.
type child struct {
	future    workflow.ChildWorkflowFuture
	cancel    workflow.CancelFunc
	cancelled bool
}

// signalTask is one task's signal channel and what to do with a payload.
type signalTask struct {
	channel workflow.ReceiveChannel
	handle  func(ctx workflow.Context, raw json.RawMessage)
}

func newCaseWorkflow(c complaint.NewCase) *caseWorkflow {
	w := &caseWorkflow{children: map[complaint.Department]*child{}, signalTasks: map[string]signalTask{}}
	if c.Resume != nil {
		w.CaseState = *c.Resume
		w.registered = true
		return w
	}
	w.handover = c.Handover
	w.CaseState = complaint.CaseState{
		Intake: c.Intake,
		Policy: c.Policy,
		Steps:  1, // the "received" step, written with the case record
		Phase:  phaseIntake,
		View: complaint.CaseView{
			Reference:     c.Reference,
			WorkflowID:    complaint.WorkflowID(c.Reference),
			Status:        complaint.StatusReceived,
			Owner:         c.Owner,
			Channel:       c.Intake.Channel,
			Category:      c.Category,
			Severity:      c.Intake.Severity,
			Priority:      c.Priority,
			Departments:   c.Departments,
			Subject:       c.Intake.Subject,
			Concerns:      c.Intake.Concerns,
			Impact:        c.Intake.Impact,
			ExternalID:    c.Intake.ExternalID,
			OrderID:       c.Intake.OrderID,
			ReceivedAt:    c.ReceivedAt,
			Round:         1,
			Deadlines:     []complaint.Deadline{},
			Investigation: pendingDepartments(c.Departments),
			Resolutions:   []complaint.Resolution{},
			History:       []complaint.Event{},
		},
	}
	return w
}

func (w *caseWorkflow) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandlerWithOptions(ctx, complaint.QueryCase,
		func() (complaint.CaseView, error) { return w.View, nil },
		workflow.QueryHandlerOptions{Description: "The case as it stands, without customer contact details."},
	); err != nil {
		return err
	}
	if err := workflow.SetQueryHandlerWithOptions(ctx, complaint.QueryTasks,
		func() ([]complaint.TaskState, error) { return w.taskStates(), nil },
		workflow.QueryHandlerOptions{Description: "Which tasks the case's state lets anyone do now, and why not."},
	); err != nil {
		return err
	}
	if err := w.registerTasks(ctx); err != nil {
		return err
	}
	order := arrivalsOf(ctx)
	if order == nil { // a worker's mistake: fail the task until a worker with it takes the case
		panic("workflows: the worker runs without workflows.SignalOrder(); the case's signals would apply out of order")
	}
	workflow.Go(ctx, func(ctx workflow.Context) { w.serveSignals(ctx, order) })
	return nil
}

// serveSignals handles the signals of every task, one at a time, in the
// order they arrived: one coroutine per case instead of one per task keeps
// a worker's cache of open cases small. A signal that names no task is
// logged and dropped, so that it cannot hold the case open.
func (w *caseWorkflow) serveSignals(ctx workflow.Context, order *arrivals) {
	for {
		name, err := order.next(ctx)
		if err != nil {
			return
		}
		s, ok := w.signalTasks[name]
		if !ok { // dropped undecoded: whatever it holds, it is no task's
			workflow.GetSignalChannel(ctx, name).ReceiveAsync(nil)
			workflow.GetLogger(ctx).Warn("Ignored a signal that names no task", "signal", name)
			continue
		}
		if raw, ok := order.take(s.channel, name); ok {
			s.handle(ctx, raw)
		}
	}
}

// --- 2 and 4: register and acknowledge

// registerAndAcknowledge writes the case record and acknowledges the
// customer in one local activity, in the case's first workflow task: a
// submission costs the server one task, as a bare workflow's start does,
// not three (an activity's dispatch and the task its completion wakes). A
// repeat of an earlier case is linked and raised once the registration has
// found it.
func (w *caseWorkflow) registerAndAcknowledge(ctx workflow.Context) error {
	w.View.History = append(w.View.History, complaint.Event{
		At: w.View.ReceivedAt, Step: "received", Actor: w.View.Owner,
		Summary: fmt.Sprintf("Received via %s", w.View.Channel),
	})
	in := complaint.CaseIntake{Case: w.newCase()}
	s := step{name: "acknowledged", actor: "system", summary: "Acknowledgement sent to the customer"}
	w.tell(ctx, &s, complaint.MsgAcknowledgement, "")
	now := workflow.Now(ctx)
	w.View.Status = complaint.StatusAcknowledged
	w.View.AcknowledgedAt = &now
	w.meetClock(complaint.ClockAcknowledge, "", now)
	var summary string
	in.Acknowledgement, summary = w.addStep(ctx, s)
	// First contact: the person who took the complaint owns it; whoever
	// entered it for them hands it over on record, in the same activity,
	// before any task that waits for the registration, so the audit trail
	// keeps the case's order.
	if h := w.handover; h != nil && w.canAssign(*h) == nil {
		n, _ := w.addStep(ctx, w.handOver(ctx, *h))
		in.Handover = &n
		summary += ", and record the handover to " + h.Owner
	}
	if err := w.publish(ctx); err != nil {
		return err
	}
	var reg complaint.Registration
	if err := workflow.ExecuteLocalActivity(withLocalActivity(ctx, "Register the case, "+lowerFirst(summary)),
		complaint.ActivityRegisterCase, in).Get(ctx, &reg); err != nil {
		return err
	}
	w.registered = true
	if reg.RepeatOf != "" {
		return w.recordRepeat(ctx, reg)
	}
	return nil
}

// recordRepeat links a repeat complaint to the earlier case the
// registration found.
func (w *caseWorkflow) recordRepeat(ctx workflow.Context, reg complaint.Registration) error {
	// The same customer complained about this before: link the cases and
	// handle this one with more urgency, its open clocks held to the raised
	// priority's targets from the moment of receipt.
	raised := reg.Priority != w.View.Priority && reg.Priority == complaint.Raise(w.View.Priority)
	w.View.RepeatOf, w.View.Priority = reg.RepeatOf, reg.Priority
	summary := fmt.Sprintf("Repeat of %s: priority raised to %s", reg.RepeatOf, reg.Priority)
	if r := w.Policy.RepeatSLA; raised && r != nil {
		w.Policy.SLA = w.Policy.SLA.WithTargetsOf(*r)
		w.Policy.RepeatSLA = nil
		w.rescheduleClocks(workflow.Now(ctx))
		summary += ", its deadlines with it"
	}
	return w.record(ctx, step{name: "repeat_detected", actor: "system", priority: true, summary: summary})
}

// newCase is the case as the starter made it, to register it.
func (w *caseWorkflow) newCase() complaint.NewCase {
	return complaint.NewCase{
		Reference: w.View.Reference, ReceivedAt: w.View.ReceivedAt, Intake: w.Intake, Category: w.View.Category,
		Priority: w.View.Priority, Departments: w.View.Departments, Owner: w.View.Owner, Policy: w.Policy,
	}
}

// --- 5: investigate

// investigate runs the child workflow of every department that is
// investigating and waits until all have reported.
func (w *caseWorkflow) investigate(ctx workflow.Context) error {
	if err := w.startDepartments(ctx); err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return w.allReported() || w.Phase != phaseInvestigation }); err != nil {
		return err
	}
	if w.Phase != phaseInvestigation { // withdrawn, or closed as it stands
		return nil
	}
	w.Phase = phaseResolution
	return w.publish(ctx)
}

// --- 6: resolve

// resolve waits for the owner, the customer and, when they cannot agree,
// the dispute path; it carries out an accepted resolution and ends when the
// case is closed. A department added by `route` meanwhile must report before
// any proposal (the task guards see to that). A long wait here is where
// history grows, so it also yields to continue-as-new.
func (w *caseWorkflow) resolve(ctx workflow.Context) error {
	for {
		if err := workflow.Await(ctx, func() bool {
			return w.readyToExecute() != nil || w.Phase != phaseResolution || w.shouldContinueAsNew(ctx)
		}); err != nil {
			return err
		}
		r := w.readyToExecute()
		if r == nil { // closed, withdrawn, rerouted, or continue-as-new is due
			return nil
		}
		if err := w.execute(ctx, r); err != nil {
			return err
		}
	}
}

// readyToExecute is the accepted resolution to carry out once the
// acceptance is on record.
func (w *caseWorkflow) readyToExecute() *complaint.Resolution {
	if w.answering {
		return nil
	}
	return w.acceptedNotExecuted()
}

// execute carries out the accepted resolution r: its step's activity saves
// it as executed.
func (w *caseWorkflow) execute(ctx workflow.Context, r *complaint.Resolution) error {
	w.executing = true
	defer func() { w.executing = false }()
	now := workflow.Now(ctx)
	r.ExecutedAt = &now
	s := step{name: "resolution_executed", actor: "system",
		summary: fmt.Sprintf("Resolution %d carried out: %s; the customer is asked to confirm the problem is solved",
			r.Attempt, compensationText(r.Compensation))}
	w.askConfirmation(ctx, &s, r, now)
	done := *r
	s.resolution = &done
	return w.record(ctx, s)
}

// --- 7: close, follow up

// followUp runs from the closing until the end of the reopen window: the
// survey two weeks after closing, one reminder, its expiry. A reopening
// cancels what is pending and sends the case back to investigation. Every
// wait is measured from the closing or the invitation, so after
// continue-as-new the next run picks up where this one stopped.
func (w *caseWorkflow) followUp(ctx workflow.Context) error {
	if w.View.ClosedAt == nil { // reopened before the follow-up began
		return nil
	}
	closedAt := *w.View.ClosedAt
	round := w.View.Round
	reopened := func() bool { return w.Phase != phaseFollowUp || w.View.Round != round }
	answered := func() bool { return w.View.Survey != nil && w.View.Survey.AnsweredAt != nil }
	// interrupted is true when this run must stop following up: reopened
	// (the reopening has sent the case back to investigation) or
	// continue-as-new (same phase, next run).
	interrupted := func() bool { return reopened() || w.shouldContinueAsNew(ctx) }

	if w.View.Survey == nil || w.View.Survey.Round != round {
		fired, err := w.waitUntil(ctx, closedAt.Add(w.Policy.SurveyDelay), "Satisfaction survey", interrupted)
		if err != nil || !fired && interrupted() {
			return err
		}
		if err := w.sendSurvey(ctx, round); err != nil || reopened() {
			return err
		}
	}
	sv := w.View.Survey
	if sv.RemindedAt == nil && !answered() && !sv.Expired {
		fired, err := w.waitUntil(ctx, sv.SentAt.Add(w.Policy.SurveyReminder), "Survey reminder",
			func() bool { return interrupted() || answered() })
		if err != nil || !fired && interrupted() {
			return err
		}
		if fired {
			if err := w.remindSurvey(ctx); err != nil || reopened() {
				return err
			}
		}
	}
	if !answered() && !sv.Expired {
		fired, err := w.waitUntil(ctx, sv.SentAt.Add(w.Policy.SurveyExpiry), "Survey expiry",
			func() bool { return interrupted() || answered() })
		if err != nil || !fired && interrupted() {
			return err
		}
		if fired {
			if err := w.expireSurvey(ctx); err != nil || reopened() {
				return err
			}
		}
	}
	fired, err := w.waitUntil(ctx, closedAt.Add(w.Policy.ReopenWindow), "End of the reopen window", interrupted)
	if err != nil || !fired && interrupted() {
		return err
	}
	// A low score's follow-up is done before the case ends.
	if err := workflow.Await(ctx, func() bool { return !w.View.FollowUp.Open() || interrupted() }); err != nil || interrupted() {
		return err
	}
	w.Phase = phaseDone
	return nil
}

// waitUntil waits for the moment at, or until done; it reports whether the
// moment came first.
func (w *caseWorkflow) waitUntil(ctx workflow.Context, at time.Time, summary string, done func() bool) (bool, error) {
	d := at.Sub(workflow.Now(ctx))
	if d <= 0 {
		return !done(), nil
	}
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
		Timeout: d, TimerOptions: workflow.TimerOptions{Summary: summary + " at " + at.UTC().Format(time.RFC3339)},
	}, done)
	return !ok && err == nil, err
}

// sendSurvey invites the customer; a reopening while the message goes out
// wins, and the survey is not recorded.
func (w *caseWorkflow) sendSurvey(ctx workflow.Context, round int) error {
	s := step{name: "survey_sent", actor: "system", summary: "Satisfaction survey sent"}
	w.tell(ctx, &s, complaint.MsgSurveyInvitation, "")
	w.View.Survey = &complaint.Survey{Round: round, SentAt: workflow.Now(ctx)}
	w.View.Status = complaint.StatusSurveyPending
	return w.record(ctx, w.withSurvey(s))
}

func (w *caseWorkflow) remindSurvey(ctx workflow.Context) error {
	s := step{name: "survey_reminded", actor: "system", summary: "Survey reminder sent"}
	w.tell(ctx, &s, complaint.MsgSurveyReminder, "")
	now := workflow.Now(ctx)
	w.View.Survey.RemindedAt = &now
	return w.record(ctx, w.withSurvey(s))
}

func (w *caseWorkflow) expireSurvey(ctx workflow.Context) error {
	if w.View.Survey.AnsweredAt != nil {
		return nil
	}
	w.View.Survey.Expired = true
	w.View.Status = complaint.StatusCompleted
	return w.record(ctx, w.withSurvey(step{name: "survey_expired", actor: "system",
		summary: "The customer did not answer the survey"}))
}

// withSurvey has the step s save the survey as it stands.
func (w *caseWorkflow) withSurvey(s step) step {
	sv := *w.View.Survey
	s.survey = &sv
	return s
}

// --- continue-as-new and the case's rest

// shouldContinueAsNew is true when history has grown long and the case is
// at rest between phases: no department running, no task in flight.
func (w *caseWorkflow) shouldContinueAsNew(ctx workflow.Context) bool {
	return workflow.GetInfo(ctx).GetContinueAsNewSuggested() && len(w.children) == 0 && w.quiet(ctx)
}

// quiet is true when no task is running and no signal waits to be handled:
// a signal that arrived in the same workflow task is not dropped.
func (w *caseWorkflow) quiet(ctx workflow.Context) bool {
	return w.inFlight == 0 && !w.executing && workflow.AllHandlersFinished(ctx) &&
		len(workflow.GetUnhandledSignalNames(ctx)) == 0
}

func (w *caseWorkflow) continueAsNew(ctx workflow.Context) error {
	c := w.newCase()
	state := w.CaseState
	c.Resume = &state
	return workflow.NewContinueAsNewError(ctx, complaint.WorkflowName, c)
}

// ended is true once the case can change no more: withdrawn.
func (w *caseWorkflow) ended() bool { return w.View.Status == complaint.StatusWithdrawn }

func (w *caseWorkflow) allReported() bool {
	for _, p := range w.View.Investigation {
		if p.State != complaint.DeptReported {
			return false
		}
	}
	return true
}

func (w *caseWorkflow) progress(d complaint.Department) *complaint.DepartmentProgress {
	for i := range w.View.Investigation {
		if w.View.Investigation[i].Department == d {
			return &w.View.Investigation[i]
		}
	}
	return nil
}

func (w *caseWorkflow) lastResolution() *complaint.Resolution {
	return visibility.LastResolution(w.View.Resolutions)
}

func (w *caseWorkflow) acceptedNotExecuted() *complaint.Resolution {
	r := w.lastResolution()
	if r == nil || r.Accepted == nil || !*r.Accepted || r.ExecutedAt != nil || w.View.Status != complaint.StatusResolving {
		return nil
	}
	return r
}

// executed is true when no accepted resolution waits to be carried out.
func (w *caseWorkflow) executed() bool {
	return w.acceptedNotExecuted() == nil && !w.executing
}

func pendingDepartments(depts []complaint.Department) []complaint.DepartmentProgress {
	out := make([]complaint.DepartmentProgress, len(depts))
	for i, d := range depts {
		out[i] = complaint.DepartmentProgress{Department: d, State: complaint.DeptPending}
	}
	return out
}

// --- the audit trail

// step is one entry of the audit trail, with what it changes on the record
// and what it sends and saves in the same activity.
type step struct {
	name, actor, summary string
	owner                bool // the owner changed
	priority             bool // the priority changed
	departments          bool // the departments changed
	closed               bool
	reopened             bool
	dispute              complaint.DisputeStage
	customer             *complaint.Message
	staff                *complaint.StaffMessage
	resolution           *complaint.Resolution
	survey               *complaint.Survey
	findings             *complaint.Finding
	followUp             *complaint.FollowUp
	// byClock marks a step a clock takes by itself (a warning, a breach, a
	// reminder): recorded as a local activity, in the workflow task the
	// timer woke, so a burst of deadlines costs the server one task each.
	byClock bool
}

// record adds a step to the case's history and to the audit trail in the
// database, sends its messages, then republishes the case to the UI. The
// audit key is the step's position in the case, so a retried activity
// writes the same row.
func (w *caseWorkflow) record(ctx workflow.Context, s step) error {
	n, summary := w.addStep(ctx, s)
	if err := w.publish(ctx); err != nil {
		return err
	}
	if s.byClock {
		return workflow.ExecuteLocalActivity(withLocalActivity(ctx, summary), complaint.ActivityRecordStep, n).Get(ctx, nil)
	}
	return workflow.ExecuteActivity(withActivity(ctx, summary), complaint.ActivityRecordStep, n).Get(ctx, nil)
}

// addStep adds a step to the case's history, for the caller to publish; it
// returns what the step's activity records and sends, with a summary of
// that activity for the UI.
func (w *caseWorkflow) addStep(ctx workflow.Context, s step) (complaint.StepNotice, string) {
	w.Steps++
	now := workflow.Now(ctx)
	w.View.History = append(w.View.History, complaint.Event{At: now, Step: s.name, Actor: s.actor, Summary: s.summary})
	st := complaint.Step{
		Reference: w.View.Reference, Seq: w.Steps, Key: fmt.Sprintf("%04d-%s", w.Steps, s.name), At: now,
		AcknowledgedAt: w.View.AcknowledgedAt,
		Actor:          s.actor, Name: s.name, Summary: s.summary, Status: w.View.Status, Round: w.View.Round,
		DisputeStage: s.dispute, Reopened: s.reopened, EscalationLevel: w.View.EscalationLevel,
		SLABreached: visibility.Breached(w.View), SLA: w.pendingSLA, Source: w.Intake.Source,
	}
	w.pendingSLA = nil
	if s.owner {
		st.Owner = w.View.Owner
	}
	if s.priority {
		st.Priority = w.View.Priority
	}
	if s.departments {
		st.Departments = slices.Clone(w.View.Departments)
	}
	if s.closed {
		st.Closed = &complaint.Closing{At: *w.View.ClosedAt, Outcome: w.View.Outcome, Summary: w.View.CloseSummary}
	}
	n := complaint.StepNotice{Step: st, Customer: s.customer, Staff: s.staff, Resolution: s.resolution, Survey: s.survey,
		Findings: s.findings, FollowUp: s.followUp}
	summary := "Record " + s.name
	if n.Customer != nil {
		n.Customer.Key = fmt.Sprintf("%04d-%s", w.Steps, n.Customer.Kind)
		summary += " and send the customer the " + string(n.Customer.Kind)
	}
	if n.Staff != nil {
		summary += fmt.Sprintf(" and send the %s to %s", n.Staff.Kind, n.Staff.To)
	}
	return n, summary
}

// tell has the step s send the customer a message of kind, in their
// language, with the case-specific text.
func (w *caseWorkflow) tell(ctx workflow.Context, s *step, kind complaint.MessageKind, text string) {
	c := w.Intake.Customer
	m := complaint.Message{
		Kind: kind, Reference: w.View.Reference, Language: c.Language, Name: c.Name, Email: c.Email, Phone: c.Phone,
		Text: text, Round: w.View.Round,
	}
	// The survey link lasts as long as the survey waits for an answer.
	switch {
	case kind == complaint.MsgSurveyInvitation:
		m.LinkExpires = workflow.Now(ctx).Add(w.Policy.SurveyExpiry)
	case kind == complaint.MsgSurveyReminder && w.View.Survey != nil:
		m.LinkExpires = w.View.Survey.SentAt.Add(w.Policy.SurveyExpiry)
	}
	s.customer = &m
	w.ToldAt = workflow.Now(ctx)
	w.clocksChanged++ // the progress message is due later now
}

// publish keeps the search attributes and the UI's current details in step
// with the case. A step that leaves every search attribute as it was
// upserts nothing: each upsert is a billable action and a history event.
func (w *caseWorkflow) publish(ctx workflow.Context) error {
	w.View.NextTask = nextTask(w)
	workflow.SetCurrentDetails(ctx, visibility.CurrentDetails(w.View))
	key := visibility.SearchAttributesKey(w.View)
	if key == w.publishedSA {
		return nil
	}
	w.publishedSA = key
	return workflow.UpsertTypedSearchAttributes(ctx, visibility.SearchAttributes(w.View)...)
}

// stepRetries retry a step's activity until it succeeds: a message that
// cannot go out is given up by the activity itself (after its attempts)
// and listed for an operator; the case always goes on.
var stepRetries = temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute}

func withActivity(ctx workflow.Context, summary string) workflow.Context {
	retries := stepRetries
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second, Summary: summary, RetryPolicy: &retries,
	})
}

// withLocalActivity runs a clock's step, or the registration, in the
// worker that holds the case, with the same retries as an activity: a
// local activity's attempts all fall within its schedule-to-close timeout,
// which the SDK sets to the start-to-close one when none is given — 30
// seconds, after which a PostgreSQL outage or a mail server refusing would
// fail the case itself. One that outlasts the workflow task keeps it alive;
// a retry further off than the task's timeout waits on a timer, as the SDK
// does for local activities.
func withLocalActivity(ctx workflow.Context, summary string) workflow.Context {
	retries := stepRetries
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second, ScheduleToCloseTimeout: localActivityPatience,
		Summary: summary, RetryPolicy: &retries,
	})
}

// localActivityPatience bounds a local activity's retries: far beyond any
// outage, and beyond a message's own attempts (DELIVERY_MAX_ATTEMPTS), after
// which the activity gives the message up and the case goes on.
const localActivityPatience = 30 * 24 * time.Hour

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func compensationText(c complaint.Compensation) string {
	return visibility.CompensationText(c)
}
