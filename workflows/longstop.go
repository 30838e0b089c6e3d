package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// --- the regulator's long-stop (complaint/longstop.go)

// startLongStop starts the jurisdiction's long-stop at receipt. It is
// never paused: waiting for the customer does not stretch it.
func (w *caseWorkflow) startLongStop() {
	ls := w.Policy.LongStop
	if ls == nil {
		return
	}
	w.startClock(complaint.ClockLongStop, "", ls.Limit, ls.WorkingTime, w.View.ReceivedAt)
}

// longStop is the long-stop clock, whatever round the case is in.
func (w *caseWorkflow) longStop() *complaint.Deadline {
	for i := range w.View.Deadlines {
		if w.View.Deadlines[i].Name == complaint.ClockLongStop {
			return &w.View.Deadlines[i]
		}
	}
	return nil
}

// meetLongStop marks the long-stop met: the case closed (the final
// response given) before it, or late.
func (w *caseWorkflow) meetLongStop(now time.Time) {
	c := w.longStop()
	if c == nil || !c.Open() {
		return
	}
	c.State, c.MetAt, c.NextEscalationAt = complaint.ClockMet, &now, nil
	w.slaEvent(*c, "met", now)
	w.clocksChanged++
}

// longStopReached is the long-stop passing with the case still open: the
// customer gets the final-response letter with their rights to refer, in
// their language, and the case climbs the escalation ladder like any missed
// deadline. The case itself goes on: staff still owe the customer an answer.
func (w *caseWorkflow) longStopReached(ctx workflow.Context, c *complaint.Deadline, now time.Time) error {
	c.State, c.BreachedAt = complaint.ClockBreached, &c.DueAt
	w.slaEvent(*c, "breached", now)
	c.Level = 1
	next := now.Add(w.Policy.SLA.EscalateEvery)
	c.NextEscalationAt = &next
	w.View.EscalationLevel = max(w.View.EscalationLevel, c.Level)
	w.slaEvent(*c, "escalated", now)
	j := w.Policy.LongStop.Jurisdiction
	dept := complaint.Department("")
	if len(w.View.Departments) > 0 {
		dept = w.View.Departments[0]
	}
	to := w.Policy.SLA.Rung(dept, c.Level)
	s := step{name: "final_response_sent", actor: "system",
		summary: fmt.Sprintf("Regulatory long-stop (%s) reached without a closing: final-response letter sent with the referral rights; escalated to %s",
			j, to)}
	w.tell(ctx, &s, complaint.MsgFinalResponse, complaint.ReferralText(j, w.Intake.Customer.Language))
	w.notifyStaff(&s, "escalation", to, *c)
	return w.record(ctx, s)
}

// summaryResolution sends the jurisdiction's summary resolution message
// after a closing within its quick-resolution window (UK DISP 1.5: by the
// close of the third business day after receipt). Only the first closing
// counts: a reopened case is no quick resolution.
func (w *caseWorkflow) summaryResolution(ctx workflow.Context) error {
	ls := w.Policy.LongStop
	if ls == nil || ls.SummaryWithin <= 0 || w.View.Round != 1 || w.View.ClosedAt == nil {
		return nil
	}
	by, _ := w.calendar().AddWorking(w.View.ReceivedAt, ls.SummaryWithin) //workflowcheck:ignore pure, as in schedule
	if w.View.ClosedAt.After(endOfDay(by, w.calendar())) {
		return nil
	}
	s := step{name: "summary_resolution_sent", actor: "system",
		summary: fmt.Sprintf("Resolved within the quick-resolution window (%s): summary resolution message sent", ls.Jurisdiction)}
	w.tell(ctx, &s, complaint.MsgSummaryResolution, complaint.ReferralText(ls.Jurisdiction, w.Intake.Customer.Language))
	return w.record(ctx, s)
}

// endOfDay is the end of the day of t where the calendar counts days:
// "by the close of the third business day".
func endOfDay(t time.Time, cal *complaint.WorkCalendar) time.Time {
	t = t.In(cal.Location())
	y, m, d := t.Date()
	return time.Date(y, m, d, 23, 59, 59, 0, t.Location())
}
