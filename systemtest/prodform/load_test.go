package prodform

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv"
	"github.com/complaintdesk/complaintdesk/systemtest"
)

// Cases are driven concurrently through nginx while one of the two workers
// and one of the two API replicas are killed (SIGKILL): no case stalls, and
// no request fails beyond a client's retry with the same Idempotency-Key.
func TestProductionFormUnderLoadLosesAWorkerAndAReplica(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	form := startForm(ctx, t)
	base := form.APIURL()
	const cases = 24
	var retried atomic.Int64
	call := func(path string, body any, key string) (map[string]any, error) {
		return systemtest.PostRetrying(ctx, base, form.AdminToken, path, body, key, &retried)
	}

	refs := make([]string, cases)
	var wg sync.WaitGroup
	started := make(chan struct{}, cases)
	for i := range cases {
		wg.Go(func() {
			body := demoCase(t, "demo-washing-machine-noise")
			body["externalId"] = fmt.Sprintf("prodform-load-%d", i)
			body["customer"] = map[string]any{"id": fmt.Sprintf("load-%d", i), "name": "Load Test",
				"email": fmt.Sprintf("load-%d@example.com", i)}
			r, err := call("/v1/complaints", body, fmt.Sprintf("load-%d-intake", i))
			started <- struct{}{}
			if err != nil {
				t.Errorf("case %d: %v", i, err)
				return
			}
			ref := r["reference"].(string)
			steps := []struct {
				task    string
				payload map[string]any
			}{
				{"startInvestigation", map[string]any{"department": "after_sales", "investigator": "tech.sun"}},
				{"submitFindings", map[string]any{"department": "after_sales", "findings": "Bearing", "rootCause": "Wear", "evidence": []string{}}},
				{"proposeResolution", map[string]any{"actions": []string{"Repair"}, "message": "We repair it",
					"compensation": map[string]any{"kind": "repair"}}},
				{"customerResponse", map[string]any{"accepted": true}},
				{"confirmResolved", map[string]any{"resolved": true}},
				{"close", map[string]any{"outcome": "upheld", "summary": "Repaired"}},
			}
			for _, s := range steps {
				if _, err := call("/v1/complaints/"+ref+"/"+s.task, s.payload, ref+"-"+s.task); err != nil {
					t.Errorf("case %s: %v", ref, err)
					return
				}
			}
			refs[i] = ref
		})
	}
	// Under load: half the cases are in, the rest are coming.
	for range cases / 2 {
		<-started
	}
	for _, name := range []string{devenv.WorkerName(0), devenv.APIName(0)} {
		form.Process(name).Kill()
	}
	t.Logf("killed %s and %s under load", devenv.WorkerName(0), devenv.APIName(0))
	wg.Wait()
	t.Logf("%d calls needed a retry", retried.Load())

	for _, ref := range refs {
		if ref == "" {
			continue // its driver said why
		}
		var final complaint.CaseView
		if err := form.Client.GetWorkflow(ctx, complaint.WorkflowID(ref), "").Get(ctx, &final); err != nil {
			t.Fatalf("case %s did not end: %v", ref, err)
		}
		if final.Status != complaint.StatusCompleted {
			t.Errorf("%s ended %s", ref, final.Status)
		}
		systemtest.Eventually(t, "the audit trail of "+ref, func() error {
			events, err := form.Store.Events(ctx, ref)
			if err != nil {
				return err
			}
			if len(events) != len(final.History) {
				return fmt.Errorf("%d audit rows for %d steps", len(events), len(final.History))
			}
			return nil
		})
	}
}
