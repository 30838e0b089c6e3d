package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

// fakeRecords records the filters that reached the database.
type fakeRecords struct {
	list    []store.ListFilter
	reports []store.ReportFilter
	err     error
}

func (f *fakeRecords) ListCases(ctx context.Context, lf store.ListFilter) (store.CasePage, error) {
	f.list = append(f.list, lf)
	if f.err != nil {
		return store.CasePage{}, f.err
	}
	return store.CasePage{Items: []store.ListItem{{Reference: "CMP-20010101-AAAAAA", Status: "closed",
		Departments: []string{"legal"}, ReceivedAt: time.Date(2001, 1, 1, 2, 0, 0, 0, time.UTC)}}, NextCursor: "next"}, nil
}

func (f *fakeRecords) Summary(ctx context.Context, rf store.ReportFilter) (store.Summary, error) {
	f.reports = append(f.reports, rf)
	if f.err != nil {
		return store.Summary{}, f.err
	}
	avg, rate := 4.5, 0.25
	return store.Summary{From: rf.From, To: rf.To, TimeZone: "Asia/Shanghai", Cases: 12,
		Satisfaction: store.Satisfaction{Responses: 2, Average: &avg, Distribution: []store.ScoreCount{{Score: 4, Count: 1}, {Score: 5, Count: 1}}},
		Resolution:   store.Rate{Count: 1, Of: 4, Rate: &rate},
		SLA:          []store.ClockCompliance{{Clock: "acknowledge", Decided: 4, Met: 1, Breached: 3, Compliance: &rate}},
		ByCategory:   []store.Share{{Key: "legal", Count: 12}},
		Trend:        store.Trend{Interval: "day", Points: []store.TrendPoint{{Period: "2001-01-01", Cases: 12}}},
		Compensation: []store.CompensationTotal{{Currency: "CNY", Cases: 2, Amount: "300.50"}},
	}, nil
}

func readServer(records *fakeRecords) http.Handler {
	return (&Server{Cases: &fakeCases{}, Database: pinger{}, RequestTimeout: time.Second, Records: records, Auth: testAuth()}).Handler()
}

