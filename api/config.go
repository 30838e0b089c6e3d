package api

import (
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/connection"
	"github.com/complaintdesk/complaintdesk/desk"
	"github.com/complaintdesk/complaintdesk/inbound"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/telemetry"
)

// Config is the API process's configuration, read from the environment.
type Config struct {
	Addr string `env:"API_ADDR" envDefault:"127.0.0.1:8080"`
	// Connection: where Temporal and the database are.
	connection.Config
	RequestTimeout    time.Duration `env:"REQUEST_TIMEOUT" envDefault:"10s"`
	ReferenceTimeZone string        `env:"REFERENCE_TIME_ZONE" envDefault:"Asia/Shanghai"`
	telemetry.Logging
	Cases starter.CaseConfig
	// SurveyLinkSecret checks the survey links the worker signs with the
	// same secret; empty: survey links are refused.
	SurveyLinkSecret string `env:"SURVEY_LINK_SECRET"`
	Auth             auth.Config
	// Desk is the staff desk under /desk (served when OIDC_ISSUER is set).
	Desk  desk.Config
	Codec codec.Config
	// RateLimit is each caller's sustained requests per second, RateBurst
	// the requests it may make at once.
	RateLimit float64 `env:"RATE_LIMIT" envDefault:"50"`
	RateBurst int     `env:"RATE_BURST" envDefault:"100"`
	// CodecOrigins are the browser origins (the Temporal UI's) allowed to
	// call the codec server.
	CodecOrigins []string `env:"CODEC_CORS_ORIGINS" envSeparator:","`
	// TrustedProxies are the load balancers (CIDRs) whose X-Forwarded-For
	// names the client, for the limits per client address. None by default:
	// a header from a peer that is not a named proxy could say anything.
	TrustedProxies []string `env:"TRUSTED_PROXIES" envSeparator:","`

	// DevMailboxURL is the development mailbox's HTTP address (make dev's):
	// an erasure deletes the customer's emails it kept. Empty elsewhere.
	DevMailboxURL string `env:"DEV_MAILBOX_URL"`

	// ServiceName is the service.name of the API's spans and metrics.
	ServiceName string `env:"OTEL_SERVICE_NAME" envDefault:"complaints-api"`
	// OTLPEndpoint is the OpenTelemetry collector spans go to
	// (http://collector:4317); empty: spans are sent nowhere.
	OTLPEndpoint string `env:"OTEL_EXPORTER_OTLP_ENDPOINT"`
	// OTLPProtocol is grpc or http/protobuf.
	OTLPProtocol string `env:"OTEL_EXPORTER_OTLP_PROTOCOL" envDefault:"grpc"`
	// TracerProvider, when set, takes the spans instead of the OTLP settings
	// (tests record them in memory). Not read from the environment.
	TracerProvider trace.TracerProvider `env:"-"`

	// Inbound is the SMTP server that takes the customers' email replies
	// (INBOUND_SMTP_ADDR; none when empty) and the limits of what a
	// customer may send, by mail or through the status page.
	Inbound inbound.Config
	// CustomerLinks check the reply addresses and status links the worker
	// signs.
	CustomerLinks auth.CustomerLinks
}
