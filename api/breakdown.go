package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/xuri/excelize/v2"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/store"
)

// BreakdownReader reads the breakdown and the cases behind its figures;
// *store.Store is one.
type BreakdownReader interface {
	Breakdown(ctx context.Context, f store.ReportFilter, asOf time.Time) (store.Breakdown, error)
	ReportCases(ctx context.Context, f store.ReportFilter, fig store.CaseFigure) ([]store.ReportCase, error)
}

type breakdownInput struct {
	From       string    `query:"from" format:"date" doc:"Cases received on this day (YYYY-MM-DD) or later."`
	To         string    `query:"to" format:"date" doc:"Cases received on this day (YYYY-MM-DD) or earlier."`
	Department string    `query:"department" pattern:"^[a-z][a-z0-9_]{0,63}$" doc:"Only cases routed to this department."`
	Category   string    `query:"category" doc:"Only cases of this category." enum:"product_quality,service_attitude,after_sales,logistics,billing,information,process,legal,other"`
	Interval   string    `query:"interval" enum:"day,week,month" doc:"The periods of created vs closed."`
	AsOf       time.Time `query:"asOf" doc:"When the backlog is counted (RFC 3339); now by default."`
}

type breakdownOutput struct {
	Body store.Breakdown
}

type dimensionsOutput struct {
	Body struct {
		Departments []string `json:"departments" doc:"The configured departments."`
		Categories  []string `json:"categories"`
		BacklogAges []string `json:"backlogAges"`
	}
}

// reportCasesInput repeats the report's filters: huma reads parameters
// from the input struct's own fields only.
type reportCasesInput struct {
	From       string    `query:"from" format:"date" doc:"Cases received on this day (YYYY-MM-DD) or later."`
	To         string    `query:"to" format:"date" doc:"Cases received on this day (YYYY-MM-DD) or earlier."`
	Department string    `query:"department" pattern:"^[a-z][a-z0-9_]{0,63}$" doc:"Only cases routed to this department."`
	Category   string    `query:"category" doc:"Only cases of this category." enum:"product_quality,service_attitude,after_sales,logistics,billing,information,process,legal,other"`
	AsOf       time.Time `query:"asOf" doc:"With open: when the backlog is counted (RFC 3339); now by default."`
	Owner      string    `query:"owner" maxLength:"128" doc:"Only this owner's cases."`
	Breached   string    `query:"breached" enum:"true,false" doc:"Only cases with (or without) an SLA clock breached."`
	Reopened   string    `query:"reopened" enum:"true,false" doc:"Only cases reopened (or never reopened)."`
	Satisfied  string    `query:"satisfied" enum:"true,false" doc:"Only cases whose last survey answer is 4–5 (or 1–3)."`
	Closed     string    `query:"closed" enum:"true,false" doc:"Only closed (or open) cases."`
	Open       bool      `query:"open" doc:"The backlog: cases open at asOf (now by default), whenever received."`
	Age        string    `query:"age" enum:"0-1d,1-3d,3-7d,7-14d,14-30d,30d+" doc:"With open: one age band of the backlog."`
	Format     string    `query:"format" enum:"json,csv,xlsx" default:"json"`
}

type reportCasesOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

// registerBreakdown adds the managers' breakdown, the report's dimensions
// and the export of the cases behind any figure.
func (s *Server) registerBreakdown(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "reportBreakdown", Method: http.MethodGet, Path: "/v1/reports/breakdown",
		Summary: "SLA compliance and handling per owner and department, backlog, flow, reopen rate, CSAT", Tags: []string{"reports"},
		Description: "For the cases received in the period, of the category, routed to the department: per owner and per " +
			"department the SLA compliance (clocks met in time of those decided), average handling time, reopen rate and " +
			"CSAT (answers 4–5 of 5); cases created and closed per period; the open backlog by age at `asOf`; and with " +
			"`from` and `to`, the same key figures for the period of equal length just before.",
		Middlewares: huma.Middlewares{onlyParams(api, breakdownInput{})},
	}, func(ctx context.Context, in *breakdownInput) (*breakdownOutput, error) {
		db, f, err := s.breakdownFilter(in)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
		defer cancel()
		b, err := db.Breakdown(ctx, f, asOf(in.AsOf))
		if err != nil {
			return nil, storeProblem(err)
		}
		return &breakdownOutput{Body: b}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "reportDimensions", Method: http.MethodGet, Path: "/v1/reports/dimensions",
		Summary: "The departments, categories and backlog bands the reports use", Tags: []string{"reports"},
	}, func(context.Context, *struct{}) (*dimensionsOutput, error) {
		out := &dimensionsOutput{}
		out.Body.Departments, out.Body.BacklogAges = s.Departments, store.BacklogAgeNames()
		for _, c := range complaint.Categories {
			out.Body.Categories = append(out.Body.Categories, string(c))
		}
		if out.Body.Departments == nil {
			out.Body.Departments = []string{}
		}
		return out, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "reportCases", Method: http.MethodGet, Path: "/v1/reports/cases",
		Summary: "The cases behind a figure, as JSON, CSV or XLSX", Tags: []string{"reports"},
		Description: "The report's filters plus the figure's own (an owner, breached, reopened, satisfied, closed, or " +
			"`open` with an `age` band for the backlog), oldest first, at most 100,000 cases.",
		Middlewares: huma.Middlewares{onlyParams(api, reportCasesInput{})},
		Responses: map[string]*huma.Response{
			"200": {Description: "The cases", Content: map[string]*huma.MediaType{
				"application/json": {Schema: api.OpenAPI().Components.Schemas.Schema(
					reflect.TypeFor[[]store.ReportCase](), true, "")},
				"text/csv": {Schema: &huma.Schema{Type: "string", Description: "One case a row, with a header."}},
				"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
					Schema: &huma.Schema{Type: "string", Format: "binary"}},
			}},
		},
	}, s.reportCases)
}

