package devenv

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/dotenv"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/connection"
	"github.com/complaintdesk/complaintdesk/devenv/idp"
	"github.com/complaintdesk/complaintdesk/store"
)

// ProdTools are the Temporal release's binaries and schema, installed by
// `make prod-tools` into version-named folders of bin/.
type ProdTools struct {
	Server    string // temporal-server
	SQLTool   string // temporal-sql-tool
	SchemaDir string // schema/postgresql/v12 of the same release
	UI        string // ui-server
}

// ReadVersions reads deploy/versions.env, the one place the versions of
// docker-compose.yml's images and of the native tools are kept.
func ReadVersions(path string) (map[string]string, error) {
	v, err := dotenv.Read(path)
	if err != nil {
		return nil, fmt.Errorf("read versions: %w", err)
	}
	for _, k := range []string{"TEMPORAL_VERSION", "TEMPORAL_UI_VERSION"} {
		if v[k] == "" {
			return nil, fmt.Errorf("%s does not set %s", path, k)
		}
	}
	return v, nil
}

// ProdToolsIn locates the tools of the versions in versionsFile under
// binDir, and says how to install them when any is missing.
func ProdToolsIn(binDir, versionsFile string) (ProdTools, error) {
	v, err := ReadVersions(versionsFile)
	if err != nil {
		return ProdTools{}, err
	}
	server := filepath.Join(binDir, "temporal-server-"+v["TEMPORAL_VERSION"])
	t := ProdTools{
		Server:    filepath.Join(server, "temporal-server"),
		SQLTool:   filepath.Join(server, "temporal-sql-tool"),
		SchemaDir: filepath.Join(server, "schema", "postgresql", "v12"),
		UI:        filepath.Join(binDir, "temporal-ui-"+v["TEMPORAL_UI_VERSION"], "ui-server"),
	}
	for _, path := range []string{t.Server, t.SQLTool, t.SchemaDir, t.UI} {
		if _, err := os.Stat(path); err != nil {
			return t, fmt.Errorf("%w; `make prod-tools` installs the Temporal server, its schema and the UI", err)
		}
	}
	return t, nil
}

// ProdPorts are where the production form listens.
type ProdPorts struct {
	AppDB, TemporalDB int
	Server            ServerPorts
	UI                int
	IDP               int   // the OpenID provider standing in for the organisation's
	API               int   // nginx, in front of the replicas
	APIReplicas       []int // one per API process
	Workers           []int // each worker's /healthz and /metrics
}

// DefaultProdPorts are the usual ports (those of `make dev` where both have
// the service), so the commands of the README work against either form.
var DefaultProdPorts = ProdPorts{
	AppDB: 55432, TemporalDB: 55433, Server: DefaultServerPorts, UI: 8233, IDP: 8099,
	API: 8080, APIReplicas: []int{8081, 8082}, Workers: []int{9091, 9092},
}

// FreeProdPorts picks every port among the free ones, for tests that run
// beside a live `make dev` or `make prod`.
func FreeProdPorts(workers, apis int) (ProdPorts, error) {
	server, err := FreeServerPorts()
	if err != nil {
		return ProdPorts{}, err
	}
	p, err := FreePorts(5 + workers + apis)
	if err != nil {
		return ProdPorts{}, err
	}
	return ProdPorts{
		AppDB: p[0], TemporalDB: p[1], Server: server, UI: p[2], API: p[3], IDP: p[4],
		APIReplicas: p[5 : 5+apis], Workers: p[5+apis:],
	}, nil
}

// ProdOptions describe one production form.
type ProdOptions struct {
	Dir           string // data and logs; kept between runs
	Tools         ProdTools
	AppBinDir     string // holds the worker and api binaries
	DynamicConfig string // the Temporal server's dynamic configuration file
	Ports         ProdPorts
	HistoryShards int
	Namespace     string
	TaskQueue     string // complaint.TaskQueue when empty
	// Ephemeral runs both PostgreSQL servers without fsync; for tests.
	Ephemeral bool
	// AppEnv is added to the environment of the workers and the API
	// replicas (LOG_LEVEL, SURVEY_DELAY, ...).
	AppEnv []string
	// UICodecEndpoint, when set, is the codec server the Web UI decodes
	// the cases' payloads with; the UI sends it its user's token.
	UICodecEndpoint string
	// Staff are the people of the form's OpenID provider, which stands in
	// for the organisation's: idp.DevUsers when empty.
	Staff []idp.User
	// Log gives the writer of each process's output; nil discards it.
	Log func(name string) io.Writer
	// Progress, when set, gets a line as each process starts and stops,
	// and as one dies and comes back.
	Progress func(line string)
}

