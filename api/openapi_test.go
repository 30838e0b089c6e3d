package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/starter"
	"github.com/complaintdesk/complaintdesk/store"
)

// loadDocument reads the served OpenAPI document with an independent
// parser (pb33f/libopenapi); a document it cannot build fails the test.
func loadDocument(t *testing.T) *v3.Document {
	t.Helper()
	rec := do(t, securedServer(&ownedCases{}, &fakeSubmitters{}), http.MethodGet, "/openapi.json", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("openapi.json: %d", rec.Code)
	}
	doc, err := libopenapi.NewDocument(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("the document does not build: %v", err)
	}
	return &model.Model
}

// documentedStatuses maps each operation id to the statuses it documents.
func documentedStatuses(doc *v3.Document) map[string][]int {
	out := map[string][]int{}
	for _, item := range doc.Paths.PathItems.FromOldest() {
		for _, op := range item.GetOperations().FromOldest() {
			for code := range op.Responses.Codes.KeysFromOldest() {
				if n, err := strconv.Atoi(code); err == nil {
					out[op.OperationId] = append(out[op.OperationId], n)
				}
			}
		}
	}
	return out
}

// The document lints: every operation named, summarised and answering a
// 2xx; every protected operation under the bearer scheme; every error
// response an RFC 9457 problem; every webhook event described.
func TestOpenAPIDocumentLints(t *testing.T) {
	doc := loadDocument(t)
	if !strings.HasPrefix(doc.Version, "3.1") {
		t.Fatalf("OpenAPI %s, want 3.1", doc.Version)
	}
	scheme, ok := doc.Components.SecuritySchemes.Get(bearerScheme)
	if !ok || scheme.Type != "http" || scheme.Scheme != "bearer" {
		t.Fatalf("no bearer security scheme: %+v", scheme)
	}
	for path, item := range doc.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			where := method + " " + path
			if op.OperationId == "" || op.Summary == "" {
				t.Errorf("%s: no operationId or summary", where)
			}
			protected := permissions[op.OperationId] != nil
			secured := len(op.Security) == 1 && op.Security[0].Requirements != nil
			if secured {
				_, secured = op.Security[0].Requirements.Get(bearerScheme)
			}
			if protected != secured {
				t.Errorf("%s: protected %v but bearer security %v", where, protected, secured)
			}
			success := false
			for code, resp := range op.Responses.Codes.FromOldest() {
				n, err := strconv.Atoi(code)
				switch {
				case err != nil:
					t.Errorf("%s: response %q is not a status", where, code)
				case n < 300:
					success = true
				case resp.Content == nil:
					t.Errorf("%s: %d has no content", where, n)
				default:
					if _, ok := resp.Content.Get("application/problem+json"); !ok {
						t.Errorf("%s: %d is not a problem", where, n)
					}
				}
			}
			if !success {
				t.Errorf("%s: no 2xx response", where)
			}
		}
	}
	for _, step := range complaint.StepNames {
		item, ok := doc.Webhooks.Get("complaint." + step)
		if !ok || item.Post == nil || item.Post.RequestBody == nil {
			t.Errorf("webhook complaint.%s is not described", step)
		}
	}
	if n := doc.Webhooks.Len(); n != len(complaint.StepNames) {
		t.Errorf("%d webhooks, want one per step (%d)", n, len(complaint.StepNames))
	}
}

// failingRecords is a database that is away.
type failingRecords struct{ err error }

func (f failingRecords) ListCases(context.Context, store.ListFilter) (store.CasePage, error) {
	return store.CasePage{}, f.err
}
func (f failingRecords) Summary(context.Context, store.ReportFilter) (store.Summary, error) {
	return store.Summary{}, f.err
}
func (f failingRecords) DeliveryPage(context.Context, store.DeliveryFilter) (store.DeliveryPage, error) {
	return store.DeliveryPage{}, f.err
}
func (f failingRecords) Delivery(context.Context, string) (store.Delivery, error) {
	return store.Delivery{}, f.err
}
func (f failingRecords) Breakdown(context.Context, store.ReportFilter, time.Time) (store.Breakdown, error) {
	return store.Breakdown{}, f.err
}
func (f failingRecords) ReportCases(context.Context, store.ReportFilter, store.CaseFigure) ([]store.ReportCase, error) {
	return nil, f.err
}

