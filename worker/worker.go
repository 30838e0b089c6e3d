// Package worker wires the worker process: it registers the workflows and
// activities on the task queue and serves the process's health endpoint and
// its Prometheus metrics.
package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/activities"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
	"github.com/complaintdesk/complaintdesk/telemetry"
	"github.com/complaintdesk/complaintdesk/workflows"
)

// Register puts every workflow and activity of the system on w. Cases and
// their departments are auto-upgrade: they live for weeks, and move to the
// deployment's current version at their next task. The worker w must have
// been made with workflows.SignalOrder() among its interceptors (as
// workerOptions does; Tuning alone does not), or no case will run on it.
func Register(w worker.Registry, acts *activities.Activities) {
	w.RegisterWorkflowWithOptions(workflows.ComplaintWorkflow, workflow.RegisterOptions{Name: complaint.WorkflowName,
		VersioningBehavior: workflow.VersioningBehaviorAutoUpgrade})
	w.RegisterWorkflowWithOptions(workflows.DepartmentInvestigationWorkflow,
		workflow.RegisterOptions{Name: workflows.DepartmentWorkflowName, VersioningBehavior: workflow.VersioningBehaviorAutoUpgrade})
	w.RegisterWorkflowWithOptions(workflows.RedeliveryWorkflow,
		workflow.RegisterOptions{Name: complaint.RedeliveryWorkflowName, VersioningBehavior: workflow.VersioningBehaviorAutoUpgrade})
	// The workflows call their activities by the names complaint declares.
	w.RegisterActivityWithOptions(acts.RegisterCase, activity.RegisterOptions{Name: complaint.ActivityRegisterCase})
	w.RegisterActivityWithOptions(acts.RecordStep, activity.RegisterOptions{Name: complaint.ActivityRecordStep})
	w.RegisterActivityWithOptions(acts.RedeliverWebhook, activity.RegisterOptions{Name: complaint.ActivityRedeliverWebhook})
}

// deadlockDetection is how long workflow code may run without yielding
// before the SDK fails its task. The payload codec reads a case's data key
// from PostgreSQL inside workflow code when it is not cached, and a database
// slow for a second under load is no deadlock: at the SDK's default (1 s)
// such tasks failed until the server refused the case's queries and updates
// ("Workflow Task in failed state"). Above the key store's own timeout, a
// key store that does not answer ends as the codec's error; code that
// really never yields is still caught.
const deadlockDetection = codec.KeyStoreTimeout + 2*time.Second

// workerOptions are the SDK worker's options for cfg.
func workerOptions(cfg Config) (worker.Options, error) {
	opts, err := Tuning(cfg)
	if err != nil {
		return worker.Options{}, err
	}
	if opts.DeploymentOptions, err = deploymentOptions(cfg); err != nil {
		return worker.Options{}, err
	}
	opts.Interceptors = append(opts.Interceptors, workflows.SignalOrder())
	return opts, nil
}

// Tuning is what cfg changes in how an SDK worker takes up and runs its
// tasks — its pollers, how many workflow tasks it runs at once, how long a
// task waits on its sticky queue and the deadlock detector's limit —
// without our deployment version. The bench's raw anchors run with it, and with
// SetStickyWorkflowCacheSize(cfg.CacheSize), so that they are measured with
// our worker's settings.
func Tuning(cfg Config) (worker.Options, error) {
	if cfg.WorkflowTasks < 1 {
		return worker.Options{}, fmt.Errorf("WORKER_WORKFLOW_TASKS=%d: want at least 1", cfg.WorkflowTasks)
	}
	if cfg.StickyTimeout < time.Second {
		return worker.Options{}, fmt.Errorf("WORKER_STICKY_TIMEOUT=%s: want at least 1s", cfg.StickyTimeout)
	}
	opts := worker.Options{DeadlockDetectionTimeout: deadlockDetection, MaxConcurrentWorkflowTaskExecutionSize: cfg.WorkflowTasks,
		StickyScheduleToStartTimeout: cfg.StickyTimeout}
	switch cfg.Pollers {
	case "autoscaling":
		opts.WorkflowTaskPollerBehavior = worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{})
		opts.ActivityTaskPollerBehavior = worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{})
	case "fixed", "":
	default:
		return worker.Options{}, fmt.Errorf("WORKER_POLLERS=%q: want autoscaling or fixed", cfg.Pollers)
	}
	return opts, nil
}

