package prodform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/systemtest"
)

// One case from intake to its survey through nginx and the two API replicas,
// run by the two workers on Temporal's server on PostgreSQL, losing a worker
// and a replica on the way.
func TestProductionFormCaseFromIntakeToClosing(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	form := startForm(ctx, t)
	adminToken, staffToken = form.AdminToken, form.StaffToken

	for _, name := range []string{devenv.WorkerName(0), devenv.WorkerName(1), devenv.APIName(0), devenv.APIName(1)} {
		if p := form.Process(name); p == nil {
			t.Fatalf("%s was not started", name)
		}
	}
	// The cluster is Temporal's own server on PostgreSQL, its namespace made
	// by the start and its schema at the release's version.
	for _, db := range []string{devenv.TemporalDatabase, devenv.VisibilityDatabase} {
		conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://temporal:temporal@127.0.0.1:%d/%s?sslmode=disable", form.TemporalDB.Port, db))
		if err != nil {
			t.Fatal(err)
		}
		var version string
		err = conn.QueryRow(ctx, "SELECT curr_version FROM schema_version").Scan(&version)
		conn.Close(ctx)
		if err != nil || version == "" {
			t.Fatalf("%s schema version %q: %v", db, version, err)
		}
	}
	if _, err := form.Client.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"}); err != nil {
		t.Fatal(err)
	}
	// Migrating again changes nothing.
	if err := form.Server.Migrate(ctx); err != nil {
		t.Fatalf("second migration: %v", err)
	}

	base := form.APIURL()
	body := demoCase(t, "demo-smartwatch-doa")
	body["externalId"] = "prodform-smartwatch"
	r := call(t, http.MethodPost, base+"/v1/complaints", body, http.StatusCreated)
	ref := r["reference"].(string)
	// A repeat answered by either replica is the same case.
	if again := call(t, http.MethodPost, base+"/v1/complaints", body, http.StatusOK); again["reference"] != ref {
		t.Fatalf("repeat made %v, want %s", again["reference"], ref)
	}
	waitRecorded(t, base, ref, complaint.StatusAcknowledged)

	// nginx spread the calls so far over both replicas.
	for _, name := range []string{devenv.APIName(0), devenv.APIName(1)} {
		if !servedCases(t, form, name) {
			t.Errorf("%s served no /v1/complaints request", name)
		}
	}

	// One worker and one API replica die (SIGKILL); the case goes on through
	// nginx and the survivors.
	killed := map[string]*devenv.Process{}
	for _, name := range []string{devenv.WorkerName(0), devenv.APIName(0)} {
		killed[name] = form.Process(name)
		killed[name].Kill()
	}

	// A task whose case's worker just died may outlast the API's request
	// timeout (503) until Temporal hands the case to the other worker: the
	// client retries it with the same Idempotency-Key, as the API asks.
	var retried atomic.Int64
	step := 0
	task := func(name string, payload any) {
		t.Helper()
		step++
		key := fmt.Sprintf("%s-%d-%s", ref, step, name)
		token := form.AdminToken
		if name == "surveyResponse" { // nobody who handled the case may answer for the customer
			token = form.StaffToken
		}
		if _, err := systemtest.PostRetrying(ctx, base, token, "/v1/complaints/"+ref+"/"+name, payload, key, &retried); err != nil {
			t.Fatal(err)
		}
	}
	task("startInvestigation", map[string]any{"department": "product", "investigator": "product.lead"})
	task("startInvestigation", map[string]any{"department": "technical", "investigator": "tech.lead"})
	task("submitFindings", map[string]any{"department": "product", "findings": "Dead battery cell, batch 7",
		"rootCause": "Supplier QA gap", "evidence": []string{"QA-7781"}})
	task("submitFindings", map[string]any{"department": "technical", "findings": "No firmware fault",
		"rootCause": "Hardware", "evidence": []string{"diag-log-1"}})
	task("proposeResolution", map[string]any{"actions": []string{"Replace the watch"},
		"compensation": map[string]any{"kind": "voucher", "amount": "200", "currency": "CNY"}, "message": "Sorry"})
	task("customerResponse", map[string]any{"accepted": true})
	task("confirmResolved", map[string]any{"resolved": true})
	task("close", map[string]any{"outcome": "upheld", "summary": "Watch replaced, 200 CNY voucher"})
	waitStatus(t, base, ref, complaint.StatusSurveyPending)
	task("surveyResponse", map[string]any{"score": 5})

	// Both come back, started again by the form's own supervision.
	for name, old := range killed {
		if _, err := form.WaitRunning(ctx, name, old); err != nil {
			t.Fatal(err)
		}
	}

	var final complaint.CaseView
	if err := form.Client.GetWorkflow(ctx, complaint.WorkflowID(ref), "").Get(ctx, &final); err != nil {
		t.Fatalf("case %s did not end: %v", ref, err)
	}
	if final.Status != complaint.StatusCompleted || final.Outcome != complaint.OutcomeUpheld {
		t.Fatalf("final case: %s %s", final.Status, final.Outcome)
	}
	systemtest.Eventually(t, "the record archived", func() error {
		row, err := form.Store.Case(ctx, ref)
		if err != nil {
			return err
		}
		if row.Status != complaint.StatusCompleted || row.ClosedAt == nil {
			return fmt.Errorf("record %s, closed at %v", row.Status, row.ClosedAt)
		}
		return nil
	})
	// Found by its search attribute, in the visibility store and in the Web UI.
	query := fmt.Sprintf("WorkflowId = %q AND ComplaintStatus = %q", complaint.WorkflowID(ref), complaint.StatusCompleted)
	systemtest.Eventually(t, "the case in visibility", func() error {
		resp, err := form.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query})
		if err != nil {
			return err
		}
		if len(resp.Executions) != 1 {
			return fmt.Errorf("%d executions for %s", len(resp.Executions), query)
		}
		return nil
	})
	ui := call(t, http.MethodGet, form.UI.URL()+"/api/v1/namespaces/default/workflows?query="+url.QueryEscape(query), nil, http.StatusOK)
	if execs, _ := ui["executions"].([]any); len(execs) != 1 {
		t.Fatalf("the Web UI lists %v for %s", ui["executions"], query)
	}
}

