package systemtest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/complaintdesk/complaintdesk/api"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/starter"
)

var sys *System

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("systemtest: skipped with -short (needs PostgreSQL and the Temporal CLI)")
		os.Exit(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	s, err := Start(ctx, Options{WithUI: true})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "systemtest: cannot start the system:", err)
		os.Exit(1)
	}
	sys = s
	code := m.Run()
	s.Stop()
	os.Exit(code)
}

// demoCase is one of the DOMAIN §7 examples from demo/cases.json.
func demoCase(t *testing.T, externalID string) map[string]any {
	t.Helper()
	c, err := DemoCase(externalID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type response struct {
	status int
	header http.Header
	body   map[string]any
}

func post(t *testing.T, base, path string, body any, header ...string) response {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return send(t, req)
}

func get(t *testing.T, base, path string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) response {
	t.Helper()
	if _, set := req.Header["Authorization"]; !set {
		req.Header.Set("Authorization", "Bearer "+sys.AdminToken)
	}
	resp, data := Do(t, req)
	r := response{status: resp.StatusCode, header: resp.Header}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &r.body); err != nil {
			t.Fatalf("%s %s: not JSON: %s", req.Method, req.URL, data)
		}
	}
	return r
}

func countWorkflows(t *testing.T, query string) int64 {
	t.Helper()
	resp, err := sys.Client.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{Query: query})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetCount()
}

// settledCount counts the cases the query finds once visibility has caught
// up with them: a marker case is started after them all, and the count is
// read when visibility shows the marker. So "none" means none, not "none
// yet". The marker itself is not counted.
func settledCount(t *testing.T, query string) int64 {
	t.Helper()
	body := demoCase(t, "demo-washing-machine-noise")
	body["externalId"] = "systemtest-marker-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	r := post(t, sys.APIURL, "/v1/complaints", body)
	if r.status != http.StatusCreated {
		t.Fatalf("marker case: %d %v", r.status, r.body)
	}
	marker := complaint.WorkflowID(r.body["reference"].(string))
	Eventually(t, "visibility showing the marker case", func() error {
		if n := countWorkflows(t, fmt.Sprintf("WorkflowId = '%s'", marker)); n != 1 {
			return fmt.Errorf("%d", n)
		}
		return nil
	})
	return countWorkflows(t, fmt.Sprintf("(%s) AND WorkflowId != '%s'", query, marker))
}

// startedSince is a visibility query for the cases started from t on.
func startedSince(t time.Time) string {
	return fmt.Sprintf("WorkflowType = '%s' AND StartTime >= '%s'", complaint.WorkflowName,
		t.Add(-time.Millisecond).UTC().Format(time.RFC3339Nano))
}

func TestDemoCaseIsRegisteredAcknowledgedAndFindable(t *testing.T) {
	body := demoCase(t, "demo-smartwatch-doa")
	body["externalId"] = "systemtest-smartwatch"
	r := post(t, sys.APIURL, "/v1/complaints", body)
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %v", r.status, r.body)
	}
	ref, _ := r.body["reference"].(string)
	if !complaint.ValidReference(ref) || r.body["workflowId"] != complaint.WorkflowID(ref) {
		t.Fatalf("bad reference or workflow id: %v", r.body)
	}
	if loc := r.header.Get("Location"); loc != "/v1/complaints/"+ref {
		t.Fatalf("Location %q", loc)
	}

	Eventually(t, "the case is acknowledged", func() error {
		g := get(t, sys.APIURL, "/v1/complaints/"+ref)
		if g.status != 200 || g.body["status"] != "acknowledged" {
			return fmt.Errorf("GET answered %d %v", g.status, g.body["status"])
		}
		if g.body["owner"] != "social.care.wu" || g.body["priority"] != "critical" {
			return fmt.Errorf("wrong owner or priority: %v", g.body)
		}
		return nil
	})

	// The record follows the case a moment later: the audit write is the
	// activity after the step.
	Eventually(t, "the record shows the acknowledgement", func() error {
		row, err := sys.Store.Case(context.Background(), ref)
		if err != nil {
			return err
		}
		if row.Status != complaint.StatusAcknowledged || row.AcknowledgedAt == nil || row.Category != complaint.CategoryProductQuality {
			return fmt.Errorf("database row: %+v", row)
		}
		events, err := sys.Store.Events(context.Background(), ref)
		if err != nil {
			return err
		}
		// Entered by an administrator for the agent it names: the case is
		// handed to that first contact on record (a repeat of an earlier
		// test's customer is recorded too).
		var steps []string
		for _, e := range events {
			if e.Step != "repeat_detected" {
				steps = append(steps, e.Step)
			}
		}
		if !slices.Equal(steps, []string{"received", "acknowledged", "assigned"}) {
			return fmt.Errorf("audit trail: %+v", events)
		}
		return nil
	})

	Eventually(t, "the UI finds the case by status", func() error {
		q := fmt.Sprintf("WorkflowId = '%s' AND ComplaintStatus = 'acknowledged' AND ComplaintPriority = 'critical' "+
			"AND Departments = 'product' AND CaseOwner = 'social.care.wu'", complaint.WorkflowID(ref))
		if n := countWorkflows(t, q); n != 1 {
			return fmt.Errorf("visibility query found %d", n)
		}
		return nil
	})

	// No personal data in the search attributes.
	desc, err := sys.Client.DescribeWorkflowExecution(context.Background(), complaint.WorkflowID(ref), "")
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields() {
		for _, personal := range []string{"Liu Yang", "liu.yang@example.com"} {
			if strings.Contains(string(p.GetData()), personal) {
				t.Errorf("search attribute %s holds personal data", name)
			}
		}
	}
}

