package systemtest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

// The breakdown of the known cases of 1999 (a year before every other
// test's), worked out by hand from knownCases, with CCCCCC reopened once.
// January to March holds A to G (H arrived on 1 April, Shanghai time).
func TestBreakdownOfKnownCases(t *testing.T) {
	const year = 1999
	writeKnownCases(t, year)
	if err := sys.Store.RecordStep(context.Background(), complaint.Step{Reference: knownRef(year, knownCases[2]),
		Seq: 1, Key: "0009-reopened", At: knownReceived(year, knownCases[2]).Add(7 * d), Actor: "agent.wu",
		Name: "reopened", Summary: "The watch failed again"}); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"from": {"1999-01-01"}, "to": {"1999-03-31"}, "interval": {"month"}, "asOf": {"1999-04-10T00:00:00Z"}}
	status, _, body := getRaw(t, "/v1/reports/breakdown?"+q.Encode())
	if status != http.StatusOK {
		t.Fatalf("breakdown: %d %s", status, body)
	}
	var b store.Breakdown
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatal(err)
	}
	day := 86400.0
	type want struct {
		cases              int64
		slaMet, slaOf      int64
		handled            int64
		handling           float64
		reopened, closed   int64
		satisfied, answers int64
	}
	check := func(name string, got store.KeyFigures, w want) {
		t.Helper()
		checkFigure(t, name+".cases", got.Cases, w.cases)
		checkFigure(t, name+".sla", got.SLA, rateOf(w.slaMet, w.slaOf))
		checkFigure(t, name+".handling.count", got.Handling.Count, w.handled)
		if w.handled > 0 {
			checkFigure(t, name+".handling.average", deref(got.Handling.AverageSeconds), w.handling)
		}
		checkFigure(t, name+".reopen", got.Reopen, rateOf(w.reopened, w.closed))
		checkFigure(t, name+".csat", got.CSAT, rateOf(w.satisfied, w.answers))
	}
	// SLA clocks decided / met in time: A 4/4, B 3/3, C 5/3 (first response
	// and technical's start late), D 3/2, E 2/1, F 3/3, G 1/1.
	check("all", b.KeyFigures, want{7, 17, 21, 5, 5 * day, 1, 5, 2, 3})
	owners := map[string]want{
		"agent.li":   {2, 7, 7, 2, 3 * day, 0, 2, 2, 2},
		"agent.wu":   {2, 5, 8, 2, 8 * day, 1, 2, 0, 1},
		"agent.sun":  {2, 4, 5, 1, 3 * day, 0, 1, 0, 0},
		"agent.zhao": {1, 1, 1, 0, 0, 0, 0, 0, 0},
	}
	var order []string
	for _, g := range b.ByOwner {
		order = append(order, g.Key)
		check("owner "+g.Key, g.KeyFigures, owners[g.Key])
	}
	checkFigure(t, "owners, busiest first", order, []string{"agent.li", "agent.sun", "agent.wu", "agent.zhao"})
	depts := map[string]want{
		"logistics": owners["agent.li"], "product": owners["agent.wu"], "technical": owners["agent.wu"],
		"legal": owners["agent.sun"], "customer_service": owners["agent.sun"], "billing": owners["agent.zhao"],
	}
	for _, g := range b.ByDepartment {
		check("department "+g.Key, g.KeyFigures, depts[g.Key])
	}
	checkFigure(t, "departments", len(b.ByDepartment), len(depts))
	checkFigure(t, "created vs closed", b.CreatedVsClosed, []store.FlowPoint{
		{Period: "1999-01-01", Created: 2, Closed: 2}, {Period: "1999-02-01", Created: 2, Closed: 2},
		{Period: "1999-03-01", Created: 3, Closed: 1}})
	// On 10 April EEEEEE (20.9 days) and GGGGGG (18.9 days) are open;
	// HHHHHH was withdrawn.
	checkFigure(t, "backlog", b.Backlog.Open, int64(2))
	for _, a := range b.Backlog.ByAge {
		wantCount := int64(0)
		if a.Age == "14-30d" {
			wantCount = 2
		}
		checkFigure(t, "backlog "+a.Age, a.Count, wantCount)
	}
	if b.Previous == nil || b.PreviousFrom != "1998-10-03" || b.PreviousTo != "1998-12-31" || b.Previous.Cases != 0 {
		t.Errorf("previous period %s..%s %+v, want 1998-10-03..1998-12-31 with no cases", b.PreviousFrom, b.PreviousTo, b.Previous)
	}

	// The cases behind figures: agent.wu's as CSV and XLSX, the backlog's
	// 14–30 day band as JSON.
	q.Del("interval")
	q.Set("owner", "agent.wu")
	q.Set("format", "csv")
	status, header, body := getRaw(t, "/v1/reports/cases?"+q.Encode())
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if status != http.StatusOK || err != nil || header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("cases CSV: %d %v %s", status, err, body)
	}
	wantRefs := []string{knownRef(year, knownCases[2]), knownRef(year, knownCases[3])}
	checkFigure(t, "agent.wu's cases", column(rows[1:], 0), wantRefs)
	checkFigure(t, "reopened column", column(rows[1:], 12), []string{"true", "false"})
	checkFigure(t, "score column", column(rows[1:], 13), []string{"", "1"})
	q.Set("format", "xlsx")
	status, _, body = getRaw(t, "/v1/reports/cases?"+q.Encode())
	x, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
	if status != http.StatusOK || err != nil {
		t.Fatalf("cases XLSX: %d %v", status, err)
	}
	sheet, err := x.GetRows(x.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows { // a sheet's rows end at their last value
		for len(r) > 0 && r[len(r)-1] == "" {
			r = r[:len(r)-1]
		}
		rows[i] = r
	}
	checkFigure(t, "XLSX equals CSV", sheet, rows)
	backlog := url.Values{"open": {"true"}, "asOf": {"1999-04-10T00:00:00Z"}, "age": {"14-30d"}}
	status, _, body = getRaw(t, "/v1/reports/cases?"+backlog.Encode())
	var open []store.ReportCase
	if err := json.Unmarshal([]byte(body), &open); status != http.StatusOK || err != nil {
		t.Fatalf("backlog cases: %d %v %s", status, err, body)
	}
	var openRefs []string
	for _, c := range open {
		openRefs = append(openRefs, c.Reference)
	}
	checkFigure(t, "backlog cases", openRefs, []string{knownRef(year, knownCases[4]), knownRef(year, knownCases[6])})

	// The page's dimensions come from the server.
	status, _, body = getRaw(t, "/v1/reports/dimensions")
	if status != http.StatusOK || !strings.Contains(body, `"logistics"`) || !strings.Contains(body, `"product_quality"`) {
		t.Fatalf("dimensions: %d %s", status, body)
	}
	// An upstream system may not read them.
	req, err := http.NewRequest(http.MethodGet, sys.APIURL+"/v1/reports/cases?owner=agent.wu", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+sys.APIKey)
	if resp, _ := Do(t, req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a system exporting cases: %d, want 403", resp.StatusCode)
	}
}

func column(rows [][]string, i int) []string {
	out := make([]string, len(rows))
	for j, r := range rows {
		out[j] = r[i]
	}
	return out
}
