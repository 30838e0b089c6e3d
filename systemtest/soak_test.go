package systemtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
	"github.com/complaintdesk/complaintdesk/store"
)

// The soak drives many cases at once along random paths while the worker
// is killed (SIGKILL) and the shop's webhook endpoint falters, then checks
// the invariants of every case: its record agrees with the workflow, every
// step is in the audit trail once, and every message reached its recipient
// once. SOAK_CASES, SOAK_KILLS and SOAK_SEED size and replay it (`make soak`
// runs a larger one).
func TestSoakWithFaults(t *testing.T) {
	cases, kills := envInt(t, "SOAK_CASES", 16), envInt(t, "SOAK_KILLS", 1)
	seed := uint64(envInt(t, "SOAK_SEED", int(time.Now().UnixNano()%1_000_000)))
	t.Logf("soak: %d cases, %d worker kills, seed %d", cases, kills, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	base := liveAPI(t, quickPolicy)

	w := killableWorker(t)

	paths := make([]string, cases)
	for i := range paths {
		paths[i] = []string{"happy", "happy", "rejected-once", "withdrawn-mid", "withdrawn-at-once"}[rng.IntN(5)]
	}
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		for k := range kills {
			time.Sleep(time.Duration(3+rng.IntN(5)) * time.Second)
			// Two refusals: fewer than the three tries a case's first
			// webhook gets (registration waits for it), so every delivery
			// still lands and the invariants below can demand it.
			sys.Upstream.Fail(http.StatusServiceUnavailable, 2)
			w.kill()
			t.Logf("fault %d: worker killed", k+1)
			w.restart()
		}
	}()

	refs := make([]string, cases)
	var wg sync.WaitGroup
	for i, path := range paths {
		wg.Go(func() { refs[i] = driveCase(t, base, i, seed, path) })
	}
	wg.Wait()
	<-faultsDone

	for i, ref := range refs {
		if ref == "" {
			continue // its driver failed and said why
		}
		checkCaseInvariants(t, ref, soakEmail(seed, i), paths[i], kills)
	}
}

func soakEmail(seed uint64, i int) string { return fmt.Sprintf("soak-%d-%d@example.com", seed, i) }

// driveCase submits one case and takes it along path, retrying each call
// with its Idempotency-Key as a client would.
func driveCase(t *testing.T, base string, i int, seed uint64, path string) string {
	body := demoCase(t, "demo-washing-machine-noise")
	body["externalId"], body["source"] = fmt.Sprintf("soak-%d-%d", seed, i), UpstreamSystem
	body["customer"] = map[string]any{"id": fmt.Sprintf("soak-%d-%d", seed, i), "name": "Soak Test",
		"email": soakEmail(seed, i), "language": []string{"zh", "en"}[i%2]}
	res, err := retryingCall(base+"/v1/complaints", body, fmt.Sprintf("soak-%d-%d-intake", seed, i))
	if err != nil {
		t.Errorf("case %d: intake: %v", i, err)
		return ""
	}
	ref := res["reference"].(string)
	step := func(task string, payload map[string]any) bool {
		if _, err := retryingCall(base+"/v1/complaints/"+ref+"/"+task, payload, ref+"-"+task+"-"+fmt.Sprint(payload)); err != nil {
			t.Errorf("case %s (%s): %s: %v", ref, path, task, err)
			return false
		}
		return true
	}
	start := map[string]any{"department": "after_sales", "investigator": "tech.sun"}
	findings := map[string]any{"department": "after_sales", "findings": "Bearing", "rootCause": "Wear", "evidence": []string{}}
	proposal := func(amount string) map[string]any {
		return map[string]any{"actions": []string{"Repair"}, "message": "We repair it",
			"compensation": map[string]any{"kind": "voucher", "amount": amount, "currency": "CNY"}}
	}
	ok := true
	switch path {
	case "withdrawn-at-once":
		ok = step("withdraw", map[string]any{"reason": "Solved myself"})
	case "withdrawn-mid":
		ok = step("startInvestigation", start) && step("withdraw", map[string]any{"reason": "Bought a new one"})
	case "happy", "rejected-once":
		ok = step("startInvestigation", start) && step("submitFindings", findings) && step("proposeResolution", proposal("50"))
		if ok && path == "rejected-once" {
			ok = step("customerResponse", map[string]any{"accepted": false, "comment": "Too little"}) &&
				step("proposeResolution", proposal("200"))
		}
		ok = ok && step("customerResponse", map[string]any{"accepted": true}) &&
			step("confirmResolved", map[string]any{"resolved": true}) &&
			step("close", map[string]any{"outcome": "upheld", "summary": "Repaired"})
	}
	if !ok {
		return ""
	}
	return ref
}

