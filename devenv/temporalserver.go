package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
)

// ServerPorts are the ports one Temporal server process listens on: each of
// its four services has a gRPC port and a membership (ringpop) port.
type ServerPorts struct {
	Frontend, FrontendHTTP, FrontendMembership int
	History, HistoryMembership                 int
	Matching, MatchingMembership               int
	Worker, WorkerMembership                   int
	Metrics                                    int // Prometheus, /metrics
	// The internal frontend serves the server's own workers when the
	// public one checks tokens (TemporalServer.JWKS).
	InternalFrontend, InternalFrontendMembership int
}

// DefaultServerPorts are the ports of Temporal's own development-postgres12
// configuration, so the usual tools find the frontend on 7233.
var DefaultServerPorts = ServerPorts{
	Frontend: 7233, FrontendHTTP: 7243, FrontendMembership: 6933,
	History: 7234, HistoryMembership: 6934,
	Matching: 7235, MatchingMembership: 6935,
	Worker: 7239, WorkerMembership: 6939,
	Metrics: 8000, InternalFrontend: 7236, InternalFrontendMembership: 6936,
}

// FreeServerPorts picks every port of a server among the free ones below
// 32768: the PostgreSQL schema keeps the membership ports of the cluster in a
// smallint column, so the kernel's ephemeral ports (32768 and up) fail the
// server's start.
func FreeServerPorts() (ServerPorts, error) {
	var p []int
	seen := map[int]bool{}
	for tries := 0; len(p) < 12; tries++ {
		if tries == 1000 {
			return ServerPorts{}, errors.New("no free ports below 32768")
		}
		port := 10000 + rand.IntN(32768-10000)
		if seen[port] {
			continue
		}
		seen[port] = true
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue // taken
		}
		if err := ln.Close(); err != nil {
			return ServerPorts{}, err
		}
		p = append(p, port)
	}
	return ServerPorts{
		Frontend: p[0], FrontendHTTP: p[1], FrontendMembership: p[2],
		History: p[3], HistoryMembership: p[4],
		Matching: p[5], MatchingMembership: p[6],
		Worker: p[7], WorkerMembership: p[8],
		Metrics: p[9], InternalFrontend: p[10], InternalFrontendMembership: p[11],
	}, nil
}

// TemporalServer is Temporal's own server (go.temporal.io/server), all four
// services in one process, on PostgreSQL: the production server, as opposed
// to the CLI's dev server on SQLite.
type TemporalServer struct {
	Binary    string // temporal-server
	SQLTool   string // temporal-sql-tool
	SchemaDir string // the release's schema/postgresql/v12
	// DynamicConfig is the dynamic configuration file (shared with
	// docker-compose.yml); the server polls it.
	DynamicConfig string
	Dir           string // where the rendered configuration goes
	IP            string
	Ports         ServerPorts
	DB            Postgres // the PostgreSQL server holding temporal and temporal_visibility
	// HistoryShards is fixed when the cluster is first created: the server
	// refuses to start on a database created with another count.
	HistoryShards int
	Namespace     string
	Retention     time.Duration
	// JWKS, when set, turns authorization on: the default JWT claim mapper
	// checks every call's bearer token against the keys published there
	// (the OpenID provider's jwks_uri, fetched again every minute, so a
	// rotated key is picked up), and the default authorizer lets a call
	// through only with the permission it needs ("default:write" to start
	// or signal, "default:admin" ...). The server's own workers then go
	// through the internal frontend, which trusts its callers: it listens
	// on IP like the other internal services, which production protects
	// with internode mutual TLS.
	JWKS string
	// Admin is the installer's credential when authorization is on (a
	// token with "temporal-system:admin"): Start registers the namespace
	// and the search attributes with it.
	Admin client.Credentials
	Log   io.Writer
}

// Databases of Temporal's persistence and visibility stores.
const (
	TemporalDatabase   = "temporal"
	VisibilityDatabase = "temporal_visibility"
)

// Address is the frontend's host:port.
func (t TemporalServer) Address() string { return fmt.Sprintf("%s:%d", t.IP, t.Ports.Frontend) }

