package complaint

import (
	"slices"
	"testing"
)

// The names other systems rely on, as INTERFACE.md writes them. They are
// written here, not read from this package's tables: a renamed value fails
// this test instead of breaking an upstream system, a saved UI view or a
// staff script.
func TestNamesAreTheOnesInterfaceMDPromises(t *testing.T) {
	for _, c := range []struct {
		what     string
		got      []string
		promised []string
	}{
		{"statuses (ComplaintStatus)", Names(Statuses), []string{"received", "acknowledged", "investigating",
			"resolution_proposed", "in_dispute", "resolving", "closed", "survey_pending", "completed", "withdrawn"}},
		{"priorities (ComplaintPriority)", Names(Priorities), []string{"low", "medium", "high", "critical"}},
		{"severities", Names(Severities), []string{"low", "medium", "high", "critical"}},
		{"channels", Names(Channels), []string{"phone", "email", "chat", "web", "social", "in_person", "partner"}},
		{"categories", Names(Categories), []string{"product_quality", "service_attitude", "after_sales", "logistics",
			"billing", "information", "process", "legal", "other"}},
		{"departments", Names(Departments), []string{"customer_service", "after_sales", "technical", "product",
			"logistics", "billing", "legal"}},
		{"desired outcomes", Names(DesiredOutcomes), []string{"refund", "replacement", "repair", "apology",
			"compensation", "explanation", "other"}},
		{"dispute stages", Names(DisputeStages), []string{"negotiation", "mediation", "arbitration", "litigation"}},
		{"closing outcomes", Names(Outcomes), []string{"upheld", "partially_upheld", "rejected", "withdrawn"}},
	} {
		got, promised := slices.Sorted(slices.Values(c.got)), slices.Sorted(slices.Values(c.promised))
		if !slices.Equal(got, promised) {
			t.Errorf("%s: %v, INTERFACE.md promises %v", c.what, c.got, c.promised)
		}
	}
	// Every human task of INTERFACE.md's table that the desk runs today,
	// by its update/signal name.
	for _, task := range []string{"assign", "route", "startInvestigation", "submitFindings", "proposeResolution",
		"customerResponse", "waitingOnCustomer", "customerReplied", "escalateDispute", "close", "reopen", "withdraw",
		"surveyResponse", "addNote", "approveCompensation", "confirmResolved"} {
		if !slices.Contains(Tasks, task) {
			t.Errorf("task %q of INTERFACE.md is not among the case's tasks %v", task, Tasks)
		}
	}
	// Intake's objectivity and impact fields, as INTERFACE.md names them.
	in, err := DecodeTask[Intake]([]byte(`{"channel":"web","customer":{"name":"A","email":"a@example.com"},"subject":"s",
		"description":"d","concerns":"waiter.zhang","impact":{"affectedCustomers":40,"batch":"B-7"}}`))
	if err != nil || in.Concerns != "waiter.zhang" || in.Impact == nil || in.Impact.AffectedCustomers != 40 || in.Impact.Batch != "B-7" {
		t.Errorf("intake's concerns and impact as INTERFACE.md names them: %+v, %v", in, err)
	}
	if TaskQueue != "complaints" || WorkflowID("CMP-20261122-4F7K2Q") != "complaint-CMP-20261122-4F7K2Q" ||
		DepartmentWorkflowID("CMP-20261122-4F7K2Q", "legal") != "complaint-CMP-20261122-4F7K2Q/dept-legal" {
		t.Errorf("task queue %q or workflow IDs differ from INTERFACE.md", TaskQueue)
	}
	promisedSA := map[string]SearchAttributeType{
		"ComplaintStatus": "Keyword", "ComplaintCategory": "Keyword", "ComplaintPriority": "Keyword",
		"ComplaintChannel": "Keyword", "CaseOwner": "Keyword", "Departments": "KeywordList", "EscalationLevel": "Int",
		"SlaBreached": "Bool", "NextDeadline": "Datetime",
	}
	for name, typ := range promisedSA {
		if SearchAttributes[name] != typ {
			t.Errorf("search attribute %s: %q, INTERFACE.md promises %s", name, SearchAttributes[name], typ)
		}
	}
}
