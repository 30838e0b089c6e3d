// Package starter is the client side of Temporal for the API and the CLI:
// start a case idempotently, run a human task on it, read it — all by
// reference.
package starter

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/visibility"
)

// Errors the API maps onto HTTP statuses.
var (
	ErrNotFound    = errors.New("no case has this reference")
	ErrUnavailable = errors.New("the workflow service is unavailable")
	ErrConflict    = errors.New("the task conflicts with the state of the case")
	ErrKeyClash    = errors.New("the idempotency key clashes with other submissions; use another key")
	ErrEnded       = errors.New("the case has ended and takes no more tasks")
)

// RejectedError is a task the case refused because its payload is invalid.
type RejectedError struct{ Message string }

func (e *RejectedError) Error() string { return e.Message }

// keyedProbes bounds the search for a free reference when different
// idempotency keys hash to the same one; eight clashes in a row on one day
// would take billions of keyed submissions.
const keyedProbes = 8

// Options are what a Starter starts cases with.
type Options struct {
	Namespace string
	TaskQueue string
	// Location is the time zone of the day printed in references.
	Location *time.Location
	Rules    complaint.Rules
	// Clock, when set, replaces the wall clock (the bench starts cases
	// received at one instant).
	Clock func() time.Time
	// DataConverter reads the memo; it must be the client's (payloads are
	// encrypted). The SDK's default when nil.
	DataConverter converter.DataConverter
	// IntakeKeys records which case each idempotency key started; a keyed
	// submission needs it.
	IntakeKeys IntakeKeys
}

// IntakeKeys is the record of idempotency keys (store.Store): with it, a
// repeat days later finds its case in one indexed read, and a new keyed
// submission costs Temporal a start and nothing more.
type IntakeKeys interface {
	ClaimIntakeKey(ctx context.Context, keyHash, ref string) (claimed string, first bool, err error)
	MoveIntakeKey(ctx context.Context, keyHash, from, to string) error
	// MatchIntakeBody records the key's first body and compares later ones.
	MatchIntakeBody(ctx context.Context, keyHash, fingerprint string) (same bool, err error)
	// CaseStatus reads the record of a case Temporal no longer has.
	CaseStatus(ctx context.Context, ref string) (complaint.Status, bool, error)
}

// Starter starts and drives cases.
type Starter struct {
	client client.Client
	opts   Options
	now    func() time.Time
	mu     sync.Mutex // rnd is shared by concurrent requests
	rnd    *rand.Rand
}

