package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// The seeds' follow-ups: a compensation above its limit waits for a
// supervisor; the customer confirms the fix; a low satisfaction score is
// followed up; the person a complaint concerns takes no part in it; and the
// customer hears of progress when the investigation runs long.

// --- objectivity

// notConcerned refuses a part in the case to the staff member it concerns.
func (w *caseWorkflow) notConcerned(who, part string) error {
	if c := w.View.Concerns; c != "" && strings.EqualFold(strings.TrimSpace(who), c) {
		return conflict("objectivity: the complaint concerns %s, who cannot %s it", c, part)
	}
	return nil
}

// --- approveCompensation

// awaitingApproval is the proposal that waits for a supervisor, or nil.
func (w *caseWorkflow) awaitingApproval() *complaint.Resolution {
	if r := w.lastResolution(); r != nil && r.Approval.Pending() {
		return r
	}
	return nil
}

func (w *caseWorkflow) approvalPending() error {
	if r := w.awaitingApproval(); r != nil {
		return conflict("resolution %d awaits a supervisor's approval of its compensation (above %s)", r.Attempt, r.Approval.Limit)
	}
	return nil
}

// requestApproval holds the proposal r back until a supervisor approves
// its compensation; the supervisor rung of the lead department is told.
func (w *caseWorkflow) requestApproval(ctx workflow.Context, r complaint.Resolution, limit string) error {
	r.Approval = &complaint.Approval{Limit: limit, RequestedAt: r.ProposedAt}
	w.View.Resolutions = append(w.View.Resolutions, r)
	w.startWait(complaint.Deadline{Name: complaint.ClockApproval, Attempt: r.Attempt}, w.Policy.ApprovalWithin, true,
		r.ProposedAt)
	s := step{name: "approval_requested", actor: r.ProposedBy, resolution: &r,
		summary: fmt.Sprintf("Resolution %d proposed: %s, above the limit of %s: awaits a supervisor's approval",
			r.Attempt, compensationText(r.Compensation), limit)}
	w.notifyStaff(&s, complaint.NoticeApprovalRequested, w.supervisor(), *w.clock(complaint.ClockApproval, ""))
	return w.record(ctx, s)
}

func (w *caseWorkflow) canApprove(t complaint.ApproveCompensation) error {
	r := w.awaitingApproval()
	switch {
	case r == nil:
		return conflict("no proposal awaits approval; the case is %s", w.View.Status)
	case t.Actor != "" && t.Actor == r.ProposedBy:
		return conflict("%s proposed resolution %d: another supervisor approves it", t.Actor, r.Attempt)
	}
	return w.notConcerned(t.Actor, "approve compensation on")
}

func (w *caseWorkflow) approve(ctx workflow.Context, t complaint.ApproveCompensation) error {
	now := workflow.Now(ctx)
	r := w.awaitingApproval()
	actor := complaint.ActorOr(t.Actor, "supervisor")
	r.Approval.Approved, r.Approval.By, r.Approval.At, r.Approval.Note = t.Approved, actor, &now, t.Note
	w.meetClock(complaint.ClockApproval, "", now)
	if !*t.Approved { // back to the owner, who proposes again
		refused := *r
		s := step{name: "compensation_refused", actor: actor, resolution: &refused,
			summary: fmt.Sprintf("Compensation of resolution %d refused: %s", r.Attempt, t.Note)}
		w.notifyStaff(&s, complaint.NoticeApprovalDecided, w.View.Owner, w.lastClock(complaint.ClockApproval, r.Attempt))
		return w.record(ctx, s)
	}
	r.ProposedAt = now // it reaches the customer now
	approved := *r
	s := w.offer(ctx, &approved, actor)
	s.summary = fmt.Sprintf("Compensation approved by %s; resolution %d proposed: %s", actor, r.Attempt,
		compensationText(r.Compensation))
	return w.record(ctx, s)
}

// lastClock is the clock of that name and attempt, met or not.
func (w *caseWorkflow) lastClock(name string, attempt int) complaint.Deadline {
	for i := len(w.View.Deadlines) - 1; i >= 0; i-- {
		if c := w.View.Deadlines[i]; c.Name == name && c.Attempt == attempt {
			return c
		}
	}
	return complaint.Deadline{Name: name, Attempt: attempt, Round: w.View.Round}
}

// supervisor is the first rung of the lead department's ladder.
func (w *caseWorkflow) supervisor() string {
	var lead complaint.Department
	if len(w.View.Departments) > 0 {
		lead = w.View.Departments[0]
	}
	return w.Policy.SLA.Rung(lead, 1)
}

