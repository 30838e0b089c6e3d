package starter

import (
	"context"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// PollerFreshness is how recently a worker must have polled to count as
// polling. An idle worker's long poll returns empty and is renewed about
// once a minute, while Temporal keeps a poller in its list for minutes
// after the worker died; so a worker is alive if it polled within this.
const PollerFreshness = 2 * time.Minute

// QueueStatus is who polls the cases' task queue, and what waits in it.
type QueueStatus struct {
	// Pollers are the workers' pollers seen within PollerFreshness, by
	// kind of task ("workflow", "activity").
	Pollers map[string]int
	// Backlog is the tasks waiting for a worker, by kind of task.
	Backlog map[string]int64
}

// Polling reports whether any worker polls for workflow tasks: without
// one, no case moves (intake still works: new cases wait in Temporal).
func (q QueueStatus) Polling() bool { return q.Pollers["workflow"] > 0 }

// QueueStatus asks Temporal (DescribeTaskQueue) who polls the task queue.
func (s *Starter) QueueStatus(ctx context.Context) (QueueStatus, error) {
	status := QueueStatus{Pollers: map[string]int{}, Backlog: map[string]int64{}}
	for kind, typ := range map[string]enumspb.TaskQueueType{
		"workflow": enumspb.TASK_QUEUE_TYPE_WORKFLOW, "activity": enumspb.TASK_QUEUE_TYPE_ACTIVITY,
	} {
		resp, err := s.client.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
			Namespace:     s.opts.Namespace,
			TaskQueue:     &taskqueuepb.TaskQueue{Name: s.opts.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			TaskQueueType: typ,
			ReportStats:   true,
		})
		if err != nil {
			return status, classify(err)
		}
		for _, p := range resp.GetPollers() {
			if t := p.GetLastAccessTime(); t != nil && time.Since(t.AsTime()) <= PollerFreshness {
				status.Pollers[kind]++
			}
		}
		status.Backlog[kind] = resp.GetStats().GetApproximateBacklogCount()
	}
	return status, nil
}
