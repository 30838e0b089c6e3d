// Package workflows holds the case as a durable process. Everything here is
// deterministic: time, randomness and I/O come from the SDK or from
// activities.
package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/activities"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

// acknowledgeWithin is the outer bound for telling the customer we have the
// complaint (DOMAIN §4); investigateWithin is when the responsible department
// must have started.
const (
	acknowledgeWithin = time.Hour
	investigateWithin = 24 * time.Hour
)

// ComplaintWorkflow is one complaint, from receipt to the end of its life.
func ComplaintWorkflow(ctx workflow.Context, c complaint.NewCase) (complaint.CaseView, error) {
	w := newCaseWorkflow(c)
	if err := w.setup(ctx); err != nil {
		return w.view, err
	}
	return w.run(ctx)
}

// caseWorkflow carries the state of one case.
type caseWorkflow struct {
	intake     complaint.Intake
	view       complaint.CaseView
	steps      int // audit steps recorded so far; keys the next one
	registered bool
	withdrawn  bool
	signals    int // signal-driven tasks still running; the case ends only after them
}

func newCaseWorkflow(c complaint.NewCase) *caseWorkflow {
	return &caseWorkflow{
		steps:  1, // the "received" step, written with the case record
		intake: c.Intake,
		view: complaint.CaseView{
			Reference:   c.Reference,
			WorkflowID:  complaint.WorkflowID(c.Reference),
			Status:      complaint.StatusReceived,
			Owner:       c.Owner,
			Channel:     c.Intake.Channel,
			Category:    c.Category,
			Severity:    c.Intake.Severity,
			Priority:    c.Priority,
			Departments: c.Departments,
			Subject:     c.Intake.Subject,
			ExternalID:  c.Intake.ExternalID,
			OrderID:     c.Intake.OrderID,
			ReceivedAt:  c.ReceivedAt,
			Deadlines: []complaint.Deadline{
				{Name: "acknowledge", DueAt: c.ReceivedAt.Add(acknowledgeWithin), State: complaint.ClockRunning},
				{Name: "startInvestigation", DueAt: c.ReceivedAt.Add(investigateWithin), State: complaint.ClockRunning},
			},
			History: []complaint.Event{},
		},
	}
}

func (w *caseWorkflow) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandlerWithOptions(ctx, complaint.QueryCase,
		func() (complaint.CaseView, error) { return w.view, nil },
		workflow.QueryHandlerOptions{Description: "The case as it stands, without customer contact details."},
	); err != nil {
		return err
	}
	if err := handleTask(ctx, w, complaint.TaskAddNote, "Put a note on the case.",
		func(complaint.AddNote) error { return w.acceptsNotes() }, w.addNote); err != nil {
		return err
	}
	return handleTask(ctx, w, complaint.TaskWithdraw, "The customer withdraws the complaint.",
		func(complaint.Withdraw) error { return w.canWithdraw() }, w.withdraw)
}

// run walks the steps of DOMAIN §1 in order.
func (w *caseWorkflow) run(ctx workflow.Context) (complaint.CaseView, error) {
	// 1–3. Received, classified and routed by the starter; register the record.
	if err := w.register(ctx); err != nil {
		return w.view, err
	}
	// 4. Acknowledge the customer at once.
	if err := w.acknowledge(ctx); err != nil {
		return w.view, err
	}
	// 5–7. Investigation, resolution, closing and the survey follow here; until
	// then the case waits for its staff.
	if err := workflow.Await(ctx, func() bool { return w.withdrawn }); err != nil {
		return w.view, err
	}
	// Let every task in flight finish before the case ends.
	if err := workflow.Await(ctx, func() bool { return w.signals == 0 && workflow.AllHandlersFinished(ctx) }); err != nil {
		return w.view, err
	}
	return w.view, nil
}

func (w *caseWorkflow) register(ctx workflow.Context) error {
	var a *activities.Activities
	c := complaint.NewCase{
		Reference: w.view.Reference, ReceivedAt: w.view.ReceivedAt, Intake: w.intake, Category: w.view.Category,
		Priority: w.view.Priority, Departments: w.view.Departments, Owner: w.view.Owner,
	}
	actx := withActivity(ctx, "Register the case in the complaint record")
	if err := workflow.ExecuteActivity(actx, a.RegisterCase, c).Get(ctx, nil); err != nil {
		return err
	}
	w.view.History = append(w.view.History, complaint.Event{
		At: w.view.ReceivedAt, Step: "received", Actor: w.view.Owner,
		Summary: fmt.Sprintf("Received via %s", w.view.Channel),
	})
	w.registered = true
	return w.publish(ctx)
}

func (w *caseWorkflow) acknowledge(ctx workflow.Context) error {
	var a *activities.Activities
	ack := activities.Acknowledgement{
		Reference: w.view.Reference, Language: w.intake.Customer.Language,
		Email: w.intake.Customer.Email, Phone: w.intake.Customer.Phone, Name: w.intake.Customer.Name,
	}
	actx := withActivity(ctx, "Acknowledge the customer")
	if err := workflow.ExecuteActivity(actx, a.AcknowledgeCustomer, ack).Get(ctx, nil); err != nil {
		return err
	}
	now := workflow.Now(ctx)
	w.view.Status = complaint.StatusAcknowledged
	w.view.AcknowledgedAt = &now
	w.meetDeadline("acknowledge", now)
	return w.record(ctx, "acknowledged", "system", "Acknowledgement sent to the customer")
}

