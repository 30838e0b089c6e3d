package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// calendar is the case's working-day calendar, built from its captured
// policy; cases with equal policies share one.
func (w *caseWorkflow) calendar() *complaint.WorkCalendar {
	if w.cal == nil {
		c, err := w.Policy.SLA.Calendar.Shared() //workflowcheck:ignore the captured spec gives the same answers on every replay
		if err != nil {
			panic(fmt.Sprintf("calendar of the case: %v", err)) // fails the task; a fixed deployment resumes it
		}
		w.cal = c
	}
	return w.cal
}

// startClock starts a deadline at now; working clocks count their budget on
// the calendar.
func (w *caseWorkflow) startClock(name string, d complaint.Department, budget time.Duration, working bool, now time.Time) {
	w.startWait(complaint.Deadline{Name: name, Department: d}, budget, working, now)
}

// startWait starts the clock c names (its name, department, stage,
// attempt) at now.
func (w *caseWorkflow) startWait(c complaint.Deadline, budget time.Duration, working bool, now time.Time) {
	c.Round, c.StartedAt, c.State, c.Budget, c.WorkingTime = w.View.Round, now, complaint.ClockRunning, budget, working
	w.schedule(&c, now, 0)
	w.View.Deadlines = append(w.View.Deadlines, c)
	w.slaEvent(c, "started", now)
	w.clocksChanged++
}

// schedule sets the due and warning times of a clock that runs from now with
// used of its budget already spent.
func (w *caseWorkflow) schedule(c *complaint.Deadline, now time.Time, used time.Duration) {
	warnBudget := time.Duration(float64(c.Budget) * w.Policy.SLA.WarnAt)
	if !c.WorkingTime {
		c.DueAt, c.WarnAt = now.Add(c.Budget-used), now.Add(warnBudget-used)
		return
	}
	// The calendar is never changed once built (complaint.CalendarSpec.Shared):
	// these calls are pure.
	cal := w.calendar()
	c.DueAt, c.Approximate = cal.AddWorking(now, max(c.Budget-used, 0)) //workflowcheck:ignore
	c.WarnAt, _ = cal.AddWorking(now, max(warnBudget-used, 0))          //workflowcheck:ignore
}

// clock finds an open clock of the current round.
func (w *caseWorkflow) clock(name string, d complaint.Department) *complaint.Deadline {
	for i := range w.View.Deadlines {
		c := &w.View.Deadlines[i]
		if c.Name == name && c.Department == d && c.Open() && (c.Round == w.View.Round || c.Round == 0) {
			return c
		}
	}
	return nil
}

// meetClock stops a clock because its task is done.
func (w *caseWorkflow) meetClock(name string, d complaint.Department, now time.Time) {
	c := w.clock(name, d)
	if c == nil {
		return
	}
	c.State, c.MetAt, c.NextEscalationAt = complaint.ClockMet, &now, nil
	w.slaEvent(*c, "met", now)
	w.clocksChanged++
}

// stopClock ends a clock that no longer applies.
func (w *caseWorkflow) stopClock(c *complaint.Deadline, now time.Time) {
	if c == nil || !c.Open() {
		return
	}
	c.State, c.NextEscalationAt = complaint.ClockStopped, nil
	w.slaEvent(*c, "stopped", now)
	w.clocksChanged++
}

func (w *caseWorkflow) stopAllClocks(now time.Time) {
	for i := range w.View.Deadlines {
		w.stopClock(&w.View.Deadlines[i], now)
	}
}

// pauseClock stops a clock's time while the case waits for the customer
// (the resolution clock while they are asked for information, the
// execution clock while they confirm the fix); resumeClock gives back the
// time not used.
func (w *caseWorkflow) pauseClock(name string, now time.Time) {
	c := w.clock(name, "")
	if c == nil || c.State == complaint.ClockPaused {
		return
	}
	from := c.StartedAt
	if c.ResumedAt != nil {
		from = *c.ResumedAt
	}
	c.Used += w.calendar().WorkingBetween(from, now)                           //workflowcheck:ignore pure, as in schedule
	c.State, c.PausedAt, c.NextEscalationAt = complaint.ClockPaused, &now, nil // escalations wait too
	w.slaEvent(*c, "paused", now)
	w.clocksChanged++
}

