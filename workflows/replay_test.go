package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// The histories under testdata/histories/<release>/ were recorded from the
// real dev server by `make record-histories`; next/ holds those of the code
// as it is, each released version's folder those of that release. Replaying
// them all with today's code fails on any change that running cases could
// not survive. Until the first release the workflow changes freely and
// next/ is recorded again; from then on such a change is guarded (see the
// README, "Changing a running case").
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The six DOMAIN §7 cases, the API, signals-only, withdrawn and
	// continued-as-new cases, each with its departments.
	if len(files) < 10 {
		t.Fatalf("found %d recorded histories; record them with make record-histories", len(files))
	}
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		Interceptors: []interceptor.WorkerInterceptor{SignalOrder()},
	})
	if err != nil {
		t.Fatal(err)
	}
	replayer.RegisterWorkflowWithOptions(ComplaintWorkflow, workflow.RegisterOptions{Name: complaint.WorkflowName})
	replayer.RegisterWorkflowWithOptions(DepartmentInvestigationWorkflow, workflow.RegisterOptions{Name: DepartmentWorkflowName})
	for _, f := range files {
		t.Run(filepath.Join(filepath.Base(filepath.Dir(f)), filepath.Base(f)), func(t *testing.T) {
			if err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatal(err)
			}
		})
	}
}