func (s *Server) breakdownFilter(in *breakdownInput) (BreakdownReader, store.ReportFilter, error) {
	if err := periodProblem(in.From, in.To); err != nil {
		return nil, store.ReportFilter{}, err
	}
	if s.Breakdowns == nil {
		return nil, store.ReportFilter{}, huma.Error503ServiceUnavailable("the database is not configured")
	}
	return s.Breakdowns, store.ReportFilter{From: in.From, To: in.To, Category: in.Category, Department: in.Department,
		Interval: in.Interval}, nil
}

func asOf(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

func optionalBool(s string) *bool {
	if s == "" {
		return nil
	}
	v := s == "true"
	return &v
}

func (s *Server) reportCases(ctx context.Context, in *reportCasesInput) (*reportCasesOutput, error) {
	db, f, err := s.breakdownFilter(&breakdownInput{From: in.From, To: in.To, Department: in.Department,
		Category: in.Category})
	if err != nil {
		return nil, err
	}
	if in.Age != "" && !in.Open {
		return nil, huma.Error422UnprocessableEntity("validation failed",
			&huma.ErrorDetail{Location: "query.age", Message: "needs open=true", Value: in.Age})
	}
	fig := store.CaseFigure{Owner: in.Owner, Breached: optionalBool(in.Breached), Reopened: optionalBool(in.Reopened),
		Satisfied: optionalBool(in.Satisfied), Closed: optionalBool(in.Closed), Age: in.Age}
	if in.Open {
		at := asOf(in.AsOf)
		fig.OpenAt = &at
	}
	ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
	defer cancel()
	cases, err := db.ReportCases(ctx, f, fig)
	if err != nil {
		return nil, storeProblem(err)
	}
	switch in.Format {
	case "csv":
		return &reportCasesOutput{ContentType: "text/csv; charset=utf-8",
			ContentDisposition: `attachment; filename="complaint-cases.csv"`, Body: casesCSV(cases)}, nil
	case "xlsx":
		body, err := casesXLSX(cases)
		if err != nil {
			return nil, unexpected(err)
		}
		return &reportCasesOutput{ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			ContentDisposition: `attachment; filename="complaint-cases.xlsx"`, Body: body}, nil
	}
	if cases == nil {
		cases = []store.ReportCase{}
	}
	body, err := json.Marshal(cases)
	if err != nil {
		return nil, unexpected(err)
	}
	return &reportCasesOutput{ContentType: "application/json", Body: body}, nil
}

// caseRows are the exported cases as rows of text, with a header.
func caseRows(cases []store.ReportCase) [][]string {
	rows := [][]string{{"reference", "receivedAt", "status", "category", "channel", "priority", "owner", "departments",
		"closedAt", "outcome", "slaBreached", "escalationLevel", "reopened", "score"}}
	at := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, c := range cases {
		outcome, score := "", ""
		if c.Outcome != nil {
			outcome = *c.Outcome
		}
		if c.Score != nil {
			score = strconv.Itoa(*c.Score)
		}
		rows = append(rows, []string{c.Reference, at(&c.ReceivedAt), c.Status, c.Category, c.Channel, c.Priority, c.Owner,
			strings.Join(c.Departments, " "), at(c.ClosedAt), outcome, strconv.FormatBool(c.SLABreached),
			strconv.Itoa(c.EscalationLevel), strconv.FormatBool(c.Reopened), score})
	}
	return rows
}

func casesCSV(cases []store.ReportCase) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.WriteAll(caseRows(cases)) // a bytes.Buffer does not fail
	return buf.Bytes()
}

func casesXLSX(cases []store.ReportCase) ([]byte, error) {
	x := excelize.NewFile()
	defer x.Close()
	const sheet = "Sheet1"
	for i, row := range caseRows(cases) {
		cells := make([]any, len(row))
		for j, v := range row {
			cells[j] = v
		}
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			return nil, err
		}
		if err := x.SetSheetRow(sheet, cell, &cells); err != nil {
			return nil, fmt.Errorf("xlsx row %d: %w", i+1, err)
		}
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
