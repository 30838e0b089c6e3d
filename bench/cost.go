package bench

import (
	"context"
	"sort"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/complaintdesk/complaintdesk/systemtest"
)

// changeVersionAttribute is the search attribute the SDK upserts with
// each version marker.
const changeVersionAttribute = "TemporalChangeVersion"

// CostResult counts what one case costs in Temporal: billable actions as
// Temporal Cloud counts them, and raw history events, by kind and by the
// step that caused them.
type CostResult struct {
	Actions int                  `json:"actions"`
	Events  int                  `json:"historyEvents"`
	ByKind  map[string]int       `json:"byKind"`
	ByStep  map[string]*StepCost `json:"byStep"`
}

// StepCost is what one step of the case cost: the human task, timer or
// event that woke the workflow, and everything the workflow did in answer,
// including the activities it started and what it did when they completed.
type StepCost struct {
	Actions int            `json:"actions"`
	Events  int            `json:"historyEvents"`
	ByKind  map[string]int `json:"byKind"`
	// Order is the step's first event in the case's history, to print the
	// steps in the order they happened.
	Order int `json:"-"`
}

func newCostResult() CostResult {
	return CostResult{ByKind: map[string]int{}, ByStep: map[string]*StepCost{}}
}

// countActions adds the billable actions and events of one workflow's
// history, each to the step that caused it; the steps of a department's
// child workflow are prefixed with its name. It counts as Temporal Cloud's
// "Actions" page says: a workflow start, a child workflow twice (its start
// and its execution, billed to the parent), each activity start and retry,
// timer, signal sent, update, search-attribute upsert (not the SDK's
// TemporalChangeVersion one), and the markers of one workflow task once.
// Queries are actions too but leave no trace in history: the bench's case
// makes none (every task's answer carries the case).
func countActions(h []*historypb.HistoryEvent, child string, dc converter.DataConverter, r *CostResult) {
	summary := func(ev *historypb.HistoryEvent) string {
		var s string
		if p := ev.GetUserMetadata().GetSummary(); p != nil && dc.FromPayload(p, &s) == nil {
			return s
		}
		return ""
	}
	cause := "intake"
	if child != "" {
		cause = "start"
	}
	commandCause, timerCause := map[int64]string{}, map[string]string{}
	markedTask := int64(-1)
	step := func() *StepCost {
		name := cause
		if child != "" {
			name = child + " (child): " + cause
		}
		sc := r.ByStep[name]
		if sc == nil {
			sc = &StepCost{ByKind: map[string]int{}, Order: len(r.ByStep)}
			r.ByStep[name] = sc
		}
		return sc
	}
	add := func(kind string, n int) {
		r.Actions += n
		r.ByKind[kind] += n
		sc := step()
		sc.Actions += n
		sc.ByKind[kind] += n
	}
	// A workflow task answers the events that arrived since the one before;
	// its commands belong to the first of them that says why it woke: an
	// update (always: it is accepted with the commands it causes), a signal,
	// a timer, the completion of a command (the step that issued it), a
	// department's report.
	woken := false
	wake := func(why string) {
		if !woken {
			cause, woken = why, true
		}
	}
	for _, ev := range h {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			woken = false
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			cause, woken = ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetName(), true
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			wake(ev.GetWorkflowExecutionSignaledEventAttributes().GetSignalName() + " (signal)")
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			wake(timerCause[ev.GetTimerFiredEventAttributes().GetTimerId()])
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			wake(commandCause[ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()])
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			wake(commandCause[ev.GetActivityTaskFailedEventAttributes().GetScheduledEventId()])
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			wake(commandCause[ev.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId()])
		case enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED:
			wake(commandCause[ev.GetExternalWorkflowExecutionSignaledEventAttributes().GetInitiatedEventId()])
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
			wake("department reported")
		}
		r.Events++
		step().Events++
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			if child == "" {
				add("workflow start", 1)
			}
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			// Two actions: the start, and the child's execution.
			add("child workflow start", 2)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			commandCause[ev.GetEventId()] = cause
			add("activity", 1)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if a := ev.GetActivityTaskStartedEventAttributes().GetAttempt(); a > 1 {
				add("activity retry", int(a-1))
			}
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			timerCause[ev.GetTimerStartedEventAttributes().GetTimerId()] = timerName(summary(ev))
			add("timer", 1)
		case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
			commandCause[ev.GetEventId()] = cause
			add("signal", 1)
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			// A signal is billed once: to the workflow that sends it, when
			// one does, else to the one receiving it from a client.
			if ev.GetWorkflowExecutionSignaledEventAttributes().GetExternalWorkflowExecution() == nil {
				add("signal", 1)
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			add("update", 1)
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			// The SDK's TemporalChangeVersion upsert beside a version
			// marker is exempt.
			fields := ev.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()
			if _, ok := fields[changeVersionAttribute]; !ok || len(fields) > 1 {
				add("search attribute upsert", 1)
			}
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			// All the markers of one workflow task are one action.
			if task := ev.GetMarkerRecordedEventAttributes().GetWorkflowTaskCompletedEventId(); task != markedTask {
				markedTask = task
				add("marker", 1)
			}
		}
	}
}

// timerName is the step a timer wakes the case for: "SLA clock" for every
// deadline event, the summary without its time otherwise.
func timerName(summary string) string {
	switch {
	case summary == "":
		return "timer"
	case strings.HasPrefix(summary, "SLA "):
		return "SLA clock"
	}
	if i := strings.Index(summary, " at "); i > 0 {
		return summary[:i]
	}
	return summary
}

// costOf counts the actions of a finished case and its department children.
func costOf(ctx context.Context, c client.Client, dc converter.DataConverter, caseID string, childIDs []string) (CostResult, error) {
	r := newCostResult()
	h, err := systemtest.History(ctx, c, caseID)
	if err != nil {
		return r, err
	}
	countActions(h.GetEvents(), "", dc, &r)
	for _, id := range childIDs {
		h, err := systemtest.History(ctx, c, id)
		if err != nil {
			return r, err
		}
		countActions(h.GetEvents(), id[strings.LastIndex(id, "/")+1:], dc, &r)
	}
	return r, nil
}

// stepsInOrder lists the steps in the order they first happened.
func stepsInOrder(m map[string]*StepCost) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]].Order < m[keys[j]].Order })
	return keys
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
