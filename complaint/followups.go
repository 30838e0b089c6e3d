package complaint

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The seeds' follow-ups (seed 001 §3, 002 ch.4–5, 003 step 6): a
// compensation above its limit approved before the customer sees it, the
// customer confirming the fix, a low satisfaction score followed up, and the
// objectivity and impact rules of intake.

const (
	// TaskApproveCompensation is a supervisor's decision on a proposal
	// whose compensation is above the limit for its currency.
	TaskApproveCompensation = "approveCompensation"
	// TaskConfirmResolved is the customer saying whether the resolution
	// carried out solved the problem.
	TaskConfirmResolved = "confirmResolved"
	// TaskCompleteFollowUp ends the follow-up a low satisfaction score opened.
	TaskCompleteFollowUp = "completeFollowUp"
)

// The clocks of the follow-ups.
const (
	ClockApproval     = "compensationApproval" // a supervisor's decision on proposal Attempt
	ClockConfirmation = "confirmation"         // the customer's confirmation that resolution Attempt solved it
	ClockFollowUp     = "followUp"             // the owner's follow-up of a low satisfaction score
)

// The messages the customer gets about progress (Issue: the customer kept
// informed), and the confirmation request after a resolution is carried out.
const (
	MsgRouted              MessageKind = "routed"
	MsgProgressUpdate      MessageKind = "progress_update"
	MsgInformationNeeded   MessageKind = "information_needed"
	MsgDisputeStage        MessageKind = "dispute_stage"
	MsgReopened            MessageKind = "reopened"
	MsgConfirmationRequest MessageKind = "confirmation_request"
)

// The staff notices of the follow-ups, besides the deadline notices.
const (
	NoticeApprovalRequested = "approval_requested" // to the supervisor rung
	NoticeApprovalDecided   = "approval_decided"   // to the owner
	NoticeProblemPersists   = "problem_persists"   // to the owner: the customer says it is not solved
	NoticeFollowUp          = "follow_up"          // to the owner: a low score to follow up
	NoticeFollowUpOpened    = "follow_up_opened"   // to the supervisor rung: told of it
)

// ApproveCompensation approves or refuses a proposal waiting for approval.
type ApproveCompensation struct {
	Approved *bool  `json:"approved" doc:"Whether the proposal may go to the customer as it is."`
	Note     string `json:"note,omitempty" maxLength:"2000" doc:"Why; required when refusing."`
	Actor    string `json:"actor,omitempty" maxLength:"128"`
}

func (t ApproveCompensation) Validate() error {
	var c checker
	if t.Approved == nil {
		c.add("approved", "is required")
	}
	c.text("note", t.Note, t.Approved != nil && !*t.Approved, 2000)
	c.text("actor", t.Actor, false, 128)
	return c.err()
}

// ConfirmResolved is the customer's word on whether the problem is solved.
type ConfirmResolved struct {
	Resolved *bool  `json:"resolved" doc:"Whether the resolution carried out solved the customer's problem."`
	Comment  string `json:"comment,omitempty" maxLength:"4000"`
	Actor    string `json:"actor,omitempty" maxLength:"200" doc:"Who passes on the customer's word; the customer when absent."`
}

func (t ConfirmResolved) Validate() error {
	var c checker
	if t.Resolved == nil {
		c.add("resolved", "is required")
	}
	c.text("comment", t.Comment, false, 4000)
	c.text("actor", t.Actor, false, 200)
	return c.err()
}

// CompleteFollowUp records what the follow-up of a low score did.
type CompleteFollowUp struct {
	Summary string `json:"summary" minLength:"1" maxLength:"4000" doc:"What was done for the unhappy customer."`
	Actor   string `json:"actor,omitempty" maxLength:"128"`
}

func (t CompleteFollowUp) Validate() error {
	var c checker
	c.text("summary", t.Summary, true, 4000)
	c.text("actor", t.Actor, false, 128)
	return c.err()
}

// Impact is how far a problem reaches beyond the customer who complained.
type Impact struct {
	AffectedCustomers int    `json:"affectedCustomers,omitempty" minimum:"0" maximum:"100000000" doc:"How many customers the problem affects, as far as known."`
	Batch             string `json:"batch,omitempty" maxLength:"128" doc:"The production or delivery batch affected."`
}

// WideImpactCustomers is how many affected customers make a problem's scope
// wide, raising the priority (DOMAIN §1.3: priority from severity, urgency
// and scope). A named batch is wide too.
const WideImpactCustomers = 10

// Wide reports whether the impact widens the scope.
func (i *Impact) Wide() bool {
	return i != nil && (i.AffectedCustomers >= WideImpactCustomers || strings.TrimSpace(i.Batch) != "")
}

