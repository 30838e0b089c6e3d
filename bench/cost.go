package bench

import (
	"context"
	"fmt"
	"sort"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// CostResult counts what one case costs in Temporal: billable actions as
// Temporal Cloud counts them, and raw history events.
type CostResult struct {
	Actions int            `json:"actions"`
	Events  int            `json:"historyEvents"`
	ByKind  map[string]int `json:"byKind"`
	ByStep  map[string]int `json:"byStep"`
}

// countActions adds the billable actions of one workflow's history. The
// workflow start is counted for the case; a child's start is counted in its
// parent (StartChildWorkflowExecutionInitiated).
func countActions(h []*historypb.HistoryEvent, isChild bool, r *CostResult) {
	dc := converter.GetDefaultDataConverter()
	summary := func(ev *historypb.HistoryEvent) string {
		var s string
		if p := ev.GetUserMetadata().GetSummary(); p != nil && dc.FromPayload(p, &s) == nil {
			return s
		}
		return ""
	}
	add := func(kind, step string) {
		r.Actions++
		r.ByKind[kind]++
		r.ByStep[kind+": "+step]++
	}
	r.Events += len(h)
	for _, ev := range h {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			if !isChild {
				add("workflow start", "case")
			}
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			add("child workflow start", "department investigation")
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			add("activity", stepName(summary(ev), ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()))
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if a := ev.GetActivityTaskStartedEventAttributes().GetAttempt(); a > 1 {
				r.Actions += int(a - 1)
				r.ByKind["activity retry"] += int(a - 1)
			}
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			add("timer", stepName(summary(ev), "timer"))
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			add("signal", ev.GetWorkflowExecutionSignaledEventAttributes().GetSignalName())
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			add("update", ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetName())
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			add("search attribute upsert", "publish")
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			add("marker", ev.GetMarkerRecordedEventAttributes().GetMarkerName())
		}
	}
}

// stepName groups activity and timer summaries by their step: "Record
// closed" and "Record acknowledged" are both audit writes.
func stepName(summary, fallback string) string {
	switch {
	case summary == "":
		return fallback
	case strings.HasPrefix(summary, "SLA "):
		return "SLA clock"
	case strings.HasPrefix(summary, "Record "):
		return "audit record"
	}
	if i := strings.Index(summary, " at "); i > 0 {
		return summary[:i]
	}
	return summary
}

func history(ctx context.Context, c client.Client, id string) ([]*historypb.HistoryEvent, error) {
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []*historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", id, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// costOf counts the actions of a finished case and its department children.
func costOf(ctx context.Context, c client.Client, caseID string, childIDs []string) (CostResult, error) {
	r := CostResult{ByKind: map[string]int{}, ByStep: map[string]int{}}
	h, err := history(ctx, c, caseID)
	if err != nil {
		return r, err
	}
	countActions(h, false, &r)
	for _, id := range childIDs {
		h, err := history(ctx, c, id)
		if err != nil {
			return r, err
		}
		countActions(h, true, &r)
	}
	return r, nil
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
