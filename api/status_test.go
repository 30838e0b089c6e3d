package api

import (
	"strings"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// The status page shows the customer only what was sent to them: a
// proposal above the compensation limit appears once a supervisor approved
// it (dated then), never while it waits or after a refusal; a withdrawal's
// reason, written by staff, is not shown as our message.
func TestTheStatusPageShowsOnlyWhatReachedTheCustomer(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	yes, no := true, false
	approvedAt := at.Add(3 * time.Hour)
	v := complaint.CaseView{Reference: "CMP-20261123-4F7K2Q", Status: complaint.StatusInvestigating,
		Resolutions: []complaint.Resolution{
			{Attempt: 1, Message: "A voucher of 50 CNY", ProposedAt: at},
			{Attempt: 2, Message: "A refund of 5000 CNY", ProposedAt: at.Add(time.Hour),
				Approval: &complaint.Approval{Limit: "500 CNY", RequestedAt: at.Add(time.Hour), Approved: &no, At: &approvedAt}},
			{Attempt: 3, Message: "A refund of 800 CNY", ProposedAt: at.Add(2 * time.Hour),
				Approval: &complaint.Approval{Limit: "500 CNY", RequestedAt: at.Add(2 * time.Hour), Approved: &yes, At: &approvedAt}},
			{Attempt: 4, Message: "A new machine and 3000 CNY", ProposedAt: at.Add(4 * time.Hour),
				Approval: &complaint.Approval{Limit: "500 CNY", RequestedAt: at.Add(4 * time.Hour)}},
		}}
	var texts []string
	for _, e := range caseStatusView(v, "en", at).Entries {
		texts = append(texts, e.At+" "+e.Text)
	}
	want := []string{"2026-11-23 17:00 A voucher of 50 CNY", "2026-11-23 20:00 A refund of 800 CNY"} // Shanghai time
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Errorf("the customer sees %q, want %q", texts, want)
	}

	closed := at.Add(5 * time.Hour)
	v = complaint.CaseView{Reference: "CMP-20261123-4F7K2Q", Status: complaint.StatusWithdrawn, ClosedAt: &closed,
		CloseSummary: "Customer rang, abusive; withdrawn per team lead"}
	if e := caseStatusView(v, "en", at).Entries; len(e) != 0 {
		t.Errorf("a withdrawn case shows staff's reason to the customer: %+v", e)
	}
}
