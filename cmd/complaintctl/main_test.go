package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// run is one command line: its exit code, standard output and error.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestHelpIsOnStandardOutputAndExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"apikey", "create", "-h"}, {"task", "--help"}} {
		code, out, errOut := run(t, args...)
		if code != 0 || !strings.Contains(out, "Usage:") || errOut != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 0 and the help on stdout", args, code, out, errOut)
		}
		if n := strings.Count(out, "Usage:"); n != 1 {
			t.Errorf("%v: the help printed %d times", args, n)
		}
	}
}

func TestMisuseExitsTwo(t *testing.T) {
	for name, args := range map[string][]string{
		"nothing":             {},
		"unknown command":     {"bogus"},
		"unknown flag":        {"migrate", "--bogus"},
		"group alone":         {"apikey"},
		"missing argument":    {"case", "show"},
		"extra argument":      {"webhook-secret", "x"},
		"missing flag":        {"token", "--sub", "li.na"},
		"unknown task":        {"task", "fly", "CMP-20261123-4F7K2Q"},
		"the customer's task": {"task", "customerMessage", "CMP-20261123-4F7K2Q"}, // by mail or the status page only
		"both payloads":       {"task", "close", "CMP-20261123-4F7K2Q", "--data", "{}", "--file", "x.json"},
		"bad output format":   {"webhook-secret", "-o", "yaml"},
		"rotate without what": {"keys", "rotate"},
	} {
		code, out, errOut := run(t, args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "Usage:") {
			t.Errorf("%s %v: exit %d, stdout %q, stderr %q; want 2 with the usage on stderr", name, args, code, out, errOut)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, _ := run(t, "completion", shell)
		if code != 0 || !strings.Contains(out, "complaintctl") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, code, len(out))
		}
	}
	// The shell asks the binary for task names.
	code, out, _ := run(t, "__complete", "task", "cl")
	if code != 0 || !strings.Contains(out, "close\n") || strings.Contains(out, "assign\n") {
		t.Errorf("completing a task name: exit %d, %q", code, out)
	}
}

func TestJSONOutput(t *testing.T) {
	code, out, _ := run(t, "webhook-secret", "--output", "json")
	var v struct{ Secret string }
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || !strings.HasPrefix(v.Secret, "whsec_") {
		t.Fatalf("exit %d, %q, %v", code, out, err)
	}
	code, out, _ = run(t, "webhook-secret")
	if code != 0 || !strings.HasPrefix(out, "whsec_") || strings.Count(out, "\n") != 1 {
		t.Fatalf("text: exit %d, %q", code, out)
	}
}

func TestLegacySingleDashFlags(t *testing.T) {
	t.Setenv("AUTH_TOKEN_SECRET", strings.Repeat("k", 32))
	code, out, errOut := run(t, "token", "-sub", "li.na", "-role", "agent", "-ttl", "1h")
	if code != 0 || strings.Count(out, ".") != 2 {
		t.Fatalf("exit %d, stdout %q, stderr %q; want a JWT", code, out, errOut)
	}
}

// fakeAPI answers like the API: the case to the token "good", a 403
// problem to any other, and records what it was sent.
type fakeAPI struct {
	t    *testing.T
	last *http.Request
	body string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.last, f.body = r, string(b)
	if r.Header.Get("Authorization") != "Bearer good" {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"title":"Forbidden","status":403,"detail":"role agent may not run close on this case"}`)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/v1/complaints/") {
		_ = json.NewEncoder(w).Encode(complaint.CaseView{Reference: "CMP-20261123-4F7K2Q", Status: complaint.StatusClosed,
			Owner: "li.na", Subject: "Smartwatch dead on arrival"})
		return
	}
	_, _ = io.WriteString(w, `{"items":[{"reference":"CMP-20261123-4F7K2Q","status":"closed","owner":"li.na",
		"subject":"Smartwatch dead on arrival","receivedAt":"2026-11-23T01:00:00Z"}],"nextCursor":"abc"}`)
}

func TestCaseAndTaskGoThroughTheAPIWithTheToken(t *testing.T) {
	api := &fakeAPI{t: t}
	srv := httptest.NewServer(api)
	defer srv.Close()

	code, out, errOut := run(t, "case", "show", "CMP-20261123-4F7K2Q", "--api", srv.URL, "--token", "good", "-o", "json")
	var v complaint.CaseView
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Status != complaint.StatusClosed {
		t.Fatalf("case show: exit %d, %q, %q", code, out, errOut)
	}
	if api.last.URL.Path != "/v1/complaints/CMP-20261123-4F7K2Q" || api.last.Method != http.MethodGet {
		t.Fatalf("case show called %s %s", api.last.Method, api.last.URL)
	}

	t.Setenv("STAFF_TOKEN", "good") // as .dev/credentials.env sets it
	code, out, errOut = run(t, "case", "list", "--api", srv.URL, "--status", "closed", "--limit", "10")
	if code != 0 || !strings.Contains(out, "CMP-20261123-4F7K2Q") || !strings.Contains(errOut, "--cursor abc") {
		t.Fatalf("case list: exit %d, %q, %q", code, out, errOut)
	}
	if q := api.last.URL.Query(); q.Get("status") != "closed" || q.Get("limit") != "10" || len(q) != 2 {
		t.Fatalf("case list sent %s", api.last.URL.RawQuery)
	}

	code, _, errOut = run(t, "task", "close", "CMP-20261123-4F7K2Q", "--api", srv.URL,
		"--data", `{"outcome":"upheld","summary":"Watch replaced"}`, "--idempotency-key", "close-1")
	if code != 0 || api.last.Method != http.MethodPost || api.last.URL.Path != "/v1/complaints/CMP-20261123-4F7K2Q/close" ||
		api.body != `{"outcome":"upheld","summary":"Watch replaced"}` || api.last.Header.Get("Idempotency-Key") != "close-1" {
		t.Fatalf("task close: exit %d, %q; sent %s %s %q", code, errOut, api.last.Method, api.last.URL, api.body)
	}

	// The API's refusal is the command's failure: exit 1 with the problem.
	code, out, errOut = run(t, "task", "close", "CMP-20261123-4F7K2Q", "--api", srv.URL, "--token", "other", "--data", "{}")
	if code != exitFailed || out != "" || !strings.Contains(errOut, "403") || !strings.Contains(errOut, "may not run close") {
		t.Fatalf("refused task: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	t.Setenv("STAFF_TOKEN", "")
	if code, _, errOut = run(t, "case", "show", "CMP-20261123-4F7K2Q", "--api", srv.URL); code != exitFailed ||
		!strings.Contains(errOut, "no token") {
		t.Fatalf("without a token: exit %d, %q", code, errOut)
	}
}

func TestSeedProgressSaysWhenItWillEnd(t *testing.T) {
	p := newProgress(1000, testStart)
	if got := p.line(250, testStart.Add(30e9)); got != "250 of 1000 cases written (25 %), 30s, about 1m30s to go" {
		t.Fatalf("progress %q", got)
	}
	if got := p.line(1000, testStart.Add(120e9)); strings.Contains(got, "to go") {
		t.Fatalf("done: %q", got)
	}
}

var testStart = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
