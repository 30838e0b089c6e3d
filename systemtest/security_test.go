package systemtest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/complaintdesk/complaintdesk/auth"
	"github.com/complaintdesk/complaintdesk/codec"
	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

// The customer of the confidentiality test: every value is unique to it.
var personal = map[string]string{
	"name":        "Ingrid Confidential-Xu",
	"email":       "ingrid.xu.private@example.com",
	"phone":       "+86 139 0000 7777",
	"description": "The toaster 7Q9Z burned the kitchen curtains",
	"customerId":  "cust-private-4242",
}

// rawHistory reads a workflow's history as Temporal keeps it, without the
// codec: what anyone with access to Temporal but no key sees.
func rawHistory(t *testing.T, id string) *historypb.History {
	t.Helper()
	h := historyOf(t, sys.RawClient, id)
	if len(h.Events) == 0 {
		t.Fatalf("no history for %s", id)
	}
	return h
}

// historyOf reads a workflow's history through c.
func historyOf(t *testing.T, c client.Client, id string) *historypb.History {
	t.Helper()
	h, err := History(context.Background(), c, id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// payloadsOf collects every payload of a history (search attributes apart).
func payloadsOf(t *testing.T, h *historypb.History) []*commonpb.Payload {
	t.Helper()
	var all []*commonpb.Payload
	err := proxy.VisitPayloads(context.Background(), h, proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
			all = append(all, p...)
			return p, nil
		},
		SkipSearchAttributes: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func showsPersonalData(data []byte) string {
	for field, v := range personal {
		if strings.Contains(string(data), v) {
			return field
		}
	}
	return ""
}

func TestCustomerDataIsConfidentialAndErasable(t *testing.T) {
	ctx := context.Background()
	body := map[string]any{
		"channel": "web", "category": "billing", "severity": "medium", "externalId": "systemtest-private",
		"customer": map[string]any{"id": personal["customerId"], "name": personal["name"],
			"email": personal["email"], "phone": personal["phone"], "language": "en"},
		"subject": "Charged for a burned toaster", "description": personal["description"],
	}
	// An upstream system submits and reads its own case; another's is hidden.
	r := post(t, sys.APIURL, "/v1/complaints", body, "Authorization", "Bearer "+sys.APIKey)
	if r.status != http.StatusCreated {
		t.Fatalf("submit with the API key: %d %v", r.status, r.body)
	}
	ref := r.body["reference"].(string)
	if g := post(t, sys.APIURL, "/v1/complaints", body, "Authorization", "Bearer "+sys.APIKey); g.status != http.StatusOK ||
		g.body["reference"] != ref {
		t.Fatalf("the same submission again: %d %v", g.status, g.body)
	}
	if g := post(t, sys.APIURL, "/v1/complaints", body, "Authorization", ""); g.status != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d", g.status)
	}
	waitStatus(t, sys.APIURL, ref, complaint.StatusAcknowledged)
	if g := get(t, sys.APIURL, "/v1/complaints/"+ref); g.status != http.StatusOK {
		t.Fatalf("the admin reads the case: %d", g.status)
	}
	asSystem := func(key string) int {
		req, err := http.NewRequest(http.MethodGet, sys.APIURL+"/v1/complaints/"+ref, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		return send(t, req).status
	}
	if code := asSystem(sys.APIKey); code != http.StatusOK {
		t.Fatalf("the submitting system reads its case: %d", code)
	}
	id, other, hash, err := auth.NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Store.CreateAPIKey(ctx, store.APIKey{ID: id, Name: "crm", System: "crm"}, hash); err != nil {
		t.Fatal(err)
	}
	if code := asSystem(other); code != http.StatusNotFound {
		t.Fatalf("another system reads the case: %d", code)
	}
	if err := sys.Store.RevokeAPIKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	if code := asSystem(other); code != http.StatusUnauthorized {
		t.Fatalf("a revoked key: %d", code)
	}
	task(t, sys.APIURL, ref, "startInvestigation", map[string]any{"department": "billing", "investigator": "bill.lead"}, 200)
	task(t, sys.APIURL, ref, "submitFindings", map[string]any{"department": "billing", "findings": "Charged once",
		"rootCause": "None", "evidence": []string{}}, 200)
	task(t, sys.APIURL, ref, "close", map[string]any{"outcome": "rejected", "summary": "No double charge"}, 200)
	waitStatus(t, sys.APIURL, ref, complaint.StatusClosed)
	ids := []string{complaint.WorkflowID(ref), complaint.DepartmentWorkflowID(ref, "billing")}

	// The audit trail names the staff member whose token made each step.
	Eventually(t, "the closing in the audit trail", func() error {
		events, err := sys.Store.Events(ctx, ref)
		if err != nil {
			return err
		}
		for _, e := range events {
			if e.Step == "closed" {
				if e.Actor != "dev.admin" {
					return fmt.Errorf("closed by %q", e.Actor)
				}
				return nil
			}
		}
		return fmt.Errorf("no closing in %+v", events)
	})

	// Raw history: every payload encrypted, under the case's key, nothing
	// personal anywhere in the events.
	var sealed []*commonpb.Payload
	for _, id := range ids {
		h := rawHistory(t, id)
		raw, err := proto.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if f := showsPersonalData(raw); f != "" {
			t.Fatalf("the raw history of %s shows the customer's %s", id, f)
		}
		for _, p := range payloadsOf(t, h) {
			// The one plain payload is the tracing header the OpenTelemetry
			// interceptor writes: a trace id, nothing of the customer.
			traceHeader := strings.HasPrefix(string(p.GetData()), `{"traceparent":`)
			if enc := string(p.GetMetadata()["encoding"]); enc != codec.EncodingEncrypted && !traceHeader {
				t.Fatalf("a payload of %s is %q, not encrypted: %.200s", id, enc, p.GetData())
			}
			if string(p.GetMetadata()[codec.MetadataKeyID]) == codec.KeyID(codec.CaseScope(ref), 1) {
				sealed = append(sealed, p)
			}
		}
	}
	if len(sealed) < 5 {
		t.Fatalf("only %d payloads under the case's key", len(sealed))
	}
	// With the key they read back: the customer's name is in the case.
	decoded, err := codec.New(sys.Keys).Decode(sealed)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range decoded {
		found = found || strings.Contains(string(p.GetData()), personal["name"])
	}
	if !found {
		t.Fatal("no decoded payload holds the customer's name")
	}
	// Search attributes and logs.
	for _, id := range ids {
		desc, err := sys.RawClient.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields() {
			if f := showsPersonalData(p.GetData()); f != "" {
				t.Fatalf("search attribute %s of %s shows the customer's %s", name, id, f)
			}
		}
	}
	if f := showsPersonalData([]byte(sys.Logs.String())); f != "" {
		t.Fatalf("the logs show the customer's %s", f)
	}

	// The codec server decodes for an operator, not for an agent.
	codecBody := `{"payloads":[{"metadata":{"encoding":"` + b64(codec.EncodingEncrypted) + `","` + codec.MetadataKeyID +
		`":"` + b64(string(sealed[0].GetMetadata()[codec.MetadataKeyID])) + `"},"data":"` + b64(string(sealed[0].GetData())) + `"}]}`
	if c := post(t, sys.APIURL, "/codec/decode", codecBody, "Authorization", "Bearer "+sys.OperatorToken); c.status != http.StatusOK {
		t.Fatalf("codec server for an operator: %d %v", c.status, c.body)
	} else if c.body["payloads"].([]any)[0].(map[string]any)["metadata"].(map[string]any)["encoding"] != b64("json/plain") {
		t.Fatalf("codec server did not decode: %v", c.body)
	}

	// Erasure: admins only.
	summary := func() string {
		_, _, s := getRaw(t, "/v1/reports/summary?category=billing")
		return s
	}
	before := summary()
	if e := post(t, sys.APIURL, "/v1/admin/erasures", map[string]string{"email": personal["email"]},
		"Authorization", "Bearer "+sys.OperatorToken); e.status != http.StatusForbidden {
		t.Fatalf("an operator erasing: %d", e.status)
	}
	e := post(t, sys.APIURL, "/v1/admin/erasures", map[string]string{"email": strings.ToUpper(personal["email"])})
	if e.status != http.StatusOK || fmt.Sprint(e.body["references"]) != "["+ref+"]" {
		t.Fatalf("erasure: %d %v", e.status, e.body)
	}
	// The history can no longer be read, even by a process that never saw
	// the key before.
	fresh, err := codec.Open(ctx, codec.Config{MasterKeys: sys.Secrets.MasterKeys}, sys.Store)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		for _, p := range payloadsOf(t, rawHistory(t, id)) {
			out, err := codec.New(fresh).Decode([]*commonpb.Payload{p})
			switch {
			case string(p.GetMetadata()["encoding"]) != codec.EncodingEncrypted: // the tracing header
			case string(p.GetMetadata()[codec.MetadataKeyID]) == codec.KeyID(codec.CaseScope(ref), 1):
				if !errors.Is(err, codec.ErrKeyDestroyed) {
					t.Fatalf("a payload of %s decodes after erasure: %v", id, err)
				}
			case err != nil:
				t.Fatalf("a payload of %s under another key: %v", id, err)
			default:
				if f := showsPersonalData(out[0].GetData()); f != "" {
					t.Fatalf("a payload of %s outside the case's key shows the customer's %s", id, f)
				}
			}
		}
	}
	// The database keeps the case and its figures, not the person.
	conn, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var name, description string
	var email, phone, customerID *string
	if err := conn.QueryRow(ctx, `SELECT name, email, phone, customer_id, description FROM customer_contacts
		WHERE reference = $1`, ref).Scan(&name, &email, &phone, &customerID, &description); err != nil {
		t.Fatal(err)
	}
	if name != store.ErasedName || description != store.ErasedName || email != nil || phone != nil || customerID != nil {
		t.Fatalf("contact after erasure: %s %v %v %v %s", name, email, phone, customerID, description)
	}
	if row, err := sys.Store.Case(ctx, ref); err != nil || row.Status != complaint.StatusClosed || row.Category != "billing" {
		t.Fatalf("the case record after erasure: %+v %v", row, err)
	}
	events, err := sys.Store.Events(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1]; last.Step != "personal_data_erased" || last.Actor != "dev.admin" {
		t.Fatalf("the erasure is not in the audit trail: %+v", last)
	}
	if after := summary(); after != before {
		t.Fatalf("the reports changed with the erasure:\nbefore %s\nafter  %s", before, after)
	}
	if again := post(t, sys.APIURL, "/v1/admin/erasures", map[string]string{"email": personal["email"]}); again.status != http.StatusNotFound {
		t.Fatalf("erasing again: %d %v", again.status, again.body)
	}
}

func b64(s string) string { return base64Std.EncodeToString([]byte(s)) }

var base64Std = base64.StdEncoding
