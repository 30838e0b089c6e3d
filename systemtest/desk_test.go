package systemtest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

// deskUser is a browser-like client signed in at the desk.
type deskUser struct {
	t    *testing.T
	hc   *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signInAtDesk opens the desk, is sent to the development provider's
// login page, signs in there as user and comes back to the desk.
func signInAtDesk(t *testing.T, user string) *deskUser {
	t.Helper()
	u, ok := sys.Staff.User(user)
	if !ok {
		t.Fatalf("no development user %s", user)
	}
	jar, _ := cookiejar.New(nil)
	d := &deskUser{t: t, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	resp, body := d.get("/desk/")
	if !strings.HasPrefix(resp.Request.URL.String(), sys.IDP.Issuer()+"/login") {
		t.Fatalf("the desk did not send an anonymous browser to the provider's login: %s", resp.Request.URL)
	}
	id := resp.Request.URL.Query().Get("authRequestID")
	resp, err := d.hc.PostForm(sys.IDP.Issuer()+"/login", url.Values{"id": {id}, "username": {user}, "password": {u.Password}})
	if err != nil {
		t.Fatal(err)
	}
	body = read(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/desk/" {
		t.Fatalf("after signing in: %s at %s\n%.2000s", resp.Status, resp.Request.URL, body)
	}
	d.csrf = csrfToken(t, body)
	return d
}

func csrfToken(t *testing.T, page string) string {
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%.2000s", page)
	}
	return m[1]
}

func read(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (d *deskUser) get(path string) (*http.Response, string) {
	d.t.Helper()
	resp, err := d.hc.Get(sys.APIURL + path)
	if err != nil {
		d.t.Fatal(err)
	}
	return resp, read(d.t, resp)
}

func (d *deskUser) post(path string, form url.Values) (*http.Response, string) {
	d.t.Helper()
	if form.Get("csrf") == "" {
		form.Set("csrf", d.csrf)
	}
	resp, err := d.hc.PostForm(sys.APIURL+path, form)
	if err != nil {
		d.t.Fatal(err)
	}
	return resp, read(d.t, resp)
}

// The desk through a browser's eyes, without the browser: sign-in at the
// provider, the queues, a desk case taken and worked through its task
// forms, errors beside the fields, another department's 404, CSRF and
// sign-out.
func TestDeskFlow(t *testing.T) {
	// A damaged parcel, entered by the upstream system without a
	// first-contact employee: the desk owns it, routed to logistics.
	body := demoCase(t, "demo-damaged-parcel-promotion")
	body["externalId"] = "systemtest-desk-parcel"
	delete(body, "receivedBy")
	resp := post(t, sys.APIURL, "/v1/complaints", body, "Authorization", "Bearer "+sys.APIKey)
	ref, _ := resp.body["reference"].(string)
	if ref == "" {
		t.Fatalf("intake: %d %v", resp.status, resp.body)
	}
	waitStatus(t, sys.APIURL, ref, complaint.StatusAcknowledged)

	agent := signInAtDesk(t, "dev.agent")
	// The queues read the record, which follows the case closely.
	Eventually(t, "the desk queue lists the case", func() error {
		if _, page := agent.get("/desk/?queue=desk"); !strings.Contains(page, ref) {
			c, err := sys.Store.QueueCounts(t.Context(), store.QueueFilter{Queue: store.QueueDesk})
			return fmt.Errorf("the desk queue does not list %s (counts %v, %v)", ref, c, err)
		}
		return nil
	})
	var page string
	// Taking it: the assign form, the owner filled in with the agent.
	_, page = agent.get("/desk/cases/" + ref)
	if !strings.Contains(page, `data-task="assign"`) {
		t.Fatalf("no assign form for a desk case:\n%.3000s", page)
	}
	r, page := agent.post("/desk/cases/"+ref+"/tasks/assign", url.Values{"owner": {"dev.agent"}, "reason": {"Taking it from the desk"}})
	if r.StatusCode != http.StatusOK || !strings.Contains(page, `id="owner">dev.agent<`) {
		t.Fatalf("taking the case: %s\n%.3000s", r.Status, page)
	}
	_, page = agent.get("/desk/?queue=mine")
	if !strings.Contains(page, ref) {
		t.Errorf("my cases do not list %s after taking it", ref)
	}
	// Proposing before the department reported: 409 shown on the form.
	r, page = agent.post("/desk/cases/"+ref+"/tasks/proposeResolution", url.Values{
		"actions": {"Send a new set of cups"}, "compensation.kind": {"voucher"}, "compensation.amount": {"50"},
		"compensation.currency": {"CNY"}, "message": {"We are sorry."}})
	if r.StatusCode != http.StatusConflict || !strings.Contains(page, "data-form-error") {
		t.Errorf("an early proposal: %s\n%.2000s", r.Status, page)
	}

	// The logistics investigator starts and reports; technical staff
	// cannot open the case at all.
	logistics := signInAtDesk(t, "dev.logistics")
	r, page = logistics.post("/desk/cases/"+ref+"/tasks/startInvestigation", url.Values{"department": {"logistics"}, "investigator": {"dev.logistics"}})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("starting: %s\n%.3000s", r.Status, page)
	}
	// A field the API refuses comes back beside its field (422).
	r, page = logistics.post("/desk/cases/"+ref+"/tasks/submitFindings", url.Values{"department": {"logistics"}, "findings": {""}, "rootCause": {"Loose packing"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `data-field="findings"`) {
		t.Errorf("findings left empty: %s\n%.3000s", r.Status, page)
	}
	r, page = logistics.post("/desk/cases/"+ref+"/tasks/submitFindings", url.Values{"department": {"logistics"},
		"findings": {"The parcel was crushed in the hub"}, "rootCause": {"Loose packing"}, "evidence": {"hub-photo-1.jpg"}})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("reporting: %s\n%.3000s", r.Status, page)
	}
	technical := signInAtDesk(t, "dev.technical")
	if r, _ := technical.get("/desk/cases/" + ref); r.StatusCode != http.StatusNotFound {
		t.Errorf("another department's investigator opened the case: %s", r.Status)
	}

	r, page = agent.post("/desk/cases/"+ref+"/tasks/proposeResolution", url.Values{
		"actions": {"Send a new set of cups\nCheck the hub's packing"}, "compensation.kind": {"voucher"},
		"compensation.amount": {"50"}, "compensation.currency": {"CNY"}, "message": {"We are sorry."}})
	if r.StatusCode != http.StatusOK || !strings.Contains(page, `data-status="resolution_proposed"`) {
		t.Errorf("proposing: %s\n%.3000s", r.Status, page)
	}

	// A form without the session's CSRF token is refused.
	if r, _ := agent.post("/desk/cases/"+ref+"/tasks/addNote", url.Values{"csrf": {"forged"}, "text": {"x"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("a forged form: %s", r.Status)
	}
	// Signing out ends the session: the desk sends the browser to sign in again.
	agent.post("/desk/sign-out", url.Values{})
	r, _ = agent.get("/desk/")
	if !strings.HasPrefix(r.Request.URL.String(), sys.IDP.Issuer()+"/login") {
		t.Errorf("after signing out the desk still opens: %s", r.Request.URL)
	}
}

// The desk's queues on the real read model: a case waiting on the
// customer is in the waiting queue (and leaves it when the customer
// replies), a fresh case's first response puts it among the due soon,
// department staff see only their departments' cases, the search finds a
// case by its order id, and the counts agree with the lists.
func TestDeskQueues(t *testing.T) {
	body := demoCase(t, "demo-smartwatch-doa")
	body["externalId"] = "systemtest-desk-queues"
	body["orderId"] = "SO-DESK-QUEUES-1"
	body["receivedBy"] = "agent.queues"
	body["customer"] = map[string]any{"name": "Queue Test", "email": "queue.test@example.com"}
	r := post(t, sys.APIURL, "/v1/complaints", body)
	ref, _ := r.body["reference"].(string)
	if ref == "" {
		t.Fatalf("intake: %d %v", r.status, r.body)
	}
	waitStatus(t, sys.APIURL, ref, complaint.StatusAcknowledged)
	v := get(t, sys.APIURL, "/v1/complaints/"+ref).body
	depts, _ := v["departments"].([]any)
	if len(depts) == 0 {
		t.Fatalf("the case is routed nowhere: %v", v)
	}
	routed := fmt.Sprint(depts[0])

	has := func(f store.QueueFilter) bool {
		t.Helper()
		items, err := sys.Store.QueueCases(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		counts, err := sys.Store.QueueCounts(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		if counts[f.Queue] < len(items) {
			t.Errorf("queue %s: %d listed, counted %d", f.Queue, len(items), counts[f.Queue])
		}
		for _, it := range items {
			if it.Reference == ref {
				return true
			}
		}
		return false
	}
	Eventually(t, "the record has the case", func() error {
		if !has(store.QueueFilter{Queue: store.QueueMine, Person: "agent.queues"}) {
			return fmt.Errorf("not among agent.queues's cases")
		}
		return nil
	})
	if !has(store.QueueFilter{Queue: store.QueueDueSoon, Q: ref}) {
		t.Error("a fresh case (first response due within hours) is not due soon")
	}
	if has(store.QueueFilter{Queue: store.QueueBreached, Q: ref}) {
		t.Error("a fresh case is breached")
	}
	if !has(store.QueueFilter{Queue: store.QueueSearch, Q: "SO-DESK-QUEUES-1"}) {
		t.Error("the search does not find the case by its order id")
	}
	if !has(store.QueueFilter{Queue: store.QueueDepartment, Departments: []string{routed}}) {
		t.Errorf("%s staff do not see the case routed to them", routed)
	}
	if has(store.QueueFilter{Queue: store.QueueSearch, Q: ref, Scoped: true, Departments: []string{"legal-nowhere"}}) {
		t.Error("staff of another department see the case")
	}

	task(t, sys.APIURL, ref, complaint.TaskWaitingOnCustomer, map[string]any{"reason": "A photo of the watch"}, 200)
	Eventually(t, "the case waits on the customer", func() error {
		if !has(store.QueueFilter{Queue: store.QueueWaiting, Q: ref}) {
			return fmt.Errorf("not in the waiting queue")
		}
		return nil
	})
	task(t, sys.APIURL, ref, complaint.TaskCustomerReplied, map[string]any{"reason": "Photo received"}, 200)
	Eventually(t, "the case no longer waits", func() error {
		if has(store.QueueFilter{Queue: store.QueueWaiting, Q: ref}) {
			return fmt.Errorf("still in the waiting queue")
		}
		return nil
	})
}
