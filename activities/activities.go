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
	Channels Channels
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
	received := store.Step{Reference: c.Reference, Key: "received", Name: "received", At: c.ReceivedAt,
		Actor: c.Owner, Status: complaint.StatusReceived, Round: 1}
	return reg, a.tellUpstream(ctx, received)
}

// CaseIntake is a new case with the acknowledgement that follows its
// registration.
type CaseIntake struct {
	Case            complaint.NewCase
	Acknowledgement StepNotice
}

// RegisterAndAcknowledge registers a new case, then records its
// acknowledgement and sends it: the first step of a case in one action.
func (a *Activities) RegisterAndAcknowledge(ctx context.Context, in CaseIntake) (store.Registration, error) {
	reg, err := a.RegisterCase(ctx, in.Case)
	if err != nil {
		return reg, err
	}
	return reg, a.RecordStepAndNotify(ctx, in.Acknowledgement)
}

// RecordStep appends one step to the case's audit trail and tells the
// upstream system that submitted the case.
func (a *Activities) RecordStep(ctx context.Context, st store.Step) error {
	if err := a.recordStep(ctx, st); err != nil {
		return err
	}
	return a.tellUpstream(ctx, st)
}

func (a *Activities) recordStep(ctx context.Context, st store.Step) error {
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
