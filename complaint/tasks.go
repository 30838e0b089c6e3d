package complaint

import (
	"strings"
)

// Human tasks (INTERFACE.md). Each is a workflow Update of this name, and a
// Signal of the same name and payload for the Temporal UI and CLI.
const (
	TaskAssign             = "assign"
	TaskRoute              = "route"
	TaskStartInvestigation = "startInvestigation"
	TaskSubmitFindings     = "submitFindings"
	TaskProposeResolution  = "proposeResolution"
	TaskCustomerResponse   = "customerResponse"
	TaskWaitingOnCustomer  = "waitingOnCustomer"
	TaskCustomerReplied    = "customerReplied"
	TaskEscalateDispute    = "escalateDispute"
	TaskClose              = "close"
	TaskReopen             = "reopen"
	TaskWithdraw           = "withdraw"
	TaskSurveyResponse     = "surveyResponse"
	TaskAddNote            = "addNote"
)

// Task is a human task's payload: it knows its own validation rules.
type Task interface {
	Validate() error
}

// AddNote puts a note on the case for everyone working on it.
type AddNote struct {
	Author string `json:"author" minLength:"1" maxLength:"128"`
	Text   string `json:"text" minLength:"1" maxLength:"4000"`
}

func (t AddNote) Validate() error {
	var c checker
	c.text("author", t.Author, true, 128)
	c.text("text", t.Text, true, 4000)
	return c.err()
}

// Withdraw records that the customer no longer wants the complaint handled.
type Withdraw struct {
	Reason string `json:"reason" minLength:"1" maxLength:"2000"`
	Actor  string `json:"actor,omitempty" maxLength:"128" doc:"Who passes on the withdrawal; the customer when absent."`
}

func (t Withdraw) Validate() error {
	var c checker
	c.text("reason", t.Reason, true, 2000)
	c.text("actor", t.Actor, false, 128)
	return c.err()
}

// ActorOr returns actor, or fallback when it is blank.
func ActorOr(actor, fallback string) string {
	if strings.TrimSpace(actor) == "" {
		return fallback
	}
	return actor
}
