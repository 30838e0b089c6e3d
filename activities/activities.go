// Package activities is everything a case does to the world: the database
// record and audit trail, and the messages to the customer. The methods hang
// off one struct holding their dependencies, and each is safe to retry.
package activities

import (
	"context"
	"fmt"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
	"github.com/complaintdesk/complaintdesk/telemetry"
)

// Activities are registered on the worker as one set.
type Activities struct {
	Store    *store.Store
	Notifier Notifier
	// Metrics counts SLA breaches and escalations; nil counts nothing.
	Metrics *telemetry.CaseMetrics
}

// RegisterCase writes the new case to the database and reports an earlier
// case it repeats.
func (a *Activities) RegisterCase(ctx context.Context, c complaint.NewCase) (store.Registration, error) {
	reg, err := a.Store.RegisterCase(ctx, c)
	if err != nil {
		return reg, fmt.Errorf("register %s: %w", c.Reference, err)
	}
	return reg, nil
}

// RecordStep appends one step to the case's audit trail.
func (a *Activities) RecordStep(ctx context.Context, st store.Step) error {
	if err := a.Store.RecordStep(ctx, st); err != nil {
		return fmt.Errorf("record %s of %s: %w", st.Key, st.Reference, err)
	}
	// Counted once the step is recorded; a retry of a step already recorded
	// may count its events again (at least once).
	for _, e := range st.SLA {
		a.Metrics.SLAEvent(ctx, e.Clock, string(e.Department), e.Event, e.Level)
	}
	return nil
}

// SaveResolution records a proposal and the customer's answer.
func (a *Activities) SaveResolution(ctx context.Context, reference string, r complaint.Resolution) error {
	return a.Store.SaveResolution(ctx, reference, r)
}

// ExecuteResolution carries out the resolution the customer accepted — the
// corrective actions and the compensation — and records its execution.
// Handing refunds and replacements to the systems that pay and ship them is
// a later integration; today the execution is recorded for the teams that
// act on it.
func (a *Activities) ExecuteResolution(ctx context.Context, reference string, r complaint.Resolution) error {
	return a.Store.SaveResolution(ctx, reference, r)
}

// SaveSurvey records the satisfaction survey as it stands.
func (a *Activities) SaveSurvey(ctx context.Context, reference string, sv complaint.Survey) error {
	return a.Store.SaveSurvey(ctx, reference, sv)
}

// NotifyCustomer sends the customer one message.
func (a *Activities) NotifyCustomer(ctx context.Context, m Message) error {
	if err := a.Notifier.Notify(ctx, m); err != nil {
		return fmt.Errorf("%s to the customer of %s: %w", m.Kind, m.Reference, err)
	}
	return nil
}

// NotifyStaff warns a case's owner of a deadline, or escalates a missed one
// to the next rung of the ladder.
func (a *Activities) NotifyStaff(ctx context.Context, m StaffMessage) error {
	if err := a.Notifier.NotifyStaff(ctx, m); err != nil {
		return fmt.Errorf("%s on %s to %s: %w", m.Kind, m.Reference, m.To, err)
	}
	return nil
}
