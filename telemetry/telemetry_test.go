package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestTraceHandlerPutsTheSpanOnTheLine(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(NewTraceHandler(slog.NewJSONHandler(&buf, nil))).With("service", "test")
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("test").Start(context.Background(), "work")
	defer span.End()

	logger.InfoContext(ctx, "message to the customer", "reference", "CMP-20261123-4F7K2Q")
	logger.Info("no context")
	logger.WithGroup("case").InfoContext(ctx, "grouped", "status", "received")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %q", buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	sc := span.SpanContext()
	if first[LogKeyTraceID] != sc.TraceID().String() || first[LogKeySpanID] != sc.SpanID().String() {
		t.Errorf("line %s: want trace_id %s and span_id %s", lines[0], sc.TraceID(), sc.SpanID())
	}
	if first["reference"] != "CMP-20261123-4F7K2Q" || first["service"] != "test" {
		t.Errorf("line %s lost its own attributes", lines[0])
	}
	if _, ok := second[LogKeyTraceID]; ok {
		t.Errorf("a line without a span has a trace id: %s", lines[1])
	}
	if !strings.Contains(lines[2], sc.TraceID().String()) {
		t.Errorf("a grouped logger lost the trace id: %s", lines[2])
	}
}

func TestTraceHandlerWrapsOnce(t *testing.T) {
	logger := WithTrace(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if again := WithTrace(logger); again != logger {
		t.Error("WithTrace wrapped a logger twice")
	}
	l, err := NewLogger(Logging{LogLevel: "debug", LogFormat: "text"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Handler().(*TraceHandler); !ok {
		t.Errorf("NewLogger's handler is %T, not a TraceHandler", l.Handler())
	}
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestBusinessMetricsOnThePrometheusEndpoint(t *testing.T) {
	tel, err := Start(t.Context(), Config{ServiceName: "complaints-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.ShutdownBounded(t.Context())
	ctx := context.Background()
	tel.Cases.CaseOpened(ctx, "logistics", "web")
	tel.Cases.CaseOpened(ctx, "logistics", "web")
	tel.Cases.SLAEvent(ctx, "acknowledge", "", "breached", 0)
	tel.Cases.SLAEvent(ctx, "acknowledge", "", "escalated", 1)
	tel.Cases.SLAEvent(ctx, "acknowledge", "", "met", 1) // not counted
	var calls atomic.Int32
	if err := ObserveCasesByStatus(tel.MeterProvider, func(context.Context) (map[string]int64, error) {
		calls.Add(1)
		return map[string]int64{"received": 3, "closed": 1}, nil
	}, time.Hour, slog.Default()); err != nil {
		t.Fatal(err)
	}

	body := scrape(t, tel.Metrics)
	for _, want := range []string{
		`complaints_cases_opened_total{category="logistics",channel="web"} 2`,
		`complaints_sla_breaches_total{clock="acknowledge",department=""} 1`,
		`complaints_sla_escalations_total{clock="acknowledge",department="",level="1"} 1`,
		`complaints_cases{status="received"} 3`,
		`complaints_cases{status="closed"} 1`,
		`target_info{`, `service_name="complaints-test"`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
	scrape(t, tel.Metrics)
	if n := calls.Load(); n != 1 {
		t.Errorf("two scrapes within the interval counted the cases %d times, want 1", n)
	}
}

func TestCaseGaugeKeepsTheLastCountWhenTheDatabaseFails(t *testing.T) {
	tel, err := Start(t.Context(), Config{ServiceName: "complaints-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.ShutdownBounded(t.Context())
	var calls atomic.Int32
	if err := ObserveCasesByStatus(tel.MeterProvider, func(context.Context) (map[string]int64, error) {
		if calls.Add(1) > 1 {
			return nil, errors.New("database away")
		}
		return map[string]int64{"acknowledged": 2}, nil
	}, time.Nanosecond, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	scrape(t, tel.Metrics)
	if body := scrape(t, tel.Metrics); !strings.Contains(body, `complaints_cases{status="acknowledged"} 2`) {
		t.Errorf("the gauge lost its last count:\n%s", body)
	}
}

func TestNilCaseMetricsCountNothing(t *testing.T) {
	var m *CaseMetrics
	m.CaseOpened(context.Background(), "billing", "web")
	m.SLAEvent(context.Background(), "resolution", "", "breached", 0)
}

func TestStartWithoutCollectorStillMakesTraceIDs(t *testing.T) {
	tel, err := Start(t.Context(), Config{ServiceName: "complaints-test"})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "x")
	span.End()
	if !span.SpanContext().IsValid() {
		t.Error("no span context without a collector: nothing to propagate or log")
	}
	if err := tel.Shutdown(t.Context()); err != nil {
		t.Error(err)
	}
}

func TestStartHonoursAGivenTracerProvider(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tel, err := Start(t.Context(), Config{ServiceName: "complaints-test", TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	h := tel.HTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), "test", "/healthz")
	for _, path := range []string{"/v1/complaints", "/healthz"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	tel.ShutdownBounded(t.Context())
	if n := len(rec.Ended()); n != 1 {
		t.Errorf("want one span (the health probe untraced), got %d", n)
	}
	// The caller's provider outlives the Telemetry.
	_, span := tp.Tracer("test").Start(context.Background(), "after")
	span.End()
	if n := len(rec.Ended()); n != 2 {
		t.Errorf("Shutdown stopped the caller's provider")
	}
}

func TestStartRejectsBadOTLPSettings(t *testing.T) {
	for _, cfg := range []Config{
		{OTLPEndpoint: "collector:4317"},
		{OTLPEndpoint: "http://collector:4317", OTLPProtocol: "thrift"},
	} {
		if _, err := Start(t.Context(), cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
	for _, cfg := range []Config{
		{OTLPEndpoint: "http://127.0.0.1:4317"},
		{OTLPEndpoint: "http://127.0.0.1:4318", OTLPProtocol: "http/protobuf"},
	} {
		tel, err := Start(t.Context(), cfg) // exporters connect lazily
		if err != nil {
			t.Errorf("%+v: %v", cfg, err)
			continue
		}
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		_ = tel.Shutdown(ctx)
		cancel()
	}
}

func TestNewLoggerRefusesAnUnknownFormat(t *testing.T) {
	if _, err := NewLogger(Logging{LogLevel: "info", LogFormat: "xml"}); err == nil || !strings.Contains(err.Error(), "LOG_FORMAT") {
		t.Errorf("LOG_FORMAT=xml: %v, want an error naming LOG_FORMAT", err)
	}
}

func TestCalendarCoverageGauge(t *testing.T) {
	tel, err := Start(t.Context(), Config{ServiceName: "complaints-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.ShutdownBounded(t.Context())
	until := time.Date(2027, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	if err := ObserveCalendarCoverage(tel.MeterProvider, until); err != nil {
		t.Fatal(err)
	}
	body := scrape(t, tel.Metrics)
	if want := "complaints_calendar_covered_until " + strconv.FormatFloat(float64(until.Unix()), 'g', -1, 64); !strings.Contains(body, want) {
		t.Errorf("no coverage gauge at %d:\n%s", until.Unix(), body)
	}
}
