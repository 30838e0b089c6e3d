package systemtest

import (
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/api"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/systemtest/browser"
)

// step is one thing a person does in the browser (systemtest/ui/desk-flow.mjs).
type step = browser.Step

func walkDesk(t *testing.T, steps []step) { browser.Walk(t, steps) }

// signInSteps open the desk at path as actor and sign in at the
// development provider's page.
func signInSteps(t *testing.T, actor, user, path string) []step {
	u, ok := sys.Staff.User(user)
	if !ok {
		t.Fatalf("no development user %s", user)
	}
	return []step{
		{"actor": actor, "goto": sys.APIURL + path},
		{"actor": actor, "expectURL": sys.IDP.Issuer() + "/login"},
		{"actor": actor, "fill": "#username", "value": user},
		{"actor": actor, "fill": "#password", "value": u.Password},
		{"actor": actor, "click": "button[type=submit]"},
		{"actor": actor, "expectURL": sys.APIURL + path},
		{"actor": actor, "expect": "#sign-out"},
	}
}

// The staff desk in a real browser (README "The staff desk"): an agent
// signs in through the provider, takes a case the desk owns; the
// logistics investigator starts and reports, which the agent's open page
// shows by itself; the agent proposes a resolution above the approval
// limit, which a supervisor approves; a technical
// investigator gets no case page; the proposal above the approval limit
// waits until a supervisor approves it; the supervisor finds a case whose clock
// passed in the breached queue; signing out ends the session.
func TestStaffDeskInTheBrowser(t *testing.T) {
	body := demoCase(t, "demo-damaged-parcel-promotion")
	body["externalId"] = "systemtest-deskui-parcel"
	body["customer"] = map[string]any{"name": "Desk Browser", "email": "desk.browser@example.com"}
	delete(body, "receivedBy")
	r := post(t, sys.APIURL, "/v1/complaints", body, "Authorization", "Bearer "+sys.APIKey)
	ref, _ := r.body["reference"].(string)
	if ref == "" {
		t.Fatalf("intake: %d %v", r.status, r.body)
	}
	waitStatus(t, sys.APIURL, ref, complaint.StatusAcknowledged)

	// A case whose first response was due two seconds after intake.
	late := liveAPI(t, func(c *api.Config) {
		c.Cases.SLAPolicy = `{"low": {"firstResponse": "2s"}, "medium": {"firstResponse": "2s"}, "high": {"firstResponse": "2s"}, "critical": {"firstResponse": "2s"}}`
	})
	lb := demoCase(t, "demo-washing-machine-noise")
	lb["externalId"] = "systemtest-deskui-late"
	lb["customer"] = map[string]any{"name": "Late Desk", "phone": "+86 139 0000 0042"}
	breached, _ := post(t, late, "/v1/complaints", lb).body["reference"].(string)
	if breached == "" {
		t.Fatal("intake of the late case failed")
	}
	time.Sleep(3 * time.Second)

	caseURL := "/desk/cases/" + ref
	row := `tr[data-reference="` + ref + `"]`
	in := func(task, name string) string { return `form[data-task="` + task + `"] [name="` + name + `"]` }
	var steps []step
	steps = append(steps, signInSteps(t, "agent", "dev.agent", "/desk/")...)
	steps = append(steps,
		step{"actor": "agent", "goto": sys.APIURL + "/desk/?queue=desk"},
		step{"actor": "agent", "expect": row},
		step{"actor": "agent", "click": row + " a"},
		step{"actor": "agent", "expectURL": caseURL},
		step{"actor": "agent", "click": "#task-assign summary"},
		step{"actor": "agent", "fill": in("assign", "reason"), "value": "Taking it from the desk"},
		step{"actor": "agent", "click": `form[data-task="assign"] button[type=submit]`},
		step{"actor": "agent", "expect": "#owner", "text": "dev.agent"},
	)
	steps = append(steps, signInSteps(t, "logistics", "dev.logistics", caseURL)...)
	steps = append(steps,
		step{"actor": "logistics", "click": "#task-startInvestigation summary"},
		step{"actor": "logistics", "select": in("startInvestigation", "department"), "value": "logistics"},
		step{"actor": "logistics", "click": `form[data-task="startInvestigation"] button[type=submit]`},
		step{"actor": "logistics", "expect": `.dept[data-department="logistics"][data-state="investigating"]`},
		step{"actor": "logistics", "click": "#task-submitFindings summary"},
		step{"actor": "logistics", "fill": in("submitFindings", "findings"), "value": "The parcel was crushed in the hub"},
		step{"actor": "logistics", "fill": in("submitFindings", "rootCause"), "value": "Loose packing at the hub"},
		step{"actor": "logistics", "fill": in("submitFindings", "evidence"), "value": "hub-photo-1.jpg"},
		step{"actor": "logistics", "click": `form[data-task="submitFindings"] button[type=submit]`},
		step{"actor": "logistics", "expect": `.dept[data-department="logistics"][data-state="reported"]`},
		// The agent's page, left open, notices the report on its own.
		step{"actor": "agent", "expect": `.dept[data-department="logistics"][data-state="reported"]`},
		step{"actor": "agent", "click": "#task-proposeResolution summary"},
		step{"actor": "agent", "fill": in("proposeResolution", "actions"), "value": "Send a new set of cups\nCheck the hub's packing"},
		step{"actor": "agent", "select": in("proposeResolution", "compensation.kind"), "value": "voucher"},
		step{"actor": "agent", "fill": in("proposeResolution", "compensation.amount"), "value": "800"},
		step{"actor": "agent", "fill": in("proposeResolution", "compensation.currency"), "value": "CNY"},
		step{"actor": "agent", "fill": in("proposeResolution", "message"), "value": "We are sorry for the broken cups."},
		step{"actor": "agent", "click": `form[data-task="proposeResolution"] button[type=submit]`},
		// 800 CNY is above the default limit (COMPENSATION_APPROVAL_LIMITS
		// CNY=500): the proposal waits for a supervisor.
		step{"actor": "agent", "expect": `.proposal .approval[data-approval="pending"]`},
		step{"actor": "agent", "expect": `#status[data-status="investigating"]`},
	)
	steps = append(steps, signInSteps(t, "supervisor", "dev.supervisor", caseURL)...)
	steps = append(steps,
		step{"actor": "supervisor", "click": "#task-approveCompensation summary"},
		step{"actor": "supervisor", "select": in("approveCompensation", "approved"), "value": "true"},
		step{"actor": "supervisor", "fill": in("approveCompensation", "note"), "value": "Promotion parcels: agreed"},
		step{"actor": "supervisor", "click": `form[data-task="approveCompensation"] button[type=submit]`},
		step{"actor": "supervisor", "expect": `.proposal .approval[data-approval="approved"]`},
		step{"actor": "supervisor", "expect": `#status[data-status="resolution_proposed"]`},
		// Supervisors see the messages sent to the customer and their delivery.
		step{"actor": "supervisor", "expect": `table.messages tr[data-delivery="sent"]`},
		// The agent's open page follows.
		step{"actor": "agent", "expect": `#status[data-status="resolution_proposed"]`},
	)
	steps = append(steps, signInSteps(t, "technical", "dev.technical", "/desk/")...)
	steps = append(steps,
		step{"actor": "technical", "goto": sys.APIURL + caseURL},
		step{"actor": "technical", "expect": "#notfound"},
	)
	steps = append(steps,
		step{"actor": "supervisor", "goto": sys.APIURL + "/desk/?queue=breached"},
		step{"actor": "supervisor", "expect": `tr[data-reference="` + breached + `"] .countdown.overdue`},
		// The reports read with the desk's sign-in, no token in the address;
		// a figure opens the desk's list of its cases.
		step{"actor": "supervisor", "goto": sys.APIURL + "/reports?category=logistics"},
		step{"actor": "supervisor", "expect": `body[data-state="ready"]`},
		step{"actor": "supervisor", "click": `#tables a.drill[href*="department=logistics"]`},
		step{"actor": "supervisor", "expectURL": "/desk/?"},
		step{"actor": "supervisor", "expect": row},
		step{"actor": "agent", "click": "#sign-out"},
		step{"actor": "agent", "expect": "#signed-out"},
		step{"actor": "agent", "goto": sys.APIURL + "/desk/"},
		step{"actor": "agent", "expectURL": sys.IDP.Issuer() + "/login"},
	)
	walkDesk(t, steps)
}