// ConfigFile is where Start writes the server's configuration.
func (t TemporalServer) ConfigFile() string { return filepath.Join(t.Dir, "temporal-server.yaml") }

// Migrate creates Temporal's two databases when missing and brings their
// schemas to the release's version with temporal-sql-tool, as the
// admin-tools job of docker-compose.yml does. A second run changes nothing;
// after an upgrade of the server it applies the new schema versions.
func (t TemporalServer) Migrate(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, t.DB.dsn("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, db := range []struct{ name, schema string }{
		{TemporalDatabase, "temporal"}, {VisibilityDatabase, "visibility"},
	} {
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db.name).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			if err := t.sqlTool(ctx, db.name, "create-database"); err != nil {
				return err
			}
		}
		// setup-schema -v 0.0 only creates the version tables, and leaves
		// an initialised database alone; update-schema applies what is missing.
		if err := t.sqlTool(ctx, db.name, "setup-schema", "-v", "0.0"); err != nil {
			return err
		}
		dir := filepath.Join(t.SchemaDir, db.schema, "versioned")
		if err := t.sqlTool(ctx, db.name, "update-schema", "-d", dir); err != nil {
			return err
		}
	}
	return nil
}

func (t TemporalServer) sqlTool(ctx context.Context, db string, args ...string) error {
	cmd := exec.CommandContext(ctx, t.SQLTool, append([]string{
		"--plugin", "postgres12", "--ep", "127.0.0.1", "-p", strconv.Itoa(t.DB.Port),
		"-u", t.DB.User, "--db", db}, args...)...)
	// The password goes by environment, not on a command line others can read.
	cmd.Env = append(os.Environ(), "SQL_PASSWORD="+t.DB.Password)
	out, err := cmd.CombinedOutput()
	if t.Log != nil {
		if _, werr := t.Log.Write(out); werr != nil {
			return werr
		}
	}
	if err != nil {
		return fmt.Errorf("temporal-sql-tool %s on %s: %w\n%s", args[0], db, err, out)
	}
	return nil
}

// serverConfig is our configuration of the Temporal server, shaped on the
// release's config/development-postgres12.yaml with our ports, shard count
// and dynamic configuration.
var serverConfig = template.Must(template.New("temporal-server.yaml").Parse(`# Written by devenv (TemporalServer.Start) on every start; edits are lost.
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: {{.HistoryShards}}
  datastores:
    postgres-default:
      sql:
        pluginName: postgres12
        databaseName: {{.Database}}
        connectAddr: "127.0.0.1:{{.DB.Port}}"
        connectProtocol: tcp
        user: {{printf "%q" .DB.User}}
        password: {{printf "%q" .DB.Password}}
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    postgres-visibility:
      sql:
        pluginName: postgres12
        databaseName: {{.Visibility}}
        connectAddr: "127.0.0.1:{{.DB.Port}}"
        connectProtocol: tcp
        user: {{printf "%q" .DB.User}}
        password: {{printf "%q" .DB.Password}}
        maxConns: 10
        maxIdleConns: 10
        maxConnLifetime: 1h

global:
{{- if .JWKS}}
  authorization:
    authorizer: default
    claimMapper: default
    permissionsClaimName: permissions
    jwtKeyProvider:
      keySourceURIs:
        - {{printf "%q" .JWKS}}
      refreshInterval: 1m
{{- end}}
  membership:
    maxJoinDuration: 30s
    broadcastAddress: {{printf "%q" .IP}}
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "{{.IP}}:{{.Ports.Metrics}}"

services:
  frontend:
    rpc:
      grpcPort: {{.Ports.Frontend}}
      membershipPort: {{.Ports.FrontendMembership}}
      httpPort: {{.Ports.FrontendHTTP}}
      bindOnIP: {{printf "%q" .IP}}
{{- if .JWKS}}
  internal-frontend:
    rpc:
      grpcPort: {{.Ports.InternalFrontend}}
      membershipPort: {{.Ports.InternalFrontendMembership}}
      bindOnIP: {{printf "%q" .IP}}
{{- end}}
  history:
    rpc:
      grpcPort: {{.Ports.History}}
      membershipPort: {{.Ports.HistoryMembership}}
      bindOnIP: {{printf "%q" .IP}}
  matching:
    rpc:
      grpcPort: {{.Ports.Matching}}
      membershipPort: {{.Ports.MatchingMembership}}
      bindOnIP: {{printf "%q" .IP}}
  worker:
    rpc:
      grpcPort: {{.Ports.Worker}}
      membershipPort: {{.Ports.WorkerMembership}}
      bindOnIP: {{printf "%q" .IP}}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "{{.IP}}:{{.Ports.Frontend}}"

dcRedirectionPolicy:
  policy: noop

dynamicConfigClient:
  filepath: {{printf "%q" .DynamicConfig}}
  pollInterval: 10s
`))

