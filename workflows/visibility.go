package workflows

import (
	"fmt"
	"strings"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// nextTask names the human task the case waits for, and who does it.
func nextTask(w *caseWorkflow) string {
	v := w.View
	if w.awaitingApproval() != nil {
		return fmt.Sprintf("`%s` by %s", complaint.TaskApproveCompensation, w.supervisor())
	}
	if v.FollowUp.Open() {
		return fmt.Sprintf("`%s` by %s", complaint.TaskCompleteFollowUp, v.FollowUp.Owner)
	}
	switch v.Status {
	case complaint.StatusReceived:
		return "acknowledge the customer (automatic)"
	case complaint.StatusAcknowledged, complaint.StatusInvestigating:
		var todo []string
		for _, p := range v.Investigation {
			switch p.State {
			case complaint.DeptPending:
				todo = append(todo, fmt.Sprintf("`%s` by %s", complaint.TaskStartInvestigation, p.Department))
			case complaint.DeptInvestigating:
				todo = append(todo, fmt.Sprintf("`%s` by %s", complaint.TaskSubmitFindings, p.Department))
			}
		}
		if len(todo) > 0 {
			return strings.Join(todo, ", ")
		}
		return fmt.Sprintf("`%s` or `%s` by %s", complaint.TaskProposeResolution, complaint.TaskClose, v.Owner)
	case complaint.StatusResolutionProposed:
		return fmt.Sprintf("`%s` from the customer", complaint.TaskCustomerResponse)
	case complaint.StatusInDispute:
		return fmt.Sprintf("`%s`, `%s` or `%s` by %s", complaint.TaskProposeResolution, complaint.TaskEscalateDispute,
			complaint.TaskClose, v.Owner)
	case complaint.StatusResolving:
		if w.acceptedNotExecuted() != nil {
			return "carry out the accepted resolution (automatic)"
		}
		if w.confirmable() != nil {
			return fmt.Sprintf("`%s` from the customer", complaint.TaskConfirmResolved)
		}
		return fmt.Sprintf("`%s` by %s", complaint.TaskClose, v.Owner)
	case complaint.StatusClosed:
		return "satisfaction survey two weeks after closing (automatic)"
	case complaint.StatusSurveyPending:
		return fmt.Sprintf("`%s` from the customer", complaint.TaskSurveyResponse)
	}
	return ""
}
