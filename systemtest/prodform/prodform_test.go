package prodform

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/devenv/idp"
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
	// The server reads deploy/temporal/dynamicconfig: an empty poll comes
	// back in about ten seconds (matching.longPollExpirationInterval),
	// where Temporal's default holds it a minute — here until just before
	// the caller's 50 s deadline.
	pctx, pcancel := context.WithTimeout(ctx, 50*time.Second)
	asked := time.Now()
	_, err := form.Client.WorkflowService().PollWorkflowTaskQueue(pctx, &workflowservice.PollWorkflowTaskQueueRequest{
		Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: "prodform-nobody-starts-anything"}, Identity: "prodform-test"})
	pcancel()
	if held := time.Since(asked); err != nil || held > 30*time.Second {
		t.Errorf("an empty poll came back after %s (%v): the dynamic config's long poll of 10 s is not in force", held.Round(time.Second), err)
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

	// The Temporal UI signs its users in at the provider and passes their
	// token on. Temporal's frontend (the default claim mapper and
	// authorizer) lets operators and admins in and refuses other staff,
	// through the UI and directly (as the CLI and the SDK reach it); the
	// codec server decodes for the UI's user.
	operator, operatorCookies := uiSignIn(t, form, "dev.operator")
	agent, agentCookies := uiSignIn(t, form, "dev.agent")
	listed := form.UI.URL() + "/api/v1/namespaces/default/workflows?query=" + url.QueryEscape(query)
	if status, body := bearer(t, http.MethodGet, listed, operator, nil, operatorCookies...); status != http.StatusOK ||
		!strings.Contains(string(body), complaint.WorkflowID(ref)) {
		t.Errorf("the Web UI lists for an operator: %d %s", status, body)
	}
	if status, body := bearer(t, http.MethodGet, listed, agent, nil, agentCookies...); status != http.StatusForbidden {
		t.Errorf("the Web UI lists for an agent: %d %s, want 403", status, body)
	}
	for token, allowed := range map[string]bool{operator: true, agent: false} {
		c, err := client.DialContext(ctx, client.Options{HostPort: form.Server.Address(), Namespace: "default",
			Credentials: client.NewAPIKeyStaticCredentials(token), ConnectionOptions: client.ConnectionOptions{TLSDisabled: true}})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query})
		c.Close()
		var denied *serviceerror.PermissionDenied
		switch {
		case allowed && (err != nil || len(resp.Executions) != 1):
			t.Errorf("the frontend lists for an operator: %v", err)
		case !allowed && !errors.As(err, &denied):
			t.Errorf("the frontend lists for an agent: %v, want permission denied", err)
		}
	}
	for token, want := range map[string]int{operator: http.StatusOK, agent: http.StatusForbidden} {
		if status, body := bearer(t, http.MethodPost, form.APIURL()+"/codec/decode", token, []byte(`{"payloads":[]}`)); status != want {
			t.Errorf("the codec server for the UI's user: %d %s, want %d", status, body, want)
		}
	}
}

// uiSignIn signs username in to the Temporal UI as a browser does — the
// UI sends it to the provider's login page and takes it back — and returns
// the access token the UI keeps for them (its user cookies) with the
// cookies a browser sends the UI.
func uiSignIn(t *testing.T, form *Form, username string) (string, []*http.Cookie) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(form.UI.URL() + "/auth/sso")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	toProvider, err := resp.Location()
	if err != nil || !strings.HasPrefix(toProvider.String(), form.IDP.Issuer()) {
		t.Fatalf("the UI's sign-in goes to %v (%v), not the provider %s", toProvider, err, form.IDP.Issuer())
	}
	u, _ := form.Staff.User(username)
	back, err := idp.SignIn(t.Context(), hc, toProvider.String(), u.Username, u.Password)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err = hc.Get(back.String()); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the UI's callback: %s", resp.Status)
	}
	var parts []string
	for i := 0; ; i++ {
		c := cookieNamed(jar.Cookies(back), "user"+strconv.Itoa(i))
		if c == nil {
			break
		}
		parts = append(parts, c.Value)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(parts, ""))
	var user struct{ AccessToken string }
	if err == nil {
		err = json.Unmarshal(raw, &user)
	}
	if err != nil || user.AccessToken == "" {
		t.Fatalf("the UI keeps no token for %s: %v", username, err)
	}
	return user.AccessToken, jar.Cookies(back)
}

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// bearer calls addr with token as the bearer (and cookies) and returns the
// status and body.
func bearer(t *testing.T, method, addr, token string, body []byte, cookies ...*http.Cookie) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, addr, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, data := systemtest.Do(t, req)
	return resp.StatusCode, data
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
