package systemtest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/api"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
	"github.com/complaintdesk/complaintdesk/store"
)

// surveyPolicy sends the survey two seconds after closing and a reminder a
// second later, and keeps it open long enough to answer through its link.
func surveyPolicy(c *api.Config) {
	c.Cases.SurveyDelay = 2 * time.Second
	c.Cases.SurveyReminder = time.Second
	c.Cases.SurveyExpiry = time.Minute
	c.Cases.ReopenWindow = c.Cases.SurveyDelay + c.Cases.SurveyExpiry
}

var surveyLink = regexp.MustCompile(`http://\S+/survey\?t=\S+`)

func TestCustomerAndShopHearOfEveryStepOnce(t *testing.T) {
	base := liveAPI(t, surveyPolicy)
	const email = "messages.case@example.com"
	body := demoCase(t, "demo-smartwatch-doa")
	body["externalId"], body["source"] = "systemtest-messages", UpstreamSystem
	// A customer of its own: the same customer again would make a repeat complaint.
	body["customer"] = map[string]any{"id": "messages-test-customer", "name": "Liu Yang", "email": email, "language": "en"}
	r := post(t, base, "/v1/complaints", body)
	if r.status != http.StatusCreated {
		t.Fatalf("intake: %d %v", r.status, r.body)
	}
	ref := r.body["reference"].(string)
	waitStatus(t, base, ref, complaint.StatusAcknowledged)
	task(t, base, ref, "route", map[string]any{"departments": []string{"product"}, "reason": "Hardware only"}, 200)
	task(t, base, ref, "startInvestigation", map[string]any{"department": "product", "investigator": "product.lead"}, 200)
	task(t, base, ref, "submitFindings", map[string]any{"department": "product", "findings": "Dead cell",
		"rootCause": "Supplier QA", "evidence": []string{}}, 200)
	task(t, base, ref, "proposeResolution", map[string]any{"actions": []string{"Replace the watch"},
		"compensation": map[string]any{"kind": "voucher", "amount": "50", "currency": "CNY"},
		"message":      "We replace the watch and add a 50 CNY voucher."}, 200)
	task(t, base, ref, "customerResponse", map[string]any{"accepted": true}, 200)
	task(t, base, ref, "confirmResolved", map[string]any{"resolved": true}, 200)
	task(t, base, ref, "close", map[string]any{"outcome": "upheld", "summary": "Watch replaced"}, 200)

	var mails []mailbox.Message
	Eventually(t, "the survey reminder", func() error {
		mails = sys.Mailbox.Messages(mailbox.To(email))
		if len(mails) < 8 {
			return fmt.Errorf("%d messages so far", len(mails))
		}
		return nil
	})
	wantSubjects := []string{"We have received", "Your complaint has been passed", "We are investigating", "Our proposal",
		"Is the problem solved?",
		"Your complaint has been resolved", "How did we handle", "Reminder: how did we handle"}
	ids := map[string]bool{}
	for i, m := range mails {
		if i >= len(wantSubjects) || !strings.HasPrefix(m.Subject, wantSubjects[i]) || !strings.Contains(m.Subject, ref) {
			t.Fatalf("message %d: %q; all: %v", i, m.Subject, subjects(mails))
		}
		if ids[m.MessageID] || !strings.Contains(m.MessageID, ref) {
			t.Fatalf("message id %q repeated or not derived from the case", m.MessageID)
		}
		ids[m.MessageID] = true
		if m.HTML == "" || !strings.Contains(m.Text, "Liu Yang") {
			t.Fatalf("message %d lacks its HTML part or the greeting: %q", i, m.Text)
		}
	}
	if !strings.Contains(mails[3].Text, "50 CNY voucher") {
		t.Fatalf("the proposal does not carry the proposal: %q", mails[3].Text)
	}

	link := surveyLink.FindString(mails[6].Text)
	if link == "" {
		t.Fatalf("no survey link in %q", mails[6].Text)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	status, _, page := rawCall(t, http.MethodGet, base+"/survey?"+u.RawQuery, nil)
	if status != http.StatusOK || !strings.Contains(page, `name="score"`) || !strings.Contains(page, ref) {
		t.Fatalf("survey page: %d %s", status, page)
	}
	answer := url.Values{"t": {u.Query().Get("t")}, "score": {"4"}, "comment": {"Quick replacement"}}
	for range 2 { // a double click answers once
		if status, _, page = rawCall(t, http.MethodPost, base+"/survey", answer); status != http.StatusOK ||
			!strings.Contains(page, "Thank you") {
			t.Fatalf("survey answer: %d %s", status, page)
		}
	}
	forged := url.Values{"t": {u.Query().Get("t") + "x"}, "score": {"1"}}
	if status, _, _ = rawCall(t, http.MethodPost, base+"/survey", forged); status != http.StatusNotFound &&
		status != http.StatusUnprocessableEntity {
		t.Fatalf("a forged link answered %d", status)
	}
	waitStatus(t, base, ref, complaint.StatusCompleted)
	survey, _ := caseOf(t, base, ref)["survey"].(map[string]any)
	if survey["score"] != 4.0 || survey["comment"] != "Quick replacement" {
		t.Fatalf("survey on the case: %+v", survey)
	}
	if n := len(sys.Mailbox.Messages(mailbox.To(email))); n != 8 {
		t.Fatalf("%d messages to the customer, want 8", n)
	}

	// The shop heard of every step of the audit trail, once each, signed.
	events, err := sys.Store.Events(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	hooks := sys.Upstream.Events(ref)
	if twice := sys.Upstream.Repeated(ref); len(twice) > 0 {
		t.Fatalf("webhooks delivered more than once: %v", twice)
	}
	if len(hooks) != len(events) || hooks[0].Type != "complaint.received" || hooks[len(hooks)-1].Step != events[len(events)-1].Step {
		t.Fatalf("%d webhooks for %d audit events: first %+v, last %+v", len(hooks), len(events), hooks[0], hooks[len(hooks)-1])
	}
	if sys.Upstream.Rejected() != 0 {
		t.Fatalf("%d webhooks failed their signature check", sys.Upstream.Rejected())
	}
	deliveries, err := sys.Store.Deliveries(context.Background(), store.DeliveryFilter{Reference: ref, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deliveries {
		if d.Status != store.DeliverySent {
			t.Fatalf("delivery %s is %s: %s", d.ID, d.Status, d.LastError)
		}
	}
	if want := 8 + len(events); len(deliveries) != want {
		t.Fatalf("%d deliveries recorded, want %d", len(deliveries), want)
	}
}

func subjects(ms []mailbox.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Subject
	}
	return out
}

// A webhook the shop cannot take yet is retried with backoff; one it
// refuses for good is given up, listed for an operator, and the case goes
// on. A customer with a phone and no email is reached by SMS.
func TestWebhooksAreRetriedThenGivenUpWithoutHoldingTheCase(t *testing.T) {
	ctx := context.Background()
	sys.Upstream.Fail(http.StatusServiceUnavailable, 2)
	body := demoCase(t, "demo-restaurant-spicy-dish")
	body["externalId"], body["source"] = "systemtest-webhook-failures", UpstreamSystem
	body["customer"] = map[string]any{"id": "webhook-test-customer", "name": "陈静", "phone": "+86 138 0000 1799"}
	// Entered by the staff member who owns it: no handover step whose
	// webhook could meet the refusal meant for the note's.
	delete(body, "receivedBy")
	r := post(t, sys.APIURL, "/v1/complaints", body)
	if r.status != http.StatusCreated {
		t.Fatalf("intake: %d %v", r.status, r.body)
	}
	ref := r.body["reference"].(string)
	delivery := func(id string) store.Delivery {
		ds, err := sys.Store.Deliveries(ctx, store.DeliveryFilter{Reference: ref, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.ID == id {
				return d
			}
		}
		return store.Delivery{}
	}
	Eventually(t, "the received webhook, after two refusals", func() error {
		if d := delivery(ref + "/received/webhook"); d.Status != store.DeliverySent || d.Attempts != 3 {
			return fmt.Errorf("%+v", d)
		}
		return nil
	})
	// The acknowledgement's webhook goes out after its SMS: the refusal
	// below is meant for the note's, so both must be out first.
	Eventually(t, "the acknowledgement by SMS and its webhook", func() error {
		if d := delivery(ref + "/0002-acknowledgement/sms"); d.Status != store.DeliverySent {
			return fmt.Errorf("%+v", d)
		}
		if d := delivery(ref + "/0002-acknowledged/webhook"); d.Status != store.DeliverySent {
			return fmt.Errorf("%+v", d)
		}
		return nil
	})

	sys.Upstream.Fail(http.StatusGone, 1)
	task(t, sys.APIURL, ref, "addNote", map[string]any{"author": "agent.li", "text": "Called the courier"}, 200)
	var failed []any
	Eventually(t, "the refused webhook on the operators' list", func() error {
		failed, _ = get(t, sys.APIURL, "/v1/deliveries?status=failed&reference="+ref).body["deliveries"].([]any)
		if len(failed) != 1 {
			return fmt.Errorf("%d failed deliveries", len(failed))
		}
		return nil
	})
	f := failed[0].(map[string]any)
	if f["channel"] != "webhook" || !strings.Contains(f["lastError"].(string), "410") {
		t.Fatalf("failed delivery %+v", f)
	}

	// The shop is back: an operator sends the failed webhook again. It
	// arrives with the same id and body, its signature checked by the
	// standard's library, and the delivery is sent.
	failedID := f["id"].(string)
	redeliver := "/v1/deliveries/" + url.PathEscape(failedID) + "/redeliver"
	if r := post(t, sys.APIURL, "/v1/deliveries/"+url.PathEscape(ref+"/received/webhook")+"/redeliver", nil); r.status != http.StatusConflict {
		t.Fatalf("redelivering a sent webhook: %d %v, want 409", r.status, r.body)
	}
	if r := post(t, sys.APIURL, redeliver, nil, "Authorization", "Bearer "+sys.APIKey); r.status != http.StatusForbidden {
		t.Fatalf("redelivery by an upstream system: %d %v, want 403", r.status, r.body)
	}
	before := len(sys.Upstream.Events(ref))
	r = post(t, sys.APIURL, redeliver, nil, "Authorization", "Bearer "+sys.OperatorToken)
	if r.status != http.StatusOK && r.status != http.StatusAccepted {
		t.Fatalf("redelivery: %d %v", r.status, r.body)
	}
	Eventually(t, "the redelivered webhook sent", func() error {
		if d := delivery(failedID); d.Status != store.DeliverySent || d.Attempts != 1 {
			return fmt.Errorf("%+v", d)
		}
		return nil
	})
	evs := sys.Upstream.Events(ref)
	if len(evs) != before+1 || evs[len(evs)-1].ID+"/webhook" != failedID || evs[len(evs)-1].Step != "note" {
		t.Fatalf("the shop received %+v after the redelivery, want the note's event once more", evs[before:])
	}
	if r := post(t, sys.APIURL, "/v1/deliveries/"+url.PathEscape(ref+"/0099-nothing/webhook")+"/redeliver", nil); r.status != http.StatusNotFound {
		t.Fatalf("redelivering an unknown delivery: %d %v, want 404", r.status, r.body)
	}

	// The case's deliveries page by page: every one once, newest first.
	all, err := sys.Store.Deliveries(ctx, store.DeliveryFilter{Reference: ref, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var paged []string
	for cursor := ""; ; {
		page := get(t, sys.APIURL, "/v1/deliveries?limit=2&reference="+ref+"&cursor="+url.QueryEscape(cursor))
		if page.status != http.StatusOK {
			t.Fatalf("deliveries page: %d %v", page.status, page.body)
		}
		for _, d := range page.body["deliveries"].([]any) {
			paged = append(paged, d.(map[string]any)["id"].(string))
		}
		next, _ := page.body["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	var want []string
	for _, d := range all {
		want = append(want, d.ID)
	}
	if len(want) < 3 || !slices.Equal(paged, want) {
		t.Fatalf("paged deliveries %v, want %v", paged, want)
	}
	if r := get(t, sys.APIURL, "/v1/deliveries?cursor=not-a-cursor"); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("a bad cursor: %d %v, want 422", r.status, r.body)
	}
	task(t, sys.APIURL, ref, "withdraw", map[string]any{"reason": "Parcel arrived"}, 200)
	if final := waitEnded(t, ref); final.Status != complaint.StatusWithdrawn {
		t.Fatalf("status %s", final.Status)
	}
}
