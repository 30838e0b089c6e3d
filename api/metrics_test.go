package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/telemetry"
)

// openingCases opens a case for every submission but the one keyed "repeat".
type openingCases struct{ Cases }

func (openingCases) Submit(_ context.Context, sub starter.Submission) (starter.Result, error) {
	return starter.Result{Reference: "CMP-20261123-4F7K2Q", WorkflowID: "complaint-CMP-20261123-4F7K2Q",
		Status: complaint.StatusReceived, Created: sub.IdempotencyKey != "repeat"}, nil
}

func (openingCases) Ready(context.Context) error { return nil }

func TestMetricsEndpointCountsOpenedCases(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tel, err := telemetry.Start(t.Context(), telemetry.Config{
		ServiceName:    "complaints-api",
		TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.ShutdownBounded(t.Context())
	s := &Server{Cases: CountingCases{Cases: openingCases{}, Metrics: tel.Cases}, Database: pinger{}, RequestTimeout: time.Second,
		Auth: testAuth(), Metrics: tel.Metrics}
	h := Instrument(s.Handler(), tel)

	post := func(body string, header ...string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/v1/complaints", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+adminToken)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated && rec.Code != http.StatusOK {
			t.Fatalf("POST /v1/complaints: %d %s", rec.Code, rec.Body)
		}
	}
	const given = `{"channel":"chat","category":"billing","customer":{"name":"Liu Yang","email":"liu.yang@example.com"},
		"subject":"Charged twice","description":"Two debits for one order."}`
	const classified = `{"channel":"web","customer":{"name":"Zhao Lei","email":"zhao.lei@example.com"},
		"subject":"Parcel never arrived","description":"The courier lost the parcel."}`
	post(given, "Idempotency-Key", "first")
	post(given, "Idempotency-Key", "repeat") // the same case again: not a new one
	post(classified)

	// The metrics are for operators (a scraper holds an operator token).
	scrape := func(token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := scrape(""); rec.Code != http.StatusUnauthorized {
		t.Fatalf("GET /metrics without a token: %d", rec.Code)
	}
	if rec := scrape(callers[auth.RoleAgent]); rec.Code != http.StatusForbidden {
		t.Fatalf("GET /metrics as an agent: %d", rec.Code)
	}
	rec := scrape(callers[auth.RoleOperator])
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`complaints_cases_opened_total{category="billing",channel="chat"} 1`,
		`complaints_cases_opened_total{category="logistics",channel="web"} 1`,
		`http_server_request_duration_seconds_count{`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}

	// The submissions were traced under their route; /metrics and the probes are not.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var names []string
	for _, s := range spans.Ended() {
		names = append(names, s.Name())
	}
	if len(names) != 3 || names[0] != "POST /v1/complaints" {
		t.Errorf("spans %q, want three POST /v1/complaints", names)
	}
}