// New returns a Starter over c.
func New(c client.Client, opts Options) *Starter {
	now := time.Now
	if opts.Clock != nil {
		now = opts.Clock
	}
	return &Starter{client: c, opts: opts, now: now, rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

// Submission is a complaint to start, with the caller's idempotency key.
type Submission struct {
	Intake         complaint.Intake
	IdempotencyKey string
	// Submitter is the upstream system that submits, when one does: its
	// keys are kept apart from every other system's.
	Submitter string
	// Staff is the staff member who submits, when one does: their keys are
	// their own too, and they own the case unless the intake names the
	// employee who took it (complaint.NewCase.EnteredBy).
	Staff string
}

// Result says which case a submission became.
type Result struct {
	Reference  string           `json:"reference"`
	WorkflowID string           `json:"workflowId"`
	Status     complaint.Status `json:"status"`
	// Created is false when the submission repeated an earlier one.
	Created bool `json:"-"`
}

// Submit starts the case of a complaint. With an external id or an
// idempotency key it is idempotent: the key's first submission claims a
// reference derived from the key and the day, a repeat — concurrent or
// days later — finds that reference claimed and meets the first case's
// workflow ID, and Temporal's ID policies, not a check-then-start, decide
// which call created it.
func (s *Starter) Submit(ctx context.Context, sub Submission) (Result, error) {
	if err := sub.Intake.Validate(); err != nil {
		return Result{}, err
	}
	now := s.now()
	if sub.Submitter != "" && !complaint.ValidSystemName(sub.Submitter) {
		return Result{}, fmt.Errorf("invalid system name %q", sub.Submitter)
	}
	key := IntakeKey(sub)
	if key == "" {
		for {
			s.mu.Lock()
			ref := complaint.NewReference(now, s.opts.Location, s.rnd)
			s.mu.Unlock()
			res, err := s.start(ctx, ref, sub, now, "")
			if !isAlreadyStarted(err) {
				return res, err
			}
		}
	}
	if s.opts.IntakeKeys == nil {
		return Result{}, errors.New("an idempotent submission needs the record of intake keys")
	}
	keyHash := complaint.IntakeKeyHash(key)
	ref, first, err := s.opts.IntakeKeys.ClaimIntakeKey(ctx, keyHash, complaint.KeyedReference(key, now, s.opts.Location, 0))
	if err != nil {
		return Result{}, fmt.Errorf("%w: intake keys: %w", ErrUnavailable, err)
	}
	if err := s.checkBody(ctx, keyHash, sub.Intake); err != nil {
		return Result{}, err
	}
	if !first {
		// An earlier submission with this key claimed ref: its case, running,
		// ended, or past Temporal's retention and on record only — or none,
		// when that call failed before it started the case: this one does.
		res, mine, err := s.describe(ctx, ref, keyHash)
		switch {
		case err == nil && mine:
			return res, nil
		case errors.Is(err, ErrNotFound):
			status, recorded, err := s.opts.IntakeKeys.CaseStatus(ctx, ref)
			if err != nil {
				return Result{}, fmt.Errorf("%w: case record: %w", ErrUnavailable, err)
			}
			if recorded {
				return Result{Reference: ref, WorkflowID: complaint.WorkflowID(ref), Status: status}, nil
			}
		case err != nil:
			return Result{}, err
		}
	}
	for probe := 1; ; probe++ {
		res, err := s.start(ctx, ref, sub, now, keyHash)
		if !isAlreadyStarted(err) {
			return res, err
		}
		res, mine, err := s.describe(ctx, ref, keyHash)
		if err != nil || mine {
			return res, err
		}
		if probe == keyedProbes {
			return Result{}, ErrKeyClash
		}
		// Another key's case has this reference: the key moves on to its
		// next candidate.
		next := complaint.KeyedReference(key, now, s.opts.Location, probe)
		if err := s.opts.IntakeKeys.MoveIntakeKey(ctx, keyHash, ref, next); err != nil {
			return Result{}, fmt.Errorf("%w: intake keys: %w", ErrUnavailable, err)
		}
		ref = next
	}
}

// IntakeKey is the key a keyed submission is recorded under, "" for an
// unkeyed one. Each caller has a scope of its own, so that no two callers'
// keys can meet: a system's is its name (no ':' or '@', checked when its API
// key is made), a staff member's is "@staff:" and their escaped name (no
// ':'), the command line's "@operator". The caller's own id comes last.
func IntakeKey(sub Submission) string {
	var scope string
	switch {
	case sub.Submitter != "":
		scope = sub.Submitter + ":"
	case sub.Staff != "":
		scope = "@staff:" + url.QueryEscape(sub.Staff) + ":"
	default:
		scope = "@operator:"
	}
	switch {
	case sub.Intake.ExternalID != "":
		return "external:" + scope + sub.Intake.ExternalID
	case sub.IdempotencyKey != "":
		return "idempotency:" + scope + sub.IdempotencyKey
	}
	return ""
}

func (s *Starter) start(ctx context.Context, ref string, sub Submission, now time.Time, keyHash string) (Result, error) {
	c := complaint.Register(sub.Intake, ref, now.UTC().Truncate(time.Millisecond), s.opts.Rules)
	c.EnteredBy(sub.Staff) // first contact: the staff member who enters a complaint owns it
	opts := client.StartWorkflowOptions{
		ID:                                       complaint.WorkflowID(ref),
		TaskQueue:                                s.opts.TaskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    visibility.StartSearchAttributes(c),
		StaticSummary:                            visibility.StaticSummary(c),
		StaticDetails:                            visibility.StaticDetails(c),
	}
	if keyHash != "" {
		opts.Memo = map[string]any{complaint.MemoIntakeKey: keyHash}
	}
	_, err := s.client.ExecuteWorkflow(ctx, opts, complaint.WorkflowName, c)
	if err != nil {
		return Result{}, classify(err)
	}
	return Result{Reference: ref, WorkflowID: opts.ID, Status: complaint.StatusReceived, Created: true}, nil
}

// describe reads an existing case's status and whether keyHash started it.
func (s *Starter) describe(ctx context.Context, ref, keyHash string) (Result, bool, error) {
	id := complaint.WorkflowID(ref)
	resp, err := s.client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return Result{}, false, classify(err)
	}
	info := resp.GetWorkflowExecutionInfo()
	var stored string
	if p := info.GetMemo().GetFields()[complaint.MemoIntakeKey]; p != nil {
		if err := s.dataConverter().FromPayload(p, &stored); err != nil {
			return Result{}, false, fmt.Errorf("read memo of %s: %w", id, err)
		}
	}
	if stored != keyHash {
		return Result{}, false, nil
	}
	status := complaint.StatusReceived
	if p := info.GetSearchAttributes().GetIndexedFields()[complaint.SAStatus]; p != nil {
		var v string
		if converter.GetDefaultDataConverter().FromPayload(p, &v) == nil && complaint.Status(v).Valid() {
			status = complaint.Status(v)
		}
	}
	return Result{Reference: ref, WorkflowID: id, Status: status}, true, nil
}

// Case reads the case as it stands from its workflow.
func (s *Starter) Case(ctx context.Context, ref string) (complaint.CaseView, error) {
	var v complaint.CaseView
	if !complaint.ValidReference(ref) {
		return v, ErrNotFound
	}
	resp, err := s.client.QueryWorkflow(ctx, complaint.WorkflowID(ref), "", complaint.QueryCase)
	if err != nil {
		return v, classify(err)
	}
	if err := resp.Get(&v); err != nil {
		return v, fmt.Errorf("decode case %s: %w", ref, err)
	}
	return v, nil
}

// Tasks asks the case's workflow which tasks its state lets anyone do now.
func (s *Starter) Tasks(ctx context.Context, ref string) ([]complaint.TaskState, error) {
	var out []complaint.TaskState
	if !complaint.ValidReference(ref) {
		return out, ErrNotFound
	}
	resp, err := s.client.QueryWorkflow(ctx, complaint.WorkflowID(ref), "", complaint.QueryTasks)
	if err != nil {
		return out, classify(err)
	}
	if err := resp.Get(&out); err != nil {
		return out, fmt.Errorf("decode tasks of %s: %w", ref, err)
	}
	return out, nil
}

// Task runs a human task on a case as an Update and returns the case after
// it. A non-empty updateID makes the call idempotent: a retry with the same
// id returns the first call's outcome instead of running the task again.
func (s *Starter) Task(ctx context.Context, ref, task, updateID string, payload any) (complaint.CaseView, error) {
	var v complaint.CaseView
	if !complaint.ValidReference(ref) {
		return v, ErrNotFound
	}
	handle, err := s.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   complaint.WorkflowID(ref),
		UpdateID:     updateID,
		UpdateName:   task,
		Args:         []any{payload},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, &v)
	}
	if err = classify(err); errors.Is(err, ErrNotFound) {
		return v, s.endedOrMissing(ctx, ref)
	}
	return v, err
}