func (w *caseWorkflow) resumeClock(name string, now time.Time) {
	c := w.clock(name, "")
	if c == nil || c.State != complaint.ClockPaused {
		return
	}
	c.ResumedAt, c.PausedAt = &now, nil
	w.schedule(c, now, c.Used)
	c.State = complaint.ClockRunning
	if c.BreachedAt != nil {
		c.State = complaint.ClockBreached
		next := now.Add(w.Policy.SLA.EscalateEvery)
		if c.Level < 3 {
			c.NextEscalationAt = &next
		}
	}
	w.slaEvent(*c, "resumed", now)
	w.clocksChanged++
}

// slaEvent queues an event for the next recorded step.
func (w *caseWorkflow) slaEvent(c complaint.Deadline, event string, at time.Time) {
	w.pendingSLA = append(w.pendingSLA, complaint.SLAEvent{
		Clock: c.Name, Department: c.Department, Stage: c.Stage, Attempt: c.Attempt, Round: c.Round, Event: event, Level: c.Level, DueAt: c.DueAt, At: at,
		Approximate: c.Approximate,
	})
}

// clockEvent is the next thing a clock does by itself, or the progress
// message the customer is due (index progressEvent).
type clockEvent struct {
	index int
	at    time.Time
	kind  string // warn, breach, escalate, progress
}

const progressEvent = -1

func (w *caseWorkflow) nextClockEvent() (clockEvent, bool) {
	var next clockEvent
	found := false
	consider := func(i int, at time.Time, kind string) {
		if !found || at.Before(next.at) {
			next, found = clockEvent{index: i, at: at, kind: kind}, true
		}
	}
	if at, ok := w.progressDue(); ok {
		consider(progressEvent, at, "progress")
	}
	for i, c := range w.View.Deadlines {
		switch {
		case c.State == complaint.ClockRunning && !c.Warned && c.WarnAt.Before(c.DueAt):
			consider(i, c.WarnAt, "warn")
		case c.State == complaint.ClockRunning:
			consider(i, c.DueAt, "breach")
		case c.State == complaint.ClockBreached && c.NextEscalationAt != nil:
			consider(i, *c.NextEscalationAt, "escalate")
		}
	}
	return next, found
}

// timerSummary names the timer set for ev in the UI.
func (w *caseWorkflow) timerSummary(ev clockEvent) string {
	if ev.index == progressEvent {
		return "Progress message to the customer " + ev.at.UTC().Format(time.RFC3339)
	}
	c := w.View.Deadlines[ev.index]
	return fmt.Sprintf("SLA %s: %s %s", c.Label(), ev.kind, ev.at.UTC().Format(time.RFC3339))
}

// fire runs a deadline event, the case held open until it is recorded; it
// is false when the event failed (logged), and the watcher stops.
func (w *caseWorkflow) fire(ctx workflow.Context, ev clockEvent) bool {
	w.inFlight++
	defer func() { w.inFlight-- }()
	if err := w.fireClock(ctx, ev); err != nil {
		workflow.GetLogger(ctx).Error("Deadline event failed", "error", err)
		return false
	}
	return true
}

// watchClocks sleeps until the next deadline event, fires it and starts
// over, from the moment the case is registered. One durable timer at a
// time, named in the UI. A change to the clocks sets a new timer only when
// the next event comes sooner than the one the timer is set for: when a
// clock is met, its timer stays and, when it fires early, the watcher plans
// again from there. Each timer is a billable action, and a case whose
// departments and proposal arrive in time sets one or two instead of one
// per change.
func (w *caseWorkflow) watchClocks(ctx workflow.Context) {
	if workflow.Await(ctx, func() bool { return w.registered }) != nil {
		return
	}
	var (
		timer       workflow.Future // nil: no timer set
		timerAt     time.Time
		cancelTimer workflow.CancelFunc
	)
	for w.Phase != phaseDone {
		ev, ok := w.nextClockEvent()
		now := workflow.Now(ctx)
		if ok && !ev.at.After(now) {
			if !w.fire(ctx, ev) {
				return
			}
			continue
		}
		if ok && (timer == nil || ev.at.Before(timerAt)) {
			if cancelTimer != nil {
				cancelTimer()
			}
			var tctx workflow.Context
			tctx, cancelTimer = workflow.WithCancel(ctx)
			timer = workflow.NewTimerWithOptions(tctx, ev.at.Sub(now), workflow.TimerOptions{Summary: w.timerSummary(ev)})
			timerAt = ev.at
		}
		seen := w.clocksChanged
		if err := workflow.Await(ctx, func() bool {
			return w.clocksChanged != seen || w.Phase == phaseDone || timer != nil && timer.IsReady()
		}); err != nil {
			return
		}
		if timer != nil && timer.IsReady() {
			timer, cancelTimer = nil, nil
		}
	}
	if cancelTimer != nil {
		cancelTimer()
	}
}