// --- confirmResolved

// confirmable is the carried-out resolution whose confirmation is awaited.
func (w *caseWorkflow) confirmable() *complaint.Resolution {
	r := w.lastResolution()
	if w.View.Status != complaint.StatusResolving || r == nil || r.Accepted == nil || !*r.Accepted {
		return nil
	}
	if c := r.Confirmation; c != nil && (c.Resolved != nil || c.TimedOut) {
		return nil
	}
	return r
}

func (w *caseWorkflow) canConfirm(complaint.ConfirmResolved) error {
	if w.confirmable() == nil {
		return conflict("no resolution carried out awaits the customer's confirmation; the case is %s", w.View.Status)
	}
	return nil
}

func (w *caseWorkflow) confirm(ctx workflow.Context, t complaint.ConfirmResolved) error {
	if !w.executed() { // carried out first: the customer confirms what was done
		if err := workflow.Await(ctx, w.executed); err != nil {
			return err
		}
		if err := w.canConfirm(t); err != nil {
			return err
		}
	}
	now := workflow.Now(ctx)
	r := w.confirmable()
	if r.Confirmation == nil {
		r.Confirmation = &complaint.Confirmation{RequestedAt: now}
	}
	actor := complaint.ActorOr(t.Actor, "customer")
	r.Confirmation.Resolved, r.Confirmation.Comment, r.Confirmation.By, r.Confirmation.At = t.Resolved, t.Comment, actor, &now
	w.meetClock(complaint.ClockConfirmation, "", now)
	if *t.Resolved { // the owner's time to close runs again
		w.resumeClock(complaint.ClockExecution, now)
		confirmed := *r
		return w.record(ctx, step{name: "resolution_confirmed", actor: actor, resolution: &confirmed,
			summary: fmt.Sprintf("The customer confirmed resolution %d solved the problem", r.Attempt)})
	}
	// Not solved: back to the owner, the next proposal due within the
	// resolution target again; carrying out this one is over.
	w.stopClock(w.clock(complaint.ClockExecution, ""), now)
	w.View.Status = complaint.StatusInvestigating
	w.startWait(complaint.Deadline{Name: complaint.ClockResolution, Attempt: r.Attempt + 1}, w.Policy.SLA.Resolution, true, now)
	persists := *r
	s := step{name: "problem_persists", actor: actor, resolution: &persists,
		summary: fmt.Sprintf("The customer says resolution %d did not solve the problem: %s", r.Attempt, t.Comment)}
	w.notifyStaff(&s, complaint.NoticeProblemPersists, w.View.Owner, w.lastClock(complaint.ClockConfirmation, r.Attempt))
	return w.record(ctx, s)
}

// askConfirmation has the step s (the resolution carried out) ask the
// customer whether the problem is solved, with a clock for the answer.
func (w *caseWorkflow) askConfirmation(ctx workflow.Context, s *step, r *complaint.Resolution, now time.Time) {
	r.Confirmation = &complaint.Confirmation{RequestedAt: now}
	w.pauseClock(complaint.ClockExecution, now) // the customer's time is not the owner's
	w.startWait(complaint.Deadline{Name: complaint.ClockConfirmation, Attempt: r.Attempt}, w.Policy.ConfirmWithin, true, now)
	w.tell(ctx, s, complaint.MsgConfirmationRequest, r.Message)
}

// confirmationEvent is the confirmation clock's own course: at its warning
// point the customer is reminded; at its due time the case closes as
// upheld with their silence noted (DOMAIN §1.7, seed 003 step 6).
func (w *caseWorkflow) confirmationEvent(ctx workflow.Context, c *complaint.Deadline, kind string, now time.Time) error {
	r := w.confirmable()
	if r == nil {
		w.stopClock(c, now)
		return nil
	}
	if kind == "warn" {
		c.Warned = true
		w.slaEvent(*c, "warned", now)
		s := step{name: "confirmation_reminded", actor: "system", byClock: true,
			summary: fmt.Sprintf("Reminded the customer to confirm resolution %d", r.Attempt)}
		w.tell(ctx, &s, complaint.MsgConfirmationRequest, r.Message)
		return w.record(ctx, s)
	}
	r.Confirmation.TimedOut = true
	c.State, c.MetAt = complaint.ClockStopped, &now
	w.slaEvent(*c, "stopped", now)
	w.clocksChanged++
	return w.close(ctx, complaint.Close{Outcome: complaint.OutcomeUpheld, Actor: "system",
		Summary: fmt.Sprintf("Resolution %d carried out; the customer did not confirm within the time given, so the case is closed", r.Attempt)})
}

