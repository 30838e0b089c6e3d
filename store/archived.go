package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// ArchivedCase is a case as its record keeps it, for a case Temporal no
// longer holds (past the namespace's retention): what the record has, its
// audit trail as the history, and Archived set. What lived only in the
// workflow — deadlines, each department's progress, the proposals — is
// left empty.
func (s *Store) ArchivedCase(ctx context.Context, reference string) (complaint.CaseView, error) {
	var (
		v                            complaint.CaseView
		depts                        []string
		externalID, orderID, outcome *string
		closeSummary, repeatOf       *string
		closedAt                     *time.Time
	)
	err := s.pool.QueryRow(ctx, `
		SELECT reference, workflow_id, status, owner, channel, category, severity, priority, departments, subject,
			external_id, repeat_of, order_id, received_at, acknowledged_at, round, outcome, close_summary, closed_at,
			escalation_level
		FROM cases WHERE reference = $1`, reference).Scan(&v.Reference, &v.WorkflowID, &v.Status, &v.Owner,
		&v.Channel, &v.Category, &v.Severity, &v.Priority, &depts, &v.Subject, &externalID, &repeatOf, &orderID,
		&v.ReceivedAt, &v.AcknowledgedAt, &v.Round, &outcome, &closeSummary, &closedAt, &v.EscalationLevel)
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, readError(fmt.Errorf("read case %s: %w", reference, err))
	}
	v.ExternalID, v.RepeatOf, v.OrderID, v.CloseSummary = deref(externalID), deref(repeatOf), deref(orderID), deref(closeSummary)
	v.Outcome, v.ClosedAt = complaint.Outcome(deref(outcome)), closedAt
	for _, d := range depts {
		v.Departments = append(v.Departments, complaint.Department(d))
	}
	v.Investigation, v.Resolutions, v.Deadlines = []complaint.DepartmentProgress{}, []complaint.Resolution{}, []complaint.Deadline{}
	if v.History, err = s.Events(ctx, reference); err != nil {
		return v, readError(fmt.Errorf("read the audit trail of %s: %w", reference, err))
	}
	v.Archived = true
	return v, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
