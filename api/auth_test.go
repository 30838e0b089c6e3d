package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/store"
)

var testTokens = auth.TokenConfig{Secret: []byte("a-test-secret-of-at-least-32-bytes"), Issuer: "complaintdesk",
	Audience: "complaints-api"}

func mint(sub string, role auth.Role, departments ...string) string {
	tok, err := auth.MintHS256(testTokens, sub, role, departments, time.Hour)
	if err != nil {
		panic(err)
	}
	return tok
}

var adminToken = mint("admin.root", auth.RoleAdmin)

// The API key of upstream system "shop" and of system "crm".
const (
	shopKey = auth.APIKeyPrefix + "shopshopshopshopshopshopshopshopshopshopshopshopshop"
	crmKey  = auth.APIKeyPrefix + "crmcrmcrmcrmcrmcrmcrmcrmcrmcrmcrmcrmcrmcrmcrmcrmcrm"
)

type fakeKeys map[string]store.APIKey

func (f fakeKeys) APIKeyByHash(_ context.Context, h string) (store.APIKey, error) {
	k, ok := f[h]
	if !ok {
		return k, store.ErrNoKey
	}
	return k, nil
}

func testAuth() *Authenticator {
	v, err := auth.NewVerifier(testTokens)
	if err != nil {
		panic(err)
	}
	return &Authenticator{Tokens: v, Keys: fakeKeys{
		auth.HashAPIKey(shopKey): {ID: "shop0001", Name: "shop", System: "shop"},
		auth.HashAPIKey(crmKey):  {ID: "crm00001", Name: "crm", System: "crm"},
	}}
}

// fakeSubmitters says every case was submitted by "shop" (or by onRecord).
type fakeSubmitters struct {
	recorded []string
	onRecord string
}

func (f *fakeSubmitters) RecordSubmitter(_ context.Context, ref, system, _ string) (string, error) {
	f.recorded = append(f.recorded, ref+"="+system)
	if f.onRecord != "" {
		return f.onRecord, nil
	}
	return system, nil
}

func (f *fakeSubmitters) Submitter(context.Context, string) (string, error) { return "shop", nil }

// ownedCases is a case owned by agent.li and routed to product.
type ownedCases struct {
	fakeCases
	payloads []any
}

func (o *ownedCases) Case(ctx context.Context, ref string) (complaint.CaseView, error) {
	return complaint.CaseView{Reference: ref, Status: complaint.StatusAcknowledged, Owner: "agent.li",
		Departments: []complaint.Department{"product"}}, nil
}

func (o *ownedCases) Task(ctx context.Context, ref, task, updateID string, payload any) (complaint.CaseView, error) {
	o.payloads = append(o.payloads, payload)
	return o.fakeCases.Task(ctx, ref, task, updateID, payload)
}

type fakeEraser struct{}

func (fakeEraser) Erase(context.Context, store.Subject, string) (ErasureResult, error) {
	return ErasureResult{References: []string{"CMP-20261123-4F7K2Q"}}, nil
}

func securedServer(cases Cases, subs SubmitterStore) http.Handler {
	return (&Server{Cases: cases, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth(),
		Records: tableRecords{}, Deliveries: tableRecords{}, Redeliveries: sentAgain{}, Breakdowns: tableRecords{}, Submitters: subs, Eraser: fakeEraser{},
		CustomerMail: CustomerMail{Attachments: tableRecords{}, Keys: tableRecords{}}}).Handler()
}

func (tableRecords) Attachment(_ context.Context, ref, id string) (store.Attachment, error) {
	return store.Attachment{ID: id, Reference: ref, Filename: "label.jpg", ContentType: "image/jpeg", Size: 3}, nil
}

func (tableRecords) Attachments(context.Context, string) ([]store.Attachment, error) { return nil, nil }

func (tableRecords) OpenFor(string, string, codec.Sealed) ([]byte, error) { return []byte("jpg"), nil }

func (tableRecords) DeliveryPage(context.Context, store.DeliveryFilter) (store.DeliveryPage, error) {
	return store.DeliveryPage{}, nil
}

