package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/danielgtaylor/huma/v2"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

var (
	system     = auth.RoleSystem
	agent      = auth.RoleAgent
	department = auth.RoleDepartment
	supervisor = auth.RoleSupervisor
	manager    = auth.RoleManager
	director   = auth.RoleDirector
	operator   = auth.RoleOperator
	admin      = auth.RoleAdmin
)

// permissions says which roles may call each operation (by operation id).
// Beyond the role, an agent acts only on the cases they own, department
// staff only on their departments' part, and a system reads only the cases
// it submitted. Every operation must be listed: Handler panics otherwise.
var permissions = map[string][]auth.Role{
	"submitComplaint": {system, agent, supervisor, manager, director, admin},
	"getComplaint":    {system, agent, department, supervisor, manager, director, operator, admin},
	// The tasks a caller may do on a case now: whoever may read cases.
	"listTasks":      {agent, department, supervisor, manager, director, operator, admin},
	"listComplaints": {agent, department, supervisor, manager, director, operator, admin},
	"reportSummary":  {supervisor, manager, director, operator, admin},
	"eraseCustomer":  {admin},
	"listDeliveries": {supervisor, manager, director, operator, admin},
	"healthz":        nil, // public: handled before authentication
	"readyz":         nil,
	"answerSurvey":   nil, // public: the survey link's signed token is the credential

	"task-" + complaint.TaskAssign:             {agent, supervisor, manager, director, admin},
	"task-" + complaint.TaskRoute:              {agent, supervisor, manager, director, admin},
	"task-" + complaint.TaskStartInvestigation: {department, supervisor, manager, director, admin},
	"task-" + complaint.TaskSubmitFindings:     {department, supervisor, manager, director, admin},
	"task-" + complaint.TaskProposeResolution:  {agent, supervisor, manager, director, admin},
	"task-" + complaint.TaskCustomerResponse:   {agent, supervisor, manager, director, admin},
	"task-" + complaint.TaskWaitingOnCustomer:  {agent, supervisor, manager, director, admin},
	"task-" + complaint.TaskCustomerReplied:    {agent, supervisor, manager, director, admin},
	"task-" + complaint.TaskEscalateDispute:    {agent, supervisor, manager, director, admin},
	"task-" + complaint.TaskClose:              {agent, supervisor, manager, director, admin},
	"task-" + complaint.TaskReopen:             {agent, supervisor, manager, director, admin},
	"task-" + complaint.TaskWithdraw:           {agent, supervisor, manager, director, admin},
	// The customer answers the survey through the signed link; staff enter
	// what the customer said only from supervisor up, and only on a case
	// they had no hand in (canAct).
	"task-" + complaint.TaskSurveyResponse: {supervisor, manager, director, admin},
	"task-" + complaint.TaskAddNote:        {agent, department, supervisor, manager, director, admin},
	"task-" + complaint.TaskApplyPolicy:    {admin},
	// A compensation above the limit: supervisors and above, never the
	// proposer (the workflow checks that).
	"task-" + complaint.TaskApproveCompensation: {supervisor, manager, director, admin},
	// The owner records the customer's word on their behalf, like an answer.
	"task-" + complaint.TaskConfirmResolved:  {agent, supervisor, manager, director, admin},
	"task-" + complaint.TaskCompleteFollowUp: {agent, supervisor, manager, director, admin},

	// A failed webhook sent again: the operators who watch deliveries.
	"redeliverDelivery": {operator, admin},
	// The managers' breakdown and the cases behind its figures: the
	// readers of the reports.
	"reportBreakdown":  {supervisor, manager, director, operator, admin},
	"reportDimensions": {supervisor, manager, director, operator, admin},
	"reportCases":      {supervisor, manager, director, operator, admin},

	// The customer's files: the people who handle the customer (canAct's
	// limits for agents and departments), not systems or operators.
	"listAttachments": {agent, department, supervisor, manager, director, admin},
	"getAttachment":   {agent, department, supervisor, manager, director, admin},
}

// codecRoles may read decoded payloads through the codec server: the
// people who watch cases in the Temporal UI.
var codecRoles = []auth.Role{operator, supervisor, manager, director, admin}

// metricsRoles may read the API's Prometheus metrics: a scraper holds an
// operator token.
var metricsRoles = []auth.Role{operator, admin}

