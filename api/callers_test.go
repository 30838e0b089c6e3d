package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
)

// Staff enter a case with externalId "shop:123"; system shop then submits
// its own "123". The two keys must not meet: were they one, the system
// would be answered with (and recorded as the submitter of) the staff's case.
func TestStaffAndSystemKeysNeverMeet(t *testing.T) {
	cases := &keyedCases{}
	h := securedServer(cases, &fakeSubmitters{})
	staffBody := strings.Replace(validBody, `"channel"`, `"externalId":"shop:123","channel"`, 1)
	systemBody := strings.Replace(validBody, `"channel"`, `"externalId":"123","channel"`, 1)
	if rec := do(t, h, "POST", "/v1/complaints", staffBody, "Authorization", "Bearer "+callers[auth.RoleSupervisor]); rec.Code != http.StatusCreated {
		t.Fatalf("staff submit: %d %s", rec.Code, rec.Body)
	}
	if rec := do(t, h, "POST", "/v1/complaints", systemBody, "Authorization", "Bearer "+shopKey); rec.Code != http.StatusCreated {
		t.Fatalf("system submit: %d %s", rec.Code, rec.Body)
	}
	staffKey, systemKey := starter.IntakeKey(cases.subs[0]), starter.IntakeKey(cases.subs[1])
	if staffKey == "" || systemKey == "" || staffKey == systemKey {
		t.Fatalf("staff key %q and system key %q must differ", staffKey, systemKey)
	}
	// Two staff members' keys are their own too.
	other := starter.Submission{Intake: cases.subs[0].Intake, Staff: "agent.wu"}
	if starter.IntakeKey(other) == staffKey {
		t.Fatalf("two staff members share key %q", staffKey)
	}
}

// Whatever the keys, a system is never answered with a case another system
// is on record for, nor recorded as its submitter.
func TestSystemIsNeverAnsweredWithAnotherSubmittersCase(t *testing.T) {
	subs := &fakeSubmitters{onRecord: "crm"}
	h := securedServer(&fakeCases{}, subs)
	rec := do(t, h, "POST", "/v1/complaints", validBody, "Authorization", "Bearer "+shopKey)
	if rec.Code != http.StatusConflict {
		t.Fatalf("a case on record for crm, submitted again by shop: %d %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), caseRef) {
		t.Fatalf("the answer names the other system's case: %s", rec.Body)
	}
}

// A system's receivedBy is its own agent, recorded as such, never the owner
// among our staff; only an administrator names the source system.
func TestReceivedByAndSourceFromTheRightCallers(t *testing.T) {
	cases := &keyedCases{}
	h := securedServer(cases, &fakeSubmitters{})
	body := strings.Replace(validBody, `"channel"`, `"receivedBy":"agent.li","channel"`, 1)
	if rec := do(t, h, "POST", "/v1/complaints", body, "Authorization", "Bearer "+shopKey); rec.Code != http.StatusCreated {
		t.Fatalf("system submit: %d %s", rec.Code, rec.Body)
	}
	in := cases.subs[0].Intake
	nc := complaint.Register(in, caseRef, time.Unix(0, 0), complaint.DefaultRules())
	if nc.Owner == "agent.li" || nc.Owner != complaint.DefaultOwner {
		t.Fatalf("a system's receivedBy made %q the owner", nc.Owner)
	}
	if in.ReceivedBy != "shop:agent.li" {
		t.Fatalf("receivedBy recorded as %q, want the system's agent shop:agent.li", in.ReceivedBy)
	}

	withSource := strings.Replace(validBody, `"channel"`, `"source":"crm","channel"`, 1)
	for role, want := range map[auth.Role]int{auth.RoleAgent: http.StatusForbidden,
		auth.RoleSupervisor: http.StatusForbidden, auth.RoleAdmin: http.StatusCreated} {
		rec := do(t, h, "POST", "/v1/complaints", withSource, "Authorization", "Bearer "+callers[role])
		if rec.Code != want {
			t.Fatalf("%s names the source: %d, want %d: %s", role, rec.Code, want, rec.Body)
		}
		if want == http.StatusForbidden && !hasLocation(readProblem(t, rec), "body.source") {
			t.Fatalf("%s: the problem does not name body.source: %s", role, rec.Body)
		}
	}
}

// handledCase is owned by agent.li; cs.supervisor assigned it, p.lead investigated.
type handledCase struct{ ownedCases }

func (h *handledCase) Case(ctx context.Context, ref string) (complaint.CaseView, error) {
	v, _ := h.ownedCases.Case(ctx, ref)
	v.Investigation = []complaint.DepartmentProgress{{Department: "product", Investigator: "p.lead"}}
	v.History = []complaint.Event{{Step: "assigned", Actor: "cs.supervisor"}}
	return v, nil
}

// Nobody who handled a case rates it: not its owner (an agent may not enter
// survey answers at all), nor a supervisor who acted on it; a supervisor who
// did not may enter what the customer said.
func TestSatisfactionIsNotRatedByWhoHandledTheCase(t *testing.T) {
	h := securedServer(&handledCase{}, &fakeSubmitters{})
	path := "/v1/complaints/" + caseRef + "/surveyResponse"
	for who, want := range map[string]int{
		callers[auth.RoleAgent]:                   http.StatusForbidden,
		callers[auth.RoleSupervisor]:              http.StatusForbidden,
		mint("agent.li", auth.RoleSupervisor):     http.StatusForbidden,
		mint("p.lead", auth.RoleManager):          http.StatusForbidden,
		callers[auth.RoleManager]:                 http.StatusOK,
		mint("quality.desk", auth.RoleSupervisor): http.StatusOK,
	} {
		if rec := do(t, h, "POST", path, `{"score":5}`, "Authorization", "Bearer "+who); rec.Code != want {
			t.Errorf("survey answer: %d, want %d: %s", rec.Code, want, rec.Body)
		}
	}
}

// Staff passing on the customer's answer to a proposal say through which
// channel they heard it, and are recorded as acting on the customer's behalf.
func TestCustomerResponseIsRecordedOnTheCustomersBehalf(t *testing.T) {
	cases := &ownedCases{}
	h := securedServer(cases, &fakeSubmitters{})
	path := "/v1/complaints/" + caseRef + "/customerResponse"
	rec := do(t, h, "POST", path, `{"accepted":true,"channel":"phone","actor":"the customer"}`,
		"Authorization", "Bearer "+callers[auth.RoleAgent])
	if rec.Code != http.StatusOK {
		t.Fatalf("with the channel: %d %s", rec.Code, rec.Body)
	}
	got := cases.payloads[len(cases.payloads)-1].(complaint.CustomerResponse)
	if !strings.Contains(got.Actor, "agent.li") || !strings.Contains(got.Actor, "for the customer") ||
		!strings.Contains(got.Actor, "phone") {
		t.Fatalf("recorded actor %q: want agent.li, on the customer's behalf, by phone", got.Actor)
	}
}