// Start migrates the databases, writes the configuration, runs the server,
// waits until the cluster answers, creates the namespace when missing and
// registers the case's search attributes. The PostgreSQL server of DB must
// be running.
func (t TemporalServer) Start(ctx context.Context) (*Process, error) {
	if err := t.Migrate(ctx); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(t.Dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(t.ConfigFile(), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	err = serverConfig.Execute(f, struct {
		TemporalServer
		Database, Visibility string
	}{t, TemporalDatabase, VisibilityDatabase})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", t.ConfigFile(), err)
	}
	args := []string{"--config-file", t.ConfigFile(), "--allow-no-auth", "start"}
	if t.JWKS != "" { // the internal frontend is not among the services started by default
		for _, svc := range []string{"frontend", "internal-frontend", "history", "matching", "worker"} {
			args = append(args, "--service", svc)
		}
	}
	proc, err := start("temporal-server", exec.Command(t.Binary, args...), t.Log)
	if err != nil {
		return nil, err
	}
	if err := t.setUp(ctx, proc); err != nil {
		proc.Kill()
		return nil, err
	}
	return proc, nil
}

func (t TemporalServer) setUp(ctx context.Context, proc *Process) error {
	c, err := client.NewLazyClient(client.Options{HostPort: t.Address(), Namespace: t.Namespace, Logger: quietLogger{},
		Credentials: t.Admin, ConnectionOptions: client.ConnectionOptions{TLSDisabled: true}})
	if err != nil {
		return err
	}
	defer c.Close()
	svc := c.WorkflowService()
	err = proc.waitFor(ctx, "cluster health", func(ctx context.Context) error {
		_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	})
	if err != nil {
		return err
	}
	// The frontend answers before its namespace registry has loaded, so
	// registration is retried, and a namespace just registered is not served
	// until the registry refreshes (every few seconds).
	err = proc.waitFor(ctx, "namespace "+t.Namespace, func(ctx context.Context) error {
		_, err := svc.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: t.Namespace})
		var notFound *serviceerror.NamespaceNotFound
		if !errors.As(err, &notFound) {
			return err
		}
		_, err = svc.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        t.Namespace,
			WorkflowExecutionRetentionPeriod: durationpb.New(t.Retention),
			HistoryArchivalState:             enumspb.ARCHIVAL_STATE_DISABLED,
			VisibilityArchivalState:          enumspb.ARCHIVAL_STATE_DISABLED,
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if err == nil || errors.As(err, &exists) {
			return errors.New("namespace registered, not served yet")
		}
		return err
	})
	if err != nil {
		return err
	}
	err = proc.waitFor(ctx, "search attributes", func(ctx context.Context) error {
		return starter.EnsureSearchAttributes(ctx, c, t.Namespace)
	})
	if err != nil {
		return err
	}
	// The frontend validates a workflow's search attributes against a cache
	// it refreshes every few seconds: until then a case's start is refused.
	// A visibility query naming every attribute passes the same check.
	var terms []string
	for name := range complaint.SearchAttributes {
		terms = append(terms, name+" IS NULL")
	}
	slices.Sort(terms)
	query := strings.Join(terms, " AND ")
	return proc.waitFor(ctx, "search attributes served", func(ctx context.Context) error {
		_, err := svc.CountWorkflowExecutions(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: t.Namespace, Query: query})
		return err
	})
}
