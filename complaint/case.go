package complaint

import "time"

// NewCase is a registered complaint as the starter hands it to the workflow:
// the intake plus what was decided at registration (reference, category,
// priority, route, owner). Decided once, outside the workflow, so that a later
// change to the classifier never changes a running case on replay.
type NewCase struct {
	Reference   string       `json:"reference"`
	ReceivedAt  time.Time    `json:"receivedAt"`
	Intake      Intake       `json:"intake"`
	Category    Category     `json:"category"`
	Classified  bool         `json:"classified"` // category chosen by Classify, not the submitter
	Priority    Priority     `json:"priority"`
	Departments []Department `json:"departments"`
	Owner       string       `json:"owner"`
}

// DefaultOwner owns a case whose intake named no first-contact employee: the
// customer-service desk, until a person takes it with `assign`.
const DefaultOwner = "customer_service_desk"

// Register turns a validated intake into a new case.
func Register(in Intake, reference string, receivedAt time.Time, routing RoutingTable) NewCase {
	in = in.Normalize()
	c := NewCase{Reference: reference, ReceivedAt: receivedAt, Intake: in, Category: in.Category, Owner: in.ReceivedBy}
	if c.Category == "" {
		c.Category = Classify(in.Subject, in.Description)
		c.Classified = true
	}
	if c.Owner == "" {
		c.Owner = DefaultOwner
	}
	c.Priority = PriorityFor(in.Severity, in.Channel, c.Category)
	c.Departments = routing.Route(c.Category)
	return c
}

// ClockState is where one deadline stands.
type ClockState string

const (
	ClockRunning  ClockState = "running"
	ClockMet      ClockState = "met"
	ClockBreached ClockState = "breached"
)

// Deadline is one SLA clock of a case.
type Deadline struct {
	Name  string     `json:"name"`
	DueAt time.Time  `json:"dueAt"`
	State ClockState `json:"state"`
	MetAt *time.Time `json:"metAt,omitempty"`
}

// Event is one recorded step of a case, as shown in its history.
type Event struct {
	At      time.Time `json:"at"`
	Step    string    `json:"step"`
	Actor   string    `json:"actor"`
	Summary string    `json:"summary"`
}

// CaseView is the case as it stands: the answer to the `case` query and to
// GET /v1/complaints/{reference}. Customer contact details are left out.
type CaseView struct {
	Reference       string       `json:"reference"`
	WorkflowID      string       `json:"workflowId"`
	Status          Status       `json:"status"`
	Owner           string       `json:"owner"`
	Channel         Channel      `json:"channel"`
	Category        Category     `json:"category"`
	Severity        Severity     `json:"severity"`
	Priority        Priority     `json:"priority"`
	Departments     []Department `json:"departments"`
	Subject         string       `json:"subject"`
	ExternalID      string       `json:"externalId,omitempty"`
	OrderID         string       `json:"orderId,omitempty"`
	ReceivedAt      time.Time    `json:"receivedAt"`
	AcknowledgedAt  *time.Time   `json:"acknowledgedAt,omitempty"`
	Deadlines       []Deadline   `json:"deadlines"`
	EscalationLevel int          `json:"escalationLevel"`
	History         []Event      `json:"history"`
}
