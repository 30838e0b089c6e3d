package starter

import (
	"context"
	"errors"
	"fmt"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
)

// What the server says of a case becomes one of the package's errors, which
// the API turns into its answers: a passing trouble is ErrUnavailable (503,
// retry), never an unexpected error (500).
func TestServerErrorsAreClassified(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error
	}{
		{serviceerror.NewWorkflowNotReady("Unable to query workflow due to Workflow Task in failed state."), ErrUnavailable},
		{fmt.Errorf("update: %w", serviceerror.NewWorkflowNotReady("Unable to perform workflow execution update due to Workflow Task in failed state.")), ErrUnavailable},
		{serviceerror.NewUnavailable("connection refused"), ErrUnavailable},
		{serviceerror.NewResourceExhausted(enumspb.RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT, "too many outstanding updates"), ErrUnavailable},
		{serviceerror.NewDeadlineExceeded("slow"), ErrUnavailable},
		{context.DeadlineExceeded, ErrUnavailable},
		{serviceerror.NewNotFound("workflow not found"), ErrNotFound},
	} {
		if got := classify(tc.err); !errors.Is(got, tc.want) {
			t.Errorf("%v: classified as %v, want %v", tc.err, got, tc.want)
		}
	}
	if got := classify(errors.New("boom")); errors.Is(got, ErrUnavailable) || errors.Is(got, ErrNotFound) {
		t.Errorf("an unknown error classified as %v", got)
	}
}
