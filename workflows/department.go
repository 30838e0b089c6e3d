package workflows

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// DepartmentWorkflowName is the registered name of the department child.
const DepartmentWorkflowName = "DepartmentInvestigation"

// QueryDepartment returns a department investigation's progress.
const QueryDepartment = "department"

// DepartmentAssignment is what a department is asked to investigate.
type DepartmentAssignment struct {
	Reference  string               `json:"reference"`
	Department complaint.Department `json:"department"`
	Round      int                  `json:"round"`
	Subject    string               `json:"subject"`
	Category   complaint.Category   `json:"category"`
	Priority   complaint.Priority   `json:"priority"`
	// Progress is where the department stands when its workflow starts:
	// investigating since a time, by someone. The case starts the child
	// when the department starts investigating.
	Progress complaint.DepartmentProgress `json:"progress"`
}

// DepartmentInvestigationWorkflow is one department's part of a case: from
// its start it waits for the department's findings, which it returns to the
// case. The case forwards the findings here as a signal, after validating
// them against the whole case.
func DepartmentInvestigationWorkflow(ctx workflow.Context, in DepartmentAssignment) (complaint.DepartmentProgress, error) {
	p := in.Progress
	if err := workflow.SetQueryHandlerWithOptions(ctx, QueryDepartment,
		func() (complaint.DepartmentProgress, error) { return p, nil },
		workflow.QueryHandlerOptions{Description: "This department's progress on the case."},
	); err != nil {
		return p, err
	}
	logger := workflow.GetLogger(ctx)
	show := func() {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**%s** on %s (round %d): %s\n\nNext: %s",
			in.Department, in.Reference, in.Round, p.State, departmentNextTask(p)))
	}
	show()

	findings := workflow.GetSignalChannel(ctx, complaint.TaskSubmitFindings)
	cancelled := false
	for p.State != complaint.DeptReported {
		sel := workflow.NewSelector(ctx)
		// The case cancels a department it no longer routes to.
		sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) { cancelled = true })
		sel.AddReceive(findings, func(ch workflow.ReceiveChannel, _ bool) {
			var raw json.RawMessage
			ch.Receive(ctx, &raw)
			t, err := complaint.DecodeTask[complaint.SubmitFindings](raw) //workflowcheck:ignore
			switch {
			case err != nil:
				logger.Warn("Ignored an invalid signal", "signal", complaint.TaskSubmitFindings, "error", err)
			case t.Department != in.Department || p.State != complaint.DeptInvestigating:
				logger.Warn("Ignored findings for another department or before the start", "department", t.Department)
			default:
				now := workflow.Now(ctx)
				p.State, p.ReportedAt = complaint.DeptReported, &now
				p.Findings, p.RootCause, p.Evidence = t.Findings, t.RootCause, t.Evidence
			}
		})
		sel.Select(ctx)
		if cancelled {
			return p, temporal.NewCanceledError("the case no longer routes to " + string(in.Department))
		}
		show()
	}
	return p, nil
}

func departmentNextTask(p complaint.DepartmentProgress) string {
	switch p.State {
	case complaint.DeptPending:
		return "`startInvestigation`"
	case complaint.DeptInvestigating:
		return "`submitFindings`"
	}
	return "nothing: reported"
}

// startDepartments starts the child workflow of each department that has
// started investigating and has yet to report (the others start theirs
// with their investigation). Each department is taken as it stands when its
// turn comes: waiting for one's cancelled child, the case may have moved on.
func (w *caseWorkflow) startDepartments(ctx workflow.Context) error {
	depts := make([]complaint.Department, len(w.View.Investigation))
	for i, p := range w.View.Investigation {
		depts[i] = p.Department
	}
	for _, d := range depts {
		p := w.progress(d)
		if p == nil || p.State != complaint.DeptInvestigating {
			continue
		}
		if err := w.startDepartment(ctx, d); err != nil && !errors.Is(err, errNotInvestigating) {
			return err
		}
	}
	return nil
}

// errNotInvestigating is a department that stopped investigating this case
// (routed away, or the case withdrawn) while its cancelled child was ending.
var errNotInvestigating = errors.New("the department no longer investigates this case")

// startDepartment starts a department's child workflow unless one runs, and
// takes its findings into the case when it returns. A child that is being
// cancelled holds the department's workflow ID: wait until it has ended.
func (w *caseWorkflow) startDepartment(ctx workflow.Context, d complaint.Department) error {
	if old := w.children[d]; old != nil && old.cancelled {
		if err := workflow.Await(ctx, func() bool { return w.children[d] != old }); err != nil {
			return err
		}
	}
	if w.children[d] != nil {
		return nil
	}
	// The department may have left the case, or the case ended, while a
	// cancelled child was ending.
	p := w.progress(d)
	if p == nil || p.State == complaint.DeptPending || w.ended() {
		return errNotInvestigating
	}
	cctx, cancel := workflow.WithCancel(ctx)
	cctx = workflow.WithChildOptions(cctx, workflow.ChildWorkflowOptions{
		WorkflowID:            complaint.DepartmentWorkflowID(w.View.Reference, d),
		StaticSummary:         fmt.Sprintf("%s investigates %s (round %d)", d, w.View.Reference, w.View.Round),
		ParentClosePolicy:     enums.PARENT_CLOSE_POLICY_TERMINATE,
		WaitForCancellation:   true,
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	})
	// The child starts investigating: it is started by the department's
	// start, or again for its findings when it is no longer running.
	in := DepartmentAssignment{Reference: w.View.Reference, Department: d, Round: w.View.Round,
		Subject: w.View.Subject, Category: w.View.Category, Priority: w.View.Priority,
		Progress: complaint.DepartmentProgress{Department: d, State: complaint.DeptInvestigating,
			Investigator: p.Investigator, StartedAt: p.StartedAt}}
	c := &child{future: workflow.ExecuteChildWorkflow(cctx, DepartmentWorkflowName, in), cancel: cancel}
	w.children[d] = c
	round := w.View.Round
	workflow.Go(ctx, func(ctx workflow.Context) {
		var report complaint.DepartmentProgress
		err := c.future.Get(ctx, &report)
		if w.children[d] == c {
			delete(w.children, d)
		}
		switch {
		case err != nil && !temporal.IsCanceledError(err):
			workflow.GetLogger(ctx).Error("Department investigation failed", "department", d, "error", err)
		case err == nil && round == w.View.Round:
			if p := w.progress(d); p != nil {
				*p = report
			}
		}
	})
	return nil
}

// stopDepartment cancels a department's running investigation; the child
// stays listed until it has ended.
func (w *caseWorkflow) stopDepartment(d complaint.Department) {
	if c := w.children[d]; c != nil && !c.cancelled {
		c.cancelled = true
		c.cancel()
	}
}

// runDepartment starts the department's child unless it runs; a department
// that no longer investigates the case is a conflict.
func (w *caseWorkflow) runDepartment(ctx workflow.Context, d complaint.Department) error {
	err := w.startDepartment(ctx, d)
	if errors.Is(err, errNotInvestigating) {
		return conflict("%s no longer investigates this case", d)
	}
	return err
}

// forward hands a validated department task to that department's child,
// starting the child first when it is not running.
func (w *caseWorkflow) forward(ctx workflow.Context, d complaint.Department, task string, payload any) error {
	if err := w.runDepartment(ctx, d); err != nil {
		return err
	}
	return w.children[d].future.SignalChildWorkflow(ctx, task, payload).Get(ctx, nil)
}
