package worker

import (
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/connection"
	"github.com/complaintdesk/complaintdesk/workflows"
)

// valid is a configuration as the environment's defaults make it.
func valid() Config {
	cfg, err := connection.ParseAs[Config](map[string]string{"WORKER_BUILD_ID": "v1.2.3"})
	if err != nil {
		panic(err)
	}
	return cfg
}

// The worker runs at most WORKER_WORKFLOW_TASKS workflow tasks at once, 100
// unless set (not the SDK's 1,000, which let a flood of new cases queue in
// the worker past their tasks' timeout); none at all is refused, not taken
// for the SDK's default.
func TestWorkflowTasksSetting(t *testing.T) {
	if opts, err := workerOptions(valid()); err != nil || opts.MaxConcurrentWorkflowTaskExecutionSize != 100 {
		t.Errorf("by default: %d, %v", opts.MaxConcurrentWorkflowTaskExecutionSize, err)
	}
	cfg := valid()
	cfg.WorkflowTasks = 40
	opts, err := workerOptions(cfg)
	if err != nil || opts.MaxConcurrentWorkflowTaskExecutionSize != 40 {
		t.Errorf("WORKER_WORKFLOW_TASKS=40: %d, %v", opts.MaxConcurrentWorkflowTaskExecutionSize, err)
	}
	cfg.WorkflowTasks = 0
	if _, err := workerOptions(cfg); err == nil {
		t.Error("WORKER_WORKFLOW_TASKS=0 was accepted")
	}
}

// A case's next task waits up to WORKER_STICKY_TIMEOUT on the worker that
// holds the case in memory, 60 s unless set: with the SDK's 5 s, a burst of
// deadlines the worker could not take up within 5 s had the rest moved to
// the shared queue while the worker's pollers waited out a minute-long
// poll on the emptied sticky queue (README, Benchmarks).
func TestStickyTimeoutSetting(t *testing.T) {
	if opts, err := workerOptions(valid()); err != nil || opts.StickyScheduleToStartTimeout != time.Minute {
		t.Errorf("by default: %s, %v", opts.StickyScheduleToStartTimeout, err)
	}
	cfg := valid()
	cfg.StickyTimeout = 20 * time.Second
	if opts, err := workerOptions(cfg); err != nil || opts.StickyScheduleToStartTimeout != 20*time.Second {
		t.Errorf("WORKER_STICKY_TIMEOUT=20s: %s, %v", opts.StickyScheduleToStartTimeout, err)
	}
	// Zero would be the SDK's own 5 s, not what it says.
	cfg.StickyTimeout = 0
	if _, err := workerOptions(cfg); err == nil {
		t.Error("WORKER_STICKY_TIMEOUT=0 was accepted")
	}
}

func TestPollersSetting(t *testing.T) {
	cfg := valid()
	cfg.Pollers = "autoscaling"
	auto, err := workerOptions(cfg)
	if err != nil || auto.WorkflowTaskPollerBehavior == nil || auto.ActivityTaskPollerBehavior == nil {
		t.Errorf("autoscaling: %+v, %v", auto, err)
	}
	fixed, err := workerOptions(valid())
	if err != nil || fixed.WorkflowTaskPollerBehavior != nil || fixed.ActivityTaskPollerBehavior != nil {
		t.Errorf("fixed: %+v, %v", fixed, err)
	}
	cfg.Pollers = "many"
	if _, err := workerOptions(cfg); err == nil {
		t.Error("an unknown WORKER_POLLERS was accepted")
	}
}

// The worker is a version of the deployment, named by its build, and runs
// cases as auto-upgrade (they live for weeks and move with the deployment).
func TestWorkerIsAVersionOfItsDeployment(t *testing.T) {
	opts, err := workerOptions(valid())
	if err != nil {
		t.Fatal(err)
	}
	d := opts.DeploymentOptions
	if !d.UseVersioning || d.Version.DeploymentName != "complaints" || d.Version.BuildID != "v1.2.3" {
		t.Errorf("deployment options %+v", d)
	}
	if d.DefaultVersioningBehavior != workflow.VersioningBehaviorAutoUpgrade {
		t.Errorf("default versioning behaviour %v, want auto-upgrade", d.DefaultVersioningBehavior)
	}
	cfg := valid()
	cfg.BuildID = ""
	if BuildID(cfg) == "" {
		t.Error("no build id without WORKER_BUILD_ID")
	}
	sometimes, unnamed := valid(), valid()
	sometimes.Promote, unnamed.DeploymentName = "sometimes", ""
	for _, bad := range []Config{sometimes, unnamed} {
		if _, err := workerOptions(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

// From CALENDAR_WARN_DAYS before the holiday table ends, the worker's log
// says so; before that, nothing. The clock is pinned.
func TestTheWorkerWarnsBeforeTheCalendarEnds(t *testing.T) {
	cov, err := complaint.CoverageOf("cn", "")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	logger := slog.New(slog.NewTextHandler(&out, nil))
	warnCalendar(logger, cov, 60, cov.Until.AddDate(0, 0, -61))
	if out.Len() != 0 {
		t.Fatalf("warned 61 days ahead: %s", out.String())
	}
	warnCalendar(logger, cov, 60, cov.Until.AddDate(0, 0, -59))
	if !strings.Contains(out.String(), "level=WARN") || !strings.Contains(out.String(), "complaintctl calendar") {
		t.Fatalf("no warning 59 days ahead: %s", out.String())
	}
}

// A case applies its signals in the order they arrived only with the
// workflows' interceptor; without it every case's workflow task fails.
func TestWorkerRunsCasesWithTheSignalOrderInterceptor(t *testing.T) {
	opts, err := workerOptions(valid())
	if err != nil {
		t.Fatal(err)
	}
	want := reflect.TypeOf(workflows.SignalOrder())
	if !slices.ContainsFunc(opts.Interceptors, func(i interceptor.WorkerInterceptor) bool { return reflect.TypeOf(i) == want }) {
		t.Errorf("worker interceptors %v lack workflows.SignalOrder()", opts.Interceptors)
	}
}