func (i *Impact) validate(c *checker) {
	if i == nil {
		return
	}
	if i.AffectedCustomers < 0 || i.AffectedCustomers > 100_000_000 {
		c.add("impact.affectedCustomers", "must be from 0 to 100000000")
	}
	c.text("impact.batch", i.Batch, false, 128)
}

// Approval is a supervisor's decision on a proposal above the limit.
type Approval struct {
	Limit       string     `json:"limit" doc:"The limit the compensation is above, e.g. 500 CNY."`
	RequestedAt time.Time  `json:"requestedAt"`
	Approved    *bool      `json:"approved,omitempty"`
	By          string     `json:"by,omitempty"`
	At          *time.Time `json:"at,omitempty"`
	Note        string     `json:"note,omitempty"`
}

// Pending is true while the decision is awaited.
func (a *Approval) Pending() bool { return a != nil && a.Approved == nil }

// Confirmation is the customer's word on a resolution carried out.
type Confirmation struct {
	RequestedAt time.Time  `json:"requestedAt"`
	Resolved    *bool      `json:"resolved,omitempty"`
	Comment     string     `json:"comment,omitempty"`
	By          string     `json:"by,omitempty"`
	At          *time.Time `json:"at,omitempty"`
	// TimedOut is set when the customer did not answer in time: the case
	// closed with that noted.
	TimedOut bool `json:"timedOut,omitempty"`
}

// FollowUp is the owner's follow-up of a low satisfaction score.
type FollowUp struct {
	Round    int        `json:"round"`
	Score    int        `json:"score"`
	Owner    string     `json:"owner"`
	OpenedAt time.Time  `json:"openedAt"`
	DueAt    time.Time  `json:"dueAt"`
	DoneAt   *time.Time `json:"doneAt,omitempty"`
	DoneBy   string     `json:"doneBy,omitempty"`
	Summary  string     `json:"summary,omitempty"`
}

// Open is true until the follow-up is done.
func (f *FollowUp) Open() bool { return f != nil && f.DoneAt == nil }

// CompensationLimits are, per ISO 4217 currency, the amount above which a
// proposal's compensation waits for a supervisor's approval. A currency not
// listed needs none.
type CompensationLimits map[string]string

// DefaultCompensationLimits hold the limits when configuration gives none.
func DefaultCompensationLimits() CompensationLimits {
	return CompensationLimits{"CNY": "500", "USD": "100", "EUR": "100", "GBP": "100", "HKD": "500"}
}

// Above returns the limit c is above, as "500 CNY", or "" when c needs no
// approval.
func (l CompensationLimits) Above(c Compensation) string {
	limit, ok := l[c.Currency]
	if !ok || c.Amount == "" {
		return ""
	}
	amount, okA := Cents(c.Amount)
	max, okL := Cents(limit)
	if !okA || !okL || amount <= max {
		return ""
	}
	return limit + " " + c.Currency
}

// ParseCompensationLimits reads "CNY=500,USD=100"; an empty spec keeps base.
func ParseCompensationLimits(spec string, base CompensationLimits) (CompensationLimits, error) {
	if strings.TrimSpace(spec) == "" {
		return maps.Clone(base), nil
	}
	out := CompensationLimits{}
	for entry := range strings.SplitSeq(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		cur, amount, ok := strings.Cut(entry, "=")
		cur, amount = strings.TrimSpace(cur), strings.TrimSpace(amount)
		if !ok || !currencyPattern.MatchString(cur) || !amountPattern.MatchString(amount) {
			return nil, fmt.Errorf("compensation limit %q: want CURRENCY=amount, e.g. CNY=500", entry)
		}
		out[cur] = amount
	}
	return out, nil
}

// String writes the limits as ParseCompensationLimits reads them.
func (l CompensationLimits) String() string {
	parts := make([]string, 0, len(l))
	for _, cur := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, cur+"="+l[cur])
	}
	return strings.Join(parts, ",")
}

// Cents reads a decimal amount (amountPattern) as hundredths.
func Cents(amount string) (int64, bool) {
	if !amountPattern.MatchString(amount) {
		return 0, false
	}
	whole, frac, _ := strings.Cut(amount, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return w*100 + f, true
}

// Objective applies the objectivity rule (seed 001 §3: no side taken): the
// staff member a complaint concerns never owns it, and a complaint about
// someone's service attitude goes to their supervisor rung.
func (c *NewCase) Objective() {
	who := c.Intake.Concerns
	if who == "" {
		return
	}
	if c.Category == CategoryServiceAttitude || c.Owner == who {
		if rung := c.Policy.SLA.Rung(c.Departments[0], 1); rung != "" && rung != who {
			c.Owner = rung
		} else {
			c.Owner = DefaultOwner
		}
	}
	if c.Handover != nil && c.Handover.Owner == who {
		c.Handover = nil
	}
}
