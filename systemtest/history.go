package systemtest

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// History reads a workflow's whole history, its latest run, through c (with
// or without the codec, as c was made).
func History(ctx context.Context, c client.Client, id string) (*historypb.History, error) {
	return RunHistory(ctx, c, id, "")
}

// RunHistory reads the whole history of one run of a workflow ("" for the
// latest).
func RunHistory(ctx context.Context, c client.Client, id, run string) (*historypb.History, error) {
	it := c.GetWorkflowHistory(ctx, id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", id, err)
		}
		h.Events = append(h.Events, ev)
	}
	return &h, nil
}
