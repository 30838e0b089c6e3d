package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// RedeliveryWorkflow sends a failed webhook again at an operator's request
// (POST /v1/deliveries/{id}/redeliver): one activity, retried with the
// steps' backoff until the delivery is sent or given up again.
func RedeliveryWorkflow(ctx workflow.Context, r complaint.Redelivery) error {
	return workflow.ExecuteActivity(withActivity(ctx, "Send webhook "+r.DeliveryID+" again"),
		complaint.ActivityRedeliverWebhook, r).Get(ctx, nil)
}
