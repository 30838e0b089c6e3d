package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// The histories under testdata/histories were recorded from the real dev
// server by `go test ./systemtest -record-histories`. Replaying them with
// today's code fails on any change that running cases could not survive:
// such a change needs workflow.GetVersion, and new histories recorded.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found %d recorded histories; record them with go test ./systemtest -record-histories", len(files))
	}
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(ComplaintWorkflow, workflow.RegisterOptions{Name: complaint.WorkflowName})
	replayer.RegisterWorkflowWithOptions(DepartmentInvestigationWorkflow, workflow.RegisterOptions{Name: DepartmentWorkflowName})
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatal(err)
			}
		})
	}
}
