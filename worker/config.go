package worker

import (
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/connection"
	"github.com/complaintdesk/complaintdesk/telemetry"
)

// Config is the worker process's configuration, read from the environment.
type Config struct {
	// Connection: where Temporal and the database are.
	connection.Config
	HTTPAddr string `env:"WORKER_HTTP_ADDR" envDefault:"127.0.0.1:9090"`
	telemetry.Logging
	// CacheSize bounds the cases a worker keeps in memory between their
	// tasks; one evicted is rebuilt from its history when it next acts.
	CacheSize int `env:"WORKER_CACHE_SIZE" envDefault:"1000"`
	// Pollers is how the worker polls for tasks: "fixed" (the SDK's two
	// pollers per kind of task) or "autoscaling" (the SDK adds pollers
	// while the server has tasks waiting: a thousand deadlines falling due
	// at once are taken up sooner, but on a small machine the worker then
	// crowds out intake; experimental in the SDK). See README, Benchmarks.
	Pollers string `env:"WORKER_POLLERS" envDefault:"fixed"`
	// WorkflowTasks bounds the workflow tasks the worker runs at once (the
	// SDK's MaxConcurrentWorkflowTaskExecutionSize). Tasks beyond it wait
	// on the server, where no clock runs on them; a task the worker has
	// taken must finish within its ten-second timeout or is run again. The
	// SDK's 1,000 let a flood of new cases queue inside the worker until
	// their first tasks timed out; 100 keeps a task's wait short on a
	// small machine and is still many times what its CPUs get through at
	// once. See README, Benchmarks.
	WorkflowTasks int `env:"WORKER_WORKFLOW_TASKS" envDefault:"100"`
	// StickyTimeout is how long a case's next task waits on this worker's
	// own (sticky) queue, where its case is in memory, before the server
	// moves it to the shared queue (the SDK's StickyScheduleToStartTimeout,
	// 5 s by default). See README, Benchmarks: a burst of deadlines the
	// worker needs longer than this to take up stalls its tail until the
	// worker's sticky polls come back empty (10 s on our Temporal servers,
	// a minute on a server with Temporal's default long poll).
	StickyTimeout time.Duration `env:"WORKER_STICKY_TIMEOUT" envDefault:"60s"`
	// ReportsRefresh is how often the worker brings the reports' rollup up
	// to date with the cases changed since (a write only queues its case;
	// a read of the reports brings them up to date first, so this keeps
	// reads quick, not exact). See README, "How the reports stay fast".
	ReportsRefresh time.Duration `env:"REPORTS_REFRESH_EVERY" envDefault:"1s"`
	// Calendar, CalendarZone: the working-day calendar cases are counted on
	// (as the API's); CalendarWarnDays: from how many days before its
	// holiday table ends the worker warns, once a day, in its log.
	Calendar         string `env:"CALENDAR" envDefault:"cn"`
	CalendarZone     string `env:"CALENDAR_ZONE" envDefault:""`
	CalendarWarnDays int    `env:"CALENDAR_WARN_DAYS" envDefault:"60"`
	// DeploymentName and BuildID make the worker a version of a Worker
	// Deployment; BuildID defaults to the commit the binary was built from
	// (set it to the release in production). Promote says when the worker
	// makes its version the current one: first (only the first version of
	// an installation), always, or never (an operator does, with the
	// Temporal CLI). See README, "Upgrading the workers".
	DeploymentName string `env:"WORKER_DEPLOYMENT" envDefault:"complaints"`
	BuildID        string `env:"WORKER_BUILD_ID"`
	Promote        string `env:"WORKER_PROMOTE" envDefault:"first"`
	// Codec holds the master keys of the payload codec.
	Codec codec.Config

	// Messages. Without SMTP_HOST, email is logged instead of sent.
	SMTPHost     string `env:"SMTP_HOST"`
	SMTPPort     int    `env:"SMTP_PORT" envDefault:"1025"`
	SMTPUsername string `env:"SMTP_USERNAME"`
	SMTPPassword string `env:"SMTP_PASSWORD"`
	// SMTPTLS is opportunistic (STARTTLS when offered), mandatory or none.
	SMTPTLS string `env:"SMTP_TLS" envDefault:"opportunistic"`
	// SMTPMaxConnections bounds the sessions open to the mail server at
	// once: a relay refuses a client past its own limit. The default is
	// notify.DefaultMaxConnections.
	SMTPMaxConnections int    `env:"SMTP_MAX_CONNECTIONS" envDefault:"20"`
	MailFrom           string `env:"MAIL_FROM" envDefault:"complaints@complaintdesk.local"`
	MailFromName       string `env:"MAIL_FROM_NAME" envDefault:"Customer Care"`
	// StaffMailDomain makes a rung of the escalation ladder an address
	// (rung@domain); empty: staff notices are logged only.
	StaffMailDomain string `env:"STAFF_MAIL_DOMAIN"`
	// PublicURL is the API's address as customers reach it: survey links
	// point there.
	PublicURL string `env:"PUBLIC_URL" envDefault:"http://127.0.0.1:8080"`
	// SurveyLinkSecret signs survey links (the API checks them with the
	// same secret); empty: invitations go out without a link.
	SurveyLinkSecret string `env:"SURVEY_LINK_SECRET"`
	// CaseLinkBase is where staff open a case: the Temporal UI's workflow
	// page of the namespace, to which the workflow ID is appended.
	CaseLinkBase string `env:"CASE_LINK_BASE" envDefault:"http://127.0.0.1:8233/namespaces/default/workflows/"`
	// Webhooks maps an upstream system to the URL its case events go to
	// (shop=https://shop.example/hooks/complaints,...), WebhookSecrets to
	// the Standard Webhooks secret ("whsec_" + base64) each is signed with.
	// During a rotation WebhookPreviousSecrets holds the old one: every
	// event is signed under both until it is removed.
	Webhooks               map[string]string `env:"WEBHOOKS" envKeyValSeparator:"="`
	WebhookSecrets         map[string]string `env:"WEBHOOK_SECRETS" envKeyValSeparator:"="`
	WebhookPreviousSecrets map[string]string `env:"WEBHOOK_PREVIOUS_SECRETS" envKeyValSeparator:"="`
	// WebhookAllowHTTP lets webhook URLs be plain http (development only):
	// otherwise they must be https.
	WebhookAllowHTTP bool `env:"WEBHOOK_ALLOW_HTTP" envDefault:"false"`
	// DeliveryMaxAttempts is how often a message is tried before it is
	// left for an operator; with the activity backoff (1 s doubling to 1
	// min) ten attempts span about five minutes.
	DeliveryMaxAttempts int32 `env:"DELIVERY_MAX_ATTEMPTS" envDefault:"10"`

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

	// CustomerLinks sign the reply address and status link of every
	// message to a customer.
	CustomerLinks auth.CustomerLinks
}
