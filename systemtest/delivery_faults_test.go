package systemtest

import (
	"context"
	"fmt"
	"net/http"
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
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	w, err := sys.StartWorkerProcess(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Kill)

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
	w.Kill()
	release()

	// A new worker picks the activity up once its attempt times out (the
	// activity's start-to-close timeout, 30 s).
	if w, err = sys.StartWorkerProcess(ctx, addr); err != nil {
		t.Fatal(err)
	}
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
	events, err := sys.Store.Events(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]int{}
	for _, e := range events {
		steps[e.Step]++
	}
	if steps["acknowledged"] != 1 || len(events) != len(final.History) {
		t.Fatalf("audit trail %v against %d steps in the case", steps, len(final.History))
	}
	hooks := sys.Upstream.Events(ref)
	seen := map[string]bool{}
	for _, h := range hooks {
		if seen[h.ID] {
			t.Fatalf("webhook %s delivered twice", h.ID)
		}
		seen[h.ID] = true
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