// endedOrMissing tells a case that has ended (Temporal answers "not found"
// to an update on a closed workflow) from one that never existed.
func (s *Starter) endedOrMissing(ctx context.Context, ref string) error {
	if _, err := s.client.DescribeWorkflowExecution(ctx, complaint.WorkflowID(ref), ""); err != nil {
		return classify(err)
	}
	return ErrEnded
}

// ApplyPolicy re-applies today's SLA policy to an open case: it reads the
// case, resolves the targets for its priority, category and lead department,
// and hands them to the case's applyPolicy task.
func (s *Starter) ApplyPolicy(ctx context.Context, ref, updateID string, t complaint.ApplyPolicy) (complaint.CaseView, error) {
	v, err := s.Case(ctx, ref)
	if err != nil {
		return v, err
	}
	lead := complaint.DeptCustomerService
	if len(v.Departments) > 0 {
		lead = v.Departments[0]
	}
	sla := s.opts.Rules.SLA.ForCase(v.Priority, v.Category, lead)
	t.SLA = &sla
	return s.Task(ctx, ref, complaint.TaskApplyPolicy, updateID, t)
}

// End terminates a case still running (erasure: no worker could read its
// history again once its keys are destroyed); false when it had ended.
func (s *Starter) End(ctx context.Context, ref, reason string) (bool, error) {
	err := s.client.TerminateWorkflow(ctx, complaint.WorkflowID(ref), "", reason)
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &notFound):
		return false, nil
	}
	return false, classify(err)
}

// Ready reports whether the Temporal frontend answers for our namespace.
func (s *Starter) Ready(ctx context.Context) error {
	_, err := s.client.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.opts.Namespace})
	if err != nil {
		return classify(err)
	}
	return nil
}

func isAlreadyStarted(err error) bool {
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	return errors.As(err, &started)
}

// classify turns SDK and service errors into the package's errors.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var (
		notFound    *serviceerror.NotFound
		unavailable *serviceerror.Unavailable
		deadline    *serviceerror.DeadlineExceeded
		notReady    *serviceerror.WorkflowNotReady
		exhausted   *serviceerror.ResourceExhausted
		appErr      *temporal.ApplicationError
	)
	switch {
	case isAlreadyStarted(err):
		return err
	case errors.As(err, &notFound):
		return ErrNotFound
	case errors.As(err, &appErr) && appErr.Type() == complaint.ErrTypeInvalidTask:
		return &RejectedError{Message: appErr.Message()}
	case errors.As(err, &appErr) && appErr.Type() == complaint.ErrTypeCaseConflict:
		return fmt.Errorf("%w: %s", ErrConflict, appErr.Message())
	// WorkflowNotReady: the server answers a case's queries and updates no
	// more while its workflow task keeps failing (a worker's restart, a
	// dependency away); the task is retried and the case answers again.
	// ResourceExhausted: a server limit (requests per second, updates in
	// flight on one case) that passes.
	case errors.As(err, &unavailable), errors.As(err, &deadline), errors.As(err, &notReady),
		errors.As(err, &exhausted), errors.Is(err, codec.ErrKeyStore),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}

func (s *Starter) dataConverter() converter.DataConverter {
	if s.opts.DataConverter != nil {
		return s.opts.DataConverter
	}
	return converter.GetDefaultDataConverter()
}
