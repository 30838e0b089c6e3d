package complaint

import (
	"fmt"
	"slices"
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
	// TaskApplyPolicy re-applies today's SLA policy to an open case (admin).
	TaskApplyPolicy = "applyPolicy"
)

// Tasks lists every human task, in the order of a case's life.
var Tasks = []string{TaskAssign, TaskRoute, TaskStartInvestigation, TaskSubmitFindings, TaskProposeResolution,
	TaskCustomerResponse, TaskWaitingOnCustomer, TaskCustomerReplied, TaskEscalateDispute, TaskClose, TaskReopen,
	TaskWithdraw, TaskSurveyResponse, TaskAddNote, TaskApplyPolicy, TaskApproveCompensation, TaskConfirmResolved,
	TaskCompleteFollowUp,
	TaskCustomerMessage, // the customer's own message (complaint/customer.go)
}

// StaffTasks are the tasks staff and upstream systems run through the API
// (POST /v1/complaints/{reference}/{task}): every task but the customer's
// own message, which reaches a case by mail or the status page only.
var StaffTasks = slices.DeleteFunc(slices.Clone(Tasks), func(t string) bool { return t == TaskCustomerMessage })

// Task is a human task's payload: it knows its own validation rules.
type Task interface {
	Validate() error
}

// Every payload may name who performs the task; the workflow records it in
// the audit trail. Authentication (when configured) fills it from the caller.

// Assign hands the case to another owner (首问责任制: transfers are explicit).
type Assign struct {
	Owner  string `json:"owner" minLength:"1" maxLength:"128"`
	Reason string `json:"reason" minLength:"1" maxLength:"2000"`
	Actor  string `json:"actor,omitempty" maxLength:"128" doc:"Who makes the transfer; the current owner when absent."`
}

func (t Assign) Validate() error {
	var c checker
	c.text("owner", t.Owner, true, 128)
	c.text("reason", t.Reason, true, 2000)
	c.text("actor", t.Actor, false, 128)
	return c.err()
}

// Route sets the departments that investigate the case.
type Route struct {
	Departments []Department `json:"departments" minItems:"1" maxItems:"20" uniqueItems:"true"`
	Reason      string       `json:"reason" minLength:"1" maxLength:"2000"`
	Actor       string       `json:"actor,omitempty" maxLength:"128"`
}

func (t Route) Validate() error {
	var c checker
	if len(t.Departments) == 0 {
		c.add("departments", "needs at least one department")
	}
	for i, d := range t.Departments {
		if !departmentPattern.MatchString(string(d)) {
			c.add(fmt.Sprintf("departments[%d]", i), "must be a department key such as %s", strings.Join(names(Departments), ", "))
		}
		if slices.Index(t.Departments, d) != i {
			c.add(fmt.Sprintf("departments[%d]", i), "repeats %s", d)
		}
	}
	c.text("reason", t.Reason, true, 2000)
	c.text("actor", t.Actor, false, 128)
	return c.err()
}

// StartInvestigation is a department taking up its part of the case.
type StartInvestigation struct {
	Department   Department `json:"department" pattern:"^[a-z][a-z0-9_]{1,63}$"`
	Investigator string     `json:"investigator" minLength:"1" maxLength:"128"`
}

func (t StartInvestigation) Validate() error {
	var c checker
	c.department(t.Department)
	c.text("investigator", t.Investigator, true, 128)
	return c.err()
}

// SubmitFindings is a department's report.
type SubmitFindings struct {
	Department Department `json:"department" pattern:"^[a-z][a-z0-9_]{1,63}$"`
	Findings   string     `json:"findings" minLength:"1" maxLength:"10000"`
	RootCause  string     `json:"rootCause" minLength:"1" maxLength:"2000"`
	Evidence   []string   `json:"evidence" maxItems:"50" doc:"References to records, recordings, photos or third-party statements."`
	Actor      string     `json:"actor,omitempty" maxLength:"128" doc:"Who reports; the investigator when absent."`
}

func (t SubmitFindings) Validate() error {
	var c checker
	c.department(t.Department)
	c.text("findings", t.Findings, true, 10000)
	c.text("rootCause", t.RootCause, true, 2000)
	if len(t.Evidence) > 50 {
		c.add("evidence", "has more than 50 items")
	}
	for i, e := range t.Evidence {
		c.text(fmt.Sprintf("evidence[%d]", i), e, true, 2000)
	}
	c.text("actor", t.Actor, false, 128)
	return c.err()
}

