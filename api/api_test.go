package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
	"go.temporal.io/sdk/temporal"
)

// fakeCases records what reached the starter.
type fakeCases struct {
	submits atomic.Int32
	tasks   atomic.Int32
	err     error
}

func (f *fakeCases) Submit(ctx context.Context, sub starter.Submission) (starter.Result, error) {
	f.submits.Add(1)
	if f.err != nil {
		return starter.Result{}, f.err
	}
	return starter.Result{Reference: "CMP-20261123-4F7K2Q", WorkflowID: "complaint-CMP-20261123-4F7K2Q",
		Status: complaint.StatusReceived, Created: sub.IdempotencyKey != "repeat"}, nil
}

func (f *fakeCases) Case(ctx context.Context, ref string) (complaint.CaseView, error) {
	if f.err != nil {
		return complaint.CaseView{}, f.err
	}
	return complaint.CaseView{Reference: ref, Status: complaint.StatusAcknowledged}, nil
}

// Tasks allows every task.
func (f *fakeCases) Tasks(ctx context.Context, ref string) ([]complaint.TaskState, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := make([]complaint.TaskState, len(complaint.Tasks))
	for i, t := range complaint.Tasks {
		out[i] = complaint.TaskState{Name: t, Allowed: true}
	}
	return out, nil
}

func (f *fakeCases) Task(ctx context.Context, ref, task, updateID string, payload any) (complaint.CaseView, error) {
	f.tasks.Add(1)
	if f.err != nil {
		return complaint.CaseView{}, f.err
	}
	return complaint.CaseView{Reference: ref, Status: complaint.StatusAcknowledged}, nil
}

func (f *fakeCases) ApplyPolicy(ctx context.Context, ref, _ string, t complaint.ApplyPolicy) (complaint.CaseView, error) {
	return f.Task(ctx, ref, complaint.TaskApplyPolicy, "", t)
}

func (f *fakeCases) Ready(ctx context.Context) error { return f.err }

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

const validBody = `{"channel":"web","customer":{"name":"Zhao Lei","email":"zhao.lei@example.com"},
	"subject":"Parcel damaged","description":"Two cups broken."}`

func do(t *testing.T, h http.Handler, method, path, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

type problemBody struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Errors []struct {
		Location string `json:"location"`
		Message  string `json:"message"`
	} `json:"errors"`
}

func readProblem(t *testing.T, rec *httptest.ResponseRecorder) problemBody {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, rec.Body)
	}
	var p problemBody
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != rec.Code {
		t.Fatalf("problem status %d differs from HTTP status %d", p.Status, rec.Code)
	}
	return p
}

func TestBadIntakeIsRejectedNamingTheFieldAndStartsNothing(t *testing.T) {
	cases := map[string]struct {
		body     string
		status   int
		location string
	}{
		"malformed json":   {`{"channel":`, 400, "body"},
		"unknown field":    {strings.Replace(validBody, `"web"`, `"web","mood":"angry"`, 1), 422, "body.mood"},
		"missing subject":  {strings.Replace(validBody, `"subject":"Parcel damaged",`, ``, 1), 422, "body:subject"},
		"wrong enum":       {strings.Replace(validBody, `"web"`, `"fax"`, 1), 422, "body.channel"},
		"over-long string": {strings.Replace(validBody, `Parcel damaged`, strings.Repeat("x", 201), 1), 422, "body.subject"},
		"bad email":        {strings.Replace(validBody, `zhao.lei@example.com`, `zhao.lei`, 1), 422, "body.customer.email"},
		"no contact":       {strings.Replace(validBody, `,"email":"zhao.lei@example.com"`, ``, 1), 422, "body.customer"},
		"wrong type":       {strings.Replace(validBody, `"Two cups broken."`, `42`, 1), 422, "body.description"},
		"body over 1 MiB":  {strings.Replace(validBody, `Two cups broken.`, strings.Repeat("x", 1<<20), 1), 413, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fake := &fakeCases{}
			h := (&Server{Cases: fake, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth()}).Handler()
			rec := do(t, h, http.MethodPost, "/v1/complaints", tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			p := readProblem(t, rec)
			if tc.location != "" && !hasLocation(p, tc.location) {
				t.Fatalf("problem does not name %s: %s", tc.location, rec.Body)
			}
			if n := fake.submits.Load(); n != 0 {
				t.Fatalf("a rejected intake reached the starter %d times", n)
			}
		})
	}
}

// hasLocation finds an error at loc; "body:subject" means an error at body
// whose message names the subject (how a missing property is reported).
func hasLocation(p problemBody, loc string) bool {
	loc, named, _ := strings.Cut(loc, ":")
	for _, e := range p.Errors {
		if e.Location == loc && strings.Contains(e.Message, named) {
			return true
		}
	}
	return false
}

