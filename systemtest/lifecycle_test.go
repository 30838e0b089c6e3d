package systemtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/api"
	"github.com/complaintdesk/complaintdesk/complaint"
)

// quickPolicy makes the two weeks to the survey and the thirty days of the
// reopen window pass in seconds on the real server. The survey waits 15 s
// for its answer: a test that answers it must see it pending first, which a
// busy machine's polls could miss in a shorter window.
func quickPolicy(c *api.Config) {
	c.Cases.SurveyDelay = 2 * time.Second
	c.Cases.SurveyReminder = 5 * time.Second
	c.Cases.SurveyExpiry = 15 * time.Second
	c.Cases.ReopenWindow = c.Cases.SurveyDelay + c.Cases.SurveyExpiry
}

// liveAPI serves a second API on this system with its own configuration.
func liveAPI(t *testing.T, mutate func(*api.Config)) string {
	t.Helper()
	return serveAPI(t, mutate, waitReady)
}

// task runs a human task through the API and expects status want. It
// behaves as the API asks its clients to: every call carries an
// Idempotency-Key, and a 503 (the case service busy: on this shared
// two-CPU machine a loaded worker can leave an update unanswered within
// REQUEST_TIMEOUT) is sent again with the same key, which applies the task
// at most once.
func task(t *testing.T, base, ref, name string, payload any, want int) response {
	t.Helper()
	key := rand.Text()
	send := func() response { return post(t, base, "/v1/complaints/"+ref+"/"+name, payload, "Idempotency-Key", key) }
	r := send()
	if want != http.StatusServiceUnavailable {
		r = againWhileBusy(t, name+" on "+ref+" (same Idempotency-Key)", r, send)
	}
	if r.status != want {
		t.Fatalf("%s: status %d, want %d: %v", name, r.status, want, r.body)
	}
	return r
}

// caseOf reads the case as the API gives it. Like task, it behaves as the
// API asks clients to: a 503 (a busy moment) is asked again, at most three
// times; any other answer than 200 fails the test with what the API said.
func caseOf(t *testing.T, base, ref string) map[string]any {
	t.Helper()
	read := func() response { return get(t, base, "/v1/complaints/"+ref) }
	r := againWhileBusy(t, "case "+ref, read(), read)
	if r.status != http.StatusOK {
		t.Fatalf("case %s: status %d: %v", ref, r.status, r.body)
	}
	return r.body
}

// againWhileBusy asks again while the API answers 503 (a busy moment), at
// most three times, pausing a little longer each time, and logs each retry.
func againWhileBusy(t *testing.T, what string, r response, again func() response) response {
	t.Helper()
	for try := 1; r.status == http.StatusServiceUnavailable && try <= 3; try++ {
		t.Logf("%s: 503 (%v); asking again", what, r.body["detail"])
		time.Sleep(time.Duration(try) * time.Second)
		r = again()
	}
	return r
}

func waitStatus(t *testing.T, base, ref string, status complaint.Status) {
	t.Helper()
	Eventually(t, "status "+string(status), func() error {
		g := get(t, base, "/v1/complaints/"+ref)
		if g.body["status"] != string(status) {
			return fmt.Errorf("status %v", g.body["status"])
		}
		return nil
	})
}

func waitEnded(t *testing.T, ref string) complaint.CaseView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var v complaint.CaseView
	if err := sys.Client.GetWorkflow(ctx, complaint.WorkflowID(ref), "").Get(ctx, &v); err != nil {
		t.Fatalf("case %s did not end: %v", ref, err)
	}
	return v
}

