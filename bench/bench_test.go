package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// The bench, small, against the real servers it starts: every measurement
// runs and lands in the JSON. No figure is judged by its speed; the cost of
// the happy-path case is a count, and must not grow unnoticed.
func TestBenchRunsEveryMeasurement(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL, the Temporal dev server and a worker process")
	}
	out := filepath.Join(t.TempDir(), "bench.json")
	var printed bytes.Buffer
	profiles := t.TempDir()
	cfg := Config{Form: "dev", Out: out, Requests: 20, Concurrency: 4, Deadlines: []int{10}, DeadlineLead: 30 * time.Second,
		MemoryCases: 20, ReportCases: 2000, ReportRuns: 2, ReportSeed: 7, BurstProfiles: profiles}
	if _, err := Run(context.Background(), cfg, &printed); err != nil {
		t.Fatalf("%v\n%s", err, printed.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	switch {
	case r.Intake == nil || r.Intake.RawLatency.Count != 20 || r.Intake.APILatency.Count != 20 || r.Intake.Errors != 0:
		t.Errorf("intake: %+v", r.Intake)
	case r.Cost == nil || r.Cost.ByStep["intake"] == nil || r.Cost.ByStep["surveyResponse"] == nil:
		t.Errorf("cost: %+v", r.Cost)
	case r.Cost.Actions > 45:
		t.Errorf("the happy-path case costs %d actions, at most 45 in the README's figures: %v", r.Cost.Actions, r.Cost.ByKind)
	case r.Intake == nil || r.Intake.FloorLatency.Count != 20 || r.Intake.FloorPerSecond <= 0:
		t.Errorf("intake floor: %+v", r.Intake)
	case r.Intake.InProcessLatency.Count != 20 || r.Intake.KeyClaimLatency.Count != 20 ||
		r.Intake.KeyClaimLatency.P50ms > r.Intake.InProcessLatency.P99ms:
		t.Errorf("intake breakdown: in process %+v, key claim %+v", r.Intake.InProcessLatency, r.Intake.KeyClaimLatency)
	case runtime.GOOS == "linux" && (r.Intake.FloorCPU["Temporal"] <= 0 || r.Intake.APICPU["Temporal"] <= 0 ||
		r.Intake.APICPU["bench process"] <= 0):
		t.Errorf("intake's CPU by process: floor %v, ours %v", r.Intake.FloorCPU, r.Intake.APICPU)
	case len(r.Deadlines) != 1 || r.Deadlines[0].Floor.Count != 10 || r.Deadlines[0].Breach.Count != 10 ||
		r.Deadlines[0].Notice.Count != 10 || r.Deadlines[0].P99Ratio <= 0:
		t.Errorf("deadlines: %+v", r.Deadlines)
	case runtime.GOOS == "linux" && (r.Deadlines[0].FloorCPU["Temporal"] <= 0 || r.Deadlines[0].BreachCPU["Temporal"] <= 0 ||
		r.Deadlines[0].BreachCPU["bench process"] <= 0):
		t.Errorf("a burst's CPU by process: floor %v, ours %v", r.Deadlines[0].FloorCPU, r.Deadlines[0].BreachCPU)
	case r.Deadlines[0].Cache == nil || r.Deadlines[0].Cache.Hits+r.Deadlines[0].Cache.Misses == 0:
		// Ten cases on an idle worker: their breaches' tasks go to the worker
		// that holds them, and the SDK counts each as found or reloaded.
		t.Errorf("a burst's cache counts: %+v", r.Deadlines[0].Cache)
	case r.Memory == nil || r.Memory.RSSMB <= 0:
		t.Errorf("memory: %+v", r.Memory)
	case r.Reports == nil || r.Reports.Cases != 2000 || len(r.Reports.Queries) != 21:
		t.Errorf("reports: %+v", r.Reports)
	}
	for _, name := range []string{"floor-10.pprof", "breach-10.pprof"} {
		if st, err := os.Stat(filepath.Join(profiles, name)); err != nil || st.Size() == 0 {
			t.Errorf("the burst's CPU profile %s: %v", name, err)
		}
	}
	if t.Failed() {
		t.Log(printed.String())
	}
}
