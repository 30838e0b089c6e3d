package devenv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// The UI's codec endpoint carries an operator's token: it reaches the CLI
// in a file only its user reads, never in an argument (ps shows those to
// every user of the machine).
func TestCodecEndpointIsNotAProcessArgument(t *testing.T) {
	const endpoint = "http://127.0.0.1:8080/codec/k/secret-token-123"
	tp := Temporal{IP: "127.0.0.1", Port: 7233, UIPort: 8233, Namespace: "default", CodecEndpoint: endpoint}
	args, cleanup, err := tp.args()
	if err != nil {
		t.Fatal(err)
	}
	var file string
	for i, a := range args {
		if strings.Contains(a, "secret-token-123") {
			t.Fatalf("argument %d carries the token: %q", i, a)
		}
		if a == "--env-file" && i+1 < len(args) {
			file = args[i+1]
		}
	}
	data, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(data), endpoint) {
		t.Fatalf("the settings file %q does not give the endpoint: %v %s", file, err, data)
	}
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the settings file's mode: %v %v", info.Mode(), err)
	}
	cleanup()
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("the settings file outlives the start: %v", err)
	}
}

// The dev server's file is write-ahead logged, and a server killed the
// moment after it accepted a start has kept it: the faster sync setting
// loses nothing when a process dies, only if the machine loses power.
func TestTheDevServerKeepsWhatItAcceptedWhenKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Temporal dev server")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	db := filepath.Join(t.TempDir(), "temporal.db")
	tp, proc := startTestServer(ctx, t, db)
	c, err := client.Dial(client.Options{HostPort: tp.Address(), Namespace: "default"})
	if err != nil {
		proc.Kill()
		t.Fatal(err)
	}
	defer c.Close()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "kept-after-kill", TaskQueue: "nobody-polls"}, "AnyWorkflow")
	proc.Kill()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(db + "-wal"); err != nil {
		t.Errorf("no write-ahead log beside the file: %v", err)
	}
	if proc, err = tp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := proc.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
	}()
	d, err := c.DescribeWorkflowExecution(ctx, "kept-after-kill", run.GetRunID())
	if err != nil {
		t.Fatalf("the workflow started before the kill: %v", err)
	}
	if s := d.GetWorkflowExecutionInfo().GetStatus(); s != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Errorf("status after the restart: %v", s)
	}
}

// A poll that finds no task comes back empty within about ten seconds, not
// the server's default minute: a worker whose pollers all wait on its
// emptied sticky queue turns to the shared queue that soon (see
// serverDefaults). The caller allows 50 s; without the setting the server
// holds the poll until just before that (it answers empty a moment before
// the caller's deadline), which is what the test tells apart.
func TestAnEmptyPollComesBackWithinSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Temporal dev server")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	tp, proc := startTestServer(ctx, t, "")
	defer func() {
		if err := proc.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
	}()
	c, err := client.Dial(client.Options{HostPort: tp.Address(), Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pctx, pcancel := context.WithTimeout(ctx, 50*time.Second)
	defer pcancel()
	asked := time.Now()
	resp, err := c.WorkflowService().PollWorkflowTaskQueue(pctx, &workflowservice.PollWorkflowTaskQueueRequest{
		Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: "nobody-starts-anything"}, Identity: "devenv-test"})
	held := time.Since(asked)
	if err != nil || len(resp.GetTaskToken()) != 0 {
		t.Fatalf("an empty poll: %v, %v", resp, err)
	}
	if held > 30*time.Second {
		t.Fatalf("an empty poll was held %s: the server's long poll is not bounded to about 10 s", held.Round(time.Second))
	}
}

// startTestServer starts the dev server of bin/ on free ports, with its
// SQLite file at db ("": in memory).
func startTestServer(ctx context.Context, t *testing.T, db string) (Temporal, *Process) {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "bin", "temporal"))
	if err != nil {
		t.Fatal(err)
	}
	ports, err := FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	tp := Temporal{Binary: bin, DBFile: db, IP: "127.0.0.1", Port: ports[0], HTTPPort: ports[1], Namespace: "default"}
	proc, err := tp.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tp, proc
}