// Compensation is what the customer is offered.
type Compensation struct {
	Kind     string `json:"kind" enum:"none,refund,replacement,repair,voucher,apology,credit,other"`
	Amount   string `json:"amount,omitempty" pattern:"^[0-9]{1,9}(\\.[0-9]{1,2})?$" doc:"Decimal amount, e.g. 200 or 199.90."`
	Currency string `json:"currency,omitempty" pattern:"^[A-Z]{3}$" doc:"ISO 4217 code, e.g. CNY."`
}

// CompensationKinds are the forms compensation takes.
var CompensationKinds = []string{"none", "refund", "replacement", "repair", "voucher", "apology", "credit", "other"}

// ProposeResolution is the owner's proposal to the customer.
type ProposeResolution struct {
	Actions      []string     `json:"actions" minItems:"1" maxItems:"20" doc:"Corrective actions and follow-up guarantees."`
	Compensation Compensation `json:"compensation"`
	Message      string       `json:"message" minLength:"1" maxLength:"4000" doc:"What the customer is told."`
	Actor        string       `json:"actor,omitempty" maxLength:"128"`
}

func (t ProposeResolution) Validate() error {
	var c checker
	if len(t.Actions) == 0 {
		c.add("actions", "needs at least one action")
	}
	if len(t.Actions) > 20 {
		c.add("actions", "has more than 20 items")
	}
	for i, a := range t.Actions {
		c.text(fmt.Sprintf("actions[%d]", i), a, true, 500)
	}
	comp := t.Compensation
	if !slices.Contains(CompensationKinds, comp.Kind) {
		c.add("compensation.kind", "must be one of %s", strings.Join(CompensationKinds, ", "))
	}
	if comp.Amount != "" && !amountPattern.MatchString(comp.Amount) {
		c.add("compensation.amount", "must be a decimal amount such as 200 or 199.90")
	}
	if comp.Currency != "" && !currencyPattern.MatchString(comp.Currency) {
		c.add("compensation.currency", "must be an ISO 4217 code such as CNY")
	}
	if (comp.Amount == "") != (comp.Currency == "") {
		c.add("compensation", "amount and currency go together")
	}
	c.text("message", t.Message, true, 4000)
	c.text("actor", t.Actor, false, 128)
	return c.err()
}

// CustomerResponse is the customer's answer to a proposal.
type CustomerResponse struct {
	Accepted *bool  `json:"accepted" doc:"Whether the customer accepts the proposed resolution."`
	Comment  string `json:"comment,omitempty" maxLength:"4000"`
	// Channel is how the customer gave the answer staff pass on; through
	// the API, the case's own channel when absent.
	Channel Channel `json:"channel,omitempty" enum:"phone,email,chat,web,social,in_person,partner" doc:"How the customer gave the answer staff pass on (a call: phone); the channel the complaint came by when absent."`
	Actor   string  `json:"actor,omitempty" maxLength:"200" doc:"Who passes on the answer; the customer when absent. Through the API: the caller, on the customer's behalf."`
}

func (t CustomerResponse) Validate() error {
	var c checker
	if t.Accepted == nil {
		c.add("accepted", "is required")
	}
	c.text("comment", t.Comment, false, 4000)
	if t.Channel != "" && !t.Channel.Valid() {
		c.add("channel", "must be one of %s", strings.Join(names(Channels), ", "))
	}
	c.text("actor", t.Actor, false, 200)
	return c.err()
}

// Reason is the payload of the tasks that only need a why:
// waitingOnCustomer, customerReplied, reopen and withdraw.
type Reason struct {
	Reason string `json:"reason" minLength:"1" maxLength:"2000"`
	Actor  string `json:"actor,omitempty" maxLength:"128"`
}

func (t Reason) Validate() error {
	var c checker
	c.text("reason", t.Reason, true, 2000)
	c.text("actor", t.Actor, false, 128)
	return c.err()
}

// DisputeStage is a step of the dispute path (DOMAIN §1.6), in order.
type DisputeStage string

var DisputeStages = []DisputeStage{"negotiation", "mediation", "arbitration", "litigation"}

