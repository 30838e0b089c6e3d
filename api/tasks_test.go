package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/complaint"
)

// notYetCases is ownedCases whose state refuses closing (the case's own
// word, from its tasks query).
type notYetCases struct{ ownedCases }

func (n *notYetCases) Tasks(ctx context.Context, ref string) ([]complaint.TaskState, error) {
	out, _ := n.ownedCases.Tasks(ctx, ref)
	for i := range out {
		if out[i].Name == "close" {
			out[i] = complaint.TaskState{Name: "close", Allowed: false, Reason: "no resolution was accepted yet"}
		}
	}
	return out, nil
}

func listTasks(t *testing.T, h http.Handler, token string) (int, map[string]TaskOption, []string) {
	t.Helper()
	rec := do(t, h, "GET", "/v1/complaints/"+caseRef+"/tasks", "", "Authorization", "Bearer "+token)
	if rec.Code != http.StatusOK {
		return rec.Code, nil, nil
	}
	var body struct {
		Tasks []TaskOption `json:"tasks"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	byName := map[string]TaskOption{}
	var order []string
	for _, o := range body.Tasks {
		byName[o.Name] = o
		order = append(order, o.Name)
	}
	return rec.Code, byName, order
}

// GET /v1/complaints/{reference}/tasks (INTERFACE.md): the tasks the
// caller's role may do (README's role table), each allowed only when the
// case's state and the caller's part in it allow it, with why not, and the
// payload's JSON schema with its nested objects spelled out.
func TestTasksTheCallerMayDoNow(t *testing.T) {
	h := securedServer(&notYetCases{}, &fakeSubmitters{})

	// agent.li owns the case (ownedCases): the owner's tasks, not the
	// departments', not the survey (supervisors up), not applyPolicy (admin).
	code, tasks, order := listTasks(t, h, mint("agent.li", auth.RoleAgent))
	if code != http.StatusOK {
		t.Fatalf("owner: %d", code)
	}
	for _, name := range []string{"startInvestigation", "submitFindings", "surveyResponse", "applyPolicy"} {
		if _, ok := tasks[name]; ok {
			t.Errorf("an agent is offered %s", name)
		}
	}
	if o := tasks["proposeResolution"]; !o.Allowed {
		t.Errorf("the owner may not propose: %+v", o)
	}
	if o := tasks["close"]; o.Allowed || o.Reason != "no resolution was accepted yet" {
		t.Errorf("close while the case refuses it: %+v", o)
	}
	if len(order) < 2 || order[0] != "assign" || order[1] != "route" {
		t.Errorf("not in the order of a case's life: %v", order)
	}
	// The schema of proposeResolution: actions, and compensation as an
	// object with its own fields (no $ref left to resolve).
	props, _ := tasks["proposeResolution"].Schema["properties"].(map[string]any)
	comp, _ := props["compensation"].(map[string]any)
	compProps, _ := comp["properties"].(map[string]any)
	if props["actions"] == nil || compProps["amount"] == nil || compProps["currency"] == nil {
		t.Errorf("proposeResolution's schema: %v", tasks["proposeResolution"].Schema)
	}

	// Another agent sees the same tasks, refused: the case is not theirs.
	_, tasks, _ = listTasks(t, h, mint("agent.wu", auth.RoleAgent))
	if o := tasks["proposeResolution"]; o.Allowed || o.Reason == "" {
		t.Errorf("an agent who does not own the case: %+v", o)
	}

	// Product staff (the case is routed to product) may start; logistics
	// staff may not read the case at all.
	_, tasks, _ = listTasks(t, h, mint("p.lead", auth.RoleDepartment, "product"))
	if o := tasks["startInvestigation"]; !o.Allowed {
		t.Errorf("product staff on a case routed to product: %+v", o)
	}
	if _, ok := tasks["proposeResolution"]; ok {
		t.Error("department staff are offered the owner's proposal")
	}
	if code, _, _ := listTasks(t, h, mint("l.lead", auth.RoleDepartment, "logistics")); code != http.StatusForbidden {
		t.Errorf("logistics staff on a case not routed to them: %d", code)
	}
	// An operator changes nothing: no task at all.
	if code, tasks, _ := listTasks(t, h, mint("ops.watch", auth.RoleOperator)); code != http.StatusOK || len(tasks) != 0 {
		t.Errorf("operator: %d %v", code, tasks)
	}
}

// deskOwned is a case the desk owns: its intake named no first-contact
// employee.
type deskOwned struct{ fakeCases }

func (*deskOwned) Case(ctx context.Context, ref string) (complaint.CaseView, error) {
	return complaint.CaseView{Reference: ref, Status: complaint.StatusAcknowledged, Owner: complaint.DefaultOwner}, nil
}

// An agent takes a case the desk owns, for themselves only; the case's
// other tasks stay its owner's.
func TestAnAgentTakesACaseTheDeskOwns(t *testing.T) {
	h := securedServer(&deskOwned{}, &fakeSubmitters{})
	li := mint("agent.li", auth.RoleAgent)
	_, tasks, _ := listTasks(t, h, li)
	if !tasks["assign"].Allowed || tasks["proposeResolution"].Allowed {
		t.Errorf("assign %+v, proposeResolution %+v", tasks["assign"], tasks["proposeResolution"])
	}
	path := "/v1/complaints/" + caseRef + "/assign"
	if rec := do(t, h, "POST", path, `{"owner":"agent.li","reason":"Taking it"}`, "Authorization", "Bearer "+li); rec.Code != http.StatusOK {
		t.Errorf("taking it: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, "POST", path, `{"owner":"agent.wu","reason":"For a colleague"}`, "Authorization", "Bearer "+li); rec.Code != http.StatusForbidden {
		t.Errorf("giving it to someone else: %d %s", rec.Code, rec.Body)
	}
}
