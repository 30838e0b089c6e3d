package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"

	"github.com/complaintdesk/complaintdesk/store"
)

// summaryInput is the reports' query.
type summaryInput struct {
	From       string `query:"from" format:"date" doc:"Cases received on this day (YYYY-MM-DD) or later."`
	To         string `query:"to" format:"date" doc:"Cases received on this day (YYYY-MM-DD) or earlier."`
	Department string `query:"department" pattern:"^[a-z][a-z0-9_]{0,63}$" doc:"Only cases routed to this department."`
	Category   string `query:"category" doc:"Only cases of this category." enum:"product_quality,service_attitude,after_sales,logistics,billing,information,process,legal,other"`
	Interval   string `query:"interval" enum:"day,week,month" doc:"The trend's periods; by default days up to 92 days, weeks up to two years, then months."`
	Format     string `query:"format" enum:"json,csv" default:"json" doc:"csv: the same figures as rows measure,key,value."`
}

type summaryOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func (s *Server) summary(ctx context.Context, in *summaryInput) (*summaryOutput, error) {
	if err := periodProblem(in.From, in.To); err != nil {
		return nil, err
	}
	db, err := s.records()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
	defer cancel()
	sum, err := db.Summary(ctx, store.ReportFilter{From: in.From, To: in.To, Category: in.Category,
		Department: in.Department, Interval: in.Interval})
	if err != nil {
		return nil, storeProblem(err)
	}
	if in.Format == "csv" {
		return &summaryOutput{ContentType: "text/csv; charset=utf-8",
			ContentDisposition: `attachment; filename="complaint-report.csv"`, Body: summaryCSV(sum)}, nil
	}
	body, err := json.Marshal(sum)
	if err != nil {
		return nil, unexpected(err)
	}
	return &summaryOutput{ContentType: "application/json", Body: body}, nil
}

// summaryCSV flattens a summary into rows measure,key,value: one figure a row.
func summaryCSV(s store.Summary) []byte {
	var rows [][]string
	add := func(measure, key, value string) { rows = append(rows, []string{measure, key, value}) }
	num := func(v int64) string { return strconv.FormatInt(v, 10) }
	float := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	add("from", "", s.From)
	add("to", "", s.To)
	add("category", "", s.Category)
	add("department", "", s.Department)
	add("timeZone", "", s.TimeZone)
	add("cases", "", num(s.Cases))
	add("satisfaction.responses", "", num(s.Satisfaction.Responses))
	add("satisfaction.average", "", float(s.Satisfaction.Average))
	for _, d := range s.Satisfaction.Distribution {
		add("satisfaction.score", strconv.Itoa(d.Score), num(d.Count))
	}
	for _, r := range []struct {
		name string
		rate store.Rate
	}{{"resolution", s.Resolution}, {"repeat", s.Repeat}, {"escalated", s.Escalated}, {"slaBreached", s.SLABreached}} {
		add(r.name+".count", "", num(r.rate.Count))
		add(r.name+".of", "", num(r.rate.Of))
		add(r.name+".rate", "", float(r.rate.Rate))
	}
	for _, d := range []struct {
		name string
		d    store.Durations
	}{{"acknowledgement", s.Acknowledgement}, {"firstResponse", s.FirstResponse}, {"handling", s.Handling}} {
		add(d.name+".count", "", num(d.d.Count))
		add(d.name+".averageSeconds", "", float(d.d.AverageSeconds))
		add(d.name+".medianSeconds", "", float(d.d.MedianSeconds))
		add(d.name+".p90Seconds", "", float(d.d.P90Seconds))
	}
	add("percentiles", "", s.Percentiles)
	for _, c := range s.SLA {
		add("sla.decided", c.Clock, num(c.Decided))
		add("sla.met", c.Clock, num(c.Met))
		add("sla.breached", c.Clock, num(c.Breached))
		add("sla.compliance", c.Clock, float(c.Compliance))
	}
	for _, b := range []struct {
		name   string
		shares []store.Share
	}{{"byCategory", s.ByCategory}, {"byChannel", s.ByChannel}, {"byDepartment", s.ByDepartment}, {"byStatus", s.ByStatus}} {
		for _, sh := range b.shares {
			add(b.name+".count", sh.Key, num(sh.Count))
			add(b.name+".share", sh.Key, float(sh.Share))
		}
	}
	add("trend.interval", "", s.Trend.Interval)
	for _, p := range s.Trend.Points {
		add("trend.cases", p.Period, num(p.Cases))
		add("trend.slaBreached", p.Period, num(p.SLABreached))
		add("trend.escalated", p.Period, num(p.Escalated))
	}
	for _, c := range s.Compensation {
		add("compensation.cases", c.Currency, num(c.Cases))
		add("compensation.amount", c.Currency, c.Amount)
	}
	add("followUps.opened", "", num(s.FollowUps.Opened))
	add("followUps.done", "", num(s.FollowUps.Done))
	add("followUps.open", "", num(s.FollowUps.Open))
	add("followUps.overdue", "", num(s.FollowUps.Overdue))
	for _, r := range s.RootCauses {
		add("rootCauses."+r.Category, r.RootCause, num(r.Cases))
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"measure", "key", "value"}) // a bytes.Buffer does not fail
	_ = w.WriteAll(rows)
	return buf.Bytes()
}