// EscalateDispute moves a case that found no agreement up the dispute path.
type EscalateDispute struct {
	Stage DisputeStage `json:"stage" enum:"negotiation,mediation,arbitration,litigation"`
	Note  string       `json:"note" minLength:"1" maxLength:"4000"`
	// SkipReason lets a supervisor take the case past the next stage.
	SkipReason string `json:"skipReason,omitempty" maxLength:"2000" doc:"Why the dispute skips a stage; supervisors and above only."`
	Actor      string `json:"actor,omitempty" maxLength:"128"`
}

func (t EscalateDispute) Validate() error {
	var c checker
	if !slices.Contains(DisputeStages, t.Stage) {
		c.add("stage", "must be one of %s", strings.Join(names(DisputeStages), ", "))
	}
	c.text("note", t.Note, true, 4000)
	c.text("skipReason", t.SkipReason, false, 2000)
	c.text("actor", t.Actor, false, 128)
	return c.err()
}

// Outcome is how a closed case ended.
type Outcome string

const (
	OutcomeUpheld          Outcome = "upheld"
	OutcomePartiallyUpheld Outcome = "partially_upheld"
	OutcomeRejected        Outcome = "rejected"
	OutcomeWithdrawn       Outcome = "withdrawn"
)

var Outcomes = []Outcome{OutcomeUpheld, OutcomePartiallyUpheld, OutcomeRejected, OutcomeWithdrawn}

// Close ends the handling of a case with an outcome. The closing rules
// (DOMAIN §1.6: no closing without agreement) are the workflow's: upheld and
// partially_upheld need a resolution the customer accepted, carried out;
// rejected needs every department's findings; a case in dispute closes on
// an agreement, or on the final Decision of its last stage.
type Close struct {
	Outcome Outcome `json:"outcome" enum:"upheld,partially_upheld,rejected,withdrawn"`
	Summary string  `json:"summary" minLength:"1" maxLength:"4000"`
	// Decision is the award or judgment that ends a dispute at arbitration
	// or litigation, as the owner records it.
	Decision string `json:"decision,omitempty" maxLength:"4000" doc:"The final decision (arbitration award or judgment) that ends a case in dispute at arbitration or litigation."`
	Actor    string `json:"actor,omitempty" maxLength:"128"`
}

func (t Close) Validate() error {
	var c checker
	if !slices.Contains(Outcomes, t.Outcome) {
		c.add("outcome", "must be one of %s", strings.Join(names(Outcomes), ", "))
	}
	c.text("summary", t.Summary, true, 4000)
	c.text("decision", t.Decision, false, 4000)
	c.text("actor", t.Actor, false, 128)
	return c.err()
}

// FinalDisputeStages are the stages whose decision can end a dispute: an
// arbitration award or a court's judgment (DOMAIN §1.6).
var FinalDisputeStages = []DisputeStage{"arbitration", "litigation"}

// SurveyResponse is the customer's satisfaction after closing.
type SurveyResponse struct {
	Score   int    `json:"score" minimum:"1" maximum:"5"`
	Comment string `json:"comment,omitempty" maxLength:"4000"`
}

func (t SurveyResponse) Validate() error {
	var c checker
	if t.Score < 1 || t.Score > 5 {
		c.add("score", "must be from 1 to 5")
	}
	c.text("comment", t.Comment, false, 4000)
	return c.err()
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

// Withdraw is kept as the name of the withdrawal payload.
type Withdraw = Reason

// ActorOr returns actor, or fallback when it is blank.
func ActorOr(actor, fallback string) string {
	if strings.TrimSpace(actor) == "" {
		return fallback
	}
	return actor
}

// ApplyPolicy replaces an open case's SLA targets with today's; the API
// fills SLA from the configuration for the case's priority and category.
type ApplyPolicy struct {
	Reason string   `json:"reason" minLength:"1" maxLength:"2000"`
	Actor  string   `json:"actor,omitempty" maxLength:"128"`
	SLA    *CaseSLA `json:"sla,omitempty" doc:"Filled by the API from the configuration in force."`
}

func (t ApplyPolicy) Validate() error {
	var c checker
	c.text("reason", t.Reason, true, 2000)
	c.text("actor", t.Actor, false, 128)
	if s := t.SLA; s != nil && (s.Acknowledge <= 0 || s.FirstResponse <= 0 || s.Resolution <= 0 || s.DefaultStart <= 0 ||
		s.WarnAt <= 0 || s.WarnAt >= 1 || s.EscalateEvery <= 0) {
		c.add("sla", "every target must be positive and warnAt between 0 and 1")
	}
	return c.err()
}
