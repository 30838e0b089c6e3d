package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/dotenv"

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
	API               int   // nginx, in front of the replicas
	APIReplicas       []int // one per API process
	Workers           []int // each worker's /healthz and /metrics
}

// DefaultProdPorts are the usual ports (those of `make dev` where both have
// the service), so the commands of the README work against either form.
var DefaultProdPorts = ProdPorts{
	AppDB: 55432, TemporalDB: 55433, Server: DefaultServerPorts, UI: 8233,
	API: 8080, APIReplicas: []int{8081, 8082}, Workers: []int{9091, 9092},
}

// FreeProdPorts picks every port among the free ones, for tests that run
// beside a live `make dev` or `make prod`.
func FreeProdPorts(workers, apis int) (ProdPorts, error) {
	server, err := FreeServerPorts()
	if err != nil {
		return ProdPorts{}, err
	}
	p, err := FreePorts(4 + workers + apis)
	if err != nil {
		return ProdPorts{}, err
	}
	return ProdPorts{
		AppDB: p[0], TemporalDB: p[1], Server: server, UI: p[2], API: p[3],
		APIReplicas: p[4 : 4+apis], Workers: p[4+apis:],
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
	// Ephemeral runs both PostgreSQL servers without fsync; for tests.
	Ephemeral bool
	// AppEnv is added to the environment of the workers and the API
	// replicas (LOG_LEVEL, SURVEY_DELAY, ...).
	AppEnv []string
	// UICodecEndpoint, when set, is the codec server the Web UI decodes
	// the cases' payloads with.
	UICodecEndpoint string
	// Log gives the writer of each process's output; nil discards it.
	Log func(name string) io.Writer
	// Progress, when set, gets a line as each process starts and stops.
	Progress func(line string)
}

// Prod is a running production form: Temporal's server on PostgreSQL with
// its Web UI, the application's database, the workers, the API replicas and
// nginx in front of them. Every process is a supervised child.
type Prod struct {
	AppDB      Postgres
	TemporalDB Postgres
	Server     TemporalServer
	UI         WebUI
	Balancer   Balancer

	opts   ProdOptions
	common []string // the applications' environment
	// workerPorts are the workers' health ports, by name.
	workerPorts map[string]int
	mu          sync.Mutex
	procs       []*Process
	apps        map[string]func() *exec.Cmd
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
	p = &Prod{opts: o, apps: map[string]func() *exec.Cmd{}, workerPorts: map[string]int{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.Stop())
			p = nil
		}
	}()

	p.AppDB = Postgres{Name: "app-db", Dir: filepath.Join(dir, "app-db"), Port: o.Ports.AppDB, User: "complaints",
		Password: "complaints", Database: "complaints", Ephemeral: o.Ephemeral, Log: o.Log("app-db")}
	o.step("app PostgreSQL", fmt.Sprintf("127.0.0.1:%d", o.Ports.AppDB))
	if err := p.run(func() (*Process, error) { return p.AppDB.Start(ctx) }); err != nil {
		return p, err
	}
	if err := store.Migrate(ctx, p.AppDB.DSN()); err != nil {
		return p, err
	}

	p.TemporalDB = Postgres{Name: "temporal-db", Dir: filepath.Join(dir, "temporal-db"), Port: o.Ports.TemporalDB, User: "temporal",
		Password: "temporal", Ephemeral: o.Ephemeral, Log: o.Log("temporal-db")}
	o.step("Temporal PostgreSQL", fmt.Sprintf("127.0.0.1:%d", o.Ports.TemporalDB))
	if err := p.run(func() (*Process, error) { return p.TemporalDB.Start(ctx) }); err != nil {
		return p, err
	}

	p.Server = TemporalServer{
		Binary: o.Tools.Server, SQLTool: o.Tools.SQLTool, SchemaDir: o.Tools.SchemaDir,
		DynamicConfig: o.DynamicConfig, Dir: filepath.Join(dir, "temporal"), IP: "127.0.0.1",
		Ports: o.Ports.Server, DB: p.TemporalDB, HistoryShards: o.HistoryShards,
		Namespace: o.Namespace, Retention: 30 * 24 * time.Hour, Log: o.Log("temporal-server"),
	}
	o.step("Temporal server", p.Server.Address())
	if err := p.run(func() (*Process, error) { return p.Server.Start(ctx) }); err != nil {
		return p, err
	}

	p.UI = WebUI{Binary: o.Tools.UI, Dir: filepath.Join(dir, "temporal"), IP: "127.0.0.1", Port: o.Ports.UI,
		TemporalAddress: p.Server.Address(), Namespace: o.Namespace, CodecEndpoint: o.UICodecEndpoint,
		Log: o.Log("temporal-ui")}
	o.step("Temporal Web UI", p.UI.URL())
	if err := p.run(func() (*Process, error) { return p.UI.Start(ctx) }); err != nil {
		return p, err
	}

	// The workers built here are the version meant to run: each makes its
	// build current as it starts (a roll-out sets WORKER_PROMOTE=never on
	// the new version's workers and promotes it with the CLI).
	p.common = append(os.Environ(),
		"TEMPORAL_ADDRESS="+p.Server.Address(), "TEMPORAL_NAMESPACE="+o.Namespace,
		"DATABASE_URL="+p.AppDB.DSN(), "WORKER_PROMOTE=always")
	p.common = append(p.common, o.AppEnv...)
	common := p.common
	for i, port := range o.Ports.Workers {
		p.addWorker(WorkerName(i), port)
	}
	var backends []string
	for i, port := range o.Ports.APIReplicas {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		backends = append(backends, addr)
		// nginx on loopback is the one proxy whose X-Forwarded-For names the client.
		env := append(slices.Clip(common), "API_ADDR="+addr, "TRUSTED_PROXIES=127.0.0.1/32")
		p.apps[APIName(i)] = func() *exec.Cmd {
			cmd := exec.Command(filepath.Join(o.AppBinDir, "api"))
			cmd.Env = env
			return cmd
		}
	}
	// Workers first: a case accepted before any worker polls would only wait.
	for i := range o.Ports.Workers {
		if err := p.StartApp(ctx, WorkerName(i)); err != nil {
			return p, err
		}
	}
	for i := range o.Ports.APIReplicas {
		if err := p.StartApp(ctx, APIName(i)); err != nil {
			return p, err
		}
	}

	p.Balancer = Balancer{Dir: filepath.Join(dir, "nginx"), Listen: fmt.Sprintf("127.0.0.1:%d", o.Ports.API),
		Backends: backends, Log: o.Log("nginx")}
	o.step("nginx", p.Balancer.URL())
	if err := p.run(func() (*Process, error) { return p.Balancer.Start(ctx, "/readyz") }); err != nil {
		return p, err
	}
	return p, nil
}

