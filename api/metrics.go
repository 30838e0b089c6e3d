package api

import (
	"context"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/telemetry"
)

// CountingCases counts the cases its submissions open
// (complaints_cases_opened_total by category and channel); a repeat of an
// earlier submission opens none.
type CountingCases struct {
	Cases
	Metrics *telemetry.CaseMetrics
}

func (c CountingCases) Submit(ctx context.Context, sub starter.Submission) (starter.Result, error) {
	res, err := c.Cases.Submit(ctx, sub)
	if err == nil && res.Created {
		in := sub.Intake.Normalize()
		category := in.Category
		if category == "" { // classified from the text, as complaint.Register does
			category = complaint.Classify(in.Subject, in.Description)
		}
		c.Metrics.CaseOpened(ctx, string(category), string(in.Channel))
	}
	return res, err
}