// retryingCall POSTs body until the API answers 2xx or something a retry
// cannot mend, for up to three minutes (a task waits for a worker that
// was killed to be replaced and for its activity to time out).
func retryingCall(url string, body any, key string) (map[string]any, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		req.Header.Set("Authorization", "Bearer "+sys.AdminToken)
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		var out map[string]any
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			switch {
			case resp.StatusCode < 300:
				return out, nil
			case resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusGatewayTimeout:
				return nil, fmt.Errorf("%d %v", resp.StatusCode, out)
			}
			err = fmt.Errorf("%d %v", resp.StatusCode, out)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("still failing after retries: %w", err)
		}
		time.Sleep(time.Second)
	}
}

// checkCaseInvariants waits for the case to end, then checks it against the
// database, the mailbox and the shop.
//
// An email can reach the mailbox twice in one way only, which no sender can
// rule out: the worker is killed after the server accepted the message and
// before the delivery row says so, and the next worker sends it again with
// the same Message-ID (which mail clients collapse). So each kill may add
// one repeat of a message, always with its Message-ID; kills=0 demands
// exactly one copy.
func checkCaseInvariants(t *testing.T, ref, email, path string, kills int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var final complaint.CaseView
	if err := sys.Client.GetWorkflow(ctx, complaint.WorkflowID(ref), "").Get(ctx, &final); err != nil {
		t.Errorf("%s (%s) did not end: %v", ref, path, err)
		return
	}
	want := map[string]complaint.Status{"happy": complaint.StatusCompleted, "rejected-once": complaint.StatusCompleted,
		"withdrawn-mid": complaint.StatusWithdrawn, "withdrawn-at-once": complaint.StatusWithdrawn}[path]
	if final.Status != want {
		t.Errorf("%s (%s) ended %s, want %s", ref, path, final.Status, want)
	}
	// The record agrees with the workflow, step for step.
	events := assertAuditMatches(t, ref, final)
	Eventually(t, "the record of "+ref, func() error {
		row, err := sys.Store.Case(ctx, ref)
		if err == nil && row.Status != final.Status {
			err = fmt.Errorf("record %s, case %s", row.Status, final.Status)
		}
		return err
	})
	// Every message went out once: each sent email is in the mailbox once,
	// and the mailbox holds nothing else for this customer.
	ds, err := sys.Store.Deliveries(ctx, store.DeliveryFilter{Reference: ref, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	mails := map[string]int{}
	for _, m := range sys.Mailbox.Messages(mailbox.To(email)) {
		mails[m.MessageID]++
	}
	hooks := map[string]int{}
	for _, h := range sys.Upstream.Events(ref) {
		hooks[h.ID]++
	}
	sentMails, sentHooks := 0, 0
	for _, d := range ds {
		switch {
		case d.Status != store.DeliverySent:
			t.Errorf("%s: delivery %s is %s (%s)", ref, d.ID, d.Status, d.LastError)
		case d.Channel == "email":
			sentMails++
			switch id := strings.ReplaceAll(d.ID, "/", ".") + "@complaintdesk.local"; {
			case mails[id] < 1 || mails[id] > 1+kills:
				t.Errorf("%s: %s reached the mailbox %d times (%d worker kills)", ref, id, mails[id], kills)
			case mails[id] > 1:
				t.Logf("%s: %s reached the mailbox %d times, the repeat of a send a kill cut short", ref, id, mails[id])
			}
		case d.Channel == "webhook":
			sentHooks++
			// The same gap, the same bound: a repeat carries the same
			// Webhook-Id, which the shop drops (README, webhooks).
			if n := hooks[strings.TrimSuffix(d.ID, "/webhook")]; n < 1 || n > 1+kills {
				t.Errorf("%s: webhook %s reached the shop %d times (%d worker kills)", ref, d.ID, n, kills)
			}
		}
	}
	if len(mails) != sentMails || len(hooks) != sentHooks {
		t.Errorf("%s: %d emails and %d webhooks received, %d and %d recorded as sent", ref, len(mails), len(hooks),
			sentMails, sentHooks)
	}
	if sentHooks != len(events) {
		t.Errorf("%s: %d webhooks for %d audit rows", ref, sentHooks, len(events))
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}
