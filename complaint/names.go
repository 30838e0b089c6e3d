// Package complaint is the language of the business: the case, its statuses,
// categories and departments, the intake payload and its validation, the
// routing table and the reference scheme. It is pure Go: no I/O and no
// Temporal client, so the workflow, the API and the CLI share one vocabulary.
package complaint

import "time"

// TaskQueue is the Temporal task queue every case runs on.
const TaskQueue = "complaints"

// WorkflowName is the registered name of the case workflow.
const WorkflowName = "ComplaintWorkflow"

// QueryCase returns the case view (CaseView) of a running or closed case.
const QueryCase = "case"

// QueryTasks returns, for every task of Tasks in that order, whether the
// case's state lets it be done now ([]TaskState): whoever asks and whatever
// the payload, which the caller's role and the task's own checks decide.
const QueryTasks = "tasks"

// TaskState is whether a task can be done on a case now, and why not.
type TaskState struct {
	Name    string `json:"name"`
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason,omitempty" doc:"Why the task cannot be done now."`
}

// Search attribute keys (INTERFACE.md). They never hold personal data.
const (
	SAStatus          = "ComplaintStatus"
	SACategory        = "ComplaintCategory"
	SAPriority        = "ComplaintPriority"
	SAChannel         = "ComplaintChannel"
	SAOwner           = "CaseOwner"
	SADepartments     = "Departments"
	SAEscalationLevel = "EscalationLevel"
	SASlaBreached     = "SlaBreached"
	SANextDeadline    = "NextDeadline"
)

// SearchAttributeType is the indexed type of a search attribute, spelled as
// Temporal's operator API and CLI spell it.
type SearchAttributeType string

const (
	SATypeKeyword     SearchAttributeType = "Keyword"
	SATypeKeywordList SearchAttributeType = "KeywordList"
	SATypeInt         SearchAttributeType = "Int"
	SATypeBool        SearchAttributeType = "Bool"
	SATypeDatetime    SearchAttributeType = "Datetime"
)

// SearchAttributes lists every custom search attribute a namespace needs.
var SearchAttributes = map[string]SearchAttributeType{
	SAStatus:          SATypeKeyword,
	SACategory:        SATypeKeyword,
	SAPriority:        SATypeKeyword,
	SAChannel:         SATypeKeyword,
	SAOwner:           SATypeKeyword,
	SADepartments:     SATypeKeywordList,
	SAEscalationLevel: SATypeInt,
	SASlaBreached:     SATypeBool,
	SANextDeadline:    SATypeDatetime,
}

// MemoIntakeKey is the memo field holding the SHA-256 of the idempotency key a
// case was started with; it tells a retried submission from a reference clash.
const MemoIntakeKey = "intakeKey"

// Error types of a rejected task, which the starter maps onto HTTP
// statuses: a payload that breaks the task's rules (422), a task the case
// cannot take in its state (409).
const (
	ErrTypeInvalidTask  = "InvalidTask"
	ErrTypeCaseConflict = "CaseConflict"
)

// RedeliveryWorkflowName is the registered name of the workflow that sends
// a failed webhook again at an operator's request.
const RedeliveryWorkflowName = "RedeliverWebhook"

// Redelivery is the redelivery workflow's input: the failed webhook
// delivery to send again.
type Redelivery struct {
	DeliveryID string
}

// RedeliveryWorkflowID names the redelivery of one delivery: a second
// request while one runs meets it instead of sending twice.
func RedeliveryWorkflowID(deliveryID string) string { return "redeliver-" + deliveryID }

// StepNames are the steps a case records in its audit trail, each also
// the webhook event complaint.<step> its upstream system receives.
var StepNames = []string{"received", "repeat_detected", "acknowledged", "assigned", "routed", "investigation_started",
	"findings_submitted", "resolution_proposed", "resolution_accepted", "resolution_rejected", "resolution_executed",
	"waiting_on_customer", "customer_replied", "dispute_negotiation", "dispute_mediation", "dispute_arbitration",
	"dispute_litigation", "note", "sla_warning", "sla_escalated", "policy_applied", "closed", "reopened", "withdrawn",
	"survey_sent", "survey_reminded", "survey_answered", "survey_expired"}

// WebhookEvent is what an upstream system receives for every step of a
// case it submitted. It carries no personal data: no step summary, which
// may hold the customer's words (a withdrawal's reason); the system reads
// the case through the API for more.
type WebhookEvent struct {
	ID         string    `json:"id" doc:"The delivery's Webhook-Id: the case and the step, unique per event; drop an id you have seen."`
	Type       string    `json:"type" doc:"complaint.<step>"`
	Reference  string    `json:"reference"`
	WorkflowID string    `json:"workflowId"`
	OccurredAt time.Time `json:"occurredAt"`
	Step       string    `json:"step"`
	Actor      string    `json:"actor" doc:"Who took the step: a staff member, the customer or system."`
	Status     string    `json:"status" doc:"The case's status after the step."`
	Round      int       `json:"round" doc:"Investigation round: 1, then one more for every reopening."`
}
