package api

import (
	"context"
	"reflect"
	"strings"

	"github.com/complaintdesk/complaintdesk/store"
)

// listInput is the list's query. The enumerations are the domain's
// (complaint.Statuses, Categories, Channels; api_test checks they agree).
type listInput struct {
	Status     string `query:"status" doc:"Only cases in this status." enum:"received,acknowledged,investigating,resolution_proposed,in_dispute,resolving,closed,survey_pending,completed,withdrawn"`
	Category   string `query:"category" doc:"Only cases of this category." enum:"product_quality,service_attitude,after_sales,logistics,billing,information,process,legal,other"`
	Department string `query:"department" pattern:"^[a-z][a-z0-9_]{0,63}$" doc:"Only cases routed to this department (among others)."`
	Owner      string `query:"owner" maxLength:"128" doc:"Only cases this person owns."`
	Channel    string `query:"channel" doc:"Only cases received through this channel." enum:"phone,email,chat,web,social,in_person,partner"`
	Breached   string `query:"breached" enum:"true,false" doc:"true: only cases with an SLA clock breached; false: only cases without."`
	From       string `query:"from" format:"date" doc:"Received on this day (YYYY-MM-DD) or later."`
	To         string `query:"to" format:"date" doc:"Received on this day (YYYY-MM-DD) or earlier."`
	Q          string `query:"q" maxLength:"200" doc:"Text in the subject, case-insensitive."`
	Cursor     string `query:"cursor" maxLength:"200" doc:"The nextCursor of the previous page."`
	Limit      int    `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"Cases per page."`
}

type listOutput struct {
	Body store.CasePage
}

func (s *Server) list(ctx context.Context, in *listInput) (*listOutput, error) {
	if err := periodProblem(in.From, in.To); err != nil {
		return nil, err
	}
	if id := caller(ctx); id.Role == department {
		// Department staff list their departments' cases, one at a time.
		if in.Department == "" && len(id.Departments) == 1 {
			in.Department = id.Departments[0]
		}
		if !id.InDepartment(in.Department) {
			return nil, forbidden("department staff list the cases of one of their departments %v: pass department", id.Departments)
		}
	}
	db, err := s.records()
	if err != nil {
		return nil, err
	}
	f := store.ListFilter{Status: in.Status, Category: in.Category, Department: in.Department, Owner: in.Owner,
		Channel: in.Channel, From: in.From, To: in.To, Q: in.Q, Cursor: in.Cursor, Limit: in.Limit}
	if in.Breached != "" {
		b := in.Breached == "true"
		f.Breached = &b
	}
	ctx, cancel := context.WithTimeout(ctx, s.RequestTimeout)
	defer cancel()
	page, err := db.ListCases(ctx, f)
	if err != nil {
		return nil, storeProblem(err)
	}
	if page.Items == nil {
		page.Items = []store.ListItem{}
	}
	return &listOutput{Body: page}, nil
}

// queryParams names the query parameters of an input struct.
func queryParams(input any) []string {
	var names []string
	for _, f := range reflect.VisibleFields(reflect.TypeOf(input)) { // embedded inputs' fields too
		if name, _, _ := strings.Cut(f.Tag.Get("query"), ","); name != "" {
			names = append(names, name)
		}
	}
	return names
}