func (w *caseWorkflow) acceptsNotes() error {
	if w.withdrawn {
		return errClosed(w.view.Status)
	}
	return nil
}

func (w *caseWorkflow) addNote(ctx workflow.Context, t complaint.AddNote) error {
	return w.record(ctx, "note", t.Author, t.Text)
}

func (w *caseWorkflow) canWithdraw() error {
	if w.withdrawn {
		return errClosed(w.view.Status)
	}
	return nil
}

func (w *caseWorkflow) withdraw(ctx workflow.Context, t complaint.Withdraw) error {
	w.withdrawn = true
	w.view.Status = complaint.StatusWithdrawn
	return w.record(ctx, "withdrawn", complaint.ActorOr(t.Actor, "customer"), t.Reason)
}

func (w *caseWorkflow) meetDeadline(name string, at time.Time) {
	for i := range w.view.Deadlines {
		if d := &w.view.Deadlines[i]; d.Name == name && d.State == complaint.ClockRunning {
			d.State = complaint.ClockMet
			d.MetAt = &at
		}
	}
}

// record adds a step to the case's history and to the audit trail in the
// database, then republishes the case to the UI. The audit key is the step's
// position in the case, so a retried activity writes the same row.
func (w *caseWorkflow) record(ctx workflow.Context, step, actor, summary string) error {
	w.steps++
	now := workflow.Now(ctx)
	w.view.History = append(w.view.History, complaint.Event{At: now, Step: step, Actor: actor, Summary: summary})
	st := store.Step{
		Reference: w.view.Reference, Key: fmt.Sprintf("%04d-%s", w.steps, step), At: now,
		Actor: actor, Name: step, Summary: summary, Status: w.view.Status, Owner: w.view.Owner,
	}
	if err := w.publish(ctx); err != nil {
		return err
	}
	var a *activities.Activities
	return workflow.ExecuteActivity(withActivity(ctx, "Record "+step), a.RecordStep, st).Get(ctx, nil)
}

// publish keeps the search attributes and the UI's current details in step
// with the case.
func (w *caseWorkflow) publish(ctx workflow.Context) error {
	workflow.SetCurrentDetails(ctx, currentDetails(w.view))
	return workflow.UpsertTypedSearchAttributes(ctx, searchAttributes(w.view)...)
}

func withActivity(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		Summary:             summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}

func errClosed(s complaint.Status) error {
	return temporal.NewApplicationError(fmt.Sprintf("the case is %s", s), "CaseClosed")
}

// taskRejected marks a task that the case refuses, so the API can answer 422.
func taskRejected(err error) error {
	return temporal.NewApplicationErrorWithOptions(err.Error(), "InvalidTask", temporal.ApplicationErrorOptions{NonRetryable: true})
}

// handleTask registers a human task as an Update with a validator and as a
// Signal with the same name and payload. Payloads are decoded strictly, and
// the same checks guard both: a rejected update never reaches history, an
// invalid signal is logged and ignored.
func handleTask[T complaint.Task](ctx workflow.Context, w *caseWorkflow, name, description string,
	allowed func(T) error, apply func(workflow.Context, T) error,
) error {
	check := func(raw json.RawMessage) (T, error) {
		// Decoding JSON into a struct is deterministic; the checker only sees reflection.
		t, err := complaint.DecodeTask[T](raw) //workflowcheck:ignore
		if err != nil {
			return t, taskRejected(err)
		}
		return t, allowed(t)
	}
	// A task that arrives while the case is still being registered waits
	// for the record it will write to.
	applyRegistered := func(ctx workflow.Context, t T) error {
		if err := workflow.Await(ctx, func() bool { return w.registered }); err != nil {
			return err
		}
		return apply(ctx, t)
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, raw json.RawMessage) (complaint.CaseView, error) {
			t, err := check(raw)
			if err != nil { // the state moved on since the validator ran
				return w.view, err
			}
			if err := applyRegistered(ctx, t); err != nil {
				return w.view, err
			}
			return w.view, nil
		},
		workflow.UpdateHandlerOptions{
			Description: description,
			Validator: func(_ workflow.Context, raw json.RawMessage) error {
				_, err := check(raw)
				return err
			},
		})
	if err != nil {
		return err
	}
	signals := workflow.GetSignalChannelWithOptions(ctx, name, workflow.SignalChannelOptions{Description: description})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var raw json.RawMessage
			signals.Receive(ctx, &raw)
			t, err := check(raw)
			if err != nil {
				workflow.GetLogger(ctx).Warn("Ignored an invalid signal", "signal", name, "error", err)
				continue
			}
			w.signals++
			if err := applyRegistered(ctx, t); err != nil {
				workflow.GetLogger(ctx).Error("Signal failed", "signal", name, "error", err)
			}
			w.signals--
		}
	})
	return nil
}