func TestConcurrentDuplicatesMakeOneCase(t *testing.T) {
	body := demoCase(t, "demo-damaged-parcel-promotion")
	delete(body, "externalId")
	since := startedSince(time.Now())
	const n = 100
	var wg sync.WaitGroup
	results := make([]response, n)
	for i := range n {
		wg.Go(func() {
			results[i] = post(t, sys.APIURL, "/v1/complaints", body, "Idempotency-Key", "systemtest-concurrent-1")
		})
	}
	wg.Wait()
	created, repeated := 0, 0
	for _, r := range results {
		switch r.status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
			repeated++
		default:
			t.Fatalf("status %d: %v", r.status, r.body)
		}
		if r.body["reference"] != results[0].body["reference"] {
			t.Fatalf("two references for one key: %v and %v", r.body["reference"], results[0].body["reference"])
		}
	}
	if created != 1 || repeated != n-1 {
		t.Fatalf("%d created and %d repeated, want 1 and %d", created, repeated, n-1)
	}
	if got := settledCount(t, since); got != 1 {
		t.Fatalf("%d workflows started for one idempotency key", got)
	}
}

func TestExternalIDMakesItIdempotentWhateverTheKey(t *testing.T) {
	body := demoCase(t, "demo-laptop-flicker")
	body["externalId"] = "systemtest-laptop"
	first := post(t, sys.APIURL, "/v1/complaints", body, "Idempotency-Key", "k1")
	again := post(t, sys.APIURL, "/v1/complaints", body, "Idempotency-Key", "k2")
	if first.status != 201 || again.status != 200 || first.body["reference"] != again.body["reference"] {
		t.Fatalf("first %d %v, again %d %v", first.status, first.body["reference"], again.status, again.body["reference"])
	}
	// Without a key, the same complaint twice is two cases.
	delete(body, "externalId")
	a := post(t, sys.APIURL, "/v1/complaints", body)
	b := post(t, sys.APIURL, "/v1/complaints", body)
	if a.status != 201 || b.status != 201 || a.body["reference"] == b.body["reference"] {
		t.Fatalf("unkeyed submissions: %d %v, %d %v", a.status, a.body["reference"], b.status, b.body["reference"])
	}
}

func TestBadInputStartsNoWorkflow(t *testing.T) {
	since := startedSince(time.Now())
	for name, body := range map[string]string{
		"malformed":     `{"channel": "email",`,
		"unknown field": `{"channel":"email","customer":{"name":"a","email":"a@example.com"},"subject":"s","description":"d","foo":1}`,
		"wrong enum":    `{"channel":"pigeon","customer":{"name":"a","email":"a@example.com"},"subject":"s","description":"d"}`,
		"too large":     `{"channel":"email","customer":{"name":"a","email":"a@example.com"},"subject":"s","description":"` + strings.Repeat("x", 1<<20+1) + `"}`,
	} {
		r := post(t, sys.APIURL, "/v1/complaints", body, "Idempotency-Key", "bad-"+name)
		if r.status < 400 || r.status >= 500 {
			t.Errorf("%s: status %d", name, r.status)
		}
		if r.body["status"] == nil || r.body["title"] == nil {
			t.Errorf("%s: not a problem body: %v", name, r.body)
		}
	}
	if n := settledCount(t, since); n != 0 {
		t.Fatalf("bad input started %d workflows", n)
	}
}