// onlyFor serves h to the roles given, 403 to the others, for the routes
// outside the OpenAPI document (the codec server, the metrics).
func onlyFor(roles []auth.Role, what string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if role := caller(r.Context()).Role; !slices.Contains(roles, role) {
			writeProblem(w, http.StatusForbidden, "role "+string(role)+" may not "+what)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// SubmitterStore records and reads which system submitted a case;
// *store.Store is one.
type SubmitterStore interface {
	// RecordSubmitter records system as the case's submitter unless one is
	// on record already, and returns the one on record.
	RecordSubmitter(ctx context.Context, reference, system, keyID string) (string, error)
	Submitter(ctx context.Context, reference string) (string, error)
}

// canRead checks the case-dependent part of reading a case.
func (s *Server) canRead(ctx context.Context, id auth.Identity, v complaint.CaseView) error {
	switch id.Role {
	case system:
		if s.Submitters == nil {
			return errNotYours
		}
		sys, err := s.Submitters.Submitter(ctx, v.Reference)
		if errors.Is(err, store.ErrNotFound) || err == nil && sys != id.System {
			return errNotYours
		}
		if err != nil {
			return storeProblem(err)
		}
	case department:
		return routedTo(id, v)
	}
	return nil
}

// A system asking for a case it did not submit learns nothing of it.
var errNotYours = huma.Error404NotFound("no case has this reference")

// canAct checks the case-dependent part of a task: an agent acts on cases
// they own; department staff report for their own departments, and note
// cases routed to them. The case is read only when the check needs it.
func (s *Server) canAct(ctx context.Context, id auth.Identity, ref, task string, body any) error {
	var v complaint.CaseView
	_, departmental := body.(*complaint.StartInvestigation)
	if _, ok := body.(*complaint.SubmitFindings); ok {
		departmental = true
	}
	if task == complaint.TaskSurveyResponse || id.Role == agent || id.Role == department && !departmental {
		var err error
		if v, err = s.Cases.Case(ctx, ref); err != nil {
			return problem(err)
		}
	}
	return actCheck(id, v, task, body)
}

// actCheck is the case-dependent part of a task on the case v, for the
// payload body (nil: any payload, as the tasks list asks).
func actCheck(id auth.Identity, v complaint.CaseView, task string, body any) error {
	if t, ok := body.(*complaint.EscalateDispute); ok && t.SkipReason != "" && (id.Role == agent || id.Role == department) {
		return forbidden("skipping a dispute stage is for supervisors and above")
	}
	if task == complaint.TaskSurveyResponse {
		if handled(v, id.Subject) {
			return forbidden("%s handled %s: the satisfaction answer comes from the customer, or from a supervisor who did not", id.Subject, v.Reference)
		}
		return nil
	}
	switch id.Role {
	case agent:
		if v.Owner == id.Subject {
			return nil
		}
		// A case the desk owns (its intake named no first-contact employee)
		// awaits a person: an agent takes it, for themselves.
		if task == complaint.TaskAssign && v.Owner == complaint.DefaultOwner {
			if a, ok := body.(*complaint.Assign); ok && a.Owner != id.Subject {
				return forbidden("an agent takes a case the desk owns for themselves, not for %s", a.Owner)
			}
			return nil
		}
		return forbidden("agents act on the cases they own; %s is owned by %s", v.Reference, v.Owner)
	case department:
		var d complaint.Department
		switch t := body.(type) {
		case *complaint.StartInvestigation:
			d = t.Department
		case *complaint.SubmitFindings:
			d = t.Department
		default:
			return routedTo(id, v)
		}
		if !id.InDepartment(string(d)) {
			return forbidden("you work for %v, not %s", id.Departments, d)
		}
	}
	return nil
}

// routedTo checks that a department member's departments include one the
// case is routed to.
func routedTo(id auth.Identity, v complaint.CaseView) error {
	if !slices.ContainsFunc(v.Departments, func(d complaint.Department) bool { return id.InDepartment(string(d)) }) {
		return forbidden("the case is not routed to your departments")
	}
	return nil
}

// handled reports whether who had a hand in the case: its owner, an
// investigator, the author of a proposal or anyone its history names.
func handled(v complaint.CaseView, who string) bool {
	if v.Owner == who {
		return true
	}
	for _, p := range v.Investigation {
		if p.Investigator == who {
			return true
		}
	}
	for _, r := range v.Resolutions {
		if r.ProposedBy == who {
			return true
		}
	}
	for _, e := range v.History {
		if e.Actor == who {
			return true
		}
	}
	return false
}

// setActor makes the caller the actor the audit trail records: the body's
// own actor field is not trusted.
func setActor(body any, id auth.Identity) {
	actor := id.Subject
	switch t := body.(type) {
	case *complaint.Assign:
		t.Actor = actor
	case *complaint.Route:
		t.Actor = actor
	case *complaint.SubmitFindings:
		t.Actor = actor
	case *complaint.ProposeResolution:
		t.Actor = actor
	case *complaint.CustomerResponse:
		// Staff pass on the customer's answer (a call, a letter): recorded as
		// given on the customer's behalf, by whom and through which channel.
		t.Actor = fmt.Sprintf("%s for the customer (%s)", actor, t.Channel)
	case *complaint.Reason:
		t.Actor = actor
	case *complaint.EscalateDispute:
		t.Actor = actor
	case *complaint.Close:
		t.Actor = actor
	case *complaint.ApplyPolicy:
		t.Actor = actor
	case *complaint.AddNote:
		t.Author = actor
	case *complaint.ApproveCompensation:
		t.Actor = actor
	case *complaint.ConfirmResolved:
		t.Actor = fmt.Sprintf("%s for the customer", actor)
	case *complaint.CompleteFollowUp:
		t.Actor = actor
	}
}
