// Package visibility is how a case shows itself to operators in the Temporal
// UI: its search attributes (none holds personal data), the summary and
// details of its page. The starter sets them when a case starts and the
// workflow keeps them current, so both take them from here; everything is
// pure and deterministic.
package visibility

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// Typed search attribute keys of the case (complaint.SearchAttributes).
var (
	saStatus      = temporal.NewSearchAttributeKeyKeyword(complaint.SAStatus)
	saCategory    = temporal.NewSearchAttributeKeyKeyword(complaint.SACategory)
	saPriority    = temporal.NewSearchAttributeKeyKeyword(complaint.SAPriority)
	saChannel     = temporal.NewSearchAttributeKeyKeyword(complaint.SAChannel)
	saOwner       = temporal.NewSearchAttributeKeyKeyword(complaint.SAOwner)
	saDepartments = temporal.NewSearchAttributeKeyKeywordList(complaint.SADepartments)
	saEscalation  = temporal.NewSearchAttributeKeyInt64(complaint.SAEscalationLevel)
	saBreached    = temporal.NewSearchAttributeKeyBool(complaint.SASlaBreached)
	saNext        = temporal.NewSearchAttributeKeyTime(complaint.SANextDeadline)
)

// SearchAttributes are the case's indexed fields. None holds personal data.
func SearchAttributes(v complaint.CaseView) []temporal.SearchAttributeUpdate {
	depts := complaint.Names(v.Departments)
	updates := []temporal.SearchAttributeUpdate{
		saStatus.ValueSet(string(v.Status)),
		saCategory.ValueSet(string(v.Category)),
		saPriority.ValueSet(string(v.Priority)),
		saChannel.ValueSet(string(v.Channel)),
		saOwner.ValueSet(v.Owner),
		saDepartments.ValueSet(depts),
		saEscalation.ValueSet(int64(v.EscalationLevel)),
		saBreached.ValueSet(Breached(v)),
	}
	if next, ok := NextDeadline(v); ok {
		updates = append(updates, saNext.ValueSet(next))
	} else {
		updates = append(updates, saNext.ValueUnset())
	}
	return updates
}

// SearchAttributesKey renders what the search attributes of v hold, to
// tell whether a step changed any of them.
func SearchAttributesKey(v complaint.CaseView) string {
	next, _ := NextDeadline(v)
	return fmt.Sprintf("%s|%s|%s|%s|%s|%v|%d|%v|%s", v.Status, v.Category, v.Priority, v.Channel, v.Owner,
		v.Departments, v.EscalationLevel, Breached(v), next.UTC().Format(time.RFC3339Nano))
}

// StartSearchAttributes are the attributes a case carries from its first
// moment, before its workflow has run a single task.
func StartSearchAttributes(c complaint.NewCase) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		saStatus.ValueSet(string(complaint.StatusReceived)),
		saCategory.ValueSet(string(c.Category)),
		saPriority.ValueSet(string(c.Priority)),
		saChannel.ValueSet(string(c.Intake.Channel)),
		saOwner.ValueSet(c.Owner),
		saDepartments.ValueSet(complaint.Names(c.Departments)),
		saEscalation.ValueSet(0),
		saBreached.ValueSet(false),
	)
}

// StaticSummary is the one line the UI shows for a case in lists and on its page.
func StaticSummary(c complaint.NewCase) string {
	return fmt.Sprintf("%s · %s · %s priority · via %s", c.Reference, c.Category, c.Priority, c.Intake.Channel)
}

// StaticDetails is what the UI shows of the case as it was received.
func StaticDetails(c complaint.NewCase) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**Complaint %s**\n\n", c.Reference))
	b.WriteString(fmt.Sprintf("- Subject: %s\n", c.Intake.Subject))
	b.WriteString(fmt.Sprintf("- Received: %s via %s, first contact %s\n", c.ReceivedAt.UTC().Format("2006-01-02 15:04 MST"), c.Intake.Channel, c.Owner))
	b.WriteString(fmt.Sprintf("- Category: %s", c.Category))
	if c.Classified {
		b.WriteString(" (classified from the text)")
	}
	b.WriteString(fmt.Sprintf("\n- Severity %s → priority %s\n", c.Intake.Severity, c.Priority))
	b.WriteString(fmt.Sprintf("- Routed to: %s\n", strings.Join(complaint.Names(c.Departments), ", ")))
	if c.Intake.OrderID != "" {
		b.WriteString(fmt.Sprintf("- Order: %s\n", c.Intake.OrderID))
	}
	if c.Intake.DesiredOutcome != "" {
		b.WriteString(fmt.Sprintf("- Customer asks for: %s\n", c.Intake.DesiredOutcome))
	}
	return b.String()
}