func TestWithdrawalThroughTheAPIEndsTheCase(t *testing.T) {
	body := demoCase(t, "demo-washing-machine-noise")
	body["externalId"] = "systemtest-washer"
	r := post(t, sys.APIURL, "/v1/complaints", body)
	if r.status != 201 {
		t.Fatalf("status %d: %v", r.status, r.body)
	}
	ref := r.body["reference"].(string)
	for range 2 { // a client retry with the same key adds no second note
		note := post(t, sys.APIURL, "/v1/complaints/"+ref+"/addNote",
			map[string]string{"author": "agent.sun", "text": "Technician booked"}, "Idempotency-Key", "note-1")
		if note.status != 200 {
			t.Fatalf("note: %d %v", note.status, note.body)
		}
	}
	bad := post(t, sys.APIURL, "/v1/complaints/"+ref+"/withdraw", map[string]any{"reason": "x", "because": "y"})
	if bad.status != 422 {
		t.Fatalf("withdraw with an unknown field: %d %v", bad.status, bad.body)
	}
	w := post(t, sys.APIURL, "/v1/complaints/"+ref+"/withdraw", map[string]string{"reason": "Fixed it myself"})
	if w.status != 200 || w.body["status"] != "withdrawn" {
		t.Fatalf("withdraw: %d %v", w.status, w.body)
	}
	again := post(t, sys.APIURL, "/v1/complaints/"+ref+"/withdraw", map[string]string{"reason": "again"})
	if again.status != 409 {
		t.Fatalf("withdrawing a finished case: %d %v", again.status, again.body)
	}
	run := sys.Client.GetWorkflow(context.Background(), complaint.WorkflowID(ref), "")
	var final complaint.CaseView
	if err := run.Get(context.Background(), &final); err != nil || final.Status != complaint.StatusWithdrawn {
		t.Fatalf("workflow result %v, %v", final.Status, err)
	}
	row, err := sys.Store.Case(context.Background(), ref)
	if err != nil || row.Status != complaint.StatusWithdrawn {
		t.Fatalf("database row %+v, %v", row, err)
	}
	events, err := sys.Store.Events(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, e := range events {
		if e.Step != "repeat_detected" && e.Step != "assigned" { // a repeat; the handover to the first contact named
			steps = append(steps, e.Step)
		}
	}
	if !slices.Equal(steps, []string{"received", "acknowledged", "note", "withdrawn"}) {
		t.Fatalf("want received, acknowledged, note, withdrawn; got %+v", events)
	}
	// The same key again after the case ended returns that case, not a new one.
	again = post(t, sys.APIURL, "/v1/complaints", body)
	if again.status != 200 || again.body["reference"] != ref || again.body["status"] != "withdrawn" {
		t.Fatalf("resubmitting a finished case: %d %v", again.status, again.body)
	}
}

// unreachableAPI serves an API whose Temporal or database address is dead:
// "DEAD" in an address becomes a port nothing listens on.
func unreachableAPI(t *testing.T, mutate func(*api.Config)) string {
	t.Helper()
	dead, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return serveAPI(t, func(cfg *api.Config) {
		cfg.RequestTimeout = 2 * time.Second
		mutate(cfg)
		cfg.TemporalAddress = strings.ReplaceAll(cfg.TemporalAddress, "DEAD", fmt.Sprint(dead))
		cfg.DatabaseURL = strings.ReplaceAll(cfg.DatabaseURL, "DEAD", fmt.Sprint(dead))
	}, waitLive)
}

const (
	waitLive  = "/healthz"
	waitReady = "/readyz"
)

// serveAPI runs an extra API process-in-process on this system until the
// test ends, and waits for its health endpoint.
func serveAPI(t *testing.T, mutate func(*api.Config), health string) string {
	t.Helper()
	return serveAPIOn(t, sys, mutate, health)
}

// serveAPIOn serves an API on system s with its own configuration.
func serveAPIOn(t *testing.T, s *System, mutate func(*api.Config), health string) string {
	t.Helper()
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.APIConfig()
	cfg.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	mutate(&cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.Run(ctx, cfg, s.Logger) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	base := "http://" + cfg.Addr
	if err := waitHTTP(context.Background(), base+health); err != nil {
		t.Fatal(err)
	}
	return base
}

func TestTemporalUnreachableIs503(t *testing.T) {
	base := unreachableAPI(t, func(c *api.Config) { c.TemporalAddress = "127.0.0.1:DEAD" })
	body := demoCase(t, "demo-restaurant-spicy-dish")
	start := time.Now()
	r := post(t, base, "/v1/complaints", body)
	if r.status != http.StatusServiceUnavailable || r.body["title"] == nil {
		t.Fatalf("status %d: %v", r.status, r.body)
	}
	t.Logf("503 after %s", time.Since(start).Round(time.Millisecond))
	if g := get(t, base, "/readyz"); g.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz %d", g.status)
	}
}

func TestDatabaseUnreachableIsNotReady(t *testing.T) {
	base := unreachableAPI(t, func(c *api.Config) {
		c.DatabaseURL = "postgres://complaints:complaints@127.0.0.1:DEAD/complaints?sslmode=disable"
	})
	if g := get(t, base, "/readyz"); g.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz %d", g.status)
	}
}

