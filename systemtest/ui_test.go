package systemtest

import (
	"context"
	"net/url"
	"testing"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/systemtest/browser"
)

type uiPage struct {
	Name      string   `json:"name"`
	URL       string   `json:"url"`
	Expect    []string `json:"expect"`
	Click     []string `json:"click,omitempty"`
	TimeoutMs int      `json:"timeoutMs,omitempty"`
}

type uiResult struct {
	Name  string          `json:"name"`
	Found map[string]bool `json:"found"`
	Text  string          `json:"text"`
}

// checkUI opens the pages in headless Chromium (systemtest/ui) and fails the
// test for every expected text a page does not show.
func checkUI(t *testing.T, pages ...uiPage) {
	t.Helper()
	var results []uiResult
	shots := browser.Run(t, "check-ui.mjs", "CHECKS", map[string]any{"pages": pages}, &results)
	for _, r := range results {
		for text, ok := range r.Found {
			if !ok {
				t.Errorf("page %s does not show %q; it shows:\n%.3000s", r.Name, text, r.Text)
			}
		}
	}
	if t.Failed() {
		browser.KeepScreenshots(t, shots)
	}
}

func TestOperatorSeesTheCaseInTheTemporalUI(t *testing.T) {
	ui := sys.Temporal.UIURL()
	if ui == "" {
		t.Fatal("the test system runs without the Web UI")
	}
	// One case just acknowledged, one closed and waiting for its survey.
	fresh := demoCase(t, "demo-damaged-parcel-promotion")
	fresh["externalId"] = "systemtest-ui-parcel"
	acked := post(t, sys.APIURL, "/v1/complaints", fresh).body["reference"].(string)
	body := demoCase(t, "demo-washing-machine-noise")
	body["externalId"] = "systemtest-ui-washer"
	ref := post(t, sys.APIURL, "/v1/complaints", body).body["reference"].(string)
	waitStatus(t, sys.APIURL, ref, complaint.StatusAcknowledged)
	waitStatus(t, sys.APIURL, acked, complaint.StatusAcknowledged)
	task(t, sys.APIURL, ref, "startInvestigation", map[string]any{"department": "after_sales", "investigator": "tech.sun"}, 200)
	task(t, sys.APIURL, ref, "submitFindings", map[string]any{"department": "after_sales", "findings": "Bearing worn",
		"rootCause": "Bearing", "evidence": []string{}}, 200)
	task(t, sys.APIURL, ref, "close", map[string]any{"outcome": "rejected", "summary": "Within tolerance"}, 200)

	desc, err := sys.Client.DescribeWorkflowExecution(context.Background(), complaint.WorkflowID(ref), "")
	if err != nil {
		t.Fatal(err)
	}
	runID := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	list := func(status string) string {
		return ui + "/namespaces/default/workflows?query=" + url.QueryEscape("ComplaintStatus=\""+status+"\"")
	}
	page := ui + "/namespaces/default/workflows/" + url.PathEscape(complaint.WorkflowID(ref)) + "/" + runID + "/history"
	checkUI(t,
		uiPage{Name: "acknowledged", URL: list("acknowledged"), Expect: []string{complaint.WorkflowID(acked)}},
		uiPage{Name: "closed", URL: list("closed"), Expect: []string{complaint.WorkflowID(ref)}},
		// The User Metadata tab gathers what an operator reads about a case:
		// its summary and details, its current details, and every activity
		// and timer with its summary.
		uiPage{Name: "case-metadata", URL: page, Click: []string{"User Metadata"}, Expect: []string{
			ref + " · after_sales · medium priority · via phone", // static summary
			"Satisfaction survey at",                             // the named survey timer
			"Send the customer the closing_summary",              // an activity summary
			"Routed to: after_sales",                             // static details
			"Outcome:",                                           // current details
			"Within tolerance",                                   // current details: the closing summary... or history
			"satisfaction survey two",                            // current details: the next step
		}},
		// The workflow's input is encrypted in Temporal; the UI decodes it
		// through the API's codec server, so the operator reads the customer.
		uiPage{Name: "case-input", URL: page, Expect: []string{"Wang Min", "+86 139 0000 6001"}},
	)
}