// The builders below use Sprintf rather than Fprintf: workflowcheck cannot
// tell a strings.Builder from a file behind an io.Writer.

// CurrentDetails is the markdown the UI shows as the case's current details.
func CurrentDetails(v complaint.CaseView) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**Status:** %s · **Owner:** %s · **Priority:** %s", v.Status, v.Owner, v.Priority))
	if v.Round > 1 {
		b.WriteString(fmt.Sprintf(" · **Round:** %d", v.Round))
	}
	b.WriteString("\n\n")
	if v.NextTask != "" {
		b.WriteString(fmt.Sprintf("**Next:** %s\n\n", v.NextTask))
	}
	if v.RepeatOf != "" {
		b.WriteString(fmt.Sprintf("**Repeat complaint** of %s\n\n", v.RepeatOf))
	}
	if v.WaitingOnCustomer != "" {
		b.WriteString(fmt.Sprintf("**Waiting on the customer:** %s\n\n", v.WaitingOnCustomer))
	}
	b.WriteString("| Department | Progress | Investigator |\n|---|---|---|\n")
	for _, p := range v.Investigation {
		b.WriteString(fmt.Sprintf("| %s | %s | %s |\n", p.Department, p.State, p.Investigator))
	}
	if r := LastResolution(v.Resolutions); r != nil {
		answer := "awaiting the customer"
		if r.Accepted != nil {
			answer = map[bool]string{true: "accepted", false: "rejected"}[*r.Accepted]
		}
		b.WriteString(fmt.Sprintf("\n**Resolution %d:** %s — %s\n", r.Attempt, CompensationText(r.Compensation), answer))
	}
	if n := len(v.Dispute); n > 0 {
		b.WriteString(fmt.Sprintf("\n**Dispute:** %s\n", v.Dispute[n-1].Stage))
	}
	if v.Outcome != "" {
		b.WriteString(fmt.Sprintf("\n**Outcome:** %s — %s\n", v.Outcome, v.CloseSummary))
	}
	if sv := v.Survey; sv != nil && sv.Score > 0 {
		b.WriteString(fmt.Sprintf("\n**Satisfaction:** %d/5\n", sv.Score))
	}
	b.WriteString("\n| Deadline | Due (UTC) | State |\n|---|---|---|\n")
	for _, d := range v.Deadlines {
		state := string(d.State)
		if d.State == complaint.ClockMet && d.BreachedAt != nil {
			state = "met late"
		}
		if d.Level > 0 {
			state += fmt.Sprintf(", escalated to level %d", d.Level)
		}
		due := d.DueAt.UTC().Format("2006-01-02 15:04")
		if d.Approximate {
			due += " ≈ (holidays of that year unknown)"
		}
		b.WriteString(fmt.Sprintf("| %s | %s | %s |\n", d.Label(), due, state))
	}
	return b.String()
}

// LastResolution is the latest proposal, nil before the first.
func LastResolution(rs []complaint.Resolution) *complaint.Resolution {
	if len(rs) == 0 {
		return nil
	}
	return &rs[len(rs)-1]
}

// NextDeadline is the next moment a clock of the case will act: a due time,
// or the next rung of an escalation.
func NextDeadline(v complaint.CaseView) (time.Time, bool) {
	var next time.Time
	found := false
	for _, d := range v.Deadlines {
		at := d.DueAt
		switch {
		case d.State == complaint.ClockBreached && d.NextEscalationAt != nil:
			at = *d.NextEscalationAt
		case d.State != complaint.ClockRunning:
			continue
		}
		if !found || at.Before(next) {
			next, found = at, true
		}
	}
	return next, found
}

// Breached is true once any deadline of the case was missed.
func Breached(v complaint.CaseView) bool {
	for _, d := range v.Deadlines {
		if d.BreachedAt != nil || d.State == complaint.ClockBreached {
			return true
		}
	}
	return false
}

// CompensationText is a compensation in a few words: kind, amount, currency.
func CompensationText(c complaint.Compensation) string {
	if c.Amount == "" {
		return c.Kind
	}
	return fmt.Sprintf("%s %s %s", c.Kind, c.Amount, c.Currency)
}