func (tableRecords) Delivery(_ context.Context, id string) (store.Delivery, error) {
	return store.Delivery{ID: id, Reference: caseRef, Channel: "webhook", Status: store.DeliveryFailed, Payload: []byte(`{}`)}, nil
}

func (tableRecords) Breakdown(context.Context, store.ReportFilter, time.Time) (store.Breakdown, error) {
	return store.Breakdown{}, nil
}

func (tableRecords) ReportCases(context.Context, store.ReportFilter, store.CaseFigure) ([]store.ReportCase, error) {
	return nil, nil
}

// sentAgain redelivers at once.
type sentAgain struct{}

func (sentAgain) Redeliver(context.Context, string, time.Duration) (bool, error) { return true, nil }

type tableRecords struct{}

func (tableRecords) ListCases(context.Context, store.ListFilter) (store.CasePage, error) {
	return store.CasePage{}, nil
}

func (tableRecords) Summary(context.Context, store.ReportFilter) (store.Summary, error) {
	return store.Summary{}, nil
}

const caseRef = "CMP-20261123-4F7K2Q"

// endpoints is one valid request per operation, in scope for the callers
// below (agent.li owns the case, product staff work on it).
// The role table of the README, written here (not read from the code's
// permissions): who may call each operation; nil is public.
var (
	sys, ag, dep, sup = auth.RoleSystem, auth.RoleAgent, auth.RoleDepartment, auth.RoleSupervisor
	mgr, dir, op, adm = auth.RoleManager, auth.RoleDirector, auth.RoleOperator, auth.RoleAdmin
	owners            = []auth.Role{ag, sup, mgr, dir, adm}
	departmentTasks   = []auth.Role{dep, sup, mgr, dir, adm}
	reportReaders     = []auth.Role{sup, mgr, dir, op, adm}
)

var endpoints = map[string]struct {
	method, path, body string
	roles              []auth.Role
}{
	"submitComplaint": {"POST", "/v1/complaints", validBody, []auth.Role{sys, ag, sup, mgr, dir, adm}},
	"getComplaint":    {"GET", "/v1/complaints/" + caseRef, "", []auth.Role{sys, ag, dep, sup, mgr, dir, op, adm}},
	"listComplaints":  {"GET", "/v1/complaints", "", []auth.Role{ag, dep, sup, mgr, dir, op, adm}},
	"listTasks":       {"GET", "/v1/complaints/" + caseRef + "/tasks", "", []auth.Role{ag, dep, sup, mgr, dir, op, adm}},
	"reportSummary":   {"GET", "/v1/reports/summary", "", reportReaders},
	"eraseCustomer":   {"POST", "/v1/admin/erasures", `{"email":"zhao.lei@example.com"}`, []auth.Role{adm}},
	"listDeliveries":  {"GET", "/v1/deliveries?status=failed", "", reportReaders},
	"answerSurvey":    {"POST", "/v1/survey-responses", `{"token":"not-a-link","score":4}`, nil},
	"healthz":         {"GET", "/healthz", "", nil},
	"readyz":          {"GET", "/readyz", "", nil},

	"task-assign":              {"POST", "", `{"owner":"agent.wu","reason":"Shift change"}`, owners},
	"task-route":               {"POST", "", `{"departments":["product"],"reason":"r"}`, owners},
	"task-startInvestigation":  {"POST", "", `{"department":"product","investigator":"p.lead"}`, departmentTasks},
	"task-submitFindings":      {"POST", "", `{"department":"product","findings":"f","rootCause":"c","evidence":[]}`, departmentTasks},
	"task-proposeResolution":   {"POST", "", `{"actions":["a"],"compensation":{"kind":"none"},"message":"m"}`, owners},
	"task-customerResponse":    {"POST", "", `{"accepted":true,"channel":"phone"}`, owners},
	"task-waitingOnCustomer":   {"POST", "", `{"reason":"r"}`, owners},
	"task-customerReplied":     {"POST", "", `{"reason":"r"}`, owners},
	"task-escalateDispute":     {"POST", "", `{"stage":"negotiation","note":"n"}`, owners},
	"task-close":               {"POST", "", `{"outcome":"upheld","summary":"s"}`, owners},
	"task-reopen":              {"POST", "", `{"reason":"r"}`, owners},
	"task-withdraw":            {"POST", "", `{"reason":"r"}`, owners},
	"task-surveyResponse":      {"POST", "", `{"score":5}`, []auth.Role{sup, mgr, dir, adm}},
	"task-addNote":             {"POST", "", `{"author":"x","text":"t"}`, []auth.Role{ag, dep, sup, mgr, dir, adm}},
	"task-applyPolicy":         {"POST", "", `{"reason":"r"}`, []auth.Role{adm}},
	"task-approveCompensation": {"POST", "", `{"approved":true}`, []auth.Role{sup, mgr, dir, adm}},
	"task-confirmResolved":     {"POST", "", `{"resolved":true}`, owners},
	"task-completeFollowUp":    {"POST", "", `{"summary":"Called the customer"}`, owners},

	"redeliverDelivery": {"POST", "/v1/deliveries/" + caseRef + "%2F0003-note%2Fwebhook/redeliver", "", []auth.Role{op, adm}},
	"reportBreakdown":   {"GET", "/v1/reports/breakdown?from=2026-01-01&to=2026-01-31", "", reportReaders},
	"reportDimensions":  {"GET", "/v1/reports/dimensions", "", reportReaders},
	"reportCases":       {"GET", "/v1/reports/cases?owner=agent.li&format=csv", "", reportReaders},
	"listAttachments":   {"GET", "/v1/complaints/" + caseRef + "/attachments", "", []auth.Role{ag, dep, sup, mgr, dir, adm}},
	"getAttachment": {"GET", "/v1/complaints/" + caseRef + "/attachments/0123456789abcdef0123456789abcdef", "",
		[]auth.Role{ag, dep, sup, mgr, dir, adm}},
}

