// Package api is the HTTP face of the system: routes, problem details and the
// OpenAPI document. It starts and drives cases through the starter and reads
// the database for what it lists.
package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"go.temporal.io/sdk/converter"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/store"
)

// Cases is what the API needs of the starter.
type Cases interface {
	Submit(ctx context.Context, sub starter.Submission) (starter.Result, error)
	Case(ctx context.Context, ref string) (complaint.CaseView, error)
	// Tasks is the case's own word on which tasks its state allows now.
	Tasks(ctx context.Context, ref string) ([]complaint.TaskState, error)
	Task(ctx context.Context, ref, task, updateID string, payload any) (complaint.CaseView, error)
	ApplyPolicy(ctx context.Context, ref, updateID string, t complaint.ApplyPolicy) (complaint.CaseView, error)
	Ready(ctx context.Context) error
}

// QueueWatcher says who polls the cases' task queue.
type QueueWatcher interface {
	QueueStatus(ctx context.Context) (starter.QueueStatus, error)
}

// Pinger is a dependency the API needs to be ready.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server holds the API's dependencies.
type Server struct {
	Cases    Cases
	Database Pinger
	// Queue, when set, tells /readyz whether workers poll: the API stays
	// ready without them (cases wait in Temporal), and says so.
	Queue          QueueWatcher
	RequestTimeout time.Duration
	Records        RecordReader // the list and the reports
	Deliveries     DeliveryReader
	// Redeliveries sends failed webhooks again (the starter).
	Redeliveries Redeliverer
	// SurveyLinks checks the links in survey invitations.
	SurveyLinks auth.SurveyLinks
	// Auth authenticates every call but the public ones; without it every
	// such call is refused.
	Auth *Authenticator
	// Submitters records which upstream system submitted a case.
	Submitters SubmitterStore
	// Codec, when set, is served as the codec server under /codec/ for the
	// Temporal UI, to the browser origins in CodecOrigins.
	Codec        converter.PayloadCodec
	CodecOrigins []string
	// Eraser erases a customer's personal data (admin).
	Eraser Eraser
	// CalendarNotice, when set, says at a moment what operators must know of
	// the working-day calendar (its holiday table ending); /readyz shows it.
	CalendarNotice func(now time.Time) string
	// Metrics, when set, is served at GET /metrics to metricsRoles.
	Metrics http.Handler
	// Logger takes what the answers leave out (why the API is not ready);
	// slog's default when nil.
	Logger *slog.Logger
	// Archive reads a case Temporal no longer holds from its record.
	Archive ArchiveReader
	// Breakdowns reads the managers' breakdown and the cases behind a
	// figure; Departments are the configured ones, for the reports page.
	Breakdowns  BreakdownReader
	Departments []string
	// CustomerMail serves the customer's files and status page.
	CustomerMail CustomerMail
	// StatusLinks checks the status page's links.
	StatusLinks auth.StatusLinks
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// ArchiveReader reads the record of a case past Temporal's retention;
// *store.Store is one.
type ArchiveReader interface {
	ArchivedCase(ctx context.Context, reference string) (complaint.CaseView, error)
}

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	cfg := huma.DefaultConfig("Complaint handling API", "1.0.0")
	cfg.Info.Description = "Submit customer complaints and drive each case through its lifecycle. " +
		"Errors are RFC 9457 problem details."
	cfg.DocsPath = ""     // served from embedded assets by registerDocs, not from huma's CDN page
	cfg.CreateHooks = nil // no $schema field or Link header: upstream clients want plain bodies
	cfg.Transformers = append(cfg.Transformers, logFaults(s.logger))
	api := humago.New(mux, cfg)
	// Every operation passes its role check before anything else runs.
	api.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		if permissions[op.OperationID] == nil { // public: the probes, the survey answer
			next(ctx)
			return
		}
		authorize(api, op.OperationID)(ctx, next)
	})

	huma.Register(api, huma.Operation{
		OperationID: "submitComplaint", Method: http.MethodPost, Path: "/v1/complaints",
		Summary: "Submit a complaint", Tags: []string{"complaints"}, DefaultStatus: http.StatusCreated,
		Description: "Starts a case. With an `Idempotency-Key` header or an `externalId` the call is " +
			"idempotent: a repeat answers 200 with the case the first call created.",
	}, s.submit)
	huma.Register(api, huma.Operation{
		OperationID: "getComplaint", Method: http.MethodGet, Path: "/v1/complaints/{reference}",
		Summary: "The case as it stands", Tags: []string{"complaints"},
		Description: "From the case's workflow; for a case past Temporal's retention, from its record in the " +
			"database, marked `archived: true` (its audit trail as the history; no deadlines or department progress).",
	}, s.get)
	registerTask[complaint.Assign](api, s, complaint.TaskAssign, "Hand the case to another owner")
	registerTask[complaint.Route](api, s, complaint.TaskRoute, "Set the departments that investigate")
	registerTask[complaint.StartInvestigation](api, s, complaint.TaskStartInvestigation, "A department starts investigating")
	registerTask[complaint.SubmitFindings](api, s, complaint.TaskSubmitFindings, "A department reports its findings")
	registerTask[complaint.ProposeResolution](api, s, complaint.TaskProposeResolution, "Propose a resolution to the customer")
	registerTask[complaint.CustomerResponse](api, s, complaint.TaskCustomerResponse, "The customer accepts or rejects the proposal")
	registerTask[complaint.Reason](api, s, complaint.TaskWaitingOnCustomer, "The case waits for the customer")
	registerTask[complaint.Reason](api, s, complaint.TaskCustomerReplied, "The customer answered; work resumes")
	registerTask[complaint.EscalateDispute](api, s, complaint.TaskEscalateDispute, "Take the case up the dispute path")
	registerTask[complaint.Close](api, s, complaint.TaskClose, "Close the case with an outcome")
	registerTask[complaint.Reason](api, s, complaint.TaskReopen, "Reopen a closed case")
	registerTask[complaint.Reason](api, s, complaint.TaskWithdraw, "The customer withdraws the complaint")
	registerTask[complaint.SurveyResponse](api, s, complaint.TaskSurveyResponse, "The customer answers the satisfaction survey")
	registerTask[complaint.AddNote](api, s, complaint.TaskAddNote, "Put a note on the case")
	registerTask[complaint.ApproveCompensation](api, s, complaint.TaskApproveCompensation,
		"A supervisor approves or refuses a compensation above the limit")
	registerTask[complaint.ConfirmResolved](api, s, complaint.TaskConfirmResolved,
		"The customer says whether the resolution carried out solved the problem")
	registerTask[complaint.CompleteFollowUp](api, s, complaint.TaskCompleteFollowUp,
		"The owner reports the follow-up of a low satisfaction score")
	huma.Register(api, huma.Operation{
		OperationID: "task-" + complaint.TaskApplyPolicy, Method: http.MethodPost,
		Path: "/v1/complaints/{reference}/" + complaint.TaskApplyPolicy, Tags: []string{"tasks"},
		Summary: "Re-apply today's SLA policy to an open case",
		Description: "For administrators: the case's open deadlines are recomputed from their start under the " +
			"configuration in force. The body's `sla` is filled by the API and must be left out.",
	}, s.applyPolicy)

	huma.Register(api, huma.Operation{
		OperationID: "healthz", Method: http.MethodGet, Path: "/healthz", Summary: "Liveness", Tags: []string{"health"},
	}, func(context.Context, *struct{}) (*healthOutput, error) {
		return &healthOutput{Body: healthBody{Status: "ok"}}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "readyz", Method: http.MethodGet, Path: "/readyz",
		Summary: "Readiness: Temporal and the database answer", Tags: []string{"health"},
	}, s.ready)

	readTaskSchemas := s.registerTasks(api)
	s.registerReads(api, mux)
	s.registerBreakdown(api)
	s.registerMessages(api, mux)
	s.registerErasure(api)
	s.registerCodec(mux)
	s.registerDocs(mux)
	s.registerCustomerChannels(api, mux) // attachments, the status page (status.go)
	for _, path := range api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{path.Get, path.Post, path.Put, path.Patch, path.Delete} {
			if op != nil {
				if _, ok := permissions[op.OperationID]; !ok {
					panic("no permissions declared for operation " + op.OperationID)
				}
			}
		}
	}
	describeDocument(api)
	readTaskSchemas()

	if s.Metrics != nil {
		mux.Handle("GET /metrics", onlyFor(metricsRoles, "read the metrics", s.Metrics))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "no such resource: "+r.URL.Path)
	})
	a := s.Auth
	if a == nil {
		a = &Authenticator{}
	}
	return securityHeaders(s.codecCORS(a.authenticate(jsonByDefault(mux), s.logger)))
}

