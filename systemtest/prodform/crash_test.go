package prodform

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
	"github.com/complaintdesk/complaintdesk/systemtest"
)

// An operator's bad day: a worker, an API replica, the Temporal server and
// the application's PostgreSQL each die by SIGKILL, one at a time, while
// cases arrive through nginx. Nobody restarts them by hand: the production
// form's own supervision (make prod's) brings each back while the rest keep
// running. Every case submitted during an outage is acknowledged — a call
// refused meanwhile is retried by its client with the same Idempotency-Key
// and meets the same case — and each customer hears of it exactly once.
func TestProductionFormSurvivesEachProcessKilled(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 12*time.Minute)
	defer cancel()
	form := startForm(ctx, t)
	base := form.APIURL()
	// Three cases per outage: enough to meet it on two CPUs.
	const perOutage = 3
	var (
		mu    sync.Mutex
		cases []submitted
	)
	var retried atomic.Int64
	for _, victim := range []string{devenv.WorkerName(0), devenv.APIName(0), "temporal-server", "app-db"} {
		before := map[string]int{}
		for _, p := range form.Processes() {
			before[p.Name] = p.Pid()
		}
		old := form.Process(victim)
		old.Kill() // SIGKILL, and reaped
		t.Logf("killed %s (pid %d)", victim, old.Pid())

		var wg sync.WaitGroup
		for i := range perOutage {
			wg.Go(func() {
				email := fmt.Sprintf("crash-%s-%d@example.com", victim, i)
				body := demoCase(t, "demo-washing-machine-noise")
				body["externalId"] = fmt.Sprintf("prodform-crash-%s-%d", victim, i)
				body["customer"] = map[string]any{"id": "crash-" + email, "name": "Crash Test", "email": email, "language": "en"}
				r, err := systemtest.PostRetrying(ctx, base, form.AdminToken, "/v1/complaints", body, "crash-"+email, &retried)
				if err != nil {
					t.Errorf("%s's outage, case %d: %v", victim, i, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				cases = append(cases, submitted{r["reference"].(string), email})
			})
		}
		back, err := form.WaitRunning(ctx, victim, old)
		if err != nil {
			t.Fatalf("%s did not come back: %v\n%s", victim, err, form.LogTail(victim, 2<<10))
		}
		t.Logf("%s back (pid %d)", victim, back.Pid())
		wg.Wait()
		if n := form.Restarts(victim); n != 1 {
			t.Errorf("%s restarted %d times, want once", victim, n)
		}
		// An application process's death leaves everything else as it was.
		if victim == devenv.WorkerName(0) || victim == devenv.APIName(0) {
			for _, p := range form.Processes() {
				if p.Name != victim && before[p.Name] != p.Pid() {
					t.Errorf("%s changed (pid %d, was %d) when %s died", p.Name, p.Pid(), before[p.Name], victim)
				}
			}
		}
	}
	t.Logf("%d calls needed a retry", retried.Load())
	if len(cases) != 4*perOutage {
		t.Fatalf("%d cases submitted, want %d", len(cases), 4*perOutage)
	}

	for _, c := range cases {
		// The record says so once the acknowledging step has run.
		systemtest.EventuallyWithin(t, 3*time.Minute, c.ref+" recorded as acknowledged", func() error {
			row, err := form.Store.Case(ctx, c.ref)
			if err == nil && row.Status != complaint.StatusAcknowledged {
				err = fmt.Errorf("status %s", row.Status)
			}
			return err
		})
		systemtest.Eventually(t, "the acknowledgement to "+c.email, func() error {
			if n := len(acknowledgements(form.Mailbox, c)); n == 0 {
				return fmt.Errorf("none yet")
			}
			return nil
		})
	}
	// Every process is up; nothing is left to retry. Each customer has one
	// acknowledgement, and no other message.
	for _, c := range cases {
		if got := form.Mailbox.Messages(mailbox.To(c.email)); len(got) != 1 || len(acknowledgements(form.Mailbox, c)) != 1 {
			var subjects []string
			for _, m := range got {
				subjects = append(subjects, m.Subject)
			}
			t.Errorf("%s (%s) got %q, want one acknowledgement", c.email, c.ref, subjects)
		}
	}
}

// submitted is a case and its customer's address.
type submitted struct{ ref, email string }

// acknowledgements are the messages to the case's customer that
// acknowledge it.
func acknowledgements(mb *mailbox.Server, c submitted) []mailbox.Message {
	var out []mailbox.Message
	for _, m := range mb.Messages(mailbox.To(c.email)) {
		if strings.HasPrefix(m.Subject, "We have received") && strings.Contains(m.Subject, c.ref) {
			out = append(out, m)
		}
	}
	return out
}