// confirmationRule is the closing rule of an agreed case: the customer
// confirmed the fix, or let the time for it pass.
func (w *caseWorkflow) confirmationRule() error {
	r := w.confirmable()
	if r == nil || r.ExecutedAt == nil {
		return nil
	}
	due := "its deadline"
	if c := w.clock(complaint.ClockConfirmation, ""); c != nil {
		due = c.DueAt.UTC().Format(time.RFC3339)
	}
	return conflict("closing rule: the customer's confirmation that resolution %d solved the problem is awaited until %s "+
		"(`confirmResolved`, which the owner may record on their behalf)", r.Attempt, due)
}

// --- the low score's follow-up

// openFollowUp opens the owner's follow-up of a low score; the supervisor
// is told.
func (w *caseWorkflow) openFollowUp(ctx workflow.Context, score int) error {
	now := workflow.Now(ctx)
	w.startWait(complaint.Deadline{Name: complaint.ClockFollowUp}, w.Policy.FollowUpWithin, true, now)
	c := w.clock(complaint.ClockFollowUp, "")
	w.View.FollowUp = &complaint.FollowUp{Round: w.View.Round, Score: score, Owner: w.View.Owner, OpenedAt: now, DueAt: c.DueAt}
	s := step{name: "follow_up_opened", actor: "system",
		summary: fmt.Sprintf("Satisfaction %d/5: %s follows up by %s; %s is told", score, w.View.Owner,
			c.DueAt.UTC().Format(time.RFC3339), w.supervisor())}
	w.notifyStaff(&s, complaint.NoticeFollowUp, w.View.Owner, *c)
	if err := w.record(ctx, w.withFollowUp(s)); err != nil {
		return err
	}
	told := step{name: "follow_up_reported", actor: "system",
		summary: fmt.Sprintf("%s told of the follow-up of satisfaction %d/5", w.supervisor(), score)}
	w.notifyStaff(&told, complaint.NoticeFollowUpOpened, w.supervisor(), *c)
	return w.record(ctx, told)
}

func (w *caseWorkflow) withFollowUp(s step) step {
	f := *w.View.FollowUp
	s.followUp = &f
	return s
}

func (w *caseWorkflow) canCompleteFollowUp(t complaint.CompleteFollowUp) error {
	if !w.View.FollowUp.Open() {
		return conflict("no follow-up is open on the case")
	}
	return w.notConcerned(t.Actor, "follow up")
}

func (w *caseWorkflow) completeFollowUp(ctx workflow.Context, t complaint.CompleteFollowUp) error {
	now := workflow.Now(ctx)
	actor := complaint.ActorOr(t.Actor, w.View.Owner)
	f := w.View.FollowUp
	f.DoneAt, f.DoneBy, f.Summary = &now, actor, t.Summary
	if c := w.followUpClock(); c != nil {
		c.State, c.MetAt, c.NextEscalationAt = complaint.ClockMet, &now, nil
		w.slaEvent(*c, "met", now)
		w.clocksChanged++
	}
	return w.record(ctx, w.withFollowUp(step{name: "follow_up_done", actor: actor, summary: t.Summary}))
}

// followUpClock is the open follow-up's clock, whatever the round.
func (w *caseWorkflow) followUpClock() *complaint.Deadline {
	for i := range w.View.Deadlines {
		if c := &w.View.Deadlines[i]; c.Name == complaint.ClockFollowUp && c.Open() {
			return c
		}
	}
	return nil
}

// --- keeping the customer informed

// progressDue is when the customer is next told that the investigation
// goes on: ProgressEvery working time after they last heard from us, while
// it runs and does not wait for them.
func (w *caseWorkflow) progressDue() (time.Time, bool) {
	if w.Policy.ProgressEvery <= 0 || w.ToldAt.IsZero() || w.View.WaitingOnCustomer != "" {
		return time.Time{}, false
	}
	if w.View.Status != complaint.StatusAcknowledged && w.View.Status != complaint.StatusInvestigating {
		return time.Time{}, false
	}
	due, _ := w.calendar().AddWorking(w.ToldAt, w.Policy.ProgressEvery) //workflowcheck:ignore pure, as in schedule
	return due, true
}

// tellProgress tells the customer the investigation goes on.
func (w *caseWorkflow) tellProgress(ctx workflow.Context) error {
	s := step{name: "progress_update", actor: "system", byClock: true, summary: "Told the customer the investigation goes on"}
	w.tell(ctx, &s, complaint.MsgProgressUpdate, "")
	return w.record(ctx, s)
}
