package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// ShutdownTimeout bounds the flush of spans and metrics when a process exits.
const ShutdownTimeout = 5 * time.Second

// Config says where a process sends what it reports.
type Config struct {
	// ServiceName is the resource's service.name (complaints-api, complaints-worker).
	ServiceName string
	// OTLPEndpoint is the collector's base URL (http://collector:4317). Empty:
	// spans are made, propagated and logged by id, but sent nowhere.
	OTLPEndpoint string
	// OTLPProtocol is grpc (the default) or http/protobuf.
	OTLPProtocol string
	// TracerProvider, when set, takes the spans instead of a provider built
	// from the OTLP settings; the caller owns it (tests record spans in memory).
	TracerProvider trace.TracerProvider
	// Logger receives OpenTelemetry's own errors (an unreachable collector).
	Logger *slog.Logger
}

// Telemetry is one process's tracer and meter providers, its Prometheus
// endpoint and its business metrics.
type Telemetry struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	Propagator     propagation.TextMapPropagator
	// Metrics serves the Prometheus text format of every metric of the process.
	Metrics http.Handler
	// Cases counts what happens to cases.
	Cases *CaseMetrics

	logger   *slog.Logger
	shutdown []func(context.Context) error
}

// Propagator carries the W3C trace context and baggage across HTTP and
// Temporal headers.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Start builds the providers. Metrics always go to a Prometheus registry of
// this Telemetry's own (served by Metrics); spans go to the OTLP collector
// when one is configured. Shutdown flushes and stops them.
func Start(ctx context.Context, cfg Config) (t *Telemetry, err error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	t = &Telemetry{Propagator: Propagator(), logger: logger}
	defer func() {
		if err != nil {
			_ = t.Shutdown(ctx)
		}
	}()
	otel.SetTextMapPropagator(t.Propagator)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Warn("opentelemetry", "error", err)
	}))

	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(cfg.ServiceName)))
	if err != nil {
		return t, fmt.Errorf("telemetry resource: %w", err)
	}
	if env, err := resource.New(ctx, resource.WithFromEnv()); err == nil { // OTEL_RESOURCE_ATTRIBUTES
		if merged, err := resource.Merge(res, env); err == nil {
			res = merged
		}
	}

	// Metrics: a registry per process, so that two services in one test
	// process (or a restarted worker) never collide.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exporter, err := otelprom.New(
		otelprom.WithRegisterer(reg),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		otelprom.WithoutScopeInfo(),
	)
	if err != nil {
		return t, fmt.Errorf("prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(exporter))
	t.shutdown = append(t.shutdown, mp.Shutdown)
	t.MeterProvider = mp
	t.Metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)})
	if t.Cases, err = NewCaseMetrics(mp); err != nil {
		return t, err
	}

	// Traces.
	if cfg.TracerProvider != nil {
		t.TracerProvider = cfg.TracerProvider
		return t, nil
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if cfg.OTLPEndpoint != "" {
		exp, err := newSpanExporter(ctx, cfg.OTLPEndpoint, cfg.OTLPProtocol)
		if err != nil {
			return t, err
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	// Without an exporter the provider still makes real span contexts: trace
	// ids propagate to Temporal and downstream and appear in the logs.
	tp := sdktrace.NewTracerProvider(opts...)
	t.shutdown = append(t.shutdown, tp.Shutdown)
	t.TracerProvider = tp
	return t, nil
}

func newSpanExporter(ctx context.Context, endpoint, protocol string) (sdktrace.SpanExporter, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT %q: want a URL such as http://collector:4317", endpoint)
	}
	switch protocol {
	case "", "grpc":
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(u.String()))
		if err != nil {
			return nil, fmt.Errorf("OTLP gRPC exporter: %w", err)
		}
		return exp, nil
	case "http/protobuf":
		// The endpoint is the collector's base URL; traces go to its /v1/traces.
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u.String()))
		if err != nil {
			return nil, fmt.Errorf("OTLP HTTP exporter: %w", err)
		}
		return exp, nil
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: want grpc or http/protobuf", protocol)
	}
}

// Shutdown flushes the spans and metrics still held and stops the providers
// this Telemetry built (never one handed in by Config.TracerProvider), within
// the deadline of ctx.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	for i := len(t.shutdown) - 1; i >= 0; i-- {
		errs = append(errs, t.shutdown[i](ctx))
	}
	t.shutdown = nil
	return errors.Join(errs...)
}

// ShutdownBounded is Shutdown within ShutdownTimeout, after ctx itself may
// have ended; failures are logged. For a defer on the way out of a process.
func (t *Telemetry) ShutdownBounded(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	if err := t.Shutdown(ctx); err != nil {
		t.logger.Warn("telemetry shutdown", "error", err)
	}
}

// TemporalClientOptions adds tracing (the SDK's OpenTelemetry interceptor) and
// the SDK's metrics to a Temporal client's options. A worker built on the
// client inherits the interceptor, so workflow and activity spans continue the
// trace of the call that started the workflow.
func (t *Telemetry) TemporalClientOptions(opts client.Options) (client.Options, error) {
	tracing, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            t.TracerProvider.Tracer("go.temporal.io/sdk"),
		TextMapPropagator: t.Propagator,
	})
	if err != nil {
		return opts, fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	opts.Interceptors = append([]interceptor.ClientInterceptor{tracing}, opts.Interceptors...)
	opts.MetricsHandler = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter:                t.MeterProvider.Meter("go.temporal.io/sdk"),
		UseMonotonicCounters: true,
		OnError:              func(err error) { t.logger.Warn("temporal metric", "error", err) },
	})
	return opts, nil
}

// PgxTracer traces the queries of a pgx pool (spans only under a recording
// parent: a request, an activity) and measures their durations. The SQL text
// is on the span (with its $n placeholders, never the values).
func (t *Telemetry) PgxTracer() pgx.QueryTracer {
	return otelpgx.NewTracer(
		otelpgx.WithTracerProvider(t.TracerProvider),
		otelpgx.WithMeterProvider(t.MeterProvider),
		otelpgx.WithQuerySpanNamePrefix(), // "query INSERT", "prepare INSERT": a prepare nests in its query
	)
}

// HTTPHandler traces and measures the requests h serves, continuing a trace
// the caller sent in traceparent. Paths in skip (health probes) are served
// untraced.
func (t *Telemetry) HTTPHandler(h http.Handler, service string, skip ...string) http.Handler {
	return otelhttp.NewHandler(h, service,
		otelhttp.WithTracerProvider(t.TracerProvider),
		otelhttp.WithMeterProvider(t.MeterProvider),
		otelhttp.WithPropagators(t.Propagator),
		otelhttp.WithFilter(func(r *http.Request) bool {
			for _, p := range skip {
				if r.URL.Path == p {
					return false
				}
			}
			return true
		}),
	)
}
