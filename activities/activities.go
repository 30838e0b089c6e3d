// Package activities is everything a case does to the world: the database
// record and audit trail, and the messages to the customer. The methods hang
// off one struct holding their dependencies, and each is safe to retry.
package activities

import (
	"context"
	"errors"
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

// RegisterCase writes the new case to the database, reports an earlier case
// it repeats, tells the submitting system, then records the acknowledgement
// and sends it, and records the handover to the first contact the case
// names: the first steps of a case in one action.
func (a *Activities) RegisterCase(ctx context.Context, in complaint.CaseIntake) (complaint.Registration, error) {
	c := in.Case
	reg, err := a.Store.RegisterCase(ctx, c)
	if err != nil {
		return reg, fmt.Errorf("register %s: %w", c.Reference, err)
	}
	received := complaint.Step{Reference: c.Reference, Key: "received", Name: "received", At: c.ReceivedAt,
		Actor: c.Owner, Status: complaint.StatusReceived, Round: 1, Source: c.Intake.Source}
	if err := a.tellUpstream(ctx, received); err != nil {
		return reg, err
	}
	if err := a.RecordStep(ctx, in.Acknowledgement); err != nil {
		return reg, err
	}
	if in.Handover != nil {
		return reg, a.RecordStep(ctx, *in.Handover)
	}
	return reg, nil
}

// RecordStep saves what the step carries (a proposal or its answer, an
// executed resolution, the survey), appends the step to the audit trail,
// then sends its messages and tells the upstream system. Each message has a
// delivery row keyed by the case and the step: a retry sends only what has
// not gone out.
func (a *Activities) RecordStep(ctx context.Context, n complaint.StepNotice) error {
	ref := n.Step.Reference
	if n.Resolution != nil {
		// An accepted resolution is carried out by recording it as
		// executed: handing refunds and replacements to the systems that
		// pay and ship them is a later integration; today the execution is
		// recorded for the teams that act on it.
		if err := a.Store.SaveResolution(ctx, ref, *n.Resolution); err != nil {
			return err
		}
	}
	if n.Survey != nil {
		if err := a.Store.SaveSurvey(ctx, ref, *n.Survey); err != nil {
			return err
		}
	}
	if n.Findings != nil {
		if err := a.Store.SaveFinding(ctx, ref, *n.Findings); err != nil {
			return err
		}
	}
	if n.FollowUp != nil {
		if err := a.Store.SaveFollowUp(ctx, ref, *n.FollowUp); err != nil {
			return err
		}
	}
	if err := a.Store.RecordStep(ctx, n.Step); err != nil {
		return fmt.Errorf("record %s of %s: %w", n.Step.Key, ref, err)
	}
	// Counted once the step is recorded; a retry of a step already recorded
	// may count its events again (at least once).
	for _, e := range n.Step.SLA {
		a.Metrics.SLAEvent(ctx, e.Clock, string(e.Department), e.Event, e.Level)
	}
	// Every message is tried, whatever another one does, the customer's
	// first: a shop that is down does not hold the customer's email back.
	var errs []error
	if n.Customer != nil {
		errs = append(errs, a.deliverToCustomer(ctx, n.Step.Key, *n.Customer))
	}
	if n.Staff != nil {
		errs = append(errs, a.deliverToStaff(ctx, n.Step.Key, *n.Staff))
	}
	errs = append(errs, a.tellUpstream(ctx, n.Step))
	return errors.Join(errs...)
}
