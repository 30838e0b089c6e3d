package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// taskStates answers the `tasks` query: which tasks the case's state lets
// anyone do now. A task whose rules depend on its payload (which
// department, which stage, which outcome) is allowed when some payload
// passes them; the reason is that of the first it tried.
func (w *caseWorkflow) taskStates() []complaint.TaskState {
	guards := map[string]func() error{
		complaint.TaskAssign: func() error { return w.canAssign(complaint.Assign{}) },
		complaint.TaskRoute:  w.routeState,
		complaint.TaskStartInvestigation: func() error {
			return anyOf(w.departmentProbes(), func(d complaint.Department) error {
				return w.canStartInvestigation(complaint.StartInvestigation{Department: d})
			})
		},
		complaint.TaskSubmitFindings: func() error {
			return anyOf(w.departmentProbes(), func(d complaint.Department) error {
				return w.canSubmitFindings(complaint.SubmitFindings{Department: d})
			})
		},
		complaint.TaskProposeResolution: func() error { return w.canPropose(complaint.ProposeResolution{}) },
		complaint.TaskCustomerResponse:  func() error { return w.canRespond(complaint.CustomerResponse{}) },
		complaint.TaskWaitingOnCustomer: func() error { return w.canWait(complaint.Reason{}) },
		complaint.TaskCustomerReplied:   func() error { return w.canResume(complaint.Reason{}) },
		complaint.TaskEscalateDispute: func() error {
			return anyOf(complaint.DisputeStages, func(s complaint.DisputeStage) error {
				return w.canEscalate(complaint.EscalateDispute{Stage: s, SkipReason: "probe"})
			})
		},
		complaint.TaskClose: func() error {
			probes := []complaint.Close{{Outcome: complaint.OutcomeUpheld}, {Outcome: complaint.OutcomePartiallyUpheld},
				{Outcome: complaint.OutcomeRejected}, {Outcome: complaint.OutcomeRejected, Decision: "probe"}}
			return anyOf(probes, w.canClose)
		},
		complaint.TaskReopen:         func() error { return w.canReopen(complaint.Reason{}) },
		complaint.TaskWithdraw:       func() error { return w.canWithdraw(complaint.Reason{}) },
		complaint.TaskSurveyResponse: func() error { return w.canAnswerSurvey(complaint.SurveyResponse{}) },
		complaint.TaskAddNote:        func() error { return w.canAddNote(complaint.AddNote{}) },
		complaint.TaskApplyPolicy:    func() error { return w.canApplyPolicy(complaint.ApplyPolicy{SLA: &complaint.CaseSLA{}}) },
		complaint.TaskApproveCompensation: func() error {
			return w.canApprove(complaint.ApproveCompensation{})
		},
		complaint.TaskConfirmResolved:  func() error { return w.canConfirm(complaint.ConfirmResolved{}) },
		complaint.TaskCompleteFollowUp: func() error { return w.canCompleteFollowUp(complaint.CompleteFollowUp{}) },
	}
	out := make([]complaint.TaskState, 0, len(complaint.Tasks))
	for _, name := range complaint.Tasks {
		st := complaint.TaskState{Name: name, Allowed: true}
		guard, ok := guards[name]
		if !ok {
			st.Allowed, st.Reason = false, "not a task of this case"
		} else if err := guard(); err != nil {
			st.Allowed, st.Reason = false, reasonOf(err)
		}
		out = append(out, st)
	}
	return out
}

// departmentProbes are the departments a department task may name.
func (w *caseWorkflow) departmentProbes() []complaint.Department {
	if len(w.View.Investigation) == 0 {
		return []complaint.Department{""}
	}
	out := make([]complaint.Department, len(w.View.Investigation))
	for i, p := range w.View.Investigation {
		out[i] = p.Department
	}
	return out
}

// anyOf is nil when check passes for some probe, else the first probe's error.
func anyOf[T any](probes []T, check func(T) error) error {
	var first error
	for _, p := range probes {
		err := check(p)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// reasonOf is the message of a task's refusal, without its error type.
func reasonOf(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}