func TestRepeatComplaintIsFlaggedAndLinked(t *testing.T) {
	first := demoCase(t, "demo-unanswered-email")
	first["externalId"] = "systemtest-repeat-1"
	first["customer"] = map[string]any{"id": "crm-repeat-1", "name": "孙丽", "email": "Repeat.Sun@example.com"}
	r1 := post(t, sys.APIURL, "/v1/complaints", first)
	ref1 := r1.body["reference"].(string)
	waitStatus(t, sys.APIURL, ref1, complaint.StatusAcknowledged)

	second := demoCase(t, "demo-unanswered-email")
	second["externalId"] = "systemtest-repeat-2"
	second["customer"] = map[string]any{"name": "孙丽", "email": "repeat.sun@example.com"} // same address, other case
	r2 := post(t, sys.APIURL, "/v1/complaints", second)
	ref2 := r2.body["reference"].(string)
	Eventually(t, "the repeat is linked", func() error {
		g := get(t, sys.APIURL, "/v1/complaints/"+ref2)
		if g.body["repeatOf"] != ref1 || g.body["priority"] != "high" {
			return fmt.Errorf("repeatOf %v, priority %v", g.body["repeatOf"], g.body["priority"])
		}
		return nil
	})
	row, err := sys.Store.Case(context.Background(), ref2)
	if err != nil || row.Priority != complaint.PriorityHigh {
		t.Fatalf("record %+v, %v", row, err)
	}
	// Another customer with the same subject is no repeat.
	third := demoCase(t, "demo-unanswered-email")
	third["externalId"] = "systemtest-repeat-3"
	third["customer"] = map[string]any{"name": "王五", "email": "wang.wu@example.com"}
	ref3 := post(t, sys.APIURL, "/v1/complaints", third).body["reference"].(string)
	waitStatus(t, sys.APIURL, ref3, complaint.StatusAcknowledged)
	if repeat := caseOf(t, sys.APIURL, ref3)["repeatOf"]; repeat != nil {
		t.Fatalf("a different customer was linked: %v", repeat)
	}
}

