package complaint

import (
	"fmt"
	"time"
)

// The complaint record (DOMAIN §7, "投诉处理记录表") as the case writes it:
// what registering a case found, each step of the audit trail and the clock
// events it brings. The workflow builds these values, the record's activity
// carries them to the store, and the store maps them to rows.

// Registration is what registering a case found out.
type Registration struct {
	// RepeatOf is the earlier case this one repeats, if any; the case's
	// priority was then raised to Priority.
	RepeatOf string   `json:"repeatOf,omitempty"`
	Priority Priority `json:"priority,omitempty"`
}

// Step is one recorded step of a case. Key identifies it within the case; the
// workflow derives it from its own state, so a retry writes the same key.
type Step struct {
	Reference string
	// Seq is the step's position in the case; the record follows the highest.
	Seq     int
	Key     string
	At      time.Time
	Actor   string
	Name    string
	Summary string
	// Status, when set, is the case's status after this step.
	Status Status
	// Owner, when set, is the case's owner after this step.
	Owner string
	// Departments, when set, are the case's departments after this step.
	Departments []Department
	// DisputeStage, when set, is the dispute stage reached.
	DisputeStage DisputeStage
	// Closed, when set, records the closing of the case.
	Closed *Closing
	// Reopened clears the last closing and starts investigation round Round.
	Reopened bool
	Round    int
	// Priority, when set, is the case's priority after this step.
	Priority Priority
	// AcknowledgedAt, when set, is when the customer was acknowledged.
	AcknowledgedAt *time.Time
	// EscalationLevel and SLABreached are the case's after this step.
	EscalationLevel int
	SLABreached     bool
	// SLA are the SLA events this step brings.
	SLA []SLAEvent
	// Source is the upstream system that submitted the case: it hears of
	// the step by webhook when it subscribes. The step carries it, as it
	// carries the customer's contact in its messages, so no activity reads
	// the case back to learn it.
	Source string `json:",omitempty"`
}

// SLAEvent is one event of one deadline clock.
type SLAEvent struct {
	Clock       string
	Department  Department
	Stage       DisputeStage `json:",omitempty"`
	Attempt     int          `json:",omitempty"`
	Round       int
	Event       string // started, warned, breached, escalated, paused, resumed, met, stopped
	Level       int
	DueAt       time.Time
	At          time.Time
	Approximate bool
}

// Key identifies the event within its case.
func (e SLAEvent) Key() string {
	key := fmt.Sprintf("%s/%d/%s", clockLabel(e.Clock, e.Department, e.Stage, e.Attempt), e.Round, e.Event)
	if e.Event == "escalated" || e.Event == "paused" || e.Event == "resumed" {
		key += "@" + e.At.UTC().Format(time.RFC3339Nano)
	}
	return key
}

// Closing is how and when a case was closed.
type Closing struct {
	At      time.Time
	Outcome Outcome
	Summary string
}

// The activities a case runs, by the names the worker registers them under.
// Each takes one input struct.
const (
	// ActivityRegisterCase writes the new case to the record, acknowledges
	// the customer, tells the submitting system and records the handover to
	// a first contact named: the first steps of a case in one action. It
	// takes a CaseIntake and returns a Registration.
	ActivityRegisterCase = "RegisterCase"
	// ActivityRecordStep appends a step to the audit trail, saves what it
	// carries and sends its messages. It takes a StepNotice.
	ActivityRecordStep = "RecordStep"
	// ActivityRedeliverWebhook sends a failed webhook delivery again. It
	// takes a Redelivery.
	ActivityRedeliverWebhook = "RedeliverWebhook"
)

// CaseIntake is a new case with the acknowledgement, and any handover, that
// follow its registration.
type CaseIntake struct {
	Case            NewCase
	Acknowledgement StepNotice
	// Handover, when set, is the case given to the first contact the staff
	// member who entered it named: recorded after the acknowledgement.
	Handover *StepNotice `json:",omitempty"`
}

// StepNotice is a step of a case with the messages it sends: one activity
// records the step and sends them, so each step costs one action.
type StepNotice struct {
	Step     Step
	Customer *Message      `json:",omitempty"`
	Staff    *StaffMessage `json:",omitempty"`
	// Resolution and Survey, when set, are saved before the step is
	// recorded: a proposal or its answer, the survey as it stands.
	Resolution *Resolution `json:",omitempty"`
	Survey     *Survey     `json:",omitempty"`
	// Findings, when set, archive a department's report with the case;
	// FollowUp the follow-up of a low score as it stands.
	Findings *Finding  `json:",omitempty"`
	FollowUp *FollowUp `json:",omitempty"`
}

// Finding is a department's report on one round of the case, archived for
// the quality reports (DOMAIN §5 hot spots: root causes per category).
type Finding struct {
	Round        int        `json:"round"`
	Department   Department `json:"department"`
	Investigator string     `json:"investigator"`
	Findings     string     `json:"findings"`
	RootCause    string     `json:"rootCause"`
	Evidence     []string   `json:"evidence,omitempty"`
	ReportedAt   time.Time  `json:"reportedAt"`
}
