// Package systemtest runs the whole system for tests: a private PostgreSQL
// and a Temporal dev server on free ports, with the worker and the API in
// process. Every integration test shares it, so each test meets the real
// servers exactly as `make dev` does.
package systemtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/complaintdesk/complaintdesk/api"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/store"
	"github.com/complaintdesk/complaintdesk/worker"
)

// System is a running complaint system.
type System struct {
	Dir      string
	Postgres devenv.Postgres
	Temporal devenv.Temporal
	Client   client.Client
	Store    *store.Store
	APIURL   string
	Logger   *slog.Logger

	procs      []*devenv.Process
	cancel     context.CancelFunc
	done       []chan error
	workerAddr string
	stopWorker func() error
	tracer     trace.TracerProvider
}

// Options choose what to start beside the servers.
type Options struct {
	WithUI bool // serve the Temporal Web UI on a free port
	// TracerProvider, when set, takes the spans of the in-process API and
	// worker (an in-memory recorder in a tracing test).
	TracerProvider trace.TracerProvider
}

// RepoRoot is the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// TemporalCLI is the temporal binary `make test` installs into bin/.
func TemporalCLI() (string, error) {
	path := os.Getenv("TEMPORAL_CLI")
	if path == "" {
		path = filepath.Join(RepoRoot(), "bin", "temporal")
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("the Temporal CLI is missing (%w); `make test` installs it", err)
	}
	return path, nil
}

// Start brings the system up; Stop takes it down.
func Start(ctx context.Context, opts Options) (s *System, err error) {
	cli, err := TemporalCLI()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "complaints-systemtest-")
	if err != nil {
		return nil, err
	}
	s = &System{Dir: dir, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		tracer: opts.TracerProvider}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	ports, err := devenv.FreePorts(6)
	if err != nil {
		return s, err
	}
	s.Postgres = devenv.Postgres{
		Dir: filepath.Join(dir, "postgres"), Port: ports[0], User: "complaints", Password: "complaints",
		Database: "complaints", Ephemeral: true,
	}
	proc, err := s.Postgres.Start(ctx)
	if err != nil {
		return s, err
	}
	s.procs = append(s.procs, proc)
	if err := store.Migrate(ctx, s.Postgres.DSN()); err != nil {
		return s, err
	}
	if s.Store, err = store.Open(ctx, s.Postgres.DSN()); err != nil {
		return s, err
	}

	s.Temporal = devenv.Temporal{
		Binary: cli, IP: "127.0.0.1", Port: ports[1], HTTPPort: ports[2], Namespace: "default",
		DBFile: filepath.Join(dir, "temporal.db"),
	}
	if opts.WithUI {
		s.Temporal.UIPort = ports[3]
	}
	if proc, err = s.Temporal.Start(ctx); err != nil {
		return s, err
	}
	s.procs = append(s.procs, proc)
	if s.Client, err = client.DialContext(ctx, client.Options{
		HostPort: s.Temporal.Address(), Namespace: "default", Logger: sdklog.NewStructuredLogger(s.Logger),
	}); err != nil {
		return s, err
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.workerAddr = fmt.Sprintf("127.0.0.1:%d", ports[4])
	if err := s.StartWorker(ctx); err != nil {
		return s, err
	}
	apiCfg := s.APIConfig()
	apiCfg.Addr = fmt.Sprintf("127.0.0.1:%d", ports[5])
	s.APIURL = "http://" + apiCfg.Addr
	s.goRun(func() error { return api.Run(runCtx, apiCfg, s.Logger) })
	if err := waitHTTP(ctx, s.APIURL+"/readyz"); err != nil {
		return s, err
	}
	return s, nil
}

// APIConfig is the configuration of an API pointed at this system: the
// defaults, with this system's addresses.
func (s *System) APIConfig() api.Config {
	cfg, err := env.ParseAsWithOptions[api.Config](env.Options{Environment: map[string]string{}})
	if err != nil {
		panic(err) // the defaults are constants: a failure here is a bug in them
	}
	cfg.TemporalAddress, cfg.DatabaseURL, cfg.LogLevel = s.Temporal.Address(), s.Postgres.DSN(), "warn"
	cfg.TracerProvider = s.tracer
	return cfg
}

// StartWorker runs the worker in this process and waits until it polls.
func (s *System) StartWorker(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- worker.Run(wctx, worker.Config{
			TemporalAddress: s.Temporal.Address(), TemporalNamespace: "default", TaskQueue: "complaints",
			DatabaseURL: s.Postgres.DSN(), HTTPAddr: s.workerAddr, TracerProvider: s.tracer,
		}, s.Logger)
	}()
	s.stopWorker = func() error {
		cancel()
		return <-done
	}
	return waitHTTP(ctx, "http://"+s.workerAddr+"/healthz")
}

// WorkerURL is the base URL of the in-process worker's /healthz and /metrics.
func (s *System) WorkerURL() string { return "http://" + s.workerAddr }

// StopWorker stops the worker: cases wait, their timers keep running in Temporal.
func (s *System) StopWorker() error {
	if s.stopWorker == nil {
		return nil
	}
	stop := s.stopWorker
	s.stopWorker = nil
	return stop()
}

func (s *System) goRun(f func() error) {
	done := make(chan error, 1)
	s.done = append(s.done, done)
	go func() { done <- f() }()
}

// Stop ends everything Start started and removes its data.
func (s *System) Stop() {
	if err := s.StopWorker(); err != nil {
		s.Logger.Error("worker", "error", err)
	}
	if s.cancel != nil {
		s.cancel()
	}
	for _, done := range s.done {
		if err := <-done; err != nil {
			s.Logger.Error("in-process service", "error", err)
		}
	}
	if s.Client != nil {
		s.Client.Close()
	}
	if s.Store != nil {
		s.Store.Close()
	}
	for i := len(s.procs) - 1; i >= 0; i-- {
		if err := s.procs[i].Stop(15 * time.Second); err != nil {
			s.Logger.Error("stop", "process", s.procs[i].Name, "error", err)
		}
	}
	if err := os.RemoveAll(s.Dir); err != nil {
		s.Logger.Error("remove test data", "error", err)
	}
}

func waitHTTP(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("%s never became healthy", url), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Eventually retries check until it passes or 30 seconds have gone, then
// fails the test with the last error: the cases' records and Temporal's
// visibility follow their workflows a moment later.
func Eventually(t testing.TB, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