// Run polls the task queue until ctx ends, then stops gracefully.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) error {
	opts, err := workerOptions(cfg)
	if err != nil {
		return err
	}
	if err := checkReportsRefresh(cfg.ReportsRefresh); err != nil {
		return err
	}
	logger = telemetry.WithTrace(logger)
	tel, err := telemetry.Start(ctx, telemetry.Config{
		ServiceName: cmp.Or(cfg.ServiceName, "complaints-worker"), OTLPEndpoint: cfg.OTLPEndpoint,
		OTLPProtocol: cfg.OTLPProtocol, TracerProvider: cfg.TracerProvider, Logger: logger,
	})
	if err != nil {
		return err
	}
	defer tel.ShutdownBounded(ctx) // last: flushes the spans of everything below
	db, err := store.Open(ctx, cfg.DatabaseURL, store.WithQueryTracer(tel.PgxTracer()))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := telemetry.ObserveCasesByStatus(tel.MeterProvider, db.CasesByStatus, 30*time.Second, logger); err != nil {
		return err
	}
	if err := watchCalendar(ctx, cfg, tel.MeterProvider, logger); err != nil {
		return err
	}
	go keepReportsCurrent(ctx, db, cfg.ReportsRefresh, logger)

	// The client's interceptor reaches the worker: workflow and activity
	// spans continue the trace of the call that started the workflow.
	keys, err := codec.Open(ctx, cfg.Codec, db)
	if err != nil {
		return err
	}
	// Every payload the worker writes is encrypted with its case's key.
	temporal, err := cfg.ClientOptions(sdklog.NewStructuredLogger(logger))
	if err != nil {
		return err
	}
	copts, err := tel.TemporalClientOptions(codec.WorkerClientOptions(temporal, keys))
	if err != nil {
		return err
	}
	c, err := Dial(ctx, copts, logger)
	if err != nil {
		return err
	}
	defer c.Close()

	if cfg.CacheSize > 0 {
		worker.SetStickyWorkflowCacheSize(cfg.CacheSize) // process-wide; read when the first worker starts
	}
	ch, err := channels(cfg, logger)
	if err != nil {
		return err
	}
	if ch.Mail != nil {
		defer ch.Mail.Close() // after w.Stop below: its tasks may still send
	}
	w := worker.New(c, cfg.TaskQueue, opts)
	Register(w, &activities.Activities{Store: db, Channels: ch, Metrics: tel.Cases})

	var started atomic.Bool
	srv, err := serveHealth(cfg.HTTPAddr, &started, tel.Metrics)
	if err != nil {
		return err
	}
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			logger.Warn("health server shutdown", "error", err)
		}
	}()

	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	started.Store(true)
	version := opts.DeploymentOptions.Version
	logger.Info("worker polling", "taskQueue", cfg.TaskQueue, "namespace", cfg.TemporalNamespace, "health", cfg.HTTPAddr,
		"deployment", version.DeploymentName, "buildId", version.BuildID, "promote", cfg.Promote)
	go promote(ctx, c, cfg, version, logger)
	<-ctx.Done()
	started.Store(false)
	w.Stop() // finishes the tasks in hand before returning
	return nil
}

// Dial connects to Temporal, retrying until the frontend answers or ctx ends,
// so that the process may start before the server.
func Dial(ctx context.Context, opts client.Options, logger *slog.Logger) (client.Client, error) {
	delay := 200 * time.Millisecond
	for {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			return c, nil
		}
		logger.Warn("Temporal not reachable yet", "address", opts.HostPort, "error", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to Temporal at %s: %w", opts.HostPort, err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func serveHealth(addr string, started *atomic.Bool, metrics http.Handler) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !started.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n")) // a failed write means the prober left
	})
	mux.Handle("GET /metrics", metrics)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("health server", "error", err)
		}
	}()
	return srv, nil
}
