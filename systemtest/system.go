// Package systemtest runs the whole system for tests: a private PostgreSQL
// and a Temporal dev server on free ports, with the worker and the API in
// process. Every integration test shares it, so each test meets the real
// servers exactly as `make dev` does.
package systemtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/complaintdesk/complaintdesk/api"
	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/connection"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/devenv/idp"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
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
	// Mailbox receives every email the worker sends.
	Mailbox *mailbox.Server
	// Upstream is the system "shop": it subscribes to webhooks and checks
	// their signatures.
	Upstream *Upstream
	// Logs holds every line the in-process worker and API logged, at every
	// level, for tests that look for what must not be logged.
	Logs *LogBuffer
	// RawClient reads Temporal without the codec: what anyone with access
	// to Temporal but without the keys sees.
	RawClient client.Client
	Keys      *codec.Keyring
	Secrets   devenv.Secrets
	// AdminToken, OperatorToken and APIKey (system "systemtest") are working
	// credentials for the API.
	AdminToken, OperatorToken, APIKey string
	// StaffToken is a supervisor's (dev.supervisor) who handles no case in
	// the tests: the survey answers are entered with it.
	StaffToken string
	// IDP is the development OpenID provider the desk signs staff in at
	// and whose access tokens the API accepts; Staff are its users
	// (idp.DevUsers: dev.agent, dev.logistics, ...), DeskSecret the desk's
	// client secret there.
	IDP        *idp.Provider
	Staff      idp.Directory
	DeskSecret string
	// InboundAddr is the API's inbound SMTP server: customers' replies.
	InboundAddr string

	postgres   *devenv.Process
	temporal   *devenv.Process
	cancel     context.CancelFunc
	done       []chan error
	workerAddr string
	stopWorker func() error
	tracer     trace.TracerProvider
	workerEnv  map[string]string
}

// IntakeAddress is where a mail from no thread of ours opens a case.
const IntakeAddress = "complaints@complaintdesk.local"

// Options choose what to start beside the servers.
type Options struct {
	WithUI bool // serve the Temporal Web UI on a free port
	// TracerProvider, when set, takes the spans of the in-process API and
	// worker (an in-memory recorder in a tracing test).
	TracerProvider trace.TracerProvider
	// TemporalDynamicConfig sets dynamic configuration keys of the Temporal
	// dev server (a low history limit, to see cases continue as new).
	TemporalDynamicConfig map[string]string
	// Secrets, when set, are the installation's secrets (another system's,
	// so that its credentials work here too); otherwise new ones are made.
	Secrets *devenv.Secrets
	// WorkerEnv sets worker settings (WORKER_POLLERS, ...) over the
	// defaults the worker's configuration is otherwise read from. Its
	// TEMPORAL_GRPC_COMPRESSION, if any, is every client's of the system:
	// the worker's, the API's and the harness's own.
	WorkerEnv map[string]string
}

