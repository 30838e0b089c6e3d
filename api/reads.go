package api

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/complaintdesk/complaintdesk/store"
)

// RecordReader is what the list and the reports read from the database;
// *store.Store is one.
type RecordReader interface {
	ListCases(ctx context.Context, f store.ListFilter) (store.CasePage, error)
	Summary(ctx context.Context, f store.ReportFilter) (store.Summary, error)
}

// registerReads adds the read side: the list of cases, the reports and
// their page of charts.
func (s *Server) registerReads(api huma.API, mux *http.ServeMux) {
	huma.Register(api, huma.Operation{
		OperationID: "listComplaints", Method: http.MethodGet, Path: "/v1/complaints",
		Summary: "List and search cases", Tags: []string{"complaints"},
		Description: "Cases from the database, newest first, narrowed by every filter given. Pages are cut on " +
			"(receivedAt, reference): pass `nextCursor` as `cursor` for the next page, with the same filters; " +
			"the last page has no `nextCursor`. Days are days in the reports' time zone.",
		Middlewares: huma.Middlewares{onlyParams(api, listInput{})},
	}, s.list)
	huma.Register(api, huma.Operation{
		OperationID: "reportSummary", Method: http.MethodGet, Path: "/v1/reports/summary",
		Summary: "The measures of complaint handling", Tags: []string{"reports"},
		Description: "Satisfaction, resolution, repeat complaints, response and handling times, SLA compliance per " +
			"clock, cases by category, channel, department and status, their trend, escalations and compensation, " +
			"for the cases received in the period (days in the reports' time zone), of the category, routed to " +
			"the department. `format=csv` gives the same figures as CSV rows `measure,key,value`.",
		Middlewares: huma.Middlewares{onlyParams(api, summaryInput{})},
		Responses: map[string]*huma.Response{
			"200": {Description: "The measures", Content: map[string]*huma.MediaType{
				"application/json": {Schema: api.OpenAPI().Components.Schemas.Schema(
					reflect.TypeFor[store.Summary](), true, "ReportSummary")},
				"text/csv": {Schema: &huma.Schema{Type: "string", Description: "Rows measure,key,value with a header."}},
			}},
		},
	}, s.summary)
	s.registerReportsPage(mux)
	registerIcon(mux)
}

// onlyParams answers 422 for a query parameter the operation does not
// know, so that a misspelt filter is not silently ignored.
func onlyParams(api huma.API, input any) func(huma.Context, func(huma.Context)) {
	known := queryParams(input)
	return func(ctx huma.Context, next func(huma.Context)) {
		var unknown []error
		u := ctx.URL()
		for name := range u.Query() {
			if !slices.Contains(known, name) {
				unknown = append(unknown, &huma.ErrorDetail{Location: "query." + name, Message: "unknown parameter; " +
					"the parameters are " + strings.Join(known, ", ")})
			}
		}
		if len(unknown) > 0 {
			slices.SortFunc(unknown, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
			_ = huma.WriteErr(api, ctx, http.StatusUnprocessableEntity, "validation failed", unknown...)
			return
		}
		next(ctx)
	}
}

// storeProblem maps the store's read errors onto RFC 9457 problems.
func storeProblem(err error) error {
	switch {
	case errors.Is(err, store.ErrBadCursor):
		return huma.Error422UnprocessableEntity("validation failed",
			&huma.ErrorDetail{Location: "query.cursor", Message: "is not a cursor of this list"})
	case errors.Is(err, store.ErrBadFilter):
		return huma.Error422UnprocessableEntity(err.Error())
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return unavailable("the database is unavailable; retry later", err)
	}
	return unexpected(err)
}

// periodProblem checks that a period does not end before it starts.
func periodProblem(from, to string) error {
	if from != "" && to != "" && to < from { // both YYYY-MM-DD: the text order is the time order
		return huma.Error422UnprocessableEntity("validation failed",
			&huma.ErrorDetail{Location: "query.to", Message: "is before from", Value: to})
	}
	return nil
}

func (s *Server) records() (RecordReader, error) {
	if s.Records == nil {
		return nil, huma.Error503ServiceUnavailable("the database is not configured")
	}
	return s.Records, nil
}