func TestSubmitAnswers201ThenRepeat200(t *testing.T) {
	h := (&Server{Cases: &fakeCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth()}).Handler()
	rec := do(t, h, http.MethodPost, "/v1/complaints", validBody)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if loc := rec.Header().Get("Location"); loc != "/v1/complaints/CMP-20261123-4F7K2Q" {
		t.Fatalf("Location %q", loc)
	}
	var res map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"reference", "workflowId", "status"} {
		if res[k] == nil || res[k] == "" {
			t.Errorf("response lacks %s: %s", k, rec.Body)
		}
	}
	rec = do(t, h, http.MethodPost, "/v1/complaints", validBody, "Idempotency-Key", "repeat")
	if rec.Code != http.StatusOK {
		t.Fatalf("repeat status %d, want 200", rec.Code)
	}
}

func TestCurlFormContentTypeIsReadAsJSON(t *testing.T) {
	h := (&Server{Cases: &fakeCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth()}).Handler()
	req := httptest.NewRequest(http.MethodPost, "/v1/complaints", strings.NewReader(validBody))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

func TestStarterErrorsBecomeProblems(t *testing.T) {
	cases := []struct {
		err    error
		status int
	}{
		{fmt.Errorf("%w: dial tcp: connection refused", starter.ErrUnavailable), 503},
		{starter.ErrNotFound, 404},
		{fmt.Errorf("%w: the case is withdrawn", starter.ErrConflict), 409},
		{starter.ErrEnded, 409},
		{&starter.RejectedError{Message: "reason: is required"}, 422},
		{errors.New("boom"), 500},
	}
	for _, tc := range cases {
		h := (&Server{Cases: &fakeCases{err: tc.err}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth()}).Handler()
		rec := do(t, h, http.MethodPost, "/v1/complaints/CMP-20261123-4F7K2Q/withdraw", `{"reason":"changed my mind"}`)
		if rec.Code != tc.status {
			t.Errorf("%v: status %d, want %d", tc.err, rec.Code, tc.status)
		}
		readProblem(t, rec)
	}
}

// A failed answer tells the caller what happened, never how: the cause
// (internal addresses, driver messages) goes to the log with the request,
// where an operator looks for it; a 503 says when to try again.
func TestServerFaultsAreLoggedNotShown(t *testing.T) {
	for _, tc := range []struct {
		err        error
		status     int
		level      string
		retryAfter string
	}{
		{fmt.Errorf("%w: dial tcp 10.1.2.3:7233: connection refused", starter.ErrUnavailable), 503, "WARN", "2"},
		{errors.New("sqlite: database is locked at 10.1.2.3"), 500, "ERROR", ""},
	} {
		var log bytes.Buffer
		h := (&Server{Cases: &fakeCases{err: tc.err}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth(),
			Logger: slog.New(slog.NewTextHandler(&log, nil))}).Handler()
		rec := do(t, h, http.MethodGet, "/v1/complaints/CMP-20261123-4F7K2Q", "")
		if rec.Code != tc.status || rec.Header().Get("Retry-After") != tc.retryAfter {
			t.Errorf("%v: status %d Retry-After %q, want %d %q", tc.err, rec.Code, rec.Header().Get("Retry-After"), tc.status, tc.retryAfter)
		}
		if strings.Contains(rec.Body.String(), "10.1.2.3") {
			t.Errorf("%v: the answer shows the cause: %s", tc.err, rec.Body)
		}
		readProblem(t, rec)
		line := log.String()
		for _, want := range []string{"level=" + tc.level, "10.1.2.3", "operation=getComplaint", "path=/v1/complaints/CMP-20261123-4F7K2Q"} {
			if !strings.Contains(line, want) {
				t.Errorf("%v: the log lacks %q: %s", tc.err, want, line)
			}
		}
	}
}

func TestTaskPayloadIsCheckedBeforeTheWorkflow(t *testing.T) {
	fake := &fakeCases{}
	h := (&Server{Cases: fake, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth()}).Handler()
	for _, body := range []string{`{"reason":""}`, `{"reason":"x","extra":1}`, `{}`} {
		if rec := do(t, h, http.MethodPost, "/v1/complaints/CMP-20261123-4F7K2Q/withdraw", body); rec.Code != 422 {
			t.Errorf("%s: status %d, want 422", body, rec.Code)
		}
	}
	if rec := do(t, h, http.MethodPost, "/v1/complaints/not-a-ref/withdraw", `{"reason":"x"}`); rec.Code != 422 {
		t.Errorf("bad reference: status %d, want 422", rec.Code)
	}
	if n := fake.tasks.Load(); n != 0 {
		t.Fatalf("%d invalid tasks reached the workflow", n)
	}
}

func TestReadinessNeedsTemporalAndDatabase(t *testing.T) {
	for _, tc := range []struct {
		cases error
		db    error
		want  int
	}{{nil, nil, 200}, {starter.ErrUnavailable, nil, 503}, {nil, errors.New("refused"), 503}} {
		h := (&Server{Cases: &fakeCases{err: tc.cases}, Database: pinger{err: tc.db}, RequestTimeout: time.Second, Auth: testAuth()}).Handler()
		if rec := do(t, h, http.MethodGet, "/readyz", ""); rec.Code != tc.want {
			t.Errorf("readyz with %v/%v: %d, want %d", tc.cases, tc.db, rec.Code, tc.want)
		}
	}
}

// Without workers the API stays ready (intake goes on; the cases wait in
// Temporal) and says so in fixed words.
func TestReadinessSaysWhenNoWorkerPolls(t *testing.T) {
	for _, tc := range []struct {
		queue  queueWatcher
		detail string
	}{
		{queueWatcher{status: starter.QueueStatus{Pollers: map[string]int{"workflow": 0, "activity": 0}}}, "workers: none polling"},
		{queueWatcher{status: starter.QueueStatus{Pollers: map[string]int{"workflow": 2, "activity": 2}}}, "workers: polling"},
		{queueWatcher{err: errors.New("describe failed: secret internals")}, "workers: unknown"},
	} {
		h := (&Server{Cases: &fakeCases{}, Database: pinger{}, Queue: tc.queue, RequestTimeout: time.Second, Auth: testAuth()}).Handler()
		rec := do(t, h, http.MethodGet, "/readyz", "")
		var body struct {
			Status string
			Detail []string
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if rec.Code != http.StatusOK || body.Status != "ready" || !slices.Equal(body.Detail, []string{tc.detail}) {
			t.Errorf("readyz with %+v: %d %+v, want 200 ready %q", tc.queue, rec.Code, body, tc.detail)
		}
	}
}

type queueWatcher struct {
	status starter.QueueStatus
	err    error
}

func (q queueWatcher) QueueStatus(context.Context) (starter.QueueStatus, error) {
	return q.status, q.err
}

func TestOpenAPIDocumentIsServed(t *testing.T) {
	h := (&Server{Cases: &fakeCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth()}).Handler()
	rec := do(t, h, http.MethodGet, "/openapi.json", "")
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") || doc.Paths["/v1/complaints"] == nil {
		t.Fatalf("unexpected OpenAPI document: %.300s", rec.Body)
	}
}

// The schema's enum tags must list exactly the domain's values.
func TestEnumTagsMatchTheDomain(t *testing.T) {
	check := func(typ reflect.Type, field string, want []string) {
		f, ok := typ.FieldByName(field)
		if !ok {
			t.Fatalf("%s has no field %s", typ, field)
		}
		if got := strings.Split(f.Tag.Get("enum"), ","); !reflect.DeepEqual(got, want) {
			t.Errorf("%s.%s enum tag %v, want %v", typ, field, got, want)
		}
	}
	intake := reflect.TypeOf(complaint.Intake{})
	check(intake, "Channel", complaint.Names(complaint.Channels))
	check(intake, "Category", complaint.Names(complaint.Categories))
	check(intake, "Severity", complaint.Names(complaint.Severities))
	check(intake, "DesiredOutcome", complaint.Names(complaint.DesiredOutcomes))
}

// The calendar's notice is a line of /readyz's detail; the API stays ready.
func TestReadinessCarriesTheCalendarNotice(t *testing.T) {
	notice := func(time.Time) string { return "the cn holiday table ends on 2026-12-31" }
	h := (&Server{Cases: &fakeCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth(),
		CalendarNotice: notice}).Handler()
	rec := do(t, h, http.MethodGet, "/readyz", "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(),
		`"detail":["working-day calendar: the cn holiday table ends on 2026-12-31"]`) {
		t.Fatalf("readyz: %d %s", rec.Code, rec.Body)
	}
	quiet := (&Server{Cases: &fakeCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth(),
		CalendarNotice: func(time.Time) string { return "" }}).Handler()
	if rec := do(t, quiet, http.MethodGet, "/readyz", ""); strings.Contains(rec.Body.String(), "detail") {
		t.Fatalf("a detail without a notice: %s", rec.Body)
	}
}

// What the log keeps of a cause: a case's workflow error by its type only
// (its message can quote the customer), a URL without its query.
func TestSafeCauseKeepsNoCustomerData(t *testing.T) {
	quoting := temporal.NewApplicationError("cannot reach zhao.lei@example.com", "Unreachable")
	lookup := &url.Error{Op: "Delete", URL: "http://127.0.0.1:8025/messages?to=zhao.lei%40example.com",
		Err: errors.New("connection refused")}
	for _, err := range []error{quoting, fmt.Errorf("task close: %w", quoting), lookup, fmt.Errorf("erase: %w", lookup)} {
		got := safeCause(err)
		if strings.Contains(got, "zhao.lei") || got == "" {
			t.Errorf("%v logged as %q", err, got)
		}
	}
	if got := safeCause(quoting); !strings.Contains(got, "Unreachable") {
		t.Errorf("the type is lost: %q", got)
	}
	if got := safeCause(lookup); !strings.Contains(got, "127.0.0.1:8025/messages") || !strings.Contains(got, "connection refused") {
		t.Errorf("where and why are lost: %q", got)
	}
}