// RepoRoot is the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// DemoCase is one of the DOMAIN §7 examples of demo/cases.json, by its
// externalId, as a request body to change.
func DemoCase(externalID string) (map[string]any, error) {
	data, err := os.ReadFile(filepath.Join(RepoRoot(), "demo", "cases.json"))
	if err != nil {
		return nil, err
	}
	var cases []map[string]any
	if err := json.Unmarshal(data, &cases); err != nil {
		return nil, err
	}
	for _, c := range cases {
		if c["externalId"] == externalID {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no demo case %s", externalID)
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
	logs := &LogBuffer{}
	s = &System{Dir: dir, Logs: logs, Logger: slog.New(teeHandler{
		slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}),
		slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}),
	}), tracer: opts.TracerProvider, workerEnv: opts.WorkerEnv}
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
	if err := s.StartPostgres(ctx); err != nil {
		return s, err
	}
	if err := store.Migrate(ctx, s.Postgres.DSN()); err != nil {
		return s, err
	}
	if s.Store, err = store.Open(ctx, s.Postgres.DSN()); err != nil {
		return s, err
	}
	if opts.Secrets != nil {
		s.Secrets = *opts.Secrets
	} else if s.Secrets, err = devenv.NewSecrets(); err != nil {
		return s, err
	}
	if s.Keys, err = codec.Open(context.WithoutCancel(ctx), codec.Config{MasterKeys: s.Secrets.MasterKeys}, s.Store); err != nil {
		return s, err
	}
	creds, err := devenv.MakeCredentials(ctx, s.Store, s.Secrets, "", auth.DefaultMaxLifetime)
	if err != nil {
		return s, err
	}
	s.AdminToken, s.OperatorToken, s.APIKey = creds.AdminToken, creds.CodecToken, creds.APIKey
	s.StaffToken = creds.StaffToken
	s.APIURL = fmt.Sprintf("http://127.0.0.1:%d", ports[5])
	if err := s.startIDP(); err != nil {
		return s, err
	}

	s.Temporal = devenv.Temporal{
		Binary: cli, IP: "127.0.0.1", Port: ports[1], HTTPPort: ports[2], Namespace: "default",
		DBFile: filepath.Join(dir, "temporal.db"), DynamicConfig: opts.TemporalDynamicConfig,
	}
	if opts.WithUI {
		s.Temporal.UIPort = ports[3]
		s.Temporal.CodecEndpoint = s.APIURL + "/codec/k/" + s.OperatorToken
	}
	if err := s.StartTemporal(ctx); err != nil {
		return s, err
	}
	// The harness's client compresses as the system's processes do: the
	// bench's anchors run on it beside our worker.
	compression, err := connection.Compression(opts.WorkerEnv[connection.CompressionVar])
	if err != nil {
		return s, err
	}
	copts := client.Options{
		HostPort: s.Temporal.Address(), Namespace: "default", Logger: sdklog.NewStructuredLogger(s.Logger),
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: compression},
	}
	if s.Client, err = client.DialContext(ctx, codec.ClientOptions(copts, s.Keys)); err != nil {
		return s, err
	}
	if s.RawClient, err = client.NewClientFromExisting(s.Client, copts); err != nil {
		return s, err
	}

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	// In process: the mailbox takes a port of the kernel's choosing, which
	// no other test run can have picked meanwhile.
	if s.Mailbox, err = mailbox.Start(runCtx, "127.0.0.1:0", "127.0.0.1:0",
		filepath.Join(dir, "mail"), s.Logger); err != nil {
		return s, err
	}
	s.Upstream = startUpstream()
	s.workerAddr = fmt.Sprintf("127.0.0.1:%d", ports[4])
	if err := s.StartWorker(ctx); err != nil {
		return s, err
	}
	apiCfg := s.APIConfig()
	apiCfg.Addr = strings.TrimPrefix(s.APIURL, "http://")
	// The main API takes the customers' email replies too (INBOUND_SMTP_ADDR).
	inboundPort, err := devenv.FreePorts(1)
	if err != nil {
		return s, err
	}
	s.InboundAddr = fmt.Sprintf("127.0.0.1:%d", inboundPort[0])
	apiCfg.Inbound.Addr = s.InboundAddr
	apiCfg.Inbound.IntakeAddress = IntakeAddress
	s.goRun(func() error { return api.Run(runCtx, apiCfg, s.Logger) })
	if err := waitHTTP(ctx, s.APIURL+"/readyz"); err != nil {
		return s, err
	}
	return s, nil
}

// startIDP serves the development OpenID provider in process, on a port
// of the kernel's choosing, with the development users.
func (s *System) startIDP() error {
	users, err := idp.DevUsers()
	if err != nil {
		return err
	}
	s.DeskSecret = "desk-" + s.Secrets.TokenSecret[:16]
	s.Staff = idp.Directory{Users: users, Clients: []idp.Client{{ID: idp.DeskClientID, Secret: s.DeskSecret,
		RedirectURIs:           []string{s.APIURL + "/desk/auth/callback"},
		PostLogoutRedirectURIs: []string{s.APIURL + "/desk/signed-out"}}}}
	ln, issuer, err := idp.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	s.IDP, err = idp.Start(ln, issuer, s.Staff, idp.Options{Logger: s.Logger})
	return err
}

