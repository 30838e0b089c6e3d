package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/dotenv"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/systemtest"
)

// `make dev` on an operator's bad day: each of its processes is killed
// (SIGKILL) in turn while cases arrive. The launcher starts each again and
// keeps the rest running; every case is acknowledged to its customer once;
// Ctrl-C then stops everything and leaves no process behind.
func TestDevStackRestartsWhatDiesAndStopsClean(t *testing.T) {
	if testing.Short() {
		t.Skip("runs bin/devstack: PostgreSQL, the Temporal CLI, the worker and the API")
	}
	root := systemtest.RepoRoot()
	bin := filepath.Join(root, "bin")
	for _, b := range []string{"devstack", "temporal", "worker", "api"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			t.Fatalf("%v: `make build tools` makes bin/%s", err, b)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	ports, err := devenv.FreePorts(10)
	if err != nil {
		t.Fatal(err)
	}
	// Readable by the postgres account the server runs as under root.
	dir, err := os.MkdirTemp("", "devstack-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := func(i int) string { return "127.0.0.1:" + strconv.Itoa(ports[i]) }
	cmd := exec.Command(filepath.Join(bin, "devstack"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "DEV_DIR="+dir, "POSTGRES_PORT="+strconv.Itoa(ports[0]),
		"TEMPORAL_PORT="+strconv.Itoa(ports[1]), "TEMPORAL_UI_PORT="+strconv.Itoa(ports[2]),
		"API_ADDR="+addr(3), "WORKER_HTTP_ADDR="+addr(4), "MAILBOX_SMTP_ADDR="+addr(5), "MAILBOX_HTTP_ADDR="+addr(6),
		"DEV_IDP_ADDR="+addr(7), "INBOUND_SMTP_ADDR="+addr(8), "TEMPORAL_HTTP_PORT="+strconv.Itoa(ports[9]),
		"LOG_LEVEL=info")
	var out systemtest.LogBuffer // read while devstack writes it
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if t.Failed() {
			t.Logf("devstack's output:\n%s", out.String())
		}
	}()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Signal(os.Interrupt)
			<-exited
		}
	})
	systemtest.EventuallyWithin(t, 5*time.Minute, "devstack up", func() error {
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("devstack ended: %v", err)
		default:
		}
		if !strings.Contains(out.String(), "The complaint system is up") {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	// The dev server's HTTP API is on the port it was given, not one the
	// CLI picked by itself.
	resp, err := http.Get("http://" + addr(9) + "/api/v1/namespaces/default")
	if err != nil {
		t.Fatalf("Temporal's HTTP API on TEMPORAL_HTTP_PORT: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Temporal's HTTP API on TEMPORAL_HTTP_PORT: %s", resp.Status)
	}
	creds, err := dotenv.Read(filepath.Join(dir, "credentials.env"))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr(3)

	var retried atomic.Int64
	type submitted struct{ ref, email string }
	var cases []submitted
	children := map[string]int{}
	for _, victim := range []string{"worker", "api", "temporal", "postgres"} {
		before := childProcesses(t, cmd.Process.Pid)
		pid := before[victim]
		if pid == 0 {
			t.Fatalf("no %s among devstack's children %v", victim, before)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		email := "devstack-" + victim + "@example.com"
		body, err := systemtest.DemoCase("demo-smartwatch-doa")
		if err != nil {
			t.Fatal(err)
		}
		body["externalId"] = "devstack-crash-" + victim
		body["customer"] = map[string]any{"id": email, "name": "Crash Test", "email": email, "language": "en"}
		// The outage lasts seconds; minutes mean the launcher did not restart.
		callCtx, callDone := context.WithTimeout(ctx, 2*time.Minute)
		r, err := systemtest.PostRetrying(callCtx, base, creds["API_KEY"], "/v1/complaints", body, "devstack-"+victim, &retried)
		callDone()
		if err != nil {
			t.Fatalf("during %s's outage: %v", victim, err)
		}
		cases = append(cases, submitted{r["reference"].(string), email})
		systemtest.EventuallyWithin(t, 2*time.Minute, victim+" back", func() error {
			if !strings.Contains(out.String(), victim+" back at") {
				return fmt.Errorf("not yet")
			}
			return nil
		})
		after := childProcesses(t, cmd.Process.Pid)
		if after[victim] == 0 || after[victim] == pid {
			t.Fatalf("%s not started again: %v", victim, after)
		}
		// The application's processes die alone.
		if victim == "worker" || victim == "api" {
			for name, p := range before {
				if name != victim && after[name] != p {
					t.Errorf("%s changed (pid %d, was %d) when %s died", name, after[name], p, victim)
				}
			}
		}
		children = after
	}
	t.Logf("%d calls were retried", retried.Load())

	// A task in flight when Temporal was killed comes back after its
	// timeout (an activity's 30 s, then its retry backoff), and on a busy
	// machine the restarted processes reconnect slowly: minutes, not
	// seconds, are the honest bound here.
	deadline := time.Now().Add(4 * time.Minute)
	for _, c := range cases {
		for {
			n, err := acknowledgements(ctx, addr(6), c.ref, c.email)
			if err == nil && n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("no acknowledgement to %s (%v) after 4 minutes; the case in Temporal:\n%s", c.email, err,
					caseInTemporal(bin, addr(1), c.ref))
				t.Fatalf("the worker's log:\n%s", tail(filepath.Join(dir, "logs", "worker.log"), 200))
			}
			time.Sleep(time.Second)
		}
	}
	for _, c := range cases {
		if n, err := acknowledgements(ctx, addr(6), c.ref, c.email); err != nil || n != 1 {
			t.Errorf("%s got %d acknowledgements (%v), want 1", c.email, n, err)
		}
	}

	// Ctrl-C stops everything, and nothing is left running.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if err := <-exited; err != nil {
		t.Errorf("devstack ended with %v", err)
	}
	for name, pid := range children {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("%s (pid %d) still runs after Ctrl-C", name, pid)
		}
	}
}

