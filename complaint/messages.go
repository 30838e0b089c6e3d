package complaint

import "time"

// The messages a step sends: to the customer in their language, and deadline
// notices to staff. The workflow says what to send; the record's activity
// renders and delivers it, once.

// MessageKind is which message the customer gets.
type MessageKind string

const (
	MsgAcknowledgement      MessageKind = "acknowledgement"
	MsgInvestigationStarted MessageKind = "investigation_started"
	MsgResolutionProposal   MessageKind = "resolution_proposal"
	MsgClosingSummary       MessageKind = "closing_summary"
	MsgSurveyInvitation     MessageKind = "survey_invitation"
	MsgSurveyReminder       MessageKind = "survey_reminder"
	// MsgProposalReminder reminds a customer who has not answered a proposal.
	MsgProposalReminder MessageKind = "proposal_reminder"
)

// Message is one message to the customer. Key identifies it within the case
// (the workflow derives it), so a repeat is recognised and not sent.
type Message struct {
	Kind      MessageKind
	Key       string
	Reference string
	Language  string
	Name      string
	Email     string
	Phone     string
	// Text is the case-specific part: the proposal, the closing summary.
	Text string
	// Round and LinkExpires make the survey link: which round it answers
	// and until when.
	Round       int       `json:",omitempty"`
	LinkExpires time.Time `json:",omitzero"`
}

// StaffMessage tells a person that a deadline of a case is near or missed.
type StaffMessage struct {
	Kind      string // warning, escalation
	Key       string
	Reference string
	To        string
	Clock     string
	Level     int
	DueAt     time.Time
}