// A repeat finds its case by the key's record whatever the day, and a key
// whose reference another key's case holds moves on to its next candidate.
func TestRepeatDaysLaterAndReferenceClash(t *testing.T) {
	ctx := context.Background()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	at := func(now time.Time) *starter.Starter {
		return starter.New(sys.Client, starter.Options{Namespace: "default", TaskQueue: complaint.TaskQueue,
			Location: loc, Rules: complaint.DefaultRules(), DataConverter: codec.DataConverter(sys.Keys),
			IntakeKeys: sys.Store, Clock: func() time.Time { return now }})
	}
	in := complaint.Intake{Channel: complaint.ChannelWeb, Subject: "Parcel arrived crushed",
		Description: "The box was crushed and the vase inside broken.", Category: complaint.CategoryLogistics,
		Customer: complaint.Customer{Name: "Li Na", Email: "li.na@example.com"}}
	now := time.Now()
	first, err := at(now).Submit(ctx, starter.Submission{Intake: in, IdempotencyKey: "systemtest-days-later"})
	if err != nil || !first.Created {
		t.Fatalf("first submission: %+v, %v", first, err)
	}
	later, err := at(now.AddDate(0, 0, 3)).Submit(ctx, starter.Submission{Intake: in, IdempotencyKey: "systemtest-days-later"})
	if err != nil || later.Created || later.Reference != first.Reference {
		t.Fatalf("three days later: %+v, %v; want the case %s again", later, err, first.Reference)
	}

	// Another key's case already holds the first candidate of this key.
	const key = "systemtest-clash"
	taken := complaint.KeyedReference(starter.IntakeKey(starter.Submission{IdempotencyKey: key}), now, loc, 0)
	run, err := sys.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: complaint.WorkflowID(taken),
		TaskQueue: "systemtest-nobody"}, "Placeholder")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := sys.Client.TerminateWorkflow(ctx, run.GetID(), "", "test over"); err != nil {
			t.Error(err)
		}
	}()
	moved, err := at(now).Submit(ctx, starter.Submission{Intake: in, IdempotencyKey: key})
	if err != nil || !moved.Created || moved.Reference == taken {
		t.Fatalf("submission whose reference is taken: %+v, %v (taken: %s)", moved, err, taken)
	}
	again, err := at(now).Submit(ctx, starter.Submission{Intake: in, IdempotencyKey: key})
	if err != nil || again.Created || again.Reference != moved.Reference {
		t.Fatalf("its repeat: %+v, %v; want the case %s again", again, err, moved.Reference)
	}
}

// A key claimed by a call that failed before it started the case: the
// repeat starts it. A key whose case Temporal no longer has (past its
// retention) but the record has: the repeat is that case, not a new one
// under its reference.
func TestRepeatAfterAFailedFirstCallAndAfterRetention(t *testing.T) {
	ctx := context.Background()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	s := starter.New(sys.Client, starter.Options{Namespace: "default", TaskQueue: complaint.TaskQueue,
		Location: loc, Rules: complaint.DefaultRules(), DataConverter: codec.DataConverter(sys.Keys), IntakeKeys: sys.Store})
	in := complaint.Intake{Channel: complaint.ChannelWeb, Subject: "Parcel arrived crushed",
		Description: "The box was crushed and the vase inside broken.", Category: complaint.CategoryLogistics,
		Customer: complaint.Customer{Name: "Li Na", Email: "li.na@example.com"}}

	const key = "systemtest-claimed-only"
	ref := complaint.KeyedReference(starter.IntakeKey(starter.Submission{IdempotencyKey: key}), time.Now(), loc, 0)
	if _, first, err := sys.Store.ClaimIntakeKey(ctx, complaint.IntakeKeyHash(starter.IntakeKey(starter.Submission{IdempotencyKey: key})), ref); err != nil || !first {
		t.Fatalf("claim: %v, first %v", err, first)
	}
	res, err := s.Submit(ctx, starter.Submission{Intake: in, IdempotencyKey: key})
	if err != nil || !res.Created || res.Reference != ref {
		t.Fatalf("repeat of a call that failed before starting: %+v, %v; want %s created", res, err, ref)
	}

	// A case Temporal has forgotten (past its retention) that is on record.
	const old = "systemtest-past-retention"
	oldRef := complaint.KeyedReference(starter.IntakeKey(starter.Submission{IdempotencyKey: old}), time.Now().AddDate(0, -3, 0), loc, 0)
	if _, err := sys.Store.RegisterCase(ctx, complaint.Register(in, oldRef, time.Now().AddDate(0, -3, 0),
		complaint.DefaultRules())); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sys.Store.ClaimIntakeKey(ctx, complaint.IntakeKeyHash(starter.IntakeKey(starter.Submission{IdempotencyKey: old})), oldRef); err != nil {
		t.Fatal(err)
	}
	again, err := s.Submit(ctx, starter.Submission{Intake: in, IdempotencyKey: old})
	if err != nil || again.Created || again.Reference != oldRef || again.Status != complaint.StatusReceived {
		t.Fatalf("repeat past retention: %+v, %v; want the recorded case %s", again, err, oldRef)
	}
	if _, err := sys.Client.DescribeWorkflowExecution(ctx, complaint.WorkflowID(oldRef), ""); err == nil {
		t.Fatal("the repeat started a new workflow under the old reference")
	}
}