func TestListPassesTheFilters(t *testing.T) {
	records := &fakeRecords{}
	h := readServer(records)
	rec := do(t, h, http.MethodGet, "/v1/complaints?status=closed&category=legal&department=legal&owner=agent.li"+
		"&channel=web&breached=false&from=2001-01-01&to=2001-01-31&q=parcel+damaged&cursor=abc&limit=20", "")
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	no := false
	want := store.ListFilter{Status: "closed", Category: "legal", Department: "legal", Owner: "agent.li", Channel: "web",
		Breached: &no, From: "2001-01-01", To: "2001-01-31", Q: "parcel damaged", Cursor: "abc", Limit: 20}
	if len(records.list) != 1 || !reflect.DeepEqual(records.list[0], want) {
		t.Fatalf("filter %+v, want %+v", records.list, want)
	}
	var page struct {
		Items      []map[string]any `json:"items"`
		NextCursor string           `json:"nextCursor"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0]["reference"] != "CMP-20010101-AAAAAA" || page.NextCursor != "next" {
		t.Fatalf("page %s", rec.Body)
	}
	// Without parameters: everything, 50 a page.
	if rec := do(t, h, http.MethodGet, "/v1/complaints", ""); rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := records.list[1]; !reflect.DeepEqual(got, store.ListFilter{Limit: 50}) {
		t.Fatalf("default filter %+v", got)
	}
}

func TestBadReadParametersAre422NamingTheParameter(t *testing.T) {
	for path, location := range map[string]string{
		"/v1/complaints?status=lost":                         "query.status",
		"/v1/complaints?category=food":                       "query.category",
		"/v1/complaints?channel=fax":                         "query.channel",
		"/v1/complaints?department=Legal+Team":               "query.department",
		"/v1/complaints?breached=maybe":                      "query.breached",
		"/v1/complaints?limit=0":                             "query.limit",
		"/v1/complaints?limit=201":                           "query.limit",
		"/v1/complaints?limit=ten":                           "query.limit",
		"/v1/complaints?from=2001-02-30":                     "query.from",
		"/v1/complaints?to=yesterday":                        "query.to",
		"/v1/complaints?from=2001-02-01&to=2001-01-31":       "query.to",
		"/v1/complaints?q=" + strings.Repeat("x", 201):       "query.q",
		"/v1/complaints?stauts=closed":                       "query.stauts",
		"/v1/reports/summary?from=2001-1-1":                  "query.from",
		"/v1/reports/summary?from=2001-02-01&to=2001-01-31":  "query.to",
		"/v1/reports/summary?category=food":                  "query.category",
		"/v1/reports/summary?department=x-y":                 "query.department",
		"/v1/reports/summary?interval=year":                  "query.interval",
		"/v1/reports/summary?format=xml":                     "query.format",
		"/v1/reports/summary?period=2001":                    "query.period",
		"/v1/reports/summary?category=legal&catgory=billing": "query.catgory",
	} {
		records := &fakeRecords{}
		rec := do(t, readServer(records), http.MethodGet, path, "")
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422: %s", path, rec.Code, rec.Body)
			continue
		}
		if p := readProblem(t, rec); !hasLocation(p, location) {
			t.Errorf("%s: problem does not name %s: %s", path, location, rec.Body)
		}
		if len(records.list)+len(records.reports) != 0 {
			t.Errorf("%s: bad parameters reached the database", path)
		}
	}
}

func TestReadErrorsBecomeProblems(t *testing.T) {
	for _, tc := range []struct {
		err      error
		status   int
		location string
	}{
		{fmt.Errorf("%w: dial tcp: connection refused", store.ErrUnavailable), 503, ""},
		{context.DeadlineExceeded, 503, ""},
		{store.ErrBadCursor, 422, "query.cursor"},
		{errors.New("syntax error"), 500, ""},
	} {
		h := readServer(&fakeRecords{err: tc.err})
		for _, path := range []string{"/v1/complaints?cursor=x", "/v1/reports/summary"} {
			if path == "/v1/reports/summary" && tc.location != "" {
				continue
			}
			rec := do(t, h, http.MethodGet, path, "")
			if rec.Code != tc.status {
				t.Errorf("%s with %v: status %d, want %d", path, tc.err, rec.Code, tc.status)
				continue
			}
			if p := readProblem(t, rec); tc.location != "" && !hasLocation(p, tc.location) {
				t.Errorf("%s with %v: problem does not name %s: %s", path, tc.err, tc.location, rec.Body)
			}
		}
	}
	// A server without a database answers 503 too.
	h := (&Server{Cases: &fakeCases{}, Database: pinger{}, RequestTimeout: time.Second, Auth: testAuth()}).Handler()
	for _, path := range []string{"/v1/complaints", "/v1/reports/summary"} {
		if rec := do(t, h, http.MethodGet, path, ""); rec.Code != 503 {
			t.Errorf("%s without records: %d", path, rec.Code)
		}
	}
}

func TestSummaryAsJSONAndCSV(t *testing.T) {
	records := &fakeRecords{}
	h := readServer(records)
	rec := do(t, h, http.MethodGet, "/v1/reports/summary?from=2001-01-01&to=2001-12-31&category=legal&department=legal&interval=week", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, %s: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	want := store.ReportFilter{From: "2001-01-01", To: "2001-12-31", Category: "legal", Department: "legal", Interval: "week"}
	if !reflect.DeepEqual(records.reports[0], want) {
		t.Fatalf("filter %+v, want %+v", records.reports[0], want)
	}
	var sum store.Summary
	if err := json.Unmarshal(rec.Body.Bytes(), &sum); err != nil || sum.Cases != 12 || *sum.Satisfaction.Average != 4.5 {
		t.Fatalf("summary %s (%v)", rec.Body, err)
	}

	rec = do(t, h, http.MethodGet, "/v1/reports/summary?format=csv&from=2001-01-01", "")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("status %d, %s: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		if len(r) != 3 {
			t.Fatalf("row %v is not measure,key,value", r)
		}
		got[r[0]+"|"+r[1]] = r[2]
	}
	for k, v := range map[string]string{
		"measure|key": "value", "from|": "2001-01-01", "cases|": "12", "satisfaction.average|": "4.5",
		"satisfaction.score|5": "1", "resolution.rate|": "0.25", "resolution.of|": "4", "sla.compliance|acknowledge": "0.25",
		"sla.breached|acknowledge": "3", "byCategory.count|legal": "12", "trend.cases|2001-01-01": "12",
		"compensation.amount|CNY": "300.50", "handling.medianSeconds|": "",
	} {
		if got[k] != v {
			t.Errorf("CSV %s = %q, want %q", k, got[k], v)
		}
	}
}

func TestReportsPageAndItsAssets(t *testing.T) {
	h := readServer(&fakeRecords{})
	rec := do(t, h, http.MethodGet, "/reports", "")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("page CSP %q", csp)
	}
	page := rec.Body.String()
	for _, asset := range []string{"/reports/assets/chart.umd.min.js", "/reports/assets/reports.js", "/reports/assets/reports.css"} {
		if !strings.Contains(page, `"`+asset+`"`) {
			t.Errorf("the page does not load %s", asset)
		}
		rec := do(t, h, http.MethodGet, asset, "")
		if rec.Code != 200 || rec.Body.Len() == 0 {
			t.Errorf("%s: %d", asset, rec.Code)
		}
	}
	for _, id := range []string{"chart-category", "chart-trend", "chart-sla", "chart-satisfaction"} {
		if !strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("the page has no %s", id)
		}
	}
	lib := do(t, h, http.MethodGet, "/reports/assets/chart.umd.min.js", "")
	if !strings.Contains(lib.Body.String()[:300], "Released under the MIT License") {
		t.Errorf("Chart.js without its licence header: %.200s", lib.Body)
	}
	if ct := lib.Header().Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("Chart.js served as %q", ct)
	}
	for _, path := range []string{"/reports/assets/", "/reports/assets/nothing.js", "/reports/extra"} {
		if rec := do(t, h, http.MethodGet, path, ""); rec.Code != 404 {
			t.Errorf("%s: %d, want 404", path, rec.Code)
		}
	}
}

func TestReadEnumTagsMatchTheDomain(t *testing.T) {
	for _, tc := range []struct {
		typ   reflect.Type
		field string
		want  []string
	}{
		{reflect.TypeFor[listInput](), "Status", complaint.Names(complaint.Statuses)},
		{reflect.TypeFor[listInput](), "Category", complaint.Names(complaint.Categories)},
		{reflect.TypeFor[listInput](), "Channel", complaint.Names(complaint.Channels)},
		{reflect.TypeFor[summaryInput](), "Category", complaint.Names(complaint.Categories)},
	} {
		f, _ := tc.typ.FieldByName(tc.field)
		if got := strings.Split(f.Tag.Get("enum"), ","); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s.%s enum tag %v, want %v", tc.typ, tc.field, got, tc.want)
		}
	}
}

func TestOpenAPIDocumentsTheReads(t *testing.T) {
	rec := do(t, readServer(&fakeRecords{}), http.MethodGet, "/openapi.json", "")
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
			} `json:"parameters"`
			Responses map[string]struct {
				Content map[string]any `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	list := doc.Paths["/v1/complaints"]["get"]
	if len(list.Parameters) != 11 || list.Responses["200"].Content["application/json"] == nil {
		t.Errorf("list operation: %+v", list)
	}
	summary := doc.Paths["/v1/reports/summary"]["get"]
	for _, ct := range []string{"application/json", "text/csv"} {
		if summary.Responses["200"].Content[ct] == nil {
			t.Errorf("the summary does not document %s: %+v", ct, summary.Responses)
		}
	}
}

// Browsers ask every origin for /favicon.ico before anyone signs in: it is
// an image anyone may fetch, not a refused request in each page's console.
func TestTheIconNeedsNoSignIn(t *testing.T) {
	h := readServer(&fakeRecords{})
	rec := do(t, h, http.MethodGet, "/favicon.ico", "")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/svg+xml" ||
		!strings.HasPrefix(rec.Body.String(), "<svg") {
		t.Fatalf("icon: %d %s %.40s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if rec := do(t, h, http.MethodPost, "/favicon.ico", ""); rec.Code < 400 {
		t.Fatalf("POST /favicon.ico: %d", rec.Code)
	}
}
