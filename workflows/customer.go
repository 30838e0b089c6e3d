package workflows

import (
	"fmt"
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// --- customerMessage: the customer's own words reach the case

// canTakeCustomerMessage lets the customer write while the case lives: open,
// or closed within its reopen window (staff read it and may reopen). A
// withdrawn case has ended. A repeat of a message already on the case is
// let through, and changes nothing (takeCustomerMessage).
func (w *caseWorkflow) canTakeCustomerMessage(t complaint.CustomerMessage) error {
	if w.ended() {
		return w.notOpen()
	}
	return nil
}

// takeCustomerMessage puts the message on the case, ends a wait for the
// customer as customerReplied does, and tells the owner by email. It never
// touches the proposal, the dispute or the outcome: staff decide.
func (w *caseWorkflow) takeCustomerMessage(ctx workflow.Context, t complaint.CustomerMessage) error {
	if w.hasCustomerMessage(t.MessageID) {
		// The same mail again (a redelivery after a lost reply, or the same
		// message by signal and update): recorded once. Temporal already
		// drops a repeated update id within one run; this covers the next
		// run after continue-as-new, and signals.
		return nil
	}
	now := workflow.Now(ctx)
	via := t.Via
	if via == "" {
		via = complaint.MessageViaEmail
	}
	note := complaint.CustomerNote{At: now, Via: via, Text: t.Text, Original: t.Original, Subject: t.Subject,
		MessageID: t.MessageID, Attachments: slices.Clone(t.Attachments)}
	if w.View.WaitingOnCustomer != "" { // the customer answered: work resumes, as with customerReplied
		note.ResumedWait = w.View.WaitingOnCustomer
		w.View.WaitingOnCustomer = ""
		w.resumeClock(complaint.ClockResolution, now)
	}
	w.View.Messages = append(w.View.Messages, note)
	// The audit trail in PostgreSQL gets no words of the customer: the text
	// stays in the case's state, which Temporal keeps encrypted with the
	// case's key.
	summary := fmt.Sprintf("The customer wrote (%s", via)
	if n := len(t.Attachments); n > 0 {
		summary += fmt.Sprintf(", %d attachment(s)", n)
	}
	summary += ")"
	if note.ResumedWait != "" {
		summary += "; the wait for the customer ended"
	}
	s := step{name: "customer_message", actor: "customer", summary: summary}
	s.staff = &complaint.StaffMessage{Kind: complaint.StaffNoticeCustomerMessage,
		Key:       fmt.Sprintf("customer_message/%d", len(w.View.Messages)),
		Reference: w.View.Reference, To: w.View.Owner, DueAt: now}
	return w.record(ctx, s)
}

// hasCustomerMessage tells whether a message with this id is on the case.
func (w *caseWorkflow) hasCustomerMessage(id string) bool {
	return id != "" && slices.ContainsFunc(w.View.Messages, func(n complaint.CustomerNote) bool { return n.MessageID == id })
}
