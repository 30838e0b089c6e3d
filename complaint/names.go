// Package complaint is the language of the business: the case, its statuses,
// categories and departments, the intake payload and its validation, the
// routing table and the reference scheme. It is pure Go: no I/O and no
// Temporal client, so the workflow, the API and the CLI share one vocabulary.
package complaint

// TaskQueue is the Temporal task queue every case runs on.
const TaskQueue = "complaints"

// WorkflowName is the registered name of the case workflow.
const WorkflowName = "ComplaintWorkflow"

// QueryCase returns the case view (CaseView) of a running or closed case.
const QueryCase = "case"

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
