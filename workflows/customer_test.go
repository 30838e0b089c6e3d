package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// The customer talks back (issue 25, INTERFACE.md `customerMessage`): an
// email reply or the status page's form reaches the case as an update whose
// id is the mail's Message-ID, so a redelivered mail is recorded once. The
// message ends a wait for the customer like customerReplied, tells the
// owner, and never changes the case's decision.

// messageWithID schedules customerMessage as an update with the given id.
func (f *fixture) messageWithID(updateID string, m complaint.CustomerMessage) *taskResult {
	return f.taskWithID(0, accept, complaint.TaskCustomerMessage, updateID, m)
}

func reply(id, text string) complaint.CustomerMessage {
	return complaint.CustomerMessage{Text: text, Original: text + "\n\n> earlier mail", MessageID: id, Via: "email",
		Attachments: []complaint.AttachmentRef{{ID: "att-1", Filename: "label.jpg", ContentType: "image/jpeg", Size: 2048}}}
}

func TestACustomerMessageIsRecordedOnceAndToldToTheOwner(t *testing.T) {
	f := setup(t)
	f.task(accept, complaint.TaskAssign, complaint.Assign{Owner: "agent.li", Reason: "Takes the desk's case"})
	const id = "<CAF1234@mail.example.com>"
	f.messageWithID(id, reply(id, "Here is the photo of the label."))
	f.messageWithID(id, reply(id, "Here is the photo of the label.")) // the same mail, redelivered
	f.signal(complaint.TaskCustomerMessage, reply(id, "Here is the photo of the label."))
	after := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	final := f.run(newCase(complaint.DeptAfterSales))

	require.Len(t, after.Messages, 1, "one mail, one message")
	m := after.Messages[0]
	require.Equal(t, "Here is the photo of the label.", m.Text)
	require.Contains(t, m.Original, "> earlier mail", "the original is kept")
	require.Equal(t, "email", m.Via)
	require.Equal(t, []complaint.AttachmentRef{{ID: "att-1", Filename: "label.jpg", ContentType: "image/jpeg", Size: 2048}},
		m.Attachments)
	require.Equal(t, 1, countOf(f.stepNames(), "customer_message"), "recorded once")
	require.Equal(t, 1, f.staffTo(complaint.StaffNoticeCustomerMessage, "agent.li"), "the owner is told once")
	require.Len(t, final.Messages, 1)
	for _, s := range f.steps {
		if s.Name == "customer_message" {
			require.Equal(t, "customer", s.Actor)
			require.NotContains(t, s.Summary, "photo", "the customer's words stay out of the audit trail")
		}
	}
}

func TestACustomerMessageResumesAClockPausedForTheCustomer(t *testing.T) {
	f := setup(t)
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, shanghai) // Monday
	f.env.SetStartTime(received)
	f.at = 0
	f.investigate(complaint.DeptAfterSales)
	// Waiting from Tuesday 10:00 to Thursday 10:00: two working days that do not count.
	f.after(day-4*time.Minute, func() {})
	f.task(accept, complaint.TaskWaitingOnCustomer, complaint.Reason{Reason: "Photos of the label, please"})
	waiting := f.snapshot()
	f.after(2*day, func() {})
	f.messageWithID("<photos@mail.example.com>", reply("<photos@mail.example.com>", "Photos attached"))
	resumed := f.snapshot()
	f.task(reject, complaint.TaskCustomerReplied, complaint.Reason{Reason: "already resumed"})
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(mediumCase(received, complaint.DeptAfterSales))

	require.Equal(t, complaint.ClockPaused, deadline(t, *waiting, "resolution").State)
	require.Empty(t, resumed.WaitingOnCustomer, "the customer's message ends the wait")
	require.Equal(t, "Photos of the label, please", resumed.Messages[0].ResumedWait)
	res := deadline(t, *resumed, "resolution")
	require.Equal(t, complaint.ClockRunning, res.State)
	// Two days paused (plus the minutes the test's steps take): Monday 30 Nov, as with customerReplied.
	require.Equal(t, time.Date(2026, 11, 30, 10, 0, 0, 0, shanghai).Truncate(time.Hour), res.DueAt.In(shanghai).Truncate(time.Hour))
	_, back := eventAt(f.slaEvents(), complaint.ClockResolution, "resumed", 0)
	require.True(t, back)
}

func TestACustomerMessageNeverDecidesTheProposal(t *testing.T) {
	f := setup(t)
	f.investigate(complaint.DeptAfterSales)
	f.task(accept, complaint.TaskProposeResolution, proposal("50"))
	f.messageWithID("<yes@mail.example.com>", complaint.CustomerMessage{Text: "Yes, I accept", MessageID: "<yes@mail.example.com>"})
	after := f.snapshot()
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	f.run(newCase(complaint.DeptAfterSales))

	require.Equal(t, complaint.StatusResolutionProposed, after.Status, "staff read it and act")
	require.Nil(t, after.Resolutions[0].Accepted)
	require.Len(t, after.Messages, 1)
}

func TestAnEmptyCustomerMessageIsRejected(t *testing.T) {
	f := setup(t)
	f.task(reject, complaint.TaskCustomerMessage, complaint.CustomerMessage{Text: "  "})
	f.task(accept, complaint.TaskWithdraw, complaint.Reason{Reason: "done"})
	final := f.run(newCase(complaint.DeptAfterSales))
	require.Empty(t, final.Messages)
}
