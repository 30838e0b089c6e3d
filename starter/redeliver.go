package starter

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// Redeliver sends a failed webhook again through the worker, which holds
// the subscriptions and their secrets, and waits up to wait for the
// outcome: done is false when it is still being tried (the delivery then
// reads pending). A redelivery of the same delivery already under way is
// ErrConflict.
func (s *Starter) Redeliver(ctx context.Context, deliveryID string, wait time.Duration) (done bool, err error) {
	run, err := s.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       complaint.RedeliveryWorkflowID(deliveryID),
		TaskQueue:                s.opts.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// Running the redelivery again is a new attempt, not a repeat.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            "Send webhook " + deliveryID + " again",
	}, complaint.RedeliveryWorkflowName, complaint.Redelivery{DeliveryID: deliveryID})
	if isAlreadyStarted(err) {
		return false, fmt.Errorf("%w: a redelivery of %s is under way", ErrConflict, deliveryID)
	}
	if err != nil {
		return false, classify(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	err = run.Get(waitCtx, nil)
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return false, nil
	case errors.As(err, &appErr):
		return false, &RejectedError{Message: appErr.Message()}
	}
	return false, classify(err)
}