var callers = map[auth.Role]string{
	auth.RoleSystem:     shopKey,
	auth.RoleAgent:      mint("agent.li", auth.RoleAgent),
	auth.RoleDepartment: mint("p.lead", auth.RoleDepartment, "product"),
	auth.RoleSupervisor: mint("cs.supervisor", auth.RoleSupervisor),
	auth.RoleManager:    mint("cs.manager", auth.RoleManager),
	auth.RoleDirector:   mint("ops.director", auth.RoleDirector),
	auth.RoleOperator:   mint("ops.watch", auth.RoleOperator),
	auth.RoleAdmin:      adminToken,
}

// The role × endpoint table: every operation of the OpenAPI document, called
// by every role, is refused (403) exactly when the role is not allowed, and
// never answered without credentials.
func TestRoleByEndpoint(t *testing.T) {
	h := securedServer(&ownedCases{}, &fakeSubmitters{})
	ops := operationIDs(t)
	for _, op := range ops {
		ep, ok := endpoints[op]
		if !ok {
			t.Errorf("operation %s has no row in the role table", op)
			continue
		}
		if ep.path == "" {
			ep.path = "/v1/complaints/" + caseRef + "/" + strings.TrimPrefix(op, "task-")
		}
		public := ep.roles == nil
		for _, role := range append([]auth.Role{auth.RoleSystem}, auth.StaffRoles...) {
			t.Run(fmt.Sprintf("%s/%s", op, role), func(t *testing.T) {
				rec := do(t, h, ep.method, ep.path, ep.body, "Authorization", "Bearer "+callers[role])
				allowed := public || slices.Contains(ep.roles, role)
				switch {
				case allowed && rec.Code >= 400 && (!public || rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden):
					t.Fatalf("%s may %s but got %d: %s", role, op, rec.Code, rec.Body)
				case !allowed && rec.Code != http.StatusForbidden:
					t.Fatalf("%s may not %s but got %d: %s", role, op, rec.Code, rec.Body)
				}
			})
		}
		t.Run(op+"/anonymous", func(t *testing.T) {
			req := do(t, h, ep.method, ep.path, ep.body, "Authorization", "")
			if public != (req.Code != http.StatusUnauthorized) {
				t.Fatalf("without credentials: %d %s", req.Code, req.Body)
			}
		})
	}
}