func (p *Prod) run(start func() (*Process, error)) error {
	proc, err := start()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.procs = append(p.procs, proc)
	return nil
}

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

// addWorker makes name a worker of this form, its health endpoint on port,
// with env added to the applications' environment.
func (p *Prod) addWorker(name string, port int, env ...string) {
	env = append(append(slices.Clip(p.common), fmt.Sprintf("WORKER_HTTP_ADDR=127.0.0.1:%d", port)), env...)
	p.apps[name] = func() *exec.Cmd {
		cmd := exec.Command(filepath.Join(p.opts.AppBinDir, "worker"))
		cmd.Env = env
		return cmd
	}
	p.workerPorts[name] = port
}

// AddWorker starts one more worker, with env added to the applications'
// environment (a new version's WORKER_BUILD_ID, say), on a free port.
func (p *Prod) AddWorker(ctx context.Context, name string, env ...string) error {
	port, err := FreePort()
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.addWorker(name, port, env...)
	p.mu.Unlock()
	return p.StartApp(ctx, name)
}

// StartApp starts a worker or API replica by name (again, after it was
// stopped or killed) and waits until it is healthy.
func (p *Prod) StartApp(ctx context.Context, name string) error {
	cmd, ok := p.apps[name]
	if !ok {
		return fmt.Errorf("no application process %q", name)
	}
	if proc := p.Process(name); proc != nil {
		if exited, _ := proc.Exited(); !exited {
			return fmt.Errorf("%s is running", name)
		}
	}
	url, err := p.AppURL(name)
	if err != nil {
		return err
	}
	health := url + "/healthz"
	if strings.HasPrefix(name, "api-") {
		health = url + "/readyz"
	}
	p.opts.step(name, health)
	return p.run(func() (*Process, error) {
		proc, err := start(name, cmd(), p.opts.Log(name))
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

// Process is the latest process of that name (app-db, temporal-db,
// temporal-server, temporal-ui, worker-1, api-2, nginx ...), nil if none was
// started: the fault tests stop or kill it.
func (p *Prod) Process(name string) *Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.procs) - 1; i >= 0; i-- {
		if p.procs[i].Name == name {
			return p.procs[i]
		}
	}
	return nil
}

// Processes are the processes started, in start order.
func (p *Prod) Processes() []*Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.procs)
}

// Stop stops every process, last started first, each given time to finish
// its work in hand.
func (p *Prod) Stop() error {
	var errs []error
	procs := p.Processes()
	for i := len(procs) - 1; i >= 0; i-- {
		p.opts.Progress("stopping " + procs[i].Name)
		if err := procs[i].Stop(20 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (o ProdOptions) step(what, where string) {
	o.Progress(fmt.Sprintf("starting %-20s %s", what, where))
}