// caseInTemporal is what Temporal's CLI says of the case's workflow: its
// state, pending work and history, to tell a stuck case's cause.
func caseInTemporal(bin, address, ref string) string {
	var out bytes.Buffer
	for _, sub := range []string{"describe", "show"} {
		cmd := exec.Command(filepath.Join(bin, "temporal"), "workflow", sub, "--address", address,
			"--workflow-id", complaint.WorkflowID(ref))
		cmd.Stdout, cmd.Stderr = &out, &out
		_ = cmd.Run() // its output says what went wrong
	}
	return out.String()
}

// tail is the last lines of a file, or why it cannot be read.
func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(string(data), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// childProcesses names devstack's children by their command line.
func childProcesses(t *testing.T, parent int) map[string]int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	kids := map[string]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(parent) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(string(cmdline), "\x00")
		switch {
		case strings.HasSuffix(args[0], "/postgres"):
			kids["postgres"] = pid
		case strings.HasSuffix(args[0], "/temporal"):
			kids["temporal"] = pid
		case strings.HasSuffix(args[0], "/worker"):
			kids["worker"] = pid
		case strings.HasSuffix(args[0], "/api"):
			kids["api"] = pid
		}
	}
	return kids
}

// acknowledgements counts the mailbox's messages to email acknowledging ref.
func acknowledgements(ctx context.Context, mailboxAddr, ref, email string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+mailboxAddr+"/messages", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var msgs []struct {
		To      []string
		Subject string
	}
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		return 0, err
	}
	n := 0
	for _, m := range msgs {
		for _, to := range m.To {
			if strings.EqualFold(to, email) && strings.HasPrefix(m.Subject, "We have received") && strings.Contains(m.Subject, ref) {
				n++
			}
		}
	}
	return n, nil
}