// jsonByDefault reads a body sent without a JSON content type as JSON when it
// looks like JSON: `curl -d` labels everything as a form, and a complaint
// should not bounce for that.
func jsonByDefault(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		if r.Body != nil && (ct == "" || strings.HasPrefix(ct, "application/x-www-form-urlencoded")) {
			br := bufio.NewReader(r.Body)
			if first, err := br.Peek(1); err == nil && (first[0] == '{' || first[0] == '[') {
				r.Header.Set("Content-Type", "application/json")
			}
			r.Body = struct {
				io.Reader
				io.Closer
			}{br, r.Body}
		}
		next.ServeHTTP(w, r)
	})
}

type submitInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Makes the submission idempotent."`
	Body           complaint.Intake
}

type submitOutput struct {
	Status   int
	Location string `header:"Location"`
	Body     starter.Result
}

func (s *Server) submit(ctx context.Context, in *submitInput) (*submitOutput, error) {
	if err := in.Body.Validate(); err != nil { // the rules the schema cannot say
		return nil, problem(err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
	defer cancel()
	id := caller(ctx)
	sub, err := submissionOf(id, in.Body, in.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	res, err := s.Cases.Submit(ctx, sub)
	if errors.Is(err, starter.ErrKeyReused) {
		loc := "header.Idempotency-Key"
		if in.Body.ExternalID != "" {
			loc = "body.externalId" // the external id is the key when both are given
		}
		return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: loc,
			Message: "was used before with a different body; use a new key for a different complaint"})
	}
	if err != nil {
		return nil, problem(err)
	}
	if id.Role == system {
		if s.Submitters == nil {
			return nil, huma.Error503ServiceUnavailable("the database is not configured")
		}
		// Written after the start: a retry of a submission whose record was
		// lost writes it then. The first system on record keeps the case; a
		// system's keys lead to its own cases only, so another name here
		// means the case is not this system's to see.
		recorded, err := s.Submitters.RecordSubmitter(ctx, res.Reference, id.System, id.KeyID)
		if err != nil {
			return nil, storeProblem(err)
		}
		if recorded != id.System {
			return nil, huma.Error409Conflict("this externalId or Idempotency-Key names a case this system did not submit; use another")
		}
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	return &submitOutput{Status: status, Location: "/v1/complaints/" + res.Reference, Body: res}, nil
}

// submissionOf is what a caller's intake becomes: each caller's keys are its
// own; a system hears of its cases by its webhook subscription, whatever the
// body says, and its first-contact employee is its own agent, never an owner
// among our staff; only an administrator names another system as the source.
func submissionOf(id auth.Identity, in complaint.Intake, idempotencyKey string) (starter.Submission, error) {
	sub := starter.Submission{Intake: in, IdempotencyKey: idempotencyKey}
	switch id.Role {
	case system:
		sub.Submitter = id.System
		sub.Intake.Source = id.System
		if in.ReceivedBy != "" {
			sub.Intake.ReceivedBy = complaint.SystemAgent(id.System, in.ReceivedBy)
		}
	case admin:
		sub.Staff = id.Subject
	default:
		sub.Staff = id.Subject
		if in.Source != "" {
			return sub, huma.Error403Forbidden("only an administrator names the system a case is entered for",
				&huma.ErrorDetail{Location: "body.source", Message: "leave it out", Value: in.Source})
		}
	}
	return sub, nil
}

type referenceInput struct {
	Reference string `path:"reference" pattern:"^CMP-[0-9]{8}-[2-9A-HJKMNP-TV-Z]{6}$" doc:"The case reference, e.g. CMP-20261122-4F7K2Q."`
}

// taskInput repeats the reference field: huma reads parameters from the
// input struct's own fields only.
type taskInput[T complaint.Task] struct {
	Reference      string `path:"reference" pattern:"^CMP-[0-9]{8}-[2-9A-HJKMNP-TV-Z]{6}$" doc:"The case reference, e.g. CMP-20261122-4F7K2Q."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Makes the task idempotent: a retry with the same key returns the first outcome."`
	Body           T
}

type caseOutput struct {
	Body complaint.CaseView
}

func (s *Server) get(ctx context.Context, in *referenceInput) (*caseOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
	defer cancel()
	v, err := s.Cases.Case(ctx, in.Reference)
	if errors.Is(err, starter.ErrNotFound) && s.Archive != nil {
		// Past Temporal's retention the record still has the case.
		v, err = s.Archive.ArchivedCase(ctx, in.Reference)
		if errors.Is(err, store.ErrNotFound) {
			err = starter.ErrNotFound
		} else if err != nil {
			return nil, storeProblem(err)
		}
	}
	if err != nil {
		return nil, problem(err)
	}
	if err := s.canRead(ctx, caller(ctx), v); err != nil {
		return nil, err
	}
	return &caseOutput{Body: v}, nil
}

// registerTask exposes a human task as POST /v1/complaints/{reference}/{task}.
func registerTask[T complaint.Task](api huma.API, s *Server, task, summary string) {
	huma.Register(api, huma.Operation{
		OperationID: "task-" + task, Method: http.MethodPost, Path: "/v1/complaints/{reference}/" + task,
		Summary: summary, Tags: []string{"tasks"},
		Description: fmt.Sprintf("Runs the `%s` human task as a workflow update; 409 or 422 when the case refuses it.", task),
	}, func(ctx context.Context, in *taskInput[T]) (*caseOutput, error) {
		if err := in.Body.Validate(); err != nil {
			return nil, problem(err)
		}
		ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
		defer cancel()
		id := caller(ctx)
		if err := s.canAct(ctx, id, in.Reference, task, &in.Body); err != nil {
			return nil, err
		}
		if r, ok := any(&in.Body).(*complaint.CustomerResponse); ok && r.Channel == "" {
			// Staff pass the answer on: through the channel the customer
			// complained by, unless they say otherwise.
			v, err := s.Cases.Case(ctx, in.Reference)
			if err != nil {
				return nil, problem(err)
			}
			r.Channel = v.Channel
		}
		setActor(&in.Body, id)
		v, err := s.Cases.Task(ctx, in.Reference, task, in.IdempotencyKey, in.Body)
		if err != nil {
			return nil, problem(err)
		}
		return &caseOutput{Body: v}, nil
	})
}

func (s *Server) applyPolicy(ctx context.Context, in *taskInput[complaint.ApplyPolicy]) (*caseOutput, error) {
	if in.Body.SLA != nil {
		return nil, huma.Error422UnprocessableEntity("validation failed",
			&huma.ErrorDetail{Location: "body.sla", Message: "is filled by the API from the configuration; leave it out"})
	}
	if err := in.Body.Validate(); err != nil {
		return nil, problem(err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
	defer cancel()
	setActor(&in.Body, caller(ctx))
	v, err := s.Cases.ApplyPolicy(ctx, in.Reference, in.IdempotencyKey, in.Body)
	if err != nil {
		return nil, problem(err)
	}
	return &caseOutput{Body: v}, nil
}

type healthBody struct {
	Status string `json:"status"`
	// Detail says, in fixed words, what operators should act on while the
	// API stays ready: "workers: none polling" while no worker takes the
	// cases' tasks, the working-day calendar running out.
	Detail []string `json:"detail,omitempty"`
}

type healthOutput struct {
	Body healthBody
}

func (s *Server) ready(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// The answer says ready or not, nothing of why: the probe is public,
	// and the reason (addresses, server messages) goes to the log.
	if err := s.Cases.Ready(ctx); err != nil {
		s.logger().WarnContext(ctx, "not ready: Temporal does not answer", "error", err)
		return nil, huma.Error503ServiceUnavailable("not ready")
	}
	if err := s.Database.Ping(ctx); err != nil {
		s.logger().WarnContext(ctx, "not ready: the database does not answer", "error", err)
		return nil, huma.Error503ServiceUnavailable("not ready")
	}
	out := &healthOutput{Body: healthBody{Status: "ready"}}
	if w := s.workers(ctx); w != "" {
		out.Body.Detail = append(out.Body.Detail, w)
	}
	if s.CalendarNotice != nil {
		if n := s.CalendarNotice(time.Now()); n != "" {
			out.Body.Detail = append(out.Body.Detail, "working-day calendar: "+n)
		}
	}
	return out, nil
}

// workers is /readyz's word on the workers. None polling leaves the API
// ready: intake goes on, and the cases wait in Temporal for a worker.
func (s *Server) workers(ctx context.Context) string {
	if s.Queue == nil {
		return ""
	}
	q, err := s.Queue.QueueStatus(ctx)
	switch {
	case err != nil:
		return "workers: unknown"
	case !q.Polling():
		return "workers: none polling"
	}
	return "workers: polling"
}

// problem maps the starter's errors onto RFC 9457 problems.
func problem(err error) error {
	var rejected *starter.RejectedError
	switch {
	case errors.As(err, &rejected):
		return huma.Error422UnprocessableEntity(rejected.Message)
	case errors.Is(err, starter.ErrNotFound):
		return huma.Error404NotFound("no case has this reference")
	case errors.Is(err, starter.ErrConflict), errors.Is(err, starter.ErrKeyClash), errors.Is(err, starter.ErrEnded):
		return huma.Error409Conflict(err.Error())
	case errors.Is(err, starter.ErrUnavailable):
		return unavailable("the case service is unavailable; retry with the same Idempotency-Key", err)
	}
	if v, ok := complaint.AsValidationErrors(err); ok {
		return huma.Error422UnprocessableEntity("validation failed", detailsOf(v, "body.")...)
	}
	return unexpected(err)
}

// detailsOf turns domain validation errors into huma's error details, with
// locations in huma's notation (body.customer.email).
func detailsOf(err error, prefix string) []error {
	v, ok := complaint.AsValidationErrors(err)
	if !ok {
		return nil
	}
	out := make([]error, len(v))
	for i, e := range v {
		loc := prefix + e.Field
		if e.Field == "body" {
			loc = "body"
		}
		out[i] = &huma.ErrorDetail{Location: loc, Message: e.Message}
	}
	return out
}

func writeProblem(w http.ResponseWriter, status int, detail string) {
	body, _ := json.Marshal(huma.ErrorModel{Title: http.StatusText(status), Status: status, Detail: detail})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing left to tell it
}