// StartPostgres starts the database, on the same folder and port after a
// StopPostgres.
func (s *System) StartPostgres(ctx context.Context) error {
	proc, err := s.Postgres.Start(ctx)
	if err == nil {
		s.postgres = proc
	}
	return err
}

// StopPostgres shuts the database down cleanly; the API and the worker
// find it gone.
func (s *System) StopPostgres() error {
	if s.postgres == nil {
		return nil
	}
	p := s.postgres
	s.postgres = nil
	return p.Stop(15 * time.Second)
}

// StartTemporal starts the Temporal server, on the same SQLite file and
// ports after a StopTemporal.
func (s *System) StartTemporal(ctx context.Context) error {
	proc, err := s.Temporal.Start(ctx)
	if err == nil {
		s.temporal = proc
	}
	return err
}

// StopTemporal stops the Temporal server; its history stays in its file.
func (s *System) StopTemporal() error {
	if s.temporal == nil {
		return nil
	}
	p := s.temporal
	s.temporal = nil
	return p.Stop(15 * time.Second)
}

// APIConfig is the configuration of an API pointed at this system: the
// defaults, with this system's addresses.
func (s *System) APIConfig() api.Config {
	env := map[string]string{} // never nil: that would read this process's environment
	if v, ok := s.workerEnv[connection.CompressionVar]; ok {
		env[connection.CompressionVar] = v
	}
	cfg, err := connection.ParseAs[api.Config](env)
	if err != nil {
		panic(err) // the defaults are constants: a failure here is a bug in them
	}
	cfg.TemporalAddress, cfg.DatabaseURL, cfg.LogLevel = s.Temporal.Address(), s.Postgres.DSN(), "warn"
	cfg.TracerProvider = s.tracer
	cfg.SurveyLinkSecret = s.Secrets.SurveyLinkSecret
	cfg.Auth.Secret, cfg.Codec.MasterKeys = s.Secrets.TokenSecret, s.Secrets.MasterKeys
	cfg.Desk.PublicURL = s.APIURL
	if s.IDP != nil {
		cfg.Auth.OIDC.Issuer, cfg.Auth.OIDC.ClientSecret = s.IDP.Issuer(), s.DeskSecret
	}
	cfg.RateLimit = 0 // a hundred concurrent submissions are a test, not an attack
	if s.Mailbox != nil {
		cfg.DevMailboxURL = "http://" + s.Mailbox.HTTPAddr()
	}
	if ui := s.Temporal.UIURL(); ui != "" {
		cfg.CodecOrigins = []string{ui}
	}
	return cfg
}

// WorkerConfig is the configuration of a worker of this system: mail to
// the mailbox, webhooks to the upstream system, survey links to the API.
func (s *System) WorkerConfig() worker.Config {
	env := map[string]string{} // never nil: that would read this process's environment
	maps.Copy(env, s.workerEnv)
	cfg, err := connection.ParseAs[worker.Config](env)
	if err != nil {
		panic(err) // the defaults are constants, the settings the caller's: a failure here is a bug in them
	}
	host, port, err := net.SplitHostPort(s.Mailbox.SMTPAddr())
	if err != nil {
		panic(err)
	}
	cfg.TemporalAddress, cfg.DatabaseURL, cfg.HTTPAddr = s.Temporal.Address(), s.Postgres.DSN(), s.workerAddr
	cfg.SMTPHost, cfg.SMTPTLS, cfg.StaffMailDomain = host, "none", "staff.example.com"
	cfg.SMTPPort, _ = strconv.Atoi(port)
	cfg.PublicURL, cfg.SurveyLinkSecret = s.APIURL, s.Secrets.SurveyLinkSecret
	cfg.Webhooks = map[string]string{UpstreamSystem: s.Upstream.URL}
	cfg.WebhookSecrets = map[string]string{UpstreamSystem: UpstreamSecret}
	cfg.WebhookAllowHTTP = true // the upstream system of the tests listens on plain http
	cfg.DeliveryMaxAttempts = 5
	cfg.TracerProvider = s.tracer
	cfg.Codec = codec.Config{MasterKeys: s.Secrets.MasterKeys}
	return cfg
}

