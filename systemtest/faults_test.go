package systemtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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

// The API dies while a submission is in flight — after it started the case
// in Temporal, before it answered; the client retries with the same
// Idempotency-Key against the restarted API and gets the one case.
func TestAPIKilledDuringARequestStillMakesOneCase(t *testing.T) {
	ctx := t.Context()
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
	// The API records which system submitted a case right after starting
	// it. Holding that table makes the API wait there, mid-request, with the
	// case started: the moment a crash is the most harmful.
	hold, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close(context.WithoutCancel(ctx))
	watch, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(context.WithoutCancel(ctx))
	tx, err := hold.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE case_submitters IN EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() {
		resp, err := send(time.Minute)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("answered %d", resp.StatusCode)
		}
		first <- err
	}()
	Eventually(t, "the API waiting mid-request, the case started", func() error {
		var waiting int
		// From a connection of its own: a transaction sees the activity as
		// it was when it first looked.
		err := watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO case_submitters%'`).Scan(&waiting)
		if err == nil && waiting == 0 {
			err = errors.New("no insert waits")
		}
		return err
	})
	api.Kill() // SIGKILL
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// The request was in flight: the client got no answer.
	if err := <-first; err == nil || strings.HasPrefix(err.Error(), "answered") {
		t.Fatalf("the first attempt: %v, want a broken connection", err)
	}
	apiProcess(t, addr)
	resp, err := send(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The case was started before the crash: the retry meets it.
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("retry answered %d, want 200 (the case started before the crash)", resp.StatusCode)
	}
	if n := settledCount(t, since); n != 1 {
		t.Fatalf("%d cases for one key", n)
	}
}