func waitStatus(t *testing.T, base, ref string, status complaint.Status) {
	t.Helper()
	systemtest.Eventually(t, "status "+string(status), func() error {
		got := call(t, http.MethodGet, base+"/v1/complaints/"+ref, nil, http.StatusOK)
		if got["status"] != string(status) {
			return fmt.Errorf("status %v", got["status"])
		}
		return nil
	})
}

// waitRecorded waits until the case's record in PostgreSQL (the list)
// has the status: its step's activity has run, not only the workflow moved.
func waitRecorded(t *testing.T, base, ref string, status complaint.Status) {
	t.Helper()
	systemtest.Eventually(t, "recorded as "+string(status), func() error {
		page := call(t, http.MethodGet, base+"/v1/complaints?limit=200&status="+string(status), nil, http.StatusOK)
		items, _ := page["items"].([]any)
		for _, it := range items {
			if item, _ := it.(map[string]any); item["reference"] == ref {
				return nil
			}
		}
		return fmt.Errorf("not among the %d cases recorded as %s", len(items), status)
	})
}

// startForm starts a production form whose survey and reopen window pass
// in seconds, with env added to its applications' environment, stopped when the test ends (with its processes' last output
// when the test failed).
func startForm(ctx context.Context, t *testing.T, env ...string) *Form {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL, nginx and the Temporal server (make prod-tools)")
	}
	form, err := Start(ctx, Options{AppEnv: append([]string{
		// Two weeks to the survey and thirty days of reopening pass in seconds.
		"SURVEY_DELAY=2s", "SURVEY_REMINDER=2s", "SURVEY_EXPIRY=4s", "REOPEN_WINDOW=8s",
	}, env...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range []string{"temporal-server", "worker-1", "worker-2", "api-1", "api-2", "nginx"} {
				t.Logf("%s's last output:\n%s", name, form.LogTail(name, 4<<10))
			}
		}
		if err := form.Stop(); err != nil {
			t.Error(err)
		}
	})
	return form
}

// adminToken is the credential of every call: an admin may make them all —
// but the survey answer, which nobody who handled the case may give:
// staffToken's supervisor enters it.
var adminToken, staffToken string

func call(t *testing.T, method, addr string, body any, want int) map[string]any {
	t.Helper()
	var in io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		in = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, addr, in)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	token := adminToken
	if strings.HasSuffix(addr, "/surveyResponse") {
		token = staffToken
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, data := systemtest.Do(t, req)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: %d, not JSON: %s", method, addr, resp.StatusCode, data)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, addr, resp.StatusCode, want, data)
	}
	return out
}

func demoCase(t *testing.T, externalID string) map[string]any {
	t.Helper()
	c, err := systemtest.DemoCase(externalID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// servedCases reports whether the replica's request metrics count a call to
// a /v1/complaints route.
func servedCases(t *testing.T, form *Form, name string) bool {
	t.Helper()
	base, err := form.AppURL(name)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+form.AdminToken) // the API's metrics are behind authentication
	_, data := systemtest.Do(t, req)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "http_server_request_duration_seconds_count{") && strings.Contains(line, "/v1/complaints") {
			return true
		}
	}
	return false
}
