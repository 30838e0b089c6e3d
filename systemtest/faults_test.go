package systemtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/devenv"
)

// apiProcess runs bin/api as its own process on this system.
func apiProcess(t *testing.T, addr string) *devenv.Process {
	t.Helper()
	bin := filepath.Join(RepoRoot(), "bin", "api")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%v: `make test` builds bin/api", err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "API_ADDR="+addr, "TEMPORAL_ADDRESS="+sys.Temporal.Address(),
		"DATABASE_URL="+sys.Postgres.DSN(), "LOG_LEVEL=error")
	cmd.Env = append(cmd.Env, sys.Secrets.Env()...)
	p, err := devenv.StartProcess("api", cmd, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	if err := devenv.WaitHTTP(context.Background(), p, "http://"+addr+"/readyz"); err != nil {
		t.Fatal(err)
	}
	return p
}

// The API dies while a submission is in flight; the client retries with the
// same Idempotency-Key against the restarted API and gets one case.
func TestAPIKilledDuringARequestStillMakesOneCase(t *testing.T) {
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	api := apiProcess(t, addr)
	body := demoCase(t, "demo-laptop-flicker")
	delete(body, "externalId")
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	since := startedSince(time.Now())
	send := func(timeout time.Duration) (*http.Response, error) {
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/complaints", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "systemtest-api-killed")
		req.Header.Set("Authorization", "Bearer "+sys.APIKey)
		return (&http.Client{Timeout: timeout}).Do(req)
	}
	// The first attempt: the API is killed (SIGKILL) while the call runs.
	go func() {
		time.Sleep(5 * time.Millisecond)
		api.Kill()
	}()
	if resp, err := send(10 * time.Second); err == nil {
		resp.Body.Close() // it may have answered before dying: the retry must still make no second case
	}
	apiProcess(t, addr)
	resp, err := send(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("retry answered %d", resp.StatusCode)
	}
	Eventually(t, "one case", func() error {
		if n := countWorkflows(t, since); n != 1 {
			return fmt.Errorf("%d cases", n)
		}
		return nil
	})
	time.Sleep(time.Second)
	if n := countWorkflows(t, since); n != 1 {
		t.Fatalf("%d cases for one key", n)
	}
}