// StartWorker runs the worker in this process and waits until it polls.
func (s *System) StartWorker(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg := s.WorkerConfig()
	go func() { done <- worker.Run(wctx, cfg, s.Logger) }()
	s.stopWorker = func() error {
		cancel()
		return <-done
	}
	return waitHTTP(ctx, "http://"+s.workerAddr+"/healthz")
}

// StartWorkerProcess runs bin/worker as a process of its own on this
// system, its health endpoint on httpAddr, so that a test can kill it.
func (s *System) StartWorkerProcess(ctx context.Context, httpAddr string) (*devenv.Process, error) {
	bin := filepath.Join(RepoRoot(), "bin", "worker")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%w: `make test` builds bin/worker", err)
	}
	cfg := s.WorkerConfig()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+cfg.TemporalAddress, "DATABASE_URL="+cfg.DatabaseURL,
		"WORKER_HTTP_ADDR="+httpAddr, "LOG_LEVEL=error",
		"SMTP_HOST="+cfg.SMTPHost, "SMTP_PORT="+strconv.Itoa(cfg.SMTPPort), "SMTP_TLS="+cfg.SMTPTLS,
		"STAFF_MAIL_DOMAIN="+cfg.StaffMailDomain, "PUBLIC_URL="+cfg.PublicURL,
		"WEBHOOKS="+UpstreamSystem+"="+s.Upstream.URL, "WEBHOOK_SECRETS="+UpstreamSystem+"="+UpstreamSecret,
		"WEBHOOK_ALLOW_HTTP=true", // as the in-process worker: the tests' upstream listens on plain http
		"DELIVERY_MAX_ATTEMPTS="+strconv.Itoa(int(cfg.DeliveryMaxAttempts)),
		"WEBHOOK_ALLOW_HTTP=true", // the upstream system of the tests listens on plain http
		// The same version of the deployment as the worker it replaces.
		"WORKER_BUILD_ID="+worker.BuildID(cfg))
	cmd.Env = append(cmd.Env, s.Secrets.Env()...)
	p, err := devenv.StartProcess("worker", cmd, nil)
	if err != nil {
		return nil, err
	}
	if err := devenv.WaitHTTP(ctx, p, "http://"+httpAddr+"/healthz"); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
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
	if s.RawClient != nil {
		s.RawClient.Close()
	}
	if s.Client != nil {
		s.Client.Close()
	}
	if s.Store != nil {
		s.Store.Close()
	}
	if s.Upstream != nil {
		s.Upstream.Close()
	}
	if s.IDP != nil {
		_ = s.IDP.Close()
	}
	if err := s.StopTemporal(); err != nil {
		s.Logger.Error("stop Temporal", "error", err)
	}
	if err := s.StopPostgres(); err != nil {
		s.Logger.Error("stop PostgreSQL", "error", err)
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
	EventuallyWithin(t, 30*time.Second, what, check)
}

// EventuallyWithin is Eventually with a deadline of its own: for what waits
// on a server-side timeout, such as an activity attempt on a dead worker.
func EventuallyWithin(t testing.TB, limit time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
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

// LogBuffer keeps log lines in memory.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything logged so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// teeHandler hands each record to every handler that takes its level.
type teeHandler []slog.Handler

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (t teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(attrs)
	}
	return out
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(name)
	}
	return out
}
