package bench

import (
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// A smartwatch case recorded by the system tests during development (kept
// in testdata, its count checked by hand): two departments, a
// rejected and an accepted proposal, the close and the survey. Its billable
// events, counted by hand in the JSON: 1 start, 2 child starts (2 actions
// each), 15 activities, 6 timers, 4 signals to the children, 10 updates,
// 11 search-attribute upserts and the TemporalChangeVersion one (exempt),
// 1 marker.
func TestCountActionsOfRecordedCase(t *testing.T) {
	r := countRecorded(t, filepath.Join("testdata", "hand-counted-smartwatch"))
	if r.Actions != 52 || r.Events != 237 {
		t.Errorf("counted %d actions, %d events; want 52, 237", r.Actions, r.Events)
	}
	want := map[string]int{"workflow start": 1, "child workflow start": 4, "activity": 15, "timer": 6, "signal": 4,
		"update": 10, "search attribute upsert": 11, "marker": 1}
	for kind, n := range want {
		if r.ByKind[kind] != n {
			t.Errorf("%s: %d, want %d", kind, r.ByKind[kind], n)
		}
	}
	// Each department task is its update and the signal forwarding it to
	// the child; the survey is the timer's step with its activity.
	step := func(name string) StepCost {
		if sc := r.ByStep[name]; sc != nil {
			return *sc
		}
		t.Fatalf("no step %q in %v", name, stepsInOrder(r.ByStep))
		return StepCost{}
	}
	if s := step("startInvestigation"); s.ByKind["update"] != 2 || s.ByKind["signal"] != 2 || s.ByKind["activity"] != 2 {
		t.Errorf("startInvestigation: %v", s.ByKind)
	}
	if s := step("Satisfaction survey"); s.ByKind["activity"] != 1 || s.ByKind["timer"] != 1 {
		t.Errorf("the survey: %v", s.ByKind)
	}
	if s := step("intake"); s.ByKind["workflow start"] != 1 || s.ByKind["marker"] != 1 {
		t.Errorf("intake: %v", s.ByKind)
	}
	if s := step("dept-product (child): start"); s.Actions != 0 || s.Events == 0 {
		t.Errorf("a child's start is billed to its parent: %+v", s)
	}
}

// countRecorded counts a recorded case and its two departments' children,
// by the path of the case's history less ".json".
func countRecorded(t *testing.T, path string) CostResult {
	t.Helper()
	r := newCostResult()
	for _, f := range []struct{ suffix, child string }{
		{"", ""}, {".dept-product", "dept-product"}, {".dept-technical", "dept-technical"},
	} {
		data, err := os.Open(path + f.suffix + ".json")
		if err != nil {
			t.Fatal(err)
		}
		h, err := client.HistoryFromJSON(data, client.HistoryJSONOptions{})
		data.Close()
		if err != nil {
			t.Fatal(err)
		}
		countActions(h.GetEvents(), f.child, converter.GetDefaultDataConverter(), &r)
	}
	return r
}

// The same case today (make record-histories): registered and
// acknowledged in one (local) activity, each department's child started with its
// investigation instead of told of it by a signal, the resolution carried
// out by its step's activity, the clock watcher's timer kept when a clock
// is met, and no version marker. An administrator entered it for the social-media agent it
// names as its first contact: the handover to them is recorded by the
// registration's activity, in its first task's one upsert (the owner);
// until 2026-12-01 it was an activity and an upsert of its own, two
// actions more. Since the follow-ups the customer confirms the fix before
// the closing: one update, its activity and its upsert more. The registration is a local activity
// in the first workflow task: a marker, not an activity, the same one action.
func TestCountActionsOfTodaysCase(t *testing.T) {
	old := countRecorded(t, filepath.Join("testdata", "hand-counted-smartwatch"))
	r := countRecorded(t, filepath.Join("..", "workflows", "testdata", "histories", "next", "smartwatch-api"))
	if r.Actions != 48 || old.Actions-r.Actions != 4 {
		t.Errorf("counted %d actions (before: %d); want 48, 4 fewer", r.Actions, old.Actions)
	}
	if r.ByKind["signal"] != 2 || r.ByKind["activity"] != 13 || r.ByKind["search attribute upsert"] != 12 ||
		r.ByKind["timer"] != 4 || r.ByKind["marker"] != 1 {
		t.Errorf("by kind: %v", r.ByKind)
	}
	if s := r.ByStep["submitFindings"]; s == nil || s.ByKind["signal"] != 2 {
		t.Errorf("submitFindings: %+v; want both signals, the findings forwarded to the children", s)
	}
}

// A case recorded during development wrote five version markers in its
// first workflow task: one action, as Temporal Cloud counts a task's markers.
func TestMarkersOfOneWorkflowTaskAreOneAction(t *testing.T) {
	data, err := os.Open(filepath.Join("testdata", "five-markers-in-one-task.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	h, err := client.HistoryFromJSON(data, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := newCostResult()
	countActions(h.GetEvents(), "", converter.GetDefaultDataConverter(), &r)
	if r.ByKind["marker"] != 1 {
		t.Errorf("five markers in one task counted as %d actions", r.ByKind["marker"])
	}
}
