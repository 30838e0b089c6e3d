package systemtest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
)

var recordHistories = flag.Bool("record-histories", false,
	"write the histories of the lifecycle tests to workflows/testdata/histories/next for the replay test (make record-histories)")

// The six example cases of DOMAIN §7, by their externalId in demo/cases.json.
var demoCases = []string{
	"demo-restaurant-spicy-dish", "demo-smartwatch-doa", "demo-laptop-flicker",
	"demo-washing-machine-noise", "demo-damaged-parcel-promotion", "demo-unanswered-email",
}

// Each example case of DOMAIN §7 runs its whole life through the API: every
// department it is routed to investigates and reports, the customer accepts
// the proposal, the case closes upheld and the customer answers the survey.
func TestDemoCasesEndToEnd(t *testing.T) {
	base := liveAPI(t, quickPolicy)
	for _, id := range demoCases {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			ref := submitDemoAsNewCustomer(t, base, id, "systemtest-demo-"+id)
			depts := walkToClosing(t, base, ref)
			waitStatus(t, base, ref, complaint.StatusSurveyPending)
			answerSurvey(t, base, ref, 4, "Thank you")
			final := waitEnded(t, ref)
			if final.Status != complaint.StatusCompleted || final.Outcome != complaint.OutcomeUpheld ||
				final.Survey == nil || final.Survey.Score != 4 {
				t.Fatalf("final case: %s %s %+v", final.Status, final.Outcome, final.Survey)
			}
			record(t, sys, id, ref, depts...)
		})
	}
}

// submitDemo submits a DOMAIN §7 demo case under externalID and waits
// until it is acknowledged; it returns the reference.
func submitDemo(t *testing.T, base, demo, externalID string) string {
	t.Helper()
	return submitDemoBody(t, base, demo, demoCase(t, demo), externalID)
}

// submitDemoAsNewCustomer submits a demo case from a customer of its own
// (externalID names them): no other test's case makes it a repeat, nor it
// theirs.
func submitDemoAsNewCustomer(t *testing.T, base, demo, externalID string) string {
	t.Helper()
	body := demoCase(t, demo)
	customer := maps.Clone(body["customer"].(map[string]any))
	customer["id"] = externalID
	if _, ok := customer["email"]; ok {
		customer["email"] = externalID + "@example.com"
	}
	if _, ok := customer["phone"]; ok {
		sum := sha256.Sum256([]byte(externalID))
		customer["phone"] = fmt.Sprintf("+86 139 %08d", binary.BigEndian.Uint32(sum[:])%100000000)
	}
	body["customer"] = customer
	return submitDemoBody(t, base, demo, body, externalID)
}

func submitDemoBody(t *testing.T, base, demo string, body map[string]any, externalID string) string {
	t.Helper()
	body["externalId"] = externalID
	r := post(t, base, "/v1/complaints", body)
	if r.status != http.StatusCreated {
		t.Fatalf("intake of %s: %d %v", demo, r.status, r.body)
	}
	ref := r.body["reference"].(string)
	waitStatus(t, base, ref, complaint.StatusAcknowledged)
	return ref
}

// answerSurvey enters the customer's satisfaction, as a supervisor who had
// no hand in the case may.
func answerSurvey(t *testing.T, base, ref string, score int, comment string) {
	t.Helper()
	if r := post(t, base, "/v1/complaints/"+ref+"/surveyResponse", map[string]any{"score": score, "comment": comment},
		"Authorization", "Bearer "+sys.StaffToken); r.status != http.StatusOK {
		t.Fatalf("surveyResponse: %d %v", r.status, r.body)
	}
}

// walkToClosing takes an acknowledged case through its investigation, a
// proposal the customer accepts, and its closing; it returns the
// departments that investigated.
func walkToClosing(t *testing.T, base, ref string) []string {
	t.Helper()
	var depts []string
	for _, d := range caseOf(t, base, ref)["departments"].([]any) {
		depts = append(depts, d.(string))
	}
	if len(depts) == 0 {
		t.Fatalf("case %s is routed to no department", ref)
	}
	for _, d := range depts {
		task(t, base, ref, "startInvestigation", map[string]any{"department": d, "investigator": d + ".lead"}, http.StatusOK)
	}
	for _, d := range depts {
		task(t, base, ref, "submitFindings", map[string]any{"department": d, "findings": "Confirmed",
			"rootCause": "Process gap", "evidence": []string{"note-1"}}, http.StatusOK)
	}
	task(t, base, ref, "proposeResolution", map[string]any{"actions": []string{"Apologise", "Fix the cause"},
		"compensation": map[string]any{"kind": "voucher", "amount": "100", "currency": "CNY"},
		"message":      "We are sorry; here is what we will do."}, http.StatusOK)
	task(t, base, ref, "customerResponse", map[string]any{"accepted": true}, http.StatusOK)
	task(t, base, ref, "confirmResolved", map[string]any{"resolved": true}, http.StatusOK)
	task(t, base, ref, "close", map[string]any{"outcome": "upheld", "summary": "Resolved as agreed"}, http.StatusOK)
	return depts
}

