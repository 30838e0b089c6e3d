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
)

func invalid(err error) error {
	return temporal.NewApplicationErrorWithOptions(err.Error(), complaint.ErrTypeInvalidTask, temporal.ApplicationErrorOptions{NonRetryable: true})
}

func conflict(format string, args ...any) error {
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf(format, args...), complaint.ErrTypeCaseConflict,
		temporal.ApplicationErrorOptions{NonRetryable: true})
}

// registerTasks puts every human task of INTERFACE.md on the case.
func (w *caseWorkflow) registerTasks(ctx workflow.Context) error {
	return firstError(
		handleTask(ctx, w, complaint.TaskAssign, "Hand the case to another owner.", w.canAssign, w.assign),
		handleTask(ctx, w, complaint.TaskRoute, "Set the departments that investigate.", w.canRoute, w.route),
		handleTask(ctx, w, complaint.TaskStartInvestigation, "A department starts investigating.", w.canStartInvestigation, w.startInvestigation),
		handleTask(ctx, w, complaint.TaskSubmitFindings, "A department reports its findings.", w.canSubmitFindings, w.submitFindings),
		handleTask(ctx, w, complaint.TaskProposeResolution, "Propose a resolution to the customer.", w.canPropose, w.propose),
		handleTask(ctx, w, complaint.TaskCustomerResponse, "The customer accepts or rejects the proposal.", w.canRespond, w.respond),
		handleTask(ctx, w, complaint.TaskWaitingOnCustomer, "The case waits for the customer.", w.canWait, w.waitOnCustomer),
		handleTask(ctx, w, complaint.TaskCustomerReplied, "The customer answered; work resumes.", w.canResume, w.customerReplied),
		handleTask(ctx, w, complaint.TaskEscalateDispute, "Take the case up the dispute path.", w.canEscalate, w.escalate),
		handleTask(ctx, w, complaint.TaskClose, "Close the case with an outcome.", w.canClose, w.close),
		handleTask(ctx, w, complaint.TaskReopen, "Reopen a closed case.", w.canReopen, w.reopen),
		handleTask(ctx, w, complaint.TaskWithdraw, "The customer withdraws the complaint.", w.canWithdraw, w.withdraw),
		handleTask(ctx, w, complaint.TaskSurveyResponse, "The customer answers the satisfaction survey.", w.canAnswerSurvey, w.answerSurvey),
		handleTask(ctx, w, complaint.TaskAddNote, "Put a note on the case.", w.canAddNote, w.addNote),
		handleTask(ctx, w, complaint.TaskApplyPolicy, "Re-apply today's SLA policy to the open clocks (admin).",
			w.canApplyPolicy, w.applyPolicy),
		handleTask(ctx, w, complaint.TaskApproveCompensation, "A supervisor approves or refuses a compensation above the limit.",
			w.canApprove, w.approve),
		handleTask(ctx, w, complaint.TaskConfirmResolved, "The customer says whether the resolution carried out solved the problem.",
			w.canConfirm, w.confirm),
		handleTask(ctx, w, complaint.TaskCompleteFollowUp, "The owner reports the follow-up of a low satisfaction score.",
			w.canCompleteFollowUp, w.completeFollowUp),
		handleTask(ctx, w, complaint.TaskCustomerMessage, "A message from the customer (email reply or status page).",
			w.canTakeCustomerMessage, w.takeCustomerMessage),
	)
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// open is true while the case is being handled: from receipt to closing.
func (w *caseWorkflow) open() bool {
	switch w.View.Status {
	case complaint.StatusClosed, complaint.StatusSurveyPending, complaint.StatusCompleted, complaint.StatusWithdrawn:
		return false
	}
	return true
}

func (w *caseWorkflow) notOpen() error {
	return conflict("the case is %s", w.View.Status)
}

// --- assign

func (w *caseWorkflow) canAssign(t complaint.Assign) error {
	switch {
	case w.ended() || w.View.Status == complaint.StatusCompleted:
		return w.notOpen()
	case t.Owner == w.View.Owner:
		return conflict("%s already owns the case", t.Owner)
	}
	return w.notConcerned(t.Owner, "own")
}

func (w *caseWorkflow) assign(ctx workflow.Context, t complaint.Assign) error {
	return w.record(ctx, w.handOver(ctx, t))
}

// handOver gives the case to t's owner and returns the step that records it.
func (w *caseWorkflow) handOver(ctx workflow.Context, t complaint.Assign) step {
	from := w.View.Owner
	w.View.Owner = t.Owner
	if t.Owner != complaint.DefaultOwner {
		w.meetClock(complaint.ClockTakeOwnership, "", workflow.Now(ctx))
	}
	return step{name: "assigned", actor: complaint.ActorOr(t.Actor, from), owner: true,
		summary: fmt.Sprintf("Transferred from %s to %s: %s", from, t.Owner, t.Reason)}
}

// --- route

// routeState is the part of routing's rules the payload does not change.
func (w *caseWorkflow) routeState() error {
	if w.View.Status != complaint.StatusAcknowledged && w.View.Status != complaint.StatusInvestigating &&
		w.View.Status != complaint.StatusReceived {
		return conflict("departments can change only before a resolution is proposed; the case is %s", w.View.Status)
	}
	return w.approvalPending()
}

func (w *caseWorkflow) canRoute(t complaint.Route) error {
	for _, d := range t.Departments {
		if !slices.Contains(w.Policy.Departments, d) {
			return invalid(fmt.Errorf("departments: %s is not a department (known: %s)", d,
				strings.Join(complaint.Names(w.Policy.Departments), ", ")))
		}
	}
	if err := w.routeState(); err != nil {
		return err
	}
	switch {
	case slices.Equal(t.Departments, w.View.Departments):
		return conflict("the case is already routed to %s", strings.Join(complaint.Names(t.Departments), ", "))
	}
	for _, d := range w.View.Departments {
		if p := w.progress(d); !slices.Contains(t.Departments, d) && p != nil && p.State == complaint.DeptReported {
			return conflict("%s has already reported and stays on the case", d)
		}
	}
	return nil
}

func (w *caseWorkflow) route(ctx workflow.Context, t complaint.Route) error {
	var progress []complaint.DepartmentProgress
	for _, d := range t.Departments {
		if p := w.progress(d); p != nil {
			progress = append(progress, *p)
		} else {
			progress = append(progress, complaint.DepartmentProgress{Department: d, State: complaint.DeptPending})
		}
	}
	now := workflow.Now(ctx)
	for _, d := range w.View.Departments {
		if !slices.Contains(t.Departments, d) {
			w.stopDepartment(d)
			w.stopClock(w.clock(complaint.ClockStart, d), now)
		}
	}
	for _, d := range t.Departments {
		if !slices.Contains(w.View.Departments, d) {
			w.startClock(complaint.ClockStart, d, w.Policy.SLA.StartWithin(d), false, now)
			w.clocksChanged++
		}
	}
	from := strings.Join(complaint.Names(w.View.Departments), ", ")
	w.View.Departments = slices.Clone(t.Departments)
	w.View.Investigation = progress
	if w.Phase == phaseResolution && !w.allReported() {
		w.Phase = phaseInvestigation // back to waiting for every report
	}
	if w.Phase == phaseInvestigation {
		if err := w.startDepartments(ctx); err != nil {
			return err
		}
	}
	s := step{name: "routed", actor: complaint.ActorOr(t.Actor, w.View.Owner), departments: true,
		summary: fmt.Sprintf("Routed from %s to %s: %s", from, strings.Join(complaint.Names(t.Departments), ", "), t.Reason)}
	if w.registered { // the customer hears who handles their complaint now
		w.tell(ctx, &s, complaint.MsgRouted, strings.Join(complaint.Names(t.Departments), ","))
	}
	return w.record(ctx, s)
}

// --- startInvestigation / submitFindings

func (w *caseWorkflow) departmentOf(d complaint.Department) (*complaint.DepartmentProgress, error) {
	p := w.progress(d)
	if p == nil {
		return nil, invalid(fmt.Errorf("department: %s is not investigating this case (departments: %s)", d,
			strings.Join(complaint.Names(w.View.Departments), ", ")))
	}
	if !w.open() || w.View.Status == complaint.StatusResolutionProposed || w.View.Status == complaint.StatusResolving ||
		w.View.Status == complaint.StatusInDispute {
		return nil, conflict("the investigation is over; the case is %s", w.View.Status)
	}
	return p, nil
}

func (w *caseWorkflow) canStartInvestigation(t complaint.StartInvestigation) error {
	p, err := w.departmentOf(t.Department)
	if err != nil {
		return err
	}
	if p.State != complaint.DeptPending {
		return conflict("%s is already %s", t.Department, p.State)
	}
	return w.notConcerned(t.Investigator, "investigate")
}

func (w *caseWorkflow) startInvestigation(ctx workflow.Context, t complaint.StartInvestigation) error {
	first := w.View.Status != complaint.StatusInvestigating
	now := workflow.Now(ctx)
	p := w.progress(t.Department)
	before, status := *p, w.View.Status
	p.State, p.Investigator, p.StartedAt = complaint.DeptInvestigating, t.Investigator, &now
	w.View.Status = complaint.StatusInvestigating
	// The department's child starts now, with the start in its input.
	if err := w.runDepartment(ctx, t.Department); err != nil {
		if p := w.progress(t.Department); p != nil && p.State == complaint.DeptInvestigating { // unless moved on meanwhile
			*p = before
		}
		if w.View.Status == complaint.StatusInvestigating {
			w.View.Status = status
		}
		return err
	}
	w.meetClock(complaint.ClockStart, t.Department, now)
	w.meetClock(complaint.ClockFirstResponse, "", now)
	s := step{name: "investigation_started", actor: t.Investigator,
		summary: fmt.Sprintf("%s started investigating", t.Department)}
	if first {
		w.tell(ctx, &s, complaint.MsgInvestigationStarted, "")
	}
	return w.record(ctx, s)
}

func (w *caseWorkflow) canSubmitFindings(t complaint.SubmitFindings) error {
	p, err := w.departmentOf(t.Department)
	if err != nil {
		return err
	}
	switch p.State {
	case complaint.DeptPending:
		return conflict("%s must start investigating before it reports", t.Department)
	case complaint.DeptReported:
		return conflict("%s has already reported", t.Department)
	}
	return nil
}

func (w *caseWorkflow) submitFindings(ctx workflow.Context, t complaint.SubmitFindings) error {
	now := workflow.Now(ctx)
	p := w.progress(t.Department)
	actor := complaint.ActorOr(t.Actor, p.Investigator)
	before := *p
	p.State, p.ReportedAt = complaint.DeptReported, &now
	p.Findings, p.RootCause, p.Evidence = t.Findings, t.RootCause, t.Evidence
	if err := w.forward(ctx, t.Department, complaint.TaskSubmitFindings, t); err != nil {
		if p := w.progress(t.Department); p != nil && p.State == complaint.DeptReported {
			*p = before
		}
		return err
	}
	return w.record(ctx, step{name: "findings_submitted", actor: actor,
		summary: fmt.Sprintf("%s reported. Root cause: %s", t.Department, t.RootCause),
		findings: &complaint.Finding{Round: w.View.Round, Department: t.Department, Investigator: p.Investigator,
			Findings: t.Findings, RootCause: t.RootCause, Evidence: t.Evidence, ReportedAt: now}})
}

// --- proposeResolution / customerResponse

func (w *caseWorkflow) canPropose(complaint.ProposeResolution) error {
	if err := w.approvalPending(); err != nil {
		return err
	}
	switch {
	case w.View.Status == complaint.StatusResolutionProposed:
		return conflict("resolution %d awaits the customer's answer", w.lastResolution().Attempt)
	case w.View.Status != complaint.StatusInvestigating && w.View.Status != complaint.StatusInDispute:
		return conflict("a resolution can be proposed after the investigation; the case is %s", w.View.Status)
	case !w.allReported():
		return conflict("every department must report first (%s)", w.unreported())
	}
	return nil
}

func (w *caseWorkflow) unreported() string {
	var out []string
	for _, p := range w.View.Investigation {
		if p.State != complaint.DeptReported {
			out = append(out, fmt.Sprintf("%s is %s", p.Department, p.State))
		}
	}
	return strings.Join(out, ", ")
}

func (w *caseWorkflow) propose(ctx workflow.Context, t complaint.ProposeResolution) error {
	r := complaint.Resolution{
		Attempt: len(w.View.Resolutions) + 1, Actions: t.Actions, Compensation: t.Compensation, Message: t.Message,
		ProposedBy: complaint.ActorOr(t.Actor, w.View.Owner), ProposedAt: workflow.Now(ctx),
	}
	if limit := w.Policy.CompensationLimits.Above(r.Compensation); limit != "" {
		return w.requestApproval(ctx, r, limit)
	}
	w.View.Resolutions = append(w.View.Resolutions, r)
	return w.record(ctx, w.offer(ctx, &r, r.ProposedBy))
}

// offer puts the last proposal r before the customer: its step, their
// clock for an answer, the proposal message.
func (w *caseWorkflow) offer(ctx workflow.Context, r *complaint.Resolution, actor string) step {
	w.View.Status = complaint.StatusResolutionProposed
	w.meetClock(complaint.ClockResolution, "", r.ProposedAt)
	w.meetClock(complaint.ClockFirstResponse, "", r.ProposedAt)
	w.startWait(complaint.Deadline{Name: complaint.ClockCustomerAnswer, Attempt: r.Attempt}, w.Policy.SLA.CustomerAnswer, true,
		r.ProposedAt)
	s := step{name: "resolution_proposed", actor: actor, resolution: r,
		summary: fmt.Sprintf("Resolution %d proposed: %s", r.Attempt, compensationText(r.Compensation))}
	w.tell(ctx, &s, complaint.MsgResolutionProposal, r.Message)
	return s
}

func (w *caseWorkflow) canRespond(complaint.CustomerResponse) error {
	if w.View.Status != complaint.StatusResolutionProposed || w.answering {
		return conflict("no resolution awaits an answer; the case is %s", w.View.Status)
	}
	return nil
}

func (w *caseWorkflow) respond(ctx workflow.Context, t complaint.CustomerResponse) error {
	now := workflow.Now(ctx)
	r := w.lastResolution()
	r.Accepted, r.Comment, r.AnsweredAt = t.Accepted, t.Comment, &now
	// Nothing acts on the answer before it is on record.
	w.answering = true
	defer func() { w.answering = false }()
	w.meetClock(complaint.ClockCustomerAnswer, "", now)
	name, summary := "resolution_accepted", fmt.Sprintf("The customer accepted resolution %d", r.Attempt)
	if *t.Accepted { // an agreement: it ends any dispute, and is carried out within its target
		w.meetClock(complaint.ClockDispute, "", now)
		w.startWait(complaint.Deadline{Name: complaint.ClockExecution, Attempt: r.Attempt}, w.Policy.SLA.Execution, true, now)
	} else if len(w.View.Dispute) == 0 { // the next proposal is due within the resolution target again
		w.startWait(complaint.Deadline{Name: complaint.ClockResolution, Attempt: r.Attempt + 1}, w.Policy.SLA.Resolution, true, now)
	}
	switch {
	case *t.Accepted:
		w.View.Status = complaint.StatusResolving
	case len(w.View.Dispute) > 0:
		w.View.Status = complaint.StatusInDispute
		name, summary = "resolution_rejected", fmt.Sprintf("The customer rejected resolution %d", r.Attempt)
	default:
		w.View.Status = complaint.StatusInvestigating
		name, summary = "resolution_rejected", fmt.Sprintf("The customer rejected resolution %d", r.Attempt)
	}
	answered := *r
	return w.record(ctx, step{name: name, actor: complaint.ActorOr(t.Actor, "customer"), summary: summary,
		resolution: &answered})
}

// --- waitingOnCustomer / customerReplied

func (w *caseWorkflow) canWait(complaint.Reason) error {
	switch {
	case !w.open():
		return w.notOpen()
	case w.View.WaitingOnCustomer != "":
		return conflict("the case already waits for the customer: %s", w.View.WaitingOnCustomer)
	}
	return nil
}

func (w *caseWorkflow) waitOnCustomer(ctx workflow.Context, t complaint.Reason) error {
	w.View.WaitingOnCustomer = t.Reason
	now := workflow.Now(ctx)
	w.meetClock(complaint.ClockFirstResponse, "", now) // the customer has heard from us
	w.pauseClock(complaint.ClockResolution, now)
	s := step{name: "waiting_on_customer", actor: complaint.ActorOr(t.Actor, w.View.Owner), summary: t.Reason}
	w.tell(ctx, &s, complaint.MsgInformationNeeded, t.Reason) // saying what is needed
	return w.record(ctx, s)
}

func (w *caseWorkflow) canResume(complaint.Reason) error {
	if w.View.WaitingOnCustomer == "" {
		return conflict("the case does not wait for the customer")
	}
	return nil
}

func (w *caseWorkflow) customerReplied(ctx workflow.Context, t complaint.Reason) error {
	w.View.WaitingOnCustomer = ""
	w.resumeClock(complaint.ClockResolution, workflow.Now(ctx))
	return w.record(ctx, step{name: "customer_replied", actor: complaint.ActorOr(t.Actor, w.View.Owner), summary: t.Reason})
}

// --- escalateDispute

func (w *caseWorkflow) canEscalate(t complaint.EscalateDispute) error {
	if err := w.approvalPending(); err != nil {
		return err
	}
	rejected := slices.ContainsFunc(w.View.Resolutions, func(r complaint.Resolution) bool {
		return r.Accepted != nil && !*r.Accepted
	}) || w.answerOverdue()
	switch {
	case w.View.Status != complaint.StatusInvestigating && w.View.Status != complaint.StatusInDispute &&
		w.View.Status != complaint.StatusResolutionProposed:
		return conflict("a dispute follows a rejected resolution; the case is %s", w.View.Status)
	case !rejected:
		return conflict("a dispute follows a rejected resolution; none was rejected yet")
	}
	cur := slices.Index(complaint.DisputeStages, w.disputeStage()) // -1 before the first stage
	next := slices.Index(complaint.DisputeStages, t.Stage)
	switch {
	case next <= cur:
		return conflict("the dispute is at %s; it can only move on", w.disputeStage())
	case next > cur+1 && t.SkipReason == "":
		return conflict("the dispute goes one stage at a time: %s comes next; a supervisor may skip with `skipReason`",
			complaint.DisputeStages[cur+1])
	}
	return nil
}

func (w *caseWorkflow) escalate(ctx workflow.Context, t complaint.EscalateDispute) error {
	actor := complaint.ActorOr(t.Actor, w.View.Owner)
	now := workflow.Now(ctx)
	// The stage before is over; this one has its own target. The dispute
	// path, not the resolution clock, paces the case from here.
	w.meetClock(complaint.ClockDispute, "", now)
	w.stopClock(w.clock(complaint.ClockResolution, ""), now)
	if w.answerOverdue() { // the owner acted on the customer's silence: the stage's clock takes over
		w.meetClock(complaint.ClockCustomerAnswer, "", now)
	}
	w.startWait(complaint.Deadline{Name: complaint.ClockDispute, Stage: t.Stage}, w.Policy.SLA.Dispute[t.Stage], true, now)
	w.View.Dispute = append(w.View.Dispute, complaint.DisputeStep{Stage: t.Stage, Note: t.Note, By: actor, At: now,
		SkipReason: t.SkipReason})
	if w.View.Status != complaint.StatusResolutionProposed {
		w.View.Status = complaint.StatusInDispute
	}
	summary := t.Note
	if t.SkipReason != "" {
		summary += fmt.Sprintf(" (stages skipped: %s)", t.SkipReason)
	}
	s := step{name: "dispute_" + string(t.Stage), actor: actor, dispute: t.Stage, summary: summary}
	w.tell(ctx, &s, complaint.MsgDisputeStage, string(t.Stage))
	return w.record(ctx, s)
}

// --- close / reopen / withdraw

func (w *caseWorkflow) canClose(t complaint.Close) error {
	if t.Outcome == complaint.OutcomeWithdrawn {
		return invalid(fmt.Errorf("outcome: a withdrawal is the customer's `withdraw` task"))
	}
	if err := w.notConcerned(t.Actor, "close"); err != nil {
		return err
	}
	if err := w.approvalPending(); err != nil {
		return err
	}
	switch w.View.Status {
	case complaint.StatusResolving, complaint.StatusInvestigating, complaint.StatusInDispute:
	case complaint.StatusResolutionProposed:
		if w.answerOverdue() && t.Decision == "" { // closed as unanswered, the summary saying why
			return nil
		}
		return conflict("the case cannot close while resolution_proposed: the customer's answer is awaited until %s",
			w.clock(complaint.ClockCustomerAnswer, "").DueAt.UTC().Format(time.RFC3339))
	default:
		return conflict("the case cannot close while %s", w.View.Status)
	}
	return w.closingRule(t)
}

// closingRule is the rule of DOMAIN §1.6 a closing with t's outcome must
// follow, or the conflict naming the rule it breaks. An accepted resolution
// (the case is resolving) is an agreement: closing waits for it to be
// carried out.
func (w *caseWorkflow) closingRule(t complaint.Close) error {
	stage := w.disputeStage()
	agreed := w.View.Status == complaint.StatusResolving
	switch {
	case t.Decision != "" && (w.View.Status != complaint.StatusInDispute ||
		!slices.Contains(complaint.FinalDisputeStages, stage)):
		return conflict("closing rule: a decision is recorded only for a case in dispute at arbitration or litigation; the case is %s%s",
			w.View.Status, atStage(stage))
	case w.View.Status == complaint.StatusInDispute && t.Decision == "":
		return conflict("closing rule: a case in dispute closes only with an agreement (a resolution the customer accepts) "+
			"or the final decision of arbitration or litigation (`decision`); the dispute is at %s", stage)
	case t.Decision != "":
		return nil // the decision settles the outcome
	case (t.Outcome == complaint.OutcomeUpheld || t.Outcome == complaint.OutcomePartiallyUpheld) && !agreed:
		return conflict("closing rule: an %s case needs a resolution the customer accepted, carried out; none is accepted (%s)",
			t.Outcome, w.resolutionState())
	case t.Outcome == complaint.OutcomeRejected && !w.allReported():
		return conflict("closing rule: a rejected complaint needs every department's findings (%s)", w.unreported())
	case t.Outcome == complaint.OutcomeRejected && agreed:
		return conflict("closing rule: the customer accepted resolution %d; the case closes upheld or partially_upheld",
			w.lastResolution().Attempt)
	case agreed:
		return w.confirmationRule()
	}
	return nil
}

// disputeStage is the dispute stage the case has reached, or "".
func (w *caseWorkflow) disputeStage() complaint.DisputeStage {
	if n := len(w.View.Dispute); n > 0 {
		return w.View.Dispute[n-1].Stage
	}
	return ""
}

func atStage(s complaint.DisputeStage) string {
	if s == "" {
		return ""
	}
	return " at " + string(s)
}

// resolutionState says where the proposals stand, for a refused closing.
func (w *caseWorkflow) resolutionState() string {
	r := w.lastResolution()
	switch {
	case r == nil:
		return "no resolution was proposed"
	case r.Approval != nil && r.Approval.Approved != nil && !*r.Approval.Approved:
		return fmt.Sprintf("the compensation of resolution %d was refused", r.Attempt)
	case r.Accepted == nil:
		return fmt.Sprintf("resolution %d awaits the customer", r.Attempt)
	}
	return fmt.Sprintf("the customer rejected resolution %d", r.Attempt)
}

func (w *caseWorkflow) close(ctx workflow.Context, t complaint.Close) error {
	if !w.executed() {
		if err := workflow.Await(ctx, w.executed); err != nil {
			return err
		}
		if err := w.canClose(t); err != nil { // another task may have closed it meanwhile
			return err
		}
	}
	now := workflow.Now(ctx)
	unanswered := w.View.Status == complaint.StatusResolutionProposed
	w.View.Status, w.View.Outcome, w.View.CloseSummary, w.View.ClosedAt = complaint.StatusClosed, t.Outcome, t.Summary, &now
	w.View.Decision = t.Decision
	w.Phase = phaseFollowUp
	w.meetClock(complaint.ClockResolution, "", now) // the closing tells the customer the outcome
	w.meetClock(complaint.ClockFirstResponse, "", now)
	w.meetClock(complaint.ClockExecution, "", now) // carried out (close waited for it) and closed
	if t.Decision != "" {
		w.meetClock(complaint.ClockDispute, "", now)
	}
	w.meetLongStop(now) // the final response is the closing
	w.stopAllClocks(now)
	summary := fmt.Sprintf("Closed, %s: %s", t.Outcome, t.Summary)
	if unanswered {
		summary += fmt.Sprintf(" (resolution %d unanswered)", w.lastResolution().Attempt)
	}
	if t.Decision != "" {
		summary += fmt.Sprintf(" (decision at %s: %s)", w.disputeStage(), t.Decision)
	}
	s := step{name: "closed", actor: complaint.ActorOr(t.Actor, w.View.Owner), closed: true, summary: summary}
	w.tell(ctx, &s, complaint.MsgClosingSummary, t.Summary)
	if err := w.record(ctx, s); err != nil {
		return err
	}
	return w.summaryResolution(ctx) // the regulator's, after a quick resolution (longstop.go)
}

func (w *caseWorkflow) canReopen(complaint.Reason) error {
	switch w.View.Status {
	case complaint.StatusClosed, complaint.StatusSurveyPending, complaint.StatusCompleted:
	default:
		return conflict("only a closed case can be reopened; the case is %s", w.View.Status)
	}
	return nil
}

func (w *caseWorkflow) reopen(ctx workflow.Context, t complaint.Reason) error {
	cancelSurvey := false
	if sv := w.View.Survey; sv != nil && sv.Round == w.View.Round && sv.AnsweredAt == nil && !sv.Expired {
		sv.Cancelled, cancelSurvey = true, true
	}
	w.View.Round++
	w.View.Status = complaint.StatusInvestigating
	w.View.Outcome, w.View.CloseSummary, w.View.ClosedAt, w.View.Decision = "", "", nil, ""
	w.View.Investigation = pendingDepartments(w.View.Departments)
	w.Phase = phaseInvestigation
	now := workflow.Now(ctx)
	w.startRoundClocks(now)
	s := step{name: "reopened", actor: complaint.ActorOr(t.Actor, "customer"), reopened: true,
		summary: fmt.Sprintf("Reopened for round %d: %s", w.View.Round, t.Reason)}
	if cancelSurvey {
		s = w.withSurvey(s)
	}
	if f := w.View.FollowUp; f.Open() { // the new round is the follow-up now
		f.DoneAt, f.DoneBy, f.Summary = &now, s.actor, "Superseded by reopening the case"
		w.stopClock(w.followUpClock(), now)
		s.followUp = &complaint.FollowUp{}
		*s.followUp = *f
	}
	w.tell(ctx, &s, complaint.MsgReopened, "")
	return w.record(ctx, s)
}

func (w *caseWorkflow) canWithdraw(complaint.Reason) error {
	if !w.open() {
		return w.notOpen()
	}
	return nil
}

func (w *caseWorkflow) withdraw(ctx workflow.Context, t complaint.Reason) error {
	for _, d := range w.View.Departments {
		w.stopDepartment(d)
	}
	now := workflow.Now(ctx)
	w.stopAllClocks(now)
	w.View.Status, w.View.Outcome, w.View.ClosedAt, w.View.CloseSummary = complaint.StatusWithdrawn, complaint.OutcomeWithdrawn, &now, t.Reason
	w.Phase = phaseDone
	return w.record(ctx, step{name: "withdrawn", actor: complaint.ActorOr(t.Actor, "customer"), closed: true, summary: t.Reason})
}

// --- surveyResponse / addNote

func (w *caseWorkflow) canAnswerSurvey(complaint.SurveyResponse) error {
	if w.View.Status != complaint.StatusSurveyPending || w.View.Survey == nil || w.View.Survey.Expired {
		return conflict("no survey awaits an answer; the case is %s", w.View.Status)
	}
	return nil
}

func (w *caseWorkflow) answerSurvey(ctx workflow.Context, t complaint.SurveyResponse) error {
	now := workflow.Now(ctx)
	sv := w.View.Survey
	sv.Score, sv.Comment, sv.AnsweredAt = t.Score, t.Comment, &now
	w.View.Status = complaint.StatusCompleted
	if err := w.record(ctx, w.withSurvey(step{name: "survey_answered", actor: "customer",
		summary: fmt.Sprintf("Satisfaction %d/5", t.Score)})); err != nil {
		return err
	}
	if t.Score <= w.Policy.FollowUpScore && !w.View.FollowUp.Open() { // an unhappy customer is followed up
		return w.openFollowUp(ctx, t.Score)
	}
	return nil
}

func (w *caseWorkflow) canAddNote(complaint.AddNote) error { return nil }

func (w *caseWorkflow) addNote(ctx workflow.Context, t complaint.AddNote) error {
	return w.record(ctx, step{name: "note", actor: t.Author, summary: t.Text})
}

// --- applyPolicy

func (w *caseWorkflow) canApplyPolicy(t complaint.ApplyPolicy) error {
	switch {
	case t.SLA == nil:
		return invalid(fmt.Errorf("sla: is required; the API fills it from the configuration"))
	case !w.open():
		return w.notOpen()
	}
	return nil
}

func (w *caseWorkflow) applyPolicy(ctx workflow.Context, t complaint.ApplyPolicy) error {
	w.Policy.SLA = *t.SLA
	w.cal = nil
	w.rescheduleClocks(workflow.Now(ctx))
	return w.record(ctx, step{name: "policy_applied", actor: complaint.ActorOr(t.Actor, "admin"),
		summary: fmt.Sprintf("SLA policy re-applied: %s", t.Reason)})
}

// handleTask registers a human task as an Update with a validator and as a
// Signal with the same name and payload. Payloads are decoded strictly, and
// the same checks guard both: a rejected update never reaches history, an
// invalid signal is logged and ignored.
func handleTask[T complaint.Task](ctx workflow.Context, w *caseWorkflow, name, description string,
	allowed func(T) error, apply func(workflow.Context, T) error,
) error {
	check := func(raw json.RawMessage) (T, error) {
		// Decoding JSON into a struct is deterministic; the checker only sees reflection.
		t, err := complaint.DecodeTask[T](raw) //workflowcheck:ignore
		if err != nil {
			return t, invalid(err)
		}
		return t, allowed(t)
	}
	// A task that arrives while the case is still being registered waits
	// for the record it will write to.
	applyRegistered := func(ctx workflow.Context, t T) error {
		if !w.registered {
			w.gated++
			err := workflow.Await(ctx, func() bool { return w.registered })
			w.gated--
			if err != nil {
				return err
			}
			if err := allowed(t); err != nil { // another task may have moved the case meanwhile
				return err
			}
		}
		return apply(ctx, t)
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, raw json.RawMessage) (complaint.CaseView, error) {
			t, err := check(raw)
			if err != nil { // the state moved on since the validator ran
				return w.View, err
			}
			if err := applyRegistered(ctx, t); err != nil {
				return w.View, err
			}
			return w.View, nil
		},
		workflow.UpdateHandlerOptions{
			Description: description,
			Validator: func(_ workflow.Context, raw json.RawMessage) error {
				_, err := check(raw)
				return err
			},
		})
	if err != nil {
		return err
	}
	signals := workflow.GetSignalChannelWithOptions(ctx, name, workflow.SignalChannelOptions{Description: description})
	handle := func(ctx workflow.Context, raw json.RawMessage) {
		t, err := check(raw)
		if err != nil {
			workflow.GetLogger(ctx).Warn("Ignored an invalid signal", "signal", name, "error", err)
			return
		}
		w.inFlight++
		if err := applyRegistered(ctx, t); err != nil {
			workflow.GetLogger(ctx).Error("Signal failed", "signal", name, "error", err)
		}
		w.inFlight--
	}
	w.signalTasks[name] = signalTask{channel: signals, handle: handle}
	return nil
}
