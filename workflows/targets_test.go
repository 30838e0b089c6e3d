package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// DOMAIN §4's targets, per priority as the README's clock table gives
// them, each asserted to the second from a case received on a Monday
// morning in Shanghai (no holiday that week): the acknowledgement, the
// first response, the department's start and the resolution in working
// days. The figures are written here, not read from the policy tables.
func TestEveryDomainTargetFallsDueToTheSecond(t *testing.T) {
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, shanghai) // Monday
	day := func(n int) time.Time { return received.AddDate(0, 0, n) }
	for _, tc := range []struct {
		severity complaint.Severity
		priority complaint.Priority
		want     map[string]time.Time
	}{
		{complaint.SeverityLow, complaint.PriorityLow, map[string]time.Time{
			"acknowledge": received.Add(time.Hour), "firstResponse": received.Add(4 * time.Hour),
			"startInvestigation:after_sales": received.Add(24 * time.Hour), "resolution": day(3)}},
		{complaint.SeverityMedium, complaint.PriorityMedium, map[string]time.Time{
			"acknowledge": received.Add(time.Hour), "firstResponse": received.Add(4 * time.Hour),
			"startInvestigation:after_sales": received.Add(24 * time.Hour), "resolution": day(3)}},
		{complaint.SeverityHigh, complaint.PriorityHigh, map[string]time.Time{
			"acknowledge": received.Add(30 * time.Minute), "firstResponse": received.Add(2 * time.Hour),
			"startInvestigation:after_sales": received.Add(12 * time.Hour), "resolution": day(2)}},
		{complaint.SeverityCritical, complaint.PriorityCritical, map[string]time.Time{
			"acknowledge": received.Add(15 * time.Minute), "firstResponse": received.Add(time.Hour),
			"startInvestigation:after_sales": received.Add(4 * time.Hour), "resolution": day(1)}},
	} {
		t.Run(string(tc.priority), func(t *testing.T) {
			f := setup(t)
			f.env.SetStartTime(received)
			c := mediumCase(received, complaint.DeptAfterSales)
			c.Intake.Severity = tc.severity
			c = complaint.Register(c.Intake, c.Reference, received, complaint.DefaultRulesFrom(2025))
			require.Equal(t, tc.priority, c.Priority, "severity %s", tc.severity)
			open := f.snapshot()
			f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
			f.run(c)
			got := map[string]time.Time{}
			for _, d := range open.Deadlines {
				got[d.Label()] = d.DueAt
			}
			for clock, due := range tc.want {
				at, ok := got[clock]
				require.True(t, ok, "no %s clock among %v", clock, got)
				require.True(t, due.Equal(at), "%s due %s, want %s", clock, at.In(shanghai), due.In(shanghai))
			}
		})
	}
}
