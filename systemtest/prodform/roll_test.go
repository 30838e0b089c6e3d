package prodform

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/systemtest"
)

// Rolling the workers from one version of the Worker Deployment to the
// next while cases are open, as the README's upgrade procedure says: start
// the new version's workers beside the old, make it current with the
// Temporal CLI, stop the old ones. Every open case moves on to the new
// version at its next task and finishes there; none is lost or stuck.
func TestWorkersRollToTheNextVersionWithCasesOpen(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	const deployment, versionA, versionB = "complaints", "release-a", "release-b"
	form := startForm(ctx, t, "WORKER_BUILD_ID="+versionA)
	adminToken, staffToken = form.AdminToken, form.StaffToken
	base := form.APIURL()

	// Cases opened and investigated on version A.
	var refs []string
	for i := range 3 {
		body := demoCase(t, "demo-damaged-parcel-promotion")
		body["externalId"] = fmt.Sprintf("roll-%d", i)
		ref := call(t, http.MethodPost, base+"/v1/complaints", body, http.StatusCreated)["reference"].(string)
		waitStatus(t, base, ref, complaint.StatusAcknowledged)
		refs = append(refs, ref)
	}
	depts := map[string][]string{}
	for _, ref := range refs {
		for _, d := range call(t, http.MethodGet, base+"/v1/complaints/"+ref, nil, http.StatusOK)["departments"].([]any) {
			depts[ref] = append(depts[ref], d.(string))
			call(t, http.MethodPost, base+"/v1/complaints/"+ref+"/startInvestigation",
				map[string]any{"department": d, "investigator": "lead"}, http.StatusOK)
		}
	}

	// Version B beside A, not yet current; then current; then A stopped.
	if err := form.AddWorker(ctx, "worker-b1", "WORKER_BUILD_ID="+versionB, "WORKER_PROMOTE=never"); err != nil {
		t.Fatal(err)
	}
	cli, err := systemtest.TemporalCLI()
	if err != nil {
		t.Fatal(err)
	}
	// The CLI as an operator uses it: with their token from the provider.
	operator, err := form.AccessToken(ctx, "dev.operator")
	if err != nil {
		t.Fatal(err)
	}
	temporal := func(args ...string) error {
		args = append(args, "--address", form.Server.Address(), "--namespace", "default", "--api-key", operator, "--tls=false")
		out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("temporal %v: %v: %s", args, err, out)
		}
		return nil
	}
	systemtest.Eventually(t, "version "+versionB+" known to the server", func() error {
		return temporal("worker", "deployment", "describe-version", "--deployment-name", deployment, "--build-id", versionB)
	})
	if err := temporal("worker", "deployment", "set-current-version", "--deployment-name", deployment,
		"--build-id", versionB, "--yes"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"worker-1", "worker-2"} {
		if err := form.Retire(name, 30*time.Second); err != nil {
			t.Logf("stopping %s: %v", name, err)
		}
	}

	// The cases finish on version B.
	for _, ref := range refs {
		for _, d := range depts[ref] {
			call(t, http.MethodPost, base+"/v1/complaints/"+ref+"/submitFindings",
				map[string]any{"department": d, "findings": "Crushed in transit", "rootCause": "Carrier", "evidence": []string{}},
				http.StatusOK)
		}
		call(t, http.MethodPost, base+"/v1/complaints/"+ref+"/proposeResolution", map[string]any{
			"actions": []string{"Refund the shipping"}, "compensation": map[string]any{"kind": "refund", "amount": "30", "currency": "CNY"},
			"message": "We refund the shipping."}, http.StatusOK)
		call(t, http.MethodPost, base+"/v1/complaints/"+ref+"/customerResponse", map[string]any{"accepted": true}, http.StatusOK)
		call(t, http.MethodPost, base+"/v1/complaints/"+ref+"/confirmResolved", map[string]any{"resolved": true}, http.StatusOK)
		call(t, http.MethodPost, base+"/v1/complaints/"+ref+"/close",
			map[string]any{"outcome": "upheld", "summary": "Shipping refunded"}, http.StatusOK)
		waitStatus(t, base, ref, complaint.StatusSurveyPending)
	}
	for _, ref := range refs {
		systemtest.Eventually(t, ref+" run by "+versionB, func() error {
			d, err := form.Client.DescribeWorkflowExecution(ctx, complaint.WorkflowID(ref), "")
			if err != nil {
				return err
			}
			v := d.GetWorkflowExecutionInfo().GetVersioningInfo()
			if v.GetBehavior() != enumspb.VERSIONING_BEHAVIOR_AUTO_UPGRADE {
				return fmt.Errorf("versioning behaviour %v, want auto-upgrade", v.GetBehavior())
			}
			if got := v.GetDeploymentVersion().GetBuildId(); got != versionB {
				return fmt.Errorf("runs on %q", got)
			}
			return nil
		})
		// Its history shows both versions: started on A, finished on B.
		h, err := systemtest.History(ctx, form.Client, complaint.WorkflowID(ref))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, ev := range h.Events {
			if a := ev.GetWorkflowTaskCompletedEventAttributes(); a != nil {
				seen[a.GetDeploymentVersion().GetBuildId()] = true
			}
		}
		if !seen[versionA] || !seen[versionB] {
			t.Fatalf("%s's workflow tasks were completed by %v, want both %s and %s", ref, seen, versionA, versionB)
		}
	}
}