// Every status the API answers is one its document lists for the
// operation: each operation is called as every role and without
// credentials, with a malformed, an oversized and an invalid body, an
// unknown parameter, over the rate limit, and with Temporal and the
// database failing in each way the handlers map.
func TestEveryAnsweredStatusIsDocumented(t *testing.T) {
	documented := documentedStatuses(loadDocument(t))
	seen := map[string]map[int]bool{}
	check := func(op string, code int, how string) {
		if seen[op] == nil {
			seen[op] = map[int]bool{}
		}
		seen[op][code] = true
		if !slices.Contains(documented[op], code) {
			t.Errorf("%s answered %d (%s), which its document does not list (it lists %v)", op, code, how, documented[op])
		}
	}
	// What the starter and the store can answer each kind of operation.
	starterFailures := func(op string) map[string]error {
		switch {
		case op == "submitComplaint":
			return map[string]error{"key clash": starter.ErrKeyClash, "key reused": starter.ErrKeyReused,
				"unavailable": starter.ErrUnavailable}
		case op == "redeliverDelivery":
			return map[string]error{"under way": starter.ErrConflict, "unavailable": starter.ErrUnavailable,
				"rejected": &starter.RejectedError{Message: "not a webhook"}}
		case op == "getComplaint":
			return map[string]error{"not found": starter.ErrNotFound, "unavailable": starter.ErrUnavailable}
		}
		return map[string]error{"not found": starter.ErrNotFound, "conflict": starter.ErrConflict,
			"ended": starter.ErrEnded, "unavailable": starter.ErrUnavailable, "rejected": &starter.RejectedError{Message: "no"}}
	}
	storeFailures := func(op string) map[string]error {
		out := map[string]error{"store unavailable": store.ErrUnavailable}
		switch op {
		case "listComplaints", "listDeliveries":
			out["bad cursor"] = store.ErrBadCursor
		case "reportSummary", "reportBreakdown", "reportCases":
			out["bad filter"] = store.ErrBadFilter
		case "redeliverDelivery":
			out["no such delivery"] = store.ErrNotFound
		}
		return out
	}
	for op, ep := range endpoints {
		path := ep.path
		if path == "" {
			path = "/v1/complaints/" + caseRef + "/" + strings.TrimPrefix(op, "task-")
		}
		call := func(h http.Handler, how, method, path, body string, header ...string) {
			check(op, do(t, h, method, path, body, header...).Code, how)
		}
		h := securedServer(&ownedCases{}, &fakeSubmitters{})
		call(h, "anonymous", ep.method, path, ep.body, "Authorization", "")
		for role, token := range callers {
			call(h, string(role), ep.method, path, ep.body, "Authorization", "Bearer "+token)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		call(h, "unknown parameter", ep.method, path+sep+"bogus=1", ep.body)
		if ep.method == http.MethodPost {
			call(h, "malformed body", ep.method, path, `{"`)
			call(h, "invalid body", ep.method, path, `{"bogus": true}`)
			call(h, "oversized body", ep.method, path, `{"x":"`+strings.Repeat("x", 1<<20)+`"}`)
		}
		for how, err := range starterFailures(op) {
			fh := (&Server{Cases: &fakeCases{err: err}, Database: pinger{err: err}, RequestTimeout: time.Second,
				Auth: testAuth(), Records: tableRecords{}, Deliveries: tableRecords{}, Redeliveries: failingRedelivery{err}, Breakdowns: tableRecords{},
				Submitters: &fakeSubmitters{}, Eraser: fakeEraser{}}).Handler()
			call(fh, how, ep.method, path, ep.body)
		}
		for how, err := range storeFailures(op) {
			fh := (&Server{Cases: &ownedCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth(),
				Records: failingRecords{err}, Deliveries: failingRecords{err}, Redeliveries: sentAgain{},
				Breakdowns: failingRecords{err},
				Submitters: &fakeSubmitters{}, Eraser: fakeEraser{}}).Handler()
			call(fh, how, ep.method, path, ep.body)
		}
		limited := &Server{Cases: &ownedCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth(),
			Records: tableRecords{}, Deliveries: tableRecords{}, Redeliveries: sentAgain{}, Breakdowns: tableRecords{},
			Submitters: &fakeSubmitters{},
			Eraser:     fakeEraser{}}
		limited.Auth.Rate, limited.Auth.Burst = 1e-9, 1
		lh := limited.Handler()
		call(lh, "first call", ep.method, path, ep.body)
		call(lh, "over the rate limit", ep.method, path, ep.body)
	}
	// The scenarios reach the problems that matter.
	for op, want := range map[string][]int{
		"submitComplaint": {400, 401, 403, 413, 422, 429, 503}, "getComplaint": {401, 404, 503},
		"task-close": {400, 401, 403, 404, 409, 413, 422, 429, 503}, "listDeliveries": {401, 403, 422, 503},
		"redeliverDelivery": {401, 403, 404, 409, 503},
	} {
		for _, code := range want {
			if !seen[op][code] {
				t.Errorf("%s never answered %d: the scenarios miss it", op, code)
			}
		}
	}
}

// failingRedelivery fails every redelivery with err.
type failingRedelivery struct{ err error }

func (f failingRedelivery) Redeliver(context.Context, string, time.Duration) (bool, error) {
	return false, f.err
}

// /docs works offline: its page and scripts come from the API itself,
// without credentials, and name no other origin.
func TestDocsAreServedFromEmbeddedAssets(t *testing.T) {
	h := securedServer(&ownedCases{}, &fakeSubmitters{})
	page := do(t, h, http.MethodGet, "/docs", "", "Authorization", "")
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "/docs/assets/swagger-ui-bundle.js") {
		t.Fatalf("/docs: %d %.300s", page.Code, page.Body)
	}
	if strings.Contains(page.Body.String(), "://") {
		t.Fatalf("/docs names another origin: %s", page.Body)
	}
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("/docs CSP %q", csp)
	}
	for _, asset := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "docs.js"} {
		rec := do(t, h, http.MethodGet, "/docs/assets/"+asset, "", "Authorization", "")
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("%s: %d", asset, rec.Code)
		}
	}
	if rec := do(t, h, http.MethodGet, "/docs/assets/docs.js", ""); !strings.Contains(rec.Body.String(), "/openapi.json") {
		t.Errorf("the page does not read the API's own document: %s", rec.Body)
	}
}
