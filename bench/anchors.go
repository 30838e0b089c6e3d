package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/connection"
	ourworker "github.com/complaintdesk/complaintdesk/worker"
)

// The raw anchors: what Temporal alone pays, on the same server and with a
// worker of the same settings as ours, in the same run.

// TimerFloorWorkflow is the floor under a deadline: one timer due at `due`;
// on waking it does the least a breach must do to be seen (one
// search-attribute upsert) and stays open, like a case, until it is ended.
// Its query `lateness` is how late the task that woke it ran (workflow.Now,
// the same clock a case's breach is recorded by); -1 before it woke.
func TimerFloorWorkflow(ctx workflow.Context, due time.Time) error {
	lateness := time.Duration(-1)
	if err := workflow.SetQueryHandler(ctx, latenessQuery, func() (time.Duration, error) { return lateness, nil }); err != nil {
		return err
	}
	if d := due.Sub(workflow.Now(ctx)); d > 0 {
		if err := workflow.Sleep(ctx, d); err != nil {
			return err
		}
	}
	lateness = workflow.Now(ctx).Sub(due)
	if err := workflow.UpsertTypedSearchAttributes(ctx, temporal.NewSearchAttributeKeyBool(complaint.SASlaBreached).ValueSet(true)); err != nil {
		return err
	}
	workflow.GetSignalChannel(ctx, "stop").Receive(ctx, nil)
	return nil
}

const latenessQuery = "lateness"

// measureTimerFloor starts n timer workflows due at the same second, dueIn
// from now, on the bench's own worker, and reads how late each woke. It
// also says how long before the due time the last one had started
// (negative: the start-up ran into the burst; raise the lead) and the CPU
// the machine spent per timer from the due time until all had woken
// (profile: where to write the bench process's CPU profile of it, "" none).
func measureTimerFloor(ctx context.Context, c client.Client, n int, dueIn time.Duration, run, profile string) (floorBurst, error) {
	due := time.Now().UTC().Truncate(time.Second).Add(dueIn)
	ids := make([]string, n)
	_, _, failed := load(n, 16, func(i int) error {
		ids[i] = fmt.Sprintf("bench-timer-%s-%d", run, i)
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: ids[i], TaskQueue: noopQueue}, TimerFloorWorkflow, due)
		return err
	})
	var res floorBurst
	if failed > 0 {
		return res, fmt.Errorf("%d of %d timer workflows did not start", failed, n)
	}
	defer endAll(context.WithoutCancel(ctx), c, ids)
	// Each answers a query once its first task ran (its timer set): the
	// floor is quiet from then on. A query a busy server could not answer
	// in time is asked again until the due time; one still unanswered then
	// is the start-up running into the burst, which the quiet time shows
	// (negative), not a failed measurement.
	load(n, 16, func(i int) error {
		_, err := queryLateness(ctx, c, ids[i], due)
		return err
	})
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	res.quiet = time.Until(due)
	// Every one woke once n of them show the breach in visibility. The
	// count is asked every few seconds from the due time on, and not
	// before: a query of visibility competes with the burst it measures
	// (the cases' burst is watched in PostgreSQL instead).
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(time.Until(due)):
	}
	window := openBurst(profile)
	query := fmt.Sprintf("WorkflowType = 'TimerFloorWorkflow' AND %s = true AND ExecutionStatus = 'Running'", complaint.SASlaBreached)
	// Half an hour at most, as for the cases: what has not woken by then
	// is left out of the count (a shorter count, not an error).
	giveUp := due.Add(30 * time.Minute)
	err := waitCount(ctx, c, query, n, giveUp)
	res.cpu = window.close(n)
	if err != nil && ctx.Err() != nil {
		return res, err
	}
	var (
		mu  sync.Mutex
		lat []time.Duration
	)
	load(n, 16, func(i int) error {
		until := giveUp
		if soon := time.Now().Add(time.Minute); soon.After(until) {
			until = soon
		}
		d, err := queryLateness(ctx, c, ids[i], until)
		mu.Lock()
		defer mu.Unlock()
		if err == nil && d >= 0 {
			lat = append(lat, d)
		}
		return err
	})
	res.lateness = summarise(lat)
	return res, ctx.Err()
}

// floorBurst is what measureTimerFloor measured.
type floorBurst struct {
	lateness Latencies
	quiet    time.Duration      // how long all had been started before the due time
	cpu      map[string]float64 // CPU seconds per timer, by process
}

// queryLateness asks a timer workflow how late it woke (-1: not yet),
// again after a failure until until: a query waits for the workflow's
// task, which a busy server or worker can hold past one call's deadline.
func queryLateness(ctx context.Context, c client.Client, id string, until time.Time) (time.Duration, error) {
	for {
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		v, err := c.QueryWorkflow(qctx, id, "", latenessQuery)
		var d time.Duration
		if err == nil {
			err = v.Get(&d)
		}
		cancel()
		if err == nil || ctx.Err() != nil || time.Now().After(until) {
			return d, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// waitCount waits until visibility counts want workflows for query.
func waitCount(ctx context.Context, c client.Client, query string, want int, until time.Time) error {
	var got int64
	for time.Now().Before(until) {
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
		if err != nil {
			return err
		}
		if got = resp.GetCount(); got >= int64(want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Second):
		}
	}
	return fmt.Errorf("%d of %d workflows counted for %s", got, want, query)
}

// endAll terminates the anchors' workflows once measured.
func endAll(ctx context.Context, c client.Client, ids []string) {
	load(len(ids), 16, func(i int) error {
		return c.TerminateWorkflow(ctx, ids[i], "", "measured")
	})
}

// unpolledQueue has no worker: starts there measure the frontend alone.
const unpolledQueue = "bench-unpolled"

// startAnchorWorker runs the anchors' workflows on their own queue with our
// worker's settings (workerEnv over the defaults): its pollers, how many
// workflow tasks it runs at once, and its cache of open workflows
// (WORKER_CACHE_SIZE, 1,000 by default, where the SDK's own is 10,000 — a
// burst larger than the cache replays evicted workflows from their
// histories, a bare timer's as a case's, so a floor with a larger cache
// would not be like for like).
func startAnchorWorker(c client.Client) (func(), error) {
	cfg, err := connection.ParseAs[ourworker.Config](workerEnv())
	if err != nil {
		return nil, err
	}
	opts, err := ourworker.Tuning(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.CacheSize > 0 {
		// Process-wide: on the dev server our worker runs in the bench's
		// process too, and shares this cache of the same size.
		worker.SetStickyWorkflowCacheSize(cfg.CacheSize)
	}
	w := worker.New(c, noopQueue, opts)
	w.RegisterWorkflow(NoopWorkflow)
	w.RegisterWorkflow(TimerFloorWorkflow)
	if err := w.Start(); err != nil {
		return nil, err
	}
	return w.Stop, nil
}

// workerEnv is the worker settings of the bench's own environment
// (WORKER_WORKFLOW_TASKS=300 make bench), and the compression of requests
// to Temporal (TEMPORAL_GRPC_COMPRESSION=gzip): the workers of both forms
// and the anchors' run with them, every client compresses alike. The
// production form's processes inherit the environment; the dev server's
// worker, API and client take them from the harness.
func workerEnv() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && (strings.HasPrefix(k, "WORKER_") || k == connection.CompressionVar) {
			env[k] = v
		}
	}
	return env
}
