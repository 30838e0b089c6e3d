// Command prodstack is `make prod`: the production topology of
// docker-compose.yml run natively — Temporal's server on PostgreSQL with its
// Web UI, the application's own PostgreSQL, two workers and two API replicas
// behind nginx. It waits until each process is healthy, starts again any
// that dies (see devenv.Supervisor) and on Ctrl-C stops everything, last
// started first. Data stays in PROD_DIR.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/connection"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/devenv/idp"
)

type config struct {
	// Connection: the namespace and task queue the workers and the API
	// replicas are given; their Temporal address and database URL are those
	// of the servers started here.
	connection.Config
	Dir           string `env:"PROD_DIR" envDefault:".prod"`
	BinDir        string `env:"BIN_DIR" envDefault:"bin"`
	VersionsFile  string `env:"VERSIONS_FILE" envDefault:"deploy/versions.env"`
	DynamicConfig string `env:"TEMPORAL_DYNAMIC_CONFIG" envDefault:"deploy/temporal/dynamicconfig/development-sql.yaml"`
	PostgresPort  int    `env:"POSTGRES_PORT" envDefault:"55432"`
	TemporalDB    int    `env:"TEMPORAL_DB_PORT" envDefault:"55433"`
	TemporalPort  int    `env:"TEMPORAL_PORT" envDefault:"7233"`
	UIPort        int    `env:"TEMPORAL_UI_PORT" envDefault:"8233"`
	APIPort       int    `env:"API_PORT" envDefault:"8080"`
	IDPPort       int    `env:"IDP_PORT" envDefault:"8099"`
	Shards        int    `env:"TEMPORAL_HISTORY_SHARDS" envDefault:"16"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "prodstack:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := connection.ParseAs[config](nil)
	if err != nil {
		return err
	}
	// Refused before any server starts, not when the worker exits on it.
	if _, err := connection.Compression(cfg.Compression); err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return err
	}
	dynamic, err := filepath.Abs(cfg.DynamicConfig)
	if err != nil {
		return err
	}
	tools, err := devenv.ProdToolsIn(cfg.BinDir, cfg.VersionsFile)
	if err != nil {
		return err
	}
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	ports := devenv.DefaultProdPorts
	ports.AppDB, ports.TemporalDB, ports.UI, ports.API = cfg.PostgresPort, cfg.TemporalDB, cfg.UIPort, cfg.APIPort
	ports.Server.Frontend = cfg.TemporalPort

	startCtx, startDone := context.WithTimeout(ctx, 5*time.Minute)
	defer startDone()
	var files []*os.File
	defer func() {
		for _, f := range files {
			if err := f.Close(); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}
	}()
	// The installation's secrets (made on first start) go to every worker
	// and replica. The staff of the form's OpenID provider (made on first
	// start too) sign in to the desk and the Temporal UI, whose users'
	// tokens reach Temporal's frontend and the API's codec server.
	secrets, err := devenv.LoadSecrets(filepath.Join(dir, "secrets.env"))
	if err != nil {
		return err
	}
	apiURL := fmt.Sprintf("http://127.0.0.1:%d", cfg.APIPort)
	staff, err := idp.LoadOrCreate(filepath.Join(dir, "idp.json"), apiURL)
	if err != nil {
		return err
	}
	ports.IDP = cfg.IDPPort
	prod, err := devenv.StartProd(startCtx, devenv.ProdOptions{
		Dir: dir, Tools: tools, AppBinDir: cfg.BinDir, DynamicConfig: dynamic, Ports: ports,
		HistoryShards: cfg.Shards, Namespace: cfg.TemporalNamespace, TaskQueue: cfg.TaskQueue,
		UICodecEndpoint: apiURL + "/codec", Staff: staff.Users,
		AppEnv: append(secrets.Env(), "PUBLIC_URL="+apiURL,
			fmt.Sprintf("CODEC_CORS_ORIGINS=http://127.0.0.1:%d,http://localhost:%d", cfg.UIPort, cfg.UIPort)),
		Log: func(name string) io.Writer {
			f, err := os.OpenFile(filepath.Join(logs, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				fmt.Fprintf(os.Stderr, "cannot write %s log: %v\n", name, err)
				return io.Discard
			}
			files = append(files, f)
			return f
		},
		Progress: func(line string) { fmt.Println(line) },
	})
	stop := func() {
		if prod == nil {
			return
		}
		if err := prod.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	defer stop()
	if err != nil {
		return fmt.Errorf("%w (logs in %s)", err, logs)
	}
	creds, err := devenv.WriteCredentials(ctx, prod.AppDB.DSN(), filepath.Join(dir, "credentials.env"), secrets,
		auth.DefaultMaxLifetime)
	if err != nil {
		return err
	}
	// The operator's token for the Temporal CLI, as the UI would get it.
	operatorToken := filepath.Join(dir, "temporal-operator.token")
	token, err := prod.AccessToken(ctx, "dev.operator")
	if err != nil {
		return err
	}
	if err := os.WriteFile(operatorToken, []byte(token), 0o600); err != nil {
		return err
	}
	var people strings.Builder
	for _, u := range staff.Users {
		fmt.Fprintf(&people, "  %-15s %-18s %-12s %s\n", u.Username, u.Password, strings.Join(u.Roles, ","), strings.Join(u.Departments, ","))
	}
	startDone()

	fmt.Printf(`
The complaint system is up in production form.
  API (nginx)   %s   (replicas %v)
  Temporal UI   %s
  Temporal      %s, namespace %s, %d history shards, on PostgreSQL 127.0.0.1:%d
  Application   %s
  Workers       health on %v
  Logs          %s

Credentials (also in %s; both kinds go as Authorization: Bearer ...):
  API_KEY=%s
  STAFF_TOKEN=%s
  ADMIN_TOKEN=%s

Staff desk %s/desk and the Temporal UI sign in at the OpenID provider %s
(users, roles and passwords in %s); the Temporal UI and CLI admit operators
and admins only. The CLI with dev.operator's token:
  temporal --address %s --api-key "$(cat %s)" --tls=false workflow list
%s
A process that dies is started again; press Ctrl-C to stop everything.
`, prod.APIURL(), ports.APIReplicas, prod.UI.URL(), prod.Server.Address(), cfg.TemporalNamespace, cfg.Shards,
		ports.TemporalDB, prod.AppDB.DSN(), ports.Workers, logs,
		filepath.Join(dir, "credentials.env"), creds.APIKey, creds.StaffToken, creds.AdminToken,
		prod.APIURL(), prod.IDP.Issuer(), filepath.Join(dir, "idp.json"), prod.Server.Address(), operatorToken, people.String())

	<-ctx.Done()
	fmt.Println("\nshutting down")
	return nil
}