// A case whose history grows past what the server suggests continues as
// new at rest, carrying its state; the next run finishes it. A server of
// its own, with a low suggestion, makes the history "long" after a few
// dozen events.
func TestContinueAsNewOnTheRealServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	// The main system's secrets: its staff tokens work on this one's API.
	s, err := Start(ctx, Options{Secrets: &sys.Secrets, TemporalDynamicConfig: map[string]string{
		"limit.historyCount.suggestContinueAsNew": "40",
	}})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	base := serveAPIOn(t, s, quickPolicy, waitReady)
	ref := submitDemo(t, base, "demo-washing-machine-noise", "systemtest-continue-as-new")
	for i := range 5 {
		task(t, base, ref, "addNote", map[string]any{"author": "agent.li", "text": fmt.Sprintf("Called back, try %d", i+1)},
			http.StatusOK)
	}
	depts := walkToClosing(t, base, ref)
	waitStatus(t, base, ref, complaint.StatusSurveyPending)
	answerSurvey(t, base, ref, 5, "")
	var final complaint.CaseView
	if err := s.Client.GetWorkflow(context.Background(), complaint.WorkflowID(ref), "").Get(context.Background(), &final); err != nil {
		t.Fatal(err)
	}
	if final.Status != complaint.StatusCompleted || final.Survey == nil || final.Survey.Score != 5 || len(final.Resolutions) != 1 {
		t.Fatalf("final case: %s %+v %d resolutions", final.Status, final.Survey, len(final.Resolutions))
	}
	runs := runsOf(t, s, complaint.WorkflowID(ref))
	if len(runs) < 2 {
		t.Fatalf("the case ran in %d run(s); it should have continued as new", len(runs))
	}
	// Every step the case took is in its state and in the audit trail,
	// whichever run took it.
	events, err := s.Store.Events(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(final.History) {
		t.Fatalf("%d audit events in the database, %d steps in the case", len(events), len(final.History))
	}
	record(t, s, "washer-continued-as-new", ref, depts...)
}

// runsOf lists the run IDs of a workflow, oldest first.
func runsOf(t *testing.T, s *System, id string) []string {
	t.Helper()
	var runs []string
	// A case ends at the end of its reopen window, up to a minute or two
	// after its closing under the tests' survey policies.
	EventuallyWithin(t, 3*time.Minute, "the runs of "+id+" in visibility", func() error {
		resp, err := s.RawClient.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: "default", Query: fmt.Sprintf("WorkflowId = %q AND ExecutionStatus != 'Running'", id),
		})
		if err != nil {
			return err
		}
		type run struct {
			id    string
			start time.Time
		}
		var rs []run
		for _, e := range resp.Executions {
			rs = append(rs, run{e.Execution.RunId, e.StartTime.AsTime()})
		}
		slices.SortFunc(rs, func(a, b run) int { return a.start.Compare(b.start) })
		runs = runs[:0]
		for _, r := range rs {
			runs = append(runs, r.id)
		}
		if len(runs) == 0 {
			return fmt.Errorf("no closed run yet")
		}
		return nil
	})
	return runs
}

// record writes the histories of a finished case (every run, when it
// continued as new) and of its department children for the replay test,
// when asked to with -record-histories.
func record(t *testing.T, s *System, name, ref string, depts ...string) {
	t.Helper()
	if !*recordHistories {
		return
	}
	dir := filepath.Join(RepoRoot(), "workflows", "testdata", "histories", "next")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	type execution struct{ id, run string }
	files := map[string]execution{}
	runs := runsOf(t, s, complaint.WorkflowID(ref))
	for i, run := range runs {
		file := name
		if len(runs) > 1 {
			file = fmt.Sprintf("%s.run%d", name, i+1)
		}
		files[file] = execution{complaint.WorkflowID(ref), run}
	}
	for _, d := range depts {
		files[name+".dept-"+d] = execution{complaint.DepartmentWorkflowID(ref, complaint.Department(d)), ""}
	}
	for file, e := range files {
		h, err := RunHistory(context.Background(), s.Client, e.id, e.run)
		if err != nil {
			t.Fatal(err)
		}
		// The replay test reads plain payloads: decrypt them first.
		if err := proxy.VisitPayloads(context.Background(), h, proxy.VisitPayloadsOptions{
			Visitor: func(_ *proxy.VisitPayloadsContext, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
				return codec.New(s.Keys).Decode(p)
			},
			SkipSearchAttributes: true,
		}); err != nil {
			t.Fatal(err)
		}
		data, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file+".json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
