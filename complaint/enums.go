package complaint

import "slices"

// Channel is where a complaint came in (DOMAIN §3, sources).
type Channel string

const (
	ChannelPhone    Channel = "phone"
	ChannelEmail    Channel = "email"
	ChannelChat     Channel = "chat"
	ChannelWeb      Channel = "web"
	ChannelSocial   Channel = "social"
	ChannelInPerson Channel = "in_person"
	ChannelPartner  Channel = "partner"
)

var Channels = []Channel{ChannelPhone, ChannelEmail, ChannelChat, ChannelWeb, ChannelSocial, ChannelInPerson, ChannelPartner}

func (c Channel) Valid() bool { return slices.Contains(Channels, c) }

// Category is what the complaint is about (DOMAIN §3).
type Category string

const (
	CategoryProductQuality  Category = "product_quality"
	CategoryServiceAttitude Category = "service_attitude"
	CategoryAfterSales      Category = "after_sales"
	CategoryLogistics       Category = "logistics"
	CategoryBilling         Category = "billing"
	CategoryInformation     Category = "information"
	CategoryProcess         Category = "process"
	CategoryLegal           Category = "legal"
	CategoryOther           Category = "other"
)

var Categories = []Category{CategoryProductQuality, CategoryServiceAttitude, CategoryAfterSales, CategoryLogistics,
	CategoryBilling, CategoryInformation, CategoryProcess, CategoryLegal, CategoryOther}

func (c Category) Valid() bool { return slices.Contains(Categories, c) }

// Severity is how bad the problem is for the customer, as reported at intake.
type Severity string

const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

var Severities = []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

func (s Severity) Valid() bool { return slices.Contains(Severities, s) }

// Priority is the handling priority derived from severity, urgency and scope.
type Priority string

const (
	PriorityLow      Priority = "low"
	PriorityMedium   Priority = "medium"
	PriorityHigh     Priority = "high"
	PriorityCritical Priority = "critical"
)

var Priorities = []Priority{PriorityLow, PriorityMedium, PriorityHigh, PriorityCritical}

// DesiredOutcome is what the customer asks for.
type DesiredOutcome string

var DesiredOutcomes = []DesiredOutcome{"refund", "replacement", "repair", "apology", "compensation", "explanation", "other"}

func (d DesiredOutcome) Valid() bool { return slices.Contains(DesiredOutcomes, d) }

// Department is a team that investigates complaints.
type Department string

const (
	DeptCustomerService Department = "customer_service"
	DeptAfterSales      Department = "after_sales"
	DeptTechnical       Department = "technical"
	DeptProduct         Department = "product"
	DeptLogistics       Department = "logistics"
	DeptBilling         Department = "billing"
	DeptLegal           Department = "legal"
)

var Departments = []Department{DeptCustomerService, DeptAfterSales, DeptTechnical, DeptProduct, DeptLogistics, DeptBilling, DeptLegal}

// Status is where a case stands; it is also the ComplaintStatus search attribute.
type Status string

const (
	StatusReceived           Status = "received"
	StatusAcknowledged       Status = "acknowledged"
	StatusInvestigating      Status = "investigating"
	StatusResolutionProposed Status = "resolution_proposed"
	StatusInDispute          Status = "in_dispute"
	StatusResolving          Status = "resolving"
	StatusClosed             Status = "closed"
	StatusSurveyPending      Status = "survey_pending"
	StatusCompleted          Status = "completed"
	StatusWithdrawn          Status = "withdrawn"
)

var Statuses = []Status{StatusReceived, StatusAcknowledged, StatusInvestigating, StatusResolutionProposed, StatusInDispute,
	StatusResolving, StatusClosed, StatusSurveyPending, StatusCompleted, StatusWithdrawn}

func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

func names[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// Names returns the string values of an enumeration, in order.
func Names[T ~string](values []T) []string { return names(values) }
