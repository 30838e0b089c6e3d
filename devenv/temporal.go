package devenv

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/complaintdesk/complaintdesk/starter"
)

// Temporal is the Temporal CLI's dev server: a real Temporal server with
// SQLite persistence and the Web UI.
type Temporal struct {
	Binary string // the temporal CLI
	DBFile string // SQLite file; empty keeps everything in memory
	IP     string
	Port   int // frontend gRPC
	UIPort int // 0 runs without the Web UI
	// CodecEndpoint, when set, is the codec server the Web UI decodes
	// payloads with.
	CodecEndpoint string
	HTTPPort      int
	Namespace     string
	Log           io.Writer
	// DynamicConfig sets dynamic configuration keys of the server, each
	// value in YAML (e.g. "limit.historyCount.suggestContinueAsNew": "80").
	DynamicConfig map[string]string
}

// Address is the frontend's host:port.
func (t Temporal) Address() string { return fmt.Sprintf("%s:%d", t.IP, t.Port) }

// UIURL is the Web UI's address, empty when headless.
func (t Temporal) UIURL() string {
	if t.UIPort == 0 {
		return ""
	}
	return fmt.Sprintf("http://%s:%d", t.IP, t.UIPort)
}

// sqlitePragmas make the dev server's file write-ahead logged, synced at
// checkpoints rather than at every commit. SQLite's defaults (a rollback
// journal, synced twice per commit) bound the server by the disk's syncs:
// on two CPUs it started about 55 bare workflows a second with the CPUs
// half idle, and turned due timers into tasks at about a dozen a second;
// with these, 145 starts a second (see README, Benchmarks). A commit is in the log
// before the server goes on, so a killed server loses nothing; only the
// machine losing power can take the last moments of development data.
var sqlitePragmas = []string{"--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"}

// uiEnvName is the name of the CLI settings the dev server's UI reads.
const uiEnvName = "complaintdesk-ui"

// args are the CLI's arguments. The codec endpoint carries a token, so it
// goes to the CLI in a settings file only its user can read (the CLI's
// --env-file), never in an argument every user of the machine can list.
func (t Temporal) args() (args []string, cleanup func(), err error) {
	cleanup = func() {}
	args = []string{"server", "start-dev", "--ip", t.IP, "--port", strconv.Itoa(t.Port),
		"--namespace", t.Namespace, "--log-level", "warn"}
	if t.DBFile != "" {
		args = append(args, "--db-filename", t.DBFile)
		args = append(args, sqlitePragmas...)
	}
	if t.UIPort == 0 {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", strconv.Itoa(t.UIPort))
		if t.CodecEndpoint != "" {
			dir, err := os.MkdirTemp("", "temporal-ui-")
			if err != nil {
				return nil, cleanup, err
			}
			cleanup = func() { _ = os.RemoveAll(dir) } // a temporary directory of ours: nothing to report
			file := filepath.Join(dir, "env.yaml")
			settings := fmt.Sprintf("env:\n  %s:\n    ui-codec-endpoint: %q\n", uiEnvName, t.CodecEndpoint)
			if err := os.WriteFile(file, []byte(settings), 0o600); err != nil {
				cleanup()
				return nil, func() {}, err
			}
			args = append(args, "--env-file", file, "--env", uiEnvName)
		}
	}
	if t.HTTPPort != 0 {
		args = append(args, "--http-port", strconv.Itoa(t.HTTPPort))
	}
	dc := maps.Clone(serverDefaults)
	maps.Copy(dc, t.DynamicConfig)
	for _, k := range slices.Sorted(maps.Keys(dc)) {
		args = append(args, "--dynamic-config-value", k+"="+dc[k])
	}
	return args, cleanup, nil
}

// serverDefaults are the dynamic configuration every dev server of ours
// runs with (DynamicConfig overrides them); deploy/temporal/dynamicconfig
// sets the same for the production form and docker-compose.
//
// matching.longPollExpirationInterval: how long the server holds a poll
// that finds no task (a minute by default). A worker sends all its polls
// to its sticky queue while the server reports tasks waiting there; when a
// burst of deadlines outlasts WORKER_STICKY_TIMEOUT, the tasks left there
// are moved to the shared queue, and nothing took them until those polls
// came back empty a minute later. Ten seconds bounds that stall; an idle
// worker's pollers ask again every ten seconds instead of every minute.
// See README, Benchmarks, "Where a burst's time goes".
var serverDefaults = map[string]string{
	"matching.longPollExpirationInterval": `"10s"`,
}

// Start runs the server, waits until the namespace answers and registers
// the case's search attributes.
func (t Temporal) Start(ctx context.Context) (*Process, error) {
	args, cleanup, err := t.args()
	if err != nil {
		return nil, err
	}
	// The CLI reads its settings file at start: once the server answers,
	// the file (and the token in it) can go.
	defer cleanup()
	proc, err := start("temporal", exec.Command(t.Binary, args...), t.Log)
	if err != nil {
		return nil, err
	}
	c, err := client.NewLazyClient(client.Options{HostPort: t.Address(), Namespace: t.Namespace, Logger: quietLogger{}})
	if err != nil {
		proc.Kill()
		return nil, err
	}
	defer c.Close()
	err = proc.waitFor(ctx, "serving namespace "+t.Namespace, func(ctx context.Context) error {
		_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: t.Namespace})
		return err
	})
	if err == nil {
		err = starter.EnsureSearchAttributes(ctx, c, t.Namespace)
	}
	if err != nil {
		proc.Kill()
		return nil, err
	}
	return proc, nil
}

// quietLogger drops the SDK's connection warnings while the server boots.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