func (w *caseWorkflow) fireClock(ctx workflow.Context, ev clockEvent) error {
	if ev.index == progressEvent {
		return w.tellProgress(ctx)
	}
	c := &w.View.Deadlines[ev.index]
	now := workflow.Now(ctx)
	sla := w.Policy.SLA
	switch {
	case c.Name == complaint.ClockCustomerAnswer && ev.kind != "escalate":
		return w.chaseAnswer(ctx, c, ev.kind, now)
	case c.Name == complaint.ClockConfirmation:
		return w.confirmationEvent(ctx, c, ev.kind, now)
	}
	if c.Name == complaint.ClockLongStop && ev.kind == "breach" {
		return w.longStopReached(ctx, c, now)
	}
	switch ev.kind {
	case "warn":
		c.Warned = true
		w.slaEvent(*c, "warned", now)
		s := step{name: "sla_warning", actor: "system", byClock: true,
			summary: fmt.Sprintf("%s is due %s", c.Label(), c.DueAt.UTC().Format(time.RFC3339))}
		to := w.View.Owner
		if c.Name == complaint.ClockApproval { // the decision is the supervisor's
			to = w.supervisor()
		}
		w.notifyStaff(&s, "warning", to, *c)
		return w.record(ctx, s)
	case "breach":
		c.State, c.BreachedAt = complaint.ClockBreached, &c.DueAt
		w.slaEvent(*c, "breached", now)
	}
	c.Level++
	if c.Level < 3 {
		next := now.Add(sla.EscalateEvery)
		c.NextEscalationAt = &next
	} else {
		c.NextEscalationAt = nil
	}
	w.View.EscalationLevel = max(w.View.EscalationLevel, c.Level)
	w.slaEvent(*c, "escalated", now)
	dept := c.Department
	if dept == "" && len(w.View.Departments) > 0 {
		dept = w.View.Departments[0]
	}
	to := sla.Rung(dept, c.Level)
	s := step{name: "sla_escalated", actor: "system", byClock: true,
		summary: fmt.Sprintf("%s missed (due %s); escalated to level %d, %s", c.Label(),
			c.DueAt.UTC().Format(time.RFC3339), c.Level, to)}
	w.notifyStaff(&s, "escalation", to, *c)
	return w.record(ctx, s)
}

// chaseAnswer is the customer-answer clock's own ladder: at its warning
// point the customer is reminded of the proposal; at its due time the owner
// is told to act (close as unanswered, or escalate), and after a final
// period (EscalateEvery) the usual ladder begins. The customer's silence
// never ends the case by itself.
func (w *caseWorkflow) chaseAnswer(ctx workflow.Context, c *complaint.Deadline, kind string, now time.Time) error {
	r := w.lastResolution()
	if kind == "warn" {
		c.Warned = true
		w.slaEvent(*c, "warned", now)
		s := step{name: "proposal_reminded", actor: "system", byClock: true,
			summary: fmt.Sprintf("Reminded the customer of resolution %d", r.Attempt)}
		w.tell(ctx, &s, complaint.MsgProposalReminder, r.Message)
		return w.record(ctx, s)
	}
	c.State, c.BreachedAt = complaint.ClockBreached, &c.DueAt
	next := now.Add(w.Policy.SLA.EscalateEvery)
	c.NextEscalationAt = &next
	w.slaEvent(*c, "breached", now)
	s := step{name: "proposal_unanswered", actor: "system", byClock: true,
		summary: fmt.Sprintf("The customer has not answered resolution %d; %s to close it as unanswered or escalate",
			r.Attempt, w.View.Owner)}
	w.notifyStaff(&s, "unanswered", w.View.Owner, *c)
	return w.record(ctx, s)
}