// operationIDs reads every operation of the API's OpenAPI document.
func operationIDs(t *testing.T) []string {
	t.Helper()
	rec := do(t, securedServer(&ownedCases{}, &fakeSubmitters{}), "GET", "/openapi.json", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("openapi: %d", rec.Code)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, methods := range doc.Paths {
		for _, op := range methods {
			ops = append(ops, op.OperationID)
		}
	}
	slices.Sort(ops)
	if len(ops) < 20 {
		t.Fatalf("only %d operations in the document", len(ops))
	}
	return ops
}

func TestScopes(t *testing.T) {
	cases := &ownedCases{}
	h := securedServer(cases, &fakeSubmitters{})
	task := func(op string) string { return "/v1/complaints/" + caseRef + "/" + op }
	for name, tc := range map[string]struct {
		token, method, path, body string
		status                    int
	}{
		"an agent who does not own the case":      {mint("agent.wu", auth.RoleAgent), "POST", task("close"), `{"outcome":"upheld","summary":"s"}`, 403},
		"department staff for another department": {mint("l.lead", auth.RoleDepartment, "legal"), "POST", task("startInvestigation"), `{"department":"product","investigator":"x"}`, 403},
		"staff naming a department not theirs":    {callers[auth.RoleDepartment], "POST", task("submitFindings"), `{"department":"legal","findings":"f","rootCause":"c","evidence":[]}`, 403},
		"department staff reading another's case": {mint("l.lead", auth.RoleDepartment, "legal"), "GET", "/v1/complaints/" + caseRef, "", 403},
		"department staff listing another's":      {callers[auth.RoleDepartment], "GET", "/v1/complaints?department=legal", "", 403},
		"department staff listing their own":      {callers[auth.RoleDepartment], "GET", "/v1/complaints", "", 200},
		"a system reading another's case":         {crmKey, "GET", "/v1/complaints/" + caseRef, "", 404},
		"a system reading its own case":           {shopKey, "GET", "/v1/complaints/" + caseRef, "", 200},
		"a revoked or unknown key":                {auth.APIKeyPrefix + "nope", "GET", "/v1/complaints/" + caseRef, "", 401},
		"a token signed with another secret": {func() string {
			tok, _ := auth.MintHS256(auth.TokenConfig{Secret: []byte("another-secret-of-at-least-32-bytes"), Issuer: "complaintdesk", Audience: "complaints-api"}, "x", auth.RoleAdmin, nil, time.Hour)
			return tok
		}(), "GET", "/v1/complaints/" + caseRef, "", 401},
		"an expired token": {func() string {
			tok, _ := auth.MintHS256(testTokens, "x", auth.RoleAdmin, nil, -time.Hour)
			return tok
		}(), "GET", "/v1/complaints/" + caseRef, "", 401},
	} {
		t.Run(name, func(t *testing.T) {
			rec := do(t, h, tc.method, tc.path, tc.body, "Authorization", "Bearer "+tc.token)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if rec.Code >= 400 {
				readProblem(t, rec)
			}
		})
	}
}

// The actor recorded is the caller, whatever the body says.
func TestActorComesFromTheToken(t *testing.T) {
	cases := &ownedCases{}
	h := securedServer(cases, &fakeSubmitters{})
	rec := do(t, h, "POST", "/v1/complaints/"+caseRef+"/close", `{"outcome":"upheld","summary":"s","actor":"someone.else"}`,
		"Authorization", "Bearer "+callers[auth.RoleAgent])
	if rec.Code != http.StatusOK {
		t.Fatalf("close: %d %s", rec.Code, rec.Body)
	}
	rec = do(t, h, "POST", "/v1/complaints/"+caseRef+"/addNote", `{"author":"someone.else","text":"t"}`,
		"Authorization", "Bearer "+callers[auth.RoleSupervisor])
	if rec.Code != http.StatusOK {
		t.Fatalf("addNote: %d %s", rec.Code, rec.Body)
	}
	if c, ok := cases.payloads[0].(complaint.Close); !ok || c.Actor != "agent.li" {
		t.Fatalf("close reached the case as %#v", cases.payloads[0])
	}
	if n, ok := cases.payloads[1].(complaint.AddNote); !ok || n.Author != "cs.supervisor" {
		t.Fatalf("addNote reached the case as %#v", cases.payloads[1])
	}
}

// keyedCases records the submissions.
type keyedCases struct {
	fakeCases
	subs []starter.Submission
}

func (k *keyedCases) Submit(ctx context.Context, sub starter.Submission) (starter.Result, error) {
	k.subs = append(k.subs, sub)
	return k.fakeCases.Submit(ctx, sub)
}

func TestSystemSubmissionsAreTheirs(t *testing.T) {
	cases, subs := &keyedCases{}, &fakeSubmitters{}
	h := securedServer(cases, subs)
	rec := do(t, h, "POST", "/v1/complaints", validBody, "Authorization", "Bearer "+shopKey)
	if rec.Code != http.StatusCreated {
		t.Fatalf("submit: %d %s", rec.Code, rec.Body)
	}
	if cases.subs[0].Submitter != "shop" || len(subs.recorded) != 1 || subs.recorded[0] != caseRef+"=shop" {
		t.Fatalf("submitter not recorded: %+v %v", cases.subs[0], subs.recorded)
	}
}

func TestRateLimitPerCaller(t *testing.T) {
	a := testAuth()
	a.Rate, a.Burst = rate.Every(time.Hour), 2
	h := (&Server{Cases: &fakeCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: a}).Handler()
	get := func(token string) int {
		return do(t, h, "GET", "/v1/complaints/"+caseRef, "", "Authorization", "Bearer "+token).Code
	}
	for range 2 {
		if code := get(adminToken); code != http.StatusOK {
			t.Fatalf("within the burst: %d", code)
		}
	}
	rec := do(t, h, "GET", "/v1/complaints/"+caseRef, "", "Authorization", "Bearer "+adminToken)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("past the burst: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	readProblem(t, rec)
	if code := get(callers[auth.RoleOperator]); code != http.StatusOK {
		t.Fatalf("another caller has its own budget: %d", code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := securedServer(&fakeCases{}, &fakeSubmitters{})
	rec := do(t, h, "GET", "/v1/complaints/"+caseRef, "")
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
		"X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
}

func TestFailedAuthenticationsAreLimitedPerAddress(t *testing.T) {
	h := securedServer(&fakeCases{}, &fakeSubmitters{})
	code := 0
	for i := range failBurst + 1 {
		rec := do(t, h, "GET", "/v1/complaints/"+caseRef, "", "Authorization", "Bearer "+auth.APIKeyPrefix+"guess")
		code = rec.Code
		if i < failBurst && code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, code)
		}
	}
	if code != http.StatusTooManyRequests {
		t.Fatalf("past %d failures: %d", failBurst, code)
	}
}

// Behind a trusted proxy the client is the one X-Forwarded-For names: one
// caller's failures do not lock the others out.
func TestFailedAuthenticationsCountPerClientBehindAProxy(t *testing.T) {
	a := testAuth()
	a.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	if got := clientOf(a, "127.0.0.1:40000", "203.0.113.9, 198.51.100.7"); got != "198.51.100.7" {
		t.Fatalf("client %s, want the nearest untrusted hop", got)
	}
	// Not a proxy: its header is not believed.
	if got := clientOf(a, "192.0.2.1:40000", "203.0.113.9, 198.51.100.7"); got != "192.0.2.1" {
		t.Fatalf("client %s, want the peer", got)
	}
}

// First contact (DOMAIN §2): a staff member who enters a complaint is known
// from the token and handed to the case as the person who entered it; a
// system's submission names its agent in the body, never its key.
func TestStaffSubmissionsCarryWhoEnteredThem(t *testing.T) {
	cases := &keyedCases{}
	h := securedServer(cases, &fakeSubmitters{})
	for _, token := range []string{callers[auth.RoleAgent], shopKey} {
		if rec := do(t, h, "POST", "/v1/complaints", validBody, "Authorization", "Bearer "+token); rec.Code != http.StatusCreated {
			t.Fatalf("submit: %d %s", rec.Code, rec.Body)
		}
	}
	if got := cases.subs[0].Staff; got != "agent.li" {
		t.Fatalf("the agent's submission was entered by %q", got)
	}
	if got := cases.subs[1].Staff; got != "" {
		t.Fatalf("the system's submission was entered by %q", got)
	}
}
