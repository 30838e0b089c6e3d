package worker

import (
	"go.opentelemetry.io/otel/trace"

	"github.com/complaintdesk/complaintdesk/codec"
)

// Config is the worker process's configuration, read from the environment.
type Config struct {
	TemporalAddress   string `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233"`
	TemporalNamespace string `env:"TEMPORAL_NAMESPACE" envDefault:"default"`
	TaskQueue         string `env:"TASK_QUEUE" envDefault:"complaints"`
	DatabaseURL       string `env:"DATABASE_URL" envDefault:"postgres://complaints:complaints@127.0.0.1:55432/complaints?sslmode=disable"`
	HTTPAddr          string `env:"WORKER_HTTP_ADDR" envDefault:"127.0.0.1:9090"`
	LogLevel          string `env:"LOG_LEVEL" envDefault:"info"`
	// CacheSize bounds the cases a worker keeps in memory between their
	// tasks; one evicted is rebuilt from its history when it next acts.
	CacheSize int `env:"WORKER_CACHE_SIZE" envDefault:"1000"`
	// Codec holds the master keys of the payload codec.
	Codec codec.Config

	// ServiceName is the service.name of the worker's spans and metrics.
	ServiceName string `env:"OTEL_SERVICE_NAME" envDefault:"complaints-worker"`
	// OTLPEndpoint is the OpenTelemetry collector spans go to
	// (http://collector:4317); empty: spans are sent nowhere.
	OTLPEndpoint string `env:"OTEL_EXPORTER_OTLP_ENDPOINT"`
	// OTLPProtocol is grpc or http/protobuf.
	OTLPProtocol string `env:"OTEL_EXPORTER_OTLP_PROTOCOL" envDefault:"grpc"`
	// TracerProvider, when set, takes the spans instead of the OTLP settings
	// (tests record them in memory). Not read from the environment.
	TracerProvider trace.TracerProvider `env:"-"`
}