// answerOverdue is true once the customer let the answer clock pass: the
// owner may then close the case as unanswered, or escalate.
func (w *caseWorkflow) answerOverdue() bool {
	c := w.clock(complaint.ClockCustomerAnswer, "")
	return w.View.Status == complaint.StatusResolutionProposed && c != nil && c.State == complaint.ClockBreached
}

// notifyStaff has the step s send a deadline notice of kind (warning,
// escalation) about clock c to the rung to.
func (w *caseWorkflow) notifyStaff(s *step, kind, to string, c complaint.Deadline) {
	s.staff = &complaint.StaffMessage{Kind: kind, Key: fmt.Sprintf("%s/%d/%s/%d", c.Label(), c.Round, kind, c.Level),
		Reference: w.View.Reference, To: to, Clock: c.Label(), Level: c.Level, DueAt: c.DueAt}
}

// startIntakeClocks starts the clocks of DOMAIN §4 at the moment the
// complaint was received: the acknowledgement, the first response, and the
// first investigation round's.
func (w *caseWorkflow) startIntakeClocks() {
	at := w.View.ReceivedAt
	w.startClock(complaint.ClockAcknowledge, "", w.Policy.SLA.Acknowledge, false, at)
	w.startClock(complaint.ClockFirstResponse, "", w.Policy.SLA.FirstResponse, false, at)
	w.startRoundClocks(at)
	if w.View.Owner == complaint.DefaultOwner { // the desk must hand it to a person
		w.startClock(complaint.ClockTakeOwnership, "", w.Policy.SLA.TakeOwnership, false, at)
	}
	w.startLongStop() // the regulator's, when the case's policy has one (longstop.go)
}

// startRoundClocks starts the clocks of an investigation round: each
// department's start and the resolution.
func (w *caseWorkflow) startRoundClocks(now time.Time) {
	for _, d := range w.View.Departments {
		w.startClock(complaint.ClockStart, d, w.Policy.SLA.StartWithin(d), false, now)
	}
	w.startClock(complaint.ClockResolution, "", w.Policy.SLA.Resolution, true, now)
	w.clocksChanged++
}

// budgetOf is a clock's time under the case's current SLA policy.
func (w *caseWorkflow) budgetOf(c complaint.Deadline) time.Duration {
	sla := w.Policy.SLA
	switch c.Name {
	case complaint.ClockAcknowledge:
		return sla.Acknowledge
	case complaint.ClockFirstResponse:
		return sla.FirstResponse
	case complaint.ClockStart:
		return sla.StartWithin(c.Department)
	case complaint.ClockTakeOwnership:
		return sla.TakeOwnership
	case complaint.ClockCustomerAnswer:
		return sla.CustomerAnswer
	case complaint.ClockExecution:
		return sla.Execution
	case complaint.ClockDispute:
		return sla.Dispute[c.Stage]
	case complaint.ClockApproval:
		return w.Policy.ApprovalWithin
	case complaint.ClockConfirmation:
		return w.Policy.ConfirmWithin
	case complaint.ClockFollowUp:
		return w.Policy.FollowUpWithin
	case complaint.ClockLongStop:
		return c.Budget // the regulator's, captured at start: no SLA policy moves it
	}
	return sla.Resolution
}

// rescheduleClocks recomputes every open clock from its start under the
// current policy. A breached clock whose new due time is still ahead runs
// again; the escalations already made stay on record.
func (w *caseWorkflow) rescheduleClocks(now time.Time) {
	for i := range w.View.Deadlines {
		c := &w.View.Deadlines[i]
		if !c.Open() {
			continue
		}
		c.Budget = w.budgetOf(*c)
		if c.State == complaint.ClockPaused {
			continue // resuming schedules it
		}
		from := c.StartedAt
		if c.ResumedAt != nil {
			from = *c.ResumedAt
		}
		w.schedule(c, from, c.Used)
		c.Warned = c.Warned && !c.WarnAt.After(now)
		if c.State == complaint.ClockBreached && c.DueAt.After(now) {
			c.State, c.BreachedAt, c.NextEscalationAt = complaint.ClockRunning, nil, nil
		}
		w.slaEvent(*c, "rescheduled", now)
	}
	w.clocksChanged++
}