func TestSmartwatchCaseThroughTheAPIToTheEnd(t *testing.T) {
	base := liveAPI(t, quickPolicy)
	ref := submitDemo(t, base, "demo-smartwatch-doa", "systemtest-lifecycle-smartwatch")

	task(t, base, ref, "startInvestigation", map[string]any{"department": "product", "investigator": "product.lead"}, 200)
	task(t, base, ref, "startInvestigation", map[string]any{"department": "legal", "investigator": "x"}, 422)
	task(t, base, ref, "submitFindings", map[string]any{"department": "technical", "findings": "f", "rootCause": "r", "evidence": []string{}}, 409)
	task(t, base, ref, "startInvestigation", map[string]any{"department": "technical", "investigator": "tech.lead"}, 200)
	task(t, base, ref, "submitFindings", map[string]any{"department": "product", "findings": "Dead battery cell, batch 7",
		"rootCause": "Supplier QA gap", "evidence": []string{"QA-7781"}}, 200)
	proposal := map[string]any{"actions": []string{"Replace the watch"},
		"compensation": map[string]any{"kind": "voucher", "amount": "50", "currency": "CNY"}, "message": "Sorry"}
	task(t, base, ref, "proposeResolution", proposal, 409) // technical has not reported
	task(t, base, ref, "submitFindings", map[string]any{"department": "technical", "findings": "No firmware fault",
		"rootCause": "Hardware", "evidence": []string{"diag-log-1"}}, 200)
	task(t, base, ref, "proposeResolution", proposal, 200)
	task(t, base, ref, "customerResponse", map[string]any{"accepted": false, "comment": "I waited two days"}, 200)
	proposal["compensation"] = map[string]any{"kind": "voucher", "amount": "200", "currency": "CNY"}
	task(t, base, ref, "proposeResolution", proposal, 200)
	task(t, base, ref, "customerResponse", map[string]any{"accepted": true}, 200)
	task(t, base, ref, "customerResponse", map[string]any{"accepted": true}, 409)
	task(t, base, ref, "confirmResolved", map[string]any{"resolved": true, "comment": "The new watch works"}, 200)
	task(t, base, ref, "close", map[string]any{"outcome": "upheld", "summary": "Watch replaced, 200 CNY voucher"}, 200)
	waitStatus(t, base, ref, complaint.StatusSurveyPending)
	answerSurvey(t, base, ref, 5, "Fast in the end")
	final := waitEnded(t, ref)
	if final.Status != complaint.StatusCompleted || final.Outcome != complaint.OutcomeUpheld || final.Survey.Score != 5 {
		t.Fatalf("final case: %s %s %+v", final.Status, final.Outcome, final.Survey)
	}

	ctx := context.Background()
	row, err := sys.Store.Case(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if row.Status != complaint.StatusCompleted || row.Outcome == nil || *row.Outcome != "upheld" || row.ClosedAt == nil {
		t.Fatalf("archived record: %+v", row)
	}
	if n, err := sys.Store.ResolutionCount(ctx, ref); err != nil || n != 2 {
		t.Fatalf("%d resolutions recorded (%v), want 2", n, err)
	}
	surveys, err := sys.Store.Surveys(ctx, ref)
	if err != nil || len(surveys) != 1 || surveys[0].Score == nil || *surveys[0].Score != 5 ||
		surveys[0].Comment == nil || *surveys[0].Comment != "Fast in the end" {
		t.Fatalf("surveys %+v, %v", surveys, err)
	}
	events, err := sys.Store.Events(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(final.History); len(events) != want {
		t.Fatalf("%d audit events in the database, %d steps in the case", len(events), want)
	}
	record(t, sys, "smartwatch-api", ref, "product", "technical")
}

func TestWasherCaseBySignalsFromTheCLIWithDisputeAndReopen(t *testing.T) {
	base := liveAPI(t, quickPolicy)
	ref := submitDemo(t, base, "demo-washing-machine-noise", "systemtest-lifecycle-washer")

	signal := func(name, input string) {
		t.Helper()
		cli, err := TemporalCLI()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(cli, "workflow", "signal", "--address", sys.Temporal.Address(), "--namespace", "default",
			"--workflow-id", complaint.WorkflowID(ref), "--name", name, "--input", input)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("temporal workflow signal %s: %v\n%s", name, err, out)
		}
	}
	step := func(name, input string, want complaint.Status) {
		t.Helper()
		signal(name, input)
		waitStatus(t, base, ref, want)
	}
	signal("startInvestigation", `{"department":"logistics","investigator":"x"}`) // not on the case: ignored
	signal("addNote", `{"author":"a","text":"t","unknown":true}`)                 // unknown field: ignored
	signal("closee", `{"outcome":"upheld","summary":"t"}`)                        // no such task: dropped, the case still ends
	step("startInvestigation", `{"department":"after_sales","investigator":"tech.sun"}`, complaint.StatusInvestigating)
	signal("submitFindings", `{"department":"after_sales","findings":"Drum bearing worn","rootCause":"Bearing","evidence":["visit-1"]}`)
	step("proposeResolution", `{"actions":["Replace the bearing"],"compensation":{"kind":"repair"},"message":"We repair it"}`,
		complaint.StatusResolutionProposed)
	step("customerResponse", `{"accepted":false,"comment":"I want a new machine"}`, complaint.StatusInvestigating)
	step("escalateDispute", `{"stage":"negotiation","note":"Supervisor calls the customer"}`, complaint.StatusInDispute)
	signal("escalateDispute", `{"stage":"negotiation","note":"again"}`) // not forward: ignored
	step("escalateDispute", `{"stage":"mediation","note":"Neutral team with legal"}`, complaint.StatusInDispute)
	step("proposeResolution", `{"actions":["Replace the machine"],"compensation":{"kind":"replacement"},"message":"New machine"}`,
		complaint.StatusResolutionProposed)
	step("customerResponse", `{"accepted":true}`, complaint.StatusResolving)
	step("confirmResolved", `{"resolved":true}`, complaint.StatusResolving)
	step("close", `{"outcome":"upheld","summary":"Machine replaced after mediation"}`, complaint.StatusClosed)
	step("reopen", `{"reason":"The new machine leaks"}`, complaint.StatusInvestigating)
	step("startInvestigation", `{"department":"after_sales","investigator":"tech.sun"}`, complaint.StatusInvestigating)
	signal("submitFindings", `{"department":"after_sales","findings":"Hose loose","rootCause":"Installation","evidence":[]}`)
	Eventually(t, "findings of round 2", func() error {
		inv, _ := caseOf(t, base, ref)["investigation"].([]any)
		if len(inv) == 0 || inv[0].(map[string]any)["state"] != "reported" {
			return fmt.Errorf("after_sales: %v", inv)
		}
		return nil
	})
	// Upheld again only once the customer accepts this round's resolution
	// (DOMAIN §1.6): the closing rules answer 409 until then.
	task(t, base, ref, "close", map[string]any{"outcome": "upheld", "summary": "Hose fixed"}, 409)
	step("proposeResolution", `{"actions":["Fix the hose"],"compensation":{"kind":"repair"},"message":"We fix the hose"}`,
		complaint.StatusResolutionProposed)
	step("customerResponse", `{"accepted":true}`, complaint.StatusResolving)
	step("confirmResolved", `{"resolved":true}`, complaint.StatusResolving)
	step("close", `{"outcome":"upheld","summary":"Hose fixed"}`, complaint.StatusClosed)
	final := waitEnded(t, ref) // the survey expires unanswered, then the reopen window ends
	if final.Round != 2 || final.Status != complaint.StatusCompleted || !final.Survey.Expired || len(final.Dispute) != 2 {
		t.Fatalf("final case: round %d, %s, survey %+v, dispute %v", final.Round, final.Status, final.Survey, final.Dispute)
	}
	events, err := sys.Store.Events(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(final.History) {
		t.Fatalf("%d audit events in the database, %d steps in the case", len(events), len(final.History))
	}
	record(t, sys, "washer-signals-dispute-reopen", ref, "after_sales")
}

func TestWithdrawnMidInvestigation(t *testing.T) {
	body := demoCase(t, "demo-laptop-flicker")
	body["externalId"] = "systemtest-lifecycle-laptop"
	r := post(t, sys.APIURL, "/v1/complaints", body)
	ref := r.body["reference"].(string)
	waitStatus(t, sys.APIURL, ref, complaint.StatusAcknowledged)
	task(t, sys.APIURL, ref, "startInvestigation", map[string]any{"department": "product", "investigator": "p"}, 200)
	task(t, sys.APIURL, ref, "withdraw", map[string]any{"reason": "Returned the laptop to the shop"}, 200)
	final := waitEnded(t, ref)
	if final.Status != complaint.StatusWithdrawn {
		t.Fatalf("status %s", final.Status)
	}
	record(t, sys, "laptop-withdrawn", ref)
}
