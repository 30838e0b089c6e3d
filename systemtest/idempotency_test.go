package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
)

// problemLocations lists the locations a validation problem names.
func problemLocations(r response) []string {
	var out []string
	errs, _ := r.body["errors"].([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok {
			loc, _ := m["location"].(string)
			out = append(out, loc)
		}
	}
	return out
}

// An Idempotency-Key (or external id) names one complaint: a repeat with
// the same body, however its JSON is spaced or ordered, is the same case;
// a repeat with another body is refused with 422, as the IETF draft says,
// and starts nothing.
func TestReusedKeyWithAnotherBodyIsRefused(t *testing.T) {
	body := demoCase(t, "demo-washing-machine-noise")
	delete(body, "externalId")
	first := post(t, sys.APIURL, "/v1/complaints", body, "Idempotency-Key", "systemtest-reused-key")
	if first.status != http.StatusCreated {
		t.Fatalf("first: %d %v", first.status, first.body)
	}
	// The same body, indented and with its fields in another order.
	raw, err := json.MarshalIndent(body, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	same := post(t, sys.APIURL, "/v1/complaints", string(raw), "Idempotency-Key", "systemtest-reused-key")
	if same.status != http.StatusOK || same.body["reference"] != first.body["reference"] {
		t.Fatalf("repeat with the same body: %d %v, want 200 and %v", same.status, same.body, first.body["reference"])
	}

	since := startedSince(time.Now())
	body["description"] = "Another complaint altogether."
	other := post(t, sys.APIURL, "/v1/complaints", body, "Idempotency-Key", "systemtest-reused-key")
	if other.status != http.StatusUnprocessableEntity || other.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("repeat with another body: %d %v, want a 422 problem", other.status, other.body)
	}
	if locs := problemLocations(other); len(locs) != 1 || locs[0] != "header.Idempotency-Key" {
		t.Fatalf("the problem names %v, want header.Idempotency-Key", locs)
	}

	body["externalId"] = "systemtest-reused-external-id"
	if r := post(t, sys.APIURL, "/v1/complaints", body); r.status != http.StatusCreated {
		t.Fatalf("with an external id: %d %v", r.status, r.body)
	}
	body["subject"] = "A different subject"
	r := post(t, sys.APIURL, "/v1/complaints", body)
	if locs := problemLocations(r); r.status != http.StatusUnprocessableEntity || len(locs) != 1 || locs[0] != "body.externalId" {
		t.Fatalf("external id with another body: %d %v, want 422 naming body.externalId", r.status, r.body)
	}
	// Visibility lags: once the external id's case shows, a case the
	// refused calls started would show too.
	query := since + " AND WorkflowId != '" + complaint.WorkflowID(first.body["reference"].(string)) + "'"
	Eventually(t, "the external id's case in visibility", func() error {
		if n := countWorkflows(t, query); n < 1 {
			return fmt.Errorf("%d workflows", n)
		}
		return nil
	})
	if n := countWorkflows(t, query); n != 1 {
		t.Fatalf("%d workflows started since the refused repeat, want only the external id's first", n)
	}
}

// A case past Temporal's retention, which only the record holds, is read
// from the record and marked archived; a reference nobody has is still 404.
func TestArchivedCaseIsReadFromTheRecord(t *testing.T) {
	ctx := context.Background()
	received := time.Now().AddDate(0, -4, 0).UTC().Truncate(time.Millisecond)
	in := complaint.Intake{Channel: complaint.ChannelEmail, Subject: "Invoice charged twice",
		Description: "The same invoice was charged twice.", Category: complaint.CategoryBilling, ExternalID: "systemtest-archived",
		Customer: complaint.Customer{Name: "Zhao Lei", Email: "zhao.lei@example.com"}, ReceivedBy: "agent.li"}
	ref := complaint.KeyedReference("external:systemtest-archived", received, time.UTC, 0)
	c := complaint.Register(in, ref, received, complaint.DefaultRules())
	if _, err := sys.Store.RegisterCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	closed := received.Add(48 * time.Hour)
	if err := sys.Store.RecordStep(ctx, complaint.Step{Reference: ref, Seq: 2, Key: "0002-closed", At: closed,
		Actor: "agent.li", Name: "closed", Summary: "Refunded the second charge", Status: complaint.StatusClosed,
		Closed: &complaint.Closing{At: closed, Outcome: complaint.OutcomeUpheld, Summary: "Refunded the second charge"},
		Round:  1}); err != nil {
		t.Fatal(err)
	}

	r := get(t, sys.APIURL, "/v1/complaints/"+ref)
	if r.status != http.StatusOK || r.body["archived"] != true {
		t.Fatalf("GET of a case past retention: %d %v, want 200 archived", r.status, r.body)
	}
	if r.body["status"] != string(complaint.StatusClosed) || r.body["outcome"] != string(complaint.OutcomeUpheld) ||
		r.body["owner"] != "agent.li" || r.body["category"] != string(complaint.CategoryBilling) ||
		r.body["externalId"] != "systemtest-archived" {
		t.Fatalf("archived case %v", r.body)
	}
	if h, _ := r.body["history"].([]any); len(h) != 2 {
		t.Fatalf("history %v, want received and closed", r.body["history"])
	}
	// A running case is not archived.
	running := demoCase(t, "demo-restaurant-spicy-dish")
	running["externalId"] = "systemtest-not-archived"
	live := post(t, sys.APIURL, "/v1/complaints", running)
	if g := get(t, sys.APIURL, "/v1/complaints/"+live.body["reference"].(string)); g.status != http.StatusOK || g.body["archived"] != nil {
		t.Fatalf("a running case: %d archived=%v", g.status, g.body["archived"])
	}
	if g := get(t, sys.APIURL, "/v1/complaints/CMP-20200101-ABCDEF"); g.status != http.StatusNotFound {
		t.Fatalf("unknown reference: %d %v", g.status, g.body)
	}
}
