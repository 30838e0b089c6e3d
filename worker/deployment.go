package worker

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The worker runs as one version of a Worker Deployment: the deployment is
// the complaint desk's workers, the version their build. Cases are
// auto-upgrade (they live for weeks): each workflow task of a case goes to
// the deployment's current version, so setting a new version current moves
// every open case onto it at its next task, and the old version drains.
// The Temporal UI and CLI show which version ran each case.

// Promotion policies: when the worker makes its own version the
// deployment's current one.
const (
	// PromoteFirst: only when the deployment has no current version yet —
	// the first start of an installation. Later versions are made current
	// by an operator (README, "Upgrading the workers").
	PromoteFirst = "first"
	// PromoteAlways: at every start (make dev: a rebuilt worker takes over).
	PromoteAlways = "always"
	// PromoteNever: an operator sets it current (a version being rolled out).
	PromoteNever = "never"
)

// deploymentOptions are the worker's versioning options for cfg.
func deploymentOptions(cfg Config) (worker.DeploymentOptions, error) {
	switch cfg.Promote {
	case PromoteFirst, PromoteAlways, PromoteNever:
	default:
		return worker.DeploymentOptions{}, fmt.Errorf("WORKER_PROMOTE=%q: want %s, %s or %s",
			cfg.Promote, PromoteFirst, PromoteAlways, PromoteNever)
	}
	if cfg.DeploymentName == "" {
		return worker.DeploymentOptions{}, fmt.Errorf("WORKER_DEPLOYMENT: must name the deployment")
	}
	return worker.DeploymentOptions{
		UseVersioning:             true,
		Version:                   worker.WorkerDeploymentVersion{DeploymentName: cfg.DeploymentName, BuildID: BuildID(cfg)},
		DefaultVersioningBehavior: workflow.VersioningBehaviorAutoUpgrade,
	}, nil
}

// BuildID is the worker's version within its deployment: WORKER_BUILD_ID
// (the release, in production), else the commit the binary was built from
// (with "-dirty" for uncommitted changes), else "dev".
func BuildID(cfg Config) string {
	if cfg.BuildID != "" {
		return cfg.BuildID
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	revision, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if revision == "" {
		return "dev"
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if dirty {
		revision += "-dirty"
	}
	return revision
}

// promote makes the worker's version current as cfg.Promote says, once
// the server knows the version (it learns it from the worker's polls), and
// keeps checking while the worker runs: a server that lost the setting (a
// dev server killed before it wrote it) would otherwise route new cases to
// no worker. Each check is one describe call.
func promote(ctx context.Context, c client.Client, cfg Config, v worker.WorkerDeploymentVersion, logger *slog.Logger) {
	if cfg.Promote == PromoteNever {
		return
	}
	h := c.WorkerDeploymentClient().GetHandle(v.DeploymentName)
	delay := 100 * time.Millisecond
	for {
		done, err := promoteOnce(ctx, h, cfg.Promote, v)
		if err != nil {
			logger.Debug("worker version not made current yet", "deployment", v.DeploymentName, "buildId", v.BuildID, "error", err)
		}
		if done {
			delay = recheckPromotion
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		if !done {
			delay = min(2*delay, 5*time.Second)
		}
	}
}

// recheckPromotion is how often a promoted version checks it still is.
const recheckPromotion = 15 * time.Second

// promoteOnce tries once; it is done when nothing more is to be done.
func promoteOnce(ctx context.Context, h client.WorkerDeploymentHandle, policy string, v worker.WorkerDeploymentVersion) (bool, error) {
	d, err := h.Describe(ctx, client.WorkerDeploymentDescribeOptions{})
	if err != nil {
		return false, err // the deployment appears with the first poll
	}
	current := d.Info.RoutingConfig.CurrentVersion
	switch {
	case current != nil && current.BuildID == v.BuildID:
		return true, nil
	case current != nil && policy == PromoteFirst:
		return true, nil // an operator decides when this version takes over
	}
	known := false
	for _, s := range d.Info.VersionSummaries {
		known = known || s.Version.BuildID == v.BuildID
	}
	if !known {
		return false, fmt.Errorf("version not registered yet")
	}
	_, err = h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{
		BuildID: v.BuildID, ConflictToken: d.ConflictToken,
	})
	return err == nil, err
}