// Prod is a running production form: Temporal's server on PostgreSQL with
// its Web UI, the application's database, the workers, the API replicas and
// nginx in front of them. Every process is a supervised child: one that dies
// is started again while the others keep running (see Supervisor).
type Prod struct {
	AppDB      Postgres
	TemporalDB Postgres
	Server     TemporalServer
	UI         WebUI
	Balancer   Balancer
	// IDP is the OpenID provider the desk, the API, the Temporal UI and
	// Temporal's frontend trust; Staff its people and clients.
	IDP    *idp.Provider
	Staff  idp.Directory
	signIn prodSignIn

	opts   ProdOptions
	sup    *Supervisor
	common []string // the applications' environment

	mu          sync.Mutex
	workerPorts map[string]int // the workers' health ports, by name
}

// Names of the application processes: worker-1..n, api-1..n.
func WorkerName(i int) string { return "worker-" + strconv.Itoa(i+1) }
func APIName(i int) string    { return "api-" + strconv.Itoa(i+1) }

// StartProd brings the production form up in dependency order, each process
// healthy before the next starts; on failure it stops what it started.
func StartProd(ctx context.Context, o ProdOptions) (p *Prod, err error) {
	if o.HistoryShards == 0 {
		o.HistoryShards = 16
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.Log == nil {
		o.Log = func(string) io.Writer { return nil }
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	p = &Prod{opts: o, sup: &Supervisor{Event: o.Progress}, workerPorts: map[string]int{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.Stop())
			p = nil
		}
	}()

	p.AppDB = Postgres{Name: "app-db", Dir: filepath.Join(dir, "app-db"), Port: o.Ports.AppDB, User: "complaints",
		Password: "complaints", Database: "complaints", Ephemeral: o.Ephemeral, Log: o.Log("app-db")}
	o.step("app PostgreSQL", fmt.Sprintf("127.0.0.1:%d", o.Ports.AppDB))
	if err := p.run(ctx, "app-db", func(ctx context.Context) (*Process, error) { return p.AppDB.Start(ctx) }); err != nil {
		return p, err
	}
	if err := store.Migrate(ctx, p.AppDB.DSN()); err != nil {
		return p, err
	}

	o.step("OpenID provider", fmt.Sprintf("http://127.0.0.1:%d", o.Ports.IDP))
	signIn, err := p.startIDP(ctx)
	if err != nil {
		return p, err
	}

	p.TemporalDB = Postgres{Name: "temporal-db", Dir: filepath.Join(dir, "temporal-db"), Port: o.Ports.TemporalDB, User: "temporal",
		Password: "temporal", Ephemeral: o.Ephemeral, Log: o.Log("temporal-db")}
	o.step("Temporal PostgreSQL", fmt.Sprintf("127.0.0.1:%d", o.Ports.TemporalDB))
	if err := p.run(ctx, "temporal-db", func(ctx context.Context) (*Process, error) { return p.TemporalDB.Start(ctx) }); err != nil {
		return p, err
	}

	p.Server = TemporalServer{
		Binary: o.Tools.Server, SQLTool: o.Tools.SQLTool, SchemaDir: o.Tools.SchemaDir,
		DynamicConfig: o.DynamicConfig, Dir: filepath.Join(dir, "temporal"), IP: "127.0.0.1",
		Ports: o.Ports.Server, DB: p.TemporalDB, HistoryShards: o.HistoryShards,
		Namespace: o.Namespace, Retention: 30 * 24 * time.Hour, Log: o.Log("temporal-server"),
		JWKS: signIn.jwks, Admin: signIn.admin,
	}
	o.step("Temporal server", p.Server.Address())
	if err := p.run(ctx, "temporal-server", func(ctx context.Context) (*Process, error) { return p.Server.Start(ctx) }); err != nil {
		return p, err
	}

	p.UI = WebUI{Binary: o.Tools.UI, Dir: filepath.Join(dir, "temporal"), IP: "127.0.0.1", Port: o.Ports.UI,
		TemporalAddress: p.Server.Address(), Namespace: o.Namespace, CodecEndpoint: o.UICodecEndpoint,
		SignIn: &signIn.ui, Log: o.Log("temporal-ui")}
	o.step("Temporal Web UI", p.UI.URL())
	if err := p.run(ctx, "temporal-ui", func(ctx context.Context) (*Process, error) { return p.UI.Start(ctx) }); err != nil {
		return p, err
	}

	conn := connection.Config{TemporalAddress: p.Server.Address(), TemporalNamespace: o.Namespace,
		TaskQueue: cmp.Or(o.TaskQueue, complaint.TaskQueue), DatabaseURL: p.AppDB.DSN(), Token: signIn.app}
	// The workers built here are the version meant to run: each makes its
	// build current as it starts (a roll-out sets WORKER_PROMOTE=never on
	// the new version's workers and promotes it with the CLI).
	common := append(os.Environ(), conn.Env()...)
	common = append(common, "WORKER_PROMOTE=always")
	common = append(common, signIn.appEnv...)
	common = append(common, o.AppEnv...)
	p.common = common
	// Workers first: a case accepted before any worker polls would only wait.
	for i, port := range o.Ports.Workers {
		if err := p.startWorker(ctx, WorkerName(i), port); err != nil {
			return p, err
		}
	}
	var backends []string
	for i, port := range o.Ports.APIReplicas {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		backends = append(backends, addr)
		// nginx on loopback is the one proxy whose X-Forwarded-For names the client.
		env := append(slices.Clip(common), "API_ADDR="+addr, "TRUSTED_PROXIES=127.0.0.1/32")
		if err := p.startApp(ctx, APIName(i), "api", env, "http://"+addr+"/readyz"); err != nil {
			return p, err
		}
	}

	p.Balancer = Balancer{Dir: filepath.Join(dir, "nginx"), Listen: fmt.Sprintf("127.0.0.1:%d", o.Ports.API),
		Backends: backends, Log: o.Log("nginx")}
	o.step("nginx", p.Balancer.URL())
	if err := p.run(ctx, "nginx", func(ctx context.Context) (*Process, error) { return p.Balancer.Start(ctx, "/readyz") }); err != nil {
		return p, err
	}
	return p, nil
}

func (p *Prod) run(ctx context.Context, name string, start func(context.Context) (*Process, error)) error {
	_, err := p.sup.Start(ctx, Service{Name: name, Start: start})
	return err
}

// startApp runs a worker or an API replica (binary of AppBinDir) under
// supervision, healthy when health answers 200.
func (p *Prod) startApp(ctx context.Context, name, binary string, env []string, health string) error {
	p.opts.step(name, health)
	return p.run(ctx, name, func(ctx context.Context) (*Process, error) {
		cmd := exec.Command(filepath.Join(p.opts.AppBinDir, binary))
		cmd.Env = env
		proc, err := start(name, cmd, p.opts.Log(name))
		if err != nil {
			return nil, err
		}
		if err := WaitHTTP(ctx, proc, health); err != nil {
			proc.Kill()
			return nil, err
		}
		return proc, nil
	})
}

// startWorker runs a worker whose health endpoint is on port, with env
// added to the applications' environment.
func (p *Prod) startWorker(ctx context.Context, name string, port int, env ...string) error {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p.mu.Lock()
	p.workerPorts[name] = port
	p.mu.Unlock()
	env = append(append(slices.Clip(p.common), "WORKER_HTTP_ADDR="+addr), env...)
	return p.startApp(ctx, name, "worker", env, "http://"+addr+"/healthz")
}

// AddWorker starts one more worker, on a free port, with env added to the
// applications' environment (a new version's WORKER_BUILD_ID, say).
func (p *Prod) AddWorker(ctx context.Context, name string, env ...string) error {
	port, err := FreePort()
	if err != nil {
		return err
	}
	return p.startWorker(ctx, name, port, env...)
}

// Retire stops a process for good (an old version's worker after a
// roll-out): the supervision does not start it again.
func (p *Prod) Retire(name string, grace time.Duration) error { return p.sup.Retire(name, grace) }

// APIURL is the balanced API.
func (p *Prod) APIURL() string { return p.Balancer.URL() }

// AppURL is the HTTP address of a worker (/healthz, /metrics) or an API
// replica, by name.
func (p *Prod) AppURL(name string) (string, error) {
	p.mu.Lock()
	port, ok := p.workerPorts[name]
	p.mu.Unlock()
	if ok {
		return fmt.Sprintf("http://127.0.0.1:%d", port), nil
	}
	for i, port := range p.opts.Ports.APIReplicas {
		if name == APIName(i) {
			return fmt.Sprintf("http://127.0.0.1:%d", port), nil
		}
	}
	return "", fmt.Errorf("no application process %q", name)
}

// Process is the current process of that name (app-db, temporal-db,
// temporal-server, temporal-ui, worker-1, api-2, nginx ...), nil if none was
// started: the fault tests kill it, and the supervision starts it again.
func (p *Prod) Process(name string) *Process { return p.sup.Process(name) }

// Processes are the current processes, in start order.
func (p *Prod) Processes() []*Process { return p.sup.Processes() }

// WaitRunning waits until the supervision has brought the named process
// back after old died, healthy.
func (p *Prod) WaitRunning(ctx context.Context, name string, old *Process) (*Process, error) {
	return p.sup.WaitRunning(ctx, name, old)
}

// Restarts is how often the named process was started again after dying.
func (p *Prod) Restarts(name string) int { return p.sup.Restarts(name) }

// Stop stops every process, last started first (each before what it
// depends on), each given time to finish its work in hand; the OpenID
// provider last.
func (p *Prod) Stop() error {
	err := p.sup.Stop(20 * time.Second)
	if p.IDP != nil {
		err = errors.Join(err, p.IDP.Close())
	}
	return err
}

func (o ProdOptions) step(what, where string) {
	o.Progress(fmt.Sprintf("starting %-20s %s", what, where))
}
