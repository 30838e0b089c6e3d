package systemtest

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
	"github.com/complaintdesk/complaintdesk/store"
)

// The worker dies (SIGKILL) while the mail server holds its reply to the
// acknowledgement. The message was not accepted, so the next worker sends it
// again — and the customer ends up with it once, as with every other
// message, and the audit trail and the shop's webhooks hold no repeat.
func TestWorkerKilledMidSendDeliversEachMessageOnce(t *testing.T) {
	ctx := context.Background()
	w := killableWorker(t)

	const email = "killed.worker@example.com"
	reached, release := sys.Mailbox.Hold(mailbox.To(email))
	defer release()
	body := demoCase(t, "demo-smartwatch-doa")
	body["externalId"], body["source"] = "systemtest-worker-killed-mid-send", UpstreamSystem
	// A customer of its own: the same customer again would make a repeat complaint.
	body["customer"] = map[string]any{"id": "killed-worker-customer", "name": "Liu Yang", "email": email, "language": "en"}
	r := post(t, sys.APIURL, "/v1/complaints", body)
	if r.status != http.StatusCreated {
		t.Fatalf("intake: %d %v", r.status, r.body)
	}
	ref := r.body["reference"].(string)
	select {
	case <-reached:
	case <-time.After(time.Minute):
		t.Fatal("the acknowledgement never reached the mail server")
	}
	w.kill()
	release()

	// A new worker picks the activity up once its attempt times out (the
	// activity's start-to-close timeout, 30 s).
	w.restart()
	EventuallyWithin(t, 2*time.Minute, "the acknowledgement, sent again", func() error {
		if n := len(sys.Mailbox.Messages(mailbox.To(email))); n != 1 {
			return fmt.Errorf("%d messages", n)
		}
		return nil
	})
	task(t, sys.APIURL, ref, "startInvestigation", map[string]any{"department": "product", "investigator": "p"}, 200)
	Eventually(t, "the investigation notice", func() error {
		if n := len(sys.Mailbox.Messages(mailbox.To(email))); n != 2 {
			return fmt.Errorf("%d messages", n)
		}
		return nil
	})
	task(t, sys.APIURL, ref, "withdraw", map[string]any{"reason": "done"}, 200)
	final := waitEnded(t, ref)
	if final.Status != complaint.StatusWithdrawn {
		t.Fatalf("status %s", final.Status)
	}

	mails := sys.Mailbox.Messages(mailbox.To(email))
	if len(mails) != 2 || mails[0].MessageID == mails[1].MessageID {
		t.Fatalf("the customer got %v", subjects(mails))
	}
	events := assertAuditMatches(t, ref, final)
	steps := map[string]int{}
	for _, e := range events {
		steps[e.Step]++
	}
	if steps["acknowledged"] != 1 || len(events) != len(final.History) {
		t.Fatalf("audit trail %v against %d steps in the case", steps, len(final.History))
	}
	hooks := sys.Upstream.Events(ref)
	if twice := sys.Upstream.Repeated(ref); len(twice) > 0 {
		t.Fatalf("webhooks delivered more than once: %v", twice)
	}
	if len(hooks) != len(events) {
		t.Fatalf("%d webhooks for %d audit events", len(hooks), len(events))
	}
	ds, err := sys.Store.Deliveries(ctx, store.DeliveryFilter{Reference: ref, Channel: "email"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Kind == "acknowledgement" && (d.Status != store.DeliverySent || d.Attempts < 2) {
			t.Fatalf("acknowledgement delivery: %+v", d)
		}
	}
}

// workerProcess is a bin/worker process a test can kill and start again.
type workerProcess struct {
	t    *testing.T
	addr string
	mu   sync.Mutex
	proc *devenv.Process
}

// killableWorker stands a worker process in for the in-process worker
// until the test ends.
func killableWorker(t *testing.T) *workerProcess {
	t.Helper()
	if err := sys.StopWorker(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sys.StartWorker(context.Background()); err != nil {
			t.Errorf("restart the in-process worker: %v", err)
		}
	})
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	w := &workerProcess{t: t, addr: fmt.Sprintf("127.0.0.1:%d", port)}
	w.restart()
	t.Cleanup(w.kill)
	return w
}

// kill ends the worker with SIGKILL: no graceful stop, tasks in hand lost.
func (w *workerProcess) kill() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.proc != nil {
		w.proc.Kill()
		w.proc = nil
	}
}

// restart starts a worker process and waits until it polls.
func (w *workerProcess) restart() {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, err := sys.StartWorkerProcess(context.Background(), w.addr)
	if err != nil {
		w.t.Errorf("start a worker: %v", err)
		return
	}
	w.proc = p
}
